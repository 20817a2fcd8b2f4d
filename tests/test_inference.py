"""report.inference (the rows of comparisons.csv) and report.claims (the 2018 statements in
parts), on synthetic runs.csv rows; the simulation tests hold the method to its error rates."""

import numpy as np
import pytest

from report import claims as C
from report import inference as I
from report import stats
from report.stats import holm
from cnnlib.results import COMPARISON_COLUMNS

CHANCE = 0.1


def runs_of(experiment, values: dict, extra=None) -> list[dict]:
    """runs.csv rows: ``values`` = {variant: [accuracy per seed, None = diverged]}."""
    rows = []
    for variant, accs in values.items():
        for seed, a in enumerate(accs):
            row = {"experiment": experiment, "variant": variant, "seed": str(seed), "classes": "10",
                   "status": "completed" if a is not None else "diverged",
                   "test_accuracy": "" if a is None else repr(float(a))}
            row.update((extra or {}).get((variant, seed), {}))
            rows.append(row)
    return rows


def plan_of(experiment, names, paired=True, reference=None, **more) -> dict:
    return {"experiments": [{"key": experiment, "reference": reference, "variants": [
        {"name": n, "pairing": "same" if paired else n} for n in names]}], "architectures": None,
        "ablation": None, **more}


def decided(values, paired=True, reference=None, experiment="x"):
    return I.comparisons(plan_of(experiment, list(values), paired, reference), runs_of(experiment, values))


def claims(rows):
    return [r["claim"] for r in rows if r["variant_b"]]


# --------------------------------------------------------------------------- the design


@pytest.mark.parametrize("paired, k, test", [(True, 3, "friedman"), (True, 2, "paired_t"), (False, 3, "kruskal"),
                                             (False, 2, "permutation")])
def test_the_question_test_follows_the_design(paired, k, test):
    rng = np.random.default_rng(k + paired)
    values = {f"v{i}": list(0.95 + 0.004 * i + 0.003 * rng.standard_normal(5)) for i in range(k)}
    q = decided(values, paired)[0]
    assert q["variant_b"] == "" and q["test"] == test and q["n_a"] == 5 and q["n_b"] == k
    names = list(values)
    if test == "friedman":
        want = stats.friedman([[values[n][s] for n in names] for s in range(5)]).p_value
    elif test == "kruskal":
        want = stats.kruskal([values[n] for n in names]).p_value
    elif test == "paired_t":
        want = stats.compare(values["v0"], values["v1"], paired=True).p_value
    else:
        want = stats.permutation_means(values["v0"], values["v1"])[1]
    assert q["p_value"] == pytest.approx(want, rel=1e-12)
    assert q["variant_a"] == max(values, key=lambda n: np.mean(values[n]))


def test_contrasts_are_each_variant_against_the_reference_not_every_pair():
    values = {f"v{i}": [0.95 + 0.001 * i + 0.0001 * s for s in range(5)] for i in range(4)}
    rows = decided(values, reference="v1")
    assert [(r["variant_a"], r["variant_b"]) for r in rows if r["variant_b"]] == [("v0", "v1"), ("v2", "v1"),
                                                                                  ("v3", "v1")]
    best = decided(values)  # no reference configured: the best mean
    assert {r["variant_b"] for r in best if r["variant_b"]} == {"v3"}
    assert all(set(COMPARISON_COLUMNS) <= set(r) for r in rows)


def test_every_run_counts_a_failed_run_at_its_accuracy_a_diverged_one_at_chance():
    values = {"a": [0.97, 0.96, 0.95, 0.96, 0.97], "b": [0.96, 0.12, None, 0.95, 0.96]}
    c = next(r for r in decided(values) if r["variant_b"])
    assert c["population"] == "all_runs" and c["n_a"] == c["n_b"] == 5  # nobody dropped
    b = [0.96, 0.12, CHANCE, 0.95, 0.96]
    mean_b = c["mean_b"] if c["variant_b"] == "b" else c["mean_a"]
    assert mean_b == pytest.approx(np.mean(b))


def test_holm_runs_per_experiment_and_cpu_time_apart():
    v = {"a": [0.95, 0.951, 0.949, 0.952, 0.95], "b": [0.953, 0.955, 0.951, 0.954, 0.953],
         "c": [0.951, 0.95, 0.953, 0.949, 0.951]}
    plan = {"experiments": [{"key": e, "reference": None, "variants": [{"name": n, "pairing": "p"} for n in v]}
                            for e in ("x", "y")], "architectures": None, "ablation": None}
    runs = runs_of("x", v) + runs_of("y", {n: list(np.array(a) + 0.002) for n, a in v.items()})
    for r in runs:
        r["cpu_seconds_per_epoch"] = str(1.0 + 0.1 * (r["variant"] == "a") + 0.01 * int(r["seed"]))
    req = [{"experiment": "x", "a": "a", "b": "b", "quantity": "cpu_seconds_per_epoch", "family": I.TIMING}]
    rows = I.comparisons(plan, runs, req)
    for family in ("x", "y"):
        mine = [r for r in rows if r["family"] == family and r["variant_b"]]
        assert [r["p_holm"] for r in mine] == holm([r["p_value"] for r in mine])
        assert {r["family_size"] for r in mine} == {len(mine)} == {2}
    cpu = next(r for r in rows if r["family"] == I.TIMING)
    assert cpu["p_holm"] == pytest.approx(cpu["p_value"]) and cpu["family_size"] == 1 and cpu["delta"] is None


def test_the_minimum_detectable_difference_comes_from_the_design_not_the_difference():
    rng = np.random.default_rng(3)
    base = 0.96 + 0.004 * rng.standard_normal(5)
    noise = 0.003 * rng.standard_normal(5)
    near = decided({"a": list(base), "b": list(base + 0.001 + noise)})
    far = decided({"a": list(base), "b": list(base + 0.02 + noise)})
    (n1,), (f1,) = ([r for r in rows if r["variant_b"]] for rows in (near, far))
    assert n1["min_detectable"] == pytest.approx(f1["min_detectable"])  # the same spread: the same design
    sd = np.std(noise, ddof=1)
    assert n1["min_detectable"] == pytest.approx(stats.min_detectable_difference(sd, 5, 0.05, 0.8, paired=True))


def test_a_comparison_that_these_runs_cannot_decide_says_so():
    rows = decided({"a": [0.95, 0.96], "b": [0.97, 0.98]}, paired=False)  # 2 against 2: p >= 1/3 whatever the data
    q, c = rows
    assert not q["decidable"] and not c["decidable"] and c["claim"] == "inconclusive"
    assert c["ci_low"] is None  # no interval: the test it inverts can never reject


def test_a_tiny_difference_inside_delta_is_equivalent_however_sure_it_is():
    a = [0.95 + 0.0001 * s for s in range(5)]
    rows = decided({"a": a, "b": [x + 0.001 for x in a]})
    c = rows[1]
    assert c["p_value"] < 0.001 and c["claim"] == "equivalent"
    assert -c["delta"] < c["ci_low"] <= c["ci_high"] < c["delta"]


def test_a_trend_row_is_pages_test_in_the_order_given():
    rng = np.random.default_rng(5)
    base = 0.9 + 0.01 * rng.standard_normal(5)
    values = {f"v{i}": list(base + 0.01 * i + 0.002 * rng.standard_normal(5)) for i in range(4)}
    req = [{"experiment": "x", "variants": list(values), "quantity": "test_accuracy", "family": I.STATEMENTS}]
    rows = I.comparisons(plan_of("x", list(values)), runs_of("x", values), req)
    t = I.find_trend(rows, "x", list(values), "test_accuracy")
    assert t["test"] == "page_trend" and (t["variant_a"], t["variant_b"]) == ("v3", "v0")
    table = [[values[n][s] for n in values] for s in range(5)]
    assert t["p_value"] == pytest.approx(stats.page_trend(table).p_value) and t["claim"] == "a_better"


# --------------------------------------------------------------------------- simulations


def simulate(kind: str, n_sims: int = 500, seed: int = 0):
    """``n_sims`` seeded experiments of three identical variants (5 seeds); yields the rows."""
    rng = np.random.default_rng(seed)
    paired = kind.startswith("paired")
    for _ in range(n_sims):
        seed_effect = 0.004 * rng.standard_normal(5) if paired else np.zeros(5)
        values = {}
        for n in ("a", "b", "c"):
            acc = 0.96 + seed_effect + 0.003 * rng.standard_normal(5)
            if kind.endswith("bimodal"):  # a failure mode: each run fails with probability 0.3
                acc = np.where(rng.random(5) < 0.3, 0.1135 + 1e-4 * rng.standard_normal(5), acc)
            values[n] = list(acc)
        yield decided(values, paired)


@pytest.mark.parametrize("kind", ["paired", "paired_bimodal", "independent", "independent_bimodal"])
def test_identical_variants_give_a_false_claim_in_at_most_5_percent_of_experiments(kind):
    false = sum(any(c in ("a_better", "b_better") for c in claims(rows)) for rows in simulate(kind))
    assert false <= 25, f"{kind}: {false} of 500 experiments claimed a difference"


def test_a_planted_one_and_a_half_point_paired_difference_is_found_in_80_percent():
    rng = np.random.default_rng(1)
    found = 0
    for _ in range(500):
        a = 0.95 + 0.004 * rng.standard_normal(5)
        b = a + 0.015 + 0.005 * rng.standard_normal(5)  # sd of a paired difference 0.005, as measured
        found += claims(decided({"a": list(a), "b": list(b)})) == ["b_better"]
    assert found >= 400, found


def test_identical_variants_with_a_small_spread_are_equivalent():
    rng = np.random.default_rng(2)
    equivalent = 0
    for _ in range(200):
        a = 0.95 + 0.002 * rng.standard_normal(5)
        equivalent += claims(decided({"a": list(a), "b": list(a + 0.0015 * rng.standard_normal(5))})) == ["equivalent"]
    assert equivalent >= 190, equivalent


@pytest.mark.parametrize("paired", [True, False])
def test_a_variant_failing_every_run_is_worse_than_one_failing_none(paired):
    rows = decided({"good": [0.96, 0.97, 0.965, 0.962, 0.968], "bad": [0.1135, 0.098, None, 0.1135, 0.1009]},
                   paired)
    q, c = rows
    assert q["claim"] == "a_better" and q["variant_a"] == "good"
    assert (c["variant_a"], c["variant_b"], c["claim"]) == ("bad", "good", "b_better")


# --------------------------------------------------------------------------- the 2018 statements


def test_statement_parts_get_their_own_verdicts_and_the_statement_shows_them():
    values = {"lo": [0.95, 0.951, 0.949, 0.952, 0.95], "mid": [0.97, 0.972, 0.969, 0.971, 0.97],
              "hi": [0.971, 0.972, 0.97, 0.973, 0.97]}
    runs = runs_of("x", values)
    for r in runs:
        r["last_epoch_gain"] = "0.02"  # still rising
    parts = [
        {"text": "more is better", "kind": "compare", "experiment": "x", "a": "mid", "b": "lo", "expect": "a_better",
         "quantity": "test_accuracy"},
        {"text": "more is worse", "kind": "trend", "experiment": "x", "variants": ["lo", "mid", "hi"],
         "quantity": "test_accuracy", "expect": "decreasing"},
        {"text": "mid and hi alike", "kind": "same", "experiment": "x", "a": "mid", "b": "hi", "quantity": "test_accuracy"},
        {"text": "one limit", "kind": "limit", "experiment": "x"},
        {"text": "vague", "kind": "untestable", "why": "undefined"},
    ]
    statements = [{"quote": "q", "parts": parts}]
    plan = plan_of("x", list(values))
    rows = I.comparisons(plan, runs, C.requests(statements, plan))
    (result,) = C.verdicts(statements, rows, {}, runs)
    got = {p["text"]: p["verdict"] for p in result["parts"]}
    assert got["more is better"] == C.SUPPORTED
    assert got["more is worse"] == C.CONTRADICTED  # the trend rises, and mid beats lo
    assert got["mid and hi alike"] == C.EQUIVALENT
    assert got["one limit"] == C.NOT_TESTABLE and "still rises" in result["parts"][3]["why"]
    assert got["vague"] == C.NOT_TESTABLE
    assert result["verdict"] == C.CONTRADICTED
    # a pair on final accuracy joins the experiment's family (and its gate); a trend the statements' family
    fam = {(r["variant_a"], r["variant_b"], r["test"]): r["family"] for r in rows if r["variant_b"]}
    assert fam[("hi", "lo", "page_trend")] == I.STATEMENTS
    assert all(f == "x" for (a, b, t), f in fam.items() if t != "page_trend")


def test_a_no_difference_statement_is_equivalent_only_inside_delta():
    values = {"a": [0.95, 0.951, 0.949, 0.952, 0.95], "b": [0.9505, 0.9512, 0.9493, 0.9521, 0.9504]}
    statements = [{"quote": "same", "parts": [{"text": "alike", "kind": "same", "experiment": "x"}]}]
    rows = decided(values)
    assert C.verdicts(statements, rows, {})[0]["verdict"] == C.SUPPORTED  # an equivalent "same" part holds
    far = decided({"a": values["a"], "b": [v + 0.02 for v in values["a"]]})
    assert C.verdicts(statements, far, {})[0]["verdict"] == C.CONTRADICTED
