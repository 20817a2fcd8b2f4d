"""Fill the LaTeX and Markdown templates from the context."""

import json

from cnnlib.io import atomic_write_text
from nnreport.render import latex_environment, markdown_environment, render

with open(snakemake.log[0], "w"), open(snakemake.input.context, encoding="utf-8") as fh:
    context = json.load(fh)
    folder = snakemake.params.templates
    atomic_write_text(snakemake.output.tex, render(latex_environment(folder), "report.tex.j2", context))
    atomic_write_text(snakemake.output.md, render(markdown_environment(folder), "report.md.j2", context))
