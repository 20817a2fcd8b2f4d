"""report.stats against hand computations and scipy applied directly to fixed data.

Every known answer here is computed independently of the function under test: by hand (the
arithmetic is in the comments), by the textbook formula, or by calling scipy directly.
"""

import dataclasses
import itertools
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


# --------------------------------------------------------------------------- k variants: Friedman

def _friedman_stat(*samples, axis):
    return stats.friedmanchisquare(*samples, axis=axis).statistic


def _kruskal_stat(*samples, axis):
    return stats.kruskal(*samples, axis=axis).statistic


# 4 seeds x 3 variants with a failed run (0.1) and ties within blocks
TABLE_TIES = [[0.91, 0.93, 0.92],
              [0.95, 0.94, 0.94],
              [0.10, 0.96, 0.97],
              [0.93, 0.10, 0.93]]


def test_friedman_statistic_is_scipys_with_and_without_ties():
    rng = np.random.default_rng(11)
    tables = [rng.normal(size=(5, k)) for k in (3, 4, 5, 6)]
    tables.append(np.array(TABLE_TIES))
    tables.append(np.where(rng.random((5, 4)) < 0.4, 0.1135, rng.normal(0.97, 0.01, (5, 4))))  # failures tie
    for table in tables:
        r = S.friedman(table.tolist())
        assert r.test == "friedman" and r.reason is None
        assert (r.n, r.k) == table.shape
        assert r.statistic == pytest.approx(stats.friedmanchisquare(*table.T).statistic, rel=1e-12)
        assert_no_nan(r)


def test_friedman_exact_p_is_permutation_test_over_all_within_block_orders():
    for table in (TABLE_TIES, [[0.91, 0.93, 0.92], [0.95, 0.97, 0.94], [0.90, 0.96, 0.97], [0.93, 0.95, 0.94]]):
        data = tuple(np.array(table).T)  # samples = variants; permutation_type="samples" permutes within seeds
        ref = stats.permutation_test(data, _friedman_stat, permutation_type="samples", n_resamples=np.inf,
                                     alternative="greater", vectorized=True)
        r = S.friedman(table)
        assert r.method == "exact"
        assert r.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    # k = 4, n = 3 (24^3 = 13 824 orders), one more shape
    table = np.random.default_rng(5).normal(size=(3, 4))
    ref = stats.permutation_test(tuple(table.T), _friedman_stat, permutation_type="samples", n_resamples=np.inf,
                                 alternative="greater", vectorized=True)
    assert S.friedman(table.tolist()).p_value == pytest.approx(ref.pvalue, rel=1e-12)


def test_friedman_two_variants_is_two_sided_sign_test():
    # variant 1 higher in 1 block, variant 2 in 4, one tied block (which the sign test drops)
    table = [[1, 2], [3, 1], [2, 5], [4, 4], [1, 3], [0, 9]]
    r = S.friedman(table)
    assert r.k == 2 and r.method == "exact"
    assert r.p_value == pytest.approx(stats.binomtest(1, 5).pvalue, rel=1e-12)  # 0.375
    # the statistic is then the sign-test chi-square (W - L)^2 / (W + L) = 9 / 5
    assert r.statistic == pytest.approx(9 / 5, rel=1e-12)


def test_friedman_monte_carlo_close_to_exact_and_reproducible(monkeypatch):
    table = [[0.91, 0.93, 0.92], [0.95, 0.97, 0.94], [0.90, 0.96, 0.97], [0.93, 0.95, 0.94], [0.92, 0.93, 0.95]]
    exact = S.friedman(table)
    assert exact.method == "exact"
    monkeypatch.setattr(S, "_MAX_ENUMERATION", 0)
    mc = S.friedman(table, resamples=20000, seed=3)
    assert mc.method == "monte_carlo" and mc.statistic == exact.statistic
    se = math.sqrt(exact.p_value * (1 - exact.p_value) / 20000)
    assert abs(mc.p_value - exact.p_value) < 4 * se
    assert S.friedman(table, resamples=20000, seed=3) == mc  # bit for bit
    assert S.friedman(table, resamples=20000, seed=4).p_value != mc.p_value
    assert mc.min_p == pytest.approx(1 / 1296)  # the design's 6^-4, above the Monte Carlo floor 1/20001

def test_friedman_min_p_is_reached_by_concordant_blocks():
    # every seed ranks the variants the same way: 6 of the 6^5 = 7776 orders are as extreme
    table = [[0.90, 0.95, 0.97], [0.91, 0.94, 0.98], [0.89, 0.92, 0.96], [0.10, 0.93, 0.95], [0.90, 0.96, 0.97]]
    r = S.friedman(table)
    assert r.min_p == pytest.approx(6 / 6 ** 5) and r.p_value == pytest.approx(r.min_p)  # 1/1296
    assert r.statistic == pytest.approx(10.0)  # n (k - 1) = 5 * 2: the largest possible
    assert S.friedman([[1, 2]] * 5).min_p == S.sign_flip_min_p(5) == 0.0625
    assert S.friedman([[1, 2]] * 5).p_value == pytest.approx(0.0625)
    # 5 variants x 5 seeds is Monte Carlo: min_p is floored at 1 / (1 + resamples)
    rmc = S.friedman(np.tile(np.arange(5.0), (5, 1)).tolist(), resamples=999)
    assert rmc.method == "monte_carlo" and rmc.min_p == pytest.approx(1 / 1000) and rmc.p_value == pytest.approx(1 / 1000)


def test_friedman_degenerate_and_invalid_inputs():
    one = S.friedman([[0.9, 0.8, 0.7]])
    assert one.p_value is None and one.statistic is None and "fewer than 2 blocks" in one.reason
    assert one.min_p == 1.0
    flat = S.friedman([[0.9, 0.9, 0.9], [0.8, 0.8, 0.8]])
    assert flat.p_value == 1.0 and flat.statistic is None and flat.reason
    partly = S.friedman([[0.9, 0.9, 0.9], [0.8, 0.7, 0.6], [0.5, 0.6, 0.4]])  # one tied block is fine
    assert partly.reason is None
    assert partly.statistic == pytest.approx(stats.friedmanchisquare([0.9, 0.8, 0.5], [0.9, 0.7, 0.6],
                                                                     [0.9, 0.6, 0.4]).statistic)
    for r in (one, flat, partly):
        assert_no_nan(r)
    for bad in ([[0.9], [0.8]], [[0.9, None], [0.8, 0.7]], [[0.9, float("nan")], [0.8, 0.7]],
                [[0.9, 0.8], [0.7]], [], [0.9, 0.8]):
        with pytest.raises(ValueError):
            S.friedman(bad)
    with pytest.raises(ValueError):
        S.friedman([[0.9, 0.8], [0.7, 0.6]], resamples=0)


# --------------------------------------------------------------------------- k variants: Kruskal-Wallis

GROUPS_TIES = [[0.91, 0.10, 0.93], [0.10, 0.95, 0.97], [0.92, 0.10]]  # failed runs tie at 0.10


def test_kruskal_statistic_is_scipys_with_and_without_ties():
    rng = np.random.default_rng(12)
    cases = [GROUPS_TIES, [list(rng.normal(size=s)) for s in (5, 5, 5)], [list(rng.normal(size=s)) for s in (2, 6, 3, 5)],
             [[0.1135, 0.97, 0.96, 0.1135, 0.98], [0.95, 0.1135, 0.97, 0.96, 0.95], [0.94, 0.95, 0.95, 0.1135, 0.1135]]]
    for groups in cases:
        r = S.kruskal(groups)
        assert r.test == "kruskal" and r.reason is None
        assert (r.n, r.k) == (sum(map(len, groups)), len(groups))
        assert r.statistic == pytest.approx(stats.kruskal(*groups).statistic, rel=1e-12)
        assert_no_nan(r)


def test_kruskal_exact_p_is_permutation_test_over_all_assignments():
    rng = np.random.default_rng(13)
    for groups in (GROUPS_TIES, [list(rng.normal(size=s)) for s in (4, 3, 2)],
                   [[0.1, 0.96, 0.97, 0.1], [0.95, 0.1, 0.1, 0.98], [0.94, 0.97, 0.95, 0.1]]):
        ref = stats.permutation_test(groups, _kruskal_stat, permutation_type="independent", n_resamples=np.inf,
                                     alternative="greater", vectorized=True)
        r = S.kruskal(groups)
        assert r.method == "exact"
        assert r.p_value == pytest.approx(ref.pvalue, rel=1e-12)


def test_kruskal_assignments_are_all_distinct_ones():
    labels = S._assignments((2, 2, 1))
    assert labels.shape == (30, 5)  # 5! / (2! 2! 1!)
    assert len({tuple(row) for row in labels}) == 30
    assert all(sorted(row) == [0, 0, 1, 1, 2] for row in labels.tolist())


def test_kruskal_monte_carlo_close_to_exact_reproducible_and_float_fallback(monkeypatch):
    groups = [[0.91, 0.93, 0.1, 0.95], [0.94, 0.96, 0.97, 0.1], [0.1, 0.92, 0.9, 0.93]]
    exact = S.kruskal(groups)
    assert exact.method == "exact"
    monkeypatch.setattr(S, "_INT_SCORE_LIMIT", 0)  # float scores with the 1e-12 tolerance
    S._kruskal_null.cache_clear()
    assert S.kruskal(groups).p_value == pytest.approx(exact.p_value, rel=1e-12)
    monkeypatch.setattr(S, "_MAX_KRUSKAL_ENUMERATION", 0)
    mc_float = S.kruskal(groups, seed=8)
    monkeypatch.setattr(S, "_INT_SCORE_LIMIT", 2 ** 62)
    mc = S.kruskal(groups, seed=8)
    assert mc.method == "monte_carlo" and mc.statistic == exact.statistic
    assert mc_float.p_value == mc.p_value
    se = math.sqrt(exact.p_value * (1 - exact.p_value) / 20000)
    assert abs(mc.p_value - exact.p_value) < 4 * se
    assert S.kruskal(groups, seed=8) == mc  # bit for bit
    S._kruskal_null.cache_clear()


def test_kruskal_min_p_by_brute_force():
    # 2 groups of 5: the exact Mann-Whitney minimum 2/252
    assert S.kruskal([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]).min_p == pytest.approx(2 / 252)
    assert S.kruskal([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]).p_value == pytest.approx(2 / 252)
    # unequal sizes: the fraction of all assignments of ranks 1..N reaching scipy's largest H
    for sizes in ((3, 2, 2), (4, 2, 1), (3, 3, 2)):
        n = sum(sizes)
        hs = []
        for perm in set(itertools.permutations(sum(([j] * s for j, s in enumerate(sizes)), []))):
            groups = [[i for i in range(n) if perm[i] == j] for j in range(len(sizes))]
            hs.append(stats.kruskal(*groups).statistic)
        hs = np.array(hs)
        brute = np.mean(hs >= hs.max() - 1e-9)
        groups = [list(range(sum(sizes[:j]), sum(sizes[:j + 1]))) for j in range(len(sizes))]
        assert S.kruskal(groups).min_p == pytest.approx(brute, rel=1e-12)
    # 3 groups of 5 (Monte Carlo): 3! 5!^3 / 15! = 7.9e-6, floored at 1 / (1 + resamples)
    r = S.kruskal([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12, 13, 14, 15]], resamples=999)
    assert r.method == "monte_carlo" and r.min_p == pytest.approx(1 / 1000) and r.p_value == pytest.approx(1 / 1000)
    assert S._kruskal_min_p((5, 5, 5)) == pytest.approx(6 / 756756)


def test_kruskal_degenerate_and_invalid_inputs():
    flat = S.kruskal([[0.9, 0.9], [0.9, 0.9, 0.9]])
    assert flat.p_value == 1.0 and flat.statistic is None and flat.reason
    assert_no_nan(flat)
    singles = S.kruskal([[0.9], [0.8], [0.7]])  # 3! assignments, all with the same H
    assert singles.p_value == 1.0 and singles.method == "exact"
    for bad in ([[0.9, 0.8]], [], [[0.9], []], [[0.9, None], [0.8]], [[0.9, float("inf")], [0.8]]):
        with pytest.raises(ValueError):
            S.kruskal(bad)


# --------------------------------------------------------------------------- validity under H0

def test_friedman_and_kruskal_hold_their_level_under_identical_distributions():
    """2 000 seeded 5-seed x 3-variant tables of identical variants: normal noise, the same
    with a failure mode (each value with probability 0.3 replaced by 0.1 + tiny noise) and
    with failures that tie exactly (0.1135, the accuracy of predicting a constant digit).
    The rejection rate at 0.05 must be <= 0.05 + 2 standard errors (0.0597). Friedman: the
    exact path (6^5 orders); Kruskal-Wallis 3 x 5 is Monte Carlo (199 resamples keep it fast
    and are exact-level: p <= 0.05 means at most 9 of 199 above), and 3 x 4 (34 650
    assignments) exercises its exact path with ties. The exact tests are
    conservative (discrete): the exact size at 0.05 is 0.0394 for Friedman 3 x 5 and 0.0487
    for Kruskal-Wallis 3 x 4 without ties (measured outside the suite with 10 000 tables:
    0.0385 and 0.052; Monte Carlo 3 x 5, 20 000 tables: 0.0509). A shift of 2 sd in one
    variant is found in more than 40 % of tables (measured 0.575 for Friedman)."""
    rng = np.random.default_rng(2024)
    normal = rng.normal(size=(2000, 5, 3))
    fail = rng.random(normal.shape) < 0.3
    bimodal = np.where(fail, 0.1 + 1e-4 * rng.normal(size=normal.shape), normal)
    tied = np.where(fail, 0.1135, normal)
    bound = 0.05 + 2 * math.sqrt(0.05 * 0.95 / 2000)
    for name, data in (("normal", normal), ("bimodal", bimodal), ("tied", tied)):
        rates = {
            "friedman": np.mean([S.friedman(t).p_value <= 0.05 for t in data]),
            "kruskal_mc": np.mean([S.kruskal(t.T, resamples=199).p_value <= 0.05 for t in data]),
        }
        if name == "tied":
            rates["kruskal_exact"] = np.mean([S.kruskal(t[:4].T).p_value <= 0.05 for t in data])
        print(name, {key: round(float(v), 4) for key, v in rates.items()})
        for key, rate in rates.items():
            assert rate <= bound, (name, key, rate)
        assert rates["friedman"] >= 0.02  # not trivially conservative (exact size for 3 x 5: 0.0394)
    shifted = normal[:200] + np.array([0.0, 0.0, 2.0])
    assert np.mean([S.friedman(t).p_value <= 0.05 for t in shifted]) > 0.4  # measured 0.575
    assert np.mean([S.kruskal(t.T, resamples=199).p_value <= 0.05 for t in shifted]) > 0.4


# --------------------------------------------------------------------------- smallest attainable p

def test_min_p_known_answers_and_brute_force():
    assert S.mann_whitney_min_p(5, 5) == pytest.approx(2 / 252)
    assert S.mann_whitney_min_p(5, 5) == pytest.approx(
        stats.mannwhitneyu([6, 7, 8, 9, 10], [1, 2, 3, 4, 5], method="exact").pvalue, rel=1e-12)
    assert S.mann_whitney_min_p(3, 3) == pytest.approx(0.1)
    assert S.mann_whitney_min_p(1, 1) == 1.0 and S.mann_whitney_min_p(0, 5) == 1.0
    assert S.sign_flip_min_p(5) == 0.0625
    assert S.sign_flip_min_p(5) == pytest.approx(stats.binomtest(5, 5).pvalue, rel=1e-12)
    assert S.sign_flip_min_p(1) == 1.0 and S.sign_flip_min_p(0) == 1.0
    # the sign-flip minimum is what compare() reports for 5 same-sign differences
    assert S.compare([1, 2, 3, 4, 5], [0, 1, 2, 3, 4], paired=True).nonparametric_p == pytest.approx(S.sign_flip_min_p(5))
    assert S.fisher_min_p(5, 5) == pytest.approx(2 / 252)  # 0.0079: 0/5 against 5/5
    for n_a, n_b in ((5, 5), (3, 7), (2, 6), (4, 1)):
        brute = min(stats.fisher_exact([[i, n_a - i], [j, n_b - j]]).pvalue
                    for i in range(n_a + 1) for j in range(n_b + 1))
        assert S.fisher_min_p(n_a, n_b) == pytest.approx(brute, rel=1e-12)
    assert S.fisher_min_p(0, 5) == 1.0
    with pytest.raises(ValueError):
        S.mann_whitney_min_p(-1, 5)
    with pytest.raises(ValueError):
        S.sign_flip_min_p(2.5)


# --------------------------------------------------------------------------- min_detectable_difference

def _power_both_tails(effect, n, alpha=0.05, paired=False):
    """_power_nct with the lower tail as P(T > crit) at noncentrality -nc (the same
    probability): scipy's nct.cdf(-crit, df, nc) is NaN when nc is large."""
    df, nc = (n - 1, effect * math.sqrt(n)) if paired else (2 * n - 2, effect * math.sqrt(n / 2))
    crit = stats.t.ppf(1 - alpha / 2, df)
    return stats.nct.sf(crit, df, nc) + stats.nct.sf(crit, df, -nc)


def test_t_power_lower_tail_is_nan_at_large_noncentrality():
    """A property of scipy 1.17 that min_detectable_difference works around (and that makes
    the existing _t_power NaN at, e.g., 2 pairs and effect 11.5): where both are finite the
    two forms of the lower tail agree."""
    crit = stats.t.ppf(0.975, 1)
    assert math.isnan(stats.nct.cdf(-crit, 1, 11.55 * math.sqrt(2)))
    assert 0 <= stats.nct.sf(crit, 1, -11.55 * math.sqrt(2)) < 1e-12
    for df, nc in ((4, 1.0), (8, 3.0), (2, 2.5)):
        c = stats.t.ppf(0.975, df)
        assert stats.nct.cdf(-c, df, nc) == pytest.approx(stats.nct.sf(c, df, -nc), rel=1e-8)


def test_min_detectable_difference_inverts_the_power_function():
    # G*Power, one-sample t, two-sided, alpha 0.05, power 0.8, n = 5: effect size 1.68
    assert S.min_detectable_difference(1.0, 5, paired=True) == pytest.approx(1.68, abs=0.005)
    for n in (2, 3, 5, 10):
        for paired in (True, False):
            for alpha, power in ((0.05, 0.8), (0.0167, 0.9)):
                mdd = S.min_detectable_difference(0.02, n, alpha, power, paired)
                assert _power_both_tails(mdd / 0.02, n, alpha, paired) == pytest.approx(power, abs=1e-6)
                existing = S._t_power(mdd / 0.02, n, alpha, paired)
                # scipy's nct.cdf(-crit, df, nc) is NaN at large nc (here: paired n = 2, and n = 3
                # at alpha 0.0167, power 0.9); wherever _t_power is finite it agrees
                assert math.isnan(existing) or existing == pytest.approx(power, abs=1e-6)
                if (n, paired) in ((5, True), (5, False), (10, True), (10, False)):
                    assert existing == pytest.approx(power, abs=1e-6)
                # linear in sd
                assert S.min_detectable_difference(0.04, n, alpha, power, paired) == pytest.approx(2 * mdd, rel=1e-9)
    # consistent with seeds_needed: just above the MDD, n seeds are enough; n - 1 are not
    mdd = S.min_detectable_difference(0.01, 5)
    assert S.seeds_needed(mdd * 1.001, 0.01).n == 5
    assert S.seeds_needed(mdd * 0.999, 0.01).n == 6


def test_min_detectable_difference_by_simulated_t_tests():
    # 20 000 simulated experiments at the MDD: the fraction of t-tests with p < 0.05 is the power
    rng = np.random.default_rng(99)
    sd = 0.01
    d = S.min_detectable_difference(sd, 5, paired=True)
    diffs = rng.normal(d, sd, (20000, 5))
    assert np.mean(stats.ttest_1samp(diffs, 0.0, axis=1).pvalue < 0.05) == pytest.approx(0.8, abs=0.02)
    d = S.min_detectable_difference(sd, 5, paired=False)
    a, b = rng.normal(d, sd, (20000, 5)), rng.normal(0.0, sd, (20000, 5))
    assert np.mean(stats.ttest_ind(a, b, axis=1).pvalue < 0.05) == pytest.approx(0.8, abs=0.02)


def test_min_detectable_difference_explicit_cases():
    assert S.min_detectable_difference(None, 5) is None
    assert S.min_detectable_difference(0.01, 1) is None
    assert S.min_detectable_difference(0.01, 1, paired=True) is None
    assert S.min_detectable_difference(0.0, 5) == 0.0
    for kwargs in (dict(sd=-1.0, n=5), dict(sd=float("nan"), n=5), dict(sd=1.0, n=5, power=0.04),
                   dict(sd=1.0, n=5, alpha=0.0), dict(sd=1.0, n=2.5)):
        with pytest.raises(ValueError):
            S.min_detectable_difference(**kwargs)


# --------------------------------------------------------------------------- prob_improvement_interval

def test_prob_improvement_interval_is_the_stratified_percentile_bootstrap():
    a, b = [0.95, 0.96, 0.94, 0.97, 0.93], [0.94, 0.95, 0.93, 0.92, 0.96]
    low, high = S.prob_improvement_interval(a, b)
    point = S.compare(a, b).prob_improvement  # 16.5 / 25 (one tie)
    assert low <= point <= high and low < high
    # by hand: resample a and b separately with the same generator calls, all (a_i, b_j) pairs
    rng = np.random.default_rng(0)
    x, y = np.array(a), np.array(b)
    xa, yb = x[rng.integers(0, 5, (2000, 5))], y[rng.integers(0, 5, (2000, 5))]
    diff = xa[:, :, None] - yb[:, None, :]
    boot = ((diff > 0).sum(axis=(1, 2)) + 0.5 * (diff == 0).sum(axis=(1, 2))) / 25
    assert (low, high) == (pytest.approx(np.quantile(boot, 0.025), abs=1e-12),
                           pytest.approx(np.quantile(boot, 0.975), abs=1e-12))
    # paired: resample the pairs
    low_p, high_p = S.prob_improvement_interval(a, b, paired=True)
    d = np.subtract(a, b)  # 0.01, 0.01, 0.01, 0.05, -0.03: 4 wins of 5
    rng = np.random.default_rng(0)
    boot = (d[rng.integers(0, 5, (2000, 5))] > 0).mean(axis=1)
    assert (low_p, high_p) == (pytest.approx(np.quantile(boot, 0.025), abs=1e-12),
                               pytest.approx(np.quantile(boot, 0.975), abs=1e-12))
    assert low_p <= 0.8 <= high_p


def test_prob_improvement_interval_separation_reproducibility_and_edges():
    a, b = [0.97, 0.96, 0.98, 0.97, 0.96], [0.10, 0.95, 0.94, 0.11, 0.93]
    assert S.prob_improvement_interval(a, b) == (1.0, 1.0)  # the known weakness: collapses
    assert S.prob_improvement_interval(a, b, paired=True) == (1.0, 1.0)
    assert S.prob_improvement_interval(b, a) == (0.0, 0.0)
    c, d = [0.951, 0.972, 0.933, 0.964, 0.948, 0.957], [0.955, 0.941, 0.962, 0.938, 0.969, 0.95]
    first = S.prob_improvement_interval(c, d, seed=0)
    assert S.prob_improvement_interval(c, d, seed=0) == first  # bit for bit
    # the end points sit on the lattice k/36, so other seeds often give the same interval; this one does not
    assert S.prob_improvement_interval(c, d, seed=1) != first
    narrow = S.prob_improvement_interval(c, d, level=0.5, seed=0)
    assert first[0] <= narrow[0] <= narrow[1] <= first[1]
    assert S.prob_improvement_interval([], [0.9]) == (None, None)
    assert S.prob_improvement_interval([0.9], [0.8], paired=True) == (None, None)
    assert S.prob_improvement_interval([0.9], [0.8, 0.7]) != (None, None)
    with pytest.raises(ValueError):
        S.prob_improvement_interval([0.9, 0.8], [0.7], paired=True)
    with pytest.raises(ValueError):
        S.prob_improvement_interval([0.9, None], [0.7])


def test_permutation_means_is_scipys_exact_permutation_test():
    a, b = [0.95, 0.96, 0.91, 0.97, 0.93], [0.97, 0.98, 0.96, 0.99, 0.975]
    method, p = S.permutation_means(a, b)
    ref = stats.permutation_test((a, b), lambda x, y: abs(np.mean(x) - np.mean(y)),
                                       permutation_type="independent", n_resamples=np.inf, alternative="greater")
    assert method == "exact" and p == pytest.approx(ref.pvalue, rel=1e-12)
    # failed runs (bimodal data) are fine: the test assumes nothing of the shape
    assert S.permutation_means([0.1, 0.1, 0.1, 0.1, 0.1], [0.96, 0.97, 0.95, 0.96, 0.98])[1] == \
        pytest.approx(2 / 252)


def test_permutation_interval_is_the_set_of_shifts_the_test_does_not_reject():
    a, b = [0.95, 0.96, 0.91, 0.97, 0.93], [0.97, 0.98, 0.96, 0.99, 0.975]
    low, high = S.permutation_interval(a, b)
    assert low < np.mean(a) - np.mean(b) < high
    x = np.array(a)
    for end, out in ((low, -1), (high, 1)):
        assert S.permutation_means(x - (end + out * 1e-6), b)[1] <= 0.05 < S.permutation_means(
            x - (end - out * 1e-6), b)[1]
    assert S.permutation_interval([0.9, 0.91], [0.92, 0.93]) == (None, None)  # 2 v 2 never rejects


def test_page_trend_is_scipys_two_sided():
    table = [[0.90, 0.91, 0.93, 0.92], [0.88, 0.92, 0.91, 0.95], [0.9, 0.9, 0.94, 0.96], [0.91, 0.93, 0.92, 0.97],
             [0.89, 0.9, 0.95, 0.93]]
    t = S.page_trend(table)
    rising = stats.page_trend_test(table, method="exact")
    falling = stats.page_trend_test(np.array(table)[:, ::-1], method="exact")
    assert t.statistic == pytest.approx(rising.statistic) and t.direction == 1
    assert t.p_value == pytest.approx(min(1.0, 2 * min(rising.pvalue, falling.pvalue)), rel=1e-12)
    assert S.page_trend(np.array(table)[:, ::-1].tolist()).direction == -1
