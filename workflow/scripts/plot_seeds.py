"""The final test accuracy of every run of one experiment (for the protocol ablation: of
every re-run beside the runs it re-runs), with the mean and 95% t-interval of the runs
that learned."""

from report.plots import plot_seeds

with open(snakemake.log[0], "w") as log:
    drawn = plot_seeds(
        list(snakemake.input.runs),
        list(snakemake.params.groups),
        snakemake.output[0],
        snakemake.params.title,
        style=dict(snakemake.params.style),
    )
    for label, d in drawn.items():
        print(f"{label!r}: {d}", file=log)
