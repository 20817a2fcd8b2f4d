"""The results contract: every file the workflow writes, its columns, and the figures.

One definition, imported by the rules, the job scripts, the report code and the tests.
Everything lives under one results folder (``Layout.root``): ``results`` for the default
profile, another folder for other profiles (config key ``results``), so that two profiles
never write into each other's files.

Paths are built by :class:`Layout`. Called without arguments, a path method returns the
Snakemake pattern with wildcards (``results/runs/{experiment}/{variant}/seed-{seed}``);
called with values it returns the concrete path.

Files (relative to the root):

=====================================  ===============================================
``runs/{experiment}/{variant}/seed-{seed}/``  one training run: :data:`RUN_FILES`
``summary/{experiment}.csv``           one row per variant: :data:`SUMMARY_COLUMNS`
``summary/curves/{experiment}.csv``    tidy curves of every run: :data:`CURVE_COLUMNS`
``summary/runs.csv``                   one row per run: :data:`RUNS_COLUMNS`
``summary/runs/{experiment}.csv``      the same, one experiment
``summary/comparisons.csv``            every comparison the report states: :data:`COMPARISON_COLUMNS`
``checks/gradcheck.csv``               :data:`GRADCHECK_COLUMNS`
``checks/loss_stability.csv``          :data:`STABILITY_COLUMNS`
``visual/conv1_maps.npz``              :data:`VISUAL_ARRAYS`
``report/figures/{name}.png``          the figures of :func:`figures`
``report/build_info.json``, ``report/context.json``  what the templates print
``report.tex``, ``report.md``, ``report.pdf``  the report
``logs/...``, ``benchmarks/...``       one log and one timing file per job
=====================================  ===============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

# RUN_FILES: the files of one training run, written by cnnlib.train.run (metrics.json last);
# defined once, in cnnlib.runfiles, and re-exported here with the rest of the layout
from cnnlib.runfiles import RUN_FILES

#: Summary statistics over the seeds of a variant (``std`` with ddof 1).
STATS = ("mean", "std", "min", "max")

#: Display window W of the 2018 course framework (its run scripts' ``disp_freq``): it printed
#: the mean batch loss and accuracy of the last W iterations. Assumed: the report does not say.
DISPLAY_WINDOW = 50
#: A run has *converged* at the first test evaluation reaching this share of its final accuracy.
CONVERGED_SHARE = 0.95

#: Quantities computed for every run (:func:`workflow.summary.run_quantities`) and
#: summarised per variant; the name is the column prefix.
SUMMARY_QUANTITIES: dict[str, str] = {
    "test_accuracy": "final accuracy on the full test set",
    "test_loss": "final mean loss on the full test set",
    "train_loss": "loss of the last training batch",
    "train_loss_window": f"mean batch loss of the last {DISPLAY_WINDOW} iterations",
    "train_accuracy_window": f"mean batch accuracy of the last {DISPLAY_WINDOW} iterations",
    "train_accuracy_epoch": "mean batch accuracy of the last epoch",
    "best_test_accuracy": "best full-test accuracy at an epoch end",
    "converged_epoch": f"epoch of the first test evaluation at {CONVERGED_SHARE:.0%} of the final accuracy",
    "train_seconds": "training time (wall clock)",
    "seconds_per_epoch": "training time per epoch (wall clock)",
    "cpu_seconds_per_epoch": "training CPU time per epoch (process CPU: median iteration x iterations)",
}


def column(quantity: str, stat: str) -> str:
    """The summary column of one statistic of one quantity: ``test_accuracy_mean``."""
    if quantity not in SUMMARY_QUANTITIES or stat not in STATS:
        raise KeyError(f"no summary column for {quantity!r}/{stat!r}")
    return f"{quantity}_{stat}"


#: ``failed``: runs that failed to learn (:data:`FAILED_BELOW`) or diverged.
SUMMARY_KEYS = ["experiment", "variant", "setting", "runs", "completed", "diverged", "failed", "epochs",
                "parameters"]
#: The 95% t-interval of the mean final test accuracy over the completed runs that *learned*
#: (empty with fewer than 2 of them); the ``test_accuracy_*`` statistics are over every completed run.
ACCURACY_CI = ("test_accuracy_ci_low", "test_accuracy_ci_high")
SUMMARY_COLUMNS = SUMMARY_KEYS + [c for q in SUMMARY_QUANTITIES
                                  for c in [column(q, s) for s in STATS] + (list(ACCURACY_CI) if q == "test_accuracy" else [])]

CURVE_COLUMNS = ["experiment", "variant", "seed", "series", "iteration", "epoch", "loss", "accuracy", "lr",
                 "images"]
#: ``series`` values of the curves file.
SERIES = ("test", "train")
#: Curve columns holding numbers (the others are text).
CURVE_NUMBERS = ("iteration", "epoch", "loss", "accuracy", "lr", "images")

RUNS_COLUMNS = [
    "experiment", "variant", "seed", "status", "diverged_at_iteration", "test_accuracy", "test_loss",
    "train_loss", "epochs_completed", "iterations", "train_seconds", "train_cpu_seconds", "eval_seconds", "total_seconds",
    "parameters", "model", "finished_utc", "copied_from", "continued_from", "continued_seconds",
] + [q for q in SUMMARY_QUANTITIES if q not in ("test_accuracy", "test_loss", "train_loss", "train_seconds")]

#: ``summary/comparisons.csv``: one row per comparison the report states (:mod:`report.inference`).
#: ``quantity``: test_accuracy (over the runs that learned), failure_rate, converged_epoch,
#: cpu_seconds_per_epoch, or test_vs_train_accuracy (A: a variant's final test accuracy, B: its
#: last-epoch training accuracy, paired by run); ``difference = mean_a - mean_b``; ``test``:
#: welch, paired_t or fisher; ``p_holm``: Holm's adjustment over the rows of one family (CPU
#: time apart from the rest: :func:`report.inference.family`); ``seeds_needed``: seeds per
#: variant for 80% power at 0.05 / (rows of the family with a p value), ``>100`` above the
#: cap; ``claim``: a_better, b_better or inconclusive (``p_holm < 0.05``).
COMPARISON_COLUMNS = ["experiment", "variant_a", "variant_b", "quantity", "n_a", "n_b", "mean_a", "mean_b",
                      "difference", "ci_low", "ci_high", "test", "p_value", "p_holm", "prob_improvement",
                      "seeds_needed", "claim"]
CLAIMS = ("a_better", "b_better", "inconclusive")

GRADCHECK_COLUMNS = ["layer", "settings", "gradient", "relative_error", "tolerance", "passed"]
STABILITY_COLUMNS = ["logit_scale", "loss", "loss_finite", "gradient_finite", "naive_loss", "naive_finite"]
VISUAL_ARRAYS = ("images", "labels", "indices", "conv1", "relu1", "weight", "bias")

#: Run status values in metrics.json and runs.csv.
COMPLETED, DIVERGED = "completed", "diverged"

#: A run *failed to learn* when its final test accuracy is below twice chance (10 classes).
CHANCE = 0.1
FAILED_BELOW = 2 * CHANCE


def learned(status: str, test_accuracy) -> bool:
    """A run *learned*: it completed and its final test accuracy is at least :data:`FAILED_BELOW`.
    The others (diverged, or below it) count as ``failed``. ``test_accuracy``: a number or a
    CSV cell (``""``: none)."""
    if status != COMPLETED or test_accuracy is None or test_accuracy == "":
        return False
    value = float(test_accuracy)
    return value == value and value >= FAILED_BELOW  # NaN fails


def _fill(pattern: str, **values) -> str:
    """Fill the wildcards given a value; leave the others as ``{name}``."""
    return pattern.format(**{k: ("{" + k + "}" if v is None else v) for k, v in values.items()})


@dataclass(frozen=True)
class Layout:
    """Paths of every result file under ``root``."""

    root: str = "results"

    def _p(self, *parts) -> str:
        return str(PurePosixPath(self.root, *parts))

    # --- runs
    def run_dir(self, experiment=None, variant=None, seed=None) -> str:
        return _fill(self._p("runs", "{experiment}", "{variant}", "seed-{seed}"),
                     experiment=experiment, variant=variant, seed=seed)

    def run_file(self, name: str, experiment=None, variant=None, seed=None) -> str:
        if name not in RUN_FILES:
            raise KeyError(f"{name!r} is not a run file ({', '.join(RUN_FILES)})")
        return f"{self.run_dir(experiment, variant, seed)}/{name}"

    # --- summaries
    def summary(self, experiment=None) -> str:
        return _fill(self._p("summary", "{experiment}.csv"), experiment=experiment)

    def curves(self, experiment=None) -> str:
        return _fill(self._p("summary", "curves", "{experiment}.csv"), experiment=experiment)

    @property
    def runs_csv(self) -> str:
        return self._p("summary", "runs.csv")

    @property
    def comparisons(self) -> str:
        return self._p("summary", "comparisons.csv")

    def run_table(self, experiment=None) -> str:
        """One experiment's rows of runs.csv (which joins them)."""
        return _fill(self._p("summary", "runs", "{experiment}.csv"), experiment=experiment)

    # --- checks and the visualisation
    @property
    def gradcheck(self) -> str:
        return self._p("checks", "gradcheck.csv")

    @property
    def stability(self) -> str:
        return self._p("checks", "loss_stability.csv")

    @property
    def visual(self) -> str:
        return self._p("visual", "conv1_maps.npz")

    # --- the report
    @property
    def report_dir(self) -> str:
        return self._p("report")

    def figure(self, name=None) -> str:
        return _fill(self._p("report", "figures", "{name}.png"), name=name)

    @property
    def build_info(self) -> str:
        return self._p("report", "build_info.json")

    @property
    def context(self) -> str:
        return self._p("report", "context.json")

    @property
    def tex(self) -> str:
        return self._p("report.tex")

    @property
    def md(self) -> str:
        return self._p("report.md")

    @property
    def pdf(self) -> str:
        return self._p("report.pdf")

    # --- logs and timings: the same layout as what they log
    def log(self, *parts: str) -> str:
        return self._p("logs", *parts)

    def benchmark(self, *parts: str) -> str:
        return self._p("benchmarks", *parts)

    def run_of(self, path: str) -> tuple[str, str, int] | None:
        """``(experiment, variant, seed)`` of a path in a run's folder (the folder itself too)."""
        import re

        m = re.fullmatch(re.escape(self._p("runs")) + r"/([^/]+)/([^/]+)/seed-(\d+)(/[^/]+)?", str(path).rstrip("/"))
        return (m.group(1), m.group(2), int(m.group(3))) if m else None

    def experiment_of(self, path: str, experiments) -> str | None:
        """The experiment whose summary, curves or run table ``path`` is (None: none of them)."""
        for e in experiments:
            if str(path) in (self.summary(e), self.curves(e), self.run_table(e)):
                return e
        return None

    def relative(self, path: str) -> str:
        """``path`` relative to the root (how the report, which sits in the root, links it)."""
        return str(PurePosixPath(path).relative_to(self.root))


# --------------------------------------------------------------------------- figures

#: Printed width of each figure kind (:attr:`Figure.kind`), as a fraction of the report's
#: text width: the templates print figures at it and report.style sizes their text for it.
PRINTED_WIDTH = {
    "sweep_accuracy": 0.49,
    "sweep_loss": 0.49,
    "sweep_seeds": 0.6,
    "baseline": 0.8,
    "lr_trace": 0.7,
    "conv1": 0.75,
    "experiment": 1.0,
}


@dataclass(frozen=True)
class Figure:
    """One figure of the report: its name (the key templates use), kind and subject."""

    name: str
    kind: str  # sweep_accuracy | sweep_loss | sweep_seeds | baseline | lr_trace | conv1
    experiment: str | None = None
    variant: str | None = None


def sweep_figures(experiment: str) -> tuple[Figure, Figure, Figure]:
    """Mean curves of test accuracy and training loss, and the final accuracy of every run."""
    return (Figure(f"{experiment}_accuracy", "sweep_accuracy", experiment),
            Figure(f"{experiment}_loss", "sweep_loss", experiment),
            Figure(f"{experiment}_seeds", "sweep_seeds", experiment))


def lr_trace_figure(experiment: str, variant: str) -> Figure:
    return Figure(f"lr_trace_{experiment}_{variant}", "lr_trace", experiment, variant)


def figures(experiments, baseline: tuple[str, str], dynamic, ablation: str | None = None) -> dict[str, Figure]:
    """Every figure of the report, by name.

    Args:
        experiments: experiment names in display order (each gets its :func:`sweep_figures`;
            the ablation only the seeds figure).
        baseline: ``(experiment, variant)`` of the baseline figure.
        dynamic: ``[(experiment, variant)]`` of the variants with a learning-rate trace.
        ablation: the protocol ablation's experiment name, if there is one.
    """
    out = {"baseline": Figure("baseline", "baseline", *baseline), "conv1": Figure("conv1", "conv1")}
    for exp in experiments:
        for f in sweep_figures(exp):
            if exp != ablation or f.kind == "sweep_seeds":
                out[f.name] = f
    for exp, variant in dynamic:
        f = lr_trace_figure(exp, variant)
        out[f.name] = f
    return out
