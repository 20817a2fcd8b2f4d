"""One context, built from the workflow's results, that feeds both report templates.

Each section of the outline (``report/templates/outline.j2``) has its builder in
:mod:`report.sections`; this module reads nothing itself, it only hands them the results and
puts their parts together. Everything printed is a string formatted there
(:mod:`report.numbers`); booleans are used for template conditions, never printed.

Where the numbers come from: per-run quantities from ``runs.csv``, per-variant numbers from
the experiments' summaries, every comparison from ``comparisons.csv`` (:mod:`report.inference`),
the layer tables and the 2018 protocol from the runs' resolved configs (``metrics.json``), the
2018 numbers and statements from the reference file (when the study has one).
"""

from __future__ import annotations

import datetime
import re

from report.sections import comparisons as every_comparison
from report.sections import changes, experiments, network, provenance, reproduction, summary
from report.sections.common import Inputs, number_rows
from cnnlib.results import PRINTED_WIDTH


def results_date(runs: list[dict]) -> str:
    """When the newest run finished (UTC, ISO 8601): the report's date, not the build's."""
    stamps = sorted(r["finished_utc"] for r in runs if r.get("finished_utc"))
    return stamps[-1] if stamps else "1970-01-01T00:00:00+00:00"


def _check_figures(figures: dict) -> None:
    for name, path in figures.items():  # printed unescaped in both formats: keep them plain
        if not re.fullmatch(r"[A-Za-z0-9._/-]+", path):
            raise ValueError(f"figure {name}: path {path!r} has characters a report cannot link safely")


def visual(inp: Inputs) -> dict | None:
    """The first conv layer of the visualised run, with what its figure shows in words."""
    if not inp.plan.get("visual") or inp.visual is None:
        return None
    exp, variant, seed = inp.plan["visual"]
    active = inp.visual.get("active") or []
    items = (inp.plan.get("dataset") or {}).get("items", "images")
    shares = ", ".join(f"{100 * a:.0f}%" for a in active)
    text = (f"What the first conv layer of run {exp}/{variant} (seed {seed}) computes: its {len(active)} "
            f"filters applied to the first test image of each of the {items} "
            f"{', '.join(map(str, inp.visual['digits']))}. After ReLU, filter 1 to {len(active)} respond on "
            f"{shares} of these images' pixels; the maps show where.") \
        if active else f"The first conv layer of run {exp}/{variant} (seed {seed})."
    return {"figure": inp.figure("first-conv-layer"), "text": text,
            "caption": f"Test {items} {', '.join(map(str, inp.visual['digits']))} and their first-layer feature "
                       f"maps after ReLU (run {exp}/{variant}, seed {seed})."}


def build_context(*, plan, summaries, runs, comparisons: list, gradcheck, stability, reference, build_info,
                  figures, visual_maps, models, dynamic, builds=None) -> dict:
    """All the report's numbers and sentences.

    Args:
        plan: :func:`workflow.experiments.describe` of the plan, with ``report`` (title,
            author), ``study``, ``data`` and ``dataset`` (workflow/rules/common.smk).
        summaries: {experiment: rows of the summary CSV} (dicts of strings).
        runs: rows of runs.csv.
        comparisons: rows of comparisons.csv, typed (:func:`report.readers.read_comparisons`).
        gradcheck, stability: rows of the checks CSVs.
        reference: the 2018 numbers and statements (:func:`report.reproduction.load_reference`),
            or None when the study has none.
        build_info: environment and provenance captured at build time, plus ``results_date``.
        figures: {figure name: path relative to the report file}, the registry's figures.
        visual_maps: {"digits": [labels shown], "active": [share of active pixels per
            filter]}, or None.
        models: metrics.json of ``plan["model_runs"]`` (their configs give the layer tables).
        dynamic: metrics.json of ``plan["dynamic_runs"]`` (the schedule each used).
        builds: ``{"previous": comparison or None, "published": comparison or None}``: this
            build against the previous build's record and the published one
            (``workflow.builds.compare``, with ``label``, ``commit`` and the published ``path``).
    """
    _check_figures(figures)
    inp = Inputs(plan, summaries, runs, comparisons, gradcheck, stability, reference, build_info, figures,
                 visual_maps, models, dynamic)
    inp.builds = builds
    inp.ids = number_rows(comparisons)
    appendix_a = reproduction.build(inp)
    what_changed = changes.build(builds)
    date = build_info["results_date"]
    report_cfg = plan.get("report", {})
    return {
        "title": report_cfg.get("title", "CNN experiments"),
        "author": report_cfg.get("author", ""),
        "date": date[:10],
        "source_date_epoch": int(datetime.datetime.fromisoformat(date).timestamp()),
        "widths": {kind: f"{w:g}" for kind, w in PRINTED_WIDTH.items()},
        "figures": dict(figures),  # every figure of the registry by name: a new one is printed by name
        "summary": summary.build(inp, appendix_a, what_changed),
        "experiments": experiments.build(inp),
        "visual": visual(inp),
        "network": network.build(inp),
        "reproduction": appendix_a,
        "comparisons": every_comparison.build(inp),
        "provenance": provenance.build(inp),
        "changes": what_changed,
        **other_sections(inp),
    }


#: The sections :func:`build_context` builds by name (they need each other's parts).
BUILT = ("common", "summary", "experiments", "network", "reproduction", "comparisons", "provenance", "changes")


def other_sections(inp: Inputs) -> dict:
    """Every other module of :mod:`report.sections` with a ``build(inputs)`` is a section too:
    its part of the context is ``context[module name]``. So a new section is two files: its
    builder there and its part of the outline."""
    import importlib
    import pkgutil

    import report.sections as package

    out = {}
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module.name not in BUILT:
            build = getattr(importlib.import_module(f"report.sections.{module.name}"), "build", None)
            if callable(build):
                out[module.name] = build(inp)
    return out
