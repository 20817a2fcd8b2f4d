"""Provide verified MNIST in the manifest's folder: from `mnist_dir`, or downloaded.

The files are stored uncompressed, so that each of the many training jobs reads them
in a few milliseconds instead of decompressing 10 MB. The source is read from the
config on purpose (see workflow/rules/data.smk): where the data came from must not rerun
anything, its content is checked against MNIST's published checksums.
"""

import gzip
import hashlib
import sys
from pathlib import Path

from cnnlib.data import DatasetError, download_mnist, verify_mnist
from cnnlib.io import atomic_write_bytes, write_json

OFFLINE_HINT = (
    "Give the workflow a folder that holds the four MNIST files (raw or .gz): "
    "`snakemake ... --config mnist_dir=DIR`."
)


def read_bytes(path: Path) -> bytes:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as fh:
            return fh.read()
    return path.read_bytes()


def provide(source, manifest: Path, log) -> None:
    folder = manifest.parent
    folder.mkdir(parents=True, exist_ok=True)
    if source:
        found = verify_mnist(source)  # checks everything before anything is written
    else:
        download_mnist(folder, log=lambda msg: print(msg, file=log))
        found = verify_mnist(folder)
    for name, path in found.items():
        if path != folder / name:
            atomic_write_bytes(folder / name, read_bytes(path))
            print(f"{path}: verified, stored uncompressed in {folder}", file=log)
    for name in found:
        (folder / f"{name}.gz").unlink(missing_ok=True)  # the raw file is used from now on
    files = verify_mnist(folder)
    write_json(
        manifest,
        {
            "source": str(source) if source else "download",
            "files": {
                name: {
                    "file": path.name,
                    "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                }
                for name, path in sorted(files.items())
            },
        },
    )


source = snakemake.config.get("mnist_dir")
with open(snakemake.log[0], "w") as log:
    try:
        provide(source, Path(snakemake.output[0]), log)
    except DatasetError as exc:
        if source:
            message = f"MNIST in mnist_dir is not usable: {exc}"
        else:
            message = f"MNIST could not be downloaded. {OFFLINE_HINT}\nDetails: {exc}"
        print(message, file=log)
        print(f"\n{message}\n", file=sys.stderr)
        sys.exit(1)
