"""Rendering the report from a small synthetic results set (no training involved)."""

import copy
import shutil
import subprocess

import jinja2
import pytest
import yaml

from conftest import REPO
from nnreport.context import build_context
from nnreport.render import (LatexError, build_pdf, latex_environment, latex_escape, markdown_environment,
                             render)

TEMPLATES = REPO / "report" / "templates"
SECTIONS = ["Environment", "The network and its implementation", "Experiments", "CNN vs MLP", "Summary",
            "Reproduction of the 2018 numbers", "Provenance"]


@pytest.fixture
def tex():
    """The PDF tests need TeX Live with latexmk, and pdftotext; ./setup.sh installs them."""
    missing = [t for t in ("latexmk", "pdflatex", "pdftotext") if shutil.which(t) is None]
    assert not missing, f"{', '.join(missing)} not found: run ./setup.sh (it installs TeX Live) or install them"


def summary_row(exp, variant, setting, acc, acc_std, loss=0.2, seconds=10.0, n=3, diverged=0, params=2158,
                epochs=3):
    row = {"experiment": exp, "variant": variant, "setting": setting, "runs": n + diverged, "completed": n,
           "diverged": diverged, "epochs": epochs, "parameters": params}
    for name, mean, std in (("test_accuracy", acc, acc_std), ("test_loss", loss + 0.05, 0.01),
                            ("train_loss", loss, 0.03), ("train_seconds", seconds, 0.5),
                            ("seconds_per_epoch", seconds / epochs, 0.1)):
        row.update({f"{name}_mean": str(mean), f"{name}_std": str(std), f"{name}_min": str(mean - std),
                    f"{name}_max": str(mean + std)})
    return row


def config():
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    return {k: cfg[k] for k in ("experiments", "report", "visual")}


def summaries(lr_best="lr-0.05"):
    cfg = config()
    out = {}
    for exp, spec in cfg["experiments"].items():
        names = [f"{spec['sweep']['prefix']}-{v}" for v in spec["sweep"]["values"]] if "sweep" in spec else []
        names += list(spec.get("variants") or {})
        out[exp] = [summary_row(exp, n, n.split("-", 1)[-1], 0.95 + 0.001 * i, 0.002) for i, n in enumerate(names)]
    # make one learning rate the clear winner
    for row in out["learning_rate"]:
        if row["variant"] == lr_best:
            row.update(summary_row("learning_rate", lr_best, "x", 0.985, 0.001))
    out["init_std"][0].update(summary_row("init_std", "std-0.01", "0.01", 0.1135, 0.0, loss=2.301))
    out["cnn_vs_mlp"][1].update(summary_row("cnn_vs_mlp", "mlp", "mlp", 0.975, 0.002, seconds=4.0, params=203530))
    return out


def runs(summ):
    rows = []
    for exp, srows in summ.items():
        for r in srows:
            for seed in range(3):
                rows.append({"experiment": exp, "variant": r["variant"], "seed": str(seed), "status": "completed",
                             "test_accuracy": r["test_accuracy_mean"], "total_seconds": "12.5",
                             "finished_utc": "2026-11-27T10:00:00+00:00"})
    return rows


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    """Tiny real PNGs where the report expects figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    root = tmp_path_factory.mktemp("rendered")
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, 1])
    (root / "report" / "figures").mkdir(parents=True)
    png = root / "report" / "figures" / "plot.png"
    fig.savefig(png, dpi=40)
    plt.close(fig)
    names = ["baseline", "conv1", "lr_trace_lr-dynamic"] + [f"{e}_{k}" for e in config()["experiments"]
                                                             for k in ("accuracy", "loss")]
    return root, {n: "report/figures/plot.png" for n in names}


def context(figures, lr_best="lr-0.05", title=None):
    root, figs = figures
    cfg = config()
    if title is not None:
        cfg["report"]["title"] = title
    summ = summaries(lr_best)
    colours = {e: {r["variant"]: ["blue", "#1f77b4"] for r in rows} for e, rows in summ.items()}
    return build_context(
        config=cfg, summaries=summ, runs=runs(summ),
        gradcheck=[{"layer": "Conv2D", "settings": "3->7", "gradient": "weight", "relative_error": "3e-11",
                    "tolerance": "1e-06", "passed": "True"}],
        stability=[{"logit_scale": "10000.0", "loss": "123.4", "loss_finite": "True", "gradient_finite": "True",
                    "naive_loss": "nan", "naive_finite": "False"}],
        reference=yaml.safe_load((REPO / "report/reference_2018.yaml").read_text()),
        build_info={"environment": {"Python": "3.11"}, "commit": "abc123", "dirty": False, "config_hash": "h",
                    "command": "snakemake", "results_date": "2026-11-27T10:00:00+00:00"},
        figures=figs, colours=colours,
        visual={"experiment": "baseline", "variant": "baseline", "seed": 0, "digits": [0, 1, 2, 3]},
    )


def render_both(ctx):
    return render(latex_environment(TEMPLATES), "report.tex.j2", ctx), render(markdown_environment(TEMPLATES),
                                                                               "report.md.j2", ctx)


def test_every_section_and_the_table_numbers(figures):
    ctx = context(figures)
    tex, md = render_both(ctx)
    for title in SECTIONS:
        assert f"section{{{title}}}" in tex, title
        assert title in md, title
    for exp, rows in summaries().items():
        for r in rows:
            acc = f"{float(r['test_accuracy_mean']):.4f}"
            line = next(line for line in md.splitlines() if line.startswith(f"| {r['variant'].replace('_', '_')} |")
                        and acc in line)
            assert f"{float(r['train_loss_mean']):.4f}" in line
            assert acc in tex


def test_summary_sentence_follows_the_data(figures):
    _, md1 = render_both(context(figures, lr_best="lr-0.05"))
    _, md2 = render_both(context(figures, lr_best="lr-0.005"))
    assert "Learning rate: lr-0.05 is best" in md1 and "Learning rate: lr-0.005 is best" not in md1
    assert "Learning rate: lr-0.005 is best" in md2 and "Learning rate: lr-0.05 is best" not in md2
    # no clear winner when the spread is larger than the lead
    summ = summaries()
    from nnreport.conclusions import sweep_sentence

    assert "no clear difference" in sweep_sentence("Momentum", summ["momentum"])
    assert "failed to learn" in md1 and r"init\_std/std-0.01" in md1  # Markdown-escaped


def test_missing_variable_fails_loudly(figures):
    ctx = context(figures)
    del ctx["provenance"]
    with pytest.raises(jinja2.UndefinedError):
        render(latex_environment(TEMPLATES), "report.tex.j2", ctx)
    with pytest.raises(jinja2.UndefinedError):
        render(markdown_environment(TEMPLATES), "report.md.j2", ctx)


def test_unformatted_numbers_are_refused(figures):
    ctx = copy.deepcopy(context(figures))
    ctx["title"] = 0.123456789
    with pytest.raises(TypeError, match="format"):
        render(latex_environment(TEMPLATES), "report.tex.j2", ctx)


INJECTION = r"\input{/etc/passwd} 100% _#$&~^{}"


def test_latex_escaping_is_one_pass():
    assert latex_escape(INJECTION) == (r"\textbackslash{}input\{/etc/passwd\} 100\% \_\#\$\&"
                                       r"\textasciitilde{}\textasciicircum{}\{\}")
    assert latex_escape("a\\b") == r"a\textbackslash{}b"  # the braces it adds are not escaped again


def test_pdf_prints_injected_title_literally_and_is_reproducible(tex, figures, tmp_path):
    root, _ = figures
    tex, _ = render_both(context(figures, title=INJECTION))
    (root / "report.tex").write_text(tex)
    pdf1, pdf2 = tmp_path / "a.pdf", tmp_path / "b.pdf"
    build_pdf(root / "report.tex", pdf1, 1_790_000_000)
    build_pdf(root / "report.tex", pdf2, 1_790_000_000)
    assert pdf1.read_bytes() == pdf2.read_bytes()
    text = subprocess.run(["pdftotext", str(pdf1), "-"], capture_output=True, text=True, check=True).stdout
    assert INJECTION in text.replace("\n", " ")
    assert "root:" not in text  # /etc/passwd was not read
    for title in SECTIONS:
        assert title in text


def test_latex_error_shows_the_relevant_lines(tex, tmp_path):
    tex = tmp_path / "bad.tex"
    tex.write_text("\\documentclass{article}\n\\begin{document}\nfine\n\\undefinedmacro\n\\end{document}\n")
    with pytest.raises(LatexError) as err:
        build_pdf(tex, tmp_path / "bad.pdf", 0)
    message = str(err.value)
    assert "Undefined control sequence" in message and "undefinedmacro" in message
    assert len(message.splitlines()) < 15
    assert not (tmp_path / "bad.pdf").exists()


def test_without_tex_the_message_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no latexmk, no pdflatex
    with pytest.raises(LatexError, match="texlive-latex-recommended"):
        build_pdf(tmp_path / "x.tex", tmp_path / "x.pdf", 0)


def test_wide_spread_is_explained_by_failed_runs():
    from nnreport.conclusions import failed_by_variant, sweep_sentence

    rows = [summary_row("init_std", "std-0.1", "0.1", 0.96, 0.003),
            summary_row("init_std", "std-0.01", "0.01", 0.60, 0.45)]
    runs = [{"experiment": "init_std", "variant": "std-0.01", "seed": s, "status": "completed",
             "test_accuracy": a} for s, a in enumerate(["0.96", "0.11", "0.12", "0.95", "0.96"])]
    text = sweep_sentence("Init", rows, failed_by_variant(runs, "init_std"))
    assert "no clear difference" in text and "std-0.01 failed to learn in 2 of 5 runs" in text
