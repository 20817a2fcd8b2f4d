"""The data every run trains on: four files in MNIST's IDX format, known by their content.

The config names a folder (``mnist_dir``) or none (MNIST is downloaded). When the workflow
starts, :func:`data_source` checks the folder's four files (:func:`cnnlib.data.idx_digests`:
structure, and that no file holds another published MNIST file) and takes the SHA-256 of each
one's decompressed content. That content decides everything downstream:

* the runs' settings carry the checksums (``data.sha256``), so another content retrains
  every run, and the same content from another folder (or from the download) retrains
  nothing;
* the data step stores the files uncompressed in a folder of their own,
  ``resources/mnist`` for the published MNIST and ``resources/data-<id>`` for any other
  content (``id``: the first 16 hex digits of the SHA-256 of the four checksums), so
  switching between datasets never reuses the other's files;
* the report states the checksums and whether they are the published MNIST's.

``dataset.sha256`` in the config (``published``, or the four checksums) makes a folder
with other content an error instead.

Digests are cached in ``resources/digests.json`` by each file's path, size and modification
time, so that a workflow start does not read 55 MB again while nothing changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cnnlib.data import MNIST_FILES, MNIST_SHA256, DatasetError, idx_digests
from cnnlib.io import atomic_write_bytes

PUBLISHED_STORE = "resources/mnist"
CACHE = "resources/digests.json"


class DataConfigError(ValueError):
    """The data the config names cannot be used; the message names the key and the fix."""


def content_id(sha256: dict[str, str]) -> str:
    """16 hex digits naming a dataset's content (its four files' SHA-256)."""
    return hashlib.sha256(json.dumps(sha256, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DataSource:
    """What the runs train on (see the module docstring)."""

    name: str  # what the report calls it (config ``dataset.name``)
    folder: str | None  # the config's folder; None: MNIST downloaded
    sha256: dict[str, str]  # {standard file name: SHA-256 of its decompressed bytes}, in MNIST_FILES order
    files: dict = field(default_factory=dict)  # {name: {file, count, shape}} when a folder was read
    published: bool = True  # the published MNIST files

    @property
    def id(self) -> str:
        return content_id(self.sha256)

    @property
    def store(self) -> str:
        """The folder the data step fills (uncompressed files and ``MANIFEST.json``)."""
        return PUBLISHED_STORE if self.published else f"resources/data-{self.id}"

    @property
    def manifest(self) -> str:
        return f"{self.store}/MANIFEST.json"

    def describe(self) -> dict:
        """Plain data for the report and the build record."""
        return {"name": self.name, "folder": self.folder, "published_mnist": self.published, "id": self.id,
                "sha256": dict(self.sha256), "files": self.files}


def _stamp(path: Path) -> list:
    st = path.stat()
    return [path.name, st.st_size, st.st_mtime_ns]


def folder_digests(folder, cache: str | os.PathLike | None = CACHE) -> dict[str, dict]:
    """:func:`cnnlib.data.idx_digests` of ``folder``, from ``cache`` while the files' names,
    sizes and modification times are those recorded with it."""
    folder = Path(folder).expanduser().resolve()
    found = {}
    for name in MNIST_FILES:
        for cand in (folder / f"{name}.gz", folder / name):
            if cand.is_file():
                found[name] = _stamp(cand)
                break
    store = {}
    if cache and Path(cache).is_file():
        try:
            store = json.loads(Path(cache).read_text())
        except (OSError, ValueError):
            store = {}
    entry = store.get(str(folder)) if isinstance(store, dict) else None
    if isinstance(entry, dict) and entry.get("stamps") == found and len(found) == len(MNIST_FILES):
        return entry["digests"]
    digests = idx_digests(folder)
    if cache:
        store = store if isinstance(store, dict) else {}
        store[str(folder)] = {"stamps": found, "digests": digests}
        try:
            atomic_write_bytes(Path(cache), json.dumps(store, indent=1, sort_keys=True).encode())
        except OSError:
            pass  # a cache only
    return digests


def data_source(mnist_dir: str | None, dataset: dict | None = None, cache=CACHE) -> DataSource:
    """The data of a config (``mnist_dir`` and the ``dataset`` section; see the module docstring).

    Raises:
        DataConfigError: naming ``mnist_dir`` or ``dataset.sha256`` and what to do.
    """
    dataset = dataset or {}
    name = dataset.get("name") or "MNIST"
    required = dataset.get("sha256")
    if required == "published":
        required = dict(MNIST_SHA256)
    if mnist_dir is None:
        if required and required != MNIST_SHA256:
            raise DataConfigError("dataset.sha256 names files other than the published MNIST, which is all the "
                                  "workflow can download: give their folder with --config mnist_dir=DIR")
        return DataSource(name, None, {n: MNIST_SHA256[n] for n in MNIST_FILES}, {}, True)
    path = Path(mnist_dir).expanduser()
    if not path.is_dir():
        raise DataConfigError(f"mnist_dir: {mnist_dir} is not a folder; give the folder holding the four files "
                              "in MNIST's format, or leave out --config mnist_dir to download MNIST")
    missing = [n for n in MNIST_FILES if not (path / n).is_file() and not (path / f"{n}.gz").is_file()]
    if missing:
        raise DataConfigError(f"mnist_dir: {mnist_dir} lacks {', '.join(missing)} (raw or .gz); put the four "
                              "files there, or leave out --config mnist_dir to download MNIST")
    try:
        digests = folder_digests(path, cache)
    except DatasetError as exc:
        raise DataConfigError(f"mnist_dir: {exc}") from None
    sha = {n: digests[n]["sha256"] for n in MNIST_FILES}
    if required:
        differ = [n for n in MNIST_FILES if sha[n] != required.get(n)]
        if differ:
            raise DataConfigError(f"mnist_dir: in {mnist_dir}, {', '.join(differ)} differ from the checksums of "
                                  f"dataset.sha256; give the folder holding those files, or change dataset.sha256")
    files = {n: {k: digests[n][k] for k in ("file", "count", "shape")} for n in MNIST_FILES}
    return DataSource(name, str(mnist_dir), sha, files, sha == MNIST_SHA256)
