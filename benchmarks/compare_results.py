"""Compare two results folders run by run: are the numbers the same?

    python benchmarks/compare_results.py OLD_RESULTS NEW_RESULTS

For every run present in both: ``history.json`` equal, ``weights.npz`` arrays equal, and
``metrics.json`` equal apart from what is allowed to differ (wall-clock times, versions,
hardware, and the fields a newer cnnlib adds: ``files``, ``checksum``, CPU times, settings
it spells out). Then every ``summary/{experiment}.csv`` cell equal except time columns,
and the columns a newer summary adds. Prints one line per difference and a verdict; exit
code 1 if anything differs.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

IGNORED_METRICS = {"time", "versions", "hardware", "files", "checksum"}


def _common(a, b):
    """a and b restricted to the keys both have (recursively): what a newer version adds aside."""
    if isinstance(a, dict) and isinstance(b, dict):
        return ({k: _common(a[k], b[k])[0] for k in a if k in b}, {k: _common(a[k], b[k])[1] for k in a if k in b})
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = [_common(x, y) for x, y in zip(a, b)]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    return a, b


def comparable_metrics(m: dict) -> dict:
    m = {k: v for k, v in m.items() if k not in IGNORED_METRICS}
    m["epochs"] = [{k: v for k, v in e.items() if k != "seconds"} for e in m.get("epochs", [])]
    return m


def same_npz(a: Path, b: Path) -> bool:
    with np.load(a) as x, np.load(b) as y:
        return sorted(x) == sorted(y) and all(np.array_equal(x[k], y[k]) for k in x)


def main(old: Path, new: Path) -> int:
    problems = []
    runs_old = {p.parent.relative_to(old) for p in old.glob("runs/*/*/seed-*/metrics.json")}
    runs_new = {p.parent.relative_to(new) for p in new.glob("runs/*/*/seed-*/metrics.json")}
    both = sorted(runs_old & runs_new)
    if runs_old - runs_new:
        problems.append(f"runs only in {old}: {sorted(map(str, runs_old - runs_new))}")
    for run in both:
        mo = comparable_metrics(json.loads((old / run / "metrics.json").read_text()))
        mn = comparable_metrics(json.loads((new / run / "metrics.json").read_text()))
        a, b = _common(mo, mn)
        if a != b:
            keys = [k for k in a if a[k] != b[k]]
            problems.append(f"{run}/metrics.json differs in {keys}")
        if json.loads((old / run / "history.json").read_text()) != json.loads((new / run / "history.json").read_text()):
            problems.append(f"{run}/history.json differs")
        if not same_npz(old / run / "weights.npz", new / run / "weights.npz"):
            problems.append(f"{run}/weights.npz differs")
    for summary in sorted(old.glob("summary/*.csv")):
        other = new / "summary" / summary.name
        if summary.name == "runs.csv" or not other.exists():
            continue
        with open(summary) as f:
            rows_old = list(csv.DictReader(f))
        with open(other) as f:
            rows_new = list(csv.DictReader(f))
        if len(rows_old) != len(rows_new):
            problems.append(f"summary/{summary.name}: {len(rows_old)} rows vs {len(rows_new)}")
            continue
        for i, (ro, rn) in enumerate(zip(rows_old, rows_new)):
            for col, value in ro.items():
                if "seconds" in col or col not in rn:
                    continue
                if rn[col] != value:  # comparisons.csv has no variant column
                    problems.append(f"summary/{summary.name} {ro.get('variant', f'row {i + 1}')}.{col}: {value} vs {rn[col]}")
    for p in problems:
        print(p)
    print(f"{len(both)} runs compared (metrics apart from times and added fields, history, weights), "
          f"summaries apart from time columns: {'identical' if not problems else f'{len(problems)} differences'}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
