"""A PDF kept after a failed rebuild must not pass for a current one.

The ``pdf`` rule marks its output ``update()``: while the job runs Snakemake keeps the last
good PDF aside and puts it back when the job fails, so the user still has a report. But
Snakemake 9 then records the failed job like a finished one: the PDF put back is filed as
built from the new ``report.tex`` (and dated after it), and the next run would call it up to
date. So the job leaves a marker until it succeeds (:func:`mark`, :func:`clear`), and when a
run fails, the workflow's ``onerror`` handler (:func:`forget`) drops Snakemake's record of a
marked PDF and dates it before its source: the next run builds it again.
"""

from __future__ import annotations

import os
from pathlib import Path


def marker(pdf) -> Path:
    """The marker beside ``pdf``: ``results/.report.pdf.stale``."""
    pdf = Path(pdf)
    return pdf.with_name(f".{pdf.name}.stale")


def mark(pdf) -> None:
    marker(pdf).parent.mkdir(parents=True, exist_ok=True)
    marker(pdf).write_text("the PDF beside this file was not rebuilt from the current report.tex\n")


def clear(pdf) -> None:
    marker(pdf).unlink(missing_ok=True)


def age(pdf, source) -> None:
    """Date ``pdf`` one second before ``source`` (when it is not older already)."""
    pdf, source = Path(pdf), Path(source)
    t = source.stat().st_mtime - 1
    if pdf.stat().st_mtime > t:
        os.utime(pdf, (t, t))


def forget(workflow, pdf, source) -> bool:
    """After a failed run: when ``pdf`` is a kept one (it has a marker), drop Snakemake's
    record of it (as ``snakemake --cleanup-metadata`` does) and date it before ``source``, so
    that the next run rebuilds it. True when it did."""
    pdf, source = Path(pdf), Path(source)
    if not (marker(pdf).exists() and pdf.is_file() and source.is_file()):
        return False
    from snakemake.io import IOFile

    workflow.persistence.cleanup_metadata(IOFile(str(pdf)))
    age(pdf, source)
    return True
