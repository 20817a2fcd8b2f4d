"""A record of every build, and the comparison of two builds.

**The record.** After a build, :func:`make_record` gathers what decides and what states its
results into one small JSON document: per run the settings identity (the SHA-256 of
:func:`cnnlib.config.training_identity`) and the flat settings (so that a difference can name
its keys), the seed, status, the run's row of ``runs.csv`` (its final metrics) and the
checksums of its files (those ``metrics.json`` records, and ``metrics.json``'s own
``checksum``); the summaries and ``comparisons.csv``; the commit, the config, the meaning
hash of every module each stage runs (:func:`stage_code`), the data's checksums, the machine
and the time. No histories, no curves: about 1 kB per run.

:func:`write_record` writes it atomically to ``builds/<time>-<checksum>.json`` under the
results folder (:func:`builds_dir`) and keeps the newest ``keep`` records (default
:data:`KEEP`). The record carries a ``checksum`` of its canonical JSON, like a run's
``metrics.json`` (:func:`cnnlib.runfiles.checksum`); :func:`read_record` checks it, the
format and every key the comparison uses, and raises :class:`RecordError` naming the file.

**The comparison.** Builds share seeds, so a run of one build pairs with the run of the same
experiment, variant and seed of the other. :func:`compare` says, for two records:

* which runs were retrained and why. A run of both builds is *retrained* when its files
  differ, or when its ``metrics.json`` differs and something it depends on changed: its
  settings (``settings changed: KEY old -> new, ...``, the keys of the flat settings), the
  data (``data changed``: the checksums of the data files), the code of the training stage
  (``code changed: MODULE, ...``: the modules of :data:`TRAINING_STAGE` whose meaning hash
  differs). Files that differ while none of these changed: ``files differ: another machine
  or BLAS? (no code or setting changed)``. A run only in the new build is ``new``; one only
  in the old build is *removed*. A run rebuilt with the same bytes and no cause (another
  machine reproducing the build) is identical, not retrained.
* for each variant with a retrained run, over the seeds both builds have: the mean final test
  accuracy old and new (a diverged run counts at chance, 1/classes), the paired difference
  new - old with its 95% t interval (:func:`report.stats.compare`, paired), and one verdict:
  ``identical`` (every shared run bit for bit the same files), ``equivalent`` (the interval
  inside +-delta, the smallest difference that matters), ``changed`` (the interval excludes 0
  and is not inside +-delta; with one shared seed: |difference| > delta), ``inconclusive``
  (otherwise);
* every row of ``comparisons.csv`` whose ``claim`` differs, matched by (experiment, the two
  variants in either order, quantity, population, test): a row with A and B swapped is the
  same row with its claim swapped (a_better <-> b_better). Rows in only one record are
  listed as added or removed.

``regression`` is true when a variant is ``changed`` or a conclusion's claim changed;
``python -m workflow.compare`` (:mod:`workflow.compare`) prints :func:`markdown` and exits 1
then.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from datetime import datetime, timezone
from pathlib import Path

from cnnlib.config import training_identity
from cnnlib.results import claim_words
from cnnlib.io import atomic_write_text, json_safe
from cnnlib.runfiles import RUN_FILES, RunFileError, check_metrics, checksum, read_json_strict
from workflow.experiments import identity_settings

#: The record's format; a record of another format is refused (not guessed at).
FORMAT = "cnnlib-build/1"
#: Records kept in ``builds/`` by default (the config's key would be ``builds_kept``).
KEEP = 10
#: The smallest difference of mean test accuracy that matters (the comparison's default).
DELTA = 0.005
#: The stage (job script ``workflow/scripts/train.py``) whose code decides a run's numbers.
TRAINING_STAGE = "train"
#: A record is a few hundred kilobytes; a larger file is refused before it is read.
MAX_RECORD_BYTES = 1 << 24
#: Classes of the data set when runs.csv has no ``classes`` column (MNIST): chance = 1/10.
DEFAULT_CLASSES = 10
VERDICTS = ("identical", "equivalent", "changed", "inconclusive")
NAME = re.compile(r"(\d{8}T\d{6}Z)-([0-9a-f]{8})\.json")

#: Keys of a record, and of each of its runs, with their JSON types.
RECORD_KEYS = {"format": str, "checksum": str, "created_utc": str, "provenance": dict, "config": dict,
               "code": dict, "data": dict, "runs": list, "summaries": dict, "comparisons": list}
RUN_KEYS = {"experiment": str, "variant": str, "seed": int, "status": str, "identity": str, "settings": dict,
            "files": dict, "metrics_checksum": str, "results": dict}
_KEY_COLUMNS = ("experiment", "variant", "seed")
_DATA_KEY = "data.sha256"  # settings under it are the data's checksums: a change is "data changed"


class RecordError(Exception):
    """A build record is missing or damaged. ``path``: the file; ``reason``: what is wrong."""

    def __init__(self, path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def builds_dir(results_root) -> Path:
    """The folder of the build records of a results folder."""
    return Path(results_root) / "builds"


# --------------------------------------------------------------------------- making a record

def stage_code(scripts, repo) -> dict[str, str]:
    """``{path relative to repo: meaning hash}`` of every module of this repository that the job
    scripts can run (:func:`workflow.codehash.closure`; the hash of each module's syntax tree
    without docstrings, :func:`workflow.codehash._parsed`, first 16 hex digits)."""
    from workflow.codehash import _parsed, closure

    repo = Path(repo).resolve()
    out = {}
    for path in closure(scripts, repo):
        rel = path.relative_to(repo).as_posix() if path.is_relative_to(repo) else path.name
        out[rel] = _parsed(path)[0][:16]
    return out


def workflow_code(repo) -> dict[str, dict[str, str]]:
    """:func:`stage_code` of every job script in ``workflow/scripts`` of ``repo``, by stage
    (the script's name without ``.py``: ``train``, ``summarize``, ``render``...)."""
    repo = Path(repo)
    return {p.stem: stage_code([p], repo) for p in sorted((repo / "workflow" / "scripts").glob("*.py"))}


def _run_settings(config: dict) -> dict:
    """The settings that decide a run's numbers (:func:`workflow.experiments.identity_settings`)
    without the data files' checksums, which the record holds once (``data.sha256``); they
    are in the identity all the same."""
    return {k: v for k, v in identity_settings(config).items() if not k.startswith(_DATA_KEY)}


def _run_entry(results_root: Path, row: dict) -> dict:
    experiment, variant = str(row["experiment"]), str(row["variant"])
    try:
        seed = int(row["seed"])
    except (TypeError, ValueError):
        raise ValueError(f"runs.csv: run {experiment}/{variant} has seed {row['seed']!r}, not a number") from None
    path = results_root / "runs" / experiment / variant / f"seed-{seed}" / "metrics.json"
    metrics = check_metrics(read_json_strict(path), path)
    config = metrics.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("data"), dict) \
            or not isinstance(config.get("model"), dict):
        raise RunFileError(path, "holds no resolved config (model, data)")
    return {
        "experiment": experiment, "variant": variant, "seed": seed, "status": metrics["status"],
        "identity": hashlib.sha256(training_identity(config).encode()).hexdigest(),
        "settings": _run_settings(config),
        "files": {name: metrics["files"][name]["sha256"] for name in RUN_FILES[1:]},
        "metrics_checksum": metrics["checksum"],
        "results": {k: ("" if v is None else str(v)) for k, v in row.items() if k not in _KEY_COLUMNS},
    }


def make_record(results_root, runs, summaries, comparisons, config, provenance, code, data) -> dict:
    """The record of one build (see the module docstring).

    Args:
        results_root: the results folder; each run's ``metrics.json`` is read (and checked:
            :func:`cnnlib.runfiles.check_metrics`) from ``runs/{experiment}/{variant}/seed-{seed}/``.
        runs: the rows of ``summary/runs.csv`` (dicts of strings).
        summaries: ``{experiment: rows of summary/{experiment}.csv}``.
        comparisons: the rows of ``summary/comparisons.csv``.
        config: the workflow's config.
        provenance: ``{commit, dirty, command, config_hash, machine: {...}, created_utc}``
            (``created_utc``: ISO 8601; now when missing).
        code: ``{stage: {module path: meaning hash}}`` (:func:`stage_code`, :func:`workflow_code`).
        data: ``{"id": ..., "sha256": {file: hex}, ...}`` (``DataSource.describe()``).

    Raises:
        cnnlib.runfiles.RunFileError: a run's metrics.json is missing or damaged (named).
        ValueError: a run is listed twice, or ``data`` lacks its checksums.
    """
    root = Path(results_root)
    entries, seen = [], set()
    for row in runs:
        entry = _run_entry(root, row)
        key = (entry["experiment"], entry["variant"], entry["seed"])
        if key in seen:
            raise ValueError(f"runs.csv lists the run {key[0]}/{key[1]}/seed-{key[2]} twice")
        seen.add(key)
        entries.append(entry)
    if not isinstance(data, dict) or not isinstance(data.get("sha256"), dict):
        raise ValueError("data must give the data files' checksums ({'id': ..., 'sha256': {file: hex}})")
    provenance = dict(provenance)
    created = provenance.get("created_utc") or datetime.now(timezone.utc).isoformat(timespec="seconds")
    provenance["created_utc"] = created
    record = {
        "format": FORMAT,
        "created_utc": created,
        "provenance": provenance,
        "config": config,
        "code": {str(stage): dict(modules) for stage, modules in code.items()},
        "data": data,
        "runs": entries,
        "summaries": {str(e): [dict(r) for r in rows] for e, rows in summaries.items()},
        "comparisons": [dict(r) for r in comparisons],
    }
    record = json_safe(record)
    record["checksum"] = checksum(record)
    return record


def this_build(results_root, config: dict, provenance: dict, data: dict, repo=".") -> dict:
    """The record of the build in ``results_root`` as it stands (its tables, every run's files,
    this machine and the code in ``repo``): what the record job keeps and what the report
    compares with earlier records."""
    from report.environment import capture

    runs, summaries, comparisons = read_tables(results_root)
    return make_record(results_root, runs, summaries, comparisons, config, {**provenance, "machine": capture()},
                       workflow_code(repo), data)


def read_tables(results_root) -> tuple[list[dict], dict[str, list[dict]], list[dict]]:
    """``(runs, summaries, comparisons)``: the rows of ``summary/runs.csv``, of each
    ``summary/{experiment}.csv`` and of ``summary/comparisons.csv`` (empty if missing) of a
    results folder, as :func:`make_record` takes them."""
    folder = Path(results_root) / "summary"

    def rows(path):
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))

    runs = rows(folder / "runs.csv")
    summaries = {p.stem: rows(p) for p in sorted(folder.glob("*.csv")) if p.name not in ("runs.csv", "comparisons.csv")}
    comparisons = rows(folder / "comparisons.csv") if (folder / "comparisons.csv").is_file() else []
    return runs, summaries, comparisons


# --------------------------------------------------------------------------- files

def _compact_time(created_utc: str) -> str:
    try:
        t = datetime.fromisoformat(created_utc.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"created_utc {created_utc!r} is not an ISO 8601 time") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def record_name(record: dict) -> str:
    """``<created_utc as 20261208T101500Z>-<first 8 hex digits of the checksum>.json``."""
    return f"{_compact_time(record['created_utc'])}-{record['checksum'][:8]}.json"


def record_files(folder) -> list[Path]:
    """The records in ``folder`` (files named like :func:`record_name`), oldest first: by the
    time in the name, then by modification time."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if NAME.fullmatch(p.name) and p.is_file()]
    return sorted(found, key=lambda p: (NAME.fullmatch(p.name).group(1), p.stat().st_mtime_ns, p.name))


def _compact(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def dumps(record: dict) -> str:
    """A record as the file holds it: JSON with one key per line at the top, one run and one
    comparison per line, one experiment's summary rows per line (small, and a diff of two
    records shows which runs differ)."""
    def lines(items):
        return "[]" if not items else "[\n" + ",\n".join(items) + "\n]"

    parts = []
    for key in sorted(record):
        value = record[key]
        if key in ("runs", "comparisons") and isinstance(value, list):
            body = lines([_compact(v) for v in value])
        elif key == "summaries" and isinstance(value, dict) and value:
            body = "{\n" + ",\n".join(f"{_compact(e)}:{_compact(rows)}" for e, rows in sorted(value.items())) + "\n}"
        else:
            body = _compact(value)
        parts.append(f"{_compact(key)}:{body}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_record(builds_dir, record: dict, keep: int = KEEP) -> Path:
    """Write ``record`` atomically as ``builds_dir/<record_name>`` and delete the oldest records
    beyond the newest ``keep`` (the one written is always kept; files not named like a record
    are never touched). Returns the path written."""
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
        raise ValueError(f"keep must be a whole number >= 1, got {keep!r}")
    if record.get("checksum") != checksum(record):
        raise ValueError("the record's checksum does not match its content (changed after make_record?)")
    folder = Path(builds_dir)
    path = folder / record_name(record)
    atomic_write_text(path, dumps(record))
    others = [p for p in record_files(folder) if p.name != path.name]
    for old in others[:max(0, len(others) - (keep - 1))]:
        old.unlink(missing_ok=True)
    return path


def _reject_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def _check_shape(record, path) -> None:
    for key, kind in RECORD_KEYS.items():
        if key not in record:
            raise RecordError(path, f"lacks the key {key!r}")
        if not isinstance(record[key], kind):
            raise RecordError(path, f"{key} is a {type(record[key]).__name__}, not a {kind.__name__}")
    data = record["data"]
    if not isinstance(data.get("sha256"), dict):
        raise RecordError(path, "data.sha256 is missing (the data files' checksums)")
    for stage, modules in record["code"].items():
        if not isinstance(modules, dict) or not all(isinstance(v, str) for v in modules.values()):
            raise RecordError(path, f"code.{stage} is not a mapping of module paths to hashes")
    seen = set()
    for i, run in enumerate(record["runs"]):
        if not isinstance(run, dict):
            raise RecordError(path, f"runs[{i}] is not a JSON object")
        for key, kind in RUN_KEYS.items():
            value = run.get(key)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise RecordError(path, f"runs[{i}].{key} is {value!r}, not a {kind.__name__}")
        if not all(isinstance(v, str) for v in run["files"].values()) or set(run["files"]) != set(RUN_FILES[1:]):
            raise RecordError(path, f"runs[{i}].files does not give the checksums of {', '.join(RUN_FILES[1:])}")
        key = (run["experiment"], run["variant"], run["seed"])
        if key in seen:
            raise RecordError(path, f"lists the run {key[0]}/{key[1]}/seed-{key[2]} twice")
        seen.add(key)
    for e, rows in record["summaries"].items():
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise RecordError(path, f"summaries.{e} is not a list of rows")
    if not all(isinstance(r, dict) for r in record["comparisons"]):
        raise RecordError(path, "comparisons is not a list of rows")


def read_record(path) -> dict:
    """Read a record and check it: strict JSON (no NaN), its format, its checksum (so an
    edited or truncated record is found), the checksum in its name, and every key the
    comparison uses. Any problem raises :class:`RecordError` naming the file."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise RecordError(path, "missing") from None
    except OSError as exc:
        raise RecordError(path, f"cannot be read ({exc.strerror})") from None
    if not path.is_file():
        raise RecordError(path, "is not a file")
    if size > MAX_RECORD_BYTES:
        raise RecordError(path, f"is {size:,} bytes; a build record is far smaller (not a record?)")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise RecordError(path, f"cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise RecordError(path, "is not UTF-8 text (damaged?)") from None
    try:
        record = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        if "not a number JSON allows" in str(exc):
            raise RecordError(path, f"holds a non-finite number ({exc})") from None
        raise RecordError(path, "is not valid JSON (truncated or edited?)") from None
    if not isinstance(record, dict):
        raise RecordError(path, "is not a JSON object")
    if record.get("format") != FORMAT:
        raise RecordError(path, f"format is {record.get('format')!r}, not {FORMAT!r} (not a build record, "
                                f"or one this version cannot read)")
    if not isinstance(record.get("checksum"), str):
        raise RecordError(path, "has no checksum")
    try:
        actual = checksum(record)
    except (TypeError, ValueError) as exc:
        raise RecordError(path, f"cannot be checked ({exc})") from None
    if record["checksum"] != actual:
        raise RecordError(path, "checksum does not match its content (edited or damaged)")
    _check_shape(record, path)
    m = NAME.fullmatch(path.name)
    if m and m.group(2) != actual[:8]:
        raise RecordError(path, f"its name says checksum {m.group(2)}, its content is {actual[:8]} "
                                f"(renamed or replaced?)")
    return record


def latest(builds_dir, before=None) -> Path | None:
    """The newest record in ``builds_dir`` (None: there is none). With ``before`` (a record's
    path): the newest record written before that one (the build it follows). The record
    returned is read and checked first: a damaged one raises :class:`RecordError`, it is
    never skipped for an older one."""
    files = record_files(builds_dir)
    if before is not None:
        name = Path(before).name
        names = [p.name for p in files]
        files = files[:names.index(name)] if name in names else files
    if not files:
        return None
    read_record(files[-1])
    return files[-1]


# --------------------------------------------------------------------------- comparing

def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _settings_diff(old: dict, new: dict) -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        if key.startswith(_DATA_KEY):
            continue
        if key not in old:
            out.append(f"{key} (none) -> {_text(new[key])}")
        elif key not in new:
            out.append(f"{key} {_text(old[key])} -> (none)")
        elif _text(old[key]) != _text(new[key]):
            out.append(f"{key} {_text(old[key])} -> {_text(new[key])}")
    return out


def _data_settings(settings: dict) -> dict:
    return {k: _text(v) for k, v in settings.items() if k.startswith(_DATA_KEY)}


def _module_changes(old_code: dict, new_code: dict) -> list[str]:
    return [m for m in sorted(set(old_code) | set(new_code)) if old_code.get(m) != new_code.get(m)]


def _classes(run: dict) -> int:
    try:
        n = int(float(run["results"].get("classes") or DEFAULT_CLASSES))
    except (TypeError, ValueError):
        n = DEFAULT_CLASSES
    return n if n >= 2 else DEFAULT_CLASSES


def accuracy(run: dict) -> float:
    """A run's final test accuracy for the comparison: chance (1/classes) when it diverged
    or has none."""
    cell = run["results"].get("test_accuracy", "")
    try:
        value = float(cell)
    except (TypeError, ValueError):
        value = math.nan
    if run["status"] != "completed" or not math.isfinite(value):
        return 1.0 / _classes(run)
    return value


def _reasons(old: dict, new: dict, data_changed: bool, modules: list[str] | None) -> list[str]:
    parts = []
    if data_changed or _data_settings(old["settings"]) != _data_settings(new["settings"]):
        parts.append("data changed")
    if old["identity"] != new["identity"]:
        keys = _settings_diff(old["settings"], new["settings"])
        if keys:
            parts.append("settings changed: " + ", ".join(keys))
        elif not parts:
            parts.append("settings changed")
    if modules:
        parts.append("code changed: " + ", ".join(modules))
    return parts


def _verdict(pairs, identical: int, delta: float) -> dict:
    from report.stats import compare as paired_compare

    old = [a for a, _ in pairs]
    new = [b for _, b in pairs]
    n = len(pairs)
    mean_old, mean_new = sum(old) / n, sum(new) / n
    if identical == n:
        return {"mean_old": mean_old, "mean_new": mean_new, "difference": 0.0, "ci_low": 0.0, "ci_high": 0.0,
                "verdict": "identical"}
    if n >= 2:
        c = paired_compare(new, old, paired=True)
        diff, low, high = c.difference, c.ci_low, c.ci_high
    else:
        diff, low, high = new[0] - old[0], None, None
    if low is not None and high is not None:
        if -delta <= low and high <= delta:
            verdict = "equivalent"
        elif low > 0 or high < 0:
            verdict = "changed"
        else:
            verdict = "inconclusive"
    else:
        verdict = "changed" if abs(diff) > delta else "inconclusive"
    return {"mean_old": mean_old, "mean_new": mean_new, "difference": diff, "ci_low": low, "ci_high": high,
            "verdict": verdict}


_SWAP = {"a_better": "b_better", "b_better": "a_better"}


def _orient(row: dict):
    """(match key, whether the row's A and B are the other way round than the key's)."""
    a, b = row.get("variant_a", ""), row.get("variant_b", "")
    swapped = bool(a and b and b < a)
    pair = (b, a) if swapped else (a, b)
    key = (row.get("experiment", ""), pair, row.get("quantity", ""), row.get("population", ""), row.get("test", ""))
    return key, swapped


def _number(cell):
    try:
        x = float(cell)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _turned(row: dict, turn: bool) -> dict:
    """The claim and numbers of a comparisons row, with A and B swapped when ``turn``."""
    claim = row.get("claim", "")
    d, lo, hi = _number(row.get("difference")), _number(row.get("ci_low")), _number(row.get("ci_high"))
    if not turn:
        return {"claim": claim, "difference": d, "ci_low": lo, "ci_high": hi}
    neg = lambda x: None if x is None else -x  # noqa: E731
    return {"claim": _SWAP.get(claim, claim), "difference": neg(d), "ci_low": neg(hi), "ci_high": neg(lo)}


def _conclusions(old_rows, new_rows):
    def index(rows):
        out = {}
        for row in rows:
            key, swapped = _orient(row)
            out.setdefault(key, []).append((row, swapped))
        return out

    old_i, new_i = index(old_rows), index(new_rows)
    changed, added, removed = [], [], []
    for key, news in new_i.items():
        olds = old_i.get(key, [])
        for (nrow, nswap), pair in zip(news, olds + [None] * len(news)):
            ident = {k: nrow.get(k, "") for k in ("experiment", "variant_a", "variant_b", "quantity", "population",
                                                 "test")}
            if pair is None:
                added.append({**ident, "claim": nrow.get("claim", "")})
                continue
            orow, oswap = pair
            was = _turned(orow, oswap != nswap)  # old row, oriented as the new one
            now = _turned(nrow, False)
            if was["claim"] != now["claim"]:
                changed.append({**ident, "old_claim": was["claim"], "new_claim": now["claim"],
                                **{f"old_{k}": was[k] for k in ("difference", "ci_low", "ci_high")},
                                **{f"new_{k}": now[k] for k in ("difference", "ci_low", "ci_high")}})
    for key, olds in old_i.items():
        for orow, _ in olds[len(new_i.get(key, [])):]:
            removed.append({**{k: orow.get(k, "") for k in ("experiment", "variant_a", "variant_b", "quantity",
                                                            "population", "test")}, "claim": orow.get("claim", "")})
    return changed, added, removed


def _group(items, with_reason=True):
    """[(experiment, variant, seed, reason)] -> [{experiment, variant, seeds, reason}], first-seen order."""
    out = {}
    for e, v, s, r in items:
        out.setdefault((e, v, r), []).append(s)
    return [{"experiment": e, "variant": v, "seeds": sorted(seeds), **({"reason": r} if with_reason else {})}
            for (e, v, r), seeds in out.items()]


def compare(old: dict, new: dict, delta: float = DELTA) -> dict:
    """Compare two records (see the module docstring); plain data.

    Returns ``{delta, counts, retrained, removed, variants, conclusions, conclusions_added,
    conclusions_removed, code, data_changed, machine, regression}``:

    * ``counts``: runs old, new, shared, same_settings (shared runs trained with the same
      settings and data), identical (same files), differ, retrained, new, removed;
    * ``retrained``: ``[{experiment, variant, seeds, reason}]`` (reason ``new`` for runs only
      in ``new``); ``removed``: ``[{experiment, variant, seeds}]``;
    * ``variants``: ``[{experiment, variant, n, seeds, identical_runs, mean_old, mean_new,
      difference, ci_low, ci_high, verdict}]`` for each variant with a retrained shared run;
    * ``conclusions``: ``[{experiment, variant_a, variant_b, quantity, population, test,
      old_claim, new_claim, old_/new_difference, old_/new_ci_low, old_/new_ci_high}]``, in the
      new row's orientation; ``conclusions_added`` / ``_removed``: rows in one record only;
    * ``code``: ``{stage: [modules whose hash differs]}``; ``machine``: ``{key: [old, new]}``
      of what differs in the provenance's machine;
    * ``regression``: a variant ``changed`` or a conclusion's claim changed.
    """
    if not (isinstance(delta, (int, float)) and math.isfinite(delta) and delta >= 0):
        raise ValueError(f"delta must be a number >= 0, got {delta!r}")
    runs_old = {(r["experiment"], r["variant"], r["seed"]): r for r in old["runs"]}
    runs_new = {(r["experiment"], r["variant"], r["seed"]): r for r in new["runs"]}
    data_changed = old["data"].get("sha256") != new["data"].get("sha256")
    code_old, code_new = old["code"], new["code"]
    train_modules = (_module_changes(code_old[TRAINING_STAGE], code_new[TRAINING_STAGE])
                     if TRAINING_STAGE in code_old and TRAINING_STAGE in code_new else None)

    retrained, gone = [], []
    counts = dict.fromkeys(("old", "new", "shared", "same_settings", "identical", "differ", "retrained", "new_runs",
                            "removed"), 0)
    counts["old"], counts["new"] = len(runs_old), len(runs_new)
    pairs: dict[tuple[str, str], list] = {}
    touched: set[tuple[str, str]] = set()
    for key, n in runs_new.items():
        o = runs_old.get(key)
        if o is None:
            retrained.append((*key, "new"))
            counts["new_runs"] += 1
            continue
        counts["shared"] += 1
        counts["same_settings"] += o["identity"] == n["identity"]
        same_files = o["files"] == n["files"]
        counts["identical" if same_files else "differ"] += 1
        pairs.setdefault(key[:2], []).append((key[2], accuracy(o), accuracy(n), same_files))
        parts = _reasons(o, n, data_changed, train_modules)
        rebuilt = o["metrics_checksum"] != n["metrics_checksum"]
        if not same_files or (parts and rebuilt):
            if not parts:
                parts = ["files differ: another machine or BLAS? (no code or setting changed)"
                         if train_modules is not None else
                         "files differ (the training code is not in both records; no setting or data changed)"]
            retrained.append((*key, "; ".join(parts)))
            counts["retrained"] += 1
            touched.add(key[:2])
    for key in runs_old:
        if key not in runs_new:
            gone.append((*key, ""))
            counts["removed"] += 1

    variants = []
    for ev, items in pairs.items():
        if ev not in touched:
            continue
        items.sort()
        identical = sum(same for *_, same in items)
        v = _verdict([(a, b) for _, a, b, _ in items], identical, delta)
        variants.append({"experiment": ev[0], "variant": ev[1], "n": len(items), "seeds": [s for s, *_ in items],
                         "identical_runs": identical, **v})

    changed, added, removed = _conclusions(old["comparisons"], new["comparisons"])
    code = {stage: mods for stage in sorted(set(code_old) & set(code_new))
            if (mods := _module_changes(code_old[stage], code_new[stage]))}
    m_old = old["provenance"].get("machine") or {}
    m_new = new["provenance"].get("machine") or {}
    if isinstance(m_old, dict) and isinstance(m_new, dict):
        machine = {k: [m_old.get(k), m_new.get(k)] for k in dict.fromkeys([*m_new, *m_old])
                   if m_old.get(k) != m_new.get(k)}
    else:
        machine = {"machine": [m_old, m_new]} if m_old != m_new else {}
    return {
        "delta": delta,
        "counts": counts,
        "retrained": _group(retrained),
        "removed": _group(gone, with_reason=False),
        "variants": variants,
        "conclusions": changed,
        "conclusions_added": added,
        "conclusions_removed": removed,
        "code": code,
        "data_changed": data_changed,
        "machine": machine,
        "regression": any(v["verdict"] == "changed" for v in variants) or bool(changed),
    }


# --------------------------------------------------------------------------- Markdown

def _fixed(x, digits=4, sign=False) -> str:
    from report.numbers import MINUS, fixed

    text = fixed(x, digits)
    if sign and text != "n/a" and not text.startswith(MINUS) and float(x) != 0:
        text = "+" + text
    return text


def _seeds(seeds) -> str:
    seeds = sorted(seeds)
    parts, i = [], 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(str(seeds[i]) if j == i else f"{seeds[i]}\u2013{seeds[j]}" if j > i + 1 else
                     f"{seeds[i]}, {seeds[j]}")
        i = j + 1
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(parts)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _who(groups, limit=6) -> str:
    """The runs of some groups, compactly: every variant up to ``limit``, else counts."""
    if len(groups) > limit:
        runs = sum(len(g["seeds"]) for g in groups)
        exps = list(dict.fromkeys(g["experiment"] for g in groups))
        return f"{_plural(runs, 'run')} of {_plural(len(groups), 'variant')} ({', '.join(exps)})"
    return "; ".join(f"`{g['experiment']}/{g['variant']}` {_seeds(g['seeds'])}" for g in groups)


def short_commit(provenance: dict) -> str | None:
    """A record's commit, 10 characters, or None when the build was not made from a git
    checkout."""
    commit = str((provenance or {}).get("commit") or "")
    return commit[:10] if len(commit) == 40 and all(c in "0123456789abcdef" for c in commit) else None


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def markdown(comparison: dict, old_label: str, new_label: str) -> str:
    """The comparison as Markdown for a pull-request comment: a one-line headline, then the
    variants whose runs were retrained with their verdicts, the retrained runs by reason and
    the conclusions whose claim changed. Nothing changed: one line says so."""
    c = comparison
    n = c["counts"]
    delta = _fixed(c["delta"])
    labels = f"<sub>old: {old_label} \u00b7 new: {new_label}</sub>"
    nothing = not (c["retrained"] or c["removed"] or c["conclusions"] or c["conclusions_added"]
                   or c["conclusions_removed"]) and n["identical"] == n["shared"] == n["new"] == n["old"]
    if nothing:
        out = [f"No change: all {n['new']} runs bit for bit identical.", "", labels]
        if c["code"]:  # code that changed no result: the report's text, a figure
            out += ["", "Code changed, no result: " + "; ".join(f"{stage} ({', '.join(m)})"
                                                            for stage, m in c["code"].items())]
        return "\n".join(out) + "\n"
    changed_variants = [v for v in c["variants"] if v["verdict"] == "changed"]
    same = f"{n['identical']} of {n['shared']} shared runs bit for bit identical"
    if c["regression"]:
        what = []
        if changed_variants:
            what.append(f"{_plural(len(changed_variants), 'variant')} changed beyond \u00b1{delta} test accuracy")
        if c["conclusions"]:
            what.append(f"{_plural(len(c['conclusions']), 'conclusion')} changed")
        head = f"**Results moved:** {', '.join(what)}; {same}."
    else:
        head = f"**No result moved beyond \u00b1{delta}, no conclusion changed;** {same}."
    out = [head, "", labels]
    if c["variants"]:
        out += ["", f"**Variants with retrained runs** (final test accuracy, paired over the shared seeds; "
                    f"a diverged run counts at chance):", "",
                "| variant | n | old | new | new \u2212 old | 95% CI | verdict |",
                "| --- | --- | ---: | ---: | ---: | --- | --- |"]
        for v in c["variants"]:
            ci = (f"[{_fixed(v['ci_low'], sign=True)}, {_fixed(v['ci_high'], sign=True)}]"
                  if v["ci_low"] is not None else "n/a")
            verdict = f"**{v['verdict']}**" if v["verdict"] == "changed" else v["verdict"]
            out.append(f"| `{v['experiment']}/{v['variant']}` | {v['n']} | {_fixed(v['mean_old'])} | "
                       f"{_fixed(v['mean_new'])} | {_fixed(v['difference'], sign=True)} | {ci} | {verdict} |")
    if c["retrained"]:
        runs = sum(len(g["seeds"]) for g in c["retrained"])
        out += ["", f"**Retrained** ({_plural(runs, 'run')}), by reason:", ""]
        by_reason: dict[str, list] = {}
        for g in c["retrained"]:
            by_reason.setdefault(g["reason"], []).append(g)
        for reason, groups in by_reason.items():
            out.append(f"- {_cell(reason)} \u2014 {_who(groups)}")
    if c["removed"]:
        out += ["", f"**Removed:** {_who(c['removed'])}"]
    if c["conclusions"]:
        out += ["", "**Conclusions whose claim changed:**", "",
                "| experiment | A | B | quantity | old claim | new claim | new difference [95% CI] |",
                "| --- | --- | --- | --- | --- | --- | --- |"]
        for r in c["conclusions"]:
            q = r["quantity"] + (f" ({r['population']})" if r.get("population") else "")
            ci = (f" [{_fixed(r['new_ci_low'], sign=True)}, {_fixed(r['new_ci_high'], sign=True)}]"
                  if r["new_ci_low"] is not None and r["new_ci_high"] is not None else "")
            b = _cell(r["variant_b"]) or "\u2014"
            out.append(f"| {_cell(r['experiment'])} | {_cell(r['variant_a'])} | {b} | "
                       f"{_cell(q)} | {_cell(claim_words(r, r['old_claim']))} | **{_cell(claim_words(r, r['new_claim']))}** | "
                       f"{_fixed(r['new_difference'], sign=True)}{ci} |")
    for key, word in (("conclusions_added", "new"), ("conclusions_removed", "old")):
        rows = c[key]
        if rows:
            shown = "; ".join(f"{r['experiment']}: {r['variant_a']}" + (f" vs {r['variant_b']}" if r["variant_b"] else "")
                              + f" ({r['quantity']})" for r in rows[:5])
            more = f"; and {len(rows) - 5} more" if len(rows) > 5 else ""
            out += ["", f"**Comparisons only in the {word} build** ({len(rows)}): {shown}{more}"]
    if c["code"]:
        out += ["", "Code changed: " + "; ".join(f"{stage} ({', '.join(m)})" for stage, m in c["code"].items())]
    if c["data_changed"]:
        out += ["", "Data changed: the data files' checksums differ."]
    if c["machine"]:
        out += ["", "Machines differ: " + "; ".join(f"{k}: {_cell(a)} \u2192 {_cell(b)}" for k, (a, b) in c["machine"].items())]
    return "\n".join(out) + "\n"
