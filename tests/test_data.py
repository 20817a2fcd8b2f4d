"""Tests for cnnlib.data: reading, checking and downloading MNIST.

The real MNIST comes from the conftest fixtures (CNNLIB_MNIST, ../shared/data/mnist, or a
verified download). Download
tests use http.server on 127.0.0.1 only; the default MIRRORS list is replaced by
an unusable loopback address for every test, so nothing leaves the machine.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import mmap
import shutil
import socket
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from cnnlib import data
from cnnlib.data import DatasetError, copy_mnist, download_mnist, load_mnist, read_idx, verify_mnist

NAMES = data.MNIST_FILES


# ---------------------------------------------------------------- helpers


def idx_bytes(kind: str, payload: bytes, *, count=None, magic=None, rows=28, cols=28) -> bytes:
    """An IDX file's bytes; ``count``/``magic``/``rows``/``cols`` override the header."""
    if kind == "images":
        n = len(payload) // (rows * cols) if count is None else count
        head = struct.pack(">IIII", 2051 if magic is None else magic, n, rows, cols)
    else:
        n = len(payload) if count is None else count
        head = struct.pack(">II", 2049 if magic is None else magic, n)
    return head + payload


def rand_images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


def rand_labels(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed + 1).integers(0, 10, size=n, dtype=np.uint8)


def write(path: Path, raw: bytes, gz: bool = False) -> Path:
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)
    return path


def write_set(folder: Path, n_train=5, n_test=3, gz=False, skip=()) -> dict:
    """Write a small synthetic MNIST-shaped set; return the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        NAMES[0]: rand_images(n_train, 1), NAMES[1]: rand_labels(n_train, 2),
        NAMES[2]: rand_images(n_test, 3), NAMES[3]: rand_labels(n_test, 4),
    }
    for name, arr in arrays.items():
        if name in skip:
            continue
        kind = "images" if "images" in name else "labels"
        write(folder / name, idx_bytes(kind, arr.tobytes()), gz)
    return arrays


def assert_error(exc_info, *phrases):
    msg = str(exc_info.value)
    for p in phrases:
        assert p in msg, f"{p!r} not in error message: {msg}"
    return msg


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(autouse=True)
def no_real_mirrors(monkeypatch):
    """Any test that forgets ``mirrors=`` hits a closed loopback port, not the internet."""
    monkeypatch.setattr(data, "MIRRORS", [f"http://127.0.0.1:{closed_port()}/"])


# ---------------------------------------------------------------- real MNIST




def test_real_mnist_shapes_and_dtypes(mnist):
    train_x, train_y, test_x, test_y = mnist
    assert train_x.shape == (60000, 28, 28) and train_y.shape == (60000,)
    assert test_x.shape == (10000, 28, 28) and test_y.shape == (10000,)
    assert train_x.dtype == np.uint8 and test_x.dtype == np.uint8
    assert train_y.dtype == np.int64 and test_y.dtype == np.int64
    assert train_x.flags.c_contiguous and train_x.flags.writeable


def test_real_mnist_pixel_statistics(mnist):
    counts = np.bincount(mnist[0].ravel(), minlength=256)  # exact, no float copy
    v = np.arange(256) / 255.0
    mean = (counts * v).sum() / counts.sum()
    std = np.sqrt((counts * v * v).sum() / counts.sum() - mean**2)
    assert mean == pytest.approx(0.1307, abs=5e-4)
    assert std == pytest.approx(0.3081, abs=5e-4)


def test_real_mnist_labels(mnist):
    for y in (mnist[1], mnist[3]):
        assert y.min() == 0 and y.max() == 9
        assert set(np.unique(y).tolist()) == set(range(10))
    # well-known class counts of the training set
    assert np.bincount(mnist[1]).tolist()[:2] == [5923, 6742]


def test_verify_mnist_real_folder(mnist_gz):
    paths = verify_mnist(mnist_gz)
    assert set(paths) == set(NAMES)
    assert all(p.parent == mnist_gz and p.name.endswith(".gz") for p in paths.values())


# ---------------------------------------------------------------- synthetic: good files


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_synthetic_roundtrip_and_pixel_layout(tmp_path, gz):
    arrays = write_set(tmp_path, gz=gz)
    train_x, train_y, test_x, test_y = load_mnist(tmp_path, verify_checksums=False)
    np.testing.assert_array_equal(train_x, arrays[NAMES[0]])
    np.testing.assert_array_equal(train_y, arrays[NAMES[1]])
    np.testing.assert_array_equal(test_x, arrays[NAMES[2]])
    np.testing.assert_array_equal(test_y, arrays[NAMES[3]])
    assert train_x.dtype == np.uint8 and train_y.dtype == np.int64
    # row-major: byte 16 + i*784 + r*28 + c of the file is images[i, r, c]
    raw = idx_bytes("images", arrays[NAMES[0]].tobytes())
    i, r, c = 3, 5, 17
    assert train_x[i, r, c] == raw[16 + i * 784 + r * 28 + c]
    assert verify_mnist(tmp_path, verify_checksums=False)[NAMES[0]].name.endswith(".gz") == gz


def test_gz_preferred_when_both_exist(tmp_path):
    write_set(tmp_path, gz=False)
    gz_arrays = write_set(tmp_path, n_train=7, gz=True)
    train_x, train_y, _, _ = load_mnist(tmp_path, verify_checksums=False)
    assert train_x.shape[0] == 7
    np.testing.assert_array_equal(train_x, gz_arrays[NAMES[0]])


def test_read_idx_directly(tmp_path):
    labels = rand_labels(20)
    p = write(tmp_path / "x-labels-idx1-ubyte", idx_bytes("labels", labels.tobytes()), gz=True)
    out = read_idx(p, "labels", expected_count=20)
    assert out.dtype == np.uint8 and out.shape == (20,)
    np.testing.assert_array_equal(out, labels)


# ---------------------------------------------------------------- synthetic: bad files


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_wrong_magic(tmp_path, gz):
    write_set(tmp_path, gz=gz, skip=[NAMES[2]])
    write(tmp_path / NAMES[2], idx_bytes("images", rand_images(3).tobytes(), magic=2052), gz)
    with pytest.raises(DatasetError) as ei:
        load_mnist(tmp_path, verify_checksums=False)
    assert_error(ei, NAMES[2], "bad magic number 2052", "expected 2051")


def test_labels_file_where_images_expected(tmp_path):
    p = write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes("labels", bytes(3)))
    with pytest.raises(DatasetError) as ei:
        read_idx(p, "images")
    assert_error(ei, "t10k-images-idx3-ubyte", "bad magic number 2049", "labels file")


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_truncated_data(tmp_path, gz):
    write_set(tmp_path, gz=gz, skip=[NAMES[0]])
    raw = idx_bytes("images", rand_images(5).tobytes())[:-100]
    write(tmp_path / NAMES[0], raw, gz)
    with pytest.raises(DatasetError) as ei:
        load_mnist(tmp_path, verify_checksums=False)
    assert_error(ei, NAMES[0], "truncated", "declares 5 images", "delete it and download again")


def test_truncated_header(tmp_path):
    p = write(tmp_path / NAMES[1], struct.pack(">I", 2049) + b"\x00\x00")
    with pytest.raises(DatasetError) as ei:
        read_idx(p, "labels")
    assert_error(ei, NAMES[1], "truncated", "header")


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_extra_data(tmp_path, gz):
    p = write(tmp_path / NAMES[3], idx_bytes("labels", bytes(4), count=3), gz=gz)
    with pytest.raises(DatasetError) as ei:
        read_idx(p, "labels")
    assert_error(ei, NAMES[3] + (".gz" if gz else ""), "extra data")


def test_raw_files_are_mapped_and_give_the_same_arrays_as_gzip(mnist_gz, tmp_path):
    """Uncompressed files are mapped, not read: same arrays, writable, checked the same way."""
    for name in NAMES:
        (tmp_path / name).write_bytes(gzip.decompress((mnist_gz / f"{name}.gz").read_bytes()))
    raw, gz = load_mnist(tmp_path), load_mnist(mnist_gz)
    for a, b in zip(raw, gz):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    owner = raw[0]
    while isinstance(owner, np.ndarray):
        owner = owner.base
    assert isinstance(getattr(owner, "obj", owner), mmap.mmap)  # mapped, not read into a new array
    images = raw[0]
    images[0, 0, 0] = 255  # a private copy-on-write mapping: the file is untouched
    assert load_mnist(tmp_path)[0][0, 0, 0] == gz[0][0, 0, 0]
    data = bytearray((tmp_path / NAMES[0]).read_bytes())
    data[5000] ^= 1  # one bit of one pixel
    (tmp_path / NAMES[0]).write_bytes(bytes(data))
    with pytest.raises(DatasetError) as ei:
        load_mnist(tmp_path)
    assert_error(ei, NAMES[0], "content differs")


def test_wrong_image_size(tmp_path):
    p = write(tmp_path / NAMES[2], idx_bytes("images", bytes(2 * 27 * 28), rows=27))
    with pytest.raises(DatasetError) as ei:
        read_idx(p, "images")
    assert_error(ei, NAMES[2], "27x28", "expected 28x28")


def test_header_count_differs_from_expected(tmp_path):
    p = write(tmp_path / NAMES[3], idx_bytes("labels", rand_labels(100).tobytes()))
    with pytest.raises(DatasetError) as ei:
        read_idx(p, "labels", expected_count=10000)
    assert_error(ei, NAMES[3], "header says 100 labels, expected 10000")
    # load_mnist with checksums on expects the standard counts
    write_set(tmp_path / "set")
    with pytest.raises(DatasetError) as ei:
        load_mnist(tmp_path / "set")
    assert_error(ei, NAMES[0], "header says 5 images, expected 60000")


def test_images_labels_count_mismatch(tmp_path):
    write_set(tmp_path, skip=[NAMES[3]])
    write(tmp_path / NAMES[3], idx_bytes("labels", rand_labels(4).tobytes()))
    for fn in (load_mnist, verify_mnist):
        with pytest.raises(DatasetError) as ei:
            fn(tmp_path, verify_checksums=False)
        assert_error(ei, NAMES[2], NAMES[3], "has 3 images", "has 4 labels", "do not belong together")


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_label_out_of_range(tmp_path, gz):
    write_set(tmp_path, gz=gz, skip=[NAMES[3]])
    labels = np.array([1, 2, 3, 10, 4], dtype=np.uint8)
    write(tmp_path / NAMES[3], idx_bytes("labels", labels.tobytes()), gz)
    write(tmp_path / NAMES[2], idx_bytes("images", rand_images(5).tobytes()), gz)
    for fn in (load_mnist, verify_mnist):
        with pytest.raises(DatasetError) as ei:
            fn(tmp_path, verify_checksums=False)
        assert_error(ei, NAMES[3], "label 10 at index 3 is outside 0..9")


def test_checksum_mismatch(tmp_path, mnist_gz):
    # three real files (symlinked) + a structurally valid t10k labels file with other bytes
    for name in NAMES[:3]:
        (tmp_path / f"{name}.gz").symlink_to(mnist_gz / f"{name}.gz")
    real = read_idx(mnist_gz / f"{NAMES[3]}.gz", "labels")
    fake = real.copy()
    fake[0] = (fake[0] + 1) % 10
    write(tmp_path / NAMES[3], idx_bytes("labels", fake.tobytes()))
    with pytest.raises(DatasetError) as ei:
        verify_mnist(tmp_path)
    assert_error(ei, NAMES[3], "differs from the standard MNIST file", "SHA-256")
    with pytest.raises(DatasetError) as ei:
        load_mnist(tmp_path)
    assert_error(ei, NAMES[3], "SHA-256")
    # the same file is accepted when checksums are off
    assert load_mnist(tmp_path, verify_checksums=False)[3].shape == (10000,)


def test_missing_file(tmp_path):
    write_set(tmp_path, skip=[NAMES[1]])
    for fn in (load_mnist, verify_mnist):
        with pytest.raises(DatasetError) as ei:
            fn(tmp_path, verify_checksums=False)
        assert_error(
            ei, NAMES[1], str(tmp_path), "missing",
            "download_mnist", f"python -m cnnlib download-mnist {tmp_path}", "by hand",
        )


def test_missing_folder(tmp_path):
    with pytest.raises(DatasetError) as ei:
        load_mnist(tmp_path / "nope")
    assert_error(ei, str(tmp_path / "nope"), "does not exist", "download-mnist")


def test_missing_file_hints_at_misnamed_file(tmp_path):
    write_set(tmp_path, skip=[NAMES[0]])
    (tmp_path / "train-images.idx3-ubyte").write_bytes(b"x")
    with pytest.raises(DatasetError) as ei:
        load_mnist(tmp_path, verify_checksums=False)
    assert_error(ei, NAMES[0], "found train-images.idx3-ubyte", "rename")


@pytest.mark.parametrize("damage", ["not_gzip", "cut_stream", "flipped_byte", "raw_named_gz"])
def test_corrupt_gzip(tmp_path, damage):
    raw = idx_bytes("labels", rand_labels(3000).tobytes())
    blob = gzip.compress(raw)
    if damage == "not_gzip":
        blob = b"<html>not found</html>"
    elif damage == "cut_stream":
        blob = blob[: len(blob) // 2]
    elif damage == "flipped_byte":
        blob = bytearray(blob)
        blob[-6] ^= 0xFF  # inside the CRC32 trailer
        blob = bytes(blob)
    else:
        blob = raw
    p = tmp_path / f"{NAMES[1]}.gz"
    p.write_bytes(blob)
    with pytest.raises(DatasetError) as ei:
        read_idx(p, "labels")
    msg = assert_error(ei, f"{NAMES[1]}.gz", "gzip")
    if damage == "raw_named_gz":
        assert "remove the .gz suffix" in msg


def test_gzip_without_suffix(tmp_path):
    p = tmp_path / NAMES[1]
    p.write_bytes(gzip.compress(idx_bytes("labels", bytes(3))))
    with pytest.raises(DatasetError) as ei:
        read_idx(p, "labels")
    assert_error(ei, NAMES[1], "gzip-compressed", ".gz suffix")


def test_bad_kind_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError):
        read_idx(tmp_path / "x", "pixels")


# ---------------------------------------------------------------- download


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    """serve(directory) -> base URL of a loopback HTTP server for that directory."""
    servers = []

    def start(directory: Path) -> str:
        handler = functools.partial(_Quiet, directory=str(directory))
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, args=(0.02,), daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


@pytest.fixture(scope="module")
def good_dir(tmp_path_factory, mnist_gz):
    """A copy of the shared .gz files (what a mirror serves)."""
    d = tmp_path_factory.mktemp("mirror_good")
    for name in NAMES:
        shutil.copyfile(mnist_gz / f"{name}.gz", d / f"{name}.gz")
    return d


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory, mnist_gz):
    """A mirror serving a broken version of every file, each broken differently."""
    d = tmp_path_factory.mktemp("mirror_bad")
    real_labels = (mnist_gz / f"{NAMES[3]}.gz").read_bytes()
    (d / f"{NAMES[0]}.gz").write_bytes(b"<html>captive portal</html>")
    (d / f"{NAMES[1]}.gz").write_bytes(gzip.compress(idx_bytes("labels", bytes(60000))))  # bad sha
    (d / f"{NAMES[2]}.gz").write_bytes((mnist_gz / f"{NAMES[2]}.gz").read_bytes()[:50000])  # cut
    (d / f"{NAMES[3]}.gz").write_bytes(real_labels[:-8] + b"\0" * 8)  # bad gzip trailer
    return d


def test_download_skips_dead_mirror(tmp_path, serve, good_dir):
    dead = f"http://127.0.0.1:{closed_port()}/"
    good = serve(good_dir)
    target = tmp_path / "mnist"
    lines = []
    assert download_mnist(target, mirrors=[dead, good], timeout=5, log=lines.append) == target
    assert listing(target) == sorted(f"{n}.gz" for n in NAMES)  # no temp files left
    assert verify_mnist(target) == {n: target / f"{n}.gz" for n in NAMES}
    assert load_mnist(target)[0].shape == (60000, 28, 28)
    # the dead mirror is reported once; afterwards the working one is tried first
    assert sum(dead in line for line in lines) == 1
    assert sum("downloaded" in line for line in lines) == 4


def test_download_keeps_valid_files(tmp_path, serve, good_dir):
    target = tmp_path / "mnist"
    target.mkdir()
    for name in NAMES:
        (target / f"{name}.gz").symlink_to(good_dir / f"{name}.gz")
    lines = []
    download_mnist(target, mirrors=[f"http://127.0.0.1:{closed_port()}/"], log=lines.append)
    assert len(lines) == 4 and all("already present" in line for line in lines)


def test_download_replaces_invalid_file(tmp_path, serve, good_dir):
    target = tmp_path / "mnist"
    target.mkdir()
    for name in NAMES[:3]:
        shutil.copyfile(good_dir / f"{name}.gz", target / f"{name}.gz")
    (target / f"{NAMES[3]}.gz").write_bytes(b"garbage")
    lines = []
    download_mnist(target, mirrors=[serve(good_dir)], log=lines.append)
    assert verify_mnist(target)
    assert any("invalid" in line and NAMES[3] in line for line in lines)
    assert listing(target) == sorted(f"{n}.gz" for n in NAMES)


def test_download_corrupt_mirror_falls_through(tmp_path, serve, good_dir, bad_dir):
    bad, good = serve(bad_dir), serve(good_dir)
    target = tmp_path / "mnist"
    lines = []
    download_mnist(target, mirrors=[bad, good], log=lines.append)
    assert verify_mnist(target)
    assert listing(target) == sorted(f"{n}.gz" for n in NAMES)
    failed = [line for line in lines if bad in line]
    assert len(failed) == 1 and "gzip" in failed[0]  # after that the good mirror goes first


@pytest.mark.parametrize("name", NAMES)
def test_download_corrupt_file_is_not_written(tmp_path, serve, bad_dir, name, mnist_gz):
    bad = serve(bad_dir)
    target = tmp_path / "mnist"
    target.mkdir()
    # all files but `name` are valid already, so only `name` is fetched
    for other in NAMES:
        if other != name:
            (target / f"{other}.gz").symlink_to(mnist_gz / f"{other}.gz")
    with pytest.raises(DatasetError) as ei:
        download_mnist(target, mirrors=[bad], log=None)
    assert_error(ei, f"{name}.gz", bad)
    assert f"{name}.gz" not in listing(target) and len(listing(target)) == 3


def test_download_all_mirrors_fail(tmp_path, serve, bad_dir):
    dead = f"http://127.0.0.1:{closed_port()}/"
    empty = tmp_path / "empty"
    empty.mkdir()
    mirrors = [dead, serve(empty), serve(bad_dir)]
    target = tmp_path / "mnist"
    with pytest.raises(DatasetError) as ei:
        download_mnist(target, mirrors=mirrors, timeout=5, log=None)
    msg = assert_error(ei, NAMES[0], str(target), "by hand", "put them in", "HTTP 404", "gzip")
    lines = msg.splitlines()
    for m in mirrors:  # one line per mirror, each naming it
        assert sum(line.strip().startswith(m) for line in lines) == 1, msg
    assert not target.exists() or listing(target) == []


def test_download_timeout(tmp_path):
    # a listening socket that never answers: the request must give up after `timeout`
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        url = f"http://127.0.0.1:{s.getsockname()[1]}/"
        with pytest.raises(DatasetError) as ei:
            download_mnist(tmp_path / "m", mirrors=[url], timeout=0.3, log=None)
    assert_error(ei, url, "timed out")


def test_download_default_mirrors_used(tmp_path, serve, good_dir, monkeypatch):
    monkeypatch.setattr(data, "MIRRORS", [serve(good_dir)])
    download_mnist(tmp_path / "m", log=None)
    assert verify_mnist(tmp_path / "m")


def test_default_log_prints_to_stderr(tmp_path, serve, good_dir, capsys):
    target = tmp_path / "m"
    target.mkdir()
    for name in NAMES:
        (target / f"{name}.gz").symlink_to(good_dir / f"{name}.gz")
    download_mnist(target)
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 4


def test_copy_mnist_puts_verified_files_where_a_download_would(tmp_path, good_dir):
    target = tmp_path / "cache" / "mnist"
    lines = []
    assert copy_mnist(good_dir, target, log=lines.append) == target
    assert listing(target) == sorted(f"{n}.gz" for n in NAMES)
    assert verify_mnist(target) and sum("copied" in line for line in lines) == 4
    lines.clear()
    copy_mnist(good_dir, target, log=lines.append)  # again: nothing to do
    assert len(lines) == 4 and all("already present" in line for line in lines)


def test_copy_mnist_replaces_an_invalid_file_whatever_its_form(tmp_path, good_dir):
    source = tmp_path / "src"
    source.mkdir()
    for name in NAMES[:3]:
        shutil.copyfile(good_dir / f"{name}.gz", source / f"{name}.gz")
    (source / NAMES[3]).write_bytes(gzip.decompress((good_dir / f"{NAMES[3]}.gz").read_bytes()))  # raw
    target = tmp_path / "m"
    target.mkdir()
    (target / f"{NAMES[3]}.gz").write_bytes(b"garbage")  # would be read before the raw copy
    copy_mnist(source, target, log=None)
    assert NAMES[3] in listing(target) and f"{NAMES[3]}.gz" not in listing(target)
    assert verify_mnist(target)


def test_copy_mnist_writes_nothing_from_a_bad_source(tmp_path, bad_dir):
    target = tmp_path / "m"
    with pytest.raises(DatasetError) as ei:
        copy_mnist(bad_dir, target, log=None)
    assert str(bad_dir) in str(ei.value)
    assert not target.exists()


def test_cli_download_mnist_from_a_folder(tmp_path, good_dir, bad_dir, capsys):
    from cnnlib.cli import main

    assert main(["download-mnist", str(tmp_path / "m"), "--from", str(good_dir)]) == 0
    assert verify_mnist(tmp_path / "m") and "MNIST is ready" in capsys.readouterr().out
    assert main(["download-mnist", str(tmp_path / "n"), "--from", str(bad_dir)]) == 2
    assert "error:" in capsys.readouterr().err and not (tmp_path / "n").exists()


def test_cli_download_mnist_without_a_folder_fills_the_tests_cache(tmp_path, good_dir, monkeypatch):
    from cnnlib.cli import main
    from conftest import find_mnist

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert main(["download-mnist", "--from", str(good_dir)]) == 0
    assert verify_mnist(tmp_path / "xdg" / "cnnlib" / "mnist")
    # where the tests look when neither CNNLIB_MNIST nor ../shared has MNIST
    monkeypatch.delenv("CNNLIB_MNIST", raising=False)
    monkeypatch.setattr("conftest.SHARED_MNIST", tmp_path / "nowhere")
    monkeypatch.setattr(data, "MIRRORS", [])  # no download: the cache must already hold the files
    assert find_mnist() == tmp_path / "xdg" / "cnnlib" / "mnist"
