"""What the report records of how it was made: the git state and the command line."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git_state(repo) -> dict:
    """``{"commit": sha or a note, "dirty": uncommitted changes to tracked files}``; outside a
    git checkout ``dirty`` is None (nothing to compare with)."""

    def git(*args):
        try:
            r = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
        except OSError:
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": "unknown (not a git checkout)", "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status)}


def command_line(repo, configfiles, config_args) -> str:
    """The command that rebuilds these results: every ``--configfile`` in order (relative to
    the repository when inside it) and every ``--config`` setting."""
    repo = Path(repo).resolve()
    parts = ["snakemake"]
    for f in configfiles:
        f = Path(f).resolve()
        parts.append(f"--configfile {f.relative_to(repo) if f.is_relative_to(repo) else f}")
    if config_args:
        parts += ["--config", *map(str, config_args)]
    return " ".join(parts)
