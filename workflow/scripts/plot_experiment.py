"""Accuracy and loss figures of one experiment, and the colour each variant got."""

from cnnlib.io import write_json
from nnreport.figures import plot_sweep

with open(snakemake.log[0], "w") as log:
    colours = plot_sweep(
        snakemake.input.summary,
        snakemake.input.curves,
        snakemake.output.accuracy,
        snakemake.output.loss,
        snakemake.params.title,
        style=dict(snakemake.params.style),
    )
    write_json(snakemake.output.colours, colours)
    print(f"colours: {colours}", file=log)
