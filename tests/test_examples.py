"""The worked examples of config/examples/: each a study of its own, built end to end at the
quick profile's scale, its report a section per experiment with its settings table and no
trace of the 2018 study."""

import shutil
import subprocess

import pytest
import yaml

from conftest import REPO
from test_workflow import COPY_IGNORE, snakemake
from report.sections.common import setting_name
from workflow.experiments import value_name

EXAMPLES = sorted(p.stem for p in (REPO / "config/examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    dest = tmp_path_factory.mktemp("examples") / "repo"
    shutil.copytree(REPO, dest, ignore=COPY_IGNORE)
    return dest


def test_there_are_three_examples_at_least():
    assert len(EXAMPLES) >= 3, EXAMPLES


@pytest.mark.parametrize("name", EXAMPLES)
def test_an_example_builds_its_own_report(repo, mnist_dir, name):
    study = yaml.safe_load((REPO / f"config/examples/{name}.yaml").read_text())
    snakemake(repo, mnist_dir=mnist_dir, extra_config=[f"config/examples/{name}.yaml"])
    out = repo / "results" / study["study"]["name"] / "quick"  # its own folder, at the quick profile's scale
    assert (out / "report.pdf").is_file() and not (repo / "results/quick").exists()
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "2018" not in md  # no sentence of the 2018 study
    assert md.startswith(f"# {study['report']['title']}\n")
    for i, (key, spec) in enumerate(study["experiments"].items(), start=1):
        title = spec.get("title", key)
        assert f"\n### 1.{i} {title}\n" in md, title  # a section per experiment, single-variant ones too
        section = md.split(f"### 1.{i} {title}")[1].split("\n### ")[0]
        names = list((spec.get("variants") or {}))
        if spec.get("sweep"):
            names = [f"{spec['sweep']['prefix']}-{value_name(v)}" for v in spec["sweep"]["values"]] + names
        table = [line for line in section.splitlines() if line.startswith("| ")]
        for n in names:
            assert any(line.startswith(f"| {n} |") for line in table), (n, table[:3])
        if len(names) > 1:  # the settings in which its variants differ are columns of its table
            head = table[0]
            want = setting_name(spec["sweep"]["key"]) if spec.get("sweep") else "schedule"
            assert f"| {want} |" in head, head
    # the runs record the data they trained on; the report states it
    assert "| Data | MNIST: the published MNIST files" in md
    text = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "2018" not in text
