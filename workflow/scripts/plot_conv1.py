"""Test digits beside their first-conv-layer feature maps."""

from report.plots import plot_conv1

with open(snakemake.log[0], "w"):
    plot_conv1(snakemake.input[0], snakemake.output[0], style=dict(snakemake.params.style))
