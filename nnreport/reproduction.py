"""The 2018 report's numbers next to the reproduction's: which agree, which do not, and by how much.

The 2018 numbers come from ``report/reference_2018.yaml`` (copied by hand from the report's
text; :func:`load_reference`). The reproduced numbers are the per-variant summaries the
workflow writes to ``results/summary/{experiment}.csv`` (mean, std, min and max over seeds),
passed in as rows read with :class:`csv.DictReader` (strings, empty string = missing) or as
dicts of numbers.

Every 2018 row is a single run; the reproduction has several seeds. A 2018 value "agrees"
when it lies within the reproduced range ``min <= value <= max``. The comparisons made for
each 2018 row (:data:`QUANTITIES`):

``accuracy``
    2018 accuracy vs reproduced ``test_accuracy``.
``loss``
    2018 loss vs reproduced ``train_loss`` (the final iteration's training batch): the
    like-for-like comparison, since the 2018 loss column is a training loss.
``loss_vs_test``
    2018 loss vs reproduced ``test_loss``: shown to explain why that comparison is wrong.
``time``
    2018 seconds vs reproduced ``train_seconds``. The machines differ, so no within-range
    verdict: ``speedup`` = 2018 seconds / reproduced mean seconds instead.

All functions are pure: they read nothing but their arguments (except
:func:`load_reference`, which reads its file) and write nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

# quantity -> (column of the 2018 row, column prefix of the summary csv)
QUANTITIES: dict[str, tuple[str, str]] = {
    "accuracy": ("accuracy", "test_accuracy"),
    "loss": ("loss", "train_loss"),
    "loss_vs_test": ("loss", "test_loss"),
    "time": ("seconds", "train_seconds"),
}
# quantities that get a within-range verdict (time gets a speed-up instead)
VERDICT_QUANTITIES = ("accuracy", "loss", "loss_vs_test")

REQUIRED_ROW_KEYS = ("experiment", "variant", "loss", "accuracy", "seconds", "epochs")

COMPARE_FIELDS = (
    "experiment", "variant", "quantity", "column", "value_2018", "mean", "std", "min", "max",
    "n", "runs", "diverged", "epochs_2018", "epochs", "difference", "within_range", "speedup",
    "missing",
)


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
    return dict(data)


# --------------------------------------------------------------------------- comparison


def compare(reference: Mapping, summaries: Mapping[str, Iterable[Mapping]]) -> list[dict]:
    """One row per (2018 row, quantity): the 2018 value next to the reproduced statistics.

    Args:
        reference: the document of :func:`load_reference` (only its ``rows`` are used).
        summaries: ``{experiment: [summary row, ...]}``, each summary row a dict as read from
            ``results/summary/{experiment}.csv`` (columns experiment, variant, setting, runs,
            completed, diverged, epochs, parameters and, for test_accuracy, test_loss,
            train_loss, train_seconds, seconds_per_epoch, ``_mean``/``_std``/``_min``/``_max``).
            Values may be strings; ``""`` and ``None`` mean missing.

    Returns:
        A list of dicts in reference-row order, then :data:`QUANTITIES` order, with fields

        ``experiment``, ``variant``: the 2018 row's names;
        ``quantity``: accuracy, loss, loss_vs_test or time;
        ``column``: the summary column prefix compared with (test_accuracy, train_loss,
        test_loss, train_seconds);
        ``value_2018``: the 2018 number;
        ``mean``, ``std``, ``min``, ``max``: the reproduced statistics over completed runs
        (None if missing);
        ``n``: completed runs; ``runs``: runs; ``diverged``: diverged runs;
        ``epochs_2018``, ``epochs``: epochs in 2018 and in the reproduction;
        ``difference``: mean - 2018 (None if no mean);
        ``within_range``: ``min <= 2018 <= max`` (None for time and when min/max are missing);
        ``speedup``: for time, 2018 seconds / reproduced mean seconds (None otherwise);
        ``missing``: True when the experiment or variant is not in ``summaries`` (all the
        reproduced fields are then None).
    """
    index: dict[tuple[str, str], Mapping] = {}
    for experiment, rows in summaries.items():
        for row in rows or ():
            variant = row.get("variant")
            if variant not in (None, ""):
                index[(experiment, str(variant))] = row
    out = []
    for ref in reference["rows"]:
        exp, var = ref["experiment"], ref["variant"]
        summary = index.get((exp, var))
        for quantity, (ref_key, column) in QUANTITIES.items():
            value = _number(ref[ref_key])
            row = {
                "experiment": exp, "variant": var, "quantity": quantity, "column": column,
                "value_2018": value, "epochs_2018": ref.get("epochs"),
            }
            if summary is None:
                row.update({k: None for k in ("mean", "std", "min", "max", "n", "runs", "diverged",
                                              "epochs", "difference", "within_range", "speedup")})
                row["missing"] = True
            else:
                mean, std, lo, hi = (_number(summary.get(f"{column}_{s}"))
                                     for s in ("mean", "std", "min", "max"))
                row.update({
                    "mean": mean, "std": std, "min": lo, "max": hi,
                    "n": _integer(summary.get("completed")),
                    "runs": _integer(summary.get("runs")),
                    "diverged": _integer(summary.get("diverged")),
                    "epochs": _integer(summary.get("epochs")),
                    "difference": None if mean is None or value is None else mean - value,
                    "within_range": None,
                    "speedup": None,
                    "missing": False,
                })
                if quantity == "time":
                    if mean is not None and value is not None and mean > 0:
                        row["speedup"] = value / mean
                elif lo is not None and hi is not None and value is not None:
                    row["within_range"] = lo <= value <= hi
            out.append({k: row[k] for k in COMPARE_FIELDS})
    return out


def agreement(rows: Iterable[Mapping]) -> dict:
    """How many 2018 values lie within the reproduced range, per quantity.

    Args:
        rows: rows of :func:`compare`.

    Returns:
        ``{quantity: {"within": int, "compared": int, "missing": int}}`` for accuracy, loss and
        loss_vs_test: ``compared`` counts rows with a verdict (``within_range`` not None),
        ``within`` those that are True, ``missing`` rows without a verdict (variant missing or
        no completed run).
    """
    counts = {q: {"within": 0, "compared": 0, "missing": 0} for q in VERDICT_QUANTITIES}
    for row in rows:
        q = row.get("quantity")
        if q not in counts:
            continue
        verdict = row.get("within_range")
        if verdict is None:
            counts[q]["missing"] += 1
        else:
            counts[q]["compared"] += 1
            counts[q]["within"] += bool(verdict)
    return counts


def disagreements(
    rows: Iterable[Mapping],
    quantities: Iterable[str] = VERDICT_QUANTITIES,
    scale: str = "std",
) -> list[dict]:
    """The rows whose 2018 value lies outside the reproduced range, farthest outside first.

    Args:
        rows: rows of :func:`compare`.
        quantities: which quantities to consider (default accuracy, loss, loss_vs_test).
        scale: ``"std"`` measures the distance outside the range in reproduced standard
            deviations, ``"range"`` in widths of the reproduced range (max - min). When the
            chosen unit is 0 or missing the other one is used; when both are 0 the distance
            is infinite (a gap from a spread of exactly zero).

    Returns:
        Copies of the rows (``within_range is False``) with added fields

        ``outside_by``: distance from the 2018 value to the nearest end of the range;
        ``direction``: "above" or "below" (the 2018 value relative to the range);
        ``unit``: "std" or "range", the unit used (None when both are 0);
        ``distance``: outside_by in that unit; ``z``: (2018 - mean) / std (None if std is 0);
        ``evidence``: a sentence built from the numbers, e.g. "2018: 0.961; reproduced
        0.113 +- 0.004 (0.109..0.118) over 5 seeds; 2018 is above the range by 0.843
        (211 std)".

        Sorted by ``distance`` (largest first), then in input order.
    """
    if scale not in ("std", "range"):
        raise ValueError(f"scale must be 'std' or 'range', got {scale!r}")
    wanted = set(quantities)
    found = []
    for order, row in enumerate(rows):
        if row.get("quantity") not in wanted or row.get("within_range") is not False:
            continue
        value, lo, hi = row["value_2018"], row["min"], row["max"]
        direction = "above" if value > hi else "below"
        outside_by = value - hi if direction == "above" else lo - value
        units = {"std": row.get("std"), "range": hi - lo}
        unit = scale if units[scale] else ("range" if scale == "std" else "std")
        size = units[unit]
        distance = outside_by / size if size else math.inf
        out = dict(row)
        std = row.get("std")
        out.update({
            "outside_by": outside_by, "direction": direction,
            "unit": unit if size else None, "distance": distance,
            "z": (value - row["mean"]) / std if std and row.get("mean") is not None else None,
        })
        out["evidence"] = evidence(out)
        found.append((-distance, order, out))
    found.sort(key=lambda t: (t[0], t[1]))
    return [row for _, _, row in found]


def evidence(row: Mapping) -> str:
    """A plain-English sentence from a comparison row's numbers (see :func:`disagreements`)."""
    value = row.get("value_2018")
    head = f"2018: {_fmt(value, 6)}"
    if row.get("missing"):
        return f"{head}; not reproduced (no summary for {row.get('experiment')}/{row.get('variant')})"
    if row.get("mean") is None:
        return f"{head}; no completed reproduced run"
    n = row.get("n")
    runs = f"{n} seed{'s' if n != 1 else ''}" if n is not None else "an unknown number of seeds"
    text = (f"{head}; reproduced {_fmt(row['mean'])} +- {_fmt(row.get('std'), 2)} "
            f"({_fmt(row.get('min'))}..{_fmt(row.get('max'))}) over {runs}")
    if row.get("diverged"):
        text += f" ({row['diverged']} of {row.get('runs')} runs diverged)"
    if row.get("quantity") == "time" and row.get("speedup") is not None:
        return f"{text}; {_fmt(row['speedup'])}x faster now"
    if "outside_by" in row and row.get("direction"):
        size = (f"{_fmt(row['distance'])} {row['unit']}" if row.get("unit") == "std"
                else f"{_fmt(row['distance'])}x the range width" if row.get("unit") == "range"
                else "the reproduced runs have no spread")
        text += f"; 2018 is {row['direction']} the range by {_fmt(row['outside_by'])} ({size})"
    elif row.get("within_range"):
        text += "; 2018 is within the range"
    return text


# --------------------------------------------------------------------------- helpers


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value) -> float | None:
    """A csv cell or number -> float; '', None, non-numbers and non-finite values -> None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _integer(value) -> int | None:
    number = _number(value)
    return None if number is None else int(round(number))


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "?"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return f"{value:.{digits}g}"
