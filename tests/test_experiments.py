"""workflow.experiments (the config expanded into a plan), cnnlib.results (the contract),
workflow.configcheck and workflow.codehash, without running Snakemake."""

import copy

import pytest
import yaml

from conftest import REPO
from workflow.codehash import code_hash
from workflow.configcheck import ConfigSizeError, check_config_size
from cnnlib.config import resolve, training_identity
from workflow.experiments import (ConfigError, continued_runs, describe, dynamic_runs, model_runs, plan, run_priorities,
                                  run_settings, shared_runs, training_order, value_name)
from cnnlib.results import RUN_FILES, SUMMARY_COLUMNS, Layout, column, figures


@pytest.fixture
def cfg():
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def test_default_config_expands_to_the_documented_variants(cfg):
    p = plan(cfg)
    names = {e: list(x.variants) for e, x in p.experiments.items()}
    assert names == {
        "baseline": ["baseline"],
        "learning_rate": ["lr-0.005", "lr-0.01", "lr-0.05", "lr-0.1", "lr-dynamic"],
        "weight_decay": ["wd-5e-05", "wd-0.0005", "wd-0.05"],
        "momentum": ["momentum-0.8", "momentum-0.85", "momentum-0.9"],
        "init_std": ["std-0.01", "std-0.1", "std-1"],
        "cnn_vs_mlp": ["cnn", "mlp"],
        "protocol": ["baseline-every_layer", "baseline-uncentred", "std-0.01-every_layer", "std-0.01-uncentred",
                     "std-0.1-every_layer", "std-0.1-uncentred", "std-1-every_layer", "std-1-uncentred"],
    }
    assert p.ablation == "protocol" and list(p.readings) == ["framework", "every_layer", "uncentred"]
    assert len(p.runs()) == 25 * 5 and p.runs("momentum")[0] == ("momentum", "momentum-0.8", 0)
    assert p.baseline.key == ("baseline", "baseline")
    assert [v.key for v in p.dynamic] == [("learning_rate", "lr-dynamic")]
    assert p.architectures == "cnn_vs_mlp"
    assert p.visual[0].key == ("baseline", "baseline") and p.visual[1] == 0


def test_each_variant_resolves_to_its_settings(cfg):
    p = plan(cfg)
    v = p.variant("learning_rate", "lr-0.05").resolved
    assert v["optimizer"] == {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.0005} and v["epochs"] == 5
    assert p.variant("init_std", "std-1").resolved["model"]["init_std"] == 1
    assert p.variant("weight_decay", "wd-5e-05").resolved["optimizer"]["weight_decay"] == 5e-05
    assert p.variant("cnn_vs_mlp", "mlp").resolved["model"]["name"] == "mlp"
    assert p.variant("learning_rate", "lr-dynamic").resolved["schedule"]["name"] == "dynamic"
    assert p.variant("baseline", "baseline").resolved["epochs"] == 2
    run = run_settings(p.variant("momentum", "momentum-0.85"), 3, 1, "data/here")
    assert run["seed"] == 3 and run["data"]["dir"] == "data/here" and run["optimizer"]["momentum"] == 0.85


def test_sweep_values_keep_their_type_and_one_name_per_value(cfg):
    cfg["protocol_ablation"] = cfg["architectures"] = None  # pieces of experiments this config no longer has
    cfg["experiments"] = {
        "baseline": {"variants": {"baseline": {}}},
        "bs": {"sweep": {"key": "batch_size", "prefix": "bs", "values": [50, 200]}},
        "lr": {"sweep": {"key": "optimizer.lr", "prefix": "lr", "values": ["5e-2", 0.01, 1]}},
        "names": {"sweep": {"key": "model.name", "prefix": "m", "values": ["mlp"]}},
        "width": {"settings": {"model": {"name": "mlp"}},
                  "sweep": {"key": "model.hidden", "prefix": "h", "values": [[64, 32]]}},
    }
    p = plan(cfg)
    bs = p.variant("bs", "bs-50").resolved["batch_size"]
    assert bs == 50 and isinstance(bs, int)
    assert p.variant("lr", "lr-0.05").resolved["optimizer"]["lr"] == 0.05
    assert isinstance(p.variant("lr", "lr-1").resolved["optimizer"]["lr"], int)
    assert p.variant("names", "m-mlp").resolved["model"]["name"] == "mlp"
    assert p.variant("width", "h-64x32").resolved["model"]["hidden"] == [64, 32]
    assert value_name(0.05) == value_name(5e-2) == "0.05" and value_name(1.0) == value_name(1) == "1"
    cfg["experiments"]["lr"]["sweep"]["values"] = [0.05, "5e-2"]
    with pytest.raises(ConfigError, match="repeats variant lr-0.05"):
        plan(cfg)


@pytest.mark.parametrize("change, message", [
    ({"experiments": {"a": {"sweep": {"key": "model.name", "prefix": "m", "values": ["../up"]}}}}, "variant name"),
    ({"experiments": {"a": {"sweep": {"key": "model.name", "prefix": "m", "values": ["x" * 70]}}}}, "at most 64"),
    ({"baseline": {"experiment": "baseline", "variant": "two"}}, "baseline: baseline/two is not a variant"),
    ({"architectures": "baseline"}, "architectures: 'baseline' is not an experiment with two or more variants"),
    ({"experiments": {"momentum": {"reference": "momentum-0.7"}}}, "experiments.momentum.reference"),
    ({"experiments": {"a": {"variants": {"v": {"optimizer": {"lr": -1}}}}}}, "experiments.a.variants.v"),
    ({"visual": {"experiment": "cnn_vs_mlp", "variant": "mlp", "seed": 0, "digits": 4}}, "does not start with a conv"),
    ({"visual": {"experiment": "baseline", "variant": "baseline", "seed": 9, "digits": 4}}, "visual.seed"),
])
def test_bad_plans_are_named(cfg, change, message):
    bad = copy.deepcopy(cfg)
    for key, value in change.items():
        if key == "experiments":
            for name, spec in value.items():
                bad["experiments"][name] = {**bad["experiments"].get(name, {}), **spec}
        else:
            bad[key] = value
    with pytest.raises(ConfigError, match=message):
        plan(bad)


def test_describe_lists_what_the_report_needs(cfg):
    p = plan(cfg)
    d = describe(p)
    assert [e["key"] for e in d["experiments"]] == list(p.experiments)
    assert d["baseline"] == ["baseline", "baseline"] and d["dynamic"] == [["learning_rate", "lr-dynamic"]]
    assert model_runs(p) == [("baseline", "baseline", 0), ("cnn_vs_mlp", "mlp", 0)]
    assert dynamic_runs(p) == [("learning_rate", "lr-dynamic", 0)]


def test_the_ablation_figure_groups_each_run_beside_its_re_runs(cfg):
    from report.plots import ablation_groups

    d = describe(plan(cfg))
    subject = {"experiment": next(e for e in d["experiments"] if e["key"] == "protocol"), "readings": d["readings"]}
    groups = ablation_groups(subject)
    assert [(g["experiment"], g["variant"], g["colour_key"]) for g in groups[:3]] == [
        ("baseline", "baseline", "framework"), ("protocol", "baseline-every_layer", "every_layer"),
        ("protocol", "baseline-uncentred", "uncentred")]
    assert groups[3]["label"] == "std-0.01\nframework" and len(groups) == 4 * 3


def test_training_identity_equates_only_runs_that_train_the_same_numbers():
    base = resolve({"model": {"init_std": 0.1, "linear_init_std": 0.1}, "data": {"dir": "a"}})
    same = [{"model": {"init_std": 0.1, "linear_init_std": None}, "data": {"dir": "elsewhere"}},
            {"model": {"init_std": 0.1, "linear_init_std": 0.1, "hidden": [64]}}]  # the CNN reads no hidden
    differ = [{"model": {"init_std": 0.1, "linear_init_std": 0.2}}, {"model": {"init_std": 0.2}},
              {"model": {"init_std": 0.1, "linear_init_std": 0.1}, "seed": 1},
              {"model": {"init_std": 0.1, "linear_init_std": 0.1}, "eval": {"batch_size": 500}},
              {"model": {"name": "mlp", "init_std": 0.1}}]
    for c in same:
        assert training_identity(resolve(c)) == training_identity(base), c
    for c in differ:
        assert training_identity(resolve(c)) != training_identity(base), c
    mlp = resolve({"model": {"name": "mlp", "hidden": [256]}})
    assert training_identity(mlp) != training_identity(resolve({"model": {"name": "mlp", "hidden": [64]}}))
    assert training_identity(mlp) == training_identity(resolve({"model": {"name": "mlp", "hidden": [256],
                                                                          "linear_init_std": 0.3}}))


def test_runs_with_the_same_settings_are_shared(cfg):
    p = plan(cfg)
    shared = shared_runs(p, 1, "resources/mnist")
    assert shared == {**{("weight_decay", "wd-0.0005", s): ("momentum", "momentum-0.9", s) for s in p.seeds},
                      **{("protocol", "std-0.1-every_layer", s): ("init_std", "std-0.1", s) for s in p.seeds}}
    # the config's order does not decide which run trains (an override may reorder the keys)
    cfg["experiments"] = dict(reversed(list(cfg["experiments"].items())))
    assert shared_runs(plan(cfg), 1, "resources/mnist") == shared
    cfg["experiments"]["momentum"]["settings"]["epochs"] = 4  # no longer the same runs
    assert not any(k[0] == "weight_decay" for k in shared_runs(plan(cfg), 1, "resources/mnist"))


def test_longer_runs_with_the_same_settings_continue_the_shorter_ones(cfg):
    p = plan(cfg)
    shared = shared_runs(p, 1, "resources/mnist")
    continued = continued_runs(p, 1, "resources/mnist", shared)
    # baseline (2 epochs) -> momentum-0.9 (3; weight_decay's wd-0.0005 copies it) -> cnn (5)
    assert continued == {**{("cnn_vs_mlp", "cnn", s): ("momentum", "momentum-0.9", s) for s in p.seeds},
                         **{("momentum", "momentum-0.9", s): ("baseline", "baseline", s) for s in p.seeds}}
    prio = run_priorities(p, shared, continued)
    assert prio[("baseline", "baseline", 2)] == prio[("momentum", "momentum-0.9", 2)] == prio[("cnn_vs_mlp", "cnn", 2)] == 6
    cfg["experiments"]["momentum"]["settings"]["epochs"] = 6  # now the longest: cnn continues the baseline
    p = plan(cfg)
    continued = continued_runs(p, 1, "resources/mnist", shared_runs(p, 1, "resources/mnist"))
    # 2 -> 3 (wd-0.0005, no longer a copy of momentum-0.9) -> 5 -> 6 epochs
    assert [continued.get(k) for k in [("weight_decay", "wd-0.0005", 0), ("cnn_vs_mlp", "cnn", 0),
                                       ("momentum", "momentum-0.9", 0)]] == [
        ("baseline", "baseline", 0), ("weight_decay", "wd-0.0005", 0), ("cnn_vs_mlp", "cnn", 0)]
    cfg["experiments"]["baseline"]["variants"]["baseline"] = {"optimizer": {"lr": 0.02}}  # other settings: no link
    p = plan(cfg)
    continued = continued_runs(p, 1, "resources/mnist", shared_runs(p, 1, "resources/mnist"))
    assert ("baseline", "baseline", 0) not in continued.values() and ("weight_decay", "wd-0.0005", 0) not in continued


def test_experiments_train_longest_runs_first_and_copied_runs_keep_their_copies_priority(cfg):
    p = plan(cfg)
    assert training_order(p) == ["learning_rate", "cnn_vs_mlp", "weight_decay", "momentum", "init_std", "protocol",
                                 "baseline"]  # 5, 5, 3, 3, 3, 3 (its longest runs), 2 epochs; ties in config order
    prio = run_priorities(p, shared_runs(p, 1, "resources/mnist"))
    assert set(prio) == set(p.runs())
    assert prio[("learning_rate", "lr-0.1", 3)] == 7 and prio[("baseline", "baseline", 0)] == 1
    assert prio[("momentum", "momentum-0.8", 0)] == 4
    # momentum-0.9 is what weight_decay's wd-0.0005 copies: it trains at weight_decay's priority
    assert prio[("momentum", "momentum-0.9", 0)] == prio[("weight_decay", "wd-0.0005", 0)] == 5
    cfg["experiments"]["baseline"]["settings"]["epochs"] = 6
    assert training_order(plan(cfg))[0] == "baseline"


def test_layout_paths_and_patterns():
    r = Layout("results/quick")
    assert r.run_dir() == "results/quick/runs/{experiment}/{variant}/seed-{seed}"
    assert r.run_file("weights.npz", "a", "b", 3) == "results/quick/runs/a/b/seed-3/weights.npz"
    assert r.summary("x") == "results/quick/summary/x.csv" and r.curves() == "results/quick/summary/curves/{experiment}.csv"
    assert Layout().runs_csv == "results/summary/runs.csv" and Layout().pdf == "results/report.pdf"
    assert r.relative(r.figure("conv1")) == "report/figures/conv1.png"
    with pytest.raises(KeyError):
        r.run_file("other.json")
    assert RUN_FILES[0] == "metrics.json" and column("test_accuracy", "std") in SUMMARY_COLUMNS


def test_figure_registry():
    figs = figures(["a", "b", "abl"], ablation="abl", visual=True)
    assert set(figs) == {"a", "b", "abl", "first-conv-layer"}  # one figure per experiment
    assert {f.kind for f in figs.values()} == {"experiment", "ablation", "conv1"} and figs["abl"].kind == "ablation"
    assert "first-conv-layer" not in figures(["a"])  # no run to show: no conv1 figure


def test_config_size_guard_stops_an_alias_bomb_fast():
    level = ["x"] * 9
    for _ in range(8):
        level = [level] * 9  # shared references: 9**9 leaves, a few hundred objects
    with pytest.raises(ConfigSizeError, match="expands to more than"):
        check_config_size({"experiments": {"a": level}})
    deep = {}
    node = deep
    for _ in range(40):
        node["k"] = {}
        node = node["k"]
    with pytest.raises(ConfigSizeError, match="deeper"):
        check_config_size(deep)
    assert check_config_size({"a": [1, 2, {"b": 3}]}) < 20


def test_code_hash_follows_meaning_and_imports(tmp_path):
    pkg = tmp_path / "cnnlib"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('"""pkg"""\n')
    (pkg / "mod.py").write_text('"""doc"""\nX = 1  # comment\n')
    (pkg / "other.py").write_text("Y = 2\n")
    script = tmp_path / "job.py"
    script.write_text("from cnnlib.mod import X\nprint(X)\n")
    h = code_hash([script], tmp_path)
    (pkg / "mod.py").write_text('"""another doc"""\n\nX = 1\n')
    assert code_hash([script], tmp_path) == h  # docstring, comment, blank lines: same meaning
    (pkg / "other.py").write_text("Y = 3\n")
    assert code_hash([script], tmp_path) == h  # not imported by the job
    (pkg / "mod.py").write_text("X = 2\n")
    assert code_hash([script], tmp_path) != h


def test_forcerun_goes_where_snakemake_reads_it():
    from workflow.runcheck import with_forcerun

    f = ["results/runs/a/b/seed-0/metrics.json"]
    assert with_forcerun(["py", "-m", "snakemake", "--cores", "2", "x"], f) == \
        ["py", "-m", "snakemake", "--forcerun", *f, "--cores", "2", "x"]
    assert with_forcerun(["bin/snakemake", "x", "-n", "--", "t"], f) == ["bin/snakemake", "x", "--forcerun", *f,
                                                                       "-n", "--", "t"]
    assert with_forcerun(["bin/snakemake", "t"], f) == ["bin/snakemake", "t", "--forcerun", *f]
    assert with_forcerun(["snakemake", "-R", "train", "--cores", "1"], f) == \
        ["snakemake", "-R", *f, "train", "--cores", "1"]


def test_damaged_runs_are_found(tmp_path):
    from workflow.runcheck import damaged_runs

    gone, never = tmp_path / "gone", tmp_path / "never"
    summary = tmp_path / "summary.csv"
    summary.write_text("x\n")
    said = []
    assert damaged_runs([(gone, summary), (never, tmp_path / "nosummary.csv")], say=said.append) == [str(gone)]
    assert "files are gone" in said[0]
    half = tmp_path / "half"
    half.mkdir()
    (half / "weights.npz").write_bytes(b"")
    assert damaged_runs([(half, tmp_path / "nosummary.csv")], say=said.append) == [str(half)]


def test_watchdog_sees_a_process_end(tmp_path):
    import subprocess
    import sys
    import time

    from workflow.jobs import alive, start_watchdog, watch_token

    assert alive(watch_token())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    token = watch_token(child.pid)
    gone = []
    start_watchdog(token, lambda: gone.append(True), interval=0.05)
    assert alive(token) and not gone
    child.kill()
    child.wait()
    deadline = time.monotonic() + 5
    while not gone and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone and not alive(token)
    assert alive("otherhost:1:123")  # another machine's process: cannot tell, assume alive


def test_a_command_checks_only_the_runs_its_targets_need():
    from cnnlib.results import Layout
    from workflow.runcheck import command_targets, needed_runs

    assert command_targets(["py", "-m", "snakemake", "--cores", "2", "baseline", "--configfile", "c.yaml"]) == \
        ["baseline"]
    assert command_targets(["snakemake", "-n", "--cores", "2", "--", "momentum"]) == ["momentum"]
    assert command_targets(["snakemake", "--cores", "2"]) == []
    R = Layout("results/quick")
    runs = [(e, v, s) for e, v in (("a", "a1"), ("a", "a2"), ("b", "b1")) for s in (0, 1)]
    links = {("b", "b1", 0): ("a", "a1", 0), ("b", "b1", 1): ("a", "a1", 1)}  # b1 continues a1

    def needed(*targets):
        return needed_runs(list(targets), {"a", "b"}, runs, R.run_of, lambda p: R.experiment_of(p, "ab"), links)

    assert needed() is None and needed("all") is None and needed("results/quick/report.pdf") is None
    assert needed("a") == {r for r in runs if r[0] == "a"}
    assert needed("b") == {r for r in runs if r[1] in ("b1", "a1")}  # with the runs it continues
    assert needed("results/quick/runs/b/b1/seed-1/metrics.json") == {("b", "b1", 1), ("a", "a1", 1)}
    assert needed("results/quick/summary/a.csv") == {r for r in runs if r[0] == "a"}
    assert R.run_of("results/quick/runs/a/a2/seed-0") == ("a", "a2", 0) and R.run_of("results/runs/a/a2/seed-0") is None
