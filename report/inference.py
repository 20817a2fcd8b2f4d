"""Every verdict the report states: the rows of ``comparisons.csv``.

The method, chosen per experiment by its design (the report's Summary says it in five
sentences; ``cnnlib.results.COMPARISON_COLUMNS`` describes each column):

Outcome. The primary outcome is a run's final test accuracy over *every* run: a run that
failed to learn counts with the accuracy it reached, a diverged run at chance
(:func:`cnnlib.results.outcome`). A failed run is a result; dropping it would compare
survivors. Means over the runs that learned stay in the tables as secondary numbers.

Design. Two variants whose runs of one seed start from the same weights and see the same
data order (same model settings, batch size, data and iterations: :func:`pairable`) are
compared seed by seed; otherwise as independent groups.

Question. An experiment with two or more variants asks first whether accuracy changes
across them at all, with one test: Friedman's (paired, three or more variants: ranks within
each seed), the paired t-test (paired, two variants), Kruskal-Wallis (independent, three or
more) or the exact permutation test of the difference of means (independent, two). The rank tests stand the bimodal
data that failed runs make; for two paired variants the t-test, because a signed-rank or
sign-flip test over 5 pairs can never give p below 0.0625.

Contrasts. Then each variant against the experiment's reference - the variant with the
baseline's settings where the experiment has one, else the one with the best mean - and the
pairs a stated claim needs: the paired t-test over all runs (its interval of the mean
difference), or for independent runs the exact permutation test of the difference of means
(with the interval of shifts it does not reject: valid for bimodal data, and it can decide
with 5 runs against 5, p down to 0.008), with P(A > B) and its bootstrap interval. Trends that
a statement claims along a sweep: Page's test over the seeds. Holm's correction runs within each family: one per
experiment, one for the 2018 statements' parts that are not already an experiment's
contrasts, one for CPU time (the host's speed, which must not move the others). An accuracy
contrast is claimed only when its experiment's question test rejects too (a gate).

Verdicts. ``a_better`` / ``b_better``: Holm p < 0.05 (and the gate). ``equivalent``: the 95%
interval of the difference lies inside +-delta, the smallest difference that matters
(config key ``delta``, default 0.005 accuracy: half a percentage point) - it takes precedence,
a difference smaller than delta does not matter however sure it is. ``inconclusive``:
neither. Where no data of this many runs could reach the family's Holm level (the test's
smallest possible p is above it), the row is marked not ``decidable``. Each contrast states
its *minimum detectable difference*: the difference its test finds with 80% power at the
family's strictest Holm level (0.05 / family size), from the spread of its runs (the sd of
the paired differences, or the pooled sd of the two variants) - never from the observed
difference.

Pure functions: rows of ``runs.csv`` (dicts of strings) and the plan description
(:func:`workflow.experiments.describe`) in, rows out.
"""

from __future__ import annotations

import math
import statistics

from report import stats
from report.numbers import number
from cnnlib.results import COMPARISON_COLUMNS, learned as _learned, outcome

ALPHA = 0.05
POWER = 0.8
DELTA = 0.005
#: Quantities compared, and whether higher is better.
HIGHER_IS_BETTER = {"test_accuracy": True, "early_accuracy": True, "test_train_gap": True,
                    "cpu_seconds_per_epoch": False, "failure_rate": False, "test_vs_train_accuracy": True}
#: Quantities on the accuracy scale: delta applies to them.
ACCURACY_SCALE = ("test_accuracy", "early_accuracy", "test_train_gap", "test_vs_train_accuracy")
#: The population each quantity is compared over: every run, or the runs that learned (a
#: failed run's gap between test and training accuracy says nothing about overfitting).
POPULATION = {"test_train_gap": "learned", "test_vs_train_accuracy": "learned"}
STATEMENTS, TIMING = "2018 statements", "cpu time"
#: The run quantity each row quantity reads (A, B).
_READS = {"test_vs_train_accuracy": ("test_accuracy", "train_accuracy_epoch")}


def learned(row: dict) -> bool:
    """A runs.csv row of a run that learned."""
    return _learned(row["status"], row.get("test_accuracy"), row.get("classes"))


def value(row: dict, quantity: str) -> float | None:
    """A run's value of ``quantity`` as its comparison counts it: final (or first-epoch) test
    accuracy of every run, a run without one (diverged) at chance; other quantities as
    recorded (None: missing)."""
    if quantity == "test_accuracy":
        return outcome(row["status"], row.get("test_accuracy"), row.get("classes"))
    v = number(row.get(quantity))
    if v is None and quantity == "early_accuracy":
        return outcome(row["status"], None, row.get("classes"))
    return v


def by_variant(runs: list[dict], experiment: str) -> dict[str, dict[int, dict]]:
    """{variant: {seed: run row}} of one experiment."""
    out: dict[str, dict[int, dict]] = {}
    for r in runs:
        if r["experiment"] == experiment:
            out.setdefault(r["variant"], {})[int(r["seed"])] = r
    return out


def pairable(a: dict, b: dict) -> bool:
    """Two variants' runs with the same seed start from the same weights and see the same
    data order (``pairing`` keys of :func:`workflow.experiments.describe`)."""
    return a.get("pairing") is not None and a.get("pairing") == b.get("pairing")


def _keep(row: dict, quantity: str) -> bool:
    return POPULATION.get(quantity, "all_runs") == "all_runs" or learned(row)


def _series(rows: dict[int, dict], quantity: str, seeds=None) -> dict[int, float]:
    """{seed: value} of the runs in ``quantity``'s population that have a value."""
    seeds = sorted(rows) if seeds is None else seeds
    return {s: v for s in seeds if s in rows and _keep(rows[s], quantity)
            and (v := value(rows[s], quantity)) is not None}


def _empty(experiment, a, b, quantity, family, test) -> dict:
    row = dict.fromkeys(COMPARISON_COLUMNS)
    row.update(experiment=experiment, variant_a=a, variant_b=b, quantity=quantity, n_a=0, n_b=0, test=test,
               family=family, population=POPULATION.get(quantity, "all_runs"), claim="inconclusive",
               delta=DELTA if quantity in ACCURACY_SCALE else None, decidable=False)
    return row


# --------------------------------------------------------------------------- contrasts


def contrast(experiment: str, a: str, b: str, quantity: str, ra: dict, rb: dict, paired: bool,
             family: str) -> dict:
    """One contrast row, A against B on ``quantity`` (runs ``ra``, ``rb``: {seed: row}); undecided
    (``p_holm``, ``claim``, ``min_detectable``, ``decidable`` come from :func:`decide`)."""
    qa, qb = _READS.get(quantity, (quantity, quantity))
    row = _empty(experiment, a, b, quantity, family, "paired_t" if paired else "permutation")
    if a == b:  # a variant's two quantities, run by run
        paired = True
        row["test"] = "paired_t"
    xa, xb = _series(ra, qa), _series(rb, qb)
    if paired:
        seeds = sorted(set(xa) & set(xb))
        xa, xb = [xa[s] for s in seeds], [xb[s] for s in seeds]
    else:
        xa, xb = list(xa.values()), list(xb.values())
    row.update(n_a=len(xa), n_b=len(xb))
    if not xa or not xb:
        return row
    c = stats.compare(xa, xb, paired=paired)
    row.update(mean_a=c.mean_a, mean_b=c.mean_b, difference=c.difference, ci_low=_bound(c.ci_low, quantity),
               ci_high=_bound(c.ci_high, quantity), prob_improvement=c.prob_improvement)
    low, high = stats.prob_improvement_interval(xa, xb, paired=paired)
    row.update(prob_improvement_low=low, prob_improvement_high=high)
    if paired:
        row["p_value"] = c.p_value
        sd = stats.mean_ci([u - v for u, v in zip(xa, xb)]).std if len(xa) > 1 else None
        row["_design"] = {"sd": sd, "n": len(xa), "paired": True, "min_p": 0.0 if len(xa) > 1 else 1.0}
    else:
        _, row["p_value"] = stats.permutation_means(xa, xb)
        row["ci_low"], row["ci_high"] = (_bound(x, quantity) for x in stats.permutation_interval(xa, xb))
        sd = (math.sqrt((statistics.variance(xa) + statistics.variance(xb)) / 2)
              if len(xa) > 1 and len(xb) > 1 else None)
        row["_design"] = {"sd": sd, "n": min(len(xa), len(xb)), "paired": False,
                          "min_p": stats.mann_whitney_min_p(len(xa), len(xb))}
    return row


def _bound(x, quantity: str):
    """A difference of accuracies lies in -1..1: so does its interval (a t-interval over 2 runs may not)."""
    return x if x is None or quantity not in ACCURACY_SCALE else min(1.0, max(-1.0, x))


def failure_contrast(experiment: str, a: str, b: str, ra: dict, rb: dict, family: str) -> dict:
    """Failure rates (failed to learn or diverged) of ``a`` and ``b``: Fisher's exact test."""
    ka = sum(not learned(r) for r in ra.values())
    kb = sum(not learned(r) for r in rb.values())
    f = stats.fisher(ka, len(ra), kb, len(rb))
    row = _empty(experiment, a, b, "failure_rate", family, "fisher")
    row.update(n_a=len(ra), n_b=len(rb), mean_a=f.rate_a, mean_b=f.rate_b, p_value=f.p_value,
               difference=None if f.rate_a is None or f.rate_b is None else f.rate_a - f.rate_b)
    row["_design"] = {"sd": None, "n": min(len(ra), len(rb)), "paired": False,
                      "min_p": stats.fisher_min_p(len(ra), len(rb)) if ra and rb else 1.0}
    return row


def trend(experiment: str, variants: list[str], quantity: str, rows: dict[str, dict[int, dict]], family: str) -> dict:
    """A trend row: does ``quantity`` change monotonically along ``variants`` (in the order of
    the swept value)? Page's test over the seeds all of them ran (a block design); A is the last
    variant, B the first, the difference and its interval paired between them. ``claim``
    a_better: the quantity improves along the order (rises, where higher is better)."""
    row = _empty(experiment, variants[-1], variants[0], quantity, family, "page_trend")
    row["delta"] = None  # a trend is not "equivalent": its ends may differ less than its middle
    if any(v not in rows for v in variants):
        return row
    series = [_series(rows[v], quantity) for v in variants]
    seeds = sorted(set.intersection(*(set(s) for s in series)))
    if len(seeds) < 2:
        return row
    table = [[s[seed] for s in series] for seed in seeds]
    t = stats.page_trend(table)
    first, last = [r[0] for r in table], [r[-1] for r in table]
    c = stats.compare(last, first, paired=True)
    low, high = stats.prob_improvement_interval(last, first, paired=True)
    row.update(n_a=len(seeds), n_b=len(seeds), mean_a=c.mean_a, mean_b=c.mean_b, difference=c.difference,
               ci_low=c.ci_low, ci_high=c.ci_high, p_value=t.p_value, prob_improvement=c.prob_improvement,
               prob_improvement_low=low, prob_improvement_high=high)
    row["_design"] = {"sd": None, "n": len(seeds), "paired": True, "min_p": t.min_p,
                      "direction": t.direction * (1 if HIGHER_IS_BETTER[quantity] else -1)}
    return row


# --------------------------------------------------------------------------- the question


def question(experiment: str, variants: list[dict], rows: dict[str, dict[int, dict]],
             quantity: str = "test_accuracy") -> dict:
    """An experiment's question row: does ``quantity`` change across its variants? One test
    chosen by the design (see the module docstring); ``variant_a``: the best mean."""
    names = [v["name"] for v in variants if v["name"] in rows]
    info = {v["name"]: v for v in variants}
    paired = all(pairable(info[names[0]], info[n]) for n in names[1:])
    series = {n: _series(rows[n], quantity) for n in names}
    means = {n: statistics.fmean(s.values()) for n, s in series.items() if s}
    sign = 1 if HIGHER_IS_BETTER[quantity] else -1
    best = max(means, key=lambda n: (sign * means[n], -names.index(n))) if means else None
    k = len(names)
    test = ("friedman" if k > 2 else "paired_t") if paired else ("kruskal" if k > 2 else "permutation")
    row = _empty(experiment, best or "", "", quantity, experiment, test)
    if best is None or len(means) < 2:
        return row
    if paired:
        seeds = sorted(set.intersection(*(set(s) for s in series.values())))
        table = [[series[n][s] for n in names] for s in seeds]
        n_each = len(seeds)
        if k > 2:
            t = stats.friedman(table)
            p, min_p = t.p_value, t.min_p
        else:
            c = stats.compare([r[0] for r in table], [r[1] for r in table], paired=True)
            p, min_p = c.p_value, (0.0 if n_each > 1 else 1.0)
    else:
        groups = [list(series[n].values()) for n in names]
        n_each = min(len(g) for g in groups)
        if k > 2:
            t = stats.kruskal(groups)
            p, min_p = t.p_value, t.min_p
        else:
            _, p = stats.permutation_means(groups[0], groups[1])
            min_p = stats.mann_whitney_min_p(len(groups[0]), len(groups[1]))
    worst = min(means, key=lambda n: sign * means[n])
    row.update(n_a=n_each, n_b=k, mean_a=means[best], mean_b=means[worst], difference=means[best] - means[worst],
               p_value=p, decidable=min_p is not None and min_p < ALPHA)
    row["_design"] = {"question": True, "min_p": min_p}
    return row


def reference_of(experiment: dict, rows: dict[str, dict[int, dict]]) -> str | None:
    """The variant an experiment's contrasts are against: the plan's ``reference`` (the
    variant with the baseline's settings), else the best mean over all runs."""
    if experiment.get("reference") in rows:
        return experiment["reference"]
    means = {n: statistics.fmean(s.values()) for n in rows if (s := _series(rows[n], "test_accuracy"))}
    names = [v["name"] for v in experiment["variants"]]
    return max(means, key=lambda n: (means[n], -names.index(n))) if means else None


def experiment_rows(experiment: dict, runs: list[dict]) -> list[dict]:
    """The question and the contrasts of one experiment (its family; undecided)."""
    name = experiment["key"]
    rows = by_variant(runs, name)
    if len([v for v in experiment["variants"] if v["name"] in rows]) < 2:
        return []
    info = {v["name"]: v for v in experiment["variants"]}
    out = [question(name, experiment["variants"], rows)]
    ref = reference_of(experiment, rows)
    for v in experiment["variants"]:
        n = v["name"]
        if n != ref and n in rows:
            out.append({**contrast(name, n, ref, "test_accuracy", rows[n], rows[ref], pairable(info[n], info[ref]),
                                   name), "reference": True})
    return out


def key(row: dict) -> tuple:
    """What a comparison is, whichever variant is A: experiment, the pair, quantity, population."""
    return row["experiment"], frozenset((row["variant_a"], row["variant_b"])), row["quantity"], row["population"]


def requested(plan: dict, runs: list[dict], experiment: str, a: str, b: str, quantity: str,
              family: str) -> dict | None:
    """A contrast asked for by the report (``a`` against ``b``); None if a variant has no runs."""
    spec = next((e for e in plan["experiments"] if e["key"] == experiment), None)
    rows = by_variant(runs, experiment)
    if spec is None or a not in rows or b not in rows:
        return None
    if quantity == "failure_rate":
        return failure_contrast(experiment, a, b, rows[a], rows[b], family)
    info = {v["name"]: v for v in spec["variants"]}
    return contrast(experiment, a, b, quantity, rows[a], rows[b], a == b or pairable(info[a], info[b]), family)


# --------------------------------------------------------------------------- decisions


def _direction(row: dict) -> str:
    trend = (row.get("_design") or {}).get("direction")
    if trend is not None:
        return "a_better" if trend > 0 else "b_better"
    better_a = (row["difference"] > 0) == HIGHER_IS_BETTER[row["quantity"]]
    return "a_better" if better_a else "b_better"


def decide(rows: list[dict]) -> list[dict]:
    """Holm within each family, the question gates, and each row's verdict, minimum detectable
    difference and decidability (see the module docstring)."""
    families: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        if not r.get("_design", {}).get("question"):
            families.setdefault(r["family"], []).append(i)
    out = [dict(r) for r in rows]
    gates = {}
    for r in out:
        if r.get("_design", {}).get("question"):
            p = r["p_value"]
            r["p_holm"] = p
            r["family_size"] = len(families.get(r["family"], []))
            r["claim"] = "a_better" if p is not None and p < ALPHA else "inconclusive"
            gates[(r["experiment"], r["quantity"])] = r
    for name, idx in families.items():
        m = len(idx)
        for i, p in zip(idx, stats.holm([out[i]["p_value"] for i in idx])):
            r = out[i]
            design = r.get("_design") or {}
            gate = gates.get((r["experiment"], r["quantity"])) if r["family"] == r["experiment"] else None
            level = ALPHA / m
            r.update(p_holm=p, family_size=m)
            r["decidable"] = (design.get("min_p", 1.0) <= level
                              and (gate is None or bool(gate["decidable"])))
            if design.get("sd") is not None and design["n"] >= 2:
                r["min_detectable"] = stats.min_detectable_difference(design["sd"], design["n"], level, POWER,
                                                                      design["paired"])
            claim = "inconclusive"
            if r["delta"] is not None and r["ci_low"] is not None and -r["delta"] < r["ci_low"] \
                    and r["ci_high"] < r["delta"]:
                claim = "equivalent"
            elif p is not None and p < ALPHA and (r["difference"] or design.get("direction")) \
                    and (gate is None or gate["claim"] == "a_better") and design.get("direction", 1) != 0:
                claim = _direction(r)
            r["claim"] = claim
    return out


def comparisons(plan: dict, runs: list[dict], requests=()) -> list[dict]:
    """Every row of comparisons.csv, decided (see the module docstring).

    Args:
        plan: :func:`workflow.experiments.describe` of the plan (``delta`` in it, if set).
        runs: rows of runs.csv.
        requests: further rows the report states (the 2018 statements' parts, the
            architectures): ``{experiment, a, b, quantity, family}`` for a contrast, added
            unless a row of that experiment, pair, quantity and population exists; ``{experiment,
            variants, quantity, family}`` for a trend (:func:`trend`).
    """
    delta = plan.get("delta", DELTA)
    rows = []
    for e in plan["experiments"]:
        if e["key"] != plan.get("ablation"):
            rows += experiment_rows(e, runs)
    seen = {key(r) for r in rows if r["variant_b"]}
    trends = set()
    for req in requests:
        if "variants" in req:
            k = (req["experiment"], tuple(req["variants"]), req["quantity"])
            if k not in trends:
                trends.add(k)
                rows.append(trend(req["experiment"], list(req["variants"]), req["quantity"],
                                  by_variant(runs, req["experiment"]), req["family"]))
            continue
        k = (req["experiment"], frozenset((req["a"], req["b"])), req["quantity"],
             POPULATION.get(req["quantity"], "all_runs"))
        if k in seen:
            continue
        row = requested(plan, runs, req["experiment"], req["a"], req["b"], req["quantity"], req["family"])
        if row is not None:
            rows.append(row)
            seen.add(k)
    for r in rows:
        if r["delta"] is not None:
            r["delta"] = delta
    return decide(rows)


def find(rows: list[dict], experiment: str, a: str, b: str, quantity: str) -> dict | None:
    """The contrast of ``a`` with ``b`` (either way round), turned so that ``a`` is A."""
    population = POPULATION.get(quantity, "all_runs")
    for r in rows:
        if r["variant_b"] and r["test"] != "page_trend" \
                and key(r) == (experiment, frozenset((a, b)), quantity, population):
            return r if r["variant_a"] == a else flip(r)
    return None


def find_trend(rows: list[dict], experiment: str, variants: list[str], quantity: str) -> dict | None:
    """The trend row along ``variants`` (first to last)."""
    return next((r for r in rows if r["test"] == "page_trend" and r["experiment"] == experiment
                 and r["quantity"] == quantity and (r["variant_b"], r["variant_a"]) == (variants[0], variants[-1])),
                None)


def flip(row: dict) -> dict:
    """The same comparison with A and B exchanged."""
    def neg(v):
        return None if v is None else -v

    swapped = {"a_better": "b_better", "b_better": "a_better"}.get(row["claim"], row["claim"])
    prob, low, high = row.get("prob_improvement"), row.get("prob_improvement_low"), row.get("prob_improvement_high")
    return {**row, "variant_a": row["variant_b"], "variant_b": row["variant_a"], "n_a": row["n_b"],
            "n_b": row["n_a"], "mean_a": row["mean_b"], "mean_b": row["mean_a"], "difference": neg(row["difference"]),
            "ci_low": neg(row["ci_high"]), "ci_high": neg(row["ci_low"]),
            "prob_improvement": None if prob is None else 1 - prob,
            "prob_improvement_low": None if high is None else 1 - high,
            "prob_improvement_high": None if low is None else 1 - low, "claim": swapped}


def question_row(rows: list[dict], experiment: str, quantity: str = "test_accuracy") -> dict | None:
    """The experiment's question row."""
    return next((r for r in rows if r["experiment"] == experiment and not r["variant_b"]
                 and r["quantity"] == quantity), None)


def contrasts(rows: list[dict], experiment: str, family: str | None = None) -> list[dict]:
    """The contrast rows of one experiment (of one family, if given), in file order."""
    return [r for r in rows if r["experiment"] == experiment and r["variant_b"]
            and (family is None or r["family"] == family)]


#: What an architecture comparison states besides accuracy.
ARCHITECTURE_QUANTITIES = ("early_accuracy", "test_train_gap", "cpu_seconds_per_epoch")


def architecture_requests(plan: dict) -> list[tuple]:
    """The contrasts the architecture comparison states (config ``architectures``): every pair
    of its variants on :data:`ARCHITECTURE_QUANTITIES`, CPU time in its own family."""
    exp = plan.get("architectures")
    if not exp:
        return []
    names = [v["name"] for v in next(e for e in plan["experiments"] if e["key"] == exp)["variants"]]
    return [{"experiment": exp, "a": a, "b": b, "quantity": q, "family": TIMING if q == "cpu_seconds_per_epoch" else exp}
            for i, a in enumerate(names) for b in names[i + 1:] for q in ARCHITECTURE_QUANTITIES]
