"""Cached runs checked when the workflow starts.

:func:`damaged_runs` checks every planned run that has any of its files with
:func:`cnnlib.runfiles.check_run` (all files present, strict JSON, checksums), compares the
settings and seed its ``metrics.json`` records with those the plan gives that run (a folder
holding another run's files checks out on its own), and finds runs deleted after a summary
was made from them. Each is named with what is wrong, and :func:`rerun_damaged` starts the
same command again with ``--forcerun`` for exactly those runs (a dry run shows what it would
retrain); nothing is deleted by the check itself.

A run folder that cannot be looked at (a symbolic link to itself, a loop) stops the
workflow with :class:`RunFolderError`, naming the folder and the fix: retraining cannot
write into it.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from cnnlib.runfiles import RUN_FILES, RunFileError, check_run
from workflow.experiments import identity_settings


class RunFolderError(ValueError):
    """A run folder the workflow cannot use; the message names it and the fix."""


def settings_difference(recorded: dict, planned: dict) -> list[str]:
    """``key recorded value (planned value)`` for every training setting that differs between
    a run's recorded config and the one the plan gives it (seed included); the data's
    checksums as one item, ``data: other files``."""
    a, b = identity_settings(recorded), identity_settings(planned)
    out = []
    for k in sorted(set(a) | set(b)):
        if a.get(k, "unset") == b.get(k, "unset"):
            continue
        if k.startswith("data.sha256"):
            if "data: other files" not in out:
                out.append("data: other files")
            continue
        out.append(f"{k} {a.get(k, 'unset')!r} (planned {b.get(k, 'unset')!r})")
    return out


def _check_folder(folder: Path) -> None:
    try:
        os.stat(folder)
    except FileNotFoundError:
        return
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RunFolderError(f"{folder}: a symbolic link that leads back to itself (a loop); remove it "
                                 f"with `rm {folder}` and run again (the run is then trained anew)") from None
        raise RunFolderError(f"{folder}: cannot be read ({exc.strerror}); fix or remove it and run again") from None


def damaged_runs(runs, say=print) -> list[str]:
    """The folders of the runs whose files do not check out, each named with what is wrong.

    Args:
        runs: ``[(run folder, summary made from it)]`` or ``[(run folder, summary, planned
            settings)]``. A run with none of its files is damaged only when its summary
            exists (the run was deleted after it was used); otherwise it is simply not trained
            yet. With planned settings (:func:`workflow.experiments.run_settings`), a run
            whose ``metrics.json`` records other training settings or another seed
            (:func:`cnnlib.config.training_identity`) is not that run: it is retrained.

    Raises:
        RunFolderError: a run folder that cannot be looked at (see the module docstring).
    """
    bad, other = [], {}
    for folder, summary, *planned in runs:
        folder = Path(folder)
        _check_folder(folder)
        if not any((folder / name).exists() for name in RUN_FILES):
            if Path(summary).exists():
                bad.append(str(folder))
                say(f"{folder}: its files are gone, but {summary} was made from them")
            continue
        try:
            metrics = check_run(folder)
        except RunFileError as exc:
            bad.append(str(folder))
            say(str(exc))
            continue
        if planned and planned[0] is not None:
            config = metrics.get("config")
            differs = (["config: missing"] if not isinstance(config, dict) else
                       _differs(config, planned[0]))
            if differs:
                bad.append(str(folder))
                text = "; ".join(differs[:4]) + (f" and {len(differs) - 4} more" if len(differs) > 4 else "")
                other.setdefault(text, []).append(folder)
    for text, folders in other.items():  # a config change moves many runs the same way: one line
        if len(folders) <= 3:
            for folder in folders:
                say(f"{folder}: holds a run of other settings than the plan gives it: {text}")
        else:
            say(f"{len(folders)} runs ({folders[0]}, {folders[1]}, ...) hold runs of other settings than the plan "
                f"gives them: {text}")
    return bad


def _differs(recorded: dict, planned: dict) -> list[str]:
    try:
        return settings_difference(recorded, planned)
    except (KeyError, TypeError, ValueError, AttributeError):
        return ["config: not a run config"]


FORCED_ENV = "CNNLIB_FORCED_RUNS"


def command_targets(argv: list[str]) -> list[str] | None:
    """The targets of a snakemake command line (``sys.orig_argv``), read with Snakemake's own
    argument parser; None when it cannot be read."""
    import contextlib
    import io

    argv = list(argv)[_program_end(argv) + 1:]
    explicit = []
    if "--" in argv:
        explicit, argv = argv[argv.index("--") + 1:], argv[:argv.index("--")]
    try:
        from snakemake.cli import get_argument_parser

        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            args = get_argument_parser().parse_args(argv)
    except (SystemExit, Exception):
        return None
    return [*args.targets, *explicit]


def needed_runs(targets, experiments, runs, run_of_path, summary_of_path, links) -> set | None:
    """The runs a command's ``targets`` need (None: every run, also when a target is not
    understood): an experiment's runs for its name or its summary files, one run for a path in
    its folder, and the runs these copy or continue (``links``: {run: its source}).

    Args:
        experiments: the experiment names; runs: every planned run ``(experiment, variant, seed)``;
        run_of_path(path) -> run or None; summary_of_path(path) -> experiment or None.
    """
    if targets is None or not targets:
        return None
    needed = set()
    for t in targets:
        t = str(t).rstrip("/")
        if t in experiments:
            needed |= {r for r in runs if r[0] == t}
        elif (run := run_of_path(t)) is not None:
            needed.add(run)
        elif (exp := summary_of_path(t)) is not None:
            needed |= {r for r in runs if r[0] == exp}
        else:
            return None
    todo = list(needed)
    while todo:
        source = links.get(todo.pop())
        if source is not None and source not in needed:
            needed.add(source)
            todo.append(source)
    return needed


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
        raise RuntimeError(f"retrain these runs with: {command}")
    say(f"retraining these runs: {command}" if len(files) <= 3 else
        f"retraining these {len(files)} runs: the same command with --forcerun and their metrics.json files")
    os.environ[FORCED_ENV] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *with_forcerun(argv, files)[1:]])
