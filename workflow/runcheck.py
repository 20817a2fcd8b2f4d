"""Cached runs checked when the workflow starts.

:func:`damaged_runs` checks every planned run that has any of its files with
:func:`cnnlib.runfiles.check_run` (all files present, strict JSON, checksums), and finds
runs deleted after a summary was made from them. Each is named with what is wrong, and
:func:`rerun_damaged` starts the same command again with ``--forcerun`` for exactly those
runs (a dry run shows what it would retrain); nothing is deleted by the check itself.

"""

from __future__ import annotations

from pathlib import Path

from cnnlib.runfiles import RUN_FILES, RunFileError, check_run


def damaged_runs(runs, say=print) -> list[str]:
    """The folders of the runs whose files do not check out, each named with what is wrong.

    Args:
        runs: ``[(run folder, summary made from it)]``. A run with none of its files is
            damaged only when its summary exists (the run was deleted after it was used);
            otherwise it is simply not trained yet.
    """
    bad = []
    for folder, summary in runs:
        folder = Path(folder)
        if not any((folder / name).exists() for name in RUN_FILES):
            if Path(summary).exists():
                bad.append(str(folder))
                say(f"{folder}: its files are gone, but {summary} was made from them")
            continue
        try:
            check_run(folder)
        except RunFileError as exc:
            bad.append(str(folder))
            say(str(exc))
    return bad


FORCED_ENV = "CNNLIB_FORCED_RUNS"


def with_forcerun(argv: list[str], files: list[str]) -> list[str]:
    """``argv`` (a snakemake command line) with ``--forcerun FILES`` added where argparse
    reads them as files to force: before the first option (or ``--``), else at the end."""
    argv = list(argv)
    for i, arg in enumerate(argv[1:], 1):
        if arg in ("--forcerun", "-R"):  # the user's own --forcerun: add to it
            return argv[: i + 1] + files + argv[i + 1:]
    for i, arg in enumerate(argv[1:], 1):
        if arg.startswith("-") and i > _program_end(argv):
            return argv[:i] + ["--forcerun", *files] + argv[i:]
    return argv + ["--forcerun", *files]


def _program_end(argv) -> int:
    """Index of the last element naming the program (``python -m snakemake`` or a script)."""
    if len(argv) > 2 and argv[1] == "-m":
        return 2
    return 1 if len(argv) > 1 and argv[1].endswith("snakemake") else 0


def rerun_damaged(files: list[str], say=print) -> None:
    """Start this snakemake command again with ``--forcerun FILES``: Snakemake retrains
    exactly those runs and what was made from them (alone it would not: it accepts a
    missing or damaged intermediate file while the results made from it are up to date).
    When the command line is not a snakemake one it can restart, raise with the command."""
    import os
    import sys

    argv = list(getattr(sys, "orig_argv", sys.argv))
    command = " ".join(with_forcerun(["snakemake", *argv[_program_end(argv) + 1:]], files))
    if os.environ.get(FORCED_ENV) or not any("snakemake" in a for a in argv[:3]):
        raise RuntimeError(f"retrain the damaged runs with: {command}")
    say(f"retraining the damaged runs: {command}")
    os.environ[FORCED_ENV] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *with_forcerun(argv, files)[1:]])
