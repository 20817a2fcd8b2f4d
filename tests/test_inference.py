"""report.inference (the rows of comparisons.csv) and report.claims (the 2018 statements), on
synthetic runs.csv rows."""

import math

import numpy as np
import pytest
from scipy import stats

from report import claims as C
from report import inference as I
from report.stats import holm
from workflow.results import COMPARISON_COLUMNS


def runs_of(experiment, values: dict) -> list[dict]:
    """runs.csv rows: ``values`` = {variant: [accuracy per seed, None = diverged]}."""
    rows = []
    for variant, accs in values.items():
        for seed, a in enumerate(accs):
            rows.append({"experiment": experiment, "variant": variant, "seed": str(seed),
                         "status": "completed" if a is not None else "diverged",
                         "test_accuracy": "" if a is None else repr(float(a)), "converged_epoch": "1.0"})
    return rows


def plan_of(experiment, names, pairing="same") -> dict:
    return {"experiments": [{"key": experiment, "variants": [
        {"name": n, "pairing": pairing if pairing != "each" else n} for n in names]}],
        "architectures": None, "ablation": None}


def test_rows_are_best_against_each_other_then_the_other_pairs_and_holm_over_the_file():
    values = {"a": [0.95, 0.951, 0.949, 0.952, 0.95], "b": [0.97, 0.972, 0.969, 0.971, 0.97],
              "c": [0.951, 0.95, 0.953, 0.949, 0.951]}
    rows = I.comparisons(plan_of("x", values, "each"), runs_of("x", values))
    assert [(r["variant_a"], r["variant_b"]) for r in rows] == [("b", "a"), ("b", "c"), ("c", "a")]
    assert all(set(COMPARISON_COLUMNS) <= set(r) for r in rows)
    # Holm over exactly the p values of the file's rows
    assert [r["p_holm"] for r in rows] == holm([r["p_value"] for r in rows])
    ref = stats.ttest_ind(values["b"], values["a"], equal_var=False)
    assert rows[0]["test"] == "welch" and rows[0]["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert rows[0]["difference"] == pytest.approx(np.mean(values["b"]) - np.mean(values["a"]))
    assert rows[0]["claim"] == rows[1]["claim"] == "a_better" and rows[2]["claim"] == "inconclusive"
    assert isinstance(rows[2]["seeds_needed"], int) or str(rows[2]["seeds_needed"]).startswith(">")


def test_cpu_time_is_corrected_apart_and_never_moves_what_training_learned():
    # two sweeps of accuracies, and CPU-time rows whose p values are the host's noise
    acc = {"a": [0.95, 0.951, 0.949, 0.952, 0.95], "b": [0.953, 0.955, 0.951, 0.954, 0.953],
           "c": [0.951, 0.95, 0.953, 0.949, 0.951]}
    learned = I.comparisons(plan_of("x", acc, "each"), runs_of("x", acc))

    def cpu_row(p):
        return {**learned[0], "quantity": "cpu_seconds_per_epoch", "p_value": p, "power_input": None}

    decided = {p: I.decide([*learned, cpu_row(p)]) for p in (1e-6, 0.02, 0.9)}
    for p, rows in decided.items():
        assert [r["p_holm"] for r in rows[:-1]] == holm([r["p_value"] for r in learned])
        assert rows[-1]["p_holm"] == pytest.approx(p)  # a family of one
        assert [r["seeds_needed"] for r in rows[:-1]] == [r["seeds_needed"] for r in learned]
    assert I.family("cpu_seconds_per_epoch") == I.TIMING != I.family("test_accuracy")


def test_runs_of_one_seed_pair_up_only_when_they_share_weights_and_data_order():
    values = {"a": [0.95, 0.96, 0.955, 0.965, 0.952], "b": [0.951, 0.962, 0.957, 0.966, 0.955]}
    paired = I.comparisons(plan_of("x", values, "same"), runs_of("x", values))[0]
    ref = stats.ttest_rel(values["b"], values["a"])
    assert paired["test"] == "paired_t" and paired["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    unpaired = I.comparisons(plan_of("x", values, "each"), runs_of("x", values))[0]
    assert unpaired["test"] == "welch"
    # the pairing keys of the default config: a learning-rate sweep pairs, an init-std sweep does not
    import yaml

    from conftest import REPO
    from workflow.experiments import describe, plan

    d = describe(plan(yaml.safe_load((REPO / "config/config.yaml").read_text())))
    keys = {e["key"]: {v["pairing"] for v in e["variants"]} for e in d["experiments"]}
    assert len(keys["learning_rate"]) == 1 and len(keys["momentum"]) == 1 and len(keys["init_std"]) == 3
    assert len(keys["cnn_vs_mlp"]) == 2


def test_same_seed_gives_the_same_initial_weights_and_batches_whatever_the_learning_rate(tmp_path, monkeypatch):
    """What the paired test relies on: cnnlib draws weights and batch order from the seed alone."""
    from cnnlib import train as T
    from cnnlib.config import resolve

    seen = {}
    real = T.scale_images

    def record(name):
        def spy(images, *args):
            seen.setdefault(name, []).append(images[:2].copy())
            return real(images, *args)
        return spy

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (400, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 400).astype(np.uint8)
    weights = {}
    for name, lr in (("slow", 0.01), ("fast", 0.1)):
        cfg = resolve({"seed": 3, "epochs": 1, "batch_size": 100, "optimizer": {"lr": lr}, "eval": {"per_epoch": 1}})
        model = T.build_model(cfg["model"], np.random.default_rng(np.random.SeedSequence(3).spawn(2)[0]))
        weights[name] = [p.value.copy() for p in model.parameters()]
        monkeypatch.setattr(T, "scale_images", record(name))
        T._train(cfg, tmp_path / name, x, y, x[:100], y[:100], progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(weights["slow"], weights["fast"]))
    assert len(seen["slow"]) == len(seen["fast"]) > 1
    assert all(np.array_equal(a, b) for a, b in zip(seen["slow"], seen["fast"]))


def test_failed_runs_are_kept_apart_from_accuracy():
    values = {"good": [0.96, 0.961, 0.959, 0.962, 0.96], "bimodal": [0.96, 0.11, 0.12, 0.95, None]}
    rows = I.comparisons(plan_of("x", values, "each"), runs_of("x", values))
    acc = next(r for r in rows if r["quantity"] == "test_accuracy")
    assert (acc["n_a"], acc["n_b"]) in ((5, 2), (2, 5))  # the two of five that learned
    fail = next(r for r in rows if r["quantity"] == "failure_rate")
    assert (fail["variant_a"], fail["variant_b"], fail["test"]) == ("bimodal", "good", "fisher")
    assert fail["mean_a"] == 0.6 and fail["mean_b"] == 0.0  # 2 failed to learn + 1 diverged, of 5
    assert fail["p_value"] == pytest.approx(stats.fisher_exact([[3, 2], [0, 5]]).pvalue)


def simulate(separation: float, sweeps: int = 200, seed: int = 7) -> float:
    """Share of sweeps (3 variants, 5 seeds, sd 0.003) in which a 'better' claim is made:
    variant a is ``separation`` above b and c, which are equal."""
    rng = np.random.default_rng(seed)
    made = 0
    for _ in range(sweeps):
        values = {"a": list(0.95 + separation + 0.003 * rng.standard_normal(5)),
                  "b": list(0.95 + 0.003 * rng.standard_normal(5)), "c": list(0.95 + 0.003 * rng.standard_normal(5))}
        rows = I.comparisons(plan_of("x", values, "each"), runs_of("x", values))
        made += any(r["claim"] != "inconclusive" for r in rows)
    return made / sweeps


def test_simulated_sweeps_false_claims_at_most_5_percent_and_clear_differences_found():
    assert simulate(0.0) <= 0.05
    assert simulate(0.02) >= 0.95  # ~6.7 standard deviations apart


def test_seeds_needed_uses_the_strictest_holm_level():
    values = {"a": [0.95, 0.96, 0.955, 0.965, 0.952], "b": [0.947, 0.955, 0.95, 0.959, 0.947]}
    one = I.comparisons(plan_of("x", values, "each"), runs_of("x", values))[0]
    from report.stats import seeds_needed

    xa, xb = values["a"], values["b"]
    sd = math.sqrt((np.var(xa, ddof=1) + np.var(xb, ddof=1)) / 2)
    assert one["seeds_needed"] == seeds_needed(abs(np.mean(xa) - np.mean(xb)), sd, alpha=0.05, cap=100).n
    # ten rows in the family: the level is 0.005, more seeds are needed
    many = {f"v{i}": [0.95 + 0.001 * i + 0.001 * s for s in range(5)] for i in range(4)}
    rows = I.comparisons(plan_of("y", many, "each"), runs_of("y", many)) + [one]
    rows = I.decide(rows)
    assert rows[-1]["seeds_needed"] == seeds_needed(abs(np.mean(xa) - np.mean(xb)), sd, alpha=0.05 / 7, cap=100).n


def test_claims_verdicts_follow_the_rows():
    values = {"lr-0.1": [0.99, 0.991, 0.989, 0.99, 0.992], "lr-0.005": [0.95, 0.951, 0.949, 0.95, 0.952]}
    claims = [{"quote": "big lr is worse", "parts": [
        {"kind": "compare", "experiment": "learning_rate", "a": "lr-0.1", "b": "lr-0.005",
         "quantity": "test_accuracy", "expect": "b_better"}]},
        {"quote": "no difference", "parts": [{"kind": "same", "experiment": "learning_rate"}]},
        {"quote": "lr-0.005 is best", "parts": [{"kind": "best", "experiment": "learning_rate", "variant": "lr-0.005"}]},
        {"quote": "vague", "parts": [{"kind": "untestable", "why": "no definition"}]}]
    plan = plan_of("learning_rate", values, "same")
    rows = I.comparisons(plan, runs_of("learning_rate", values), C.requests(claims))
    assert len(rows) == 1  # the claim's pair is the sweep's own row, not a second one
    verdicts = [v["verdict"] for v in C.verdicts(claims, rows, {})]
    assert verdicts == ["contradicted", "contradicted", "contradicted", "not testable"]
    close = {"lr-0.1": [0.95, 0.96, 0.955, 0.965, 0.952], "lr-0.005": [0.951, 0.958, 0.953, 0.962, 0.95]}
    rows = I.comparisons(plan, runs_of("learning_rate", close), C.requests(claims))
    verdicts = C.verdicts(claims, rows, {})
    assert [v["verdict"] for v in verdicts] == ["inconclusive", "inconclusive", "inconclusive", "not testable"]
    assert "seeds per variant" in verdicts[0]["evidence"][0]


def test_a_sentence_gives_the_first_named_variant_minus_the_second():
    """A row the claim turns round (B better than A) is written "B ... than A": its
    difference and interval must then be B - A (it printed A - B: "std-1 is more accurate
    than std-0.1: difference -0.0083")."""
    from report.sentences import comparison_sentence

    values = {"lr-0.1": [0.99, 0.991, 0.989, 0.99, 0.992], "lr-0.005": [0.95, 0.949, 0.952, 0.951, 0.95]}
    claims = [{"quote": "small lr is better", "parts": [
        {"kind": "compare", "experiment": "learning_rate", "a": "lr-0.005", "b": "lr-0.1",
         "quantity": "test_accuracy", "expect": "a_better"}]}]
    rows = I.comparisons(plan_of("learning_rate", values, "same"), runs_of("learning_rate", values),
                         C.requests(claims))
    # the statement reads the row turned round (A = lr-0.005), whose claim is then b_better
    evidence = C.verdicts(claims, rows, {})[0]["evidence"]
    assert I.find(rows, "learning_rate", "lr-0.005", "lr-0.1", "test_accuracy")["claim"] == "b_better"
    for text in evidence + [comparison_sentence(r) for r in rows]:
        assert text.startswith("lr-0.1 is more accurate than lr-0.005: difference 0.0"), text
        low, high = (float(x) for x in text.split("95% CI ")[1].split(",")[0].split(" to "))
        assert 0 < low < 0.04 < high  # about 0.04 better, the interval ahead of zero


def test_claim_evidence_items_are_sentences():
    """The report joins a statement's evidence with spaces: an item without a full stop ran into
    the next ("parameters: cnn 2,158, mlp 203,530 cnn against mlp ...")."""
    values = {"cnn": [0.97, 0.971, 0.969, 0.97, 0.972], "mlp": [0.96, 0.961, 0.959, 0.96, 0.962]}
    claims = [{"quote": "more parameters, slower", "parts": [
        {"kind": "fact", "experiment": "cnn_vs_mlp", "a": "cnn", "b": "mlp", "quantity": "parameters",
         "expect": "a_greater"},
        {"kind": "compare", "experiment": "cnn_vs_mlp", "a": "cnn", "b": "mlp", "quantity": "test_accuracy",
         "expect": "a_better"},
        {"kind": "untestable", "why": "no definition"}]}]
    rows = I.comparisons(plan_of("cnn_vs_mlp", values, "each"), runs_of("cnn_vs_mlp", values), C.requests(claims))
    facts = {("cnn_vs_mlp", "cnn"): {"parameters": 2158}, ("cnn_vs_mlp", "mlp"): {"parameters": 203530}}
    evidence = C.verdicts(claims, rows, facts)[0]["evidence"]
    assert len(evidence) == 3 and all(e.endswith(".") for e in evidence), evidence
    assert evidence[0] == "parameters: cnn 2,158, mlp 203,530."
