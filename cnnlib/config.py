"""Training-run settings: defaults, merging and validation.

A run config is a mapping (YAML or JSON on disk). Missing keys take the defaults
below; an unknown key, a wrong type or an out-of-range value raises
:class:`ConfigError` naming the key (e.g. ``optimizer.lr``).
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import yaml

from cnnlib import models
from cnnlib.schedules import SCHEDULES, complete, make_schedule

DEFAULTS: dict[str, Any] = {
    "model": {
        "name": "reference_cnn",  # a name in cnnlib.models.MODELS
        "init_std": 0.2,  # weights ~ N(0, init_std^2), biases 0
        "linear_init_std": None,  # reference_cnn only: std of the linear layer's weights (None: init_std)
        "hidden": [256],  # mlp only: hidden layer widths
    },
    "optimizer": {"lr": 0.015, "momentum": 0.9, "weight_decay": 0.0005},
    "schedule": {"name": "constant"},  # constant | step | dynamic (see cnnlib.schedules)
    "loss_window": 50,  # the loss a schedule sees: mean of the last N training losses
    "epochs": 2,
    "batch_size": 100,
    "iterations_per_epoch": None,  # None: all full batches of the training set
    "images_per_epoch": None,  # None: as iterations_per_epoch; N: N // batch_size iterations (a batch-size sweep)
    "seed": 0,
    "threads": 1,  # BLAS threads; same seed + same threads -> identical numbers
    "eval": {
        "per_epoch": 5,  # test evaluations per epoch (the last one is at epoch end)
        "subset": 2000,  # intermediate evaluations use this fixed test subset (None: all)
        "batch_size": 100,  # images per forward pass (100: the work arrays stay in cache)
    },
    "data": {
        "dir": "resources/mnist",
        "train_limit": None,  # use only the first N training images
        "test_limit": None,  # use only the first N test images
        # model input = (pixel - pixel_offset) / pixel_scale - pixel_shift (cnnlib.preprocess);
        # the 2018 framework's (x - 128) / 255: pixel_offset 128, pixel_scale 255, pixel_shift 0
        "pixel_offset": 0,
        "pixel_scale": 255.0,
        "pixel_shift": 0.5,
        # the SHA-256 of each of the four files' decompressed bytes ({name: hex}): load any
        # dataset in MNIST's format and check it is these files; None: MNIST's published files
        "sha256": None,
    },
}


#: The model settings each model's builder reads (cnnlib.models.MODELS); the others are
#: resolved for every model but change nothing (``hidden`` of the CNN, for instance).
MODEL_SETTINGS = {"reference_cnn": ("init_std", "linear_init_std"), "mlp": ("init_std", "hidden")}


def training_identity(cfg: dict) -> str:
    """A key that two resolved configs share when they train the same numbers.

    Canonical JSON of ``cfg`` without what does not change a number: ``data.dir`` (the
    same files may lie anywhere), the model settings its builder does not read
    (:data:`MODEL_SETTINGS`), and ``linear_init_std: None`` of the CNN spelled out as the
    ``init_std`` it stands for. Numbers compare by their JSON text: ``1`` and ``1.0`` differ
    (conservative: such runs are trained twice, never wrongly shared).
    """
    cfg = copy.deepcopy(cfg)
    cfg["data"].pop("dir", None)
    model = cfg["model"]
    kept = MODEL_SETTINGS.get(model["name"])
    if kept is not None:
        cfg["model"] = {"name": model["name"], **{k: model[k] for k in kept}}
        if model["name"] == "reference_cnn" and cfg["model"]["linear_init_std"] is None:
            cfg["model"]["linear_init_std"] = model["init_std"]
    return json.dumps(cfg, sort_keys=True, separators=(",", ":"))


def continuation_identity(cfg: dict) -> str:
    """A key that two resolved configs share when one trains the first epochs of the
    other: :func:`training_identity` without ``epochs``. Every schedule sees only the
    iteration, the epoch and the recent loss (:mod:`cnnlib.schedules`), never the number of
    epochs, so a run of E epochs is, bit for bit, the first E epochs of a longer run with
    this key (:func:`cnnlib.train.run` ``continue_from``)."""
    cfg = json.loads(training_identity(cfg))
    cfg.pop("epochs")
    return json.dumps(cfg, sort_keys=True, separators=(",", ":"))


class ConfigError(ValueError):
    """A run config that cannot be used; the message names the key."""


def _merge(base: dict, override: dict, path: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in base:
            allowed = ", ".join(base)
            raise ConfigError(f"unknown setting '{where}'; allowed here: {allowed}")
        if isinstance(base[key], dict) and key != "schedule":
            if not isinstance(value, dict):
                raise ConfigError(f"'{where}' must be a mapping, got {value!r}")
            out[key] = _merge(base[key], value, where)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _number(cfg, path, *, minimum=None, exclusive=False, integer=False, optional=False):
    node = cfg
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[key]
    value = node[keys[-1]]
    if value is None and optional:
        return
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise ConfigError(f"'{path}' must be {kind}, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"'{path}' must be finite, got {value!r}")
    if minimum is not None and (value < minimum or (exclusive and value == minimum)):
        rel = ">" if exclusive else ">="
        raise ConfigError(f"'{path}' must be {rel} {minimum}, got {value!r}")


#: Upper limits: a value above them is a typo, not an experiment.
LIMITS = {"epochs": 1000, "iterations_per_epoch": 100_000, "images_per_epoch": 10_000_000}
MNIST_TRAIN_IMAGES = 60_000


def _at_most(cfg, path, limit):
    node = cfg
    for key in path.split("."):
        node = node[key]
    if node is not None and node > limit:
        raise ConfigError(f"'{path}' is {node!r}; at most {limit:,} (a larger value is almost surely a typo)")


def _check_schedule(s: dict) -> None:
    """Every setting of a (completed) schedule spec is a number in its range."""
    def num(key, minimum, exclusive=False, integer=False):
        _number({"schedule": s}, f"schedule.{key}", minimum=minimum, exclusive=exclusive, integer=integer)

    if s["name"] == "step":
        num("gamma", 0, exclusive=True)
        num("step_epochs", 1, integer=True)
    elif s["name"] == "dynamic":
        num("floor", 0)
        num("divisor", 0, exclusive=True)
        pairs = s["thresholds"]
        if not isinstance(pairs, list) or not pairs:
            raise ConfigError(f"'schedule.thresholds' must be a non-empty list of [loss, lr] pairs, got {pairs!r}")
        for i, pair in enumerate(pairs):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise ConfigError(f"'schedule.thresholds' item {i} must be a [loss, lr] pair, got {pair!r}")
            for j, what in enumerate(("loss", "lr")):
                v = pair[j]
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                    raise ConfigError(f"'schedule.thresholds' item {i}: the {what} must be a number >= 0, "
                                      f"got {v!r}")


def resolve(config: dict | None) -> dict:
    """Defaults merged with ``config`` and checked. Returns a new dict."""
    cfg = _merge(DEFAULTS, config or {}, "")
    name = cfg["model"]["name"]
    if not isinstance(name, str) or name not in models.MODELS:
        raise ConfigError(f"'model.name' must be one of {', '.join(models.MODELS)} (cnnlib.models.MODELS), "
                          f"got {name!r}")
    _number(cfg, "model.init_std", minimum=0, exclusive=True)
    _number(cfg, "model.linear_init_std", minimum=0, exclusive=True, optional=True)
    hidden = cfg["model"]["hidden"]
    if not isinstance(hidden, list) or not all(isinstance(h, int) and not isinstance(h, bool) and h > 0
                                               for h in hidden):
        raise ConfigError(f"'model.hidden' must be a list of positive integers, got {hidden!r}")
    _number(cfg, "optimizer.lr", minimum=0)
    _number(cfg, "optimizer.momentum", minimum=0)
    _number(cfg, "optimizer.weight_decay", minimum=0)
    if cfg["optimizer"]["momentum"] >= 1:
        raise ConfigError(f"'optimizer.momentum' must be < 1, got {cfg['optimizer']['momentum']!r}")
    for path in ("epochs", "batch_size", "threads", "loss_window", "eval.per_epoch", "eval.batch_size"):
        _number(cfg, path, minimum=1, integer=True)
    for path, limit in LIMITS.items():
        _at_most(cfg, path, limit)
    _number(cfg, "seed", minimum=0, integer=True)
    for path in ("iterations_per_epoch", "images_per_epoch", "eval.subset", "data.train_limit", "data.test_limit"):
        _number(cfg, path, minimum=1, integer=True, optional=True)
    _number(cfg, "data.pixel_scale", minimum=0, exclusive=True)
    _number(cfg, "data.pixel_shift")
    _number(cfg, "data.pixel_offset")
    schedule = cfg["schedule"]
    if isinstance(schedule, str):
        schedule = cfg["schedule"] = {"name": schedule}
    if not isinstance(schedule, dict) or schedule.get("name", "constant") not in SCHEDULES:
        name = schedule.get("name") if isinstance(schedule, dict) else schedule
        raise ConfigError(f"'schedule.name' must be one of {', '.join(SCHEDULES)}, got {name!r}")
    try:
        make_schedule(schedule, cfg["optimizer"]["lr"])
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"'schedule': {exc}") from None
    cfg["schedule"] = complete(schedule)  # the run records every setting of its schedule
    _check_schedule(cfg["schedule"])
    if cfg["iterations_per_epoch"] is not None and cfg["images_per_epoch"] is not None:
        raise ConfigError("'iterations_per_epoch' and 'images_per_epoch' both set; keep one (images_per_epoch "
                          "keeps the images of an epoch equal across batch sizes)")
    if cfg["images_per_epoch"] is not None and cfg["images_per_epoch"] < cfg["batch_size"]:
        raise ConfigError(f"'images_per_epoch' {cfg['images_per_epoch']} is less than one batch ('batch_size' "
                          f"{cfg['batch_size']}); raise it or lower the batch size")
    train_images = cfg["data"]["train_limit"] or MNIST_TRAIN_IMAGES
    if cfg["batch_size"] > min(train_images, MNIST_TRAIN_IMAGES):
        raise ConfigError(f"'batch_size' {cfg['batch_size']} is larger than the "
                          f"{min(train_images, MNIST_TRAIN_IMAGES)} training images; lower it")
    sha = cfg["data"]["sha256"]
    if sha is not None:
        from cnnlib.data import MNIST_FILES

        if not isinstance(sha, dict) or set(sha) != set(MNIST_FILES) or not all(
                isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v) for v in sha.values()):
            raise ConfigError(f"'data.sha256' must be null or give the SHA-256 (64 hex digits) of each of "
                              f"{', '.join(MNIST_FILES)}")
    if not isinstance(cfg["data"]["dir"], str):
        raise ConfigError(f"'data.dir' must be a path, got {cfg['data']['dir']!r}")
    return cfg


def load(path: str | Path) -> dict:
    """Read a YAML/JSON run config file (not yet resolved)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a mapping of settings, got {type(data).__name__}")
    return data
