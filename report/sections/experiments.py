"""Section "Experiments": one subsection per experiment - its question, its one figure, one
table of its variants (the settings in which they differ, failures, accuracy over all runs and
over the runs that learned, how fast, CPU time, the 2018 value) and at most three sentences
of findings. Every comparison is printed in full once, in Appendix B; the findings cite it."""

from __future__ import annotations

from report import inference as I
from report import numbers as N
from report.sections.common import (ACC, SEC, Inputs, detectable, failures, listing, runs_of, setting_name,
                                    setting_text, table, value_text, variant_numbers)

TEST_NAMES = {"friedman": "Friedman's test", "kruskal": "the Kruskal-Wallis test", "paired_t": "the paired t-test",
              "permutation": "the permutation test", "page_trend": "Page's trend test", "fisher": "Fisher's test"}


def what_varies(e: dict) -> str:
    """What an experiment's variants differ in, for a sentence: ``the momentum``."""
    if e["sweep_key"]:
        return "the " + setting_name(e["sweep_key"])
    differ = [k for k in e["settings"]["differ"] if not k.startswith("schedule.") or k == "schedule.name"]
    if "model.name" in differ:
        return "the model"
    return "the " + setting_name(differ[0]) if len(differ) == 1 else "the variant"


def question(e: dict) -> str:
    """What an experiment asks: as configured, else made from what its variants vary."""
    if e.get("question"):
        return e["question"]
    if len(e["variants"]) == 1:
        return f"What does {e['variants'][0]['name']} reach in {N.plural(e['epochs'], 'epoch')}?"
    return f"Does the final test accuracy depend on {what_varies(e)}?"


def _shared_text(e: dict) -> str:
    """The settings every variant of the experiment shares, as one sentence."""
    s = e["settings"]
    keep = ("model.name", "model.init_std", "model.linear_init_std", "model.hidden", "optimizer.lr",
            "optimizer.momentum", "optimizer.weight_decay", "schedule.name", "batch_size", "epochs")
    parts = [setting_text(k, v) for k, v in s["shared"].items() if k in keep and v is not None]
    images = set(s["images_per_epoch"].values())
    if len(images) == 1:
        parts.append(f"{next(iter(images)):,} training images per epoch")
    schedule = {k: v for k, v in s["shared"].items() if k.startswith("schedule.") and k != "schedule.name"}
    parts += [setting_text(k, v) for k, v in schedule.items() if not isinstance(v, list)]
    return ("All variants: " if len(e["variants"]) > 1 else "Settings: ") + ", ".join(parts) + "."


def _table(inp: Inputs, e: dict) -> dict:
    key = e["key"]
    by = runs_of(inp.runs, key)
    s = e["settings"]
    differ = [k for k in s["differ"] if not k.startswith("schedule.") or k == "schedule.name"]
    schedules = [k for k in s["differ"] if k.startswith("schedule.") and k != "schedule.name"]
    if len(differ) > 2:  # one wrapped column of every setting that differs
        schedules, differ = differ + schedules, []
    shown = [k for k in schedules if not k.startswith("schedule.") or k == "schedule.name"
             or any(s["values"][v["name"]].get("schedule.name") != "dynamic" and s["values"][v["name"]][k] is not None
                    for v in e["variants"])]
    schedules = shown  # the dynamic rule's own settings are in the notes
    images_differ = len(set(s["images_per_epoch"].values())) > 1
    reference = {r["variant"]: r for r in (inp.reference or {}).get("rows", []) if r["experiment"] == key}
    architecture = key == inp.plan.get("architectures")
    head = ["Variant"] + [setting_name(k) for k in differ]
    head += (["Settings"] if not differ and len(schedules) > 1 else ["Schedule settings"]) * bool(schedules)
    head += ["Images/epoch"] * images_differ
    any_failed = any(not I.learned(r) for rs in by.values() for r in rs)
    head += ["Parameters"] * architecture
    head += ["Failed", "Accuracy", "95% CI"] + ["If learned"] * any_failed + ["1st epoch", "CPU s"]
    head += ["Test − train"] * architecture + ["2018"] * bool(reference)
    rows = []
    for v in e["variants"]:
        name, mine = v["name"], by.get(v["name"], [])
        if not mine:
            continue
        num = variant_numbers(inp, key, name)
        values = s["values"][name]
        row = [name] + [value_text(values[k]) for k in differ]
        if schedules:
            row.append(", ".join(setting_text(k, values[k]) for k in schedules if values[k] is not None
                                 and not (k.startswith("schedule.") and values.get("schedule.name") == "dynamic"
                                          and k != "schedule.name")) or "none")
        if images_differ:
            row.append(f"{s['images_per_epoch'][name]:,}")
        if architecture:
            row.append(f"{int(float(inp.summary_row(key, name)['parameters'])):,}")
        row += [failures(mine)["text"], num["mean"], num["bracket"]] + [num["learned"]] * any_failed
        row += [mean_of(mine, "early_accuracy", ACC), mean_of(mine, "cpu_seconds_per_epoch", SEC)]
        if architecture:
            row.append(mean_of(mine, "test_train_gap", ACC))
        if reference:
            row.append(N.kind(reference[name]["accuracy"], "accuracy") if name in reference else "")
        rows.append(row)
    align = ["l"] * (1 + len(differ)) + [0.15] * bool(schedules)
    return table(head, rows, align + ["r"] * (len(head) - len(align)), "footnote")


def mean_of(rows: list[dict], quantity: str, digits: int) -> str:
    """The mean of a run quantity over every run that has it (its spread: Appendix C's runs)."""
    values = [v for r in rows if (v := N.number(r.get(quantity))) is not None]
    return N.fixed(sum(values) / len(values), digits) if values else "n/a"


def _difference(r: dict) -> str:
    return f"{N.fixed(r['difference'], ACC)} [{N.fixed(r['ci_low'], ACC)}, {N.fixed(r['ci_high'], ACC)}]"


def answer(inp: Inputs, e: dict) -> str:
    """The first finding: the experiment's question and its answer (the best variant's
    numbers from its summary row)."""
    key = e["key"]
    q = I.question_row(inp.comparisons, key)
    if q is None:
        name = e["variants"][0]["name"]
        num = variant_numbers(inp, key, name)
        return f"Final test accuracy {num['mean']} (95% CI {num['interval']}) over {N.plural(num['runs'], 'run')}."
    best = variant_numbers(inp, key, q["variant_a"])
    test = f"{TEST_NAMES[q['test']]} over {N.plural(q['n_a'], 'run')} per variant"
    if q["claim"] == "a_better":
        return (f"Accuracy depends on {what_varies(e)} ({test}, p {_p(q['p_value'])}, {inp.row_id(q)}): "
                f"{q['variant_a']} is the most accurate, {best['mean']} (95% CI {best['interval']}) over all runs.")
    if not q["decidable"]:
        return (f"With {N.plural(q['n_a'], 'run')} per variant no test can show that accuracy depends on "
                f"{what_varies(e)} ({test}: no outcome gives p below 0.05, {inp.row_id(q)}).")
    return (f"No evidence that accuracy depends on {what_varies(e)} ({test}, p {_p(q['p_value'])}, "
            f"{inp.row_id(q)}); the highest mean is {q['variant_a']}'s, {best['mean']} (95% CI {best['interval']}).")


def _p(p) -> str:
    text = N.p_value(p)
    return text if text.startswith("<") else f"= {text}"


def against_reference(inp: Inputs, e: dict) -> str | None:
    """The second finding: each variant against the reference, grouped by verdict."""
    key = e["key"]
    rows = [r for r in I.contrasts(inp.comparisons, key, key) if r["quantity"] == "test_accuracy"
            and r.get("test") != "page_trend"]
    q = I.question_row(inp.comparisons, key)
    if not rows or q is None:
        return None
    ref = e.get("reference") or q["variant_a"]  # as report.inference.reference_of chose it
    mine = [r if r["variant_b"] == ref else I.flip(r) for r in rows if ref in (r["variant_a"], r["variant_b"])]
    if not mine:
        return None
    why = e.get("reference_reason") if e.get("reference") == ref else "the highest mean"
    groups = {"a_better": [], "b_better": [], "equivalent": [], "inconclusive": []}
    for r in mine:
        groups[r["claim"]].append(r)
    parts = []
    if groups["b_better"]:
        parts.append("less accurate: " + listing([f"{r['variant_a']} by {_difference(r)}" for r in groups["b_better"]]))
    if groups["a_better"]:
        parts.append("more accurate: " + listing([f"{r['variant_a']} by {_difference(r)}" for r in groups["a_better"]]))
    if groups["equivalent"]:
        parts.append(f"equivalent within ±{N.fixed(rows[0]['delta'], 3)}: "
                     + listing([r["variant_a"] for r in groups["equivalent"]]))
    if groups["inconclusive"]:
        gated = q["claim"] != "a_better"
        mdd = max((r["min_detectable"] for r in groups["inconclusive"] if r["min_detectable"] is not None), default=None)
        tail = (" (the experiment's own test found no effect)" if gated else "") + (
            "" if not mdd else f"; this design finds differences of {detectable(mdd)} or more (80% power)"
            if detectable(mdd) else "; with this spread, this design would miss a difference of any size")
        parts.append("inconclusive: " + listing([r["variant_a"] for r in groups["inconclusive"]]) + tail)
    ids = ", ".join(inp.row_id(r) for r in mine)
    return f"Against {ref} ({why}; differences A − {ref} with 95% CI, {ids}): " + "; ".join(parts) + "."


def failure_text(inp: Inputs, e: dict) -> str | None:
    """The third finding: the variants with runs that failed to learn or diverged."""
    by = runs_of(inp.runs, e["key"])
    failed = [(v["name"], f) for v in e["variants"] if (f := failures(by.get(v["name"], [])))["k"]]
    if not failed:
        return None
    tail = " count in every number above at the accuracy they reached (a diverged run at chance)."

    def seeds(f):
        return f"seed{'s' * (f['k'] > 1)} {', '.join(f['seeds'])}" + (f", {f['diverged']} diverged" if f["diverged"] else "")

    if len(failed) == 1:
        name, f = failed[0]
        return f"{name} failed to learn in {f['k']} of {f['n']} runs ({seeds(f)}); such runs" + tail
    return ("Such runs" + tail + " Runs that failed to learn: "
            + "; ".join(f"{name} {f['k']} of {f['n']} ({seeds(f)})" for name, f in failed) + ".")


def notes(inp: Inputs, e: dict) -> list[str]:
    """What a reader needs besides the findings: runs that are another variant's runs, the
    dynamic schedule's rule."""
    out = []
    by = runs_of(inp.runs, e["key"])
    for v in e["variants"]:
        sources = {r["copied_from"] for r in by.get(v["name"], []) if r.get("copied_from")}
        if sources:
            src = sources.pop().rstrip("/").split("/")
            out.append(f"{v['name']}'s runs are those of {src[-3]}/{src[-2]} (the same settings, trained once).")
    for m, (exp, variant, _) in zip(inp.dynamic, inp.plan["dynamic_runs"]):
        if exp == e["key"]:
            sched = m["config"]["schedule"]
            steps = "; ".join(f"{lr:g} if L > {above:g}" for above, lr in sched["thresholds"])
            out.append(f"{variant} sets the learning rate before every iteration from the mean training loss L of "
                       f"the last {m['config']['loss_window']} iterations: {steps}; otherwise "
                       f"max({sched['floor']:g}, L / {sched['divisor']:g}).")
    return out


def schedules(e: dict) -> set[str]:
    """The learning-rate schedules an experiment's variants use."""
    s = e["settings"]
    if "schedule.name" in s["differ"]:
        return {str(s["values"][v["name"]]["schedule.name"]) for v in e["variants"]}
    return {str(s["shared"].get("schedule.name", "constant"))}


def caption(e: dict, has_reference: bool, lr_panel: bool) -> str:
    what = what_varies(e)
    against = f" against {what}" if len(e["variants"]) > 1 else ""
    first = (f"(a) final test accuracy of every run{against}: points are runs, the bar the mean over all runs with its "
             "95% interval" + ("; diamonds: the 2018 report's single run" if has_reference else ""))
    panels = [first, "(b) test accuracy during training: mean over the runs, band from the lowest to the highest, "
                     "the last epoch zoomed at its right", "(c) training loss, log scale"]
    if lr_panel:
        panels.append("(d) learning rate")
    return f"{e['title']}: " + "; ".join(panels) + "."


def build(inp: Inputs) -> dict:
    """The section's context: ``intro`` and ``items`` (one per experiment)."""
    items = []
    epochs = sorted({e["epochs"] for e in inp.experiments()})
    for i, e in enumerate(inp.experiments(), start=1):
        findings = [s for s in (answer(inp, e), against_reference(inp, e), failure_text(inp, e)) if s]
        reference = any(r["experiment"] == e["key"] for r in (inp.reference or {}).get("rows", []))
        lr_panel = schedules(e) != {"constant"}
        items.append({
            "key": e["key"], "title": e["title"], "number": f"1.{i}", "question": question(e),
            "epochs": f"{N.plural(e['epochs'], 'epoch')} per run, {N.plural(len(inp.plan['seeds']), 'seed')}.",
            "shared": _shared_text(e), "table": _table(inp, e), "findings": findings[:3], "notes": notes(inp, e),
            "figure": inp.figure(e["key"]), "caption": caption(e, reference, lr_panel),
        })
    intro = ("Every variant ran once per seed, and every run counts: a run that failed to learn (final test "
             "accuracy below twice chance) with the accuracy it reached, a diverged run at chance. Tables give for "
             "each variant the runs that failed, the mean final test accuracy over all runs with its 95% interval "
             "(and, where runs failed, the mean ± standard deviation of those that learned), how fast it learned "
             "(the mean test accuracy over the first epoch) and the CPU seconds per epoch.")
    if len(epochs) > 1:
        intro += (f" Experiments train for different numbers of epochs ({listing([str(x) for x in epochs])}): "
                  "compare numbers within an experiment, not across.")
    return {"intro": intro, "items": items}
