"""cnnlib against PyTorch (the reference implementation), float32, to float32 rounding."""

import numpy as np
import pytest

import torch  # the reference implementation: a test dependency (pip install -e '.[dev]')

from cnnlib import layers as L
from cnnlib.losses import SoftmaxCrossEntropy
from cnnlib.models import reference_cnn
from cnnlib.nn import Sequential
from cnnlib.optim import SGD

F = torch.nn.functional

RTOL, ATOL = 2e-5, 2e-6  # float32 rounding, summation orders differ


def t(a, grad=False):
    return torch.tensor(np.asarray(a), requires_grad=grad)


def close(ours, theirs, what):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    scale = max(1.0, float(np.abs(theirs).max()))
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL * scale, err_msg=what)


def run_both(layer, torch_fn, x, rng, params=()):
    """Forward and backward through our layer and torch_fn; compare output and all gradients."""
    x = x.astype(np.float32)
    y = layer.forward(x)
    g = rng.standard_normal(y.shape).astype(np.float32)
    layer.zero_grad()
    gx = layer.backward(g)
    xt = t(x, True)
    pt = [t(p.value, True) for p in layer.parameters()]
    yt = torch_fn(xt, *pt)
    yt.backward(t(g))
    close(y, yt, "output")
    close(gx, xt.grad, "input gradient")
    for p, q in zip(layer.parameters(), pt):
        close(p.grad, q.grad, f"{p.name} gradient")


@pytest.mark.parametrize("n,cin,cout,k,p,h,w", [(5, 1, 4, 3, 1, 28, 28), (2, 3, 7, 5, 2, 9, 8), (1, 3, 7, 1, 0, 4, 5),
                                                 (3, 4, 4, 3, 0, 7, 7)])
def test_conv2d(rng, n, cin, cout, k, p, h, w):
    layer = L.Conv2D(cin, cout, k, padding=p, init_std=0.3, rng=rng)
    layer.bias.value[:] = rng.standard_normal(cout)
    run_both(layer, lambda x, w_, b: F.conv2d(x, w_, b, padding=p), rng.standard_normal((n, cin, h, w)), rng)


@pytest.mark.parametrize("k,shape", [(2, (5, 4, 28, 28)), (2, (2, 3, 7, 5)), (3, (2, 2, 8, 7))])
def test_avg_pool(rng, k, shape):
    run_both(L.AvgPool2D(k), lambda x: F.avg_pool2d(x, k), rng.standard_normal(shape), rng)


@pytest.mark.parametrize("k,shape", [(2, (5, 4, 28, 28)), (2, (2, 3, 7, 5)), (3, (2, 2, 8, 7))])
def test_max_pool(rng, k, shape):
    run_both(L.MaxPool2D(k), lambda x: F.max_pool2d(x, k), rng.standard_normal(shape), rng)


def test_relu_sigmoid_flatten_linear(rng):
    x = rng.standard_normal((5, 3, 4, 4))
    run_both(L.ReLU(), F.relu, x, rng)
    run_both(L.Sigmoid(), torch.sigmoid, 10 * x, rng)
    run_both(L.Flatten(), lambda a: torch.flatten(a, 1), x, rng)
    lin = L.Linear(48, 10, init_std=0.3, rng=rng)
    lin.bias.value[:] = rng.standard_normal(10)
    run_both(lin, F.linear, x.reshape(5, 48), rng)


@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_softmax_cross_entropy(rng, scale):
    logits = (scale * rng.standard_normal((7, 10))).astype(np.float32)
    labels = rng.integers(0, 10, 7)
    ours = SoftmaxCrossEntropy()
    loss = ours.forward(logits, labels)
    grad = ours.backward()
    lt = t(logits, True)
    ref = F.cross_entropy(lt, t(labels))
    ref.backward()
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert loss == pytest.approx(ref.item(), rel=1e-5)
    close(grad, lt.grad, "logit gradient")


def torch_reference_cnn(model):
    """A torch copy of our reference CNN with the same weights."""
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.AvgPool2d(2),
        torch.nn.Conv2d(4, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.AvgPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(196, 10),
    )
    with torch.no_grad():
        for ours, theirs in zip(model.parameters(), net.parameters()):
            theirs.copy_(t(ours.value))
    return net


@pytest.mark.parametrize("fuse", [True, False])
def test_reference_cnn_forward_backward(rng, fuse):
    model = Sequential(*reference_cnn(init_std=0.2, rng=rng).layers, fuse=fuse)
    net = torch_reference_cnn(model)
    x = (rng.integers(0, 256, (16, 1, 28, 28)) / 255 - 0.5).astype(np.float32)
    y = rng.integers(0, 10, 16)
    loss = SoftmaxCrossEntropy()
    out = model.forward(x)
    value = loss.forward(out, y)
    gx = model.backward(loss.backward())
    xt = t(x, True)
    ref = F.cross_entropy(net(xt), t(y))
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-5)
    close(out, net(xt), "logits")
    close(gx, xt.grad, "input gradient")
    for p, q in zip(model.parameters(), net.parameters()):
        close(p.grad, q.grad, f"{p.name} gradient")


def test_sgd_20_steps_match_torch(rng):
    """Momentum, weight decay and a learning-rate change midway: same weights after 20 steps."""
    model = reference_cnn(init_std=0.2, rng=rng)
    net = torch_reference_cnn(model)
    opt = SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=0.0005)
    topt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=0.0005)
    loss = SoftmaxCrossEntropy()
    for step in range(20):
        if step == 10:
            opt.lr = 0.02
            for group in topt.param_groups:
                group["lr"] = 0.02
        x = (rng.integers(0, 256, (20, 1, 28, 28)) / 255 - 0.5).astype(np.float32)
        y = rng.integers(0, 10, 20)
        opt.zero_grad()
        loss.forward(model.forward(x), y)
        model.backward(loss.backward(), need_input_grad=False)
        opt.step()
        topt.zero_grad()
        F.cross_entropy(net(t(x)), t(y)).backward()
        topt.step()
    for p, q in zip(model.parameters(), net.parameters()):
        np.testing.assert_allclose(p.value, q.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=p.name)
    # and training did move the weights (a no-op optimizer would fail above only by luck)
    start = reference_cnn(init_std=0.2, rng=np.random.default_rng(12345))
    assert any(not np.allclose(a.value, b.value) for a, b in zip(model.parameters(), start.parameters()))


def test_sgd_plain_and_weight_decay_only(rng):
    """The update rule without momentum and with weight decay only, one parameter."""
    from cnnlib import Parameter

    w0 = rng.standard_normal(5).astype(np.float32)
    p = Parameter(w0.copy())
    wt = t(w0, True)
    opt = SGD([p], lr=0.1, weight_decay=0.01)
    topt = torch.optim.SGD([wt], lr=0.1, weight_decay=0.01)
    for _ in range(3):
        g = rng.standard_normal(5).astype(np.float32)
        p.grad[:] = g
        wt.grad = t(g)
        opt.step()
        topt.step()
    np.testing.assert_allclose(p.value, wt.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_large_parameters_match_torch(rng, order, dtype):
    """Large parameters take the BLAS path of the update: same numbers as torch."""
    from cnnlib import Parameter

    w0 = np.asarray(rng.standard_normal((64, 100)), dtype=dtype, order=order)
    p = Parameter(w0.copy(order="K"))
    assert p.value.size >= 4096 and p.value.flags[f"{order}_CONTIGUOUS"]
    wt = t(np.ascontiguousarray(w0), True)
    opt = SGD([p], lr=0.05, momentum=0.9, weight_decay=0.01)
    topt = torch.optim.SGD([wt], lr=0.05, momentum=0.9, weight_decay=0.01)
    for step in range(6):
        if step == 3:
            opt.lr = 0.02
            topt.param_groups[0]["lr"] = 0.02
        g = np.asarray(rng.standard_normal((64, 100)), dtype=dtype)
        opt.zero_grad()
        p.accumulate(g)
        wt.grad = t(g)
        opt.step()
        topt.step()
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(p.value, wt.detach().numpy(), rtol=rtol, atol=rtol)
    assert not np.allclose(p.value, w0)
