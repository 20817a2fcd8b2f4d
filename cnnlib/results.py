"""The results contract: every file the workflow writes, its columns, and the figures.

One definition, imported by the rules, the job scripts, the report code and the tests. It
lives in cnnlib, below both the workflow (``workflow/``) and the report (``report/``), which
read what it defines: the report never imports the workflow.
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
#: How fast a run learns: its mean test accuracy over the first this many epochs (the area
#: under its test-accuracy curve there, trapezoid rule over the evaluation points, divided by
#: the epochs). A bar common to every run - unlike "epochs to 95% of its own final accuracy",
#: which rewards a run that stops low - and no run is left out for never reaching a threshold.
EARLY_EPOCHS = 1

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
    "early_accuracy": f"mean test accuracy over the first {EARLY_EPOCHS} epoch (area under the test-accuracy curve)",
    "last_epoch_gain": "full-test accuracy at the last epoch's end minus at the one before",
    "test_train_gap": "final test accuracy minus the last epoch's mean training accuracy",
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
#: The primary outcome, over EVERY run (failed ones included; a diverged run counts at chance,
#: :func:`outcome`): its mean and 95% t-interval. What the report's sentences quote of a variant.
ALL_RUNS = ("accuracy_all_runs_mean", "accuracy_all_runs_ci_low", "accuracy_all_runs_ci_high")
SUMMARY_COLUMNS = SUMMARY_KEYS + list(ALL_RUNS) + [
    c for q in SUMMARY_QUANTITIES
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
    "parameters", "model", "classes", "finished_utc", "copied_from", "continued_from", "continued_seconds",
] + [q for q in SUMMARY_QUANTITIES if q not in ("test_accuracy", "test_loss", "train_loss", "train_seconds")]

#: ``summary/comparisons.csv``: one row per test the report states (:mod:`report.inference`,
#: whose docstring gives the method). Two kinds of row:
#:
#: * an experiment's *question* (``variant_b`` empty): does ``quantity`` change across its
#:   variants? ``variant_a``: the variant with the best mean, ``n_a``: runs per variant, ``n_b``:
#:   variants, ``difference``: best mean minus worst; ``test``: friedman, paired_t (two
#:   variants), kruskal or permutation (independent runs); ``claim``: ``a_better`` when it does
#:   (p < 0.05: the experiment's gate), else ``inconclusive``;
#: * a *contrast*, A against B: ``difference = mean_a - mean_b`` with its 95% interval
#:   (``ci_low``, ``ci_high``; not corrected); ``test``: paired_t (runs paired by seed),
#:   permutation (independent runs: the exact permutation test of the difference of means,
#:   the interval its inversion), page_trend (a trend a statement claims, from B along the
#:   sweep to A: ``claim`` a_better when the quantity improves along it), fisher (failure
#:   rates); ``prob_improvement``: P(A > B) with its 95% bootstrap interval
#:   (``prob_improvement_low``, ``_high``).
#:
#: ``quantity``: test_accuracy, early_accuracy (how fast: mean test accuracy over the first
#: epoch), test_train_gap, cpu_seconds_per_epoch, failure_rate or test_vs_train_accuracy;
#: ``population``: all_runs (failed runs included, a diverged run at chance) or learned;
#: ``family``: the Holm family (the experiment's name, ``2018 statements``, ``cpu time``) and
#: ``family_size`` its contrasts; ``p_holm``: Holm-adjusted p within the family (a question
#: row: its own p); ``delta``: the smallest difference that matters; ``min_detectable``: the
#: difference this design finds with 80% power at the family's strictest Holm level, from the
#: runs' spread; ``decidable``: False when no data of this many runs could reach that level;
#: ``claim``: a_better / b_better (p_holm < 0.05, and for accuracy the question test too),
#: equivalent (the interval inside +-delta), or inconclusive.
COMPARISON_COLUMNS = ["experiment", "variant_a", "variant_b", "quantity", "population", "n_a", "n_b", "mean_a",
                      "mean_b", "difference", "ci_low", "ci_high", "test", "p_value", "p_holm", "family",
                      "family_size", "prob_improvement", "prob_improvement_low", "prob_improvement_high", "delta",
                      "min_detectable", "decidable", "claim"]
CLAIMS = ("a_better", "b_better", "equivalent", "inconclusive")


def claim_words(row: dict, claim: str) -> str:
    """A comparisons row's claim in words: ``lr-0.05 better``, ``equivalent``, ``inconclusive``;
    for an experiment's question (no B) ``depends on the setting`` or ``no evidence``."""
    if not row.get("variant_b"):
        return "depends on the setting" if claim == "a_better" else "no evidence"
    return {"a_better": f"{row['variant_a']} better", "b_better": f"{row['variant_b']} better"}.get(claim, claim)

GRADCHECK_COLUMNS = ["layer", "settings", "gradient", "relative_error", "tolerance", "passed"]
STABILITY_COLUMNS = ["logit_scale", "loss", "loss_finite", "gradient_finite", "naive_loss", "naive_finite"]
VISUAL_ARRAYS = ("images", "labels", "indices", "conv1", "relu1", "weight", "bias")

#: Run status values in metrics.json and runs.csv.
COMPLETED, DIVERGED = "completed", "diverged"

#: A run *failed to learn* when its final test accuracy is below twice chance (1 / classes;
#: MNIST's 10 classes give 0.1 and 0.2).
CHANCE = 0.1
FAILED_BELOW = 2 * CHANCE


def chance(classes=None) -> float:
    """Chance accuracy of ``classes`` classes (a number or a CSV cell; missing: 10)."""
    try:
        k = int(float(classes)) if classes not in (None, "") else 10
    except (TypeError, ValueError):
        k = 10
    return 1.0 / max(k, 2)


def learned(status: str, test_accuracy, classes=None) -> bool:
    """A run *learned*: it completed and its final test accuracy is at least twice chance
    (:func:`chance`). The others (diverged, or below it) count as ``failed``.
    ``test_accuracy``, ``classes``: numbers or CSV cells (``""``: none)."""
    if status != COMPLETED or test_accuracy is None or test_accuracy == "":
        return False
    value = float(test_accuracy)
    return value == value and value >= 2 * chance(classes)  # NaN fails


def outcome(status: str, test_accuracy, classes=None) -> float:
    """A run's final test accuracy as the primary outcome counts it: every run counts, a
    diverged run (no accuracy) at chance (:func:`chance`)."""
    if status == COMPLETED and test_accuracy not in (None, ""):
        value = float(test_accuracy)
        if value == value:
            return value
    return chance(classes)


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

    # --- the record of every build (workflow/builds.py): the newest, under a name that stays
    @property
    def build_record(self) -> str:
        return self._p("builds", "latest.json")

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
    "experiment": 1.0,
    "ablation": 0.6,
    "conv1": 0.75,
}


@dataclass(frozen=True)
class Figure:
    """One figure of the report: its name (the key templates use and its file's stem), kind,
    subject and inputs. Kinds (each a plot of ``report.plots.PLOTS``): ``experiment`` (an
    experiment's one figure: accuracy of every run against its setting, test accuracy,
    training loss and learning rate over training), ``ablation`` (the protocol ablation: the
    final accuracy of every run per reading), ``conv1`` (the first conv layer of a trained
    run). ``inputs``: what the figure reads, by name (:data:`FIGURE_INPUTS`); one rule draws
    every figure from them, so a new kind is this registry, its plot and its place in the
    report's outline."""

    name: str
    kind: str
    experiment: str | None = None
    inputs: tuple[str, ...] = ()


#: What a figure may read: ``curves`` and ``summary`` of its experiment, ``run_tables`` of its
#: experiment and of every experiment it draws runs from (other experiments' runs at another
#: value of its swept setting; the runs an ablation re-runs), ``visual`` (the conv1 maps).
FIGURE_INPUTS = ("curves", "summary", "run_tables", "visual")
#: The inputs of each kind of figure.
FIGURE_KINDS = {"experiment": ("curves", "run_tables"), "ablation": ("run_tables",), "conv1": ("visual",)}


#: The conv1 figure's name: no experiment can take it (experiment names have no hyphen).
CONV1 = "first-conv-layer"


def figures(experiments, ablation: str | None = None, visual: bool = False) -> dict[str, Figure]:
    """Every figure of the report, by name: one per experiment (the ablation's of its own
    kind), and the conv1 figure when the study shows a run's first conv layer. The registry:
    the rules make exactly these and the report prints exactly these."""
    out = {}
    for e in experiments:
        kind = "ablation" if e == ablation else "experiment"
        out[e] = Figure(e, kind, e, FIGURE_KINDS[kind])
    if visual:
        out[CONV1] = Figure(CONV1, "conv1", None, FIGURE_KINDS["conv1"])
    return out
