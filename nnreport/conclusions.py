"""Sentences that state conclusions, each computed from the numbers it talks about.

Rules (stated in the report too):

* The best variant of a sweep is the one with the highest mean final test accuracy
  over seeds (completed runs only). Its lead over the runner-up is *clear* when it is
  larger than the larger of the two seed standard deviations; otherwise the report
  says there is no clear difference.
* A run *failed to learn* when its final test accuracy is below twice chance
  (0.2 for 10 classes); a run *diverged* when its training loss became NaN or infinite.
"""

from __future__ import annotations

CHANCE = 0.1
FAILED_BELOW = 2 * CHANCE


def num(value) -> float | None:
    """A float from a CSV cell (``""`` -> None)."""
    if value is None or value == "":
        return None
    return float(value)


def fmt(value, digits=4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def ranked(rows: list[dict]) -> list[dict]:
    """Variants with at least one completed run, best mean test accuracy first (stable)."""
    done = [r for r in rows if num(r["test_accuracy_mean"]) is not None]
    return sorted(done, key=lambda r: -num(r["test_accuracy_mean"]))


def sweep_verdict(rows: list[dict]) -> dict:
    """Best variant, runner-up, lead and whether the lead is clear."""
    order = ranked(rows)
    if not order:
        return {"best": None}
    best = order[0]
    if len(order) == 1:
        return {"best": best, "second": None, "lead": None, "spread": None, "clear": False}
    second = order[1]
    lead = num(best["test_accuracy_mean"]) - num(second["test_accuracy_mean"])
    spread = max(num(best["test_accuracy_std"]) or 0.0, num(second["test_accuracy_std"]) or 0.0)
    clear = lead > spread and min(int(best["completed"]), int(second["completed"])) >= 2
    return {"best": best, "second": second, "lead": lead, "spread": spread, "clear": clear}


def _failures(variant: str, failed: dict | None) -> str:
    n_failed, n = (failed or {}).get(variant, (0, 0))
    return f" ({variant} failed to learn in {n_failed} of {n} runs)" if n_failed else ""


def sweep_sentence(title: str, rows: list[dict], failed: dict | None = None) -> str:
    """``failed``: {variant: (runs that failed to learn, runs)}, to say why a spread is wide."""
    v = sweep_verdict(rows)
    best = v["best"]
    if best is None:
        return f"{title}: no run completed, so there is no best variant."
    acc = fmt(num(best["test_accuracy_mean"]))
    if v["second"] is None:
        return f"{title}: only {best['variant']} completed (mean test accuracy {acc})."
    second = v["second"]
    if v["clear"]:
        return (
            f"{title}: {best['variant']} is best with mean test accuracy {acc}, "
            f"{fmt(v['lead'])} ahead of {second['variant']}, more than the seed spread "
            f"(standard deviation up to {fmt(v['spread'])})."
        )
    why = _failures(best["variant"], failed) + _failures(second["variant"], failed)
    return (
        f"{title}: no clear difference between {best['variant']} ({acc}) and "
        f"{second['variant']} ({fmt(num(second['test_accuracy_mean']))}): the gap of "
        f"{fmt(v['lead'])} is within the seed spread (standard deviation up to {fmt(v['spread'])}){why}."
    )


def failed_by_variant(runs: list[dict], experiment: str) -> dict:
    """{variant: (runs that failed to learn or diverged, runs)} of one experiment."""
    out: dict[str, tuple[int, int]] = {}
    for r in runs:
        if r["experiment"] != experiment:
            continue
        bad = r["status"] != "completed" or num(r["test_accuracy"]) < FAILED_BELOW
        n_bad, n = out.get(r["variant"], (0, 0))
        out[r["variant"]] = (n_bad + bad, n + 1)
    return out


def problem_runs(runs: list[dict]) -> dict:
    """Runs that diverged or failed to learn, from runs.csv rows."""
    diverged = [r for r in runs if r["status"] == "diverged"]
    failed = [r for r in runs if r["status"] == "completed" and num(r["test_accuracy"]) < FAILED_BELOW]
    return {"diverged": diverged, "failed": failed}


def _group(runs: list[dict]) -> list[str]:
    """'init_std/std-0.01 (seeds 0, 1)' per variant."""
    groups: dict[tuple, list[str]] = {}
    for r in runs:
        groups.setdefault((r["experiment"], r["variant"]), []).append(str(r["seed"]))
    return [f"{e}/{v} (seed{'s' if len(s) > 1 else ''} {', '.join(s)})" for (e, v), s in groups.items()]


def problem_sentences(runs: list[dict]) -> list[str]:
    p = problem_runs(runs)
    out = []
    if p["failed"]:
        worst = max(num(r["test_accuracy"]) for r in p["failed"])
        out.append(
            f"{len(p['failed'])} of {len(runs)} runs failed to learn (final test accuracy at most "
            f"{fmt(worst)}, chance is {fmt(CHANCE, 1)}): {'; '.join(_group(p['failed']))}."
        )
    else:
        out.append(f"Every completed run learned (final test accuracy at least {fmt(FAILED_BELOW, 1)}).")
    if p["diverged"]:
        out.append(f"{len(p['diverged'])} runs diverged (training loss became NaN or infinite): "
                   f"{'; '.join(_group(p['diverged']))}.")
    else:
        out.append("No run diverged.")
    return out


def cnn_vs_mlp_sentences(cnn: dict, mlp: dict) -> list[str]:
    """From the two summary rows of the CNN-vs-MLP experiment."""
    ca, ma = num(cnn["test_accuracy_mean"]), num(mlp["test_accuracy_mean"])
    ct, mt = num(cnn["seconds_per_epoch_mean"]), num(mlp["seconds_per_epoch_mean"])
    if None in (ca, ma, ct, mt):
        return ["The CNN-vs-MLP comparison has no completed runs to compare."]
    spread = max(num(cnn["test_accuracy_std"]) or 0.0, num(mlp["test_accuracy_std"]) or 0.0)
    gap = abs(ca - ma)
    if gap <= spread:
        acc = (f"The CNN and the MLP reach the same accuracy within the seed spread "
               f"({fmt(ca)} vs {fmt(ma)}).")
    else:
        hi, lo = ("CNN", "MLP") if ca > ma else ("MLP", "CNN")
        acc = (f"The {hi} is more accurate than the {lo}: {fmt(max(ca, ma))} vs {fmt(min(ca, ma))} mean test "
               f"accuracy, a gap of {fmt(gap)} (seed standard deviation up to {fmt(spread)}).")
    faster, slower = ("CNN", "MLP") if ct < mt else ("MLP", "CNN")
    ratio = max(ct, mt) / min(ct, mt)
    speed = (f"The {faster} trains faster: {fmt(min(ct, mt), 2)} s per epoch against {fmt(max(ct, mt), 2)} s "
             f"for the {slower} ({ratio:.1f}x), with {int(cnn['parameters']):,} parameters in the CNN and "
             f"{int(mlp['parameters']):,} in the MLP.")
    return [acc, speed]
