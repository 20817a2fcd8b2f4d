"""Synthetic results of the default config, made by the pipeline's own functions (no training):
the rows of runs.csv and of each summary, and comparisons.csv, each through a CSV round trip
so that the report reads strings as it does from the workflow's files."""

from __future__ import annotations

import csv
import io

import numpy as np
import yaml

from conftest import REPO
from cnnlib.io import json_safe, write_csv
from report.claims import requests
from report.inference import architecture_requests, comparisons
from report.readers import read_comparisons
from workflow.datasets import data_source
from workflow.experiments import describe, plan
from cnnlib.results import COMPARISON_COLUMNS, RUNS_COLUMNS, SUMMARY_COLUMNS
from workflow.summary import run_row, summary_rows

SEEDS = 5


def config() -> dict:
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def report_plan(cfg=None) -> dict:
    """What the workflow passes the report (workflow/rules/common.smk: REPORT_PLAN)."""
    cfg = cfg or config()
    return {**describe(plan(cfg)), "delta": cfg.get("delta", 0.005), "report": cfg["report"],
            "study": cfg.get("study"), "data": data_source(None, cache=None).describe(),
            "dataset": cfg.get("dataset") or {"name": "MNIST", "items": "digits"}}


def metrics(acc, status="completed", train_loss=0.2, seconds=10.0, epochs=3, params=2158, model="reference_cnn"):
    done = status == "completed"
    return {
        "status": status, "diverged_at_iteration": None if done else 17,
        "final": {"test_accuracy": acc if done else None, "test_loss": acc and 1.2 - acc if done else None,
                  "train_loss": train_loss, "epochs_completed": epochs if done else 0, "iterations": 100 * epochs,
                  "train_accuracy_epoch_mean": acc - 0.01 if done else None},
        "time": {"train_seconds": seconds, "train_seconds_per_epoch": seconds / epochs, "eval_seconds": 1.0,
                 "train_cpu_seconds": seconds * 0.97, "total_seconds": seconds + 1, "train_cpu_seconds_per_epoch": seconds / epochs * 0.98,
                 "finished_utc": "2026-11-27T10:00:00+00:00"},
        "model": {"name": model, "parameters": params, "input_shape": [1, 28, 28], "classes": 10},
        "config": {"epochs": epochs},
    }


def _csv(columns, rows) -> list[dict]:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: "" if r[k] is None else r[k] for k in columns})
    return list(csv.DictReader(io.StringIO(buf.getvalue())))


def accuracies(means: dict, spread: float = 0.002, seed: int = 0) -> dict:
    """{(experiment, variant): [one accuracy per seed]} around ``means`` (None: a diverged run)."""
    rng = np.random.default_rng(seed)
    return {k: [m + spread * float(z) for z in rng.standard_normal(SEEDS)] if isinstance(m, float) else list(m)
            for k, m in means.items()}


def results(tmp_path, overrides: dict | None = None, cfg=None) -> dict:
    """Every file the report reads, for the default config: each variant's accuracy is 0.95 +
    0.001 * its index (tiny, unresolvable gaps) unless ``overrides`` gives
    ``{(experiment, variant): mean or [one value per seed (None: diverged)]}``."""
    cfg = cfg or config()
    p = plan(cfg)
    means = {}
    for e in p.experiments.values():
        for i, v in enumerate(e.variants.values()):
            means[(e.name, v.name)] = 0.95 + 0.001 * i
    means.update(overrides or {})
    values = accuracies(means)
    run_rows, summaries = [], {}
    for e in p.experiments.values():
        quantities = []
        for v in e.variants.values():
            model = v.resolved["model"]["name"]
            params = 203530 if model == "mlp" else 2158
            for seed, acc in enumerate(values[(e.name, v.name)]):
                m = metrics(acc, "completed" if acc is not None else "diverged", epochs=e.epochs, params=params,
                            model=model, seconds=4.0 if model == "mlp" else 10.0)
                q = {"test_accuracy": m["final"]["test_accuracy"], "test_loss": m["final"]["test_loss"],
                     "train_loss": 0.2, "train_loss_window": 0.25, "train_accuracy_window": acc and acc - 0.02,
                     "train_accuracy_epoch": m["final"]["train_accuracy_epoch_mean"],
                     "best_test_accuracy": acc and acc + 0.001, "early_accuracy": acc and acc - 0.05,
                     "last_epoch_gain": 0.001 if acc else None, "test_train_gap": 0.01 if acc else None,
                     "train_seconds": m["time"]["train_seconds"], "seconds_per_epoch": m["time"]["train_seconds_per_epoch"],
                     "cpu_seconds_per_epoch": m["time"]["train_cpu_seconds_per_epoch"]}
                m = json_safe(m)
                quantities.append((v.name, seed, m, q))
                run_rows.append(run_row(e.name, v.name, seed, m, q))
        labels = {name: v.label for name, v in e.variants.items()}
        summaries[e.name] = _csv(SUMMARY_COLUMNS, summary_rows(e.name, labels, quantities))
    runs = _csv(RUNS_COLUMNS, run_rows)
    described = report_plan(cfg)
    claims = yaml.safe_load((REPO / cfg["reference"]).read_text())["claims"] if cfg.get("reference") else []
    decided = comparisons(described, runs, architecture_requests(described) + requests(claims, described))
    path = tmp_path / "comparisons.csv"
    write_csv(path, COMPARISON_COLUMNS, [{k: r[k] for k in COMPARISON_COLUMNS} for r in decided])
    return {"plan": described, "runs": runs, "summaries": summaries, "comparisons": read_comparisons(path),
            "values": values}
