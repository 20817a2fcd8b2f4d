"""Fast path for ``Conv2D(k, padding=(k-1)/2) -> ReLU -> AvgPool2D(2)`` on even-sized inputs.

Layout: this block works channel-first, ``x (C, N, H, W)`` -> ``y (O, N, H/2, W/2)``
("CNHW"), so that one matmul over all samples gives the output without transposes.

Scheme (p = (k-1)/2, hs = H/2 + p, ws = W/2 + p, L = N*hs*ws, U = 2p + 2):

* Sub-grids. The zero-padded input is split once into its four even/odd row/column
  sub-grids, stored flat per channel: ``xs (4, C, L + tail)``, sub-grid ``2r + s``
  holding padded rows ``r, r+2, ...`` and columns ``s, s+2, ...``. Every output is
  computed on the ``hs x ws`` grid of every sample, grouped by its parity (P, Q) (row
  and column of the full-size output mod 2); the extra ``p`` rows and columns per
  sample are junk, cut off at the end (and given zero gradient).
* Shifted rows ``D``. Output (P, Q) at flat position m needs, for tap (di, dj), the
  padded input at row offset ``u = P + di`` and column offset ``v = Q + dj`` (u, v in
  0..U-1), which is sub-grid ``(u % 2, v % 2)`` at ``m + (u//2)*ws + v//2``. Those
  ``U*U*C`` distinct shifted rows are copied once into ``D (U*U*C + 1, L)``, ordered
  (u, v, c), with a row of ones (for the bias) between u = 1 and u = 2 (for k = 1:
  between u = 0 and 1). So D is built with two strided copies, not k*k*4 slices.
* Convolution = two matmuls. For output row parity P the taps use u = P..P+k-1, a
  contiguous window of ``k*U*C + 1`` rows of D (ones row included), so
  ``z[P] (2*O, L) = Wf[P] (2*O, k*U*C + 1) @ D[window P]`` gives both column parities
  Q at once (Wf has zeros where v - Q is not a tap: 1.33x the flops for k = 3, far
  cheaper than copying the 36 tap slices of classic im2col). Wf carries the 1/4 of
  the average pool (ReLU commutes with a positive scale).
* Skinny matmuls are several times faster in cache-sized column chunks. All chunks
  (and both P) are done by ONE stacked ``np.matmul`` call on strided views; columns
  are padded to a whole number of chunks (padding columns are zero).
* ReLU keeps a float 0/1 mask (greater + multiply beat ``np.maximum`` with a scalar).
  Pooling is three adds of the four parity slabs (contiguous).
* Backward: ``gz = grad_y * mask`` (grad_y placed on the hs x ws grid, junk zero);
  weight gradient ``gz[P] @ D[window P].T`` (one stacked matmul + sum over chunks),
  folded back to (O, C, k, k) with a precomputed gather.
* Input gradient: sub-grid (r, s) of the input gradient at m collects
  ``gz[P, Q, o]`` at ``m - a*ws - b`` for ``2a + r - P`` and ``2b + s - Q`` taps. The
  ``4*(p+1)**2*O`` shifted gz rows are copied once into ``G`` (one strided copy; gz has
  ``p*ws + p`` zeros in front), ordered (P, a descending, b, Q, o) so that for input
  row parity r the rows needed are a contiguous window; ``gxs[r] (2*C, L) =
  W2[r] @ G[window r]`` (one stacked matmul), then the interiors of the four
  sub-grids are copied into ``grad_x (C, N, H, W)``.
* Evaluation (``train=False``) runs large batches in slices of ``EVAL_BATCH`` samples
  so that the work arrays stay in cache. Work arrays are allocated once per input
  shape and reused; results are fresh arrays.
"""

from __future__ import annotations

import numpy as np

from numpy.lib.stride_tricks import as_strided

_CHUNK_BYTES = 800_000  # work arrays touched per column chunk: they stay in the 1 MB L2


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


class _Buffers:
    """Geometry, work arrays and their per-chunk views for one input shape.

    Allocated once per (shape, dtype, train) and reused every call. In training, D,
    the ReLU mask and the gradient arrays span all L positions (backward needs them);
    in evaluation D and z only span one chunk.
    """

    def __init__(self, c, n, h, w, o, k, dtype, train):
        p = (k - 1) // 2
        self.c, self.n, self.h, self.w, self.o, self.k, self.p = c, n, h, w, o, k, p
        self.hs, self.ws = h // 2 + p, w // 2 + p
        self.length = length = n * self.hs * self.ws  # positions per parity
        u = 2 * p + 2
        self.uc = uc = u * c  # rows of D per value of u
        self.usplit = 2 if p else 1  # the ones row sits before u = usplit
        self.kd = kd = k * uc + 1  # rows of D per parity window
        self.ng = 4 * (p + 1) ** 2 * o  # rows of G
        self.kg = (2 * p + 1) * (p + 1) * 2 * o  # rows of G per input-parity window
        self.tail = tail = p * self.ws + p  # the largest shift
        self.train = train
        itemsize = np.dtype(dtype).itemsize
        nd = u * uc + 1
        rows = max(nd + 9 * o, nd + 9 * o + self.ng + 4 * c if train else 0)
        step = max(256, _CHUNK_BYTES // (rows * itemsize) // 64 * 64)
        self.chunks = [(a, min(a + step, length)) for a in range(0, length, step)]
        self.xs = np.zeros((4, c, length + tail), dtype=dtype)  # padding stays zero
        self.d = np.zeros((nd, length if train else step), dtype=dtype)
        self.d[self.usplit * uc] = 1.0  # the bias row
        self.z = np.empty((2, 2 * o, step), dtype=dtype)  # (P, (Q, o), position)
        if train:
            self.mask = np.empty((2, 2 * o, length), dtype=dtype)
            self.g4 = np.zeros((o, length), dtype=dtype)  # junk stays zero
            # gz rows (P, Q, o), each with `tail` leading zeros (read by the shifted copy)
            self.gzb = np.zeros((4 * o, tail + length), dtype=dtype)
            self.gwc = np.empty((len(self.chunks), 2, 2 * o, kd), dtype=dtype)
        else:
            self.zero = np.zeros(step, dtype=dtype)
        self.g = None  # input-gradient arrays, allocated on first request
        self.gxs = None

    def _d_sources(self):
        """``(rows of D, xs view)`` pairs filling D (all L columns): u < usplit, then the rest."""
        xs, p, c, ws, length = self.xs, self.p, self.c, self.ws, self.length
        s0, s1, it = xs.strides
        out = []
        for u0, u1, first in ((0, self.usplit, 0), (self.usplit, 2 * p + 2, self.usplit * self.uc + 1)):
            # u = 2a + r; this piece is a in [u0//2, ..), r in [u0 % 2, ..)
            na, nr = (1, 1) if u1 - u0 == 1 else ((u1 - u0) // 2, 2)
            a0, r0 = u0 // 2, u0 % 2
            src = as_strided(xs[2 * r0, :, a0 * ws :], (na, nr, p + 1, 2, c, length),
                             (ws * it, 2 * s0, it, s0, s1, it))
            out.append((slice(first, first + (u1 - u0) * self.uc), src))
        return out

    def forward_views(self):
        """Per chunk: ``(a, b, [(D dst, xs src)], D windows (2, kd, m), z (2, 2o, m), mask or None)``."""
        d, uc, kd = self.d, self.uc, self.kd
        sources = self._d_sources()
        out = []
        for a, b in self.chunks:
            m = b - a
            cols = slice(a, b) if self.train else slice(0, m)
            copies = []
            for rows, src in sources:
                dst = np.reshape(d[rows, cols], src.shape[:-1] + (m,), copy=False)
                copies.append((dst, src[..., a:b]))
            dc = d[:, cols]
            win = as_strided(dc, (2, kd, m), (uc * dc.strides[0], *dc.strides))
            z = self.z[:, :, :m]
            mask = self.mask[:, :, a:b] if self.train else None
            out.append((a, b, copies, win, z, mask))
        return out

    def backward_views(self):
        """Per chunk: ``(g4 (o, m), mask (2, 2, o, m), gz (2, 2, o, m), D windows transposed (2, m, kd))``."""
        o, lp, tail = self.o, self.length, self.tail
        gz = self.gzb[:, tail:].reshape(2, 2, o, lp)
        mask = self.mask.reshape(2, 2, o, lp)
        out = []
        for (a, b, _, win, _, _) in self.forward_views():
            out.append((self.g4[:, a:b], mask[..., a:b], gz[..., a:b], win.swapaxes(1, 2)))
        return out

    def input_grad_views(self):
        """Per chunk: ``(G dst, shifted gz src, G windows (2, kg, m), gxs (2, 2c, m))``."""
        p, o, c, ws, tail, length = self.p, self.o, self.c, self.ws, self.tail, self.length
        if self.g is None:
            self.g = np.empty((self.ng, self.chunks[0][1]), dtype=self.d.dtype)
            self.gxs = np.empty((4, c, length), dtype=self.d.dtype)
        # G (P, a' = p - a, b, Q, o) rows: gz[P, Q, o] shifted right by a*ws + b
        gzb = self.gzb
        s0, it = gzb.strides
        src = as_strided(gzb[0, tail - p * ws :], (2, p + 1, p + 1, 2, o, length),
                         (2 * o * s0, ws * it, -it, o * s0, s0, it))
        block = (p + 1) * 2 * o
        gxs = self.gxs.reshape(2, 2 * c, length)
        out = []
        for a, b in self.chunks:
            m = b - a
            g = self.g[:, :m]
            win = as_strided(g, (2, self.kg, m), (block * g.strides[0], *g.strides))
            out.append((g.reshape(2, p + 1, p + 1, 2, o, m), src[..., a:b], win, gxs[:, :, a:b]))
        return out

    def interiors(self, grids):
        """Yield ``(x parity rows, x parity cols, sub-grid view)`` for the four sub-grids.

        ``grids (4, C, >= L)``: the interior of sub-grid (r, s) holds input rows
        ``(r - p) % 2 :: 2`` and columns ``(s - p) % 2 :: 2``.
        """
        p, h, w = self.p, self.h, self.w
        g = grids[:, :, : self.length].reshape(4, self.c, self.n, self.hs, self.ws)
        for r in range(2):
            for s in range(2):
                ri, si = (r - p) % 2, (s - p) % 2
                a0, b0 = (ri + p - r) // 2, (si + p - s) // 2
                yield ri, si, g[2 * r + s, :, :, a0 : a0 + h // 2, b0 : b0 + w // 2]


class ConvReluAvgPool2:
    """Fused conv -> ReLU -> 2x2 average pool sharing the parameters of a ``Conv2D``.

    Gradients are added into ``conv.weight.grad`` and ``conv.bias.grad``.
    Shapes: ``x (C, N, H, W)`` with H, W even -> ``y (O, N, H/2, W/2)``.
    """

    def __init__(self, conv):
        self.conv = conv
        self.k = conv.kernel_size
        self.p = conv.padding
        self._buffers: dict[tuple, _Buffers] = {}
        self._cache = None
        self._build_indices(conv.out_channels, conv.in_channels, self.k)

    def _build_indices(self, o, c, k):
        """Flat positions of the weights in Wf and W2, and of the bias in Wf."""
        p = (k - 1) // 2
        uc = (2 * p + 2) * c
        usplit = 2 if p else 1
        kd = k * uc + 1
        po, co, di, dj = np.meshgrid(np.arange(o), np.arange(c), np.arange(k), np.arange(k), indexing="ij")
        idx = []
        for pp in range(2):
            for q in range(2):
                u = pp + di
                row = u * uc + (u >= usplit) - pp * uc + (q + dj) * c + co  # column in window pp
                idx.append((pp * 2 * o + q * o + po) * kd + row)
        # (4 parities, O*C*k*k): Wf.flat[idx[:, i]] = weight.flat[i]; gradient = sum over axis 0
        self._wf_idx = np.stack([i.ravel() for i in idx])
        bias_col = [(usplit - pp) * uc for pp in range(2)]
        self._wf_bias_idx = np.array(
            [[(pp * 2 * o + q * o + oo) * kd + bias_col[pp] for oo in range(o)] for pp in range(2) for q in range(2)]
        )
        # W2 (2 r, 2C (s, c), kg): G rows (P, a', b, Q, o) with a = p - a'; window r starts at r*(p+1)*2*o
        kg = (2 * p + 1) * (p + 1) * 2 * o
        dst, src = [], []
        for r in range(2):
            for s in range(2):
                for pp in range(2):
                    for a in range(p + 1):
                        for b in range(p + 1):
                            for q in range(2):
                                ui, vj = 2 * a + r - pp, 2 * b + s - q
                                if not (0 <= ui < k and 0 <= vj < k):
                                    continue
                                g = (((pp * (p + 1) + (p - a)) * (p + 1) + b) * 2 + q) * o - r * (p + 1) * 2 * o
                                for oo in range(o):
                                    for cc in range(c):
                                        dst.append((r * 2 * c + s * c + cc) * kg + g + oo)
                                        src.append(((oo * c + cc) * k + ui) * k + vj)
        self._w2_dst = np.array(dst)
        self._w2_src = np.array(src)
        self._w2_shape = (2, 2 * c, kg)

    def _buffers_for(self, shape, dtype, train):
        key = (train, shape, np.dtype(dtype).str)
        buf = self._buffers.get(key)
        if buf is None:
            c, n, h, w = shape
            buf = _Buffers(c, n, h, w, self.conv.out_channels, self.k, dtype, train)
            self._buffers[key] = buf
        return buf

    def _weight_matrices(self, buf):
        """``Wf (2, 2*O, kd)``: per row parity P, weights (scaled by 1/4) for (Q, o)."""
        w, b = self.conv.weight.value, self.conv.bias.value
        quarter = w.dtype.type(0.25)
        wf = np.zeros((2, 2 * buf.o, buf.kd), dtype=w.dtype)
        flat = wf.reshape(-1)
        flat[self._wf_idx] = w.reshape(-1) * quarter
        flat[self._wf_bias_idx] = b * quarter
        return wf

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        """``x (C, N, H, W)`` -> ``y (O, N, H/2, W/2)``; caches for backward when ``train``."""
        c, n, h, w = x.shape
        if h % 2 or w % 2:
            raise ValueError(f"fused conv block needs even height and width, got {h}x{w}")
        dtype = self.conv.weight.dtype
        buf = self._buffers_for(x.shape, dtype, train)
        if not hasattr(buf, "fviews"):
            buf.fviews = buf.forward_views()
        for ri, si, grid in buf.interiors(buf.xs):
            grid[...] = x[:, :, ri::2, si::2]
        wf = self._weight_matrices(buf)
        o = buf.o
        y = np.empty((o, buf.length), dtype=dtype)
        for a, b, copies, win, z, mask in buf.fviews:
            for dst, src in copies:
                np.copyto(dst, src)
            np.matmul(wf, win, out=z)
            if train:
                np.greater(z, 0, out=mask, casting="unsafe")
                np.multiply(z, mask, out=z)
            else:
                np.maximum(z, buf.zero[: b - a], out=z)
            yc = y[:, a:b]
            np.add(z[0, :o], z[0, o:], out=yc)
            yc += z[1, :o]
            yc += z[1, o:]
        if train:
            self._cache = (buf, wf)
        return y.reshape(o, n, buf.hs, buf.ws)[:, :, : h // 2, : w // 2]

    def backward(self, grad_y: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """``grad_y (O, N, H/2, W/2)`` -> ``grad_x (C, N, H, W)`` (or None)."""
        buf, wf = self._cache
        c, n, h, w, o, k = buf.c, buf.n, buf.h, buf.w, buf.o, self.k
        dtype = wf.dtype
        if not hasattr(buf, "bviews"):
            buf.bviews = buf.backward_views()
        buf.g4.reshape(o, n, buf.hs, buf.ws)[:, :, : h // 2, : w // 2] = grad_y
        gwc = buf.gwc
        if need_input_grad:
            if not hasattr(buf, "gviews"):
                buf.gviews = buf.input_grad_views()
            quarter = dtype.type(0.25)
            w2 = np.zeros(self._w2_shape, dtype=dtype)
            w2.reshape(-1)[self._w2_dst] = self.conv.weight.value.reshape(-1)[self._w2_src] * quarter
            for i, ((g4, mask, gz, dwin), (gdst, gsrc, gwin, gxs)) in enumerate(zip(buf.bviews, buf.gviews)):
                np.multiply(g4, mask, out=gz)
                np.matmul(gz.reshape(2, 2 * o, -1), dwin, out=gwc[i])
                np.copyto(gdst, gsrc)
                np.matmul(w2, gwin, out=gxs)
        else:
            for i, (g4, mask, gz, dwin) in enumerate(buf.bviews):
                np.multiply(g4, mask, out=gz)
                np.matmul(gz.reshape(2, 2 * o, -1), dwin, out=gwc[i])
        flat = gwc.sum(axis=0).reshape(-1)  # (2, 2*O, kd) gradient of Wf
        quarter = dtype.type(0.25)
        conv = self.conv
        gw = flat[self._wf_idx].sum(axis=0)
        gw *= quarter
        conv.weight.grad += gw.reshape(conv.weight.grad.shape)
        gb = flat[self._wf_bias_idx].sum(axis=0)
        gb *= quarter
        conv.bias.grad += gb
        if not need_input_grad:
            return None
        gx = np.empty((c, n, h, w), dtype=dtype)
        for ri, si, grid in buf.interiors(buf.gxs):
            gx[:, :, ri::2, si::2] = grid
        return gx
