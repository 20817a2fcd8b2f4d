"""workflow.datasets: the runs' data known by content, whatever folder it comes from."""

import shutil

import pytest

from cnnlib.data import MNIST_FILES, MNIST_SHA256, load_idx
from workflow.datasets import PUBLISHED_STORE, DataConfigError, content_id, data_source


def test_the_published_mnist_is_one_dataset_wherever_it_comes_from(mnist_dir, tmp_path):
    downloaded = data_source(None, cache=None)
    given = data_source(str(mnist_dir), cache=tmp_path / "digests.json")
    assert downloaded.published and given.published
    assert downloaded.sha256 == given.sha256 == MNIST_SHA256
    assert downloaded.store == given.store == PUBLISHED_STORE and downloaded.id == content_id(MNIST_SHA256)


def test_other_content_is_another_dataset_in_a_folder_of_its_own(inverted_mnist, tmp_path):
    inv = data_source(str(inverted_mnist), {"name": "Inverted MNIST"}, cache=None)
    assert not inv.published and inv.name == "Inverted MNIST"
    assert inv.store == f"resources/data-{inv.id}" != PUBLISHED_STORE
    assert inv.sha256[MNIST_FILES[1]] == MNIST_SHA256[MNIST_FILES[1]]  # the labels are MNIST's
    assert inv.sha256[MNIST_FILES[0]] != MNIST_SHA256[MNIST_FILES[0]]
    assert inv.files[MNIST_FILES[0]] == {"file": MNIST_FILES[0], "count": 60000, "shape": [28, 28]}
    train_x, _, _, _ = load_idx(inverted_mnist, inv.sha256)  # what training loads, checked
    assert train_x.shape == (60000, 28, 28)
    with pytest.raises(DataConfigError, match="differ from the checksums of dataset.sha256"):
        data_source(str(inverted_mnist), {"sha256": "published"}, cache=None)


def test_swapped_train_and_test_files_are_named(mnist_dir, tmp_path):
    folder = tmp_path / "swapped"
    folder.mkdir()
    for name in MNIST_FILES:
        src = next(p for p in (mnist_dir / f"{name}.gz", mnist_dir / name) if p.is_file())
        swapped = name.replace("train", "TMP").replace("t10k", "train").replace("TMP", "t10k")
        shutil.copy(src, folder / src.name.replace(name, swapped))
    with pytest.raises(DataConfigError) as err:
        data_source(str(folder), cache=None)
    text = str(err.value)
    assert text.startswith("mnist_dir: ") and "train-images-idx3-ubyte" in text
    assert "holds the published MNIST file t10k-images-idx3-ubyte (10,000 items)" in text and "swapped" in text
    assert "delete" not in text and "download" not in text  # never advice that loses the user's files


def test_digests_are_cached_by_file_and_refreshed_when_a_file_changes(inverted_mnist, tmp_path, monkeypatch):
    import workflow.datasets as D

    folder = tmp_path / "copy"
    shutil.copytree(inverted_mnist, folder)
    cache = tmp_path / "digests.json"
    first = data_source(str(folder), cache=cache)
    monkeypatch.setattr(D, "idx_digests", lambda f: pytest.fail("read again although nothing changed"))
    assert data_source(str(folder), cache=cache) == first
    monkeypatch.undo()
    labels = folder / MNIST_FILES[3]
    data = bytearray(labels.read_bytes())
    data[8] = (data[8] + 1) % 10  # one test label changed: same size, new content
    labels.write_bytes(bytes(data))
    changed = data_source(str(folder), cache=cache)
    assert changed.id != first.id and changed.sha256[MNIST_FILES[3]] != first.sha256[MNIST_FILES[3]]


def test_a_bad_folder_is_named_with_the_key(tmp_path):
    with pytest.raises(DataConfigError, match="mnist_dir: .* is not a folder"):
        data_source(str(tmp_path / "nowhere"), cache=None)
    with pytest.raises(DataConfigError, match="lacks"):
        data_source(str(tmp_path), cache=None)
    with pytest.raises(DataConfigError, match="mnist_dir"):
        data_source(None, {"sha256": {n: "0" * 64 for n in MNIST_FILES}}, cache=None)
