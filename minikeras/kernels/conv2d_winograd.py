"""3x3 stride-1 convolution by Winograd's minimal filtering, F(2x2, 3x3) and F(4x4, 3x3).

The same operation, arrays and layouts as `conv2d.py` (channels-first,
cross-correlation, any padding); `conv2d` sends here the 3x3 stride-1 calls
it would give to im2col + sgemm (conv2d_gemm.py) when channels and planes
are wide enough to pay (see `use_winograd`), and, to the samples path at the
end of this file (blocks of whole samples, channels last; F(4x4, 3x3) for
input gradients), those of 64 channels and more on small planes that it
would give to its direct loops (see `use_winograd_samples`).

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
output transforms are Numba loops, and so are the kernel's (for m = 4, the
(36, 9) @ (9, F*C) product of a float32 matrix with the taps, as a loop:
0.7-0.8x the CPU time of the sgemm at 64 to 512 channels); a kernel's
transforms are kept for the next call while its bits stay the same
(_kept_transform: deep dream's loop). For m = 2 with
a U of at most 256 x 256 channels and filters in eights, the blocks are
fused instead: sub-blocks of 128 tiles, each transformed, multiplied by a
register-tiled Numba kernel and transformed back in one call, so that V and
M stay in L2 (see _FUSED_CHANNELS; on targets with 32 vector registers,
which that kernel needs).

- input gradient: the forward correlation of dout, padded by 2 - pad_top,
  2 - pad_left, with the flipped, channel-swapped kernel (the same path).
- the weight gradient stays on im2col + sgemm: computed as dU[k] (F, C) =
  sum over tiles of (A dY A^T)[k] (F, T) @ V[k].T, then G^T dU G, it ran
  0.65-1.2x as fast as im2col + sgemm on VGG16's layers (its products sum
  over one block's tiles only and write 16 F x C results per block).

Where the time goes (VGG16 on one image, one thread): the products are a
half to four fifths of it; the transforms touch each element of V and M once
or twice for a few additions, so they run at the speed of the caches, not of
the arithmetic: V and M go through the caches (a block's V and M are taken
from a per-thread scratch buffer, not allocated per block; the transforms
go channel by channel, each writing its channel's rows of V or reading M's
in sequence, 1.3-2x faster than tile row by tile row), and U, which BLAS
reads again for every block, weighs 16 or 36 F x C floats (37 MB at 512
channels for m = 4). Blocks are therefore larger for wider layers (_plan),
and m = 4 is kept for large planes, whose narrow layers have a small U.
The transforms work on VECTOR_LANES tiles at a time, in machine vectors (a
patch row's columns by lane shuffles: its even and odd columns for m = 2,
every fourth for m = 4), and read and write V and M in whole vectors: their
rows have VECTOR_LANES floats of room past a block's tiles (_row_length).
The input rows they read are copied once per channel, with their padding's
zeros, into slots of scratch that consecutive tile rows share. Against
loops over each run's tiles (with scalar tails and a copy per patch row),
per tile and channel, one thread (2-core Xeon): m = 2, input transform
0.67x (64 channels on 224x224 planes) to 0.31x (512 on 14x14), output
0.65x to 0.43x, the fused forward pass 0.77x on 224x224 and on 56x56;
m = 4, input 0.97x (224x224) to 0.78x (56x56), output 0.9x to 0.6x.

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
import collections
import threading

import numba
import numpy as np

from . import threads
from .bits import same_bits
from .borrowed import borrowed, borrowed_span
from .register_tile import (VECTOR_LANES, VECTOR_REGISTERS, vector_add, vector_even, vector_fma,
                            vector_load, vector_odd, vector_scale, vector_splat_load,
                            vector_store, vector_sub, vector_zero, vector_zip_high,
                            vector_zip_low)

__all__ = ['use_winograd', 'winograd_tile', 'winograd_forward', 'winograd_backward_input',
           'use_winograd_samples', 'winograd_samples_forward',
           'winograd_samples_backward_input']

# Tiles per block. With a small U (16 or 36 F x C floats, F x C at most
# _SMALL_U_CHANNELS: up to 128 channels in and out), blocks of whole tile
# rows when a row fits (a block's last row cut short costs a run of the
# transforms for a few tiles), as many rows as make up _MIN_TASKS blocks (at
# least _TILES4 tiles), at most _SMALL_PRODUCT // (C * F) tiles when that is
# at least _TILES4, else as many as keep V within _SCRATCH_FLOATS. OpenBLAS's
# AVX-512 sgemm runs products of M*N*K <= 1e6 on a kernel that skips packing
# (sgemm_small_kernel_permit_skylakex.c): 130-170 GFLOP/s on one core at
# 64-128 channels, 95-115 just above (64 x 64 @ 64 x 244 against 64 x 256);
# where no block of _TILES4 tiles is that small (128 channels in and out),
# larger blocks cost the transforms less per tile. Measured on VGG16's layers
# at batch 1 (CPU time, interleaved runs under load, 2-core Xeon with 2 MB
# L2 per core), against blocks of 256 / 128 / 128 tiles (forward) and 64
# (input gradient) that kept V in L2: 64 -> 64 on 224x224, blocks of 224
# tiles (two or four tile rows), 0.82x / 0.78x the time; 64 -> 128 on
# 112x112, 112 tiles, 0.87x / 0.90x; 128 -> 128 on 112x112, 392 / 112
# tiles, 0.86x / 0.87x (forward in blocks of 1e6 // (C * F) = 61: 1.04x).
# With a larger U, which BLAS reads again for every block, max(C, F) *
# _BLOCK_WIDTH tiles (at least _MIN_TILES): a block of 2 C tiles reads as much
# of U as of V and M together. Measured on VGG16's layers (interleaved runs
# under load, 2-core AMD Zen 3): blocks of 128 tiles read U 7 times over at
# 56x56 and 256 channels, 1.1x slower. m = 4 (input gradients) with a larger U
# (256 channels on 56x56 planes) as m = 2: a whole 56x56 plane at 256 channels
# is one block, 1.1-1.4x as fast as m = 2, where blocks of 25 tiles (64 at the
# most, and 8 tasks) read the 9 MB U 8 times over and ran 0.6x as fast (input
# gradients, interleaved runs under load, 2-core Emerald Rapids Xeon).
_MIN_TILES = 128
_SMALL_U_CHANNELS = 128 * 128
_BLOCK_WIDTH = 2
_TILES4 = 64
_SMALL_PRODUCT = 10 ** 6
# At least this many blocks per call when the tiles allow (m = 4, and m = 2
# with a small U; balance on 1, 2, 4 or 8 threads). With fewer than
# _MIN_BLOCK_TASKS blocks, the steps of each block are shared out instead.
_MIN_TASKS = 8
_MIN_BLOCK_TASKS = 4
# With few blocks, a transform of a block is shared out in ranges of channels
# of at least this many (channel, tile) pairs: waking the threads costs more
# than that work (VGG16's 512 channels on 14x14 planes, 49 tiles, on one
# thread: 0.87x the time of the 8 ranges on 2 threads; on 28x28, 196 tiles,
# 4 ranges: the same).
_TRANSFORM_WORK = 1 << 15
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
# Smaller planes (_MIN_SMALL_PLANE_SIDE on each side and more) come here at
# _SMALL_PLANE_CHANNELS in and out when a call has _SMALL_PLANE_TILES 2x2
# tiles or more (batches of 4 and more on 14x14 planes). A training step's
# three calls (forward, input gradient, weight gradient, a new kernel each
# step), against im2col + sgemm and its shifted products, interleaved runs on
# a 2-core Xeon: 512 -> 512 on 14x14 planes at batch 4 0.74x the time, batch
# 16 0.75x, on 7x7 at batch 12 0.60x, at 32 0.75x; 256 channels are no faster
# (1.01x on 14x14 at batch 4, 0.97x at 6, 0.81x at 32; 1.04x on 7x7 at 8) and
# fewer tiles lose (512 on 7x7 at batch 3: 1.25x; at batch 1, 512 on 14x14:
# forward and input gradient 1.05-1.14x).
_MIN_SMALL_PLANE_SIDE = 7
_SMALL_PLANE_CHANNELS = 512
_SMALL_PLANE_TILES = 192
# m = 4 from this plane side (12 tiles a row): on VGG16's 112x112 and
# 224x224 layers it ran 1.2-1.8x as fast as m = 2 (forward and input
# gradient, interleaved runs under load), on 56x56 planes 1.1-1.4x (input
# gradient, 256 channels, blocks as above); on 28x28 planes it lost 0.8-0.9x
# (products of 49 tiles at batch 1, a 512-channel U of 37 MB).
# Only input gradients take it (see winograd_tile).
_MIN_TILE4_SIDE = 48


def use_winograd(C, F, KH, KW, strided, OH, OW, N=1):
    """Whether a call that would run as im2col + sgemm, with a (F, C, KH, KW)
    kernel, N samples and (OH, OW) output planes, runs faster here: 3x3,
    stride 1, at least _MIN_CHANNELS channels in and out, output planes at
    least _MIN_PLANE_SIDE on each side, or smaller planes with many channels
    and tiles (_SMALL_PLANE_CHANNELS)."""
    if KH != 3 or KW != 3 or strided or min(C, F) < _MIN_CHANNELS:
        return False
    side = min(OH, OW)
    return side >= _MIN_PLANE_SIDE or (
        side >= _MIN_SMALL_PLANE_SIDE and min(C, F) >= _SMALL_PLANE_CHANNELS
        and N * -(-OH // 2) * -(-OW // 2) >= _SMALL_PLANE_TILES)


def _plan(T, TW, C, F, tile):
    """Tiles per block, from the shapes only (TW tiles a row)."""
    if C * F > _SMALL_U_CHANNELS:
        return min(T, max(_MIN_TILES, _BLOCK_WIDTH * max(C, F)))
    limit = _SMALL_PRODUCT // (C * F)
    if limit < _TILES4:
        limit = _SCRATCH_FLOATS // ((tile + 2) ** 2 * max(C, F))
    wanted = max(_TILES4, -(-T // _MIN_TASKS))
    if limit >= TW:
        return min(T, TW * min(limit // TW, -(-wanted // TW)))
    return min(T, limit, wanted)


def winograd_tile(OH, OW, gradient):
    """The output tile side m: 4 (F(4x4, 3x3)) for an input gradient (OH, OW:
    the input's planes) on planes of at least _MIN_TILE4_SIDE on each side,
    else 2. The forward pass keeps m = 2: m = 4's rounding error (up to 5e-6
    of the largest output, 5-10x a direct float32 sum's) is within the
    tolerance of gradients (1e-5 of the largest entry), not of forward
    values (1e-6)."""
    return 4 if gradient and min(OH, OW) >= _MIN_TILE4_SIDE else 2


def _transform_ranges(channels, tiles):
    """The ranges of channels a few-blocks transform is shared out in."""
    return threads.even_ranges(channels, max(1, min(_MIN_TASKS,
                                                    channels * tiles // _TRANSFORM_WORK)))


def _blocks(T, per_block):
    return [(t0, min(T, t0 + per_block)) for t0 in range(0, T, per_block)]


# ---------------------------------------------------------------------------
# Transforms
# ---------------------------------------------------------------------------

# G of F(4x4, 3x3) (rows: the interpolation points, then infinity; F(2x2,
# 3x3)'s has entries 0, +-1/2 and 1 only, and _transform_kernels2 applies it
# directly)
_G6 = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0], [-1.0, 1.0, -1.0], [-16.0, -8.0, -4.0],
                [1.0, -2.0, 4.0], [0.0, 0.0, 15.0]]) / np.array([1, 3, 3, 15, 15, 15])[:, None]


def _kernel_transform_matrix(flipped):
    """The (36, 9) matrix T of F(4x4, 3x3) with (G g G^T).flat = T @ g.flat
    for a 3x3 kernel g; for flipped, of the kernel with rows and columns
    reversed (G with its columns reversed). Computed in float64 and rounded
    once."""
    G = _G6[:, ::-1] if flipped else _G6
    return np.einsum('ai,bj->abij', G, G).reshape(36, 9).astype(np.float32)


_TRANSFORM6 = {flipped: _kernel_transform_matrix(flipped) for flipped in (False, True)}


@numba.njit(cache=True)
def _segment(t, t1, TH, TW):
    """(sample, tile row, first tile column, tile count) of the run of tiles
    from t to the end of its tile row or t1, whichever comes first."""
    n = t // (TH * TW)
    ti = (t // TW) % TH
    j0 = t % TW
    return n, ti, j0, min(TW - j0, t1 - t)


def _input_work2(W, TW, pl):
    """The scratch F(2x2)'s input transform takes for planes W wide, TW tiles
    a row and pl columns of padding on the left: four slots for the rows it
    reads and a row of zeros, each with the padding's zeros (and room for
    the lanes of a vector that run past the plane's edge)."""
    return (5, _slot_width(W, TW, pl))


@numba.njit(cache=True)
def _slot_width(W, TW, pl):
    return max(pl, 0) + max(W, 2 * TW + 2 - pl) + 2 * VECTOR_LANES + 2


def _row_length(tiles):
    """The row length of V and M for a block of this many tiles: F(2x2)'s
    transforms read and write them in whole vectors."""
    return tiles + VECTOR_LANES


@numba.njit(cache=True)
def _segments(t0, t1, TH, TW):
    """The runs of tiles t0 <= t < t1 along tile rows: (sample, tile row,
    first tile column, tile count, t - t0 of the first), one a row."""
    count, t = 0, t0
    while t < t1:
        t += _segment(t, t1, TH, TW)[3]
        count += 1
    runs = np.empty((count, 5), np.int64)
    t = t0
    for s in range(count):
        n, ti, j0, nj = _segment(t, t1, TH, TW)
        runs[s, 0], runs[s, 1], runs[s, 2], runs[s, 3], runs[s, 4] = n, ti, j0, nj, t - t0
        t += nj
    return runs


@numba.njit(cache=True)
def _input_setup(V, work, t0, t1, TH, TW, width, slots):
    """The input transforms' common start: checks V's and work's sizes (for
    `slots` row slots of `width`), zeros work; (work and V flat, the runs of
    tiles)."""
    if V.shape[2] < t1 - t0 + VECTOR_LANES - 1:
        raise ValueError('V: rows too short for whole vectors')
    if work.shape[0] < slots + 1 or work.shape[1] < width:
        raise ValueError('work: rows too short for the plane and its padding')
    rows = work.reshape(work.size)
    for p in range(rows.size):
        rows[p] = 0.0
    return rows, borrowed_span(V), _segments(t0, t1, TH, TW)


@numba.njit(cache=True, inline='always')
def _fill_slots(x, n, c, r0, rows, width, left, held, at):
    """at[i] = the offset in `rows` (work, flat, rows `width` long) of row
    r0 + i of x[n, c], i < len(at): its slot's (row r in slot r % len(held),
    copied there now unless held says it is), or the row of zeros past the
    slots for a row outside the plane."""
    H, W = x.shape[2], x.shape[3]
    slots = held.shape[0]
    for i in range(at.shape[0]):
        r = r0 + i
        if r < 0 or r >= H:
            at[i] = slots * width
            continue
        slot = r % slots
        at[i] = slot * width
        if held[slot] != n * H + r:
            held[slot] = n * H + r
            source = x[n, c, r]
            target = rows[slot * width + left:slot * width + left + W]
            for p in range(W):
                target[p] = source[p]


@numba.njit(cache=True, nogil=True)
def _input_transform(x, pt, pl, TH, TW, t0, t1, c0, c1, V, work):
    """V[k, c, t - t0] = (B^T d B)[k // 4, k % 4] for tiles t0 <= t < t1 and
    channels c0 <= c < c1, d the 4x4 input patch of tile t in channel c;
    V's rows contiguous, its planes any distance apart (_planes), its rows
    at least t1 - t0 + VECTOR_LANES - 1 long (the run's tiles go in whole
    vectors: entries past t1 - t0 are overwritten); work: scratch of
    _input_work2(W, TW, pl) floats."""
    x, V, work = borrowed(x), borrowed(V), borrowed(work)
    row_length, step = V.strides[1] // 4, V.strides[0] // 4
    lanes = VECTOR_LANES
    left = max(pl, 0)
    H, W, width = x.shape[2], x.shape[3], work.shape[1]
    rows, v, runs = _input_setup(V, work, t0, t1, TH, TW, _slot_width(W, TW, pl), 4)
    zeros = 4 * width
    for c in range(c0, c1):
        # the (sample, row) held in each slot: row r of the plane in slot r % 4
        # (4 scalars: against _fill_slots' arrays, 0.6-0.85x the time a tile)
        held0 = held1 = held2 = held3 = -1
        for s in range(runs.shape[0]):
            n, ti, j0, nj, q = runs[s, 0], runs[s, 1], runs[s, 2], runs[s, 3], runs[s, 4]
            r = 2 * ti - pt
            for a in range(4):
                if 0 <= r + a < H:
                    slot = (r + a) % 4
                    key = n * H + r + a
                    if (held0, held1, held2, held3)[slot] != key:
                        source = x[n, c, r + a]
                        target = rows[slot * width + left:slot * width + left + W]
                        for p in range(W):
                            target[p] = source[p]
                        if slot == 0:
                            held0 = key
                        elif slot == 1:
                            held1 = key
                        elif slot == 2:
                            held2 = key
                        else:
                            held3 = key
            at0 = (r % 4) * width if 0 <= r < H else zeros
            at1 = ((r + 1) % 4) * width if 0 <= r + 1 < H else zeros
            at2 = ((r + 2) % 4) * width if 0 <= r + 2 < H else zeros
            at3 = ((r + 3) % 4) * width if 0 <= r + 3 < H else zeros
            for jb in range(0, nj, lanes):
                col = left + 2 * (j0 + jb) - pl
                d00, d01, d02, d03 = _patch_row(rows, at0 + col)
                d10, d11, d12, d13 = _patch_row(rows, at1 + col)
                d20, d21, d22, d23 = _patch_row(rows, at2 + col)
                d30, d31, d32, d33 = _patch_row(rows, at3 + col)
                # B^T d (rows 0 - 2, 1 + 2, 2 - 1, 1 - 3), then times B
                v0, v1, v2, v3 = _columns2(vector_sub(d00, d20), vector_sub(d01, d21),
                                           vector_sub(d02, d22), vector_sub(d03, d23))
                v4, v5, v6, v7 = _columns2(vector_add(d10, d20), vector_add(d11, d21),
                                           vector_add(d12, d22), vector_add(d13, d23))
                v8, v9, v10, v11 = _columns2(vector_sub(d20, d10), vector_sub(d21, d11),
                                             vector_sub(d22, d12), vector_sub(d23, d13))
                v12, v13, v14, v15 = _columns2(vector_sub(d10, d30), vector_sub(d11, d31),
                                               vector_sub(d12, d32), vector_sub(d13, d33))
                to = c * row_length + q + jb
                vector_store(v, to, v0)
                vector_store(v, to + step, v1)
                vector_store(v, to + 2 * step, v2)
                vector_store(v, to + 3 * step, v3)
                vector_store(v, to + 4 * step, v4)
                vector_store(v, to + 5 * step, v5)
                vector_store(v, to + 6 * step, v6)
                vector_store(v, to + 7 * step, v7)
                vector_store(v, to + 8 * step, v8)
                vector_store(v, to + 9 * step, v9)
                vector_store(v, to + 10 * step, v10)
                vector_store(v, to + 11 * step, v11)
                vector_store(v, to + 12 * step, v12)
                vector_store(v, to + 13 * step, v13)
                vector_store(v, to + 14 * step, v14)
                vector_store(v, to + 15 * step, v15)


@numba.njit(cache=True, inline='always')
def _patch_row(rows, at):
    """A row of the patches of VECTOR_LANES tiles, the first at rows[at]:
    its columns 2j and 2j + VECTOR_LANES (two vectors), then the same from 2
    columns on."""
    lanes = VECTOR_LANES
    return (vector_load(rows, at), vector_load(rows, at + lanes), vector_load(rows, at + 2),
            vector_load(rows, at + 2 + lanes))


@numba.njit(cache=True, inline='always')
def _columns2(s0, s1, s2, s3):
    """A row of B^T d times B for VECTOR_LANES tiles: s0, s1 the row's
    columns 2j (tile j's first column, two vectors in a row), s2, s3 its
    columns 2j + 2; the four columns of the product."""
    e0, o0 = vector_even(s0, s1), vector_odd(s0, s1)
    e1, o1 = vector_even(s2, s3), vector_odd(s2, s3)
    return vector_sub(e0, e1), vector_add(o0, e1), vector_sub(e1, o0), vector_sub(o0, o1)


@numba.njit(cache=True)
def _output_setup(M, out, t0, t1, TH, TW):
    """The output transforms' common start: checks M's rows; (M and out
    flat, the runs of tiles)."""
    if M.shape[2] < t1 - t0 + VECTOR_LANES - 1:
        raise ValueError('M: rows too short for whole vectors')
    return borrowed_span(M), out.reshape(out.size), _segments(t0, t1, TH, TW)


@numba.njit(cache=True, nogil=True)
def _output_transform(M, b, out, TH, TW, t0, t1, f0, f1):
    """out[n, f, 2i:2i+2, 2j:2j+2] = A^T M[:, f, t - t0] (as 4x4) A + b[f] for
    tiles t0 <= t < t1 and channels f0 <= f < f1 (the parts inside out);
    M as _input_transform's V (its rows read in whole vectors), out
    C-contiguous."""
    M, out = borrowed(M), borrowed(out)
    OH, OW = out.shape[2], out.shape[3]
    row_length, step = M.strides[1] // 4, M.strides[0] // 4
    lanes = VECTOR_LANES
    m, o, runs = _output_setup(M, out, t0, t1, TH, TW)
    band = np.empty(2 * lanes, np.float32)
    for f in range(f0, f1):
        bias = vector_splat_load(b, f)
        for s in range(runs.shape[0]):
            n, ti, j0, nj, q = runs[s, 0], runs[s, 1], runs[s, 2], runs[s, 3], runs[s, 4]
            row0 = ((n * out.shape[1] + f) * OH + 2 * ti) * OW
            for jb in range(0, nj, lanes):
                at = f * row_length + q + jb
                s0, s1, s2, s3, u0, u1, u2, u3 = _a_rows(m, at, step)
                col = 2 * (j0 + jb)
                count = min(2 * min(lanes, nj - jb), OW - col)
                # A^T M: rows m0 + m1 + m2 (output row 2i) and m1 - m2 - m3 (2i + 1)
                low, high = _row_times_a(s0, s1, s2, s3, bias)
                if count == 2 * lanes:
                    vector_store(o, row0 + col, low)
                    vector_store(o, row0 + col + lanes, high)
                else:
                    vector_store(band, 0, low)
                    vector_store(band, lanes, high)
                    for p in range(count):
                        o[row0 + col + p] = band[p]
                if 2 * ti + 1 < OH:
                    low, high = _row_times_a(u0, u1, u2, u3, bias)
                    # (written out again, not a helper: an inlined helper
                    # taking `o` and `band` ran this transform 1.9x slower)
                    if count == 2 * lanes:
                        vector_store(o, row0 + OW + col, low)
                        vector_store(o, row0 + OW + col + lanes, high)
                    else:
                        vector_store(band, 0, low)
                        vector_store(band, lanes, high)
                        for p in range(count):
                            o[row0 + OW + col + p] = band[p]



@numba.njit(cache=True, inline='always')
def _a_rows(M, at, step):
    """A^T m of F(2x2) for a vector of tiles or filters, m[k // 4, k % 4]
    the vector at M[at + k*step]: its rows m0 + m1 + m2 (s0 .. s3, one a
    column) and m1 - m2 - m3 (u0 .. u3)."""
    m00, m01 = vector_load(M, at), vector_load(M, at + step)
    m02, m03 = vector_load(M, at + 2 * step), vector_load(M, at + 3 * step)
    m10, m11 = vector_load(M, at + 4 * step), vector_load(M, at + 5 * step)
    m12, m13 = vector_load(M, at + 6 * step), vector_load(M, at + 7 * step)
    m20, m21 = vector_load(M, at + 8 * step), vector_load(M, at + 9 * step)
    m22, m23 = vector_load(M, at + 10 * step), vector_load(M, at + 11 * step)
    m30, m31 = vector_load(M, at + 12 * step), vector_load(M, at + 13 * step)
    m32, m33 = vector_load(M, at + 14 * step), vector_load(M, at + 15 * step)
    return (vector_add(vector_add(m00, m10), m20), vector_add(vector_add(m01, m11), m21),
            vector_add(vector_add(m02, m12), m22), vector_add(vector_add(m03, m13), m23),
            vector_sub(vector_sub(m10, m20), m30), vector_sub(vector_sub(m11, m21), m31),
            vector_sub(vector_sub(m12, m22), m32), vector_sub(vector_sub(m13, m23), m33))


@numba.njit(cache=True, inline='always')
def _row_a(e0, e1, e2, e3, bias):
    """A row (e0 .. e3) of F(2x2)'s A^T m times A, plus the bias: its two
    outputs, e0 + e1 + e2 + bias and e1 - e2 - e3 + bias (each a vector)."""
    return (vector_add(vector_add(vector_add(e0, e1), e2), bias),
            vector_add(vector_sub(vector_sub(e1, e2), e3), bias))


@numba.njit(cache=True, inline='always')
def _row_times_a(e0, e1, e2, e3, bias):
    """_row_a for VECTOR_LANES tiles, the tiles' two outputs each in turn
    (2 * VECTOR_LANES, as two vectors)."""
    even, odd = _row_a(e0, e1, e2, e3, bias)
    return vector_zip_low(even, odd), vector_zip_high(even, odd)


# ---------------------------------------------------------------------------
# F(2x2, 3x3) fused: transforms and products per sub-block of a few tiles
# ---------------------------------------------------------------------------
#
# With a U of at most _FUSED_CHANNELS (C * F), each block runs as
# sub-blocks of _FUSED_TILES tiles, every one transformed, multiplied and
# transformed back in one call, so that V and M are a sub-block's (0.25-2 MB)
# and mostly still in L2 when the next step reads them. The 16 products (F, C)
# @ (C, 128) are _products8's: 165-190 GFLOP/s on one core at 64 to 512
# channels, alone (OpenBLAS: 100-160 on products that thin, 115-150 on the
# unfused blocks). Forward, interleaved runs, CPU time against the unfused
# blocks: one thread 0.90x (64 -> 64 on 224x224), 0.90x / 0.88x (64 -> 128,
# 128 -> 128 on 112x112), 0.90x (256 -> 256 on 56x56); two threads 0.81x,
# 0.83x / 0.88x, 0.92x. Sub-blocks of 64 tiles: 0.91-0.99x. A bigger U (512
# channels: 16 MB) would come from memory again for every sub-block.
_FUSED_CHANNELS = 256 * 256
_FUSED_TILES = 128
# rows of F whose sums _products8 holds in registers, 2 machine vectors each
_FUSED_ROWS = 8
# ... plus V's two vectors and U's splat: on a target with 16 vector
# registers (AVX2) the sums would go through memory, so the blocks stay unfused
_FUSED_FITS = VECTOR_REGISTERS >= 2 * _FUSED_ROWS + 3


def _pack_rows(U, packed=None):
    """U (K, F, C) (any strides) as _products8 reads it, (K, F / 8, C, 8)
    flattened: the 8 rows of a row block side by side for each channel; in
    `packed` if given, else in a reused buffer (a fresh one of 4 MB costs
    page faults on every call)."""
    K, F, C = U.shape
    if packed is None:
        packed = _scratch('fused_U', (K, F // _FUSED_ROWS, C, _FUSED_ROWS))
    packed = packed.reshape(K, F // _FUSED_ROWS, C, _FUSED_ROWS)
    np.copyto(packed, U.reshape(K, F // _FUSED_ROWS, _FUSED_ROWS, C).transpose(0, 1, 3, 2))
    return packed.reshape(-1)


@numba.njit(cache=True, nogil=True, fastmath={'contract'})
def _products8(packed, V, M, n):
    """M[k, :, :n] = U[k] @ V[k, :, :n] for every k, packed = _pack_rows(U):
    sums over the channels in order, one FMA each. Columns up to n rounded up
    to 2 machine vectors are computed (V's rows are at least that long). V
    and M: rows contiguous, any distance between planes (_planes)."""
    K, C = V.shape[0], V.shape[1]
    F = M.shape[1]
    v, m = borrowed_span(V), borrowed_span(M)
    vk, t = V.strides[0] // 4, V.strides[1] // 4
    mk, mt = M.strides[0] // 4, M.strides[1] // 4
    lanes = VECTOR_LANES
    for k in range(K):
        for r in range(0, F, 8):
            u0 = (k * F + r) * C
            for j in range(0, n, 2 * lanes):
                a0, a1, a2, a3 = vector_zero(), vector_zero(), vector_zero(), vector_zero()
                a4, a5, a6, a7 = vector_zero(), vector_zero(), vector_zero(), vector_zero()
                b0, b1, b2, b3 = vector_zero(), vector_zero(), vector_zero(), vector_zero()
                b4, b5, b6, b7 = vector_zero(), vector_zero(), vector_zero(), vector_zero()
                at = k * vk + j
                u = u0
                for c in range(C):
                    x, y = vector_load(v, at), vector_load(v, at + lanes)
                    s = vector_splat_load(packed, u)
                    a0, b0 = vector_fma(a0, x, s), vector_fma(b0, y, s)
                    s = vector_splat_load(packed, u + 1)
                    a1, b1 = vector_fma(a1, x, s), vector_fma(b1, y, s)
                    s = vector_splat_load(packed, u + 2)
                    a2, b2 = vector_fma(a2, x, s), vector_fma(b2, y, s)
                    s = vector_splat_load(packed, u + 3)
                    a3, b3 = vector_fma(a3, x, s), vector_fma(b3, y, s)
                    s = vector_splat_load(packed, u + 4)
                    a4, b4 = vector_fma(a4, x, s), vector_fma(b4, y, s)
                    s = vector_splat_load(packed, u + 5)
                    a5, b5 = vector_fma(a5, x, s), vector_fma(b5, y, s)
                    s = vector_splat_load(packed, u + 6)
                    a6, b6 = vector_fma(a6, x, s), vector_fma(b6, y, s)
                    s = vector_splat_load(packed, u + 7)
                    a7, b7 = vector_fma(a7, x, s), vector_fma(b7, y, s)
                    at += t
                    u += 8
                to = k * mk + r * mt + j
                vector_store(m, to, a0); vector_store(m, to + lanes, b0)
                vector_store(m, to + mt, a1); vector_store(m, to + mt + lanes, b1)
                vector_store(m, to + 2 * mt, a2); vector_store(m, to + 2 * mt + lanes, b2)
                vector_store(m, to + 3 * mt, a3); vector_store(m, to + 3 * mt + lanes, b3)
                vector_store(m, to + 4 * mt, a4); vector_store(m, to + 4 * mt + lanes, b4)
                vector_store(m, to + 5 * mt, a5); vector_store(m, to + 5 * mt + lanes, b5)
                vector_store(m, to + 6 * mt, a6); vector_store(m, to + 6 * mt + lanes, b6)
                vector_store(m, to + 7 * mt, a7); vector_store(m, to + 7 * mt + lanes, b7)


@numba.njit(cache=True, nogil=True)
def _fused_block2(x, pt, pl, TH, TW, t0, t1, packed, b, out, V, M, input_work):
    """Tiles t0 <= t < t1 of the F(2x2) correlation, in sub-blocks of
    _FUSED_TILES: input transform into V, products into M, output transform
    (V and M: (16, C or F, _fused_row()))."""
    for s in range(t0, t1, _FUSED_TILES):
        e = min(s + _FUSED_TILES, t1)
        _input_transform(x, pt, pl, TH, TW, s, e, 0, V.shape[1], V, input_work)
        _products8(packed, V, M, e - s)
        _output_transform(M, b, out, TH, TW, s, e, 0, M.shape[1])


def _fused_row():
    """The row length of a sub-block's V and M: _FUSED_TILES and room for
    the transforms' whole vectors (_row_length), in whole pairs of vectors
    (_products8's)."""
    return _round_up(_row_length(_FUSED_TILES), 2 * VECTOR_LANES)


def _fused_blocks(T):
    """_MIN_TASKS near-equal blocks of the T tiles, their bounds rounded to
    whole sub-blocks (only the last runs short: each reads all of U)."""
    bounds = [min(T, _FUSED_TILES * round(T * k / _MIN_TASKS / _FUSED_TILES))
              for k in range(_MIN_TASKS)]
    bounds.append(T)
    return [(t0, t1) for t0, t1 in zip(bounds, bounds[1:]) if t1 > t0]


def _fused2(x, U, b, out, pad_top, pad_left, TH, TW, input_work, kept=None):
    """_winograd's F(2x2) blocks fused (see _FUSED_CHANNELS); U's packed
    rows kept with `kept` (a _KeptTransform of U) when given."""
    C, F = x.shape[1], U.shape[1]
    packed = _pack_rows(U) if kept is None else kept.packed_rows()
    blocks = _fused_blocks(x.shape[0] * TH * TW)

    def block(k):
        V = _planes('fused_V', 16, C, _fused_row())
        M = _planes('fused_M', 16, F, _fused_row())
        _fused_block2(x, pad_top, pad_left, TH, TW, blocks[k][0], blocks[k][1], packed, b, out,
                      V, M, _scratch('input_work', input_work))
    threads.run_tasks(block, len(blocks))


# ---------------------------------------------------------------------------
# F(4x4, 3x3): 6x6 transforms (B^T, G, A^T as in the module docstring)
# ---------------------------------------------------------------------------

# The float32 factors of F(4x4, 3x3)'s transforms (_b6_vectors, _a6_vectors)
_HALF = np.float32(0.5)
_QUARTER = np.float32(0.25)
_EIGHTH = np.float32(0.125)
_ONE_HALF = np.float32(1.5)
_TWO = np.float32(2.0)
_TWO_HALF = np.float32(2.5)
_FOUR = np.float32(4.0)
_EIGHT = np.float32(8.0)


def _input_work6(W, TW, pl):
    """The scratch F(4x4)'s input transform takes (as _input_work2): eight
    row slots and a row of zeros."""
    return (9, _slot_width6(W, TW, pl))


@numba.njit(cache=True)
def _slot_width6(W, TW, pl):
    return max(pl, 0) + max(W, 4 * TW + 2 - pl) + 4 * VECTOR_LANES + 4


@numba.njit(cache=True, nogil=True)
def _input_transform6(x, pt, pl, TH, TW, t0, t1, c0, c1, V, work):
    """V[6a + b, c, t - t0] = (B^T d B)[a, b] for tiles t0 <= t < t1 and
    channels c0 <= c < c1, d the 6x6 input patch of tile t in channel c
    (rows from 4i - pt, columns from 4j - pl); V as _input_transform's,
    work: scratch of _input_work6(W, TW, pl) floats. As _input_transform:
    VECTOR_LANES tiles at a time, the rows in slots (row r in slot r % 8)."""
    x, V, work = borrowed(x), borrowed(V), borrowed(work)
    row_length, step = V.strides[1] // 4, V.strides[0] // 4
    lanes = VECTOR_LANES
    left = max(pl, 0)
    rows, v, runs = _input_setup(V, work, t0, t1, TH, TW, _slot_width6(x.shape[3], TW, pl), 8)
    # the (sample, row) held in each slot, the offsets of a patch's six rows
    held, at = np.empty(8, np.int64), np.empty(6, np.int64)
    for c in range(c0, c1):
        held[:] = -1
        for s in range(runs.shape[0]):
            n, ti, j0, nj, q = runs[s, 0], runs[s, 1], runs[s, 2], runs[s, 3], runs[s, 4]
            _fill_slots(x, n, c, 4 * ti - pt, rows, work.shape[1], left, held, at)
            a0, a1, a2, a3, a4, a5 = at[0], at[1], at[2], at[3], at[4], at[5]
            for jb in range(0, nj, lanes):
                col = left + 4 * (j0 + jb) - pl
                # the six rows of the patches, each as its six columns
                d0 = _columns6(rows, a0 + col)
                d1 = _columns6(rows, a1 + col)
                d2 = _columns6(rows, a2 + col)
                d3 = _columns6(rows, a3 + col)
                d4 = _columns6(rows, a4 + col)
                d5 = _columns6(rows, a5 + col)
                # B^T d, column by column, then (B^T d) B row by row
                e0 = _b6_vectors(d0[0], d1[0], d2[0], d3[0], d4[0], d5[0])
                e1 = _b6_vectors(d0[1], d1[1], d2[1], d3[1], d4[1], d5[1])
                e2 = _b6_vectors(d0[2], d1[2], d2[2], d3[2], d4[2], d5[2])
                e3 = _b6_vectors(d0[3], d1[3], d2[3], d3[3], d4[3], d5[3])
                e4 = _b6_vectors(d0[4], d1[4], d2[4], d3[4], d4[4], d5[4])
                e5 = _b6_vectors(d0[5], d1[5], d2[5], d3[5], d4[5], d5[5])
                to = c * row_length + q + jb
                _store6(v, to, step, _b6_vectors(e0[0], e1[0], e2[0], e3[0], e4[0], e5[0]))
                _store6(v, to + 6 * step, step,
                        _b6_vectors(e0[1], e1[1], e2[1], e3[1], e4[1], e5[1]))
                _store6(v, to + 12 * step, step,
                        _b6_vectors(e0[2], e1[2], e2[2], e3[2], e4[2], e5[2]))
                _store6(v, to + 18 * step, step,
                        _b6_vectors(e0[3], e1[3], e2[3], e3[3], e4[3], e5[3]))
                _store6(v, to + 24 * step, step,
                        _b6_vectors(e0[4], e1[4], e2[4], e3[4], e4[4], e5[4]))
                _store6(v, to + 30 * step, step,
                        _b6_vectors(e0[5], e1[5], e2[5], e3[5], e4[5], e5[5]))


@numba.njit(cache=True, inline='always')
def _columns6(rows, at):
    """A row of the patches of VECTOR_LANES tiles, the first at rows[at]:
    its columns 4j + k, k = 0 .. 5, as six vectors (by halving into even
    and odd lanes twice, from 4 vectors at at and 4 at at + 4)."""
    n = VECTOR_LANES
    u0, u1 = vector_load(rows, at), vector_load(rows, at + n)
    u2, u3 = vector_load(rows, at + 2 * n), vector_load(rows, at + 3 * n)
    e, o = vector_even(u0, u1), vector_odd(u0, u1)
    e2, o2 = vector_even(u2, u3), vector_odd(u2, u3)
    u0, u1 = vector_load(rows, at + 4), vector_load(rows, at + 4 + n)
    u2, u3 = vector_load(rows, at + 4 + 2 * n), vector_load(rows, at + 4 + 3 * n)
    e4, e6 = vector_even(u0, u1), vector_even(u2, u3)
    o4, o6 = vector_odd(u0, u1), vector_odd(u2, u3)
    return (vector_even(e, e2), vector_even(o, o2), vector_odd(e, e2), vector_odd(o, o2),
            vector_even(e4, e6), vector_even(o4, o6))


@numba.njit(cache=True, inline='always')
def _store6(v, at, step, six):
    """v[at + k*step : + VECTOR_LANES] = six[k] for k = 0 .. 5."""
    vector_store(v, at, six[0])
    vector_store(v, at + step, six[1])
    vector_store(v, at + 2 * step, six[2])
    vector_store(v, at + 3 * step, six[3])
    vector_store(v, at + 4 * step, six[4])
    vector_store(v, at + 5 * step, six[5])


@numba.njit(cache=True, nogil=True)
def _output_transform6(M, b, out, TH, TW, t0, t1, f0, f1):
    """out[n, f, 4i:4i+4, 4j:4j+4] = A^T M[:, f, t - t0] (as 6x6) A + b[f] for
    tiles t0 <= t < t1 and channels f0 <= f < f1 (the parts inside out); M
    and out as _output_transform's. VECTOR_LANES tiles at a time: A^T M
    column by column, then each row times A."""
    M, out = borrowed(M), borrowed(out)
    OH, OW = out.shape[2], out.shape[3]
    row_length, step = M.strides[1] // 4, M.strides[0] // 4
    lanes = VECTOR_LANES
    m, o, runs = _output_setup(M, out, t0, t1, TH, TW)
    band = np.empty(4 * lanes, np.float32)
    for f in range(f0, f1):
        bias = vector_splat_load(b, f)
        for s in range(runs.shape[0]):
            n, ti, j0, nj, q = runs[s, 0], runs[s, 1], runs[s, 2], runs[s, 3], runs[s, 4]
            plane = (n * out.shape[1] + f) * OH
            for jb in range(0, nj, lanes):
                at = f * row_length + q + jb
                y0 = _a6_vectors(*_six(m, at, 6 * step))
                y1 = _a6_vectors(*_six(m, at + step, 6 * step))
                y2 = _a6_vectors(*_six(m, at + 2 * step, 6 * step))
                y3 = _a6_vectors(*_six(m, at + 3 * step, 6 * step))
                y4 = _a6_vectors(*_six(m, at + 4 * step, 6 * step))
                y5 = _a6_vectors(*_six(m, at + 5 * step, 6 * step))
                col = 4 * (j0 + jb)
                count = min(4 * min(lanes, nj - jb), OW - col)
                for r in range(min(4, OH - 4 * ti)):
                    z0, z1, z2, z3 = _a6_vectors(y0[r], y1[r], y2[r], y3[r], y4[r], y5[r])
                    w0, w1, w2, w3 = _zip4(vector_add(z0, bias), vector_add(z1, bias),
                                           vector_add(z2, bias), vector_add(z3, bias))
                    to = (plane + 4 * ti + r) * OW + col
                    if count == 4 * lanes:
                        vector_store(o, to, w0)
                        vector_store(o, to + lanes, w1)
                        vector_store(o, to + 2 * lanes, w2)
                        vector_store(o, to + 3 * lanes, w3)
                    else:
                        vector_store(band, 0, w0)
                        vector_store(band, lanes, w1)
                        vector_store(band, 2 * lanes, w2)
                        vector_store(band, 3 * lanes, w3)
                        for p in range(count):
                            o[to + p] = band[p]


@numba.njit(cache=True, inline='always')
def _zip4(z0, z1, z2, z3):
    """The lanes of four vectors in turn (z0[0], z1[0], z2[0], z3[0],
    z0[1], ...), as four vectors."""
    low, high = vector_zip_low(z0, z2), vector_zip_high(z0, z2)
    low2, high2 = vector_zip_low(z1, z3), vector_zip_high(z1, z3)
    return (vector_zip_low(low, low2), vector_zip_high(low, low2), vector_zip_low(high, high2),
            vector_zip_high(high, high2))


# ---------------------------------------------------------------------------
# Public kernels (checked by conv2d.py)
# ---------------------------------------------------------------------------

_SCRATCH = threading.local()
_LINE_FLOATS = 16


# Blocks' V and M up to this many floats (4 MB) come from the scratch
# buffers; larger ones (wide layers at large batches) are allocated per block.
_SCRATCH_FLOATS = 1 << 20


def _scratch(name, shape):
    """A float32 array of this shape, the calling thread's own, reused from
    call to call (V and M of a block: fresh arrays of a few MB for every
    block cost page faults, and their memory leaves the caches), starting on
    a 64-byte boundary: NumPy's buffers start 16 bytes past one here, and
    every AVX-512 load or store of them spans two cache lines (F(4x4)'s
    input gradient, 64 -> 64 on 224x224: 0.91x the CPU time aligned)."""
    size = int(np.prod(shape))
    if size > _SCRATCH_FLOATS:
        return np.empty(shape, np.float32)
    buffer = getattr(_SCRATCH, name, None)
    if buffer is None or buffer.size < size:
        raw = np.zeros(size + _LINE_FLOATS, np.float32)
        skip = (-raw.ctypes.data % (4 * _LINE_FLOATS)) // 4
        buffer = raw[skip:skip + size]
        setattr(_SCRATCH, name, buffer)
    return buffer[:size].reshape(shape)


def _planes(name, K, rows, length):
    """A (K, rows, length) float32 array for V or M: planes of contiguous
    rows, each plane an odd number of cache lines after the one before (the
    transforms write or read the K planes of a tile at once: at a multiple
    of 4 KB apart, 16 or 36 streams share one set of L1 lines. Input
    transform, one thread, against contiguous planes: F(2x2) 0.74x at 128
    channels on 112x112 planes, 0.59x at 256 on 56x56, 1.0-1.1x at 64 on
    224x224; F(4x4) 0.70-0.85x). From the scratch buffer `name` (_scratch),
    or a fresh array for name None."""
    lines = -(-rows * length // _LINE_FLOATS)
    stride = (lines | 1) * _LINE_FLOATS
    flat = (np.empty(K * stride, np.float32) if name is None
            else _scratch(name, (K * stride,)))
    return flat.reshape(K, stride)[:, :rows * length].reshape(K, rows, length)


# F(2x2, 3x3)'s kernel transform works on runs of this many kernels: their
# nine taps gathered into nine rows, so that the arithmetic runs along the
# rows in vectors, and U's 16 rows written from a buffer: they are 16
# streams a multiple of 4 KB apart, which share L1 sets (written in place,
# kernel by kernel: 6x slower).
_KERNEL_RUN = 64


@numba.njit(cache=True)
def _gather_taps(flat, r0, m, flipped, taps):
    """taps[j, i] = tap j of kernel r0 + i (of its rows and columns reversed
    when flipped) for i < m; flat: the kernels' taps, 9 a kernel."""
    for j in range(9):
        src, dst = flat[9 * r0 + (8 - j if flipped else j):], taps[j]
        for i in range(m):
            dst[i] = src[9 * i]


@numba.njit(cache=True, nogil=True)
def _transform_kernels2(w, flipped, q0, q1, U):
    """U[k, q] = (G g G^T)[k // 4, k % 4] of F(2x2, 3x3) for kernels
    q0 <= q < q1, g the 3x3 kernel w[q] (rows and columns reversed when
    flipped); w: (F*C, 9), U: (16, F*C). The rows of G g are g0, (g0 + g2)/2
    + g1/2, (g0 + g2)/2 - g1/2, g2, and likewise for its columns."""
    w, U = borrowed(w), borrowed(U)
    flat = w.reshape(w.size)
    taps = np.empty((9, _KERNEL_RUN), np.float32)
    run = np.empty((16, _KERNEL_RUN), np.float32)
    for r0 in range(q0, q1, _KERNEL_RUN):
        m = min(_KERNEL_RUN, q1 - r0)
        _gather_taps(flat, r0, m, flipped, taps)
        for a in range(4):
            # row a of G g, then its product with G^T
            s0, s1, s2 = run[4 * a], run[4 * a + 1], run[4 * a + 2]
            s3 = run[4 * a + 3]
            for i in range(m):
                if a == 0 or a == 3:
                    g0, g1, g2 = taps[2 * a, i], taps[2 * a + 1, i], taps[2 * a + 2, i]
                else:
                    sign = np.float32(1.0) if a == 1 else np.float32(-1.0)
                    g0 = _HALF * (taps[0, i] + taps[6, i]) + sign * (_HALF * taps[3, i])
                    g1 = _HALF * (taps[1, i] + taps[7, i]) + sign * (_HALF * taps[4, i])
                    g2 = _HALF * (taps[2, i] + taps[8, i]) + sign * (_HALF * taps[5, i])
                p, h = _HALF * (g0 + g2), _HALF * g1
                s0[i] = g0
                s1[i] = p + h
                s2[i] = p - h
                s3[i] = g2
        for k in range(16):
            src, dst = run[k], U[k, r0:r0 + m]
            for i in range(m):
                dst[i] = src[i]


@numba.njit(cache=True, nogil=True, fastmath={'contract'})
def _transform_kernels6(w, transform, q0, q1, U):
    """U[k, q] = sum over j of transform[k, j] * w[q, j] for kernels q0 <= q <
    q1, in the order j = 0 .. 8, one FMA each (as sgemm sums them); w: (F*C,
    9), transform: (36, 9), U: (36, F*C)."""
    w, U = borrowed(w), borrowed(U)
    flat = w.reshape(w.size)
    taps = np.empty((9, _KERNEL_RUN), np.float32)
    for r0 in range(q0, q1, _KERNEL_RUN):
        m = min(_KERNEL_RUN, q1 - r0)
        _gather_taps(flat, r0, m, False, taps)
        # row by row of U: one stream at a time (see _KERNEL_RUN)
        for k in range(transform.shape[0]):
            t = transform[k]
            dst = U[k, r0:r0 + m]
            for i in range(m):
                acc = t[0] * taps[0, i]
                for j in range(1, 9):
                    acc += t[j] * taps[j, i]
                dst[i] = acc


def _transform_kernel(w, tile, flipped):
    """The (A*A, F, C) transform of w (A = tile + 2; of the kernel with rows
    and columns reversed when flipped), filters shared out between the
    threads."""
    F, C = w.shape[0], w.shape[1]
    alpha = tile + 2
    U = np.empty((alpha * alpha, F, C), np.float32)
    ranges = threads.even_ranges(F, _MIN_TASKS)
    flat_w, flat_U = w.reshape(F * C, 9), U.reshape(alpha * alpha, F * C)
    if tile == 2:
        # 0.4x the CPU time of U = T (16, 9) @ w (F*C, 9).T as one sgemm at
        # 512 channels in and out
        def part(k):
            _transform_kernels2(flat_w, flipped, ranges[k][0] * C, ranges[k][1] * C, flat_U)
    else:
        # U = T (36, 9) @ w (F*C, 9).T, as a loop over runs of kernels
        def part(k):
            _transform_kernels6(flat_w, _TRANSFORM6[flipped], ranges[k][0] * C,
                                ranges[k][1] * C, flat_U)
    threads.run_tasks(part, len(ranges))
    return U


# A loop that differentiates a fixed network again and again (deep dream,
# style transfer, saliency maps) would transform the same kernels on every
# call. A kernel's transforms are kept with a copy of it and used again while
# the kernel passed has the same bits as that copy (bits.same_bits). At most
# _KEPT_FLOATS floats of kernels and transforms are kept, the least recently
# used kernel's dropped first (VGG16's: 42M floats, VGG19's 58M). VGG16's
# input-gradient step, 15 interleaved pairs on a 2-core Xeon: wall 0.89x,
# CPU 0.90x (every pair faster), the same bits; peak RSS 1432 -> 1533 MB
# (suite.py). A layer in 'tf' ordering keeps its channels-first kernel in one
# array, so that its transforms are found again.
_KEPT_FLOATS = 1 << 26
_kept = collections.OrderedDict()
_kept_lock = threading.Lock()


class _KeptTransform:
    """One transform of a kept kernel: U (_transform_kernel's) and U's rows
    as _products8 reads them (made on first use)."""

    def __init__(self, U):
        self.U = U
        self._packed = None
        self._transposed = None

    def floats(self):
        return ((0 if self.U.base is not None else self.U.size)
                + (0 if self._packed is None else self._packed.size)
                + (0 if self._transposed is None else self._transposed.floats()))

    def transposed(self):
        """This transform read as (A*A, C, F) (a view), kept with its own
        packed rows."""
        if self._transposed is None:
            self._transposed = _KeptTransform(self.U.transpose(0, 2, 1))
        return self._transposed

    def packed_rows(self):
        if self._packed is None:
            self._packed = _pack_rows(self.U, np.empty(self.U.size, np.float32))
        return self._packed


class _KeptKernel:
    """A copy of a kernel and its transforms, by (tile, flipped)."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.transforms = {}

    def floats(self):
        return self.kernel.size + sum(kept.floats() for kept in self.transforms.values())

    def transform(self, tile, flipped):
        """The _KeptTransform of the kernel's (tile, flipped) transform."""
        kept = self.transforms.get((tile, flipped))
        if kept is None:
            kept = self.transforms[tile, flipped] = _KeptTransform(
                _transform_kernel(self.kernel, tile, flipped))
        return kept


def _kept_transform(w, tile, flipped, checked=None):
    """(kernel, transform): the _KeptKernel of w and its (tile, flipped)
    _KeptTransform; an earlier call's while w has the same bits, else made
    now and kept. w: a C-contiguous float32 (F, C, 3, 3) kernel. checked:
    a _KeptKernel an earlier call returned for w, whose bits w still has
    (the caller vouches): while it is the one kept for w, w is not compared
    with it again. Any other kept for w's address is compared, as one kept
    for w before its bits last changed may be."""
    key = (w.ctypes.data, w.shape)
    with _kept_lock:
        kernel = _kept.get(key)
    if kernel is None or not (kernel is checked or same_bits(kernel.kernel, w)):
        kernel = _KeptKernel(w.copy())
    kept = kernel.transform(tile, flipped)
    with _kept_lock:
        _kept[key] = kernel
        _kept.move_to_end(key)
        total = sum(entry.floats() for entry in _kept.values())
        while total > _KEPT_FLOATS and len(_kept) > 1:
            total -= _kept.popitem(last=False)[1].floats()
    return kernel, kept


def forget_transforms():
    """Drops every kept kernel transform (their memory)."""
    with _kept_lock:
        _kept.clear()


def _winograd(x, U, b, out, pad_top, pad_left, tile, kept=None):
    """out = the correlation of x with the kernel whose transform is U
    (A*A, F, C; any strides), plus b, on tiles of tile x tile outputs;
    kept: the _KeptTransform whose U this is, if any (the fused blocks
    reuse its packed rows)."""
    N, C = x.shape[0], x.shape[1]
    elements, F = U.shape[0], U.shape[1]
    OH, OW = out.shape[2], out.shape[3]
    TH, TW = -(-OH // tile), -(-OW // tile)
    T = N * TH * TW
    blocks = _blocks(T, _plan(T, TW, C, F, tile))
    # the transforms' scratch (per thread, see _scratch)
    if tile == 2:
        input_transform, output_transform = _input_transform, _output_transform
        input_work = _input_work2(x.shape[3], TW, pad_left)
    else:
        input_transform, output_transform = _input_transform6, _output_transform6
        input_work = _input_work6(x.shape[3], TW, pad_left)
    threads.blas_threads(1)
    if tile == 2 and _FUSED_FITS and F % _FUSED_ROWS == 0 and C * F <= _FUSED_CHANNELS \
            and T >= _MIN_TASKS:
        _fused2(x, U, b, out, pad_top, pad_left, TH, TW, input_work, kept)
        return

    if len(blocks) >= _MIN_BLOCK_TASKS:
        def block(k):
            t0, t1 = blocks[k]
            n = t1 - t0
            V = _planes('V', elements, C, _row_length(n))
            input_transform(x, pad_top, pad_left, TH, TW, t0, t1, 0, C, V,
                            _scratch('input_work', input_work))
            M = _planes('M', elements, F, _row_length(n))
            np.matmul(U, V[:, :, :n], out=M[:, :, :n])
            output_transform(M, b, out, TH, TW, t0, t1, 0, F)
        threads.run_tasks(block, len(blocks))
        return
    # Few blocks: each step of a block shared out (channels, products, filters).
    for t0, t1 in blocks:
        n = t1 - t0
        c_ranges = _transform_ranges(C, n)
        f_ranges = _transform_ranges(F, n)
        V = _planes(None, elements, C, _row_length(n))
        threads.run_tasks(lambda k: input_transform(x, pad_top, pad_left, TH, TW, t0, t1,
                                                    c_ranges[k][0], c_ranges[k][1], V,
                                                    _scratch('input_work', input_work)),
                          len(c_ranges))
        M = _planes(None, elements, F, _row_length(n))
        threads.run_tasks(lambda k: np.matmul(U[k], V[k, :, :n], out=M[k, :, :n]), elements)
        threads.run_tasks(lambda k: output_transform(M, b, out, TH, TW, t0, t1,
                                                     f_ranges[k][0], f_ranges[k][1]),
                          len(f_ranges))


def winograd_forward(x, w, b, out, pad_top, pad_left, tile=None):
    """conv2d_forward's contract (see conv2d.py) for a 3x3 kernel at stride 1;
    tile 2 (F(2x2, 3x3)) or 4 (F(4x4, 3x3)), by default `winograd_tile`'s.
    Returns the _KeptKernel of w (see conv2d_forward)."""
    tile = tile or winograd_tile(out.shape[2], out.shape[3], False)
    kernel, kept = _kept_transform(w, tile, False)
    _winograd(x, kept.U, b, out, pad_top, pad_left, tile, kept)
    return kernel


def winograd_backward_input(dout, w, dx, pad_top, pad_left, tile=None, checked=None):
    """conv2d_backward_input's contract for a 3x3 kernel at stride 1: the
    forward correlation of dout, padded by 2 - pad_top, 2 - pad_left, with
    the flipped, channel-swapped kernel: the transform of the flipped kernel,
    read as (A*A, C, F) through a transposed view (no copy). Tile as in
    winograd_forward; checked as in conv2d_backward_input."""
    tile = tile or winograd_tile(dx.shape[2], dx.shape[3], True)
    kept = _kept_transform(w, tile, True, checked)[1].transposed()
    _winograd(dout, kept.U, np.zeros(w.shape[1], np.float32), dx, 2 - pad_top, 2 - pad_left,
              tile, kept)


# ---------------------------------------------------------------------------
# Many samples of small planes: channels last, whole samples per block
# ---------------------------------------------------------------------------
#
# On planes of 13x13 to 26x26 a tile row is 7 to 13 tiles, too short for the
# channel-by-channel transforms above (their per-run overhead dominates:
# 3-4x slower than the direct loops on cifar10_cnn's and mnist_cnn's
# layers). Here a block is a few whole samples; each sample is copied once,
# zero padded, into channels-last planes (Hp, Wp, Cp), Cp the channel count
# rounded up to a whole number of machine vectors, and the transforms work on
# one vector of channels at a time: V[k] (tiles, Cp) and M[k] (tiles, Fp),
# the products V[k] @ U[k] (Cp, Fp), U zero in the padded rows and columns
# (so padded channels add exact zeros). V's and M's 16 slices are
# _SLICE_SKEW floats apart from a multiple of 4 KB: 16 streams that many KB
# apart share L1 sets.

_SLICE_SKEW = 16


def _round_up(count, multiple):
    return -(-count // multiple) * multiple


@numba.njit(cache=True, nogil=True)
def _channels_last(x, n, pt, pl, xp):
    """xp[h + pt, w + pl, c] = x[n, c, h, w], 0 elsewhere (xp: (Hp, Wp, Cp);
    the parts of x inside xp)."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    Hp, Wp = xp.shape[0], xp.shape[1]
    xp[:] = 0.0
    h0, h1 = max(0, -pt), min(H, Hp - pt)
    w0, w1 = max(0, -pl), min(W, Wp - pl)
    # strided loads and contiguous stores: 2x faster than the other way round
    for h in range(h0, h1):
        for w in range(w0, w1):
            d = xp[h + pt, w + pl]
            for c in range(C):
                d[c] = x[n, c, h, w]


@numba.njit(cache=True, nogil=True)
def _input_transform_samples(x, pt, pl, TH, TW, n0, n1, xp, V, step, tile):
    """V[k*step + t*Cp + c] = (B^T d B)[k // A, k % A] for the tiles of
    samples n0 <= n < n1, t = ((n - n0)*TH + i)*TW + j, d the A x A input
    patch of tile (i, j) in channel c (A = tile + 2); xp (Hp, Wp, Cp) is
    scratch for one sample, Cp a multiple of VECTOR_LANES."""
    Cp = xp.shape[2]
    row = xp.shape[1] * Cp
    flat = xp.reshape(xp.size)
    rows = np.empty(36 * VECTOR_LANES, np.float32)   # F(4x4, 3x3)'s B^T d, one vector
    for n in range(n0, n1):
        _channels_last(x, n, pt, pl, xp)
        for i in range(TH):
            for j in range(TW):
                to = (((n - n0) * TH + i) * TW + j) * Cp
                for c in range(0, Cp, VECTOR_LANES):
                    at = (tile * i * xp.shape[1] + tile * j) * Cp + c
                    if tile == 2:
                        _patch_transform(flat, at, row, Cp, V, to + c, step)
                    else:
                        _patch_transform6(flat, at, row, Cp, V, to + c, step, rows)


@numba.njit(cache=True)
def _patch_transform(xp, at, row, Cp, V, to, step):
    """One vector of channels of one tile: V[to + k*step] = (B^T d B)[k],
    d[a, b] the vector at xp[at + a*row + b*Cp]."""
    # B^T d: rows 0 - 2, 1 + 2, 2 - 1, 1 - 3 of the patch, column by column
    r0, r1, r2 = at, at + row, at + 2 * row
    r3 = at + 3 * row
    a0 = vector_sub(vector_load(xp, r0), vector_load(xp, r2))
    a1 = vector_sub(vector_load(xp, r0 + Cp), vector_load(xp, r2 + Cp))
    a2 = vector_sub(vector_load(xp, r0 + 2 * Cp), vector_load(xp, r2 + 2 * Cp))
    a3 = vector_sub(vector_load(xp, r0 + 3 * Cp), vector_load(xp, r2 + 3 * Cp))
    _columns_transform(a0, a1, a2, a3, V, to, step)
    d10, d20 = vector_load(xp, r1), vector_load(xp, r2)
    d11, d21 = vector_load(xp, r1 + Cp), vector_load(xp, r2 + Cp)
    d12, d22 = vector_load(xp, r1 + 2 * Cp), vector_load(xp, r2 + 2 * Cp)
    d13, d23 = vector_load(xp, r1 + 3 * Cp), vector_load(xp, r2 + 3 * Cp)
    _columns_transform(vector_add(d10, d20), vector_add(d11, d21), vector_add(d12, d22),
                       vector_add(d13, d23), V, to + 4 * step, step)
    _columns_transform(vector_sub(d20, d10), vector_sub(d21, d11), vector_sub(d22, d12),
                       vector_sub(d23, d13), V, to + 8 * step, step)
    _columns_transform(vector_sub(d10, vector_load(xp, r3)),
                       vector_sub(d11, vector_load(xp, r3 + Cp)),
                       vector_sub(d12, vector_load(xp, r3 + 2 * Cp)),
                       vector_sub(d13, vector_load(xp, r3 + 3 * Cp)), V, to + 12 * step, step)


@numba.njit(cache=True)
def _columns_transform(s0, s1, s2, s3, V, to, step):
    """One row of (B^T d) B: V[to + b*step] for b = 0 .. 3."""
    vector_store(V, to, vector_sub(s0, s2))
    vector_store(V, to + step, vector_add(s1, s2))
    vector_store(V, to + 2 * step, vector_sub(s2, s1))
    vector_store(V, to + 3 * step, vector_sub(s1, s3))


@numba.njit(cache=True, nogil=True)
def _output_transform_samples(M, step, b, out, TH, TW, n0, n1, band, tile):
    """out[n, f, tile*i + r, tile*j + e] = (A^T m A)[r, e] + b[f] for the tiles
    of samples n0 <= n < n1 (numbered as in _input_transform_samples),
    m[k // A, k % A] = M[k*step + t*Fp + f]; band (tile, tile*TW, Fp) is
    scratch, b has Fp entries. The parts inside out."""
    F, OH, OW = out.shape[1], out.shape[2], out.shape[3]
    Fp = band.shape[2]
    flat = band.reshape(band.size)
    line = tile * TW * Fp
    rows = np.empty(24 * VECTOR_LANES, np.float32)   # F(4x4, 3x3)'s A^T m, one vector
    for n in range(n0, n1):
        for i in range(TH):
            for j in range(TW):
                at = (((n - n0) * TH + i) * TW + j) * Fp
                for f in range(0, Fp, VECTOR_LANES):
                    to = tile * j * Fp + f
                    if tile == 2:
                        _tile_output(M, at + f, step, vector_load(b, f), flat, to, Fp, line)
                    else:
                        _tile_output6(M, at + f, step, vector_load(b, f), flat, to, Fp, line,
                                      rows)
            # the band's rows into the channels-first planes
            for r in range(min(tile, OH - tile * i)):
                for f in range(F):
                    d = out[n, f, tile * i + r]
                    for q in range(OW):
                        d[q] = band[r, q, f]


@numba.njit(cache=True)
def _tile_output(M, at, step, bias, band, to, Fp, line):
    """One vector of filters of one tile: band[to + a*line + e*Fp] = (A^T m
    A)[a, e] + bias, m[k // 4, k % 4] the vector at M[at + k*step]."""
    s0, s1, s2, s3, u0, u1, u2, u3 = _a_rows(M, at, step)
    first, second = _row_a(s0, s1, s2, s3, bias)
    vector_store(band, to, first)
    vector_store(band, to + Fp, second)
    first, second = _row_a(u0, u1, u2, u3, bias)
    vector_store(band, to + line, first)
    vector_store(band, to + line + Fp, second)


@numba.njit(cache=True)
def _b6_vectors(d0, d1, d2, d3, d4, d5):
    """B^T d of F(4x4, 3x3) on six vectors (each lane its own d0 .. d5): its
    six entries."""
    d31, d42 = vector_sub(d3, d1), vector_sub(d4, d2)
    return (vector_add(vector_add(vector_sub(d0, vector_scale(d2, _TWO)), d4),
                       vector_scale(d31, _ONE_HALF)),
            vector_add(vector_add(vector_sub(d4, d1), vector_scale(d2, _HALF)),
                       vector_scale(d3, _TWO_HALF)),
            vector_sub(vector_add(vector_add(d1, d4), vector_scale(d3, _HALF)),
                       vector_scale(d2, _TWO_HALF)),
            vector_add(d42, vector_scale(d31, _TWO)),
            vector_sub(d42, vector_scale(d31, _HALF)),
            vector_add(vector_sub(vector_add(d1, d5), vector_scale(d3, _TWO)),
                       vector_scale(d42, _ONE_HALF)))


@numba.njit(cache=True)
def _a6_vectors(m0, m1, m2, m3, m4, m5):
    """A^T m of F(4x4, 3x3) on six vectors (each lane its own m0 .. m5): its
    four entries."""
    p12, d12 = vector_add(m1, m2), vector_sub(m1, m2)
    return (vector_add(vector_add(vector_add(m0, p12), m3), m4),
            vector_sub(vector_add(d12, vector_scale(m3, _HALF)), vector_scale(m4, _TWO)),
            vector_add(vector_add(p12, vector_scale(m3, _QUARTER)), vector_scale(m4, _FOUR)),
            vector_add(vector_sub(vector_add(d12, vector_scale(m3, _EIGHTH)),
                                  vector_scale(m4, _EIGHT)), m5))


@numba.njit(cache=True)
def _six(a, at, stride):
    """The six vectors at a[at + k*stride], k = 0 .. 5."""
    return (vector_load(a, at), vector_load(a, at + stride), vector_load(a, at + 2 * stride),
            vector_load(a, at + 3 * stride), vector_load(a, at + 4 * stride),
            vector_load(a, at + 5 * stride))


@numba.njit(cache=True)
def _patch_transform6(xp, at, row, Cp, V, to, step, rows):
    """_patch_transform for F(4x4, 3x3): V[to + k*step] = (B^T d B)[k // 6,
    k % 6], d[a, b] the vector at xp[at + a*row + b*Cp]; rows: scratch for
    36 vectors."""
    # B^T d, column by column: rows[(6a + b) * lanes]
    for b in range(6):
        o = _b6_vectors(*_six(xp, at + b * Cp, row))
        for a in range(6):
            vector_store(rows, (6 * a + b) * VECTOR_LANES, o[a])
    # (B^T d) B, row by row
    for a in range(6):
        o = _b6_vectors(*_six(rows, 6 * a * VECTOR_LANES, VECTOR_LANES))
        for b in range(6):
            vector_store(V, to + (6 * a + b) * step, o[b])


@numba.njit(cache=True)
def _tile_output6(M, at, step, bias, band, to, Fp, line, rows):
    """_tile_output for F(4x4, 3x3): band[to + r*line + e*Fp] = (A^T m A)[r,
    e] + bias, m[k // 6, k % 6] the vector at M[at + k*step]; rows: scratch
    for 24 vectors."""
    # A^T m, column by column: rows[(6r + e) * lanes]
    for e in range(6):
        y = _a6_vectors(*_six(M, at + e * step, 6 * step))
        for r in range(4):
            vector_store(rows, (6 * r + e) * VECTOR_LANES, y[r])
    # (A^T m) A, row by row, plus the bias
    for r in range(4):
        z = _a6_vectors(*_six(rows, 6 * r * VECTOR_LANES, VECTOR_LANES))
        for e in range(4):
            vector_store(band, to + r * line + e * Fp, vector_add(z[e], bias))


def _skewed_scratch(name, rows, columns):
    """(flat buffer, step, (rows, columns) view whose rows are step floats
    apart): `_scratch` with _SLICE_SKEW floats between the rows."""
    step = columns + _SLICE_SKEW
    flat = _scratch(name, (rows * step,))
    return flat, step, flat.reshape(rows, step)[:, :columns]


def _samples_per_block(N, tiles_per_sample):
    """Whole samples per block: at least _MIN_TILES tiles when the batch
    allows _MIN_TASKS blocks of them, else as many as gives _MIN_TASKS
    blocks (at least one sample)."""
    wanted = -(-_MIN_TILES // tiles_per_sample)
    return max(1, min(wanted, N // _MIN_TASKS))


def _padded_kernel(U, C, F):
    """(A*A, Cp, Fp): U (A*A, C, F) with zero rows and columns up to whole
    machine vectors."""
    Cp, Fp = _round_up(C, VECTOR_LANES), _round_up(F, VECTOR_LANES)
    padded = np.zeros((U.shape[0], Cp, Fp), np.float32)
    padded[:, :C, :F] = U
    return padded


def _winograd_samples(x, U, b, out, pad_top, pad_left, tile):
    """out = the correlation of x with the kernel whose transform is U (A*A,
    C, F; any strides), plus b, on tiles of tile x tile outputs (A = tile +
    2): blocks of whole samples, channels last (see above)."""
    N, C = x.shape[0], x.shape[1]
    elements, F = U.shape[0], U.shape[2]
    OH, OW = out.shape[2], out.shape[3]
    TH, TW = -(-OH // tile), -(-OW // tile)
    Up = _padded_kernel(U, C, F)
    Cp, Fp = Up.shape[1], Up.shape[2]
    bias = np.zeros(Fp, np.float32)
    bias[:F] = b
    per_block = _samples_per_block(N, TH * TW)
    threads.blas_threads(1)

    def block(k):
        n0, n1 = k * per_block, min(N, (k + 1) * per_block)
        tiles = (n1 - n0) * TH * TW
        xp = _scratch('xp', (tile * TH + 2, tile * TW + 2, Cp))
        flat_V, step_V, V = _skewed_scratch('Vs', elements, tiles * Cp)
        _input_transform_samples(x, pad_top, pad_left, TH, TW, n0, n1, xp, flat_V, step_V, tile)
        flat_M, step_M, M = _skewed_scratch('Ms', elements, tiles * Fp)
        np.matmul(V.reshape(elements, tiles, Cp), Up, out=M.reshape(elements, tiles, Fp))
        band = _scratch('band', (tile, tile * TW, Fp))
        _output_transform_samples(flat_M, step_M, bias, out, TH, TW, n0, n1, band, tile)
    threads.run_tasks(block, -(-N // per_block))


# Which calls that conv2d.py gives to its direct loops come to the samples
# path: 3x3 stride 1, output planes of _MIN_SAMPLES_SIDE to _MIN_PLANE_SIDE - 1
# on each side (others are unmeasured), at least _MIN_TASKS samples to share
# out, and channels: for the forward pass (F(2x2, 3x3)) at least
# _MIN_SAMPLES_CHANNELS in and out, for the input gradient (F(4x4, 3x3):
# 36 products for 16 outputs) that many on one side and half on the other.
# Measured on the benchmark suite's layers (CPU time, interleaved runs, 2-core
# Emerald Rapids Xeon under load, 1 and 2 threads, batch 32) against the
# direct loops, alone / inside training epochs (calls alternating between
# the two paths): cifar10_cnn's 64 -> 64 on 15x15 planes, 'valid', forward
# 1.1-1.4x / 1.14x as fast, input gradient 1.5x / 1.21x (1.0-1.2x alone on
# 2x2 tiles); its 32 -> 64 'same' layer's input gradient 1.3-1.4x / 1.08x,
# its forward pass 0.9-1.07x alone; mnist_acgan's 32 -> 64 on 14x14 input
# gradient (batch 100 and 200) 1.1-1.17x alone; 32 -> 32 (cifar10_cnn on
# 32x32 planes, mnist_cnn on 26x26 at batch 128) forward 0.75-0.8x, input
# gradient 0.85-1.25x: products of 32 channels run below BLAS's speed and the
# copy to channels last costs as much per channel as at 64. Inside an epoch
# the products and transforms lose more to the other core's work (shared
# caches) than the direct loops do.
_MIN_SAMPLES_CHANNELS = 64
_MIN_SAMPLES_SIDE = 12


def use_winograd_samples(C, F, KH, KW, strided, N, OH, OW, gradient):
    """Whether a call that would run as the direct loops, with a (F, C, KH,
    KW) kernel, N samples and (OH, OW) output planes, runs faster on the
    samples path: a forward pass, or for gradient an input gradient (then C
    and F are the correlation's: the layer's F and C, OH and OW its input's
    planes). See _MIN_SAMPLES_CHANNELS."""
    if gradient:
        channels = min(max(C, F), 2 * min(C, F))
    else:
        channels = min(C, F)
    return (KH == 3 and KW == 3 and not strided and channels >= _MIN_SAMPLES_CHANNELS
            and _MIN_SAMPLES_SIDE <= min(OH, OW) and max(OH, OW) < _MIN_PLANE_SIDE
            and N >= _MIN_TASKS)


def winograd_samples_forward(x, w, b, out, pad_top, pad_left, tile=2):
    """winograd_forward's contract, blocks of whole samples; tile 2 (the
    forward pass's, see winograd_tile) or 4."""
    kernel, kept = _kept_transform(w, tile, False)
    _winograd_samples(x, kept.transposed().U, b, out, pad_top, pad_left, tile)
    return kernel


def winograd_samples_backward_input(dout, w, dx, pad_top, pad_left, tile=4, checked=None):
    """winograd_backward_input's contract, blocks of whole samples: the
    transform of the flipped kernel, (A*A, F, C), is the one of the
    correlation from dout's F channels to dx's C. Tile 4 (the input
    gradient's, within its tolerance: see winograd_tile) or 2."""
    U = _kept_transform(w, tile, True, checked)[1].U
    _winograd_samples(dout, U, np.zeros(w.shape[1], np.float32), dx, 2 - pad_top, 2 - pad_left,
                      tile)
