"""What several sections share: the inputs, tables, per-variant numbers and names.

:class:`Inputs` holds everything the report is built from (read once by the context job).
Every number a sentence quotes about a variant comes from that variant's row of its
experiment's summary (:func:`variant_numbers`), every difference from a row of
``comparisons.csv``: a sentence never recomputes what a table shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from report import inference as I
from report import numbers as N
from report import stats

ACC, LOSS, SEC = (N.DIGITS[k] for k in ("accuracy", "loss", "seconds"))


@dataclass
class Inputs:
    """The results the report reads (see :func:`report.context.build_context`)."""

    plan: dict
    summaries: dict
    runs: list
    comparisons: list
    gradcheck: list
    stability: list
    reference: dict | None
    build_info: dict
    figures: dict
    visual: dict | None
    models: list
    dynamic: list
    ids: dict = field(default_factory=dict)  # {row identity: "B7"}: Appendix B's numbering
    builds: dict | None = None  # this build against the previous and the published one

    def experiment(self, key: str) -> dict:
        return next(e for e in self.plan["experiments"] if e["key"] == key)

    def experiments(self) -> list[dict]:
        """The experiments in config order, the protocol ablation aside."""
        return [e for e in self.plan["experiments"] if e["key"] != self.plan.get("ablation")]

    def figure(self, name: str) -> str:
        if name not in self.figures:
            raise KeyError(f"figure {name!r} is not in the figure registry (cnnlib.results.figures)")
        return self.figures[name]

    def row_id(self, row: dict) -> str:
        """A comparison row's number in Appendix B (``B7``); rows turned round keep theirs."""
        return self.ids.get(_identity(row), "")

    def summary_row(self, experiment: str, variant: str) -> dict:
        return next(r for r in self.summaries[experiment] if r["variant"] == variant)


def _identity(row: dict) -> tuple:
    return (row["experiment"], frozenset((row["variant_a"], row["variant_b"])), row["quantity"], row["population"],
            row["test"] == "page_trend", row["family"])


def number_rows(comparisons: list[dict]) -> dict:
    """``{row identity: "B1", ...}`` in Appendix B's order (by family, then file order)."""
    ids = {}
    for i, r in enumerate(ordered(comparisons), start=1):
        ids[_identity(r)] = f"B{i}"
    return ids


def ordered(comparisons: list[dict]) -> list[dict]:
    """comparisons.csv's rows by family (experiments in file order, then the statements, then
    CPU time), in file order within a family."""
    families = list(dict.fromkeys(r["family"] for r in comparisons))
    late = [I.STATEMENTS, I.TIMING]
    families = [f for f in families if f not in late] + [f for f in late if f in families]
    return [r for f in families for r in comparisons if r["family"] == f]


def table(head: list[str], rows: list[list[str]], align, size: str = "normal") -> dict:
    """A format-neutral table; ``align``: a string of ``l``/``r`` or a list whose entries may
    be numbers (a wrapping column of that share of the text width)."""
    return {"head": head, "rows": rows, "align": list(align), "size": size}


def runs_of(runs: list[dict], experiment: str) -> dict[str, list[dict]]:
    """{variant: its runs.csv rows, seed order} of one experiment."""
    out: dict[str, list[dict]] = {}
    for r in sorted((r for r in runs if r["experiment"] == experiment), key=lambda r: int(r["seed"])):
        out.setdefault(r["variant"], []).append(r)
    return out


def failures(rows: list[dict]) -> dict:
    """Failed runs (to learn, or diverged) of one variant, with the exact 95% interval."""
    k, n = sum(not I.learned(r) for r in rows), len(rows)
    ci = stats.clopper_pearson(k, n) if n else None
    diverged = sum(r["status"] != "completed" for r in rows)
    return {"k": k, "n": n, "diverged": diverged, "text": N.count(k, n),
            "interval": N.interval(ci.low, ci.high, 2) if ci else "n/a",
            "seeds": [str(r["seed"]) for r in rows if not I.learned(r)]}


def variant_numbers(inp: Inputs, experiment: str, variant: str) -> dict:
    """What sentences and tables quote of a variant, from its summary row: the mean final test
    accuracy over all runs with its 95% interval (``all``), the number of runs, and over the
    runs that learned the mean ± sd (``learned``)."""
    s = inp.summary_row(experiment, variant)
    learned = [N.number(r["test_accuracy"]) for r in runs_of(inp.runs, experiment).get(variant, []) if I.learned(r)]
    m = stats.mean_ci([v for v in learned if v is not None]) if learned else None
    return {
        "runs": int(float(s["runs"])),
        "mean": N.kind(s["accuracy_all_runs_mean"], "accuracy"),
        "interval": N.interval(s["accuracy_all_runs_ci_low"], s["accuracy_all_runs_ci_high"], ACC),
        "bracket": N.bracket(s["accuracy_all_runs_ci_low"], s["accuracy_all_runs_ci_high"], ACC),
        "learned": N.pm(m.mean, m.std, ACC) if m and m.n else "n/a",
    }


def mean_std(rows: list[dict], quantity: str, digits: int, learned_only: bool = True) -> str:
    values = [v for r in rows if (I.learned(r) or not learned_only) and (v := N.number(r.get(quantity))) is not None]
    if not values:
        return "n/a"
    m = stats.mean_ci(values)
    return N.pm(m.mean, m.std, digits)


def detectable(mdd: float | None) -> str | None:
    """The smallest accuracy difference a design finds with 80% power (``min_detectable``),
    printed; None when there is none, or when it is 1 or more: then no difference in accuracy,
    however large, would be found reliably, and the sentence says so instead of printing a
    number beyond the scale."""
    if mdd is None:
        return None
    return N.fixed(mdd, N.DIGITS["accuracy"]) if mdd < 1 else None


def listing(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


#: Run settings as a reader names them (others: the key's last part, underscores as spaces).
SETTING_WORDS = {"optimizer.lr": "learning rate", "optimizer.momentum": "momentum",
                 "optimizer.weight_decay": "weight decay", "model.init_std": "initial weight scale",
                 "model.linear_init_std": "linear layer's initial scale", "model.name": "model",
                 "model.hidden": "hidden layers", "batch_size": "batch size", "data.pixel_offset": "pixel offset",
                 "data.pixel_scale": "pixel scale", "data.pixel_shift": "pixel shift",
                 "data.train_limit": "training images", "data.test_limit": "test images", "schedule.name": "schedule",
                 "schedule.gamma": "step factor", "schedule.step_epochs": "epochs per step",
                 "images_per_epoch": "images per epoch", "iterations_per_epoch": "iterations per epoch"}


def setting_name(key: str) -> str:
    return SETTING_WORDS.get(key, key.split(".")[-1].replace("_", " "))


def setting_text(key: str, value) -> str:
    """A setting as a reader reads it: ``learning rate 0.015``, ``schedule dynamic``."""
    if key in ("schedule.thresholds",) and isinstance(value, list):
        return "thresholds " + ", ".join(f"{a:g}→{b:g}" for a, b in value)
    return f"{setting_name(key)} {value_text(value)}"


def value_text(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "×".join(value_text(v) for v in value) if all(not isinstance(v, list) for v in value) else str(value)
    return str(value)
