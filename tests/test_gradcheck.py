"""Finite-difference gradient checks in float64 for every layer, the loss and the models."""

import numpy as np
import pytest

from cnnlib import layers as L
from cnnlib.gradcheck import TOLERANCE, away_from_zero, check_layer, check_loss, distinct
from cnnlib.losses import SoftmaxCrossEntropy
from cnnlib.models import mlp, reference_cnn
from cnnlib.nn import Sequential




def assert_passes(errors):
    assert errors, "no gradient was checked"
    for name, err in errors.items():
        assert err < TOLERANCE, f"{name}: relative error {err:.2e}"


CONV_CASES = [
    # (batch, in, out, k, padding, H, W)
    (1, 1, 3, 1, 0, 5, 4),
    (5, 1, 3, 3, 1, 6, 5),
    (1, 3, 7, 3, 0, 7, 6),
    (5, 3, 7, 5, 2, 6, 7),
    (2, 3, 7, 3, 2, 4, 5),
    (1, 1, 3, 5, 1, 5, 5),
]


@pytest.mark.parametrize("n,cin,cout,k,p,h,w", CONV_CASES)
def test_conv2d(rng, n, cin, cout, k, p, h, w):
    layer = L.Conv2D(cin, cout, k, padding=p, init_std=0.5, rng=rng, dtype=np.float64)
    layer.bias.value[:] = rng.standard_normal(cout)  # nonzero bias
    assert_passes(check_layer(layer, rng.standard_normal((n, cin, h, w)), rng))


@pytest.mark.parametrize("k,shape", [(2, (5, 3, 6, 4)), (2, (1, 2, 7, 5)), (3, (2, 3, 7, 8)), (1, (1, 1, 3, 3))])
def test_avg_pool(rng, k, shape):
    assert_passes(check_layer(L.AvgPool2D(k), rng.standard_normal(shape), rng))


@pytest.mark.parametrize("k,shape", [(2, (5, 3, 6, 4)), (2, (1, 2, 7, 5)), (3, (2, 3, 7, 8))])
def test_max_pool(rng, k, shape):
    assert_passes(check_layer(L.MaxPool2D(k), distinct(rng, shape), rng))


@pytest.mark.parametrize("shape", [(1, 7), (5, 3, 4, 4)])
def test_relu(rng, shape):
    assert_passes(check_layer(L.ReLU(), away_from_zero(rng, shape), rng))


@pytest.mark.parametrize("shape", [(1, 7), (5, 3, 4, 4)])
def test_sigmoid(rng, shape):
    assert_passes(check_layer(L.Sigmoid(), 3 * rng.standard_normal(shape), rng))


@pytest.mark.parametrize("n,fin,fout", [(1, 1, 3), (5, 7, 3), (5, 3, 7)])
def test_linear(rng, n, fin, fout):
    layer = L.Linear(fin, fout, init_std=0.5, rng=rng, dtype=np.float64)
    layer.bias.value[:] = rng.standard_normal(fout)
    assert_passes(check_layer(layer, rng.standard_normal((n, fin)), rng))


def test_flatten(rng):
    assert_passes(check_layer(L.Flatten(), rng.standard_normal((5, 3, 2, 4)), rng))


@pytest.mark.parametrize("n,c", [(1, 10), (5, 10), (5, 3)])
def test_softmax_cross_entropy(rng, n, c):
    err = check_loss(SoftmaxCrossEntropy(), 3 * rng.standard_normal((n, c)), rng.integers(0, c, n))
    assert err < TOLERANCE, f"relative error {err:.2e}"


@pytest.mark.parametrize("fuse", [True, False])
def test_reference_cnn(rng, fuse):
    """The whole report network; with fuse=True this checks the fused conv-ReLU-pool kernel."""
    model = reference_cnn(init_std=0.3, rng=rng, dtype=np.float64)
    model = Sequential(*model.layers, fuse=fuse)
    for p in model.parameters():
        if p.name == "bias":
            p.value[:] = 0.1 * rng.standard_normal(p.shape)
    # 2 images are enough: 2*784 input differences plus 2158 parameter differences
    assert_passes(check_layer(model, rng.standard_normal((2, 1, 28, 28)), rng))


@pytest.mark.parametrize("k,cin,h,w,n", [(1, 2, 4, 6, 1), (3, 3, 6, 4, 5), (5, 1, 6, 6, 2), (3, 2, 2, 2, 3)])
def test_fused_block_odd_shapes(rng, k, cin, h, w, n):
    """conv(k, same padding) -> ReLU -> avgpool 2, twice, as the fast path runs it."""
    model = Sequential(
        L.Conv2D(cin, 3, k, padding=(k - 1) // 2, init_std=0.5, rng=rng, dtype=np.float64), L.ReLU(),
        L.AvgPool2D(2),
        L.Conv2D(3, 2, k, padding=(k - 1) // 2, init_std=0.5, rng=rng, dtype=np.float64), L.ReLU(),
        L.AvgPool2D(2) if h >= 4 and w >= 4 else L.Flatten(),
    )
    assert any(type(s).__name__ == "_FusedStage" for s in model._stages)
    for p in model.parameters():
        if p.name == "bias":
            p.value[:] = 0.1 * rng.standard_normal(p.shape)
    assert_passes(check_layer(model, rng.standard_normal((n, cin, h, w)), rng))


def test_mlp(rng):
    model = mlp(hidden=(6,), init_std=0.3, rng=rng, dtype=np.float64)
    assert_passes(check_layer(model, rng.standard_normal((3, 1, 28, 28)), rng))


class _WrongReLU(L.ReLU):
    """A plausible bug: the gradient also flows where the input was negative, at 1/10 strength."""

    def backward(self, grad_y, need_input_grad=True):
        return grad_y * np.where(self._mask, 1.0, 0.1)


def test_checker_rejects_a_wrong_gradient(rng):
    x = away_from_zero(rng, (5, 3, 4, 4))
    errors = check_layer(_WrongReLU(), x, rng)
    assert errors["input"] > 100 * TOLERANCE, f"the checker passed a wrong gradient: {errors}"
    # and the same input with the correct layer passes, so it is the bug that was caught
    assert check_layer(L.ReLU(), x, rng)["input"] < TOLERANCE


def test_checker_rejects_a_wrong_parameter_gradient(rng):
    class WrongLinear(L.Linear):
        def backward(self, grad_y, need_input_grad=True):
            gx = super().backward(grad_y, need_input_grad)
            self.bias.grad *= 2  # bias gradient doubled
            return gx

    layer = WrongLinear(4, 3, init_std=0.5, rng=rng, dtype=np.float64)
    errors = check_layer(layer, rng.standard_normal((5, 4)), rng)
    assert errors["bias"] > 100 * TOLERANCE
    assert errors["weight"] < TOLERANCE and errors["input"] < TOLERANCE
