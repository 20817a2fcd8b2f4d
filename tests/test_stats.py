"""report.stats against hand computations and scipy applied directly to fixed data.

Every known answer here is computed independently of the function under test: by hand (the
arithmetic is in the comments), by the textbook formula, or by calling scipy directly.
"""

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from report import stats as S

# a fixed 5-seed sample: mean 0.93, deviations -0.02, 0, -0.01, 0.02, 0.01 -> sum of squares 0.001
FIVE = [0.91, 0.93, 0.92, 0.95, 0.94]
FIVE_SD = math.sqrt(0.001 / 4)  # 0.0158114


def assert_no_nan(obj):
    """Outputs hold floats or None, never NaN (nor inf), at any depth."""
    if dataclasses.is_dataclass(obj):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, dict):
        for value in obj.values():
            assert_no_nan(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            assert_no_nan(value)
    elif isinstance(obj, float):
        assert math.isfinite(obj), obj


# --------------------------------------------------------------------------- mean_ci

def test_t_quantile_is_scipys_t_ppf_bit_for_bit():
    for level in (0.9, 0.95, 0.99):
        for df in (1, 2, 4, 7.3, 29, 1000.5):  # Welch's df are not whole numbers
            assert S._t_quantile(level, df) == float(stats.t.ppf(1 - (1 - level) / 2, df))


def test_clopper_pearson_quantiles_are_scipys_beta_ppf_bit_for_bit():
    for n in range(1, 31):
        for k in range(n + 1):
            for level in (0.9, 0.95, 0.99):
                a = 1 - level
                r = S.clopper_pearson(k, n, level)
                assert r.low == (0.0 if k == 0 else float(stats.beta.ppf(a / 2, k, n - k + 1)))
                assert r.high == (1.0 if k == n else float(stats.beta.ppf(1 - a / 2, k + 1, n - k)))


def test_intervals_figures_and_report_context_do_not_import_scipy_stats():
    """scipy.stats takes about 0.8 s to import, more than a figure job's drawing: the modules
    the figure, summary and report-context jobs use load it only when a test needs it. The
    context job, the last steps' longest before the PDF, does not import matplotlib either."""
    import subprocess
    import sys

    from conftest import REPO

    code = ("import sys, report.stats, report.context\n"
            "report.stats.mean_ci([0.9, 0.92, 0.95]); report.stats.prediction_interval([0.9, 0.92, 0.95])\n"
            "report.stats.clopper_pearson(2, 5)\n"
            "print('scipy.stats' in sys.modules, 'matplotlib' in sys.modules)\n"
            "import report.plots, workflow.summary\n"
            "print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "False"]


def test_mean_ci_against_hand_t_interval():
    r = S.mean_ci(FIVE)
    half = stats.t.ppf(0.975, 4) * FIVE_SD / math.sqrt(5)  # 2.776445 * 0.0070711 = 0.019632
    assert r.n == 5
    assert r.mean == pytest.approx(0.93, abs=1e-12)
    assert r.std == pytest.approx(FIVE_SD, rel=1e-12)
    assert r.ci_low == pytest.approx(0.93 - half, rel=1e-12)
    assert r.ci_high == pytest.approx(0.93 + half, rel=1e-12)
    assert half == pytest.approx(0.019632, abs=1e-6)
    r90 = S.mean_ci(FIVE, level=0.90)
    assert r90.ci_high - r90.mean == pytest.approx(stats.t.ppf(0.95, 4) * FIVE_SD / math.sqrt(5), rel=1e-12)


def test_mean_ci_n1_n0_identical_and_missing():
    one = S.mean_ci([0.9])
    assert (one.n, one.mean, one.std, one.ci_low, one.ci_high) == (1, 0.9, None, None, None)
    empty = S.mean_ci([])
    assert (empty.n, empty.mean, empty.ci_low) == (0, None, None)
    same = S.mean_ci([0.97] * 5)
    assert same.std == 0.0 and same.ci_low == same.ci_high == pytest.approx(0.97)
    for r in (one, empty, same):
        assert_no_nan(r)
    with pytest.raises(ValueError):
        S.mean_ci([0.9, None, 0.8])
    with pytest.raises(ValueError):
        S.mean_ci([0.9, float("nan")])


def test_median_range():
    r = S.median_range([3.0, 10.0, 1.0, 2.0])
    assert (r.n, r.median, r.min, r.max) == (4, 2.5, 1.0, 10.0)
    assert S.median_range([0.5]).median == 0.5
    assert S.median_range([]).median is None


def test_prediction_interval_hand_value():
    r = S.prediction_interval(FIVE)
    # 2.776445 * 0.0158114 * sqrt(1.2) = 0.048089
    half = stats.t.ppf(0.975, 4) * FIVE_SD * math.sqrt(1 + 1 / 5)
    assert half == pytest.approx(0.048089, abs=1e-6)
    assert r.low == pytest.approx(0.93 - half, rel=1e-12)
    assert r.high == pytest.approx(0.93 + half, rel=1e-12)
    one = S.prediction_interval([0.9])
    assert one.low is None and one.high is None
    assert S.prediction_interval([]).low is None


# --------------------------------------------------------------------------- compare

A = [0.91, 0.93, 0.92, 0.95, 0.94]
B = [0.89, 0.90, 0.925, 0.84, 0.905, 0.86]  # different n, a larger variance than A, no ties with A


def test_welch_against_scipy_and_hand_df():
    r = S.compare(A, B)
    ref = stats.ttest_ind(A, B, equal_var=False)
    va, vb = np.var(A, ddof=1) / 5, np.var(B, ddof=1) / 6
    df = (va + vb) ** 2 / (va ** 2 / 4 + vb ** 2 / 5)  # Welch-Satterthwaite by hand
    assert r.test == "welch" and r.reason is None
    assert r.difference == pytest.approx(np.mean(A) - np.mean(B), rel=1e-12)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert r.df == pytest.approx(df, rel=1e-10)
    assert r.df == pytest.approx(ref.df, rel=1e-10)
    half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    assert r.ci_low == pytest.approx(r.difference - half, rel=1e-10)
    assert r.ci_high == pytest.approx(r.difference + half, rel=1e-10)
    ci = ref.confidence_interval(0.95)
    assert (r.ci_low, r.ci_high) == (pytest.approx(ci.low, rel=1e-10), pytest.approx(ci.high, rel=1e-10))
    # the pooled-variance t-test gives a different answer on these data
    assert abs(stats.ttest_ind(A, B, equal_var=True).pvalue - r.p_value) > 1e-3
    # exact Mann-Whitney beside it: no ties here, so scipy's exact method
    assert r.nonparametric_test == "mann_whitney_exact"
    assert r.nonparametric_p == pytest.approx(stats.mannwhitneyu(A, B, method="exact").pvalue, rel=1e-12)
    assert_no_nan(r)


def test_paired_against_ttest_rel():
    a = [0.91, 0.93, 0.92, 0.95, 0.94]
    b = [0.90, 0.93, 0.90, 0.92, 0.935]
    r = S.compare(a, b, paired=True)
    ref = stats.ttest_rel(a, b)
    d = np.subtract(a, b)  # 0.01, 0, 0.02, 0.03, 0.005
    half = stats.t.ppf(0.975, 4) * np.std(d, ddof=1) / math.sqrt(5)
    assert r.test == "paired_t" and r.df == 4
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert r.difference == pytest.approx(0.013, abs=1e-12)
    assert r.ci_low == pytest.approx(0.013 - half, rel=1e-10)
    assert r.ci_high == pytest.approx(0.013 + half, rel=1e-10)
    # P(A > B) over the 5 pairs: 4 wins and one tie -> 4.5/5
    assert r.prob_improvement == pytest.approx(0.9)
    # sign flip: |sum d| = 0.065; d has a zero, so 16 distinct patterns, each counted twice;
    # only all-plus and all-minus of the nonzero d reach 0.065 -> 2*2/32
    assert r.nonparametric_test == "sign_flip_exact"
    assert r.nonparametric_p == pytest.approx(4 / 32)


def test_sign_flip_exact_hand_enumeration():
    # d = 1, 2, 3, -4: sum 2; the 16 sums 10 - 2*(subset sum) are
    # 10 8 6 4 2 4 2 0 0 -2 -4 -2 -4 -6 -8 -10: all but the two zeros have |sum| >= 2
    r = S.compare([1.0, 2.0, 3.0, 0.0], [0.0, 0.0, 0.0, 4.0], paired=True)
    assert r.nonparametric_p == pytest.approx(14 / 16)
    # all 5 differences positive: only all-plus and all-minus are as extreme -> 2/32
    r = S.compare([1.0, 2.1, 3.0, 4.2, 5.0], [0.5, 1.0, 1.2, 2.0, 1.0], paired=True)
    assert r.nonparametric_p == pytest.approx(0.0625)


def test_mann_whitney_exact_enumerable_case():
    # every a above every b: U = 6 is the single most extreme of the C(5, 2) = 10 equally likely
    # splits, so the one-sided p is 1/10 and the two-sided 2/10
    r = S.compare([3.0, 4.0, 5.0], [1.0, 2.0])
    assert r.nonparametric_p == pytest.approx(0.2)
    assert r.prob_improvement == 1.0


def test_mann_whitney_with_ties_is_exact_permutation():
    # pooled 1,2,2,2,3 -> midranks 1,3,3,3,5; a = {1,2,2} has rank sum 7, U = 7 - 6 = 1.
    # Rank sums of the 10 size-3 subsets: 7 (3 subsets), 9 (4), 11 (3) -> U = 1, 3, 5 with
    # probabilities 0.3, 0.4, 0.3; P(U <= 1) = 0.3 -> two-sided 0.6.
    # (scipy's exact method ignores ties and says 0.4 here.)
    r = S.compare([1.0, 2.0, 2.0], [2.0, 3.0])
    assert r.nonparametric_test == "mann_whitney_permutation"
    assert r.nonparametric_p == pytest.approx(0.6)


def test_prob_improvement_with_tie_by_hand():
    # pairs (a, b): (1,2) 0, (1,2.5) 0, (2,2) 1/2, (2,2.5) 0, (3,2) 1, (3,2.5) 1 -> 2.5/6
    r = S.compare([1.0, 2.0, 3.0], [2.0, 2.5])
    assert r.prob_improvement == pytest.approx(2.5 / 6)
    # paired: 1 > 0 win, 2 = 2 tie, 3 < 4 loss -> 1.5/3
    assert S.compare([1.0, 2.0, 3.0], [0.0, 2.0, 4.0], paired=True).prob_improvement == pytest.approx(0.5)


def test_compare_degenerate_inputs():
    same = S.compare([0.95] * 5, [0.95] * 5)
    assert same.p_value == 1.0 and same.statistic is None and same.reason
    assert same.difference == pytest.approx(0.0) and same.ci_low == same.ci_high
    differ = S.compare([0.95] * 5, [0.90] * 5)
    assert differ.p_value == 0.0 and differ.reason
    assert differ.difference == pytest.approx(0.05)
    # the non-parametric check still works: 5 vs 5 fully separated -> 2/C(10,5) = 2/252
    assert differ.nonparametric_p == pytest.approx(2 / 252)
    single = S.compare([0.95], [0.90, 0.91, 0.92])
    assert single.p_value is None and single.ci_low is None and "fewer than 2" in single.reason
    assert single.difference == pytest.approx(0.04)
    # zero variance in one group only is an ordinary Welch test (df = n_b - 1)
    one_flat = S.compare([0.95] * 5, B)
    assert one_flat.reason is None and one_flat.df == pytest.approx(5.0)
    assert one_flat.p_value == pytest.approx(stats.ttest_ind([0.95] * 5, B, equal_var=False).pvalue, rel=1e-10)
    paired_same = S.compare([0.9, 0.8, 0.7], [0.9, 0.8, 0.7], paired=True)
    assert paired_same.p_value == 1.0 and paired_same.reason
    paired_shift = S.compare([1.5, 2.5, 3.5], [1.0, 2.0, 3.0], paired=True)
    assert paired_shift.p_value == 0.0 and paired_shift.reason
    assert S.compare([0.9], [0.8], paired=True).p_value is None
    for r in (same, differ, single, one_flat, paired_same, paired_shift):
        assert_no_nan(r)
    with pytest.raises(ValueError):
        S.compare([0.9, 0.8], [0.9, 0.8, 0.7], paired=True)


# --------------------------------------------------------------------------- holm

def test_holm_hand_example():
    # sorted 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> running max 0.06
    assert S.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_none_cap_and_edges():
    out = S.holm([0.01, None, 0.04, 0.03, None, 0.005])
    assert out[1] is None and out[4] is None
    assert [out[i] for i in (0, 2, 3, 5)] == pytest.approx([0.03, 0.06, 0.06, 0.02])  # m = 4, not 6
    assert S.holm([0.5, 0.6]) == [1.0, 1.0]  # 0.5*2 = 1.0, then max(1.0, 0.6)
    assert S.holm([0.02]) == [0.02]
    assert S.holm([None, None]) == [None, None]
    assert S.holm([]) == []
    with pytest.raises(ValueError):
        S.holm([0.1, float("nan")])
    with pytest.raises(ValueError):
        S.holm([1.2])


# --------------------------------------------------------------------------- seeds_needed

def _power_nct(effect, n, alpha=0.05, paired=False):
    df, nc = (n - 1, effect * math.sqrt(n)) if paired else (2 * n - 2, effect * math.sqrt(n / 2))
    crit = stats.t.ppf(1 - alpha / 2, df)
    return stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc)


def test_seeds_needed_textbook_cases():
    r = S.seeds_needed(1.0, 1.0)  # d = 1: 17 per group (power 0.807; 16 gives 0.781)
    assert (r.n, r.more_than_cap) == (17, False)
    assert S.seeds_needed(0.5, 1.0).n == 64  # d = 0.5: 64 per group
    assert S.seeds_needed(0.02, 0.02).n == 17  # only the ratio matters
    assert S.seeds_needed(-1.0, 1.0).n == 17  # two-sided: the sign does not matter
    assert S.seeds_needed(1.0, 1.0, paired=True).n == 10  # d_z = 1: 10 pairs (power 0.803)


def test_seeds_needed_is_smallest_n_by_brute_force():
    for effect, paired in [(1.0, False), (0.8, False), (1.5, True), (0.6, True)]:
        n = S.seeds_needed(effect, 1.0, paired=paired).n
        powers = {k: _power_nct(effect, k, paired=paired) for k in range(2, n + 1)}
        assert powers[n] >= 0.8
        assert all(powers[k] < 0.8 for k in range(2, n))


def test_seeds_needed_power_by_simulated_t_tests():
    # brute force: 20 000 simulated experiments of n = 16 and 17 seeds per group at d = 1;
    # the fraction of two-sided Welch/pooled tests with p < 0.05 is the power
    rng = np.random.default_rng(7)
    for n, expected in [(16, _power_nct(1.0, 16)), (17, _power_nct(1.0, 17))]:
        a = rng.normal(1.0, 1.0, (20000, n))
        b = rng.normal(0.0, 1.0, (20000, n))
        simulated = np.mean(stats.ttest_ind(a, b, axis=1).pvalue < 0.05)
        assert simulated == pytest.approx(expected, abs=0.012)  # 3.5 standard errors
    assert _power_nct(1.0, 16) < 0.8 <= _power_nct(1.0, 17)


def test_seeds_needed_explicit_cases():
    zero = S.seeds_needed(0.0, 1.0, cap=50)
    assert zero.more_than_cap and zero.n == 51 and zero.power is None
    flat = S.seeds_needed(0.01, 0.0)
    assert flat.n == 2 and not flat.more_than_cap
    tiny = S.seeds_needed(0.1, 1.0, cap=100)  # d = 0.1 needs about 1571 per group
    assert tiny.more_than_cap and tiny.n == 101
    with pytest.raises(ValueError):
        S.seeds_needed(1.0, -1.0)


# --------------------------------------------------------------------------- failure rates

def test_clopper_pearson_textbook_and_beta_formula():
    r = S.clopper_pearson(0, 5)
    assert r.low == 0.0
    assert r.high == pytest.approx(1 - 0.025 ** (1 / 5), rel=1e-10)  # closed form for k = 0
    assert r.high == pytest.approx(0.5218, abs=1e-4)
    r = S.clopper_pearson(2, 5)
    assert r.rate == 0.4
    assert r.low == pytest.approx(stats.beta.ppf(0.025, 2, 4), rel=1e-10)
    assert r.high == pytest.approx(stats.beta.ppf(0.975, 3, 3), rel=1e-10)
    ci = stats.binomtest(2, 5).proportion_ci(0.95, method="exact")
    assert (r.low, r.high) == (pytest.approx(ci.low, rel=1e-8), pytest.approx(ci.high, rel=1e-8))
    full = S.clopper_pearson(5, 5)
    assert full.high == 1.0 and full.low == pytest.approx(0.025 ** (1 / 5), rel=1e-10)
    assert S.clopper_pearson(0, 0).rate is None
    with pytest.raises(ValueError):
        S.clopper_pearson(6, 5)


def test_fisher_against_scipy_and_hand():
    r = S.fisher(2, 5, 0, 5)
    assert (r.rate_a, r.rate_b) == (0.4, 0.0)
    assert r.p_value == pytest.approx(stats.fisher_exact([[2, 3], [0, 5]]).pvalue, rel=1e-12)
    # 0/5 vs 5/5: only the two most extreme tables, each 1/C(10,5) -> 2/252
    assert S.fisher(0, 5, 5, 5).p_value == pytest.approx(2 / 252)
    assert S.fisher(1, 8, 4, 6).p_value == pytest.approx(stats.fisher_exact([[1, 7], [4, 2]]).pvalue, rel=1e-12)
    none = S.fisher(0, 0, 1, 5)
    assert none.p_value is None and none.rate_a is None and none.reason
    assert_no_nan(none)


def test_split_failures_threshold_and_missing():
    s = S.split_failures([0.96, 0.11, None, float("nan"), 0.2, 0.19])
    assert s.learned_indices == [0, 4]  # 0.2 is exactly twice chance: learned
    assert s.learned_values == [0.96, 0.2]
    assert s.failed_indices == [1, 2, 3, 5]
    assert s.failed_values == [0.11, None, None, 0.19]
    assert s.missing_indices == [2, 3]
    assert (s.n, s.n_failed) == (6, 4)
    assert S.split_failures([0.5, 0.3], threshold=0.4).failed_indices == [1]


def test_bimodal_variant_failures_kept_apart():
    values = [0.962, 0.108, 0.958, 0.965, 0.113]  # 3 runs learned, 2 stayed near chance
    r = S.summarize_variant(values)
    assert r.split.failed_indices == [1, 4]
    assert (r.failures.k, r.failures.n) == (2, 5)
    assert r.failures.low == pytest.approx(stats.beta.ppf(0.025, 2, 4), rel=1e-10)
    assert r.failures.high == pytest.approx(stats.beta.ppf(0.975, 3, 3), rel=1e-10)
    learned = [0.962, 0.958, 0.965]
    assert r.accuracy.n == 3
    assert r.accuracy.mean == pytest.approx(sum(learned) / 3, rel=1e-12)  # not the bimodal 0.621
    assert r.accuracy.std == pytest.approx(np.std(learned, ddof=1), rel=1e-12)
    half = stats.t.ppf(0.975, 2) * np.std(learned, ddof=1) / math.sqrt(3)
    assert r.accuracy.ci_high == pytest.approx(r.accuracy.mean + half, rel=1e-10)
    assert (r.spread.min, r.spread.median, r.spread.max) == (0.958, 0.962, 0.965)
    assert r.prediction.n == 3
    assert_no_nan(r)


# --------------------------------------------------------------------------- best of several

def test_compare_to_best_holm_family_is_all_pairs():
    variants = {"lr0.01": [0.90, 0.91, 0.89, 0.92, 0.90],
                "lr0.05": [0.95, 0.96, 0.94, 0.97, 0.95],
                "lr0.1": [0.93, 0.94, 0.92, 0.94, 0.95]}
    r = S.compare_to_best(variants)
    assert r.best == "lr0.05" and r.m == 3
    p = {pair: stats.ttest_ind(variants[pair[0]], variants[pair[1]], equal_var=False).pvalue
         for pair in [("lr0.05", "lr0.01"), ("lr0.05", "lr0.1"), ("lr0.01", "lr0.1")]}
    # Holm by hand over the three pairwise p values
    order = sorted(p, key=p.get)
    adjusted, running = {}, 0.0
    for rank, pair in enumerate(order):
        running = max(running, min(1.0, (3 - rank) * p[pair]))
        adjusted[pair] = running
    assert r.p_holm["lr0.01"] == pytest.approx(adjusted[("lr0.05", "lr0.01")], rel=1e-10)
    assert r.p_holm["lr0.1"] == pytest.approx(adjusted[("lr0.05", "lr0.1")], rel=1e-10)
    assert r.comparisons["lr0.1"].difference == pytest.approx(0.954 - 0.936, abs=1e-12)  # means 4.77/5 and 4.68/5


def _sweeps(means, n_sweeps, rng):
    """Fraction of sweeps in which compare_to_best claims "best > X" for any / every other X."""
    any_claim = all_claims = 0
    right_best = 0
    for _ in range(n_sweeps):
        variants = {f"v{i}": rng.normal(m, 1.0, 5) for i, m in enumerate(means)}
        r = S.compare_to_best(variants)
        claims = [p is not None and p < 0.05 for p in r.p_holm.values()]
        any_claim += any(claims)
        all_claims += all(claims)
        right_best += r.best == f"v{int(np.argmax(means))}"
    return any_claim / n_sweeps, all_claims / n_sweeps, right_best / n_sweeps


def test_simulated_sweeps_false_claims_and_power():
    """3 variants x 5 seeds, the best (highest mean) tested against the other two.

    Selecting the best first matters: under identical distributions best-vs-worst is the
    largest of the three pairwise differences, so a Holm family of only the two
    best-vs-other tests under-corrects. Measured with 20 000 sweeps (numpy seed 2024):
    5.3 % of sweeps with a false "better" claim (standard error 0.16 %) - above 5 %.
    compare_to_best therefore puts ALL three pairwise tests in the Holm family; that family
    contains every best-vs-X hypothesis the selection can produce, so Holm's family-wise
    error bound (<= 5 %, for any dependence) covers the selected claims: measured 3.5 %
    with 20 000 sweeps. Power, means 0, 3 and 6 sd: the best is claimed better than BOTH
    others in 97.9 % of 5 000 sweeps.
    """
    rng = np.random.default_rng(20240601)
    false_any, _, _ = _sweeps([0.0, 0.0, 0.0], 200, rng)
    assert false_any <= 0.05
    claimed_any, claimed_all, right_best = _sweeps([0.0, 3.0, 6.0], 200, rng)
    assert right_best == 1.0
    assert claimed_all >= 0.95
    print(f"false-claim rate {false_any:.3f}, power (better than both) {claimed_all:.3f}")
