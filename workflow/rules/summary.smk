rule summarize:
    input:
        unpack(experiment_runs),
    output:
        summary="results/summary/{experiment}.csv",
        curves="results/summary/curves/{experiment}.csv",
    log:
        "results/logs/summary/{experiment}.log",
    conda:
        "../envs/cnnlib.yaml"
    params:
        experiment=experiment_params,
    script:
        "../scripts/summarize.py"


rule all_runs:
    input:
        [run_file(k, "metrics.json") for k in ALL_RUNS],
    output:
        "results/summary/runs.csv",
    log:
        "results/logs/summary/runs.log",
    conda:
        "../envs/cnnlib.yaml"
    params:
        runs=ALL_RUNS,
    script:
        "../scripts/all_runs.py"


for _experiment in EXPERIMENTS:

    rule:
        name:
            _experiment
        default_target: False
        input:
            f"results/summary/{_experiment}.csv",
            f"results/summary/curves/{_experiment}.csv",
