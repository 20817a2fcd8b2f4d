"""The fix for Snakemake's re-evaluation timers (workflow.scheduling), on Snakemake's own class."""

import threading
import time

from snakemake.scheduling.job_scheduler import JobScheduler

from conftest import REPO
from workflow.scheduling import coalesce_reevaluations, look_behind_ancient_inputs


def bare_scheduler(cls):
    """An instance of ``cls`` with only what ``_schedule_reevalutation`` touches."""
    s = object.__new__(cls)
    s._open_jobs = threading.Semaphore(0)
    return s


def releases(scheduler, wait=0.3):
    time.sleep(wait)
    n = 0
    while scheduler._open_jobs.acquire(blocking=False):
        n += 1
    return n


def test_snakemake_starts_a_timer_per_call_and_the_fix_starts_one():
    class Upstream(JobScheduler):
        pass

    class Fixed(JobScheduler):
        pass

    assert coalesce_reevaluations(Fixed) is True
    upstream, fixed = bare_scheduler(Upstream), bare_scheduler(Fixed)
    for _ in range(5):  # five finished jobs, each followed by a scheduling round
        upstream._schedule_reevalutation(0.05)
        fixed._schedule_reevalutation(0.05)
    assert releases(upstream) == 5  # the chains this fix exists for
    assert releases(fixed) == 1
    # once the timer has fired, the next round can start the next one
    fixed._schedule_reevalutation(0.05)
    assert releases(fixed) == 1
    # another delay (Snakemake's wait for queue input) keeps its own timer
    fixed._schedule_reevalutation(0.05)
    fixed._schedule_reevalutation(0.06)
    assert releases(fixed) == 2


def test_the_timers_do_not_hold_up_exit():
    class Fixed(JobScheduler):
        pass

    coalesce_reevaluations(Fixed)
    before = set(threading.enumerate())
    bare_scheduler(Fixed)._schedule_reevalutation(30)
    new = [t for t in threading.enumerate() if t not in before]
    assert len(new) == 1 and new[0].daemon
    new[0].cancel()


def test_the_fix_applies_once_and_leaves_other_versions_alone():
    class Fixed(JobScheduler):
        pass

    coalesce_reevaluations(Fixed)
    patched = Fixed._schedule_reevalutation
    assert coalesce_reevaluations(Fixed) is True
    assert Fixed._schedule_reevalutation is patched  # not wrapped twice

    class Later:  # a Snakemake without the method: nothing to fix, nothing changed
        pass

    assert coalesce_reevaluations(Later) is False
    assert not hasattr(Later, "_schedule_reevalutation")
    # the installed Snakemake has the method, so the workflow does get the fix
    assert hasattr(JobScheduler, "_schedule_reevalutation")


def test_the_snakefile_applies_the_fix():
    from conftest import REPO

    lines = [ln.strip() for ln in (REPO / "Snakefile").read_text().splitlines()]
    assert "coalesce_reevaluations()" in lines


def test_masking_walks_only_through_inputs_that_are_not_all_ancient():
    import asyncio

    import snakemake.api  # noqa: F401 - loads snakemake.dag without its import cycle
    from snakemake.dag import DAG

    class File:  # what the walk reads of Snakemake's input files
        def __init__(self, ancient):
            self.is_ancient = ancient

    def upstream():
        class Upstream:  # Snakemake's walk; update_needrun stands in for Snakemake's, recording its masking walk
            bfs = DAG.bfs

            async def update_needrun(self):
                self.masked = list(self.bfs(self.depending, "data"))

        dag = object.__new__(Upstream)
        plain, ancient = File(False), File(True)
        # data -> train (an ancient input) -> summary; data -> other (one plain input among ancient ones)
        dag.depending = {"data": {"train": {ancient}, "other": {ancient, plain}}, "train": {"summary": {plain}},
                         "other": {}, "summary": {}}
        return Upstream, dag

    cls, dag = upstream()
    asyncio.run(dag.update_needrun())
    assert dag.masked == ["data", "train", "other", "summary"]  # Snakemake masks train and summary too

    cls, dag = upstream()
    assert look_behind_ancient_inputs(cls) is True
    patched = cls.update_needrun
    assert look_behind_ancient_inputs(cls) is True and cls.update_needrun is patched  # not wrapped twice
    asyncio.run(dag.update_needrun())
    assert dag.masked == ["data", "other"]  # train (and below it) is left to its own reasons
    assert list(dag.bfs(dag.depending, "data")) == ["data", "train", "other", "summary"]  # other walks unchanged
    assert look_behind_ancient_inputs(type("Later", (), {})) is False
    assert hasattr(DAG, "update_needrun") and hasattr(DAG, "bfs")  # the installed Snakemake gets the fix
    lines = [ln.strip() for ln in (REPO / "Snakefile").read_text().splitlines()]
    assert "look_behind_ancient_inputs()" in lines


class FakeWorkflow:
    def __init__(self, local, resources=None):
        self.local_exec = local
        self.global_resources = dict(resources or {})
        self.registered = {}

    def register_resource(self, name, value):
        self.registered[name] = self.global_resources[name] = value


def test_local_training_jobs_share_at_most_the_machines_cpus(monkeypatch):
    import workflow.scheduling as sched

    monkeypatch.setattr(sched, "usable_cpus", lambda: 2)
    local = FakeWorkflow(local=True, resources={"_cores": 4})
    assert sched.limit_training_cpus(local) == 2
    assert local.registered == {sched.TRAINING_CPUS: 2}
    # the user's own limit stays
    mine = FakeWorkflow(local=True, resources={sched.TRAINING_CPUS: 3})
    assert sched.limit_training_cpus(mine) == 3 and not mine.registered
    # a cluster's jobs run on other machines: no limit from this one
    cluster = FakeWorkflow(local=False)
    assert sched.limit_training_cpus(cluster) is None and not cluster.registered


def test_usable_cpus_follows_the_affinity_mask():
    import os

    import workflow.scheduling as sched

    assert sched.usable_cpus() == len(os.sched_getaffinity(0))


def test_the_workflow_profile_makes_snakemake_schedule_greedily(monkeypatch):
    """profiles/default is read by every `snakemake` in the repo (Snakemake's workflow
    profile); without it Snakemake runs its ILP scheduler (pulp + CBC) at every round."""
    from snakemake.cli import parse_args

    monkeypatch.chdir(REPO)
    _, args = parse_args(["--cores", "2", "-n"])
    assert args.scheduler == "greedy"
    _, args = parse_args(["--cores", "2", "-n", "--workflow-profile", "none"])
    assert args.scheduler == "ilp"  # Snakemake's default: what the profile changes
