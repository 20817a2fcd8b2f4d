"""Every comparison the report states, with its test: the rows of ``comparisons.csv``.

Method (the report's Summary states it too):

* A run *failed to learn* when its final test accuracy is below twice chance (0.2); failed
  and diverged runs are kept apart (:func:`workflow.results.learned`): accuracy comparisons
  use the runs that learned, failure rates are compared on their own (Fisher's exact test).
* Within each experiment, the variant with the highest mean accuracy (over runs that
  learned) is compared with every other variant, and so is every other pair: picking the
  best looks at all pairs, so all pairs belong to the family that is corrected (with only
  the best-vs-other rows, 3 equal variants with 5 seeds give a false "better" claim in 5.3%
  of sweeps instead of 5%; :func:`report.stats.compare_to_best`). Each row: the difference
  of means with its 95% interval, Welch's t-test - or the paired t-test when the two
  variants' runs share seeds, initial weights and data order (same model, initialisation,
  batch size and data: :func:`pairable`) - an exact non-parametric check beside it (written
  to the report's log, not to the file), and P(A > B).
* Comparisons the report states elsewhere (the 2018 statements, CNN against MLP) are rows
  too, once each: a requested pair already in the file is not added again.
* Holm's correction (``p_holm``) runs over each family of rows (:func:`family`): what
  training learned (accuracy, failures, convergence: the same numbers on every rebuild of the
  same runs), and CPU time on its own (this machine's speed, which changes from one rebuild
  to the next and so must not move the others' corrected p values). A difference is
  *claimed* (``a_better`` / ``b_better``) only when ``p_holm < 0.05``; otherwise it is
  ``inconclusive``. Every row with a t-test says how many seeds per variant would resolve its
  observed difference with 80% power at the level 0.05 / m (m: the rows of its family with
  a p value; the strictest step of Holm's procedure), taking the observed difference and
  spread as the truth (more than 100 is written ``>100``).

Pure functions: the rows of ``runs.csv`` (dicts of strings) and the plan description in,
rows (dicts) out, in the columns of :data:`workflow.results.COMPARISON_COLUMNS`.
"""

from __future__ import annotations

import itertools
import math

from report import stats
from report.numbers import number
from workflow.results import COMPARISON_COLUMNS, learned as _learned

ALPHA = 0.05
SEEDS_CAP = 100
#: Quantities compared, and whether higher is better. ``test_vs_train_accuracy`` compares a
#: variant's final test accuracy (A) with its last-epoch training accuracy (B), seed by seed.
HIGHER_IS_BETTER = {"test_accuracy": True, "failure_rate": False, "converged_epoch": False,
                    "cpu_seconds_per_epoch": False, "test_vs_train_accuracy": True}
#: The Holm families (see the module docstring): every quantity is in LEARNING but those
#: that :data:`_FAMILIES` puts elsewhere.
LEARNING, TIMING = "learning", "timing"
_FAMILIES = {"cpu_seconds_per_epoch": TIMING}


def family(quantity: str) -> str:
    """The Holm family of a row's quantity: :data:`LEARNING` or :data:`TIMING`."""
    return _FAMILIES.get(quantity, LEARNING)


#: The run quantity each row quantity reads (the failure rate is counted, not read).
_READS = {"test_vs_train_accuracy": ("test_accuracy", "train_accuracy_epoch")}


def learned(row: dict) -> bool:
    """A runs.csv row of a run that learned."""
    return _learned(row["status"], row.get("test_accuracy"))


def by_variant(runs: list[dict], experiment: str) -> dict[str, dict[int, dict]]:
    """{variant: {seed: run row}} of one experiment."""
    out: dict[str, dict[int, dict]] = {}
    for r in runs:
        if r["experiment"] == experiment:
            out.setdefault(r["variant"], {})[int(r["seed"])] = r
    return out


def pairable(a: dict, b: dict) -> bool:
    """Two variants' runs with the same seed start from the same weights and see the same
    data order: same model settings (architecture and initialisation), batch size, data and
    iterations (``pairing`` keys of :func:`workflow.experiments.describe`)."""
    return a.get("pairing") is not None and a.get("pairing") == b.get("pairing")


def _values(rows: dict[int, dict], quantity: str, seeds=None) -> list[float]:
    """``quantity`` of the runs that learned (in seed order; only ``seeds`` if given)."""
    seeds = sorted(rows) if seeds is None else seeds
    return [v for s in seeds if learned(rows[s]) and (v := number(rows[s].get(quantity))) is not None]


def _empty(experiment, a, b, quantity, test) -> dict:
    row = dict.fromkeys(COMPARISON_COLUMNS)
    row.update(experiment=experiment, variant_a=a, variant_b=b, quantity=quantity, n_a=0, n_b=0, test=test,
               claim="inconclusive")
    return row


def comparison_row(experiment: str, a: str, b: str, quantity: str, ra: dict, rb: dict, paired: bool) -> dict:
    """One row comparing ``quantity`` of variant ``a`` (runs ``ra``: {seed: row}) with ``b``,
    over the runs that learned (paired: over the seeds where both learned). Undecided: its
    ``p_holm`` and ``claim`` come from :func:`decide`."""
    qa, qb = _READS.get(quantity, (quantity, quantity))
    if paired:
        seeds = [s for s in sorted(set(ra) & set(rb)) if learned(ra[s]) and learned(rb[s])
                 and number(ra[s].get(qa)) is not None and number(rb[s].get(qb)) is not None]
        xa, xb = _values(ra, qa, seeds), _values(rb, qb, seeds)
    else:
        xa, xb = _values(ra, qa), _values(rb, qb)
    row = _empty(experiment, a, b, quantity, "paired_t" if paired else "welch")
    row.update(n_a=len(xa), n_b=len(xb))
    if not xa or not xb:
        return row
    c = stats.compare(xa, xb, paired=paired)
    row.update(mean_a=c.mean_a, mean_b=c.mean_b, difference=c.difference, ci_low=c.ci_low, ci_high=c.ci_high,
               p_value=c.p_value, prob_improvement=c.prob_improvement)
    row["nonparametric"] = (c.nonparametric_test, c.nonparametric_p)  # for the log, not a column
    if c.difference is not None and len(xa) > 1 and len(xb) > 1:
        if paired:
            sd = stats.mean_ci([u - v for u, v in zip(xa, xb)]).std
        else:
            sd = math.sqrt((stats.mean_ci(xa).std ** 2 + stats.mean_ci(xb).std ** 2) / 2)
        row["power_input"] = (abs(c.difference), sd or 0.0, paired)  # for seeds_needed, in decide()
    return row


def failure_row(experiment: str, a: str, b: str, ra: dict, rb: dict) -> dict:
    """Failure rates (failed to learn or diverged) of ``a`` and ``b``: Fisher's exact test."""
    ka = sum(not learned(r) for r in ra.values())
    kb = sum(not learned(r) for r in rb.values())
    f = stats.fisher(ka, len(ra), kb, len(rb))
    row = _empty(experiment, a, b, "failure_rate", "fisher")
    row.update(n_a=len(ra), n_b=len(rb), mean_a=f.rate_a, mean_b=f.rate_b, p_value=f.p_value,
               difference=None if f.rate_a is None or f.rate_b is None else f.rate_a - f.rate_b)
    return row


def sweep_comparisons(experiment: str, variants: list[dict], runs: list[dict],
                      quantity: str = "test_accuracy") -> list[dict]:
    """The rows of one experiment: the best variant (highest mean ``quantity`` over runs that
    learned; the first in config order on ties) against each other (``origin`` "best"), every
    other pair with the higher mean as A (``origin`` "pair"), and, where runs failed, each
    variant with failures against the one with the lowest failure rate (``origin`` "failures")."""
    rows = by_variant(runs, experiment)
    info = {v["name"]: v for v in variants}
    names = [v["name"] for v in variants if v["name"] in rows]
    sign = 1 if HIGHER_IS_BETTER[quantity] else -1
    means = {n: sum(vals) / len(vals) for n in names if (vals := _values(rows[n], quantity))}
    out = []
    if len(means) >= 2:
        order = sorted(means, key=lambda n: (-sign * means[n], names.index(n)))
        best = order[0]
        for other in [n for n in names if n in means and n != best]:
            out.append({**comparison_row(experiment, best, other, quantity, rows[best], rows[other],
                                         pairable(info[best], info[other])), "origin": "best"})
        for u, v in itertools.combinations(order[1:], 2):
            out.append({**comparison_row(experiment, u, v, quantity, rows[u], rows[v], pairable(info[u], info[v])),
                        "origin": "pair"})
    failures = {n: sum(not learned(r) for r in rows[n].values()) / len(rows[n]) for n in names}
    if any(failures.values()) and len(names) >= 2:
        fewest = min(names, key=lambda n: failures[n])
        out += [{**failure_row(experiment, n, fewest, rows[n], rows[fewest]), "origin": "failures"}
                for n in names if n != fewest and failures[n]]
    return out


def key(row: dict) -> tuple:
    """What a comparison is, whichever variant is A: experiment, the pair, quantity."""
    return row["experiment"], frozenset((row["variant_a"], row["variant_b"])), row["quantity"]


def requested_row(plan: dict, runs: list[dict], experiment: str, a: str, b: str, quantity: str) -> dict | None:
    """A comparison asked for by the report (``a`` against ``b``); None if a variant has no runs."""
    info = {(e["key"], v["name"]): v for e in plan["experiments"] for v in e["variants"]}
    groups = by_variant(runs, experiment)
    if a not in groups or b not in groups:
        return None
    if quantity == "failure_rate":
        return {**failure_row(experiment, a, b, groups[a], groups[b]), "origin": "request"}
    paired = a == b or pairable(info[(experiment, a)], info[(experiment, b)])
    return {**comparison_row(experiment, a, b, quantity, groups[a], groups[b], paired), "origin": "request"}


def decide(rows: list[dict]) -> list[dict]:
    """Holm over the p values of each :func:`family` of rows; then each row's claim, and the
    seeds per variant a t-test at its family's strictest level, 0.05 / m (m rows of the family
    with a p value), would need to find the observed difference with 80% power (see the
    module docstring)."""
    members: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        members.setdefault(family(r["quantity"]), []).append(i)
    adjusted: list[float | None] = [None] * len(rows)
    size = {}
    for name, idx in members.items():
        for i, p in zip(idx, stats.holm([rows[i]["p_value"] for i in idx])):
            adjusted[i] = p
        size[name] = max(1, sum(rows[i]["p_value"] is not None for i in idx))
    out = []
    for r, p in zip(rows, adjusted):
        m = size[family(r["quantity"])]
        claim = "inconclusive"
        if p is not None and p < ALPHA and r["difference"]:
            better_a = (r["difference"] > 0) == HIGHER_IS_BETTER[r["quantity"]]
            claim = "a_better" if better_a else "b_better"
        need = r.get("seeds_needed")
        if r.get("power_input"):
            difference, sd, paired = r["power_input"]
            n = stats.seeds_needed(difference, sd, alpha=ALPHA / m, cap=SEEDS_CAP, paired=paired)
            need = f">{SEEDS_CAP}" if n.more_than_cap else n.n
        out.append({**r, "p_holm": p, "claim": claim, "seeds_needed": need})
    return out


def comparisons(plan: dict, runs: list[dict], requests=()) -> list[dict]:
    """Every comparison the report states (see the module docstring), decided together.

    Args:
        plan: :func:`workflow.experiments.describe` of the plan.
        runs: rows of runs.csv.
        requests: further comparisons ``(experiment, a, b, quantity)`` the report states
            (the 2018 statements, the architectures), added unless the file has them already.
    """
    rows = []
    for e in plan["experiments"]:
        if len(e["variants"]) >= 2 and e["key"] != plan.get("ablation"):
            rows += sweep_comparisons(e["key"], e["variants"], runs)
    seen = {key(r) for r in rows}
    for experiment, a, b, quantity in requests:
        k = (experiment, frozenset((a, b)), quantity)
        if k in seen:
            continue
        row = requested_row(plan, runs, experiment, a, b, quantity)
        if row is not None:
            rows.append(row)
            seen.add(k)
    return decide(rows)


def find(rows: list[dict], experiment: str, a: str, b: str, quantity: str) -> dict | None:
    """The row comparing ``a`` with ``b`` (either way round), turned so that ``a`` is A."""
    for r in rows:
        if key(r) == (experiment, frozenset((a, b)), quantity):
            return r if r["variant_a"] == a else flip(r)
    return None


def flip(row: dict) -> dict:
    """The same comparison with A and B exchanged."""
    neg = {k: (None if row[k] is None else -row[k]) for k in ("difference",)}
    swapped = {"a_better": "b_better", "b_better": "a_better"}.get(row["claim"], row["claim"])
    prob = row.get("prob_improvement")
    ci = (None if row["ci_high"] is None else -row["ci_high"], None if row["ci_low"] is None else -row["ci_low"])
    return {**row, "variant_a": row["variant_b"], "variant_b": row["variant_a"], "n_a": row["n_b"],
            "n_b": row["n_a"], "mean_a": row["mean_b"], "mean_b": row["mean_a"], **neg, "ci_low": ci[0],
            "ci_high": ci[1], "prob_improvement": None if prob is None else 1 - prob, "claim": swapped}


def experiment_rows(rows: list[dict], experiment: str, quantity: str = "test_accuracy") -> list[dict]:
    """The rows of one experiment on one quantity, in file order."""
    return [r for r in rows if r["experiment"] == experiment and r["quantity"] == quantity]


def best_rows(rows: list[dict], experiment: str, quantity: str = "test_accuracy") -> list[dict]:
    """The experiment's best variant against each other (A = the best), read from decided rows
    alone: the best is the variant with the highest mean (lowest, where lower is better)."""
    mine = experiment_rows(rows, experiment, quantity)
    means: dict[str, float] = {}
    for r in mine:
        for v, m in ((r["variant_a"], r["mean_a"]), (r["variant_b"], r["mean_b"])):
            if m is not None:
                means.setdefault(v, m)
    if not means:
        return []
    sign = 1 if HIGHER_IS_BETTER[quantity] else -1
    best = max(means, key=lambda v: sign * means[v])
    return [r if r["variant_a"] == best else flip(r) for r in mine if best in (r["variant_a"], r["variant_b"])]


#: What the CNN-vs-MLP section states besides accuracy (which the experiment's own rows cover).
ARCHITECTURE_QUANTITIES = ("cpu_seconds_per_epoch", "converged_epoch")


def architecture_requests(plan: dict) -> list[tuple]:
    """The comparisons the architectures section states: every pair of its variants on
    :data:`ARCHITECTURE_QUANTITIES` (``(experiment, a, b, quantity)``, config order)."""
    exp = plan.get("architectures")
    if not exp:
        return []
    names = next(e for e in plan["experiments"] if e["key"] == exp)["variants"]
    return [(exp, a["name"], b["name"], q) for a, b in itertools.combinations(names, 2)
            for q in ARCHITECTURE_QUANTITIES]

