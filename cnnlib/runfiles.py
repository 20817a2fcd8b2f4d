"""The files of one training run, checked when they are read back.

:func:`cnnlib.train.run` writes, in this order, ``weights.npz``, ``optimizer.npz``,
``history.json`` and ``metrics.json`` (its presence means the run finished).
``metrics.json`` records the SHA-256 and size of the others (``files``) and a
``checksum`` of its own content (the SHA-256 of its canonical JSON without the
``checksum`` key, :func:`checksum`). So any
later change - a truncated file, a NaN typed in, a number edited, a file deleted - is
found by :func:`check_run`, cheaply: it parses the small metrics file and hashes the
others, it does not parse the history.

Every problem raises :class:`RunFileError`, which names the file and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from cnnlib.io import atomic_write_bytes, write_json

#: The files of a run, ``metrics.json`` first (the one written last).
RUN_FILES = ("metrics.json", "history.json", "weights.npz", "optimizer.npz")
STATUSES = ("completed", "diverged")
#: A metrics.json is a few kilobytes; a larger one is refused before it is read.
MAX_METRICS_BYTES = 1 << 24


class RunFileError(Exception):
    """A run's file is missing or damaged. ``path``: the file; ``reason``: what is wrong."""

    def __init__(self, path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def file_digest(path) -> dict:
    """``{"sha256": hex, "bytes": size}`` of a file, read in blocks (never whole)."""
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
            size += len(block)
    return {"sha256": h.hexdigest(), "bytes": size}


def checksum(metrics: dict) -> str:
    """The SHA-256 of ``metrics`` (a JSON-safe dict) without its ``checksum`` key, in
    canonical JSON (sorted keys, no spaces, no NaN)."""
    body = {k: v for k, v in metrics.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _reject_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def read_json_strict(path) -> object:
    """Parse a JSON file, refusing NaN/Infinity literals; errors name the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunFileError(path, "missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunFileError(path, f"cannot be read ({exc})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        if "not a number JSON allows" in str(exc):
            raise RunFileError(path, f"holds a non-finite number ({exc.args[0].split(' is ')[0]})") from None
        raise RunFileError(path, "not valid JSON (truncated or edited?)") from None


def _number(metrics, path, *keys, minimum=None, maximum=None, optional=False):
    node = metrics
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            raise RunFileError(path, f"{'.'.join(keys)} is missing")
        node = node[k]
    if node is None and optional:
        return
    if isinstance(node, bool) or not isinstance(node, (int, float)) or not math.isfinite(node):
        raise RunFileError(path, f"{'.'.join(keys)} is {node!r}, not a finite number")
    if (minimum is not None and node < minimum) or (maximum is not None and node > maximum):
        raise RunFileError(path, f"{'.'.join(keys)} is {node!r}, outside {minimum}..{maximum}")


def check_metrics(metrics, path) -> dict:
    """Check the fields of a parsed metrics.json (see the module docstring)."""
    if not isinstance(metrics, dict):
        raise RunFileError(path, "is not a JSON object")
    if metrics.get("status") not in STATUSES:
        raise RunFileError(path, f"status is {metrics.get('status')!r}, not one of {', '.join(STATUSES)}")
    done = metrics["status"] == "completed"
    _number(metrics, path, "final", "test_accuracy", minimum=0, maximum=1, optional=not done)
    _number(metrics, path, "final", "test_loss", minimum=0, optional=not done)
    _number(metrics, path, "final", "train_loss", minimum=0, optional=True)
    for key in ("train_seconds", "eval_seconds", "total_seconds"):
        _number(metrics, path, "time", key, minimum=0)
    if metrics.get("checksum") != checksum(metrics):
        raise RunFileError(path, "checksum does not match its content (edited or damaged)")
    files = metrics.get("files")
    if not isinstance(files, dict) or set(files) != set(RUN_FILES[1:]):
        raise RunFileError(path, "does not record the run's other files (written by an older cnnlib?)")
    return metrics


def check_run(folder) -> dict:
    """Check all files of the run in ``folder``; return its parsed metrics."""
    folder = Path(folder)
    for name in RUN_FILES:
        if not (folder / name).is_file():
            raise RunFileError(folder / name, "missing")
    size = (folder / "metrics.json").stat().st_size
    if size > MAX_METRICS_BYTES:
        raise RunFileError(folder / "metrics.json", f"is {size:,} bytes; a run writes a few kilobytes (not a run's file?)")
    metrics = check_metrics(read_json_strict(folder / "metrics.json"), folder / "metrics.json")
    for name, want in metrics["files"].items():
        size = (folder / name).stat().st_size  # before reading: a huge file is refused unread
        if size != want.get("bytes"):
            raise RunFileError(folder / name, f"is {size:,} bytes, the run wrote {want.get('bytes')}")
        got = file_digest(folder / name)
        if got["sha256"] != want.get("sha256"):
            raise RunFileError(folder / name, "its content differs from what the run wrote (damaged or edited)")
    return metrics


def copy_run(source, dest, config: dict, source_name: str) -> dict:
    """Make the run in ``source`` (checked first) the run of ``config`` in ``dest``.

    For a run whose settings train exactly the numbers of a finished one
    (:func:`cnnlib.config.training_identity`): its other files are copied byte for byte,
    ``metrics.json`` gets ``config`` as its config and ``copied_from: source_name``, a new
    checksum, and is written last. Every write is atomic. Returns the
    new metrics.
    """
    source, dest = Path(source), Path(dest)
    metrics = check_run(source)
    for name in RUN_FILES:
        if name != "metrics.json":  # written last, below
            atomic_write_bytes(dest / name, (source / name).read_bytes())
    metrics = {**metrics, "config": config, "copied_from": source_name}
    metrics["checksum"] = checksum(metrics)
    write_json(dest / "metrics.json", metrics)
    return metrics


def read_history(folder) -> dict:
    """The run's parsed history.json, after :func:`check_run`."""
    check_run(folder)
    history = read_json_strict(Path(folder) / "history.json")
    if not isinstance(history, dict) or not {"train", "eval"} <= set(history):
        raise RunFileError(Path(folder) / "history.json", "lacks its train and eval records")
    return history
