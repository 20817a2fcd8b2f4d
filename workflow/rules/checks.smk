rule checks:
    output:
        gradcheck="results/checks/gradcheck.csv",
        stability="results/checks/loss_stability.csv",
    params:
        cnnlib=CNNLIB_HASH,
    log:
        "results/logs/checks.log",
    conda:
        "../envs/cnnlib.yaml"
    script:
        "../scripts/checks.py"


rule visual:
    input:
        data=MNIST_MANIFEST,
        weights=run_file(
            (VISUAL["experiment"], VISUAL["variant"], VISUAL["seed"]), "weights.npz"
        ),
    output:
        "results/visual/conv1_maps.npz",
    params:
        run=run_settings(VISUAL["experiment"], VISUAL["variant"], VISUAL["seed"]),
        mnist=str(Path(MNIST_MANIFEST).parent),
        digits=VISUAL["digits"],
    log:
        "results/logs/visual.log",
    conda:
        "../envs/cnnlib.yaml"
    script:
        "../scripts/visual.py"
