"""Shared fixtures. MNIST for the tests comes from, in this order: the folder in the
environment variable CNNLIB_MNIST, ../shared/data/mnist beside the repository, or a
verified download into a cache (~/.cache/cnnlib/mnist, or $XDG_CACHE_HOME/cnnlib/mnist)."""

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_MNIST = SHARED / "data" / "mnist"
REPORT_2018 = SHARED / "reference" / "pa2-cnn-report-2018.txt"


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def find_mnist() -> Path:
    """The MNIST folder the tests use (see the module docstring); downloads if needed."""
    if os.environ.get("CNNLIB_MNIST"):
        folder = Path(os.environ["CNNLIB_MNIST"]).expanduser()
        assert folder.is_dir(), f"CNNLIB_MNIST={folder} is not a folder; point it at the four MNIST files"
        return folder
    if SHARED_MNIST.is_dir():
        return SHARED_MNIST
    from cnnlib.data import DatasetError, cache_folder, download_mnist

    cache = cache_folder()
    try:
        return download_mnist(cache)
    except DatasetError as exc:
        pytest.fail(f"no MNIST for the tests: set CNNLIB_MNIST to a folder with the four files, or allow "
                    f"the download into {cache}: {exc}")


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    return find_mnist()


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    from cnnlib.data import load_mnist

    return load_mnist(mnist_dir)


@pytest.fixture(scope="session")
def inverted_mnist(mnist, tmp_path_factory) -> Path:
    """Another dataset in MNIST's format: MNIST with every pixel inverted (255 - x), raw files."""
    import struct

    from cnnlib.data import MNIST_FILES

    out = tmp_path_factory.mktemp("inverted_mnist")
    for name, arr in zip(MNIST_FILES, mnist):
        if arr.ndim == 3:
            head, body = struct.pack(">IIII", 2051, *arr.shape), (255 - arr).astype(np.uint8).tobytes()
        else:
            head, body = struct.pack(">II", 2049, len(arr)), arr.astype(np.uint8).tobytes()
        (out / name).write_bytes(head + body)
    return out


@pytest.fixture(scope="session")
def mnist_gz(mnist_dir, tmp_path_factory) -> Path:
    """A folder with the four files gzip-compressed (what a mirror serves)."""
    from cnnlib.data import MNIST_FILES

    if all((mnist_dir / f"{n}.gz").is_file() for n in MNIST_FILES):
        return mnist_dir
    out = tmp_path_factory.mktemp("mnist_gz")
    for name in MNIST_FILES:
        (out / f"{name}.gz").write_bytes(gzip.compress((mnist_dir / name).read_bytes(), compresslevel=1))
    return out


@pytest.fixture(scope="session")
def report_2018() -> Path:
    """The 2018 report's text. Users' clones have no ../shared: the tests that need the text
    are skipped there, saying so; in CI (CI=true) its absence is a failure."""
    if REPORT_2018.is_file():
        return REPORT_2018
    message = f"needs the 2018 report text at {REPORT_2018} (in ../shared beside the repository)"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must provide it")
    pytest.skip(message)


class RecordingModel:
    """Stands in for a network in training runs: records every batch ``forward`` gets.

    ``batches``: ``(train flag, copy of x)`` per call. Logits are ``(N, 10)``, all equal to
    one bias parameter (so the loss is finite and SGD has something to update).
    """

    def __init__(self, settings, rng):
        from cnnlib.parameter import Parameter

        self.settings, self.rng = settings, rng
        self.batches = []
        self.bias = Parameter(np.zeros(10, np.float32), "bias")

    def forward(self, x, train=True):
        self.batches.append((train, np.array(x, copy=True)))
        return np.repeat(self.bias.value[None], len(x), axis=0)

    def backward(self, grad_y, need_input_grad=True):
        self.bias.accumulate(grad_y.sum(axis=0))
        return None

    def parameters(self):
        return [self.bias]

    def state_dict(self):
        return {"0.bias": self.bias.value.copy()}

    def train_batches(self):
        return [x for train, x in self.batches if train]


@pytest.fixture
def recording_models(monkeypatch):
    """Registers model name ``"recorder"`` in cnnlib.models.MODELS; returns the list of
    RecordingModel instances the runs built."""
    from cnnlib import models

    made = []

    def build(settings, rng, input_shape=(1, 28, 28), classes=10):
        made.append(RecordingModel(settings, rng))
        made[-1].data_shape = (input_shape, classes)
        return made[-1]

    monkeypatch.setitem(models.MODELS, "recorder", build)
    return made
