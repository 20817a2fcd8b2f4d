"""Wiring shared by every rule: the config checked and expanded into a plan, the results
layout, and the code hash of each job script. The logic lives in workflow/*.py."""

import hashlib
import json
from pathlib import Path

import yaml

from snakemake_interface_executor_plugins.settings import ExecMode
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from workflow.codehash import code_hash
from workflow.configcheck import check_config_size, check_config_text
from workflow.datasets import data_source
from workflow.experiments import (
    ConfigError,
    continued_runs,
    describe,
    dynamic_runs,
    model_runs,
    plan,
    run_priorities,
    run_settings,
    shared_runs,
)
from workflow.jobs import prepare_jobs
from workflow.provenance import command_line, git_state
from cnnlib.results import RUN_FILES, Layout, figures
from workflow.scheduling import limit_training_cpus

REPO = Path(workflow.basedir)
# the process the user started (job processes parse this file too)
MAIN_PROCESS = workflow.exec_mode == ExecMode.DEFAULT
# jobs import this repository's packages; local ones stop when this process is gone
prepare_jobs(REPO, watch=MAIN_PROCESS and workflow.local_exec)

SCHEMA = workflow.source_path("../schemas/config.schema.yaml")
try:
    check_config_size(config, workflow.configfiles)
    # before the schema check: its message for a too-long title is the title, twice
    check_config_text(config, yaml.safe_load(Path(SCHEMA).read_text()))
except ValueError as exc:  # ConfigSizeError too
    raise WorkflowError(f"config: {exc}") from None
validate(config, SCHEMA)
try:
    PLAN = plan(config)
    # the data by content: a folder with other files retrains, the same files elsewhere do not
    DATA = data_source(config["mnist_dir"], config.get("dataset"))
    for key in ("reference", "published_build"):
        if config[key] and not Path(config[key]).is_file():
            raise ConfigError(
                f"{key}: {config[key]} is not a file; give the path of the file "
                f"(relative to the repository) or set {key}: null"
            )
except (ConfigError, ValueError) as exc:
    raise WorkflowError(f"config: {exc}") from None

# locally, the training jobs together use at most this machine's CPUs (None: a cluster)
TRAINING_CPU_LIMIT = limit_training_cpus(workflow)
# what each training job claims of them: its BLAS threads
TRAINING_CPUS = min(config["threads"], TRAINING_CPU_LIMIT or config["threads"])

R = Layout(config["results"])
EXPERIMENTS = PLAN.experiments
SEEDS = PLAN.seeds
# the data step's output, in a folder of the data's own (workflow.datasets)
MNIST_MANIFEST = DATA.manifest
# the figure registry: what the rules make and the report prints
FIGURES = figures(EXPERIMENTS, PLAN.ablation, PLAN.visual is not None)


def script_hash(script, *more):
    """Hash of what a job script runs (docstrings and comments aside): a param that reruns the
    rule. ``more``: files it runs without importing them by name (glob patterns)."""
    files = [REPO / "workflow" / "scripts" / script]
    files += [p for pattern in more for p in sorted(REPO.glob(pattern))]
    return code_hash(files, REPO)


def planned_settings(key):
    """The resolved settings the plan gives the run ``(experiment, variant, seed)``: its
    variant's, on the data's content (its files' checksums)."""
    return run_settings(
        PLAN.variant(key[0], key[1]),
        key[2],
        config["threads"],
        DATA.store,
        DATA.sha256,
    )


def run_config(wildcards):
    return planned_settings(
        (wildcards.experiment, wildcards.variant, int(wildcards.seed))
    )


# runs that train exactly the numbers of an earlier run: trained once, then copied
SHARED = shared_runs(PLAN, config["threads"], DATA.store, DATA.sha256)


def same_run(wildcards):
    """The files of the earlier run this run copies ([] for a run that trains)."""
    key = (wildcards.experiment, wildcards.variant, int(wildcards.seed))
    if key not in SHARED:
        return []
    return [R.run_file(name, *SHARED[key]) for name in RUN_FILES]


# runs that train the first epochs of a longer run: the longer run continues the shorter one
CONTINUED = continued_runs(PLAN, config["threads"], DATA.store, SHARED, DATA.sha256)


def continued_run(wildcards):
    """The files of the shorter run this run continues ([] for a run that starts from scratch)."""
    key = (wildcards.experiment, wildcards.variant, int(wildcards.seed))
    if key not in CONTINUED:
        return []
    return [R.run_file(name, *CONTINUED[key]) for name in RUN_FILES]


# experiments train one after another, longest runs first (workflow.experiments.training_order);
# every other job uses finished runs and goes before any training job that is still waiting
PRIORITY = run_priorities(PLAN, SHARED, CONTINUED)
FOLLOW_UP = max(PRIORITY.values(), default=0) + 1


def train_priority(wildcards):
    """A run's priority (0 for a run the config does not list, asked for by its path)."""
    return PRIORITY.get(
        (wildcards.experiment, wildcards.variant, int(wildcards.seed)), 0
    )


def run_minutes(wildcards):
    """A generous wall-time limit for a cluster: 2 min + 1 min per epoch."""
    return 2 + run_config(wildcards)["epochs"]


def run_file(key, name):
    return R.run_file(name, *key)


def experiment_runs(wildcards):
    keys = PLAN.runs(wildcards.experiment)
    return {
        "metrics": [run_file(k, "metrics.json") for k in keys],
        "history": [run_file(k, "history.json") for k in keys],
    }


def experiment_params(wildcards):
    """What the summary needs besides the files: run keys (input order) and variant labels."""
    return {
        "runs": PLAN.runs(wildcards.experiment),
        "labels": {
            name: v.label
            for name, v in EXPERIMENTS[wildcards.experiment].variants.items()
        },
    }


# sorted: a config override may change the order of experiments, not the set of runs
ALL_RUNS = sorted(PLAN.runs())


def all_figures():
    """{figure name: path} of every figure in the report."""
    return {name: R.figure(name) for name in FIGURES}


GIT = git_state(REPO)
CONFIG_HASH = hashlib.sha256(
    json.dumps(config, sort_keys=True, default=str).encode()
).hexdigest()[:12]
COMMAND = command_line(
    REPO, workflow.config_settings.configfiles, workflow.config_settings.config_args
)
# what a build record states of how the build was made (workflow/builds.py)
PROVENANCE = {
    "commit": GIT["commit"],
    "dirty": GIT["dirty"],
    "command": COMMAND,
    "config_hash": CONFIG_HASH,
}
TRAIN_IMAGES = (DATA.files or {}).get("train-images-idx3-ubyte", {}).get("count", 60000)
PLAN_DESCRIPTION = {**describe(PLAN, TRAIN_IMAGES), "delta": config["delta"]}
REPORT_PLAN = {
    **PLAN_DESCRIPTION,
    "report": config["report"],
    "study": config["study"],
    "data": DATA.describe(),
    "dataset": config["dataset"],
}
# the 2018 report's numbers and statements, copied by hand (report/reproduction.py checks
# them), when the study has them
REFERENCE = [config["reference"]] if config["reference"] else []
MODEL_RUNS = model_runs(PLAN)
DYNAMIC_RUNS = dynamic_runs(PLAN)


def related_experiments(experiment):
    """The experiment and every experiment whose runs its figure draws: runs of another
    experiment at another value of its swept setting (free points), the runs an ablation
    re-runs."""
    e = next(x for x in PLAN_DESCRIPTION["experiments"] if x["key"] == experiment)
    others = [p["experiment"] for p in e["free_points"]]
    others += [v["origin"][0] for v in e["variants"] if v["origin"]]
    return list(dict.fromkeys([experiment, *others]))


def figure_inputs(wildcards):
    """What a figure reads: the inputs its registry entry names (cnnlib.results.FIGURE_INPUTS)."""
    f = FIGURES[wildcards.figure]
    paths = {
        "curves": lambda: R.curves(f.experiment),
        "summary": lambda: R.summary(f.experiment),
        "run_tables": lambda: [
            R.run_table(e) for e in related_experiments(f.experiment)
        ],
        "visual": lambda: R.visual,
    }
    return {name: paths[name]() for name in f.inputs}


def figure_subject(wildcards):
    """What a figure shows besides its inputs (report.plots.draw): its experiment as the plan
    describes it, the protocol readings, the 2018 values of its variants."""
    f = FIGURES[wildcards.figure]
    e = next(
        (x for x in PLAN_DESCRIPTION["experiments"] if x["key"] == f.experiment), None
    )
    return {
        "experiment": e,
        "readings": PLAN_DESCRIPTION["readings"],
        "reference": REFERENCE_VALUES.get(f.experiment, {}),
    }


def _reference_values():
    """{experiment: {variant: the 2018 accuracy}} (empty without the 2018 reference)."""
    if not REFERENCE:
        return {}
    import yaml

    out = {}
    for row in yaml.safe_load(Path(REFERENCE[0]).read_text())["rows"]:
        out.setdefault(row["experiment"], {})[row["variant"]] = row["accuracy"]
    return out


REFERENCE_VALUES = _reference_values()
