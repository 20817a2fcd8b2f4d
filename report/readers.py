"""Reading the workflow's summary and curve files (columns: :mod:`cnnlib.results`)."""

from __future__ import annotations

import csv
import io

import numpy as np

from cnnlib.results import CLAIMS, COMPARISON_COLUMNS, CURVE_COLUMNS, CURVE_NUMBERS

# --------------------------------------------------------------------------- reading


def _floats(cells) -> np.ndarray:
    """Strings -> float array; empty cells and non-finite values become NaN."""
    arr = np.array([c if c else "nan" for c in cells], dtype=float)
    arr[~np.isfinite(arr)] = np.nan
    return arr


_CURVE_FLOATS = CURVE_NUMBERS


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


_COMPARISON_FLOATS = ("mean_a", "mean_b", "difference", "ci_low", "ci_high", "p_value", "p_holm",
                      "prob_improvement", "prob_improvement_low", "prob_improvement_high", "delta", "min_detectable")


def read_comparisons(path) -> list[dict]:
    """comparisons.csv as rows with numbers (floats, None where empty), counts as ints,
    ``decidable`` as a bool. A row that breaks the contract raises ValueError naming the file
    and the row."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != COMPARISON_COLUMNS:
            raise ValueError(f"{path}: columns {reader.fieldnames}, expected {COMPARISON_COLUMNS}")
        rows = list(reader)
    out = []
    for i, row in enumerate(rows, start=2):
        try:
            r = dict(row)
            for k in _COMPARISON_FLOATS:
                r[k] = float(row[k]) if row[k] != "" else None
            r["n_a"], r["n_b"] = int(row["n_a"]), int(row["n_b"])
            r["family_size"] = int(row["family_size"]) if row["family_size"] else 0
            if row["decidable"] not in ("True", "False"):
                raise ValueError(f"decidable {row['decidable']!r} is not True or False")
            r["decidable"] = row["decidable"] == "True"
            if r["claim"] not in CLAIMS:
                raise ValueError(f"claim {r['claim']!r} is not one of {', '.join(CLAIMS)}")
        except ValueError as exc:
            raise ValueError(f"{path}, line {i}: {exc}") from None
        out.append(r)
    return out


def select(curves: dict, variant: str, series: str) -> dict:
    mask = (curves["variant"] == variant) & (curves["series"] == series)
    return {k: v[mask] for k, v in curves.items()}


