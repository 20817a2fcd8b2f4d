"""workflow.summary: every number of a summary row, from hand-made run metrics."""

import math

import pytest

from cnnlib.results import RUNS_COLUMNS, SUMMARY_COLUMNS, column
from workflow.summary import curve_rows, run_quantities, run_row, stats, summary_rows


def metrics(acc, status="completed", loss=0.3, train=0.25, seconds=10.0, epochs=3, params=2158):
    done = status == "completed"
    return {
        "status": status, "diverged_at_iteration": None if done else 17,
        "final": {"test_accuracy": acc if done else None, "test_loss": loss if done else None,
                  "train_loss": train, "epochs_completed": epochs if done else 0, "iterations": 100},
        "time": {"train_seconds": seconds, "train_seconds_per_epoch": seconds / epochs, "eval_seconds": 1.0,
                 "total_seconds": seconds + 1, "finished_utc": "2026-12-01T00:00:00+00:00"},
        "model": {"name": "reference_cnn", "parameters": params},
        "config": {"epochs": epochs},
    }


def test_summary_numbers():
    runs = [("a", 0, metrics(0.90, seconds=9)), ("a", 1, metrics(0.94, seconds=11)), ("a", 2, metrics(0.95)),
            ("b", 0, metrics(0.97)), ("b", 1, metrics(None, status="diverged"))]
    a, b = summary_rows("exp", {"a": "0.1", "b": "0.2"}, runs)
    assert list(a) == SUMMARY_COLUMNS
    assert (a["runs"], a["completed"], a["diverged"], a["setting"]) == (3, 3, 0, "0.1")
    assert a[column("test_accuracy", "mean")] == pytest.approx(0.93)
    # ddof 1: deviations -0.03, 0.01, 0.02 -> sum of squares 0.0014 / 2
    assert a[column("test_accuracy", "std")] == pytest.approx(math.sqrt(0.0014 / 2))
    assert a[column("test_accuracy", "min")] == 0.90 and a[column("test_accuracy", "max")] == 0.95
    assert a[column("train_seconds", "mean")] == pytest.approx(10.0)
    assert a[column("seconds_per_epoch", "max")] == pytest.approx(11 / 3)
    assert (b["runs"], b["completed"], b["diverged"]) == (2, 1, 1)
    assert b[column("test_accuracy", "mean")] == 0.97 and b[column("test_accuracy", "std")] == 0.0  # one run
    assert b["epochs"] == 3 and b["parameters"] == 2158


def test_no_completed_run_gives_empty_statistics():
    (row,) = summary_rows("exp", {"x": "x"}, [("x", 0, metrics(None, status="diverged"))])
    assert row["completed"] == 0 and row[column("test_accuracy", "mean")] is None
    assert stats([float("nan"), None]) == {"mean": None, "std": None, "min": None, "max": None}
    assert stats([1.0, float("inf"), 3.0])["mean"] == 2.0


def test_curve_rows_and_run_row():
    history = {"batch_size": 100,
               "eval": {"iteration": [0, 10], "epoch": [0.0, 1.0], "test_loss": [2.3, 0.5],
                        "test_accuracy": [0.1, 0.9], "images": [500, 1000]},
               "train": {"iteration": [1, 2], "epoch": [0.1, 0.2], "loss": [2.2, None], "accuracy": [0.1, 0.2],
                         "lr": [0.01, 0.01]}}
    rows = curve_rows("exp", [("a", 3, history)])
    assert len(rows) == 4 and [r["series"] for r in rows] == ["test", "test", "train", "train"]
    assert rows[1]["accuracy"] == 0.9 and rows[1]["images"] == 1000 and rows[1]["lr"] is None
    assert rows[3]["loss"] is None and rows[3]["images"] == 100 and rows[3]["seed"] == 3
    row = run_row("exp", "a", 0, metrics(0.9))
    assert list(row) == RUNS_COLUMNS and row["test_accuracy"] == 0.9 and row["total_seconds"] == 11.0
    assert row["continued_from"] == "" and row["continued_seconds"] is None
    m = metrics(0.9)
    row = run_row("exp", "a", 0, {**m, "continued_from": {"run": "runs/b/c/seed-0", "epochs": 2},
                                  "time": {**m["time"], "continued_seconds": 4.5}})
    assert row["continued_from"] == "runs/b/c/seed-0" and row["continued_seconds"] == 4.5


def test_failed_runs_and_the_interval_of_the_runs_that_learned():
    # 0.11 failed to learn (below twice chance), one diverged: 2 failed of 5
    runs = [("a", s, metrics(acc)) for s, acc in enumerate([0.90, 0.94, 0.95, 0.11])]
    runs.append(("a", 4, metrics(None, status="diverged")))
    (a,) = summary_rows("exp", {"a": "0.1"}, runs)
    assert (a["runs"], a["completed"], a["diverged"], a["failed"]) == (5, 4, 1, 2)
    # the interval is over 0.90, 0.94, 0.95 only: mean 0.93, s = sqrt(0.0014 / 2), t(0.975, 2) = 4.302653
    half = 4.302652729749464 * math.sqrt(0.0014 / 2) / math.sqrt(3)
    assert a["test_accuracy_ci_low"] == pytest.approx(0.93 - half, rel=1e-9)
    assert a["test_accuracy_ci_high"] == pytest.approx(0.93 + half, rel=1e-9)
    # the plain statistics stay over every completed run, the failed one included
    assert a[column("test_accuracy", "min")] == 0.11
    # fewer than two runs that learned: no interval
    (b,) = summary_rows("exp", {"b": "x"}, [("b", 0, metrics(0.95)), ("b", 1, metrics(0.12))])
    assert b["failed"] == 1 and b["test_accuracy_ci_low"] is None and b["test_accuracy_ci_high"] is None


def known_history():
    """12 iterations of batch 10 in 2 epochs; test evaluations twice per epoch (subset mid-epoch)."""
    losses = [2.0, 1.5, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    accs = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.9, 0.8]
    return {"batch_size": 10, "iterations_per_epoch": 6,
            "train": {"iteration": list(range(1, 13)), "epoch": [i / 6 for i in range(1, 13)], "loss": losses,
                      "accuracy": accs, "lr": [0.1] * 12},
            "eval": {"iteration": [0, 3, 6, 9, 12], "epoch": [0.0, 0.5, 1.0, 1.5, 2.0],
                     "test_loss": [2.3, 1.0, 0.6, 0.5, 0.4], "test_accuracy": [0.1, 0.5, 0.93, 0.96, 0.9],
                     "images": [1000, 100, 1000, 100, 1000]}}


def test_run_quantities_on_a_history_with_known_answers():
    m = metrics(0.9, loss=0.4, train=0.1)
    m["final"]["train_accuracy_epoch_mean"] = 0.8
    m["time"]["train_cpu_seconds_per_epoch"] = 2.5
    q = run_quantities(m, known_history(), window=4)
    assert q["train_loss"] == 0.1 and q["test_loss"] == 0.4 and q["test_accuracy"] == 0.9
    assert q["train_loss_window"] == pytest.approx((0.4 + 0.3 + 0.2 + 0.1) / 4)  # last 4 iterations
    assert q["train_accuracy_window"] == pytest.approx((0.9 + 1.0 + 0.9 + 0.8) / 4)
    # best over full-test evaluations at epoch ends (epoch 1: 0.93, epoch 2: 0.9), not the 0.96 subset
    assert q["best_test_accuracy"] == 0.93
    # how fast: the mean test accuracy over the first epoch, trapezoid over (0, 0.1), (0.5, 0.5), (1, 0.93)
    assert q["early_accuracy"] == pytest.approx((0.5 * (0.1 + 0.5) / 2 + 0.5 * (0.5 + 0.93) / 2) / 1)
    assert q["last_epoch_gain"] == pytest.approx(0.9 - 0.93)  # the epoch ends' full-test accuracies
    assert q["test_train_gap"] == pytest.approx(0.9 - 0.8)
    assert q["train_accuracy_epoch"] == 0.8 and q["cpu_seconds_per_epoch"] == 2.5
    # a window longer than the run: the mean of every iteration
    assert run_quantities(m, known_history(), window=50)["train_loss_window"] == pytest.approx(9.0 / 12)
    # a diverged run: no history-based quantities
    d = run_quantities(metrics(None, status="diverged"), known_history(), window=4)
    assert d["train_loss_window"] is None and d["best_test_accuracy"] is None and d["test_accuracy"] is None
