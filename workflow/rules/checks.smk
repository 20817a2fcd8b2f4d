rule checks:
    output:
        gradcheck="results/checks/gradcheck.csv",
        stability="results/checks/loss_stability.csv",
    log:
        "results/logs/checks.log",
    conda:
        "../envs/cnnlib.yaml"
    params:
        cnnlib=CNNLIB_HASH,
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
    log:
        "results/logs/visual.log",
    conda:
        "../envs/cnnlib.yaml"
    params:
        run=run_settings(VISUAL["experiment"], VISUAL["variant"], VISUAL["seed"]),
        mnist=lambda w, input: str(Path(input.data).parent),
        digits=VISUAL["digits"],
    script:
        "../scripts/visual.py"
