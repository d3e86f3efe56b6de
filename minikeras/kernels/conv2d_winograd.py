"""3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3).

The same operation, arrays and layouts as `conv2d.py` (channels-first,
cross-correlation, any padding); `conv2d` sends here the 3x3 stride-1 calls
it would give to im2col + sgemm (conv2d_gemm.py) when channels and planes
are wide enough to pay (see `use_winograd`).

The output is cut into 2x2 tiles, tile (i, j) of sample n covering output
rows 2i, 2i+1 and columns 2j, 2j+1; it reads the 4x4 input patch d starting
at row 2i - pad_top, column 2j - pad_left (0 outside the input). With

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

the tile of output channel f is  A^T [sum over c of U[f, c] * V[c]] A,
where U[f, c] = G w[f, c] G^T (4x4) and V[c] = B^T d[c] B (4x4), `*` taken
element by element. For each of the 16 elements k of the 4x4 transforms
that sum over c is one matrix product, M[k] (F, T) = U[k] (F, C) @ V[k]
(C, T) over a block of T tiles: 16 products of 2*F*C*T FLOP instead of the
direct loops' 36*F*C*T, through NumPy's sgemm. The transforms (additions and
halvings only) are Numba loops.

- input gradient: the forward correlation of dout, padded by 2 - pad_top,
  2 - pad_left, with the flipped, channel-swapped kernel (the same path).
- the weight gradient stays on im2col + sgemm: computed as dU[k] (F, C) =
  sum over tiles of (A dY A^T)[k] (F, T) @ V[k].T, then G^T dU G, it ran
  0.65-1.2x as fast as im2col + sgemm on VGG16's layers (its products sum
  over one block's tiles only and write 16 F x C results per block).

Tiles are numbered (n*TH + i)*TW + j and cut into blocks of consecutive
numbers whose size depends on the shapes only. Every output element belongs
to one tile, hence one block, so blocks run as independent tasks
(`threads.run_tasks`, single-threaded BLAS each); with fewer than
_MIN_BLOCK_TASKS blocks (small planes at batch 1), the blocks run in turn
and their 16 products are the tasks. Results are bit-identical whatever the
number of threads; they differ from the direct loops' by float32 rounding
(the transforms add up to 4 inputs, and 9 products per output, before the
halvings of G are undone).
"""
import numba
import numpy as np

from . import threads

__all__ = ['use_winograd', 'winograd_forward', 'winograd_backward_input']

# Per-element product of a block: (max(C, F), T) floats at most about this
# many (64 KB: the 16 of them, V, stay in a core's L2 cache between the
# transform and the products), and at least _MIN_TILES tiles (thinner
# products run below BLAS's speed). Measured on 32 and 256 channels: blocks
# of 2 to 8 times this size run up to 1.5x slower.
_BLOCK_FLOATS = 1 << 14
_MIN_TILES = 128
# At least this many blocks per call when the tiles allow (balance on 1, 2,
# 4 or 8 threads); with fewer, the 16 products of each block are the tasks.
_MIN_TASKS = 8
_MIN_BLOCK_TASKS = 4
# Which of the calls that conv2d.py gives to im2col + sgemm (wide layers,
# and small batches of wide enough layers) come here instead. The transforms
# cost about the same per tile and channel whatever the width, against 2*16*F
# (or 2*16*C) FLOP of products, and run in short pieces on small planes (a
# 14x14 plane is 7 tiles a row) whose products at batch 1 are also too thin
# for BLAS's speed. Measured on the benchmark suite's shapes (interleaved
# runs, 2-core AMD Zen 3): at 64 channels and more on 28x28 to 224x224 planes
# the forward pass and input gradient gain 1.1-1.6x over im2col + sgemm; on
# 7x7 to 14x14 planes they lose 0.65-0.8x. Against the direct loops (32 or 64
# channels at batch 32 or 128) they lose 0.3-0.9x, so those keep them.
_MIN_CHANNELS = 64
_MIN_PLANE_SIDE = 16


def use_winograd(C, F, KH, KW, strided, OH, OW):
    """Whether a call that would run as im2col + sgemm, with a (F, C, KH, KW)
    kernel and (OH, OW) output planes, runs faster here: 3x3, stride 1, at
    least _MIN_CHANNELS channels in and out, output planes at least
    _MIN_PLANE_SIDE on each side."""
    return (KH == 3 and KW == 3 and not strided and min(C, F) >= _MIN_CHANNELS
            and min(OH, OW) >= _MIN_PLANE_SIDE)


def _plan(T, C, F):
    """Tiles per block, from the shapes only."""
    per_block = max(_MIN_TILES, _BLOCK_FLOATS // max(C, F))
    per_block = min(per_block, max(_MIN_TILES, -(-T // _MIN_TASKS)))
    return min(per_block, T)


def _blocks(T, per_block):
    return [(t0, min(T, t0 + per_block)) for t0 in range(0, T, per_block)]


# ---------------------------------------------------------------------------
# Transforms
# ---------------------------------------------------------------------------

@numba.njit(cache=True)
def _g_rows(g0, g1, g2):
    """(G g) for one column (g0, g1, g2) of a 3x3 kernel: its four entries."""
    h = np.float32(0.5)
    return g0, h * (g0 + g1 + g2), h * (g0 - g1 + g2), g2


@numba.njit(cache=True, nogil=True)
def _kernel_transform(w, order, U, f0, f1):
    """U[order[k], f, c] = (G w[f, c] G^T)[k // 4, k % 4] for f0 <= f < f1;
    w (F, C, 3, 3), U (16, F, C), order a permutation of 0..15."""
    C = w.shape[1]
    for f in range(f0, f1):
        wf = w[f]
        U0, U1, U2, U3 = U[order[0], f], U[order[1], f], U[order[2], f], U[order[3], f]
        U4, U5, U6, U7 = U[order[4], f], U[order[5], f], U[order[6], f], U[order[7], f]
        U8, U9, U10, U11 = U[order[8], f], U[order[9], f], U[order[10], f], U[order[11], f]
        U12, U13, U14, U15 = U[order[12], f], U[order[13], f], U[order[14], f], U[order[15], f]
        for c in range(C):
            # G g, column by column: (a_j, b_j, c_j, d_j) is column j of G g
            a0, b0, c0, d0 = _g_rows(wf[c, 0, 0], wf[c, 1, 0], wf[c, 2, 0])
            a1, b1, c1, d1 = _g_rows(wf[c, 0, 1], wf[c, 1, 1], wf[c, 2, 1])
            a2, b2, c2, d2 = _g_rows(wf[c, 0, 2], wf[c, 1, 2], wf[c, 2, 2])
            # (G g) G^T, row by row
            U0[c], U1[c], U2[c], U3[c] = _g_rows(a0, a1, a2)
            U4[c], U5[c], U6[c], U7[c] = _g_rows(b0, b1, b2)
            U8[c], U9[c], U10[c], U11[c] = _g_rows(c0, c1, c2)
            U12[c], U13[c], U14[c], U15[c] = _g_rows(d0, d1, d2)


# Flipping a 3x3 kernel (rows and columns reversed) swaps rows 0 and 3 of
# G g (G with its columns reversed is G with rows 0 and 3 swapped), so the
# flipped kernel's transform is the kernel's with rows and columns 0 and 3 of
# each 4x4 swapped.
_SAME = np.arange(16, dtype=np.int64)
_FLIPPED = np.array([(3 - a if a in (0, 3) else a) * 4 + (3 - b if b in (0, 3) else b)
                     for a in range(4) for b in range(4)], dtype=np.int64)


@numba.njit(cache=True)
def _row(plane, r, col0, span, buf):
    """plane[r, col0:col0+span] with 0 outside the plane: a view of the
    plane when the span lies inside it, else a zero-filled copy in buf."""
    H, W = plane.shape
    if r < 0 or r >= H:
        buf[:span] = 0.0
        return buf
    lo = max(0, -col0)
    hi = min(span, W - col0)
    if lo == 0 and hi == span:
        return plane[r, col0:col0 + span]
    if hi <= lo:
        buf[:span] = 0.0
        return buf
    buf[:lo] = 0.0
    buf[lo:hi] = plane[r, col0 + lo:col0 + hi]
    buf[hi:span] = 0.0
    return buf


@numba.njit(cache=True)
def _segment(t, t1, TH, TW):
    """(sample, tile row, first tile column, tile count) of the run of tiles
    from t to the end of its tile row or t1, whichever comes first."""
    n = t // (TH * TW)
    ti = (t // TW) % TH
    j0 = t % TW
    return n, ti, j0, min(TW - j0, t1 - t)


@numba.njit(cache=True, nogil=True)
def _input_transform(x, pt, pl, TH, TW, t0, t1, c0, c1, V):
    """V[k, c, t - t0] = (B^T d B)[k // 4, k % 4] for tiles t0 <= t < t1 and
    channels c0 <= c < c1, d the 4x4 input patch of tile t in channel c."""
    width = 2 * TW + 2
    bufs = np.empty((4, width), np.float32)
    comb = np.empty((4, width), np.float32)
    t = t0
    while t < t1:
        n, ti, j0, nj = _segment(t, t1, TH, TW)
        span = 2 * nj + 2
        col0 = 2 * j0 - pl
        q = t - t0
        for c in range(c0, c1):
            plane = x[n, c]
            r0 = _row(plane, 2 * ti - pt, col0, span, bufs[0])
            r1 = _row(plane, 2 * ti - pt + 1, col0, span, bufs[1])
            r2 = _row(plane, 2 * ti - pt + 2, col0, span, bufs[2])
            r3 = _row(plane, 2 * ti - pt + 3, col0, span, bufs[3])
            # B^T d, over the whole run (rows 0..3 of every patch)
            ca = comb[0]
            cb = comb[1]
            ce = comb[2]
            cg = comb[3]
            for p in range(span):
                ca[p] = r0[p] - r2[p]
                cb[p] = r1[p] + r2[p]
                ce[p] = r2[p] - r1[p]
                cg[p] = r1[p] - r3[p]
            # (B^T d) B, patch by patch
            for a in range(4):
                s = comb[a]
                v0 = V[4 * a, c, q:q + nj]
                v1 = V[4 * a + 1, c, q:q + nj]
                v2 = V[4 * a + 2, c, q:q + nj]
                v3 = V[4 * a + 3, c, q:q + nj]
                for j in range(nj):
                    p = 2 * j
                    v0[j] = s[p] - s[p + 2]
                    v1[j] = s[p + 1] + s[p + 2]
                    v2[j] = s[p + 2] - s[p + 1]
                    v3[j] = s[p + 1] - s[p + 3]
        t += nj


@numba.njit(cache=True)
def _store_row(o, col0, nj, OW, e0, e1, e2, e3, bf):
    """o[col0 + 2j] = e0 + e1 + e2 + bf, o[col0 + 2j + 1] = e1 - e2 - e3 + bf
    for j < nj (the columns inside OW)."""
    full = min(nj, (OW - col0) // 2)
    d = o[col0:]
    for j in range(full):
        d[2 * j] = e0[j] + e1[j] + e2[j] + bf
        d[2 * j + 1] = e1[j] - e2[j] - e3[j] + bf
    if full < nj:
        d[2 * full] = e0[full] + e1[full] + e2[full] + bf


@numba.njit(cache=True, nogil=True)
def _output_transform(M, b, out, TH, TW, t0, t1, f0, f1):
    """out[n, f, 2i:2i+2, 2j:2j+2] = A^T M[:, f, t - t0] (as 4x4) A + b[f] for
    tiles t0 <= t < t1 and channels f0 <= f < f1 (the parts inside out)."""
    OH, OW = out.shape[2], out.shape[3]
    tmp = np.empty((8, TW), np.float32)
    t = t0
    while t < t1:
        n, ti, j0, nj = _segment(t, t1, TH, TW)
        q = t - t0
        for f in range(f0, f1):
            # A^T M, over the whole run (rows 0 and 1 of every tile)
            for e in range(4):
                m0 = M[e, f, q:q + nj]
                m1 = M[4 + e, f, q:q + nj]
                m2 = M[8 + e, f, q:q + nj]
                m3 = M[12 + e, f, q:q + nj]
                s = tmp[e]
                u = tmp[4 + e]
                for j in range(nj):
                    s[j] = m0[j] + m1[j] + m2[j]
                    u[j] = m1[j] - m2[j] - m3[j]
            bf = b[f]
            _store_row(out[n, f, 2 * ti], 2 * j0, nj, OW, tmp[0], tmp[1], tmp[2], tmp[3], bf)
            if 2 * ti + 1 < OH:
                _store_row(out[n, f, 2 * ti + 1], 2 * j0, nj, OW, tmp[4], tmp[5], tmp[6],
                           tmp[7], bf)
        t += nj


# ---------------------------------------------------------------------------
# Public kernels (checked by conv2d.py)
# ---------------------------------------------------------------------------

def _ranges(count, parts):
    """[(start, end)]: 0..count cut into at most `parts` near-equal ranges."""
    parts = max(1, min(parts, count))
    return [(count * k // parts, count * (k + 1) // parts) for k in range(parts)]


def _transform_kernel(w, order):
    """The (16, F, C) transform of w (order: _SAME or _FLIPPED), filters
    shared out between the threads."""
    F = w.shape[0]
    U = np.empty((16, F, w.shape[1]), np.float32)
    ranges = _ranges(F, _MIN_TASKS)
    threads.run_tasks(lambda k: _kernel_transform(w, order, U, *ranges[k]), len(ranges))
    return U


def _winograd(x, U, b, out, pad_top, pad_left):
    """out = the correlation of x with the kernel whose transform is U
    (16, F, C; any strides), plus b."""
    N, C = x.shape[0], x.shape[1]
    F = U.shape[1]
    OH, OW = out.shape[2], out.shape[3]
    TH, TW = (OH + 1) // 2, (OW + 1) // 2
    T = N * TH * TW
    blocks = _blocks(T, _plan(T, C, F))
    threads.blas_threads(1)

    if len(blocks) >= _MIN_BLOCK_TASKS:
        def block(k):
            t0, t1 = blocks[k]
            V = np.empty((16, C, t1 - t0), np.float32)
            _input_transform(x, pad_top, pad_left, TH, TW, t0, t1, 0, C, V)
            _output_transform(np.matmul(U, V), b, out, TH, TW, t0, t1, 0, F)
        threads.run_tasks(block, len(blocks))
        return
    # Few blocks: each step of a block shared out (channels, products, filters).
    c_ranges = _ranges(C, _MIN_TASKS)
    f_ranges = _ranges(F, _MIN_TASKS)
    for t0, t1 in blocks:
        V = np.empty((16, C, t1 - t0), np.float32)
        threads.run_tasks(lambda k: _input_transform(x, pad_top, pad_left, TH, TW, t0, t1,
                                                     c_ranges[k][0], c_ranges[k][1], V),
                          len(c_ranges))
        M = np.empty((16, F, t1 - t0), np.float32)
        threads.run_tasks(lambda k: np.matmul(U[k], V[k], out=M[k]), 16)
        threads.run_tasks(lambda k: _output_transform(M, b, out, TH, TW, t0, t1,
                                                      f_ranges[k][0], f_ranges[k][1]),
                          len(f_ranges))


def winograd_forward(x, w, b, out, pad_top, pad_left):
    """conv2d_forward's contract (see conv2d.py) for a 3x3 kernel at stride 1."""
    _winograd(x, _transform_kernel(w, _SAME), b, out, pad_top, pad_left)


def winograd_backward_input(dout, w, dx, pad_top, pad_left):
    """conv2d_backward_input's contract for a 3x3 kernel at stride 1: the
    forward correlation of dout, padded by 2 - pad_top, 2 - pad_left, with
    the flipped, channel-swapped kernel: the transform of the flipped kernel
    (see _FLIPPED), read as (16, C, F) through a transposed view (no copy)."""
    _winograd(dout, _transform_kernel(w, _FLIPPED).transpose(0, 2, 1),
              np.zeros(w.shape[1], np.float32), dx, 2 - pad_top, 2 - pad_left)
