"""cnnlib.runfiles: a finished run's files are checked when read; each kind of damage is named."""

import json
import shutil

import pytest

from cnnlib.runfiles import RunFileError, check_run, read_history
from cnnlib.train import run


@pytest.fixture(scope="module")
def good_run(tmp_path_factory, mnist):
    out = tmp_path_factory.mktemp("run")
    run({"epochs": 1, "iterations_per_epoch": 10, "eval": {"per_epoch": 2, "subset": 200},
         "data": {"train_limit": 2000, "test_limit": 500}}, out, data=mnist, progress=False)
    return out


@pytest.fixture
def copy(good_run, tmp_path):
    dest = tmp_path / "run"
    shutil.copytree(good_run, dest)
    return dest


def damaged(folder, name, reason):
    with pytest.raises(RunFileError) as err:
        check_run(folder)
    assert err.value.path == folder / name, err.value
    assert reason in str(err.value) and str(folder / name) in str(err.value)


def test_copy_run_copies_checked_files_under_the_new_config(good_run, tmp_path):
    from cnnlib.runfiles import copy_run

    source = check_run(good_run)
    config = {**source["config"], "model": {**source["config"]["model"], "linear_init_std": None}}
    m = copy_run(good_run, tmp_path / "copy", config, "runs/a/b/seed-0")
    assert check_run(tmp_path / "copy") == m
    assert m["config"] == config and m["copied_from"] == "runs/a/b/seed-0" and m["final"] == source["final"]
    for name in ("history.json", "weights.npz", "optimizer.npz"):
        assert (tmp_path / "copy" / name).read_bytes() == (good_run / name).read_bytes()


def test_copy_run_refuses_a_damaged_source(copy, tmp_path):
    from cnnlib.runfiles import copy_run

    (copy / "history.json").write_text("{}")
    with pytest.raises(RunFileError, match="history.json"):
        copy_run(copy, tmp_path / "dest", {}, "x")
    assert not (tmp_path / "dest").exists()


def test_a_real_run_checks_out(good_run):
    m = check_run(good_run)
    assert m["status"] == "completed" and set(m["files"]) == {"history.json", "weights.npz", "optimizer.npz"}
    assert m["time"]["train_cpu_seconds"] >= 0
    assert 0 < m["time"]["train_cpu_seconds_per_epoch"] <= 2 * m["time"]["train_cpu_seconds"]
    assert read_history(good_run)["train"]["loss"]


def test_truncated_metrics(copy):
    text = (copy / "metrics.json").read_text()
    (copy / "metrics.json").write_text(text[: len(text) // 2])
    damaged(copy, "metrics.json", "not valid JSON")


def test_nan_typed_into_metrics(copy):
    text = (copy / "metrics.json").read_text()
    (copy / "metrics.json").write_text(text.replace('"test_accuracy": 0.', '"test_accuracy": NaN, "x": 0.', 1))
    damaged(copy, "metrics.json", "non-finite")


def test_edited_number(copy):
    m = json.loads((copy / "metrics.json").read_text())
    m["final"]["test_accuracy"] = 0.999
    (copy / "metrics.json").write_text(json.dumps(m))
    damaged(copy, "metrics.json", "checksum does not match")


def test_out_of_range_value_is_named_before_the_checksum(copy):
    m = json.loads((copy / "metrics.json").read_text())
    m["final"]["test_accuracy"] = 1.5
    (copy / "metrics.json").write_text(json.dumps(m))
    damaged(copy, "metrics.json", "final.test_accuracy")


@pytest.mark.parametrize("name", ["metrics.json", "history.json", "weights.npz", "optimizer.npz"])
def test_each_file_deleted(copy, name):
    (copy / name).unlink()
    damaged(copy, name, "missing")


def test_history_bytes_changed(copy):
    data = bytearray((copy / "history.json").read_bytes())
    data[len(data) // 2] = ord("7") if data[len(data) // 2] != ord("7") else ord("8")
    (copy / "history.json").write_bytes(bytes(data))
    damaged(copy, "history.json", "differs from what the run wrote")


def test_weights_truncated(copy):
    data = (copy / "weights.npz").read_bytes()
    (copy / "weights.npz").write_bytes(data[:-10])
    damaged(copy, "weights.npz", "bytes")


def test_write_csv_writes_what_csv_dictwriter_writes(tmp_path):
    """write_csv skips DictWriter's per-cell Python work (a curves file has 10^5 rows); the
    bytes must stay DictWriter's: None and missing keys empty, quoting, float repr, and a key
    that is no column refused."""
    import csv
    import io

    from cnnlib.io import write_csv

    columns = ["a", "b", "c"]
    rows = [{"a": 1, "b": None, "c": 0.1 + 0.2}, {"a": "x,y", "b": 'say "hi"', "c": "line\nbreak"}, {"c": 3}]
    write_csv(tmp_path / "t.csv", columns, rows)
    buf = io.StringIO()
    ref = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="raise")
    ref.writeheader()
    ref.writerows([{k: "" if v is None else v for k, v in r.items()} for r in rows])
    assert (tmp_path / "t.csv").read_text() == buf.getvalue()
    with pytest.raises(ValueError, match=r"t2\.csv: row has keys that are no column: d"):
        write_csv(tmp_path / "t2.csv", columns, [{"a": 1, "d": 2}])
    assert not (tmp_path / "t2.csv").exists()


def test_a_file_of_the_wrong_size_is_refused_before_it_is_read(copy, monkeypatch):
    import cnnlib.runfiles as runfiles

    with open(copy / "history.json", "r+b") as fh:  # 1 GB, sparse: nothing is written to disk
        fh.truncate(1 << 30)
    read = []
    real = runfiles.file_digest
    monkeypatch.setattr(runfiles, "file_digest", lambda path: read.append(path.name) or real(path))
    damaged(copy, "history.json", "1,073,741,824 bytes")
    assert "history.json" not in read
    with open(copy / "metrics.json", "r+b") as fh:
        fh.truncate(1 << 30)
    damaged(copy, "metrics.json", "a few kilobytes")
