"""workflow.builds and workflow.compare: the record of every build and the comparison of two.

No training: a small simulator writes each run's metrics.json as the workflow would (a run is
rewritten only when its settings or the training stage's code changed, like Snakemake's
params trigger), with file checksums that follow the numbers, and records each build."""

import copy
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnnlib.config import resolve, training_identity
from cnnlib.data import MNIST_SHA256
from cnnlib.runfiles import RunFileError, checksum
from workflow.builds import (FORMAT, RecordError, builds_dir, compare, latest, make_record, markdown, read_record,
                             record_files, stage_code, write_record)
from workflow.summary import run_row

REPO = Path(__file__).resolve().parents[1]
FILES = ("history.json", "weights.npz", "optimizer.npz")
SEEDS = range(5)

# a small plan: {(experiment, variant): settings}
PLAN = {
    ("baseline", "baseline"): {"epochs": 2},
    ("learning_rate", "lr-0.01"): {"epochs": 5, "optimizer": {"lr": 0.01}},
    ("learning_rate", "lr-0.05"): {"epochs": 5, "optimizer": {"lr": 0.05}},
    ("momentum", "momentum-0.8"): {"epochs": 3, "optimizer": {"momentum": 0.8}},
    ("momentum", "momentum-0.9"): {"epochs": 3},
    ("init_std", "std-1"): {"epochs": 3, "model": {"init_std": 1.0}},
}


def _h(*parts) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def noise(*key) -> float:
    """A fixed pseudo-random number in [-1, 1) per key."""
    return int(_h(*key)[:8], 16) / 2 ** 31 - 1


def base_accuracy(experiment, variant, seed, config):
    """What 'training' gives: a variant's level from its settings plus seed noise; std 1 diverges."""
    if config["model"]["init_std"] >= 1:
        return None
    level = 0.95 + (config["optimizer"]["lr"] - 0.015) + 0.01 * (config["optimizer"]["momentum"] - 0.9)
    return round(level + 0.002 * noise(experiment, variant, seed), 4)


def merge(base, over):
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = merge(out.get(k, {}), v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def fake_repo(root: Path) -> Path:
    """A repository with a training stage (workflow/scripts/train.py -> cnnlib.train) and a
    rendering stage (workflow/scripts/render.py -> report.render)."""
    files = {
        "cnnlib/__init__.py": '"""The library."""\n',
        "cnnlib/train.py": '"""Training."""\nfrom cnnlib.data import load\n\n\ndef step(x):\n    """One step."""\n'
                           '    return load(x) * 0.5\n',
        "cnnlib/data.py": '"""Data."""\n\n\ndef load(x):\n    return x\n',
        "workflow/__init__.py": "",
        "workflow/scripts/train.py": '"""Train one run."""\nfrom cnnlib.train import step\n\nstep(1)\n',
        "workflow/scripts/render.py": '"""Render."""\nfrom report.render import page\n\npage()\n',
        "report/__init__.py": "",
        "report/render.py": '"""Rendering."""\n\n\ndef page():\n    return "page"\n',
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def edit(path: Path, old: str, new: str):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def stringify(row: dict) -> dict:
    """A runs.csv row as csv.DictReader gives it."""
    return {k: "" if v is None else str(v) for k, v in row.items()}


class Sim:
    """Builds into one results folder; each build writes a record and returns it."""

    def __init__(self, root: Path, repo: Path):
        self.root, self.repo, self.clock = root, repo, 0

    def code(self):
        return {stage: stage_code([self.repo / "workflow" / "scripts" / f"{stage}.py"], self.repo)
                for stage in ("train", "render")}

    def build(self, plan=PLAN, seeds=SEEDS, data=None, accuracy=base_accuracy, machine="A", comparisons=(),
              summaries=None, write=True):
        data = dict(data or MNIST_SHA256)
        code = self.code()
        rows = []
        self.clock += 1
        for (e, v), settings in plan.items():
            for s in seeds:
                config = resolve(merge(settings, {"seed": s, "data": {"sha256": data}}))
                stamp = _h(training_identity(config), json.dumps(code["train"], sort_keys=True))
                folder = self.root / "runs" / e / v / f"seed-{s}"
                m = json.loads((folder / "metrics.json").read_text()) if (folder / "metrics.json").is_file() else None
                if m is None or m["sim_stamp"] != stamp:
                    m = self.train(folder, e, v, s, config, accuracy(e, v, s, config), machine, stamp)
                rows.append(stringify(run_row(e, v, s, m)))
        created = f"2026-12-08T10:{self.clock // 60:02d}:{self.clock % 60:02d}+00:00"
        record = make_record(self.root, rows, summaries or {}, list(comparisons), {"seeds": list(seeds)},
                             {"commit": _h("commit", self.clock)[:40], "dirty": False, "command": "snakemake",
                              "config_hash": "abc", "machine": {"CPU": machine}, "created_utc": created},
                             code, {"id": _h(data)[:16], "sha256": data})
        path = write_record(builds_dir(self.root), record) if write else None
        return record, path

    def train(self, folder, e, v, s, config, acc, machine, stamp):
        done = acc is not None
        m = {"status": "completed" if done else "diverged", "diverged_at_iteration": None if done else 7,
             "final": {"test_accuracy": acc, "test_loss": round(1.2 - acc, 4) if done else None, "train_loss": 0.1,
                       "epochs_completed": config["epochs"] if done else 0, "iterations": 600 * config["epochs"]},
             "time": {"train_seconds": 1.0 + self.clock, "eval_seconds": 0.1, "total_seconds": 1.1 + self.clock,
                      "finished_utc": f"2026-12-08T09:00:{self.clock:02d}+00:00"},
             "model": {"name": "reference_cnn", "parameters": 2158}, "seed": s, "config": config,
             # the files follow the numbers: same settings, data and numbers on one machine, same bytes
             "files": {name: {"sha256": _h(name, training_identity(config), acc, machine), "bytes": 100}
                       for name in FILES},
             "sim_stamp": stamp}
        m["checksum"] = checksum(m)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "metrics.json").write_text(json.dumps(m))
        return m


@pytest.fixture
def sim(tmp_path):
    return Sim(tmp_path / "results", fake_repo(tmp_path / "repo"))


def reasons(c):
    return {(g["experiment"], g["variant"]): g["reason"] for g in c["retrained"]}


def cli(*args):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "workflow.compare", *map(str, args)], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=120)


def resealed(record):
    """``record`` with a fresh checksum and a later time (an edited copy that is a valid record)."""
    record = copy.deepcopy(record)
    record["created_utc"] = record["provenance"]["created_utc"] = "2026-12-09T12:00:00+00:00"
    record["checksum"] = checksum(record)
    return record


def planted(record, experiment, variant, shifts):
    """``record`` with the final accuracy of one variant's runs moved by ``shifts`` (one per seed)
    and their files changed."""
    record = copy.deepcopy(record)
    runs = [r for r in record["runs"] if (r["experiment"], r["variant"]) == (experiment, variant)]
    assert len(runs) == len(shifts)
    for r, d in zip(sorted(runs, key=lambda r: r["seed"]), shifts):
        r["results"]["test_accuracy"] = repr(round(float(r["results"]["test_accuracy"]) + d, 4))
        r["files"] = {k: _h("planted", v) for k, v in r["files"].items()}
        r["metrics_checksum"] = _h("planted", r["metrics_checksum"])
    return resealed(record)


# --------------------------------------------------------------------------- the cases

def test_learning_rate_change_retrains_exactly_that_variant(sim):
    old, _ = sim.build()
    plan = {**PLAN, ("learning_rate", "lr-0.05"): {"epochs": 5, "optimizer": {"lr": 0.06}}}
    new, _ = sim.build(plan)
    c = compare(old, new)
    assert c["retrained"] == [{"experiment": "learning_rate", "variant": "lr-0.05", "seeds": [0, 1, 2, 3, 4],
                               "reason": "settings changed: optimizer.lr 0.05 -> 0.06"}]
    n = c["counts"]
    assert (n["shared"], n["identical"], n["differ"], n["retrained"]) == (30, 25, 5, 5)
    [v] = c["variants"]
    assert (v["experiment"], v["variant"], v["n"], v["verdict"]) == ("learning_rate", "lr-0.05", 5, "changed")
    assert v["difference"] == pytest.approx(0.01, abs=2e-4)  # lr + 0.01: accuracy + 0.01 (rounded to 4 digits)
    assert c["regression"] and not c["conclusions"] and not c["removed"]


def test_training_code_change_flags_every_affected_run_naming_the_module(sim):
    old, _ = sim.build()
    edit(sim.repo / "cnnlib/train.py", "* 0.5", "* 0.25")
    moved = lambda e, v, s, cfg: None if (a := base_accuracy(e, v, s, cfg)) is None else round(a - 0.01, 4)  # noqa
    new, _ = sim.build(accuracy=moved)
    c = compare(old, new)
    assert c["counts"]["retrained"] == 30 and c["counts"]["identical"] == 5  # std-1 diverges both times
    assert set(reasons(c)) == set(PLAN)
    assert set(reasons(c).values()) == {"code changed: cnnlib/train.py"}
    verdicts = {(v["experiment"], v["variant"]): v["verdict"] for v in c["variants"]}
    assert verdicts.pop(("init_std", "std-1")) == "identical"
    assert set(verdicts.values()) == {"changed"} and c["regression"]
    assert c["code"] == {"train": ["cnnlib/train.py"]}
    text = markdown(c, "old", "new")
    assert "code changed: cnnlib/train.py" in text and "Results moved" in text


def test_a_module_the_training_imports_is_named(sim):
    old, _ = sim.build()
    edit(sim.repo / "cnnlib/data.py", "return x", "return x + 0")
    new, _ = sim.build()  # same numbers: retrained, bit for bit the same files
    c = compare(old, new)
    assert set(reasons(c).values()) == {"code changed: cnnlib/data.py"}
    assert {v["verdict"] for v in c["variants"]} == {"identical"} and not c["regression"]
    assert markdown(c, "a", "b").startswith("**No result moved beyond \u00b10.0050, no conclusion changed;**")


def test_docstring_edit_retrains_nothing_and_says_no_change(sim):
    old, _ = sim.build()
    edit(sim.repo / "cnnlib/train.py", '"""One step."""', '"""One step of SGD, documented at length."""')
    edit(sim.repo / "cnnlib/train.py", '"""Training."""', '"""Training.\n\nA comment-like docstring."""\n# a comment')
    new, _ = sim.build()
    assert new["code"] == old["code"]
    c = compare(old, new)
    assert not c["retrained"] and not c["variants"] and not c["regression"]
    assert c["counts"]["identical"] == 30
    assert markdown(c, "a", "b").splitlines()[0] == "No change: all 30 runs bit for bit identical."


def test_report_code_change_retrains_nothing(sim):
    old, _ = sim.build()
    edit(sim.repo / "report/render.py", 'return "page"', 'return "a page"')
    new, _ = sim.build()
    c = compare(old, new)
    assert not c["retrained"] and c["code"] == {"render": ["report/render.py"]} and not c["regression"]
    assert markdown(c, "a", "b").splitlines()[-1] == "Code changed, no result: render (report/render.py)"


def test_planted_two_point_shift_is_flagged_and_exits_nonzero(sim, tmp_path):
    old, old_path = sim.build()
    new = planted(old, "momentum", "momentum-0.8", [0.018, 0.022, 0.019, 0.021, 0.020])
    c = compare(old, new)
    [v] = c["variants"]
    assert (v["experiment"], v["variant"], v["verdict"]) == ("momentum", "momentum-0.8", "changed")
    assert v["difference"] == pytest.approx(0.02, abs=1e-9) and 0.015 < v["ci_low"] < v["ci_high"] < 0.025
    assert c["regression"]
    assert reasons(c) == {("momentum", "momentum-0.8"):
                          "files differ: another machine or BLAS? (no code or setting changed)"}
    new_path = write_record(tmp_path / "other" / "builds", new)
    r = cli(old_path, new_path)
    assert r.returncode == 1, r.stderr
    print(r.stdout)
    assert r.stdout.startswith("**Results moved:** 1 variant changed beyond \u00b10.0050 test accuracy; "
                               "25 of 30 shared runs bit for bit identical.")
    assert "| `momentum/momentum-0.8` | 5 | " in r.stdout and "| **changed** |" in r.stdout
    r = cli(sim.root, tmp_path / "other")  # results folders: their newest records
    assert r.returncode == 1 and "momentum-0.8" in r.stdout


def test_identical_records_exit_zero(sim, tmp_path):
    _, path = sim.build()
    r = cli(path, path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "No change: all 30 runs bit for bit identical."
    # a rebuild elsewhere: every run trained again (new metrics.json), the same bytes
    other = Sim(tmp_path / "elsewhere", sim.repo)
    other.clock = 5
    again, again_path = other.build()
    assert all(a["metrics_checksum"] != b["metrics_checksum"] for a, b in zip(again["runs"], read_record(path)["runs"]))
    r = cli(path, again_path)
    assert r.returncode == 0 and r.stdout.startswith("No change: all 30 runs bit for bit identical.")


def test_damaged_record_is_named_never_used(sim, tmp_path):
    _, good = sim.build()
    bad = tmp_path / "bad" / good.name
    bad.parent.mkdir()
    text = good.read_text()
    i = text.index('"test_accuracy":"') + len('"test_accuracy":"') + 3
    bad.write_text(text[:i] + ("1" if text[i] != "1" else "2") + text[i + 1:])  # one digit of one accuracy
    with pytest.raises(RecordError, match="checksum does not match") as err:
        read_record(bad)
    assert err.value.path == bad and str(bad) in str(err.value)
    r = cli(good, bad)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [f"error: {bad}: checksum does not match its content (edited or damaged)"]


# --------------------------------------------------------------------------- reasons and verdicts

def test_data_change_is_named(sim):
    old, _ = sim.build()
    other = {**MNIST_SHA256, "t10k-labels-idx1-ubyte": "0" * 64}
    new, _ = sim.build(data=other, accuracy=lambda *a: None if (x := base_accuracy(*a)) is None else x - 0.001)
    c = compare(old, new)
    assert set(reasons(c).values()) == {"data changed"} and c["data_changed"]
    assert "Data changed" in markdown(c, "a", "b")


def test_files_that_differ_with_nothing_changed_point_at_the_machine(sim, tmp_path):
    old, _ = sim.build()
    other = Sim(tmp_path / "b", sim.repo)
    wobble = lambda e, v, s, cfg: None if (a := base_accuracy(e, v, s, cfg)) is None else round(a + 0.0001 * (s % 2), 4)  # noqa
    new, _ = other.build(accuracy=wobble, machine="B")
    c = compare(old, new)
    assert set(reasons(c).values()) == {"files differ: another machine or BLAS? (no code or setting changed)"}
    assert c["counts"]["retrained"] == 30  # every run's files differ (std-1 diverges both times: at chance)
    assert {v["verdict"] for v in c["variants"]} == {"equivalent"} and not c["regression"]
    assert c["machine"] == {"CPU": ["A", "B"]}


def test_verdicts_and_diverged_runs_at_chance(sim):
    old, _ = sim.build()
    noisy = planted(old, "learning_rate", "lr-0.01", [0.01, -0.012, 0.008, -0.009, 0.004])
    tiny = planted(old, "learning_rate", "lr-0.01", [0.0001, -0.0002, 0.0001, 0.0, 0.0002])
    assert compare(old, noisy)["variants"][0]["verdict"] == "inconclusive"
    # the interval [-0.0016, +0.0056] holds 0 and reaches beyond +delta: inconclusive, not equivalent
    leaning = compare(old, planted(old, "learning_rate", "lr-0.01", [0.001, -0.001, 0.006, 0.0, 0.004]))["variants"][0]
    assert -0.005 < leaning["ci_low"] < 0 < 0.005 < leaning["ci_high"] and leaning["verdict"] == "inconclusive"
    assert compare(old, tiny)["variants"][0]["verdict"] == "equivalent"
    # one shared seed: changed when the difference is beyond delta, else inconclusive
    one = lambda rec: {**rec, "runs": [r for r in rec["runs"] if r["seed"] == 0]}  # noqa: E731
    assert compare(one(old), one(planted(old, "baseline", "baseline", [0.03] * 5)))["variants"][0]["verdict"] == "changed"
    assert compare(one(old), one(tiny))["variants"][0]["verdict"] == "inconclusive"
    # a run that diverges counts at chance (1/10): baseline seed 0 diverges in the new build
    new = copy.deepcopy(old)
    run = next(r for r in new["runs"] if (r["experiment"], r["variant"], r["seed"]) == ("baseline", "baseline", 0))
    was = float(run["results"]["test_accuracy"])
    run.update(status="diverged", files={k: "0" * 64 for k in FILES})
    run["results"].update(status="diverged", test_accuracy="")
    [v] = compare(old, resealed(new))["variants"]
    assert v["difference"] == pytest.approx((0.1 - was) / 5) and v["verdict"] == "inconclusive"


def test_new_and_removed_runs(sim):
    old, _ = sim.build(seeds=range(3))
    plan = {k: v for k, v in PLAN.items() if k != ("init_std", "std-1")}
    new, _ = sim.build(plan=plan, seeds=range(5))
    c = compare(old, new)
    assert {(g["experiment"], g["variant"]): (g["seeds"], g["reason"]) for g in c["retrained"]} == \
        {k: ([3, 4], "new") for k in plan}
    assert c["removed"] == [{"experiment": "init_std", "variant": "std-1", "seeds": [0, 1, 2]}]
    assert not c["variants"] and not c["regression"]  # the shared seeds are identical


def row(a, b, claim, diff="0.01", low="0.005", high="0.015", quantity="test_accuracy", experiment="learning_rate"):
    return {"experiment": experiment, "variant_a": a, "variant_b": b, "quantity": quantity,
            "population": "learned", "test": "paired_t", "difference": diff, "ci_low": low, "ci_high": high,
            "claim": claim, "delta": "0.005"}


def test_conclusions_flip_matched_in_either_order(sim):
    rows_old = [row("lr-0.05", "lr-0.01", "a_better"), row("lr-0.01", "baseline", "inconclusive"),
                row("momentum-0.9", "momentum-0.8", "equivalent", experiment="momentum"),
                row("lr-0.05", "", "a_better", quantity="failure_rate")]
    turned = row("lr-0.01", "lr-0.05", "b_better", "-0.01", "-0.015", "-0.005")  # the same row, A and B swapped
    rows_new = [turned, row("lr-0.01", "baseline", "a_better", "0.02", "0.01", "0.03"),
                row("momentum-0.9", "momentum-0.8", "inconclusive", experiment="momentum"),
                row("lr-0.05", "lr-0.01", "a_better", quantity="converged_epoch")]
    old, _ = sim.build(comparisons=rows_old)
    new, _ = sim.build(comparisons=rows_new)
    c = compare(old, new)
    assert [(r["variant_a"], r["variant_b"], r["old_claim"], r["new_claim"]) for r in c["conclusions"]] == \
        [("lr-0.01", "baseline", "inconclusive", "a_better"), ("momentum-0.9", "momentum-0.8", "equivalent", "inconclusive")]
    assert [(r["quantity"], r["claim"]) for r in c["conclusions_added"]] == [("converged_epoch", "a_better")]
    assert [(r["quantity"], r["claim"]) for r in c["conclusions_removed"]] == [("failure_rate", "a_better")]
    assert c["regression"] and not c["retrained"]
    text = markdown(c, "a", "b")
    assert text.startswith("**Results moved:** 2 conclusions changed; 30 of 30 shared runs bit for bit identical.")
    assert "| learning_rate | lr-0.01 | baseline | test_accuracy (learned) | inconclusive | **lr-0.01 better** |" in text
    # a row turned round whose claim really flipped: the old claim is shown in the new orientation
    flipped = compare(old, resealed({**new, "comparisons": [row("lr-0.01", "lr-0.05", "a_better")]}))
    [f] = flipped["conclusions"]
    assert (f["old_claim"], f["new_claim"], f["old_difference"]) == ("b_better", "a_better", -0.01)


def test_make_record_refuses_a_damaged_run(sim):
    sim.build()
    metrics = sim.root / "runs/momentum/momentum-0.8/seed-3/metrics.json"
    edit(metrics, '"test_accuracy": 0.9', '"test_accuracy": 0.8')
    with pytest.raises(RunFileError, match="checksum does not match") as err:
        sim.build()
    assert err.value.path == metrics


# --------------------------------------------------------------------------- the record file

def default_config_build(tmp_path):
    """125 runs (25 variants x 5 seeds) with their summaries and the comparisons of every pair of
    variants of an experiment in 5 quantities: the size of the default config's records."""
    sizes = {"baseline": 1, "learning_rate": 5, "weight_decay": 3, "momentum": 3, "init_std": 3, "cnn_vs_mlp": 2,
             "protocol": 8}
    plan = {(e, f"v{i}"): {"epochs": 3, "optimizer": {"lr": 0.01 + 0.001 * i}} for e, k in sizes.items() for i in range(k)}
    assert len(plan) * 5 == 125
    columns = ["experiment", "variant_a", "variant_b", "quantity", "population", "n_a", "n_b", "mean_a", "mean_b",
               "difference", "ci_low", "ci_high", "test", "p_value", "p_holm", "family", "family_size",
               "prob_improvement", "prob_improvement_low", "prob_improvement_high", "delta", "min_detectable",
               "decidable", "claim"]
    number = lambda *k: repr(0.9 + noise(*k) / 10)  # noqa: E731  full-length floats, as the CSVs hold them
    rows = [{c: (e if c == "experiment" else a if c == "variant_a" else b if c == "variant_b" else q
                 if c == "quantity" else number(e, a, b, q, c)) for c in columns}
            for e, k in sizes.items() for i, a in enumerate(f"v{j}" for j in range(k)) for b in [f"v{j}" for j in range(i + 1, k)]
            for q in ("test_accuracy", "failure_rate", "converged_epoch", "cpu_seconds_per_epoch", "test_vs_train_accuracy")]
    from cnnlib.results import SUMMARY_COLUMNS

    summaries = {e: [{c: number(e, i, c) for c in SUMMARY_COLUMNS} for i in range(k)] for e, k in sizes.items()}
    repo_sim = Sim(tmp_path / "results", REPO)
    repo_sim.code = lambda: __import__("workflow.builds").builds.workflow_code(REPO)  # every stage of this repo
    return repo_sim.build(plan=plan, comparisons=rows, summaries=summaries)


def test_record_of_the_default_config_is_small(tmp_path):
    record, path = default_config_build(tmp_path)
    size = path.stat().st_size
    print(f"record of 125 runs, {len(record['comparisons'])} comparisons, {len(record['code'])} stages: {size:,} bytes")
    assert len(record["runs"]) == 125 and size < 500_000
    assert read_record(path) == record and record["format"] == FORMAT


def test_keep_prunes_the_oldest_records_only(sim):
    record, first = sim.build()
    folder = builds_dir(sim.root)
    (folder / "notes.json").write_text("{}")  # not a record: never touched
    paths = [first]
    for i in range(11):
        r = copy.deepcopy(record)
        r["created_utc"] = r["provenance"]["created_utc"] = f"2026-12-09T10:00:{i:02d}+00:00"
        r["checksum"] = checksum(r)
        paths.append(write_record(folder, r, keep=10 if i < 10 else 3))
    assert record_files(folder) == paths[-3:]
    assert (folder / "notes.json").is_file()
    assert latest(folder) == paths[-1] and latest(folder, before=paths[-1]) == paths[-2]
    assert latest(folder, before=paths[-3]) is None


def test_a_failed_write_leaves_no_partial_record(sim, monkeypatch):
    record, first = sim.build()
    r = resealed(record)

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_record(builds_dir(sim.root), r)
    assert sorted(p.name for p in builds_dir(sim.root).iterdir()) == [first.name]  # no new file, no temp file
    assert latest(builds_dir(sim.root)) == first


def test_write_refuses_a_record_edited_after_it_was_made(sim):
    record, _ = sim.build()
    record["runs"][0]["seed"] = 7
    with pytest.raises(ValueError, match="checksum does not match"):
        write_record(builds_dir(sim.root), record)


@pytest.mark.parametrize("damage, reason", [
    (lambda t: t[:len(t) // 2], "not valid JSON (truncated or edited?)"),
    (lambda t: t.replace('"metrics_checksum":"', '"metrics_checksum":"0', 1), "checksum does not match"),
    (lambda t: t.replace(FORMAT, "cnnlib-build/0"), "format is 'cnnlib-build/0'"),
    (lambda t: t.replace('"test_loss":"', '"test_loss":NaN,"x":"', 1), "non-finite number"),
    (lambda t: "[]", "is not a JSON object"),
    (lambda t: "", "not valid JSON"),
])
def test_read_record_names_a_damaged_file(sim, damage, reason):
    _, path = sim.build()
    path.write_text(damage(path.read_text()))
    with pytest.raises(RecordError) as err:
        read_record(path)
    assert err.value.path == path and reason in str(err.value) and str(path) in str(err.value), err.value


def test_read_record_checks_every_key_and_the_name(sim):
    record, path = sim.build()
    broken = copy.deepcopy(record)
    del broken["runs"][2]["files"]
    broken["checksum"] = checksum(broken)
    path.write_text(json.dumps(broken))
    with pytest.raises(RecordError, match=r"runs\[2\]\.files is None"):
        read_record(path)
    other = resealed(record)
    path.write_text(json.dumps(other))  # a valid record under another record's name
    with pytest.raises(RecordError, match="its name says checksum"):
        read_record(path)
    path.unlink()
    with pytest.raises(RecordError, match="missing"):
        read_record(path)


def test_latest_raises_on_a_damaged_newest_record(sim):
    sim.build()
    _, newest = sim.build()
    newest.write_text(newest.read_text()[:-40])
    with pytest.raises(RecordError) as err:
        latest(builds_dir(sim.root))
    assert err.value.path == newest
    r = cli(sim.root, sim.root)
    assert r.returncode == 2 and str(newest) in r.stderr and len(r.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- the command

def test_cli_same_folder_compares_the_last_two_builds(sim):
    sim.build()
    sim.build(plan={**PLAN, ("baseline", "baseline"): {"epochs": 2, "optimizer": {"lr": 0.02}}})
    r = cli(sim.root, sim.root)
    assert r.returncode == 1, r.stderr
    assert "- settings changed: optimizer.lr 0.015 -> 0.02 \u2014 `baseline/baseline` seeds 0\u20134\n" in r.stdout


def test_cli_errors_name_the_path(tmp_path, sim):
    r = cli(tmp_path / "nowhere", tmp_path / "nowhere")
    assert r.returncode == 2 and r.stderr.strip() == f"error: {tmp_path / 'nowhere'}: no such file or folder"
    (tmp_path / "empty").mkdir()
    r = cli(tmp_path / "empty", tmp_path / "empty")
    assert r.returncode == 2 and "no build record" in r.stderr
    sim.build()
    r = cli(sim.root, sim.root)
    assert r.returncode == 2 and "only one build record" in r.stderr


def test_cli_help_is_written_for_users():
    r = cli("--help")
    assert r.returncode == 0
    for text in ("OLD", "NEW", "--delta", "identical", "equivalent", "inconclusive", "exit status", "results results"):
        assert text in r.stdout


def test_cli_json_and_delta(sim, tmp_path):
    old, old_path = sim.build()
    new = planted(old, "momentum", "momentum-0.8", [0.007, 0.0075, 0.0065, 0.007, 0.0072])
    new_path = write_record(tmp_path / "b", new)
    r = cli(old_path, new_path, "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["variants"][0]["verdict"] == "changed"
    r = cli(old_path, new_path, "--delta", "0.01")
    assert r.returncode == 0 and "equivalent" in r.stdout
