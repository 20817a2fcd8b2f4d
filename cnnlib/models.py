"""The networks of the 2018 report, and the registry of models a run config can name.

Model input: float32 ``(N, 1, H, W)`` - MNIST's ``(N, 1, 28, 28)`` by default - with
pixels scaled as ``x / 255 - 0.5`` by default (see :mod:`cnnlib.preprocess`). Output:
logits ``(N, classes)``, 10 for MNIST.

:data:`MODELS` maps a run config's ``model.name`` to a builder
``builder(settings, rng, input_shape=(1, 28, 28), classes=10) -> model``, where
``settings`` is the resolved ``model`` mapping of the run config (see
:data:`cnnlib.config.DEFAULTS`), ``rng`` a ``numpy.random.Generator``, and
``input_shape`` (channels, height, width) and ``classes`` come from the data the model is
trained on. Training (:mod:`cnnlib.train`) and config validation
(:func:`cnnlib.config.resolve`) both use it: to add a model, add a builder here.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from cnnlib.layers import AvgPool2D, Conv2D, Flatten, Linear, ReLU, _rng
from cnnlib.nn import Sequential


def reference_cnn(init_std: float = 0.2, linear_init_std: float | None = None, rng=None,
                  dtype=np.float32, input_shape=(1, 28, 28), classes: int = 10) -> Sequential:
    """The report's CNN: conv C->4 3x3 pad 1, ReLU, avg-pool 2, conv 4->4 3x3 pad 1, ReLU,
    avg-pool 2, flatten (4*(H/4)*(W/4); 4*7*7 = 196 for MNIST), linear -> classes (2,158
    parameters for MNIST).

    Shapes (MNIST): ``x (N, 1, 28, 28)`` -> logits ``(N, 10)``; weights ``0.weight (4, 1, 3, 3)``,
    ``3.weight (4, 4, 3, 3)``, ``7.weight (10, 196)``, biases ``(4,)``, ``(4,)``, ``(10,)``.
    ``input_shape`` is ``(C, H, W)`` with H and W divisible by 4.

    Args:
        init_std: std of the conv weights (and of the linear weight when
            ``linear_init_std`` is None).
        linear_init_std: std of the linear layer's weight; None: ``init_std``. The 2018
            course framework used ``init_std`` for the convs and 0.1 for the linear layer.
        rng: Generator, int seed or None. The weights are drawn in layer order (conv 1,
            conv 2, linear), so ``linear_init_std`` changes no conv weight.
        dtype: parameter dtype.

    Note the order: before ``linear_init_std`` existed, the second positional argument
    was ``rng``; passing a Generator there raises TypeError.
    """
    if isinstance(linear_init_std, (np.random.Generator, np.random.SeedSequence, np.random.BitGenerator)):
        raise TypeError("reference_cnn(init_std, linear_init_std, rng, dtype): the second argument is now "
                        "linear_init_std; pass the generator as rng=...")
    if linear_init_std is not None and (isinstance(linear_init_std, bool) or
                                        not isinstance(linear_init_std, (int, float, np.floating, np.integer))
                                        or not linear_init_std > 0 or not np.isfinite(linear_init_std)):
        raise ValueError(f"linear_init_std must be None or a finite number > 0, got {linear_init_std!r}")
    channels, height, width = (int(d) for d in input_shape)
    if height % 4 or width % 4:
        raise ValueError(f"reference_cnn pools twice by 2: image height and width must be divisible by 4, "
                         f"got {height}x{width}")
    rng = _rng(rng)
    return Sequential(
        Conv2D(channels, 4, 3, padding=1, init_std=init_std, rng=rng, dtype=dtype),
        ReLU(),
        AvgPool2D(2),
        Conv2D(4, 4, 3, padding=1, init_std=init_std, rng=rng, dtype=dtype),
        ReLU(),
        AvgPool2D(2),
        Flatten(),
        Linear(4 * (height // 4) * (width // 4), int(classes),
               init_std=init_std if linear_init_std is None else linear_init_std, rng=rng, dtype=dtype),
    )


def mlp(hidden=(256,), init_std: float = 0.01, rng=None, dtype=np.float32, input_shape=(1, 28, 28),
        classes: int = 10) -> Sequential:
    """Multi-layer perceptron: flatten (C*H*W: 784 for MNIST), then Linear + ReLU per hidden
    size, then Linear -> classes."""
    rng = _rng(rng)
    layers, width = [Flatten()], int(np.prod(input_shape))
    for h in hidden:
        layers += [Linear(width, int(h), init_std=init_std, rng=rng, dtype=dtype), ReLU()]
        width = int(h)
    layers.append(Linear(width, int(classes), init_std=init_std, rng=rng, dtype=dtype))
    return Sequential(*layers)


def count_parameters(model) -> int:
    """Number of trainable scalars."""
    return sum(p.value.size for p in model.parameters())


def _build_reference_cnn(settings: dict, rng: np.random.Generator, input_shape=(1, 28, 28),
                         classes: int = 10) -> Sequential:
    """``model: {name: reference_cnn, init_std, linear_init_std}``."""
    return reference_cnn(init_std=settings["init_std"], linear_init_std=settings["linear_init_std"], rng=rng,
                         input_shape=input_shape, classes=classes)


def _build_mlp(settings: dict, rng: np.random.Generator, input_shape=(1, 28, 28), classes: int = 10) -> Sequential:
    """``model: {name: mlp, init_std, hidden}``."""
    return mlp(hidden=tuple(settings["hidden"]), init_std=settings["init_std"], rng=rng, input_shape=input_shape,
               classes=classes)


#: ``model.name`` -> ``builder(resolved model settings, rng, input_shape, classes) -> model``:
#: the one registry of models.
MODELS: dict[str, Callable[..., Sequential]] = {
    "reference_cnn": _build_reference_cnn,
    "mlp": _build_mlp,
}
