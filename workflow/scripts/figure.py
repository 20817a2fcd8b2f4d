"""One figure of the report's registry (cnnlib.results.figures), drawn by its kind's plot
(report.plots.PLOTS) from the inputs the registry names."""

from report.plots import draw

with open(snakemake.log[0], "w") as log:
    inputs = {name: snakemake.input[name] for name in snakemake.input.keys()}
    drawn = draw(snakemake.params.kind, inputs, dict(snakemake.params.subject), snakemake.output[0],
                 style=dict(snakemake.params.style))
    print(drawn, file=log)
