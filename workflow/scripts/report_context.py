"""Everything the report prints, computed from the results: the context JSON."""

import csv
import json

import numpy as np

from cnnlib.io import write_json
from cnnlib.runfiles import check_run
from report.context import build_context, results_date
from report.readers import read_comparisons
from report.reproduction import load_reference
from workflow.builds import RecordError, builds_dir, compare, latest, read_record, short_commit, this_build


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def read_json(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def run_folder(metrics_path):
    return metrics_path.rsplit("/", 1)[0]


inp = snakemake.input
plan = snakemake.params.report
with open(snakemake.log[0], "w") as log:
    experiments = [e["key"] for e in plan["experiments"]]
    summaries = {exp: read_csv(path) for exp, path in zip(experiments, inp.summaries)}
    runs = read_csv(inp.runs)
    visual = None
    if inp.visual:
        with np.load(inp.visual[0]) as maps:  # the share of pixels each filter responds on, after ReLU
            visual = {"digits": [int(d) for d in maps["labels"]],
                      "active": [float(np.mean(maps["relu1"][:, f] > 0)) for f in range(maps["relu1"].shape[1])]}
    build_info = {**read_json(inp.build_info), "results_date": results_date(runs)}
    # this build against the previous one's record and the published one (workflow/builds.py)
    b = snakemake.params.build
    delta = plan.get("delta", 0.005)
    current = this_build(b["root"], dict(b["config"]), dict(b["provenance"]), dict(b["data"]))
    builds = {"previous": None, "published": None}
    try:
        previous = latest(builds_dir(b["root"]))
    except RecordError as exc:  # a damaged record is named, never used
        print(f"not compared with the previous build: {exc}", file=log)
        previous, builds["damaged"] = None, str(exc)
    if previous is not None:
        old = read_record(previous)
        builds["previous"] = {**compare(old, current, delta), "label": old["created_utc"][:16].replace("T", " "),
                              "commit": short_commit(old["provenance"])}
    if inp.published:
        path = inp.published[0]
        try:
            old = read_record(path)
        except RecordError as exc:  # named in the report; the build goes on
            print(f"not compared with the published build: {exc}", file=log)
            builds["published"] = {"unrelated": f"it cannot be read ({exc})", "path": path}
        else:
            cmp = compare(old, current, delta)
            builds["published"] = {**cmp, "label": old["created_utc"][:10], "commit": short_commit(old["provenance"]),
                                   "path": path}
            if not cmp["counts"]["same_settings"]:  # another study or scale: every difference would be the settings'
                builds["published"] = {"path": path, "unrelated": (
                    f"none of its {cmp['counts']['old']} runs was trained with the settings and data of a run "
                    "of this build (another study, or another scale such as config/quick.yaml)")}
    context = build_context(
        plan=plan,
        summaries=summaries,
        runs=runs,
        comparisons=read_comparisons(inp.comparisons),
        gradcheck=read_csv(inp.gradcheck),
        stability=read_csv(inp.stability),
        reference=load_reference(inp.reference[0]) if inp.reference else None,
        build_info=build_info,
        figures=snakemake.params.figures,
        visual_maps=visual,
        builds=builds,
        models=[check_run(run_folder(p)) for p in inp.models],
        dynamic=[check_run(run_folder(p)) for p in inp.dynamic],
    )
    write_json(snakemake.output[0], context)
    print(f"{len(context['experiments']['items'])} experiment sections", file=log)
