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

    ``zero_grad`` is O(1): it marks the gradient as zero, and the next
    :meth:`accumulate` writes instead of adding (reading ``grad`` before that gives
    zeros, as expected). This saves a pass over large weight matrices per step.
    """

    __slots__ = ("value", "_grad", "_grad_is_zero", "name")

    def __init__(self, value: np.ndarray, name: str = ""):
        value = np.asarray(value)
        # C or Fortran order are both kept (Linear stores its weight column-major: faster matmuls)
        self.value = value if value.flags.c_contiguous or value.flags.f_contiguous else np.ascontiguousarray(value)
        self._grad = np.zeros_like(self.value)
        self._grad_is_zero = False
        self.name = name

    @property
    def grad(self) -> np.ndarray:
        if self._grad_is_zero:
            self._grad.fill(0)
            self._grad_is_zero = False
        return self._grad

    @grad.setter
    def grad(self, array: np.ndarray) -> None:
        self._grad = array
        self._grad_is_zero = False

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    def zero_grad(self) -> None:
        self._grad_is_zero = True

    def accumulate(self, g: np.ndarray) -> None:
        """``grad += g`` (a copy right after :meth:`zero_grad`)."""
        if self._grad_is_zero:
            np.copyto(self._grad, g)
            self._grad_is_zero = False
        else:
            self._grad += g

    def accumulate_matmul(self, a: np.ndarray, b: np.ndarray) -> None:
        """``grad += a @ b``, written straight into ``grad`` right after :meth:`zero_grad`."""
        if self._grad_is_zero:
            np.matmul(a, b, out=self._grad)
            self._grad_is_zero = False
        else:
            self._grad += a @ b

    def astype(self, dtype) -> None:
        """Convert value and grad to ``dtype`` in place (e.g. float64 for gradient checks)."""
        self.value = self.value.astype(dtype, order="K")
        self._grad = self.grad.astype(dtype, order="K")

    def __repr__(self) -> str:
        return f"Parameter({self.name or '?'}, shape={self.value.shape}, dtype={self.value.dtype})"
