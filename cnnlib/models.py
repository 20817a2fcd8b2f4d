"""The networks of the 2018 report.

Model input: float32 ``(N, 1, 28, 28)`` with pixels scaled as ``x / 255 - 0.5``
(see :func:`cnnlib.train.scale_images`). Output: logits ``(N, 10)``.
"""

from __future__ import annotations

import numpy as np

from cnnlib.layers import AvgPool2D, Conv2D, Flatten, Linear, ReLU, _rng
from cnnlib.nn import Sequential


def reference_cnn(init_std: float = 0.2, rng=None, dtype=np.float32) -> Sequential:
    """The report's CNN: conv 1->4 3x3 pad 1, ReLU, avg-pool 2, conv 4->4 3x3 pad 1, ReLU,
    avg-pool 2, flatten (4*7*7 = 196), linear 196->10 (2,158 parameters).
    """
    rng = _rng(rng)
    return Sequential(
        Conv2D(1, 4, 3, padding=1, init_std=init_std, rng=rng, dtype=dtype),
        ReLU(),
        AvgPool2D(2),
        Conv2D(4, 4, 3, padding=1, init_std=init_std, rng=rng, dtype=dtype),
        ReLU(),
        AvgPool2D(2),
        Flatten(),
        Linear(196, 10, init_std=init_std, rng=rng, dtype=dtype),
    )


def mlp(hidden=(256,), init_std: float = 0.01, rng=None, dtype=np.float32) -> Sequential:
    """Multi-layer perceptron: flatten (784), then Linear + ReLU per hidden size, then Linear -> 10."""
    rng = _rng(rng)
    layers, width = [Flatten()], 784
    for h in hidden:
        layers += [Linear(width, int(h), init_std=init_std, rng=rng, dtype=dtype), ReLU()]
        width = int(h)
    layers.append(Linear(width, 10, init_std=init_std, rng=rng, dtype=dtype))
    return Sequential(*layers)


def count_parameters(model) -> int:
    """Number of trainable scalars."""
    return sum(p.value.size for p in model.parameters())


MODELS = {"reference_cnn": reference_cnn, "mlp": mlp}
