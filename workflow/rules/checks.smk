"""Evidence for the report's numerical safeguards, and the first conv layer of a trained run."""


rule checks:
    output:
        gradcheck=R.gradcheck,
        stability=R.stability,
    log:
        R.log("checks.log"),
    priority: FOLLOW_UP
    conda:
        "../envs/cnnlib.yaml"
    params:
        code=script_hash("checks.py"),
    script:
        "../scripts/checks.py"


if PLAN.visual:
    VISUAL_VARIANT, VISUAL_SEED = PLAN.visual

    rule visual:
        input:
            data=ancient(MNIST_MANIFEST),
            weights=R.run_file("weights.npz", *VISUAL_VARIANT.key, VISUAL_SEED),
        output:
            R.visual,
        log:
            R.log("visual.log"),
        priority: FOLLOW_UP
        conda:
            "../envs/cnnlib.yaml"
        params:
            run=planned_settings((*VISUAL_VARIANT.key, VISUAL_SEED)),
            digits=config["visual"].get("digits", 4),
            code=script_hash("visual.py"),
        script:
            "../scripts/visual.py"
