"""One context, built from the workflow's results, that feeds both report templates.

Everything printed is a string formatted here (:mod:`report.numbers`); text that is
already markup is wrapped in :class:`report.render.Raw` by the templates' side only
(code listings). Booleans are used for template conditions, never printed.

Where the numbers come from: per-run quantities from ``runs.csv``, the 95% intervals of the
sweep tables from the summaries, every comparative sentence from ``comparisons.csv``
(:mod:`report.inference`), the architecture and protocol tables from the runs' resolved
configs (``metrics.json``), the 2018 numbers and statements from ``reference_2018.yaml``.
"""

from __future__ import annotations

import datetime
import inspect
import re
from collections import Counter

import numpy as np

from cnnlib.train import build_model
from report import claims as C
from report import inference as I
from report import numbers as N
from report import reproduction as P
from report import stats
from report.sentences import BETTER, WHAT, comparison_sentence, digits as _digits
from workflow.results import ACCURACY_CI, CHANCE, CONVERGED_SHARE, DISPLAY_WINDOW, FAILED_BELOW, PRINTED_WIDTH

ACC, LOSS, SEC, EPOCHS = (N.DIGITS[k] for k in ("accuracy", "loss", "seconds", "epochs"))


def results_date(runs: list[dict]) -> str:
    """When the newest run finished (UTC, ISO 8601): the report's date, not the build's."""
    stamps = sorted(r["finished_utc"] for r in runs if r.get("finished_utc"))
    return stamps[-1] if stamps else "1970-01-01T00:00:00+00:00"


# --------------------------------------------------------------------------- the network


def _shape(shape) -> str:
    return " × ".join(str(d) for d in shape[1:])


def layer_table(model, input_shape=(1, 1, 28, 28)) -> list[dict]:
    """Layer, output shape (per sample) and parameter count, computed from the model itself."""
    rows, shape = [], tuple(input_shape)
    rows.append({"layer": "input", "shape": _shape(shape), "params": "0"})
    for layer in model.layers:
        shape = layer.output_shape(shape)
        n = sum(p.value.size for p in layer.parameters())
        rows.append({"layer": repr(layer), "shape": _shape(shape), "params": f"{n:,}"})
    return rows


def listings() -> list[dict]:
    """Source of cnnlib's convolution and pooling kernels, read from the code at build time."""
    from cnnlib.kernels import conv, pool

    out = []
    for title, fn in (
        ("Convolution forward: im2col and one matmul (cnnlib/kernels/conv.py)", conv.im2col),
        ("", conv.conv2d_forward),
        ("Convolution backward (cnnlib/kernels/conv.py)", conv.conv2d_backward),
        ("", conv.col2im),
        ("Average pooling forward and backward (cnnlib/kernels/pool.py)", pool.avg_pool_forward),
        ("", pool.avg_pool_backward),
    ):
        src = inspect.getsource(fn).replace("``", "")  # the docstrings' reST literal markup
        if "\\end{lstlisting}" in src:  # pragma: no cover - would break out of the listing
            raise ValueError(f"{fn.__name__}: source cannot be listed verbatim")
        if title or not out:
            out.append({"title": title, "code": src})
        else:
            out[-1]["code"] += "\n\n" + src
    return out


def pixel_formula(data: dict) -> str:
    """The model input of a pixel x (0..255) under the run's ``data`` settings."""
    offset, scale, shift = data["pixel_offset"], data["pixel_scale"], data["pixel_shift"]
    x = f"(x − {offset:g})" if offset else "x"
    text = f"{x} / {scale:g}"
    return f"{text} − {shift:g}" if shift else text


def protocol_table(model_cfg: dict, data_cfg: dict, optimizer: dict, sources: dict) -> dict:
    """The settings that define the 2018 protocol, as the baseline run used them, and where
    each comes from (``sources``: ``protocol.sources`` of the reference file)."""
    linear = model_cfg.get("linear_init_std")
    rows = [
        ["Conv layers' initial std", f"{model_cfg['init_std']:g} (N(0, std²), biases 0)", sources["init_std"]],
        ["Linear layer's initial std", f"{linear:g}" if linear is not None else f"{model_cfg['init_std']:g} (as the conv layers)",
         sources["linear_init_std"]],
        ["Pixels", pixel_formula(data_cfg), sources["pixels"]],
        ["Optimiser", f"momentum SGD, lr {optimizer['lr']:g}, momentum {optimizer['momentum']:g}, "
                      f"weight decay {optimizer['weight_decay']:g}", sources["optimizer"]],
        ["Printed loss and accuracy", f"candidates in Appendix A (display window {DISPLAY_WINDOW})", sources["display"]],
    ]
    return {"head": ["Setting", "Value in our runs", "Where it comes from"],
            "align": ["p{0.2\\linewidth}", "p{0.3\\linewidth}", "p{0.4\\linewidth}"], "rows": rows, "size": "small"}


# --------------------------------------------------------------------------- per-variant numbers


def _runs_of(runs: list[dict], experiment: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in runs:
        if r["experiment"] == experiment:
            out.setdefault(r["variant"], []).append(r)
    return out


def _learned_values(rows: list[dict], quantity: str) -> list[float]:
    return [v for r in rows if I.learned(r) and (v := N.number(r.get(quantity))) is not None]


def _mean_std(rows: list[dict], quantity: str, digits: int) -> str:
    values = _learned_values(rows, quantity)
    if not values:
        return "n/a"
    m = stats.mean_ci(values)
    return N.pm(m.mean, m.std, digits)


def failures(rows: list[dict]) -> dict:
    """Failed runs (to learn, or diverged) of one variant, with the exact 95% interval."""
    k, n = sum(not I.learned(r) for r in rows), len(rows)
    ci = stats.clopper_pearson(k, n) if n else None
    return {"k": k, "n": n, "text": N.count(k, n),
            "interval": N.interval(ci.low, ci.high, 2) if ci else "n/a",
            "seeds": [str(r["seed"]) for r in rows if not I.learned(r)]}


def variant_table(summary: list[dict], runs: list[dict], experiment: str, extra=()) -> dict:
    """A sweep's table: failures k/n, then over the runs that learned: test accuracy (mean ±
    std, the summary's 95% interval), test loss, last-batch training loss, epochs to
    95% of the final accuracy, CPU seconds per epoch. ``extra``: more
    ``(heading, quantity, digits)`` columns."""
    by = _runs_of(runs, experiment)
    body = []
    for s in summary:
        mine = by.get(s["variant"], [])
        row = [s["variant"], failures(mine)["text"], _mean_std(mine, "test_accuracy", ACC),
               N.bracket(s[ACCURACY_CI[0]], s[ACCURACY_CI[1]], ACC), _mean_std(mine, "test_loss", LOSS),
               _mean_std(mine, "train_loss", LOSS), _mean_std(mine, "converged_epoch", EPOCHS),
               _mean_std(mine, "cpu_seconds_per_epoch", SEC)]
        row += [_mean_std(mine, q, d) for _, q, d in extra]
        body.append(row)
    head = ["Variant", "Failed", "Test accuracy", "95% CI", "Test loss", "Train loss", "Epochs to 95%",
            "CPU s/epoch"] + [h for h, _, _ in extra]
    return {"head": head, "align": "l" + "r" * (len(head) - 1), "rows": body, "size": "footnote"}


# --------------------------------------------------------------------------- sentences from comparisons.csv


def sweep_sentences(rows: list[dict], experiment: str, by_variant: dict[str, list[dict]]) -> list[str]:
    """What a sweep shows: its best variant, its comparisons with each other variant, its failures."""
    best = I.best_rows(rows, experiment)
    out = []
    if best:
        b = best[0]
        out.append(f"Highest mean final test accuracy: {b['variant_a']} ({N.kind(b['mean_a'], 'accuracy')} over "
                   f"{N.plural(b['n_a'], 'run')} that learned).")
        out += [comparison_sentence(r) for r in best]
    else:
        learned = [v for v, rs in by_variant.items() if any(I.learned(r) for r in rs)]
        out.append(f"Fewer than two variants have runs that learned ({', '.join(learned) or 'none'}): "
                   "no accuracy comparison.")
    for v, rs in by_variant.items():
        f = failures(rs)
        if f["k"]:
            out.append(f"{v} failed to learn or diverged in {f['k']} of {f['n']} runs (seeds {', '.join(f['seeds'])}; "
                       f"95% CI of the failure rate {f['interval']}); its accuracy statistics are over the other runs.")
    out += [comparison_sentence(r) for r in rows if r["experiment"] == experiment and r["quantity"] == "failure_rate"]
    return out


def sweep_summary(rows: list[dict], title: str, experiment: str) -> str:
    """One Summary sentence per sweep: its best and which comparisons are claimed."""
    best = I.best_rows(rows, experiment)
    if not best:
        return f"{title}: no accuracy comparison was possible."
    name = best[0]["variant_a"]
    better = [r["variant_b"] for r in best if r["claim"] == "a_better"]
    open_ = [r["variant_b"] for r in best if r["claim"] == "inconclusive"]
    parts = [f"{title}: {name} has the highest mean accuracy"]
    if better:
        parts.append(f"it is more accurate than {', '.join(better)}")
    if open_:
        n = max(max(r["n_a"], r["n_b"]) for r in best)
        parts.append(f"against {', '.join(open_)} the data are inconclusive with {N.plural(n, 'seed')}")
    return "; ".join(parts) + "."


def architecture_summary(rows: list[dict], experiment: str) -> str:
    """One Summary sentence on the architectures: what is claimed, what is not."""
    claimed, open_ = [], []
    for r in rows:
        if r["experiment"] != experiment or r["quantity"] not in ("test_accuracy",) + I.ARCHITECTURE_QUANTITIES:
            continue
        if r["claim"] == "inconclusive":
            open_.append(WHAT[r["quantity"]])
        else:
            winner, loser = (r["variant_a"], r["variant_b"]) if r["claim"] == "a_better" else \
                (r["variant_b"], r["variant_a"])
            claimed.append(f"{winner} {BETTER[r['quantity']]} {loser}")
    parts = claimed + ([f"{' and '.join(open_)}: inconclusive"] if open_ else [])
    return f"{experiment}: " + "; ".join(parts) + "." if parts else f"{experiment}: nothing to compare."


# --------------------------------------------------------------------------- the 2018 reproduction


def _reading_of(plan: dict) -> dict:
    return plan.get("readings") or {"framework": ""}


def reproduction(reference: dict, runs: list[dict], plan: dict, decided: list[dict]) -> dict:
    """Appendix A: the 2018 rows against the prediction interval of one new run of ours, which
    definition of the 2018 columns fits, which protocol reading explains the gaps, and the
    2018 statements against the comparisons."""
    fit = P.definition_fit(reference, runs)
    chosen = {column: fit[column]["best"] for column in P.DEFINITIONS}
    definitions = []
    for column, defs in P.DEFINITIONS.items():
        for quantity, text in defs.items():
            f = fit[column]["fit"][quantity]
            definitions.append([f"2018 {column}", text, f"{f['inside']} of {f['compared']}",
                                "best fit" if quantity == chosen[column] else ""])

    table = []
    for ref in reference["rows"]:
        cells = [ref["experiment"], ref["variant"]]
        for column in ("loss", "accuracy"):
            d = LOSS if column == "loss" else ACC
            c = P.check_row(ref, column, runs, ref["experiment"], ref["variant"], chosen[column])
            ours = N.pm(c["mean"], c["std"], d) if c["n"] else "none"
            if c["n"] != c["of"]:
                ours += f" ({c['n']}/{c['of']})"
            cells += [N.fixed(ref[column], d), ours, N.bracket(c["low"], c["high"], d),
                      "n/a" if c["inside"] is None else "in" if c["inside"] else "out"]
        table.append(cells[1:])
    n_runs = sorted({len(P.run_values(runs, r["experiment"], r["variant"], "test_accuracy")) for r in reference["rows"]})

    readings = _reading_of(plan)
    protocols = []
    for p in P.protocol_fit(reference, runs, plan, chosen):
        protocols.append([p["reading"], p["description"], str(p["rows"]),
                          f"{p['counts']['loss']['inside']} of {p['counts']['loss']['compared']}",
                          f"{p['counts']['accuracy']['inside']} of {p['counts']['accuracy']['compared']}"])
    gaps = [P.explanation_sentence(e, readings) for e in P.explanations(reference, runs, plan, chosen)]

    facts = {(r["experiment"], r["variant"]): {"parameters": int(float(r["parameters"]))}
             for r in runs if N.number(r.get("parameters")) is not None}
    claims = [{"quote": v["quote"], "verdict": v["verdict"], "evidence": " ".join(v["evidence"])}
              for v in C.verdicts(reference.get("claims", []), decided, facts)]
    counts = {k: sum(c["verdict"] == k for c in claims) for k in (C.SUPPORTED, C.CONTRADICTED, C.INCONCLUSIVE,
                                                                    C.NOT_TESTABLE)}
    speedups = [float(ref["seconds"]) / m for ref in reference["rows"]
                if (v := P.run_values(runs, ref["experiment"], ref["variant"], "train_seconds"))
                and (m := sum(v) / len(v)) > 0]
    return {
        "n_runs": " to ".join(str(n) for n in (n_runs[0], n_runs[-1])) if len(n_runs) > 1 else str(n_runs[0]),
        "definitions": {"head": ["Column", "Candidate definition (ours, per run)", "2018 rows inside", ""],
                        "align": ["l", "p{0.5\\linewidth}", "r", "l"], "rows": definitions},
        "chosen": {column: P.DEFINITIONS[column][q] for column, q in chosen.items()},
        "window": str(DISPLAY_WINDOW),
        "min_runs": str(P.MIN_RUNS),
        "table": {"head": ["Variant", "2018 loss", "Ours", "95% PI", "", "2018 acc.", "Ours", "95% PI", ""],
                  "align": "lrrrlrrrl", "rows": table, "size": "footnote"},
        "protocols": {"head": ["Reading", "What it changes", "Rows", "Loss inside", "Accuracy inside"],
                      "align": ["l", "p{0.42\\linewidth}", "r", "r", "r"], "rows": protocols},
        "gaps": gaps,
        "claims": {"head": ["2018 statement", "Verdict", "What decides it"],
                   "align": ["p{0.3\\linewidth}", "p{0.1\\linewidth}", "p{0.5\\linewidth}"], "rows":
                   [[c["quote"], c["verdict"], c["evidence"]] for c in claims], "long": True, "size": "footnote"},
        "claim_counts": ", ".join(f"{n} {k}" for k, n in counts.items() if n),
        "speedup": (f"{min(speedups):.0f} to {max(speedups):.0f}" if speedups else "n/a"),
    }


# --------------------------------------------------------------------------- every comparison


SHORT = {"test_accuracy": "accuracy", "failure_rate": "failures", "converged_epoch": "to 95%",
         "cpu_seconds_per_epoch": "CPU s/ep.", "test_vs_train_accuracy": "test − train"}


def comparisons_table(decided: list[dict]) -> dict:
    body = []
    for r in decided:
        d = 2 if r["quantity"] == "failure_rate" else _digits(r["quantity"])
        body.append([r["experiment"], r["variant_a"], r["variant_b"], SHORT.get(r["quantity"], r["quantity"]),
                     f"{r['n_a']}/{r['n_b']}", f"{N.fixed(r['difference'], d)} {N.bracket(r['ci_low'], r['ci_high'], d)}"
                     if r["ci_low"] is not None else N.fixed(r["difference"], d),
                     {"paired_t": "paired", "welch": "Welch", "fisher": "Fisher"}[r["test"]],
                     N.p_value(r["p_holm"]), r["claim"].replace("_", " ")])
    return {"head": ["Experiment", "A", "B", "Quantity", "n", "A − B [95% CI]", "Test", "Holm p", "Claim"],
            "align": "llllrrlrl", "rows": body, "long": True, "size": "footnote"}


# --------------------------------------------------------------------------- the whole context


def _figures(figures: dict):
    """A lookup that fails loudly: a report never prints an empty figure path."""
    for name, path in figures.items():  # printed unescaped in both formats: keep them plain
        if not re.fullmatch(r"[A-Za-z0-9._/-]+", path):
            raise ValueError(f"figure {name}: path {path!r} has characters a report cannot link safely")

    def figure(name: str) -> str:
        if name not in figures:
            raise KeyError(f"figure {name!r} is not in the figure registry (workflow.results.figures)")
        return figures[name]

    return figure


def _dynamic_text(metrics: dict, figure: str, key) -> dict:
    """The rule a dynamic-schedule run used, from its resolved config (not the library's defaults)."""
    cfg = metrics["config"]
    sched = cfg["schedule"]
    missing = [k for k in ("thresholds", "floor", "divisor") if k not in sched]
    if missing:
        raise ValueError(f"{key[0]}/{key[1]}: the run's schedule lacks {', '.join(missing)}")
    steps = "; ".join(f"{lr:g} if L > {above:g}" for above, lr in sched["thresholds"])
    return {"experiment": key[0], "variant": key[1], "figure": figure, "window": str(cfg["loss_window"]),
            "rule": f"{steps}; otherwise max({sched['floor']:g}, L / {sched['divisor']:g})"}


def _ablation(plan: dict, runs: list[dict]) -> dict | None:
    """The protocol ablation: each re-run variant beside its run under the default reading."""
    exp = plan.get("ablation")
    if not exp:
        return None
    spec = next(e for e in plan["experiments"] if e["key"] == exp)
    by_origin = {}
    for v in spec["variants"]:
        by_origin.setdefault(tuple(v["origin"]), []).append(v)
    default = next(iter(_reading_of(plan)))
    rows, sentences = [], []
    for (oe, ov), variants in by_origin.items():
        base = _runs_of(runs, oe).get(ov, [])
        f0 = failures(base)
        rows.append([ov, default, f0["text"], _mean_std(base, "test_accuracy", ACC)])
        for v in variants:
            mine = _runs_of(runs, exp).get(v["name"], [])
            f = failures(mine)
            rows.append([ov, v["reading"], f["text"], _mean_std(mine, "test_accuracy", ACC)])
            if f["k"] != f0["k"]:
                sentences.append(f"{ov}: failed to learn in {f['k']} of {f['n']} runs under {v['reading']} "
                                 f"(seeds {', '.join(f['seeds']) or 'none'}), in {f0['k']} of {f0['n']} under {default}.")
    if not sentences:
        sentences.append("No reading changes how many runs fail to learn.")
    return {"title": spec["title"], "key": exp, "readings": [[k, v] for k, v in _reading_of(plan).items()],
            "table": {"head": ["Variant", "Reading", "Failed", "Test accuracy (runs that learned)"],
                      "align": "llrr", "rows": rows},
            "sentences": sentences}


def _architectures(plan, runs, decided, summaries, figure, epochs_text) -> dict | None:
    exp = plan.get("architectures")
    if not exp:
        return None
    by = _runs_of(runs, exp)
    summary = summaries[exp]
    table = variant_table(summary, runs, exp, extra=[("Train acc.", "train_accuracy_epoch", ACC)])
    keep = [i for i, h in enumerate(table["head"]) if h not in ("Test loss", "Train loss")]
    table["head"] = [table["head"][i] for i in keep]
    table["rows"] = [[row[i] for i in keep] for row in table["rows"]]
    params = {s["variant"]: int(float(s["parameters"])) for s in summary if N.number(s.get("parameters")) is not None}
    for row in table["rows"]:
        row.insert(1, f"{params.get(row[0], 0):,}")
    table["head"].insert(1, "Parameters")
    table["align"] = "l" + "r" * (len(table["head"]) - 1)
    names = [s["variant"] for s in summary]
    sentences = []
    if len(names) >= 2:
        sentences.append(" and ".join(f"{n} has {params.get(n, 0):,} parameters" for n in names) + ".")
    rows = [r for r in decided if r["experiment"] == exp and r["quantity"] in ("test_accuracy",) + I.ARCHITECTURE_QUANTITIES]
    sentences += [comparison_sentence(r) for r in rows]
    for v, rs in by.items():
        test, train = _learned_values(rs, "test_accuracy"), _learned_values(rs, "train_accuracy_epoch")
        if test and train:
            above = sum(N.number(r["test_accuracy"]) > N.number(r["train_accuracy_epoch"]) for r in rs
                        if I.learned(r) and N.number(r.get("train_accuracy_epoch")) is not None)
            sentences.append(f"{v}: final test accuracy above the last epoch's mean training accuracy in "
                             f"{above} of {len(train)} runs that learned.")
    return {"key": exp, "table": table, "sentences": sentences, "epochs_text": epochs_text,
            "figure_accuracy": figure(f"{exp}_accuracy"), "figure_loss": figure(f"{exp}_loss"),
            "figure_seeds": figure(f"{exp}_seeds")}


def sharing(build_info: dict, runs: list[dict]) -> list[list[str]]:
    """How many training jobs could run at once in this build, and what share of a core the
    runs got while training (their CPU time over wall time): why the tables give CPU time."""
    cores, threads = build_info.get("cores"), build_info.get("threads") or 1
    cpus = build_info.get("training_cpus")
    if cores:
        jobs = max(1, min(cores, cpus or cores) // threads)
        limit = (f", of which training jobs use at most the {N.plural(cpus, 'CPU')} of this machine"
                 if cpus and cpus < cores else "")
        at_once = (f"up to {N.plural(jobs, 'training job')} at once (--cores {cores}{limit}; "
                   f"{N.plural(threads, 'BLAS thread')} each) on {build_info['environment'].get('Cores', '?')} cores")
    else:
        at_once = "a cluster executor: jobs on the cluster's nodes"
    shares = sorted(c / w for r in runs if not r.get("copied_from")  # a copy's times are its source's
                    and (c := N.number(r.get("train_cpu_seconds"))) and (w := N.number(r.get("train_seconds"))))
    if not shares:
        return [["Jobs at once", at_once]]
    share = (f"{N.percent(shares[len(shares) // 2])} of a core (median over {N.plural(len(shares), 'run')}; "
             f"{N.percent(shares[0])} to {N.percent(shares[-1])}): the tables give CPU time per epoch, which "
             f"depends far less than wall time on how many jobs shared the cores")
    return [["Jobs at once", at_once], ["CPU share while training", share]]


def runs_line(runs: list[dict]) -> str:
    """Provenance's "Runs": how many, their compute time, and how many were copied or continued.

    Copied runs cost nothing; a continued run's times include those of the run it continues
    (``continued_seconds``), which counts on its own row."""
    trained = [r for r in runs if not r.get("copied_from")]
    continued = [r for r in trained if r.get("continued_from")]
    seconds = sum(float(r["total_seconds"]) - (N.number(r.get("continued_seconds")) or 0.0) for r in trained)
    text = f"{len(runs)}, total compute {seconds / 60:.1f} min"
    if len(trained) < len(runs):
        text += f" ({len(runs) - len(trained)} copied: same settings as another run)"
    if continued:
        text += f"; {len(continued)} continued: only the epochs beyond a shorter run with the same settings trained"
    return text


def run_table(runs: list[dict]) -> dict:
    """Appendix C's table: one row per variant (runs.csv has one per run) with its seeds,
    their statuses, every seed's final test accuracy in seed order, and the range of the
    runs' times."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in runs:
        groups.setdefault((r["experiment"], r["variant"]), []).append(r)
    rows = []
    for (experiment, variant), rs in groups.items():
        rs = sorted(rs, key=lambda r: int(r["seed"]))
        seeds = [int(r["seed"]) for r in rs]
        status = ", ".join(f"{n} {s}" for s, n in Counter(r["status"] for r in rs).items())
        copied = sum(1 for r in rs if r.get("copied_from"))
        continued = sum(1 for r in rs if r.get("continued_from") and not r.get("copied_from"))
        notes = [f"{copied} copied"] * bool(copied) + [f"{continued} continued"] * bool(continued)
        if notes:
            status += f" ({', '.join(notes)})"
        times = [float(r["total_seconds"]) for r in rs]
        rows.append([
            experiment, variant,
            f"{seeds[0]}–{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 1
            else " ".join(map(str, seeds)),
            status, " ".join(N.kind(r.get("test_accuracy"), "accuracy") for r in rs),
            N.fixed(times[0], 1) if len(times) == 1 else f"{N.fixed(min(times), 1)}–{N.fixed(max(times), 1)}",
        ])
    return {"head": ["Experiment", "Variant", "Seeds", "Status", "Test accuracy, by seed", "Time (s)"],
            "align": "llllll", "long": True, "size": "footnote", "rows": rows}


def _epochs_text(epochs) -> str:
    return f"{N.plural(int(epochs), 'epoch')} per run."


def build_context(*, plan, summaries, runs, comparisons, gradcheck, stability, reference, build_info, figures,
                  visual, models, dynamic) -> dict:
    """All the report's numbers and sentences.

    Args:
        plan: :func:`workflow.experiments.describe` of the plan, plus ``report`` (title, author).
        summaries: {experiment: rows of the summary CSV} (dicts of strings).
        runs: rows of runs.csv.
        comparisons: rows of comparisons.csv, typed (:func:`report.readers.read_comparisons`).
        gradcheck, stability: rows of the checks CSVs.
        reference: the 2018 numbers (:func:`report.reproduction.load_reference`).
        build_info: environment and provenance captured at build time, plus ``results_date``.
        figures: {figure name: path relative to the report file}; every figure the report
            shows must be there (a missing one is an error).
        visual: {"digits": [labels of the digits shown]}.
        models: metrics.json of ``plan["model_runs"]`` (in that order): their resolved model
            settings give the architecture tables.
        dynamic: metrics.json of ``plan["dynamic_runs"]``: the schedule each used.
    """
    figure = _figures(figures)
    report_cfg = plan.get("report", {})
    experiments = []
    sweep_number = 1
    for spec in plan["experiments"]:
        key = spec["key"]
        if key == plan.get("ablation"):
            continue
        rows = summaries[key]
        is_sweep = len(rows) > 1 and key != plan["architectures"]
        entry = {"key": key, "title": spec["title"], "table": variant_table(rows, runs, key),
                 "epochs_text": _epochs_text(spec["epochs"]), "is_sweep": is_sweep}
        if is_sweep:
            sweep_number += 1
            entry.update(number=f"3.{sweep_number}", figure_accuracy=figure(f"{key}_accuracy"),
                         figure_loss=figure(f"{key}_loss"), figure_seeds=figure(f"{key}_seeds"),
                         sentences=sweep_sentences(comparisons, key, _runs_of(runs, key)))
        experiments.append(entry)
    by_key = {e["key"]: e for e in experiments}
    sweeps = [e for e in experiments if e["is_sweep"]]

    dyn = [_dynamic_text(m, figure(f"lr_trace_{e}_{v}"), (e, v))
           for m, (e, v, _) in zip(dynamic, plan["dynamic_runs"])]
    architectures = None
    if plan["architectures"]:
        spec = next(e for e in plan["experiments"] if e["key"] == plan["architectures"])
        architectures = _architectures(plan, runs, comparisons, summaries, figure, _epochs_text(spec["epochs"]))

    failed = [r for r in runs if not I.learned(r)]
    diverged = [r for r in failed if r["status"] != "completed"]
    summary = [sweep_summary(comparisons, e["title"], e["key"]) for e in sweeps]
    if failed:
        groups: dict[tuple, list[str]] = {}
        for r in failed:
            groups.setdefault((r["experiment"], r["variant"]), []).append(str(r["seed"]))
        where = "; ".join(f"{e}/{v} ({N.plural(len(s), 'seed')}: {', '.join(s)})" for (e, v), s in groups.items())
        summary.append(f"{len(failed)} of {len(runs)} runs failed to learn or diverged: {where}.")
    else:
        summary.append(f"Every run learned (final test accuracy at least {FAILED_BELOW:g}).")
    summary.append(f"{len(diverged)} runs diverged (training loss NaN or infinite)." if diverged else "No run diverged.")
    if architectures:
        summary.append(architecture_summary(comparisons, plan["architectures"]))
    claimed = sum(r["claim"] != "inconclusive" for r in comparisons)
    timing = sum(I.family(r["quantity"]) == I.TIMING for r in comparisons)

    checks = [[r["layer"], r["settings"], r["gradient"], f"{float(r['relative_error']):.1e}",
               "yes" if r["passed"] in (True, "True") else "NO"] for r in gradcheck]
    worst = max(float(r["relative_error"]) for r in gradcheck) if gradcheck else float("nan")
    tolerance = float(gradcheck[0]["tolerance"]) if gradcheck else float("nan")
    stab = [[f"{float(r['logit_scale']):g}",
             N.kind(r["loss"], "loss") if r["loss_finite"] in (True, "True") else "not finite",
             "yes" if r["gradient_finite"] in (True, "True") else "NO",
             N.kind(r["naive_loss"], "loss") if r["naive_finite"] in (True, "True") else "not finite"]
            for r in stability]

    network = []
    for i, (m, (e, v, s)) in enumerate(zip(models, plan["model_runs"])):
        model_cfg = m["config"]["model"]
        where = f"run {e}/{v}, seed {s}"
        title = (f"The network of the baseline ({model_cfg['name']}, {where}); shapes are per image."
                 if i == 0 else f"The {model_cfg['name']} it is compared with ({where}).")
        rows = layer_table(build_model(model_cfg, np.random.default_rng(0)))
        network.append({"title": title, "table": {
            "head": ["Layer", "Output shape", "Parameters"], "align": ["p{0.55\\linewidth}", "r", "r"],
            "rows": [[r["layer"], r["shape"], r["params"]] for r in rows]}})
    base_cfg = models[0]["config"]
    sources = reference["protocol"]["sources"]
    protocol = {"table": protocol_table(base_cfg["model"], base_cfg["data"], base_cfg["optimizer"], sources),
                "source": reference["protocol"]["framework"]}
    others = []
    for m, (e, v, s) in list(zip(models, plan["model_runs"]))[1:]:
        cfg = m["config"]
        others.append(f"The {cfg['model']['name']} ({e}/{v}) has no 2018 code to follow: every layer starts at "
                      f"std {cfg['model']['init_std']:g}" + (f" (linear layers {cfg['model']['linear_init_std']:g})"
                                                           if cfg["model"].get("linear_init_std") is not None else "")
                      + f", pixels are {pixel_formula(cfg['data'])}.")
    protocol["others"] = others

    date = build_info["results_date"]
    base_exp, base_variant = plan["baseline"]
    base = by_key[base_exp]
    vis_exp, vis_variant, vis_seed = plan["visual"]
    return {
        "title": report_cfg.get("title", "MNIST CNN experiments"),
        "author": report_cfg.get("author", ""),
        "date": date[:10],
        "source_date_epoch": int(datetime.datetime.fromisoformat(date).timestamp()),
        "environment": {"head": ["", ""], "align": ["l", "p{0.7\\linewidth}"],
                        "rows": [[k, str(v)] for k, v in build_info["environment"].items()]
                        + sharing(build_info, runs)},
        "network": network,
        "protocol": protocol,
        "widths": {kind: f"{w:g}" for kind, w in PRINTED_WIDTH.items()},
        "listings": listings(),
        "checks": {"table": {"head": ["Layer", "Case", "Gradient", "Rel. error", "Passed"], "align": "lllrl",
                             "rows": checks, "long": True},
                   "worst": f"{worst:.1e}", "tolerance": f"{tolerance:.0e}",
                   "all_passed": all(c[-1] == "yes" for c in checks),
                   "stability": {"head": ["Logit scale", "Loss", "Gradient finite", "Naive softmax loss"],
                                 "align": "rrrr", "rows": stab}},
        "experiments": experiments,
        "sweeps": sweeps,
        "baseline": {**base, "figure": figure("baseline"), "variant": base_variant},
        "dynamic": dyn,
        "visual": {"figure": figure("conv1"), "digits": ", ".join(str(d) for d in visual["digits"]),
                   "run": f"{vis_exp}/{vis_variant}, seed {vis_seed}", "number": f"3.{sweep_number + 1}"},
        "ablation": _ablation(plan, runs),
        "ablation_figure": figure(f"{plan['ablation']}_seeds") if plan.get("ablation") else "",
        "architectures": architectures,
        "summary": summary,
        "rules": {"failed_below": f"{FAILED_BELOW:g}", "chance": f"{CHANCE:g}",
                  "converged": f"{CONVERGED_SHARE:.0%}", "comparisons": str(len(comparisons) - timing),
                  "timing_comparisons": N.plural(timing, "comparison") if timing else "", "claimed": str(claimed)},
        "reproduction": reproduction(reference, runs, plan, comparisons),
        "all_comparisons": comparisons_table(comparisons),
        "provenance": {
            "table": {"head": ["", ""], "align": ["l", "p{0.75\\linewidth}"], "rows": [
                ["Commit", build_info["commit"] if build_info["dirty"] is None
                 else f"{build_info['commit']} (uncommitted changes: {'yes' if build_info['dirty'] else 'no'})"],
                ["Config hash", build_info["config_hash"]],
                ["Results date", build_info["results_date"]],
                ["Runs", runs_line(runs)],
            ]},
            "command": build_info["command"],
            "runs": run_table(runs),
        },
    }
