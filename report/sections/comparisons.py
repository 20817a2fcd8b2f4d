"""Appendix B: every row of ``comparisons.csv``, one table per Holm family, numbered (B1, B2,
...) so that the findings and the 2018 statements can cite them. The only place where a
comparison is printed in full."""

from __future__ import annotations

from report import inference as I
from report import numbers as N
from report.sections.common import Inputs, ordered, table

#: Quantities as the table names them (its text says what each is).
SHORT = {"test_accuracy": "accuracy", "early_accuracy": "1st epoch", "test_train_gap": "gap",
         "cpu_seconds_per_epoch": "CPU s", "failure_rate": "failures", "test_vs_train_accuracy": "test/train"}
TESTS = {"paired_t": "paired t", "permutation": "perm.", "friedman": "Friedman", "kruskal": "Kruskal",
         "page_trend": "Page", "fisher": "Fisher"}
VERDICTS = {"a_better": "A better", "b_better": "B better", "equivalent": "equivalent", "inconclusive": "inconclusive"}


def digits(quantity: str) -> int:
    return N.DIGITS["seconds"] if quantity == "cpu_seconds_per_epoch" else N.DIGITS["accuracy"]


def _row(inp: Inputs, r: dict) -> list[str]:
    d = digits(r["quantity"])
    if not r["variant_b"]:  # an experiment's question
        return [inp.row_id(r), r["variant_a"], f"all {r['n_b']}", SHORT[r["quantity"]], str(r["n_a"]),
                f"range {N.fixed(r['difference'], d)}", "", TESTS[r["test"]], N.p_value(r["p_value"]), "",
                "depends" if r["claim"] == "a_better" else "no evidence" + ("" if r["decidable"] else "*")]
    diff = N.fixed(r["difference"], d) + (f" {N.bracket(r['ci_low'], r['ci_high'], d)}" if r["ci_low"] is not None
                                          else "")
    prob = "" if r["prob_improvement"] is None else N.fixed(r["prob_improvement"], 2) + (
        f" {N.bracket(r['prob_improvement_low'], r['prob_improvement_high'], 2)}"
        if r["prob_improvement_low"] is not None else "")
    verdict = VERDICTS[r["claim"]] + ("*" if r["claim"] == "inconclusive" and not r["decidable"] else "")
    n = str(r["n_a"]) if r["n_a"] == r["n_b"] else f"{r['n_a']}/{r['n_b']}"
    return [inp.row_id(r), r["variant_a"], r["variant_b"], SHORT[r["quantity"]], n, diff, prob, TESTS[r["test"]],
            N.p_value(r["p_holm"]), N.fixed(r["min_detectable"], d) if r["min_detectable"] is not None else "",
            verdict]


def family_title(inp: Inputs, name: str, rows: list[dict]) -> str:
    size = max((r["family_size"] for r in rows), default=0)
    if name == I.STATEMENTS:
        what = "the 2018 statements' parts that are no experiment's contrast"
    elif name == I.TIMING:
        what = "CPU time per epoch (this machine's speed: corrected apart, so that it never moves the others)"
    else:
        title = next((e["title"] for e in inp.plan["experiments"] if e["key"] == name), name)
        what = f"{title} (experiment {name})"
    return f"{what}: {N.plural(size, 'contrast')} corrected together"


def build(inp: Inputs) -> dict:
    """Appendix B's context: the families (title, table), and the numbers the method text
    quotes."""
    rows = ordered(inp.comparisons)
    families = []
    for name in dict.fromkeys(r["family"] for r in rows):
        mine = [r for r in rows if r["family"] == name]
        families.append({"title": family_title(inp, name, mine), "table": table(
            ["", "A", "B", "Quantity", "n", "A − B [95% CI]", "P(A > B)", "Test", "Holm p", "Detect.",
             "Verdict"], [_row(inp, r) for r in mine], "lllllrrlrrl", "script")})
    delta = next((r["delta"] for r in rows if r["delta"] is not None), inp.plan.get("delta", I.DELTA))
    return {"families": families, "delta": N.fixed(delta, 3), "undecidable": any(not r["decidable"] for r in rows),
            "count": str(len(rows))}
