"""Rendering the report from a small synthetic results set (no training involved)."""

import copy
import re
import shutil
import statistics
import subprocess

import jinja2
import pytest
import yaml

import synthetic
from conftest import REPO
from report.context import build_context
from synthetic import config
from report.render import (LatexError, build_pdf, latex_environment, latex_escape, markdown_environment,
                           render)

TEMPLATES = REPO / "report" / "templates"
SECTIONS = ["Environment", "The network and its implementation", "Experiments", "CNN vs MLP", "Summary",
            "Reproduction of the 2018 numbers", "Every comparison", "Provenance"]


@pytest.fixture
def tex():
    """The PDF tests need TeX Live (pdflatex) and pdftotext; ./setup.sh installs them."""
    missing = [t for t in ("pdflatex", "pdftotext") if shutil.which(t) is None]
    assert not missing, f"{', '.join(missing)} not found: run ./setup.sh (it installs TeX Live) or install them"


def run_metrics(p, key):
    """A metrics.json as the context reads it from a run: its resolved config and model."""
    from cnnlib.config import resolve
    from workflow.experiments import plan

    variant = plan(config()).variant(key[0], key[1])
    return {"config": resolve(variant.settings), "model": {"name": variant.resolved["model"]["name"]}}


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
    from workflow.experiments import plan
    from workflow.results import figures as registry

    p = plan(config())
    names = registry(p.experiments, p.baseline.key, [v.key for v in p.dynamic], p.ablation)
    return root, {n: "report/figures/plot.png" for n in names}


def context(figures, tmp_path, overrides=None, title=None, data=None, command="snakemake", git=None):
    """The context of synthetic results (``synthetic.results``; ``data`` to reuse some)."""
    root, figs = figures
    cfg = config()
    if title is not None:
        cfg["report"]["title"] = title
    data = data or synthetic.results(tmp_path, overrides, cfg)
    p = data["plan"]
    return build_context(
        plan=p, summaries=data["summaries"], runs=data["runs"], comparisons=data["comparisons"],
        gradcheck=[{"layer": "Conv2D", "settings": "3->7", "gradient": "weight", "relative_error": "3e-11",
                    "tolerance": "1e-06", "passed": "True"}],
        stability=[{"logit_scale": "10000.0", "loss": "123.4", "loss_finite": "True", "gradient_finite": "True",
                    "naive_loss": "nan", "naive_finite": "False"}],
        reference=yaml.safe_load((REPO / "report/reference_2018.yaml").read_text()),
        build_info={"environment": {"Python": "3.11"}, "commit": "abc123", "dirty": False, "config_hash": "h",
                    "command": command, "results_date": "2026-11-27T10:00:00+00:00", **(git or {})},
        figures=figs,
        visual={"digits": [0, 1, 2, 3]},
        models=[run_metrics(p, k) for k in p["model_runs"]],
        dynamic=[run_metrics(p, k) for k in p["dynamic_runs"]],
    )


def render_both(ctx):
    return render(latex_environment(TEMPLATES), "report.tex.j2", ctx), render(markdown_environment(TEMPLATES),
                                                                               "report.md.j2", ctx)


def test_every_section_and_the_table_numbers(figures, tmp_path):
    data = synthetic.results(tmp_path)
    tex, md = render_both(context(figures, tmp_path, data=data))
    for title in SECTIONS:
        assert f"section{{{title}}}" in tex, title
        assert title in md, title
    assert "includegraphics[width=0.49\\linewidth]{report/figures/plot.png}" in tex
    for exp, rows in data["summaries"].items():
        for r in rows:
            values = [a for a in data["values"][(exp, r["variant"])] if a is not None]
            mean, sd = statistics.fmean(values), statistics.stdev(values)
            acc = f"{mean:.4f} ± {sd:.4f}"
            ci = f"\\[{float(r['test_accuracy_ci_low']):.4f}, {float(r['test_accuracy_ci_high']):.4f}\\]"
            if exp != "protocol":
                line = next(line for line in md.splitlines() if line.startswith(f"| {r['variant']} |") and acc in line)
                assert ci in line and "| 0/5 |" in line
            assert f"{mean:.4f}" in tex


def sentences(md: str) -> list[str]:
    """The Markdown's sentences, table cells and list items apart."""
    text = " ".join(line for line in md.splitlines() if not line.startswith("|"))
    return [s.strip() for s in re.split(r"(?<=[.:;])\s+(?=[A-Z\-])", text) if s.strip()]


def test_claims_follow_comparisons_csv(figures, tmp_path):
    # lr-0.05 far ahead of the rest (a planted clear difference); everything else 0.001 apart
    over = {("learning_rate", "lr-0.05"): 0.985}
    data = synthetic.results(tmp_path, over)
    _, md = render_both(context(figures, tmp_path, data=data))
    rows = data["comparisons"]
    claimed = {(r["variant_a"], r["variant_b"], r["quantity"]) for r in rows if r["claim"] == "a_better"} | \
              {(r["variant_b"], r["variant_a"], r["quantity"]) for r in rows if r["claim"] == "b_better"}
    assert ("lr-0.05", "lr-0.005", "test_accuracy") in claimed and ("lr-0.05", "lr-0.1", "test_accuracy") in claimed
    assert "lr-0.05 is more accurate than lr-0.005" in md
    from report.sentences import BETTER

    phrases = {phrase: q for q, phrase in BETTER.items() if q != "test_vs_train_accuracy"}
    better = re.compile(r"(\S+) (" + "|".join(map(re.escape, phrases)) + r") (\S+?):")
    said = [m.groups() for m in better.finditer(md.replace("\\_", "_"))]
    assert len(said) >= 2 and {phrases[p] for _, p, _ in said} >= {"test_accuracy", "cpu_seconds_per_epoch"}, said
    for winner, phrase, loser in said:  # every claim in the text is a claim of the file
        assert (winner, loser, phrases[phrase]) in claimed, f"claimed without the file: {winner} {phrase} {loser}"
    # and every claim of a sweep's best variant is in the text (other pairs: Appendix B's table)
    from report.inference import best_rows

    for e in ("learning_rate", "weight_decay", "momentum", "init_std"):
        for r in best_rows(rows, e):
            if r["claim"] == "a_better":
                assert f"{r['variant_a']} is more accurate than {r['variant_b']}" in md.replace("\\_", "_")
    # an inconclusive pair is said to be so, with the seeds that would resolve it, never "no difference"
    assert "inconclusive with 5 seeds" in md and "seeds per variant would" in md
    assert "no difference" not in md.lower().replace("not the same as no difference", "")
    # the Summary names exactly the claimed ones, and the others as inconclusive
    summary = md.split("## 5 Summary")[1].split("## A ")[0].replace("\\_", "_")
    lr = next(line for line in summary.splitlines() if line.startswith("- Learning rate:"))
    best = best_rows(rows, "learning_rate")
    better = ", ".join(r["variant_b"] for r in best if r["claim"] == "a_better")
    open_ = ", ".join(r["variant_b"] for r in best if r["claim"] == "inconclusive")
    assert f"it is more accurate than {better}" in lr
    assert (f"against {open_} the data are inconclusive" in lr) == bool(open_)
    # the same data without the planted gap: nothing about lr-0.05 is claimed
    _, flat = render_both(context(figures, tmp_path / "flat"))
    assert "lr-0.05 is more accurate than" not in flat
    flat_summary = flat.split("## 5 Summary")[1].split("## A ")[0]
    assert "more accurate than" not in next(line for line in flat_summary.splitlines()
                                            if line.startswith("- Learning rate:"))


def test_a_bimodal_variant_reports_its_failures_and_is_not_averaged(figures, tmp_path):
    over = {("init_std", "std-0.01"): [0.96, 0.11, 0.12, 0.95, 0.961]}
    data = synthetic.results(tmp_path, over)
    _, md = render_both(context(figures, tmp_path, data=data))
    md = md.replace("\\_", "_")
    assert "std-0.01 failed to learn or diverged in 2 of 5 runs (seeds 1, 2" in md
    line = next(line for line in md.splitlines() if line.startswith("| std-0.01 |"))
    assert "| 2/5 |" in line and f"{statistics.fmean([0.96, 0.95, 0.961]):.4f}" in line  # the 3 that learned
    row = next(r for r in data["summaries"]["init_std"] if r["variant"] == "std-0.01")
    assert row["failed"] == "2"
    accuracy_rows = [r for r in data["comparisons"] if r["quantity"] == "test_accuracy" and "std-0.01" in
                     (r["variant_a"], r["variant_b"])]
    assert accuracy_rows and all(3 in (r["n_a"], r["n_b"]) for r in accuracy_rows)


def test_missing_figure_is_an_error(figures, tmp_path):
    root, figs = figures
    figs = {k: v for k, v in figs.items() if k != "conv1"}
    with pytest.raises(KeyError, match="conv1"):
        context((root, figs), tmp_path)


def test_missing_variable_fails_loudly(figures, tmp_path):
    ctx = context(figures, tmp_path)
    del ctx["provenance"]
    with pytest.raises(jinja2.UndefinedError):
        render(latex_environment(TEMPLATES), "report.tex.j2", ctx)
    with pytest.raises(jinja2.UndefinedError):
        render(markdown_environment(TEMPLATES), "report.md.j2", ctx)


def test_unformatted_numbers_are_refused(figures, tmp_path):
    ctx = copy.deepcopy(context(figures, tmp_path))
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
    tex, _ = render_both(context(figures, tmp_path, title=INJECTION))
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


def test_pdf_prints_chinese_title_author_and_experiment_titles(tex, figures, tmp_path):
    """CJK text goes into the CJK font, loaded only for a report that has some: an all-Latin
    report's preamble is what it was (byte-identical PDFs need the same preamble)."""
    cfg = config()
    cfg["report"].update(title="中文标题：深度学习", author="计 72 刘光哲")
    cfg["experiments"]["learning_rate"]["title"] = "学习率（ひらがな カタカナ）Müller"
    data = synthetic.results(tmp_path / "cjk", None, cfg)
    tex, md = render_both(context(figures, tmp_path, data=data))
    root, _ = figures
    (root / "report.tex").write_text(tex, encoding="utf-8")
    build_pdf(root / "report.tex", tmp_path / "cjk.pdf", 1_790_000_000)
    text = subprocess.run(["pdftotext", str(tmp_path / "cjk.pdf"), "-"], capture_output=True, encoding="utf-8",
                          check=True).stdout
    for printed in ("中文标题：深度学习", "计 72 刘光哲", "Figure 2: 学习率（ひらがな カタカナ）Müller"):
        assert printed in text
    assert "### 学习率（ひらがな カタカナ）Müller\n" in md  # Markdown prints it as it is
    assert "\\usepackage{CJKutf8}" in tex
    latin, _ = render_both(context(figures, tmp_path / "latin"))
    assert "CJK" not in latin


def test_appendix_c_has_a_row_per_variant_with_every_seed_in_order():
    from report.context import run_table

    def run(variant, seed, acc, status="completed", seconds=4.0, copied="", continued=""):
        return {"experiment": "e", "variant": variant, "seed": str(seed), "status": status,
                "test_accuracy": acc, "total_seconds": str(seconds), "copied_from": copied,
                "continued_from": continued, "continued_seconds": "3.0" if continued else ""}

    runs = [run("a", 2, "0.93"), run("a", 0, "0.91", seconds=3.25), run("a", 1, "", status="diverged", seconds=9),
            run("b", 0, "0.5", copied="runs/e/a/seed-0"), run("b", 3, "0.6", copied="runs/e/a/seed-3"),
            run("c", 0, "0.7", seconds=10.0, continued="runs/e/a/seed-0"),
            run("c", 1, "0.8", seconds=5.0, copied="runs/e/c/seed-0", continued="runs/e/a/seed-0")]
    table = run_table(runs)
    assert table["rows"] == [["e", "a", "0–2", "2 completed, 1 diverged", "0.9100 n/a 0.9300", "3.2–9.0"],
                             ["e", "b", "0 3", "2 completed (2 copied)", "0.5000 0.6000", "4.0–4.0"],
                             ["e", "c", "0–1", "2 completed (1 copied, 1 continued)", "0.7000 0.8000", "5.0–10.0"]]
    assert len(table["head"]) == len(table["align"]) == 6


def test_compute_time_counts_each_trained_epoch_once():
    from report.context import runs_line

    runs = [{"total_seconds": "60", "copied_from": "", "continued_from": "", "continued_seconds": ""},
            {"total_seconds": "60", "copied_from": "runs/e/a/seed-0", "continued_from": "", "continued_seconds": ""},
            # 60 s of its 150 s are those of the run it continued
            {"total_seconds": "150", "copied_from": "", "continued_from": "runs/e/a/seed-0", "continued_seconds": "60"}]
    assert runs_line(runs).startswith("3, total compute 2.5 min (1 copied: same settings as another run); "
                                      "1 continued: only the epochs beyond a shorter run with the same settings trained")
    assert runs_line(runs[:2]) == "2, total compute 1.0 min (1 copied: same settings as another run)"


def test_jobs_at_once_says_when_training_was_limited_to_the_machines_cpus():
    from report.context import sharing

    info = {"cores": 4, "threads": 1, "training_cpus": 2, "environment": {"Cores": 2}}
    runs = [{"train_cpu_seconds": "9", "train_seconds": "10"}]
    assert sharing(info, runs)[0] == ["Jobs at once", "up to 2 training jobs at once (--cores 4, of which training "
                                      "jobs use at most the 2 CPUs of this machine; 1 BLAS thread each) on 2 cores"]
    assert sharing({**info, "cores": 2}, runs)[0][1] == "up to 2 training jobs at once (--cores 2; 1 BLAS thread each) on 2 cores"
    # results built before the limit existed, and a cluster
    assert sharing({**info, "training_cpus": None}, runs)[0][1].startswith("up to 4 training jobs at once (--cores 4;")
    assert sharing({**info, "cores": None}, [])[0][1] == "a cluster executor: jobs on the cluster's nodes"
    assert sharing(info, runs)[1][1].startswith("90% of a core (median over 1 run;")
    copy = {"train_cpu_seconds": "9", "train_seconds": "10", "copied_from": "runs/a/b/seed-0"}
    more = [{"train_cpu_seconds": "5", "train_seconds": "10"}, {"train_cpu_seconds": "7", "train_seconds": "10"}]
    assert sharing(info, runs + more + [copy])[1][1].startswith(
        "70% of a core (median over 3 runs; 50% to 90%)")  # the copy is not a run of its own


def test_template_prose_has_no_unescaped_tex_specials(figures, tmp_path):
    """Text written in the outline is not escaped: a bare % would comment out the rest of its
    line in the PDF (silently: "the 95" and the line's end was gone), a bare ~ print a space."""
    tex, _ = render_both(context(figures, tmp_path))
    body = tex[tex.index("\\begin{document}"):]
    bare = [body[max(0, m.start() - 40): m.start() + 10] for m in re.finditer(r"(?<!\\)[%~]", body)]
    assert bare == []


def test_provenance_claims_no_clean_tree_outside_git(figures, tmp_path):
    """Built from a copy that is no git checkout (a release archive, the benchmark's copy), the
    report said "unknown (not a git checkout) (uncommitted changes: no)"."""
    from workflow.provenance import git_state

    def commit_cell(git):
        _, md = render_both(context(figures, tmp_path / str(len(git["commit"])), git=git))
        return next(line for line in md.splitlines() if line.startswith("| Commit |"))

    outside = git_state(tmp_path)
    assert outside == {"commit": "unknown (not a git checkout)", "dirty": None}
    assert commit_cell(outside) == "| Commit | unknown (not a git checkout) |"
    repo = tmp_path / "checkout"
    repo.mkdir()
    (repo / "a.txt").write_text("1")
    for args in (["init", "-q"], ["add", "a.txt"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    clean = git_state(repo)
    assert re.fullmatch(r"[0-9a-f]{40}", clean["commit"]) and clean["dirty"] is False
    assert commit_cell(clean) == f"| Commit | {clean['commit']} (uncommitted changes: no) |"
    (repo / "a.txt").write_text("2")
    assert git_state(repo) == {**clean, "dirty": True}


def test_markdown_figures_show_the_captions_the_pdf_prints(figures, tmp_path):
    """A Markdown viewer shows no alt text: each figure (or pair) is followed by its caption
    in italics, the same captions, in the same order, as the PDF's."""
    tex, md = render_both(context(figures, tmp_path))
    lines = md.splitlines()
    shown = []
    for i, line in enumerate(lines):
        if line.startswith("!["):
            caption = lines[i + 2]
            assert lines[i + 1] == "" and caption.startswith("*") and caption.endswith("*"), lines[i : i + 3]
            assert re.match(r"!\[(Left: )?" + re.escape(caption[1:-1]) + r"\]", line), line
            shown.append(caption[1:-1])
    printed = re.findall(r"\\caption\{(.*)\}", tex)
    assert len(shown) == len(printed) > 10
    # the same words: the Markdown escapes differ from LaTeX's
    assert [re.sub(r"\W", "", c) for c in shown] == [re.sub(r"\\\w+|\W", "", c) for c in printed]


def test_a_long_command_wraps_inside_the_page(tex, figures, tmp_path):
    """The recorded command is the user's: a long path or an unbroken token still wraps."""
    from layout import _margin, outside_text_area, words

    root, _ = figures
    command = ("snakemake --cores 4 --configfile config/quick.yaml --config mnist_dir=/check/work/"
               + "deep_folder/" * 12 + "mnist report.title=" + "x" * 140 + " --rerun-triggers mtime")
    tex, md = render_both(context(figures, tmp_path, command=command))
    (root / "report.tex").write_text(tex)
    build_pdf(root / "report.tex", tmp_path / "long.pdf", 1_790_000_000)
    ws = words(tmp_path / "long.pdf")
    assert outside_text_area(ws, _margin(tex)) == []
    printed = "".join(w["text"] for w in ws)
    assert command.replace(" ", "") in printed  # all of it, in order, nothing dropped
    assert f"\n{command}\n" in md


def test_pdf_passes_run_until_page_numbers_settle(tex, tmp_path, monkeypatch):
    """A contents list that fills pages moves the sections after it: the page numbers it
    prints are right only on the third pass (the first writes no contents, the second lists
    pages from before the contents list was there)."""
    body = "\n".join(f"\\section{{Part{i:02d}}}\\label{{s{i}}} Page of Part{i:02d}.\\clearpage" for i in range(60))
    doc = tmp_path / "toc.tex"
    doc.write_text("\\documentclass{article}\n\\begin{document}\n\\tableofcontents\\clearpage\n"
                   + body + "\nLast: Part59 on page \\pageref{s59}.\n\\end{document}\n")
    import report.render

    passes = []
    real_run = subprocess.run

    def run(cmd, *args, **kwargs):
        passes.append("draft" if "-draftmode" in cmd else "pdf")
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(report.render.subprocess, "run", run)
    build_pdf(doc, tmp_path / "toc.pdf", 0)
    # draft passes (no PDF written, no images read) until the page numbers settle, then one
    # that writes the PDF
    assert passes == ["draft"] * 3 + ["pdf"]
    pages = subprocess.run(["pdftotext", str(tmp_path / "toc.pdf"), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    on_page = {m: n for n, text in enumerate(pages, 1) for m in re.findall(r"Page of (Part\d\d)", text)}
    contents = "".join(p for p in pages if "Contents" in p or not re.search(r"Page of Part", p))
    listed = dict(re.findall(r"\d+\s+(Part\d\d)\s+(\d+)", contents))
    assert len(on_page) == 60 and on_page["Part00"] > 2  # the contents list takes two pages
    assert {k: int(v) for k, v in listed.items()} == on_page
    assert f"Last: Part59 on page {on_page['Part59']}." in pages[-2].replace("\n", " ")


@pytest.mark.parametrize("aux_write, error", [
    # every pass writes a new value into its .aux
    ("\\gdef\\string\\passes{\\the\\numexpr\\passes+1\\relax}", "still changed after 5 passes"),
    # the .aux differs when not in draft mode: the pass that writes the PDF must find the
    # references the draft passes settled
    ("\\@percentchar\\ifnum\\pdfdraftmode=0 final\\fi", "changed in the pass that writes the PDF"),
])
def test_pdf_refuses_references_that_do_not_settle(tex, tmp_path, aux_write, error):
    doc = tmp_path / "moving.tex"
    doc.write_text("\\documentclass{article}\n\\makeatletter\n\\providecommand\\passes{0}\n\\begin{document}\n"
                   f"\\immediate\\write\\@auxout{{{aux_write}}}\nPass \\passes.\n\\end{{document}}\n")
    with pytest.raises(LatexError, match=error):
        build_pdf(doc, tmp_path / "moving.pdf", 0)
    assert not (tmp_path / "moving.pdf").exists()


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
