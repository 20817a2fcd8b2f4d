"""Fast path for ``Conv2D(k, padding=(k-1)/2) -> ReLU -> AvgPool2D(2)`` on even-sized inputs.

Layout: this block works channel-first, ``x (C, N, H, W)`` -> ``y (O, N, H/2, W/2)``
("CNHW"), so that one matmul over all samples gives the output without transposes.

Scheme (p = (k-1)/2, hs = H/2 + p, ws = W/2 + p, L = N*hs*ws positions, U = 2p + 2):

* Sub-grids. The zero-padded input is split (one strided copy) into its four even/odd
  row/column sub-grids, stored flat per channel: ``xs (4, C, L + tail)``; sub-grid
  ``2r + s`` holds padded rows ``r, r+2, ...`` and columns ``s, s+2, ...`` of every
  sample. Outputs are computed on the ``hs x ws`` grid of every sample, grouped by
  their parity (P, Q) (row and column of the full-size conv output, mod 2); the last
  ``p`` rows and columns of each sample are junk, cut off at the end (zero gradient).
* Shifted rows ``D``. Output (P, Q) at position m needs, for tap (di, dj), the padded
  input at row offset ``u = P + di`` and column offset ``v = Q + dj`` (u, v in
  0..U-1): sub-grid ``(u % 2, v % 2)`` at ``m + (u//2)*ws + v//2``. These ``U*U*C``
  distinct shifted rows are copied once into ``D (U*U*C + 1, Lp)``, ordered (u, v, c),
  with a row of ones (the bias) between u = 1 and u = 2 (k = 1: between u = 0 and 1):
  two strided copies instead of the 4*k*k slices of classic im2col.
* Convolution = one stacked matmul. For row parity P the taps use u = P..P+k-1: a
  contiguous window of ``kd = k*U*C + 1`` rows of D (ones row included), so
  ``z[P] (2*O, Lp) = Wf[P] (2*O, kd) @ D[window P]`` gives both column parities at
  once (Wf is zero where v - Q is no tap: 1.33x the flops for k = 3, much cheaper than
  copying 2.25x more columns). Wf also carries the 1/4 of the average pool (ReLU
  commutes with a positive scale). Skinny matmuls run several times faster in
  cache-sized column chunks; all chunks and both P go through ONE ``np.matmul`` on
  strided views (Lp = L rounded up to whole chunks; the extra columns are zero).
* ReLU: a bool mask for backward (1 byte per value) and ``np.maximum`` with a row of
  zeros (with a scalar it is 3x slower). Pooling: three adds of the parity slabs.
* Backward: ``gz = grad_y * mask`` (grad_y placed on the hs x ws grid, junk zero);
  weight gradient ``gz[P] @ D[window P].T`` (one stacked matmul, summed over chunks),
  folded back to (O, C, k, k) with a precomputed gather.
* Input gradient: sub-grid (r, s) of grad x at m collects ``gz[P, Q, o]`` at
  ``m - a*ws - b`` where ``(2a + r - P, 2b + s - Q)`` is a tap. The ``4*(p+1)**2*O``
  shifted rows of gz are copied once into ``G`` (one strided copy; gz has ``tail``
  zeros in front), ordered (P, a descending, b, Q, o) so that input row parity r needs a
  contiguous window of G: ``gxs[r] (2*C, Lp) = W2[r] @ G[window r]`` (one stacked
  matmul); the sub-grid interiors are then copied into ``grad_x (C, N, H, W)``.
* Memory is what limits speed here (the per-call numbers are 1.5-2x lower when the
  data sits in cache), so the working set is kept small: temporaries (z, gz, G, ...)
  live in one scratch arena per thread shared by all blocks, the mask is bool, and
  results are recycled when the caller has let go of them (fresh large arrays cost
  page faults). Evaluation runs big batches in slices of ``EVAL_BATCH`` samples.
  All views are built once per input shape; a call is about 20 NumPy operations.

Same input -> bitwise the same output (fixed operation order, no threading here).

This module knows arrays and :class:`~cnnlib.parameter.Parameter` only, not layers:
:mod:`cnnlib.nn` decides which layers it replaces and hands it the conv layer's
weight and bias parameters.
"""

from __future__ import annotations

import sys
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from cnnlib.parameter import Parameter

_CHUNK_BYTES = 420_000  # bytes of the matmul's wide operand per column chunk (L2: 1 MB)
EVAL_BATCH = 100  # samples per slice in evaluation (keeps the work arrays in cache)
MAX_PLANS = 8  # input shapes remembered per block (each holds a few MB of work arrays)


def _chunked(a: np.ndarray, step: int) -> np.ndarray:
    """View ``a (..., R, Lp)`` as ``(..., Lp // step, R, step)``: column chunks on axis -3."""
    *lead, rows, lp = a.shape
    s = a.strides
    return as_strided(a, (*lead, lp // step, rows, step), (*s[:-2], step * s[-1], s[-2], s[-1]))


def _view(a: np.ndarray, shape) -> np.ndarray:
    """``a.reshape(shape)``, which must not copy (the plans keep these views)."""
    v = a.reshape(shape)
    assert v.base is not None and v.base is (a if a.base is None else a.base), "reshape copied"
    return v


def _windows(a: np.ndarray, rows: int, start_step: int) -> np.ndarray:
    """``(2, rows, cols)`` view of ``a (R, cols)``: rows ``[i*start_step, i*start_step + rows)``."""
    s0, s1 = a.strides
    return as_strided(a, (2, rows, a.shape[1]), (start_step * s0, s0, s1))


_local = threading.local()


def _arena(dtype, size: int) -> np.ndarray:
    """This thread's scratch array for ``dtype``, at least ``size`` long (contents: garbage).

    All blocks share it: their temporaries live only inside one forward or backward.
    """
    arenas = _local.__dict__.setdefault("arenas", {})
    a = arenas.get(dtype)
    if a is None or a.size < size:
        a = arenas[dtype] = np.empty(size, dtype=dtype)
    return a


class _Plan:
    """Geometry, persistent arrays and prebuilt views for one (input shape, dtype, train)."""

    def __init__(self, c, n, h, w, o, k, dtype, train):
        p = (k - 1) // 2
        self.c, self.n, self.h, self.w, self.o, self.p = c, n, h, w, o, p
        self.dtype, self.train = dtype, train
        self.hs, self.ws = hs, ws = h // 2 + p, w // 2 + p
        self.length = length = n * hs * ws  # positions per parity
        self.tail = tail = p * ws + p  # the largest shift
        self.uc = uc = (2 * p + 2) * c  # rows of D per value of u
        usplit = 2 if p else 1  # the ones row sits before u = usplit
        self.kd = kd = k * uc + 1  # rows of D per row-parity window
        self.ng = 4 * (p + 1) ** 2 * o  # rows of G
        self.kg = (2 * p + 1) * (p + 1) * 2 * o  # rows of G per input-row-parity window
        itemsize = np.dtype(dtype).itemsize
        most = max(512, _CHUNK_BYTES // (max(kd, self.kg) * itemsize))
        nchunks = -(-length // most)
        self.step = step = -(-length // (16 * nchunks)) * 16  # columns per chunk, a multiple of 16
        self.lp = lp = nchunks * step  # padded length: whole chunks

        # persistent arrays
        self.xs = np.zeros((4, c, length + tail), dtype=dtype)  # the padding stays zero
        self.d = np.zeros((uc * (2 * p + 2) + 1, lp), dtype=dtype)  # padding columns stay zero
        self.d[usplit * uc, :length] = 1.0  # the bias row
        self.zero = np.zeros(lp, dtype=dtype)
        if train:
            self.mask = np.empty((2, 2 * o, lp), dtype=bool)
            self.g4 = np.zeros((o, lp), dtype=dtype)  # junk and padding stay zero
            self.mask4 = self.mask.reshape(2, 2, o, lp)
            self.g4_interior = _view(self.g4[:, :length], (o, n, hs, ws))[:, :, : h // 2, : w // 2]
        self._outputs = {}

        # x -> sub-grid interiors in one copy: sub-grid (r, s) holds rows (r - p) % 2 :: 2 of x
        # at (a0(r), b0(s)) in its hs x ws grid, a0(r) = ((r - p) % 2 + p - r) // 2
        s0, s1, it = self.xs.strides
        a0 = [((r - p) % 2 + p - r) // 2 for r in range(2)]
        self.xs_interiors = as_strided(
            self.xs[0, 0, a0[0] * ws + a0[0] :], (2, 2, c, n, h // 2, w // 2),
            (2 * s0 + (a0[1] - a0[0]) * ws * it, s0 + (a0[1] - a0[0]) * it, s1, hs * ws * it, ws * it, it))
        self.interior_slices = [(r, s, (r - p) % 2, (s - p) % 2, a0[r], a0[s]) for r in range(2) for s in range(2)]

        # D from xs: two strided copies (u < usplit, then the rest); u = 2a + r, v = 2b + s
        self.d_copies = []
        for u0, u1, first in ((0, usplit, 0), (usplit, 2 * p + 2, usplit * uc + 1)):
            na, nr = (1, 1) if u1 - u0 == 1 else ((u1 - u0) // 2, 2)
            src = as_strided(self.xs[2 * (u0 % 2), :, (u0 // 2) * ws :], (na, nr, p + 1, 2, c, length),
                             (ws * it, 2 * s0, it, s0, s1, it))
            dst = _view(self.d[first : first + (u1 - u0) * uc, :length], src.shape)
            self.d_copies.append((dst, src))
        self.d_windows = _chunked(_windows(self.d, kd, uc), step)  # (2, chunks, kd, step)
        self._arena = None

    def scratch(self, need_input_grad: bool):
        """Views into the shared scratch arena (rebuilt when the arena was reallocated)."""
        o, c, lp, tail, p, step = self.o, self.c, self.lp, self.tail, self.p, self.step
        size = 4 * o * (tail + lp) + ((self.ng + 4 * c) * lp if need_input_grad else 0)
        arena = _arena(self.dtype, size)
        built = self._arena
        if built is not None and built[0] is arena and (built[1] or not need_input_grad):
            return self
        self._arena = (arena, need_input_grad)
        # forward: z (P, (Q, o), position)
        self.z = arena[: 4 * o * lp].reshape(2, 2 * o, lp)
        self.z4 = self.z.reshape(4, o, lp)
        self.z_chunks = _chunked(self.z, step)
        if not self.train:
            return self
        # backward: gz rows (P, Q, o), each after `tail` zeros; then G and gxs
        end = 4 * o * (tail + lp)
        gzb = arena[:end].reshape(4 * o, tail + lp)
        self.gz_head = gzb[:, :tail]
        self.gz4 = _view(gzb[:, tail:], (2, 2, o, lp))
        self.gz_chunks = _chunked(_view(self.gz4, (2, 2 * o, lp)), step)
        if not need_input_grad:
            return self
        g = arena[end : end + self.ng * lp].reshape(self.ng, lp)
        # G (P, a' = p - a, b, Q, o) = gz[P, Q, o] shifted right by a*ws + b
        s0, it = gzb.strides
        self.g_src = as_strided(gzb[0, tail - p * self.ws :], (2, p + 1, p + 1, 2, o, lp),
                                (2 * o * s0, self.ws * it, -it, o * s0, s0, it))
        self.g_dst = g.reshape(2, p + 1, p + 1, 2, o, lp)
        self.g_windows = _chunked(_windows(g, self.kg, (p + 1) * 2 * o), step)
        end += self.ng * lp
        gxs = arena[end : end + 4 * c * lp].reshape(4, c, lp)
        self.gxs_chunks = _chunked(gxs.reshape(2, 2 * c, lp), step)
        grids = gxs[:, :, : self.length].reshape(4, c, self.n, self.hs, self.ws)
        h2, w2 = self.h // 2, self.w // 2
        self.gxs_interiors = [(ri, si, grids[2 * r + s, :, :, a0 : a0 + h2, b0 : b0 + w2])
                              for r, s, ri, si, a0, b0 in self.interior_slices]
        return self

    def output(self, name, shape):
        """A result array: the last call's one when nobody holds it any more, else a new one."""
        a = self._outputs.get(name)
        # references: the dict, `a` and getrefcount's argument; every live view adds one
        if a is None or sys.getrefcount(a) > 3:
            a = self._outputs[name] = np.empty(shape, dtype=self.dtype)
        return a


class ConvReluAvgPool2:
    """Fused conv (stride 1, zero padding ``(k-1)/2``) -> ReLU -> 2x2 average pool.

    Args:
        weight: the conv weight, ``Parameter`` of shape ``(O, C, k, k)``, k odd.
        bias: the conv bias, ``Parameter`` of shape ``(O,)``.

    The parameters are shared, not copied: the block reads ``weight.value`` and
    ``bias.value`` at every call (so it follows ``astype`` and in-place updates) and
    adds its gradients with ``weight.accumulate`` and ``bias.accumulate``.
    Shapes: ``x (C, N, H, W)`` with H, W even -> ``y (O, N, H/2, W/2)``.
    """

    def __init__(self, weight: Parameter, bias: Parameter):
        shape = tuple(weight.shape)
        if len(shape) != 4 or shape[2] != shape[3] or shape[2] % 2 == 0:
            raise ValueError(f"fused conv block needs a weight (O, C, k, k) with k odd, got shape {shape}")
        if tuple(bias.shape) != shape[:1]:
            raise ValueError(f"fused conv block: bias shape {tuple(bias.shape)} does not fit weight {shape}")
        self.weight, self.bias = weight, bias
        self.out_channels, self.in_channels, self.k = shape[0], shape[1], shape[2]
        self.p = (self.k - 1) // 2
        self._plans: dict[tuple, _Plan] = {}
        self._mats: dict[np.dtype, tuple] = {}
        self._cache = None
        self._build_indices(self.out_channels, self.in_channels, self.k)

    def _build_indices(self, o, c, k):
        """Flat positions of the weights in Wf and W2 and of the bias in Wf."""
        p = (k - 1) // 2
        uc = (2 * p + 2) * c
        usplit = 2 if p else 1
        kd = k * uc + 1
        oo, cc, di, dj = np.meshgrid(np.arange(o), np.arange(c), np.arange(k), np.arange(k), indexing="ij")
        # Wf (2 P, 2*O (Q, o), kd): tap (di, dj) of P is D row (u = P + di, v = Q + dj, c)
        idx = []
        for pp in range(2):
            for q in range(2):
                u = pp + di
                col = u * uc + (u >= usplit) - pp * uc + (q + dj) * c + cc
                idx.append(((pp * 2 + q) * o + oo) * kd + col)
        self._wf_shape = (2, 2 * o, kd)
        self._wf_idx = np.stack([i.ravel() for i in idx])  # (4 parities, O*C*k*k), weight order
        self._wf_bias_idx = np.array([[((pp * 2 + q) * o + j) * kd + (usplit - pp) * uc for j in range(o)]
                                      for pp in range(2) for q in range(2)])
        # W2 (2 r, 2*C (s, c), kg): G row (P, a' = p - a, b, Q, o) minus the start of window r
        kg = (2 * p + 1) * (p + 1) * 2 * o
        dst, src = [], []
        for r in range(2):
            for s in range(2):
                for pp in range(2):
                    for a in range(p + 1):
                        for b in range(p + 1):
                            for q in range(2):
                                ti, tj = 2 * a + r - pp, 2 * b + s - q  # the tap
                                if not (0 <= ti < k and 0 <= tj < k):
                                    continue
                                row = ((((pp * (p + 1) + p - a) * (p + 1) + b) * 2 + q) - r * (p + 1) * 2) * o
                                for j in range(o):
                                    for ch in range(c):
                                        dst.append(((r * 2 + s) * c + ch) * kg + row + j)
                                        src.append(((j * c + ch) * k + ti) * k + tj)
        self._w2_dst, self._w2_src = np.array(dst), np.array(src)
        self._w2_shape = (2, 2 * c, kg)

    def _plan(self, shape, dtype, train) -> _Plan:
        key = (train, shape, dtype.str)
        plan = self._plans.get(key)
        if plan is None:
            c, n, h, w = shape
            if c != self.in_channels:
                raise ValueError(f"Conv2D expects {self.in_channels} input channels, got {c}")
            if len(self._plans) >= MAX_PLANS:  # forget the oldest shape (not the one backward needs)
                old = next(k for k, v in self._plans.items() if v is not self._cache)
                del self._plans[old]
            plan = self._plans[key] = _Plan(c, n, h, w, self.out_channels, self.k, dtype, train)
        return plan

    def _matrices(self, dtype):
        """Persistent ``Wf`` and ``W2`` for ``dtype`` (their zeros never change)."""
        mats = self._mats.get(dtype)
        if mats is None:
            mats = self._mats[dtype] = (np.zeros(self._wf_shape, dtype=dtype), np.zeros(self._w2_shape, dtype=dtype))
        return mats

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        """``x (C, N, H, W)`` -> ``y (O, N, H/2, W/2)``; caches for backward when ``train``."""
        c, n, h, w = x.shape
        if h % 2 or w % 2:
            raise ValueError(f"fused conv block needs even height and width, got {h}x{w}")
        if train or n <= EVAL_BATCH:
            return self._forward(x, train)
        y = np.empty((self.out_channels, n, h // 2, w // 2), dtype=self.weight.dtype)
        for i in range(0, n, EVAL_BATCH):
            y[:, i : i + EVAL_BATCH] = self._forward(x[:, i : i + EVAL_BATCH], False)
        return y

    def _forward(self, x, train):
        c, n, h, w = x.shape
        weight, bias = self.weight.value, self.bias.value
        plan = self._plan(x.shape, weight.dtype, train).scratch(False)
        x6 = x.reshape(c, n, h // 2, 2, w // 2, 2).transpose(3, 5, 0, 1, 2, 4)  # (x row parity, col parity, ...)
        if plan.p % 2:
            x6 = x6[::-1, ::-1]  # sub-grid r holds x rows of parity 1 - r
        np.copyto(plan.xs_interiors, x6, casting="unsafe")
        for dst, src in plan.d_copies:
            np.copyto(dst, src)
        wf, _ = self._matrices(weight.dtype)
        quarter = weight.dtype.type(0.25)
        flat = wf.reshape(-1)
        flat[self._wf_idx] = weight.reshape(-1) * quarter
        flat[self._wf_bias_idx] = bias * quarter
        np.matmul(wf[:, None], plan.d_windows, out=plan.z_chunks)
        if train:
            np.greater(plan.z, 0, out=plan.mask)
            self._cache = plan
        z4 = plan.z4
        np.maximum(z4, plan.zero, out=z4)
        o = plan.o
        y = plan.output("y", (o, plan.lp))
        np.add(z4[0], z4[1], out=y)
        y += z4[2]
        y += z4[3]
        return y[:, : plan.length].reshape(o, n, plan.hs, plan.ws)[:, :, : h // 2, : w // 2]

    def backward(self, grad_y: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """``grad_y (O, N, H/2, W/2)`` -> ``grad_x (C, N, H, W)`` (or None)."""
        if self._cache is None:
            raise RuntimeError("call forward(x, train=True) before backward")
        plan = self._cache.scratch(need_input_grad)
        dtype = plan.dtype
        quarter = dtype.type(0.25)
        np.copyto(plan.g4_interior, grad_y, casting="unsafe")
        np.multiply(plan.g4, plan.mask4, out=plan.gz4)
        gwf = np.matmul(plan.gz_chunks, plan.d_windows.swapaxes(-1, -2)).sum(axis=1)  # (2, 2*O, kd)
        flat = gwf.reshape(-1)
        gw = flat[self._wf_idx].sum(axis=0)
        gw *= quarter
        self.weight.accumulate(gw.reshape(self.weight.shape))  # small (O*C*k*k): no large pass
        gb = flat[self._wf_bias_idx].sum(axis=0)
        gb *= quarter
        self.bias.accumulate(gb)
        if not need_input_grad:
            return None
        plan.gz_head[...] = 0
        np.copyto(plan.g_dst, plan.g_src)
        _, w2 = self._matrices(dtype)
        w2.reshape(-1)[self._w2_dst] = self.weight.value.reshape(-1)[self._w2_src] * quarter
        np.matmul(w2[:, None], plan.g_windows, out=plan.gxs_chunks)
        gx = plan.output("gx", (plan.c, plan.n, plan.h, plan.w))
        for ri, si, grid in plan.gxs_interiors:
            gx[:, :, ri::2, si::2] = grid
        return gx
