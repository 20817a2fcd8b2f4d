"""Statistics for multi-seed training results: pure functions, no I/O.

Every function takes plain sequences of floats (one value per seed / run) and returns a
frozen dataclass of plain Python floats, ints, strings and lists; a quantity that is not
defined for the input is ``None``, never NaN (use ``dataclasses.asdict`` for a dict).

Conventions used throughout
---------------------------
* One value per run, e.g. the final test accuracy of each seed of one variant.
* Runs that *failed to learn* (final accuracy below twice chance, 0.2 for 10 classes) are a
  different population from runs that learned: a bimodal sample has no meaningful mean.
  Separate them first with :func:`split_failures`, report the failure rate with
  :func:`clopper_pearson` / :func:`fisher`, and compute accuracy statistics on the runs that
  learned only (:func:`summarize_variant` does all of this).
* The accuracy functions reject ``None``, NaN and infinite values (``ValueError``) instead
  of dropping them silently: missing runs must be handled explicitly by the caller.
* ``level`` is the coverage of two-sided intervals; p values are always two-sided (for the
  k-variant rank tests :func:`friedman` and :func:`kruskal`: the upper tail of a statistic
  that grows with differences in any direction).
* Pairing (``paired=True``) is the caller's decision: it is valid only when run i of both
  variants shares its seed, initial weights and data order (same architecture and
  initialisation), so that a[i] and b[i] are a matched pair.
* "Zero variance" means all values are equal up to a relative tolerance of 1e-12 (so that
  floating-point noise from arithmetic on equal accuracies does not count as spread).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from scipy import special

__all__ = [
    "MeanCI", "MedianRange", "PredictionInterval", "Comparison", "SeedsNeeded", "BinomialCI",
    "FisherResult", "Split", "VariantSummary", "BestComparison",
    "mean_ci", "median_range", "prediction_interval", "compare", "mann_whitney", "permutation_means", "permutation_interval", "page_trend", "TrendTest", "holm", "seeds_needed",
    "clopper_pearson", "fisher", "split_failures", "summarize_variant", "compare_to_best",
    "GroupTest", "friedman", "kruskal", "mann_whitney_min_p", "sign_flip_min_p", "fisher_min_p",
    "min_detectable_difference", "prob_improvement_interval",
]

_REL_TOL = 1e-12
# largest number of label assignments enumerated by the exact permutation tests
_MAX_ENUMERATION = 2 ** 20


# --------------------------------------------------------------------------- helpers

def _refuse_missing(values, name: str) -> None:
    if any(v is None for v in values):
        raise ValueError(f"{name} contains None: separate missing/failed runs with split_failures first")


def _refuse_nonfinite(x: np.ndarray, name: str) -> np.ndarray:
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf: separate missing/failed runs with split_failures first")
    return x


def _as_floats(values: Sequence[float], name: str = "values") -> np.ndarray:
    """1-D float array; ValueError on None, NaN or inf (missing runs are the caller's job)."""
    _refuse_missing(values, name)
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of floats, got shape {x.shape}")
    return _refuse_nonfinite(x, name)


def _check_level(level: float) -> None:
    if not (0.0 < level < 1.0):
        raise ValueError(f"level must be in (0, 1), got {level}")


def _all_equal(x: np.ndarray) -> bool:
    """True when the values are identical up to a relative tolerance of 1e-12."""
    if x.size == 0:
        return True
    return float(np.ptp(x)) <= _REL_TOL * max(1.0, float(np.max(np.abs(x))))


def _close(u: float, v: float) -> bool:
    return abs(u - v) <= _REL_TOL * max(1.0, abs(u), abs(v))


def _scipy_stats():
    """``scipy.stats``, imported when a test first needs it: the import takes about 0.8 s,
    more than the rest of a figure job, and intervals need only :func:`_t_quantile`."""
    from scipy import stats

    return stats


def _t_quantile(level: float, df: float) -> float:
    # scipy.stats.t.ppf(q, df) is scipy.special.stdtrit(df, q): the same number
    return float(special.stdtrit(df, 1.0 - (1.0 - level) / 2.0))


# --------------------------------------------------------------------------- one variant

@dataclass(frozen=True)
class MeanCI:
    n: int
    mean: float | None  # None for n = 0
    std: float | None  # sample standard deviation (ddof=1); None for n < 2
    ci_low: float | None  # two-sided t-interval for the mean; None for n < 2
    ci_high: float | None
    level: float


def mean_ci(values: Sequence[float], level: float = 0.95) -> MeanCI:
    """Mean, sample standard deviation and the two-sided t confidence interval of the mean.

    Method: ``mean +- t(1 - (1 - level)/2, n - 1) * s / sqrt(n)`` with ``s`` the sample
    standard deviation (ddof=1).

    Assumptions: the values are independent draws from one distribution (one run per seed)
    whose sample mean is close to normal - exact for normal data, approximately right for
    moderately skewed data with n around 5 or more.

    Not valid for: bimodal samples (mix of runs that learned and runs that failed - split
    them first), strongly skewed or heavy-tailed data at small n, or values that are not
    independent (e.g. several checkpoints of the same run). n = 1: std and interval are None.
    Identical values give std 0 and a zero-width interval: that states that the runs did not
    vary, not that the mean is known exactly.
    """
    _check_level(level)
    x = _as_floats(values)
    n = int(x.size)
    if n == 0:
        return MeanCI(0, None, None, None, None, level)
    mean = float(np.mean(x))
    if n == 1:
        return MeanCI(1, mean, None, None, None, level)
    sd = 0.0 if _all_equal(x) else float(np.std(x, ddof=1))
    half = _t_quantile(level, n - 1) * sd / math.sqrt(n)
    return MeanCI(n, mean, sd, mean - half, mean + half, level)


@dataclass(frozen=True)
class MedianRange:
    n: int
    median: float | None  # None for n = 0
    min: float | None
    max: float | None


def median_range(values: Sequence[float]) -> MedianRange:
    """Median, minimum and maximum: a description of the runs, no inference.

    Method: order statistics (the median of an even count is the mean of the middle two).
    Assumptions: none beyond the values being comparable numbers. It is the summary to show
    beside (or instead of) :func:`mean_ci` when n is small or the data are skewed; it says
    nothing about the uncertainty of the median. n = 0 gives None fields.
    """
    x = _as_floats(values)
    if x.size == 0:
        return MedianRange(0, None, None, None)
    return MedianRange(int(x.size), float(np.median(x)), float(np.min(x)), float(np.max(x)))


@dataclass(frozen=True)
class PredictionInterval:
    n: int
    mean: float | None
    low: float | None  # None for n < 2
    high: float | None
    level: float


def prediction_interval(values: Sequence[float], level: float = 0.95) -> PredictionInterval:
    """Interval expected to contain the result of ONE new run (a new seed) with prob. ``level``.

    Method: ``mean +- t(1 - (1 - level)/2, n - 1) * s * sqrt(1 + 1/n)`` (s: ddof=1).

    Assumptions: runs are independent draws from one NORMAL distribution; unlike the
    confidence interval of the mean this relies on normality of the individual values, not
    only of their mean, so it is not valid for skewed or bimodal results (split failed runs
    off first) and is only approximate when the tails are heavier than normal. It is wider
    than the confidence interval of the mean and does not shrink to zero as n grows.
    n < 2: low/high None. Identical values give a zero-width interval (see :func:`mean_ci`).
    """
    _check_level(level)
    x = _as_floats(values)
    n = int(x.size)
    if n < 2:
        return PredictionInterval(n, float(np.mean(x)) if n else None, None, None, level)
    mean = float(np.mean(x))
    sd = 0.0 if _all_equal(x) else float(np.std(x, ddof=1))
    half = _t_quantile(level, n - 1) * sd * math.sqrt(1.0 + 1.0 / n)
    return PredictionInterval(n, mean, mean - half, mean + half, level)


# --------------------------------------------------------------------------- two variants

@dataclass(frozen=True)
class Comparison:
    test: str  # "welch" or "paired_t"
    paired: bool
    n_a: int
    n_b: int
    mean_a: float | None
    mean_b: float | None
    difference: float | None  # mean(a) - mean(b) (paired: mean of a[i] - b[i], the same number)
    ci_low: float | None  # two-sided interval of the difference; None when the test is not possible
    ci_high: float | None
    level: float
    statistic: float | None  # t statistic; None when not possible or degenerate (zero variance)
    df: float | None  # Welch-Satterthwaite df (welch) or n - 1 (paired_t)
    p_value: float | None  # two-sided p of the t-test; None when the test is not possible
    nonparametric_test: str | None  # "mann_whitney_exact", "mann_whitney_permutation" (ties),
    #                                  "mann_whitney_asymptotic" (ties, too many to enumerate),
    #                                  "sign_flip_exact"; None when not possible
    nonparametric_p: float | None  # two-sided p of that test
    prob_improvement: float | None  # P(A > B), ties count 1/2
    reason: str | None  # why the t-test is missing or degenerate; None for a regular result


def _prob_improvement(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of (a_i, b_j) pairs with a_i > b_j, exact ties counting 1/2."""
    diff = a[:, None] - b[None, :]
    return float((np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / diff.size)


def _mann_whitney(a: np.ndarray, b: np.ndarray) -> tuple[str, float]:
    """Two-sided Mann-Whitney U p value: scipy's exact distribution when there are no ties;
    with ties (for which scipy's exact null distribution is wrong) the exact permutation
    distribution of U (midranks) over all C(n_a + n_b, n_a) relabellings, two-sided as twice
    the smaller tail like scipy; the tie-corrected normal approximation when that is too many."""
    st = _scipy_stats()
    pooled = np.concatenate([a, b])
    if np.unique(pooled).size == pooled.size:
        return "mann_whitney_exact", float(st.mannwhitneyu(a, b, alternative="two-sided", method="exact").pvalue)
    na, n = a.size, pooled.size
    if math.comb(n, na) > _MAX_ENUMERATION:
        p = st.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic", use_continuity=True).pvalue
        return "mann_whitney_asymptotic", float(p)
    ranks = st.rankdata(pooled)
    idx = np.array(list(itertools.combinations(range(n), na)), dtype=np.intp)
    u_null = ranks[idx].sum(axis=1) - na * (na + 1) / 2.0
    u_obs = ranks[:na].sum() - na * (na + 1) / 2.0
    tol = 1e-9 * max(1.0, abs(u_obs))
    p_greater = np.mean(u_null >= u_obs - tol)
    p_less = np.mean(u_null <= u_obs + tol)
    return "mann_whitney_permutation", float(min(1.0, 2.0 * min(p_greater, p_less)))


def mann_whitney(a: Sequence[float], b: Sequence[float]) -> tuple[str, float]:
    """``(method, two-sided p)`` of the Mann-Whitney U test of A against B: exact when no
    value ties, else the exact permutation distribution with midranks (tie-corrected normal
    approximation beyond the enumeration limit). See :func:`compare` for its assumptions."""
    return _mann_whitney(_as_floats(a, "a"), _as_floats(b, "b"))


def _sign_flip(d: np.ndarray) -> float | None:
    """Exact two-sided sign-flip permutation p value of the mean of paired differences.

    Under H0 (exchangeable a[i], b[i]) each difference is equally likely +d_i or -d_i; p is
    the fraction of the 2^n sign patterns whose |sum| is at least the observed |sum|.
    None when 2^n exceeds the enumeration limit (n > 20)."""
    n = d.size
    if 2 ** n > _MAX_ENUMERATION:
        return None
    signs = 1 - 2 * ((np.arange(2 ** n)[:, None] >> np.arange(n)[None, :]) & 1)
    sums = np.abs(signs @ d)
    obs = abs(float(d.sum()))
    tol = 1e-9 * max(1.0, float(np.sum(np.abs(d))))
    return float(np.mean(sums >= obs - tol))


def compare(a: Sequence[float], b: Sequence[float], paired: bool = False, level: float = 0.95) -> Comparison:
    """Compare the mean of variant A with the mean of variant B (difference = A - B).

    Methods
      * unpaired (default): Welch's t-test (unequal variances), difference of means with the
        interval ``d +- t(df) * sqrt(s_a^2/n_a + s_b^2/n_b)``, df from Welch-Satterthwaite
        ``(s_a^2/n_a + s_b^2/n_b)^2 / ((s_a^2/n_a)^2/(n_a-1) + (s_b^2/n_b)^2/(n_b-1))``;
        beside it the exact two-sided Mann-Whitney U test (scipy ``method="exact"``; when
        values tie, for which that distribution is not exact, the exact permutation
        distribution of U with midranks instead - see ``nonparametric_test``).
        P(A > B) is the fraction of all (a_i, b_j) pairs with a_i > b_j, ties 1/2
        (the Mann-Whitney U / (n_a n_b), "probability of improvement").
      * paired=True: the paired t-test on d_i = a[i] - b[i] (one-sample t-test of mean(d) = 0,
        df = n - 1, interval ``mean(d) +- t * sd(d)/sqrt(n)``); beside it the exact
        sign-flip permutation test of mean(d) (all 2^n sign patterns, n <= 20);
        P(A > B) is the fraction of the n pairs with a[i] > b[i], ties 1/2.

    Assumptions: runs independent within each variant (unpaired: also between variants);
    means approximately normal (t-tests); the non-parametric tests assume only
    exchangeability under H0 and test for a shift / difference in distribution rather than
    of means. Paired requires a[i] and b[i] to share seed, initial weights and data order
    (same architecture and initialisation) - the caller decides; with equal lengths
    otherwise required (ValueError).

    Not valid for: bimodal data containing failed runs (split them first), a variant picked
    as the best of several by looking at the data (use :func:`compare_to_best`, which
    corrects for that), or several comparisons read without a multiplicity correction
    (:func:`holm`). With n = 5 per variant the smallest possible exact Mann-Whitney p is
    2/252 = 0.0079 and the smallest sign-flip p 2/32 = 0.0625: the sign-flip test can never
    reach 0.05 with 5 pairs.

    Degenerate inputs, handled explicitly (``reason`` says which):
      * fewer than 2 values in a group (paired: fewer than 2 pairs): no t-test; statistic,
        df, p value and interval are None (the non-parametric p and P(A > B) are still
        given when both groups are non-empty).
      * zero variance in both groups (unpaired) or zero variance of the differences (paired;
        e.g. identical values): the t statistic is 0/0 or x/0; p = 1 if the means are equal
        and p = 0 if they differ, statistic and df None, interval of zero width at the
        difference. This is the limit of the t-test, not evidence of a real effect beyond
        the fact that every run of A differs from every run of B.
    """
    _check_level(level)
    x = _as_floats(a, "a")
    y = _as_floats(b, "b")
    na, nb = int(x.size), int(y.size)
    mean_a = float(np.mean(x)) if na else None
    mean_b = float(np.mean(y)) if nb else None
    diff = mean_a - mean_b if (na and nb) else None

    if paired:
        test = "paired_t"
        if na != nb:
            raise ValueError(f"paired comparison needs equal lengths, got {na} and {nb}")
        d = x - y
        n = na
        if n:
            diff = float(np.mean(d))
        prob = None
        np_name = np_p = None
        if n >= 1:
            prob = float((np.sum(d > 0) + 0.5 * np.sum(d == 0)) / n)
            np_p = _sign_flip(d)
            np_name = "sign_flip_exact" if np_p is not None else None
        common = dict(test=test, paired=True, n_a=na, n_b=nb, mean_a=mean_a, mean_b=mean_b, difference=diff,
                      level=level, nonparametric_test=np_name, nonparametric_p=np_p, prob_improvement=prob)
        if n < 2:
            return Comparison(ci_low=None, ci_high=None, statistic=None, df=None, p_value=None,
                              reason=f"fewer than 2 pairs (n={n}): paired t-test not possible", **common)
        if _all_equal(d):
            p = 1.0 if _close(float(d[0]), 0.0) or _close(mean_a, mean_b) else 0.0
            return Comparison(ci_low=diff, ci_high=diff, statistic=None, df=float(n - 1), p_value=p,
                              reason="zero variance of the paired differences: p = 1 if the means are equal, "
                                     "0 if they differ", **common)
        res = _scipy_stats().ttest_rel(x, y)
        df = float(n - 1)
        half = _t_quantile(level, df) * float(np.std(d, ddof=1)) / math.sqrt(n)
        return Comparison(ci_low=diff - half, ci_high=diff + half, statistic=float(res.statistic), df=df,
                          p_value=float(res.pvalue), reason=None, **common)

    test = "welch"
    prob = _prob_improvement(x, y) if (na and nb) else None
    np_name, np_p = _mann_whitney(x, y) if (na and nb) else (None, None)
    common = dict(test=test, paired=False, n_a=na, n_b=nb, mean_a=mean_a, mean_b=mean_b, difference=diff,
                  level=level, nonparametric_test=np_name, nonparametric_p=np_p, prob_improvement=prob)
    if na < 2 or nb < 2:
        return Comparison(ci_low=None, ci_high=None, statistic=None, df=None, p_value=None,
                          reason=f"fewer than 2 values in a group (n_a={na}, n_b={nb}): Welch's t-test not possible",
                          **common)
    if _all_equal(x) and _all_equal(y):
        p = 1.0 if _close(mean_a, mean_b) else 0.0
        return Comparison(ci_low=diff, ci_high=diff, statistic=None, df=None, p_value=p,
                          reason="zero variance in both groups: p = 1 if the means are equal, 0 if they differ",
                          **common)
    va = 0.0 if _all_equal(x) else float(np.var(x, ddof=1)) / na
    vb = 0.0 if _all_equal(y) else float(np.var(y, ddof=1)) / nb
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1))
    t = diff / se
    p = float(2.0 * _scipy_stats().t.sf(abs(t), df))
    half = _t_quantile(level, df) * se
    return Comparison(ci_low=diff - half, ci_high=diff + half, statistic=float(t), df=float(df), p_value=p,
                      reason=None, **common)


# --------------------------------------------------------------------------- multiplicity

def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p values, in input order.

    Method: sort the m available p values ascending, p_(1) <= ... <= p_(m); the adjusted
    value of p_(i) is ``max_{j <= i} min(1, (m - j + 1) * p_(j))`` (the running maximum
    makes the adjusted values monotone in the raw ones). Reject H_(i) at level alpha when
    its adjusted p < alpha.

    Assumptions: none about dependence between the tests - Holm controls the family-wise
    error rate (probability of at least one false rejection) at alpha for any dependence.
    The family must be fixed before looking at the data: if the hypotheses tested were
    chosen because of the data (e.g. "the best variant against the others"), every
    hypothesis that could have been chosen must be in the family (see
    :func:`compare_to_best`).

    None entries (tests that were not possible) pass through as None and do not count in m.
    NaN or values outside [0, 1] raise ValueError.
    """
    idx = [i for i, p in enumerate(p_values) if p is not None]
    raw = np.array([float(p_values[i]) for i in idx], dtype=float)
    if raw.size and (not np.all(np.isfinite(raw)) or np.any(raw < 0) or np.any(raw > 1)):
        raise ValueError(f"p values must be in [0, 1] (or None), got {list(p_values)}")
    out: list[float | None] = [None] * len(p_values)
    m = raw.size
    order = np.argsort(raw, kind="stable")
    running = 0.0
    for rank, k in enumerate(order):
        running = max(running, min(1.0, (m - rank) * raw[k]))
        out[idx[k]] = float(running)
    return out


# --------------------------------------------------------------------------- planning

@dataclass(frozen=True)
class SeedsNeeded:
    n: int  # seeds per variant (paired: pairs); cap + 1 when more_than_cap
    more_than_cap: bool  # True: even `cap` seeds do not reach the power
    power: float | None  # power achieved at n; None when more_than_cap
    cap: int
    test: str  # "two_sample_t" or "paired_t"


def _t_power(effect: float, n: int, alpha: float, paired: bool) -> float:
    """Power of the two-sided t-test for standardized effect |difference| / sd."""
    if paired:
        df, nc = n - 1, effect * math.sqrt(n)
    else:
        df, nc = 2 * n - 2, effect * math.sqrt(n / 2.0)
    st = _scipy_stats()
    crit = st.t.ppf(1.0 - alpha / 2.0, df)
    return float(st.nct.sf(crit, df, nc) + st.nct.cdf(-crit, df, nc))


def seeds_needed(difference: float, sd: float, alpha: float = 0.05, power: float = 0.8, cap: int = 100,
                 paired: bool = False) -> SeedsNeeded:
    """Smallest number of seeds per variant for a t-test to detect ``difference`` with ``power``.

    Method: exact power of the two-sided t-test from the noncentral t distribution
    (``scipy.stats.nct``), searched over n = 2, 3, ..., cap:
      * unpaired: two-sample t-test with n per variant, df = 2n - 2, noncentrality
        ``|difference| / sd * sqrt(n / 2)``, ``sd`` the (common) per-run standard deviation;
      * paired: one-sample t-test on the differences, df = n - 1, noncentrality
        ``|difference| / sd * sqrt(n)``, ``sd`` the standard deviation of the DIFFERENCES.
    power(n) = P(T > t_crit) + P(T < -t_crit), T ~ nct(df, nc), t_crit = t(1 - alpha/2, df).

    Assumptions: normal runs with equal variances in both variants (the pooled t-test; Welch's
    test has slightly less power when the variances differ), and the difference / sd taken
    as the truth. Not valid as a promise when ``difference`` and ``sd`` are estimates from a
    few seeds: an observed difference is biased upward by selection and the sd is itself
    uncertain, so treat the answer as optimistic.

    Returns a :class:`SeedsNeeded`: ``n`` is the smallest n <= cap with power >= ``power``;
    when no n <= cap suffices, ``more_than_cap`` is True and ``n`` is ``cap + 1``.
    Explicit cases: difference 0 -> more than cap (the power never exceeds alpha);
    sd 0 and difference != 0 -> n = 2 (power 1: any two runs per variant show the difference).
    """
    if not (0.0 < alpha < 1.0) or not (0.0 < power < 1.0):
        raise ValueError("alpha and power must be in (0, 1)")
    if cap < 2:
        raise ValueError("cap must be at least 2")
    if not (math.isfinite(difference) and math.isfinite(sd)) or sd < 0:
        raise ValueError("difference must be finite and sd finite and >= 0")
    test = "paired_t" if paired else "two_sample_t"
    if difference == 0:
        return SeedsNeeded(cap + 1, True, None, cap, test)
    if sd == 0:
        return SeedsNeeded(2, False, 1.0, cap, test)
    effect = abs(difference) / sd
    for n in range(2, cap + 1):
        pw = _t_power(effect, n, alpha, paired)
        if pw >= power:
            return SeedsNeeded(n, False, pw, cap, test)
    return SeedsNeeded(cap + 1, True, None, cap, test)


# --------------------------------------------------------------------------- failure rates

@dataclass(frozen=True)
class BinomialCI:
    k: int
    n: int
    rate: float | None  # k / n; None for n = 0
    low: float | None
    high: float | None
    level: float


def _check_count(k: int, n: int) -> None:
    if int(k) != k or int(n) != n or not (0 <= k <= n):
        raise ValueError(f"need integers 0 <= k <= n, got k={k}, n={n}")


def clopper_pearson(k: int, n: int, level: float = 0.95) -> BinomialCI:
    """Exact (Clopper-Pearson) interval for a failure probability from k failures in n runs.

    Method: with a = 1 - level, low = Beta(a/2; k, n - k + 1) quantile (0 when k = 0),
    high = Beta(1 - a/2; k + 1, n - k) quantile (1 when k = n).

    Assumptions: the n runs are independent with the same failure probability (binomial).
    The coverage is at least ``level`` for every true probability (conservative); with
    n = 5 and no failures the upper bound is still 0.52 - few seeds say little about rare
    failures. n = 0: rate and interval None.
    """
    _check_level(level)
    _check_count(k, n)
    k, n = int(k), int(n)
    if n == 0:
        return BinomialCI(0, 0, None, None, None, level)
    a = 1.0 - level
    # the Beta(p; a, b) quantile: scipy.special.betaincinv(a, b, p), the number
    # scipy.stats.beta.ppf(p, a, b) gives (without importing scipy.stats)
    low = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, a / 2.0))
    high = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1.0 - a / 2.0))
    return BinomialCI(k, n, k / n, low, high, level)


@dataclass(frozen=True)
class FisherResult:
    k_a: int
    n_a: int
    rate_a: float | None
    k_b: int
    n_b: int
    rate_b: float | None
    p_value: float | None  # two-sided; None when a group has no runs
    reason: str | None


def fisher(k_a: int, n_a: int, k_b: int, n_b: int) -> FisherResult:
    """Fisher's exact two-sided test that two variants have the same failure probability.

    Method: ``scipy.stats.fisher_exact`` on the table [[k_a, n_a - k_a], [k_b, n_b - k_b]]
    (conditional on the margins; two-sided p sums the tables no more likely than observed).

    Assumptions: independent runs, binomial failures within each variant. It is
    conservative at small n: with 5 runs per variant, 0/5 against 5/5 gives p = 0.0079 and
    0/5 against 3/5 gives p = 0.17 - differences in failure rate are hard to establish with
    few seeds. A group with n = 0: p None with a reason.
    """
    _check_count(k_a, n_a)
    _check_count(k_b, n_b)
    rate_a = k_a / n_a if n_a else None
    rate_b = k_b / n_b if n_b else None
    if n_a == 0 or n_b == 0:
        return FisherResult(int(k_a), int(n_a), rate_a, int(k_b), int(n_b), rate_b, None,
                            "a group has no runs: Fisher's test not possible")
    p = _scipy_stats().fisher_exact([[k_a, n_a - k_a], [k_b, n_b - k_b]], alternative="two-sided").pvalue
    return FisherResult(int(k_a), int(n_a), rate_a, int(k_b), int(n_b), rate_b, min(1.0, float(p)), None)


@dataclass(frozen=True)
class Split:
    threshold: float
    learned_indices: list[int]  # value >= threshold
    learned_values: list[float]
    failed_indices: list[int]  # value < threshold, or missing (None / NaN), in input order
    failed_values: list[float | None]  # parallel to failed_indices; None for a missing value
    missing_indices: list[int]  # the subset of failed_indices whose value is None / NaN

    @property
    def n(self) -> int:
        return len(self.learned_indices) + len(self.failed_indices)

    @property
    def n_failed(self) -> int:
        return len(self.failed_indices)


def split_failures(values: Sequence[float | None], threshold: float = 0.2) -> Split:
    """Separate runs that learned (value >= threshold) from runs that failed (value < threshold).

    Method: a fixed threshold, by default twice chance for 10 classes (0.2); for c classes
    use 2 / c. None and NaN values (a run that crashed, diverged to NaN or has no result)
    count as failed-or-missing: they are listed in ``failed_indices`` (with value None in
    ``failed_values``) and also in ``missing_indices`` so that the caller can report or
    exclude them. Infinite values are compared like numbers.

    Assumptions: failure is a distinct mode (accuracy near chance) well separated from the
    runs that learned; a run that learned only a little (e.g. 0.3) counts as learned, so
    look at :func:`median_range` of the learned runs as well.
    """
    learned_i, learned_v, failed_i, failed_v, missing = [], [], [], [], []
    for i, v in enumerate(values):
        if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)):
            failed_i.append(i)
            failed_v.append(None)
            missing.append(i)
        elif float(v) >= threshold:
            learned_i.append(i)
            learned_v.append(float(v))
        else:
            failed_i.append(i)
            failed_v.append(float(v))
    return Split(float(threshold), learned_i, learned_v, failed_i, failed_v, missing)


# --------------------------------------------------------------------------- composites

@dataclass(frozen=True)
class VariantSummary:
    split: Split
    failures: BinomialCI  # failed-or-missing runs out of all runs
    accuracy: MeanCI  # over the runs that learned only
    spread: MedianRange  # over the runs that learned only
    prediction: PredictionInterval  # one new run, given that it learns


def summarize_variant(values: Sequence[float | None], threshold: float = 0.2, level: float = 0.95) -> VariantSummary:
    """Everything to report for one variant: the failure rate with its Clopper-Pearson
    interval over all runs, and mean/CI, median/range and the prediction interval over the
    runs that learned only (see the individual functions for methods and assumptions).
    The accuracy statistics are conditional on learning; report them with the failure rate."""
    split = split_failures(values, threshold)
    learned = split.learned_values
    return VariantSummary(split, clopper_pearson(split.n_failed, split.n, level), mean_ci(learned, level),
                          median_range(learned), prediction_interval(learned, level))


@dataclass(frozen=True)
class BestComparison:
    best: str  # the variant with the highest mean
    means: dict[str, float]
    comparisons: dict[str, Comparison]  # best (as A) against each other variant (as B)
    p_holm: dict[str, float | None]  # Holm-adjusted p of best vs each other variant
    m: int  # number of tests in the Holm family (all pairs with a p value)


def compare_to_best(variants: Mapping[str, Sequence[float]], paired: bool = False,
                    level: float = 0.95) -> BestComparison:
    """Pick the variant with the highest mean and test it against every other variant.

    Method: :func:`compare` (Welch, or paired t) for EVERY pair of variants, then
    :func:`holm` over all k(k - 1)/2 pairwise p values; the result holds the comparisons of
    the best variant against the others with their adjusted p values. "Best is better than
    X" may be claimed when ``p_holm[X] < alpha``.

    Why all pairs: the best variant is chosen by looking at the data, so "best vs X" is not
    a pre-specified hypothesis. Under equal means the best-vs-worst comparison is the
    largest of all k(k - 1)/2 pairwise differences; a Holm family of only the k - 1
    comparisons with the best under-corrects (measured for 3 identical normal variants with
    5 seeds each, 20 000 sweeps: 5.3 % of sweeps with a false "better" claim at alpha 0.05,
    standard error 0.16 %; Holm over all pairs: 3.5 %). Holm over all
    pairs controls the family-wise error rate for the family of all pairwise hypotheses,
    which contains every best-vs-X hypothesis the selection could produce, so the
    selection cannot inflate it. Ties for the highest mean: the first in mapping order.

    Assumptions: those of :func:`compare`; ``paired`` needs equal lengths for all variants.
    Variants with fewer than 2 runs get p None (not counted in m).
    """
    names = list(variants)
    if len(names) < 2:
        raise ValueError("need at least two variants")
    data = {name: _as_floats(variants[name], name) for name in names}
    if any(v.size == 0 for v in data.values()):
        raise ValueError("every variant needs at least one value")
    means = {name: float(np.mean(v)) for name, v in data.items()}
    best = max(names, key=lambda name: means[name])  # max returns the first maximal one
    pairs = list(itertools.combinations(names, 2))
    results = {}
    for u, v in pairs:
        first, second = (u, v) if u == best else (v, u) if v == best else (u, v)
        results[(first, second)] = compare(data[first], data[second], paired=paired, level=level)
    keys = list(results)
    adjusted = holm([results[key].p_value for key in keys])
    comparisons, p_holm = {}, {}
    for key, p in zip(keys, adjusted):
        if key[0] == best:
            comparisons[key[1]] = results[key]
            p_holm[key[1]] = p
    m = sum(p is not None for p in adjusted)
    return BestComparison(best, means, comparisons, p_holm, m)


# --------------------------------------------------------------------------- k variants (rank tests)

# largest number of group assignments enumerated by the exact Kruskal-Wallis test
_MAX_KRUSKAL_ENUMERATION = 2 ** 16
# Monte Carlo resamples are drawn in chunks of at most this many array elements (memory bound)
_CHUNK_ELEMENTS = 2 ** 22
# integer scores (exact comparisons) are used while their bound stays below this; above it
# floats with a relative tolerance of 1e-12 (see _kruskal_scores)
_INT_SCORE_LIMIT = 2 ** 62


@dataclass(frozen=True)
class GroupTest:
    test: str  # "friedman" or "kruskal"
    statistic: float | None  # tie-corrected chi-square (Friedman) or H (Kruskal-Wallis), as scipy computes it
    p_value: float | None  # permutation p value; None when the test is not possible
    method: str | None  # "exact" or "monte_carlo"; None when no permutation distribution was used
    n: int  # blocks (Friedman) or total runs (Kruskal-Wallis)
    k: int  # groups (variants)
    min_p: float | None  # smallest p the test can give for this design, ties ignored (see the functions)
    reason: str | None  # why p is None or degenerate; None for a regular result


def _as_table(table: Sequence[Sequence[float]], name: str = "table") -> np.ndarray:
    """2-D float array (blocks x treatments); ValueError on ragged rows, None, NaN or inf."""
    try:
        rows = [list(row) for row in table]
    except TypeError:
        raise ValueError(f"{name} must be a sequence of rows (one per block), each a sequence of floats") from None
    _refuse_missing([v for row in rows for v in row], name)
    if len({len(row) for row in rows}) > 1:
        raise ValueError(f"{name} must have the same number of values in every block (row)")
    x = np.asarray(rows, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D table of floats (blocks x variants), got shape {x.shape}")
    return _refuse_nonfinite(x, name)


def _check_resamples(resamples: int) -> int:
    if int(resamples) != resamples or resamples < 1:
        raise ValueError(f"resamples must be a positive integer, got {resamples}")
    return int(resamples)


def _tie_sizes(values: np.ndarray) -> np.ndarray:
    """Sizes of the groups of exactly equal values (1 for an untied value)."""
    return np.unique(values, return_counts=True)[1]


@functools.lru_cache(maxsize=64)
def _friedman_null(blocks: tuple[tuple[int, ...], ...]) -> tuple[np.ndarray, np.ndarray, float]:
    """Exact permutation distribution of ``sum_j R_j^2`` (R_j: sum of the DOUBLED midranks
    of treatment j) when each block's ranks are permuted independently and uniformly.

    ``blocks`` holds each block's doubled midranks (integers). The distribution of the
    rank-sum vector is built block by block by convolution: the states are the distinct
    rank-sum vectors with their counts, each block adds each of its distinct permutations.
    The states are kept sorted (a canonical order): under H0 every block's permutation is
    uniform over all k! orders, so the distribution of the vector is invariant under
    relabelling the treatments, and ``sum_j R_j^2`` does not depend on the order either.
    Returns (sorted distinct values, number of permutations at or above each, total).
    """
    k = len(blocks[0])
    states = np.zeros((1, k), dtype=np.int64)
    counts = np.ones(1)
    total = 1.0
    for row in blocks:
        perms = np.array(sorted(set(itertools.permutations(row))), dtype=np.int64)
        total *= len(perms)  # each distinct order stands for prod(t!) equally likely orders
        new = (states[:, None, :] + perms[None, :, :]).reshape(-1, k)
        new.sort(axis=1)
        weights = np.repeat(counts, len(perms))
        states, inverse = np.unique(new, axis=0, return_inverse=True)
        counts = np.bincount(inverse.reshape(-1), weights=weights)
    scores = np.sum(states * states, axis=1)
    values, inverse = np.unique(scores, return_inverse=True)
    mass = np.bincount(inverse.reshape(-1), weights=counts)
    at_least = np.cumsum(mass[::-1])[::-1]
    values.flags.writeable = False
    at_least.flags.writeable = False
    return values, at_least, total


def _exact_tail(null: tuple[np.ndarray, np.ndarray, float], observed) -> float:
    values, at_least, total = null
    i = int(np.searchsorted(values, observed, side="left"))
    return float(at_least[i] / total) if i < values.size else 0.0


def friedman(table: Sequence[Sequence[float]], resamples: int = 20000, seed: int = 0) -> GroupTest:
    """Friedman's test that k variants trained with the same n seeds do not differ.

    ``table[i][j]`` is the result of seed (block) i with variant (treatment) j.

    Method: rank the k values within each block (midranks for exact ties); the statistic
    is the tie-corrected Friedman chi-square exactly as ``scipy.stats.friedmanchisquare``
    computes it, ``(12 / (n k (k + 1)) * sum_j R_j^2 - 3 n (k + 1)) / C`` with R_j the rank
    sum of variant j and ``C = 1 - sum t (t^2 - 1) / (n k (k^2 - 1))`` over the tie groups t
    of all blocks. The p value is NOT the chi-square approximation (poor for n = 5) but the
    permutation distribution of the statistic under H0, where each block's ranks are
    equally likely in any of the k! orders:
      * exact (``method="exact"``) when (k!)^n <= 2^20: all within-block permutations,
        computed by convolving the distribution of the rank-sum vector block by block;
        p = fraction of the (k!)^n permutations with a statistic >= the observed one;
      * otherwise Monte Carlo (``method="monte_carlo"``): ``resamples`` random
        within-block permutations from ``numpy.random.default_rng(seed)``,
        p = (1 + #{T* >= T}) / (1 + resamples) (a valid p value for any number of
        resamples; reproducible bit for bit for a given seed and numpy version).
    The comparison T* >= T is exact, not subject to rounding: within a design the
    statistic is an increasing function of ``sum_j R_j^2``, which is an integer when the
    midranks are doubled. k = 2 is the two-sided sign test (tied blocks drop out).

    ``min_p`` is the smallest p value of the exact test for n blocks and k variants without
    ties, (k!)^(1 - n): all n blocks ranking the variants in the same order (k! of the
    (k!)^n permutations do). Ties can only raise it. For Monte Carlo it is also at least
    1 / (1 + resamples). With n = 5: k = 2 gives 0.0625 (can never reach 0.05), k = 3
    gives 1/1296.

    Assumptions: blocks independent (one per seed); within a block the runs of all
    variants share the seed's initial weights and data order, and under H0 the k results
    of a block are exchangeable. Only the within-block order is used, so it is valid for
    bimodal data (failed runs rank lowest; exact ties get midranks) and insensitive to
    the size of differences.

    Not valid for: independent groups without a shared seed (use :func:`kruskal`), missing
    runs (a block with a missing run must be dropped whole, or the run rerun; None / NaN
    raise ValueError). It says that some variants differ, not which ones, and a large p
    with n = 5 is weak evidence of no difference. Ties are exact equality (as in scipy):
    values that differ by floating-point noise count as different.

    Degenerate cases: k < 2 raises ValueError; fewer than 2 blocks gives p None with a
    reason; when every block's values are all tied the statistic is 0/0 (None) and p = 1
    with a reason.
    """
    if len(table) == 0:
        raise ValueError("Friedman's test needs a table with at least one block (row)")
    x = _as_table(table)
    n, k = (int(s) for s in x.shape)
    if k < 2:
        raise ValueError(f"Friedman's test needs at least 2 variants per block, got k={k}")
    resamples = _check_resamples(resamples)
    exact = math.factorial(k) ** n <= _MAX_ENUMERATION
    min_p = 1 / math.factorial(k) ** (n - 1)  # int / int: no overflow for large n
    if not exact:
        min_p = max(min_p, 1.0 / (1 + resamples))
    if n < 2:
        return GroupTest("friedman", None, None, None, n, k, min_p,
                         f"fewer than 2 blocks (n={n}): Friedman's test not possible")
    st = _scipy_stats()
    ranks = st.rankdata(x, axis=1)
    ties = int(sum(int(np.sum(t * (t * t - 1))) for t in (_tie_sizes(row) for row in x)))
    if ties == n * k * (k * k - 1):
        return GroupTest("friedman", None, 1.0, None, n, k, min_p,
                         "every block's values are tied: no differences between variants, p = 1")
    c = 1 - ties / (k * (k * k - 1) * n)
    ssbn = np.sum(np.sum(ranks, axis=0) ** 2)
    statistic = float((12.0 / (k * n * (k + 1)) * ssbn - 3 * n * (k + 1)) / c)

    doubled = np.rint(2.0 * ranks).astype(np.int64)
    sums = doubled.sum(axis=0)
    observed = int(np.sum(sums * sums))
    if exact:
        key = tuple(sorted(tuple(sorted(int(v) for v in row)) for row in doubled))
        p = _exact_tail(_friedman_null(key), observed)
        method = "exact"
    else:
        rng = np.random.default_rng(seed)
        chunk = max(1, _CHUNK_ELEMENTS // (n * k))
        hits = done = 0
        while done < resamples:
            b = min(chunk, resamples - done)
            perm = rng.permuted(np.broadcast_to(doubled, (b, n, k)), axis=2)
            r = perm.sum(axis=1)
            hits += int(np.count_nonzero(np.sum(r * r, axis=1) >= observed))
            done += b
        p = (1 + hits) / (1 + resamples)
        method = "monte_carlo"
    return GroupTest("friedman", statistic, min(1.0, float(p)), method, n, k, min_p, None)


def _kruskal_scores(doubled_sums: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """A score increasing in H for fixed group sizes and pooled ranks: ``sum_j R_j^2 / n_j``
    with R_j the sum of the DOUBLED midranks of group j, scaled by lcm(n_j) to integers so
    that comparisons are exact. Float (unscaled) when the integers could overflow."""
    big_l = math.lcm(*sizes)
    total = sum(sizes)
    if big_l * len(sizes) * (total * (total + 1)) ** 2 < _INT_SCORE_LIMIT:
        w = np.array([big_l // s for s in sizes], dtype=np.int64)
        return (doubled_sums * doubled_sums) @ w
    r = doubled_sums.astype(float)
    return (r * r) @ (1.0 / np.asarray(sizes, dtype=float))


def _at_least(scores: np.ndarray, observed) -> np.ndarray:
    if scores.dtype.kind in "iu":
        return scores >= observed
    return scores >= observed - 1e-12 * abs(observed)


def _assignments(sizes: tuple[int, ...]) -> np.ndarray:
    """All distinct assignments of N = sum(sizes) positions to groups of the given sizes,
    as an (N! / prod n_j!, N) array of group labels."""
    total = sum(sizes)
    labels = np.full((1, total), -1, dtype=np.int8)
    for j, size in enumerate(sizes[:-1]):
        free_count = total - sum(sizes[:j])
        combos = np.array(list(itertools.combinations(range(free_count), size)), dtype=np.intp)
        free = np.nonzero(labels == -1)[1].reshape(labels.shape[0], free_count)  # row-major: sorted
        rows = labels.shape[0]
        labels = np.repeat(labels, len(combos), axis=0)
        chosen = free[:, combos].reshape(rows * len(combos), size)
        labels[np.arange(labels.shape[0])[:, None], chosen] = j
    labels[labels == -1] = len(sizes) - 1
    return labels


@functools.lru_cache(maxsize=64)
def _kruskal_null(sizes: tuple[int, ...], pooled: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, float]:
    """Exact permutation distribution of :func:`_kruskal_scores` over all distinct
    assignments of the pooled doubled midranks (sorted; any order gives the same
    distribution) to groups of the given sizes. Same return form as :func:`_friedman_null`."""
    labels = _assignments(sizes)
    r = np.asarray(pooled, dtype=np.int64)
    sums = np.stack([np.where(labels == j, r, 0).sum(axis=1) for j in range(len(sizes))], axis=1)
    scores = _kruskal_scores(sums, sizes)
    values, counts = np.unique(scores, return_counts=True)
    at_least = np.cumsum(counts[::-1])[::-1].astype(float)
    values.flags.writeable = False
    at_least.flags.writeable = False
    return values, at_least, float(labels.shape[0])


def _kruskal_min_p(sizes: tuple[int, ...]) -> float:
    """Smallest exact Kruskal-Wallis p for these group sizes without ties.

    H is largest when the groups occupy contiguous blocks of ranks (swapping a lower rank
    of the group with the larger mean rank for a higher rank of another group always
    raises sum_j R_j^2 / n_j), so the maximum is found among the k! orders of the groups;
    p = (number of orders reaching it) / (number of assignments)."""
    best, count = None, 0
    for order in itertools.permutations(range(len(sizes))):
        start, score = 0, 0
        lcm = math.lcm(*sizes)
        for j in order:
            s = sizes[j]
            rank_sum = s * (2 * start + s + 1)  # doubled sum of ranks start+1 .. start+s
            score += rank_sum * rank_sum * (lcm // s)
            start += s
        if best is None or score > best:
            best, count = score, 1
        elif score == best:
            count += 1
    assignments = math.factorial(sum(sizes))
    for s in sizes:
        assignments //= math.factorial(s)
    return count / assignments


@functools.lru_cache(maxsize=32)
def _splits(n: int, na: int) -> np.ndarray:
    """Every way to pick ``na`` of ``n`` positions, one row each (read-only, cached)."""
    idx = np.array(list(itertools.combinations(range(n), na)), dtype=np.intp)
    idx.setflags(write=False)
    return idx


def permutation_means(a: Sequence[float], b: Sequence[float], resamples: int = 20000,
                      seed: int = 0) -> tuple[str, float | None]:
    """``(method, two-sided p)`` of the permutation test of the difference of means of two
    independent groups.

    Method: the statistic is |mean(a) - mean(b)|; its null distribution is that of all
    C(n_a + n_b, n_a) ways to split the pooled values into groups of these sizes, each
    equally likely under H0 ("exact", when there are at most 2**16 of them), else of
    ``resamples`` random splits from ``numpy.random.default_rng(seed)``, p = (1 + #) / (1 +
    resamples) ("monte_carlo"). p counts the splits at least as extreme (relative tolerance
    1e-9 for floating point).

    Assumptions: the values of both groups are exchangeable under H0 (independent runs, the
    same distribution) - nothing about its shape: valid for the bimodal results that failed
    runs make, where a t-test is not. Its smallest p is that of the exact Mann-Whitney test,
    2 / C(n_a + n_b, n_a) (0.0079 for 5 against 5: :func:`mann_whitney_min_p`).

    Not valid for: paired runs (use :func:`compare` with ``paired=True``). An empty group:
    ``(None, None)``.
    """
    x, y = _as_floats(a, "a"), _as_floats(b, "b")
    na, nb = x.size, y.size
    if not na or not nb:
        return None, None
    pooled = np.concatenate([x, y])
    total = pooled.sum()
    obs = abs(x.mean() - y.mean())
    tol = 1e-9 * max(1.0, float(np.abs(pooled).max()))
    n = na + nb
    if math.comb(n, na) <= _MAX_KRUSKAL_ENUMERATION:
        sums = pooled[_splits(n, na)].sum(axis=1)
        diffs = np.abs(sums / na - (total - sums) / nb)
        return "exact", float(np.mean(diffs >= obs - tol))
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(resamples):
        s = pooled[rng.permutation(n)[:na]].sum()
        hits += abs(s / na - (total - s) / nb) >= obs - tol
    return "monte_carlo", (1 + hits) / (1 + resamples)


def permutation_interval(a: Sequence[float], b: Sequence[float], level: float = 0.95
                         ) -> tuple[float | None, float | None]:
    """The interval of shifts d for which :func:`permutation_means` of ``a - d`` against ``b``
    does not reject at 1 - ``level``: the interval of the difference of means that goes with
    that test (inverting it), so that a difference the test finds never has an interval that
    covers zero.

    Method: the p value is 1 at d = mean(a) - mean(b) and falls as d moves away; each end is
    found by bisection (60 steps) between the estimate and a shift beyond which every split of
    the data is less extreme than the observed one.

    Assumptions: those of :func:`permutation_means`, for a shift model (B is A moved by d).
    ``(None, None)`` when no data of these sizes could reject at that level (the smallest p,
    :func:`mann_whitney_min_p`, is above 1 - ``level``: 2 runs against 2) or a group is empty.
    """
    _check_level(level)
    x, y = _as_floats(a, "a"), _as_floats(b, "b")
    na, nb = x.size, y.size
    if not na or not nb or mann_whitney_min_p(na, nb) > 1 - level:
        return None, None
    estimate = float(x.mean() - y.mean())
    spread = float(np.ptp(np.concatenate([x, y]))) + abs(estimate) + 1e-12
    # Every split's difference of means is linear in the shift d: alpha + beta * d (the splits
    # of permutation_means: all of them, or the same seeded random ones).
    n = na + nb
    if math.comb(n, na) <= _MAX_KRUSKAL_ENUMERATION:
        idx = _splits(n, na)
    else:
        rng = np.random.default_rng(0)
        idx = np.array([rng.permutation(n)[:na] for _ in range(20000)], dtype=np.intp)
    pooled = np.concatenate([x, y])
    from_a = (idx < na).sum(axis=1)
    s0 = pooled[idx].sum(axis=1)
    alpha = s0 / na - (pooled.sum() - s0) / nb
    beta = (na - from_a) / nb - from_a / na
    exact = math.comb(n, na) <= _MAX_KRUSKAL_ENUMERATION

    def rejects(d: float) -> bool:
        obs = abs(estimate - d)
        tol = 1e-9 * max(1.0, float(np.abs(np.concatenate([x - d, y])).max()))
        hits = int(np.count_nonzero(np.abs(alpha + beta * d) >= obs - tol))
        p = hits / idx.shape[0] if exact else (1 + hits) / (1 + idx.shape[0])
        return p <= 1 - level

    ends = []
    for sign in (-1.0, 1.0):
        inside, outside = estimate, estimate + sign * 2 * spread
        while not rejects(outside):
            outside = estimate + 2 * (outside - estimate)
        for _ in range(60):
            middle = (inside + outside) / 2
            inside, outside = (inside, middle) if rejects(middle) else (middle, outside)
        ends.append(inside)
    return ends[0], ends[1]


@dataclass(frozen=True)
class TrendTest:
    statistic: float | None  # Page's L
    p_value: float | None  # two-sided
    direction: int  # +1: values rise along the given order, -1: they fall, 0: neither
    method: str | None  # "exact" or "asymptotic"
    n: int  # blocks
    k: int  # treatments, in order
    min_p: float | None  # the smallest two-sided p of this design (every block in one order)


def page_trend(table: Sequence[Sequence[float]]) -> TrendTest:
    """Page's L test for a monotone trend along ordered treatments in a block design.

    Method: ``table[i][j]`` is block (seed) i, treatment j, the treatments in the order of the
    swept value; ranks within each block (midranks for ties), L = sum_j (j + 1) * R_j.
    ``scipy.stats.page_trend_test`` gives the one-sided p for a rising trend (its exact
    distribution for small designs, else the normal approximation) and, on the reversed
    order, for a falling one; the two-sided p is twice the smaller, capped at 1.
    ``direction``: +1 when L is above its null mean (the values rise along the order).

    Assumptions: blocks independent, the treatments exchangeable within a block under H0
    (runs of one seed share weights and data order). It tests a monotone trend: a rise then
    fall can give a large p; read it with the pairwise contrasts.

    Not valid for: independent groups (no blocks). Fewer than 2 blocks or 2 treatments:
    p None.
    """
    x = np.asarray([_as_floats(row, "table row") for row in table], dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        n, k = (x.shape + (0,))[:2] if x.ndim == 2 else (len(x), 0)
        return TrendTest(None, None, 0, None, int(n), int(k), None)
    n, k = x.shape
    st = _scipy_stats()
    method = "exact" if n * k <= 60 and k <= 8 else "asymptotic"
    rising = st.page_trend_test(x, method=method)
    falling = st.page_trend_test(x[:, ::-1], method=method)
    mean_l = n * k * (k + 1) ** 2 / 4
    direction = int(np.sign(round(float(rising.statistic) - mean_l, 9)))
    p = min(1.0, 2.0 * min(float(rising.pvalue), float(falling.pvalue)))
    return TrendTest(float(rising.statistic), p, direction, method, int(n), int(k),
                     min(1.0, 2.0 / math.factorial(k) ** n))


def kruskal(groups: Sequence[Sequence[float]], resamples: int = 20000, seed: int = 0) -> GroupTest:
    """Kruskal-Wallis test that k independent variants come from the same distribution.

    ``groups[j]`` holds the results of variant j (one per run; sizes may differ).

    Method: rank all N values together (midranks for exact ties); the statistic is H with
    the tie correction exactly as ``scipy.stats.kruskal`` computes it,
    ``(12 / (N (N + 1)) * sum_j R_j^2 / n_j - 3 (N + 1)) / (1 - sum (t^3 - t) / (N^3 - N))``.
    The p value is NOT the chi-square approximation (poor for 5 runs per group) but the
    permutation distribution of H under H0, where every assignment of the N pooled values
    to groups of the given sizes is equally likely:
      * exact (``method="exact"``) when the number of distinct assignments,
        N! / (n_1! ... n_k!), is at most 2^16 (and, a memory bound for lopsided designs,
        times N at most 2^24): all of them are enumerated;
        p = fraction with H* >= H (3 groups of 4: 34 650 assignments);
      * otherwise Monte Carlo (``method="monte_carlo"``; e.g. 3 groups of 5, 756 756
        assignments): ``resamples`` random permutations of the pooled ranks from
        ``numpy.random.default_rng(seed)``, p = (1 + #{H* >= H}) / (1 + resamples) (valid
        for any number of resamples; reproducible bit for bit for a given seed and numpy
        version).
    Comparisons H* >= H are exact: within a design H increases with
    ``sum_j R_j^2 / n_j``, which is compared as an integer (doubled midranks times
    lcm(n_j)); only for designs so large that this could overflow int64 is it compared in
    floating point with a relative tolerance of 1e-12.

    ``min_p`` is the smallest p value of the exact test for these group sizes without
    ties: the groups in contiguous blocks of ranks, in the order(s) that maximise H, out
    of all assignments (k equal groups of n: k! n!^k / (kn)!; 2 groups of 5: 2/252, the
    exact Mann-Whitney minimum). Ties can only raise it. For Monte Carlo it is also at
    least 1 / (1 + resamples).

    Assumptions: all runs independent (no shared seeds between variants); under H0 the N
    values are exchangeable. Only ranks are used, so bimodal data (failed runs) and ties
    are handled; it tests for differences in distribution, most sensitive to shifts.

    Not valid for: variants whose runs are paired by seed (shared initial weights and data
    order: use :func:`friedman`, which removes the seed effect), or missing values (None /
    NaN raise ValueError). It says that some variants differ, not which ones. Ties are
    exact equality (as in scipy).

    Degenerate cases: fewer than 2 groups or an empty group raises ValueError; all N
    values equal gives statistic None (0/0) and p = 1 with a reason.
    """
    data = [_as_floats(g, f"groups[{j}]") for j, g in enumerate(groups)]
    k = len(data)
    if k < 2:
        raise ValueError(f"the Kruskal-Wallis test needs at least 2 groups, got {k}")
    sizes = tuple(int(g.size) for g in data)
    if min(sizes) == 0:
        raise ValueError(f"every group needs at least one value, got sizes {list(sizes)}")
    resamples = _check_resamples(resamples)
    total = sum(sizes)
    assignments = math.factorial(total)
    for s in sizes:
        assignments //= math.factorial(s)
    # (the second bound only matters for lopsided designs such as sizes 1 and 60 000)
    exact = assignments <= _MAX_KRUSKAL_ENUMERATION and assignments * total <= 4 * _CHUNK_ELEMENTS
    min_p = _kruskal_min_p(sizes)
    if not exact:
        min_p = max(min_p, 1.0 / (1 + resamples))
    pooled = np.concatenate(data)
    t = _tie_sizes(pooled)
    if t.size == 1:
        return GroupTest("kruskal", None, 1.0, None, total, k, min_p,
                         "all values are equal: no differences between variants, p = 1")
    st = _scipy_stats()
    ranks = st.rankdata(pooled)
    ties = 1 - np.sum(t.astype(float) ** 3 - t) / (total ** 3 - total)
    bounds = list(itertools.accumulate(sizes, initial=0))
    ssbn = sum(np.sum(ranks[bounds[j]:bounds[j + 1]]) ** 2 / sizes[j] for j in range(k))
    statistic = float((12.0 / (total * (total + 1)) * ssbn - 3 * (total + 1)) / ties)

    doubled = np.rint(2.0 * ranks).astype(np.int64)
    observed = _kruskal_scores(np.add.reduceat(doubled, bounds[:-1])[None, :], sizes)[0]
    if exact:
        null = _kruskal_null(sizes, tuple(sorted(int(v) for v in doubled)))
        values, at_least, count = null
        if values.dtype.kind in "iu":
            i = int(np.searchsorted(values, observed, side="left"))
        else:
            i = int(np.searchsorted(values, observed - 1e-12 * abs(observed), side="left"))
        p = float(at_least[i] / count) if i < values.size else 0.0
        method = "exact"
    else:
        rng = np.random.default_rng(seed)
        chunk = max(1, _CHUNK_ELEMENTS // total)
        hits = done = 0
        while done < resamples:
            b = min(chunk, resamples - done)
            perm = rng.permuted(np.broadcast_to(doubled, (b, total)), axis=1)
            scores = _kruskal_scores(np.add.reduceat(perm, bounds[:-1], axis=1), sizes)
            hits += int(np.count_nonzero(_at_least(scores, observed)))
            done += b
        p = (1 + hits) / (1 + resamples)
        method = "monte_carlo"
    return GroupTest("kruskal", statistic, min(1.0, float(p)), method, total, k, min_p, None)


# --------------------------------------------------------------------------- smallest attainable p

def _check_size(n: int, name: str) -> int:
    if int(n) != n or n < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {n}")
    return int(n)


def mann_whitney_min_p(n_a: int, n_b: int) -> float:
    """Smallest two-sided exact Mann-Whitney p possible with n_a and n_b runs.

    Method: ``min(1, 2 / C(n_a + n_b, n_a))``: without ties the most extreme outcome
    (every run of one variant above every run of the other) is one of the
    C(n_a + n_b, n_a) equally likely rank splits, and the two-sided p counts both
    directions. 5 v 5: 2/252 = 0.0079; 3 v 3: 0.1 (can never reach 0.05).

    Assumptions: independent runs, no ties (ties can only raise the smallest p).
    Not valid for: the asymptotic (normal) Mann-Whitney p, which has no such floor; a group
    with no runs gives 1 (nothing can be decided).
    """
    n_a, n_b = _check_size(n_a, "n_a"), _check_size(n_b, "n_b")
    return min(1.0, 2.0 / math.comb(n_a + n_b, n_a))


def sign_flip_min_p(n: int) -> float:
    """Smallest two-sided exact sign-flip (or sign test) p possible with n pairs.

    Method: ``min(1, 2 / 2^n)``: all n paired differences with the same sign is one of the
    2^n equally likely sign patterns, two-sided counts both signs. n = 5: 0.0625 (can never
    reach 0.05); n = 6: 0.03125.

    Assumptions: n nonzero differences (a zero difference contributes nothing and
    effectively lowers n). Not valid for: the paired t-test, which has no such floor.
    """
    n = _check_size(n, "n")
    return min(1.0, 2.0 / 2 ** n)


def fisher_min_p(n_a: int, n_b: int) -> float:
    """Smallest two-sided Fisher exact p possible for failure rates of n_a against n_b runs.

    Method: :func:`fisher` (``scipy.stats.fisher_exact``, two-sided) for every possible pair
    of failure counts 0 <= k_a <= n_a, 0 <= k_b <= n_b (by symmetry, failures and successes
    exchanged give the same p, so half of them), and the minimum. 5 v 5: 2/252 = 0.0079
    (0/5 against 5/5); 3 v 3: 0.1.

    Assumptions: those of :func:`fisher`. Not valid for: deciding anything before the
    runs - it says only whether ANY outcome could reach a given level; most outcomes give
    much larger p values (0/5 against 3/5: 0.17). A group with no runs gives 1.
    """
    n_a, n_b = _check_size(n_a, "n_a"), _check_size(n_b, "n_b")
    if n_a == 0 or n_b == 0:
        return 1.0
    st = _scipy_stats()
    best = 1.0
    for k_a in range(n_a + 1):
        for k_b in range(n_b + 1):
            if (k_a, k_b) > (n_a - k_a, n_b - k_b):
                continue  # the mirror table (failures <-> successes) has the same p
            p = float(st.fisher_exact([[k_a, n_a - k_a], [k_b, n_b - k_b]], alternative="two-sided").pvalue)
            best = min(best, p)
    return best


# --------------------------------------------------------------------------- detectable difference

def _t_power_both_tails(effect: float, n: int, alpha: float, paired: bool) -> float:
    """:func:`_t_power` computed without NaN: the lower rejection tail
    ``nct.cdf(-crit, df, nc)`` is NaN in scipy 1.17 for large nc (e.g. df = 2, nc = 8.5,
    where it is below 1e-15); ``nct.sf(crit, df, -nc)`` is the same probability (T with
    noncentrality -nc is -T with nc) and stays finite. Equal to ``_t_power`` wherever that
    is finite (to rounding)."""
    if paired:
        df, nc = n - 1, effect * math.sqrt(n)
    else:
        df, nc = 2 * n - 2, effect * math.sqrt(n / 2.0)
    st = _scipy_stats()
    crit = st.t.ppf(1.0 - alpha / 2.0, df)
    return float(st.nct.sf(crit, df, nc) + st.nct.sf(crit, df, -nc))


def min_detectable_difference(sd: float | None, n: int, alpha: float = 0.05, power: float = 0.8,
                              paired: bool = False) -> float | None:
    """Smallest |difference| a two-sided t-test at level ``alpha`` detects with prob. ``power``.

    Method: the power function of :func:`seeds_needed` (``_t_power``: noncentral t,
    two-sided, both rejection tails; evaluated as ``_t_power_both_tails``, the same numbers
    without scipy's NaN for the lower tail at large noncentrality), solved for the
    standardized effect with ``scipy.optimize.brentq`` (tolerance 1e-14) and multiplied by
    ``sd``:
      * paired: one-sample t-test on n differences, df = n - 1, noncentrality
        ``d * sqrt(n) / sd`` with ``sd`` the standard deviation of the DIFFERENCES;
      * unpaired: two-sample t-test with n runs per variant, df = 2n - 2, noncentrality
        ``d * sqrt(n / 2) / sd`` with ``sd`` the common per-run standard deviation.
    Paired, n = 5, alpha 0.05, power 0.8: 1.68 sd (G*Power's one-sample t);
    unpaired, n = 5: 2.02 sd.

    Assumptions: normal runs, equal variances (unpaired), ``sd`` taken as the truth.
    Not valid as a precise statement when ``sd`` is itself estimated from a few seeds (an
    sd from 5 runs can be off by a factor of 2); not for bimodal data (split failures
    off first); the non-parametric tests beside the t-test need larger differences.
    With several tests in a Holm family use the adjusted level (e.g. alpha / m).

    Returns None when n < 2 or ``sd`` is None (no t-test possible / no sd); 0.0 when
    sd == 0 (any difference is detected). ValueError for sd < 0 or not finite, alpha or
    power outside (0, 1), or power <= alpha (the power at difference 0 is alpha).
    """
    if not (0.0 < alpha < 1.0) or not (0.0 < power < 1.0):
        raise ValueError("alpha and power must be in (0, 1)")
    if power <= alpha:
        raise ValueError(f"power must exceed alpha (the power at difference 0 is alpha), got {power} <= {alpha}")
    if int(n) != n:
        raise ValueError(f"n must be an integer, got {n}")
    n = int(n)
    if sd is None:
        return None
    if not math.isfinite(sd) or sd < 0:
        raise ValueError(f"sd must be finite and >= 0, got {sd}")
    if n < 2:
        return None
    if sd == 0:
        return 0.0
    return float(_detectable_effect(n, float(alpha), float(power), bool(paired)) * sd)


@functools.lru_cache(maxsize=256)
def _detectable_effect(n: int, alpha: float, power: float, paired: bool) -> float:
    """The standardized effect (difference / sd) of :func:`min_detectable_difference`: it
    depends on the design alone, so it is solved once per design."""
    from scipy import optimize

    def gap(effect: float) -> float:
        return _t_power_both_tails(effect, n, alpha, paired) - power

    high = 1.0
    while gap(high) < 0:
        high *= 2.0
        if high > 1e6:  # not reached for alpha, power in (0, 1) and n >= 2; a guard against loops
            raise ValueError("no detectable difference found (power function did not reach the target)")
    return optimize.brentq(gap, 0.0, high, xtol=1e-14, rtol=1e-14, maxiter=200)


# --------------------------------------------------------------------------- probability of improvement

def prob_improvement_interval(a: Sequence[float], b: Sequence[float], paired: bool = False, level: float = 0.95,
                              resamples: int = 2000, seed: int = 0) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval for P(A > B), the probability of improvement.

    Method (as rliable, Agarwal et al. 2021, "Deep RL at the edge of the statistical
    precipice"): ``resamples`` bootstrap samples from ``numpy.random.default_rng(seed)``
    (reproducible bit for bit for a given seed and numpy version), the interval is the
    ``(1 - level)/2`` and ``1 - (1 - level)/2`` quantiles of the bootstrap statistics
    (numpy's default linear interpolation):
      * unpaired: stratified bootstrap - a and b are resampled separately, each with
        replacement and its own size; statistic = fraction of the (a_i, b_j) pairs with
        a_i > b_j, ties 1/2 (the ``prob_improvement`` of :func:`compare`);
      * paired: the n pairs (a[i], b[i]) are resampled with replacement; statistic =
        fraction of pairs with a[i] > b[i], ties 1/2.

    Assumptions: runs independent (paired: pairs independent) and the observed runs a fair
    picture of the distributions. Pairing as in :func:`compare`.

    Not valid for - known weakness, stated plainly: the percentile bootstrap cannot see
    beyond the observed runs. With complete separation (every run of A above every run of
    B) every bootstrap sample gives 1, so the interval collapses to [1, 1] - it does NOT
    mean that P(A > B) is known to be 1 (with 5 v 5 runs the data are compatible with much
    smaller values; see :func:`mann_whitney_min_p` for what 5 runs can establish). More
    generally its coverage is below ``level`` with 5 runs per variant, and the interval
    moves in steps of 1/(n_a n_b) (paired: 1/n). Use it as a description of the spread,
    and the exact tests for decisions. It is also not an interval for a difference of means.

    Returns (None, None) when a group is empty (paired: fewer than 2 pairs). ValueError for
    None / NaN / inf values or (paired) unequal lengths.
    """
    _check_level(level)
    resamples = _check_resamples(resamples)
    x = _as_floats(a, "a")
    y = _as_floats(b, "b")
    rng = np.random.default_rng(seed)
    if paired:
        if x.size != y.size:
            raise ValueError(f"paired interval needs equal lengths, got {x.size} and {y.size}")
        n = int(x.size)
        if n < 2:
            return None, None
        score = 0.5 * (np.sign(x - y) + 1.0)  # 1 win, 1/2 tie, 0 loss
        counts = _bootstrap_counts(rng, n, resamples)
        boot = counts @ score / n
    else:
        na, nb = int(x.size), int(y.size)
        if na == 0 or nb == 0:
            return None, None
        wins = 0.5 * (np.sign(x[:, None] - y[None, :]) + 1.0)
        ca = _bootstrap_counts(rng, na, resamples)
        cb = _bootstrap_counts(rng, nb, resamples)
        boot = np.einsum("ri,ij,rj->r", ca, wins, cb) / (na * nb)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail])
    return float(min(1.0, max(0.0, low))), float(min(1.0, max(0.0, high)))


def _bootstrap_counts(rng: np.random.Generator, n: int, resamples: int) -> np.ndarray:
    """(resamples, n) array: how often each of n items is drawn in each bootstrap sample
    of n draws with replacement (``rng.integers(0, n, (resamples, n))``, counted)."""
    idx = rng.integers(0, n, size=(resamples, n))
    flat = idx + n * np.arange(resamples)[:, None]
    return np.bincount(flat.ravel(), minlength=resamples * n).reshape(resamples, n).astype(float)
