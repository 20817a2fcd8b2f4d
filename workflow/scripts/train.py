"""Train one run (one variant, one seed) with cnnlib; progress and a summary go to the log.

A run whose settings train exactly the numbers of an earlier run (``input.same``: that run's
files; workflow.experiments.shared_runs) is not trained again: its files are copied. A run
whose first epochs another run trains (``input.continues``: that run's files;
workflow.experiments.continued_runs) continues it and trains only the remaining epochs."""

from contextlib import redirect_stderr
from pathlib import Path

from cnnlib.runfiles import copy_run
from cnnlib.train import run
from workflow.jobs import exit_when_workflow_gone

with open(snakemake.log[0], "w") as log, redirect_stderr(log):  # per-epoch lines, no progress bar
    exit_when_workflow_gone(log)
    settings = dict(snakemake.params.run)
    settings["data"] = {**settings["data"], "dir": str(Path(snakemake.input.data).parent)}
    out = Path(snakemake.output.metrics).parent
    if snakemake.input.same:
        source = Path(snakemake.input.same[0]).parent
        metrics = copy_run(source, out, settings, str(source))
        print(f"same settings as {source}: its files copied, not trained again", file=log)
    elif snakemake.input.continues:
        source = Path(snakemake.input.continues[0]).parent
        print(f"continues {source}", file=log)
        metrics = run(settings, out, progress=True, continue_from=source)
    else:
        metrics = run(settings, out, progress=True)
    final = metrics["final"]
    if metrics["status"] == "completed":
        print(
            f"completed: test accuracy {final['test_accuracy']:.4f}, "
            f"train time {metrics['time']['train_seconds']:.1f} s",
            file=log,
        )
    else:
        print(f"diverged at iteration {metrics['diverged_at_iteration']}", file=log)
