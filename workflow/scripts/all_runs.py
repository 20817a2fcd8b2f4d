"""Every run of every experiment, one row each: the experiments' run tables joined, sorted
by (experiment, variant, seed) so that the order of experiments in a config changes nothing."""

import csv

from cnnlib.io import write_csv
from cnnlib.results import RUNS_COLUMNS

with open(snakemake.log[0], "w") as log:
    rows = []
    for path in snakemake.input:
        with open(path, newline="", encoding="utf-8") as fh:
            rows += list(csv.DictReader(fh))
    rows.sort(key=lambda r: (r["experiment"], r["variant"], int(r["seed"])))
    write_csv(snakemake.output[0], RUNS_COLUMNS, rows)
    print(f"{len(rows)} runs", file=log)
