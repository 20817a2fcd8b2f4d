"""Per-experiment summaries and curves, the table of all runs, and every comparison the
report states (tested across seeds, corrected together)."""


rule summarize:
    input:
        unpack(experiment_runs),
    output:
        summary=R.summary(),
        curves=R.curves(),
        runs=R.run_table(),
    log:
        R.log("summary/{experiment}.log"),
    priority: FOLLOW_UP
    conda:
        "../envs/cnnlib.yaml"
    params:
        experiment=experiment_params,
        code=script_hash("summarize.py"),
    script:
        "../scripts/summarize.py"


rule all_runs:
    input:
        [R.run_table(e) for e in sorted(EXPERIMENTS)],
    output:
        R.runs_csv,
    log:
        R.log("summary/runs.log"),
    priority: FOLLOW_UP
    conda:
        "../envs/cnnlib.yaml"
    params:
        code=script_hash("all_runs.py"),
    script:
        "../scripts/all_runs.py"


rule comparisons:
    input:
        runs=R.runs_csv,
        reference=REFERENCE,
    output:
        R.comparisons,
    log:
        R.log("summary/comparisons.log"),
    priority: FOLLOW_UP
    conda:
        "../envs/report.yaml"
    params:
        plan=PLAN_DESCRIPTION,
        code=script_hash("comparisons.py"),
    script:
        "../scripts/comparisons.py"
