"""Statistics of curves over seeds: point-by-point mean and range, smoothing.

Statistics over seeds are computed point by point from the seeds that have a finite value
at that point (:func:`mean_curve`), so a diverged run contributes up to where it stopped.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

#: One statistic over runs at each x: sorted unique x, mean/min/max over the runs with a
#: finite value there, and how many runs that was (points with no finite value are dropped).
Curve = namedtuple("Curve", ["x", "mean", "low", "high", "count"])

SMOOTH_FRACTION = 1 / 20  # training-loss moving average: about 1/20 epoch

# --------------------------------------------------------------------------- statistics


def mean_curve(x, y, run) -> Curve:
    """Mean, min and max of ``y`` over runs at each distinct ``x``.

    ``x``, ``y``, ``run`` are parallel 1-D sequences (``run`` labels the seed). At every x
    only the runs with a finite ``y`` there count (a diverged run drops out after it
    stopped); x values where no run has a finite value are left out.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    run = np.asarray(run)
    if not (x.shape == y.shape == run.shape) or x.ndim != 1:
        raise ValueError(f"x, y, run must be 1-D of one length, got {x.shape}, {y.shape}, {run.shape}")
    ok_x = np.isfinite(x)
    x, y, run = x[ok_x], y[ok_x], run[ok_x]
    xs, xi = np.unique(x, return_inverse=True)
    runs, ri = np.unique(run, return_inverse=True)
    grid = np.full((len(runs), len(xs)), np.nan)
    grid[ri, xi] = y
    ok = np.isfinite(grid)
    count = ok.sum(axis=0)
    keep = count > 0
    total = np.where(ok, grid, 0.0).sum(axis=0)
    mean = np.divide(total, count, out=np.full(len(xs), np.nan), where=keep)
    low = np.where(ok, grid, np.inf).min(axis=0)
    high = np.where(ok, grid, -np.inf).max(axis=0)
    return Curve(xs[keep], mean[keep], low[keep], high[keep], count[keep])


def moving_average(y, window: int) -> np.ndarray:
    """Centred moving average over ``window`` points (made odd), ignoring non-finite values.

    Near the ends the window shrinks to the points available (no zero padding); points
    whose own value is missing or non-finite stay NaN.
    """
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    window = max(1, int(window))
    if window % 2 == 0:
        window += 1
    if window == 1 or y.size == 0:
        return np.where(ok, y, np.nan)
    kernel = np.ones(window)
    total = np.convolve(np.where(ok, y, 0.0), kernel, mode="same")  # direct sums: no cancellation
    count = np.convolve(ok.astype(float), kernel, mode="same")
    out = np.divide(total, count, out=np.full(y.shape, np.nan), where=count > 0)
    out[~ok] = np.nan
    return out


def iterations_per_epoch(iteration, epoch) -> float:
    """Training iterations per epoch, from rows with epoch > 0 (NaN if none)."""
    iteration = np.asarray(iteration, float)
    epoch = np.asarray(epoch, float)
    ok = np.isfinite(iteration) & np.isfinite(epoch) & (epoch > 0)
    if not ok.any():
        return math.nan
    return float(np.median(iteration[ok] / epoch[ok]))


def smoothing_window(iters_per_epoch: float) -> int:
    """Odd moving-average window of about 1/20 epoch: ``2 * round(ipe / 40) + 1`` iterations."""
    if not math.isfinite(iters_per_epoch) or iters_per_epoch <= 0:
        return 1
    return 2 * int(round(iters_per_epoch * SMOOTH_FRACTION / 2)) + 1


def train_loss_curve(train: dict, x_key: str, window: int) -> Curve:
    """Per-seed smoothed batch loss (in iteration order), then mean/min/max over seeds."""
    xs, ys, rs = [], [], []
    for seed in np.unique(train["seed"]):
        m = train["seed"] == seed
        order = np.argsort(train["iteration"][m], kind="stable")
        xs.append(train[x_key][m][order])
        ys.append(moving_average(train["loss"][m][order], window))
        rs.append(train["seed"][m][order])
    if not xs:
        return mean_curve([], [], [])
    return mean_curve(np.concatenate(xs), np.concatenate(ys), np.concatenate(rs))


