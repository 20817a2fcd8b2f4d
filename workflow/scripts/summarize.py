"""One experiment's runs -> its per-variant summary, its tidy curves and its rows of the
runs table (workflow/summary.py). Every run file is checked as it is read
(cnnlib.runfiles); a damaged one stops the job with its path and what to do."""

import sys

from cnnlib.io import write_csv
from cnnlib.runfiles import RunFileError, check_run, read_history
from cnnlib.results import CURVE_COLUMNS, RUNS_COLUMNS, SUMMARY_COLUMNS
from workflow.summary import curve_rows, run_quantities, run_row, summary_rows

params = snakemake.params.experiment
experiment = snakemake.wildcards.experiment
keys = params["runs"]
folders = [p.rsplit("/", 1)[0] for p in snakemake.input.metrics]
with open(snakemake.log[0], "w") as log:
    try:
        runs = [(v, s, check_run(f), read_history(f)) for (_, v, s), f in zip(keys, folders)]
    except RunFileError as exc:
        message = (f"{exc}\nRun the same snakemake command again: it trains damaged runs again "
                   "before summarising.")
        print(message, file=log)
        print(message, file=sys.stderr)
        sys.exit(1)
    quantities = [(v, s, m, run_quantities(m, h)) for v, s, m, h in runs]
    rows = summary_rows(experiment, params["labels"], quantities)
    write_csv(snakemake.output.summary, SUMMARY_COLUMNS, rows)
    write_csv(snakemake.output.curves, CURVE_COLUMNS, curve_rows(experiment, [(v, s, h) for v, s, _, h in runs]))
    write_csv(snakemake.output.runs, RUNS_COLUMNS,
              [run_row(experiment, v, s, m, q) for v, s, m, q in quantities])
    for row in rows:
        print(f"{row['variant']}: {row['completed']}/{row['runs']} completed, "
              f"test accuracy {row['test_accuracy_mean']}", file=log)
