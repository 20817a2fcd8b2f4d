"""The report's figures, from the workflow's CSV/NPZ results (see :mod:`cnnlib.results`).

Every plot function writes one PNG atomically and byte-identically for the same inputs
(:mod:`report.style`). Titles and labels print literally (no mathtext: a ``$`` in a config
title is a dollar sign); Chinese text is drawn in the CJK font (:func:`report.style.cjk_families`).

Colours: a figure's variants (or, in the protocol ablation's seeds figure, its readings) get
the palette's colours by position (:func:`report.style.variant_looks`): distinct within a
figure, and the same for an experiment's variants in every figure that shows them.

* :func:`plot_experiment`: an experiment's one figure, 2 x 2 panels: the final accuracy of
  every run against the swept setting, test accuracy and training loss over training, and the
  learning rate (or the legend and notes).
* :func:`plot_seeds`: the final accuracy of every run per group (the protocol ablation).
* :func:`plot_conv1`: the first conv layer's feature maps.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.textpath import TextToPath
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

from report.charset import needs_cjk
from report.curves import Curve, iterations_per_epoch, mean_curve, smoothing_window, train_loss_curve
from report.readers import read_curves, select
from report.stats import mean_ci
from report.style import (CONV1_PANEL, EXPERIMENT_FONT, EXPERIMENT_SIZE, OTHER_COLOUR, SEEDS_SIZE, _cjk_fonts, _Render,
                          _save, cjk_families,
                          colour_name, resolve_style, variant_looks)
from cnnlib.results import COMPLETED, DIVERGED, FAILED_BELOW, learned

_TEXT_PATHS = TextToPath()
BAND_ALPHA = 0.18
FADED = 0.4  # a mean over fewer seeds than the variant has (the others diverged)
DEFAULT_CLASSES = 10  # a run table without a `classes` column: MNIST


def _draw_mean(ax, c: Curve, colour: str, label: str, with_band: bool = True, steps: bool = False, **line):
    """Mean line (full colour where every seed counts, faded where fewer do) and min-max band.

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
        ax.plot(c.x, c.mean, color=colour, alpha=FADED, **line)
    solid = np.where(full, c.mean, np.nan)
    return ax.plot(c.x, solid, color=colour, label=label, **line)[0]


def _subset_note(test: dict) -> str:
    """'(b) N test images, M at epoch ends' if the test points used
    different numbers of images ('' if not)."""
    images = test["images"][np.isfinite(test["images"])]
    sizes = np.unique(images)
    if sizes.size < 2:
        return ""
    return f"(b) {int(sizes.min())} test images, {int(sizes.max())} at epoch ends"


def _seed_key(cell) -> str:
    """A seed as text, however a file spells it ('3', '3.0')."""
    text = str(cell).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


RUN_TABLE_NEEDS = ("experiment", "variant", "seed", "status", "test_accuracy")


def read_run_table(path) -> list[dict]:
    """Rows of a per-experiment run table (``cnnlib.results.RUNS_COLUMNS``) with the fields
    the figures use: experiment, variant, seed (text), status, test_accuracy (float, NaN if
    none), learned (:func:`cnnlib.results.learned`), diverged (status ``diverged``) and chance
    (1 / the ``classes`` column; a table without it, or an empty cell: 10 classes)."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in RUN_TABLE_NEEDS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: not a run table, missing columns {missing}")
        rows = list(reader)
    out = []
    for row in rows:
        try:
            acc = float(row["test_accuracy"]) if row["test_accuracy"] else math.nan
        except ValueError:
            raise ValueError(f"{path}: test_accuracy {row['test_accuracy']!r} of {row['variant']} "
                             f"seed {row['seed']} is not a number") from None
        out.append({"experiment": row["experiment"], "variant": row["variant"], "seed": _seed_key(row["seed"]),
                    "status": row["status"], "test_accuracy": acc,
                    "learned": learned(row["status"], row["test_accuracy"], row.get("classes")),
                    "diverged": row["status"] == DIVERGED, "chance": _chance(row.get("classes"), path)})
    return out


def _chance(cell, path) -> float:
    """1 / classes of a run-table cell (missing or empty: :data:`DEFAULT_CLASSES`)."""
    if cell in (None, ""):
        return 1.0 / DEFAULT_CLASSES
    try:
        classes = float(cell)
    except ValueError:
        classes = math.nan
    if not (classes >= 2 and classes.is_integer()):
        raise ValueError(f"{path}: classes {cell!r} is not a whole number of at least 2")
    return 1.0 / classes


AXES_MARGIN = 1.0  # inches of a figure's width left of and right of its axes, at most (y labels)


def _title(title: str, what: str, st: dict) -> str:
    """'TITLE: WHAT', on two lines when one would be wider than the axes it is centred on."""
    text = f"{title}: {what}"
    if _text_points(text, 1.2 * st["font_size"]) > 72 * (st["width"] - AXES_MARGIN):  # titles are 'large'
        text = f"{title}\n{what}"
    return text


def _text_points(text: str, size: float) -> float:
    """How wide ``text`` (its longest line) is in points at ``size``, in the current font
    (call it inside :class:`report.style._Render`: matplotlib's default style)."""
    font = FontProperties(size=size, family=cjk_families() if needs_cjk(text) else None)
    return max(_TEXT_PATHS.get_text_width_height_descent(line, font, ismath=False)[0]
               for line in text.split("\n"))


def _legend(fig, handles, extra=()):
    """Below the axes (never hides a curve, no costly "best" placement search); one column
    when a label would not fit half the width."""
    handles = list(handles) + list(extra)
    if handles:
        import matplotlib

        size = matplotlib.rcParams["font.size"]
        # a column: its widest label plus the line sample and the gaps (about 4 font sizes)
        column = max(_text_points(h.get_label(), size) for h in handles) + 4 * size
        ncols = 2 if len(handles) > 1 and 2 * column < 72 * fig.get_figwidth() - 10 else 1
        fig.legend(handles=handles, loc="outside lower center", frameon=False, ncols=ncols)


# --------------------------------------------------------------------------- one figure per experiment

SPEC_KEYS = ("title", "experiment", "variants", "axis", "free_points", "reference", "reference_label")
LOG_FACTOR = 10.0  # a log x axis when the swept values (all > 0) span this factor or more
# panel (a), in units of the slot of one value (u: the smallest gap between two values on the
# axis, at least an eighth of its span): the runs spread left of the value, the mean beside them
POINTS_AT, POINTS_JITTER, REFERENCE_AT, MEAN_AT = -0.24, 0.12, 0.0, 0.16
STRIP = 0.14  # share of panel (a)'s height below the runs that learned, for what lies below them
SLOT_MARGIN = 0.8  # u beyond the first and last value
REFERENCE_STYLE = {"marker": "D", "markersize": 6, "markerfacecolor": "none", "markeredgecolor": "black",
                   "color": "black", "markeredgewidth": 1.1, "linestyle": "none"}
POINT_SIZE = 4.0
ZOOM_RATIO = 0.38  # panel (b)'s zoom of the last epoch, as a share of the width of its main axes
NOTE_GREY = "#555555"
CHANCE_COLOUR = "#777777"


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _text(value, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"spec: {what} must be a non-empty text, got {value!r}")
    return value


def _check_spec(spec) -> dict:
    """``spec`` of :func:`plot_experiment`, checked, with the optional keys filled in."""
    if not isinstance(spec, dict):
        raise ValueError(f"spec must be a dict, not {type(spec).__name__}")
    unknown = [k for k in spec if k not in SPEC_KEYS]
    if unknown:
        raise ValueError(f"spec: unknown keys {unknown}; allowed: {', '.join(SPEC_KEYS)}")
    out = {"title": _text(spec.get("title"), "title"), "experiment": _text(spec.get("experiment"), "experiment")}
    variants = spec.get("variants")
    if not isinstance(variants, (list, tuple)) or not variants:
        raise ValueError("spec: 'variants' must be a non-empty list")
    out["variants"] = []
    for i, v in enumerate(variants):
        if not isinstance(v, dict):
            raise ValueError(f"spec: variant {i} must be a dict with name, label, value, got {v!r}")
        name = _text(v.get("name"), f"variant {i}'s name")
        label = v.get("label", name)
        value = v.get("value")
        if value is not None and not _is_number(value):
            raise ValueError(f"spec: variant {name}'s value must be a finite number or None, got {value!r}")
        out["variants"].append({"name": name, "label": _text(label, f"variant {name}'s label"), "value": value})
    names = [v["name"] for v in out["variants"]]
    if len(set(names)) != len(names):
        raise ValueError(f"spec: variant names repeat: {names}")
    axis = spec.get("axis")
    if axis is not None:
        if not isinstance(axis, dict):
            raise ValueError(f"spec: 'axis' must be None or {{key, label}}, got {axis!r}")
        axis = {"key": _text(axis.get("key"), "axis key"), "label": _text(axis.get("label", axis.get("key")),
                                                                          "axis label")}
    out["axis"] = axis
    out["free_points"] = []
    for i, fp in enumerate(spec.get("free_points") or []):
        if not isinstance(fp, dict) or not _is_number(fp.get("value")):
            raise ValueError(f"spec: free point {i} needs a finite number 'value', got {fp!r}")
        out["free_points"].append({"value": fp["value"],
                                   "experiment": _text(fp.get("experiment"), "free point experiment"),
                                   "variant": _text(fp.get("variant"), "free point variant")})
    if out["free_points"] and not any(v["value"] is not None for v in out["variants"]) or \
            out["free_points"] and axis is None:
        raise ValueError("spec: free points need an 'axis' and variants with a numeric 'value'")
    reference = spec.get("reference") or {}
    if not isinstance(reference, dict):
        raise ValueError(f"spec: 'reference' must be {{variant: accuracy}}, got {reference!r}")
    for name, acc in reference.items():
        if name not in names:
            raise ValueError(f"spec: reference for {name!r}, which is not a variant ({', '.join(names)})")
        if not _is_number(acc):
            raise ValueError(f"spec: reference accuracy of {name} must be a number, got {acc!r}")
    out["reference"] = dict(reference)
    out["reference_label"] = _text(spec.get("reference_label", "2018 report"), "reference_label")
    return out


def _final(r: dict) -> float:
    """A run's final test accuracy as drawn: a diverged run (or one without an accuracy) at chance."""
    acc = r["test_accuracy"]
    return acc if r["status"] == COMPLETED and math.isfinite(acc) else r["chance"]


def _runs_of(tables: dict, experiment: str, variant: str, paths: dict) -> list[dict]:
    if experiment not in tables:
        raise ValueError(f"no run table of experiment {experiment!r} in run_tables ({', '.join(tables) or 'none'})")
    runs = sorted((r for r in tables[experiment] if r["variant"] == variant and r["experiment"] == experiment),
                  key=_seed_order)
    if not runs:
        raise ValueError(f"{paths[experiment]}: no runs of {experiment}/{variant}")
    seeds = [r["seed"] for r in runs]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"{paths[experiment]}: seeds of {experiment}/{variant} repeat: {seeds}")
    return runs


def _value_text(x: float) -> str:
    return f"{x:g}"


class _Group:
    """What panel (a) draws at one place: a variant's runs, or another experiment's (free point)."""

    def __init__(self, key, label, runs, colour, marker, value=None, reference=None, free=False):
        self.key, self.label, self.runs, self.colour, self.marker = key, label, runs, colour, marker
        self.value, self.reference, self.free = value, reference, free
        self.values = [_final(r) for r in runs]
        self.ci = mean_ci(self.values)
        self.ax, self.x, self.u, self.log = None, None, 1.0, False

    def at(self, offset: float) -> float:
        """The x of ``offset`` slot units right of the group's place."""
        if self.log:
            return 10 ** (math.log10(self.x) + offset * self.u)
        return self.x + offset * self.u


def _place(groups: list[_Group], log: bool) -> tuple[float, tuple[float, float], float]:
    """x places of groups at their value: ``(u, x limits, span)`` in the axis' units (log10 on a
    log axis)."""
    t = (lambda x: math.log10(x)) if log else (lambda x: x)
    pos = sorted({t(g.value) for g in groups})
    span = pos[-1] - pos[0]
    gaps = [b - a for a, b in zip(pos, pos[1:])]
    if gaps:
        u = max(min(gaps), span / 8)
    else:
        u = 0.5 if log else max(abs(pos[0]) * 0.2, 1e-3) if pos[0] else 1.0
    for g in groups:
        g.x, g.u, g.log = g.value, u, log
    lo, hi = pos[0] - SLOT_MARGIN * u, pos[-1] + SLOT_MARGIN * u
    return u, ((10 ** lo, 10 ** hi) if log else (lo, hi)), span + 2 * SLOT_MARGIN * u


def _accuracy_limits(groups: list[_Group]) -> tuple[float, float, bool]:
    """Panel (a)'s y axis ``(bottom, top, strip)``: fitted to the runs that learned (and to the
    2018 values a run that learned could have, and to the intervals of the groups whose runs
    all learned), with a little room; when anything lies below that, a strip at the bottom
    (``strip``) where it is marked on the edge, apart from every point drawn at its value."""
    vals = [v for g in groups for r, v in zip(g.runs, g.values) if r["learned"]]
    if not vals:
        return 0.0, 1.0, False
    vals += [g.reference for g in groups if g.reference is not None and g.reference >= FAILED_BELOW]
    vals += [end for g in groups if all(r["learned"] for r in g.runs)
             for end in (g.ci.ci_low, g.ci.ci_high) if end is not None]
    lo, hi = min(vals), max(vals)
    pad = max(0.08 * (hi - lo), 0.004)
    bottom, top = max(0.0, lo - pad), min(1.0, hi + pad)
    lowest = [v for g in groups for v in g.values + [g.ci.mean] + [g.reference] if v is not None]
    strip = min(lowest) < bottom
    if strip:
        bottom = max(0.0, bottom - STRIP * (top - bottom) / (1 - STRIP))
    return bottom, top, strip


def _draw_group(ax, g: _Group, y0: float) -> dict:
    """Every run as a point (below the axis: a triangle on its bottom edge, with their count),
    the 2018 value as a hollow diamond beside them and the mean with its 95% t-interval beyond
    (below the axis: the diamond on the edge, the mean an arrow down to it). Returns what went
    below."""
    n = len(g.values)
    xs = [g.at(POINTS_AT + (POINTS_JITTER * (2 * k / (n - 1) - 1) if n > 1 else 0.0)) for k in range(n)]
    inside = [(x, y) for x, y in zip(xs, g.values) if y >= y0]
    below = [(x, r) for x, y, r in zip(xs, g.values, g.runs) if y < y0]
    kw = {"linestyle": "none", "color": g.colour, "markeredgewidth": 0}
    if inside:
        ax.plot([x for x, _ in inside], [y for _, y in inside], marker=g.marker, markersize=POINT_SIZE, alpha=0.85,
                gid=f"runs:{g.key}", **kw)
    if below:
        ax.plot([x for x, _ in below], [y0] * len(below), marker="v", markersize=POINT_SIZE + 1.5, clip_on=False,
                zorder=3, gid=f"below:{g.key}", **kw)
        ax.annotate(str(len(below)), xy=(g.at(POINTS_AT), y0), xytext=(0, 4), textcoords="offset points",
                    ha="center", va="bottom", color=g.colour, annotation_clip=False)
    xm = g.at(MEAN_AT)
    mean = g.ci.mean
    if mean is not None and mean >= y0:
        lo = g.ci.ci_low if g.ci.ci_low is not None else mean
        hi = g.ci.ci_high if g.ci.ci_high is not None else mean
        ax.errorbar([xm], [mean], yerr=[[mean - lo], [hi - mean]], color=g.colour, marker="_", markersize=9,
                    markeredgewidth=1.5, capsize=2.5, linewidth=1.2, gid=f"mean:{g.key}")
    elif mean is not None:  # the mean is below the axis: an arrow down to the edge
        ax.annotate("", xy=(xm, y0), xytext=(0, 14), textcoords="offset points", annotation_clip=False,
                    arrowprops={"arrowstyle": "-|>", "color": g.colour, "linewidth": 1.5, "shrinkA": 0, "shrinkB": 0,
                                "mutation_scale": 8})
    if g.reference is not None:
        ax.plot([g.at(REFERENCE_AT)], [max(g.reference, y0)], clip_on=False, zorder=4, gid=f"reference:{g.key}",
                **REFERENCE_STYLE)
    return {"below": below, "mean_below": mean is not None and mean < y0,
            "reference_below": g.reference is not None and g.reference < y0}


def _below_note(g: _Group, drawn: dict, reference_label: str) -> str:
    """'std-0.01: 4 of 5 runs failed to learn, mean 0.28, 2018 report: 0.098': what of the
    group lies below panel (a)'s axis ('' if nothing)."""
    below = drawn["below"]
    if not below and not drawn["mean_below"] and not drawn["reference_below"]:
        return ""
    parts = []
    if below:
        diverged = sum(1 for _, r in below if r["status"] == DIVERGED or not math.isfinite(r["test_accuracy"]))
        failed = len(below) - diverged
        runs = f"of {len(g.values)} {'run' if len(g.values) == 1 else 'runs'}"
        if failed and diverged:
            parts.append(f"{len(below)} {runs} below: {failed} failed to learn, {diverged} diverged (at chance)")
        else:
            parts.append(f"{failed} {runs} failed to learn" if failed else f"{diverged} {runs} diverged (at chance)")
    if drawn["mean_below"]:
        parts.append(f"mean {g.ci.mean:.2f}")
    if drawn["reference_below"]:
        parts.append(f"{reference_label}: {g.reference:g}")
    return f"{g.key}: " + ", ".join(parts)


def _layout(fig) -> None:
    """Lay the figure out as it will be saved (CJK texts in their font first: :func:`report.style._save`)."""
    _cjk_fonts(fig)
    fig.draw_without_rendering()


def _literal(legend):
    """The legend's labels and title print as written (no mathtext)."""
    for t in legend.get_texts() + [legend.get_title()]:
        t.set_parse_math(False)
    return legend


def _ticks_apart(fig, axes) -> None:
    """Slant the x tick labels of an axes whose neighbouring labels would touch (lays the figure out)."""
    _layout(fig)
    for ax in axes:
        labels = sorted((t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()),
                        key=lambda t: t.get_window_extent().x0)
        boxes = [t.get_window_extent() for t in labels]
        if any(a.x1 + 3 > b.x0 for a, b in zip(boxes, boxes[1:])):
            for t in labels:
                t.set_rotation(35)
                t.set_horizontalalignment("right")
                t.set_rotation_mode("anchor")


def _curve_panel(ax, series: dict, names: list[str], looks: dict, last: float, ylabel: str, title: str) -> None:
    """Panels (c) and (d) of :func:`plot_experiment`: each variant's mean over its runs (with
    its min-max band) against the epoch, on a log axis."""
    for v in names:
        if v in series and series[v].x.size:
            _draw_mean(ax, series[v], looks[v].colour, v, linestyle=looks[v].linestyle, linewidth=1.0)
    _log_y(ax)
    ax.set_xlim(0, last)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    ax.grid(True, which="major", alpha=0.3)


def plot_experiment(spec: dict, curves_csv, run_tables: dict, png, style: dict | None = None) -> dict:
    """An experiment's figure: 2 x 2 panels, printed at the text width (``PRINTED_WIDTH['experiment']``).

    ``spec``: ``{"title", "experiment", "variants": [{"name", "label", "value"}] (config order),
    "axis": {"key", "label"} or None, "free_points": [{"value", "experiment", "variant"}],
    "reference": {variant: 2018 accuracy}, "reference_label"}``. ``curves_csv``: the
    experiment's curves (``summary/curves/{experiment}.csv``). ``run_tables``: ``{experiment:
    path}`` of run tables (``cnnlib.results.RUNS_COLUMNS``): the experiment's own and those
    the free points come from.

    (a) top left: the final test accuracy of every run (a diverged run at chance, 1/classes),
        a point per run spread a little sideways by seed, beside them the mean over all runs
        with its 95% t-interval (:func:`report.stats.mean_ci`), the 2018 value as a hollow
        diamond. Against the swept value when there is an ``axis`` (log when every value is
        > 0 and they span a factor of 10 or more), variants without a number in slots right of
        it; else one slot per variant. Free points: the runs of another experiment at another
        value, grey. The y axis is fitted to the runs that learned; the others sit as triangles
        on its bottom edge, counted in a note; a mean below it is an arrow at the edge.
    (b) top right: test accuracy against epoch, mean over all runs per variant (faded where
        fewer runs count: the others diverged) and min-max band, from chance level (or the
        lowest value, if lower) up, so the first evaluation and the rise show; beside it the
        last epoch zoomed, its y axis fitted to the runs that learned.
    (c) bottom left: training loss (each run's batch loss, centred moving average of
        :func:`report.curves.smoothing_window` iterations) against epoch, mean and band, log y.
    (d) bottom right: the learning rate against epoch (mean and band, log y) when a variant's
        learning rate changes during a run; then the legend and notes go below the panels.
        Otherwise this cell holds them.

    Returns ``{"colours": {variant: colour}, "points": {variant: [final accuracy per run, seed
    order]}, "means": {variant: mean}, "log_x": bool, "below": {variant: runs drawn at the
    bottom edge}, "colour_names": {variant: 'blue'}, "lr_panel": bool}``.
    """
    spec = _check_spec(spec)
    st = resolve_style(style, *EXPERIMENT_SIZE, font_size=EXPERIMENT_FONT)
    names = [v["name"] for v in spec["variants"]]
    looks = variant_looks(names, st["palette"])
    paths = dict(run_tables)
    tables = {e: read_run_table(p) for e, p in paths.items()}
    experiment = spec["experiment"]

    # (a): what goes where
    groups = [_Group(v["name"], v["label"], _runs_of(tables, experiment, v["name"], paths), looks[v["name"]].colour,
                     looks[v["name"]].marker, v["value"], spec["reference"].get(v["name"]))
              for v in spec["variants"]]
    free = [_Group(f"{fp['experiment']}/{fp['variant']}", f"{fp['experiment']}/{fp['variant']}",
                   _runs_of(tables, fp["experiment"], fp["variant"], paths), OTHER_COLOUR, "o", fp["value"], free=True)
            for fp in spec["free_points"]]
    numeric = [g for g in groups if spec["axis"] is not None and g.value is not None] + free
    slots = [g for g in groups if g not in numeric]
    values = [g.value for g in numeric]
    log_x = bool(values) and min(values) > 0 and max(values) >= LOG_FACTOR * min(values)
    y0, y1, _ = _accuracy_limits(groups + free)

    # (b)-(d): the curves
    curves = read_curves(curves_csv, ("variant", "seed", "series", "iteration", "epoch", "loss", "accuracy", "lr",
                                      "images"))
    train_all = {"epoch": curves["epoch"][curves["series"] == "train"],
                 "iteration": curves["iteration"][curves["series"] == "train"]}
    window = smoothing_window(iterations_per_epoch(train_all["iteration"], train_all["epoch"]))
    acc, loss, lr, schedule = {}, {}, {}, False
    zoom_values = []
    last = 0.0
    learned_seeds = {g.key: {r["seed"] for r in g.runs if r["learned"]} for g in groups}
    for v in names:
        test, train = select(curves, v, "test"), select(curves, v, "train")
        if test["epoch"].size:
            acc[v] = mean_curve(test["epoch"], test["accuracy"], test["seed"])
            last = max(last, float(np.nanmax(test["epoch"])))
        if train["epoch"].size:
            loss[v] = train_loss_curve(train, "epoch", window)
            lr[v] = mean_curve(train["epoch"], train["lr"], train["seed"])
            last = max(last, float(np.nanmax(train["epoch"])))
            for s in np.unique(train["seed"]):
                rates = train["lr"][(train["seed"] == s) & np.isfinite(train["lr"])]
                schedule = schedule or (rates.size > 1 and rates.max() > rates.min() * (1 + 1e-9))
    last = last or 1.0
    zoom_from = max(0.0, last - 1.0)
    for v in names:
        test = select(curves, v, "test")
        keep = np.array([_seed_key(s) in learned_seeds[v] for s in test["seed"]], dtype=bool)
        late = keep & (test["epoch"] >= zoom_from - 1e-9) & np.isfinite(test["accuracy"])
        zoom_values += test["accuracy"][late].tolist()
    chance = min(r["chance"] for g in groups for r in g.runs)
    classes = round(1 / chance)
    faded = any((c.count < c.count.max()).any() for d in (acc, loss) for c in d.values() if c.count.size)
    subset = _subset_note({"images": curves["images"][curves["series"] == "test"]})
    counts = sorted({len(g.runs) for g in groups})

    with _Render(st, "constrained") as fig:
        font = st["font_size"]
        # one grid (nested grids give the rows unequal heights): (a) and its slots | (b) and its zoom
        # above (c) | (d); each half of the figure is HALF wide in width-ratio units
        half = ZOOM_RATIO + 1.0
        panel_a = []
        if numeric and slots:
            width = 72 * (st["width"] / 2 - 0.6)  # points of (a)'s axes, about
            slot = max(max(_text_points(g.label, font) for g in slots) + 8, 40.0) * len(slots)
            share = min(max(slot / width, 0.15), 0.5)
            grid = fig.add_gridspec(2, 4, width_ratios=[half * (1 - share), half * share, 1.0, ZOOM_RATIO])
            ax_a = fig.add_subplot(grid[0, 0])
            ax_s = fig.add_subplot(grid[0, 1], sharey=ax_a)
            panel_a = [ax_a, ax_s]
            left, b_at = slice(0, 2), 2
        else:
            grid = fig.add_gridspec(2, 3, width_ratios=[half, 1.0, ZOOM_RATIO])
            ax_a = fig.add_subplot(grid[0, 0])
            ax_s = ax_a if not numeric else None
            panel_a = [ax_a]
            left, b_at = 0, 1
        if numeric:
            u, limits, span = _place(numeric, log_x)
            if log_x:
                ax_a.set_xscale("log")
            ax_a.set_xlim(*limits)
            ticked = [g for g in groups if g in numeric]
            ax_a.xaxis.set_major_locator(FixedLocator([g.value for g in ticked]))
            ax_a.set_xticks([g.value for g in ticked], [g.label for g in ticked], parse_math=False)
            ax_a.xaxis.set_minor_locator(FixedLocator(sorted({g.value for g in free})) if free else NullLocator())
            ax_a.xaxis.set_minor_formatter(NullFormatter())
            ax_a.set_xlabel(spec["axis"]["label"] + (" (log scale)" if log_x else ""), parse_math=False)
        if slots:
            for i, g in enumerate(slots):
                g.x, g.u, g.log = float(i), 1.0, False
            ax_s.set_xlim(-SLOT_MARGIN, len(slots) - 1 + SLOT_MARGIN)
            ax_s.set_xticks(range(len(slots)), [g.label for g in slots], parse_math=False)
            ax_s.xaxis.set_minor_locator(NullLocator())
            if ax_s is not ax_a:
                ax_s.tick_params(axis="y", left=False, labelleft=False)
            elif spec["axis"] is not None:
                ax_a.set_xlabel(spec["axis"]["label"], parse_math=False)
        ax_a.set_ylim(y0, y1)
        notes_a = []
        below = {}
        runs_below = False
        for g in groups + free:
            drawn = _draw_group(ax_s if g in slots else ax_a, g, y0)
            runs_below = runs_below or bool(drawn["below"])
            if not g.free:
                below[g.key] = len(drawn["below"])
            note = _below_note(g, drawn, spec["reference_label"])
            if note:
                notes_a.append(note)
        if not any(r["learned"] for g in groups + free for r in g.runs):
            ax_a.text(0.5, 0.5, "no run learned", transform=ax_a.transAxes, ha="center", va="center")
        ax_a.set_ylabel("final test accuracy")
        ax_a.set_title("(a) final test accuracy, every run", loc="left", parse_math=False)
        for a in panel_a:
            a.grid(True, axis="y", alpha=0.3)

        # (b): test accuracy over training, and the last epoch zoomed
        ax_b = fig.add_subplot(grid[0, b_at])
        ax_z = fig.add_subplot(grid[0, b_at + 1])
        for v in names:
            if v in acc:
                _draw_mean(ax_b, acc[v], looks[v].colour, v, linestyle=looks[v].linestyle, linewidth=1.2)
                ax_z.plot(acc[v].x, acc[v].mean, color=looks[v].colour, linestyle=looks[v].linestyle, linewidth=1.2,
                          marker=looks[v].marker, markersize=2.5)
        ax_b.axhline(chance, color=CHANCE_COLOUR, linestyle=":", linewidth=1.0)
        ax_b.annotate(f"chance (1/{classes})", xy=(1, chance), xycoords=("axes fraction", "data"), xytext=(-2, 1.5),
                      textcoords="offset points", ha="right", va="bottom", color=CHANCE_COLOUR)
        lows = [float(np.nanmin(c.low)) for c in acc.values() if c.x.size]
        highs = [float(np.nanmax(c.high)) for c in acc.values() if c.x.size]
        bottom = min([chance] + lows)
        top = max(highs) if highs else 1.0
        ax_b.set_ylim(max(0.0, bottom - 0.04 * (top - bottom)), min(1.0, top + 0.04 * (top - bottom)))
        ax_b.set_xlim(0, last)
        ax_b.axvspan(zoom_from, last, color="0.9", linewidth=0, zorder=0)
        ax_b.set_xlabel("epoch")
        ax_b.set_ylabel("test accuracy")
        ax_b.set_title("(b) test accuracy", loc="left")
        ax_z.set_xlim(zoom_from, last)
        ax_z.set_xticks([zoom_from, last], [_value_text(zoom_from), _value_text(last)])
        if zoom_values:
            lo, hi = min(zoom_values), max(zoom_values)
            pad = max(0.08 * (hi - lo), 0.002)
            z0, z1 = max(0.0, lo - pad), min(1.0, hi + pad)
            ax_z.set_ylim(z0, z1)
            for v in names:  # a mean below the zoom (runs that failed pull it down): a triangle at the edge
                if v in acc and acc[v].x.size and acc[v].mean[-1] < z0:
                    ax_z.plot([last], [z0], marker="v", markersize=POINT_SIZE + 1, color=looks[v].colour,
                              clip_on=False, linestyle="none", zorder=3)
        ax_z.yaxis.tick_right()
        ax_z.set_title("last epoch", loc="right")
        for a in (ax_b, ax_z):
            a.grid(True, alpha=0.3)

        # (c): training loss, always log
        _curve_panel(fig.add_subplot(grid[1, left]), loss, names, looks, last, "training loss", "(c) training loss")

        # the legend: the variants (above the panels), what the marks mean and notes
        variant_handles = [Line2D([], [], color=looks[v].colour, linestyle=looks[v].linestyle,
                                  marker=looks[v].marker, markersize=POINT_SIZE, label=v) for v in names]
        mark_handles = [Line2D([], [], color=NOTE_GREY, marker="o", markersize=POINT_SIZE, linestyle="none",
                               label="(a) a run"),
                        Line2D([], [], color=NOTE_GREY, marker="_", markersize=9, markeredgewidth=1.5,
                               linestyle="none", label="(a) mean, 95% t-interval")]
        if any(g.reference is not None for g in groups):
            mark_handles.append(Line2D([], [], label=spec["reference_label"], **REFERENCE_STYLE))
        for g in free:
            mark_handles.append(Line2D([], [], color=OTHER_COLOUR, marker="o", markersize=POINT_SIZE,
                                       linestyle="none", label=f"other experiment:\n{g.label} at {g.value:g}"))
        if runs_below:
            mark_handles.append(Line2D([], [], color=NOTE_GREY, marker="v", markersize=POINT_SIZE + 1.5,
                                       linestyle="none", label="(a) runs below the axis"))
        seeds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        notes = [f"lines: mean of {seeds} runs per variant, bands: min-max"]
        if window > 1:
            notes.append(f"(c) moving average of {window} iterations")
        if faded:
            notes.append("faded: mean of fewer runs (others diverged)")
        if subset:
            notes.append(subset)
        notes += [f"(a) {n}" for n in notes_a]
        # the title above the variants' legend (a suptitle and a legend above the axes would overlap)
        legends = [_literal(fig.legend(handles=variant_handles, loc="outside upper center", frameon=False,
                                       ncols=_columns(variant_handles, 72 * st["width"] - 10, font),
                                       title=spec["title"], title_fontsize="large", borderaxespad=0.2))]
        ax_d = fig.add_subplot(grid[1, b_at:])
        if schedule:  # (d): the learning rate
            _curve_panel(ax_d, lr, names, looks, last, "learning rate", "(d) learning rate")
            legends.append(_literal(fig.legend(
                handles=mark_handles, loc="outside lower center", frameon=False, alignment="left",
                ncols=_columns(mark_handles, 72 * st["width"] - 10, font),
                title=_lines(notes, 72 * st["width"] - 20, font, join=True))))
        else:  # (d): the legend and the notes
            ax_d.axis("off")
            _ticks_apart(fig, panel_a)  # lays the figure out: the legend fits between the cell and the edge
            room = (fig.bbox.x1 - ax_d.get_window_extent().x0) * 72 / fig.dpi - 2 * font  # less the legend's pads
            legends.append(_literal(ax_d.legend(handles=mark_handles, loc="upper left", frameon=False,
                                                ncols=_columns(mark_handles, room, font),
                                                title=_lines(notes, room, font), alignment="left", borderaxespad=0,
                                                labelspacing=0.35)))
            legends[-1].set_in_layout(False)  # sized to the cell: it must not squeeze panel (c)
        if schedule:
            _ticks_apart(fig, panel_a)
        else:
            _fit_height(fig, legends[-1])
        _save(fig, png, st["dpi"])

    return {"colours": {v: looks[v].colour for v in names},
            "points": {g.key: list(g.values) for g in groups},
            "means": {g.key: g.ci.mean for g in groups},
            "log_x": log_x,
            "below": below,
            "colour_names": {v: colour_name(looks[v]) for v in names},
            "lr_panel": schedule}


def _log_y(ax) -> None:
    """A log y axis (call it once the data are drawn) whose tick labels are plain numbers (0.1,
    2); when it spans less than two decades, the 2s and 5s between are labelled too, every
    one below half a decade."""
    ax.set_yscale("log")
    lo, hi = ax.get_ylim()
    decades = math.log10(hi / lo) if lo > 0 and hi > lo else 0.0
    shown = set(range(2, 10)) if decades < 0.5 else {2, 5} if decades < 2 else set()

    def plain(y, _):
        return f"{y:g}"

    def between(y, _):
        mantissa = round(y / 10 ** math.floor(math.log10(y) + 1e-9), 6)
        return f"{y:g}" if mantissa in shown else ""

    ax.yaxis.set_major_formatter(FuncFormatter(plain))
    ax.yaxis.set_minor_formatter(FuncFormatter(between))


def _fit_height(fig, legend, tries: int = 4) -> None:
    """Make the figure taller until ``legend`` (placed in an axes, outside the layout) ends
    above its bottom edge (many notes: runs below the axis in several variants)."""
    for _ in range(tries):
        _layout(fig)
        box = legend.get_window_extent()
        short = fig.bbox.y0 + 6 - box.y0  # pixels past (or too near) the bottom edge
        if short <= 0:
            return
        # the legend hangs from its axes, which move up by the share of the figure below its top
        share = max((box.y1 - fig.bbox.y0) / fig.bbox.height, 0.2)
        fig.set_size_inches(fig.get_figwidth(), fig.get_figheight() + short / share / fig.dpi + 0.02)


def _lines(notes: list[str], width: float, font: float, join: bool = False) -> str:
    """The notes as lines of at most ``width`` points, broken between words (a note's next line
    indented); ``join``: a note goes on the line of the one before when it fits ('; ')."""
    def fits(text):
        return _text_points(text, font) <= width

    lines: list[str] = []
    for note in notes:
        first, *rest = note.split(" ")
        if join and lines and fits(f"{lines[-1]}; {first}"):
            lines[-1] = f"{lines[-1]}; {first}"
        else:
            lines.append(first)
        for word in rest:
            if fits(f"{lines[-1]} {word}"):
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(f"   {word}")
    return "\n".join(lines)


def _columns(handles, width: float, font: float) -> int:
    """The most legend columns (filled column by column, as matplotlib does) whose labels fit
    ``width`` points side by side; at least 1."""
    widths = [_text_points(h.get_label(), font) + 6 * font for h in handles]
    for ncols in range(len(widths), 1, -1):
        rows = -(-len(widths) // ncols)
        if sum(max(widths[i:i + rows]) for i in range(0, len(widths), rows)) <= width:
            return ncols
    return 1


# --------------------------------------------------------------------------- the final accuracy of every run, by group

SEEDS_JITTER = 0.12  # half-width of the spread of one group's points (x units: 1 per group)
SEEDS_POINTS_AT = -0.1  # points left of the group's tick, the mean and interval right of it
SEEDS_MEAN_AT = 0.22
SEEDS_GAP = 4.0  # points between neighbouring labels at least
# the failure band (accuracy units): failed runs at their accuracy in [0, FAILED_BELOW),
# diverged ones (no accuracy) at a fixed place below 0, the count per group above
BAND_DIVERGED = -0.25 * FAILED_BELOW
BAND_COUNT = 1.55 * FAILED_BELOW
BAND_LIMITS = (-0.5 * FAILED_BELOW, 2.1 * FAILED_BELOW)
FAILED_MARKER, DIVERGED_MARKER = "x", "v"


def _check_groups(groups) -> list[dict]:
    out = []
    for i, g in enumerate(groups):
        if not isinstance(g, dict) or any(not isinstance(g.get(k), str) or not g.get(k)
                                          for k in ("label", "experiment", "variant", "colour_key")):
            raise ValueError(f"group {i}: need a dict with text 'label', 'experiment', 'variant' and "
                             f"'colour_key', got {g!r}")
        out.append({k: g[k] for k in ("label", "experiment", "variant", "colour_key")})
    if not out:
        raise ValueError("no groups to plot")
    labels = [g["label"] for g in out]
    if len(set(labels)) != len(labels):
        raise ValueError(f"group labels repeat: {labels}")
    keys = [(g["experiment"], g["variant"]) for g in out]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a variant is in two groups: {keys}")
    return out


def _blocks(labels: list[str]) -> list[tuple[str, int, int]] | None:
    """Two-line labels whose neighbours share the first line: ``[(first line, start, stop)]``
    (runs of neighbours), else None."""
    parts = [label.split("\n", 1) for label in labels]
    if any(len(p) < 2 for p in parts):
        return None
    out = []
    for i, (head, _) in enumerate(parts):
        if out and out[-1][0] == head:
            out[-1] = (head, out[-1][1], i + 1)
        else:
            out.append((head, i, i + 1))
    return out if len(out) < len(labels) else None


def _seed_order(r: dict):
    try:
        return (0, float(r["seed"]), r["seed"])
    except ValueError:
        return (1, 0.0, r["seed"])


def plot_seeds(run_tables, groups, png, title: str, style: dict | None = None) -> dict:
    """The final test accuracy of every run, one column of points per group, and the mean with
    its 95% t-interval beside them.

    ``run_tables``: paths of per-experiment run tables (``cnnlib.results.RUNS_COLUMNS``).
    ``groups``: ``[{"label", "experiment", "variant", "colour_key"}]`` in display order: the
    runs of ``experiment``/``variant``, labelled ``label`` on the x axis (may be two lines),
    coloured by ``colour_key`` (:func:`report.style.variant_looks`: by the key's position among
    the groups' keys in order of first appearance, so an experiment's variants in config order
    get the colours of its :func:`plot_experiment`; past the palette, other point markers). When
    neighbouring two-line labels share their first line, it is printed once above their block
    (``"std-0.1\\nframework"``, ``"std-0.1\\nuncentred"``).

    Points: the runs that learned (:func:`cnnlib.results.learned`), spread sideways by seed
    (the same seed rank always at the same place) so that equal values stay visible. Mean
    and interval (:func:`report.stats.mean_ci`) are over those runs only; the y axis is fitted
    to their accuracies (an interval running beyond it ends in an arrow at the edge). The
    runs that failed are in a band below, never in the mean: an 'x' at the accuracy of a run
    below 0.2, a triangle below 0 for a run without one (diverged), and the count per group
    ('2/5 failed').

    Returns ``{label: {experiment, variant, colour, colour_name, runs, learned, failed, diverged,
    mean, ci_low, ci_high}}`` (None where not defined): what is drawn.
    """
    st = resolve_style(style, *SEEDS_SIZE)
    groups = _check_groups(groups)
    if isinstance(run_tables, (str, Path)):
        run_tables = [run_tables]
    rows = [r for path in run_tables for r in read_run_table(path)]
    keys = list(dict.fromkeys(g["colour_key"] for g in groups))
    colours = variant_looks(keys, st["palette"])

    drawn, runs_of = {}, {}
    for g in groups:
        runs = sorted((r for r in rows if (r["experiment"], r["variant"]) == (g["experiment"], g["variant"])),
                      key=_seed_order)
        if not runs:
            raise ValueError(f"group {g['label']!r}: no runs of {g['experiment']}/{g['variant']} in "
                             f"{', '.join(str(p) for p in run_tables)}")
        seeds = [r["seed"] for r in runs]
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"{g['experiment']}/{g['variant']}: seeds repeat in the run tables: {seeds}")
        ci = mean_ci([r["test_accuracy"] for r in runs if r["learned"]])
        failed = [r for r in runs if not r["learned"]]
        drawn[g["label"]] = {
            "experiment": g["experiment"], "variant": g["variant"], "colour": colours[g["colour_key"]].colour,
            "colour_name": colour_name(colours[g["colour_key"]]),
            "runs": len(runs), "learned": ci.n, "failed": len(failed),
            "diverged": sum(1 for r in failed if _no_accuracy(r)),
            "mean": ci.mean, "ci_low": ci.ci_low, "ci_high": ci.ci_high,
        }
        runs_of[g["label"]] = runs

    n_groups = len(groups)
    font = st["font_size"]
    per_group = max(st["width"] - AXES_MARGIN, 0.5) * 72 / n_groups  # points of axes width per group
    blocks = _blocks([g["label"] for g in groups])
    ticks = [g["label"].split("\n", 1)[1] if blocks else g["label"] for g in groups]
    with _Render(st, "constrained") as fig:
        widths = [_text_points(t, font) for t in ticks]  # neighbours must not touch
        rotate = any(a + b > 2 * (per_group - SEEDS_GAP) for a, b in zip(widths, widths[1:])) or \
            widths[0] > 2 * per_group
        ax, band = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
        values = []
        seen = {"failed": False, "diverged": False, "clipped": False}
        for i, g in enumerate(groups):
            d, runs = drawn[g["label"]], runs_of[g["label"]]
            hexcode, marker = colours[g["colour_key"]].colour, colours[g["colour_key"]].marker
            n = len(runs)
            xs = [i + SEEDS_POINTS_AT + (SEEDS_JITTER * (2 * k / (n - 1) - 1) if n > 1 else 0.0) for k in range(n)]
            good = [(x, r["test_accuracy"]) for x, r in zip(xs, runs) if r["learned"]]
            low = [(x, r["test_accuracy"]) for x, r in zip(xs, runs) if not r["learned"] and not _no_accuracy(r)]
            gone = [x for x, r in zip(xs, runs) if not r["learned"] and _no_accuracy(r)]
            if good:
                ax.plot([x for x, _ in good], [y for _, y in good], linestyle="none", marker=marker,
                        markersize=4, color=hexcode, alpha=0.8, markeredgewidth=0)
                values += [y for _, y in good]
            if d["mean"] is not None:
                lo = d["ci_low"] if d["ci_low"] is not None else d["mean"]
                hi = d["ci_high"] if d["ci_high"] is not None else d["mean"]
                ax.errorbar([i + SEEDS_MEAN_AT], [d["mean"]], yerr=[[d["mean"] - lo], [hi - d["mean"]]],
                            color=hexcode, marker="_", markersize=9, markeredgewidth=1.5, capsize=2.5,
                            linewidth=1.2, gid=f"mean:{i}")
            if low:
                band.plot([x for x, _ in low], [max(0.0, min(y, FAILED_BELOW)) for _, y in low], linestyle="none",
                          marker=FAILED_MARKER, markersize=5, color=hexcode)
            if gone:
                band.plot(gone, [BAND_DIVERGED] * len(gone), linestyle="none", marker=DIVERGED_MARKER,
                          markersize=4, color=hexcode)
            if d["failed"]:
                seen["failed"] = True
                seen["diverged"] = seen["diverged"] or bool(gone)
                text = f"{d['failed']}/{n} failed"
                if _text_points(text, font) > per_group - SEEDS_GAP:
                    text = f"{d['failed']}/{n}"
                band.text(i, BAND_COUNT, text, ha="center", va="center", parse_math=False)

        # the y axis: the runs that learned, with a little room; never the failed ones
        if values:
            lo, hi = min(values), max(values)
            pad = max(0.1 * (hi - lo), 0.005)
            ax.set_ylim(max(0.0, lo - pad), min(1.0, hi + pad))
        else:
            ax.set_ylim(FAILED_BELOW, 1.0)
            ax.text(0.5, 0.5, "no run learned", transform=ax.transAxes, ha="center", va="center")
        y0, y1 = ax.get_ylim()
        for i, g in enumerate(groups):  # an interval running off the axis ends in an arrow at the edge
            d = drawn[g["label"]]
            for end, edge, marker in ((d["ci_high"], y1, "^"), (d["ci_low"], y0, "v")):
                if end is not None and (end > edge if marker == "^" else end < edge):
                    seen["clipped"] = True
                    ax.plot([i + SEEDS_MEAN_AT], [edge], marker=marker, markersize=4, clip_on=False,
                            color=colours[g["colour_key"]].colour, linestyle="none")

        ax.set_title(_title(title, "every run", st), parse_math=False)
        ax.set_ylabel("final test accuracy")
        ax.grid(True, axis="y", alpha=0.3)
        ax.tick_params(axis="x", bottom=False)
        ax.set_xlim(-0.5, n_groups - 0.5)
        if blocks:  # the shared first lines above their blocks, the blocks apart
            top = ax.secondary_xaxis("top")
            top.set_xticks([(start + stop - 1) / 2 for _, start, stop in blocks],
                           [head for head, _, _ in blocks], parse_math=False)
            top.tick_params(axis="x", length=0)
            for _, start, _ in blocks[1:]:
                for a in (ax, band):
                    a.axvline(start - 0.5, color="grey", linewidth=0.6)

        band.set_ylim(*BAND_LIMITS)
        band.axhline(FAILED_BELOW, color="grey", linewidth=0.5, linestyle="--")
        band.set_yticks([0.0, FAILED_BELOW], ["0", f"{FAILED_BELOW:g}"])
        band.set_ylabel(f"failed\n(< {FAILED_BELOW:g})", rotation=0, ha="right", va="center")
        if not seen["failed"]:
            band.text(0.5, 0.5, "no run failed", transform=band.transAxes, ha="center", va="center", color="grey")
        band.set_xticks(range(n_groups), ticks, parse_math=False)
        if rotate:  # slanted, each label ending under its column: readable without turning the page
            band.tick_params(axis="x", labelrotation=40)
            for label in band.get_xticklabels():
                label.set_horizontalalignment("right")
                label.set_rotation_mode("anchor")
        fig.align_ylabels([ax, band])

        grey = "#555555"
        handles = [Line2D([], [], color=grey, marker="o", markersize=4, linestyle="none", label="a run that learned"),
                   Line2D([], [], color=grey, marker="_", markersize=9, markeredgewidth=1.5,
                          label="mean, 95% t-interval")]
        if seen["clipped"]:
            handles.append(Line2D([], [], color=grey, marker="^", markersize=4, linestyle="none",
                                  label="interval goes beyond"))
        if seen["failed"]:
            handles.append(Line2D([], [], color=grey, marker=FAILED_MARKER, markersize=5, linestyle="none",
                                  label=f"failed: accuracy < {FAILED_BELOW:g}"))
        if seen["diverged"]:
            handles.append(Line2D([], [], color=grey, marker=DIVERGED_MARKER, markersize=4, linestyle="none",
                                  label="failed: diverged"))
        _legend(fig, handles)
        _save(fig, png, st["dpi"])
    return drawn


def _no_accuracy(r: dict) -> bool:
    """A run without a final accuracy to place: diverged, or none recorded."""
    return r["diverged"] or not r["test_accuracy"] >= 0


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
                    ax.set_title(name)
        fig.suptitle(f"First conv layer feature maps ({what}; grey scale per map)", fontsize="medium")
        fig.tight_layout()
        return _save(fig, png, st["dpi"])


# --------------------------------------------------------------------------- one entry for every figure


def axis_value(value):
    """A sweep value as a number on a figure's axis (a one-number list - a layer width - too)."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def experiment_spec(subject: dict) -> dict:
    """:func:`plot_experiment`'s ``spec`` from a figure's subject (see :func:`draw`)."""
    from report.sections.common import setting_name

    e = subject["experiment"]
    variants = [{"name": v["name"], "label": v["label"], "value": axis_value(v["value"])} for v in e["variants"]]
    axis = ({"key": e["sweep_key"], "label": setting_name(e["sweep_key"])}
            if e["sweep_key"] and any(v["value"] is not None for v in variants) else None)
    return {"title": e["title"], "experiment": e["key"], "variants": variants, "axis": axis,
            "free_points": e["free_points"], "reference": subject.get("reference") or {},
            "reference_label": "2018 report"}


def ablation_groups(subject: dict) -> list[dict]:
    """:func:`plot_seeds`' groups for the protocol ablation: per re-run variant (in order of first
    appearance) its own runs under the default reading, then its re-runs under each other
    reading, a reading keeping one colour throughout."""
    e = subject["experiment"]
    default = next(iter(subject["readings"]))
    origins: dict[tuple[str, str], list[dict]] = {}
    for v in e["variants"]:
        origins.setdefault(tuple(v["origin"]), []).append(v)
    groups = []
    for (origin, name), variants in origins.items():
        groups.append({"label": f"{name}\n{default}", "experiment": origin, "variant": name, "colour_key": default})
        groups += [{"label": f"{name}\n{v['reading']}", "experiment": e["key"], "variant": v["name"],
                    "colour_key": v["reading"]} for v in variants]
    return groups


def _run_tables(paths) -> dict:
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    return {Path(p).stem: str(p) for p in paths}


#: Every kind of figure (``cnnlib.results.FIGURE_KINDS``): ``draw(inputs, subject, png, style)``.
PLOTS = {
    "experiment": lambda inputs, subject, png, style: plot_experiment(
        experiment_spec(subject), inputs["curves"], _run_tables(inputs["run_tables"]), png, style),
    "ablation": lambda inputs, subject, png, style: plot_seeds(
        list(_run_tables(inputs["run_tables"]).values()), ablation_groups(subject), png,
        subject["experiment"]["title"], style),
    "conv1": lambda inputs, subject, png, style: plot_conv1(inputs["visual"], png, style),
}


def draw(kind: str, inputs: dict, subject: dict, png, style: dict | None = None):
    """Draw one figure of the registry (``cnnlib.results.figures``).

    Args:
        kind: its kind, a key of :data:`PLOTS`.
        inputs: ``{input name: path or paths}`` (``cnnlib.results.FIGURE_INPUTS``).
        subject: ``{"experiment": the experiment as workflow.experiments.describe gives it (or
            None), "readings": the protocol readings, "reference": {variant: the 2018 value}}``.
    Returns what the plot drew (for the job's log).
    """
    if kind not in PLOTS:
        raise KeyError(f"figure kind {kind!r} has no plot in report.plots.PLOTS ({', '.join(PLOTS)})")
    return PLOTS[kind](inputs, subject, png, style)
