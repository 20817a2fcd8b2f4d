"""The report: figures (plotting apart from training), the context the templates print,
the rendered LaTeX and Markdown, and the PDF. Figures come from the registry
(cnnlib.results.figures, FIGURES in common.smk): exactly those are made and printed, each by
one rule from the inputs the registry names.
"""

from workflow import keptpdf

CAPTION = "../../report/captions/figure.rst"
TEMPLATES = sorted(
    str(p.relative_to(REPO)) for p in (REPO / "report/templates").rglob("*.j2")
)


# every figure of the registry (cnnlib.results.figures), from the inputs it names
rule figure:
    input:
        unpack(figure_inputs),
    output:
        report(R.figure("{figure}"), caption=CAPTION, category="Experiments"),
    log:
        R.log("report/figure_{figure}.log"),
    wildcard_constraints:
        figure="|".join(FIGURES),
    priority: FOLLOW_UP
    conda:
        "../envs/report.yaml"
    params:
        kind=lambda w: FIGURES[w.figure].kind,
        subject=figure_subject,
        style=config["plots"],
        code=script_hash("figure.py"),
    script:
        "../scripts/figure.py"


rule build_info:
    output:
        R.build_info,
    log:
        R.log("report/build_info.log"),
    priority: FOLLOW_UP
    conda:
        "../envs/report.yaml"
    params:
        commit=GIT["commit"],
        dirty=GIT["dirty"],
        config_hash=CONFIG_HASH,
        command=COMMAND,
        # how many jobs could share the cores (the report states it beside the CPU times)
        cores=workflow.resource_settings.cores if workflow.local_exec else None,
        threads=config["threads"],
        training_cpus=TRAINING_CPU_LIMIT,
        code=script_hash("build_info.py"),
    script:
        "../scripts/build_info.py"


rule report_context:
    input:
        summaries=[R.summary(e) for e in EXPERIMENTS],
        runs=R.runs_csv,
        comparisons=R.comparisons,
        gradcheck=R.gradcheck,
        stability=R.stability,
        visual=[R.visual] if PLAN.visual else [],
        reference=REFERENCE,
        build_info=R.build_info,
        models=[run_file(k, "metrics.json") for k in MODEL_RUNS],
        dynamic=[run_file(k, "metrics.json") for k in DYNAMIC_RUNS],
        published=[config["published_build"]] if config["published_build"] else [],
    output:
        R.context,
    log:
        R.log("report/context.log"),
    priority: FOLLOW_UP
    conda:
        "../envs/report.yaml"
    params:
        report=REPORT_PLAN,
        figures={name: R.relative(path) for name, path in all_figures().items()},
        # this build, as its record will be, against the previous record and the published one
        build={
            "root": R.root,
            "config": config,
            "provenance": PROVENANCE,
            "data": DATA.describe(),
        },
        # every builder of report/sections: report.context finds the sections it does not name
        code=script_hash("report_context.py", "report/sections/*.py"),
    script:
        "../scripts/report_context.py"


rule render:
    input:
        context=R.context,
        outline="report/templates/outline.j2",
        templates=TEMPLATES,
        figures=list(all_figures().values()),
    output:
        tex=R.tex,
        md=R.md,
    log:
        R.log("report/render.log"),
    priority: FOLLOW_UP
    conda:
        "../envs/report.yaml"
    params:
        templates=lambda w, input: str(Path(input.outline).parent),
        code=script_hash("render.py"),
    script:
        "../scripts/render.py"


rule pdf:
    input:
        tex=R.tex,
        md=R.md,  # the Markdown report is made first, even if TeX is missing
        context=R.context,
        figures=list(all_figures().values()),
    output:
        # update(): the last good PDF is kept aside while this job runs, and put back if it fails
        update(R.pdf),
    log:
        R.log("report/pdf.log"),
    priority: FOLLOW_UP
    conda:
        "../envs/report.yaml"
    params:
        code=script_hash("pdf.py"),
    script:
        "../scripts/pdf.py"


onerror:
    # the PDF kept after a failed rebuild is rebuilt by the next run (workflow/keptpdf.py)
    keptpdf.forget(workflow, R.pdf, R.tex)
