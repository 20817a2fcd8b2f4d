from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """Full MNIST for tests: ../shared/data/mnist (always present in CI), or $CNNLIB_MNIST."""
    import os

    folder = Path(os.environ.get("CNNLIB_MNIST", SHARED_MNIST))
    assert folder.is_dir(), (
        f"MNIST not found at {folder}: tests need the four MNIST files there "
        "(or set CNNLIB_MNIST to a folder holding them)"
    )
    return folder


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    from cnnlib.data import load_mnist

    return load_mnist(mnist_dir)
