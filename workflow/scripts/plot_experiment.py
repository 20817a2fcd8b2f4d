"""An experiment's figure: the final accuracy of every run against its setting, test accuracy,
training loss and learning rate over training (report.plots.plot_experiment)."""

from pathlib import Path

from report.plots import plot_experiment

with open(snakemake.log[0], "w") as log:
    # the experiment's own run table and those of the experiments its free points come from
    runs = snakemake.input.runs
    run_tables = {Path(p).stem: str(p) for p in ([runs] if isinstance(runs, str) else runs)}
    drawn = plot_experiment(
        dict(snakemake.params.spec),
        snakemake.input.curves,
        run_tables,
        snakemake.output[0],
        style=dict(snakemake.params.style),
    )
    for key, value in drawn.items():
        print(f"{key}: {value}", file=log)
