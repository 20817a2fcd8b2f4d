"""One training run per (experiment, variant, seed). Cached runs are checked when the
workflow starts: a run whose files are missing or damaged is retrained (see
workflow/runcheck.py)."""

import os
import sys

from workflow.runcheck import FORCED_ENV, RunFolderError, damaged_runs, rerun_damaged


wildcard_constraints:
    experiment="|".join(EXPERIMENTS),
    variant="[A-Za-z0-9][A-Za-z0-9._-]*",
    seed="[0-9]+",


# only the process the user started checks (job processes parse this file too), and only
# once: the restart with --forcerun marks itself in the environment
if MAIN_PROCESS and not os.environ.get(FORCED_ENV):
    try:
        DAMAGED = damaged_runs(
            [
                (R.run_dir(*key), R.summary(key[0]), planned_settings(key))
                for key in ALL_RUNS
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
        data=MNIST_ID,
        code=script_hash("train.py"),
    script:
        "../scripts/train.py"
