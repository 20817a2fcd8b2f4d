"""The fused conv -> ReLU -> avg-pool block: layering, gradient accumulation, ReLU at exactly 0."""

import ast
from pathlib import Path

import numpy as np
import pytest

from cnnlib import layers as L
from cnnlib.kernels.fused import ConvReluAvgPool2
from cnnlib.nn import Sequential, fusable
from cnnlib.parameter import Parameter

KERNELS = Path(__file__).resolve().parents[1] / "cnnlib" / "kernels"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against cnnlib.kernels
                base = "cnnlib.kernels" if node.level == 1 else "cnnlib"
                names.add(f"{base}.{node.module}" if node.module else base)
            else:
                names.add(node.module)
    return names


def test_kernels_import_nothing_above_them():
    files = sorted(KERNELS.glob("*.py"))
    assert len(files) >= 4
    allowed = ("cnnlib.kernels", "cnnlib.parameter")
    for path in files:
        above = {m for m in imported_modules(path)
                 if m == "cnnlib" or (m.startswith("cnnlib.") and not m.startswith(allowed))}
        assert not above, f"{path.name} imports {sorted(above)}: kernels must sit below layers and nn"


class SpyParameter(Parameter):
    """A Parameter that counts the gradients added through :meth:`accumulate`."""

    def __init__(self, value, name=""):
        super().__init__(value, name)
        self.calls = 0

    def accumulate(self, g):
        self.calls += 1
        super().accumulate(g)


def _conv(rng, cin=2, cout=3, k=3, dtype=np.float64):
    conv = L.Conv2D(cin, cout, k, padding=(k - 1) // 2, init_std=0.5, rng=rng, dtype=dtype)
    conv.bias.value[:] = 0.1 * rng.standard_normal(cout)
    return conv


def test_fused_block_adds_gradients_through_parameter_accumulate(rng):
    conv = _conv(rng)
    weight = SpyParameter(conv.weight.value.copy(), "weight")
    bias = SpyParameter(conv.bias.value.copy(), "bias")
    block = ConvReluAvgPool2(weight, bias)
    x = rng.standard_normal((2, 4, 6, 6))  # (C, N, H, W)
    y = block.forward(x)
    g = rng.standard_normal(y.shape)
    weight.zero_grad(), bias.zero_grad()
    block.backward(g, need_input_grad=False)
    assert (weight.calls, bias.calls) == (1, 1)
    # and the numbers are those of the separate layers
    layers = Sequential(conv, L.ReLU(), L.AvgPool2D(2), fuse=False)
    layers.forward(x.transpose(1, 0, 2, 3))
    layers.zero_grad()
    layers.backward(g.transpose(1, 0, 2, 3))
    np.testing.assert_allclose(weight.grad, conv.weight.grad, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(bias.grad, conv.bias.grad, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("fuse", [True, False])
def test_gradients_accumulate_until_zero_grad(rng, fuse):
    conv = _conv(rng)
    model = Sequential(conv, L.ReLU(), L.AvgPool2D(2), fuse=fuse)
    assert any(type(s).__name__ == "_FusedStage" for s in model._stages) == fuse
    x = rng.standard_normal((4, 2, 6, 6))
    g = rng.standard_normal(model.forward(x).shape)
    model.zero_grad()
    model.backward(g)
    once = [p.grad.copy() for p in model.parameters()]
    model.forward(x)
    model.backward(g)
    for p, a in zip(model.parameters(), once):
        np.testing.assert_allclose(p.grad, 2 * a, rtol=1e-12)
    model.zero_grad()
    model.forward(x)
    model.backward(g)
    for p, a in zip(model.parameters(), once):
        np.testing.assert_array_equal(p.grad, a)


def test_fusable_decides_in_nn(rng):
    conv = _conv(rng)
    assert fusable(conv, L.ReLU(), L.AvgPool2D(2))
    assert not fusable(conv, L.ReLU(), L.AvgPool2D(3))
    assert not fusable(conv, L.Sigmoid(), L.AvgPool2D(2))
    assert not fusable(L.Conv2D(2, 3, 3, padding=0, rng=rng), L.ReLU(), L.AvgPool2D(2))
    assert not fusable(L.Conv2D(2, 3, 2, padding=1, rng=rng), L.ReLU(), L.AvgPool2D(2))


def test_fused_block_rejects_a_weight_it_cannot_run(rng):
    with pytest.raises(ValueError, match="k odd"):
        ConvReluAvgPool2(Parameter(np.zeros((3, 2, 2, 2))), Parameter(np.zeros(3)))
    with pytest.raises(ValueError, match="bias shape"):
        ConvReluAvgPool2(Parameter(np.zeros((3, 2, 3, 3))), Parameter(np.zeros(4)))
