"""The report's figures, from the workflow's CSV/NPZ results (see :mod:`workflow.results`).

Every plot function writes one PNG (or two) atomically and byte-identically for the same
inputs (:mod:`report.style`). Where fewer seeds than the variant's maximum contribute to a
mean, it is drawn faded. Line styles tell apart variants that share a colour. Titles and
labels print literally (no mathtext: a ``$`` in a config title is a dollar sign).

Runs that failed (:func:`workflow.results.learned` is false: diverged, or a final test
accuracy below 0.2) never enter a mean, band or interval of the sweep figures
(:func:`plot_sweep`, :func:`plot_seeds`) and never stretch their accuracy axes; they are
drawn apart and counted.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.textpath import TextToPath

from report.curves import Curve, iterations_per_epoch, mean_curve, smoothing_window, train_loss_curve
from report.readers import int_cell, read_curves, read_summary, select, variants_in_order
from report.stats import mean_ci
from report.charset import needs_cjk
from report.style import (CONV1_PANEL, SEEDS_SIZE, SWEEP_SIZE, _Render, _save, cjk_families, colour_label,
                          colour_of, resolve_style)
from workflow.results import DIVERGED, FAILED_BELOW, learned

_TEXT_PATHS = TextToPath()
LOG_DECADES = 1.5  # log-scale y axis when the plotted values span more than this
BAND_ALPHA = 0.18
FADED = 0.4  # a mean over fewer seeds than the variant has (the others diverged)

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
    """'mid-epoch points: N-image test subset' if the test points used different sizes (two
    lines: one would run past a sweep figure's edge)."""
    images = test["images"][np.isfinite(test["images"])]
    sizes = np.unique(images)
    if sizes.size < 2:
        return ""
    return f"mid-epoch points: {int(sizes.min())} test images,\nepoch ends: all {int(sizes.max())}"


def _seed_count(rows: dict) -> int:
    return int(np.unique(rows["seed"]).size)


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
    """Rows of a per-experiment run table (``workflow.results.RUNS_COLUMNS``) with the fields
    the figures use: experiment, variant, seed (text), status, test_accuracy (float, NaN if
    none), learned (:func:`workflow.results.learned`) and diverged (status ``diverged``)."""
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
                    "learned": learned(row["status"], row["test_accuracy"]),
                    "diverged": row["status"] == DIVERGED})
    return out


def _failure_note(runs: list[dict]) -> str:
    """'2/5 failed' or '2/5 failed, 1 diverged' ('' if every run learned)."""
    failed = [r for r in runs if not r["learned"]]
    if not failed:
        return ""
    diverged = sum(r["diverged"] for r in failed)
    return f"{len(failed)}/{len(runs)} failed" + (f", {diverged} diverged" if diverged else "")


def _only_seeds(rows: dict, seeds) -> dict:
    keep = np.isin(np.array([_seed_key(s) for s in rows["seed"]], dtype=str), np.array(sorted(seeds), dtype=str))
    return {k: v[keep] for k, v in rows.items()}


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


# --------------------------------------------------------------------------- plots


def plot_sweep(summary_csv, curves_csv, accuracy_png, loss_png, title: str, style: dict | None = None,
               run_table=None) -> dict:
    """Two figures of a sweep: test accuracy and smoothed training loss vs epoch, one curve per variant.

    Accuracy: mean over seeds at each test evaluation, band = min..max over seeds.
    Loss: each seed's per-iteration batch loss smoothed by a centred moving average of
    :func:`smoothing_window` iterations (about 1/20 epoch), then mean (line) and min..max
    (band) over seeds; log y axis if the values span more than 1.5 decades.

    ``run_table``: the experiment's run table (``summary/runs/{experiment}.csv``). Means and
    bands of both figures are over the runs that *learned* (:func:`workflow.results.learned`)
    only; a run that failed (diverged, or final accuracy below 0.2) is drawn on its own as a
    thin dotted line in the loss figure, not at all in the accuracy figure (whose y axis is
    fitted to the runs that learned), and its variant's legend label says so
    ("std-1 (2/5 failed, not in the mean)"). Without a run table every run counts.
    Colours follow the summary's variant order (variants only in the curves file come
    after). Returns ``{variant: colour name}``.
    """
    st = resolve_style(style, *SWEEP_SIZE)
    summary = read_summary(summary_csv)
    curves = read_curves(curves_csv, ("variant", "seed", "series", "iteration", "epoch", "loss", "accuracy", "images"))
    order = [r["variant"] for r in summary]
    order += [v for v in variants_in_order(curves) if v not in order]
    colours = colour_of(order, st["palette"])
    info = {r["variant"]: r for r in summary}
    runs = _runs_by_variant(run_table, curves, order)

    acc_curves, loss_curves, failed_loss, notes = {}, {}, {}, ""
    windows = set()
    for v in order:
        good = {r["seed"] for r in runs[v] if r["learned"]}
        bad = [r["seed"] for r in runs[v] if not r["learned"]]
        test = _only_seeds(select(curves, v, "test"), good)
        train_all = select(curves, v, "train")
        train = _only_seeds(train_all, good)
        if test["epoch"].size:
            acc_curves[v] = mean_curve(test["epoch"], test["accuracy"], test["seed"])
            notes = notes or _subset_note(test)
        if train_all["epoch"].size:
            w = smoothing_window(iterations_per_epoch(train_all["iteration"], train_all["epoch"]))
            windows.add(w)
            if train["epoch"].size:
                loss_curves[v] = train_loss_curve(train, "epoch", w)
            failed_loss[v] = [c for c in (train_loss_curve(_only_seeds(train_all, {s}), "epoch", w) for s in bad)
                              if c.x.size]

    def label(v):
        if run_table is None:  # no run table: every run counts; the summary says which diverged
            row = info.get(v)
            d, r = (int_cell(row, "diverged"), int_cell(row, "runs")) if row else (0, 0)
            return f"{v} ({d}/{r} diverged)" if d else v
        note = _failure_note(runs[v])
        return f"{v} ({note}, not in the mean)" if note else v

    any_failed = any(not r["learned"] for v in order for r in runs[v])
    n = max((sum(r["learned"] for r in runs[v]) for v in order), default=0)

    # what line and band are: under the axis, in lines that fit the figure's width
    how = "line: mean, band: min-max\nover the runs that learned" if any_failed else \
        f"line: mean, band: min-max of {n} seeds"

    def finish(ax, fig, handles, any_dashed, xlabel="epoch", extra=()):
        ax.set_xlabel(xlabel)
        ax.grid(True, alpha=0.3)
        if any_dashed:
            why = "fewer seeds (rest diverged)" if run_table is None else "mean of fewer seeds"
            extra = [*extra, Line2D([], [], color="black", alpha=FADED, label=f"faded: {why}")]
        _legend(fig, handles, extra)

    def mean_or_empty(ax, c, v):
        line = colours[v][2][1]
        if c is None:  # every run of the variant failed: in the legend only
            return ax.plot([], [], color=colours[v][1], linestyle=line, label=label(v))[0]
        return _draw_mean(ax, c, colours[v][1], label(v), linestyle=line)

    # accuracy: the runs that learned
    with _Render(st, "constrained") as fig:
        ax = fig.add_subplot()
        handles = [mean_or_empty(ax, acc_curves.get(v), v) for v in order if v in acc_curves or runs[v]]
        dashed = any((c.count < c.count.max()).any() for c in acc_curves.values() if c.count.size)
        ax.set_title(_title(title, "test accuracy", st), parse_math=False)
        ax.set_ylabel("test accuracy")
        _fit_accuracy_axis(ax, list(acc_curves.values()))
        finish(ax, fig, handles, dashed, f"epoch\n{how}" + (f"\n{notes}" if notes else ""))
        _save(fig, accuracy_png, st["dpi"])

    # training loss: the runs that learned (mean, band), each run that failed (dotted)
    with _Render(st, "constrained") as fig:
        ax = fig.add_subplot()
        for v in order:
            for c in failed_loss.get(v, []):
                ax.plot(c.x, c.mean, color=colours[v][1], linestyle=":", linewidth=FAILED_LINE, zorder=1.5)
        handles = [mean_or_empty(ax, loss_curves.get(v), v) for v in order if v in loss_curves or runs[v]]
        dashed = any((c.count < c.count.max()).any() for c in loss_curves.values() if c.count.size)
        drawn_failed = [c for cs in failed_loss.values() for c in cs]
        if _log_axis(list(loss_curves.values()) + drawn_failed):
            ax.set_yscale("log")
        win = ", ".join(str(w) for w in sorted(windows)) or "1"
        smooth = ("not smoothed" if windows <= {1}
                  else f"centred moving average\nover {win} iterations, ~1/20 epoch")
        ax.set_title(_title(title, "training loss", st), parse_math=False)
        ax.set_ylabel("training batch loss")
        extra = [Line2D([], [], color="black", linestyle=":", linewidth=FAILED_LINE,
                        label="dotted: a run that failed")] if drawn_failed else []
        finish(ax, fig, handles, dashed, f"epoch\n{how}\n(loss {smooth})", extra)
        _save(fig, loss_png, st["dpi"])
    return {v: colour_label(colours[v]) for v in order}


FAILED_LINE = 0.8  # line width of a failed run's own loss curve


def _runs_by_variant(run_table, curves: dict, order: list[str]) -> dict[str, list[dict]]:
    """``{variant: rows of the run table}`` for the variants of a sweep. Without a run table,
    every seed in the curves file counts as a run that learned."""
    if run_table is None:
        out = {}
        for v in order:
            seeds = sorted({_seed_key(s) for s in curves["seed"][curves["variant"] == v]})
            out[v] = [{"variant": v, "seed": s, "learned": True, "diverged": False} for s in seeds]
        return out
    rows = read_run_table(run_table)
    out = {v: [r for r in rows if r["variant"] == v] for v in order}
    for v in order:
        in_curves = {_seed_key(s) for s in curves["seed"][curves["variant"] == v]}
        missing = sorted(in_curves - {r["seed"] for r in out[v]})
        if missing:
            raise ValueError(f"{run_table}: no row for variant {v} seed(s) {', '.join(missing)} of the curves; "
                             "the run table and the curves must come from the same summary")
    return out


FIT_FROM = 0.2  # the accuracy axis is fitted to the curves after this share of training


def _fit_accuracy_axis(ax, curves: list[Curve]) -> None:
    """Fit the y axis to where the curves end up (from 20% of training on), not to 0..1: the
    first evaluations, near chance, would squeeze curves 0.01 apart into one line."""
    lows, highs = [], []
    for c in curves:
        if c.x.size:
            late = c.x >= FIT_FROM * c.x.max()
            lows.append(np.nanmin(c.low[late]))
            highs.append(np.nanmax(c.high[late]))
    if not lows:
        return
    lo, hi = min(lows), max(highs)
    pad = max(0.1 * (hi - lo), 0.002)
    ax.set_ylim(max(0.0, lo - pad), min(1.0, hi + pad))


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
#: Point markers of groups whose colour keys share a colour (told apart by style, see colour_of).
POINT_MARKERS = {"solid": "o", "dashed": "s", "dotted": "P", "dash-dot": "h"}


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

    ``run_tables``: paths of per-experiment run tables (``workflow.results.RUNS_COLUMNS``).
    ``groups``: ``[{"label", "experiment", "variant", "colour_key"}]`` in display order: the
    runs of ``experiment``/``variant``, labelled ``label`` on the x axis (may be two lines),
    coloured by ``colour_key`` (:func:`report.style.colour_of`; keys that share a colour get
    other point markers). When neighbouring two-line labels share their first line, it is
    printed once above their block (``"std-0.1\\nframework"``, ``"std-0.1\\nuncentred"``).

    Points: the runs that learned (:func:`workflow.results.learned`), spread sideways by seed
    (the same seed rank always at the same place) so that equal values stay visible. Mean
    and interval (:func:`report.stats.mean_ci`) are over those runs only; the y axis is fitted
    to their accuracies (an interval running beyond it ends in an arrow at the edge). The
    runs that failed are in a band below, never in the mean: an 'x' at the accuracy of a run
    below 0.2, a triangle below 0 for a run without one (diverged), and the count per group
    ('2/5 failed').

    Returns ``{label: {experiment, variant, colour, runs, learned, failed, diverged, mean,
    ci_low, ci_high}}`` (None where not defined): what is drawn.
    """
    st = resolve_style(style, *SEEDS_SIZE)
    groups = _check_groups(groups)
    if isinstance(run_tables, (str, Path)):
        run_tables = [run_tables]
    rows = [r for path in run_tables for r in read_run_table(path)]
    keys = list(dict.fromkeys(g["colour_key"] for g in groups))
    colours = colour_of(keys, st["palette"])

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
            "experiment": g["experiment"], "variant": g["variant"], "colour": colour_label(colours[g["colour_key"]]),
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
            _, hexcode, (style_name, _) = colours[g["colour_key"]]
            n = len(runs)
            xs = [i + SEEDS_POINTS_AT + (SEEDS_JITTER * (2 * k / (n - 1) - 1) if n > 1 else 0.0) for k in range(n)]
            good = [(x, r["test_accuracy"]) for x, r in zip(xs, runs) if r["learned"]]
            low = [(x, r["test_accuracy"]) for x, r in zip(xs, runs) if not r["learned"] and not _no_accuracy(r)]
            gone = [x for x, r in zip(xs, runs) if not r["learned"] and _no_accuracy(r)]
            if good:
                ax.plot([x for x, _ in good], [y for _, y in good], linestyle="none", marker=POINT_MARKERS[style_name],
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
                            color=colours[g["colour_key"]][1], linestyle="none")

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


def _pick_variant(curves: dict, variant: str | None, path) -> str:
    names = variants_in_order(curves)
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
    test, train = select(curves, variant, "test"), select(curves, variant, "train")
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
        _legend(fig, [h_acc, h_loss])
        return _save(fig, png, st["dpi"])


def plot_lr_trace(curves_csv, variant: str, png, style: dict | None = None) -> Path:
    """Learning rate per iteration of one variant (mean and min-max band over seeds) and its
    smoothed training loss (mean over seeds, twin axis) vs iteration."""
    st = resolve_style(style)
    curves = read_curves(curves_csv, ("variant", "seed", "series", "iteration", "epoch", "loss", "lr"))
    variant = _pick_variant(curves, variant, curves_csv)
    train = select(curves, variant, "train")
    lr = mean_curve(train["iteration"], train["lr"], train["seed"])
    ipe = iterations_per_epoch(train["iteration"], train["epoch"])
    w = smoothing_window(ipe)
    loss = train_loss_curve(train, "iteration", w)
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
        _legend(fig, [h_lr, h_loss])
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
                    ax.set_title(name)
        fig.suptitle(f"First conv layer feature maps ({what}; grey scale per map)", fontsize="medium")
        fig.tight_layout()
        return _save(fig, png, st["dpi"])
