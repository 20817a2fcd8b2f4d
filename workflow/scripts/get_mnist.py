"""Provide verified MNIST in the output's folder: copied from `mnist_dir`, or downloaded."""

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from cnnlib.data import MNIST_FILES, DatasetError, download_mnist, verify_mnist
from cnnlib.io import write_json


def copy_atomic(src: Path, dst: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=dst.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(source, manifest: Path, log) -> None:
    folder = manifest.parent
    folder.mkdir(parents=True, exist_ok=True)
    if source:
        found = verify_mnist(source)
        for name, path in found.items():
            for old in (folder / name, folder / f"{name}.gz"):
                old.unlink(missing_ok=True)
            copy_atomic(path, folder / path.name)
            print(f"{path}: verified, copied to {folder}", file=log)
    else:
        download_mnist(folder, log=lambda msg: print(msg, file=log))
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
