"""The learning rate a dynamic-schedule variant used, iteration by iteration."""

from report.plots import plot_lr_trace

with open(snakemake.log[0], "w"):
    plot_lr_trace(
        snakemake.input.curves,
        snakemake.wildcards.variant,
        snakemake.output[0],
        style=dict(snakemake.params.style),
    )
