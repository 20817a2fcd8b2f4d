"""The 2018 report's numbers next to ours: which definition of its columns fits, which
protocol explains the gaps, and every gap named.

The 2018 numbers come from ``report/reference_2018.yaml`` (copied by hand from the report's
text; :func:`load_reference`). Ours are the per-run rows of ``runs.csv`` (one row per run,
every quantity of :data:`cnnlib.results.SUMMARY_QUANTITIES`).

Every 2018 row is ONE run. So a 2018 value is compared with the 95% *prediction interval
for a single new run* of the same variant (:func:`report.stats.prediction_interval`:
``mean +- t(0.975, n-1) * s * sqrt(1 + 1/n)``), not with our mean's confidence interval nor
our min-max range, over our completed runs in the same mode as the 2018 run (a 2018 run that
failed to learn against our runs that failed, one that learned against ours that learned: a
bimodal variant has no single interval), with at least :data:`MIN_RUNS` of them. A value
inside the interval is what a run of ours could plausibly have given.

What 2018's "loss" and "accuracy" columns are is not written in the report; the candidates
(:data:`DEFINITIONS`) are computed for every run from its history, and :func:`definition_fit`
counts for each how many of the 2018 rows fall inside their prediction interval. The
protocol readings (the framework's and the ablation's, :func:`protocol_fit`) are compared the
same way, on the 2018 rows each covers.

All functions are pure: they read nothing but their arguments (except
:func:`load_reference`, which reads its file) and write nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

from report import stats
from report.numbers import number as _number
from cnnlib.results import COMPLETED, DISPLAY_WINDOW, FAILED_BELOW, learned

#: Candidate definitions of the 2018 columns: our per-run quantity -> what it is.
DEFINITIONS: dict[str, dict[str, str]] = {
    "loss": {
        "train_loss": "the last training batch's loss",
        "train_loss_window": f"the mean batch loss of the last {DISPLAY_WINDOW} iterations",
        "test_loss": "the test loss at the end of training",
    },
    "accuracy": {
        "test_accuracy": "the final accuracy on the full test set",
        "train_accuracy_window": f"the mean batch accuracy of the last {DISPLAY_WINDOW} iterations",
        "best_test_accuracy": "the best full-test accuracy at an epoch end",
    },
}
REQUIRED_ROW_KEYS = ("experiment", "variant", "loss", "accuracy", "seconds", "epochs")

# --------------------------------------------------------------------------- the 2018 numbers


def load_reference(path: str | Path) -> dict:
    """Read and check the 2018 reference YAML (``report/reference_2018.yaml``).

    Returns the parsed document (a dict). Its ``rows`` are a list of dicts, one per row of the
    2018 result tables, each with at least:

    ``experiment``, ``variant`` (str)
        the workflow's experiment and variant names;
    ``loss``, ``accuracy``, ``seconds`` (numbers)
        the 2018 loss, accuracy (0..1) and time(second) columns;
    ``epochs`` (positive int)
        the epochs that row trained.

    Optional row keys: ``setting`` (the row label as printed), ``value``, ``color``.

    Raises:
        ValueError: the file is not a mapping with a non-empty ``rows`` list, or a row is
            not valid (the message names the file and the row: index, experiment/variant).
    """
    import yaml

    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return validate_reference(data, source=str(path))


def validate_reference(data, source: str = "reference") -> dict:
    """Check a parsed reference document (see :func:`load_reference`); return it unchanged."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: expected a mapping at the top, got {type(data).__name__}")
    rows = data.get("rows")
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{source}: `rows` must be a non-empty list of result rows")
    experiments = data.get("experiments")
    if experiments is not None and not isinstance(experiments, Mapping):
        raise ValueError(f"{source}: `experiments` must be a mapping")
    seen: dict[tuple[str, str], int] = {}
    for i, row in enumerate(rows):
        name = f"{source}: row {i}"
        if not isinstance(row, Mapping):
            raise ValueError(f"{name}: expected a mapping, got {type(row).__name__}")
        name += f" ({row.get('experiment', '?')}/{row.get('variant', '?')})"
        missing = [k for k in REQUIRED_ROW_KEYS if k not in row]
        if missing:
            raise ValueError(f"{name}: missing {', '.join(missing)}")
        for key in ("experiment", "variant"):
            if not isinstance(row[key], str) or not row[key].strip():
                raise ValueError(f"{name}: {key} must be a non-empty string, got {row[key]!r}")
        for key in ("loss", "accuracy", "seconds"):
            value = row[key]
            if not _is_number(value) or not math.isfinite(value):
                raise ValueError(f"{name}: {key} must be a finite number, got {value!r}")
        if row["loss"] < 0:
            raise ValueError(f"{name}: loss must be >= 0, got {row['loss']!r}")
        if not 0 <= row["accuracy"] <= 1:
            raise ValueError(f"{name}: accuracy must be within 0..1, got {row['accuracy']!r}")
        if row["seconds"] <= 0:
            raise ValueError(f"{name}: seconds must be > 0, got {row['seconds']!r}")
        epochs = row["epochs"]
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"{name}: epochs must be a positive integer, got {epochs!r}")
        key = (row["experiment"], row["variant"])
        if key in seen:
            raise ValueError(f"{name}: repeats row {seen[key]} (same experiment and variant)")
        seen[key] = i
        if experiments is not None:
            spec = experiments.get(row["experiment"])
            if spec is None:
                raise ValueError(f"{name}: experiment {row['experiment']!r} is not in `experiments`")
            if isinstance(spec, Mapping) and "epochs" in spec and spec["epochs"] != epochs:
                raise ValueError(
                    f"{name}: epochs {epochs} differs from experiments.{row['experiment']}.epochs "
                    f"{spec['epochs']}"
                )
    if "protocol" in data:
        _validate_protocol(data["protocol"], source)
    if "claims" in data:
        _validate_claims(data["claims"], source)
    return dict(data)


PROTOCOL_SOURCES = ("init_std", "linear_init_std", "pixels", "optimizer", "display")
#: What each kind of claim part needs (report/claims.py reads them).
PART_KEYS = {"compare": ("experiment", "a", "b", "quantity", "expect"), "same": ("experiment",),
             "trend": ("experiment", "variants", "quantity", "expect"), "limit": ("experiment",),
             "best": ("experiment", "variant"), "test_above_train": ("experiment", "variant"),
             "fact": ("experiment", "a", "b", "quantity", "expect"), "untestable": ("why",)}
EXPECT = {"compare": ("a_better", "b_better"), "fact": ("a_greater", "a_less"),
          "trend": ("increasing", "decreasing")}


def _validate_protocol(protocol, source: str) -> None:
    if not isinstance(protocol, Mapping) or not isinstance(protocol.get("framework"), str):
        raise ValueError(f"{source}: `protocol` must be a mapping with a `framework` text")
    sources = protocol.get("sources")
    missing = [k for k in PROTOCOL_SOURCES if not isinstance((sources or {}).get(k), str)]
    if not isinstance(sources, Mapping) or missing:
        raise ValueError(f"{source}: protocol.sources needs a text for each of {', '.join(PROTOCOL_SOURCES)}"
                         f" (missing: {', '.join(missing)})")


def _validate_claims(claims, source: str) -> None:
    from report.inference import HIGHER_IS_BETTER

    if not isinstance(claims, list):
        raise ValueError(f"{source}: `claims` must be a list")
    for i, claim in enumerate(claims):
        where = f"{source}: claims[{i}]"
        if not isinstance(claim, Mapping) or not isinstance(claim.get("quote"), str) or not claim["quote"].strip():
            raise ValueError(f"{where}: needs a `quote` (the 2018 text, verbatim)")
        parts = claim.get("parts")
        if not isinstance(parts, list) or not parts:
            raise ValueError(f"{where}: needs `parts`, a non-empty list")
        for j, part in enumerate(parts):
            kind = part.get("kind") if isinstance(part, Mapping) else None
            if kind not in PART_KEYS:
                raise ValueError(f"{where}.parts[{j}]: kind must be one of {', '.join(PART_KEYS)}, got {kind!r}")
            missing = [k for k in ("text", *PART_KEYS[kind]) if k not in part]
            if kind == "same" and ("a" in part) != ("b" in part):
                missing.append("a and b together")
            if missing:
                raise ValueError(f"{where}.parts[{j}] ({kind}): missing {', '.join(missing)}")
            if kind in EXPECT and part["expect"] not in EXPECT[kind]:
                raise ValueError(f"{where}.parts[{j}]: expect must be {' or '.join(EXPECT[kind])}, "
                                 f"got {part['expect']!r}")
            if kind == "trend" and (not isinstance(part["variants"], list) or len(part["variants"]) < 2):
                raise ValueError(f"{where}.parts[{j}] (trend): `variants` must list two or more variants")
            if kind in ("compare", "same", "trend") and part.get("quantity", "test_accuracy") not in HIGHER_IS_BETTER:
                raise ValueError(f"{where}.parts[{j}]: unknown quantity {part['quantity']!r}; "
                                 f"known: {', '.join(HIGHER_IS_BETTER)}")


# --------------------------------------------------------------------------- comparison


def run_values(runs: Iterable[Mapping], experiment: str, variant: str, quantity: str,
               mode: str | None = None) -> list[float]:
    """``quantity`` of the completed runs of one variant (runs.csv rows; missing values left
    out): all of them, or only those that ``learned`` or ``failed`` (``mode``)."""
    out = []
    for r in runs:
        if r["experiment"] == experiment and r["variant"] == variant and r["status"] == COMPLETED:
            if mode is not None and learned(r["status"], r.get("test_accuracy")) != (mode == "learned"):
                continue
            v = _number(r.get(quantity))
            if v is not None:
                out.append(v)
    return out


#: Fewest runs whose prediction interval decides anything: with 2, t(0.975, 1) = 12.7 makes an
#: interval so wide that it "contains" almost any value.
MIN_RUNS = 3


def check_value(value: float, values: list[float], bounds: tuple[float, float] = (0.0, math.inf)) -> dict:
    """A 2018 value against our runs: mean, std, n, the 95% prediction interval for one new
    run (clipped to the quantity's ``bounds``: a loss is never negative), whether the value
    is inside it (None with fewer than :data:`MIN_RUNS` runs), and the gap in seed standard
    deviations."""
    pi = stats.prediction_interval(values) if len(values) >= 2 else None
    mean = sum(values) / len(values) if values else None
    std = stats.mean_ci(values).std if len(values) >= 2 else None
    low = None if pi is None or pi.low is None else max(bounds[0], pi.low)
    high = None if pi is None or pi.high is None else min(bounds[1], pi.high)
    inside = None if low is None or len(values) < MIN_RUNS else low <= value <= high
    gap = None if mean is None or not std else (value - mean) / std
    return {"value_2018": value, "n": len(values), "mean": mean, "std": std, "low": low, "high": high,
            "inside": inside, "gap_sd": gap}


def mode_of(ref: Mapping) -> str:
    """``failed`` when the 2018 run failed to learn (its accuracy below twice chance), else ``learned``."""
    return "learned" if ref["accuracy"] >= FAILED_BELOW else "failed"


def check_row(ref: Mapping, column: str, runs: list[Mapping], experiment: str, variant: str, quantity: str) -> dict:
    """One 2018 value (``ref[column]``) against the runs of ``experiment/variant`` that are in
    the same mode as the 2018 run (learned, or failed to learn: a bimodal variant has no single
    prediction interval). Adds ``mode``, ``of`` (our completed runs) and, when none of ours is in
    that mode, ``inside`` False with no interval."""
    mode = mode_of(ref)
    bounds = (0.0, 1.0) if "accuracy" in quantity else (0.0, math.inf)
    c = check_value(ref[column], run_values(runs, experiment, variant, quantity, mode), bounds)
    c.update(mode=mode, of=len(run_values(runs, experiment, variant, "test_accuracy")))
    if c["n"] == 0 and c["of"]:
        c["inside"] = False  # 2018's run did what none of ours did
    return c


def variants_for(plan: Mapping, reading: str | None, experiment: str, variant: str) -> tuple[str, str] | None:
    """Where the runs of (experiment, variant) under a protocol reading are: the 2018
    experiment itself for the default reading (None), else the ablation's variant."""
    if reading is None or reading == _default_reading(plan):
        return experiment, variant
    ablation = plan.get("ablation")
    for e in plan["experiments"]:
        if e["key"] != ablation:
            continue
        for v in e["variants"]:
            if v.get("origin") == [experiment, variant] and v.get("reading") == reading:
                return ablation, v["name"]
    return None


def _default_reading(plan: Mapping) -> str:
    readings = list((plan.get("readings") or {"framework": ""}))
    return readings[0]


def definition_fit(reference: Mapping, runs: list[Mapping]) -> dict:
    """``{column: {definition: {"inside": k, "compared": n}}}`` over the 2018 rows under the
    default protocol, and ``best``: the definition with the most rows inside (first on ties)."""
    out = {}
    for column, definitions in DEFINITIONS.items():
        fit = {}
        for quantity in definitions:
            inside = compared = 0
            for ref in reference["rows"]:
                c = check_row(ref, column, runs, ref["experiment"], ref["variant"], quantity)
                if c["inside"] is not None:
                    compared += 1
                    inside += bool(c["inside"])
            fit[quantity] = {"inside": inside, "compared": compared}
        best = max(fit, key=lambda q: fit[q]["inside"])
        out[column] = {"fit": fit, "best": best}
    return out


def protocol_fit(reference: Mapping, runs: list[Mapping], plan: Mapping, quantities: Mapping[str, str]) -> list[dict]:
    """Per protocol reading: the 2018 rows it covers and how many fall inside their
    prediction interval, for each column (``quantities``: column -> our quantity)."""
    out = []
    for reading, description in (plan.get("readings") or {"framework": ""}).items():
        counts = {column: {"inside": 0, "compared": 0} for column in quantities}
        rows = 0
        for ref in reference["rows"]:
            where = variants_for(plan, reading, ref["experiment"], ref["variant"])
            if where is None:
                continue
            rows += 1
            for column, quantity in quantities.items():
                c = check_row(ref, column, runs, *where, quantity)
                if c["inside"] is not None:
                    counts[column]["compared"] += 1
                    counts[column]["inside"] += bool(c["inside"])
        out.append({"reading": reading, "description": description, "rows": rows, "counts": counts})
    return out


def explanations(reference: Mapping, runs: list[Mapping], plan: Mapping, quantities: Mapping[str, str]) -> list[dict]:
    """Every 2018 value outside its prediction interval under the default protocol, with the
    readings under which it falls inside (an explanation), in reference order."""
    out = []
    default = _default_reading(plan)
    for ref in reference["rows"]:
        for column, quantity in quantities.items():
            c = check_row(ref, column, runs, ref["experiment"], ref["variant"], quantity)
            if c["inside"] is not False:
                continue
            explained, tried = [], []
            for reading in list(plan.get("readings") or {})[1:]:
                where = variants_for(plan, reading, ref["experiment"], ref["variant"])
                if where is None:
                    continue
                tried.append(reading)
                alt = check_row(ref, column, runs, *where, quantity)
                if alt["inside"]:
                    explained.append({"reading": reading, **alt})
            out.append({"experiment": ref["experiment"], "variant": ref["variant"], "column": column,
                        "quantity": quantity, "default": default, **c, "explained_by": explained,
                        "tried": tried})
    return out


def _ours(c: Mapping, d: int) -> str:
    """How our runs stand: ``our mean 0.950 (n = 5, 95% prediction interval ...)``."""
    from report import numbers as N

    if c["n"] == 0:
        return f"none of our {c['of']} runs {'failed to learn' if c['mode'] == 'failed' else 'learned'}"
    runs = f"n = {c['n']}" if c["n"] == c["of"] else \
        f"the {c['n']} of our {c['of']} runs that {'failed' if c['mode'] == 'failed' else 'learned'}"
    return (f"our mean {N.fixed(c['mean'], d)} ({runs}, 95% prediction interval "
            f"{N.interval(c['low'], c['high'], d)})")


def explanation_sentence(e: Mapping, readings: Mapping[str, str]) -> str:
    """One sentence per disagreement (an item of :func:`explanations`), from its numbers."""
    from report import numbers as N

    d = N.DIGITS["loss" if e["column"] == "loss" else "accuracy"]
    failed = " (a run that failed to learn)" if e["mode"] == "failed" else ""
    if e["mean"] is None:
        head = f"{e['experiment']}/{e['variant']}, {e['column']}: 2018's {N.fixed(e['value_2018'], d)}{failed}, but {_ours(e, d)}"
    else:
        where = "above" if e["value_2018"] > e["mean"] else "below"
        gap = (f"{abs(e['gap_sd']):.1f} seed standard deviations {where}" if e["gap_sd"] is not None
               else f"{where}, with no spread across our runs,")
        head = (f"{e['experiment']}/{e['variant']}, {e['column']}: 2018's {N.fixed(e['value_2018'], d)}{failed} "
                f"lies {gap} {_ours(e, d)}")
    if e["explained_by"]:
        parts = [f"{x['reading']} ({readings.get(x['reading'], x['reading'])}: {_ours(x, d)})"
                 for x in e["explained_by"]]
        return f"{head}; it falls inside under the reading {' and under '.join(parts)}, which explains it."
    if e["tried"]:
        return f"{head}; none of the readings tried ({', '.join(e['tried'])}) explains it."
    return f"{head}; no other reading was run for this row, so none of them explains it."


# --------------------------------------------------------------------------- helpers


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
