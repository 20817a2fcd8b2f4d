rule mnist:
    output:
        MNIST_MANIFEST,
    log:
        "results/logs/mnist.log",
    conda:
        "../envs/cnnlib.yaml"
    params:
        source=config["mnist_dir"],
    script:
        "../scripts/get_mnist.py"
