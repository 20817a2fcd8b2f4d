"""Layers with PyTorch's names and layouts. Inputs are NCHW.

Every layer has the same interface (:class:`Layer`):

* ``forward(x, train=True) -> y``. With ``train=True`` the layer caches exactly what
  ``backward`` needs; with ``train=False`` (evaluation) it stores nothing and leaves
  the cache of the last training forward alone.
* ``backward(grad_y, need_input_grad=True) -> grad_x`` (same shape as that forward's
  ``x``), for the last ``forward(..., train=True)``. It *adds* into each
  ``Parameter.grad`` (gradients accumulate until ``zero_grad()``). With
  ``need_input_grad=False`` the layer may skip computing ``grad_x`` and return None
  (every layer here does; parameter gradients are still added).
* ``parameters() -> list[Parameter]``; ``layer(x)`` is ``layer.forward(x)``.

Layers with parameters compute in their parameters' dtype (float32 by default; pass
``dtype=np.float64`` or call ``astype`` for gradient checks); the others compute in
the dtype of their input.

Weights are drawn from N(0, init_std^2), biases start at zero. ``rng`` is a
``numpy.random.Generator``, an int seed, or None (fresh, unseeded).
"""

from __future__ import annotations

import numpy as np

from cnnlib.kernels import conv as conv_k
from cnnlib.kernels import pool as pool_k
from cnnlib.parameter import Parameter

__all__ = ["Layer", "Conv2D", "AvgPool2D", "MaxPool2D", "ReLU", "Sigmoid", "Linear", "Flatten"]


def _rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_ndim(layer: "Layer", x: np.ndarray, ndim: int, layout: str) -> None:
    if x.ndim != ndim:
        raise ValueError(f"{type(layer).__name__} expects input of shape {layout}, got {x.shape}")


def _no_forward(layer: "Layer") -> RuntimeError:
    return RuntimeError(f"{type(layer).__name__}.backward called before forward(x, train=True)")


class Layer:
    """Base class of every layer (see the module docstring for the contract).

    Subclasses implement ``forward(x, train=True)`` and ``backward(grad_y,
    need_input_grad=True)``; a layer that cannot skip work ignores ``need_input_grad``
    and returns ``grad_x`` anyway (:class:`cnnlib.nn.Sequential` accepts both).
    """

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad_y: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:  # pragma: no cover
        raise NotImplementedError

    def parameters(self) -> list[Parameter]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def astype(self, dtype) -> "Layer":
        """Convert every parameter to ``dtype`` in place; returns ``self``."""
        for p in self.parameters():
            p.astype(dtype)
        return self

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of the output for an input of ``input_shape`` (batch axis included)."""
        return tuple(input_shape)

    def __call__(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        return self.forward(x, train)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Conv2D(Layer):
    """2-D cross-correlation, stride 1, zero padding; equals ``torch.nn.functional.conv2d``.

    Parameters: ``weight (out_channels, in_channels, k, k)``, ``bias (out_channels,)``.
    Shapes: ``x (N, in_channels, H, W)`` -> ``y (N, out_channels, H + 2p - k + 1, W + 2p - k + 1)``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, padding=0, init_std=0.01, rng=None,
                 dtype=np.float32):
        self.in_channels = _check_positive_int("in_channels", in_channels)
        self.out_channels = _check_positive_int("out_channels", out_channels)
        self.kernel_size = _check_positive_int("kernel_size", kernel_size)
        if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
            raise ValueError(f"padding must be a non-negative integer, got {padding!r}")
        self.padding = int(padding)
        shape = (self.out_channels, self.in_channels, self.kernel_size, self.kernel_size)
        w = _rng(rng).normal(0.0, init_std, size=shape)
        self.weight = Parameter(w.astype(dtype), "weight")
        self.bias = Parameter(np.zeros(self.out_channels, dtype=dtype), "bias")
        self._cache = None

    def parameters(self) -> list[Parameter]:
        return [self.weight, self.bias]

    def output_shape(self, input_shape):
        n, _, h, w = input_shape
        k, p = self.kernel_size, self.padding
        return (n, self.out_channels, conv_k.output_size(h, k, p), conv_k.output_size(w, k, p))

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        _check_ndim(self, x, 4, "(N, C, H, W)")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2D expects {self.in_channels} input channels, got {x.shape[1]}")
        x = np.asarray(x, dtype=self.weight.dtype)
        y, cols = conv_k.conv2d_forward(x, self.weight.value, self.bias.value, self.padding)
        if train:
            self._cache = (cols, x.shape)
        return y

    def backward(self, grad_y: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """``grad_y (N, out_channels, Ho, Wo)`` -> ``grad_x (N, in_channels, H, W)`` or None."""
        if self._cache is None:
            raise _no_forward(self)
        cols, x_shape = self._cache
        grad_y = np.asarray(grad_y, dtype=self.weight.dtype)
        gx, gw, gb = conv_k.conv2d_backward(grad_y, cols, x_shape, self.weight.value, self.padding,
                                            need_input_grad)
        self.weight.accumulate(gw)
        self.bias.accumulate(gb)
        return gx

    def __repr__(self):
        return (f"Conv2D({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"padding={self.padding})")


class AvgPool2D(Layer):
    """Average pooling, stride = kernel (sizes floored). ``(N, C, H, W) -> (N, C, H//k, W//k)``."""

    def __init__(self, kernel_size):
        self.kernel_size = _check_positive_int("kernel_size", kernel_size)
        self._x_shape = None

    def output_shape(self, input_shape):
        n, c, h, w = input_shape
        return (n, c, h // self.kernel_size, w // self.kernel_size)

    def forward(self, x, train=True):
        _check_ndim(self, x, 4, "(N, C, H, W)")
        if train:
            self._x_shape = x.shape
        return pool_k.avg_pool_forward(x, self.kernel_size)

    def backward(self, grad_y, need_input_grad=True):
        """``grad_y (N, C, H//k, W//k)`` -> ``grad_x (N, C, H, W)`` (None if not needed)."""
        if self._x_shape is None:
            raise _no_forward(self)
        if not need_input_grad:
            return None
        return pool_k.avg_pool_backward(grad_y, self._x_shape, self.kernel_size)

    def __repr__(self):
        return f"AvgPool2D({self.kernel_size})"


class MaxPool2D(Layer):
    """Max pooling, stride = kernel (sizes floored). ``(N, C, H, W) -> (N, C, H//k, W//k)``.

    The gradient goes to the first maximal element of each window, as in PyTorch.
    """

    def __init__(self, kernel_size):
        self.kernel_size = _check_positive_int("kernel_size", kernel_size)
        self._cache = None

    output_shape = AvgPool2D.output_shape

    def forward(self, x, train=True):
        _check_ndim(self, x, 4, "(N, C, H, W)")
        y, idx = pool_k.max_pool_forward(x, self.kernel_size)
        if train:
            self._cache = (idx, x.shape)
        return y

    def backward(self, grad_y, need_input_grad=True):
        """``grad_y (N, C, H//k, W//k)`` -> ``grad_x (N, C, H, W)`` (None if not needed)."""
        if self._cache is None:
            raise _no_forward(self)
        if not need_input_grad:
            return None
        idx, x_shape = self._cache
        return pool_k.max_pool_backward(grad_y, idx, x_shape, self.kernel_size)

    def __repr__(self):
        return f"MaxPool2D({self.kernel_size})"


class ReLU(Layer):
    """``y = max(x, 0)``, any shape. The gradient at exactly 0 is 0, as in PyTorch."""

    def __init__(self):
        self._mask = None

    def forward(self, x, train=True):
        mask = x > 0
        if train:
            self._mask = mask
        return x * mask

    def backward(self, grad_y, need_input_grad=True):
        """``grad_y`` -> ``grad_x``, both of the input's shape (None if not needed)."""
        if self._mask is None:
            raise _no_forward(self)
        if not need_input_grad:
            return None
        return grad_y * self._mask


class Sigmoid(Layer):
    """``y = 1 / (1 + exp(-x))``, any shape; computed without overflow for large |x|."""

    def __init__(self):
        self._y = None

    def forward(self, x, train=True):
        x = np.asarray(x)
        e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
        y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
        if train:
            self._y = y
        return y

    def backward(self, grad_y, need_input_grad=True):
        """``grad_y`` -> ``grad_x``, both of the input's shape (None if not needed)."""
        if self._y is None:
            raise _no_forward(self)
        if not need_input_grad:
            return None
        y = self._y
        return grad_y * y * (1 - y)


class Linear(Layer):
    """``y = x @ weight.T + bias``. Parameters: ``weight (out, in)``, ``bias (out,)``.

    Shapes: ``x (N, in_features)`` -> ``y (N, out_features)``.
    """

    def __init__(self, in_features, out_features, init_std=0.01, rng=None, dtype=np.float32):
        self.in_features = _check_positive_int("in_features", in_features)
        self.out_features = _check_positive_int("out_features", out_features)
        w = _rng(rng).normal(0.0, init_std, size=(self.out_features, self.in_features))
        # shape (out, in) as in PyTorch, stored column-major: ``x @ weight.T`` then reads a
        # row-major (in, out) matrix, which OpenBLAS multiplies ~15% faster
        self.weight = Parameter(np.asfortranarray(w, dtype=dtype), "weight")
        self.bias = Parameter(np.zeros(self.out_features, dtype=dtype), "bias")
        self._x = None

    def parameters(self):
        return [self.weight, self.bias]

    def output_shape(self, input_shape):
        return (input_shape[0], self.out_features)

    def forward(self, x, train=True):
        _check_ndim(self, x, 2, "(N, in_features)")
        if x.shape[1] != self.in_features:
            raise ValueError(f"Linear expects {self.in_features} input features, got {x.shape[1]}")
        x = np.asarray(x, dtype=self.weight.dtype)
        if train:
            self._x = x
        y = x @ self.weight.value.T
        y += self.bias.value
        return y

    def backward(self, grad_y, need_input_grad: bool = True):
        """``grad_y (N, out_features)`` -> ``grad_x (N, in_features)`` or None."""
        if self._x is None:
            raise _no_forward(self)
        grad_y = np.asarray(grad_y, dtype=self.weight.dtype)
        self.weight.accumulate_matmul(grad_y.T, self._x)
        self.bias.accumulate(grad_y.sum(axis=0))
        return grad_y @ self.weight.value if need_input_grad else None

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features})"


class Flatten(Layer):
    """``(N, d1, d2, ...) -> (N, d1*d2*...)`` in C order (as ``torch.flatten(x, 1)``)."""

    def __init__(self):
        self._shape = None

    def output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:])))

    def forward(self, x, train=True):
        if train:
            self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_y, need_input_grad=True):
        """``grad_y (N, d1*d2*...)`` -> ``grad_x (N, d1, d2, ...)`` (None if not needed)."""
        if self._shape is None:
            raise _no_forward(self)
        if not need_input_grad:
            return None
        return grad_y.reshape(self._shape)
