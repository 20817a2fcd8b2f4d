"""Appendix A, for a study with the 2018 reference: the 2018 numbers against the prediction
interval of one new run of ours, which definition of the 2018 columns fits, which protocol
reading explains the gaps, and the 2018 statements, part by part."""

from __future__ import annotations

import re

from report import claims as C
from report import numbers as N
from report import reproduction as P
from report.sections.common import ACC, Inputs, failures, mean_std, runs_of, table
from cnnlib.results import DISPLAY_WINDOW

LOSS = N.DIGITS["loss"]


def _readings(plan: dict) -> dict:
    return plan.get("readings") or {"default": ""}


def _fit_tables(inp: Inputs) -> tuple[dict, dict, dict]:
    ref, runs = inp.reference, inp.runs
    fit = P.definition_fit(ref, runs)
    chosen = {column: fit[column]["best"] for column in P.DEFINITIONS}
    definitions = []
    for column, defs in P.DEFINITIONS.items():
        for quantity, text in defs.items():
            f = fit[column]["fit"][quantity]
            definitions.append([f"2018 {column}", text, f"{f['inside']} of {f['compared']}",
                                "best fit" if quantity == chosen[column] else ""])
    rows = []
    for r in ref["rows"]:
        cells = [r["variant"]]
        for column in ("loss", "accuracy"):
            d = LOSS if column == "loss" else ACC
            c = P.check_row(r, column, runs, r["experiment"], r["variant"], chosen[column])
            ours = N.pm(c["mean"], c["std"], d) if c["n"] else "none"
            if c["n"] != c["of"]:
                ours += f" ({c['n']}/{c['of']})"
            cells += [N.fixed(r[column], d), ours, N.bracket(c["low"], c["high"], d),
                      "n/a" if c["inside"] is None else "in" if c["inside"] else "out"]
        rows.append(cells)
    return (table(["Column", "Candidate definition (ours, per run)", "2018 rows inside", ""], definitions,
                  ["l", 0.5, "r", "l"], "small"),
            table(["Variant", "2018 loss", "Ours", "95% PI", "", "2018 acc.", "Ours", "95% PI", ""], rows,
                  "lrrrlrrrl", "footnote"),
            chosen)


def _ablation(inp: Inputs) -> dict | None:
    """The protocol ablation: each re-run variant beside its run under the default reading."""
    exp = inp.plan.get("ablation")
    if not exp:
        return None
    spec = inp.experiment(exp)
    by_origin: dict = {}
    for v in spec["variants"]:
        by_origin.setdefault(tuple(v["origin"]), []).append(v)
    default = next(iter(_readings(inp.plan)))
    rows, sentences, changes = [], [], []
    for (oe, ov), variants in by_origin.items():
        base = runs_of(inp.runs, oe).get(ov, [])
        f0 = failures(base)
        rows.append([ov, default, f0["text"], mean_std(base, "test_accuracy", ACC)])
        for v in variants:
            mine = runs_of(inp.runs, exp).get(v["name"], [])
            f = failures(mine)
            rows.append([ov, v["reading"], f["text"], mean_std(mine, "test_accuracy", ACC)])
            if f["k"] != f0["k"]:
                changes.append({"variant": ov, "origin": [oe, ov], "reading": v["reading"], "k": f["k"], "n": f["n"],
                                "default": default, "k0": f0["k"], "n0": f0["n"]})
                sentences.append(f"{ov}: failed to learn in {f['k']} of {f['n']} runs under {v['reading']} "
                                 f"(seeds {', '.join(f['seeds']) or 'none'}), in {f0['k']} of {f0['n']} under {default}.")
    return {"key": exp, "title": spec["title"], "figure": inp.figure(exp),
            "readings": [[k, v] for k, v in _readings(inp.plan).items()],
            "table": table(["Variant", "Reading", "Failed", "Test accuracy (runs that learned)"], rows, "llrr", "small"),
            "sentences": sentences or ["No reading changes how many runs fail to learn."], "changes": changes}


def quote_parts(text: str) -> list[dict]:
    """A 2018 quote as pieces ``{text, em}``: the report's own *emphasis* printed as emphasis,
    not as literal asterisks."""
    pieces = re.split(r"\*([^*]+)\*", text)
    return [{"text": p, "em": i % 2 == 1} for i, p in enumerate(pieces) if p]


def statements(inp: Inputs) -> dict:
    """The 2018 statements, each with its verdict and its parts (verdict, and the rows of
    Appendix B that decide it, or why it cannot be tested)."""
    facts = {(r["experiment"], r["variant"]): {"parameters": int(float(r["parameters"]))}
             for r in inp.runs if N.number(r.get("parameters")) is not None}
    results = C.verdicts(inp.reference.get("claims", []), inp.comparisons, facts, inp.runs,
                         inp.plan.get("delta", 0.005))
    items = []
    for res in results:
        parts = []
        for p in res["parts"]:
            ids = ", ".join(dict.fromkeys(i for r in p["rows"] if (i := inp.row_id(r))))
            evidence = p["why"] or (f"Appendix B: {ids}" if ids else "")
            parts.append({"text": p["text"], "verdict": p["verdict"], "evidence": evidence})
        items.append({"quote": quote_parts(res["quote"]), "verdict": res["verdict"], "parts": parts})
    counts = C.counts(results)
    return {"items": items, "counts": {k: str(n) for k, n in counts.items()}, "total": str(len(results)),
            "counts_text": ", ".join(f"{n} {k}" for k, n in counts.items() if n)}


def build(inp: Inputs) -> dict | None:
    """Appendix A's context (None without the 2018 reference)."""
    if not inp.reference:
        return None
    definitions, rows, chosen = _fit_tables(inp)
    protocols = []
    for p in P.protocol_fit(inp.reference, inp.runs, inp.plan, chosen):
        protocols.append([p["reading"], p["description"], str(p["rows"]),
                          f"{p['counts']['loss']['inside']} of {p['counts']['loss']['compared']}",
                          f"{p['counts']['accuracy']['inside']} of {p['counts']['accuracy']['compared']}"])
    gaps = [P.explanation_sentence(e, _readings(inp.plan))
            for e in P.explanations(inp.reference, inp.runs, inp.plan, chosen)]
    compared = sum(1 for r in rows["rows"] for c in (r[4], r[8]) if c in ("in", "out"))
    inside = sum(1 for r in rows["rows"] for c in (r[4], r[8]) if c == "in")
    speedups = [float(r["seconds"]) / m for r in inp.reference["rows"]
                if (v := P.run_values(inp.runs, r["experiment"], r["variant"], "train_seconds")) and (m := sum(v) / len(v)) > 0]
    return {
        "definitions": definitions, "rows": rows, "window": str(DISPLAY_WINDOW), "min_runs": str(P.MIN_RUNS),
        "chosen": {column: P.DEFINITIONS[column][q] for column, q in chosen.items()},
        "protocols": table(["Reading", "What it changes", "Rows", "Loss inside", "Accuracy inside"], protocols,
                           ["l", 0.42, "r", "r", "r"], "small"),
        "gaps": gaps,
        "all_inside": bool(compared) and inside == compared,
        "inside": f"{inside} of {compared}",
        "ablation": _ablation(inp),
        "statements": statements(inp),
        "speedup": f"{min(speedups):.0f} to {max(speedups):.0f}" if speedups else "",
    }
