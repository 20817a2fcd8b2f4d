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
    seed_groups,
    shared_runs,
)
from workflow.jobs import prepare_jobs
from workflow.provenance import command_line, git_state
from workflow.results import CONV1, RUN_FILES, Layout, figures
from report.sections.common import setting_name
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


def script_hash(script):
    """Hash of what a job script runs (docstrings and comments aside): a param that reruns the rule."""
    return code_hash([REPO / "workflow" / "scripts" / script], REPO)


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


def seeds_groups(wildcards):
    """What an experiment's seeds figure shows, group by group (workflow.experiments.seed_groups)."""
    return seed_groups(PLAN, wildcards.experiment)


def seeds_tables(wildcards):
    """The run tables the seeds figure reads: the experiment's, and for the ablation those of
    the experiments it re-runs."""
    return list(
        dict.fromkeys(R.run_table(g["experiment"]) for g in seeds_groups(wildcards))
    )


def figures_of(kind):
    return "|".join(n for n, f in FIGURES.items() if f.kind == kind) or "^$"


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


def axis_value(value):
    """A sweep value as a number on a figure's axis (a one-number list, a layer width, too)."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return (
        value
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        else None
    )


def figure_spec(wildcards):
    """What an experiment's figure shows besides its runs (report.plots.plot_experiment)."""
    e = next(
        x for x in PLAN_DESCRIPTION["experiments"] if x["key"] == wildcards.experiment
    )
    variants = [
        {"name": v["name"], "label": v["label"], "value": axis_value(v["value"])}
        for v in e["variants"]
    ]
    axis = (
        {"key": e["sweep_key"], "label": setting_name(e["sweep_key"])}
        if e["sweep_key"] and any(v["value"] is not None for v in variants)
        else None
    )
    return {
        "title": e["title"],
        "experiment": e["key"],
        "variants": variants,
        "axis": axis,
        "free_points": e["free_points"],
        "reference": REFERENCE_VALUES.get(e["key"], {}),
        "reference_label": "2018 report",
    }


def figure_runs(wildcards):
    """The run tables an experiment's figure reads: its own, and those of its free points."""
    e = next(
        x for x in PLAN_DESCRIPTION["experiments"] if x["key"] == wildcards.experiment
    )
    return list(
        dict.fromkeys(
            [R.run_table(e["key"])]
            + [R.run_table(p["experiment"]) for p in e["free_points"]]
        )
    )


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
