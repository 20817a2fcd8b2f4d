"""Containers of layers.

``Sequential(*layers)`` runs layers in order. When it sees
``Conv2D(k, padding=(k-1)/2) -> ReLU -> AvgPool2D(2)`` it runs the three as one fused
block (:mod:`cnnlib.kernels.fused`) on even-sized inputs; the numbers are those of
the separate layers up to float rounding, and ``Sequential(..., fuse=False)`` turns
this off. Parameters are always the layers' own ``Parameter`` objects.
"""

from __future__ import annotations

import numpy as np

from cnnlib.kernels.fused import ConvReluAvgPool2
from cnnlib.layers import AvgPool2D, Conv2D, Layer, ReLU
from cnnlib.parameter import Parameter


def fusable(conv, relu, pool) -> bool:
    """True when ``conv -> relu -> pool`` can run as :class:`~cnnlib.kernels.fused.ConvReluAvgPool2`:
    exactly ``Conv2D(k odd, padding=(k-1)/2) -> ReLU -> AvgPool2D(2)`` (subclasses may change
    the maths, so they are not fused)."""
    return (
        type(conv) is Conv2D
        and type(relu) is ReLU
        and type(pool) is AvgPool2D
        and pool.kernel_size == 2
        and conv.kernel_size % 2 == 1
        and 2 * conv.padding == conv.kernel_size - 1
    )


class _LayerStage:
    """One plain layer, NCHW in and out."""

    channel_first = False

    def __init__(self, layer):
        self.layer = layer
        self.has_params = bool(layer.parameters())

    def forward(self, x, train):
        return self.layer.forward(x, train=train)

    def backward(self, g, need_input_grad):
        return self.layer.backward(g, need_input_grad=need_input_grad)


class _FusedStage:
    """Conv -> ReLU -> AvgPool2 run channel-first; falls back to the layers for odd sizes."""

    channel_first = True
    has_params = True

    def __init__(self, conv, relu, pool):
        self.layers = (conv, relu, pool)
        self.block = ConvReluAvgPool2(conv.weight, conv.bias)
        self._fallback = False

    def forward(self, x, train):
        c, n, h, w = x.shape
        self._fallback = bool(h % 2 or w % 2)
        if not self._fallback:
            return self.block.forward(x, train=train)
        y = x.transpose(1, 0, 2, 3)
        for layer in self.layers:
            y = layer.forward(y, train=train)
        return np.ascontiguousarray(y.transpose(1, 0, 2, 3))

    def backward(self, g, need_input_grad):
        if not self._fallback:
            return self.block.backward(g, need_input_grad)
        conv, relu, pool = self.layers
        g = relu.backward(pool.backward(g.transpose(1, 0, 2, 3)))
        gx = conv.backward(g, need_input_grad=need_input_grad)
        return None if gx is None else np.ascontiguousarray(gx.transpose(1, 0, 2, 3))


def _to_layout(x, channel_first_now: bool, channel_first_wanted: bool):
    if channel_first_now == channel_first_wanted:
        return x
    return np.ascontiguousarray(x.swapaxes(0, 1))


class Sequential(Layer):
    """Layers applied in order: ``forward`` left to right, ``backward`` right to left.

    Shapes are those of the first layer's input and the last layer's output.
    Every layer must have the :class:`cnnlib.layers.Layer` interface:
    ``forward(x, train)`` (``train`` is passed to every layer) and
    ``backward(grad_y, need_input_grad)``, which may return None when the flag is False.
    ``backward(grad, need_input_grad=False)`` skips the work that only the gradient
    with respect to the model input needs (training never uses it) and returns None.
    """

    def __init__(self, *layers: Layer, fuse: bool = True):
        for i, layer in enumerate(layers):
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise TypeError(f"layer {i} ({layer!r}) has no forward/backward")
        self.layers = list(layers)
        self.fuse = fuse
        self._stages = self._plan()
        self._forward_layouts = None

    def _plan(self):
        stages, i, ls = [], 0, self.layers
        while i < len(ls):
            if self.fuse and i + 2 < len(ls) and fusable(ls[i], ls[i + 1], ls[i + 2]):
                stages.append(_FusedStage(ls[i], ls[i + 1], ls[i + 2]))
                i += 3
            else:
                stages.append(_LayerStage(ls[i]))
                i += 1
        return stages

    def parameters(self) -> list[Parameter]:
        return [p for layer in self.layers for p in layer.parameters()]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of all parameters keyed as PyTorch's ``nn.Sequential`` does: ``"0.weight"``, ``"0.bias"``..."""
        return {f"{i}.{p.name}": p.value.copy() for i, layer in enumerate(self.layers) for p in layer.parameters()}

    def load_state_dict(self, state: dict) -> None:
        """Set every parameter from ``state`` (as made by :meth:`state_dict`), in place."""
        expected = {f"{i}.{p.name}": p for i, layer in enumerate(self.layers) for p in layer.parameters()}
        missing, unexpected = set(expected) - set(state), set(state) - set(expected)
        if missing or unexpected:
            raise KeyError(f"state does not fit this model: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
        for key, p in expected.items():
            value = np.asarray(state[key])
            if value.shape != p.shape:
                raise ValueError(f"{key}: shape {value.shape} does not fit {p.shape}")
            p.value[...] = value

    def output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.output_shape(shape)
        return shape

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        """Run all layers; ``train`` goes to every layer. ``train=False`` keeps nothing for
        backward (use it for evaluation; a following ``backward`` still refers to the last
        ``train=True`` call)."""
        channel_first = False
        for stage in self._stages:
            x = _to_layout(x, channel_first, stage.channel_first)
            channel_first = stage.channel_first
            x = stage.forward(x, train)
        return _to_layout(x, channel_first, False)

    def backward(self, grad_y: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        # a stage needs its input gradient if any earlier stage has parameters
        needs = []
        seen_params = False
        for stage in self._stages:
            needs.append(need_input_grad or seen_params)
            seen_params = seen_params or stage.has_params
        g = grad_y
        channel_first = False
        for stage, need in zip(reversed(self._stages), reversed(needs)):
            if not need and not stage.has_params:
                return None  # nothing below this point has parameters
            g = _to_layout(g, channel_first, stage.channel_first)
            channel_first = stage.channel_first
            g = stage.backward(g, need)
            if g is None:
                return None
        return _to_layout(g, channel_first, False)

    def predict(self, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Outputs for ``x`` in chunks of ``batch_size`` (bounded memory), nothing cached."""
        outs = [self.forward(x[i : i + batch_size], train=False) for i in range(0, len(x), batch_size)]
        return np.concatenate(outs) if outs else np.empty((0,))

    def astype(self, dtype):
        super().astype(dtype)
        self._stages = self._plan()  # fused buffers follow the new dtype
        return self

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential(\n  {inner}\n)"
