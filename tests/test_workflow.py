"""The Snakemake workflow on the quick profile, in a temporary copy of the repository."""

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import REPO


COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "results", "resources", ".snakemake", "__pycache__",
                                     ".pytest_cache", "*.egg-info")


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory):
    dest = tmp_path_factory.mktemp("wf") / "repo"
    shutil.copytree(REPO, dest, ignore=COPY_IGNORE)
    return dest


def snakemake(repo, *args, mnist_dir=None, check=True, extra_config=(), path_first=None):
    """Run snakemake on the quick profile (plus ``extra_config`` files, which override it);
    ``path_first``: a folder of programs found before the system's (a failing pdflatex)."""
    env = {**os.environ, "PYTHONPATH": str(repo)}  # the copy's cnnlib, not the installed one
    if path_first:
        env["PATH"] = f"{path_first}{os.pathsep}{env['PATH']}"
    configs = ["config/quick.yaml", *map(str, extra_config)]
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", *args, "--configfile", *configs]
    if mnist_dir:
        cmd += ["--config", f"mnist_dir={mnist_dir}"]
    r = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def planned_jobs(repo, *args, mnist_dir=None, extra_config=()):
    """{rule: count} of what a dry run would execute."""
    r = snakemake(repo, *args, "-n", "--quiet", "rules", mnist_dir=mnist_dir, extra_config=extra_config)
    out = r.stdout + r.stderr
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:")[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m.group(1) != "total"}


def expected_variants(repo):
    cfg = yaml.safe_load((repo / "config/config.yaml").read_text())
    quick = yaml.safe_load((repo / "config/quick.yaml").read_text())
    counts = {}
    for name, spec in cfg["experiments"].items():
        counts[name] = len((spec.get("sweep") or {}).get("values", [])) + len(spec.get("variants") or {})
    ablation = cfg["protocol_ablation"]  # experiment `protocol`: each listed variant under each other reading
    counts["protocol"] = sum(counts[e] for e in ablation["experiments"]) * len(ablation["readings"])
    return counts, len(quick["seeds"])


def test_dry_run_matches_config(repo_copy, mnist_dir):
    counts, seeds = expected_variants(repo_copy)
    jobs = planned_jobs(repo_copy, mnist_dir=mnist_dir)
    assert jobs["train"] == sum(counts.values()) * seeds
    assert jobs["summarize"] == len(counts)
    assert jobs["mnist"] == jobs["all_runs"] == jobs["checks"] == jobs["visual"] == jobs["all"] == 1


def test_bad_config_is_rejected_before_any_job(repo_copy, mnist_dir, tmp_path):
    cases = {
        "colour: red": "colour",
        "experiments: {momentum: {sweeps: {}}}": "sweeps",
        "defaults: {optimizer: {learnig_rate: 0.1}}": "optimizer.learnig_rate",
        "experiments: {learning_rate: {sweep: {values: [-0.1]}}}": "optimizer.lr",
        "experiments: {weight_decay: {sweep: {values: []}}}": "values",
        "experiments: {learning_rate: {variants: {lr-dynamic: {schedule: {name: cyclic}}}}}": "schedule",
        "seeds: []": "seeds",
    }
    for text, key in cases.items():
        bad = tmp_path / "bad.yaml"
        bad.write_text(text + "\n")
        r = snakemake(repo_copy, "-n", mnist_dir=mnist_dir, check=False, extra_config=[bad])
        assert r.returncode != 0, f"accepted: {text}"
        assert key in r.stdout + r.stderr, f"{text}: message does not name {key}:\n{r.stderr[-2000:]}"
    assert not (repo_copy / "results").exists()


QUICK = "results/quick"  # the quick profile's own results folder


@pytest.fixture(scope="module")
def quick_run(repo_copy, mnist_dir):
    """The quick profile run once in the copy (the tests after it change and rerun it)."""
    snakemake(repo_copy, mnist_dir=mnist_dir)
    return repo_copy / QUICK


def test_report_layout(quick_run):
    """Every word inside the text area, no heading at a page foot, figure text >= 7 pt in print."""
    from layout import check

    problems = check(quick_run)
    assert not problems, "\n".join(problems[:20])


def test_a_failed_pdf_keeps_the_last_good_one_and_names_it(repo_copy, mnist_dir, quick_run, tmp_path):
    pdf, tex = quick_run / "report.pdf", quick_run / "report.tex"
    good, source = pdf.read_bytes(), tex.read_text()
    tex.write_text(source.replace("\\begin{document}", "\\begin{document}\\undefinedcommand", 1))
    r = snakemake(repo_copy, f"{QUICK}/report.pdf", mnist_dir=mnist_dir, check=False)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert f"{QUICK}/report.pdf was not built (the previous one is kept until a rebuild succeeds)" in out, out[-3000:]
    assert pdf.read_bytes() == good
    # a new report.tex that pdflatex cannot build today (a broken TeX install), then can: the
    # kept PDF is not taken for the new one (Snakemake puts it back newer than report.tex)
    tex.write_text(source.replace("\\begin{document}", "\\begin{document}Kept-PDF probe.", 1))
    broken = tmp_path / "bin"
    broken.mkdir()
    (broken / "pdflatex").write_text("#!/bin/sh\necho 'pdflatex: broken install' >&2\nexit 1\n")
    (broken / "pdflatex").chmod(0o755)
    r = snakemake(repo_copy, mnist_dir=mnist_dir, check=False, path_first=broken)
    assert r.returncode != 0 and pdf.read_bytes() == good
    snakemake(repo_copy, mnist_dir=mnist_dir)
    assert "Kept-PDF probe." in subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    tex.write_text(source)  # as rendered: the PDF built from it is the first one, byte for byte
    snakemake(repo_copy, mnist_dir=mnist_dir)
    assert pdf.read_bytes() == good


def test_end_to_end_then_cached_then_targeted_reruns(repo_copy, mnist_dir, tmp_path, quick_run):
    assert sorted(p.name for p in (repo_copy / "results").iterdir()) == ["quick"]  # nothing of the default
    counts, seeds = expected_variants(repo_copy)
    for exp, n in counts.items():
        lines = (repo_copy / QUICK / f"summary/{exp}.csv").read_text().splitlines()
        assert len(lines) == 1 + n, exp
        assert (repo_copy / QUICK / f"summary/curves/{exp}.csv").stat().st_size > 0
    runs = (repo_copy / QUICK / "summary/runs.csv").read_text().splitlines()
    assert len(runs) == 1 + sum(counts.values()) * seeds
    for name in ("checks/gradcheck.csv", "checks/loss_stability.csv", "visual/conv1_maps.npz", "report.md"):
        assert (repo_copy / QUICK / name).exists()
    assert list((repo_copy / QUICK / "benchmarks/runs").rglob("*.tsv"))
    text = subprocess.run(["pdftotext", str(repo_copy / QUICK / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    for title in ("Summary", "Experiments", "CNN vs MLP", "The networks and their implementation",
                  "The 2018 report against these runs", "Every comparison", "How this report was made"):
        assert title in text, title
    # a run with the settings of an earlier one is that run's files, copied and checked
    from cnnlib.runfiles import check_run

    copied = repo_copy / QUICK / "runs/weight_decay/wd-0.0005/seed-0"
    source = repo_copy / QUICK / "runs/momentum/momentum-0.9/seed-0"
    assert check_run(copied)["copied_from"] == f"{QUICK}/runs/momentum/momentum-0.9/seed-0"
    for name in ("history.json", "weights.npz"):
        assert (copied / name).read_bytes() == (source / name).read_bytes()
    assert "not trained again" in (repo_copy / QUICK / "logs/runs/weight_decay/wd-0.0005/seed-0.log").read_text()
    # a run with the settings of a shorter one but more epochs continues it: 2 -> 3 -> 5 epochs
    for longer, shorter in (("cnn_vs_mlp/cnn", "momentum/momentum-0.9"), ("momentum/momentum-0.9", "baseline/baseline")):
        m = check_run(repo_copy / QUICK / f"runs/{longer}/seed-1")
        assert m["continued_from"]["run"] == f"{QUICK}/runs/{shorter}/seed-1", longer
        assert m["final"]["epochs_completed"] == m["config"]["epochs"] > m["continued_from"]["epochs"]
        assert f"continues {QUICK}/runs/{shorter}/seed-1" in (repo_copy / QUICK / f"logs/runs/{longer}/seed-1.log").read_text()
    md = (repo_copy / QUICK / "report.md").read_text()
    for fig in re.findall(r"\]\(([^)]+\.png)\)", md):
        assert (repo_copy / QUICK / fig).is_file(), fig

    # a template edit re-renders, a plot style redraws: neither retrains
    template = repo_copy / "report/templates/outline.j2"
    template.write_text(template.read_text() + "\n")
    assert planned_jobs(repo_copy, mnist_dir=mnist_dir) == {"render": 1, "pdf": 1, "all": 1}
    snakemake(repo_copy, mnist_dir=mnist_dir)
    style = tmp_path / "style.yaml"
    style.write_text("plots: {dpi: 90}\n")
    jobs = planned_jobs(repo_copy, mnist_dir=mnist_dir, extra_config=[style])
    # one figure per experiment (the protocol ablation's its own kind)
    assert "train" not in jobs and jobs["figure"] == len(counts) + 1 and jobs["render"] == 1  # and conv1

    # nothing changed: nothing to do
    assert planned_jobs(repo_copy, mnist_dir=mnist_dir) == {}

    # one variant's setting changed: exactly its runs, what aggregates them, the report and a
    # record of the build; the figures of its experiment and of one that draws its runs as a
    # free point (lr 0.015 at 5 epochs is cnn_vs_mlp's cnn; init std 0.2 at 3 epochs momentum-0.9)
    after_one_experiment = {"summarize": 1, "all_runs": 1, "comparisons": 1, "figure": 2,
                            "build_info": 1, "report_context": 1, "render": 1, "pdf": 1, "record": 1, "all": 1}
    edit = tmp_path / "edit.yaml"
    edit.write_text("experiments: {cnn_vs_mlp: {variants: {mlp: {model: {hidden: [64]}}}}}\n")
    jobs = planned_jobs(repo_copy, mnist_dir=mnist_dir, extra_config=[edit])
    assert jobs == {"train": seeds, **after_one_experiment}

    # a new sweep value: only the new variant trains
    edit.write_text("experiments: {momentum: {sweep: {values: [0.8, 0.85, 0.9, 0.95]}}}\n")
    jobs = planned_jobs(repo_copy, mnist_dir=mnist_dir, extra_config=[edit])
    assert jobs == {"train": seeds, **after_one_experiment}

    # 0.05 and 5e-2 are the same variant: nothing retrains (the report notes the new config text)
    edit.write_text("experiments: {learning_rate: {sweep: {values: [5e-3, 1.0e-2, 5e-2, 0.1]}}}\n")
    jobs = planned_jobs(repo_copy, mnist_dir=mnist_dir, extra_config=[edit])
    assert "train" not in jobs and "summarize" not in jobs

    # a named target reruns one experiment; a single run's path works too
    target = f"{QUICK}/runs/momentum/momentum-0.9/seed-1/metrics.json"
    jobs = planned_jobs(repo_copy, "--force", target, mnist_dir=mnist_dir)
    assert jobs == {"train": 1}
    jobs = planned_jobs(repo_copy, "--forceall", "momentum", mnist_dir=mnist_dir)
    # with what it needs: momentum-0.9 continues the baseline's runs
    assert jobs["train"] == (counts["momentum"] + 1) * seeds and jobs["summarize"] == 1 and "all" not in jobs

    # a run that diverges completes as diverged and the workflow goes on to the report
    edit.write_text("experiments: {learning_rate: {sweep: {values: [0.005, 0.01, 0.05, 0.1, 1000]}}}\n")
    snakemake(repo_copy, mnist_dir=mnist_dir, extra_config=[edit])
    rows = (repo_copy / QUICK / "summary/learning_rate.csv").read_text().splitlines()
    header = rows[0].split(",")
    diverged = next(dict(zip(header, r.split(","))) for r in rows if r.startswith("learning_rate,lr-1000,"))
    assert diverged["diverged"] == str(seeds) and diverged["completed"] == "0"
    md = (repo_copy / QUICK / "report.md").read_text().replace("\\_", "_")
    assert f"lr-1000 {seeds} of {seeds} (seeds 0, 1, {seeds} diverged)" in md
    # every build leaves a record; the report says what changed since the one before
    from workflow.builds import read_record, record_files

    records = record_files(repo_copy / QUICK / "builds")
    assert len(records) >= 2 and read_record(records[-1])["runs"]
    changed = md.split("**What changed.**")[1].split("**Gradient check")[0]
    assert f"new: learning_rate/lr-1000." in changed and "learning_rate/lr-0.05" not in changed
    assert "_better" not in changed and "commit unknown" not in changed  # verdicts in words; no git here
    # the published build is of the full scale: no run of this quick build shares its settings
    assert "Not compared with the published build (report/published_build.json): none of its" in changed

    # code reruns what runs it, by meaning: a docstring or comment edit reruns nothing, a
    # statement changed in cnnlib retrains everything, one in the PDF builder rebuilds the PDF
    layers = repo_copy / "cnnlib" / "layers.py"
    original = layers.read_text()
    layers.write_text(original.replace('"""Layers with PyTorch', '"""Layers (edited docstring) with PyTorch', 1)
                      + "\n# a comment\n")
    try:
        assert planned_jobs(repo_copy, mnist_dir=mnist_dir, extra_config=[edit]) == {}
        layers.write_text(original + "\n_CHANGED = 1\n")
        assert planned_jobs(repo_copy, mnist_dir=mnist_dir, extra_config=[edit])["train"] == (sum(counts.values()) + 1) * seeds  # + lr-1000
    finally:
        layers.write_text(original)
    cli = repo_copy / "cnnlib" / "cli.py"  # not run by any job
    original = cli.read_text()
    cli.write_text(original + "\n_CHANGED = 1\n")
    try:
        assert planned_jobs(repo_copy, mnist_dir=mnist_dir, extra_config=[edit]) == {}
    finally:
        cli.write_text(original)
    render = repo_copy / "report" / "render.py"
    original = render.read_text()
    render.write_text(original + "\n_CHANGED = 1\n")
    try:
        jobs = planned_jobs(repo_copy, mnist_dir=mnist_dir, extra_config=[edit])
        assert jobs.get("pdf") == 1 and jobs.get("render") == 1 and "train" not in jobs
    finally:
        render.write_text(original)


def test_lint_and_format(repo_copy):
    r = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=repo_copy, capture_output=True, text=True)
    assert r.returncode == 0 and "good condition" in r.stdout + r.stderr, r.stdout + r.stderr
    r = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "."], cwd=repo_copy, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
