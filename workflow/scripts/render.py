"""Fill the report's outline in both formats, LaTeX and Markdown, from the context."""

import json

from cnnlib.io import atomic_write_text
from report.render import TEMPLATE, environment, render

with open(snakemake.log[0], "w"), open(snakemake.input.context, encoding="utf-8") as fh:
    context = json.load(fh)
    for fmt, path in (("tex", snakemake.output.tex), ("md", snakemake.output.md)):
        atomic_write_text(path, render(environment(snakemake.params.templates, fmt), TEMPLATE[fmt], context))
