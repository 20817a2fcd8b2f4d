"""Evidence for the report's "numerical safeguards": a gradient check of every layer and a
loss-stability table. Everything in float64, fixed seed."""

import math

import numpy as np

from cnnlib import layers as L
from cnnlib.gradcheck import TOLERANCE, away_from_zero, check_layer, check_loss, distinct
from cnnlib.io import write_csv
from cnnlib.losses import SoftmaxCrossEntropy
from cnnlib.models import reference_cnn


def cases(rng):
    """(layer label, settings, layer, input) for every layer type of cnnlib."""
    f64 = np.float64
    yield "Conv2D", "1->3, k=3, pad=1, 5x(6x5)", L.Conv2D(1, 3, 3, 1, 0.5, rng, f64), rng.standard_normal((5, 1, 6, 5))
    yield "Conv2D", "3->7, k=5, pad=2, 2x(6x7)", L.Conv2D(3, 7, 5, 2, 0.5, rng, f64), rng.standard_normal((2, 3, 6, 7))
    yield "Conv2D", "3->7, k=1, pad=0, 1x(4x5)", L.Conv2D(3, 7, 1, 0, 0.5, rng, f64), rng.standard_normal((1, 3, 4, 5))
    yield "AvgPool2D", "k=2, 5x3x(7x5)", L.AvgPool2D(2), rng.standard_normal((5, 3, 7, 5))
    yield "MaxPool2D", "k=2, 5x3x(7x5)", L.MaxPool2D(2), distinct(rng, (5, 3, 7, 5))
    yield "ReLU", "5x3x(4x4)", L.ReLU(), away_from_zero(rng, (5, 3, 4, 4))
    yield "Sigmoid", "5x7", L.Sigmoid(), 3 * rng.standard_normal((5, 7))
    yield "Linear", "7->3, batch 5", L.Linear(7, 3, 0.5, rng, f64), rng.standard_normal((5, 7))
    yield "Flatten", "5x3x(2x4)", L.Flatten(), rng.standard_normal((5, 3, 2, 4))
    yield ("reference CNN", "whole network, 2x(1x28x28)", reference_cnn(init_std=0.3, rng=rng, dtype=f64),
           rng.standard_normal((2, 1, 28, 28)))


def gradcheck_rows(seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for label, settings, layer, x in cases(rng):
        for p in layer.parameters():
            if p.name == "bias":
                p.value[:] = 0.1 * rng.standard_normal(p.shape)
        for what, err in check_layer(layer, x, rng).items():
            rows.append({"layer": label, "settings": settings, "gradient": what, "relative_error": err,
                         "tolerance": TOLERANCE, "passed": err < TOLERANCE})
    err = check_loss(SoftmaxCrossEntropy(), 3 * rng.standard_normal((5, 10)), rng.integers(0, 10, 5))
    rows.append({"layer": "SoftmaxCrossEntropy", "settings": "5x10 logits", "gradient": "logits",
                 "relative_error": err, "tolerance": TOLERANCE, "passed": err < TOLERANCE})
    return rows


def naive_cross_entropy(logits, labels):
    """Softmax cross-entropy as first written in 2018: no max subtraction, no guard on log."""
    with np.errstate(all="ignore"):
        e = np.exp(logits)
        p = e / e.sum(axis=1, keepdims=True)
        return float(-np.log(p[np.arange(len(labels)), labels]).mean())


def stability_rows(seed=0):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((100, 10)).astype(np.float32)
    labels = rng.integers(0, 10, 100)
    rows = []
    for scale in (1.0, 1e2, 1e4, 1e6):
        logits = base * np.float32(scale)
        loss = SoftmaxCrossEntropy()
        value = loss.forward(logits, labels)
        grad = loss.backward()
        naive = naive_cross_entropy(logits, labels)
        rows.append({"logit_scale": scale, "loss": value, "loss_finite": math.isfinite(value),
                     "gradient_finite": bool(np.all(np.isfinite(grad))), "naive_loss": naive,
                     "naive_finite": math.isfinite(naive)})
    return rows


if "snakemake" in globals():  # run by Snakemake
    with open(snakemake.log[0], "w") as log:
        rows = gradcheck_rows()
        write_csv(snakemake.output.gradcheck, list(rows[0]), rows)
        failed = [r for r in rows if not r["passed"]]
        print(f"{len(rows)} gradients checked, {len(failed)} above tolerance", file=log)
        rows = stability_rows()
        write_csv(snakemake.output.stability, list(rows[0]), rows)
