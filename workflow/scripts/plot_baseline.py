"""Baseline figure: test accuracy and per-iteration training loss on twin axes."""

from report.plots import plot_baseline

with open(snakemake.log[0], "w"):
    plot_baseline(snakemake.input.curves, snakemake.output[0], style=dict(snakemake.params.style),
                  variant=snakemake.params.variant)
