from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/checks.smk"
include: "workflow/rules/report.smk"


# quick steps that read many files or need the internet stay on the submitting machine
localrules:
    all,
    mnist,
    summarize,
    all_runs,
    figures_experiment,
    figure_baseline,
    figure_lr_trace,
    figure_conv1,
    build_info,
    report_context,
    render,
    pdf,


rule all:
    default_target: True
    input:
        expand("results/summary/{experiment}.csv", experiment=EXPERIMENTS),
        expand("results/summary/curves/{experiment}.csv", experiment=EXPERIMENTS),
        "results/summary/runs.csv",
        "results/checks/gradcheck.csv",
        "results/checks/loss_stability.csv",
        "results/visual/conv1_maps.npz",
        "results/report.md",
        "results/report.pdf",
