"""The config's experiments expanded into variants and runs, checked before any job starts.

:func:`plan` takes the workflow config (already validated against
``workflow/schemas/config.schema.yaml``) and returns a :class:`Plan`: every experiment
with its variants in config order, each variant's run settings resolved by
:func:`cnnlib.config.resolve` (so anything a training job would reject is rejected here,
naming the key), and the special variants the report needs (the baseline, the variants
with the dynamic schedule, the run whose first conv layer is shown, the experiment that
compares architectures). Errors are :class:`ConfigError` with the config key in the message.

Sweeps: ``sweep: {key, prefix, values}`` makes one variant per value, named
``PREFIX-VALUE``. A value keeps its YAML type (int, float, string, list); a string that
spells a number (``5e-2``, which YAML 1.1 reads as text) is read as that number when the
setting is a number. The name uses the value's canonical text, so ``0.05`` and ``5e-2``
are the same variant.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
from dataclasses import dataclass, field

from cnnlib.config import (DEFAULTS, MODEL_SETTINGS, ConfigError as RunConfigError, continuation_identity, resolve,
                           training_identity)

#: Variant names become folder names and report labels.
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_NAME = 64


class ConfigError(ValueError):
    """The workflow config cannot be run; the message starts with the config key."""


@dataclass(frozen=True)
class Variant:
    experiment: str
    name: str
    label: str  # the setting as tables print it: the sweep value, or the name's suffix
    settings: dict  # run settings as configured (defaults + experiment settings + variant)
    resolved: dict  # the same, resolved by cnnlib (seed 0): what a run of it will use
    origin: tuple[str, str] | None = None  # ablation variants: the (experiment, variant) re-run
    reading: str | None = None  # ablation variants: the protocol reading they use
    value: object = None  # a sweep's variant: its value of the swept setting

    @property
    def key(self) -> tuple[str, str]:
        return (self.experiment, self.name)


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    variants: dict[str, Variant]
    sweep_key: str | None = None  # the setting a sweep varies (dotted)
    question: str | None = None  # what it asks, as configured
    reference: str | None = None  # the variant its contrasts are against, as configured

    @property
    def epochs(self) -> int:
        return next(iter(self.variants.values())).resolved["epochs"]


@dataclass(frozen=True)
class Plan:
    experiments: dict[str, Experiment]
    seeds: list[int]
    baseline: Variant | None  # the run the others vary from (config ``baseline``), if any
    dynamic: list[Variant] = field(default_factory=list)
    visual: tuple[Variant, int] | None = None
    architectures: str | None = None  # the experiment whose variants differ in model.name
    ablation: str | None = None  # the generated experiment re-running others under other readings
    readings: dict = field(default_factory=dict)  # {reading: description}, the default one first

    def variant(self, experiment: str, name: str) -> Variant:
        return self.experiments[experiment].variants[name]

    def runs(self, experiment: str | None = None) -> list[tuple[str, str, int]]:
        """``[(experiment, variant, seed)]``: variants in config order, then seeds."""
        exps = [experiment] if experiment else list(self.experiments)
        return [(e, v, s) for e in exps for v in self.experiments[e].variants for s in self.seeds]


# --------------------------------------------------------------------------- values


def _default_at(dotted: str):
    node = DEFAULTS
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def sweep_value(key: str, value):
    """A sweep value as the run gets it: its own type, numbers spelled as text made numbers
    where the setting is a number (or unset by default)."""
    if isinstance(value, str):
        default = _default_at(key)
        if default is None or _is_number(default):
            try:
                return int(value)
            except ValueError:
                try:
                    number = float(value)
                except ValueError:
                    return value
                return number if math.isfinite(number) else value
    return value


def value_name(value) -> str:
    """Canonical text of a sweep value, used in the variant name: 0.05 and 5e-2 give '0.05',
    1 and 1.0 give '1', [64, 32] gives '64x32'."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, list):
        return "x".join(value_name(v) for v in value)
    return str(value)


def set_dotted(tree: dict, dotted: str, value, where: str) -> None:
    node = tree
    keys = dotted.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{where}: {key!r} of {dotted!r} is not a group of settings")
    node[keys[-1]] = value


def merge(base: dict, override: dict) -> dict:
    """``override`` merged into a copy of ``base``, key by key (nested mappings merged)."""
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def check_name(name: str, where: str) -> None:
    if not NAME_RE.fullmatch(name):
        raise ConfigError(
            f"{where}: variant name {name!r} can only use letters, digits, '.', '_' and '-' "
            "(it becomes a folder name); change the value or the prefix")
    if len(name) > MAX_NAME:
        raise ConfigError(f"{where}: variant name {name[:20]!r}... is {len(name)} characters long; "
                          f"at most {MAX_NAME}: use a shorter value or a named variant")


# --------------------------------------------------------------------------- expansion


def expand(cfg: dict) -> dict[str, Experiment]:
    """``{experiment: Experiment}`` in config order, every variant's settings resolved."""
    out = {}
    for exp, spec in cfg["experiments"].items():
        base = merge(cfg.get("defaults") or {}, spec.get("settings") or {})
        variants: dict[str, tuple[str, dict, str]] = {}
        sweep = spec.get("sweep")
        if sweep:
            where = f"experiments.{exp}.sweep.values"
            for value in sweep["values"]:
                value = sweep_value(sweep["key"], value)
                name = f"{sweep['prefix']}-{value_name(value)}"
                check_name(name, where)
                if name in variants:
                    raise ConfigError(f"{where}: {value!r} repeats variant {name}")
                settings = copy.deepcopy(base)
                set_dotted(settings, sweep["key"], value, f"experiments.{exp}.sweep.key")
                variants[name] = (value_name(value), settings, f"{where} ({value!r})", value)
        for name, extra in (spec.get("variants") or {}).items():
            where = f"experiments.{exp}.variants.{name}"
            check_name(name, where)
            if name in variants:
                raise ConfigError(f"{where}: a sweep already makes this variant")
            variants[name] = (name.split("-", 1)[-1], merge(base, extra or {}), where, None)
        resolved = {}
        for name, (label, settings, where, value) in variants.items():
            try:
                run = resolve({**settings, "seed": 0})
            except RunConfigError as exc:
                raise ConfigError(f"{where}: {exc}") from None
            resolved[name] = Variant(exp, name, label, settings, run, value=value)
        reference = spec.get("reference")
        if reference is not None and reference not in resolved:
            raise ConfigError(f"experiments.{exp}.reference: {reference!r} is not one of its variants "
                              f"({', '.join(resolved)})")
        out[exp] = Experiment(exp, spec.get("title", exp), resolved, (sweep or {}).get("key"),
                              spec.get("question"), reference)
    return out


ABLATION = "protocol"  # the default name of the experiment the protocol ablation generates


def ablation(cfg: dict, experiments: dict[str, Experiment]) -> Experiment | None:
    """The protocol ablation (config key ``protocol_ablation``): every variant of the listed
    experiments re-run under each alternative reading, as the experiment ``name`` (default
    ``protocol``) with variants ``{variant}-{reading}`` (the reading's settings merged over the
    variant's)."""
    spec = cfg.get("protocol_ablation")
    if not spec:
        return None
    name_ = spec.get("name", ABLATION)
    if name_ in experiments:
        raise ConfigError(f"experiments.{name_}: the name is taken by the protocol ablation "
                          "(protocol_ablation.name); rename one of them")
    variants = {}
    for exp in spec["experiments"]:
        if exp not in experiments:
            raise ConfigError(f"protocol_ablation.experiments: {exp!r} is not an experiment")
        for v in experiments[exp].variants.values():
            for reading, r in spec["readings"].items():
                name = f"{v.name}-{reading}"
                where = f"protocol_ablation.readings.{reading} ({exp}/{v.name})"
                check_name(name, where)
                if name in variants:
                    raise ConfigError(f"{where}: variant {name} is made twice")
                settings = merge(v.settings, r.get("settings") or {})
                try:
                    run = resolve({**settings, "seed": 0})
                except RunConfigError as exc:
                    raise ConfigError(f"{where}: {exc}") from None
                variants[name] = Variant(name_, name, reading, settings, run, (exp, v.name), reading)
    return Experiment(name_, spec.get("title", "Protocol ablation"), variants)


def plan(cfg: dict) -> Plan:
    """The whole plan of a validated workflow config (see the module docstring)."""
    experiments = expand(cfg)
    extra = ablation(cfg, experiments)
    readings = {}
    if extra:
        spec = cfg["protocol_ablation"]
        readings = {spec.get("default_reading", "default"): spec.get("default_description", ""),
                    **{k: r.get("description", k) for k, r in spec["readings"].items()}}
        experiments = {**experiments, extra.name: extra}
    seeds = [int(s) for s in cfg["seeds"]]

    def named_variant(key: str) -> Variant | None:
        spec = cfg.get(key)
        if not spec:
            return None
        exp, name = spec["experiment"], spec["variant"]
        if exp not in experiments or name not in experiments[exp].variants:
            first = next(iter(experiments.values()))
            raise ConfigError(f"{key}: {exp}/{name} is not a variant of the experiments; name one (e.g. "
                              f"{{experiment: {first.name}, variant: {next(iter(first.variants))}}}) or set "
                              f"{key}: null")
        return experiments[exp].variants[name]

    baseline = named_variant("baseline")
    dynamic = [v for e in experiments.values() for v in e.variants.values()
               if v.resolved["schedule"]["name"] == "dynamic"]

    architectures = cfg.get("architectures")
    if architectures is not None and (architectures not in experiments or
                                      len(experiments[architectures].variants) < 2):
        raise ConfigError(f"architectures: {architectures!r} is not an experiment with two or more variants; "
                          "name the experiment that compares models, or set architectures: null")

    visual = None
    variant = named_variant("visual")
    if variant is not None:
        seed = int(cfg["visual"].get("seed", seeds[0]))
        if seed not in seeds:
            raise ConfigError(f"visual.seed: {seed} is not one of the seeds {seeds}")
        if not first_layer_is_conv(variant):
            raise ConfigError(f"visual: {variant.experiment}/{variant.name} (model.name "
                              f"{variant.resolved['model']['name']}) does not start with a conv layer; the "
                              "figure shows the first conv layer: name a CNN's run, or set visual: null")
        visual = (variant, seed)
    return Plan(experiments, seeds, baseline, dynamic, visual, architectures,
                extra.name if extra else None, readings)


def first_layer_is_conv(variant: Variant) -> bool:
    """Whether ``variant``'s model starts with a convolution (what the conv1 figure shows)."""
    import numpy as np

    from cnnlib.layers import Conv2D
    from cnnlib.train import build_model

    model = build_model(variant.resolved["model"], np.random.default_rng(0))
    return bool(model.layers) and isinstance(model.layers[0], Conv2D)


def run_settings(variant: Variant, seed: int, threads: int, data_dir: str, sha256: dict | None = None) -> dict:
    """The resolved settings of one run of ``variant``, as :func:`cnnlib.train.run` takes them:
    on the data in ``data_dir``, whose files' checksums are ``sha256`` (None: MNIST's
    published files)."""
    cfg = copy.deepcopy(variant.settings)
    cfg["seed"] = int(seed)
    cfg["threads"] = int(threads)
    cfg.setdefault("data", {})["dir"] = str(data_dir)
    cfg["data"]["sha256"] = dict(sha256) if sha256 else None
    return resolve(cfg)


def shared_runs(p: Plan, threads: int, data_dir: str, sha256: dict | None = None
                ) -> dict[tuple[str, str, int], tuple[str, str, int]]:
    """``{run: trained run}`` for every run whose settings train exactly the numbers of
    another run of the plan (:func:`cnnlib.config.training_identity`). Of such runs the first
    in sorted (experiment, variant, seed) order is trained - sorted, so that the choice never
    depends on the order of the config's keys (a config override may reorder them) - and the
    workflow copies its files for the others (:func:`cnnlib.runfiles.copy_run`).

    In the default config: ``wd-0.0005`` is ``momentum-0.9`` (both the baseline's settings
    for 3 epochs), and the protocol ablation's ``std-0.1-every_layer`` is ``std-0.1`` (the
    linear layer's 0.1 is the swept 0.1).
    """
    first: dict[str, tuple[str, str, int]] = {}
    out = {}
    for key in sorted(p.runs()):
        identity = training_identity(run_settings(p.variant(key[0], key[1]), key[2], threads, data_dir, sha256))
        if identity in first:
            out[key] = first[identity]
        else:
            first[identity] = key
    return out


def continued_runs(p: Plan, threads: int, data_dir: str,
                   shared: dict[tuple[str, str, int], tuple[str, str, int]],
                   sha256: dict | None = None) -> dict[tuple[str, str, int], tuple[str, str, int]]:
    """``{run: run it continues}`` for every trained run (not in ``shared``:
    :func:`shared_runs`) whose settings are another trained run's with fewer epochs
    (:func:`cnnlib.config.continuation_identity`). It starts where that run stopped and
    trains only the remaining epochs (:func:`cnnlib.train.run` ``continue_from``: the same
    files, bit for bit, as training from scratch). Of several such runs it continues the
    one with the most epochs, so that runs of 2, 3 and 5 epochs form a chain.

    In the default config: cnn_vs_mlp's ``cnn`` (5 epochs) continues ``momentum-0.9`` (3),
    which continues the ``baseline`` (2).
    """
    groups: dict[str, list[tuple[int, tuple[str, str, int]]]] = {}
    for key in sorted(k for k in p.runs() if k not in shared):
        settings = run_settings(p.variant(key[0], key[1]), key[2], threads, data_dir, sha256)
        groups.setdefault(continuation_identity(settings), []).append((settings["epochs"], key))
    out = {}
    for members in groups.values():
        members.sort()  # by epochs; trained runs of one group never have the same epochs (they would be shared)
        for (_, shorter), (_, longer) in itertools.pairwise(members):
            out[longer] = shorter
    return out


def training_order(p: Plan) -> list[str]:
    """The experiments in the order their runs should train: longest runs first (the most
    epochs of any of its runs), ties in config order.

    Training one experiment after another lets each one's summary and figures be made while
    the next trains, instead of all of them after the last run; and ending on the shortest
    runs leaves the cores the least time idle at the end."""
    names = list(p.experiments)
    most = {e: max(v.resolved["epochs"] for v in p.experiments[e].variants.values()) for e in names}
    return sorted(names, key=lambda e: (-most[e], names.index(e)))


def run_priorities(p: Plan, shared: dict[tuple[str, str, int], tuple[str, str, int]],
                   continued: dict[tuple[str, str, int], tuple[str, str, int]] | None = None) -> dict[tuple[str, str, int], int]:
    """``{run: scheduling priority}``, from ``len(experiments)`` for the first experiment of
    :func:`training_order` down to 1 for the last. A run whose files other runs copy
    (``shared``: :func:`shared_runs`) or continue (``continued``: :func:`continued_runs`)
    takes the highest priority of those runs, and so on down a chain."""
    order = training_order(p)
    rank = {e: len(order) - i for i, e in enumerate(order)}
    out = {key: rank[key[0]] for key in p.runs()}
    links = [*shared.items(), *(continued or {}).items()]
    changed = True
    while changed:  # a chain: copy -> trained run -> the run it continues -> ...
        changed = False
        for later, source in links:
            if out[later] > out[source]:
                out[source], changed = out[later], True
    return out


def architecture(model: dict) -> str:
    """What fixes a model's layers (not its initial weights): its name and the settings its
    builder reads besides the initial scales."""
    kept = [k for k in MODEL_SETTINGS.get(model["name"], model) if "init_std" not in k]
    return json.dumps([model["name"], {k: model[k] for k in kept}], sort_keys=True)


def model_runs(p: Plan) -> list[tuple[str, str, int]]:
    """One run per network the report compares: the first run of each architecture
    (:func:`architecture`) in plan order, the baseline's first when there is one. Their
    resolved configs give the report's layer tables."""
    keys = p.runs()
    if p.baseline is not None:
        keys = p.runs(p.baseline.experiment) + keys
    first = {}
    for key in keys:
        first.setdefault(architecture(p.variant(key[0], key[1]).resolved["model"]), key)
    return list(first.values())


def dynamic_runs(p: Plan) -> list[tuple[str, str, int]]:
    """The first run of each dynamic-schedule variant: its resolved schedule is what the
    report states."""
    return [(v.experiment, v.name, p.seeds[0]) for v in p.dynamic]


def pairing_key(v: Variant) -> str:
    """Variants with equal keys give their runs of one seed the same initial weights and the
    same data order (cnnlib draws both from the seed): same model settings, batch size,
    training data and iterations per epoch. Their runs pair up by seed."""
    r = v.resolved
    data = {k: r["data"][k] for k in ("train_limit", "test_limit")}
    return json.dumps([r["model"], r["batch_size"], data, r["iterations_per_epoch"], r.get("images_per_epoch")],
                      sort_keys=True)


def flatten(node, prefix: str = ""):
    """``(dotted key, value)`` of every leaf of a nested mapping: ``{"optimizer": {"lr": 0.1}}``
    gives ``("optimizer.lr", 0.1)``; lists and empty mappings are leaves."""
    for key, value in node.items():
        if isinstance(value, dict) and value:
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def identity_settings(cfg: dict) -> dict:
    """The settings of :func:`cnnlib.config.training_identity` (those that decide a run's
    numbers), flattened: ``{"optimizer.lr": 0.015, ...}``."""
    return dict(flatten(json.loads(training_identity(cfg))))


#: Settings that never tell variants apart in a table (the run's plumbing).
_PLUMBING = ("seed", "threads", "data.dir", "data.sha256", "eval.", "loss_window")


def flat_settings(resolved: dict) -> dict:
    """A variant's resolved settings as ``{dotted key: value}``, plumbing left out (the
    model's settings its builder does not read too)."""
    model = resolved["model"]
    kept = MODEL_SETTINGS.get(model["name"])
    out = {}
    for k, v in flatten(resolved):
        if any(k == p or k.startswith(p) for p in _PLUMBING):
            continue
        if k.startswith("model.") and kept is not None and k[6:] not in kept and k != "model.name":
            continue
        out[k] = v
    return out


def images_per_epoch(resolved: dict, train_images: int) -> int:
    """The training images one epoch of a run sees: full batches of the training set (its
    ``data.train_limit`` first), capped by ``iterations_per_epoch`` or ``images_per_epoch``."""
    n = min(train_images, resolved["data"]["train_limit"] or train_images)
    bs = resolved["batch_size"]
    iters = n // bs
    if resolved.get("iterations_per_epoch"):
        iters = min(iters, resolved["iterations_per_epoch"])
    if resolved.get("images_per_epoch"):
        iters = min(iters, resolved["images_per_epoch"] // bs)
    return iters * bs


def settings_table(e: Experiment, train_images: int) -> dict:
    """What a reader needs to know of an experiment's settings: ``differ`` (the settings in
    which its variants differ, and each variant's value), ``shared`` (the others, as one
    mapping) and each variant's images per epoch."""
    flat = {n: flat_settings(v.resolved) for n, v in e.variants.items()}
    keys = list(dict.fromkeys(k for f in flat.values() for k in f))
    differ = [k for k in keys if len({json.dumps(f.get(k), sort_keys=True) for f in flat.values()}) > 1]
    first = next(iter(flat.values()))
    shared = {k: first.get(k) for k in keys if k not in differ}
    return {"differ": differ, "values": {n: {k: f.get(k) for k in differ} for n, f in flat.items()},
            "shared": shared,
            "images_per_epoch": {n: images_per_epoch(v.resolved, train_images) for n, v in e.variants.items()}}


def reference_variant(p: Plan, e: Experiment) -> str | None:
    """The variant ``e``'s contrasts are against: as configured, else the one trained with the
    baseline's settings (epochs aside), else None (the report then takes the best)."""
    if e.reference:
        return e.reference
    if p.baseline is None:
        return None
    base = continuation_identity(p.baseline.resolved)
    return next((v.name for v in e.variants.values() if continuation_identity(v.resolved) == base), None)


def free_points(p: Plan, e: Experiment) -> list[dict]:
    """Runs of other experiments that are points of ``e``'s sweep it did not list: trained with
    its settings but another number for the swept setting (the same epochs). ``[{value,
    experiment, variant}]``, one per value."""
    if not e.sweep_key or p.ablation == e.name:
        return []
    first = next(iter(e.variants.values()))
    swept = {json.dumps(v.value) for v in e.variants.values()}

    def without(resolved):
        f = flat_settings(resolved)
        f.pop(e.sweep_key, None)
        return f

    base = without(first.resolved)
    out, seen = [], set()
    for other in p.experiments.values():
        if other.name in (e.name, p.ablation):
            continue
        for v in other.variants.values():
            value = flat_settings(v.resolved).get(e.sweep_key)
            if not _is_number(value) or json.dumps(value) in swept or json.dumps(value) in seen:
                continue
            if without(v.resolved) == base:
                seen.add(json.dumps(value))
                out.append({"value": value, "experiment": other.name, "variant": v.name})
    return out


def describe(p: Plan, train_images: int = 60000) -> dict:
    """The plan as plain data for the report (JSON-able): experiments in order with their
    variants, settings tables and references, and the special variants. ``train_images``:
    the training images of the data (60,000 for MNIST)."""
    return {
        "experiments": [
            {"key": e.name, "title": e.title, "epochs": e.epochs, "question": e.question,
             "sweep_key": e.sweep_key, "reference": reference_variant(p, e),
             "reference_reason": ("as the config names it" if e.reference else
                                  "the baseline's settings" if reference_variant(p, e) else None),
             "settings": settings_table(e, train_images), "free_points": free_points(p, e),
             "variants": [{"name": v.name, "label": v.label, "value": v.value,
                           "origin": list(v.origin) if v.origin else None,
                           "reading": v.reading, "pairing": pairing_key(v)} for v in e.variants.values()]}
            for e in p.experiments.values()
        ],
        "seeds": list(p.seeds),
        "baseline": list(p.baseline.key) if p.baseline else None,
        "dynamic": [list(v.key) for v in p.dynamic],
        "visual": [*p.visual[0].key, p.visual[1]] if p.visual else None,
        "architectures": p.architectures,
        "ablation": p.ablation,
        "readings": dict(p.readings),
        "model_runs": [list(k) for k in model_runs(p)],
        "dynamic_runs": [list(k) for k in dynamic_runs(p)],
    }
