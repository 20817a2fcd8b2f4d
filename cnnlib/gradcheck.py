"""Finite-difference gradient checks.

A layer ``f`` is checked through the scalar ``L(x) = sum(G * f(x))`` with a random
upstream gradient ``G``: its ``backward(G)`` must match central differences of ``L``
for the input and for every parameter. Work in float64: in float32 the differences
themselves are too noisy. The error measure is the relative error of whole arrays,
``|a - n| / (|a| + |n|)`` (Euclidean norms), which is ~1e-9 or smaller for a correct
gradient and ~1e-2 or larger for a wrong one.
"""

from __future__ import annotations

import numpy as np

#: a correct float64 gradient passes this comfortably; a wrong one fails by orders of magnitude
TOLERANCE = 1e-6


def away_from_zero(rng: np.random.Generator, shape, margin: float = 0.05) -> np.ndarray:
    """Random float64 values with ``|x| >= margin``: no input sits on a ReLU kink."""
    x = rng.standard_normal(shape)
    return np.sign(x) * (np.abs(x) + margin)


def distinct(rng: np.random.Generator, shape) -> np.ndarray:
    """Shuffled values at least 0.01 apart: every max-pool window has a clear winner."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.01 - n * 0.005).reshape(shape)


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``|a - n| / (|a| + |n|)``; 0 when both are zero."""
    diff = np.linalg.norm(np.ravel(analytic) - np.ravel(numeric))
    scale = np.linalg.norm(np.ravel(analytic)) + np.linalg.norm(np.ravel(numeric))
    return 0.0 if scale == 0 else float(diff / scale)


def numerical_gradient(f, array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f()`` w.r.t. every element of ``array`` (changed in place
    and restored)."""
    grad = np.zeros(array.shape, dtype=np.float64)
    for i in np.ndindex(array.shape):  # indexes the array itself, whatever its memory order
        old = array[i]
        array[i] = old + eps
        plus = f()
        array[i] = old - eps
        minus = f()
        array[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def check_layer(layer, x: np.ndarray, rng: np.random.Generator, eps: float = 1e-6) -> dict[str, float]:
    """Relative errors of ``layer``'s input and parameter gradients.

    The layer should already be float64 (``layer.astype(np.float64)``) and ``x`` float64.
    Returns ``{"input": err, "weight": err, ...}`` (parameters by their names).
    """
    x = np.array(x, dtype=np.float64)
    y = layer.forward(x)
    upstream = rng.standard_normal(y.shape)

    def loss() -> float:
        return float(np.sum(upstream * layer.forward(x)))

    layer.zero_grad()
    layer.forward(x)
    grad_x = layer.backward(upstream)
    params = layer.parameters()
    names = [p.name or "param" for p in params]
    if len(set(names)) < len(names):  # e.g. a Sequential: number them
        names = [f"{name}[{i}]" for i, name in enumerate(names)]
    analytic = [p.grad.copy() for p in params]
    errors = {"input": relative_error(grad_x, numerical_gradient(loss, x, eps))}
    for name, p, a in zip(names, params, analytic):
        errors[name] = relative_error(a, numerical_gradient(loss, p.value, eps))
    return errors


def check_loss(loss_fn, logits: np.ndarray, labels: np.ndarray, eps: float = 1e-6) -> float:
    """Relative error of ``loss_fn.backward()`` against central differences of the mean loss."""
    logits = np.array(logits, dtype=np.float64)
    loss_fn.forward(logits, labels)
    analytic = loss_fn.backward()
    numeric = numerical_gradient(lambda: loss_fn.forward(logits, labels), logits, eps)
    return relative_error(analytic, numeric)
