"""nnreport.figures: valid, deterministic PNGs from small synthetic workflow outputs."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import matplotlib  # noqa: E402 - a declared dependency (pip install -e .[dev])
import matplotlib.image  # noqa: E402

from nnreport import figures as F  # noqa: E402

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


def write_inputs(folder: Path) -> dict:
    """curves + summary CSV for 3 variants x 2 seeds (one diverged run), and a conv1 NPZ."""
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
    rng = np.random.default_rng(0)
    conv = rng.normal(size=(3, 4, 28, 28)).astype(np.float32)
    npz = folder / "conv1_maps.npz"
    np.savez(npz, images=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), labels=np.array([7, 2, 1]),
             indices=np.arange(3), conv1=conv, relu1=np.maximum(conv, 0), weight=np.zeros((4, 1, 3, 3), np.float32),
             bias=np.zeros(4, np.float32))
    return {"curves": curves, "summary": summary, "npz": npz}


def render_all(inputs: dict, out: Path, style=None) -> dict:
    """Every figure into ``out``; returns {name: path} and the sweep's colour names."""
    out.mkdir(parents=True, exist_ok=True)
    colours = F.plot_sweep(inputs["summary"], inputs["curves"], out / "acc.png", out / "loss.png", "Sweep", style=style)
    F.plot_baseline(inputs["curves"], out / "baseline.png", style=style, variant="b")
    F.plot_lr_trace(inputs["curves"], "b", out / "lr.png", style=style)
    F.plot_conv1(inputs["npz"], out / "conv1.png", style=style)
    names = ["acc", "loss", "baseline", "lr", "conv1"]
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
        if name == "conv1":  # 3 digits x (input + 4 maps), 1.25 in per panel (+0.5 in title) at 150 dpi
            assert img.shape[:2] == (int((3 * 1.25 + 0.5) * 150), int(5 * 1.25 * 150)), name  # truncated
        else:
            assert img.shape[:2] == (600, 960), name  # 6.4 x 4 in at 150 dpi
        assert img[..., :3].std() > 0.05, f"{name} looks blank"
    assert sorted(p.name for p in paths["acc"].parent.iterdir()) == sorted(p.name for p in paths.values()), \
        "temporary files left behind"


def test_style_sets_size_and_dpi(rendered, tmp_path):
    _, inputs, _, _ = rendered
    F.plot_baseline(inputs["curves"], tmp_path / "b.png", style={"dpi": 50, "width": 4, "height": 3, "font_size": 8},
                    variant="a")
    assert matplotlib.image.imread(tmp_path / "b.png").shape[:2] == (150, 200)


def test_byte_identical_in_process_and_in_a_subprocess(rendered):
    base, inputs, paths, _ = rendered
    again, _ = render_all(inputs, base / "again")
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
        "import test_figures as T; ins = {k: Path(sys.argv[3]) / v for k, v in"
        " {'curves': 'curves.csv', 'summary': 'summary.csv', 'npz': 'conv1_maps.npz'}.items()};"
        "T.render_all(ins, Path(sys.argv[4]))"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-c", code, str(REPO), str(REPO / "tests"), str(base / "in"), str(base / "sub")],
                   check=True, env=env, cwd=str(base))
    for name, path in paths.items():
        assert again[name].read_bytes() == path.read_bytes(), f"{name} differs on a second render"
        assert (base / "sub" / path.name).read_bytes() == path.read_bytes(), f"{name} differs in a subprocess"


def test_colours_follow_summary_order(rendered, tmp_path):
    _, inputs, _, colours = rendered
    assert list(colours) == SUMMARY_ORDER
    assert colours == {"c": "blue", "a": "orange", "b": "green"}
    assert F.colour_of(SUMMARY_ORDER) == {"c": F.PALETTE[0], "a": F.PALETTE[1], "b": F.PALETTE[2]}
    palette = [["pure red", "#ff0000"], ["pure green", "#00ff00"], ["pure blue", "#0000ff"]]
    got = F.plot_sweep(inputs["summary"], inputs["curves"], tmp_path / "a.png", tmp_path / "l.png", "t",
                       style={"palette": palette})
    assert got == {"c": "pure red", "a": "pure green", "b": "pure blue"}
    rgb = (matplotlib.image.imread(tmp_path / "a.png")[..., :3] * 255).round().astype(int)
    for _, hexcode in palette:  # the style's colours are really drawn
        want = np.array([int(hexcode[i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(rgb - want).max(axis=-1) <= 8).sum() > 50, hexcode


def test_colour_of_needs_enough_colours():
    with pytest.raises(ValueError, match="palette"):
        F.colour_of([f"v{i}" for i in range(11)])


@pytest.mark.parametrize("which", ["sweep", "baseline", "lr", "conv1"])
def test_unknown_style_key_raises_and_writes_nothing(rendered, tmp_path, which):
    _, inputs, _, _ = rendered
    bad = {"dpi": 100, "colour_map": "viridis"}
    with pytest.raises(ValueError, match="colour_map"):
        if which == "sweep":
            F.plot_sweep(inputs["summary"], inputs["curves"], tmp_path / "a.png", tmp_path / "l.png", "t", style=bad)
        elif which == "baseline":
            F.plot_baseline(inputs["curves"], tmp_path / "a.png", style=bad, variant="a")
        elif which == "lr":
            F.plot_lr_trace(inputs["curves"], "a", tmp_path / "a.png", style=bad)
        else:
            F.plot_conv1(inputs["npz"], tmp_path / "a.png", style=bad)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("style", [{"dpi": -1}, {"width": "wide"}, {"palette": [["red", "not a colour"]]},
                                   {"palette": []}, {"font_size": True}])
def test_bad_style_values_raise(style):
    with pytest.raises(ValueError, match="style key"):
        F.resolve_style(style)


def test_mean_curve_uses_the_seeds_present_at_each_point(rendered):
    _, inputs, _, _ = rendered
    curves = F.read_curves(inputs["curves"])
    m = (curves["variant"] == "b") & (curves["series"] == "test")
    c = F.mean_curve(curves["epoch"][m], curves["accuracy"][m], curves["seed"][m])
    i = int(np.flatnonzero(c.x == 0.5)[0])  # both seeds: iteration 20
    assert c.count[i] == 2
    assert c.mean[i] == pytest.approx((acc_value("b", 0, 20) + acc_value("b", 1, 20)) / 2)
    assert c.low[i] == pytest.approx(acc_value("b", 0, 20)) and c.high[i] == pytest.approx(acc_value("b", 1, 20))
    j = int(np.flatnonzero(c.x == 1.5)[0])  # iteration 60: seed 1 diverged at 50, only seed 0 counts
    assert c.count[j] == 1 and c.mean[j] == pytest.approx(acc_value("b", 0, 60))
    # training loss: the empty cell at the divergence point is missing, not zero
    t = (curves["variant"] == "b") & (curves["series"] == "train")
    lc = F.mean_curve(curves["iteration"][t], curves["loss"][t], curves["seed"][t])
    k = int(np.flatnonzero(lc.x == 50)[0])
    assert lc.count[k] == 1 and lc.mean[k] == pytest.approx(train_loss("b", 0, 50))
    assert lc.x.max() == IPE * EPOCHS and np.all(np.isfinite(lc.mean))


def test_mean_curve_ignores_non_finite_and_drops_empty_points():
    c = F.mean_curve([0, 0, 1, 1, 2], [1.0, 3.0, np.nan, 5.0, np.inf], ["s0", "s1", "s0", "s1", "s0"])
    assert c.x.tolist() == [0, 1] and c.mean.tolist() == [2.0, 5.0] and c.count.tolist() == [2, 1]
    assert c.low.tolist() == [1.0, 5.0] and c.high.tolist() == [3.0, 5.0]


def test_moving_average_and_window():
    y = np.arange(10, dtype=float)
    assert np.allclose(F.moving_average(y, 3)[1:-1], y[1:-1])  # centred: a line stays a line
    assert F.moving_average(y, 3)[0] == 0.5  # the window shrinks at the edges
    y[4] = np.nan
    out = F.moving_average(y, 3)
    assert np.isnan(out[4]) and out[3] == pytest.approx((2 + 3) / 2)  # missing values are skipped
    assert F.moving_average([1e12, 1.0, 1.0, 1.0, 1.0], 3)[-1] == 1.0  # no cumulative-sum cancellation
    assert F.smoothing_window(600) == 31 and F.smoothing_window(10) == 1 and F.smoothing_window(float("nan")) == 1


def test_quoted_csv_reads_like_the_fast_path(rendered, tmp_path):
    _, inputs, _, _ = rendered
    quoted = tmp_path / "quoted.csv"
    with open(inputs["curves"], newline="") as src, open(quoted, "w", newline="") as dst:
        csv.writer(dst, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(csv.reader(src))
    fast, slow = F.read_curves(inputs["curves"]), F.read_curves(quoted)
    for name in COLUMNS:
        assert np.array_equal(fast[name], slow[name], equal_nan=fast[name].dtype.kind == "f"), name
    assert np.isnan(fast["lr"][fast["series"] == "test"]).all()
    with pytest.raises(ValueError, match="missing columns"):
        (tmp_path / "bad.csv").write_text("variant,seed\na,0\n")
        F.read_curves(tmp_path / "bad.csv")


def test_baseline_needs_a_variant_when_the_file_has_several(rendered, tmp_path):
    _, inputs, _, _ = rendered
    with pytest.raises(ValueError, match="variant"):
        F.plot_baseline(inputs["curves"], tmp_path / "b.png")
    with pytest.raises(ValueError, match="nope"):
        F.plot_lr_trace(inputs["curves"], "nope", tmp_path / "b.png")
