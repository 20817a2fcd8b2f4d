rule mnist:
    output:
        MNIST_MANIFEST,
    params:
        source=config["mnist_dir"],
    log:
        "results/logs/mnist.log",
    conda:
        "../envs/cnnlib.yaml"
    script:
        "../scripts/get_mnist.py"
