wildcard_constraints:
    experiment="|".join(EXPERIMENTS),
    variant="[A-Za-z0-9][A-Za-z0-9._-]*",
    seed="[0-9]+",


rule train:
    input:
        data=MNIST_MANIFEST,
    output:
        metrics=f"{RUNS}/metrics.json",
        history=f"{RUNS}/history.json",
        weights=f"{RUNS}/weights.npz",
    log:
        "results/logs/runs/{experiment}/{variant}/seed-{seed}.log",
    benchmark:
        "results/benchmarks/runs/{experiment}/{variant}/seed-{seed}.tsv"
    conda:
        "../envs/cnnlib.yaml"
    threads: config["threads"]
    resources:
        mem_mb=1000,
        runtime=run_minutes,
    params:
        run=run_config,
        cnnlib=CNNLIB_HASH,
    script:
        "../scripts/train.py"
