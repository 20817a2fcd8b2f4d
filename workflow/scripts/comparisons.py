"""Every comparison the report states, tested and Holm-corrected per family (CPU time apart):
comparisons.csv (report/inference.py). The exact non-parametric check of each row goes to the log."""

import csv

from cnnlib.io import write_csv
from report.claims import requests
from report.inference import architecture_requests, comparisons
from report.reproduction import load_reference
from workflow.results import COMPARISON_COLUMNS

plan = snakemake.params.plan
with open(snakemake.log[0], "w") as log:
    with open(snakemake.input.runs, newline="", encoding="utf-8") as fh:
        runs = list(csv.DictReader(fh))
    claims = load_reference(snakemake.input.reference).get("claims", [])
    rows = comparisons(plan, runs, architecture_requests(plan) + requests(claims))
    write_csv(snakemake.output[0], COMPARISON_COLUMNS, [{k: r[k] for k in COMPARISON_COLUMNS} for r in rows])
    for r in rows:
        test, p = r.get("nonparametric") or (None, None)
        print(f"{r['experiment']}: {r['variant_a']} vs {r['variant_b']} ({r['quantity']}): {r['test']} "
              f"p {r['p_value']}, Holm {r['p_holm']}, {r['claim']}; {test or 'no exact check'} p {p}", file=log)
