rule figures_experiment:
    input:
        summary="results/summary/{experiment}.csv",
        curves="results/summary/curves/{experiment}.csv",
    output:
        accuracy=report(
            "results/report/figures/{experiment}_accuracy.png",
            caption="../../report/captions/figure.rst",
            category="Experiments",
        ),
        loss=report(
            "results/report/figures/{experiment}_loss.png",
            caption="../../report/captions/figure.rst",
            category="Experiments",
        ),
        colours="results/report/figures/{experiment}_colours.json",
    log:
        "results/logs/report/figures_{experiment}.log",
    conda:
        "../envs/report.yaml"
    params:
        title=lambda w: config["experiments"][w.experiment].get("title", w.experiment),
        style=config["plots"],
        code=NNREPORT_HASH,
    script:
        "../scripts/plot_experiment.py"


rule figure_baseline:
    input:
        curves=f"results/summary/curves/{BASELINE}.csv",
    output:
        report(
            "results/report/figures/baseline.png",
            caption="../../report/captions/figure.rst",
            category="Experiments",
        ),
    log:
        "results/logs/report/figure_baseline.log",
    conda:
        "../envs/report.yaml"
    params:
        style=config["plots"],
        code=NNREPORT_HASH,
    script:
        "../scripts/plot_baseline.py"


rule figure_lr_trace:
    input:
        curves=lambda w: f"results/summary/curves/{DYNAMIC[w.variant]}.csv",
    output:
        report(
            "results/report/figures/lr_trace_{variant}.png",
            caption="../../report/captions/figure.rst",
            category="Experiments",
        ),
    log:
        "results/logs/report/figure_lr_trace_{variant}.log",
    conda:
        "../envs/report.yaml"
    params:
        style=config["plots"],
        code=NNREPORT_HASH,
    script:
        "../scripts/plot_lr_trace.py"


rule figure_conv1:
    input:
        "results/visual/conv1_maps.npz",
    output:
        report(
            "results/report/figures/conv1.png",
            caption="../../report/captions/figure.rst",
            category="Experiments",
        ),
    log:
        "results/logs/report/figure_conv1.log",
    conda:
        "../envs/report.yaml"
    params:
        style=config["plots"],
        code=NNREPORT_HASH,
    script:
        "../scripts/plot_conv1.py"


rule build_info:
    output:
        "results/report/build_info.json",
    log:
        "results/logs/report/build_info.log",
    conda:
        "../envs/report.yaml"
    params:
        commit=GIT["commit"],
        dirty=GIT["dirty"],
        config_hash=CONFIG_HASH,
        command=COMMAND,
    script:
        "../scripts/build_info.py"


rule report_context:
    input:
        unpack(report_inputs),
    output:
        "results/report/context.json",
    log:
        "results/logs/report/context.log",
    conda:
        "../envs/report.yaml"
    params:
        config={k: config[k] for k in ("experiments", "report", "visual")},
        figures=report_figures(relative_to="results"),
        code=NNREPORT_HASH,
    script:
        "../scripts/report_context.py"


rule render:
    input:
        context="results/report/context.json",
        templates=TEMPLATES,
        figures=list(report_figures().values()),
    output:
        tex="results/report.tex",
        md="results/report.md",
    log:
        "results/logs/report/render.log",
    conda:
        "../envs/report.yaml"
    params:
        templates=lambda w, input: str(Path(input.templates[0]).parent),
        code=NNREPORT_HASH,
    script:
        "../scripts/render.py"


rule pdf:
    input:
        tex="results/report.tex",
        md="results/report.md",  # the Markdown report is made first, even if TeX is missing
        context="results/report/context.json",
        figures=list(report_figures().values()),
    output:
        "results/report.pdf",
    log:
        "results/logs/report/pdf.log",
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/pdf.py"
