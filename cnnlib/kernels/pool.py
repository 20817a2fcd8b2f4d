"""Pooling with stride = kernel, NCHW. A size that is not a multiple of the kernel is
floored (trailing rows/columns ignored), as in PyTorch.

Shapes: ``x (N, C, H, W)`` -> ``y (N, C, H // k, W // k)``.
Average pooling is ``k*k`` strided slice adds (much faster than ``reshape().mean()``).
"""

from __future__ import annotations

import numpy as np


def avg_pool_forward(x: np.ndarray, k: int) -> np.ndarray:
    n, c, h, w = x.shape
    ho, wo = h // k, w // k
    if ho < 1 or wo < 1:
        raise ValueError(f"input {h}x{w} is smaller than the {k}x{k} pooling window")
    y = np.zeros((n, c, ho, wo), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            y += x[:, :, i : ho * k : k, j : wo * k : k]
    y *= x.dtype.type(1.0 / (k * k))
    return y


def avg_pool_backward(grad_y: np.ndarray, x_shape: tuple[int, ...], k: int) -> np.ndarray:
    n, c, ho, wo = grad_y.shape
    grad_x = np.zeros(x_shape, dtype=grad_y.dtype)
    g = grad_y * grad_y.dtype.type(1.0 / (k * k))
    for i in range(k):
        for j in range(k):
            grad_x[:, :, i : ho * k : k, j : wo * k : k] = g
    return grad_x


def _windows(x: np.ndarray, k: int) -> np.ndarray:
    """``(N, C, Ho, Wo, k*k)`` copy of the pooling windows, taps in row-major order."""
    n, c, h, w = x.shape
    ho, wo = h // k, w // k
    v = x[:, :, : ho * k, : wo * k].reshape(n, c, ho, k, wo, k)
    return v.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ho, wo, k * k)


def max_pool_forward(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Returns ``(y, argmax)``; ``argmax (N, C, Ho, Wo)`` is the first maximal tap of each
    window (row-major), which is where PyTorch routes the gradient too."""
    n, c, h, w = x.shape
    if h // k < 1 or w // k < 1:
        raise ValueError(f"input {h}x{w} is smaller than the {k}x{k} pooling window")
    win = _windows(x, k)
    idx = win.argmax(axis=-1)
    y = np.take_along_axis(win, idx[..., None], axis=-1)[..., 0]
    return y, idx


def max_pool_backward(grad_y: np.ndarray, argmax: np.ndarray, x_shape: tuple[int, ...], k: int) -> np.ndarray:
    n, c, ho, wo = grad_y.shape
    win = np.zeros((n, c, ho, wo, k * k), dtype=grad_y.dtype)
    np.put_along_axis(win, argmax[..., None], grad_y[..., None], axis=-1)
    grad_x = np.zeros(x_shape, dtype=grad_y.dtype)
    grad_x[:, :, : ho * k, : wo * k] = win.reshape(n, c, ho, wo, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(
        n, c, ho * k, wo * k
    )
    return grad_x
