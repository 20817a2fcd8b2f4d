"""The report: figures (plotting apart from training), the context the templates print,
the rendered LaTeX and Markdown, and the PDF. Figure names come from workflow.results.
"""

CAPTION = "../../report/captions/figure.rst"
TEMPLATES = sorted(
    str(p.relative_to(REPO)) for p in (REPO / "report/templates").rglob("*.j2")
)


# the sweep figures of every experiment but the protocol ablation (which has only seeds)
rule figures_experiment:
    input:
        summary=R.summary(),
        curves=R.curves(),
        runs=R.run_table(),
    output:
        accuracy=report(
            R.figure("{experiment}_accuracy"), caption=CAPTION, category="Experiments"
        ),
        loss=report(
            R.figure("{experiment}_loss"), caption=CAPTION, category="Experiments"
        ),
    log:
        R.log("report/figures_{experiment}.log"),
    wildcard_constraints:
        experiment="|".join(e for e in EXPERIMENTS if e != PLAN.ablation),
    priority: FOLLOW_UP
    conda:
        "../envs/report.yaml"
    params:
        title=lambda w: EXPERIMENTS[w.experiment].title,
        style=config["plots"],
        code=script_hash("plot_experiment.py"),
    script:
        "../scripts/plot_experiment.py"


rule figure_seeds:
    input:
        runs=seeds_tables,
    output:
        report(R.figure("{experiment}_seeds"), caption=CAPTION, category="Experiments"),
    log:
        R.log("report/figure_seeds_{experiment}.log"),
    priority: FOLLOW_UP
    conda:
        "../envs/report.yaml"
    params:
        title=lambda w: EXPERIMENTS[w.experiment].title,
        groups=seeds_groups,
        style=config["plots"],
        code=script_hash("plot_seeds.py"),
    script:
        "../scripts/plot_seeds.py"


rule figure_baseline:
    input:
        curves=R.curves(PLAN.baseline.experiment),
    output:
        report(R.figure("baseline"), caption=CAPTION, category="Experiments"),
    log:
        R.log("report/figure_baseline.log"),
    priority: FOLLOW_UP
    conda:
        "../envs/report.yaml"
    params:
        variant=PLAN.baseline.name,
        style=config["plots"],
        code=script_hash("plot_baseline.py"),
    script:
        "../scripts/plot_baseline.py"


rule figure_lr_trace:
    input:
        curves=R.curves(),
    output:
        report(
            R.figure("lr_trace_{experiment}_{variant}"),
            caption=CAPTION,
            category="Experiments",
        ),
    log:
        R.log("report/figure_lr_trace_{experiment}_{variant}.log"),
    priority: FOLLOW_UP
    conda:
        "../envs/report.yaml"
    params:
        style=config["plots"],
        code=script_hash("plot_lr_trace.py"),
    script:
        "../scripts/plot_lr_trace.py"


rule figure_conv1:
    input:
        R.visual,
    output:
        report(R.figure("conv1"), caption=CAPTION, category="Experiments"),
    log:
        R.log("report/figure_conv1.log"),
    priority: FOLLOW_UP
    conda:
        "../envs/report.yaml"
    params:
        style=config["plots"],
        code=script_hash("plot_conv1.py"),
    script:
        "../scripts/plot_conv1.py"


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
        visual=R.visual,
        reference=REFERENCE_2018,
        build_info=R.build_info,
        models=[run_file(k, "metrics.json") for k in MODEL_RUNS],
        dynamic=[run_file(k, "metrics.json") for k in DYNAMIC_RUNS],
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
        code=script_hash("report_context.py"),
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
