"""Training-run settings: defaults, merging and validation.

A run config is a mapping (YAML or JSON on disk). Missing keys take the defaults
below; an unknown key, a wrong type or an out-of-range value raises
:class:`ConfigError` naming the key (e.g. ``optimizer.lr``).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import yaml

from cnnlib.schedules import SCHEDULES, make_schedule

DEFAULTS: dict[str, Any] = {
    "model": {
        "name": "reference_cnn",  # reference_cnn | mlp
        "init_std": 0.2,  # weights ~ N(0, init_std^2), biases 0
        "hidden": [256],  # mlp only: hidden layer widths
    },
    "optimizer": {"lr": 0.015, "momentum": 0.9, "weight_decay": 0.0005},
    "schedule": {"name": "constant"},  # constant | step | dynamic (see cnnlib.schedules)
    "loss_window": 50,  # the loss a schedule sees: mean of the last N training losses
    "epochs": 2,
    "batch_size": 100,
    "iterations_per_epoch": None,  # None: all full batches of the training set
    "seed": 0,
    "threads": 1,  # BLAS threads; same seed + same threads -> identical numbers
    "eval": {
        "per_epoch": 5,  # test evaluations per epoch (the last one is at epoch end)
        "subset": 2000,  # intermediate evaluations use this fixed test subset (None: all)
        "batch_size": 1000,
    },
    "data": {
        "dir": "resources/mnist",
        "train_limit": None,  # use only the first N training images
        "test_limit": None,  # use only the first N test images
        "pixel_scale": 255.0,  # model input = pixel / pixel_scale - pixel_shift
        "pixel_shift": 0.5,
    },
}


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


def resolve(config: dict | None) -> dict:
    """Defaults merged with ``config`` and checked. Returns a new dict."""
    cfg = _merge(DEFAULTS, config or {}, "")
    if cfg["model"]["name"] not in ("reference_cnn", "mlp"):
        raise ConfigError(f"'model.name' must be reference_cnn or mlp, got {cfg['model']['name']!r}")
    _number(cfg, "model.init_std", minimum=0, exclusive=True)
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
    _number(cfg, "seed", minimum=0, integer=True)
    for path in ("iterations_per_epoch", "eval.subset", "data.train_limit", "data.test_limit"):
        _number(cfg, path, minimum=1, integer=True, optional=True)
    _number(cfg, "data.pixel_scale", minimum=0, exclusive=True)
    _number(cfg, "data.pixel_shift")
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
