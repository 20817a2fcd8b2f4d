"""Baseline figure: test accuracy and per-iteration training loss on twin axes."""

from nnreport.figures import plot_baseline

with open(snakemake.log[0], "w"):
    plot_baseline(snakemake.input.curves, snakemake.output[0], style=dict(snakemake.params.style))
