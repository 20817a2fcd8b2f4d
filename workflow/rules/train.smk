"""One training run per (experiment, variant, seed). Cached runs are checked when the
workflow starts: a run whose files are missing or damaged is retrained (see
workflow/runcheck.py)."""

import os
import sys

from workflow.runcheck import (
    FORCED_ENV,
    RunFolderError,
    command_targets,
    damaged_runs,
    needed_runs,
    rerun_damaged,
)


wildcard_constraints:
    experiment="|".join(EXPERIMENTS),
    variant="[A-Za-z0-9][A-Za-z0-9._-]*",
    seed="[0-9]+",


# only the process the user started checks (job processes parse this file too), and only
# once: the restart with --forcerun marks itself in the environment
if MAIN_PROCESS and not os.environ.get(FORCED_ENV):
    # the runs this command needs (all of them for the default target): a run that another
    # command needs is left to that command
    NEEDED = needed_runs(
        command_targets(getattr(sys, "orig_argv", sys.argv)),
        set(EXPERIMENTS),
        ALL_RUNS,
        R.run_of,
        lambda path: R.experiment_of(path, EXPERIMENTS),
        {**SHARED, **CONTINUED},
    )
    try:
        DAMAGED = damaged_runs(
            [
                (R.run_dir(*key), R.summary(key[0]), planned_settings(key))
                for key in ALL_RUNS
                if NEEDED is None or key in NEEDED
            ],
            say=lambda text: print(text, file=sys.stderr),
        )
    except RunFolderError as exc:
        raise WorkflowError(str(exc)) from None
    if DAMAGED:
        try:
            rerun_damaged(
                [f"{d}/metrics.json" for d in DAMAGED],
                say=lambda text: print(text, file=sys.stderr),
            )
        except RuntimeError as exc:
            raise WorkflowError(str(exc)) from None


rule train:
    input:
        data=ancient(MNIST_MANIFEST),
        same=same_run,
        continues=continued_run,
    output:
        metrics=R.run_file("metrics.json"),
        history=R.run_file("history.json"),
        weights=R.run_file("weights.npz"),
        optimizer=R.run_file("optimizer.npz"),
    log:
        R.log("runs/{experiment}/{variant}/seed-{seed}.log"),
    benchmark:
        R.benchmark("runs/{experiment}/{variant}/seed-{seed}.tsv")
    priority: train_priority
    conda:
        "../envs/cnnlib.yaml"
    threads: config["threads"]
    resources:
        mem_mb=1000,
        runtime=run_minutes,
        training_cpus=TRAINING_CPUS,
    params:
        run=run_config,
        code=script_hash("train.py"),
    script:
        "../scripts/train.py"
