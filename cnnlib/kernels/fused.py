"""Fast path for ``Conv2D(k, padding=(k-1)/2) -> ReLU -> AvgPool2D(2)`` on even-sized inputs.

Layout: this block works channel-first, ``x (C, N, H, W)`` -> ``y (O, N, H/2, W/2)``
("CNHW"), so that one matmul over all samples gives the output without transposes.

How it is fast (the report's network, batch 100, one core):

* The zero-padded input is split once into its four even/odd row/column sub-grids,
  each stored flat per channel: ``(C, N*hs*ws)`` with ``hs = H/2 + p``, ``ws = W/2 + p``.
  For output parity (P, Q) and kernel tap (di, dj) the input needed is then ONE
  contiguous slice of one sub-grid, shifted by ``(P+di)//2 * ws + (Q+dj)//2``. The
  output is computed on the ``hs x ws`` grid of every sample; the extra ``p`` rows and
  columns are junk and are cut off (their gradient is zero). So im2col is ``4*k*k``
  memcpys and col2im the same slices added back.
* Columns are ordered (tap, channel) x (parity, position) with a final row of ones,
  so conv + bias is one matmul ``Wm (O, k*k*C+1) @ cols``, run in cache-sized chunks
  (these skinny matmuls are several times slower in one piece).
* The output comes grouped by parity: 2x2 average pooling is three contiguous adds of
  the four parity slabs and its backward a broadcast.
* ReLU keeps a float 0/1 mask (a multiply is cheaper here than ``np.maximum``).
* Work arrays are allocated once per input shape and reused.
"""

from __future__ import annotations

import numpy as np

_CACHE_BYTES = 640_000  # target size of one column chunk (fits a 1 MB L2 with room to spare)


def fusable(conv, relu, pool) -> bool:
    """True when ``conv -> relu -> pool`` can use :class:`ConvReluAvgPool2`."""
    from cnnlib.layers import AvgPool2D, Conv2D, ReLU

    return (
        type(conv) is Conv2D
        and type(relu) is ReLU
        and type(pool) is AvgPool2D
        and pool.kernel_size == 2
        and conv.kernel_size % 2 == 1
        and 2 * conv.padding == conv.kernel_size - 1
    )


def _chunk(rows: int, itemsize: int) -> int:
    c = 512
    while 2 * c * rows * itemsize <= _CACHE_BYTES:
        c *= 2
    return c


def matmul_chunked(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[:] = a @ b`` for a small ``a (O, K)`` and a wide ``b (K, M)``, in column chunks."""
    m = b.shape[1]
    step = _chunk(a.shape[0] + b.shape[0], b.itemsize)  # a chunk of b and of out stays in cache
    for i in range(0, m, step):
        np.matmul(a, b[:, i : i + step], out=out[:, i : i + step])
    return out


def matmul_nt_chunked(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b.T`` for wide ``a (O, M)`` and ``b (K, M)``: a sum of per-chunk products."""
    m = b.shape[1]
    step = _chunk(b.shape[0] + a.shape[0], b.itemsize)
    acc = np.zeros((a.shape[0], b.shape[0]), dtype=np.result_type(a, b))
    for i in range(0, m, step):
        acc += a[:, i : i + step] @ b[:, i : i + step].T
    return acc


class _Buffers:
    """Work arrays for one input shape; allocated once, reused every call."""

    def __init__(self, c, n, h, w, o, k, p, dtype):
        self.hs, self.ws = h // 2 + p, w // 2 + p
        self.length = n * self.hs * self.ws  # positions per parity
        tail = p * self.ws + p  # the largest shift
        kk = k * k
        self.xs = np.zeros((4, c, self.length + tail), dtype=dtype)  # padding stays zero
        self.cols = np.empty((kk * c + 1, 4, self.length), dtype=dtype)
        self.cols[-1] = 1.0  # bias row
        self.z = np.empty((o, 4, self.length), dtype=dtype)  # conv output, then ReLU output
        self.mask = np.empty_like(self.z)
        self.gz = np.empty_like(self.z)
        self.g4 = np.zeros((o, n, self.hs, self.ws), dtype=dtype)  # junk border stays zero
        self.dcols = None  # allocated on first input-gradient request
        self.gxs = None

    def subgrids(self, n):
        """The four sub-grids as ``(4, C, N, hs, ws)`` views (no tail)."""
        c = self.xs.shape[1]
        return self.xs[:, :, : self.length].reshape(4, c, n, self.hs, self.ws)


class ConvReluAvgPool2:
    """Fused conv -> ReLU -> 2x2 average pool sharing the parameters of a ``Conv2D``.

    Gradients are added into ``conv.weight.grad`` and ``conv.bias.grad``.
    Shapes: ``x (C, N, H, W)`` with H, W even -> ``y (O, N, H/2, W/2)`` (a view).
    """

    def __init__(self, conv):
        self.conv = conv
        self.k = conv.kernel_size
        self.p = conv.padding
        self._buffers: dict[tuple, _Buffers] = {}
        self._cache = None
        # (parity, tap, sub-grid, row shift, column shift) for every output parity and tap
        self._taps = [
            (pq, di * self.k + dj, ((pq // 2 + di) % 2) * 2 + (pq % 2 + dj) % 2, (pq // 2 + di) // 2,
             (pq % 2 + dj) // 2)
            for pq in range(4)
            for di in range(self.k)
            for dj in range(self.k)
        ]

    def _buffers_for(self, shape, dtype, slot):
        key = (slot, shape, np.dtype(dtype).str)
        buf = self._buffers.get(key)
        if buf is None:
            c, n, h, w = shape
            buf = _Buffers(c, n, h, w, self.conv.out_channels, self.k, self.p, dtype)
            self._buffers[key] = buf
        return buf

    def _weight_matrix(self):
        w, b = self.conv.weight.value, self.conv.bias.value
        o = w.shape[0]
        wm = np.empty((o, w[0].size + 1), dtype=w.dtype)
        wm[:, :-1] = w.transpose(0, 2, 3, 1).reshape(o, -1)  # (O, k, k, C): tap-major
        wm[:, -1] = b
        return wm

    def _interior(self, r, s, h, w):
        """Input rows/cols of parity ((r - p) % 2, (s - p) % 2) and where they sit in sub-grid (r, s)."""
        p = self.p
        ri, si = (r - p) % 2, (s - p) % 2
        a0, b0 = (ri + p - r) // 2, (si + p - s) // 2
        return ri, si, slice(a0, a0 + h // 2), slice(b0, b0 + w // 2)

    def _copies(self, buf, c):
        """Yield ``(cols rows, parity, sub-grid, flat start)`` for every parity and tap."""
        ws = buf.ws
        for pq, t, sub, da, db in self._taps:
            yield slice(t * c, (t + 1) * c), pq, sub, da * ws + db

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        """``x (C, N, H, W)`` -> ``y (O, N, H/2, W/2)``; caches for backward when ``train``."""
        c, n, h, w = x.shape
        if h % 2 or w % 2:
            raise ValueError(f"fused conv block needs even height and width, got {h}x{w}")
        dtype = self.conv.weight.dtype
        buf = self._buffers_for(x.shape, dtype, "train" if train else "eval")
        grids = buf.subgrids(n)
        for r in range(2):
            for s in range(2):
                ri, si, ra, sb = self._interior(r, s, h, w)
                grids[2 * r + s][:, :, ra, sb] = x[:, :, ri::2, si::2]
        cols, xs, length = buf.cols, buf.xs, buf.length
        for rows, pq, sub, start in self._copies(buf, c):
            cols[rows, pq] = xs[sub, :, start : start + length]
        wm = self._weight_matrix()
        o = wm.shape[0]
        z = buf.z
        matmul_chunked(wm, cols.reshape(len(cols), -1), z.reshape(o, -1))
        np.greater(z, 0, out=buf.mask, casting="unsafe")
        np.multiply(z, buf.mask, out=z)
        y = z[:, 0] + z[:, 1]
        y += z[:, 2]
        y += z[:, 3]
        y *= dtype.type(0.25)
        if train:
            self._cache = (buf, x.shape, wm)
        return y.reshape(o, n, buf.hs, buf.ws)[:, :, : h // 2, : w // 2]

    def backward(self, grad_y: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """``grad_y (O, N, H/2, W/2)`` -> ``grad_x (C, N, H, W)`` (or None)."""
        buf, x_shape, wm = self._cache
        c, n, h, w = x_shape
        o = wm.shape[0]
        dtype = wm.dtype
        g4 = buf.g4
        np.multiply(grad_y, dtype.type(0.25), out=g4[:, :, : h // 2, : w // 2])
        gz = buf.gz
        np.multiply(g4.reshape(o, 1, -1), buf.mask, out=gz)
        gz2 = gz.reshape(o, -1)
        cols = buf.cols
        gwm = matmul_nt_chunked(gz2, cols.reshape(len(cols), -1))  # (O, k*k*C + 1)
        conv, k = self.conv, self.k
        conv.weight.grad += gwm[:, :-1].reshape(o, k, k, c).transpose(0, 3, 1, 2)
        conv.bias.grad += gwm[:, -1]
        if not need_input_grad:
            return None
        if buf.dcols is None:
            buf.dcols = np.empty((len(cols) - 1, 4, buf.length), dtype=dtype)
            buf.gxs = np.empty_like(buf.xs)
        dcols, gxs, length = buf.dcols, buf.gxs, buf.length
        matmul_chunked(np.ascontiguousarray(wm[:, :-1].T), gz2, dcols.reshape(len(dcols), -1))
        gxs.fill(0)
        for rows, pq, sub, start in self._copies(buf, c):
            gxs[sub, :, start : start + length] += dcols[rows, pq]
        grids = gxs[:, :, :length].reshape(4, c, n, buf.hs, buf.ws)
        gx = np.empty((c, n, h, w), dtype=dtype)
        for r in range(2):
            for s in range(2):
                ri, si, ra, sb = self._interior(r, s, h, w)
                gx[:, :, ri::2, si::2] = grids[2 * r + s][:, :, ra, sb]
        return gx
