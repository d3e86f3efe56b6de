"""2D convolution kernels: forward, gradient for the input, gradient for the weights.

Plain arrays in, preallocated arrays out. Every array is C-contiguous float32
in channels-first layout:

- images `x`: (N, C, H, W)
- kernels `w`: (F, C, KH, KW), Keras 1 'th' layout
- outputs `out`: (N, F, OH, OW), sized by the caller

The convolution is a cross-correlation (no kernel flip, as TensorFlow does):

    out[n, f, i, j] = b[f] + sum over c, ki, kj of
                      x[n, c, i*sh + ki - pad_top, j*sw + kj - pad_left] * w[f, c, ki, kj]

where positions outside the input count as 0. The output size is whatever the
caller allocated; `conv_padding` gives the Keras 1 one for a border mode.

Each kernel runs in parallel over the batch (ranges of samples or of sample
groups handed out by `threads.run_ranges`, or for the stride-1 forward pass
and input gradient of one large sample, bands of its output rows; the Numba
functions themselves are serial and release the GIL) and is deterministic:
the same inputs give bit-identical outputs whatever the number of threads.
Work that sums over the batch (the weight gradient) is split into groups of
samples whose size depends only on the shapes, and the group results are
added in group order.

How the stride-1 path is laid out (it is the one real models hit):

- The input is copied, zero padded, into planes of width Wp = OW + KW - 1.
  In such a plane the flat index p = i*Wp + j of output (i, j) and the flat
  index of its input tap (i + ki, j + kj) differ by the constant ki*Wp + kj,
  so one tap over the whole output is one contiguous, vectorisable loop over
  p. The columns j >= OW of this "wide" output are computed and thrown away.
  A group of samples is stacked end to end, which makes those loops long.
- Zero padding is shared where it can be: a wide row's right padding is
  the next row's left padding (pitch = OW + KW - 1 - min(pad_left,
  pad_right)), and a sample's bottom padding rows the next sample's top
  ones (rows per sample = OH + KH - 1 - min(pad_top, pad_bottom)). A tap
  that runs past a row's end (or a sample's) should read padding, and reads
  the padding that starts the next row (or sample), which is zero too;
  the stack ends in a zero tail. For 'same' 3x3 on 15x15 planes, 256
  positions per sample are stored and computed instead of 289.
- The loops run over a multiple of _VECTOR_ROUND positions, so that no
  remainder runs one float at a time.
- 3x3 kernels keep four filters' accumulators for a tile of positions in
  vector registers through every channel and tap (`register_tile`,
  _plane3x3_tiles), and store each once; the positions past the last whole
  tile, and filters past the last block of four, run a channel at a time.
- The gradient for the input is the same correlation, run on the output
  gradient padded by KH - 1 - pad_top, KW - 1 - pad_left, with the kernel
  flipped and its two channel axes swapped.
- The weight gradient is a set of dot products between the stacked wide
  output gradient (zero in the thrown-away columns) and the stacked input
  planes shifted by ki*Wp + kj. For 3x3 kernels, where the CPU has 32
  vector registers, three filters' nine taps keep their partial sums in
  registers over a whole group (_dw3x3_tiles).

Strides above 1 take plain loops over the valid output range of each tap.

The public kernels send wide layers, strided ones and small batches of
wide enough layers (`conv2d_gemm.use_gemm`) to the matrix-product path of
conv2d_gemm.py instead: same contract, im2col + sgemm, or for wide stride-1
and strided layers one sgemm per tap over padded planes or phase planes. Of those, 3x3
stride-1 calls with enough channels on large enough planes
(`conv2d_winograd.use_winograd`) go to conv2d_winograd.py for the forward
pass and the input gradient: Winograd's F(2x2, 3x3), 2.25x fewer
multiplications, as 16 matrix products. Batches of 3x3 stride-1 layers of 64
channels and more on small planes (`conv2d_winograd.use_winograd_samples`)
go there too, from the direct loops, for the same two calls (the input
gradient on F(4x4, 3x3): 4x fewer multiplications).
"""
import numba
import numpy as np

from . import conv2d_gemm, conv2d_winograd, threads
from .borrowed import borrowed
from .register_tile import (TILE_LANES, VECTOR_LANES, VECTOR_REGISTERS, tile_fma, tile_load,
                            tile_splat, tile_store, vector_fma, vector_load, vector_sum,
                            vector_zero)

__all__ = ['conv_output_length', 'conv_padding', 'conv2d_forward',
           'conv2d_backward_input', 'conv2d_backward_weights']

_BORDER_MODES = ('valid', 'same', 'full')

# The stride-1 paths stack samples into groups of about this many flat
# positions per plane (see _group_size). The grouping depends on the shapes
# only, never on the thread count, so results do not either.
_GROUP_POSITIONS = 2048
_MAX_GROUP = 16
# The number of groups is rounded up to a multiple of this, for balance on
# 1, 2, 4 or 8 threads. (A constant: asking Numba for the thread count inside
# a kernel would stop it from caching the kernel on disk.)
_GROUP_MULTIPLE = 8
# One sample (VGG16 on one image) is cut into this many bands of output rows
# instead, when it has at least _BAND_MIN_ROWS rows a band: one group would
# run on one thread.
_BANDS = 8
_BAND_MIN_ROWS = 8
_TAP_FASTMATH = {'contract'}
# The stride-1 loops over stacked positions run over a multiple of this many
# positions (the extra ones are computed and thrown away, or read zeros):
# LLVM vectorises them 8 (AVX2) or 16 (AVX-512) floats at a time, and a
# remainder of up to 15 positions would run one float at a time.
_VECTOR_ROUND = 16


# ---------------------------------------------------------------------------
# Shape helpers (plain Python, used by the layers)
# ---------------------------------------------------------------------------

def _check_geometry(filter_size, border_mode, stride, allowed, what):
    if border_mode not in allowed:
        raise ValueError('%s: border_mode must be one of %s, got %r'
                         % (what, ', '.join(repr(m) for m in allowed), border_mode))
    if int(filter_size) != filter_size or filter_size < 1:
        raise ValueError('%s: the window size must be a positive integer, got %r'
                         % (what, filter_size))
    if int(stride) != stride or stride < 1:
        raise ValueError('%s: the stride must be a positive integer, got %r' % (what, stride))


def conv_output_length(input_length, filter_size, border_mode, stride):
    """Length of a convolution output along one axis, as Keras 1 computes it.

    'valid': ceil((L - k + 1) / s); 'same': ceil(L / s); 'full':
    ceil((L + k - 1) / s). `None` (an unknown length) gives `None`. A 'valid'
    window larger than the input gives a length below 1, as in Keras 1;
    `conv_padding` rejects it.

    # Arguments
        input_length: int or None, the input length L.
        filter_size: int, the kernel length k.
        border_mode: 'valid', 'same' or 'full'.
        stride: int, the stride s.
    """
    _check_geometry(filter_size, border_mode, stride, _BORDER_MODES, 'conv_output_length')
    if input_length is None:
        return None
    if border_mode == 'valid':
        length = input_length - filter_size + 1
    elif border_mode == 'same':
        length = input_length
    else:
        length = input_length + filter_size - 1
    return (length + stride - 1) // stride


def conv_padding(input_length, filter_size, border_mode, stride):
    """(pad_before, output_length) of a convolution along one axis.

    'valid' pads 0, 'full' pads k - 1, and 'same' follows TensorFlow: the
    total padding is max((out - 1) * s + k - L, 0), of which total // 2 goes
    before (the extra one, if any, goes after).

    # Arguments
        input_length: int, the input length L.
        filter_size: int, the kernel length k.
        border_mode: 'valid', 'same' or 'full'.
        stride: int, the stride s.
    """
    out = conv_output_length(input_length, filter_size, border_mode, stride)
    if out is None or out < 1:
        raise ValueError('conv_padding: a window of %r does not fit in an input of length %r '
                         "with border_mode %r; use a smaller kernel or border_mode 'same'"
                         % (filter_size, input_length, border_mode))
    if border_mode == 'valid':
        pad = 0
    elif border_mode == 'full':
        pad = filter_size - 1
    else:
        pad = max((out - 1) * stride + filter_size - input_length, 0) // 2
    return pad, out


# ---------------------------------------------------------------------------
# Small jitted helpers
# ---------------------------------------------------------------------------

@numba.njit(cache=True)
def _valid_range(offset, stride, size, count):
    """Indices i in [0, count) with 0 <= i*stride + offset < size, as [lo, hi)."""
    lo = 0
    if offset < 0:
        lo = (-offset + stride - 1) // stride
    hi = count
    if size - 1 - offset < 0:
        hi = 0
    else:
        hi = min(count, (size - 1 - offset) // stride + 1)
    if hi < lo:
        hi = lo
    return lo, hi


@numba.njit(cache=True)
def _pad_planes(src, H, W, dst, base, rows, pitch, top, left):
    """dst[c, base + r*pitch + k] = src[c, (r - top)*W + k - left] for r < rows, k < pitch.

    src holds C planes of (H, W), flattened: (C, H*W). Positions outside src
    get 0. dst: (C, >= base + rows*pitch). (Loops index slices with the bare
    loop variable: an index such as `base + k` makes Numba emit a
    negative-index check that stops LLVM from vectorising.)
    """
    src, dst = borrowed(src), borrowed(dst)   # two views per row
    C = src.shape[0]
    if top == 0 and left == 0 and W == pitch and H >= rows:
        # No padding and no cropping of columns: one straight copy per plane.
        n = rows * pitch
        for c in range(C):
            s = src[c, :n]
            d = dst[c, base:base + n]
            for k in range(n):
                d[k] = s[k]
        return
    r_lo = max(0, top)
    r_hi = max(r_lo, min(rows, H + top))
    k_lo = max(0, left)
    k_hi = max(k_lo, min(pitch, W + left))
    n = k_hi - k_lo
    for c in range(C):
        plane = dst[c, base:base + rows * pitch]
        for k in range(rows * pitch):
            plane[k] = 0.0
        if left == 0 and W == pitch:
            # Whole rows (as for a 1D convolution, W == 1): one block copy.
            s = src[c, (r_lo - top) * W:(r_hi - top) * W]
            d = plane[r_lo * pitch:r_hi * pitch]
            for k in range((r_hi - r_lo) * pitch):
                d[k] = s[k]
            continue
        for r in range(r_lo, r_hi):
            start = (r - top) * W + k_lo - left
            s = src[c, start:start + n]
            d = plane[r * pitch + k_lo:r * pitch + k_lo + n]
            for k in range(n):
                d[k] = s[k]


@numba.njit(cache=True)
def _wide_to_out(acc, pitch, out, OH, OW):
    """out[i*OW + j] = acc[i*pitch + j]: a wide plane into a flat (OH, OW) plane."""
    acc, out = borrowed(acc), borrowed(out)   # two views per row
    if pitch == OW:
        s = acc[:OH * OW]
        for k in range(OH * OW):
            out[k] = s[k]
        return
    for i in range(OH):
        s = acc[i * pitch:i * pitch + OW]
        d = out[i * OW:i * OW + OW]
        for j in range(OW):
            d[j] = s[j]


@numba.njit(cache=True)
def _out_to_wide(src, OH, OW, pitch, dst):
    """dst[i*pitch + j] = src[i*OW + j] for j < OW (other entries untouched)."""
    src, dst = borrowed(src), borrowed(dst)   # two views per row
    if pitch == OW:
        d = dst[:OH * OW]
        for k in range(OH * OW):
            d[k] = src[k]
        return
    for i in range(OH):
        s = src[i * OW:i * OW + OW]
        d = dst[i * pitch:i * pitch + OW]
        for j in range(OW):
            d[j] = s[j]


@numba.njit(cache=True)
def _group_to_out(acc, P, pitch, outf, n0, m, OH, OW):
    """outf[n0 + s, f] (flat (OH, OW) planes) = sample s's wide plane in acc[f],
    at s*P, for s < m."""
    acc = borrowed(acc)   # a view per sample and filter
    for s in range(m):
        for f in range(acc.shape[0]):
            _wide_to_out(acc[f, s * P:], pitch, outf[n0 + s, f], OH, OW)


@numba.njit(cache=True)
def _group_to_wide(df, n0, m, OH, OW, pitch, P, ds):
    """ds[f, s*P:(s+1)*P] = the wide plane of df[n0 + s, f] (flat (OH, OW)), for s < m."""
    ds = borrowed(ds)   # a view per sample and filter
    for s in range(m):
        for f in range(ds.shape[0]):
            _out_to_wide(df[n0 + s, f], OH, OW, pitch, ds[f, s * P:(s + 1) * P])


@numba.njit(cache=True)
def _wide_geometry(H, W, OH, OW, KH, KW, pad_top, pad_left):
    """(pitch, rows, size) of one sample's stored padded planes for a stride-1
    correlation, and `size`, the floats a stack of them needs past the start
    of its last sample (see the module notes on shared padding)."""
    Wp = OW + KW - 1
    Hp = OH + KH - 1
    pitch = Wp - max(0, min(pad_left, Wp - pad_left - W))
    rows = Hp - max(0, min(pad_top, Hp - pad_top - H))
    # The last output's last tap: (OH-1 + KH-1)*pitch + OW-1 + KW-1, and room
    # for the loops' lengths to be rounded up to _VECTOR_ROUND.
    size = max(rows * pitch, (OH + KH - 2) * pitch + OW + KW - 1 + _VECTOR_ROUND - 1)
    return pitch, rows, size


@numba.njit(cache=True)
def _round_length(L):
    return (L + _VECTOR_ROUND - 1) // _VECTOR_ROUND * _VECTOR_ROUND


@numba.njit(cache=True)
def _stack_planes(xf, n0, m, H, W, pitch, rows, size, pad_top, pad_left):
    """The padded planes of samples n0 .. n0+m-1 of xf (N, C, H*W), stacked
    at P = rows*pitch floats per sample, with a zero tail (C, (m-1)*P + size)."""
    C = xf.shape[1]
    P = rows * pitch
    xs = np.empty((C, (m - 1) * P + size), np.float32)
    for s in range(m):
        _pad_planes(xf[n0 + s], H, W, xs, s * P, rows, pitch, pad_top, pad_left)
    for c in range(C):
        tail = xs[c, m * P:]
        for k in range(tail.shape[0]):
            tail[k] = 0.0
    return xs


# ---------------------------------------------------------------------------
# Stride-1 correlation over wide planes (forward and input gradient)
#
# A group of samples is stacked end to end: channel c of sample s occupies
# xs[c, s*P : (s+1)*P], P = Hp * pitch. Output (s, i, j) then sits at flat
# position s*P + i*pitch + j of a wide accumulator, and each tap is one
# contiguous loop over all positions of the group.
#
# The tap helpers add one kernel row (or one tap) of one input channel into
# the accumulators of a block of four filters (a0..a3: filters f, f+1, f+2,
# f+3) or of one filter; for 3x3 kernels, all nine taps of the channel at
# once (_plane3x3_x4), so that each accumulator is loaded and stored once per
# 9 multiply-adds instead of per 3: 1.0-1.4x less CPU time at 32-64 channels.
# Four filters share each input load; more would make LLVM spill the
# broadcast weights (with nine taps it keeps about two thirds in registers
# and reads the rest from the stack, which costs less than the stores saved;
# eight filters, or two channels at once, measured slower). Every helper
# indexes slices with the bare loop variable plus constants only, which is
# what lets LLVM vectorise, and is
# compiled with fastmath 'contract' alone: each multiply-add becomes one FMA
# (half the floating-point instructions where the CPU has FMA), in an order
# fixed at compile time.
# ---------------------------------------------------------------------------

@numba.njit(cache=True, fastmath=_TAP_FASTMATH)
def _row3_x4(a0, a1, a2, a3, x, off, w, f, c, ki):
    L = a0.shape[0]
    u0 = w[f, c, ki, 0]; u1 = w[f, c, ki, 1]; u2 = w[f, c, ki, 2]
    v0 = w[f + 1, c, ki, 0]; v1 = w[f + 1, c, ki, 1]; v2 = w[f + 1, c, ki, 2]
    y0 = w[f + 2, c, ki, 0]; y1 = w[f + 2, c, ki, 1]; y2 = w[f + 2, c, ki, 2]
    z0 = w[f + 3, c, ki, 0]; z1 = w[f + 3, c, ki, 1]; z2 = w[f + 3, c, ki, 2]
    r = x[off:off + L + 2]
    for p in range(L):
        x0 = r[p]; x1 = r[p + 1]; x2 = r[p + 2]
        a0[p] += u0 * x0 + u1 * x1 + u2 * x2
        a1[p] += v0 * x0 + v1 * x1 + v2 * x2
        a2[p] += y0 * x0 + y1 * x1 + y2 * x2
        a3[p] += z0 * x0 + z1 * x1 + z2 * x2


@numba.njit(cache=True, fastmath=_TAP_FASTMATH)
def _row5_x4(a0, a1, a2, a3, x, off, w, f, c, ki):
    L = a0.shape[0]
    u0 = w[f, c, ki, 0]; u1 = w[f, c, ki, 1]; u2 = w[f, c, ki, 2]
    u3 = w[f, c, ki, 3]; u4 = w[f, c, ki, 4]
    v0 = w[f + 1, c, ki, 0]; v1 = w[f + 1, c, ki, 1]; v2 = w[f + 1, c, ki, 2]
    v3 = w[f + 1, c, ki, 3]; v4 = w[f + 1, c, ki, 4]
    y0 = w[f + 2, c, ki, 0]; y1 = w[f + 2, c, ki, 1]; y2 = w[f + 2, c, ki, 2]
    y3 = w[f + 2, c, ki, 3]; y4 = w[f + 2, c, ki, 4]
    z0 = w[f + 3, c, ki, 0]; z1 = w[f + 3, c, ki, 1]; z2 = w[f + 3, c, ki, 2]
    z3 = w[f + 3, c, ki, 3]; z4 = w[f + 3, c, ki, 4]
    r = x[off:off + L + 4]
    for p in range(L):
        x0 = r[p]; x1 = r[p + 1]; x2 = r[p + 2]; x3 = r[p + 3]; x4 = r[p + 4]
        a0[p] += u0 * x0 + u1 * x1 + u2 * x2 + u3 * x3 + u4 * x4
        a1[p] += v0 * x0 + v1 * x1 + v2 * x2 + v3 * x3 + v4 * x4
        a2[p] += y0 * x0 + y1 * x1 + y2 * x2 + y3 * x3 + y4 * x4
        a3[p] += z0 * x0 + z1 * x1 + z2 * x2 + z3 * x3 + z4 * x4


@numba.njit(cache=True, fastmath=_TAP_FASTMATH)
def _tap_x4(a0, a1, a2, a3, x, off, w, f, c, ki, kj):
    L = a0.shape[0]
    u = w[f, c, ki, kj]; v = w[f + 1, c, ki, kj]
    y = w[f + 2, c, ki, kj]; z = w[f + 3, c, ki, kj]
    r = x[off:off + L]
    for p in range(L):
        t = r[p]
        a0[p] += u * t
        a1[p] += v * t
        a2[p] += y * t
        a3[p] += z * t


@numba.njit(cache=True, fastmath=_TAP_FASTMATH)
def _row3_x1(a0, x, off, w, f, c, ki):
    L = a0.shape[0]
    u0 = w[f, c, ki, 0]; u1 = w[f, c, ki, 1]; u2 = w[f, c, ki, 2]
    r = x[off:off + L + 2]
    for p in range(L):
        a0[p] += u0 * r[p] + u1 * r[p + 1] + u2 * r[p + 2]


@numba.njit(cache=True, fastmath=_TAP_FASTMATH)
def _row5_x1(a0, x, off, w, f, c, ki):
    L = a0.shape[0]
    u0 = w[f, c, ki, 0]; u1 = w[f, c, ki, 1]; u2 = w[f, c, ki, 2]
    u3 = w[f, c, ki, 3]; u4 = w[f, c, ki, 4]
    r = x[off:off + L + 4]
    for p in range(L):
        a0[p] += u0 * r[p] + u1 * r[p + 1] + u2 * r[p + 2] + u3 * r[p + 3] + u4 * r[p + 4]


@numba.njit(cache=True, fastmath=_TAP_FASTMATH)
def _tap_x1(a0, x, off, w, f, c, ki, kj):
    L = a0.shape[0]
    u = w[f, c, ki, kj]
    r = x[off:off + L]
    for p in range(L):
        a0[p] += u * r[p]


@numba.njit(cache=True, fastmath=_TAP_FASTMATH)
def _plane3x3_x4(a0, a1, a2, a3, x, pitch, w, f, c):
    """All nine taps of a 3x3 kernel over one input channel, for four filters:
    the accumulators are loaded and stored once per nine taps (36 FMAs)
    instead of once per kernel row."""
    L = a0.shape[0]
    u00 = w[f, c, 0, 0]; u01 = w[f, c, 0, 1]; u02 = w[f, c, 0, 2]
    u10 = w[f, c, 1, 0]; u11 = w[f, c, 1, 1]; u12 = w[f, c, 1, 2]
    u20 = w[f, c, 2, 0]; u21 = w[f, c, 2, 1]; u22 = w[f, c, 2, 2]
    v00 = w[f + 1, c, 0, 0]; v01 = w[f + 1, c, 0, 1]; v02 = w[f + 1, c, 0, 2]
    v10 = w[f + 1, c, 1, 0]; v11 = w[f + 1, c, 1, 1]; v12 = w[f + 1, c, 1, 2]
    v20 = w[f + 1, c, 2, 0]; v21 = w[f + 1, c, 2, 1]; v22 = w[f + 1, c, 2, 2]
    y00 = w[f + 2, c, 0, 0]; y01 = w[f + 2, c, 0, 1]; y02 = w[f + 2, c, 0, 2]
    y10 = w[f + 2, c, 1, 0]; y11 = w[f + 2, c, 1, 1]; y12 = w[f + 2, c, 1, 2]
    y20 = w[f + 2, c, 2, 0]; y21 = w[f + 2, c, 2, 1]; y22 = w[f + 2, c, 2, 2]
    z00 = w[f + 3, c, 0, 0]; z01 = w[f + 3, c, 0, 1]; z02 = w[f + 3, c, 0, 2]
    z10 = w[f + 3, c, 1, 0]; z11 = w[f + 3, c, 1, 1]; z12 = w[f + 3, c, 1, 2]
    z20 = w[f + 3, c, 2, 0]; z21 = w[f + 3, c, 2, 1]; z22 = w[f + 3, c, 2, 2]
    r0 = x[:L + 2]
    r1 = x[pitch:pitch + L + 2]
    r2 = x[2 * pitch:2 * pitch + L + 2]
    for p in range(L):
        # Tap by tap, the four filters side by side: four independent FMA
        # chains, each starting from the accumulator.
        s0 = a0[p]; s1 = a1[p]; s2 = a2[p]; s3 = a3[p]
        t = r0[p]; s0 += u00 * t; s1 += v00 * t; s2 += y00 * t; s3 += z00 * t
        t = r0[p + 1]; s0 += u01 * t; s1 += v01 * t; s2 += y01 * t; s3 += z01 * t
        t = r0[p + 2]; s0 += u02 * t; s1 += v02 * t; s2 += y02 * t; s3 += z02 * t
        t = r1[p]; s0 += u10 * t; s1 += v10 * t; s2 += y10 * t; s3 += z10 * t
        t = r1[p + 1]; s0 += u11 * t; s1 += v11 * t; s2 += y11 * t; s3 += z11 * t
        t = r1[p + 2]; s0 += u12 * t; s1 += v12 * t; s2 += y12 * t; s3 += z12 * t
        t = r2[p]; s0 += u20 * t; s1 += v20 * t; s2 += y20 * t; s3 += z20 * t
        t = r2[p + 1]; s0 += u21 * t; s1 += v21 * t; s2 += y21 * t; s3 += z21 * t
        t = r2[p + 2]; s0 += u22 * t; s1 += v22 * t; s2 += y22 * t; s3 += z22 * t
        a0[p] = s0; a1[p] = s1; a2[p] = s2; a3[p] = s3


@numba.njit(cache=True, fastmath=_TAP_FASTMATH)
def _plane3x3_x1(a0, x, pitch, w, f, c):
    """_plane3x3_x4 for one filter."""
    L = a0.shape[0]
    u00 = w[f, c, 0, 0]; u01 = w[f, c, 0, 1]; u02 = w[f, c, 0, 2]
    u10 = w[f, c, 1, 0]; u11 = w[f, c, 1, 1]; u12 = w[f, c, 1, 2]
    u20 = w[f, c, 2, 0]; u21 = w[f, c, 2, 1]; u22 = w[f, c, 2, 2]
    r0 = x[:L + 2]
    r1 = x[pitch:pitch + L + 2]
    r2 = x[2 * pitch:2 * pitch + L + 2]
    for p in range(L):
        s0 = a0[p]
        s0 += u00 * r0[p]; s0 += u01 * r0[p + 1]; s0 += u02 * r0[p + 2]
        s0 += u10 * r1[p]; s0 += u11 * r1[p + 1]; s0 += u12 * r1[p + 2]
        s0 += u20 * r2[p]; s0 += u21 * r2[p + 1]; s0 += u22 * r2[p + 2]
        a0[p] = s0


@numba.njit(cache=True)
def _pack_3x3_blocks(w):
    """w (F, C, 3, 3) as blocks of four filters: packed[((f//4)*C + c)*36 + 4*k + f%4]
    = w[f, c, k//3, k%3], for the filters of whole blocks."""
    F, C, KH, KW = w.shape
    packed = np.empty(F // 4 * C * 36, np.float32)
    wf = w.reshape((F, C * 9))
    for f in range(F // 4 * 4):
        for c in range(C):
            for k in range(9):
                packed[((f // 4) * C + c) * 36 + 4 * k + f % 4] = wf[f, c * 9 + k]
    return packed


@numba.njit(inline='always')
def _row3_x4_tiles(s0, s1, s2, s3, x, at, q, k):
    """One kernel row (three taps) into four filters' tiles, weights q[k:k+12]."""
    for kj in range(3):
        r = tile_load(x, at + kj)
        s0 = tile_fma(s0, r, q[k]); s1 = tile_fma(s1, r, q[k + 1])
        s2 = tile_fma(s2, r, q[k + 2]); s3 = tile_fma(s3, r, q[k + 3])
        k += 4
    return s0, s1, s2, s3


@numba.njit(cache=True)
def _plane3x3_tiles(xs, pitch, packed, b, acc, L):
    """acc[f, :L] = b[f] + the nine taps of every input channel, for the
    filters of whole blocks of four (weights from _pack_3x3_blocks); L a
    multiple of TILE_LANES.

    Four filters by TILE_LANES positions of accumulators stay in registers
    through the whole loop over channels and taps (register_tile), and each
    is stored once: 36 multiply-adds per tile of input loaded, with the
    weights broadcast from memory. The sums run in the same order as
    _plane3x3_x4's (bias, then channel by channel, taps row by row), so
    both give the same bits.
    """
    xs, packed, b, acc = borrowed(xs), borrowed(packed), borrowed(b), borrowed(acc)
    C = xs.shape[0]
    blocks = packed.shape[0] // (C * 36)
    for fb in range(blocks):
        f = 4 * fb
        for t in range(0, L, TILE_LANES):
            s0 = tile_splat(b[f]); s1 = tile_splat(b[f + 1])
            s2 = tile_splat(b[f + 2]); s3 = tile_splat(b[f + 3])
            for c in range(C):
                x = xs[c]
                q = packed[(fb * C + c) * 36:(fb * C + c) * 36 + 36]
                s0, s1, s2, s3 = _row3_x4_tiles(s0, s1, s2, s3, x, t, q, 0)
                s0, s1, s2, s3 = _row3_x4_tiles(s0, s1, s2, s3, x, t + pitch, q, 12)
                s0, s1, s2, s3 = _row3_x4_tiles(s0, s1, s2, s3, x, t + 2 * pitch, q, 24)
            tile_store(acc[f], t, s0); tile_store(acc[f + 1], t, s1)
            tile_store(acc[f + 2], t, s2); tile_store(acc[f + 3], t, s3)


@numba.njit(cache=True)
def _corr_s1_group(xs, pitch, w, packed, b, acc, L):
    """Wide correlation of a stacked group: acc[f, :L] = b[f] + taps of xs.

    xs: (C, >= L + (KH-1)*pitch + KW-1) stacked padded planes; w: (F, C, KH, KW);
    packed: w by _pack_3x3_blocks for 3x3 kernels (else unused); acc: (F, >= L).
    """
    xs, w, b, acc = borrowed(xs), borrowed(w), borrowed(b), borrowed(acc)
    F, C, KH, KW = w.shape
    # Blocks of four filters: 3x3 kernels in register tiles up to the last
    # whole tile, the rest (and other kernels) a channel at a time.
    start = 0
    if KH == 3 and KW == 3 and F >= 4:
        start = L // TILE_LANES * TILE_LANES
        _plane3x3_tiles(xs, pitch, packed, b, acc, start)
    f = 0
    if start == L:
        f = F // 4 * 4
    while f + 4 <= F:
        a0 = acc[f, start:L]; a1 = acc[f + 1, start:L]
        a2 = acc[f + 2, start:L]; a3 = acc[f + 3, start:L]
        b0 = b[f]; b1 = b[f + 1]; b2 = b[f + 2]; b3 = b[f + 3]
        for p in range(L - start):
            a0[p] = b0
            a1[p] = b1
            a2[p] = b2
            a3[p] = b3
        for c in range(C):
            x = xs[c, start:]
            if KH == 3 and KW == 3:
                _plane3x3_x4(a0, a1, a2, a3, x, pitch, w, f, c)
                continue
            for ki in range(KH):
                off = ki * pitch
                if KW == 3:
                    _row3_x4(a0, a1, a2, a3, x, off, w, f, c, ki)
                elif KW == 5:
                    _row5_x4(a0, a1, a2, a3, x, off, w, f, c, ki)
                else:
                    for kj in range(KW):
                        _tap_x4(a0, a1, a2, a3, x, off + kj, w, f, c, ki, kj)
        f += 4
    while f < F:
        a0 = acc[f, :L]
        b0 = b[f]
        for p in range(L):
            a0[p] = b0
        for c in range(C):
            x = xs[c]
            if KH == 3 and KW == 3:
                _plane3x3_x1(a0, x, pitch, w, f, c)
                continue
            for ki in range(KH):
                off = ki * pitch
                if KW == 3:
                    _row3_x1(a0, x, off, w, f, c, ki)
                elif KW == 5:
                    _row5_x1(a0, x, off, w, f, c, ki)
                else:
                    for kj in range(KW):
                        _tap_x1(a0, x, off + kj, w, f, c, ki, kj)
        f += 1


@numba.njit(cache=True)
def _group_size(N, plane, multiple):
    """Samples stacked per group: about _GROUP_POSITIONS flat positions, and
    (when possible) a number of groups that is a multiple of `multiple`, so
    that the groups share out evenly between threads."""
    gs = max(1, min(_MAX_GROUP, _GROUP_POSITIONS // max(plane, 1)))
    ng = (N + gs - 1) // gs
    ng = min(N, (ng + multiple - 1) // multiple * multiple)
    return max(1, (N + ng - 1) // max(ng, 1))


@numba.njit(cache=True, nogil=True)
def _corr_s1_groups(x, w, b, out, pad_top, pad_left, gs, g0, g1):
    """Stride-1 correlation of groups g0 .. g1-1 (gs samples each) of a batch:
    out = b + x (*) w, x padded by (pad_top, pad_left) (negative pads crop).
    out's size sets the extent; see the module notes."""
    x, out = borrowed(x), borrowed(out)   # shared by the threads: views of them cost no atomics
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    OH = out.shape[2]
    OW = out.shape[3]
    pitch, rows, size = _wide_geometry(H, W, OH, OW, KH, KW, pad_top, pad_left)
    P = rows * pitch
    xf = x.reshape((N, C, H * W))
    outf = out.reshape((N, F, OH * OW))
    packed = _pack_3x3_blocks(w) if KH == 3 and KW == 3 else np.empty(0, np.float32)
    for g in range(g0, g1):
        n0 = g * gs
        m = min(N, n0 + gs) - n0
        xs = _stack_planes(xf, n0, m, H, W, pitch, rows, size, pad_top, pad_left)
        L = _round_length((m - 1) * P + (OH - 1) * pitch + OW)
        acc = np.empty((F, L), np.float32)
        _corr_s1_group(xs, pitch, w, packed, b, acc, L)
        _group_to_out(acc, P, pitch, outf, n0, m, OH, OW)


@numba.njit(cache=True, nogil=True)
def _corr_s1_bands(x, w, b, out, pad_top, pad_left, band, k0, k1):
    """_corr_s1_groups for one sample (N = 1), by bands of `band` output rows:
    bands k0 .. k1-1, each correlated as a sample of its own whose padding
    above is pad_top - its first row (negative: the rows above it cropped).
    Each output sums the same terms in the same order as in one group. w may
    have more filters than out (_whole_filter_blocks)."""
    x, out = borrowed(x), borrowed(out)
    _, C, H, W = x.shape
    F, _, KH, KW = w.shape
    OH, OW = out.shape[2], out.shape[3]
    xf = x.reshape((1, C, H * W))
    outf = out.reshape((out.shape[1], OH * OW))
    packed = _pack_3x3_blocks(w) if KH == 3 and KW == 3 else np.empty(0, np.float32)
    for k in range(k0, k1):
        i0 = k * band
        rows_out = min(OH, i0 + band) - i0
        pitch, rows, size = _wide_geometry(H, W, rows_out, OW, KH, KW, pad_top - i0, pad_left)
        xs = _stack_planes(xf, 0, 1, H, W, pitch, rows, size, pad_top - i0, pad_left)
        L = _round_length((rows_out - 1) * pitch + OW)
        acc = np.empty((F, L), np.float32)
        _corr_s1_group(xs, pitch, w, packed, b, acc, L)
        for f in range(out.shape[1]):
            _wide_to_out(acc[f], pitch, outf[f, i0 * OW:], rows_out, OW)


def _whole_filter_blocks(w, b):
    """(w, b), with a zero filter added to 3x3 kernels of 3, 7, 11, ...
    filters: the last three then run in register tiles with it instead of
    one at a time, the same sums in the same order (VGG16's first input
    gradient, 64 -> 3 channels on one 224x224 image: 0.75x the CPU time).
    _corr_s1_bands writes out's filters only."""
    F = w.shape[0]
    if w.shape[2] != 3 or w.shape[3] != 3 or F % 4 != 3:
        return w, b
    w4 = np.zeros((F + 1,) + w.shape[1:], np.float32)
    w4[:F] = w
    b4 = np.zeros(F + 1, np.float32)
    b4[:F] = b
    return w4, b4


def _corr_s1(x, w, b, out, pad_top, pad_left):
    """Stride-1 correlation of a whole batch, its sample groups spread over the
    kernel threads (one sample: its bands of rows, _corr_s1_bands)."""
    N, _, H, W = x.shape
    KH, KW = w.shape[2], w.shape[3]
    OH, OW = out.shape[2], out.shape[3]
    if N == 1 and OH >= _BANDS * _BAND_MIN_ROWS:
        band = -(-OH // _BANDS)
        w, b = _whole_filter_blocks(w, b)
        threads.run_ranges(_corr_s1_bands, -(-OH // band), _work(w, out),
                           x, w, b, out, pad_top, pad_left, band)
        return
    pitch, rows, _ = _wide_geometry.py_func(H, W, OH, OW, KH, KW, pad_top, pad_left)
    gs = _group_size.py_func(N, rows * pitch, _GROUP_MULTIPLE)
    ng = -(-N // gs)
    threads.run_ranges(_corr_s1_groups, ng, _work(w, out),
                       x, w, b, out, pad_top, pad_left, gs)


def _work(w, out):
    """Multiply-adds of a convolution call (to size its share-out)."""
    return w.size * out.shape[0] * out.shape[2] * out.shape[3]


# ---------------------------------------------------------------------------
# Any-stride loops: used when a stride is above 1. Plain loops over the
# valid output range of each tap; correct for any geometry, not tuned.
# ---------------------------------------------------------------------------

@numba.njit(cache=True)
def _forward_general_sample(x, w, b, out, sh, sw, pt, pl):
    C, H, W = x.shape
    F, _, KH, KW = w.shape
    OH = out.shape[1]
    OW = out.shape[2]
    for f in range(F):
        o = out[f]
        bv = b[f]
        for i in range(OH):
            for j in range(OW):
                o[i, j] = bv
        for c in range(C):
            for ki in range(KH):
                i_lo, i_hi = _valid_range(ki - pt, sh, H, OH)
                for kj in range(KW):
                    j_lo, j_hi = _valid_range(kj - pl, sw, W, OW)
                    wv = w[f, c, ki, kj]
                    for i in range(i_lo, i_hi):
                        xr = x[c, i * sh + ki - pt]
                        orow = o[i]
                        base = kj - pl
                        for j in range(j_lo, j_hi):
                            orow[j] += wv * xr[j * sw + base]


@numba.njit(cache=True)
def _backward_input_general_sample(dout, w, dx, sh, sw, pt, pl):
    F, OH, OW = dout.shape
    _, C, KH, KW = w.shape
    H = dx.shape[1]
    W = dx.shape[2]
    for c in range(C):
        for r in range(H):
            for k in range(W):
                dx[c, r, k] = 0.0
    for f in range(F):
        for c in range(C):
            for ki in range(KH):
                i_lo, i_hi = _valid_range(ki - pt, sh, H, OH)
                for kj in range(KW):
                    j_lo, j_hi = _valid_range(kj - pl, sw, W, OW)
                    wv = w[f, c, ki, kj]
                    for i in range(i_lo, i_hi):
                        xr = dx[c, i * sh + ki - pt]
                        drow = dout[f, i]
                        base = kj - pl
                        for j in range(j_lo, j_hi):
                            xr[j * sw + base] += wv * drow[j]


@numba.njit(cache=True)
def _backward_weights_general_sample(x, dout, dw, db, sh, sw, pt, pl):
    """Weight and bias gradients of one sample (overwrites dw, db)."""
    C, H, W = x.shape
    F, OH, OW = dout.shape
    KH = dw.shape[2]
    KW = dw.shape[3]
    for f in range(F):
        s = np.float32(0.0)
        for i in range(OH):
            for j in range(OW):
                s += dout[f, i, j]
        db[f] = s
        for c in range(C):
            for ki in range(KH):
                i_lo, i_hi = _valid_range(ki - pt, sh, H, OH)
                for kj in range(KW):
                    j_lo, j_hi = _valid_range(kj - pl, sw, W, OW)
                    s = np.float32(0.0)
                    for i in range(i_lo, i_hi):
                        xr = x[c, i * sh + ki - pt]
                        drow = dout[f, i]
                        base = kj - pl
                        for j in range(j_lo, j_hi):
                            s += drow[j] * xr[j * sw + base]
                    dw[f, c, ki, kj] = s


@numba.njit(cache=True, nogil=True)
def _forward_general_range(x, w, b, out, sh, sw, pt, pl, n0, n1):
    for n in range(n0, n1):
        _forward_general_sample(x[n], w, b, out[n], sh, sw, pt, pl)


@numba.njit(cache=True, nogil=True)
def _backward_input_general_range(dout, w, dx, sh, sw, pt, pl, n0, n1):
    for n in range(n0, n1):
        _backward_input_general_sample(dout[n], w, dx[n], sh, sw, pt, pl)


@numba.njit(cache=True, nogil=True)
def _backward_weights_general_range(x, dout, part_w, part_b, sh, sw, pt, pl, n0, n1):
    for n in range(n0, n1):
        _backward_weights_general_sample(x[n], dout[n], part_w[n], part_b[n], sh, sw, pt, pl)


def _sum_parts(part_w, part_b, dw, db):
    """dw, db = the sums of part_w, part_b over their first axis, in order
    (whole rows of partial sums at a time: vector adds over contiguous
    memory)."""
    conv2d_gemm._sum_parts(part_w.reshape((part_w.shape[0], -1)), dw.reshape(-1))
    conv2d_gemm._sum_parts(part_b, db)


# ---------------------------------------------------------------------------
# Stride-1 weight gradient: dot products over stacked wide planes
#
# The dot helpers are compiled with fastmath 'reassoc' and 'contract' (no
# NaN/Inf assumptions). 'reassoc' lets LLVM keep one vector of partial sums
# per dot product in registers and add the lanes at the end: in strict
# source order LLVM cannot vectorise a float sum at all (and Numba leaves the
# SLP vectoriser off), and the weight gradient runs six to eight times slower
# (about 10 GFLOP/s per core instead of 60-80 at the seed model's shapes).
# 'contract' makes each multiply-add one FMA (one rounding instead of two).
# 3-wide kernels take four filters at once (_dots_row3_x4): twelve partial
# sums, enough to cover the FMA latency, fed by seven loads per twelve FMAs
# (two filters: five loads per six). The summation order is fixed when the
# function is compiled, so results stay bit-identical run to run and across
# thread counts (each dot product runs on one thread).
# ---------------------------------------------------------------------------

_REDUCE_FASTMATH = {'reassoc', 'contract'}


@numba.njit(cache=True, fastmath=_REDUCE_FASTMATH)
def _dots_row3(d0, d1, x, off, L):
    """sum_p d{0,1}[p] * x[off + kj + p] for kj = 0, 1, 2."""
    e0 = d0[:L]
    e1 = d1[:L]
    r = x[off:off + L + 2]
    s00 = s01 = s02 = s10 = s11 = s12 = np.float32(0.0)
    for p in range(L):
        g = e0[p]
        h = e1[p]
        x0 = r[p]; x1 = r[p + 1]; x2 = r[p + 2]
        s00 += g * x0; s01 += g * x1; s02 += g * x2
        s10 += h * x0; s11 += h * x1; s12 += h * x2
    return s00, s01, s02, s10, s11, s12


@numba.njit(cache=True, fastmath=_REDUCE_FASTMATH)
def _dots_row3_x4(d0, d1, d2, d3, x, off, L):
    """sum_p d{0,1,2,3}[p] * x[off + kj + p] for kj = 0, 1, 2: twelve dot
    products from four loads of the output gradients and three of the input."""
    e0 = d0[:L]
    e1 = d1[:L]
    e2 = d2[:L]
    e3 = d3[:L]
    r = x[off:off + L + 2]
    s00 = s01 = s02 = s10 = s11 = s12 = np.float32(0.0)
    s20 = s21 = s22 = s30 = s31 = s32 = np.float32(0.0)
    for p in range(L):
        x0 = r[p]; x1 = r[p + 1]; x2 = r[p + 2]
        g = e0[p]
        s00 += g * x0; s01 += g * x1; s02 += g * x2
        g = e1[p]
        s10 += g * x0; s11 += g * x1; s12 += g * x2
        g = e2[p]
        s20 += g * x0; s21 += g * x1; s22 += g * x2
        g = e3[p]
        s30 += g * x0; s31 += g * x1; s32 += g * x2
    return s00, s01, s02, s10, s11, s12, s20, s21, s22, s30, s31, s32


@numba.njit(cache=True, fastmath=_REDUCE_FASTMATH)
def _dots_row5(d0, d1, x, off, L):
    """sum_p d{0,1}[p] * x[off + kj + p] for kj = 0..4."""
    e0 = d0[:L]
    e1 = d1[:L]
    r = x[off:off + L + 4]
    s00 = s01 = s02 = s03 = s04 = np.float32(0.0)
    s10 = s11 = s12 = s13 = s14 = np.float32(0.0)
    for p in range(L):
        g = e0[p]
        h = e1[p]
        x0 = r[p]; x1 = r[p + 1]; x2 = r[p + 2]; x3 = r[p + 3]; x4 = r[p + 4]
        s00 += g * x0; s01 += g * x1; s02 += g * x2; s03 += g * x3; s04 += g * x4
        s10 += h * x0; s11 += h * x1; s12 += h * x2; s13 += h * x3; s14 += h * x4
    return s00, s01, s02, s03, s04, s10, s11, s12, s13, s14


@numba.njit(cache=True, fastmath=_REDUCE_FASTMATH)
def _dots_one(d0, d1, x, off, L):
    """sum_p d{0,1}[p] * x[off + p]."""
    e0 = d0[:L]
    e1 = d1[:L]
    r = x[off:off + L]
    s0 = s1 = np.float32(0.0)
    for p in range(L):
        xv = r[p]
        s0 += e0[p] * xv
        s1 += e1[p] * xv
    return s0, s1


@numba.njit(cache=True, fastmath=_REDUCE_FASTMATH)
def _sum(d, L):
    e = d[:L]
    s = np.float32(0.0)
    for p in range(L):
        s += e[p]
    return s


# 3x3 weight gradients in register tiles: the nine taps of three filters, 27
# accumulators of one machine vector each, stay in registers over a whole
# group's positions and are summed across their lanes once at the end. Each
# step over VECTOR_LANES positions loads three output-gradient vectors and
# nine (shifted, unaligned) input vectors for 27 multiply-adds, and keeps one
# register for the input vector in flight: 27 + 3 + 1 registers. Where the
# CPU has too few registers for that (16 with AVX2: one filter would fit,
# ten loads per nine multiply-adds), _dots_row3_x4 (four filters by one
# kernel row, seven loads per twelve) does better, so the path follows from
# the register count. The sums of one weight run over the group's positions
# in a fixed order (lane by lane, then the lanes by halves): the same bits
# on any thread count.
_TILE_FILTERS = 3


def weight_tiles_fit(registers):
    """Whether three filters' nine taps of accumulators, their three output
    gradient vectors and an input vector fit in `registers` vector registers."""
    return _TILE_FILTERS * 9 + _TILE_FILTERS + 1 <= registers


WEIGHT_TILES = weight_tiles_fit(VECTOR_REGISTERS)


@numba.njit(inline='always')
def _dw_row3_x3(s0, s1, s2, t0, t1, t2, u0, u1, u2, x, at, g0, g1, g2):
    """One kernel row (three taps) of three filters: s, t, u accumulate
    g0, g1, g2 times the input at x[at + kj], kj = 0, 1, 2."""
    r = vector_load(x, at)
    s0 = vector_fma(s0, g0, r); t0 = vector_fma(t0, g1, r); u0 = vector_fma(u0, g2, r)
    r = vector_load(x, at + 1)
    s1 = vector_fma(s1, g0, r); t1 = vector_fma(t1, g1, r); u1 = vector_fma(u1, g2, r)
    r = vector_load(x, at + 2)
    s2 = vector_fma(s2, g0, r); t2 = vector_fma(t2, g1, r); u2 = vector_fma(u2, g2, r)
    return s0, s1, s2, t0, t1, t2, u0, u1, u2


@numba.njit(inline='always')
def _store_taps(dw, f, c, t00, t01, t02, t10, t11, t12, t20, t21, t22):
    """dw[f, c] = the lane sums of one filter's nine tap accumulators."""
    dw[f, c, 0, 0] = vector_sum(t00); dw[f, c, 0, 1] = vector_sum(t01)
    dw[f, c, 0, 2] = vector_sum(t02); dw[f, c, 1, 0] = vector_sum(t10)
    dw[f, c, 1, 1] = vector_sum(t11); dw[f, c, 1, 2] = vector_sum(t12)
    dw[f, c, 2, 0] = vector_sum(t20); dw[f, c, 2, 1] = vector_sum(t21)
    dw[f, c, 2, 2] = vector_sum(t22)


@numba.njit(cache=True)
def _dw3x3_tiles(ds, xs, pitch, L, dw):
    """dw[f, c, ki, kj] = sum_p ds[f, p] * xs[c, p + ki*pitch + kj] over
    p < L (a multiple of VECTOR_LANES), in register tiles (see above). The
    filters' gradient rows (three of them, a few kB each) stay in the L1
    cache through the loop over channels; each input plane is read once per
    block of filters. A last block of one or two filters runs as a whole
    block, the last filter repeated and its copies not stored (half again
    the time of a whole block, against twice that for the row dot products).
    """
    ds, xs, dw = borrowed(ds), borrowed(xs), borrowed(dw)
    F, C = dw.shape[0], dw.shape[1]
    for f in range(0, F, 3):
        d0 = ds[f]
        d1 = ds[min(f + 1, F - 1)]
        d2 = ds[min(f + 2, F - 1)]
        for c in range(C):
            x = xs[c]
            a00 = a01 = a02 = a10 = a11 = a12 = a20 = a21 = a22 = vector_zero()
            b00 = b01 = b02 = b10 = b11 = b12 = b20 = b21 = b22 = vector_zero()
            e00 = e01 = e02 = e10 = e11 = e12 = e20 = e21 = e22 = vector_zero()
            for p in range(0, L, VECTOR_LANES):
                g0 = vector_load(d0, p)
                g1 = vector_load(d1, p)
                g2 = vector_load(d2, p)
                a00, a01, a02, b00, b01, b02, e00, e01, e02 = _dw_row3_x3(
                    a00, a01, a02, b00, b01, b02, e00, e01, e02, x, p, g0, g1, g2)
                a10, a11, a12, b10, b11, b12, e10, e11, e12 = _dw_row3_x3(
                    a10, a11, a12, b10, b11, b12, e10, e11, e12, x, p + pitch, g0, g1, g2)
                a20, a21, a22, b20, b21, b22, e20, e21, e22 = _dw_row3_x3(
                    a20, a21, a22, b20, b21, b22, e20, e21, e22, x, p + 2 * pitch, g0, g1, g2)
            _store_taps(dw, f, c, a00, a01, a02, a10, a11, a12, a20, a21, a22)
            if f + 1 < F:
                _store_taps(dw, f + 1, c, b00, b01, b02, b10, b11, b12, b20, b21, b22)
            if f + 2 < F:
                _store_taps(dw, f + 2, c, e00, e01, e02, e10, e11, e12, e20, e21, e22)


@numba.njit(cache=True)
def _bw_group(ds, xs, pitch, L, dw, db, tiles):
    """Weight and bias gradients of one stacked group (overwrites dw, db).

    ds: (F, >= L) stacked wide output gradients, zero outside valid outputs;
    xs: (C, >= L + (KH-1)*pitch + KW - 1) stacked padded input planes;
    tiles: whether 3x3 kernels take _dw3x3_tiles.
    """
    ds, xs, dw, db = borrowed(ds), borrowed(xs), borrowed(dw), borrowed(db)
    F, C, KH, KW = dw.shape
    for f in range(F):
        db[f] = _sum(ds[f], L)
    if tiles and KH == 3 and KW == 3:
        _dw3x3_tiles(ds, xs, pitch, L, dw)
        return
    for c in range(C):
        x = xs[c]
        f0 = 0
        if KW == 3:
            while f0 + 4 <= F:
                d0 = ds[f0]; d1 = ds[f0 + 1]; d2 = ds[f0 + 2]; d3 = ds[f0 + 3]
                for ki in range(KH):
                    (s00, s01, s02, s10, s11, s12,
                     s20, s21, s22, s30, s31, s32) = _dots_row3_x4(d0, d1, d2, d3, x,
                                                                   ki * pitch, L)
                    dw[f0, c, ki, 0] = s00; dw[f0, c, ki, 1] = s01; dw[f0, c, ki, 2] = s02
                    dw[f0 + 1, c, ki, 0] = s10; dw[f0 + 1, c, ki, 1] = s11
                    dw[f0 + 1, c, ki, 2] = s12
                    dw[f0 + 2, c, ki, 0] = s20; dw[f0 + 2, c, ki, 1] = s21
                    dw[f0 + 2, c, ki, 2] = s22
                    dw[f0 + 3, c, ki, 0] = s30; dw[f0 + 3, c, ki, 1] = s31
                    dw[f0 + 3, c, ki, 2] = s32
                f0 += 4
        while f0 < F:
            f1 = min(f0 + 1, F - 1)
            d0 = ds[f0]
            d1 = ds[f1]
            for ki in range(KH):
                off = ki * pitch
                if KW == 3:
                    s00, s01, s02, s10, s11, s12 = _dots_row3(d0, d1, x, off, L)
                    dw[f0, c, ki, 0] = s00; dw[f0, c, ki, 1] = s01; dw[f0, c, ki, 2] = s02
                    dw[f1, c, ki, 0] = s10; dw[f1, c, ki, 1] = s11; dw[f1, c, ki, 2] = s12
                elif KW == 5:
                    s00, s01, s02, s03, s04, s10, s11, s12, s13, s14 = _dots_row5(
                        d0, d1, x, off, L)
                    dw[f0, c, ki, 0] = s00; dw[f0, c, ki, 1] = s01; dw[f0, c, ki, 2] = s02
                    dw[f0, c, ki, 3] = s03; dw[f0, c, ki, 4] = s04
                    dw[f1, c, ki, 0] = s10; dw[f1, c, ki, 1] = s11; dw[f1, c, ki, 2] = s12
                    dw[f1, c, ki, 3] = s13; dw[f1, c, ki, 4] = s14
                else:
                    for kj in range(KW):
                        s0, s1 = _dots_one(d0, d1, x, off + kj, L)
                        dw[f0, c, ki, kj] = s0
                        dw[f1, c, ki, kj] = s1
            f0 += 2


@numba.njit(cache=True, nogil=True)
def _backward_weights_s1_groups(x, dout, part_w, part_b, pad_top, pad_left, gs, tiles, g0, g1):
    """Weight and bias gradients of groups g0 .. g1-1, into part_w[g], part_b[g]
    (`tiles`: as _bw_group's)."""
    # Shared by the threads: views of them cost no atomics.
    x, dout, part_w, part_b = borrowed(x), borrowed(dout), borrowed(part_w), borrowed(part_b)
    N, C, H, W = x.shape
    _, F, OH, OW = dout.shape
    KH = part_w.shape[3]
    KW = part_w.shape[4]
    pitch, rows, size = _wide_geometry(H, W, OH, OW, KH, KW, pad_top, pad_left)
    P = rows * pitch
    xf = x.reshape((N, C, H * W))
    df = dout.reshape((N, F, OH * OW))
    # One wide output gradient buffer for the whole range, zeroed once: every
    # group writes the same valid positions of it, so its thrown-away columns
    # and rows stay zero, and only a short last group has stale samples past
    # its own to clear.
    ds = np.zeros((F, max(gs * P, _round_length((gs - 1) * P + (OH - 1) * pitch + OW))),
                  np.float32)
    for g in range(g0, g1):
        n0 = g * gs
        m = min(N, n0 + gs) - n0
        L = _round_length((m - 1) * P + (OH - 1) * pitch + OW)
        if m < gs:
            for f in range(F):
                stale = ds[f, m * P:]
                for k in range(stale.shape[0]):
                    stale[k] = 0.0
        _group_to_wide(df, n0, m, OH, OW, pitch, P, ds)
        xs = _stack_planes(xf, n0, m, H, W, pitch, rows, size, pad_top, pad_left)
        _bw_group(ds, xs, pitch, L, part_w[g], part_b[g], tiles)


def _backward_weights_s1(x, dout, dw, db, pad_top, pad_left, tiles=WEIGHT_TILES):
    N, _, H, W = x.shape
    F, C, KH, KW = dw.shape
    OH, OW = dout.shape[2], dout.shape[3]
    # The grouping sets the order of the sums: it depends on the shapes only.
    pitch, rows, _ = _wide_geometry.py_func(H, W, OH, OW, KH, KW, pad_top, pad_left)
    gs = _group_size.py_func(N, rows * pitch, _GROUP_MULTIPLE)
    ng = -(-N // gs)
    part_w = np.empty((ng, F, C, KH, KW), np.float32)
    part_b = np.empty((ng, F), np.float32)
    threads.run_ranges(_backward_weights_s1_groups, ng, _work(dw, dout),
                       x, dout, part_w, part_b, pad_top, pad_left, gs, tiles)
    _sum_parts(part_w, part_b, dw, db)


# ---------------------------------------------------------------------------
# Public kernels
# ---------------------------------------------------------------------------

@numba.njit(cache=True)
def _check_conv(x_shape, w_shape, out_shape, sh, sw, pt, pl):
    if x_shape[1] != w_shape[1]:
        raise ValueError('conv2d: the kernel has a different number of input channels '
                         '(w.shape[1]) than the images')
    if out_shape[0] != x_shape[0]:
        raise ValueError('conv2d: the output batch size differs from the input batch size')
    if out_shape[1] != w_shape[0]:
        raise ValueError('conv2d: the output has a different number of channels than the '
                         'kernel has filters (w.shape[0])')
    if sh < 1 or sw < 1:
        raise ValueError('conv2d: strides must be >= 1')
    if pt < 0 or pl < 0:
        raise ValueError('conv2d: padding must be >= 0')


def _direct_forward(x, w, b, out, stride_h, stride_w, pad_top, pad_left):
    N = x.shape[0]
    OH = out.shape[2]
    OW = out.shape[3]
    if N == 0 or OH == 0 or OW == 0:
        return
    if stride_h == 1 and stride_w == 1:
        _corr_s1(x, w, b, out, pad_top, pad_left)
    else:
        threads.run_ranges(_forward_general_range, N, _work(w, out),
                           x, w, b, out, stride_h, stride_w, pad_top, pad_left)


@numba.njit(cache=True)
def _flip_swap(w):
    """wt[c, f, ki, kj] = w[f, c, KH-1-ki, KW-1-kj], and a zero bias for it."""
    F, C, KH, KW = w.shape
    wt = np.empty((C, F, KH, KW), np.float32)
    for f in range(F):
        for c in range(C):
            for ki in range(KH):
                for kj in range(KW):
                    wt[c, f, ki, kj] = w[f, c, KH - 1 - ki, KW - 1 - kj]
    zero = np.empty(C, np.float32)
    for c in range(C):
        zero[c] = 0.0
    return wt, zero


def _direct_backward_input(dout, w, dx, stride_h, stride_w, pad_top, pad_left):
    N, C, H, W = dx.shape
    F, _, KH, KW = w.shape
    if N == 0 or H == 0 or W == 0:
        return
    if dout.shape[2] == 0 or dout.shape[3] == 0:
        dx[:] = 0.0
        return
    if stride_h == 1 and stride_w == 1:
        # dx = (dout padded by KH-1-pt, KW-1-pl) correlated with the flipped,
        # channel-swapped kernel.
        wt, zero = _flip_swap(w)
        _corr_s1(dout, wt, zero, dx, KH - 1 - pad_top, KW - 1 - pad_left)
    else:
        threads.run_ranges(_backward_input_general_range, N, _work(w, dout),
                           dout, w, dx, stride_h, stride_w, pad_top, pad_left)


def _direct_backward_weights(x, dout, dw, db, stride_h, stride_w, pad_top, pad_left):
    N = x.shape[0]
    F, C, KH, KW = dw.shape
    OH = dout.shape[2]
    OW = dout.shape[3]
    if N == 0 or OH == 0 or OW == 0:
        dw[:] = 0.0
        db[:] = 0.0
        return
    if stride_h == 1 and stride_w == 1:
        _backward_weights_s1(x, dout, dw, db, pad_top, pad_left)
    else:
        part_w = np.empty((N, F, C, KH, KW), np.float32)
        part_b = np.empty((N, F), np.float32)
        threads.run_ranges(_backward_weights_general_range, N, _work(dw, dout),
                           x, dout, part_w, part_b, stride_h, stride_w, pad_top, pad_left)
        _sum_parts(part_w, part_b, dw, db)


# ---------------------------------------------------------------------------
# Public kernels: the direct loops above, or matrix products (conv2d_gemm.py)
# for wide layers
# ---------------------------------------------------------------------------

def _check_arrays(kernel, **arrays):
    for name, a in arrays.items():
        want = 1 if name in ('b', 'db') else 4
        if not isinstance(a, np.ndarray) or a.dtype != np.float32 or a.ndim != want \
                or not a.flags.c_contiguous:
            raise ValueError('%s: %s must be a C-contiguous float32 array of %d dimensions, got %s'
                             % (kernel, name, want, _describe(a)))


def _describe(a):
    if not isinstance(a, np.ndarray):
        return type(a).__name__
    return '%s %s%s' % (a.dtype, a.shape, '' if a.flags.c_contiguous else ' (not contiguous)')


def _empty(*sizes):
    return any(size == 0 for size in sizes)


def conv2d_forward(x, w, b, out, stride_h, stride_w, pad_top, pad_left):
    """out[n,f,i,j] = b[f] + sum_{c,ki,kj} x[n,c,i*sh+ki-pt, j*sw+kj-pl] * w[f,c,ki,kj].

    x: (N, C, H, W); w: (F, C, KH, KW); b: (F,); out: (N, F, OH, OW), filled
    completely. Positions outside x count as 0. Returns the token to give
    conv2d_backward_input as `checked`: the copy of w that the Winograd
    kernels keep and compared w with, or None.
    """
    _check_arrays('conv2d_forward', x=x, w=w, b=b, out=out)
    _check_conv.py_func(x.shape, w.shape, out.shape, stride_h, stride_w, pad_top, pad_left)
    if b.shape[0] != w.shape[0]:
        raise ValueError('conv2d_forward: b must have one entry per filter (w.shape[0])')
    F, C, KH, KW = w.shape
    strided = stride_h > 1 or stride_w > 1
    if not _empty(*out.shape) and conv2d_gemm.use_gemm(C, F, KH, KW, strided, x.shape[0]):
        if conv2d_winograd.use_winograd(C, F, KH, KW, strided, out.shape[2], out.shape[3],
                                        x.shape[0]):
            return conv2d_winograd.winograd_forward(x, w, b, out, pad_top, pad_left)
        conv2d_gemm.gemm_forward(x, w, b, out, stride_h, stride_w, pad_top, pad_left)
    elif not _empty(*out.shape) and conv2d_winograd.use_winograd_samples(
            C, F, KH, KW, strided, x.shape[0], out.shape[2], out.shape[3], False):
        return conv2d_winograd.winograd_samples_forward(x, w, b, out, pad_top, pad_left)
    else:
        _direct_forward(x, w, b, out, stride_h, stride_w, pad_top, pad_left)
    return None


def conv2d_backward_input(dout, w, dx, stride_h, stride_w, pad_top, pad_left, checked=None):
    """Fills dx (N, C, H, W) with the gradient of sum(out * dout) with respect to x.

    dout: (N, F, OH, OW) gradient of the conv2d_forward output; w, strides and
    padding as given to conv2d_forward. checked: what conv2d_forward returned
    for w, when the caller knows w has kept its bits since (a layer's
    backward pass): the Winograd kernels then skip comparing w with their
    copy of it, as long as that copy is the one they still keep.
    """
    _check_arrays('conv2d_backward_input', dout=dout, w=w, dx=dx)
    _check_conv.py_func(dx.shape, w.shape, dout.shape, stride_h, stride_w, pad_top, pad_left)
    F, C, KH, KW = w.shape
    strided = stride_h > 1 or stride_w > 1
    if not _empty(*dout.shape) and not _empty(*dx.shape) \
            and conv2d_gemm.use_gemm(C, F, KH, KW, strided, dx.shape[0]):
        # The input gradient is a correlation from F channels to C on dx's planes.
        if conv2d_winograd.use_winograd(F, C, KH, KW, strided, dx.shape[2], dx.shape[3],
                                        dx.shape[0]):
            conv2d_winograd.winograd_backward_input(dout, w, dx, pad_top, pad_left,
                                                    checked=checked)
        else:
            conv2d_gemm.gemm_backward_input(dout, w, dx, stride_h, stride_w, pad_top, pad_left)
    elif not _empty(*dout.shape) and not _empty(*dx.shape) \
            and conv2d_winograd.use_winograd_samples(F, C, KH, KW, strided, dx.shape[0],
                                                     dx.shape[2], dx.shape[3], True):
        conv2d_winograd.winograd_samples_backward_input(dout, w, dx, pad_top, pad_left,
                                                        checked=checked)
    else:
        _direct_backward_input(dout, w, dx, stride_h, stride_w, pad_top, pad_left)


def conv2d_backward_weights(x, dout, dw, db, stride_h, stride_w, pad_top, pad_left):
    """Fills dw (F, C, KH, KW) and db (F,) with the gradients of sum(out * dout).

    x: (N, C, H, W) the forward input; dout: (N, F, OH, OW). Overwrites dw
    and db (does not accumulate into them).
    """
    _check_arrays('conv2d_backward_weights', x=x, dout=dout, dw=dw, db=db)
    _check_conv.py_func(x.shape, dw.shape, dout.shape, stride_h, stride_w, pad_top, pad_left)
    if db.shape[0] != dw.shape[0]:
        raise ValueError('conv2d_backward_weights: db must have one entry per filter')
    F, C, KH, KW = dw.shape
    strided = stride_h > 1 or stride_w > 1
    if not _empty(*dout.shape) and conv2d_gemm.use_gemm(C, F, KH, KW, strided, x.shape[0]):
        conv2d_gemm.gemm_backward_weights(x, dout, dw, db, stride_h, stride_w, pad_top, pad_left)
    else:
        _direct_backward_weights(x, dout, dw, db, stride_h, stride_w, pad_top, pad_left)
