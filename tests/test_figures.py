"""report.plots (and style, curves, readers): valid, deterministic PNGs from small synthetic workflow outputs."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import matplotlib  # noqa: E402 - a declared dependency (pip install -e .[dev])
import matplotlib.colors  # noqa: E402
import matplotlib.container  # noqa: E402
import matplotlib.image  # noqa: E402
import matplotlib.text  # noqa: E402

from report import plots, readers  # noqa: E402
from report import curves as CV  # noqa: E402
from report import style as S  # noqa: E402
from report.stats import mean_ci  # noqa: E402
from cnnlib.results import PRINTED_WIDTH, RUNS_COLUMNS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLUMNS = ["experiment", "variant", "seed", "series", "iteration", "epoch", "loss", "accuracy", "lr", "images"]
IPE, EPOCHS, EVALS = 40, 2, 4  # iterations per epoch, epochs, test evaluations per epoch
VARIANTS = ["a", "b", "c"]  # curves-file order
SPEC_ORDER = ["c", "a", "b"]  # config order: colours follow this
DIVERGED = ("b", 1, 50)  # variant b, seed 1 gets a non-finite loss at iteration 50 and stops


def acc_value(v, seed, it):
    return 0.1 + 0.8 * (1 - np.exp(-it / (30.0 * (1 + VARIANTS.index(v))))) + 0.01 * seed


def train_loss(v, seed, it):
    return 2.3 * np.exp(-it / (20.0 * (1 + VARIANTS.index(v)))) + 0.05 + 0.02 * seed + 0.01 * (it % 3)


def write_run_table(path: Path, runs, extra=None) -> Path:
    """A run table (RUNS_COLUMNS) from ``[(experiment, variant, seed, status, test_accuracy)]``;
    ``extra``: ``{column: value}`` added to every row (a column RUNS_COLUMNS may not have yet)."""
    extra = extra or {}
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, RUNS_COLUMNS + [k for k in extra if k not in RUNS_COLUMNS], lineterminator="\n")
        w.writeheader()
        for exp, v, seed, status, acc in runs:
            w.writerow({"experiment": exp, "variant": v, "seed": seed, "status": status, "test_accuracy": acc, **extra})
    return path


def write_curves(path: Path, rows) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(rows)
    return path


def seeds_groups(experiment, variants, key=None):
    return [{"label": v, "experiment": experiment, "variant": v, "colour_key": key or v} for v in variants]


def sweep_spec(title="Sweep", experiment="sweep", variants=SPEC_ORDER, values=None, axis=None, **more):
    values = values or [None] * len(variants)
    return {"title": title, "experiment": experiment,
            "variants": [{"name": v, "label": v, "value": x} for v, x in zip(variants, values)],
            "axis": axis, "free_points": [], "reference": {}, "reference_label": "2018 report", **more}


#: the figure every test renders: two variants at a value of the swept setting (log axis), one
#: without (own slot), a diverged run, a 2018 value
RENDERED_SPEC = sweep_spec(values=[0.01, 0.1, None], axis={"key": "optimizer.lr", "label": "learning rate"},
                           reference={"a": 0.9})


def write_inputs(folder: Path) -> dict:
    """curves + run table CSV for 3 variants x 2 seeds (one diverged run), and a conv1 NPZ."""
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
    curves = write_curves(folder / "curves.csv", rows)
    runs = write_run_table(folder / "sweep.csv", [
        ("sweep", v, seed, "diverged" if (v, seed) == DIVERGED[:2] else "completed",
         "" if (v, seed) == DIVERGED[:2] else acc_value(v, seed, IPE * EPOCHS))
        for v in SPEC_ORDER for seed in (0, 1)])
    rng = np.random.default_rng(0)
    conv = rng.normal(size=(3, 4, 28, 28)).astype(np.float32)
    npz = folder / "conv1_maps.npz"
    np.savez(npz, images=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), labels=np.array([7, 2, 1]),
             indices=np.arange(3), conv1=conv, relu1=np.maximum(conv, 0), weight=np.zeros((4, 1, 3, 3), np.float32),
             bias=np.zeros(4, np.float32))
    return {"curves": curves, "npz": npz, "runs": runs}


def render_all(inputs: dict, out: Path, style=None) -> dict:
    """Every figure into ``out``; returns {name: path} and what the experiment figure drew."""
    out.mkdir(parents=True, exist_ok=True)
    drawn = plots.plot_experiment(RENDERED_SPEC, inputs["curves"], {"sweep": inputs["runs"]}, out / "experiment.png",
                                  style=style)
    plots.plot_seeds([inputs["runs"]], seeds_groups("sweep", SPEC_ORDER), out / "seeds.png", "Sweep", style=style)
    plots.plot_conv1(inputs["npz"], out / "conv1.png", style=style)
    names = ["experiment", "seeds", "conv1"]
    return {n: out / f"{n}.png" for n in names}, drawn


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    base = tmp_path_factory.mktemp("figures")
    inputs = write_inputs(base / "in")
    paths, drawn = render_all(inputs, base / "out")
    return base, inputs, paths, drawn


def test_every_figure_is_a_valid_png_of_the_expected_size(rendered):
    _, _, paths, _ = rendered
    for name, path in paths.items():
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE), name
        img = matplotlib.image.imread(path)
        if name == "conv1":  # 3 digits x (input + 4 maps), one panel each (+0.5 in title) at 150 dpi
            p = S.CONV1_PANEL
            assert img.shape[:2] == (int((3 * p + 0.5) * 150), int(5 * p * 150)), name  # truncated
        elif name == "experiment":  # the text width, about 4.6 in high
            assert img.shape[:2] == (round(S.EXPERIMENT_SIZE[1] * 150), round(S.EXPERIMENT_SIZE[0] * 150)), name
        else:
            assert img.shape[:2] == (int(S.SEEDS_SIZE[1] * 150), int(S.SEEDS_SIZE[0] * 150)), name
        assert img[..., :3].std() > 0.05, f"{name} looks blank"
    assert sorted(p.name for p in paths["experiment"].parent.iterdir()) == sorted(p.name for p in paths.values()), \
        "temporary files left behind"


def test_style_sets_size_and_dpi(rendered, tmp_path):
    _, inputs, _, _ = rendered
    plots.plot_seeds([inputs["runs"]], seeds_groups("sweep", SPEC_ORDER), tmp_path / "s.png", "t",
                     style={"dpi": 50, "width": 4, "height": 3, "font_size": 8})
    assert matplotlib.image.imread(tmp_path / "s.png").shape[:2] == (150, 200)


def test_byte_identical_in_process_and_in_a_subprocess(rendered):
    base, inputs, paths, _ = rendered
    again, _ = render_all(inputs, base / "again")
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
        "import test_figures as T; ins = {k: Path(sys.argv[3]) / v for k, v in"
        " {'curves': 'curves.csv', 'npz': 'conv1_maps.npz', 'runs': 'sweep.csv'}.items()};"
        "T.render_all(ins, Path(sys.argv[4]))"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-c", code, str(REPO), str(REPO / "tests"), str(base / "in"), str(base / "sub")],
                   check=True, env=env, cwd=str(base))
    for name, path in paths.items():
        assert again[name].read_bytes() == path.read_bytes(), f"{name} differs on a second render"
        assert (base / "sub" / path.name).read_bytes() == path.read_bytes(), f"{name} differs in a subprocess"


@pytest.mark.parametrize("which", ["experiment", "seeds", "conv1"])
def test_unknown_style_key_raises_and_writes_nothing(rendered, tmp_path, which):
    _, inputs, _, _ = rendered
    bad = {"dpi": 100, "colour_map": "viridis"}
    with pytest.raises(ValueError, match="colour_map"):
        if which == "experiment":
            plots.plot_experiment(sweep_spec(), inputs["curves"], {"sweep": inputs["runs"]}, tmp_path / "a.png",
                                  style=bad)
        elif which == "seeds":
            plots.plot_seeds([inputs["runs"]], seeds_groups("sweep", SPEC_ORDER), tmp_path / "a.png", "t", style=bad)
        else:
            plots.plot_conv1(inputs["npz"], tmp_path / "a.png", style=bad)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("style", [{"dpi": -1}, {"width": "wide"}, {"palette": ["not a colour"]},
                                   {"palette": [["red", "#ff0000"]]}, {"palette": []}, {"palette": "#ff0000"},
                                   {"palette": ["#ff0000", "red"]}, {"font_size": True}])
def test_bad_style_values_raise(style):
    with pytest.raises(ValueError, match="style key"):
        S.resolve_style(style)


def test_a_bad_palette_colour_is_named():
    with pytest.raises(ValueError, match="'#12345'"):
        S.resolve_style({"palette": ["#0072B2", "#12345"]})
    with pytest.raises(ValueError, match="repeats"):
        S.variant_looks(["a", "b"], palette=["#0072b2", "#0072B2"])


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


# --------------------------------------------------------------------------- what a figure draws


@pytest.fixture
def drawn(monkeypatch):
    """What every figure saved in the test draws, by PNG name: per axes its title, scales,
    limits, tick labels, lines (label, x, y, line style, colour, marker), the lines by gid
    (x, y, colour, marker), error bars (x, mean, low end, high end), texts and arrows, and
    the legends' labels and titles."""
    shots = {}
    real = plots._save

    def save(fig, png, dpi):
        fig.draw_without_rendering()
        axes = []
        for a in fig.axes:
            bars = []
            for c in a.containers:
                if isinstance(c, matplotlib.container.ErrorbarContainer):
                    line, caps, _ = c.lines
                    ends = [float(cap.get_ydata()[0]) for cap in caps]
                    bars.append((float(line.get_xdata()[0]), float(line.get_ydata()[0]), min(ends), max(ends)))
            lines = a.get_lines()
            axes.append({
                "title": a.get_title("left") or a.get_title("right") or a.get_title(),
                "axison": a.axison, "xscale": a.get_xscale(), "yscale": a.get_yscale(),
                "xlim": a.get_xlim(), "ylim": a.get_ylim(), "ylabel": a.get_ylabel(), "xlabel": a.get_xlabel(),
                "xticklabels": [t.get_text() for t in a.get_xticklabels() if t.get_text()],
                "lines": [(ln.get_label(), np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float),
                           ln.get_linestyle(), ln.get_color(), ln.get_marker()) for ln in lines],
                "gids": {ln.get_gid(): (np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float),
                                        ln.get_color(), ln.get_marker()) for ln in lines if ln.get_gid()},
                "bars": sorted(bars),
                "texts": [t.get_text() for t in a.texts if not isinstance(t, matplotlib.text.Annotation)
                          or t.get_text()],
                "arrows": [t.xy for t in a.texts if isinstance(t, matplotlib.text.Annotation) and t.arrow_patch],
                "shares_y": [fig.axes.index(b) for b in a.get_shared_y_axes().get_siblings(a) if b is not a],
            })
        legends = list(fig.legends) + [a.get_legend() for a in fig.axes if a.get_legend()]
        shots[Path(png).name] = {"axes": axes, "legend": [t.get_text() for lg in legends for t in lg.get_texts()],
                                 "legend_titles": [lg.get_title().get_text() for lg in legends]}
        return real(fig, png, dpi)

    monkeypatch.setattr(plots, "_save", save)
    return shots


def panel(shot: dict, title: str) -> dict:
    """The axes of a saved figure whose title starts with ``title``."""
    (found,) = [a for a in shot["axes"] if a["title"].startswith(title)]
    return found


def write_experiment(folder: Path, experiment: str, finals: dict, seeds=(0, 1, 2), failed=(), diverged=(),
                     schedule=(), start=0.1, extra=None) -> dict:
    """``experiment``'s curves and run table: the run of variant v and seed s ends at ``finals[v] +
    0.004 * s``, rising from ``start`` at epoch 0; a (v, s) in ``failed`` ends at 0.11 (failed to
    learn), one in ``diverged`` stops at iteration 30 (no accuracy); variants in ``schedule``
    lower their learning rate during training, the others keep 0.01. The loss falls from
    0.8 to 0.3: less than two decades."""
    folder.mkdir(parents=True, exist_ok=True)
    rows, runs = [], []
    for v, final in finals.items():
        for s in seeds:
            end = 0.11 if (v, s) in failed else final + 0.004 * s
            stop = 30 if (v, s) in diverged else None
            for it in range(0, IPE * EPOCHS + 1, IPE // EVALS):
                if stop is not None and it >= stop:
                    break
                acc = start + (end - start) * (1 - np.exp(-it / 12)) / (1 - np.exp(-IPE * EPOCHS / 12))
                rows.append([experiment, v, s, "test", it, it / IPE, 1.0, acc, "", 1000])
            for it in range(1, IPE * EPOCHS + 1):
                if stop is not None and it >= stop:
                    break
                lr = 0.1 / (1 + it / 10) if v in schedule else 0.01
                rows.append([experiment, v, s, "train", it, it / IPE, 0.5 * np.exp(-it / 30) + 0.3 + 0.01 * (it % 3),
                             0.5, lr, 100])
            runs.append((experiment, v, s, "diverged" if stop else "completed", "" if stop else end))
    curves = write_curves(folder / f"curves_{experiment}.csv", rows)
    table = write_run_table(folder / f"{experiment}.csv", runs, extra)
    return {"curves": curves, "table": table, "tables": {experiment: table}}


FAST = {"dpi": 40}  # what a figure draws does not depend on its resolution
LR_AXIS = {"key": "optimizer.lr", "label": "learning rate"}
MOMENTUM_AXIS = {"key": "optimizer.momentum", "label": "momentum"}


def test_no_two_variants_of_a_figure_share_a_colour(tmp_path, drawn):
    for n in (2, 8, 9, 12, 16):  # the palette, then extra colours: every variant a colour of its own
        looks = S.variant_looks([f"v{i}" for i in range(n)])
        assert len({look.colour for look in looks.values()}) == n, n
    looks = S.variant_looks([f"v{i}" for i in range(30)])  # beyond: colour, line style and marker together
    assert len(set(looks.values())) == 30
    assert S.PALETTE[:3] == ["#0072B2", "#D55E00", "#009E73"] and S.PALETTE[-1] == "#F0E442"  # yellow last
    # momentum 0.8 and 0.9 shared cyan when a hash of the name chose the colour
    names = ["momentum-0.8", "momentum-0.85", "momentum-0.9"]
    assert len({look.colour for look in S.variant_looks(names).values()}) == 3
    # drawn: nine variants, nine colours in (a), (b) and (c)
    finals = {f"v{i}": 0.9 + 0.005 * i for i in range(9)}
    f = write_experiment(tmp_path, "nine", finals, seeds=(0, 1))
    got = plots.plot_experiment(sweep_spec("Nine", "nine", list(finals)), f["curves"], f["tables"], tmp_path / "n.png",
                                style=FAST)
    assert len(set(got["colours"].values())) == 9
    shot = drawn["n.png"]
    runs = panel(shot, "(a)")["gids"]
    assert {v: matplotlib.colors.to_hex(runs[f"runs:{v}"][2]).upper() for v in finals} == got["colours"]
    for title in ("(b)", "(c)"):
        lines = {lab: c for lab, _, _, _, c, _ in panel(shot, title)["lines"] if lab in finals}
        assert {v: matplotlib.colors.to_hex(c).upper() for v, c in lines.items()} == got["colours"], title


def test_a_variant_keeps_its_colour_in_every_figure(tmp_path):
    finals = {"momentum-0.8": 0.95, "momentum-0.85": 0.955, "momentum-0.9": 0.96}
    f = write_experiment(tmp_path, "momentum", finals)
    spec = sweep_spec("Momentum", "momentum", list(finals), [0.8, 0.85, 0.9], MOMENTUM_AXIS)
    one = plots.plot_experiment(spec, f["curves"], f["tables"], tmp_path / "one.png", style=FAST)
    two = plots.plot_experiment({**spec, "title": "Momentum again"}, f["curves"], f["tables"], tmp_path / "two.png",
                                style=FAST)
    seeds = plots.plot_seeds([f["table"]], seeds_groups("momentum", list(finals)), tmp_path / "s.png", "Momentum",
                             style=FAST)
    assert one["colours"] == two["colours"] == {v: seeds[v]["colour"] for v in finals}
    assert list(one["colours"].values()) == S.PALETTE[:3]  # by position in the variant list
    assert one["colour_names"] == {"momentum-0.8": "blue", "momentum-0.85": "vermillion",
                                   "momentum-0.9": "bluish green"}
    # the ablation's seeds figure: a reading keeps its colour in every block
    groups = [{"label": f"{v}\n{r}", "experiment": "momentum", "variant": v, "colour_key": r}
              for v, r in zip(finals, ["framework", "every_layer", "framework"])]
    abl = plots.plot_seeds([f["table"]], groups, tmp_path / "abl.png", "t", style=FAST)
    colours = [abl[g["label"]]["colour"] for g in groups]
    assert colours[0] == colours[2] == S.PALETTE[0] and colours[1] == S.PALETTE[1]


def test_the_style_palette_replaces_the_default(tmp_path):
    finals = {"a": 0.9, "b": 0.92, "c": 0.94}
    f = write_experiment(tmp_path, "sweep", finals)
    palette = ["#ff0000", "#00ff00", "#0000ff"]
    got = plots.plot_experiment(sweep_spec(variants=list(finals)), f["curves"], f["tables"], tmp_path / "p.png",
                                style={"palette": palette})
    assert got["colours"] == {"a": "#FF0000", "b": "#00FF00", "c": "#0000FF"}
    rgb = (matplotlib.image.imread(tmp_path / "p.png")[..., :3] * 255).round().astype(int)
    for hexcode in palette:  # the style's colours are really drawn
        want = np.array([int(hexcode[i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(rgb - want).max(axis=-1) <= 8).sum() > 50, hexcode
    # past a short palette: other colours, other line styles
    looks = S.variant_looks(["a", "b", "c", "d"], palette=palette[:2])
    assert len({look.colour for look in looks.values()}) == 4 and looks["c"].linestyle != "-"


@pytest.mark.parametrize("values, log", [([0.005, 0.01, 0.05], True), ([0.8, 0.85, 0.9], False),
                                         ([1, 5], False), ([0, 1, 10], False)])
def test_log_x_for_a_log_spaced_sweep_and_linear_otherwise(tmp_path, drawn, values, log):
    names = [f"v-{x:g}" for x in values]
    f = write_experiment(tmp_path, "sweep", {v: 0.9 + 0.01 * i for i, v in enumerate(names)})
    got = plots.plot_experiment(sweep_spec(variants=names, values=values, axis=LR_AXIS), f["curves"], f["tables"],
                                tmp_path / "x.png", style=FAST)
    a = panel(drawn["x.png"], "(a)")
    assert got["log_x"] is log and a["xscale"] == ("log" if log else "linear")
    assert a["xticklabels"] == names  # each variant at its value, labelled
    # every variant's points around its value, in order along the axis
    centres = [np.mean(a["gids"][f"runs:{v}"][0]) for v in names]
    assert centres == sorted(centres)
    t = np.log10 if log else (lambda v: np.asarray(v, float))
    for x, c in zip(values, centres):  # nearer its own value than any other
        assert np.argmin(np.abs(t(values) - t(c))) == values.index(x)


def test_a_variant_without_a_number_gets_its_own_slot(tmp_path, drawn):
    names = ["lr-0.01", "lr-0.1", "lr-dynamic"]
    f = write_experiment(tmp_path, "learning_rate", dict(zip(names, [0.95, 0.96, 0.97])), schedule={"lr-dynamic"})
    spec = sweep_spec("Learning rate", "learning_rate", names, [0.01, 0.1, None], LR_AXIS)
    for v, label in zip(spec["variants"], ["0.01", "0.1", "dynamic"]):
        v["label"] = label
    got = plots.plot_experiment(spec, f["curves"], f["tables"], tmp_path / "lr.png", style=FAST)
    shot = drawn["lr.png"]
    a = panel(shot, "(a)")
    (slot,) = [x for x in shot["axes"] if "runs:lr-dynamic" in x["gids"]]
    assert slot is not a and a["xticklabels"] == ["0.01", "0.1"] and slot["xticklabels"] == ["dynamic"]
    assert shot["axes"].index(a) in slot["shares_y"]  # one accuracy scale for both
    assert got["log_x"] and a["xscale"] == "log" and slot["xscale"] == "linear"
    assert "runs:lr-dynamic" not in a["gids"] and len(slot["gids"]["runs:lr-dynamic"][1]) == 3
    # without an axis: one plain slot per variant, the values ignored
    got = plots.plot_experiment({**spec, "axis": None}, f["curves"], f["tables"], tmp_path / "cat.png", style=FAST)
    a = panel(drawn["cat.png"], "(a)")
    assert not got["log_x"] and a["xticklabels"] == ["0.01", "0.1", "dynamic"]
    assert sum(1 for x in drawn["cat.png"]["axes"] if any(g.startswith("runs:") for g in x["gids"])) == 1


def test_every_run_is_a_point_and_failed_runs_sit_below_the_axis(tmp_path, drawn):
    names = ["std-0.01", "std-0.1", "std-1"]
    seeds = (0, 1, 2, 3, 4)
    failed = {("std-0.01", 0), ("std-0.01", 1), ("std-0.01", 2)}
    f = write_experiment(tmp_path, "init_std", dict(zip(names, [0.9, 0.95, 0.96])), seeds=seeds, failed=failed,
                         diverged={("std-0.01", 3)})
    spec = sweep_spec("Init", "init_std", names, [0.01, 0.1, 1], {"key": "model.init_std", "label": "init std"},
                      reference={"std-0.01": 0.098})
    got = plots.plot_experiment(spec, f["curves"], f["tables"], tmp_path / "f.png", style=FAST)
    want = [0.11, 0.11, 0.11, 0.1, 0.9 + 0.004 * 4]  # the diverged run at chance, 1/10
    assert got["points"]["std-0.01"] == pytest.approx(want)
    assert got["points"]["std-1"] == pytest.approx([0.96 + 0.004 * s for s in seeds])
    assert got["means"]["std-0.01"] == pytest.approx(np.mean(want))  # every run counts
    assert got["below"] == {"std-0.01": 4, "std-0.1": 0, "std-1": 0}
    a = panel(drawn["f.png"], "(a)")
    y0, y1 = a["ylim"]
    assert 0.11 < y0 < 0.9 + 0.016 and y1 <= 1.0  # fitted to the runs that learned, not squashed to 0.1
    assert y1 - y0 < 0.2
    for v in names:  # every run drawn: at its value, or as a triangle on the bottom edge
        inside = a["gids"].get(f"runs:{v}", (np.array([]),) * 2)[1]
        edge = a["gids"].get(f"below:{v}", (np.array([]),) * 2)[1]
        assert len(inside) + len(edge) == len(seeds), v
        assert np.all(edge == y0) and np.all(inside >= y0)
    assert a["gids"]["below:std-0.01"][3] == "v" and "4" in a["texts"]  # triangles, counted
    # the mean of all runs is below the axis: an arrow down to its edge; the 2018 value on the edge too
    assert [y for _, y in a["arrows"]] == [pytest.approx(y0)]
    assert a["gids"]["reference:std-0.01"][1][0] == pytest.approx(y0)
    (note,) = [t for t in drawn["f.png"]["legend_titles"] if "std-0.01" in t]
    flat = " ".join(note.split())
    assert "4 of 5 runs below: 3 failed to learn, 1 diverged (at chance)" in flat
    assert f"mean {np.mean(want):.2f}" in flat and "2018 report: 0.098" in flat
    assert "(a) runs below the axis" in drawn["f.png"]["legend"]


def test_a_diverged_run_is_drawn_at_chance_of_its_classes(tmp_path):
    f = write_experiment(tmp_path, "two", {"a": 0.9}, seeds=(0, 1), diverged={("a", 1)}, extra={"classes": 2})
    got = plots.plot_experiment(sweep_spec("t", "two", ["a"]), f["curves"], f["tables"], tmp_path / "t.png", style=FAST)
    assert got["points"]["a"] == pytest.approx([0.9, 0.5])
    bad = write_run_table(tmp_path / "bad.csv", [("two", "a", 0, "completed", 0.9)], {"classes": "many"})
    with pytest.raises(ValueError, match="classes"):
        plots.plot_experiment(sweep_spec("t", "two", ["a"]), f["curves"], {"two": bad}, tmp_path / "b.png", style=FAST)


def test_the_2018_value_and_other_experiments_runs_are_drawn(tmp_path, drawn):
    names = ["lr-0.005", "lr-0.05"]
    f = write_experiment(tmp_path, "learning_rate", dict(zip(names, [0.95, 0.97])))
    other = write_experiment(tmp_path, "cnn_vs_mlp", {"cnn": 0.96, "mlp": 0.95})
    spec = sweep_spec("Learning rate", "learning_rate", names, [0.005, 0.05], LR_AXIS,
                      free_points=[{"value": 0.015, "experiment": "cnn_vs_mlp", "variant": "cnn"}],
                      reference={"lr-0.005": 0.956, "lr-0.05": 0.978})
    tables = {**f["tables"], **other["tables"]}
    got = plots.plot_experiment(spec, f["curves"], tables, tmp_path / "r.png", style=FAST)
    a = panel(drawn["r.png"], "(a)")
    for v, ref in spec["reference"].items():  # a hollow black diamond at the 2018 value, beside the runs
        x, y, colour, marker = a["gids"][f"reference:{v}"]
        assert y[0] == pytest.approx(ref) and marker == "D" and matplotlib.colors.to_hex(colour) == "#000000"
        assert x[0] == pytest.approx(float(v.split("-")[1]), rel=0.6)
    x, y, colour, _ = a["gids"]["runs:cnn_vs_mlp/cnn"]  # grey, at lr 0.015
    assert matplotlib.colors.to_hex(colour).upper() == S.OTHER_COLOUR and len(y) == 3
    assert np.all((x > 0.01) & (x < 0.02)) and y == pytest.approx([0.96, 0.964, 0.968])
    assert "cnn_vs_mlp/cnn" not in got["points"] and list(got["colours"]) == names
    assert got["below"] == {v: 0 for v in names} and a["arrows"] == [] and "gids" in a  # every run learned
    assert not any(g.startswith("below:") for g in a["gids"])
    legend = drawn["r.png"]["legend"]
    assert "2018 report" in legend and "other experiment:\ncnn_vs_mlp/cnn at 0.015" in legend
    with pytest.raises(ValueError, match="cnn_vs_mlp"):
        plots.plot_experiment(spec, f["curves"], f["tables"], tmp_path / "x.png", style=FAST)
    with pytest.raises(ValueError, match="reference"):
        plots.plot_experiment({**spec, "reference": {"lr-9": 0.9}}, f["curves"], tables, tmp_path / "x.png", style=FAST)


def test_accuracy_over_epochs_shows_the_first_evaluation_and_zooms_the_last_epoch(tmp_path, drawn):
    finals = {"a": 0.95, "b": 0.97}
    f = write_experiment(tmp_path, "sweep", finals, start=0.06, failed={("b", 0)})
    plots.plot_experiment(sweep_spec(variants=list(finals)), f["curves"], f["tables"], tmp_path / "e.png", style=FAST)
    b = panel(drawn["e.png"], "(b)")
    assert b["xlim"][0] == 0 and b["ylim"][0] <= 0.06 and b["ylim"][1] >= 0.97  # from epoch 0, below chance
    assert any(t.startswith("chance") for t in b["texts"])
    zoom = panel(drawn["e.png"], "last epoch")
    assert zoom["xlim"] == (EPOCHS - 1, EPOCHS)
    assert 0.5 < zoom["ylim"][0] < 0.95 and 0.97 + 0.004 * 2 < zoom["ylim"][1] < 1  # the runs that learned
    # the zoom draws the same means as the main panel
    main = {lab: y for lab, _, y, *_ in b["lines"] if lab in finals}
    assert all(any(np.allclose(y, main[v]) for _, _, y, *_ in zoom["lines"]) for v in finals)


def test_training_loss_is_always_on_a_log_axis(tmp_path, drawn):
    f = write_experiment(tmp_path, "sweep", {"a": 0.9, "b": 0.95})  # the loss spans less than half a decade
    plots.plot_experiment(sweep_spec(variants=["a", "b"]), f["curves"], f["tables"], tmp_path / "l.png", style=FAST)
    c = panel(drawn["l.png"], "(c)")
    assert c["yscale"] == "log" and c["ylabel"] == "training loss"
    w = CV.smoothing_window(IPE)
    (ys,) = [y for lab, _, y, *_ in c["lines"] if lab == "a" and np.isfinite(y).all()]
    raw = [0.5 * np.exp(-it / 30) + 0.3 + 0.01 * (it % 3) for it in range(1, IPE * EPOCHS + 1)]
    assert ys == pytest.approx(CV.moving_average(raw, w))  # each run smoothed, then the mean of the seeds


def test_the_learning_rate_panel_only_with_a_schedule(tmp_path, drawn):
    names = ["lr-0.01", "lr-dynamic"]
    const = write_experiment(tmp_path / "c", "lr", dict(zip(names, [0.95, 0.96])))
    sched = write_experiment(tmp_path / "s", "lr", dict(zip(names, [0.95, 0.96])), schedule={"lr-dynamic"})
    spec = sweep_spec("LR", "lr", names)
    assert not plots.plot_experiment(spec, const["curves"], const["tables"], tmp_path / "c.png", style=FAST)["lr_panel"]
    assert plots.plot_experiment(spec, sched["curves"], sched["tables"], tmp_path / "s.png", style=FAST)["lr_panel"]
    plots.plot_experiment(spec, sched["curves"], sched["tables"], tmp_path / "again.png", style=FAST)
    assert (tmp_path / "s.png").read_bytes() == (tmp_path / "again.png").read_bytes()  # deterministic
    assert not any(a["title"].startswith("(d)") for a in drawn["c.png"]["axes"])
    (cell,) = [a for a in drawn["c.png"]["axes"] if not a["axison"]]  # (d): legend and notes
    assert cell["lines"] == []
    d = panel(drawn["s.png"], "(d) learning rate")
    assert d["yscale"] == "log" and d["axison"]
    rates = {lab: y for lab, _, y, *_ in d["lines"] if lab in names}
    assert set(rates) == set(names) and np.allclose(rates["lr-0.01"], 0.01)
    assert rates["lr-dynamic"].max() == pytest.approx(0.1 / 1.1) and rates["lr-dynamic"][-1] < 0.02


def test_spec_mistakes_are_refused(tmp_path):
    f = write_experiment(tmp_path, "sweep", {"a": 0.9})
    for bad, match in [({"variants": []}, "variants"), ({"colour": 1}, "unknown"),
                       ({"variants": [{"name": "a", "value": "big"}]}, "value"),
                       ({"variants": [{"name": "a"}, {"name": "a"}]}, "repeat"),
                       ({"free_points": [{"value": 1, "experiment": "x", "variant": "y"}]}, "axis")]:
        with pytest.raises(ValueError, match=match):
            plots.plot_experiment({**sweep_spec(variants=["a"]), **bad}, f["curves"], f["tables"], tmp_path / "x.png",
                                  style=FAST)
    with pytest.raises(ValueError, match="no runs of sweep/b"):
        plots.plot_experiment(sweep_spec(variants=["a", "b"]), f["curves"], f["tables"], tmp_path / "x.png", style=FAST)
    assert not (tmp_path / "x.png").exists()


def test_titles_and_labels_print_literally_even_with_dollar_signs(tmp_path, drawn):
    f = write_experiment(tmp_path, "sweep", {"$a": 0.9, "b_": 0.92})
    title = r"$x^{2$ cost, $\alpha_$"  # broken mathtext: matplotlib would fail to parse it
    spec = sweep_spec(title, "sweep", ["$a", "b_"], [1.0, 2.0], {"key": "k", "label": "cost in $"})
    plots.plot_experiment(spec, f["curves"], f["tables"], tmp_path / "d.png", style=FAST)
    assert (tmp_path / "d.png").stat().st_size > 0
    assert title in drawn["d.png"]["legend_titles"] and "$a" in drawn["d.png"]["legend"]
    assert panel(drawn["d.png"], "(a)")["xlabel"] == "cost in $"


def test_chinese_titles_are_drawn_in_the_cjk_font(rendered, tmp_path, recwarn):
    """The PDF's CJK font as TrueType (./setup.sh installs fonts-arphic-gbsn00lp) draws the
    characters matplotlib's default font lacks; a title without them keeps the default font."""
    from report.style import cjk_families

    assert cjk_families() is not None, "no CJK font for the figures: run ./setup.sh (fonts-arphic-gbsn00lp)"
    _, inputs, paths, _ = rendered
    plots.plot_experiment({**RENDERED_SPEC, "title": "动量 Sweep"}, inputs["curves"], {"sweep": inputs["runs"]},
                          tmp_path / "a.png")
    plots.plot_seeds([inputs["runs"]], seeds_groups("sweep", SPEC_ORDER), tmp_path / "s.png", "学习率")
    assert [str(w.message) for w in recwarn if "missing from font" in str(w.message)] == []
    plots.plot_experiment(RENDERED_SPEC, inputs["curves"], {"sweep": inputs["runs"]}, tmp_path / "latin.png")
    assert (tmp_path / "latin.png").read_bytes() == paths["experiment"].read_bytes()


def _printed(png: Path, kind: str) -> tuple[float, str]:
    """The smallest text of a saved figure in points where the report prints it (as tests/layout.py
    measures it), and how many texts are cut off at its edge."""
    from PIL import Image

    with Image.open(png) as im:
        inches = im.size[0] / im.info.get("dpi", (72, 72))[0]
        smallest, clipped = float(im.text[S.MIN_FONT_KEY]), im.text[S.CLIPPED_KEY]
    return smallest * PRINTED_WIDTH[kind] * S.TEXT_WIDTH / inches, clipped


def test_text_is_at_least_7_points_where_the_report_prints_each_figure(rendered, tmp_path):
    """At the default sizes and fonts, and measured in saved figures: the plain one, one with runs
    below the axis, free points and a 2018 value, one with a schedule, one with nine variants."""
    seeds_kind = "ablation" if "ablation" in PRINTED_WIDTH else "sweep_seeds"
    sizes = {"experiment": (S.EXPERIMENT_SIZE[0], S.EXPERIMENT_FONT), seeds_kind: (S.SEEDS_SIZE[0], S.DEFAULT_FONT),
             "conv1": (5 * S.CONV1_PANEL, S.DEFAULT_FONT)}  # the reference CNN: input + 4 feature maps
    for kind, (width, font) in sizes.items():
        assert S.printed_font(kind, width, font) >= S.MIN_PRINTED_FONT, kind
    assert PRINTED_WIDTH["experiment"] == 1.0
    _, _, paths, _ = rendered
    figures = [(paths["experiment"], "experiment"), (paths["seeds"], seeds_kind), (paths["conv1"], "conv1")]
    names = ["std-0.01", "std-0.1", "std-1", "std-dynamic"]
    f = write_experiment(tmp_path, "init_std", dict(zip(names, [0.9, 0.95, 0.96, 0.97])), seeds=(0, 1, 2, 3),
                         failed={("std-0.01", 0), ("std-0.1", 1)}, diverged={("std-1", 2)})
    other = write_experiment(tmp_path, "momentum", {"momentum-0.9": 0.96})
    spec = sweep_spec("Initial weight scale", "init_std", names, [0.01, 0.1, 1, None],
                      {"key": "model.init_std", "label": "initial weight std"},
                      free_points=[{"value": 0.2, "experiment": "momentum", "variant": "momentum-0.9"}],
                      reference={"std-0.01": 0.098, "std-0.1": 0.966, "std-1": 0.961})
    plots.plot_experiment(spec, f["curves"], {**f["tables"], **other["tables"]}, tmp_path / "failed.png")
    s = write_experiment(tmp_path / "s", "lr", {"lr-0.01": 0.95, "lr-dynamic": 0.96}, schedule={"lr-dynamic"})
    plots.plot_experiment(sweep_spec("LR", "lr", ["lr-0.01", "lr-dynamic"]), s["curves"], s["tables"],
                          tmp_path / "schedule.png")
    nine = {f"weight_decay-{i}": 0.9 + 0.005 * i for i in range(9)}
    n = write_experiment(tmp_path / "n", "nine", nine, seeds=(0, 1))
    plots.plot_experiment(sweep_spec("Nine", "nine", list(nine), [10.0 ** -i for i in range(9)], LR_AXIS),
                          n["curves"], n["tables"], tmp_path / "nine.png")
    figures += [(tmp_path / f"{name}.png", "experiment") for name in ("failed", "schedule", "nine")]
    for png, kind in figures:
        printed, clipped = _printed(png, kind)
        assert printed >= S.MIN_PRINTED_FONT - 1e-6, (png.name, printed)
        assert clipped == "0", f"{png.name}: {clipped} text(s) cut off"


# --------------------------------------------------------------------------- the seeds figure


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
