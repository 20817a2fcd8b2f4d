"""report.plots (and style, curves, readers): valid, deterministic PNGs from small synthetic workflow outputs."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import matplotlib  # noqa: E402 - a declared dependency (pip install -e .[dev])
import matplotlib.container  # noqa: E402
import matplotlib.image  # noqa: E402

from report import plots, readers  # noqa: E402
from report import curves as CV  # noqa: E402
from report import style as S  # noqa: E402
from report.stats import mean_ci  # noqa: E402
from workflow.results import RUNS_COLUMNS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLUMNS = ["experiment", "variant", "seed", "series", "iteration", "epoch", "loss", "accuracy", "lr", "images"]
IPE, EPOCHS, EVALS = 40, 2, 4  # iterations per epoch, epochs, test evaluations per epoch
VARIANTS = ["a", "b", "c"]  # curves-file order
SUMMARY_ORDER = ["c", "a", "b"]  # display order: colours follow this
DIVERGED = ("b", 1, 50)  # variant b, seed 1 gets a non-finite loss at iteration 50 and stops


def acc_value(v, seed, it):
    return 0.1 + 0.8 * (1 - np.exp(-it / (30.0 * (1 + VARIANTS.index(v))))) + 0.01 * seed


def train_loss(v, seed, it):
    return 2.3 * np.exp(-it / (20.0 * (1 + VARIANTS.index(v)))) + 0.05 + 0.02 * seed + 0.01 * (it % 3)


def write_run_table(path: Path, runs) -> Path:
    """A run table (RUNS_COLUMNS) from ``[(experiment, variant, seed, status, test_accuracy)]``."""
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, RUNS_COLUMNS, lineterminator="\n")
        w.writeheader()
        for exp, v, seed, status, acc in runs:
            w.writerow({"experiment": exp, "variant": v, "seed": seed, "status": status, "test_accuracy": acc})
    return path


def seeds_groups(experiment, variants, key=None):
    return [{"label": v, "experiment": experiment, "variant": v, "colour_key": key or v} for v in variants]


def write_inputs(folder: Path) -> dict:
    """curves + summary + run table CSV for 3 variants x 2 seeds (one diverged run), and a conv1 NPZ."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for v in VARIANTS:
        for seed in (0, 1):
            stop = DIVERGED[2] if (v, seed) == DIVERGED[:2] else None
            for it in range(0, IPE * EPOCHS + 1, IPE // EVALS):
                if stop is not None and it >= stop:
                    break
                images = 1000 if it % IPE == 0 and it else 200
                rows.append(["sweep", v, seed, "test", it, it / IPE, 2.0 - acc_value(v, seed, it),
                             acc_value(v, seed, it), "", images])
            for it in range(1, IPE * EPOCHS + 1):
                loss = "" if it == stop else train_loss(v, seed, it)
                rows.append(["sweep", v, seed, "train", it, it / IPE, loss, 0.5, 0.01 * (1 + seed), 100])
                if it == stop:
                    break
    curves = folder / "curves.csv"
    with open(curves, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(rows)
    summary = folder / "summary.csv"
    with open(summary, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["experiment", "variant", "setting", "runs", "completed", "diverged", "epochs",
                    "test_accuracy_mean"])
        for v in SUMMARY_ORDER:
            d = int(v == DIVERGED[0])
            w.writerow(["sweep", v, v, 2, 2 - d, d, EPOCHS, 0.9])
    runs = write_run_table(folder / "runs.csv", [
        ("sweep", v, seed, "diverged" if (v, seed) == DIVERGED[:2] else "completed",
         "" if (v, seed) == DIVERGED[:2] else acc_value(v, seed, IPE * EPOCHS))
        for v in SUMMARY_ORDER for seed in (0, 1)])
    rng = np.random.default_rng(0)
    conv = rng.normal(size=(3, 4, 28, 28)).astype(np.float32)
    npz = folder / "conv1_maps.npz"
    np.savez(npz, images=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), labels=np.array([7, 2, 1]),
             indices=np.arange(3), conv1=conv, relu1=np.maximum(conv, 0), weight=np.zeros((4, 1, 3, 3), np.float32),
             bias=np.zeros(4, np.float32))
    return {"curves": curves, "summary": summary, "npz": npz, "runs": runs}


def render_all(inputs: dict, out: Path, style=None) -> dict:
    """Every figure into ``out``; returns {name: path} and the sweep's colour names."""
    out.mkdir(parents=True, exist_ok=True)
    colours = plots.plot_sweep(inputs["summary"], inputs["curves"], out / "acc.png", out / "loss.png", "Sweep",
                               style=style, run_table=inputs["runs"])
    plots.plot_seeds([inputs["runs"]], seeds_groups("sweep", SUMMARY_ORDER), out / "seeds.png", "Sweep", style=style)
    plots.plot_baseline(inputs["curves"], out / "baseline.png", style=style, variant="b")
    plots.plot_lr_trace(inputs["curves"], "b", out / "lr.png", style=style)
    plots.plot_conv1(inputs["npz"], out / "conv1.png", style=style)
    names = ["acc", "loss", "seeds", "baseline", "lr", "conv1"]
    return {n: out / f"{n}.png" for n in names}, colours


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    base = tmp_path_factory.mktemp("figures")
    inputs = write_inputs(base / "in")
    paths, colours = render_all(inputs, base / "out")
    return base, inputs, paths, colours


def test_every_figure_is_a_valid_png_of_the_expected_size(rendered):
    _, _, paths, _ = rendered
    for name, path in paths.items():
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE), name
        img = matplotlib.image.imread(path)
        if name == "conv1":  # 3 digits x (input + 4 maps), one panel each (+0.5 in title) at 150 dpi
            p = S.CONV1_PANEL
            assert img.shape[:2] == (int((3 * p + 0.5) * 150), int(5 * p * 150)), name  # truncated
        elif name in ("acc", "loss"):  # a sweep's two figures, printed side by side
            assert img.shape[:2] == (int(S.SWEEP_SIZE[1] * 150), int(S.SWEEP_SIZE[0] * 150)), name
        elif name == "seeds":
            assert img.shape[:2] == (int(S.SEEDS_SIZE[1] * 150), int(S.SEEDS_SIZE[0] * 150)), name
        else:
            assert img.shape[:2] == (int(S.CURVE_SIZE[1] * 150), int(S.CURVE_SIZE[0] * 150)), name
        assert img[..., :3].std() > 0.05, f"{name} looks blank"
    assert sorted(p.name for p in paths["acc"].parent.iterdir()) == sorted(p.name for p in paths.values()), \
        "temporary files left behind"


def test_style_sets_size_and_dpi(rendered, tmp_path):
    _, inputs, _, _ = rendered
    plots.plot_baseline(inputs["curves"], tmp_path / "b.png", style={"dpi": 50, "width": 4, "height": 3, "font_size": 8},
                    variant="a")
    assert matplotlib.image.imread(tmp_path / "b.png").shape[:2] == (150, 200)


def test_byte_identical_in_process_and_in_a_subprocess(rendered):
    base, inputs, paths, _ = rendered
    again, _ = render_all(inputs, base / "again")
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
        "import test_figures as T; ins = {k: Path(sys.argv[3]) / v for k, v in"
        " {'curves': 'curves.csv', 'summary': 'summary.csv', 'npz': 'conv1_maps.npz', 'runs': 'runs.csv'}.items()};"
        "T.render_all(ins, Path(sys.argv[4]))"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-c", code, str(REPO), str(REPO / "tests"), str(base / "in"), str(base / "sub")],
                   check=True, env=env, cwd=str(base))
    for name, path in paths.items():
        assert again[name].read_bytes() == path.read_bytes(), f"{name} differs on a second render"
        assert (base / "sub" / path.name).read_bytes() == path.read_bytes(), f"{name} differs in a subprocess"


def test_colours_come_from_the_names_and_stay_when_variants_change(rendered, tmp_path):
    _, inputs, _, colours = rendered
    assert list(colours) == SUMMARY_ORDER  # the figure's (and tables') order is the summary's
    three = S.colour_of(["c", "a", "b"])
    for v in ("c", "a", "b"):
        assert colours[v].split(",")[0] == three[v][0]
    # adding or removing variants never moves another variant's colour
    many = [f"lr-{x}" for x in ("0.005", "0.01", "0.05", "0.1", "dynamic")]
    before = S.colour_of(many)
    after = S.colour_of(many[:2] + ["lr-0.02"] + many[2:])
    assert all(after[v][:2] == before[v][:2] for v in many)
    assert all(S.colour_of(many[1:])[v][:2] == before[v][:2] for v in many[1:])
    # variants that share a colour differ in line style: every (colour, style) is unique
    names = [f"v{i}" for i in range(25)]
    got = S.colour_of(names)
    assert len({(c[0], c[2][0]) for c in got.values()}) == len(names)
    assert any(c[2][0] != "solid" for c in got.values())
    palette = [["pure red", "#ff0000"], ["pure green", "#00ff00"], ["pure blue", "#0000ff"]]
    got = plots.plot_sweep(inputs["summary"], inputs["curves"], tmp_path / "a.png", tmp_path / "l.png", "t",
                           style={"palette": palette})
    assert {g.split(",")[0] for g in got.values()} <= {"pure red", "pure green", "pure blue"}
    rgb = (matplotlib.image.imread(tmp_path / "a.png")[..., :3] * 255).round().astype(int)
    for name, hexcode in palette:  # the style's colours are really drawn
        if not any(g.startswith(name) for g in got.values()):
            continue
        want = np.array([int(hexcode[i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(rgb - want).max(axis=-1) <= 8).sum() > 50, hexcode


def test_colour_of_needs_enough_colours_and_styles():
    with pytest.raises(ValueError, match="palette"):
        S.colour_of([f"v{i}" for i in range(5)], palette=[["red", "#ff0000"]])


@pytest.mark.parametrize("which", ["sweep", "baseline", "lr", "conv1"])
def test_unknown_style_key_raises_and_writes_nothing(rendered, tmp_path, which):
    _, inputs, _, _ = rendered
    bad = {"dpi": 100, "colour_map": "viridis"}
    with pytest.raises(ValueError, match="colour_map"):
        if which == "sweep":
            plots.plot_sweep(inputs["summary"], inputs["curves"], tmp_path / "a.png", tmp_path / "l.png", "t", style=bad)
        elif which == "baseline":
            plots.plot_baseline(inputs["curves"], tmp_path / "a.png", style=bad, variant="a")
        elif which == "lr":
            plots.plot_lr_trace(inputs["curves"], "a", tmp_path / "a.png", style=bad)
        else:
            plots.plot_conv1(inputs["npz"], tmp_path / "a.png", style=bad)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("style", [{"dpi": -1}, {"width": "wide"}, {"palette": [["red", "not a colour"]]},
                                   {"palette": []}, {"font_size": True}])
def test_bad_style_values_raise(style):
    with pytest.raises(ValueError, match="style key"):
        S.resolve_style(style)


def test_mean_curve_uses_the_seeds_present_at_each_point(rendered):
    _, inputs, _, _ = rendered
    curves = readers.read_curves(inputs["curves"])
    m = (curves["variant"] == "b") & (curves["series"] == "test")
    c = CV.mean_curve(curves["epoch"][m], curves["accuracy"][m], curves["seed"][m])
    i = int(np.flatnonzero(c.x == 0.5)[0])  # both seeds: iteration 20
    assert c.count[i] == 2
    assert c.mean[i] == pytest.approx((acc_value("b", 0, 20) + acc_value("b", 1, 20)) / 2)
    assert c.low[i] == pytest.approx(acc_value("b", 0, 20)) and c.high[i] == pytest.approx(acc_value("b", 1, 20))
    j = int(np.flatnonzero(c.x == 1.5)[0])  # iteration 60: seed 1 diverged at 50, only seed 0 counts
    assert c.count[j] == 1 and c.mean[j] == pytest.approx(acc_value("b", 0, 60))
    # training loss: the empty cell at the divergence point is missing, not zero
    t = (curves["variant"] == "b") & (curves["series"] == "train")
    lc = CV.mean_curve(curves["iteration"][t], curves["loss"][t], curves["seed"][t])
    k = int(np.flatnonzero(lc.x == 50)[0])
    assert lc.count[k] == 1 and lc.mean[k] == pytest.approx(train_loss("b", 0, 50))
    assert lc.x.max() == IPE * EPOCHS and np.all(np.isfinite(lc.mean))


def test_mean_curve_ignores_non_finite_and_drops_empty_points():
    c = CV.mean_curve([0, 0, 1, 1, 2], [1.0, 3.0, np.nan, 5.0, np.inf], ["s0", "s1", "s0", "s1", "s0"])
    assert c.x.tolist() == [0, 1] and c.mean.tolist() == [2.0, 5.0] and c.count.tolist() == [2, 1]
    assert c.low.tolist() == [1.0, 5.0] and c.high.tolist() == [3.0, 5.0]


def test_moving_average_and_window():
    y = np.arange(10, dtype=float)
    assert np.allclose(CV.moving_average(y, 3)[1:-1], y[1:-1])  # centred: a line stays a line
    assert CV.moving_average(y, 3)[0] == 0.5  # the window shrinks at the edges
    y[4] = np.nan
    out = CV.moving_average(y, 3)
    assert np.isnan(out[4]) and out[3] == pytest.approx((2 + 3) / 2)  # missing values are skipped
    assert CV.moving_average([1e12, 1.0, 1.0, 1.0, 1.0], 3)[-1] == 1.0  # no cumulative-sum cancellation
    assert CV.smoothing_window(600) == 31 and CV.smoothing_window(10) == 1 and CV.smoothing_window(float("nan")) == 1


def test_quoted_csv_reads_like_the_fast_path(rendered, tmp_path):
    _, inputs, _, _ = rendered
    quoted = tmp_path / "quoted.csv"
    with open(inputs["curves"], newline="") as src, open(quoted, "w", newline="") as dst:
        csv.writer(dst, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(csv.reader(src))
    fast, slow = readers.read_curves(inputs["curves"]), readers.read_curves(quoted)
    for name in COLUMNS:
        assert np.array_equal(fast[name], slow[name], equal_nan=fast[name].dtype.kind == "f"), name
    assert np.isnan(fast["lr"][fast["series"] == "test"]).all()
    with pytest.raises(ValueError, match="missing columns"):
        (tmp_path / "bad.csv").write_text("variant,seed\na,0\n")
        readers.read_curves(tmp_path / "bad.csv")


def test_baseline_needs_a_variant_when_the_file_has_several(rendered, tmp_path):
    _, inputs, _, _ = rendered
    with pytest.raises(ValueError, match="variant"):
        plots.plot_baseline(inputs["curves"], tmp_path / "b.png")
    with pytest.raises(ValueError, match="nope"):
        plots.plot_lr_trace(inputs["curves"], "nope", tmp_path / "b.png")


def test_titles_print_literally_even_with_dollar_signs(rendered, tmp_path):
    _, inputs, _, _ = rendered
    title = r"$x^{2$ cost, $\alpha_$"  # broken mathtext: matplotlib would fail to parse it
    plots.plot_sweep(inputs["summary"], inputs["curves"], tmp_path / "a.png", tmp_path / "l.png", title)
    assert (tmp_path / "a.png").stat().st_size > 0 and (tmp_path / "l.png").stat().st_size > 0


def test_chinese_titles_are_drawn_in_the_cjk_font(rendered, tmp_path, recwarn):
    """The PDF's CJK font as TrueType (./setup.sh installs fonts-arphic-gbsn00lp) draws the
    characters matplotlib's default font lacks; a title without them keeps the default font."""
    from report.style import cjk_families

    assert cjk_families() is not None, "no CJK font for the figures: run ./setup.sh (fonts-arphic-gbsn00lp)"
    _, inputs, paths, _ = rendered
    plots.plot_sweep(inputs["summary"], inputs["curves"], tmp_path / "a.png", tmp_path / "l.png", "动量 Sweep")
    plots.plot_seeds([inputs["runs"]], seeds_groups("sweep", SUMMARY_ORDER), tmp_path / "s.png", "学习率")
    assert [str(w.message) for w in recwarn if "missing from font" in str(w.message)] == []
    plots.plot_seeds([inputs["runs"]], seeds_groups("sweep", SUMMARY_ORDER), tmp_path / "latin.png", "Sweep")
    assert (tmp_path / "latin.png").read_bytes() == paths["seeds"].read_bytes()


# --------------------------------------------------------------------------- runs that failed


@pytest.fixture
def drawn(monkeypatch):
    """What every figure saved in the test draws, by PNG name: per axes its y limits, lines
    (label, x, y, line style, colour, marker), error bars (x, mean, low end, high end) and
    texts, and the legend's labels."""
    shots = {}
    real = plots._save

    def save(fig, png, dpi):
        axes = []
        for a in fig.axes:
            bars = []
            for c in a.containers:
                if isinstance(c, matplotlib.container.ErrorbarContainer):
                    line, caps, _ = c.lines
                    ends = [float(cap.get_ydata()[0]) for cap in caps]
                    bars.append((float(line.get_xdata()[0]), float(line.get_ydata()[0]), min(ends), max(ends)))
            axes.append({
                "ylim": a.get_ylim(),
                "lines": [(ln.get_label(), np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float),
                           ln.get_linestyle(), ln.get_color(), ln.get_marker()) for ln in a.get_lines()],
                "bars": sorted(bars),
                "texts": [t.get_text() for t in a.texts],
            })
        legend = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
        shots[Path(png).name] = {"axes": axes, "legend": legend}
        return real(fig, png, dpi)

    monkeypatch.setattr(plots, "_save", save)
    return shots


LEARNED = {"a": [0.91, 0.93, 0.92, 0.95], "b": [0.85, 0.88, 0.86, 0.84]}


def seeds_table(path, failures=()):
    runs = [("exp", v, s, "completed", acc) for v, accs in LEARNED.items() for s, acc in enumerate(accs)]
    return write_run_table(path, runs + list(failures))


FAILURES = [("exp", "a", 4, "completed", 0.11), ("exp", "a", 5, "diverged", ""), ("exp", "b", 4, "completed", 0.05)]


def test_seeds_mean_and_interval_are_over_the_runs_that_learned(tmp_path, drawn):
    groups = seeds_groups("exp", ["a", "b"])
    clean = plots.plot_seeds([seeds_table(tmp_path / "clean.csv")], groups, tmp_path / "clean.png", "t")
    mixed = plots.plot_seeds([seeds_table(tmp_path / "mixed.csv", FAILURES)], groups, tmp_path / "mixed.png", "t")
    for i, v in enumerate(["a", "b"]):
        ci = mean_ci(LEARNED[v])
        want = {"mean": ci.mean, "ci_low": ci.ci_low, "ci_high": ci.ci_high}
        for result, png in ((clean, "clean.png"), (mixed, "mixed.png")):
            assert {k: result[v][k] for k in want} == pytest.approx(want)
            # and that is what the figure draws beside the points: a failed run moves nothing
            _, mean, low, high = drawn[png]["axes"][0]["bars"][i]
            assert (mean, low, high) == pytest.approx((ci.mean, ci.ci_low, ci.ci_high))
    assert (mixed["a"]["runs"], mixed["a"]["learned"], mixed["a"]["failed"], mixed["a"]["diverged"]) == (6, 4, 2, 1)
    assert (mixed["b"]["failed"], mixed["b"]["diverged"]) == (1, 0)
    # the failed runs are marked apart, in the band below, with their count
    main, band = drawn["mixed.png"]["axes"][:2]
    assert not any(np.any(y < 0.2) for _, _, y, *_ in main["lines"] if y.size)
    crosses = sorted(float(y) for _, _, ys, _, _, m in band["lines"] if m == "x" for y in ys)
    assert crosses == [0.05, 0.11]
    assert sum(len(ys) for _, _, ys, _, _, m in band["lines"] if m == "v") == 1
    assert "2/6 failed" in band["texts"] and "1/5 failed" in band["texts"]
    assert any("failed" in t for t in drawn["mixed.png"]["legend"])
    assert not any("/" in t for t in drawn["clean.png"]["axes"][1]["texts"])


def test_seeds_y_axis_is_fitted_to_the_runs_that_learned(tmp_path, drawn):
    groups = seeds_groups("exp", ["a", "b"])
    plots.plot_seeds([seeds_table(tmp_path / "clean.csv")], groups, tmp_path / "clean.png", "t")
    plots.plot_seeds([seeds_table(tmp_path / "mixed.csv", FAILURES)], groups, tmp_path / "mixed.png", "t")
    low, high = drawn["mixed.png"]["axes"][0]["ylim"]
    assert drawn["clean.png"]["axes"][0]["ylim"] == (low, high)
    values = [x for xs in LEARNED.values() for x in xs]
    assert min(values) - 0.02 < low < min(values) and max(values) < high <= 1.0


def test_seeds_figure_of_an_ablation_is_valid_and_byte_identical(tmp_path):
    """Groups from several run tables, two-line labels, readings as colour keys."""
    base = write_run_table(tmp_path / "base.csv", [("base", "v", s, "completed", 0.9 + 0.01 * s) for s in range(3)])
    abl = write_run_table(tmp_path / "abl.csv", [("abl", f"v-{r}", s, "completed", 0.8 + 0.02 * s + 0.05 * k)
                                                 for k, r in enumerate(["r1", "r2"]) for s in range(3)]
                          + [("abl", "v-r2", 3, "diverged", "")])
    groups = [{"label": "v\nframework", "experiment": "base", "variant": "v", "colour_key": "framework"}]
    groups += [{"label": f"v\n{r}", "experiment": "abl", "variant": f"v-{r}", "colour_key": r} for r in ["r1", "r2"]]
    first = plots.plot_seeds([abl, base], groups, tmp_path / "one.png", "$Ablation")
    plots.plot_seeds([abl, base], groups, tmp_path / "two.png", "$Ablation")
    data = (tmp_path / "one.png").read_bytes()
    assert data.startswith(PNG_SIGNATURE) and data == (tmp_path / "two.png").read_bytes()
    img = matplotlib.image.imread(tmp_path / "one.png")
    assert img.shape[:2] == (int(S.SEEDS_SIZE[1] * 150), int(S.SEEDS_SIZE[0] * 150))
    assert [first[g["label"]]["experiment"] for g in groups] == ["base", "abl", "abl"]
    assert first["v\nr2"]["failed"] == 1 and first["v\nr2"]["mean"] == pytest.approx(0.87)
    with pytest.raises(ValueError, match="no runs"):
        plots.plot_seeds([base], groups, tmp_path / "x.png", "t")


def write_failed_sweep(folder: Path) -> dict:
    """Variant a: seeds 0, 1 learn, seed 2 completes at chance (failed); variant b: 2 seeds learn."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = {"a": (0, 1, 2), "b": (0, 1)}

    def acc(v, seed, it):
        return 0.1 if (v, seed) == ("a", 2) else 0.5 + 0.4 * it / (IPE * EPOCHS) + 0.02 * seed

    def loss(v, seed, it):
        return 2.3 + 0.01 * (it % 2) if (v, seed) == ("a", 2) else 1.0 / (1 + it / 10) + 0.03 * seed + 0.01 * (it % 3)

    rows = []
    for v, ss in seeds.items():
        for seed in ss:
            for it in range(0, IPE * EPOCHS + 1, IPE // EVALS):
                rows.append(["sweep", v, seed, "test", it, it / IPE, 0.5, acc(v, seed, it), "", 1000])
            for it in range(1, IPE * EPOCHS + 1):
                rows.append(["sweep", v, seed, "train", it, it / IPE, loss(v, seed, it), 0.5, 0.01, 100])
    with open(folder / "curves.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(rows)
    with open(folder / "summary.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["experiment", "variant", "runs", "completed", "diverged", "failed"])
        w.writerows([["sweep", "a", 3, 3, 0, 1], ["sweep", "b", 2, 2, 0, 0]])
    write_run_table(folder / "runs.csv", [("sweep", v, s, "completed", acc(v, s, IPE * EPOCHS))
                                          for v, ss in seeds.items() for s in ss])
    return {"acc": acc, "loss": loss, "folder": folder}


def test_sweep_means_and_accuracy_axis_leave_out_a_failed_run(tmp_path, drawn):
    made = write_failed_sweep(tmp_path / "in")
    f = made["folder"]
    plots.plot_sweep(f / "summary.csv", f / "curves.csv", tmp_path / "acc.png", tmp_path / "loss.png", "t",
                     run_table=f / "runs.csv")
    colour = S.colour_of(["a", "b"])["a"][1]
    label = "a (1/3 failed, not in the mean)"
    # accuracy: the mean of seeds 0 and 1 only; the failed run is not drawn, nor in the y range
    acc = drawn["acc.png"]["axes"][0]
    (xs, ys), = [(x, y) for lab, x, y, *_ in acc["lines"] if lab == label]
    its = np.arange(0, IPE * EPOCHS + 1, IPE // EVALS)
    assert xs == pytest.approx(its / IPE)
    assert ys == pytest.approx([(made["acc"]("a", 0, it) + made["acc"]("a", 1, it)) / 2 for it in its])
    assert all(np.nanmin(y) > 0.2 for _, _, y, *_ in acc["lines"] if y.size)
    assert acc["ylim"][0] > 0.2
    assert label in drawn["acc.png"]["legend"] and label in drawn["loss.png"]["legend"]
    # loss: the mean of the smoothed losses of seeds 0 and 1, the failed run dotted on its own
    loss = drawn["loss.png"]["axes"][0]
    w = CV.smoothing_window(IPE)
    train_its = np.arange(1, IPE * EPOCHS + 1)
    smooth = {s: CV.moving_average([made["loss"]("a", s, it) for it in train_its], w) for s in (0, 1, 2)}
    (ys,) = [y for lab, _, y, *_ in loss["lines"] if lab == label]
    assert ys == pytest.approx((smooth[0] + smooth[1]) / 2)
    dotted = [(x, y) for _, x, y, style, c, _ in loss["lines"] if style == ":" and c == colour]
    assert len(dotted) == 1 and dotted[0][1] == pytest.approx(smooth[2])
    assert dotted[0][0] == pytest.approx(train_its / IPE)


def test_sweep_run_table_must_cover_the_curves(tmp_path):
    made = write_failed_sweep(tmp_path / "in")
    f = made["folder"]
    write_run_table(f / "short.csv", [("sweep", "a", 0, "completed", 0.9)])
    with pytest.raises(ValueError, match="no row"):
        plots.plot_sweep(f / "summary.csv", f / "curves.csv", tmp_path / "a.png", tmp_path / "l.png", "t",
                         run_table=f / "short.csv")


def test_text_is_at_least_7_points_where_the_report_prints_each_figure():
    from workflow.results import figures

    kinds = {f.kind for f in figures(["a", "abl"], ("a", "v"), [("a", "v")], "abl").values()}
    assert set(S.PRINTED_WIDTH) == kinds
    width = {"sweep_accuracy": S.SWEEP_SIZE[0], "sweep_loss": S.SWEEP_SIZE[0], "sweep_seeds": S.SEEDS_SIZE[0],
             "baseline": S.CURVE_SIZE[0], "lr_trace": S.CURVE_SIZE[0],
             "conv1": 5 * S.CONV1_PANEL}  # the reference CNN: input + 4 feature maps
    for kind, w in width.items():
        assert S.printed_font(kind, w) >= S.MIN_PRINTED_FONT, kind
    assert S.printed_font("sweep_seeds", S.SEEDS_SIZE[0]) == pytest.approx(9 * 0.6 * 6.54 / S.SEEDS_SIZE[0])


def test_saved_figures_record_their_smallest_text_and_any_text_cut_off(tmp_path):
    """What the report's layout check reads from each PNG (tests/layout.py)."""
    from PIL import Image

    st = S.resolve_style({"font_size": 8})
    with S._Render(st, "constrained") as fig:
        ax = fig.add_subplot()
        ax.plot([0, 1], [0.2, 0.9])
        ax.set_ylim(0.3, 0.8)  # ticks at -0.2 and 1.2 exist but are not drawn: not counted
        ax.set_title("fits")
        S._save(fig, tmp_path / "ok.png", 50)
    with S._Render(st, "constrained") as fig:
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("a label far wider than the figure " * 6)
        S._save(fig, tmp_path / "cut.png", 50)
    with Image.open(tmp_path / "ok.png") as ok, Image.open(tmp_path / "cut.png") as cut:
        assert ok.text[S.MIN_FONT_KEY] == "8" and ok.text[S.CLIPPED_KEY] == "0"
        assert cut.text[S.CLIPPED_KEY] == "1"
