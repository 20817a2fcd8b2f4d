"""Everything the report prints, computed from the results: the context JSON."""

import csv
import json

import numpy as np

from cnnlib.io import write_json
from cnnlib.runfiles import check_run
from report.context import build_context, results_date
from report.readers import read_comparisons
from report.reproduction import load_reference


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
    with np.load(inp.visual) as maps:
        digits = [int(d) for d in maps["labels"]]
    build_info = {**read_json(inp.build_info), "results_date": results_date(runs)}
    context = build_context(
        plan=plan,
        summaries=summaries,
        runs=runs,
        comparisons=read_comparisons(inp.comparisons),
        gradcheck=read_csv(inp.gradcheck),
        stability=read_csv(inp.stability),
        reference=load_reference(inp.reference),
        build_info=build_info,
        figures=snakemake.params.figures,
        visual={"digits": digits},
        models=[check_run(run_folder(p)) for p in inp.models],
        dynamic=[check_run(run_folder(p)) for p in inp.dynamic],
    )
    write_json(snakemake.output[0], context)
    print(f"{len(context['summary'])} summary sentences", file=log)
