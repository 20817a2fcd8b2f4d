"""report.tex -> report.pdf with pdflatex (no shell escape); a TeX error shows its few relevant lines."""

import json
import sys

from report.render import LatexError, build_pdf

with open(snakemake.log[0], "w") as log:
    with open(snakemake.input.context, encoding="utf-8") as fh:
        epoch = json.load(fh)["source_date_epoch"]
    try:
        build_pdf(snakemake.input.tex, snakemake.output[0], epoch)
    except LatexError as exc:
        message = f"results/report.pdf was not built: {exc}"
        print(message, file=log)
        print(message, file=sys.stderr)
        sys.exit(1)
