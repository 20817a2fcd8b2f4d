"""Train one run (one variant, one seed) with cnnlib; progress and a summary go to the log."""

from contextlib import redirect_stderr
from pathlib import Path

from cnnlib.train import run
from workflow.jobs import exit_when_workflow_gone

with open(snakemake.log[0], "w") as log, redirect_stderr(log):  # per-epoch lines, no progress bar
    exit_when_workflow_gone(log)
    settings = dict(snakemake.params.run)
    settings["data"] = {**settings["data"], "dir": str(Path(snakemake.input.data).parent)}
    metrics = run(settings, Path(snakemake.output.metrics).parent, progress=True)
    final = metrics["final"]
    if metrics["status"] == "completed":
        print(
            f"completed: test accuracy {final['test_accuracy']:.4f}, "
            f"train time {metrics['time']['train_seconds']:.1f} s",
            file=log,
        )
    else:
        print(f"diverged at iteration {metrics['diverged_at_iteration']}", file=log)
