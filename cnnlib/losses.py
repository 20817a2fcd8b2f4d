"""Loss functions."""

from __future__ import annotations

import numpy as np


class SoftmaxCrossEntropy:
    """Mean cross-entropy of softmax(logits) against integer labels.

    ``forward(logits (N, C), labels (N,) int) -> float`` (the mean loss);
    ``backward() -> (N, C)``, the gradient of the mean loss w.r.t. the logits,
    ``(softmax(logits) - onehot(labels)) / N``, in the logits' dtype.

    Numerically safe: the row maximum is subtracted before ``exp`` (no overflow, even
    for logits of magnitude 1e4) and the log is taken of a sum that is at least 1
    (no log(0)), so the loss is finite for any finite logits. The 2018 report hit
    both problems.
    """

    def __init__(self):
        self._probs = None
        self._labels = None

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        logits = np.asarray(logits)
        labels = np.asarray(labels)
        if logits.ndim != 2:
            raise ValueError(f"logits must have shape (N, C), got {logits.shape}")
        n, c = logits.shape
        if labels.shape != (n,):
            raise ValueError(f"labels must have shape ({n},), got {labels.shape}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
        if n and (labels.min() < 0 or labels.max() >= c):
            raise ValueError(f"labels must lie in 0..{c - 1}, got {labels.min()}..{labels.max()}")
        shifted = logits - logits.max(axis=1, keepdims=True)  # max of each row is 0
        exp = np.exp(shifted)
        sums = exp.sum(axis=1, keepdims=True)  # >= 1
        rows = np.arange(n)
        log_likelihood = shifted[rows, labels].astype(np.float64) - np.log(sums[:, 0].astype(np.float64))
        exp /= sums
        self._probs, self._labels = exp, labels
        return float(-log_likelihood.mean()) if n else 0.0

    def backward(self) -> np.ndarray:
        if self._probs is None:
            raise RuntimeError("call forward before backward")
        grad = self._probs.copy()
        n = grad.shape[0]
        grad[np.arange(n), self._labels] -= 1
        grad /= max(n, 1)
        return grad

    @property
    def probabilities(self) -> np.ndarray:
        """softmax(logits) of the last forward call, ``(N, C)``."""
        return self._probs
