"""Provide verified MNIST in the output's folder: from `mnist_dir`, or downloaded.

The files are stored uncompressed, so that each of the many training jobs reads them
in a few milliseconds instead of decompressing 10 MB.
"""

import gzip
import hashlib
import sys
from pathlib import Path

from cnnlib.data import DatasetError, download_mnist, verify_mnist
from cnnlib.io import atomic_write_bytes, write_json


def read_bytes(path: Path) -> bytes:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as fh:
            return fh.read()
    return path.read_bytes()


def main(source, manifest: Path, log) -> None:
    folder = manifest.parent
    folder.mkdir(parents=True, exist_ok=True)
    if not source:
        download_mnist(folder, log=lambda msg: print(msg, file=log))
    found = verify_mnist(source or folder)
    for name, path in found.items():
        atomic_write_bytes(folder / name, read_bytes(path))
        if path != folder / name:
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


with open(snakemake.log[0], "w") as log:
    try:
        main(snakemake.params.source, Path(snakemake.output[0]), log)
    except DatasetError as exc:
        message = f"MNIST is not available: {exc}"
        if not snakemake.params.source:
            message += (
                "\nOr run the workflow with `--config mnist_dir=PATH`, PATH being a "
                "folder that holds the four files."
            )
        print(message, file=log)
        print(message, file=sys.stderr)
        sys.exit(1)
