"""Compare two builds: ``python -m workflow.compare OLD NEW [--delta 0.005]``.

Prints Markdown fit for a pull-request comment (:func:`workflow.builds.markdown`) and exits
0 when no result moved beyond delta and no conclusion changed, 1 when one did, 2 when a
record is missing or damaged (one line on stderr naming the file).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from workflow.builds import DELTA, RecordError, builds_dir, compare, latest, markdown, read_record, record_files

DESCRIPTION = """\
Compare two builds of the report: did a change move any result, and does a rebuild reproduce
the published one?

Every build leaves a record in its results folder, under builds/ (the last 10 are kept).
OLD and NEW are each a record file (builds/20261208T101500Z-1a2b3c4d.json) or a results
folder (its newest record). Give the same results folder twice to compare its newest record
with the one before it: what your last rebuild changed.

Runs pair up by experiment, variant and seed. For each variant with a retrained run the
output gives the mean final test accuracy old and new, the paired difference new - old with
its 95% interval, and a verdict: identical (bit for bit the same files), equivalent (the
interval inside +-DELTA), changed (the interval excludes 0 and is not inside +-DELTA),
inconclusive. It lists the retrained runs with the reason (settings changed, naming the keys;
data changed; code changed, naming the modules; files differ with nothing changed: another
machine or BLAS) and every conclusion of the report whose claim changed.
"""

EPILOG = """\
exit status:
  0  no variant changed beyond DELTA and no conclusion changed
  1  a variant changed beyond DELTA, or a conclusion's claim changed
  2  a record is missing or damaged (named on stderr), or a folder has no record

examples:
  python -m workflow.compare results results          # the last rebuild against the one before
  python -m workflow.compare published/ results/ --delta 0.002 > comment.md
"""


class Usage(Exception):
    """OLD or NEW names no record; the message says which and why."""


def records_folder(path: Path) -> Path:
    """The folder of records a folder argument names: ``builds/`` of a results folder, or the
    folder itself when it holds records."""
    return builds_dir(path) if builds_dir(path).is_dir() or not record_files(path) else path


def resolve(path: Path, previous: bool = False) -> Path:
    """The record a command-line argument names: the file itself, or the newest record of a
    results folder (or of a builds folder); with ``previous``, the record before the newest."""
    if path.is_file():
        return path
    if not path.exists():
        raise Usage(f"{path}: no such file or folder")
    folder = records_folder(path)
    newest = latest(folder)
    if newest is None:
        raise Usage(f"{folder}: no build record (a build writes one at its end)")
    if not previous:
        return newest
    before = latest(folder, before=newest)
    if before is None:
        raise Usage(f"{folder}: only one build record ({newest.name}), nothing to compare it with")
    return before


def label(path: Path, record: dict) -> str:
    p = record["provenance"]
    commit = str(p.get("commit") or "unknown")
    commit = commit[:10] if len(commit) == 40 else commit
    dirty = ", uncommitted changes" if p.get("dirty") else ""
    return f"`{path.name}` (commit {commit}{dirty}, {record['created_utc']})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workflow.compare", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", metavar="OLD", type=Path, help="the build compared against: a record or a results folder")
    parser.add_argument("new", metavar="NEW", type=Path, help="the build to check: a record or a results folder")
    parser.add_argument("--delta", type=float, default=None, metavar="DELTA",
                        help=f"the smallest difference of mean test accuracy that matters (default: the NEW "
                             f"build's study's `delta`, else {DELTA}: half a percentage point)")
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON instead of Markdown")
    args = parser.parse_args(argv)
    if args.delta is not None and not (args.delta >= 0 and args.delta < 1):
        parser.error(f"--delta must be between 0 and 1, got {args.delta}")
    try:
        same = (args.old.is_dir() and args.new.is_dir()
                and records_folder(args.old).resolve() == records_folder(args.new).resolve())
        new_path = resolve(args.new)
        old_path = resolve(args.old, previous=same)
        old, new = read_record(old_path), read_record(new_path)
    except (RecordError, Usage) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    delta = args.delta if args.delta is not None else new["config"].get("delta", DELTA)  # as the report judges it
    result = compare(old, new, delta=delta)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        sys.stdout.write(markdown(result, label(old_path, old), label(new_path, new)))
    return 1 if result["regression"] else 0


if __name__ == "__main__":
    sys.exit(main())
