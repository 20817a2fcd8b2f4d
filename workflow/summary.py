"""Runs -> per-variant summary rows, tidy curve rows, and the one-row-per-run table.

Pure functions on parsed run files (``metrics.json``, ``history.json``); the columns are
those of :mod:`cnnlib.results`. Statistics are over the *completed* runs of a variant
(a diverged run has no final accuracy): mean, standard deviation with ddof 1 (0 for a
single run), min and max; non-finite or missing values are left out. Besides them: the runs
that failed (to learn, or diverged) and the 95% t-interval of the mean test accuracy of the
runs that learned (:func:`cnnlib.results.learned`), and the primary outcome over every run
(:func:`cnnlib.results.outcome`: a diverged run at chance) with its 95% t-interval.
"""

from __future__ import annotations

import math
import statistics

from report.stats import mean_ci
from cnnlib.results import (ACCURACY_CI, ALL_RUNS, COMPLETED, DISPLAY_WINDOW, DIVERGED, EARLY_EPOCHS, RUNS_COLUMNS,
                              STATS, SUMMARY_COLUMNS, SUMMARY_QUANTITIES, column, learned, outcome)


def _clip(x, low=0.0, high=1.0):
    return None if x is None else min(high, max(low, x))


def _finite(values) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def _mean_last(values, window: int):
    last = _finite(values[-window:]) if values else []
    return statistics.fmean(last) if last and len(last) == min(window, len(values)) else None


def early_accuracy(epochs, accuracies, until: float = EARLY_EPOCHS) -> float | None:
    """Mean test accuracy over epochs 0..``until``: the area under the curve of the test
    evaluations (trapezoid rule; the curve interpolated linearly at ``until``) divided by
    ``until``. None when the evaluations do not reach ``until`` or a value is missing."""
    points = [(float(e), a) for e, a in zip(epochs, accuracies)]
    if not points or points[0][0] != 0 or max(e for e, _ in points) < until - 1e-9:
        return None
    area, (e0, a0) = 0.0, points[0]
    for e1, a1 in points[1:]:
        if a0 is None or a1 is None or not (math.isfinite(a0) and math.isfinite(a1)):
            return None
        if e1 >= until:
            a_end = a0 + (a1 - a0) * (until - e0) / (e1 - e0) if e1 > e0 else a1
            return (area + (until - e0) * (a0 + a_end) / 2) / until
        area += (e1 - e0) * (a0 + a1) / 2
        e0, a0 = e1, a1
    return area / until if e0 >= until - 1e-9 else None


def run_quantities(metrics: dict, history: dict | None, window: int = DISPLAY_WINDOW) -> dict:
    """Every summary quantity of one run (None where it does not apply: a diverged run has
    no final accuracy). ``history`` may be None: the history-based quantities are then None."""
    final, t = metrics["final"], metrics["time"]
    done = metrics["status"] == COMPLETED
    q = dict.fromkeys(SUMMARY_QUANTITIES)
    q.update({
        "test_accuracy": final.get("test_accuracy"),
        "test_loss": final.get("test_loss"),
        "train_loss": final.get("train_loss"),
        "train_accuracy_epoch": final.get("train_accuracy_epoch_mean"),
        "train_seconds": t.get("train_seconds"),
        "seconds_per_epoch": t.get("train_seconds_per_epoch"),
        "cpu_seconds_per_epoch": t.get("train_cpu_seconds_per_epoch"),
    })
    if history is not None and done:
        train, ev = history["train"], history["eval"]
        q["train_loss_window"] = _mean_last(train["loss"], window)
        q["train_accuracy_window"] = _mean_last(train["accuracy"], window)
        full = max(ev["images"]) if ev["images"] else 0
        ends = [a for a, n, e in zip(ev["test_accuracy"], ev["images"], ev["epoch"]) if n == full and e > 0]
        q["best_test_accuracy"] = max(_finite(ends)) if _finite(ends) else None
        q["early_accuracy"] = early_accuracy(ev["epoch"], ev["test_accuracy"])
        # the evaluations at epoch ends are on the full test set
        at_end = [a for a, e in zip(ev["test_accuracy"], ev["epoch"]) if e > 0 and abs(e - round(e)) < 1e-9]
        if len(at_end) >= 2 and at_end[-1] is not None and at_end[-2] is not None:
            q["last_epoch_gain"] = at_end[-1] - at_end[-2]
        if final.get("test_accuracy") is not None and final.get("train_accuracy_epoch_mean") is not None:
            q["test_train_gap"] = final["test_accuracy"] - final["train_accuracy_epoch_mean"]
    if not done:
        for k in ("test_accuracy", "test_loss", "train_accuracy_epoch"):
            q[k] = None
    return q


def stats(values) -> dict:
    """``{mean, std, min, max}`` of the finite values (all None if there are none)."""
    values = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not values:
        return dict.fromkeys(STATS)
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
    }


def summary_rows(experiment: str, labels: dict, runs) -> list[dict]:
    """One row per variant, in ``labels`` order.

    Args:
        labels: ``{variant: setting label}`` in display order.
        runs: ``[(variant, seed, metrics, quantities)]`` (quantities: :func:`run_quantities`;
            a 3-tuple without them is read from the metrics alone).
    """
    runs = [(r[0], r[1], r[2], r[3] if len(r) > 3 else run_quantities(r[2], None)) for r in runs]
    rows = []
    for variant, label in labels.items():
        mine = [m for v, _, m, _ in runs if v == variant]
        done = [q for v, _, m, q in runs if v == variant and m["status"] == COMPLETED]
        good = [q["test_accuracy"] for v, _, m, q in runs
                if v == variant and learned(m["status"], q["test_accuracy"], m["model"].get("classes"))]
        row = {
            "experiment": experiment,
            "variant": variant,
            "setting": label,
            "runs": len(mine),
            "completed": len(done),
            "diverged": sum(m["status"] == DIVERGED for m in mine),
            "failed": len(mine) - len(good),
            "epochs": mine[0]["config"]["epochs"] if mine else None,
            "parameters": mine[0]["model"]["parameters"] if mine else None,
        }
        for quantity in SUMMARY_QUANTITIES:
            for stat, value in stats([q[quantity] for q in done]).items():
                row[column(quantity, stat)] = value
        ci = mean_ci(good) if len(good) >= 2 else None
        # an accuracy lies in 0..1: so does the interval of its mean (a t-interval over 2 runs may not)
        row[ACCURACY_CI[0]], row[ACCURACY_CI[1]] = (_clip(ci.ci_low), _clip(ci.ci_high)) if ci else (None, None)
        every = [outcome(m["status"], q["test_accuracy"], m["model"].get("classes"))
                 for v, _, m, q in runs if v == variant]
        whole = mean_ci(every) if every else None
        row[ALL_RUNS[0]] = whole.mean if whole else None
        row[ALL_RUNS[1]], row[ALL_RUNS[2]] = (_clip(whole.ci_low), _clip(whole.ci_high)) if whole else (None, None)
        rows.append({k: row[k] for k in SUMMARY_COLUMNS})
    return rows


def curve_rows(experiment: str, histories) -> list[dict]:
    """Tidy curves: one row per test evaluation and per training iteration of every run.

    Args:
        histories: ``[(variant, seed, history)]``.
    """
    rows = []
    for variant, seed, history in histories:
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


def run_row(experiment: str, variant: str, seed: int, m: dict, quantities: dict | None = None) -> dict:
    """One row of ``runs.csv`` from a run's metrics (and its :func:`run_quantities`)."""
    final, t = m["final"], m["time"]
    row = {**(quantities or run_quantities(m, None)),
        "experiment": experiment, "variant": variant, "seed": seed, "status": m["status"],
        "diverged_at_iteration": m["diverged_at_iteration"],
        "test_accuracy": final["test_accuracy"], "test_loss": final["test_loss"],
        "train_loss": final["train_loss"], "epochs_completed": final["epochs_completed"],
        "iterations": final["iterations"], "train_seconds": t["train_seconds"],
        "train_cpu_seconds": t.get("train_cpu_seconds"),
        "eval_seconds": t["eval_seconds"], "total_seconds": t["total_seconds"],
        "parameters": m["model"]["parameters"], "model": m["model"]["name"], "classes": m["model"].get("classes", 10),
        "finished_utc": t["finished_utc"], "copied_from": m.get("copied_from", ""),
        # a run that continues a shorter one: its times include that run's (continued_seconds)
        "continued_from": (m.get("continued_from") or {}).get("run", ""),
        "continued_seconds": t.get("continued_seconds"),
    }
    return {k: row[k] for k in RUNS_COLUMNS}
