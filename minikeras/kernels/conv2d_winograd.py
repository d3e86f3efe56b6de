"""3x3 stride-1 convolution by Winograd's minimal filtering, F(2x2, 3x3) and F(4x4, 3x3).

The same operation, arrays and layouts as `conv2d.py` (channels-first,
cross-correlation, any padding); `conv2d` sends here the 3x3 stride-1 calls
it would give to im2col + sgemm (conv2d_gemm.py) when channels and planes
are wide enough to pay (see `use_winograd`).

The output is cut into m x m tiles (m = 2, or 4 for the input gradient on
planes of 48 and more: `winograd_tile`), tile
(i, j) of sample n covering output rows mi .. mi+m-1 and columns mj ..
mj+m-1; it reads the (m+2) x (m+2) input patch d starting at row mi -
pad_top, column mj - pad_left (0 outside the input). For m = 2,

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

and for m = 4 (interpolation points 0, 1, -1, 1/2, -2 and infinity, the
Toom-Cook matrices: G's row of point p is (1, p, p^2) / prod over the other
finite points q of (p - q)),

    B^T = [[1, -3/2, -2, 3/2, 1, 0], [0, -1, 1/2, 5/2, 1, 0],
           [0, 1, -5/2, 1/2, 1, 0], [0, -2, -1, 2, 1, 0],
           [0, 1/2, -1, -1/2, 1, 0], [0, 1, -3/2, -2, 3/2, 1]]
    G   = [[1, 0, 0], [1/3, 1/3, 1/3], [-1/3, 1/3, -1/3],
           [-16/15, -8/15, -4/15], [1/15, -2/15, 4/15], [0, 0, 1]]
    A^T = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 1/2, -2, 0], [0, 1, 1, 1/4, 4, 0],
           [0, 1, -1, 1/8, -8, 1]]

(1/2 in place of the usual 2 rounds 2-3x less: see docs/winograd-error.md)

the tile of output channel f is  A^T [sum over c of U[f, c] * V[c]] A,
where U[f, c] = G w[f, c] G^T and V[c] = B^T d[c] B ((m+2) x (m+2)), `*`
taken element by element. For each of the (m+2)^2 elements k of the
transforms that sum over c is one matrix product, M[k] (F, T) = U[k] (F, C)
@ V[k] (C, T) over a block of T tiles, through NumPy's sgemm: 16 products of
2*F*C*T FLOP for 4 outputs a tile (m = 2, 2.25x fewer than the direct
loops' 9 per output), 36 for 16 outputs (m = 4, 4x fewer). The input and
output transforms are Numba loops; the kernel's is one (16, 9) or (36, 9)
@ (9, F*C) matrix product.

- input gradient: the forward correlation of dout, padded by 2 - pad_top,
  2 - pad_left, with the flipped, channel-swapped kernel (the same path).
- the weight gradient stays on im2col + sgemm: computed as dU[k] (F, C) =
  sum over tiles of (A dY A^T)[k] (F, T) @ V[k].T, then G^T dU G, it ran
  0.65-1.2x as fast as im2col + sgemm on VGG16's layers (its products sum
  over one block's tiles only and write 16 F x C results per block).

Where the time goes (VGG16 on one image, one thread): the products are a
third to a half of it; the transforms touch each element of V and M once or
twice for a few additions, so they run at the speed of memory, not of the
arithmetic: V and M go through the caches (a block's V and M are taken from
a per-thread scratch buffer, not allocated per block; the transforms go
channel by channel, each writing its channel's rows of V or reading M's in
sequence, 1.3-2x faster than tile row by tile row; their arrays are
`borrowed`, so the 30-odd views they take per tile row and channel cost no
atomic reference counts, and their row buffers come from the caller's
scratch), and U, which BLAS
reads again for every block, weighs 16 or 36 F x C floats (37 MB at 512
channels for m = 4). Blocks are therefore larger for wider layers (_plan),
and m = 4 is kept for large planes, whose narrow layers have a small U.

Tiles are numbered (n*TH + i)*TW + j and cut into blocks of consecutive
numbers whose size depends on the shapes only. Every output element belongs
to one tile, hence one block, so blocks run as independent tasks
(`threads.run_tasks`, single-threaded BLAS each); with fewer than
_MIN_BLOCK_TASKS blocks (small planes at batch 1, wide layers), the blocks
run in turn, each step shared out: the input transform by channels, the
products one per task, the output transform by filters. Results are
bit-identical whatever the number of threads; they differ from the direct
loops' by float32 rounding: the transforms add up to 4 (m = 2) or 6 (m = 4,
with factors up to 8) terms per row and column. Measured against a float64
loop at 64 to 512 channels (relu inputs, He-scaled weights), relative to
the largest output: at most 3e-7 to 6e-7 for m = 2 (im2col + sgemm: 3e-7 to
5e-7), 1e-6 to 5e-6 for m = 4 (rms 1.4e-7 to 3.6e-7, against 5e-8); most
of m = 4's comes from rounding the products' sums, which A^T multiplies by
up to 8 (docs/winograd-error.md).
"""
import threading

import numba
import numpy as np

from . import threads
from .borrowed import borrowed

__all__ = ['use_winograd', 'winograd_tile', 'winograd_forward', 'winograd_backward_input']

# Tiles per block. m = 2 with a small U (16 F x C floats, F x C at most
# _SMALL_U_CHANNELS: up to 128 channels in and out): each product of a block
# (max(C, F), T) floats at most about _BLOCK_FLOATS (64 KB: V stays in a
# core's L2 cache between the transform and the products), and at least
# _MIN_TILES tiles (thinner products run below BLAS's speed). With a larger
# U, which BLAS reads again for every block, max(C, F) * _BLOCK_WIDTH tiles:
# a block of 2 C tiles reads as much of U as of V and M together. Measured
# on VGG16's layers (interleaved runs under load, 2-core AMD Zen 3): blocks
# of 128 tiles read U 7 times over at 56x56 and 256 channels, 1.1x slower.
# m = 4 with a small U (64 and 128 channels) in blocks of _TILES4 tiles,
# whose V and M (36 x 64 x 64 floats each) stay in L2; with a larger U (256
# channels on 56x56 planes) as m = 2: a whole 56x56 plane at 256 channels is
# one block, 1.1-1.4x as fast as m = 2, where blocks of 25 tiles (64 at the
# most, and 8 tasks) read the 9 MB U 8 times over and ran 0.6x as fast
# (input gradients, interleaved runs under load, 2-core Emerald Rapids Xeon).
_BLOCK_FLOATS = 1 << 14
_MIN_TILES = 128
_SMALL_U_CHANNELS = 128 * 128
_BLOCK_WIDTH = 2
_TILES4 = 64
# At least this many blocks per call when the tiles allow (m = 4, and m = 2
# with a small U; balance on 1, 2, 4 or 8 threads). With fewer than
# _MIN_BLOCK_TASKS blocks, the steps of each block are shared out instead.
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
# m = 4 from this plane side (12 tiles a row): on VGG16's 112x112 and
# 224x224 layers it ran 1.2-1.8x as fast as m = 2 (forward and input
# gradient, interleaved runs under load), on 56x56 planes 1.1-1.4x (input
# gradient, 256 channels, blocks as above); on 28x28 planes it lost 0.8-0.9x
# (products of 49 tiles at batch 1, a 512-channel U of 37 MB).
# Only input gradients take it (see winograd_tile).
_MIN_TILE4_SIDE = 48


def use_winograd(C, F, KH, KW, strided, OH, OW):
    """Whether a call that would run as im2col + sgemm, with a (F, C, KH, KW)
    kernel and (OH, OW) output planes, runs faster here: 3x3, stride 1, at
    least _MIN_CHANNELS channels in and out, output planes at least
    _MIN_PLANE_SIDE on each side."""
    return (KH == 3 and KW == 3 and not strided and min(C, F) >= _MIN_CHANNELS
            and min(OH, OW) >= _MIN_PLANE_SIDE)


def _plan(T, C, F, tile):
    """Tiles per block, from the shapes only."""
    if C * F > _SMALL_U_CHANNELS:
        per_block = max(_MIN_TILES, _BLOCK_WIDTH * max(C, F))
    elif tile == 4:
        per_block = min(_TILES4, max(1, -(-T // _MIN_TASKS)))
    else:
        per_block = max(_MIN_TILES, _BLOCK_FLOATS // max(C, F))
        per_block = min(per_block, max(_MIN_TILES, -(-T // _MIN_TASKS)))
    return min(per_block, T)


def winograd_tile(OH, OW, gradient):
    """The output tile side m: 4 (F(4x4, 3x3)) for an input gradient (OH, OW:
    the input's planes) on planes of at least _MIN_TILE4_SIDE on each side,
    else 2. The forward pass keeps m = 2: m = 4's rounding error (up to 5e-6
    of the largest output, 5-10x a direct float32 sum's) is within the
    tolerance of gradients (1e-5 of the largest entry), not of forward
    values (1e-6)."""
    return 4 if gradient and min(OH, OW) >= _MIN_TILE4_SIDE else 2


def _blocks(T, per_block):
    return [(t0, min(T, t0 + per_block)) for t0 in range(0, T, per_block)]


# ---------------------------------------------------------------------------
# Transforms
# ---------------------------------------------------------------------------

# G of F(2x2, 3x3) and F(4x4, 3x3) (rows: the interpolation points, then infinity)
_G = {2: np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]]),
      4: np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0], [-1.0, 1.0, -1.0], [-16.0, -8.0, -4.0],
                   [1.0, -2.0, 4.0], [0.0, 0.0, 15.0]]) / np.array([1, 3, 3, 15, 15, 15])[:, None]}


def _kernel_transform_matrix(tile, flipped):
    """The (A*A, 9) matrix T with (G g G^T).flat = T @ g.flat for a 3x3 kernel
    g (A = tile + 2); for flipped, of the kernel with rows and columns
    reversed (G with its columns reversed). For tile 2 the entries of G are
    0, +-1/2 and 1: T holds them and their products exactly; for tile 4, T
    is computed in float64 and rounded once."""
    G = _G[tile][:, ::-1] if flipped else _G[tile]
    alpha = tile + 2
    return np.einsum('ai,bj->abij', G, G).reshape(alpha * alpha, 9).astype(np.float32)


_TRANSFORM = {(tile, flipped): _kernel_transform_matrix(tile, flipped)
              for tile in (2, 4) for flipped in (False, True)}


@numba.njit(cache=True)
def _row(plane, r, col0, span, buf):
    """plane[r, col0:col0+span] with 0 outside the plane: a view of the
    plane when the span lies inside it, else a zero-filled copy in buf."""
    H, W = plane.shape
    lo = max(0, -col0)
    hi = min(span, W - col0)
    if r < 0 or r >= H or hi <= lo:
        lo = hi = span
    elif lo == 0 and hi == span:
        return plane[r, col0:col0 + span]
    # plain loops over views from index 0: a slice assignment compiles to a
    # scalar loop (it broadcasts), an index that may be negative to gathers
    head, body, tail = buf[:lo], buf[lo:hi], buf[hi:span]
    source = plane[r % H, col0 + lo:col0 + hi]
    for p in range(head.shape[0]):
        head[p] = 0.0
    for p in range(body.shape[0]):
        body[p] = source[p]
    for p in range(tail.shape[0]):
        tail[p] = 0.0
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
def _input_transform(x, pt, pl, TH, TW, t0, t1, c0, c1, V, work):
    """V[k, c, t - t0] = (B^T d B)[k // 4, k % 4] for tiles t0 <= t < t1 and
    channels c0 <= c < c1, d the 4x4 input patch of tile t in channel c;
    work: scratch of at least (8, 2*TW + 2) floats."""
    x, V, work = borrowed(x), borrowed(V), borrowed(work)
    bufs, comb = work[:4], work[4:8]
    for c in range(c0, c1):
        t = t0
        while t < t1:
            n, ti, j0, nj = _segment(t, t1, TH, TW)
            span = 2 * nj + 2
            col0 = 2 * j0 - pl
            q = t - t0
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
def _output_transform(M, b, out, TH, TW, t0, t1, f0, f1, work):
    """out[n, f, 2i:2i+2, 2j:2j+2] = A^T M[:, f, t - t0] (as 4x4) A + b[f] for
    tiles t0 <= t < t1 and channels f0 <= f < f1 (the parts inside out);
    work: scratch of at least (8, TW) floats."""
    M, out, tmp = borrowed(M), borrowed(out), borrowed(work)
    OH, OW = out.shape[2], out.shape[3]
    for f in range(f0, f1):
        t = t0
        while t < t1:
            n, ti, j0, nj = _segment(t, t1, TH, TW)
            q = t - t0
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
# F(4x4, 3x3): 6x6 transforms (B^T, G, A^T as in the module docstring)
# ---------------------------------------------------------------------------

@numba.njit(cache=True)
def _b6(d0, d1, d2, d3, d4, d5):
    """B^T d for six consecutive entries d0..d5 (float32): its six entries."""
    half = np.float32(0.5)
    one_half = np.float32(1.5)
    two = np.float32(2.0)
    two_half = np.float32(2.5)
    return (d0 - two * d2 + d4 + one_half * (d3 - d1), d4 - d1 + half * d2 + two_half * d3,
            d1 + d4 + half * d3 - two_half * d2, d4 - d2 + two * (d3 - d1),
            d4 - d2 + half * (d1 - d3), d1 + d5 - two * d3 + one_half * (d4 - d2))


@numba.njit(cache=True, nogil=True)
def _input_transform6(x, pt, pl, TH, TW, t0, t1, c0, c1, V, work):
    """V[6a + b, c, t - t0] = (B^T d B)[a, b] for tiles t0 <= t < t1 and
    channels c0 <= c < c1, d the 6x6 input patch of tile t in channel c
    (rows from 4i - pt, columns from 4j - pl); work: scratch of at least
    (12, 4*TW + 2) floats."""
    x, V, work = borrowed(x), borrowed(V), borrowed(work)
    bufs, comb = work[:6], work[6:12]
    for c in range(c0, c1):
        t = t0
        while t < t1:
            n, ti, j0, nj = _segment(t, t1, TH, TW)
            span = 4 * nj + 2
            col0 = 4 * j0 - pl
            row0 = 4 * ti - pt
            q = t - t0
            plane = x[n, c]
            r0 = _row(plane, row0, col0, span, bufs[0])
            r1 = _row(plane, row0 + 1, col0, span, bufs[1])
            r2 = _row(plane, row0 + 2, col0, span, bufs[2])
            r3 = _row(plane, row0 + 3, col0, span, bufs[3])
            r4 = _row(plane, row0 + 4, col0, span, bufs[4])
            r5 = _row(plane, row0 + 5, col0, span, bufs[5])
            # B^T d, over the whole run (the six rows of every patch)
            for p in range(span):
                comb[0, p], comb[1, p], comb[2, p], comb[3, p], comb[4, p], comb[5, p] = \
                    _b6(r0[p], r1[p], r2[p], r3[p], r4[p], r5[p])
            # (B^T d) B, patch by patch
            for a in range(6):
                s = comb[a]
                v0 = V[6 * a, c, q:q + nj]
                v1 = V[6 * a + 1, c, q:q + nj]
                v2 = V[6 * a + 2, c, q:q + nj]
                v3 = V[6 * a + 3, c, q:q + nj]
                v4 = V[6 * a + 4, c, q:q + nj]
                v5 = V[6 * a + 5, c, q:q + nj]
                for j in range(nj):
                    p = 4 * j
                    v0[j], v1[j], v2[j], v3[j], v4[j], v5[j] = \
                        _b6(s[p], s[p + 1], s[p + 2], s[p + 3], s[p + 4], s[p + 5])
            t += nj


@numba.njit(cache=True)
def _a6(m0, m1, m2, m3, m4, m5):
    """A^T m for six entries: its four."""
    half = np.float32(0.5)
    quarter = np.float32(0.25)
    eighth = np.float32(0.125)
    two = np.float32(2.0)
    four = np.float32(4.0)
    eight = np.float32(8.0)
    p12, d12 = m1 + m2, m1 - m2
    return (m0 + p12 + m3 + m4, d12 + half * m3 - two * m4, p12 + quarter * m3 + four * m4,
            d12 + eighth * m3 - eight * m4 + m5)


@numba.njit(cache=True, nogil=True)
def _output_transform6(M, b, out, TH, TW, t0, t1, f0, f1, work):
    """out[n, f, 4i:4i+4, 4j:4j+4] = A^T M[:, f, t - t0] (as 6x6) A + b[f] for
    tiles t0 <= t < t1 and channels f0 <= f < f1 (the parts inside out);
    work: scratch of at least (24, TW) floats."""
    M, out, tmp = borrowed(M), borrowed(out), borrowed(work)
    OH, OW = out.shape[2], out.shape[3]
    for f in range(f0, f1):
        t = t0
        while t < t1:
            n, ti, j0, nj = _segment(t, t1, TH, TW)
            q = t - t0
            rows = min(4, OH - 4 * ti)
            # tiles whose four columns all lie inside out
            full = min(nj, (OW - 4 * j0) // 4)
            # A^T M, over the whole run: tmp[4e + r] = row r, column e of every tile
            for e in range(6):
                m0 = M[e, f, q:q + nj]
                m1 = M[6 + e, f, q:q + nj]
                m2 = M[12 + e, f, q:q + nj]
                m3 = M[18 + e, f, q:q + nj]
                m4 = M[24 + e, f, q:q + nj]
                m5 = M[30 + e, f, q:q + nj]
                y0, y1, y2, y3 = tmp[4 * e], tmp[4 * e + 1], tmp[4 * e + 2], tmp[4 * e + 3]
                for j in range(nj):
                    y0[j], y1[j], y2[j], y3[j] = _a6(m0[j], m1[j], m2[j], m3[j], m4[j], m5[j])
            bf = b[f]
            for r in range(rows):
                s0, s1, s2 = tmp[r], tmp[4 + r], tmp[8 + r]
                s3, s4, s5 = tmp[12 + r], tmp[16 + r], tmp[20 + r]
                d = out[n, f, 4 * ti + r, 4 * j0:]
                for j in range(full):
                    z0, z1, z2, z3 = _a6(s0[j], s1[j], s2[j], s3[j], s4[j], s5[j])
                    d[4 * j] = z0 + bf
                    d[4 * j + 1] = z1 + bf
                    d[4 * j + 2] = z2 + bf
                    d[4 * j + 3] = z3 + bf
                if full < nj:
                    z = _a6(s0[full], s1[full], s2[full], s3[full], s4[full], s5[full])
                    for k in range(OW - 4 * (j0 + full)):
                        d[4 * full + k] = z[k] + bf
            t += nj


# ---------------------------------------------------------------------------
# Public kernels (checked by conv2d.py)
# ---------------------------------------------------------------------------

def _ranges(count, parts):
    """[(start, end)]: 0..count cut into at most `parts` near-equal ranges."""
    parts = max(1, min(parts, count))
    return [(count * k // parts, count * (k + 1) // parts) for k in range(parts)]


_SCRATCH = threading.local()


# Blocks' V and M up to this many floats (4 MB) come from the scratch
# buffers; larger ones (wide layers at large batches) are allocated per block.
_SCRATCH_FLOATS = 1 << 20


def _scratch(name, shape):
    """A float32 array of this shape, the calling thread's own, reused from
    call to call (V and M of a block: fresh arrays of a few MB for every
    block cost page faults, and their memory leaves the caches)."""
    size = int(np.prod(shape))
    if size > _SCRATCH_FLOATS:
        return np.empty(shape, np.float32)
    buffer = getattr(_SCRATCH, name, None)
    if buffer is None or buffer.size < size:
        buffer = np.empty(size, np.float32)
        setattr(_SCRATCH, name, buffer)
    return buffer[:size].reshape(shape)


def _transform_kernel(w, tile, flipped):
    """The (A*A, F, C) transform of w (A = tile + 2; of the kernel with rows
    and columns reversed when flipped), filters shared out between the
    threads."""
    F = w.shape[0]
    alpha = tile + 2
    U = np.empty((alpha * alpha, F, w.shape[1]), np.float32)
    ranges = _ranges(F, _MIN_TASKS)
    # U (A*A, F*C) = T (A*A, 9) @ w (F*C, 9).T: one thin matrix product, a
    # few times faster than transforming kernel by kernel in a loop.
    transform, C = _TRANSFORM[tile, flipped], w.shape[1]
    flat_w, flat_U = w.reshape(F * C, 9), U.reshape(alpha * alpha, F * C)

    def part(k):
        lo, hi = ranges[k][0] * C, ranges[k][1] * C
        np.matmul(transform, flat_w[lo:hi].T, out=flat_U[:, lo:hi])
    threads.blas_threads(1)
    threads.run_tasks(part, len(ranges))
    return U


def _winograd(x, U, b, out, pad_top, pad_left, tile):
    """out = the correlation of x with the kernel whose transform is U
    (A*A, F, C; any strides), plus b, on tiles of tile x tile outputs."""
    N, C = x.shape[0], x.shape[1]
    elements, F = U.shape[0], U.shape[1]
    OH, OW = out.shape[2], out.shape[3]
    TH, TW = -(-OH // tile), -(-OW // tile)
    T = N * TH * TW
    blocks = _blocks(T, _plan(T, C, F, tile))
    if tile == 2:
        input_transform, output_transform = _input_transform, _output_transform
    else:
        input_transform, output_transform = _input_transform6, _output_transform6
    # the transforms' rows of one tile row (per thread, see _scratch)
    input_work = (4 * (tile + 2) // 2, tile * TW + 2)
    output_work = (tile * (tile + 2), TW)
    threads.blas_threads(1)

    if len(blocks) >= _MIN_BLOCK_TASKS:
        def block(k):
            t0, t1 = blocks[k]
            V = _scratch('V', (elements, C, t1 - t0))
            input_transform(x, pad_top, pad_left, TH, TW, t0, t1, 0, C, V,
                            _scratch('input_work', input_work))
            M = _scratch('M', (elements, F, t1 - t0))
            np.matmul(U, V, out=M)
            output_transform(M, b, out, TH, TW, t0, t1, 0, F, _scratch('output_work', output_work))
        threads.run_tasks(block, len(blocks))
        return
    # Few blocks: each step of a block shared out (channels, products, filters).
    c_ranges = _ranges(C, _MIN_TASKS)
    f_ranges = _ranges(F, _MIN_TASKS)
    for t0, t1 in blocks:
        V = np.empty((elements, C, t1 - t0), np.float32)
        threads.run_tasks(lambda k: input_transform(x, pad_top, pad_left, TH, TW, t0, t1,
                                                    c_ranges[k][0], c_ranges[k][1], V,
                                                    _scratch('input_work', input_work)),
                          len(c_ranges))
        M = np.empty((elements, F, t1 - t0), np.float32)
        threads.run_tasks(lambda k: np.matmul(U[k], V[k], out=M[k]), elements)
        threads.run_tasks(lambda k: output_transform(M, b, out, TH, TW, t0, t1,
                                                     f_ranges[k][0], f_ranges[k][1],
                                                     _scratch('output_work', output_work)),
                          len(f_ranges))


def winograd_forward(x, w, b, out, pad_top, pad_left, tile=None):
    """conv2d_forward's contract (see conv2d.py) for a 3x3 kernel at stride 1;
    tile 2 (F(2x2, 3x3)) or 4 (F(4x4, 3x3)), by default `winograd_tile`'s."""
    tile = tile or winograd_tile(out.shape[2], out.shape[3], False)
    _winograd(x, _transform_kernel(w, tile, False), b, out, pad_top, pad_left, tile)


def winograd_backward_input(dout, w, dx, pad_top, pad_left, tile=None):
    """conv2d_backward_input's contract for a 3x3 kernel at stride 1: the
    forward correlation of dout, padded by 2 - pad_top, 2 - pad_left, with
    the flipped, channel-swapped kernel: the transform of the flipped kernel,
    read as (A*A, C, F) through a transposed view (no copy). Tile as in
    winograd_forward."""
    tile = tile or winograd_tile(dx.shape[2], dx.shape[3], True)
    _winograd(dout, _transform_kernel(w, tile, True).transpose(0, 2, 1),
              np.zeros(w.shape[1], np.float32), dx, 2 - pad_top, 2 - pad_left, tile)
