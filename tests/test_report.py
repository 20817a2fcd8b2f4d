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
SECTIONS = ["Summary", "Experiments", "The networks and their implementation", "The 2018 report against these runs",
            "Every comparison", "How this report was made"]


@pytest.fixture
def tex():
    """The PDF tests need TeX Live (pdflatex) and pdftotext; ./setup.sh installs them."""
    missing = [t for t in ("pdflatex", "pdftotext") if shutil.which(t) is None]
    assert not missing, f"{', '.join(missing)} not found: run ./setup.sh (it installs TeX Live) or install them"


def run_metrics(cfg, key):
    """A metrics.json as the context reads it from a run: its resolved config and model."""
    from cnnlib.config import resolve
    from workflow.experiments import plan

    variant = plan(cfg).variant(key[0], key[1])
    return {"config": resolve(variant.settings),
            "model": {"name": variant.resolved["model"]["name"], "input_shape": [1, 28, 28], "classes": 10}}


def registry(cfg) -> dict:
    from workflow.experiments import plan
    from cnnlib.results import figures as figure_registry

    p = plan(cfg)
    return {n: "report/figures/plot.png" for n in figure_registry(p.experiments, p.ablation, p.visual is not None)}


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
    return root, registry(config())


def context(figures, tmp_path, overrides=None, title=None, data=None, command="snakemake", git=None, cfg=None):
    """The context of synthetic results (``synthetic.results``; ``data`` to reuse some)."""
    root, figs = figures
    figs = figs if cfg is None else registry(cfg)
    cfg = cfg or config()
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
        reference=yaml.safe_load((REPO / cfg["reference"]).read_text()) if cfg.get("reference") else None,
        build_info={"environment": {"Python": "3.11"}, "commit": "abc123", "dirty": False, "config_hash": "h",
                    "command": command, "results_date": "2026-11-27T10:00:00+00:00", **(git or {})},
        figures=figs,
        visual_maps={"digits": [0, 1, 2, 3], "active": [0.5, 0.2, 0.9, 0.1]} if p.get("visual") else None,
        models=[run_metrics(cfg, k) for k in p["model_runs"]],
        dynamic=[run_metrics(cfg, k) for k in p["dynamic_runs"]],
    )


def render_both(ctx):
    return render(latex_environment(TEMPLATES), "report.tex.j2", ctx), render(markdown_environment(TEMPLATES),
                                                                               "report.md.j2", ctx)


def test_every_section_and_the_table_numbers(figures, tmp_path):
    data = synthetic.results(tmp_path)
    tex, md = render_both(context(figures, tmp_path, data=data))
    for title in SECTIONS:
        assert f"section{{{title}}}" in tex or f"section*{{{title}}}" in tex, title
        assert title in md, title
    assert "includegraphics[width=1\\linewidth]{report/figures/plot.png}" in tex
    for exp, rows in data["summaries"].items():
        if exp == "protocol":
            continue
        for r in rows:
            values = [a if a is not None else 0.1 for a in data["values"][(exp, r["variant"])]]
            mean = f"{statistics.fmean(values):.4f}"
            ci = f"\\[{float(r['accuracy_all_runs_ci_low']):.4f}, {float(r['accuracy_all_runs_ci_high']):.4f}\\]"
            line = next(line for line in md.splitlines() if line.startswith(f"| {r['variant']} |"))
            assert f"| {mean} | {ci} |" in line and "| 0/5 |" in line, line


def sentences(md: str) -> list[str]:
    """The Markdown's sentences, table cells, headings and captions apart."""
    text = " ".join(line for line in md.splitlines() if line.strip() and not line.startswith(("|", "#", "![", "*")))
    return [s.strip(" -") for s in re.split(r"(?<=[.;])\s+(?=[-A-Z*])", text) if s.strip(" -")]


def test_no_finding_is_printed_twice(figures, tmp_path):
    over = {("learning_rate", "lr-0.05"): 0.985, ("momentum", "momentum-0.8"): 0.93}
    _, md = render_both(context(figures, tmp_path, over))
    said = sentences(md)
    repeated = {s for s in said if said.count(s) > 1 and len(s) > 30}
    assert not repeated, repeated
    # and each comparison's numbers appear in one finding, the full row in Appendix B only
    body = md.split("## B ")[0].replace("\\_", "_")
    assert body.count("lr-0.005 by") == 1


def test_the_findings_and_page_one_state_what_comparisons_csv_holds(figures, tmp_path):
    # lr-0.05 far ahead (a planted difference), momentum-0.8 far behind, the rest 0.001 apart
    over = {("learning_rate", "lr-0.05"): 0.985, ("momentum", "momentum-0.8"): 0.93}
    data = synthetic.results(tmp_path, over)
    _, md = render_both(context(figures, tmp_path, data=data))
    md = md.replace("\\_", "_")
    rows = data["comparisons"]
    summary = md.split("## 1 Experiments")[0]
    for e in data["plan"]["experiments"]:
        if e["key"] == "protocol":
            continue
        line = next(line for line in summary.splitlines() if line.startswith(f"- **{e['title']}:**"))
        q = next((r for r in rows if r["experiment"] == e["key"] and not r["variant_b"]), None)
        if q is None:
            assert "one variant" in line
            continue
        ref = e["reference"] or q["variant_a"]
        mine = [r for r in rows if r["experiment"] == e["key"] and r["variant_b"] and r["family"] == e["key"]
                and r["quantity"] == "test_accuracy" and ref in (r["variant_a"], r["variant_b"])]
        if q["claim"] == "a_better":
            assert line.startswith(f"- **{e['title']}:** best {q['variant_a']},"), line
            worse = [r["variant_a"] if r["variant_b"] == ref else r["variant_b"] for r in mine
                     if (r["claim"] == "b_better") == (r["variant_b"] == ref) and r["claim"] != "equivalent"
                     and r["claim"] != "inconclusive"]
            for w in worse:
                assert w in line.split("worse:")[1], (w, line)
        elif all(r["claim"] == "equivalent" for r in mine):
            assert "equivalent" in line
        else:
            assert "no effect shown" in line or "cannot be decided" in line, line
    assert "best lr-0.05" in summary and "worse: momentum-0.8" in summary
    # the same data without the planted gaps: nothing about lr-0.05 is claimed
    _, flat = render_both(context(figures, tmp_path / "flat"))
    assert "best lr-0.05" not in flat


def test_a_sentence_quotes_a_variant_from_its_summary_row_even_when_a_run_diverged(figures, tmp_path):
    # lr-dynamic: one diverged run; the numbers a sentence quotes of it are its summary row's
    over = {("learning_rate", v): 0.5 for v in ("lr-0.005", "lr-0.01", "lr-0.05", "lr-0.1")}
    over[("learning_rate", "lr-dynamic")] = [0.99, 0.991, None, 0.992, 0.99]
    data = synthetic.results(tmp_path, over)
    _, md = render_both(context(figures, tmp_path, data=data))
    md = md.replace("\\_", "_")
    quoted = re.findall(r"(\S+) is the most accurate, ([0-9.]+) \(95% CI ([0-9.]+) to ([0-9.]+)\)", md)
    quoted += re.findall(r"best (\S+), ([0-9.]+) \(95% CI ([0-9.]+) to ([0-9.]+)\)", md)
    quoted += re.findall(r"highest mean is (\S+)'s, ([0-9.]+) \(95% CI ([0-9.]+) to ([0-9.]+)\)", md)
    assert ("lr-dynamic",) in {(v,) for v, *_ in quoted}
    for variant, mean, low, high in quoted:
        row = next(r for rows in data["summaries"].values() for r in rows if r["variant"] == variant)
        assert (mean, low, high) == tuple(f"{float(row[k]):.4f}" for k in
                                          ("accuracy_all_runs_mean", "accuracy_all_runs_ci_low",
                                           "accuracy_all_runs_ci_high")), variant
    assert "lr-dynamic failed to learn in 1 of 5 runs (seed 2, 1 diverged)" in md


def test_page_one_of_the_pdf_is_the_answer(tex, figures, tmp_path):
    over = {("learning_rate", "lr-0.05"): 0.985, ("momentum", "momentum-0.8"): 0.93}
    data = synthetic.results(tmp_path, over)
    tex_text, _ = render_both(context(figures, tmp_path, data=data))
    root, _ = figures
    (root / "report.tex").write_text(tex_text)
    build_pdf(root / "report.tex", tmp_path / "r.pdf", 1_790_000_000)
    page1 = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(tmp_path / "r.pdf"), "-"], capture_output=True,
                           text=True, check=True).stdout
    for e in data["plan"]["experiments"]:
        if e["key"] != "protocol":
            assert f"{e['title']}:" in page1, e["title"]
    assert "best lr-0.05" in page1 and "Of the 2018 report" in page1 and "How to read it" in page1


def test_a_bimodal_variant_counts_its_failures_in_every_number(figures, tmp_path):
    over = {("init_std", "std-0.01"): [0.96, 0.11, 0.12, 0.95, 0.961]}
    data = synthetic.results(tmp_path, over)
    _, md = render_both(context(figures, tmp_path, data=data))
    md = md.replace("\\_", "_")
    assert "std-0.01 failed to learn in 2 of 5 runs (seeds 1, 2)" in md
    line = next(line for line in md.splitlines() if line.startswith("| std-0.01 |"))
    assert "| 2/5 |" in line and f"{statistics.fmean([0.96, 0.11, 0.12, 0.95, 0.961]):.4f}" in line
    assert f"{statistics.fmean([0.96, 0.95, 0.961]):.4f} ±" in line  # the runs that learned, apart
    accuracy_rows = [r for r in data["comparisons"] if r["quantity"] == "test_accuracy" and "std-0.01" in
                     (r["variant_a"], r["variant_b"])]
    assert accuracy_rows and all(r["n_a"] == r["n_b"] == 5 for r in accuracy_rows if r["variant_b"])


def test_missing_figure_is_an_error(figures, tmp_path):
    root, figs = figures
    figs = {k: v for k, v in figs.items() if k != "first-conv-layer"}
    with pytest.raises(KeyError, match="first-conv-layer"):
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
    assert "### 1.2 学习率（ひらがな カタカナ）Müller\n" in md  # Markdown prints it as it is
    assert "\\usepackage{CJKutf8}" in tex
    latin, _ = render_both(context(figures, tmp_path / "latin"))
    assert "CJK" not in latin


def test_appendix_c_has_a_row_per_variant_with_every_seed_in_order():
    from report.sections.provenance import run_table

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
    # in the plan's order, as the sections print the variants (runs.csv sorts by name)
    plan = {"experiments": [{"key": "e", "variants": [{"name": "c"}, {"name": "a"}]}]}
    assert [row[1] for row in run_table(runs, plan)["rows"]] == ["c", "a", "b"]


def test_compute_time_counts_each_trained_epoch_once():
    from report.sections.provenance import runs_line

    runs = [{"total_seconds": "60", "copied_from": "", "continued_from": "", "continued_seconds": ""},
            {"total_seconds": "60", "copied_from": "runs/e/a/seed-0", "continued_from": "", "continued_seconds": ""},
            # 60 s of its 150 s are those of the run it continued
            {"total_seconds": "150", "copied_from": "", "continued_from": "runs/e/a/seed-0", "continued_seconds": "60"}]
    assert runs_line(runs).startswith("3, total compute 2.5 min (1 copied: same settings as another run); "
                                      "1 continued: only the epochs beyond a shorter run with the same settings trained")
    assert runs_line(runs[:2]) == "2, total compute 1.0 min (1 copied: same settings as another run)"


def test_jobs_at_once_says_when_training_was_limited_to_the_machines_cpus():
    from report.sections.provenance import sharing

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
            assert re.match(r"!\[" + re.escape(caption[1:-1]) + r"\]", line), line
            shown.append(caption[1:-1])
    printed = re.findall(r"\\caption\{(.*)\}", tex)
    assert len(shown) == len(printed) == len(registry(config()))
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


def own_study() -> dict:
    """A study of a user's own (a study file over config.yaml's machine settings)."""
    from workflow.study import assemble

    study = {"study": {"name": "mine"}, "report": {"title": "My study", "author": "me"}, "seeds": [0, 1, 2, 3, 4],
             "defaults": {"model": {"name": "mlp", "init_std": 0.05}, "epochs": 2},
             "experiments": {"width": {"title": "Width", "sweep": {"key": "model.hidden", "prefix": "hidden",
                                                                    "values": [[16], [64]]}},
                             "solo": {"title": "A single run", "variants": {"only": {"model": {"hidden": [32]}}}}}}
    cfg = assemble(config(), [("mine.yaml", study)], {})
    return {**cfg, "baseline": None, "architectures": None, "visual": None, "reference": None, "delta": 0.005,
            "protocol_ablation": None}


def test_a_study_of_ones_own_gets_a_section_per_experiment_and_no_2018_text(figures, tmp_path):
    cfg = own_study()
    data = synthetic.results(tmp_path, None, cfg)
    tex, md = render_both(context(figures, tmp_path, data=data, cfg=cfg))
    assert "### 1.1 Width" in md and "### 1.2 A single run" in md  # the single-variant experiment too
    solo = md.split("### 1.2 A single run")[1].split("\n## ")[0]
    assert "| only |" in solo and "Final test accuracy" in solo
    assert "2018" not in md and "2018" not in tex
    assert "The 2018 report against these runs" not in md and "## A " not in md
    # the networks the report compares are the study's: three MLPs, no CNN
    networks = md.split("## 2 The networks")[1].split("\n## ")[0]
    assert networks.count("mlp, as run") == 3 and "reference_cnn" not in networks
    # no conv layer in any of them: no convolution formulas
    assert "Convolution" not in networks and "cross-correlation" not in tex
    # the settings in which the variants differ are a column of the experiment's table
    width = md.split("### 1.1 Width")[1].split("###")[0]
    assert "| Variant | hidden layers |" in width and "| hidden-16 | 16 |" in width


def test_the_blank_area_check_finds_a_half_empty_page(tex, tmp_path):
    from layout import _margin, blank_pages, words

    line = "Words that fill the page, one line after the other, up to its foot." * 2
    full = "\n\n".join([line] * 26)  # a full page
    half = "\n\n".join([line] * 12)  # under half of one
    doc = ("\\documentclass{article}\n\\usepackage[margin=2.2cm]{geometry}\n\\begin{document}\n"
           + "\n\\newpage\n".join([full, half, full, half]) + "\n\\newpage\n\\appendix\n\\section{Extra}\n"
           + half + "\n\\end{document}\n")
    (tmp_path / "d.tex").write_text(doc)
    build_pdf(tmp_path / "d.tex", tmp_path / "d.pdf", 0)
    ws = words(tmp_path / "d.pdf")
    problems = blank_pages(tmp_path / "d.pdf", doc, ws, _margin(doc))
    assert len(problems) == 1 and problems[0].startswith("page 2:"), problems


def test_a_new_section_is_a_builder_module_and_its_part_of_the_outline(figures, tmp_path, monkeypatch):
    import report.sections as package

    extra = tmp_path / "sections"
    extra.mkdir()
    (extra / "acknowledgements.py").write_text("def build(inputs):\n    return {'text': f\"{len(inputs.runs)} runs\"}\n")
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(extra)])
    ctx = context(figures, tmp_path)
    assert ctx["acknowledgements"] == {"text": "125 runs"}


def test_the_report_never_imports_the_workflow():
    """What both read (paths, columns, the figure registry) lives in cnnlib.results, below both."""
    import ast

    offenders = []
    for path in sorted((REPO / "report").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] == "workflow"]
    assert offenders == []


def test_what_changed_names_verdicts_in_words_and_skips_an_unrelated_published_build():
    """A verdict that changed reads "lr-0.01 better then, inconclusive now", never the CSV's
    a_better; a published build none of whose runs shares this build's settings (a quick
    build against the full one) is named as not compared, and page 1 stays silent about it."""
    from report.sections import changes

    flip = {"experiment": "learning_rate", "variant_a": "lr-0.01", "variant_b": "baseline",
            "quantity": "test_accuracy", "old_claim": "a_better", "new_claim": "inconclusive"}
    question = {**flip, "variant_a": "lr-0.05", "variant_b": "", "old_claim": "a_better", "new_claim": "inconclusive"}
    assert changes._conclusions({"conclusions": [flip, question]}) == [
        "learning_rate (lr-0.01 against baseline, accuracy): lr-0.01 better then, inconclusive now.",
        "learning_rate (does the accuracy depend on the setting): depends on the setting then, no evidence now."]
    skipped = changes.build({"published": {"path": "report/published_build.json", "unrelated": "no shared settings"}})
    assert skipped["published"] == {
        "text": "Not compared with the published build (report/published_build.json): no shared settings.", "short": ""}


def test_a_detectable_difference_beyond_the_accuracy_scale_is_said_in_words(figures, tmp_path):
    """The schedules example, one run of 3 failing: the design "finds differences of 2.3409
    or more", a number no accuracy difference can reach. The sentence says instead that a
    difference of any size could go unseen, on page 1 and in the experiment's findings."""
    data = synthetic.results(tmp_path)
    for r in data["comparisons"]:
        if r["experiment"] == "momentum" and r["family"] == "momentum" and r["variant_b"]:
            r.update(min_detectable=2.3409, claim="inconclusive")
    _, md = render_both(context(figures, tmp_path, data=data))
    line = next(line for line in md.splitlines() if line.startswith("- **Momentum:**"))
    assert "no effect shown" in line and "a difference of any size could go unseen" in line, line
    assert "2.3409" not in md.split("## B ")[0].split("# B ")[0]
    assert "would miss a difference of any size" in md


def test_what_changed_lists_only_the_variants_whose_runs_differ():
    """A training-code change that retrains every run and changes no number (a refactor): the
    headline says every run is bit for bit the same; the table does not list 25 identical rows."""
    from report.sections import changes

    def variant(name, verdict, diff):
        return {"experiment": "e", "variant": name, "n": 5, "mean_old": 0.9, "mean_new": 0.9 + diff,
                "difference": diff, "ci_low": diff, "ci_high": diff, "verdict": verdict}

    counts = {"old": 10, "new": 10, "shared": 10, "identical": 5, "retrained": 10, "new_runs": 0, "removed": 0}
    cmp = {"counts": counts, "delta": 0.005, "label": "2026-12-07 22:54", "commit": None, "conclusions": [],
           "removed": [], "retrained": [{"experiment": "e", "variant": "a", "seeds": [0], "reason": "code changed"}],
           "variants": [variant("a", "identical", 0.0), variant("b", "changed", 0.02)]}
    table = changes.since_previous(cmp)["variants"]
    assert [row[0] for row in table["rows"]] == ["e/b"]
    assert changes.since_previous({**cmp, "variants": [variant("a", "identical", 0.0)]})["variants"] is None
