"""Optimizers."""

from __future__ import annotations

import numpy as np

from cnnlib.parameter import Parameter


_BLAS_MIN_SIZE = 4096  # below this, call overhead outweighs the saved passes


def _blas_update(opt: "SGD", p: Parameter) -> bool:
    """The momentum update as four BLAS level-1 calls (scal, axpy x3): fewer passes over a
    large array than NumPy's six. Returns False when BLAS cannot be used for ``p``."""
    try:
        from scipy.linalg import blas
    except ImportError:  # pragma: no cover - scipy is a dependency
        return False
    kinds = {np.dtype(np.float32): (blas.sscal, blas.saxpy), np.dtype(np.float64): (blas.dscal, blas.daxpy)}
    fns = kinds.get(p.value.dtype)
    v = opt._velocity.get(id(p))
    if fns is None or v is None or v.shape != p.value.shape or v.dtype != p.value.dtype:
        return False  # the first step creates the buffer the NumPy way
    w, g = p.value.reshape(-1, order="A"), p.grad.reshape(-1, order="A")
    vf = v.reshape(-1, order="A")
    if not (np.may_share_memory(w, p.value) and np.may_share_memory(vf, v) and np.may_share_memory(g, p.grad)):
        return False  # not contiguous: reshape copied
    scal, axpy = fns
    scal(opt.momentum, vf)  # v = m v
    axpy(g, vf, a=1.0)  # v += g
    if opt.weight_decay:
        axpy(w, vf, a=opt.weight_decay)  # v += wd w   (torch: v = m v + (g + wd w))
    axpy(vf, w, a=-opt.lr)  # w -= lr v
    return True


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
        if self.momentum and p.value.size >= _BLAS_MIN_SIZE and _blas_update(self, p):
            return
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

    def load_state_dict(self, state: dict) -> None:
        """Set the momentum buffers from ``state["velocity"]`` (as :meth:`state_dict` gives
        them: one array or None per parameter, in order), so that the next :meth:`step`
        continues exactly where the optimizer that wrote them stopped. ``lr`` is left alone
        (a schedule sets it before every step)."""
        velocity = list(state["velocity"])
        if len(velocity) != len(self.parameters):
            raise ValueError(f"state has {len(velocity)} momentum buffers, this optimizer {len(self.parameters)} parameters")
        for i, (p, v) in enumerate(zip(self.parameters, velocity)):
            if v is None:
                self._velocity.pop(id(p), None)
                continue
            v = np.asarray(v)
            if v.shape != p.value.shape:
                raise ValueError(f"momentum buffer {i}: shape {v.shape} does not fit the parameter's {p.value.shape}")
            buf = np.empty_like(p.value)  # the parameter's dtype and memory order, as step() makes it
            buf[...] = v
            self._velocity[id(p)] = buf
