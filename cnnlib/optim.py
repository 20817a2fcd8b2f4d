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
        self._scratch: dict[int, np.ndarray] = {}

    def zero_grad(self) -> None:
        for p in self.parameters:
            p.zero_grad()

    def step(self) -> None:
        for p in self.parameters:
            self._update(p)

    def _update(self, p: Parameter) -> None:
        # in place, with one scratch array per parameter: no allocation per step
        dtype = p.value.dtype.type
        tmp = self._scratch.get(id(p))
        if tmp is None or tmp.shape != p.value.shape or tmp.dtype != p.value.dtype:
            tmp = self._scratch[id(p)] = np.empty_like(p.value)
        g = p.grad
        if self.weight_decay:
            np.multiply(p.value, dtype(self.weight_decay), out=tmp)
            np.add(g, tmp, out=tmp)  # g + wd * w, as torch adds it
            g = tmp
        if self.momentum:
            v = self._velocity.get(id(p))
            if v is None or v.shape != g.shape or v.dtype != g.dtype:
                v = self._velocity[id(p)] = np.array(g, copy=True)
            else:
                np.multiply(v, dtype(self.momentum), out=v)
                np.add(v, g, out=v)
            g = v
        np.multiply(g, dtype(self.lr), out=tmp)
        np.subtract(p.value, tmp, out=p.value)

    def state_dict(self) -> dict:
        """Momentum buffers in parameter order (None where there is none yet)."""
        return {"lr": self.lr, "velocity": [self._velocity.get(id(p)) for p in self.parameters]}
