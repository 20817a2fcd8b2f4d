"""Accuracy and loss figures of one experiment: means over the runs that learned."""

from report.plots import plot_sweep

with open(snakemake.log[0], "w") as log:
    colours = plot_sweep(
        snakemake.input.summary,
        snakemake.input.curves,
        snakemake.output.accuracy,
        snakemake.output.loss,
        snakemake.params.title,
        style=dict(snakemake.params.style),
        run_table=snakemake.input.runs,
    )
    print(f"colours: {colours}", file=log)
