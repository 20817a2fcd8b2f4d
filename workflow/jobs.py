"""The environment of the workflow's jobs, and the watch on the process that started them.

:func:`prepare_jobs` (called once by the Snakefile): job scripts import this repository's
packages (``cnnlib``, ``workflow``, ``report``) via ``PYTHONPATH``; and, for local runs,
the process that started the workflow is named in ``CNNLIB_WORKFLOW_PROCESS`` so that a
training job stops by itself within seconds when that process is gone (killed with
``kill -9``, a lost session), instead of training on as an orphan
(:func:`exit_when_workflow_gone`). Cluster jobs are not watched: they keep running when
the submitting Snakemake stops, as the README's cluster section says.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path

WATCH_ENV = "CNNLIB_WORKFLOW_PROCESS"


def prepare_jobs(repo, watch: bool) -> None:
    """Put ``repo`` first on ``PYTHONPATH``; with ``watch``, name this process for the jobs."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if not paths or paths[0] != str(repo):
        os.environ["PYTHONPATH"] = os.pathsep.join([str(repo), *paths])
    if watch:
        os.environ[WATCH_ENV] = watch_token()


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (tells a process from a later one with its pid)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def watch_token(pid: int | None = None) -> str:
    """``host:pid:start`` of the current (or given) process."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_time(pid) or ''}"


def alive(token: str) -> bool:
    """Whether the process of ``token`` still runs; True when that cannot be told here
    (another host, no /proc)."""
    try:
        host, pid, start = token.rsplit(":", 2)
        pid = int(pid)
    except ValueError:
        return True
    if host != socket.gethostname() or not start or not Path("/proc").is_dir():
        return True
    return _start_time(pid) == start


def start_watchdog(token: str | None, on_gone, interval: float = 2.0) -> threading.Thread | None:
    """Call ``on_gone()`` from a daemon thread once the process of ``token`` is gone."""
    if not token:
        return None

    def watch():
        while alive(token):
            time.sleep(interval)
        on_gone()

    thread = threading.Thread(target=watch, name="workflow-watchdog", daemon=True)
    thread.start()
    return thread


def exit_when_workflow_gone(log=sys.stderr, interval: float = 2.0):
    """In a job: stop the process (exit code 3) when the Snakemake process that started
    the workflow is gone. Outputs are written atomically, so nothing half-written stays."""

    def gone():
        print("the Snakemake process that started this job is gone: stopping", file=log, flush=True)
        os._exit(3)

    return start_watchdog(os.environ.get(WATCH_ENV), gone, interval)
