rule summarize:
    input:
        unpack(experiment_runs),
    output:
        summary="results/summary/{experiment}.csv",
        curves="results/summary/curves/{experiment}.csv",
    params:
        experiment=experiment_params,
    log:
        "results/logs/summary/{experiment}.log",
    conda:
        "../envs/cnnlib.yaml"
    script:
        "../scripts/summarize.py"


rule all_runs:
    input:
        [run_file(k, "metrics.json") for k in ALL_RUNS],
    output:
        "results/summary/runs.csv",
    params:
        runs=ALL_RUNS,
    log:
        "results/logs/summary/runs.log",
    conda:
        "../envs/cnnlib.yaml"
    script:
        "../scripts/all_runs.py"


for _experiment in EXPERIMENTS:

    rule:
        name:
            _experiment
        input:
            f"results/summary/{_experiment}.csv",
            f"results/summary/curves/{_experiment}.csv",
        default_target: False
