"""Stride-1 2-D cross-correlation (what PyTorch calls conv2d), NCHW.

Shapes: ``x (N, C, H, W)``, ``weight (O, C, k, k)``, ``bias (O,)``, output
``(N, O, Ho, Wo)`` with ``Ho = H + 2p - k + 1``, ``Wo = W + 2p - k + 1``.

The fast path is im2col: ``k*k`` contiguous shifted slices of the zero-padded input
are copied into a column array, then one batched matmul does the rest.
:func:`conv2d_naive` and :func:`conv2d_backward_naive` are slow loop references
kept beside it; tests compare the two.
"""

from __future__ import annotations

import numpy as np


def output_size(size: int, kernel_size: int, padding: int) -> int:
    """Spatial output size of a stride-1 convolution."""
    return size + 2 * padding - kernel_size + 1


def pad_input(x: np.ndarray, padding: int) -> np.ndarray:
    """Zero-pad the last two axes of ``x (N, C, H, W)`` by ``padding`` on each side."""
    if padding == 0:
        return x
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=x.dtype)
    xp[:, :, padding : padding + h, padding : padding + w] = x
    return xp


def im2col(x: np.ndarray, kernel_size: int, padding: int) -> np.ndarray:
    """Columns for a stride-1 convolution.

    Args:
        x: input ``(N, C, H, W)``.
    Returns:
        ``cols (N, C*k*k, Ho*Wo)``; row ``c*k*k + di*k + dj`` of sample ``n`` holds
        ``xpad[n, c, di:di+Ho, dj:dj+Wo]`` flattened, so that
        ``weight.reshape(O, -1) @ cols[n]`` is the output of sample ``n``.
    """
    k = kernel_size
    n, c, h, w = x.shape
    ho, wo = output_size(h, k, padding), output_size(w, k, padding)
    if ho < 1 or wo < 1:
        raise ValueError(f"input {h}x{w} with padding {padding} is smaller than the {k}x{k} kernel")
    xp = pad_input(x, padding)
    cols = np.empty((n, c, k, k, ho, wo), dtype=x.dtype)
    for di in range(k):
        for dj in range(k):
            cols[:, :, di, dj] = xp[:, :, di : di + ho, dj : dj + wo]
    return cols.reshape(n, c * k * k, ho * wo)


def col2im(dcols: np.ndarray, x_shape: tuple[int, ...], kernel_size: int, padding: int) -> np.ndarray:
    """Adjoint of :func:`im2col`: scatter-add column gradients back to the input.

    Args:
        dcols: ``(N, C*k*k, Ho*Wo)``.
        x_shape: ``(N, C, H, W)`` of the input.
    Returns:
        ``dx (N, C, H, W)``.
    """
    k = kernel_size
    n, c, h, w = x_shape
    ho, wo = output_size(h, k, padding), output_size(w, k, padding)
    d = dcols.reshape(n, c, k, k, ho, wo)
    dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=dcols.dtype)
    for di in range(k):
        for dj in range(k):
            dxp[:, :, di : di + ho, dj : dj + wo] += d[:, :, di, dj]
    if padding == 0:
        return dxp
    return dxp[:, :, padding : padding + h, padding : padding + w]


def conv2d_forward(x, weight, bias, padding):
    """Fast convolution. Returns ``(y (N, O, Ho, Wo), cols)``; ``cols`` is what backward needs."""
    n, _, h, w = x.shape
    o, _, k, _ = weight.shape
    cols = im2col(x, k, padding)
    y = np.matmul(weight.reshape(o, -1), cols)  # (N, O, Ho*Wo)
    y += bias[None, :, None]
    return y.reshape(n, o, output_size(h, k, padding), output_size(w, k, padding)), cols


def conv2d_backward(grad_y, cols, x_shape, weight, padding, need_input_grad=True):
    """Gradients of :func:`conv2d_forward`.

    Args:
        grad_y: ``(N, O, Ho, Wo)``.
        cols: the columns returned by the forward pass.
    Returns:
        ``(grad_x (N, C, H, W) or None, grad_weight (O, C, k, k), grad_bias (O,))``.
    """
    n, o, ho, wo = grad_y.shape
    g = grad_y.reshape(n, o, ho * wo)
    # sum_n g[n] @ cols[n].T as one matmul over the (n, position) axis
    g2 = g.transpose(1, 0, 2).reshape(o, n * ho * wo)
    c2 = cols.transpose(1, 0, 2).reshape(cols.shape[1], n * ho * wo)
    grad_w = (g2 @ c2.T).reshape(weight.shape)
    grad_b = g2.sum(axis=1)
    grad_x = None
    if need_input_grad:
        dcols = np.matmul(weight.reshape(o, -1).T, g)  # (N, C*k*k, Ho*Wo)
        grad_x = col2im(dcols, x_shape, weight.shape[2], padding)
    return grad_x, grad_w, grad_b


def conv2d_naive(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, padding: int = 0) -> np.ndarray:
    """Slow loop reference of the forward pass (float64 accumulation). Same shapes as above."""
    n, c, h, w = x.shape
    o, _, k, _ = weight.shape
    ho, wo = output_size(h, k, padding), output_size(w, k, padding)
    xp = pad_input(x.astype(np.float64), padding)
    y = np.zeros((n, o, ho, wo))
    for b in range(n):
        for oc in range(o):
            for i in range(ho):
                for j in range(wo):
                    y[b, oc, i, j] = np.sum(xp[b, :, i : i + k, j : j + k] * weight[oc]) + bias[oc]
    return y


def conv2d_backward_naive(x, weight, grad_y, padding=0):
    """Slow loop reference of the backward pass.

    Returns ``(grad_x (N, C, H, W), grad_weight (O, C, k, k), grad_bias (O,))`` in float64.
    """
    n, c, h, w = x.shape
    o, _, k, _ = weight.shape
    _, _, ho, wo = grad_y.shape
    xp = pad_input(x.astype(np.float64), padding)
    gxp = np.zeros_like(xp)
    gw = np.zeros(weight.shape)
    for b in range(n):
        for oc in range(o):
            for i in range(ho):
                for j in range(wo):
                    g = grad_y[b, oc, i, j]
                    gxp[b, :, i : i + k, j : j + k] += g * weight[oc]
                    gw[oc] += g * xp[b, :, i : i + k, j : j + k]
    gb = grad_y.astype(np.float64).sum(axis=(0, 2, 3))
    gx = gxp[:, :, padding : padding + h, padding : padding + w]
    return gx, gw, gb
