"""Every run of every experiment, one row each: the tidy table for plots and the provenance appendix."""

import json

from cnnlib.io import write_csv

COLUMNS = [
    "experiment", "variant", "seed", "status", "diverged_at_iteration", "test_accuracy", "test_loss",
    "train_loss", "epochs_completed", "iterations", "train_seconds", "eval_seconds", "total_seconds",
    "parameters", "model", "finished_utc",
]

rows = []
with open(snakemake.log[0], "w") as log:
    for (experiment, variant, seed), path in zip(snakemake.params.runs, snakemake.input):
        with open(path, encoding="utf-8") as fh:
            m = json.load(fh)
        rows.append({
            "experiment": experiment, "variant": variant, "seed": seed, "status": m["status"],
            "diverged_at_iteration": m["diverged_at_iteration"],
            "test_accuracy": m["final"]["test_accuracy"], "test_loss": m["final"]["test_loss"],
            "train_loss": m["final"]["train_loss"], "epochs_completed": m["final"]["epochs_completed"],
            "iterations": m["final"]["iterations"], "train_seconds": m["time"]["train_seconds"],
            "eval_seconds": m["time"]["eval_seconds"], "total_seconds": m["time"]["total_seconds"],
            "parameters": m["model"]["parameters"], "model": m["model"]["name"],
            "finished_utc": m["time"]["finished_utc"],
        })
    write_csv(snakemake.output[0], COLUMNS, rows)
    print(f"{len(rows)} runs", file=log)
