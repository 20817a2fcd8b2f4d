"""One experiment's runs -> a per-variant summary (mean, std, range over seeds) and a tidy curves file."""

import json
import math
import statistics

from cnnlib.io import write_csv

METRICS = {  # column prefix -> how to read it from metrics.json
    "test_accuracy": lambda m: m["final"]["test_accuracy"],
    "test_loss": lambda m: m["final"]["test_loss"],
    "train_loss": lambda m: m["final"]["train_loss"],  # last iteration's batch
    "train_seconds": lambda m: m["time"]["train_seconds"],
    "seconds_per_epoch": lambda m: m["time"]["train_seconds_per_epoch"],
}


def stats(values):
    values = [v for v in values if v is not None and math.isfinite(v)]
    if not values:
        return {"mean": None, "std": None, "min": None, "max": None}
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
    }


def summary_rows(experiment, settings, runs):
    """runs: [(variant, seed, metrics)] -> one row per variant, in settings' order."""
    rows = []
    for variant, setting in settings.items():
        mine = [m for v, _, m in runs if v == variant]
        done = [m for m in mine if m["status"] == "completed"]
        row = {
            "experiment": experiment,
            "variant": variant,
            "setting": setting,
            "runs": len(mine),
            "completed": len(done),
            "diverged": sum(m["status"] == "diverged" for m in mine),
            "epochs": mine[0]["config"]["epochs"] if mine else None,
            "parameters": mine[0]["model"]["parameters"] if mine else None,
        }
        for name, get in METRICS.items():
            for stat, value in stats([get(m) for m in done]).items():
                row[f"{name}_{stat}"] = value
        rows.append(row)
    return rows


def curve_rows(experiment, runs_with_history):
    rows = []
    for variant, seed, history in runs_with_history:
        ev = history["eval"]
        for i in range(len(ev["iteration"])):
            rows.append({
                "experiment": experiment, "variant": variant, "seed": seed, "series": "test",
                "iteration": ev["iteration"][i], "epoch": ev["epoch"][i], "loss": ev["test_loss"][i],
                "accuracy": ev["test_accuracy"][i], "lr": None, "images": ev["images"][i],
            })
        tr = history["train"]
        for i in range(len(tr["iteration"])):
            rows.append({
                "experiment": experiment, "variant": variant, "seed": seed, "series": "train",
                "iteration": tr["iteration"][i], "epoch": tr["epoch"][i], "loss": tr["loss"][i],
                "accuracy": tr["accuracy"][i], "lr": tr["lr"][i], "images": history["batch_size"],
            })
    return rows


SUMMARY_COLUMNS = ["experiment", "variant", "setting", "runs", "completed", "diverged", "epochs", "parameters"] + [
    f"{name}_{stat}" for name in METRICS for stat in ("mean", "std", "min", "max")
]
CURVE_COLUMNS = ["experiment", "variant", "seed", "series", "iteration", "epoch", "loss", "accuracy", "lr", "images"]


def load(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


if "snakemake" in globals():  # run by Snakemake
    params = snakemake.params.experiment
    experiment = snakemake.wildcards.experiment
    keys = params["runs"]
    with open(snakemake.log[0], "w") as log:
        runs = [(v, s, load(p)) for (_, v, s), p in zip(keys, snakemake.input.metrics)]
        rows = summary_rows(experiment, params["settings"], runs)
        write_csv(snakemake.output.summary, SUMMARY_COLUMNS, rows)
        histories = [(v, s, load(p)) for (_, v, s), p in zip(keys, snakemake.input.history)]
        write_csv(snakemake.output.curves, CURVE_COLUMNS, curve_rows(experiment, histories))
        for row in rows:
            print(f"{row['variant']}: {row['completed']}/{row['runs']} completed, "
                  f"test accuracy {row['test_accuracy_mean']}", file=log)
