"""MNIST, once, in resources/mnist: the runs depend on its content, not on where it came from.

The data job runs only when resources/mnist/MANIFEST.json is missing. Its source
(`--config mnist_dir=DIR`, or the download) is read from the config, not passed as a
param, so another source of the same (checksum-verified) files reruns nothing; the runs
take the manifest as an `ancient` input and the files' checksums as a param.
"""


rule mnist:
    output:
        MNIST_MANIFEST,
    log:
        R.log("mnist.log"),
    priority: FOLLOW_UP
    conda:
        "../envs/cnnlib.yaml"
    params:
        code=script_hash("get_mnist.py"),
    script:
        "../scripts/get_mnist.py"
