"""How this workflow's jobs share a machine; both parts are applied by the Snakefile.

:func:`coalesce_reevaluations` fixes Snakemake's scheduler loop. Snakemake 9 rate-limits job
submissions (``--max-jobs-per-timespan``, default ``100/1s``). With a rate limit set, every
scheduling round starts a timer that runs one more round a timespan later, and that round
starts the next timer: every job that finishes adds one more such chain, and no chain ever
stops. In the default workflow (about 250 jobs, 2 cores) the scheduler was running over a
hundred rounds a second by the end, each re-evaluating every ready job and checking its input
files: about 66 CPU seconds of the Snakemake process in a 400-second run, taken from the two
cores the training jobs share (upstream: snakemake/snakemake#3744 and #3955). The fix keeps
at most one pending timer per delay: a round still follows within the timespan whenever the
rate limit may have held jobs back, which is all the timers are for. The timers are daemon
threads, so Snakemake also no longer waits for them when it exits.

:func:`look_behind_ancient_inputs` fixes a case where Snakemake leaves out jobs that must
rerun: see there.

:func:`limit_training_cpus` keeps local training jobs from outnumbering the machine's CPUs.
"""

from __future__ import annotations

import os
import threading
from collections import deque

MARK = "_cnnlib_coalesced"  # on the methods this module replaced
MASKING = "_cnnlib_masking"  # on a DAG while it decides which jobs rerun


def coalesce_reevaluations(scheduler_class=None) -> bool:
    """Make ``JobScheduler._schedule_reevalutation`` start a timer only when none is pending.

    Returns True when the fix is in place (now or before); False, changing nothing, when this
    Snakemake's scheduler has no such method (a later version may have fixed it).
    """
    if scheduler_class is None:
        try:
            from snakemake.scheduling import job_scheduler
        except ImportError:
            return False
        scheduler_class = job_scheduler.JobScheduler
    original = getattr(scheduler_class, "_schedule_reevalutation", None)
    if original is None:
        return False
    if getattr(original, MARK, False):
        return True

    def schedule_reevaluation(self, delay) -> None:
        state = self.__dict__.setdefault(MARK, {"lock": threading.Lock(), "pending": set()})
        with state["lock"]:
            if delay in state["pending"]:
                return
            state["pending"].add(delay)

        def fire():
            with state["lock"]:
                state["pending"].discard(delay)
            self._open_jobs.release()

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        timer.start()

    setattr(schedule_reevaluation, MARK, True)
    schedule_reevaluation.__wrapped__ = original
    scheduler_class._schedule_reevalutation = schedule_reevaluation
    return True


def look_behind_ancient_inputs(dag_class=None) -> bool:
    """Make Snakemake check, by its own reasons, every job that takes a rerunning job's
    output only through ``ancient()`` inputs.

    ``DAG.update_needrun`` first walks the jobs in order and, once a job must rerun, skips
    ("masks") every job below it, to reach them again when it spreads the rerun down the
    DAG. But the spread stops at ``ancient()`` inputs, so a job below one is never looked at,
    even when its own params or code changed. Here the training jobs take the MNIST
    manifest as ``ancient()``: a statement changed in ``cnnlib/data.py`` (which both the
    data step and training import) reran the data step and left the training for the next
    invocation. The fix masks only through edges that are not all ``ancient()``.

    Returns True when the fix is in place (now or before); False, changing nothing, when
    this Snakemake's DAG lacks the methods it wraps.
    """
    if dag_class is None:
        import snakemake.api  # noqa: F401 - loads snakemake.dag without its import cycle
        from snakemake.dag import DAG as dag_class
    update, bfs = getattr(dag_class, "update_needrun", None), getattr(dag_class, "bfs", None)
    if update is None or bfs is None:
        return False
    if getattr(update, MARK, False):
        return True

    def masking_bfs(self, direction, *jobs, stop=lambda job: False):
        if not getattr(self, MASKING, False) or direction is not self.depending:
            yield from bfs(self, direction, *jobs, stop=stop)
            return
        queue, visited = deque(jobs), set(jobs)
        while queue:
            job = queue.popleft()
            if stop(job):
                continue
            yield job
            for later, files in direction[job].items():
                if later not in visited and not (files and all(f.is_ancient for f in files)):
                    visited.add(later)
                    queue.append(later)

    async def update_needrun(self, *args, **kwargs):
        setattr(self, MASKING, True)  # the masking walk is the only bfs over `depending` in there
        try:
            return await update(self, *args, **kwargs)
        finally:
            setattr(self, MASKING, False)

    setattr(update_needrun, MARK, True)
    update_needrun.__wrapped__, masking_bfs.__wrapped__ = update, bfs
    dag_class.update_needrun, dag_class.bfs = update_needrun, masking_bfs
    return True


#: The resource every local training job claims its BLAS threads of (see :func:`limit_training_cpus`).
TRAINING_CPUS = "training_cpus"


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask; ``os.cpu_count()`` where there is none)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def limit_training_cpus(workflow) -> int | None:
    """Locally, let the training jobs together use at most the CPUs this machine has.

    ``--cores`` above that (the README's ``--cores 4`` on a 2-core machine) would otherwise
    run more single-threaded training jobs than there are CPUs: they only take turns, each
    turn refills the caches, and every run's time per epoch, CPU time included, goes up by
    a third or more. The other jobs (summaries, figures) still use the rest of ``--cores``.

    Registers the global resource :data:`TRAINING_CPUS` with that many CPUs and returns it;
    keeps a value the user gave (``--resources training_cpus=N``); None on a cluster
    executor, where jobs run on other machines.
    """
    if not workflow.local_exec:
        return None
    given = workflow.global_resources.get(TRAINING_CPUS)  # Snakemake's: a Resource, its value None when unset
    given = getattr(given, "value", given)
    if given is not None:
        return int(given)
    cpus = usable_cpus()
    workflow.register_resource(TRAINING_CPUS, cpus)
    return cpus
