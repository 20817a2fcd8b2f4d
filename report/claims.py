"""The 2018 report's statements tested against our runs.

Each statement (``claims`` in ``report/reference_2018.yaml``: the verbatim quote plus our
reading of it as testable parts) gets a verdict with the numbers that decide it:

``supported``      every testable part holds: a claimed difference in the stated direction
``contradicted``   a part is contradicted: a claimed difference against it, or a fact that is not so
``inconclusive``   nothing is contradicted, but some part cannot be resolved with our seeds
                   (a "no difference" statement can only be contradicted or inconclusive)
``not testable``   our data cannot decide any part (the reason is given)

The comparisons are rows of ``comparisons.csv`` (:mod:`report.inference`): :func:`requests`
lists the ones the statements need, so that they join the Holm family of every comparison
the report makes, and :func:`verdicts` reads the decided rows back.
"""

from __future__ import annotations

from report import inference as I
from report.sentences import comparison_sentence

SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE = "supported", "contradicted", "inconclusive", "not testable"


def _request(part: dict) -> tuple | None:
    kind = part["kind"]
    if kind == "test_above_train":
        return part["experiment"], part["variant"], part["variant"], "test_vs_train_accuracy"
    if kind == "compare" or (kind == "same" and "a" in part):
        return part["experiment"], part["a"], part["b"], part.get("quantity", "test_accuracy")
    return None


def requests(claims: list[dict]) -> list[tuple]:
    """``(experiment, a, b, quantity)`` of every comparison the statements need, in order."""
    out = []
    for claim in claims:
        for part in claim["parts"]:
            r = _request(part)
            if r is not None and r not in out:
                out.append(r)
    return out


def row_text(r: dict) -> str:
    """The numbers of one decided comparison row, as evidence."""
    return comparison_sentence(r)


def _direction(row: dict, expect: str) -> str:
    if row["claim"] == "inconclusive":
        return INCONCLUSIVE
    return SUPPORTED if row["claim"] == expect else CONTRADICTED


def _part(part: dict, decided: list[dict], facts: dict) -> tuple[str, list[str]]:
    kind, exp = part["kind"], part.get("experiment")
    if kind == "untestable":
        return NOT_TESTABLE, [f"not testable: {part['why']}."]
    if kind == "fact":
        va = facts.get((exp, part["a"]), {}).get(part["quantity"])
        vb = facts.get((exp, part["b"]), {}).get(part["quantity"])
        if va is None or vb is None:
            return NOT_TESTABLE, [f"not testable: no {part['quantity']} for {part['a']} and {part['b']}."]
        holds = va > vb if part["expect"] == "a_greater" else va < vb
        return SUPPORTED if holds else CONTRADICTED, [f"{part['quantity']}: {part['a']} {va:,}, {part['b']} {vb:,}."]
    if kind == "best":
        rows = I.best_rows(decided, exp)
        if not rows:
            return NOT_TESTABLE, [f"not testable: {exp} has no comparisons."]
        best = rows[0]["variant_a"]
        if best != part["variant"]:
            against = next((r for r in rows if r["variant_b"] == part["variant"]), None)
            if against is None:
                return NOT_TESTABLE, [f"not testable: {part['variant']} has no runs that learned."]
            verdict = CONTRADICTED if against["claim"] == "a_better" else INCONCLUSIVE
            return verdict, [f"the highest mean is {best}'s; " + row_text(against)]
        verdict = SUPPORTED if all(r["claim"] == "a_better" for r in rows) else INCONCLUSIVE
        return verdict, [row_text(r) for r in rows]
    if kind == "same" and "a" not in part:
        rows = I.experiment_rows(decided, exp)
        if not rows:
            return NOT_TESTABLE, ["not testable: no comparison was possible."]
        differs = [r for r in rows if r["claim"] != "inconclusive"]
        return (CONTRADICTED if differs else INCONCLUSIVE), [row_text(r) for r in (differs or rows)]
    row = I.find(decided, *_request(part))
    if row is None or row["p_value"] is None:
        return NOT_TESTABLE, ["not testable: too few runs that learned."]
    if kind == "same":
        return (CONTRADICTED if row["claim"] != "inconclusive" else INCONCLUSIVE), [row_text(row)]
    return _direction(row, part.get("expect", "a_better")), [row_text(row)]


def verdicts(claims: list[dict], decided: list[dict], facts: dict) -> list[dict]:
    """``[{quote, verdict, evidence: [sentence]}]`` from the decided comparison rows.

    Every evidence item is a sentence, ending in a full stop (the report joins them).

    Args:
        decided: the rows of comparisons.csv (:func:`report.inference.comparisons`).
        facts: ``{(experiment, variant): {"parameters": int}}`` for ``fact`` parts.
    """
    out = []
    for claim in claims:
        results, evidence = [], []
        for part in claim["parts"]:
            verdict, lines = _part(part, decided, facts)
            results.append(verdict)
            evidence += lines
        testable = [r for r in results if r != NOT_TESTABLE]
        if not testable:
            verdict = NOT_TESTABLE
        elif CONTRADICTED in testable:
            verdict = CONTRADICTED
        elif all(r == SUPPORTED for r in testable):
            verdict = SUPPORTED
        else:
            verdict = INCONCLUSIVE
        out.append({"quote": claim["quote"], "verdict": verdict, "evidence": evidence})
    return out
