"""MNIST: read, check and download the four standard IDX files.

Files
-----
A MNIST folder holds four files, each either raw or gzip-compressed (``.gz``)::

    train-images-idx3-ubyte[.gz]   60000 images
    train-labels-idx1-ubyte[.gz]   60000 labels
    t10k-images-idx3-ubyte[.gz]    10000 images
    t10k-labels-idx1-ubyte[.gz]    10000 labels

When both ``NAME`` and ``NAME.gz`` exist, ``NAME.gz`` is used (always: by
:func:`load_mnist`, :func:`verify_mnist` and :func:`download_mnist`, which
writes ``.gz`` files).

IDX format (all header integers are big-endian unsigned 32-bit)
---------------------------------------------------------------
* images: magic ``2051`` (``0x00000803``: unsigned bytes, 3 dimensions), count N,
  rows (28), cols (28), then ``N * 28 * 28`` pixel bytes.
* labels: magic ``2049`` (``0x00000801``: unsigned bytes, 1 dimension), count N,
  then N label bytes, each 0..9.

Nothing may follow the data. For the standard files, the SHA-256 of the
*decompressed* bytes (header included) must equal :data:`MNIST_SHA256`; the
compressed bytes differ between mirrors and are not checked.

Arrays returned
---------------
* images: ``numpy.uint8``, shape ``(N, 28, 28)``, C-contiguous, writable.
  ``images[i, r, c]`` is the pixel in row ``r`` (top to bottom) and column ``c``
  (left to right) of image ``i`` - the file's own row-major order, byte for byte.
  0 is background, 255 is full ink. No scaling or float conversion is done here
  (divide by 255 yourself; the training pixels then have mean 0.1307, std 0.3081).
* labels: ``numpy.int64``, shape ``(N,)``, values 0..9 (:func:`read_idx` itself
  returns the file's ``uint8`` labels; :func:`load_mnist` widens them to int64).

Memory: pixels are read straight from the (decompressed) stream into the final
array in 1 MiB chunks, so loading keeps one copy of the 47 MB training images.
:func:`verify_mnist` checks files in chunks without keeping the arrays.

Every problem with the data raises :class:`DatasetError`, whose message names the
file, says what is wrong and what to do.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import mmap
import os
import struct
import sys
import zlib
from pathlib import Path
from typing import BinaryIO, Callable, Iterable

import numpy as np

from cnnlib.io import atomic_write_bytes

__all__ = [
    "DatasetError",
    "MIRRORS",
    "MNIST_FILES",
    "MNIST_SHA256",
    "MNIST_COUNTS",
    "read_idx",
    "load_mnist",
    "verify_mnist",
    "download_mnist",
    "copy_mnist",
    "cache_folder",
    "idx_digests",
    "load_idx",
    "PUBLISHED",
]

#: Mirrors tried in turn by :func:`download_mnist`; each serves ``<name>.gz``.
MIRRORS: list[str] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"

#: The four standard file names (without ``.gz``), in load order.
MNIST_FILES: tuple[str, ...] = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

#: SHA-256 of the decompressed standard files.
MNIST_SHA256: dict[str, str] = {
    TEST_IMAGES: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    TEST_LABELS: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    TRAIN_IMAGES: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    TRAIN_LABELS: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
}

#: The standard file each published SHA-256 belongs to (a file holding another one's content is named).
PUBLISHED: dict[str, str] = {sha: name for name, sha in MNIST_SHA256.items()}

#: Number of items in each standard file.
MNIST_COUNTS: dict[str, int] = {
    TRAIN_IMAGES: 60000,
    TRAIN_LABELS: 60000,
    TEST_IMAGES: 10000,
    TEST_LABELS: 10000,
}

_KINDS = {"images": "idx3", "labels": "idx1"}
_MAGIC = {"images": 2051, "labels": 2049}
_HEADER_SIZE = {"images": 16, "labels": 8}
ROWS = COLS = 28
NUM_CLASSES = 10

_CHUNK = 1 << 20  # bytes read per step
_MAX_PAYLOAD = 1 << 30  # a header claiming more than 1 GiB of data is corrupt
_MAX_DOWNLOAD = 64 << 20  # the largest MNIST .gz is ~10 MB


class DatasetError(Exception):
    """A data file is missing, corrupt, or cannot be downloaded.

    The message names the file, says what is wrong and what to do about it.
    """


class _Problem(Exception):
    """Internal: what is wrong with a stream, without saying which file it is."""


# ---------------------------------------------------------------- parsing


def _get_cmd(folder: Path) -> str:
    return f"python -m cnnlib download-mnist {folder}"


def _corrupt_hint(folder: Path) -> str:
    return (
        f"the file is corrupt - delete it and download again "
        f"({_get_cmd(folder)}, or cnnlib.data.download_mnist(folder))"
    )


def _read_exact(f: BinaryIO, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        b = f.read(n - got)
        if not b:
            break
        parts.append(b)
        got += len(b)
    return b"".join(parts)


def _parse_idx(
    f: BinaryIO,
    kind: str,
    *,
    expected_count: int | None,
    sha256: str | None,
    keep: bool,
    compressed: bool,
    digest: bool = False,
    generic: bool = False,
) -> tuple[int, np.ndarray | None]:
    """Check an IDX stream; return (count, array or None). Raises _Problem.

    ``generic``: any image size and any label byte (another dataset in MNIST's format);
    otherwise MNIST's 28x28 and labels 0..9. ``digest``: return
    ``(count, array, {"sha256", "shape"})`` instead, the SHA-256 of the decompressed bytes."""
    noun = kind
    hsize = _HEADER_SIZE[kind]
    header = _read_exact(f, hsize)
    if len(header) >= 2 and header[:2] == b"\x1f\x8b" and not compressed:
        raise _Problem(
            "looks gzip-compressed but its name does not end in .gz - add the .gz suffix"
        )
    if len(header) < 4:
        raise _Problem(f"truncated: only {len(header)} bytes, too short for an IDX header")
    (magic,) = struct.unpack(">I", header[:4])
    want = _MAGIC[kind]
    if magic != want:
        other = {2051: "an IDX images file", 2049: "an IDX labels file"}.get(magic)
        what = f"bad magic number {magic} (0x{magic:08x}), expected {want} for an IDX {kind} file"
        if other:
            what += f"; this is {other} - check the file names"
        raise _Problem(what)
    if len(header) < hsize:
        raise _Problem(f"truncated: only {len(header)} bytes, too short for an IDX {kind} header")
    if kind == "images":
        count, rows, cols = struct.unpack(">III", header[4:16])
        if not generic and (rows, cols) != (ROWS, COLS):
            raise _Problem(f"images are {rows}x{cols} pixels, expected {ROWS}x{COLS}")
        if not (0 < rows <= 4096 and 0 < cols <= 4096):
            raise _Problem(f"images are {rows}x{cols} pixels: not an image size")
        item = rows * cols
        shape = (rows, cols)
    else:
        (count,) = struct.unpack(">I", header[4:8])
        item = 1
        shape = ()
    classes = 256 if generic else NUM_CLASSES
    if expected_count is not None and count != expected_count:
        raise _Problem(f"header says {count} {noun}, expected {expected_count}")
    nbytes = count * item
    if keep and nbytes > _MAX_PAYLOAD:
        raise _Problem(f"header claims {count} {noun} ({nbytes} bytes), far more than MNIST")

    h = hashlib.sha256(header) if sha256 or digest else None

    def result(arr):
        if digest:
            return count, arr, {"sha256": h.hexdigest(), "shape": list(shape)}
        return count, arr

    if keep and not compressed and isinstance(f, io.FileIO):
        return result(_mapped_payload(f, kind, count, nbytes, hsize, h, sha256, shape, classes))
    out = np.empty(nbytes, dtype=np.uint8) if keep else None
    buf = None if keep else np.empty(min(_CHUNK, max(nbytes, 1)), dtype=np.uint8)
    got = 0
    while got < nbytes:
        n = min(_CHUNK, nbytes - got)
        view = memoryview(out)[got : got + n] if keep else memoryview(buf)[:n]
        k = f.readinto(view)
        if not k:
            break
        part = view[:k]
        if h is not None:
            h.update(part)
        if kind == "labels":
            _check_labels(np.frombuffer(part, dtype=np.uint8), got, classes)
        got += k
    if got < nbytes:
        raise _truncated(count, noun, nbytes, got)
    if f.read(1):  # also makes gzip check its CRC and length trailer
        raise _Problem(f"extra data after the {count} {noun} declared in its header")
    _check_digest(h, sha256)
    if keep:
        return result(out.reshape((count, *shape)))
    return result(None)


def _truncated(count: int, noun: str, nbytes: int, got: int) -> _Problem:
    return _Problem(f"truncated: header declares {count} {noun} ({nbytes} data bytes) but only {got} bytes follow")


def _check_digest(h, sha256: str | None) -> None:
    if h is not None and sha256:
        digest = h.hexdigest()
        if digest != sha256:
            other = PUBLISHED.get(digest)
            if other:
                raise _Problem(f"holds the published MNIST file {other} ({MNIST_COUNTS[other]:,} items), not this "
                               "one: are the train and test files swapped? Give each file its own name")
            what = "the standard MNIST file" if sha256 in PUBLISHED else "the checksum it must have"
            raise _Problem(
                f"content differs from {what} (SHA-256 of the "
                f"decompressed data is {digest[:16]}..., expected {sha256[:16]}...)"
            )


def _check_labels(arr: np.ndarray, start: int = 0, classes: int = NUM_CLASSES) -> None:
    bad = arr >= classes
    if bad.any():
        i = int(np.argmax(bad))
        raise _Problem(f"label {int(arr[i])} at index {start + i} is outside 0..{classes - 1}")


def _mapped_payload(f: io.FileIO, kind: str, count: int, nbytes: int, hsize: int, h, sha256,
                    shape=(ROWS, COLS), classes=NUM_CLASSES) -> np.ndarray:
    """The payload of an uncompressed IDX file, mapped copy-on-write instead of read: a new
    process reads MNIST's 47 MB in about a third of the time (no copy, fewer page faults).
    The same checks as the reading path, in the same order."""
    size = os.fstat(f.fileno()).st_size
    got = min(max(size - hsize, 0), nbytes)
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)  # size > 0: the header was read
    payload = np.frombuffer(m, dtype=np.uint8, count=got, offset=hsize)
    if kind == "labels":
        _check_labels(payload, 0, classes)
    if got < nbytes:
        raise _truncated(count, kind, nbytes, got)
    if size > hsize + nbytes:
        raise _Problem(f"extra data after the {count} {kind} declared in its header")
    if h is not None:
        h.update(payload)
    _check_digest(h, sha256)
    return payload.reshape((count, *(shape if kind == "images" else ())))


def _parse_stream(raw: BinaryIO, compressed: bool, kind: str, **kw) -> tuple[int, np.ndarray | None]:
    """Run _parse_idx over ``raw`` (decompressing if asked); gzip errors -> _Problem."""
    if not compressed:
        return _parse_idx(raw, kind, compressed=False, **kw)
    head = raw.read(4)
    raw.seek(0)
    try:
        with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
            return _parse_idx(gz, kind, compressed=True, **kw)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        what = f"not a valid gzip file or the gzip data is corrupt ({str(exc) or type(exc).__name__})"
        if len(head) == 4 and struct.unpack(">I", head)[0] in (2049, 2051):
            what += "; it looks like an uncompressed IDX file - remove the .gz suffix"
        raise _Problem(what) from None


def _read_path(path: Path, kind: str, expected_count, sha256, keep: bool, hint: str, **options):
    if kind not in _KINDS:
        raise ValueError(f"kind must be 'images' or 'labels', not {kind!r}")
    compressed = path.name.endswith(".gz")
    try:
        fh = open(path, "rb", buffering=0 if not compressed else -1)
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot open ({exc.strerror or exc})") from None
    try:
        with fh:
            return _parse_stream(
                fh, compressed, kind,
                expected_count=expected_count, sha256=sha256, keep=keep, **options,
            )
    except _Problem as exc:
        raise DatasetError(f"{path}: {exc}" + (f"; {hint}" if hint else "")) from None
    except OSError as exc:
        raise DatasetError(f"{path}: read error ({exc.strerror or exc})") from None


# ---------------------------------------------------------------- public reading


def read_idx(
    path: str | os.PathLike,
    kind: str,
    expected_count: int | None = None,
    verify_sha256: str | None = None,
) -> np.ndarray:
    """Read and check one IDX file (raw, or gzip when the name ends in ``.gz``).

    Args:
        path: the file.
        kind: ``"images"`` (28x28 unsigned-byte images) or ``"labels"`` (bytes 0..9).
        expected_count: if given, the header's item count must equal it.
        verify_sha256: if given, the SHA-256 (hex) of the decompressed bytes.

    Returns:
        ``uint8`` array, ``(N, 28, 28)`` for images, ``(N,)`` for labels.

    Raises:
        DatasetError: missing file, bad gzip, bad magic number, wrong image size,
            unexpected count, truncated or extra data, label outside 0..9, or a
            checksum mismatch.
    """
    path = Path(path).expanduser()
    _, arr = _read_path(
        path, kind, expected_count, verify_sha256, keep=True, hint=_corrupt_hint(path.parent)
    )
    return arr


def _locate(folder: Path, name: str) -> Path | None:
    """The file used for ``name`` in ``folder``: ``name.gz`` if present, else ``name``."""
    for cand in (folder / f"{name}.gz", folder / name):
        try:
            if cand.is_file():
                return cand
        except OSError as exc:  # e.g. a folder without read/search permission
            raise DatasetError(f"{folder}: cannot be read ({exc.strerror or exc}); check its permissions") from None
    return None


def _missing_message(folder: Path, name: str) -> str:
    if not folder.exists():
        where = f"{folder}: folder does not exist, so the MNIST file {name} is missing"
    elif not folder.is_dir():
        where = f"{folder}: is not a folder, so the MNIST file {name} cannot be in it"
    else:
        where = f"{folder}: missing MNIST file {name} (looked for {name}.gz and {name})"
        try:
            tag = _KINDS["images" if "images" in name else "labels"]
            prefix = name.split("-")[0]
            near = sorted(
                p.name for p in folder.iterdir()
                if p.name.startswith(prefix) and tag in p.name and p.name not in (name, name + ".gz")
            )
        except OSError:
            near = []
        if near:
            where += f"; found {', '.join(near)} - rename it to {name}.gz (or {name} if uncompressed)"
    return (
        f"{where}. To get the data run `{_get_cmd(folder)}` "
        f"(cnnlib.data.download_mnist(folder) from Python), or copy the four files "
        f"{', '.join(n + '.gz' for n in MNIST_FILES)} (raw or .gz) into {folder} by hand."
    )


def _resolve(folder: Path, name: str) -> Path:
    path = _locate(folder, name)
    if path is None:
        raise DatasetError(_missing_message(folder, name))
    return path


def _kind(name: str) -> str:
    return "images" if "images" in name else "labels"


def _check_pair(img_path: Path, n_img: int, lab_path: Path, n_lab: int, folder: Path) -> None:
    if n_img != n_lab:
        raise DatasetError(
            f"{img_path} has {n_img} images but {lab_path} has {n_lab} labels; the two files "
            f"do not belong together - replace them with a matching pair "
            f"({_get_cmd(folder)})"
        )


def load_mnist(
    folder: str | os.PathLike, *, verify_checksums: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load MNIST from ``folder``: ``(train_x, train_y, test_x, test_y)``.

    Images are ``uint8`` arrays ``(N, 28, 28)``, labels ``int64`` arrays ``(N,)``
    (see the module docstring). With ``verify_checksums=True`` (the default) the
    files must be the standard ones: 60000/10000 items and the SHA-256 of
    :data:`MNIST_SHA256`. With ``False`` any counts are accepted (for small
    synthetic files in tests) as long as each file is structurally valid and the
    images and labels counts of each split agree.

    Raises:
        DatasetError: a file is missing or fails a check.
    """
    folder = Path(folder).expanduser()
    paths = {name: _resolve(folder, name) for name in MNIST_FILES}
    hint = _corrupt_hint(folder)
    out = {}
    for name in MNIST_FILES:
        _, arr = _read_path(
            paths[name], _kind(name),
            MNIST_COUNTS[name] if verify_checksums else None,
            MNIST_SHA256[name] if verify_checksums else None,
            keep=True, hint=hint,
        )
        out[name] = arr
    for img, lab in ((TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)):
        _check_pair(paths[img], len(out[img]), paths[lab], len(out[lab]), folder)
    return (
        out[TRAIN_IMAGES],
        out[TRAIN_LABELS].astype(np.int64),
        out[TEST_IMAGES],
        out[TEST_LABELS].astype(np.int64),
    )


def verify_mnist(folder: str | os.PathLike, *, verify_checksums: bool = True) -> dict[str, Path]:
    """Check the four MNIST files in ``folder`` without keeping the arrays.

    Runs exactly the checks of :func:`load_mnist`, reading in chunks (low memory).

    Returns:
        ``{standard name: path of the file that was checked}``.

    Raises:
        DatasetError: a file is missing or fails a check.
    """
    folder = Path(folder).expanduser()
    paths = {name: _resolve(folder, name) for name in MNIST_FILES}
    hint = _corrupt_hint(folder)
    counts = {}
    for name in MNIST_FILES:
        counts[name], _ = _read_path(
            paths[name], _kind(name),
            MNIST_COUNTS[name] if verify_checksums else None,
            MNIST_SHA256[name] if verify_checksums else None,
            keep=False, hint=hint,
        )
    for img, lab in ((TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)):
        _check_pair(paths[img], counts[img], paths[lab], counts[lab], folder)
    return paths


# ---------------------------------------------------------------- other data in MNIST's format


def _generic_pairs(folder: Path, paths: dict, info: dict) -> None:
    for img, lab in ((TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)):
        _check_pair(paths[img], info[img]["count"], paths[lab], info[lab]["count"], folder)
    if info[TRAIN_IMAGES]["shape"] != info[TEST_IMAGES]["shape"]:
        raise DatasetError(f"{paths[TRAIN_IMAGES]} holds {'x'.join(map(str, info[TRAIN_IMAGES]['shape']))} images, "
                           f"{paths[TEST_IMAGES]} {'x'.join(map(str, info[TEST_IMAGES]['shape']))}: the training and "
                           "test images must have one size")


def idx_digests(folder: str | os.PathLike) -> dict[str, dict]:
    """Check and describe a folder holding a dataset in MNIST's format: the four files of
    :data:`MNIST_FILES` (raw or ``.gz``), any image size, any label byte.

    Each file's structure is checked as :func:`verify_mnist` does (magic numbers, counts,
    no truncated or extra data, each split's images and labels of one count, training and
    test images of one size); its content is not compared with MNIST's.

    Returns:
        ``{name: {"sha256": of the decompressed bytes, "count": items, "shape": [rows, cols]
        (images) or [] (labels), "file": the file's name}}``. A file whose SHA-256 is that of
        another published MNIST file (:data:`PUBLISHED`) is refused: the names are mixed up.

    Raises:
        DatasetError: naming the file and what is wrong (never advice to delete it).
    """
    folder = Path(folder).expanduser()
    paths = {name: _resolve(folder, name) for name in MNIST_FILES}
    info = {}
    for name in MNIST_FILES:
        count, _, d = _read_path(paths[name], _kind(name), None, None, keep=False, hint="", digest=True,
                                 generic=True)
        other = PUBLISHED.get(d["sha256"])
        if other and other != name:
            raise DatasetError(f"{paths[name]}: holds the published MNIST file {other} ({count:,} items), not "
                               f"{name}: are the train and test files swapped? Give each file its own name")
        info[name] = {**d, "count": count, "file": paths[name].name}
    _generic_pairs(folder, paths, info)
    return info


def load_idx(folder: str | os.PathLike, sha256: dict[str, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load a dataset in MNIST's format from ``folder``: ``(train_x, train_y, test_x, test_y)``,
    each file checked against ``sha256[name]`` (the SHA-256 of its decompressed bytes, as
    :func:`idx_digests` gives it). Images ``uint8 (N, rows, cols)``, labels ``int64 (N,)``.
    For MNIST's published checksums this is :func:`load_mnist`.

    Raises:
        DatasetError: a file is missing, malformed or has other content, naming it.
    """
    folder = Path(folder).expanduser()
    if set(sha256) != set(MNIST_FILES):
        raise ValueError(f"sha256 must give the checksum of each of {', '.join(MNIST_FILES)}")
    paths = {name: _resolve(folder, name) for name in MNIST_FILES}
    out = {}
    for name in MNIST_FILES:
        _, out[name] = _read_path(paths[name], _kind(name), None, sha256[name], keep=True,
                                  hint="the folder's content changed since it was checked", generic=True)
    info = {name: {"count": len(arr), "shape": list(arr.shape[1:])} for name, arr in out.items()}
    _generic_pairs(folder, paths, info)
    return (out[TRAIN_IMAGES], out[TRAIN_LABELS].astype(np.int64), out[TEST_IMAGES],
            out[TEST_LABELS].astype(np.int64))


# ---------------------------------------------------------------- download


def cache_folder() -> Path:
    """Where MNIST is kept for the tests and ``download-mnist`` without a folder:
    ``$XDG_CACHE_HOME/cnnlib/mnist``, by default ``~/.cache/cnnlib/mnist``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cnnlib" / "mnist"


def _log_stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _fmt_size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


def _verify_bytes(data: bytes, name: str) -> None:
    """Check downloaded ``name.gz`` bytes; raises _Problem."""
    _parse_stream(
        io.BytesIO(data), True, _kind(name),
        expected_count=MNIST_COUNTS[name], sha256=MNIST_SHA256[name], keep=False,
    )


def _fetch(url: str, timeout: float) -> bytes:
    """GET ``url``; raises _Problem with a one-line reason."""
    import urllib.error  # here: every training job imports this module, few download
    import urllib.request

    req = urllib.request.Request(url, headers={"User-Agent": "cnnlib-mnist-download/1"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            data = resp.read(_MAX_DOWNLOAD + 1)
    except urllib.error.HTTPError as exc:
        raise _Problem(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        r = exc.reason
        if isinstance(r, TimeoutError) or "timed out" in str(r):
            raise _Problem(f"timed out after {timeout:g} s") from None
        raise _Problem(getattr(r, "strerror", None) or str(r)) from None
    except TimeoutError:
        raise _Problem(f"timed out after {timeout:g} s") from None
    except Exception as exc:  # http.client errors, bad URLs, connection resets, ...
        raise _Problem(f"{type(exc).__name__}: {exc}".rstrip(": ")) from None
    if len(data) > _MAX_DOWNLOAD:
        raise _Problem(f"response is larger than {_MAX_DOWNLOAD >> 20} MiB - not an MNIST file")
    return data


def download_mnist(
    folder: str | os.PathLike,
    mirrors: Iterable[str] | None = None,
    timeout: float = 30,
    log: Callable[[str], None] | None = _log_stderr,
) -> Path:
    """Make sure ``folder`` holds the four verified MNIST files; download what is missing.

    For each file: if the file :func:`load_mnist` would use is present and valid,
    it is kept. Otherwise ``<name>.gz`` is fetched from each mirror in turn
    (``mirrors``, default :data:`MIRRORS`; a mirror that worked is tried first
    for the next files), its decompressed content is checked (structure and
    SHA-256), and only then written atomically to ``folder/<name>.gz``.

    Args:
        folder: target folder (created if needed).
        mirrors: base URLs; ``<name>.gz`` is appended.
        timeout: seconds for connecting and for each read.
        log: called with one short line per file (and per failed mirror);
            default prints to stderr, ``None`` is silent.

    Returns:
        ``Path(folder)``.

    Raises:
        DatasetError: a file could not be fetched from any mirror (the message
            lists each mirror with its reason and how to provide the files by hand),
            or the folder cannot be written.
    """
    folder = Path(folder).expanduser()
    order = list(MIRRORS if mirrors is None else mirrors)
    say = log or (lambda _msg: None)
    for name in MNIST_FILES:
        gz_name = f"{name}.gz"
        existing = _locate(folder, name)
        stale = ""
        if existing is not None:
            stale = _problem(existing, name)
            if not stale:
                say(f"{existing.name}: already present and verified")
                continue
            say(f"{existing.name}: present but invalid - downloading again")
        failures = []
        for i, base in enumerate(order):
            url = base.rstrip("/") + "/" + gz_name
            try:
                data = _fetch(url, timeout)
                _verify_bytes(data, name)
            except _Problem as exc:
                failures.append(f"{url}: {exc}")
                say(f"{gz_name}: {url} failed ({exc})")
                continue
            target = folder / gz_name
            try:
                atomic_write_bytes(target, data)
            except OSError as exc:
                raise DatasetError(
                    f"{target}: cannot write ({exc.strerror or exc}); pass a folder you can write to"
                ) from None
            say(f"{gz_name}: downloaded {_fmt_size(len(data))} from {base} and verified")
            order.insert(0, order.pop(i))
            break
        else:
            lines = [f"could not download {gz_name} into {folder}; every mirror failed:"]
            lines += [f"  {f}" for f in failures] or ["  (no mirrors given)"]
            if stale:
                lines.append(f"(the existing file is not usable: {stale})")
            lines.append(
                "To provide the files by hand: on a machine with internet access download "
                f"{', '.join(n + '.gz' for n in MNIST_FILES)} from any MNIST mirror and put "
                f"them in {folder}, or use a folder that already has them (python -m cnnlib train --mnist DIR)."
            )
            raise DatasetError("\n".join(lines))
    return folder


def _problem(path: Path, name: str) -> str:
    """Why ``path`` is not a usable copy of the MNIST file ``name`` ("" when it is)."""
    try:
        _read_path(path, _kind(name), MNIST_COUNTS[name], MNIST_SHA256[name], keep=False, hint="")
    except DatasetError as exc:
        return str(exc)
    return ""


def copy_mnist(
    source: str | os.PathLike,
    folder: str | os.PathLike,
    log: Callable[[str], None] | None = _log_stderr,
) -> Path:
    """Make sure ``folder`` holds the four verified MNIST files, copied from ``source``.

    The offline twin of :func:`download_mnist` (``setup.sh --dev`` uses it to put the files
    of ``CNNLIB_MNIST`` where the tests look when that variable is not set). ``source`` is
    checked first, all four files (:func:`verify_mnist`); nothing is written if one fails.
    Then, per file: a valid file in ``folder`` is kept; an invalid one is removed and the
    source's file (raw or ``.gz``, as it is) is written atomically in its place.

    Returns:
        ``Path(folder)``.

    Raises:
        DatasetError: a source file is missing or fails a check (naming it), or ``folder``
            cannot be written.
    """
    paths = verify_mnist(source)
    folder = Path(folder).expanduser()
    say = log or (lambda _msg: None)
    for name in MNIST_FILES:
        existing = _locate(folder, name)
        if existing is not None and not _problem(existing, name):
            say(f"{existing.name}: already present and verified")
            continue
        target = folder / paths[name].name
        try:
            if existing is not None:
                existing.unlink()
            atomic_write_bytes(target, paths[name].read_bytes())
        except OSError as exc:
            raise DatasetError(
                f"{target}: cannot write ({exc.strerror or exc}); pass a folder you can write to"
            ) from None
        say(f"{target.name}: copied from {paths[name].parent} (verified)")
    return folder
