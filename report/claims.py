"""The 2018 report's statements tested against our runs, part by part.

Each statement (``claims`` in ``report/reference_2018.yaml``: the verbatim quote, and our
reading of it as testable parts, each with its own ``text``) gets a verdict per part, and a
verdict of its own from its parts:

``supported``      the part's difference is claimed in the stated direction
``contradicted``   a difference against it is claimed (or a stated fact is not so)
``equivalent``     no difference larger than delta (the 95% interval inside +-delta): what a
                   "no difference" part states, and against what a directional part states
``inconclusive``   none of these with our seeds
``not testable``   this design cannot decide it (the reason is given; e.g. a "limit" while
                   accuracy still rises in the last epoch, measured)

A statement is contradicted when a part is; supported when every testable part holds (a
"no difference" part holds when it is equivalent); equivalent when a directional part found
no difference that matters and nothing is contradicted or open; else inconclusive.

Part kinds: ``compare`` (a against b on a quantity, ``expect`` a_better or b_better),
``same`` (a against b, or every contrast of an experiment: no difference), ``trend`` (a
quantity along an ordered list of variants, ``expect`` increasing or decreasing: Page's trend
test over the seeds, and contradicted as well by any contrast the report makes between two
of them in the other direction), ``best`` (a variant against every other of its experiment), ``limit`` (the
variants converge to one accuracy: testable only when the last epoch no longer improves),
``test_above_train`` (a variant's test accuracy above its training accuracy, run by run),
``fact`` (a number the runs record) and ``untestable``.

The comparisons are rows of ``comparisons.csv`` (:mod:`report.inference`): :func:`requests`
lists the rows the parts need - a pair on final accuracy joins its experiment's family (and
its gate), CPU time the CPU-time family, the rest the ``2018 statements`` family; a row an
experiment has already is reused - and :func:`verdicts` reads the decided rows back.
"""

from __future__ import annotations

from report import inference as I
from report import stats
from report.numbers import number

SUPPORTED, CONTRADICTED, EQUIVALENT, INCONCLUSIVE, NOT_TESTABLE = (
    "supported", "contradicted", "equivalent", "inconclusive", "not testable")
VERDICTS = (SUPPORTED, CONTRADICTED, EQUIVALENT, INCONCLUSIVE, NOT_TESTABLE)


def _pairs(part: dict) -> list[tuple[str, str, str, str]]:
    """``(a, b, quantity, expect)`` of every contrast a part reads (expect: a_better,
    b_better or same)."""
    kind, q = part["kind"], part.get("quantity", "test_accuracy")
    if kind == "compare":
        return [(part["a"], part["b"], q, part["expect"])]
    if kind == "same" and "a" in part:
        return [(part["a"], part["b"], q, "same")]
    if kind == "test_above_train":
        return [(part["variant"], part["variant"], "test_vs_train_accuracy", "a_better")]
    return []


def _family(experiment: str, quantity: str) -> str:
    """Where a part's contrast is corrected: a pair on final accuracy with the experiment's own
    contrasts (behind its question's gate), CPU time with CPU time, the rest together."""
    if quantity == "test_accuracy":
        return experiment
    return I.TIMING if quantity == "cpu_seconds_per_epoch" else I.STATEMENTS


def requests(claims: list[dict], plan: dict | None = None) -> list[dict]:
    """The rows the statements need (:func:`report.inference.comparisons` ``requests``), in
    order: their contrasts, and a trend row per ``trend`` part. ``best`` parts need their
    variant against every other (``plan`` gives the variants)."""
    out = []
    for claim in claims:
        for part in claim["parts"]:
            exp, q = part.get("experiment"), part.get("quantity", "test_accuracy")
            if part["kind"] == "trend":
                wanted = [{"experiment": exp, "variants": list(part["variants"]), "quantity": q,
                           "family": I.STATEMENTS}]
            else:
                pairs = [(a, b, pq) for a, b, pq, _ in _pairs(part)]
                if part["kind"] == "best" and plan:
                    spec = next((e for e in plan["experiments"] if e["key"] == exp), None)
                    pairs += [(part["variant"], v["name"], q) for v in (spec or {}).get("variants", [])
                              if v["name"] != part["variant"]]
                wanted = [{"experiment": exp, "a": a, "b": b, "quantity": pq,
                           "family": I.STATEMENTS if a == b else _family(exp, pq)} for a, b, pq in pairs]
            out += [w for w in wanted if w not in out]
    return out


def _against(row: dict | None, expect: str) -> str:
    """A part's verdict from one contrast row (A as the part names it)."""
    if row is None or row["p_value"] is None and row["ci_low"] is None:
        return NOT_TESTABLE
    if row["claim"] == EQUIVALENT:
        return EQUIVALENT
    if expect == "same":
        return CONTRADICTED if row["claim"] in ("a_better", "b_better") else INCONCLUSIVE
    if row["claim"] == "inconclusive":
        return INCONCLUSIVE
    return SUPPORTED if row["claim"] == expect else CONTRADICTED


def _combine(verdicts: list[str]) -> str:
    if CONTRADICTED in verdicts:
        return CONTRADICTED
    if verdicts and all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    if verdicts and all(v == EQUIVALENT for v in verdicts):
        return EQUIVALENT
    return INCONCLUSIVE


def still_improving(runs: list[dict], experiment: str, delta: float) -> dict | None:
    """The mean gain in accuracy of the experiment's last epoch over its runs that learned,
    with its 95% interval, when that interval lies above ``delta`` / 10 (the runs are still
    rising: a limit cannot be read off them); else None."""
    gains = [v for r in runs if r["experiment"] == experiment and I.learned(r)
             and (v := number(r.get("last_epoch_gain"))) is not None]
    if len(gains) < 2:
        return None
    m = stats.mean_ci(gains)
    return {"mean": m.mean, "low": m.ci_low, "high": m.ci_high, "n": m.n} if m.ci_low > delta / 10 else None


def _part(part: dict, decided: list[dict], facts: dict, runs: list[dict], delta: float) -> dict:
    """``{text, kind, verdict, rows: [contrast rows, turned as the part reads them], why}``."""
    kind, exp = part["kind"], part.get("experiment")
    out = {"text": part.get("text", ""), "kind": kind, "rows": [], "why": "", "directional": True}
    if kind == "untestable":
        return {**out, "verdict": NOT_TESTABLE, "why": part["why"]}
    if kind == "fact":
        va = facts.get((exp, part["a"]), {}).get(part["quantity"])
        vb = facts.get((exp, part["b"]), {}).get(part["quantity"])
        if va is None or vb is None:
            return {**out, "verdict": NOT_TESTABLE, "why": f"no {part['quantity']} recorded for {part['a']} and {part['b']}"}
        holds = va > vb if part["expect"] == "a_greater" else va < vb
        return {**out, "verdict": SUPPORTED if holds else CONTRADICTED,
                "why": f"{part['quantity']}: {part['a']} {va:,}, {part['b']} {vb:,}"}
    if kind == "limit":
        rising = still_improving(runs, exp, delta)
        if rising:
            return {**out, "verdict": NOT_TESTABLE,
                    "why": f"the accuracy still rises in the last epoch, by {rising['mean']:+.4f} on average "
                           f"(95% CI {rising['low']:+.4f} to {rising['high']:+.4f}, {rising['n']} runs): a limit "
                           "cannot be read off these runs"}
        kind = "same"
    if kind == "same" and "a" not in part:
        rows = I.contrasts(decided, exp, exp)
        q = I.question_row(decided, exp)
        if not rows or q is None:
            return {**out, "verdict": NOT_TESTABLE, "why": "no comparison was possible"}
        verdicts = [_against(r, "same") for r in rows]
        verdict = (CONTRADICTED if CONTRADICTED in verdicts else EQUIVALENT if all(v == EQUIVALENT for v in verdicts)
                   else INCONCLUSIVE)
        return {**out, "verdict": verdict, "rows": [q, *rows], "directional": False}
    if kind == "best":
        rows = [I.find(decided, exp, part["variant"], r["variant_b"] if r["variant_a"] == part["variant"]
                       else r["variant_a"], part.get("quantity", "test_accuracy"))
                for r in decided if r["experiment"] == exp and r["variant_b"]
                and part["variant"] in (r["variant_a"], r["variant_b"])
                and r["quantity"] == part.get("quantity", "test_accuracy")]
        rows = [r for r in rows if r is not None]
        if not rows:
            return {**out, "verdict": NOT_TESTABLE, "why": f"{part['variant']} was not compared"}
        verdicts = [_against(r, "a_better") for r in rows]
        if CONTRADICTED in verdicts:
            verdict = CONTRADICTED
        elif all(v == SUPPORTED for v in verdicts):
            verdict = SUPPORTED
        elif all(v in (SUPPORTED, EQUIVALENT) for v in verdicts):
            verdict = EQUIVALENT
        else:
            verdict = INCONCLUSIVE
        return {**out, "verdict": verdict, "rows": rows}
    if kind == "trend":
        q, vs = part.get("quantity", "test_accuracy"), part["variants"]
        row = I.find_trend(decided, exp, vs, q)
        want = "a_better" if (part["expect"] == "increasing") == I.HIGHER_IS_BETTER[q] else "b_better"
        verdict = _against(row, want)
        # any contrast the report makes between two of the listed variants (the later one as A)
        pairs = [p for j, later in enumerate(vs) for earlier in vs[:j]
                 if (p := I.find(decided, exp, later, earlier, q)) is not None]
        against = [p for p in pairs if _against(p, want) == CONTRADICTED]
        if against:
            verdict = CONTRADICTED
        if verdict == NOT_TESTABLE:
            return {**out, "verdict": NOT_TESTABLE, "why": "the variants' runs do not pair up by seed"}
        return {**out, "verdict": verdict, "rows": [row, *against] if row else against}
    pairs = _pairs(part)
    rows = [I.find(decided, exp, a, b, q) for a, b, q, _ in pairs]
    verdicts = [_against(r, e) for r, (_, _, _, e) in zip(rows, pairs)]
    if all(v == NOT_TESTABLE for v in verdicts):
        return {**out, "verdict": NOT_TESTABLE, "why": "too few runs to compare"}
    directional = kind != "same"
    return {**out, "verdict": _combine(verdicts), "rows": [r for r in rows if r is not None],
            "directional": directional}


def verdicts(claims: list[dict], decided: list[dict], facts: dict, runs: list[dict] = (),
             delta: float = I.DELTA) -> list[dict]:
    """``[{quote, verdict, parts: [part]}]`` from the decided comparison rows (see the module
    docstring; each part as :func:`_part` gives it).

    Args:
        decided: the rows of comparisons.csv (:func:`report.inference.comparisons`).
        facts: ``{(experiment, variant): {"parameters": int}}`` for ``fact`` parts.
        runs: rows of runs.csv (``limit`` parts read the last epoch's gain).
    """
    out = []
    for claim in claims:
        parts = [_part(p, decided, facts, list(runs), delta) for p in claim["parts"]]
        testable = [p for p in parts if p["verdict"] != NOT_TESTABLE]
        if not testable:
            verdict = NOT_TESTABLE
        elif any(p["verdict"] == CONTRADICTED for p in testable):
            verdict = CONTRADICTED
        elif all(p["verdict"] == SUPPORTED or (p["verdict"] == EQUIVALENT and not p["directional"])
                 for p in testable):
            verdict = SUPPORTED
        elif all(p["verdict"] in (SUPPORTED, EQUIVALENT) for p in testable):
            verdict = EQUIVALENT
        else:
            verdict = INCONCLUSIVE
        out.append({"quote": claim["quote"], "verdict": verdict, "parts": parts})
    return out


def counts(results: list[dict]) -> dict[str, int]:
    """How many statements have each verdict, in :data:`VERDICTS` order."""
    return {v: sum(r["verdict"] == v for r in results) for v in VERDICTS}

