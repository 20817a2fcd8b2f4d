"""Deterministic report figures from the workflow's CSV/NPZ results.

Inputs (written by ``workflow/scripts/summarize.py`` and ``workflow/scripts/visual.py``):

- ``results/summary/curves/{experiment}.csv`` - tidy curves: one row per test evaluation
  (``series=test``) and per training iteration (``series=train``); empty cells are missing
  values (a diverged run ends with an empty or non-finite loss).
- ``results/summary/{experiment}.csv`` - one row per variant, in display order.
- ``results/visual/conv1_maps.npz`` - test digits and their first-conv-layer maps.

Every plot function writes one PNG (or two) atomically and byte-identically for the same
inputs: figures are built with :class:`matplotlib.figure.Figure` (no pyplot, no GUI
backend, no global figure registry, so nothing to close and nothing that depends on the
current backend), under matplotlib's default style (a user's ``matplotlibrc`` cannot change
the output), with fixed size and dpi and no PNG metadata (no ``Software`` key, no time).

Statistics over seeds are computed point by point from the seeds that have a finite value
at that point (:func:`mean_curve`), so a diverged run contributes up to where it stopped.
Where fewer seeds than the variant's maximum contribute, the mean is drawn dashed.

``style`` (every plot function): ``None`` or a dict with optional keys ``palette``
(list of ``(name, hex)`` pairs), ``dpi`` (default 150), ``width`` / ``height`` (inches)
and ``font_size`` (points). Any other key raises :class:`ValueError`. Style is cosmetic:
it never changes which data are drawn.
"""

from __future__ import annotations

import csv
import io
import math
from collections import namedtuple
from pathlib import Path

import matplotlib
import matplotlib.colors
import matplotlib.style
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from cnnlib.io import atomic_write_bytes

__all__ = [
    "PALETTE",
    "Curve",
    "colour_of",
    "mean_curve",
    "moving_average",
    "smoothing_window",
    "read_curves",
    "read_summary",
    "resolve_style",
    "plot_sweep",
    "plot_baseline",
    "plot_lr_trace",
    "plot_conv1",
]

#: Curve colours with plain English names (matplotlib's "tab10"); variant i gets colour i.
#: The 2018 report named its curves blue, orange, green, red, purple in this order.
PALETTE: list[tuple[str, str]] = [
    ("blue", "#1f77b4"),
    ("orange", "#ff7f0e"),
    ("green", "#2ca02c"),
    ("red", "#d62728"),
    ("purple", "#9467bd"),
    ("brown", "#8c564b"),
    ("pink", "#e377c2"),
    ("grey", "#7f7f7f"),
    ("olive", "#bcbd22"),
    ("cyan", "#17becf"),
]

STYLE_KEYS = ("palette", "dpi", "width", "height", "font_size")
DEFAULT_DPI = 150
CURVE_SIZE = (6.4, 4.0)  # inches, curve figures
CONV1_PANEL = 1.25  # inches per panel of the conv1 grid
SMOOTH_FRACTION = 1 / 20  # training-loss moving average: about 1/20 epoch
LOG_DECADES = 1.5  # log-scale y axis when the plotted values span more than this
BAND_ALPHA = 0.18

#: One statistic over runs at each x: sorted unique x, mean/min/max over the runs with a
#: finite value there, and how many runs that was (points with no finite value are dropped).
Curve = namedtuple("Curve", ["x", "mean", "low", "high", "count"])


# --------------------------------------------------------------------------- style


def resolve_style(style: dict | None, width: float = CURVE_SIZE[0], height: float = CURVE_SIZE[1]) -> dict:
    """Check ``style`` and fill in defaults. Unknown keys or bad values raise ValueError."""
    style = {} if style is None else style
    if not isinstance(style, dict):
        raise ValueError(f"style must be a dict or None, not {type(style).__name__}")
    for key in style:
        if key not in STYLE_KEYS:
            raise ValueError(f"unknown style key {key!r}; allowed: {', '.join(STYLE_KEYS)}")
    out = {"palette": PALETTE, "dpi": DEFAULT_DPI, "width": width, "height": height, "font_size": None}
    for key in ("dpi", "width", "height", "font_size"):
        if style.get(key) is not None:
            value = style[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"style key {key!r} must be a positive number, got {value!r}")
            out[key] = float(value)
    if style.get("palette") is not None:
        out["palette"] = _check_palette(style["palette"])
    return out


def _check_palette(palette) -> list[tuple[str, str]]:
    out = []
    try:
        pairs = list(palette)
    except TypeError:
        raise ValueError("style key 'palette' must be a list of [name, colour] pairs") from None
    for pair in pairs:
        if isinstance(pair, str) or len(pair) != 2:
            raise ValueError(f"style key 'palette': each entry must be [name, colour], got {pair!r}")
        name, colour = pair
        if not isinstance(name, str) or not isinstance(colour, str) or not matplotlib.colors.is_color_like(colour):
            raise ValueError(f"style key 'palette': bad entry {pair!r} (need a name and a colour like '#1f77b4')")
        out.append((name, colour))
    if not out:
        raise ValueError("style key 'palette' is empty")
    return out


def colour_of(variants, palette=PALETTE) -> dict:
    """``{variant: (name, hex)}``: the i-th variant (display order) gets the i-th colour.

    Raises ValueError if there are more variants than colours (a repeated colour would make
    the report's colour column ambiguous); pass a longer palette via ``style``.
    """
    variants = list(variants)
    palette = _check_palette(palette)
    if len(set(variants)) != len(variants):
        raise ValueError(f"repeated variant names in {variants}")
    if len(variants) > len(palette):
        raise ValueError(
            f"{len(variants)} variants but only {len(palette)} palette colours; "
            "give a longer palette in style['palette']")
    return {v: tuple(palette[i]) for i, v in enumerate(variants)}


class _Render:
    """A figure under matplotlib's default style (+ font size), saved deterministically."""

    def __init__(self, st: dict, layout: str | None = None):
        self.st = st
        self.layout = layout
        self.rc = matplotlib.rc_context()

    def __enter__(self):
        self.rc.__enter__()
        matplotlib.style.use("default")
        if self.st["font_size"]:
            matplotlib.rcParams["font.size"] = self.st["font_size"]
        self.fig = Figure(figsize=(self.st["width"], self.st["height"]), dpi=self.st["dpi"], layout=self.layout)
        return self.fig

    def __exit__(self, *exc):
        return self.rc.__exit__(*exc)


def _save(fig: Figure, png, dpi: float) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    fig.clear()
    return atomic_write_bytes(png, buf.getvalue())


# --------------------------------------------------------------------------- reading


def _floats(cells) -> np.ndarray:
    """Strings -> float array; empty cells and non-finite values become NaN."""
    arr = np.array([c if c else "nan" for c in cells], dtype=float)
    arr[~np.isfinite(arr)] = np.nan
    return arr


CURVE_COLUMNS = ("experiment", "variant", "seed", "series", "iteration", "epoch", "loss", "accuracy", "lr", "images")
_CURVE_FLOATS = ("iteration", "epoch", "loss", "accuracy", "lr", "images")


def read_curves(path, columns=CURVE_COLUMNS) -> dict[str, np.ndarray]:
    """Read a curves CSV into ``{column: array}`` (text columns as str arrays, the rest float, NaN = missing).

    ``columns``: the columns to convert (all by default; fewer is faster). Files without
    quote characters (what the workflow writes) are parsed by numpy's C reader; others go
    through the csv module. Both give the same arrays.
    """
    columns = tuple(columns)
    unknown = [c for c in columns if c not in CURVE_COLUMNS]
    if unknown:
        raise ValueError(f"unknown curve columns {unknown}; known: {', '.join(CURVE_COLUMNS)}")
    with open(path, newline="", encoding="utf-8") as fh:
        text = fh.read()
    head, _, body = text.partition("\n")
    header = next(csv.reader([head.rstrip("\r")]), None)
    if not header:
        raise ValueError(f"{path}: empty file, expected a header {','.join(CURVE_COLUMNS)}")
    missing = [c for c in CURVE_COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    try:
        if '"' in text:
            cols = _columns_csv(body, header, columns)
        else:
            cols = _columns_fast(body, header, columns)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    for name in _CURVE_FLOATS:
        if name in cols:
            cols[name][~np.isfinite(cols[name])] = np.nan
    return cols


def _columns_fast(body: str, header: list, columns: tuple) -> dict:
    if not body.strip():
        return {c: np.zeros(0, dtype=float if c in _CURVE_FLOATS else str) for c in columns}
    nums = [c for c in columns if c in _CURVE_FLOATS]
    texts = [c for c in columns if c not in _CURVE_FLOATS]
    out = {}
    if nums:  # empty cells -> "nan" (twice: runs of empties), also at line ends
        filled = body.replace(",,", ",nan,").replace(",,", ",nan,").replace(",\r", ",nan\r").replace(",\n", ",nan\n")
        if filled.endswith(","):
            filled += "nan"
        arr = np.loadtxt(io.StringIO(filled), delimiter=",", dtype=float, ndmin=2,
                         usecols=[header.index(c) for c in nums])
        out.update({c: np.ascontiguousarray(arr[:, i]) for i, c in enumerate(nums)})
    if texts:
        arr = np.loadtxt(io.StringIO(body), delimiter=",", dtype=str, ndmin=2, comments=None,
                         usecols=[header.index(c) for c in texts])
        out.update({c: np.ascontiguousarray(arr[:, i]) for i, c in enumerate(texts)})
    return out


def _columns_csv(body: str, header: list, columns: tuple) -> dict:
    rows = [r for r in csv.reader(io.StringIO(body)) if r]
    width = len(header)
    for i, r in enumerate(rows):
        if len(r) != width:
            raise ValueError(f"data row {i + 1} has {len(r)} cells, header has {width}")
    out = {}
    for c in columns:
        j = header.index(c)
        cells = [r[j] for r in rows]
        out[c] = _floats(cells) if c in _CURVE_FLOATS else np.array(cells, dtype=str)
        if not rows and c not in _CURVE_FLOATS:
            out[c] = np.zeros(0, dtype=str)
    return out


def read_summary(path) -> list[dict]:
    """Read a per-experiment summary CSV: list of row dicts (strings) in display order."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if not row.get("variant"):
            raise ValueError(f"{path}: a row has no 'variant'")
    return rows


def _int_cell(row: dict, key: str) -> int:
    try:
        return int(float(row.get(key) or 0))
    except ValueError:
        return 0


def _variants_in_order(curves: dict) -> list[str]:
    """Variants in order of first appearance in the curves file."""
    names, first = np.unique(curves["variant"], return_index=True)
    return [str(v) for v in names[np.argsort(first)]]


def _select(curves: dict, variant: str, series: str) -> dict:
    mask = (curves["variant"] == variant) & (curves["series"] == series)
    return {k: v[mask] for k, v in curves.items()}


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


def _train_loss_curve(train: dict, x_key: str, window: int) -> Curve:
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


def _log_axis(curves: list[Curve]) -> bool:
    vals = [v for c in curves for v in (c.low, c.mean, c.high)]
    if not vals:
        return False
    vals = np.concatenate(vals)
    vals = vals[np.isfinite(vals) & (vals > 0)]
    if vals.size < 2:
        return False
    return math.log10(vals.max() / vals.min()) > LOG_DECADES


def _draw_mean(ax, c: Curve, colour: str, label: str, with_band: bool = True, steps: bool = False, **line):
    """Mean line (solid where every seed counts, dashed where fewer do) and min-max band.

    ``steps``: piecewise-constant values (a learning rate): step line and step band.
    """
    if steps:
        line["drawstyle"] = "steps-post"
    if c.x.size == 0:
        return ax.plot([], [], color=colour, label=label, **line)[0]
    full = c.count == c.count.max()
    if with_band:
        ax.fill_between(c.x, c.low, c.high, step="post" if steps else None,
                        color=colour, alpha=BAND_ALPHA, linewidth=0)
    if not full.all():
        ax.plot(c.x, c.mean, color=colour, linestyle="--", **line)
    solid = np.where(full, c.mean, np.nan)
    return ax.plot(c.x, solid, color=colour, label=label, **line)[0]


def _subset_note(test: dict) -> str:
    """'mid-epoch points: N-image test subset' if the test points used different sizes."""
    images = test["images"][np.isfinite(test["images"])]
    sizes = np.unique(images)
    if sizes.size < 2:
        return ""
    return f"mid-epoch points: {int(sizes.min())}-image test subset, epoch ends: {int(sizes.max())}"


def _seed_count(rows: dict) -> int:
    return int(np.unique(rows["seed"]).size)


# --------------------------------------------------------------------------- plots


def plot_sweep(summary_csv, curves_csv, accuracy_png, loss_png, title: str, style: dict | None = None) -> dict:
    """Two figures of a sweep: test accuracy and smoothed training loss vs epoch, one curve per variant.

    Accuracy: mean over seeds at each test evaluation, band = min..max over seeds.
    Loss: each seed's per-iteration batch loss smoothed by a centred moving average of
    :func:`smoothing_window` iterations (about 1/20 epoch), then mean (line) and min..max
    (band) over seeds; log y axis if the values span more than 1.5 decades.
    Colours follow the summary's variant order (variants only in the curves file come
    after). Returns ``{variant: colour name}``.
    """
    st = resolve_style(style)
    summary = read_summary(summary_csv)
    curves = read_curves(curves_csv, ("variant", "seed", "series", "iteration", "epoch", "loss", "accuracy", "images"))
    order = [r["variant"] for r in summary]
    order += [v for v in _variants_in_order(curves) if v not in order]
    colours = colour_of(order, st["palette"])
    info = {r["variant"]: r for r in summary}

    acc_curves, loss_curves, notes = {}, {}, ""
    windows = set()
    for v in order:
        test = _select(curves, v, "test")
        train = _select(curves, v, "train")
        if test["epoch"].size:
            acc_curves[v] = mean_curve(test["epoch"], test["accuracy"], test["seed"])
            notes = notes or _subset_note(test)
        if train["epoch"].size:
            w = smoothing_window(iterations_per_epoch(train["iteration"], train["epoch"]))
            windows.add(w)
            loss_curves[v] = _train_loss_curve(train, "epoch", w)

    def label(v):
        row = info.get(v)
        d, r = (_int_cell(row, "diverged"), _int_cell(row, "runs")) if row else (0, 0)
        return f"{v} ({d}/{r} diverged)" if d else v

    def finish(ax, fig, handles, any_dashed, xlabel="epoch"):
        ax.set_xlabel(xlabel)
        ax.grid(True, alpha=0.3)
        if handles:
            if any_dashed:
                handles = handles + [Line2D([], [], color="black", linestyle="--", label="fewer seeds (rest diverged)")]
            # below the axes: never hides a curve, and no costly "best" placement search
            fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3),
                       fontsize="small", frameon=False)

    # accuracy
    with _Render(st, "constrained") as fig:
        ax = fig.add_subplot()
        handles = [_draw_mean(ax, acc_curves[v], colours[v][1], label(v)) for v in order if v in acc_curves]
        dashed = any((c.count < c.count.max()).any() for c in acc_curves.values() if c.count.size)
        n = max((_seed_count(_select(curves, v, "test")) for v in acc_curves), default=0)
        ax.set_title(f"{title}: test accuracy")
        ax.set_ylabel(f"test accuracy\n(line: mean of {n} seeds, band: min-max)")
        finish(ax, fig, handles, dashed, "epoch" + (f"  ({notes})" if notes else ""))
        _save(fig, accuracy_png, st["dpi"])

    # training loss
    with _Render(st, "constrained") as fig:
        ax = fig.add_subplot()
        handles = [_draw_mean(ax, loss_curves[v], colours[v][1], label(v)) for v in order if v in loss_curves]
        dashed = any((c.count < c.count.max()).any() for c in loss_curves.values() if c.count.size)
        if _log_axis(list(loss_curves.values())):
            ax.set_yscale("log")
        n = max((_seed_count(_select(curves, v, "train")) for v in loss_curves), default=0)
        win = ", ".join(str(w) for w in sorted(windows)) or "1"
        smooth = ("not smoothed" if windows <= {1}
                  else f"centred moving average over {win} iterations, ~1/20 epoch")
        ax.set_title(f"{title}: training loss")
        ax.set_ylabel(f"training batch loss\n(line: mean of {n} seeds, band: min-max)")
        finish(ax, fig, handles, dashed, f"epoch  (loss {smooth})")
        _save(fig, loss_png, st["dpi"])
    return {v: colours[v][0] for v in order}


def _pick_variant(curves: dict, variant: str | None, path) -> str:
    names = _variants_in_order(curves)
    if variant is None:
        if len(names) != 1:
            raise ValueError(f"{path} holds variants {names}; choose one with variant=")
        return names[0]
    if variant not in names:
        raise ValueError(f"variant {variant!r} not in {path} (variants: {names})")
    return variant


def plot_baseline(curves_csv, png, style: dict | None = None, variant: str | None = None) -> Path:
    """Test accuracy (left axis) and raw per-iteration training loss (right axis) vs iteration.

    Both lines are means over seeds (the seeds present at each point), as in the 2018
    report: blue = accuracy, orange = loss of each training iteration (palette colours 0, 1).
    ``variant`` may be omitted if the file holds one variant.
    """
    st = resolve_style(style)
    curves = read_curves(curves_csv, ("variant", "seed", "series", "iteration", "epoch", "loss", "accuracy", "images"))
    variant = _pick_variant(curves, variant, curves_csv)
    test, train = _select(curves, variant, "test"), _select(curves, variant, "train")
    acc = mean_curve(test["iteration"], test["accuracy"], test["seed"])
    loss = mean_curve(train["iteration"], train["loss"], train["seed"])
    c_acc, c_loss = st["palette"][0][1], st["palette"][min(1, len(st["palette"]) - 1)][1]
    n = max(_seed_count(test), _seed_count(train))
    ipe = iterations_per_epoch(train["iteration"], train["epoch"])
    with _Render(st, "constrained") as fig:
        ax = fig.add_subplot()
        ax2 = ax.twinx()
        ax.set_zorder(ax2.get_zorder() + 1)  # accuracy (few points) above the dense loss line
        ax.patch.set_visible(False)
        h_loss = _draw_mean(ax2, loss, c_loss, "training loss (each iteration)", with_band=False, linewidth=0.8)
        h_acc = _draw_mean(ax, acc, c_acc, "test accuracy", with_band=False, marker="o", markersize=3)
        if _log_axis([loss]):
            ax2.set_yscale("log")
        ax.set_ylabel("test accuracy", color=c_acc)
        ax2.set_ylabel("training batch loss", color=c_loss)
        xlabel = "iteration" + (f" ({ipe:g} per epoch)" if math.isfinite(ipe) else "")
        note = _subset_note(test)
        ax.set_xlabel(xlabel + (f"\n{note}" if note else ""))
        ax.set_title(f"{variant}: mean of {n} seed{'s' if n != 1 else ''}")
        ax.grid(True, alpha=0.3)
        fig.legend(handles=[h_acc, h_loss], loc="outside lower center", ncols=2, fontsize="small", frameon=False)
        return _save(fig, png, st["dpi"])


def plot_lr_trace(curves_csv, variant: str, png, style: dict | None = None) -> Path:
    """Learning rate per iteration of one variant (mean and min-max band over seeds) and its
    smoothed training loss (mean over seeds, twin axis) vs iteration."""
    st = resolve_style(style)
    curves = read_curves(curves_csv, ("variant", "seed", "series", "iteration", "epoch", "loss", "lr"))
    variant = _pick_variant(curves, variant, curves_csv)
    train = _select(curves, variant, "train")
    lr = mean_curve(train["iteration"], train["lr"], train["seed"])
    ipe = iterations_per_epoch(train["iteration"], train["epoch"])
    w = smoothing_window(ipe)
    loss = _train_loss_curve(train, "iteration", w)
    c_lr, c_loss = st["palette"][0][1], st["palette"][min(1, len(st["palette"]) - 1)][1]
    n = _seed_count(train)
    with _Render(st, "constrained") as fig:
        ax = fig.add_subplot()
        ax2 = ax.twinx()
        smooth = "no smoothing" if w == 1 else f"moving average over {w} iterations"
        h_loss = _draw_mean(ax2, loss, c_loss, f"training loss ({smooth})", with_band=False, linewidth=1.2)
        h_lr = _draw_mean(ax, lr, c_lr, "learning rate (band: min-max)", steps=True, linewidth=0.9)
        if _log_axis([lr]):
            ax.set_yscale("log")
        if _log_axis([loss]):
            ax2.set_yscale("log")
        ax.set_ylabel("learning rate", color=c_lr)
        ax2.set_ylabel("training batch loss", color=c_loss)
        ax.set_xlabel("iteration" + (f" ({ipe:g} per epoch)" if math.isfinite(ipe) else ""))
        ax.set_title(f"{variant}: learning rate and loss, mean of {n} seed{'s' if n != 1 else ''}")
        ax.grid(True, alpha=0.3)
        fig.legend(handles=[h_lr, h_loss], loc="outside lower center", ncols=2, fontsize="small", frameon=False)
        return _save(fig, png, st["dpi"])


def plot_conv1(npz, png, style: dict | None = None, maps: str = "relu1") -> Path:
    """One row per digit: the input, then its first-conv-layer feature maps in grey.

    ``maps`` is ``"relu1"`` (after ReLU, default) or ``"conv1"`` (before). Each map column
    shares one grey scale over all digits (black = its minimum, white = its maximum), so
    the same filter can be compared across digits.
    """
    if maps not in ("relu1", "conv1"):
        raise ValueError(f"maps must be 'relu1' or 'conv1', got {maps!r}")
    with np.load(npz) as data:
        images = np.asarray(data["images"])
        labels = np.asarray(data["labels"])
        fmaps = np.asarray(data[maps], dtype=float)
    if images.ndim != 3 or fmaps.ndim != 4 or len(images) != len(fmaps) or len(labels) != len(images):
        raise ValueError(f"{npz}: expected images (k,H,W), labels (k,), {maps} (k,C,H,W); "
                         f"got {images.shape}, {labels.shape}, {fmaps.shape}")
    k, c = fmaps.shape[:2]
    cols = c + 1
    st = resolve_style(style, width=CONV1_PANEL * cols, height=CONV1_PANEL * max(k, 1) + 0.5)
    what = "after ReLU" if maps == "relu1" else "before ReLU"
    lo = np.nanmin(fmaps, axis=(0, 2, 3)) if k else np.zeros(c)
    hi = np.nanmax(fmaps, axis=(0, 2, 3)) if k else np.ones(c)
    hi = np.where(hi > lo, hi, lo + 1.0)
    with _Render(st) as fig:
        grid = fig.subplots(max(k, 1), cols, squeeze=False)
        for i in range(k):
            panels = [(images[i], f"input ({int(labels[i])})", 0, 255)]
            panels += [(fmaps[i, j], f"map {j + 1}", lo[j], hi[j]) for j in range(c)]
            for j, (img, name, vmin, vmax) in enumerate(panels):
                ax = grid[i, j]
                ax.imshow(img, cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if j == 0 or i == 0:
                    ax.set_title(name, fontsize="small")
        fig.suptitle(f"First conv layer feature maps ({what}; grey scale per map)", fontsize="medium")
        fig.tight_layout()
        return _save(fig, png, st["dpi"])
