"""The trainable array type shared by layers and optimizers."""

from __future__ import annotations

import numpy as np


class Parameter:
    """A trainable array and its gradient.

    Attributes:
        value: the array itself; update it in place to set weights from outside.
        grad: an array of the same shape and dtype; ``backward`` adds into it,
            :meth:`zero_grad` clears it.
        name: a short label (``"weight"``, ``"bias"``) for messages and tables.
    """

    __slots__ = ("value", "grad", "name")

    def __init__(self, value: np.ndarray, name: str = ""):
        self.value = np.ascontiguousarray(value)
        self.grad = np.zeros_like(self.value)
        self.name = name

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    def zero_grad(self) -> None:
        self.grad[...] = 0

    def astype(self, dtype) -> None:
        """Convert value and grad to ``dtype`` in place (e.g. float64 for gradient checks)."""
        self.value = np.ascontiguousarray(self.value, dtype=dtype)
        self.grad = np.ascontiguousarray(self.grad, dtype=dtype)

    def __repr__(self) -> str:
        return f"Parameter({self.name or '?'}, shape={self.value.shape}, dtype={self.value.dtype})"
