"""Optimizers."""

from __future__ import annotations

import numpy as np

from cnnlib.parameter import Parameter


class SGD:
    """Stochastic gradient descent with momentum and L2 weight decay, as ``torch.optim.SGD``.

    For every parameter ``w`` with gradient ``g``::

        g = g + weight_decay * w      # L2 term added to the gradient
        v = momentum * v + g          # momentum buffer, starts at 0 (so v = g at step 1)
        w = w - lr * v

    ``lr`` may be changed between steps (learning-rate schedules do this).
    The momentum buffer is kept per parameter.
    """

    def __init__(self, parameters, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        self.parameters = list(parameters)
        if not self.parameters:
            raise ValueError("SGD got no parameters to optimize")
        for name, value in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"SGD {name} must be a finite number >= 0, got {value!r}")
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self._velocity: dict[int, np.ndarray] = {}

    def zero_grad(self) -> None:
        for p in self.parameters:
            p.zero_grad()

    def step(self) -> None:
        for p in self.parameters:
            self._update(p)

    def _update(self, p: Parameter) -> None:
        dtype = p.value.dtype.type
        g = p.grad
        if self.weight_decay:
            g = g + dtype(self.weight_decay) * p.value
        if self.momentum:
            v = self._velocity.get(id(p))
            if v is None or v.shape != g.shape or v.dtype != g.dtype:
                v = self._velocity[id(p)] = np.array(g, copy=True)
            else:
                v *= dtype(self.momentum)
                v += g
            g = v
        p.value -= dtype(self.lr) * g

    def state_dict(self) -> dict:
        """Momentum buffers in parameter order (None where there is none yet)."""
        return {"lr": self.lr, "velocity": [self._velocity.get(id(p)) for p in self.parameters]}
