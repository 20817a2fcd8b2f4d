"""The fast convolution and pooling kernels against slow loop references kept in the package."""

import numpy as np
import pytest

from cnnlib.kernels import conv as K
from cnnlib.layers import AvgPool2D, Conv2D, ReLU
from cnnlib.nn import Sequential


@pytest.mark.parametrize("n,cin,cout,k,p,h,w", [(2, 1, 4, 3, 1, 8, 8), (3, 3, 7, 5, 2, 6, 9), (1, 2, 3, 1, 0, 4, 3),
                                                 (2, 4, 4, 3, 0, 5, 6), (1, 1, 1, 3, 2, 3, 3)])
def test_fast_conv_equals_loop_reference(rng, n, cin, cout, k, p, h, w):
    x = rng.standard_normal((n, cin, h, w))
    weight = rng.standard_normal((cout, cin, k, k))
    bias = rng.standard_normal(cout)
    y, cols = K.conv2d_forward(x, weight, bias, p)
    np.testing.assert_allclose(y, K.conv2d_naive(x, weight, bias, p), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(y.shape)
    gx, gw, gb = K.conv2d_backward(g, cols, x.shape, weight, p)
    rx, rw, rb = K.conv2d_backward_naive(x, weight, g, p)
    np.testing.assert_allclose(gx, rx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, rw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gb, rb, rtol=1e-12, atol=1e-12)


def test_loop_reference_is_cross_correlation():
    """A hand-computed case: no kernel flip (the 2018 report's first bug)."""
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    weight = np.array([[[[1.0, 0.0], [0.0, 0.0]]]])  # picks the top-left element of each window
    y = K.conv2d_naive(x, weight, np.zeros(1), 0)
    np.testing.assert_array_equal(y[0, 0], [[0, 1], [3, 4]])
    fast, _ = K.conv2d_forward(x, weight, np.zeros(1), 0)
    np.testing.assert_array_equal(fast[0, 0], [[0, 1], [3, 4]])


@pytest.mark.parametrize("k,cin,h,w,n", [(3, 1, 28, 28, 4), (3, 4, 14, 14, 3), (1, 2, 6, 4, 2), (5, 3, 8, 10, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_block_equals_separate_layers(rng, k, cin, h, w, n, dtype):
    """The fused conv-ReLU-pool fast path gives the numbers of the three layers run one by one."""
    conv = Conv2D(cin, 5, k, padding=(k - 1) // 2, init_std=0.5, rng=rng, dtype=dtype)
    conv.bias.value[:] = rng.standard_normal(5)
    fused = Sequential(conv, ReLU(), AvgPool2D(2))
    plain = Sequential(conv, ReLU(), AvgPool2D(2), fuse=False)
    assert type(fused._stages[0]).__name__ == "_FusedStage"
    assert type(plain._stages[0]).__name__ == "_LayerStage"
    x = rng.standard_normal((n, cin, h, w)).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for _ in range(2):  # twice: reused buffers must not leak state between calls
        y1 = fused.forward(x)
        conv.zero_grad()
        g = rng.standard_normal(y1.shape).astype(dtype)
        gx1 = fused.backward(g)
        gw1, gb1 = conv.weight.grad.copy(), conv.bias.grad.copy()
        y2 = plain.forward(x)
        conv.zero_grad()
        gx2 = plain.backward(g)
        assert y1.dtype == dtype and gx1.dtype == dtype
        np.testing.assert_allclose(y1, y2, rtol=tol, atol=tol)
        np.testing.assert_allclose(gx1, gx2, rtol=tol, atol=tol)
        np.testing.assert_allclose(gw1, conv.weight.grad, rtol=tol, atol=tol * 10)
        np.testing.assert_allclose(gb1, conv.bias.grad, rtol=tol, atol=tol * 10)


def test_gradients_accumulate_until_zero_grad(rng):
    conv = Conv2D(2, 3, 3, padding=1, rng=rng)
    model = Sequential(conv, ReLU(), AvgPool2D(2))
    x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    g = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    model.forward(x)
    model.backward(g)
    once = conv.weight.grad.copy()
    model.forward(x)
    model.backward(g)
    np.testing.assert_allclose(conv.weight.grad, 2 * once, rtol=1e-5)
    model.zero_grad()
    assert not conv.weight.grad.any() and not conv.bias.grad.any()


def test_weights_set_from_outside_are_used(rng):
    conv = Conv2D(1, 1, 3, padding=1, rng=rng)
    conv.weight.value[...] = 0
    conv.weight.value[0, 0, 1, 1] = 2.0  # identity times 2
    conv.bias.value[...] = 1.0
    x = rng.standard_normal((1, 1, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(conv.forward(x), 2 * x + 1, rtol=1e-6)
    model = Sequential(conv, ReLU(), AvgPool2D(2))
    expected = np.maximum(2 * x + 1, 0).reshape(1, 1, 2, 2, 2, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(model.forward(x), expected, rtol=1e-6)


def test_init_statistics_and_layouts():
    conv = Conv2D(3, 7, 5, init_std=0.2, rng=0)
    assert conv.weight.value.shape == (7, 3, 5, 5) and conv.bias.value.shape == (7,)
    assert conv.weight.value.dtype == np.float32
    assert not conv.bias.value.any()
    big = Conv2D(64, 64, 5, init_std=0.2, rng=0).weight.value
    assert abs(big.std() - 0.2) < 0.005 and abs(big.mean()) < 0.005


def test_parameter_zero_grad_then_accumulate(rng):
    from cnnlib import Parameter
    from cnnlib.layers import Linear

    p = Parameter(np.ones(3, np.float32))
    p.grad[:] = 5
    p.zero_grad()
    assert not p.grad.any()  # reads as zero right after zero_grad
    p.zero_grad()
    p.accumulate(np.array([1, 2, 3], np.float32))  # first accumulate writes
    p.accumulate(np.array([1, 1, 1], np.float32))  # later ones add
    np.testing.assert_array_equal(p.grad, [2, 3, 4])
    lin = Linear(4, 3, rng=rng)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    g = rng.standard_normal((5, 3)).astype(np.float32)
    lin.forward(x)
    lin.backward(g)
    once = lin.weight.grad.copy()
    lin.backward(g)
    np.testing.assert_allclose(lin.weight.grad, 2 * once, rtol=1e-6)
    lin.zero_grad()
    lin.backward(g)
    np.testing.assert_allclose(lin.weight.grad, once, rtol=1e-6)


def test_relu_gradient_at_exactly_zero_is_zero_as_in_pytorch():
    import torch
    from cnnlib.layers import ReLU

    x = np.array([[-1.0, 0.0, 2.0, 0.0]], np.float32)
    g = np.array([[3.0, 5.0, 7.0, 11.0]], np.float32)
    relu = ReLU()
    relu.forward(x)
    ours = relu.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).backward(torch.tensor(g))
    assert np.array_equal(ours, xt.grad.numpy()) and ours[0, 1] == 0 and ours[0, 3] == 0


def test_fused_block_mask_at_exactly_zero_matches_the_layers():
    """Pre-activations of exactly 0 (zero weights, zero bias) pass no gradient (PyTorch's
    ReLU'(0) = 0): the fused block's weight gradient must be exactly zero, as the layers'."""
    from cnnlib.layers import AvgPool2D, Conv2D, ReLU
    from cnnlib.nn import Sequential

    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 1, 8, 8)).astype(np.float32)
    g = rng.standard_normal((3, 2, 4, 4)).astype(np.float32)
    grads = {}
    for fuse in (True, False):
        conv = Conv2D(1, 2, 3, padding=1, init_std=0.1, rng=0)
        conv.weight.value[:] = 0
        net = Sequential(conv, ReLU(), AvgPool2D(2), fuse=fuse)
        net.zero_grad()
        net.forward(x)
        net.backward(g, need_input_grad=True)
        grads[fuse] = (conv.weight.grad.copy(), conv.bias.grad.copy())
    assert np.array_equal(grads[False][0], np.zeros_like(grads[False][0]))
    for ours, ref in zip(grads[True], grads[False]):
        assert np.array_equal(ours, ref)
