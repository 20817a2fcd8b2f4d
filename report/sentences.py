"""Sentences from decided comparisons (rows of ``comparisons.csv``): a difference is said to
exist only where the row claims it; otherwise the sentence says the comparison is
inconclusive with the seeds run, and how many would resolve it - never "no difference".
A sentence's difference is the first-named variant's value minus the second's."""

from __future__ import annotations

from report import numbers as N
from report.inference import flip

ACC, SEC, EPOCHS = N.DIGITS["accuracy"], N.DIGITS["seconds"], N.DIGITS["epochs"]


def _runs_compared(r: dict) -> str:
    """``5 seeds``, or ``3 and 5 runs that learned`` when the two sides differ."""
    if r["n_a"] == r["n_b"]:
        return N.plural(r["n_a"], "seed")
    return f"{r['n_a']} and {r['n_b']} runs that learned"


def digits(quantity: str) -> int:
    """Decimals of a compared quantity."""
    return {"test_accuracy": ACC, "converged_epoch": EPOCHS, "cpu_seconds_per_epoch": SEC}.get(quantity, ACC)


def p_phrase(name: str, p) -> str:
    """``Holm p = 0.29`` / ``Holm p < 0.001``."""
    text = N.p_value(p)
    return f"{name} {text}" if text.startswith("<") else f"{name} = {text}"


WHAT = {"test_accuracy": "final test accuracy", "converged_epoch": "epochs to reach 95% of the final accuracy",
        "cpu_seconds_per_epoch": "CPU seconds per epoch", "test_vs_train_accuracy": "test against training accuracy"}
#: What a claimed difference says, winner first.
BETTER = {"test_accuracy": "is more accurate than", "converged_epoch": "converges faster than",
          "cpu_seconds_per_epoch": "needs less CPU time per epoch than",
          "test_vs_train_accuracy": "has a higher final test accuracy than its training accuracy,"}


def _subject(r: dict) -> str:
    """What is compared: ``A against B (quantity)``, or a variant's test against training accuracy."""
    if r["variant_a"] == r["variant_b"]:
        return f"{r['variant_a']}, final test accuracy against the last epoch's training accuracy"
    return f"{r['variant_a']} against {r['variant_b']} ({WHAT[r['quantity']]})"


def comparison_sentence(r: dict) -> str:
    """One decided comparison row as a sentence: a claim only where the row claims it."""
    if r["quantity"] == "failure_rate":
        head = (f"{r['variant_a']} failed in {N.percent(r['mean_a'])} of its runs, {r['variant_b']} in "
                f"{N.percent(r['mean_b'])}")
        tests = f"(Fisher {p_phrase('p', r['p_value'])}, {p_phrase('Holm p', r['p_holm'])})"
        if r["claim"] == "inconclusive":
            return f"{head}: inconclusive with {r['n_a']} and {r['n_b']} runs {tests}."
        more = r["variant_a"] if r["claim"] == "b_better" else r["variant_b"]
        return f"{head}: {more} fails more often {tests}."
    if r["claim"] == "b_better" and r["variant_a"] != r["variant_b"]:
        r = flip(r)  # the better one is named first, and a difference is first minus second
    d = digits(r["quantity"])
    numbers = (f"difference {N.fixed(r['difference'], d)} (95% CI {N.interval(r['ci_low'], r['ci_high'], d)}, "
               f"{'paired t' if r['test'] == 'paired_t' else 'Welch'} test, {p_phrase('Holm p', r['p_holm'])})")
    if r["claim"] == "inconclusive":
        need = r["seeds_needed"]
        if need is None:
            tail = "too few runs that learned to test it" if r["p_value"] is None else "no difference to resolve"
        elif str(need).startswith(">"):
            tail = f"more than {str(need)[1:]} seeds per variant would be needed to resolve it"
        else:
            tail = f"about {need} seeds per variant would resolve it"
        return f"{_subject(r)}: inconclusive with {_runs_compared(r)}: {numbers}; {tail}."
    if r["variant_a"] == r["variant_b"]:
        higher = "above" if r["claim"] == "a_better" else "below"
        return f"{r['variant_a']}: final test accuracy {higher} the last epoch's training accuracy: {numbers}."
    return f"{r['variant_a']} {BETTER[r['quantity']]} {r['variant_b']}: {numbers}."
