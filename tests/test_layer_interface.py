"""One interface for every layer: ``forward(x, train=True)``, ``backward(grad_y, need_input_grad=True)``.

Behaviour, not signatures: ``train=False`` stores nothing for backward (a backward
after it refers to the last training forward), ``need_input_grad=False`` still adds the
parameter gradients, and ``Sequential`` hands both flags to every layer.
"""

import numpy as np
import pytest

from cnnlib import layers as L
from cnnlib.models import mlp, reference_cnn
from cnnlib.nn import Sequential
from cnnlib.parameter import Parameter

F64 = np.float64


def _cases():
    """(name, layer factory, input shape) for every layer type and both models (float64)."""
    return [
        ("Conv2D", lambda r: L.Conv2D(2, 3, 3, padding=1, init_std=0.5, rng=r, dtype=F64), (2, 2, 6, 5)),
        ("AvgPool2D", lambda r: L.AvgPool2D(2), (2, 3, 6, 4)),
        ("MaxPool2D", lambda r: L.MaxPool2D(2), (2, 3, 6, 4)),
        ("ReLU", lambda r: L.ReLU(), (3, 7)),
        ("Sigmoid", lambda r: L.Sigmoid(), (3, 7)),
        ("Linear", lambda r: L.Linear(7, 4, init_std=0.5, rng=r, dtype=F64), (3, 7)),
        ("Flatten", lambda r: L.Flatten(), (2, 3, 2, 2)),
        ("fused block", lambda r: Sequential(
            L.Conv2D(2, 3, 3, padding=1, init_std=0.5, rng=r, dtype=F64), L.ReLU(), L.AvgPool2D(2)), (2, 2, 6, 4)),
        ("fused block, odd input (layer fallback)", lambda r: Sequential(
            L.Conv2D(2, 3, 3, padding=1, init_std=0.5, rng=r, dtype=F64), L.ReLU(), L.AvgPool2D(2)), (2, 2, 7, 5)),
        ("reference_cnn fused", lambda r: reference_cnn(init_std=0.3, rng=r, dtype=F64), (3, 1, 28, 28)),
        ("reference_cnn fused, odd input", lambda r: Sequential(
            L.Conv2D(1, 2, 3, padding=1, init_std=0.5, rng=r, dtype=F64), L.ReLU(), L.AvgPool2D(2), L.Flatten(),
            L.Linear(18, 3, init_std=0.5, rng=r, dtype=F64)), (2, 1, 7, 7)),
        ("reference_cnn unfused", lambda r: Sequential(*reference_cnn(init_std=0.3, rng=r, dtype=F64).layers,
                                                       fuse=False), (3, 1, 28, 28)),
        ("mlp", lambda r: mlp(hidden=(5,), init_std=0.3, rng=r, dtype=F64), (3, 1, 28, 28)),
    ]


CASES = _cases()
IDS = [c[0] for c in CASES]


def _randomize_biases(layer, rng):
    for p in layer.parameters():
        if p.name == "bias":
            p.value[:] = 0.1 * rng.standard_normal(p.shape)


def _grads(layer):
    return [p.grad.copy() for p in layer.parameters()]


@pytest.mark.parametrize("name,make,shape", CASES, ids=IDS)
def test_eval_forward_keeps_nothing_for_backward(rng, name, make, shape):
    layer = make(rng)
    x = rng.standard_normal(shape)
    layer.forward(x, train=False)
    with pytest.raises(RuntimeError, match="train=True"):
        layer.backward(np.ones_like(layer.forward(x, train=False)))


@pytest.mark.parametrize("name,make,shape", CASES, ids=IDS)
def test_eval_forward_between_does_not_change_backward(rng, name, make, shape):
    """forward(x1), forward(x2, train=False), backward(g) == forward(x1), backward(g)."""
    layer = make(rng)
    _randomize_biases(layer, rng)
    x1, x2 = rng.standard_normal(shape), rng.standard_normal(shape)
    y = layer.forward(x1)
    g = rng.standard_normal(y.shape)
    layer.zero_grad()
    gx_ref = layer.backward(g).copy()
    ref = _grads(layer)

    layer.zero_grad()
    layer.forward(x1)
    y2 = layer.forward(x2, train=False)
    assert not np.allclose(y2, y)  # the evaluation really saw other data
    gx = layer.backward(g)
    np.testing.assert_array_equal(gx, gx_ref)
    for a, b in zip(_grads(layer), ref):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name,make,shape", CASES, ids=IDS)
def test_need_input_grad_false_returns_none_and_keeps_parameter_grads(rng, name, make, shape):
    layer = make(rng)
    _randomize_biases(layer, rng)
    x = rng.standard_normal(shape)
    g = rng.standard_normal(layer.forward(x).shape)
    layer.zero_grad()
    gx = layer.backward(g, need_input_grad=True)
    assert gx.shape == x.shape
    ref = _grads(layer)
    layer.zero_grad()
    layer.forward(x)
    assert layer.backward(g, need_input_grad=False) is None
    for a, b in zip(_grads(layer), ref):
        np.testing.assert_array_equal(a, b)


class Recorder(L.Layer):
    """Records the flags it is given; identity forward, optional parameter."""

    def __init__(self, with_param=False):
        self.train_flags, self.need_flags = [], []
        self.p = Parameter(np.zeros(1), "weight") if with_param else None

    def parameters(self):
        return [self.p] if self.p is not None else []

    def forward(self, x, train=True):
        self.train_flags.append(train)
        return x

    def backward(self, grad_y, *args, **kwargs):  # no named flag: only an interface that passes it works
        self.need_flags.append(kwargs.get("need_input_grad", args[0] if args else "not passed"))
        return grad_y


def test_sequential_passes_train_to_every_layer():
    a, b = Recorder(), Recorder(with_param=True)
    model = Sequential(a, L.ReLU(), b, L.Flatten())
    x = np.ones((2, 3))
    model.forward(x, train=False)
    model.forward(x)
    model(x, train=False)
    assert a.train_flags == b.train_flags == [False, True, False]


def test_sequential_passes_need_input_grad_to_every_layer():
    first, second = Recorder(with_param=True), Recorder(with_param=True)
    model = Sequential(first, L.ReLU(), second)
    x = np.ones((2, 3))
    model.forward(x)
    model.backward(np.ones((2, 3)), need_input_grad=False)
    # the first layer's input gradient is not needed; the second's is (the first has parameters)
    assert first.need_flags == [False] and second.need_flags == [True]
    model.forward(x)
    model.backward(np.ones((2, 3)))
    assert first.need_flags == [False, True]


def test_layer_call_passes_train():
    layer = L.Linear(3, 2, rng=0)
    layer(np.ones((1, 3)), train=False)
    with pytest.raises(RuntimeError):
        layer.backward(np.ones((1, 2)))
    layer(np.ones((1, 3)))
    assert layer.backward(np.ones((1, 2))).shape == (1, 3)
