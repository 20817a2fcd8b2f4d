"""The data, once per content, in a folder of its own (workflow.datasets): resources/mnist
for the published MNIST, resources/data-ID for other files in MNIST's format.

The data job runs only when that folder's MANIFEST.json is missing. Its source
(`--config mnist_dir=DIR`, or the download) is read from the config, not passed as a
param, so another source of the same files reruns nothing; the runs take the manifest as
an `ancient` input and the files' checksums in their settings (data.sha256).
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
        sha256=DATA.sha256,
        code=script_hash("get_mnist.py"),
    script:
        "../scripts/get_mnist.py"
