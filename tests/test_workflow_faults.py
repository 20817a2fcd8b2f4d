"""The workflow under faults and bad input: damaged caches, the data step, hostile configs,
a killed Snakemake, and what the report records of the command line. Quick profile, in a
temporary copy of the repository."""

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO
from test_workflow import COPY_IGNORE, planned_jobs, snakemake

QUICK = "results/quick"


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    dest = tmp_path_factory.mktemp("faults") / "repo"
    shutil.copytree(REPO, dest, ignore=COPY_IGNORE)
    return dest


def jobs_run(output: str) -> dict:
    """{rule: count} from the job table a real (not dry) run prints first."""
    table = output.split("Job stats:")[1].split("\n\n")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)
            if m.group(1) != "total"}


def test_damaged_cached_runs_are_named_and_retrained(repo, mnist_dir):
    snakemake(repo, "baseline", "cnn_vs_mlp", mnist_dir=mnist_dir)
    runs = repo / QUICK / "runs"
    nan = runs / "baseline/baseline/seed-0/metrics.json"
    nan.write_text(nan.read_text().replace('"test_accuracy": 0.', '"test_accuracy": NaN, "x": 0.', 1))
    cut = runs / "cnn_vs_mlp/cnn/seed-1/metrics.json"
    cut.write_text(cut.read_text()[:200])
    (runs / "cnn_vs_mlp/mlp/seed-0/history.json").unlink()
    untouched = (runs / "cnn_vs_mlp/mlp/seed-1/metrics.json").read_text()

    dry = snakemake(repo, "-n", "baseline", "cnn_vs_mlp", mnist_dir=mnist_dir)
    said = dry.stdout + dry.stderr
    for path in (nan, cut, runs / "cnn_vs_mlp/mlp/seed-0/history.json"):
        assert str(path.relative_to(repo)) in said, path
    assert nan.exists()  # a dry run changes nothing, and shows what a run retrains
    jobs = planned_jobs(repo, "baseline", "cnn_vs_mlp", mnist_dir=mnist_dir)
    # the three damaged runs, and the two that continue the retrained baseline seed 0
    # (momentum-0.9, then cnn: 2 -> 3 -> 5 epochs)
    assert jobs["train"] == 5 and jobs["summarize"] == 2

    r = snakemake(repo, "baseline", "cnn_vs_mlp", mnist_dir=mnist_dir)
    assert jobs_run(r.stdout + r.stderr)["train"] == 5
    assert (runs / "cnn_vs_mlp/mlp/seed-1/metrics.json").read_text() == untouched
    for path in (nan, cut):
        m = json.loads(path.read_text())
        assert m["status"] == "completed" and math.isfinite(m["final"]["test_accuracy"])
    summary = (repo / QUICK / "summary/baseline.csv").read_text()
    assert "nan" not in summary.lower()
    assert planned_jobs(repo, "baseline", "cnn_vs_mlp", mnist_dir=mnist_dir) == {}


def test_a_run_folder_holding_another_runs_files_is_named_and_retrained(repo, mnist_dir):
    # every file checks out against the others: only the recorded settings tell
    snakemake(repo, "momentum", mnist_dir=mnist_dir)
    runs = repo / QUICK / "runs/momentum"
    own = json.loads((runs / "momentum-0.85/seed-0/metrics.json").read_text())["final"]["test_accuracy"]
    for f in (runs / "momentum-0.8/seed-0").iterdir():
        shutil.copy(f, runs / "momentum-0.85/seed-0" / f.name)
    r = snakemake(repo, "momentum", mnist_dir=mnist_dir)
    said = r.stdout + r.stderr
    assert re.search(r"momentum-0.85/seed-0: holds a run of other settings than the plan gives it: "
                     r"optimizer.momentum 0.8 \(planned 0.85\)", said), said[-3000:]
    assert jobs_run(said)["train"] == 1
    metrics = json.loads((runs / "momentum-0.85/seed-0/metrics.json").read_text())
    assert metrics["config"]["optimizer"]["momentum"] == 0.85 and metrics["final"]["test_accuracy"] == own
    rows = (repo / QUICK / "summary/runs/momentum.csv").read_text().splitlines()
    assert any(row.startswith("momentum,momentum-0.85,0,") and f",{own}," in row for row in rows), rows
    assert planned_jobs(repo, "momentum", mnist_dir=mnist_dir) == {}


def test_a_run_folder_that_links_to_itself_is_named_with_the_fix(repo, mnist_dir):
    snakemake(repo, "baseline", mnist_dir=mnist_dir)
    folder = repo / QUICK / "runs/baseline/baseline/seed-1"
    shutil.rmtree(folder)
    folder.symlink_to(folder.name)  # seed-1 -> seed-1
    try:
        r = snakemake(repo, "baseline", mnist_dir=mnist_dir, check=False)
        out = r.stdout + r.stderr
        assert r.returncode != 0 and "Traceback" not in out and "Errno 40" not in out, out[-3000:]
        assert f"{QUICK}/runs/baseline/baseline/seed-1: a symbolic link that leads back to itself" in out
        assert f"rm {QUICK}/runs/baseline/baseline/seed-1" in out
    finally:
        folder.unlink()
    snakemake(repo, "baseline", mnist_dir=mnist_dir)  # the fix the message gives: the run is trained anew
    assert (folder / "metrics.json").is_file()


def test_a_code_change_under_both_the_data_step_and_training_reruns_both_at_once(repo, mnist_dir):
    # training takes the MNIST manifest as ancient(): Snakemake skipped jobs below the
    # rerunning data step and never saw that their own code had changed
    snakemake(repo, "baseline", mnist_dir=mnist_dir)
    for path, want in (("cnnlib/data.py", {"mnist": 1, "train": 2}),  # imported by both steps
                       ("workflow/scripts/get_mnist.py", {"mnist": 1})):  # the data step only
        source = repo / path
        original, stat = source.read_text(), source.stat()
        source.write_text(original + "\n_CHANGED = 1\n")
        try:
            jobs = planned_jobs(repo, "baseline", mnist_dir=mnist_dir)
        finally:
            source.write_text(original)
            os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert {k: v for k, v in jobs.items() if k in ("mnist", "train")} == want, path
    assert planned_jobs(repo, "baseline", mnist_dir=mnist_dir) == {}


def test_data_depends_on_content_not_on_its_path(repo, mnist_dir, tmp_path):
    snakemake(repo, "baseline", mnist_dir=mnist_dir)
    manifest = repo / "resources/mnist/MANIFEST.json"
    before = manifest.read_bytes()
    # without --config mnist_dir, and with the same files elsewhere: nothing reruns
    assert planned_jobs(repo, "baseline") == {}
    other = tmp_path / "copy"
    shutil.copytree(mnist_dir, other)
    assert planned_jobs(repo, "baseline", mnist_dir=other) == {}
    # a bad mnist_dir is refused before any job, and the data in place stays
    r = snakemake(repo, "baseline", mnist_dir=tmp_path / "nowhere", check=False)
    assert r.returncode != 0 and "mnist_dir" in r.stderr and "not a folder" in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = snakemake(repo, "baseline", mnist_dir=empty, check=False)
    assert r.returncode != 0 and "lacks" in r.stderr
    assert manifest.read_bytes() == before
    assert planned_jobs(repo, "baseline", mnist_dir=mnist_dir) == {}


def test_another_dataset_trains_on_its_files_and_swapping_folders_retrains(repo, mnist_dir, inverted_mnist):
    # MNIST in the cache: a folder with other content in MNIST's format is used, not ignored
    snakemake(repo, "baseline", mnist_dir=mnist_dir)
    metrics = repo / QUICK / "runs/baseline/baseline/seed-0/metrics.json"
    on_mnist = json.loads(metrics.read_text())
    assert planned_jobs(repo, "baseline", mnist_dir=inverted_mnist)["train"] == 2
    snakemake(repo, "baseline", mnist_dir=inverted_mnist)
    on_inverted = json.loads(metrics.read_text())
    data = on_inverted["config"]["data"]
    assert data["dir"].startswith("resources/data-") and (repo / data["dir"] / "MANIFEST.json").is_file()
    assert data["sha256"]["train-images-idx3-ubyte"] != on_mnist["config"]["data"]["sha256"]["train-images-idx3-ubyte"]
    assert on_inverted["final"] != on_mnist["final"]
    assert planned_jobs(repo, "baseline", mnist_dir=inverted_mnist) == {}
    # back to MNIST, whose files are still in resources/mnist: retrained on them, no data step
    jobs = planned_jobs(repo, "baseline", mnist_dir=mnist_dir)
    assert jobs["train"] == 2 and "mnist" not in jobs
    snakemake(repo, "baseline", mnist_dir=mnist_dir)
    assert json.loads(metrics.read_text())["final"] == on_mnist["final"]


def test_offline_hint_names_the_workflow_option_on_the_terminal(tmp_path_factory):
    repo = tmp_path_factory.mktemp("offline") / "repo"
    shutil.copytree(REPO, repo, ignore=COPY_IGNORE)
    dead = "http://127.0.0.1:9"  # discard port: every download fails at once
    env = {**os.environ, "PYTHONPATH": str(repo), "https_proxy": dead, "http_proxy": dead,
           "HTTPS_PROXY": dead, "HTTP_PROXY": dead}
    r = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "resources/mnist/MANIFEST.json",
                        "--configfile", "config/quick.yaml"], cwd=repo, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    hint = out.find("--config mnist_dir=DIR")
    assert hint >= 0, out[-3000:]
    cli = out.find("python -m cnnlib")
    assert cli == -1 or hint < cli


def test_sweeps_keep_their_types_end_to_end(repo, mnist_dir, tmp_path):
    extra = tmp_path / "types.yaml"
    extra.write_text(
        "experiments:\n"
        "  by_batch: {settings: {epochs: 1}, sweep: {key: batch_size, prefix: bs, values: [50, 200]}}\n"
        "  by_model: {settings: {epochs: 1}, sweep: {key: model.name, prefix: model, values: [mlp, reference_cnn]}}\n"
        "  by_width: {settings: {epochs: 1, model: {name: mlp}},\n"
        "             sweep: {key: model.hidden, prefix: hidden, values: [[32], [16, 8]]}}\n"
        "  by_rate: {settings: {epochs: 1}, sweep: {key: optimizer.lr, prefix: lr, values: [5e-2, 0.01]}}\n")
    snakemake(repo, "by_batch", "by_model", "by_width", "by_rate", mnist_dir=mnist_dir, extra_config=[extra])
    runs = repo / QUICK / "runs"

    def config_of(exp, variant):
        return json.loads((runs / exp / variant / "seed-0/metrics.json").read_text())["config"]

    assert config_of("by_batch", "bs-50")["batch_size"] == 50
    assert config_of("by_batch", "bs-200")["batch_size"] == 200
    assert config_of("by_model", "model-mlp")["model"]["name"] == "mlp"
    assert config_of("by_width", "hidden-16x8")["model"]["hidden"] == [16, 8]
    assert config_of("by_rate", "lr-0.05")["optimizer"]["lr"] == 0.05
    for exp in ("by_batch", "by_model", "by_width", "by_rate"):
        lines = (repo / QUICK / f"summary/{exp}.csv").read_text().splitlines()
        assert len(lines) == 3, exp


BAD = {
    # everything a job would reject, named before any job starts
    "experiments: {learning_rate: {variants: {lr-dynamic: {schedule: {name: dynamic, floor: -1}}}}}":
        "schedule.floor",
    "experiments: {learning_rate: {variants: {lr-dynamic: {schedule: {name: dynamic, thresholds: [[1, -0.5]]}}}}}":
        "schedule.thresholds",
    "experiments: {learning_rate: {variants: {lr-dynamic: {schedule: {name: dynamic, divisor: 0}}}}}":
        "schedule.divisor",
    "experiments: {learning_rate: {variants: {lr-dynamic: {schedule: {name: step, step_epochs: 0}}}}}":
        "schedule.step_epochs",
    "experiments: {learning_rate: {variants: {lr-dynamic: {schedule: {name: step, gamma: abc}}}}}":
        "schedule.gamma",
    "defaults: {batch_size: 5000}": "batch_size",
    "experiments: {momentum: {settings: {epochs: 100000}}}": "epochs",
    "experiments: {weight_decay: {sweep: {values: ['../x']}}}": "variant name",
    "experiments: {weight_decay: {sweep: {key: model.name, values: ['" + "x" * 80 + "']}}}": "characters long",
    "experiments: {train: {variants: {a: {}}}}": "taken by a rule",
    "baseline: {experiment: baseline, variant: other}": "baseline: baseline/other is not a variant",
    "architectures: nothing": "architectures: 'nothing' is not an experiment",
    "reference: report/nowhere.yaml": "reference: report/nowhere.yaml",
    "visual: {seed: 7}": "visual.seed",
    # text the PDF cannot print, named with the key (the file is ASCII: YAML escapes)
    'report: {title: "left \\u202Eright"}': "report.title: character U+202E (RIGHT-TO-LEFT OVERRIDE) cannot be "
                                              "printed in the PDF",
    'report: {author: "\\u0639\\u0631\\u0628\\u064A"}': "report.author: character U+0639 (ARABIC LETTER AIN)",
    'experiments: {momentum: {title: "Momentum \\U0001F642"}}': "experiments.momentum.title: character U+1F642",
    'protocol_ablation: {title: "\\uD55C\\uAD6D\\uC5B4"}': "protocol_ablation.title: character U+D55C",
    'report: {title: "a\\x07b"}': "report.title: character U+0007 (control character)",
    # too long to typeset (5,000 characters: "Dimension too large"), named with the limit
    "experiments: {momentum: {title: " + "x" * 5000 + "}}": "experiments.momentum.title: 5,000 characters long; at most 200",
    "report: {author: " + "x" * 201 + "}": "report.author: 201 characters long; at most 200",
}


@pytest.mark.parametrize("text", list(BAD), ids=lambda text: text[:80])
def test_bad_input_is_rejected_before_any_job(repo, mnist_dir, tmp_path, text):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text + "\n")
    results = repo / QUICK
    before = sorted(p for p in results.rglob("*")) if results.exists() else []
    r = snakemake(repo, "-n", mnist_dir=mnist_dir, check=False, extra_config=[bad])
    assert r.returncode != 0, f"accepted: {text}"
    assert BAD[text] in r.stdout + r.stderr, f"{text[:200]}: message does not name {BAD[text]}:\n{r.stderr[-2000:]}"
    assert "Traceback" not in r.stderr
    assert len(r.stderr) < 3000  # the message, not a dump of the config
    assert (sorted(p for p in results.rglob("*")) if results.exists() else []) == before


def test_alias_bomb_is_refused_fast(repo, tmp_path):
    bomb = tmp_path / "bomb.yaml"
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    lines.append("experiments: {baseline: {variants: {baseline: {}}}, extra: *a8}")
    bomb.write_text("\n".join(lines) + "\n")
    assert len(bomb.read_bytes()) < 1000
    t0 = time.monotonic()
    r = snakemake(repo, "-n", check=False, extra_config=[bomb])
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "expands to more than" in out and "Traceback" not in out, out[-2000:]
    assert time.monotonic() - t0 < 60  # the whole snakemake start; the check itself is milliseconds


def test_printable_non_latin_titles_are_accepted(repo, mnist_dir, tmp_path):
    cjk = tmp_path / "cjk.yaml"
    cjk.write_text('report: {title: "\\u4E2D\\u6587\\u6807\\u9898", author: "\\u8BA1 72 \\u5218\\u5149\\u54F2"}\n'
                   'experiments: {momentum: {title: "\\u52A8\\u91CF \\u3072\\u3089\\u304C\\u306A M\\u00FCller"}}\n')
    snakemake(repo, "-n", mnist_dir=mnist_dir, extra_config=[cjk])


def test_mapping_alias_bomb_is_refused_before_snakemake_merges_it(repo, tmp_path):
    """Snakemake merges the --configfile files before it reads the Snakefile, copying every
    mapping an alias points to (9**13 mappings here: minutes and gigabytes); the workflow profile
    checks the files first. Run with 2 GB of address space and a minute at most, so that a
    missing check fails the test instead of filling the machine's memory."""
    import resource

    bomb = tmp_path / "mapping-bomb.yaml"
    keys = "abcdefghi"
    lines = ["x0: &x0 {" + ", ".join(f"{k}: 0" for k in keys) + "}"]
    for i in range(1, 14):
        lines.append(f"x{i}: &x{i} {{" + ", ".join(f"{k}: *x{i - 1}" for k in keys) + "}")
    lines.append("defaults: {model: *x13}")
    bomb.write_text("\n".join(lines) + "\n")
    assert len(bomb.read_bytes()) < 1400

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    cmd = [sys.executable, "-m", "snakemake", "--cores", "1", "-n", "--configfile", "config/quick.yaml", str(bomb)]
    t0 = time.monotonic()
    r = subprocess.run(cmd, cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)}, capture_output=True, text=True,
                       timeout=60, preexec_fn=limit)
    seconds = time.monotonic() - t0
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "config: the config expands to more than 100,000 values" in out, out[-2000:]
    assert str(bomb) in out and "Traceback" not in out
    assert seconds < 20, seconds  # Snakemake's start; the check itself takes milliseconds


def test_report_records_the_command_that_rebuilds_it(repo, mnist_dir, tmp_path):
    extra = tmp_path / "seeds.yaml"
    extra.write_text("report: {author: tester}\n")
    snakemake(repo, f"{QUICK}/report/build_info.json", mnist_dir=mnist_dir, extra_config=[extra])
    command = json.loads((repo / QUICK / "report/build_info.json").read_text())["command"]
    assert command.startswith("snakemake --configfile config/quick.yaml --configfile " + str(extra))
    assert f"--config mnist_dir={mnist_dir}" in command.replace("'", "")


def test_killed_snakemake_leaves_no_training_orphans(repo, mnist_dir, tmp_path):
    long = tmp_path / "long.yaml"
    long.write_text("experiments: {baseline: {settings: {epochs: 400}, variants: {baseline: {}}}}\n"
                    "seeds: [0, 1]\n")
    env = {**os.environ, "PYTHONPATH": str(repo)}
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "config/quick.yaml", str(long),
           "--config", f"mnist_dir={mnist_dir}", "--", "baseline"]
    proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)

    def trainers():
        out = subprocess.run(["pgrep", "-f", f"{repo}/.snakemake/scripts/.*train.py"], capture_output=True,
                             text=True).stdout
        return [int(p) for p in out.split()]

    try:
        deadline = time.monotonic() + 120
        while not trainers() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert trainers(), "no training job started"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 15
        while trainers() and time.monotonic() < deadline:
            time.sleep(0.5)
        left = trainers()
        assert not left, f"training jobs still running after Snakemake was killed: {left}"
    finally:
        for pid in trainers():
            os.kill(pid, signal.SIGKILL)
        subprocess.run(["pkill", "-9", "-f", f"{repo}/.snakemake"], capture_output=True)
    # the README's recovery: unlock, then the same command finishes the run
    r = snakemake(repo, "--unlock", mnist_dir=mnist_dir, extra_config=[long])
    assert r.returncode == 0
