"""Provide the data in its own folder (workflow.datasets): from `mnist_dir`, or MNIST downloaded.

The files are stored uncompressed, so that each of the many training jobs reads them
in a few milliseconds instead of decompressing 10 MB. The folder is chosen by content
(the files' checksums, taken when the workflow started and passed here): where the files
came from reruns nothing, other content trains anew.
"""

import gzip
import sys
from pathlib import Path

from cnnlib.data import MNIST_FILES, DatasetError, download_mnist, idx_digests, verify_mnist
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


def provide(source, manifest: Path, expected: dict, log) -> None:
    folder = manifest.parent
    folder.mkdir(parents=True, exist_ok=True)
    if source:
        found = idx_digests(source)  # checks everything before anything is written
        changed = [n for n in MNIST_FILES if found[n]["sha256"] != expected[n]]
        if changed:
            raise DatasetError(f"{source}: {', '.join(changed)} changed since the workflow started; run it again")
        paths = {n: Path(source).expanduser() / found[n]["file"] for n in MNIST_FILES}
    else:
        download_mnist(folder, log=lambda msg: print(msg, file=log))
        paths = verify_mnist(folder)
    for name, path in paths.items():
        if path.resolve() != (folder / name).resolve():
            atomic_write_bytes(folder / name, read_bytes(path))
            print(f"{path}: stored uncompressed in {folder}", file=log)
    for name in paths:
        (folder / f"{name}.gz").unlink(missing_ok=True)  # the raw file is used from now on
    stored = idx_digests(folder)
    if {n: stored[n]["sha256"] for n in MNIST_FILES} != expected:
        raise DatasetError(f"{folder}: the stored files are not the ones checked; delete {folder} and run again")
    write_json(manifest, {"source": str(source) if source else "download", "files": stored})


source = snakemake.config.get("mnist_dir")
with open(snakemake.log[0], "w") as log:
    try:
        provide(source, Path(snakemake.output[0]), snakemake.params.sha256, log)
    except DatasetError as exc:
        if source:
            message = f"The data in mnist_dir is not usable: {exc}"
        else:
            message = f"MNIST could not be downloaded. {OFFLINE_HINT}\nDetails: {exc}"
        print(message, file=log)
        print(f"\n{message}\n", file=sys.stderr)
        sys.exit(1)
