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
        if labels.dtype.kind not in "iu":
            raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
        if n and not (0 <= labels.min() and labels.max() < c):
            raise ValueError(f"labels must lie in 0..{c - 1}, got {labels.min()}..{labels.max()}")
        shifted = logits - logits.max(axis=1, keepdims=True)  # max of each row is 0
        exp = np.exp(shifted)
        sums = exp.sum(axis=1)  # >= 1: the log below is finite
        picked = shifted[np.arange(n), labels]
        # mean of log(sum) - picked, accumulated in float64
        loss = (np.sum(np.log(sums), dtype=np.float64) - np.sum(picked, dtype=np.float64)) / n if n else 0.0
        exp /= sums[:, None]
        self._probs, self._labels = exp, labels
        return float(loss)

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
