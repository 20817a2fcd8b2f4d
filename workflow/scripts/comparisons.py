"""Every verdict the report states: comparisons.csv (report/inference.py: each experiment's
question, its contrasts, the 2018 statements' rows when the study has them, CPU time apart)."""

import csv

from cnnlib.io import write_csv
from report.claims import requests
from report.inference import architecture_requests, comparisons
from report.reproduction import load_reference
from cnnlib.results import COMPARISON_COLUMNS

plan = snakemake.params.plan
with open(snakemake.log[0], "w") as log:
    with open(snakemake.input.runs, newline="", encoding="utf-8") as fh:
        runs = list(csv.DictReader(fh))
    reference = snakemake.input.reference
    claims = load_reference(reference[0]).get("claims", []) if reference else []
    rows = comparisons(plan, runs, architecture_requests(plan) + requests(claims, plan))
    write_csv(snakemake.output[0], COMPARISON_COLUMNS, [{k: r[k] for k in COMPARISON_COLUMNS} for r in rows])
    for r in rows:
        print(f"{r['family']}: {r['variant_a']} vs {r['variant_b'] or 'the others'} ({r['quantity']}): "
              f"{r['test']} p {r['p_value']}, Holm {r['p_holm']}: {r['claim']}", file=log)
