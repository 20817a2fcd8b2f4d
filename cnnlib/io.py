"""Atomic file writes: a reader never sees a half-written file.

Every output of cnnlib (metrics, histories, downloaded data) goes through these
helpers. The data is written to a temporary file in the target's folder, flushed
to disk, then renamed over the target in one step. A write killed half-way (``kill -9``,
power loss) leaves only its ``.NAME.XXXX.tmp``; the next write of the same file removes it.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Delete temp files that earlier, killed writes of ``path`` left behind
    (``.NAME.*.tmp`` beside it). One writer per file is assumed, as in the workflow."""
    import glob

    path = Path(path)
    stale = [Path(p) for p in glob.glob(str(path.parent / f".{glob.escape(path.name)}.*.tmp"))]
    for p in stale:
        try:
            p.unlink()
        except FileNotFoundError:
            pass
    return stale


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename). Temp files a killed
    earlier write of the same path left behind are removed first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def json_safe(obj: Any) -> Any:
    """Return ``obj`` with NaN/inf floats replaced by ``None`` (strict JSON has no NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return json_safe(obj.item())
    return obj


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as strict, indented JSON atomically (NaN/inf become null)."""
    text = json.dumps(json_safe(obj), indent=2, sort_keys=False, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def write_npz(path: str | os.PathLike, arrays: dict) -> Path:
    """Save arrays as an uncompressed ``.npz`` atomically."""
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())


def write_csv(path: str | os.PathLike, columns: list[str], rows: list[dict]) -> Path:
    """Write ``rows`` (dicts keyed by ``columns``) as CSV atomically; None becomes an empty cell."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    known = set(columns)
    for row in rows:  # csv.DictWriter's output, without its per-cell Python work (curves have 10^5 rows)
        extra = row.keys() - known
        if extra:
            raise ValueError(f"{path}: row has keys that are no column: {', '.join(sorted(map(str, extra)))}")
        writer.writerow([row.get(k) for k in columns])  # the csv module writes None as ""
    return atomic_write_text(path, buf.getvalue())
