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

:func:`limit_training_cpus` keeps local training jobs from outnumbering the machine's CPUs.
"""

from __future__ import annotations

import os
import threading

MARK = "_cnnlib_coalesced"


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
