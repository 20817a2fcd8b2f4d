"""One context, built from the workflow's results, that feeds both report templates.

Everything printed is a string formatted here (numbers included); text that is
already markup is wrapped in :class:`nnreport.render.Raw` by the templates' side only
(code listings). Booleans are used for template conditions, never printed.
"""

from __future__ import annotations

import datetime
import inspect
import re

from nnreport import conclusions as C
from nnreport.conclusions import fmt, num



def results_date(runs: list[dict]) -> str:
    """When the newest run finished (UTC, ISO 8601): the report's date, not the build's."""
    stamps = sorted(r["finished_utc"] for r in runs if r.get("finished_utc"))
    return stamps[-1] if stamps else "1970-01-01T00:00:00+00:00"


def _shape(shape) -> str:
    return " x ".join(str(d) for d in shape[1:])


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
        src = inspect.getsource(fn)
        if "\\end{lstlisting}" in src:  # pragma: no cover - would break out of the listing
            raise ValueError(f"{fn.__name__}: source cannot be listed verbatim")
        if title or not out:
            out.append({"title": title, "code": src})
        else:
            out[-1]["code"] += "\n\n" + src
    return out


def variant_rows(rows: list[dict], colours: dict) -> list[dict]:
    out = []
    for r in rows:
        colour = colours.get(r["variant"], "")
        if isinstance(colour, (list, tuple)):  # (name, hex)
            colour = colour[0]
        out.append({
            "variant": r["variant"],
            "setting": str(r["setting"]),
            "colour": colour,
            "n": f"{int(r['completed'])}/{int(r['runs'])}",
            "diverged": str(int(r["diverged"])),
            "accuracy": fmt(num(r["test_accuracy_mean"])),
            "accuracy_std": fmt(num(r["test_accuracy_std"])),
            "test_loss": fmt(num(r["test_loss_mean"])),
            "test_loss_std": fmt(num(r["test_loss_std"])),
            "train_loss": fmt(num(r["train_loss_mean"])),
            "train_loss_std": fmt(num(r["train_loss_std"])),
            "seconds": fmt(num(r["train_seconds_mean"]), 1),
            "seconds_std": fmt(num(r["train_seconds_std"]), 1),
            "epoch_seconds": fmt(num(r["seconds_per_epoch_mean"]), 2),
            "params": f"{int(r['parameters']):,}",
        })
    return out


def _dynamic_rule(settings: dict) -> dict:
    from cnnlib.schedules import DYNAMIC_RULE

    rule = {**DYNAMIC_RULE, **{k: v for k, v in settings.items() if k != "name"}}
    steps = [{"above": f"{a:g}", "lr": f"{lr:g}"} for a, lr in rule["thresholds"]]
    return {"steps": steps, "floor": f"{rule['floor']:g}", "divisor": f"{rule['divisor']:g}"}


def _reproduction(reference, summaries):
    from nnreport import reproduction as R

    rows = R.compare(reference, summaries)
    shown = []
    for r in rows:
        if r["quantity"] not in ("accuracy", "loss", "time"):
            continue
        digits = 1 if r["quantity"] == "time" else 4
        shown.append({
            "experiment": r["experiment"], "variant": r["variant"], "quantity": r["quantity"],
            "value_2018": fmt(num(r["value_2018"]), 3 if digits == 4 else 1),
            "mean": fmt(num(r["mean"]), digits), "std": fmt(num(r["std"]), digits),
            "range": "n/a" if r["min"] is None else f"{fmt(r['min'], digits)}..{fmt(r['max'], digits)}",
            "difference": fmt(num(r.get("difference")), digits),
            "verdict": ("missing" if r.get("missing") else
                        f"{r['speedup']:.0f}x faster now" if r["quantity"] == "time" and r.get("speedup") else
                        "within" if r.get("within_range") else "outside"),
        })
    counts = R.agreement(rows)
    sentences = []
    for quantity, label in (("accuracy", "final test accuracy"),
                            ("loss", "final-iteration training loss"),
                            ("loss_vs_test", "final test loss")):
        c = counts.get(quantity)
        if c:
            sentences.append(f"The 2018 {'loss' if quantity != 'accuracy' else 'accuracy'} lies within "
                             f"the reproduced range of the {label} in {c['within']} of {c['compared']} rows.")
    evidence = [d["evidence"] if "evidence" in d else str(d) for d in R.disagreements(rows)]
    return {"rows": shown, "sentences": sentences, "disagreements": evidence}


def build_context(*, config, summaries, runs, gradcheck, stability, reference, build_info, figures,
                  colours, visual) -> dict:
    """All the report's numbers and sentences.

    Args:
        config: the workflow config (experiments in display order, titles, report settings).
        summaries: {experiment: rows of results/summary/{experiment}.csv} (dicts of strings).
        runs: rows of results/summary/runs.csv.
        gradcheck, stability: rows of results/checks/*.csv.
        reference: the 2018 numbers (report/reference_2018.yaml, loaded).
        build_info: environment and provenance captured at build time.
        figures: {name: path relative to the report file}.
        colours: {experiment: {variant: (colour name, hex)}} as the figures drew them.
        visual: {"digits": [...labels...], "experiment", "variant", "seed"}.
    """
    from cnnlib.models import mlp, reference_cnn

    for name, path in figures.items():  # printed unescaped in both formats: keep them plain
        if not re.fullmatch(r"[A-Za-z0-9._/-]+", path):
            raise ValueError(f"figure {name}: path {path!r} has characters a report cannot link safely")
    report_cfg = config.get("report", {})
    experiments = []
    for key, spec in config["experiments"].items():
        rows = summaries.get(key, [])
        exp = {
            "key": key,
            "title": spec.get("title", key),
            "rows": variant_rows(rows, colours.get(key, {})),
            "figure_accuracy": figures.get(f"{key}_accuracy", ""),
            "figure_loss": figures.get(f"{key}_loss", ""),
            "epochs": str(rows[0]["epochs"]) if rows else "?",
            "is_sweep": len(rows) > 1,
            # CNN vs MLP has sentences of its own (accuracy and speed), below
            "sentence": C.sweep_sentence(spec.get("title", key), rows, C.failed_by_variant(runs, key))
            if len(rows) > 1 and key != "cnn_vs_mlp" else "",
        }
        experiments.append(exp)
    by_key = {e["key"]: e for e in experiments}

    dynamic = None
    for key, spec in config["experiments"].items():
        for name, extra in (spec.get("variants") or {}).items():
            sched = (extra or {}).get("schedule") or {}
            if sched.get("name") == "dynamic" and f"lr_trace_{name}" in figures:
                dynamic = {"experiment": key, "variant": name, "figure": figures[f"lr_trace_{name}"],
                           **_dynamic_rule(sched)}

    cnn_mlp = None
    cm = summaries.get("cnn_vs_mlp", [])
    by_model = {r["variant"]: r for r in cm}
    if "cnn" in by_model and "mlp" in by_model:
        cnn_mlp = {"sentences": C.cnn_vs_mlp_sentences(by_model["cnn"], by_model["mlp"]), **by_key["cnn_vs_mlp"]}

    summary = [e["sentence"] for e in experiments if e["sentence"]]
    summary += C.problem_sentences(runs)
    if cnn_mlp:
        summary += cnn_mlp["sentences"]

    checks = [{
        "layer": r["layer"], "settings": r["settings"], "gradient": r["gradient"],
        "error": f"{float(r['relative_error']):.1e}", "passed": "yes" if r["passed"] in (True, "True") else "NO",
    } for r in gradcheck]
    worst = max(float(r["relative_error"]) for r in gradcheck) if gradcheck else float("nan")
    tolerance = float(gradcheck[0]["tolerance"]) if gradcheck else float("nan")
    stab = [{
        "scale": f"{float(r['logit_scale']):g}",
        "loss": fmt(num(r["loss"]), 3) if r["loss_finite"] in (True, "True") else "not finite",
        "finite": "yes" if r["gradient_finite"] in (True, "True") else "NO",
        "naive": fmt(num(r["naive_loss"]), 3) if r["naive_finite"] in (True, "True") else "not finite",
    } for r in stability]

    total_seconds = sum(float(r["total_seconds"]) for r in runs)
    date = build_info["results_date"]
    baseline_key = "baseline" if "baseline" in by_key else experiments[0]["key"]
    return {
        "title": report_cfg.get("title", "MNIST CNN experiments"),
        "author": report_cfg.get("author", ""),
        "date": date[:10],
        "source_date_epoch": int(datetime.datetime.fromisoformat(date).timestamp()),
        "environment": [{"key": k, "value": str(v)} for k, v in build_info["environment"].items()],
        "network": {"cnn": layer_table(reference_cnn(rng=0)), "mlp": layer_table(mlp(rng=0))},
        "listings": listings(),
        "checks": {"rows": checks, "worst": f"{worst:.1e}", "tolerance": f"{tolerance:.0e}",
                   "all_passed": all(c["passed"] == "yes" for c in checks), "stability": stab},
        "experiments": experiments,
        "sweeps": [e for e in experiments if e["is_sweep"] and e["key"] != "cnn_vs_mlp"],
        "baseline": {**by_key[baseline_key], "figure": figures.get("baseline", "")},
        "dynamic": dynamic,
        "has_dynamic": dynamic is not None,
        "visual": {"figure": figures.get("conv1", ""), "digits": ", ".join(str(d) for d in visual["digits"]),
                   "run": f"{visual['experiment']}/{visual['variant']}, seed {visual['seed']}"},
        "cnn_vs_mlp": cnn_mlp,
        "has_cnn_vs_mlp": cnn_mlp is not None,
        "summary": summary,
        "rules": {"failed_below": fmt(C.FAILED_BELOW, 1), "chance": fmt(C.CHANCE, 1)},
        "reproduction": _reproduction(reference, summaries),
        "provenance": {
            "commit": build_info["commit"], "dirty": "yes" if build_info["dirty"] else "no",
            "config_hash": build_info["config_hash"], "command": build_info["command"],
            "date": build_info["results_date"],
            "runs": [{"experiment": r["experiment"], "variant": r["variant"], "seed": str(r["seed"]),
                      "status": r["status"], "seconds": fmt(num(r["total_seconds"]), 1)} for r in runs],
            "total_compute": f"{total_seconds / 60:.1f} min",
            "n_runs": str(len(runs)),
        },
    }
