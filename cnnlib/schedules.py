"""Learning-rate schedules as small pure functions.

Each schedule maps the training state to a learning rate:
``f(iteration, epoch, loss) -> lr`` where ``iteration`` counts from 0, ``epoch`` is the
0-based epoch of that iteration and ``loss`` is the recent training loss (``inf``
before the first iteration). :func:`make_schedule` builds one from a config mapping.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Callable

Schedule = Callable[[int, int, float], float]

#: The 2018 report's loss-driven rule: the first ``(threshold, lr)`` whose threshold the
#: loss exceeds gives the rate; below all of them the rate is ``max(floor, loss / divisor)``.
DYNAMIC_RULE = {
    "thresholds": [[1.0, 0.2], [0.5, 0.1], [0.2, 0.05]],
    "floor": 0.005,
    "divisor": 5.0,
}


def constant(iteration: int, epoch: int, loss: float, *, lr: float) -> float:
    """Always ``lr``."""
    return lr


def step_decay(iteration: int, epoch: int, loss: float, *, lr: float, gamma: float = 0.1,
               step_epochs: int = 1) -> float:
    """``lr * gamma ** (epoch // step_epochs)``."""
    return lr * gamma ** (epoch // step_epochs)


def dynamic(iteration: int, epoch: int, loss: float, *, thresholds=DYNAMIC_RULE["thresholds"],
            floor: float = DYNAMIC_RULE["floor"], divisor: float = DYNAMIC_RULE["divisor"]) -> float:
    """The 2018 rule: loss > 1: 0.2; > 0.5: 0.1; > 0.2: 0.05; else max(0.005, loss / 5)."""
    if math.isnan(loss):
        return floor
    for above, rate in thresholds:
        if loss > above:
            return float(rate)
    return max(floor, loss / divisor)


SCHEDULES = {"constant": constant, "step": step_decay, "dynamic": dynamic}

_ARGS = {
    "constant": {"lr"},
    "step": {"lr", "gamma", "step_epochs"},
    "dynamic": {"thresholds", "floor", "divisor"},
}


#: Each schedule's settings and their defaults (``lr`` comes from the optimizer).
SETTINGS = {
    "constant": {},
    "step": {"gamma": 0.1, "step_epochs": 1},
    "dynamic": DYNAMIC_RULE,
}


def complete(spec: dict | str) -> dict:
    """The schedule spec with every setting spelled out (defaults filled in), as a run
    records it: ``{"name": "dynamic"}`` -> ``{"name": "dynamic", "thresholds": ..., ...}``."""
    if isinstance(spec, str):
        spec = {"name": spec}
    name = spec.get("name", "constant")
    out = {"name": name, **{k: v for k, v in SETTINGS.get(name, {}).items()}}
    out.update({k: v for k, v in spec.items() if k != "name"})
    if isinstance(out.get("thresholds"), list):  # numbers as floats; anything else is left for the check
        out["thresholds"] = [[float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else x
                              for x in pair] if isinstance(pair, (list, tuple)) else pair
                             for pair in out["thresholds"]]
    return out


def make_schedule(spec: dict | str, lr: float) -> Schedule:
    """Build a schedule from config: ``{"name": "step", "gamma": 0.5, "step_epochs": 2}``.

    ``lr`` is the optimizer's base rate, used by ``constant`` and ``step``.
    Unknown names or keys raise ``ValueError`` naming them.
    """
    if isinstance(spec, str):
        spec = {"name": spec}
    spec = dict(spec)
    name = spec.pop("name", "constant")
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
    kwargs = {"lr": lr} if "lr" in _ARGS[name] else {}
    unknown = set(spec) - _ARGS[name]
    if unknown:
        raise ValueError(f"schedule {name!r} has no setting {', '.join(sorted(unknown))}; "
                         f"allowed: {', '.join(sorted(_ARGS[name]))}")
    kwargs.update(spec)
    if name == "dynamic":
        thresholds = kwargs.get("thresholds", DYNAMIC_RULE["thresholds"])
        kwargs["thresholds"] = [tuple(pair) for pair in thresholds]
    return partial(SCHEDULES[name], **kwargs)
