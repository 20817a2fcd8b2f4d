"""Everything the report prints, computed from the results: results/report/context.json."""

import csv
import json

import numpy as np
import yaml

from cnnlib.io import write_json
from nnreport.context import build_context, results_date


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def read_json(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


inp = snakemake.input
cfg = snakemake.params.config
with open(snakemake.log[0], "w") as log:
    experiments = list(cfg["experiments"])
    summaries = {exp: read_csv(path) for exp, path in zip(experiments, inp.summaries)}
    colours = {exp: read_json(path) for exp, path in zip(experiments, inp.colours)}
    runs = read_csv(inp.runs)
    with open(inp.reference, encoding="utf-8") as fh:
        reference = yaml.safe_load(fh)
    with np.load(inp.visual) as maps:
        digits = [int(d) for d in maps["labels"]]
    build_info = {**read_json(inp.build_info), "results_date": results_date(runs)}
    context = build_context(
        config=cfg,
        summaries=summaries,
        runs=runs,
        gradcheck=read_csv(inp.gradcheck),
        stability=read_csv(inp.stability),
        reference=reference,
        build_info=build_info,
        figures=snakemake.params.figures,
        colours=colours,
        visual={**cfg["visual"], "digits": digits},
    )
    write_json(snakemake.output[0], context)
    print(f"{len(context['summary'])} summary sentences", file=log)
