"""Helpers: the config expanded into runs, checked before any job starts."""

import copy
import hashlib
import json
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from cnnlib.config import ConfigError, resolve

validate(config, workflow.source_path("../schemas/config.schema.yaml"))

REPO = Path(workflow.basedir)
VISUAL = config["visual"]
RUNS = "results/runs/{experiment}/{variant}/seed-{seed}"
MNIST_MANIFEST = "resources/mnist/MANIFEST.json"


def source_hash(package):
    """SHA-256 of a package's sources: passed as a param, so a code change reruns the rule."""
    h = hashlib.sha256()
    for path in sorted((REPO / package).rglob("*.py")):
        h.update(path.relative_to(REPO).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def value_name(value):
    """Canonical, filesystem-safe text of a sweep value: 0.05 and 5e-2 give '0.05'."""
    if isinstance(value, bool):
        raise WorkflowError(f"sweep value {value!r} is not a number or a name")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    text = repr(number)
    return text[:-2] if text.endswith(".0") else text


def as_number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def set_dotted(tree, dotted, value):
    node = tree
    keys = dotted.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise WorkflowError(
                f"sweep key {dotted!r}: {key!r} is not a group of settings"
            )
    node[keys[-1]] = value


def merge(base, override):
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def expand_experiments(cfg):
    """{experiment: {variant: (setting shown in tables, run settings)}} in config order."""
    out = {}
    for exp, spec in cfg["experiments"].items():
        base = merge(cfg.get("defaults", {}), spec.get("settings", {}))
        variants = {}
        sweep = spec.get("sweep")
        if sweep:
            for value in sweep["values"]:
                name = f"{sweep['prefix']}-{value_name(value)}"
                if name in variants:
                    raise WorkflowError(
                        f"experiments.{exp}.sweep.values: {value!r} repeats variant {name}"
                    )
                settings = copy.deepcopy(base)
                set_dotted(settings, sweep["key"], as_number(value))
                variants[name] = (value_name(value), settings)
        for name, extra in (spec.get("variants") or {}).items():
            if name in variants:
                raise WorkflowError(
                    f"experiments.{exp}.variants.{name}: a sweep already makes this variant"
                )
            variants[name] = (name.split("-", 1)[-1], merge(base, extra))
        for name, (_, settings) in variants.items():
            try:
                resolve({**settings, "seed": 0})
            except ConfigError as exc:
                raise WorkflowError(
                    f"config: experiment {exp}, variant {name}: {exc}"
                ) from None
        out[exp] = variants
    return out


EXPERIMENTS = expand_experiments(config)
SEEDS = list(config["seeds"])
CNNLIB_HASH = source_hash("cnnlib")  # a change to the library retrains
NNREPORT_HASH = source_hash(
    "nnreport"
)  # a change to the report code redraws and re-renders

if config["visual"]["experiment"] not in EXPERIMENTS or config["visual"][
    "variant"
] not in EXPERIMENTS.get(config["visual"]["experiment"], {}):
    raise WorkflowError(
        "config: visual.experiment/visual.variant must name a variant of the experiments "
        f"(got {config['visual']['experiment']}/{config['visual']['variant']})"
    )


def run_settings(experiment, variant, seed):
    """The settings of one run, as cnnlib.train takes them."""
    _, settings = EXPERIMENTS[experiment][variant]
    cfg = copy.deepcopy(settings)
    cfg["seed"] = int(seed)
    cfg["threads"] = config["threads"]
    cfg.setdefault("data", {})["dir"] = str(Path(MNIST_MANIFEST).parent)
    return resolve(cfg)


def run_config(wildcards):
    return run_settings(wildcards.experiment, wildcards.variant, wildcards.seed)


def run_minutes(wildcards):
    """A generous wall-time limit for a cluster: 2 min + 1 min per epoch."""
    return 2 + run_config(wildcards)["epochs"]


def run_keys(experiment):
    """[(experiment, variant, seed)] of one experiment, variants in config order."""
    return [(experiment, v, s) for v in EXPERIMENTS[experiment] for s in SEEDS]


def run_file(key, name):
    experiment, variant, seed = key
    return f"{RUNS}/{name}".format(experiment=experiment, variant=variant, seed=seed)


def experiment_runs(wildcards):
    keys = run_keys(wildcards.experiment)
    return {
        "metrics": [run_file(k, "metrics.json") for k in keys],
        "history": [run_file(k, "history.json") for k in keys],
    }


def experiment_params(wildcards):
    """What the summary needs besides the files: run keys (in input order) and variant settings."""
    return {
        "runs": run_keys(wildcards.experiment),
        "settings": {v: s for v, (s, _) in EXPERIMENTS[wildcards.experiment].items()},
    }


# sorted: a config override may change the order of experiments, not the set of runs
ALL_RUNS = sorted(k for exp in EXPERIMENTS for k in run_keys(exp))


# --- the report ---------------------------------------------------------------------

BASELINE = "baseline" if "baseline" in EXPERIMENTS else next(iter(EXPERIMENTS))
# variants using the dynamic schedule get a learning-rate trace figure: {variant: experiment}
DYNAMIC = {
    name: exp
    for exp, spec in config["experiments"].items()
    for name, extra in (spec.get("variants") or {}).items()
    if ((extra or {}).get("schedule") or {}).get("name") == "dynamic"
}
# the main templates first: the render rule finds the template folder from TEMPLATES[0]
TEMPLATES = [
    "report/templates/report.tex.j2",
    "report/templates/report.md.j2",
] + sorted(
    str(p.relative_to(REPO)) for p in (REPO / "report/templates/partials").glob("*.j2")
)
REFERENCE_2018 = "report/reference_2018.yaml"


def git_state():
    import subprocess

    def git(*args):
        r = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    commit = git("rev-parse", "HEAD") or "unknown (not a git checkout)"
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status)}


GIT = git_state()
CONFIG_HASH = hashlib.sha256(
    json.dumps(config, sort_keys=True, default=str).encode()
).hexdigest()[:12]
COMMAND = " ".join(
    ["snakemake"]
    + [f"--configfile {Path(f).as_posix()}" for f in workflow.configfiles[1:]]
    + ([f"--config mnist_dir={config['mnist_dir']}"] if config["mnist_dir"] else [])
)


def report_figures(relative_to=None):
    """{figure name: path} of every figure in the report."""
    figs = {
        "baseline": "results/report/figures/baseline.png",
        "conv1": "results/report/figures/conv1.png",
    }
    for exp in EXPERIMENTS:
        figs[f"{exp}_accuracy"] = f"results/report/figures/{exp}_accuracy.png"
        figs[f"{exp}_loss"] = f"results/report/figures/{exp}_loss.png"
    for variant in DYNAMIC:
        figs[f"lr_trace_{variant}"] = f"results/report/figures/lr_trace_{variant}.png"
    if relative_to:
        figs = {k: str(Path(v).relative_to(relative_to)) for k, v in figs.items()}
    return figs


def report_inputs(wildcards):
    return {
        "summaries": [f"results/summary/{exp}.csv" for exp in EXPERIMENTS],
        "colours": [
            f"results/report/figures/{exp}_colours.json" for exp in EXPERIMENTS
        ],
        "runs": "results/summary/runs.csv",
        "gradcheck": "results/checks/gradcheck.csv",
        "stability": "results/checks/loss_stability.csv",
        "visual": "results/visual/conv1_maps.npz",
        "reference": REFERENCE_2018,
        "build_info": "results/report/build_info.json",
    }
