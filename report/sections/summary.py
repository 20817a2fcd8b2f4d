"""Page 1: the answer of each experiment in a line, the 2018 statements as counts, the findings
that change the 2018 story, the build's scale, and the method in five plain sentences.

Everything here is computed from the results: no sentence a rebuild could falsify is written
by hand. The lines are shorter than the experiments' findings and worded apart from them
(the report states each finding in full once, in its section)."""

from __future__ import annotations

from report import inference as I
from report import numbers as N
from report.sections.common import Inputs, detectable, failures, listing, runs_of, variant_numbers
from report.sections.provenance import compute_minutes


def answer_line(inp: Inputs, e: dict) -> str:
    """One experiment's answer: its best or recommended setting with its interval, or
    "equivalent within delta", or what its seeds cannot tell."""
    key = e["key"]
    q = I.question_row(inp.comparisons, key)
    if q is None:
        num = variant_numbers(inp, key, e["variants"][0]["name"])
        return f"one variant, {num['mean']} (95% CI {num['interval']}) over {N.plural(num['runs'], 'run')}"
    best = variant_numbers(inp, key, q["variant_a"])
    ref = e.get("reference") or q["variant_a"]
    rows = [r if r["variant_b"] == ref else I.flip(r) for r in I.contrasts(inp.comparisons, key, key)
            if r["quantity"] == "test_accuracy" and ref in (r["variant_a"], r["variant_b"]) and r["test"] != "page_trend"]
    by = {c: [r["variant_a"] for r in rows if r["claim"] == c] for c in ("a_better", "b_better", "equivalent",
                                                                         "inconclusive")}
    delta = N.fixed(inp.plan.get("delta", I.DELTA), 3)
    if q["claim"] == "a_better":
        text = f"best {q['variant_a']}, {best['mean']} (95% CI {best['interval']})"
        against = [f"{word} {listing(by[claim])}" for claim, word in
                   (("a_better", "better:"), ("b_better", "worse:"), ("equivalent", f"equivalent (±{delta}):"),
                    ("inconclusive", "not resolved:")) if by[claim]]
        if against:
            text += (f"; against {ref} ({e.get('reference_reason')}), " if ref != q["variant_a"] else "; ") + \
                "; ".join(against)
        return text
    if rows and all(r["claim"] == "equivalent" for r in rows):
        return f"no setting matters: every variant within ±{delta} of {ref} (equivalent)"
    if not q["decidable"]:
        return f"cannot be decided with {N.plural(q['n_a'], 'run')} per variant"
    mdd = max((r["min_detectable"] for r in rows if r["min_detectable"] is not None), default=None)
    tail = ("" if not mdd else f" (differences under {detectable(mdd)} could go unseen)" if detectable(mdd)
            else " (with this spread, a difference of any size could go unseen)")
    return f"no effect shown with {N.plural(q['n_a'], 'seed')}{tail}; highest mean {q['variant_a']}, {best['mean']}"


def _findings(inp: Inputs, reproduction: dict | None) -> list[str]:
    """Up to three findings: runs that fail to learn, a protocol reading that changes them, and
    how many 2018 numbers our runs reproduce."""
    out = []
    rows = {(r["experiment"], r["variant"]): r for r in (inp.reference or {}).get("rows", [])}
    fails = []
    for e in inp.experiments():
        by = runs_of(inp.runs, e["key"])
        for v in e["variants"]:
            f = failures(by.get(v["name"], []))
            if f["k"]:
                old = rows.get((e["key"], v["name"]))
                then = ("" if old is None else " (so did the 2018 report's single run)" if old["accuracy"] < 0.2
                        else " (the 2018 report's single run learned)")
                fails.append((-f["k"] / f["n"], f"{v['name']} fails to learn in {f['k']} of {f['n']} runs{then}"))
    if fails:  # the variants that fail most often; each in a sentence of its own
        fails.sort(key=lambda x: x[0])
        more = f"; {N.plural(len(fails) - 3, 'other variant')} fail{'s' * (len(fails) == 4)} in some runs" \
            if len(fails) > 3 else ""
        out.append("; ".join(text for _, text in fails[:3]) + more + ".")
    ablation = (reproduction or {}).get("ablation")
    if ablation and ablation["changes"]:
        c = max(ablation["changes"], key=lambda c: abs(c["k"] - c["k0"]))
        old = rows.get(tuple(c["origin"]))
        then = ("" if old is None else "; the 2018 report's single run failed" if old["accuracy"] < 0.2
                else "; the 2018 report's single run learned")
        out.append(f"How the 2018 protocol is read matters: {c['variant']} fails to learn in {c['k']} of {c['n']} runs "
                   f"under the {c['reading']} reading, in {c['k0']} of {c['n0']} under {c['default']} (this "
                   f"study's){then}.")
    if reproduction:
        out.append(f"{reproduction['inside']} of the 2018 numbers our runs can decide lie inside the 95% "
                   "prediction interval of one new run of ours (Appendix A).")
    return out[:3]


def method(inp: Inputs) -> list[str]:
    """The method in five sentences a reader without statistics training follows."""
    n = len(inp.plan["seeds"])
    delta = inp.plan.get("delta", I.DELTA)
    return [
        f"Every variant was trained with the same {N.plural(n, 'seed')}, and every run counts: a run that "
        "failed to learn counts with the accuracy it reached.",
        "For each experiment we first test whether the accuracy depends on its setting at all; only if it does, "
        "is a variant called better or worse than the experiment's reference.",
        "A difference is called real when chance alone would produce it less than 5% of the time, allowing for "
        "the number of comparisons made in the experiment.",
        f"Two variants are called equivalent when their difference is, with 95% confidence, less than "
        f"{N.fixed(100 * delta, 1)} percentage points; otherwise, without a real difference, the result is "
        "inconclusive, which is not the same as no difference.",
        "Appendix B lists every comparison with its test, its interval and the smallest difference this design "
        "could have found.",
    ]


def epochs_trained(runs: list[dict]) -> int:
    """Epochs that were trained: a copied run none, a continued run only those beyond the run
    it continues."""
    done = {(r["experiment"], r["variant"], str(r["seed"])): int(float(r["epochs_completed"] or 0)) for r in runs}
    total = 0
    for r in runs:
        if r.get("copied_from"):
            continue
        total += int(float(r["epochs_completed"] or 0))
        if r.get("continued_from"):
            parts = r["continued_from"].rstrip("/").split("/")
            total -= done.get((parts[-3], parts[-2], parts[-1].removeprefix("seed-")), 0)
    return total


def build(inp: Inputs, reproduction: dict | None, changes: dict | None = None) -> dict:
    experiments = inp.experiments()
    variants = sum(len(e["variants"]) for e in inp.plan["experiments"])
    epochs = epochs_trained(inp.runs)
    data = (inp.plan.get("dataset") or {}).get("name", "MNIST")
    scale = (f"{N.plural(len(inp.runs), 'run')}: {N.plural(variants, 'variant')} of "
             f"{N.plural(len(inp.plan['experiments']), 'experiment')}, each with seeds "
             f"{', '.join(map(str, inp.plan['seeds']))}, on {data}; {epochs:,} epochs trained in "
             f"{compute_minutes(inp.runs):.1f} minutes of compute (Appendix C).")
    statements = None
    if reproduction:
        s = reproduction["statements"]
        statements = (f"Of the 2018 report's {s['total']} statements, {s['counts_text']} (each in parts, "
                      "Appendix A).")
    changes = changes or {}
    if changes.get("previous"):
        scale += " " + changes["previous"]["head"].rstrip(".") + " (Appendix C)."
    if (changes.get("published") or {}).get("short"):
        scale += " " + changes["published"]["short"]
    return {
        "answers": [{"title": e["title"], "text": answer_line(inp, e) + "."} for e in experiments],
        "statements": statements,
        "findings": _findings(inp, reproduction),
        "method": method(inp),
        "scale": scale,
    }

