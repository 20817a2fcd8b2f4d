"""report.tex -> report.pdf with pdflatex (no shell escape); a TeX error shows its few relevant lines.

The rule marks the PDF ``update()``: Snakemake keeps the previous PDF aside while this job
runs and puts it back when the job fails, so a failed rebuild never leaves the user without
the last good report; the next run builds it again (workflow/keptpdf.py)."""

import json
import sys
from pathlib import Path

from report.render import LatexError, build_pdf
from workflow import keptpdf

pdf = snakemake.output[0]
with open(snakemake.log[0], "w") as log:
    with open(snakemake.input.context, encoding="utf-8") as fh:
        epoch = json.load(fh)["source_date_epoch"]
    keptpdf.mark(pdf)  # until this build succeeds, whatever stops it
    try:
        build_pdf(snakemake.input.tex, pdf, epoch)
        keptpdf.clear(pdf)
    except LatexError as exc:
        kept = " (the previous one is kept until a rebuild succeeds)" if Path(pdf).exists() else ""
        message = f"{pdf} was not built{kept}: {exc}"
        print(message, file=log)
        print(message, file=sys.stderr)
        sys.exit(1)
