"""2D convolution as matrix products (im2col + BLAS sgemm), for wide layers.

The same operation, arrays and layouts as `conv2d.py` (channels-first,
cross-correlation, any stride and padding); `conv2d` sends a call here when
the layer is wide enough for a matrix product to beat its direct loops (see
`use_gemm`).

The batch is cut into blocks of whole samples; a sample too large for one
block is cut further into blocks of output rows. For one block of Q output
positions (over the block's samples and rows):

- `cols` (C*KH*KW, Q): column q holds the input values under the window of
  output position q, row (c*KH + ki)*KW + kj the tap (c, ki, kj); 0 where the
  window lies over padding.
- forward: acc (F, Q) = w (F, C*KH*KW) @ cols, then out = acc + b.
- weight gradient: dw += dout (F, Q) @ cols.T, db += the row sums of dout.
- input gradient: the forward correlation of dout with the flipped kernel
  (each block owns its rows of dx; stride 1, see gemm_backward_input for
  when), or dcols = w.T @ dout (C*KH*KW, Q), added back onto the input
  positions the windows read (the adjoint of building `cols`), the blocks of
  one group of samples in order.

Stride-1 layers with 3x3 or wider windows and deep inputs skip `cols`
altogether: each tap is one product reading the padded input in place (see
"shifted products" below), through NumPy's BLAS called directly
(`blas.sgemm`), when it can be. Strided layers with many channels in and out
do the same for the forward pass and the weight gradient on the input's
phase planes (the rows and columns a tap reads at a stride, see "phase
planes" below).

Blocks run as tasks on the threads of `threads.run_tasks`, each with
single-threaded BLAS; a call with fewer than _MIN_BLOCK_TASKS blocks runs
them in turn, each block's steps split into tasks by ranges of channels or
filters (a block then holds one sample). The cut into blocks
depends on the shapes only. For the weight gradient, at most 16 tasks each accumulate a
run of consecutive blocks, in order, into their own partial sum, and the
partial sums are added in task order: results are bit-identical whatever the
number of threads, and the partial sums take at most 16 kernels' worth of
memory. (OpenBLAS splits a product between threads by rows and columns of
the result, never along the summed dimension.)
"""
import numba
import numpy as np

from . import blas, conv2d as _direct, conv2d_winograd, threads
from .borrowed import borrowed

__all__ = ['use_gemm', 'gemm_forward', 'gemm_backward_input', 'gemm_backward_weights']

# Floats of `cols` per block: 512K floats = 2 MB, one to four cores' L2 cache
# (BLAS blocks for the caches itself); but never fewer than _MIN_COLUMNS
# columns, below which the products get too thin for BLAS's kernels.
_BLOCK_FLOATS = 1 << 19
_MIN_COLUMNS = 256
# The weight gradient keeps at most this many partial sums (memory: each is
# the size of the kernel).
_MAX_PARTS = 16
_PART_COLUMNS = 1024
# At least this many tasks per call when the batch allows it (balance on
# 1, 2, 4 or 8 threads, and slack for a thread that is descheduled).
_MIN_TASKS = 8
# Small batches take the matrix products from this many channels in and out
# (a product with 3 rows, as VGG16's first input gradient, runs at a third
# of the direct loops' rate; at 64 it beats them by a third, on one thread).
_SMALL_BATCH_CHANNELS = 16
# A call with at least this many blocks runs them as tasks; with fewer, in
# turn, each product split over the threads.
_MIN_BLOCK_TASKS = 4
# ... the forward's into this many ranges of filters, each reading all of
# `cols` (3.6 MB on VGG16's 14x14 layers, more than a core's L2): 4 ranges,
# as threads.matmul cuts, took 10% more CPU time.
_SHARED_FILTER_PARTS = 2
# Stride-1 windows of at least this many taps run as shifted products (see
# _shifted_plan): im2col copies its input once per tap; at 5x5 that copy
# costs two thirds of the product itself, and at 3x3 the shifted products
# still take 10 to 50% less time on the planes measured (7x7 to 28x28).
_SHIFTED_MIN_TAPS = 9
# ... when each product sums over at least this many channels (BLAS runs a
# product of depth 128 or 256 at its full rate).
_SHIFTED_MIN_DEPTH = 64
# Strided layers run as shifted products over phase planes from this many
# input channels (the depth of each forward product): against im2col, whose
# strided gather they skip, CPU time 0.33-0.6x at 32 to 64 channels in (1 to
# 128 filters), 0.66-1.0x at 16; at 8 channels 1.3x, at 1 to 4 channels
# 1.7-4.6x (interleaved runs, batches of 100-200 on 14x14 to 32x32 planes).
_PHASED_MIN_DEPTH = 16


def use_gemm(C, F, KH, KW, strided, batch=None):
    """Whether a (F, C, KH, KW) kernel runs faster as matrix products than as
    the direct loops of conv2d.py. Measured on the benchmark suite's shapes:
    the direct stride-1 loops match BLAS up to about 32 to 64 channels in and
    out and lose beyond (2x at 128 -> 256 channels); their any-stride loops
    are slow whatever the width. The direct loops share out whole samples
    between threads, so a batch of fewer than _MIN_TASKS samples (VGG16 on
    one image) leaves threads idle there, while the matrix products cut each
    sample into blocks of rows: such a batch goes to them as soon as both
    channel counts are wide enough for BLAS (_SMALL_BATCH_CHANNELS)."""
    if strided:
        return F * C * KH * KW >= 64
    if batch is not None and batch < _MIN_TASKS and min(C, F) >= _SMALL_BATCH_CHANNELS:
        return True
    return F * C >= 8192


def _plan(N, C, KH, KW, OH, OW):
    """(samples per task, output rows per block) from the shapes only."""
    per_sample = C * KH * KW * OH * OW
    if per_sample <= _BLOCK_FLOATS:
        samples = max(1, min(_BLOCK_FLOATS // per_sample, -(-N // _MIN_TASKS)))
        return samples, OH
    rows = max(1, _BLOCK_FLOATS // (C * KH * KW * OW), -(-_MIN_COLUMNS // OW))
    return 1, min(rows, OH)


@numba.njit(cache=True)
def _valid_range(offset, stride, size, count):
    """Indices i in [0, count) with 0 <= i*stride + offset < size, as [lo, hi)."""
    lo = 0
    if offset < 0:
        lo = (-offset + stride - 1) // stride
    if size - 1 - offset < 0:
        hi = 0
    else:
        hi = min(count, (size - 1 - offset) // stride + 1)
    if hi < lo:
        hi = lo
    return lo, hi


@numba.njit(cache=True, nogil=True)
def _im2col(x, n0, m, i0, i1, KH, KW, sh, sw, pt, pl, OW, cols):
    """cols[(c*KH + ki)*KW + kj, (s*(i1-i0) + i - i0)*OW + j] =
    x[n0+s, c, i*sh + ki - pt, j*sw + kj - pl] (0 outside x)."""
    x, cols = borrowed(x), borrowed(cols)   # a few views per output row
    C = x.shape[1]
    H = x.shape[2]
    W = x.shape[3]
    Q = (i1 - i0) * OW
    for c in range(C):
        for ki in range(KH):
            for kj in range(KW):
                row = cols[(c * KH + ki) * KW + kj]
                off = kj - pl
                j_lo, j_hi = _valid_range(off, sw, W, OW)
                for s in range(m):
                    plane = x[n0 + s, c]
                    for i in range(i0, i1):
                        d = row[s * Q + (i - i0) * OW:s * Q + (i - i0 + 1) * OW]
                        r = i * sh + ki - pt
                        if r < 0 or r >= H:
                            for j in range(OW):
                                d[j] = 0.0
                            continue
                        src = plane[r]
                        for j in range(j_lo):
                            d[j] = 0.0
                        if sw == 1:
                            seg = src[j_lo + off:j_hi + off]
                            dd = d[j_lo:j_hi]
                            for j in range(j_hi - j_lo):
                                dd[j] = seg[j]
                        else:
                            for j in range(j_lo, j_hi):
                                d[j] = src[j * sw + off]
                        for j in range(j_hi, OW):
                            d[j] = 0.0


@numba.njit(cache=True, nogil=True)
def _col2im_add(dcols, dx, n0, m, i0, i1, KH, KW, sh, sw, pt, pl, OW):
    """The adjoint of _im2col: adds dcols onto the positions of dx it came from."""
    dcols, dx = borrowed(dcols), borrowed(dx)
    C = dx.shape[1]
    H = dx.shape[2]
    W = dx.shape[3]
    Q = (i1 - i0) * OW
    for c in range(C):
        for ki in range(KH):
            for kj in range(KW):
                row = dcols[(c * KH + ki) * KW + kj]
                off = kj - pl
                j_lo, j_hi = _valid_range(off, sw, W, OW)
                for s in range(m):
                    plane = dx[n0 + s, c]
                    for i in range(i0, i1):
                        r = i * sh + ki - pt
                        if r < 0 or r >= H:
                            continue
                        d = row[s * Q + (i - i0) * OW:s * Q + (i - i0 + 1) * OW]
                        dst = plane[r]
                        if sw == 1:
                            seg = dst[j_lo + off:j_hi + off]
                            dd = d[j_lo:j_hi]
                            for j in range(j_hi - j_lo):
                                seg[j] += dd[j]
                        else:
                            # indices from the slices' starts: 10% less
                            # time on short rows than dst[j*sw + off]
                            seg = dst[j_lo * sw + off:]
                            dd = d[j_lo:j_hi]
                            for j in range(j_hi - j_lo):
                                seg[sw * j] += dd[j]


@numba.njit(cache=True, nogil=True)
def _scatter_out(acc, b, out, n0, m, i0, i1):
    """out[n0+s, f, i0:i1, :] = acc[f, block of sample s] + b[f]."""
    acc, out = borrowed(acc), borrowed(out)
    F = out.shape[1]
    OW = out.shape[3]
    Q = (i1 - i0) * OW
    for s in range(m):
        o = out[n0 + s].reshape((F, out.shape[2] * OW))
        for f in range(F):
            bf = b[f]
            src = acc[f, s * Q:(s + 1) * Q]
            dst = o[f, i0 * OW:i1 * OW]
            for q in range(Q):
                dst[q] = src[q] + bf


@numba.njit(cache=True, nogil=True)
def _gather_dout(dout, n0, m, i0, i1, d):
    """d[f, block of sample s] = dout[n0+s, f, i0:i1, :]."""
    F = dout.shape[1]
    OW = dout.shape[3]
    Q = (i1 - i0) * OW
    for s in range(m):
        g = dout[n0 + s].reshape((F, dout.shape[2] * OW))
        for f in range(F):
            src = g[f, i0 * OW:i1 * OW]
            dst = d[f, s * Q:(s + 1) * Q]
            for q in range(Q):
                dst[q] = src[q]


@numba.njit(cache=True, nogil=True)
def _row_sums_add(d, db):
    """db[f] += sum of d[f] (in order)."""
    for f in range(d.shape[0]):
        row = d[f]
        s = np.float32(0.0)
        for q in range(row.shape[0]):
            s += row[q]
        db[f] += s


@numba.njit(cache=True, nogil=True)
def _zero_samples(dx, n0, m):
    for s in range(m):
        dx[n0 + s] = 0.0


@numba.njit(cache=True, nogil=True)
def _sum_parts(parts, total):
    """total = parts[0] + parts[1] + ... (in order), over flat float32 arrays."""
    n = total.shape[0]
    for k in range(n):
        total[k] = parts[0, k]
    for t in range(1, parts.shape[0]):
        p = parts[t]
        for k in range(n):
            total[k] += p[k]


def _blocks(N, OH, samples, rows):
    """[(first sample, samples, first output row, end row)]: the blocks of a
    call, in order; each covers whole rows of `samples` consecutive samples."""
    return [(n0, min(samples, N - n0), i0, min(OH, i0 + rows))
            for n0 in range(0, N, samples) for i0 in range(0, OH, rows)]


def gemm_forward(x, w, b, out, sh, sw, pt, pl):
    """conv2d_forward's contract (see conv2d.py), computed as matrix products.

    With at least _MIN_BLOCK_TASKS blocks, each block is one task (its
    columns and its product on one thread). With fewer (a small batch of
    small images, as VGG16's last layers on one image), the blocks run one
    after the other, each split over the kernel threads
    (_forward_block_shared). Either way every output element comes from
    one product of the same operands, so results do not depend on the
    thread count."""
    if _shifted_applies(x.shape, w.shape, out.shape, sh, sw, pt, pl):
        _shifted_forward(x, w, b, out, pt, pl)
        return
    phased = _phased_plan(x.shape, w.shape, out.shape, sh, sw, pt, pl)
    if phased is not None:
        _phased_forward(x, w, b, out, phased)
        return
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    OH, OW = out.shape[2], out.shape[3]
    wm = w.reshape(F, C * KH * KW)
    blocks = _blocks(N, OH, *_plan(N, C, KH, KW, OH, OW))
    threads.blas_threads(1)
    if len(blocks) < _MIN_BLOCK_TASKS:
        for n0, m, i0, i1 in blocks:
            _forward_block_shared(x, wm, b, out, n0, m, i0, i1, KH, KW, sh, sw, pt, pl)
        return

    def block(t):
        n0, m, i0, i1 = blocks[t]
        cols = np.empty((C * KH * KW, m * (i1 - i0) * OW), np.float32)
        _im2col(x, n0, m, i0, i1, KH, KW, sh, sw, pt, pl, OW, cols)
        _scatter_out(np.matmul(wm, cols), b, out, n0, m, i0, i1)

    threads.run_tasks(block, len(blocks))


def _forward_block_shared(x, wm, b, out, n0, m, i0, i1, KH, KW, sh, sw, pt, pl):
    """One block of gemm_forward, its steps shared out between the threads
    when its product is large enough to split (`threads.is_split`): `cols`
    by ranges of channels, then the product and the output by
    _SHARED_FILTER_PARTS ranges of filters (each a product of its rows of wm
    with all of cols). A block that runs in turn holds one sample (m = 1,
    see _plan), so its channels of x and filters of out are contiguous."""
    C, F, OW = x.shape[1], out.shape[1], out.shape[3]
    cols = np.empty((wm.shape[1], m * (i1 - i0) * OW), np.float32)
    if m != 1 or not threads.is_split(wm, cols):
        _im2col(x, n0, m, i0, i1, KH, KW, sh, sw, pt, pl, OW, cols)
        _scatter_out(np.matmul(wm, cols), b, out, n0, m, i0, i1)
        return
    taps = KH * KW
    channels = threads.even_ranges(C, _MIN_TASKS)
    threads.run_tasks(lambda k: _im2col(x[n0:n0 + 1, channels[k][0]:channels[k][1]], 0, 1, i0,
                                        i1, KH, KW, sh, sw, pt, pl, OW,
                                        cols[channels[k][0] * taps:channels[k][1] * taps]),
                      len(channels))
    filters = threads.even_ranges(F, _SHARED_FILTER_PARTS)

    def part(k):
        f0, f1 = filters[k]
        _scatter_out(np.matmul(wm[f0:f1], cols), b[f0:f1], out[n0:n0 + 1, f0:f1], 0, 1, i0, i1)
    threads.run_tasks(part, len(filters))


@numba.njit(cache=True, nogil=True)
def _flip_swap(w, wt):
    """wt[c, f, k] = w[f, c, K-1-k] for w (F, C, K), in blocks of 16 x 16
    kernels (NumPy's copy of the reversed, transposed view walks w with
    a stride of C*K floats: 3x slower on VGG16's 512 x 512 kernels)."""
    F, C, K = w.shape
    for f0 in range(0, F, 16):
        for c0 in range(0, C, 16):
            for c in range(c0, min(C, c0 + 16)):
                for f in range(f0, min(F, f0 + 16)):
                    src = w[f, c]
                    dst = wt[c, f]
                    for k in range(K):
                        dst[k] = src[K - 1 - k]


def _flipped_swapped(w):
    """wt[c, f, ki, kj] = w[f, c, KH-1-ki, KW-1-kj], C-contiguous."""
    F, C, KH, KW = w.shape
    wt = np.empty((C, F, KH * KW), np.float32)
    _flip_swap(w.reshape(F, C, KH * KW), wt)
    return wt.reshape(C, F, KH, KW)


def gemm_backward_input(dout, w, dx, sh, sw, pt, pl):
    """conv2d_backward_input's contract, computed as matrix products.

    Stride 1, with no more filters than channels (F <= C) or a batch too
    small to share out by samples: the input gradient is the forward
    correlation of dout, padded by (KH-1-pt, KW-1-pl), with the flipped,
    channel-swapped kernel, so it runs as gemm_forward (every block owns its
    rows of dx: parallel at any batch size; its products sum over F*KH*KW).
    Otherwise: dcols = w.T @ dout per block (a product summing over F),
    added back onto dx (col2im), the blocks of one group of samples in
    order. A stride-1 batch too small to share out takes that second way,
    its products and additions split over the threads
    (_backward_input_in_turn), unless the flipped kernel is the smaller copy:
    flipping copies F*C*KH*KW floats and then builds cols of F*KH*KW rows,
    where the additions add C*KH*KW rows, so the second way is taken when
    F*C >= (C - F) * (the batch's output positions) (VGG16's 14x14 layers,
    where the flip of a 512 x 512 kernel cost more than its product)."""
    N, C, H, W = dx.shape
    F, _, KH, KW = w.shape
    OH, OW = dout.shape[2], dout.shape[3]
    if sh == 1 and sw == 1 and N < _MIN_TASKS and F * C >= (C - F) * N * OH * OW:
        _backward_input_in_turn(dout, w, dx, sh, sw, pt, pl)
        return
    if sh == 1 and sw == 1 and (F <= C or N < _MIN_TASKS):
        gemm_forward(dout, _flipped_swapped(w), np.zeros(C, np.float32), dx,
                     1, 1, KH - 1 - pt, KW - 1 - pl)
        return
    wt = np.ascontiguousarray(w.reshape(F, C * KH * KW).T)
    samples, rows = _plan(N, C, KH, KW, OH, OW)
    blocks = _blocks(N, OH, samples, rows)
    per_task = -(-OH // rows)  # the blocks of one group of samples share dx rows

    def task(t):
        n0, m = blocks[t * per_task][:2]
        _zero_samples(dx, n0, m)
        for _, _, i0, i1 in blocks[t * per_task:(t + 1) * per_task]:
            d = np.empty((F, m * (i1 - i0) * OW), np.float32)
            _gather_dout(dout, n0, m, i0, i1, d)
            dcols = np.matmul(wt, d)
            _col2im_add(dcols, dx, n0, m, i0, i1, KH, KW, sh, sw, pt, pl, OW)

    threads.blas_threads(1)
    threads.run_tasks(task, len(blocks) // per_task)


def _backward_input_in_turn(dout, w, dx, sh, sw, pt, pl):
    """gemm_backward_input for a batch too small to share out by samples
    (each block then holds one sample's rows, see _plan): the blocks in
    turn, each cut into ranges of channels, one task each: its rows of
    dcols = w.T @ dout (w.T a transposed view, which BLAS reads as is),
    added back onto its channels of dx while they are in the core's cache.
    The rows of dcols added into a channel of dx are that channel's only,
    so the ranges are independent, and each range adds its blocks in order:
    the result does not depend on the thread count."""
    N, C, H, W = dx.shape
    F, _, KH, KW = w.shape
    OH, OW = dout.shape[2], dout.shape[3]
    taps = KH * KW
    wt = w.reshape(F, C * taps).T
    blocks = _blocks(N, OH, *_plan(N, C, KH, KW, OH, OW))
    channels = threads.even_ranges(C, _MIN_TASKS)
    _zero_samples(dx, 0, N)
    threads.blas_threads(1)
    for n0, m, i0, i1 in blocks:
        d = np.empty((F, m * (i1 - i0) * OW), np.float32)
        _gather_dout(dout, n0, m, i0, i1, d)

        def add(k, n0=n0, i0=i0, i1=i1, d=d):
            c0, c1 = channels[k]
            # one sample (m = 1): dx[n0:n0+1, c0:c1] is C-contiguous
            _col2im_add(np.matmul(wt[c0 * taps:c1 * taps], d), dx[n0:n0 + 1, c0:c1], 0, 1,
                        i0, i1, KH, KW, sh, sw, pt, pl, OW)
        threads.run_tasks(add, len(channels))


def gemm_backward_weights(x, dout, dw, db, sh, sw, pt, pl):
    """conv2d_backward_weights's contract, computed as matrix products."""
    if _shifted_applies(x.shape, dw.shape, dout.shape, sh, sw, pt, pl):
        _shifted_backward_weights(x, dout, dw, db, pt, pl)
        return
    phased = _phased_plan(x.shape, dw.shape, dout.shape, sh, sw, pt, pl)
    if phased is not None:
        _phased_backward_weights(x, dout, dw, db, phased)
        return
    N, C, H, W = x.shape
    F, _, KH, KW = dw.shape
    OH, OW = dout.shape[2], dout.shape[3]
    K = C * KH * KW
    blocks = _blocks(N, OH, *_plan(N, C, KH, KW, OH, OW))
    # At most _MAX_PARTS partial sums (each the size of dw), each over a run
    # of consecutive blocks and at least _PART_COLUMNS output positions (a
    # partial sum costs a pass over dw's size of memory): the order of every
    # sum depends on the shapes only.
    columns = N * OH * OW
    parts = max(1, min(len(blocks), _MAX_PARTS, columns // _PART_COLUMNS))
    bounds = [len(blocks) * k // parts for k in range(parts + 1)]
    part_w = np.empty((parts, F * K), np.float32)
    part_b = np.zeros((parts, F), np.float32)

    def task(t):
        pw = part_w[t].reshape(F, K)
        for k, (n0, m, i0, i1) in enumerate(blocks[bounds[t]:bounds[t + 1]]):
            Q = m * (i1 - i0) * OW
            cols = np.empty((K, Q), np.float32)
            _im2col(x, n0, m, i0, i1, KH, KW, sh, sw, pt, pl, OW, cols)
            d = np.empty((F, Q), np.float32)
            _gather_dout(dout, n0, m, i0, i1, d)
            if k == 0:
                np.matmul(d, cols.T, out=pw)
            else:
                pw += np.matmul(d, cols.T)
            _row_sums_add(d, part_b[t])

    threads.blas_threads(1)
    threads.run_tasks(task, parts)
    _sum_parts(part_w, dw.reshape(F * K))
    _sum_parts(part_b, db)


# ---------------------------------------------------------------------------
# Stride-1 convolution as shifted products (no im2col)
#
# The padded planes of a group of samples are stacked as conv2d.py's direct
# stride-1 loops store them (`_stack_planes`: pitch floats per row, rows per
# sample, P = rows*pitch per sample, padding shared between neighbouring
# rows and samples): output (s, i, j) sits at wide position
# q = s*P + i*pitch + j, and tap (ki, kj) of every output of the group is the
# stack read from offset ki*pitch + kj. So the forward is KH*KW products
#   acc (F, Q) += w[:, :, ki, kj] (F, C) @ xs[:, ki*pitch + kj :][:, :Q],
# each reading the stack in place (blas.sgemm, its leading dimension the
# stack's row length), and the weight gradient KH*KW products
#   dw[:, :, ki, kj].T += xs[:, ki*pitch + kj :][:, :Q] @ dout_wide.T (Q, F),
# dout_wide holding 0 at the positions that are no output. The copy is the
# padded input once instead of im2col's KH*KW times.
# ---------------------------------------------------------------------------

def _shifted_plan(N, C, F, H, W, KH, KW, OH, OW, pt, pl):
    """(pitch, rows, size, samples per block) of the shifted products for a
    stride-1 layer, or None when they do not apply: a window of fewer than
    _SHIFTED_MIN_TAPS taps, fewer than _SHIFTED_MIN_DEPTH channels, fewer
    samples than _MIN_BLOCK_TASKS (a block is whole samples: the im2col path
    shares out one image's rows between threads), a layer whose forward
    runs as Winograd transforms (its weight gradient stays with im2col), one
    sample's accumulator (F x its wide positions) larger than _BLOCK_FLOATS,
    or no BLAS to call directly."""
    if (KH * KW < _SHIFTED_MIN_TAPS or C < _SHIFTED_MIN_DEPTH or N < _MIN_BLOCK_TASKS
            or conv2d_winograd.use_winograd(C, F, KH, KW, False, OH, OW, N)):
        return None
    pitch, rows, size = _direct._wide_geometry(H, W, OH, OW, KH, KW, pt, pl)
    if F * rows * pitch > _BLOCK_FLOATS or not blas.available():
        return None
    # Samples per block: enough for _MIN_COLUMNS wide positions, but no fewer
    # than _MIN_TASKS blocks when the batch has the samples.
    samples = max(1, min(-(-_MIN_COLUMNS // (rows * pitch)), N // _MIN_TASKS))
    return pitch, rows, size, samples


def _shifted_applies(x_shape, w_shape, out_shape, sh, sw, pt, pl):
    """Whether the stride-1 layer runs as shifted products."""
    N, C, H, W = x_shape
    F, _, KH, KW = w_shape
    return sh == 1 and sw == 1 and _shifted_plan(
        N, C, F, H, W, KH, KW, out_shape[2], out_shape[3], pt, pl) is not None


@numba.njit(cache=True, nogil=True)
def _wide_to_samples(acc, b, out, n0, m, P, pitch):
    """out[n0+s, f, i, j] = acc[f, s*P + i*pitch + j] + b[f]."""
    F = out.shape[1]
    OH = out.shape[2]
    OW = out.shape[3]
    for s in range(m):
        for f in range(F):
            bf = b[f]
            plane = out[n0 + s, f]
            for i in range(OH):
                src = acc[f, s * P + i * pitch:s * P + i * pitch + OW]
                dst = plane[i]
                for j in range(OW):
                    dst[j] = src[j] + bf


@numba.njit(cache=True, nogil=True)
def _samples_to_wide_t(dout, n0, m, P, pitch, dt):
    """dt[s*P + i*pitch + j, f] = dout[n0+s, f, i, j], and 0 in every other
    row of dt (those positions are no output)."""
    F = dout.shape[1]
    OH = dout.shape[2]
    OW = dout.shape[3]
    for q in range(dt.shape[0]):
        row = dt[q]
        for f in range(F):
            row[f] = 0.0
    for s in range(m):
        for i in range(OH):
            for j in range(OW):
                row = dt[s * P + i * pitch + j]
                for f in range(F):
                    row[f] = dout[n0 + s, f, i, j]


@numba.njit(cache=True, nogil=True)
def _column_sums_add(dt, db):
    """db[f] += sum of dt[:, f] (in order of rows)."""
    for q in range(dt.shape[0]):
        row = dt[q]
        for f in range(dt.shape[1]):
            db[f] += row[f]


def _shifted_blocks(N, samples):
    return [(n0, min(samples, N - n0)) for n0 in range(0, N, samples)]


def _tap_forward(w, b, out, blocks, P, pitch, tap_inputs):
    """The forward pass as one product per tap: for each block (n0, m) of
    samples, one task, acc (F, Q) = the sum over taps of w[:, :, ki, kj]
    (F, C) @ the tap's inputs (C, Q), then out = acc + b from wide position
    s*P + i*pitch + j. `tap_inputs(n0, m)` lays out the block's inputs and
    gives [(ki, kj, array, offset, row length)]: the (C, Q) matrix of each
    tap starts `offset` floats into `array`. Every output element comes from
    the same products in the same order, whatever the thread count."""
    F = w.shape[0]
    C = w.shape[1]
    OH, OW = out.shape[2], out.shape[3]
    taps = np.ascontiguousarray(w.transpose(2, 3, 0, 1))  # (KH, KW, F, C)

    def task(t):
        n0, m = blocks[t]
        Q = (m - 1) * P + (OH - 1) * pitch + OW  # through the last output
        acc = np.empty((F, Q), np.float32)
        for k, (ki, kj, a, offset, lda) in enumerate(tap_inputs(n0, m)):
            blas.sgemm(F, Q, C, taps[ki, kj], 0, C, a, offset, lda, acc, Q, accumulate=k > 0)
        _wide_to_samples(acc, b, out, n0, m, P, pitch)

    threads.blas_threads(1)
    threads.run_tasks(task, len(blocks))


def _tap_weight_gradient(dout, dw, db, blocks, P, pitch, tap_inputs):
    """The weight gradient as one product per tap and block, with the
    blocks and `tap_inputs` of _tap_forward: dw[:, :, ki, kj].T (C, F) +=
    the tap's inputs (C, Q) @ dt (Q, F), dt the block's dout at its wide
    positions (0 at the others); partial sums over runs of consecutive
    blocks, as the im2col path keeps them."""
    N, F, OH, OW = dout.shape
    C, KH, KW = dw.shape[1:]
    parts = max(1, min(len(blocks), _MAX_PARTS, N * OH * OW // _PART_COLUMNS))
    bounds = [len(blocks) * k // parts for k in range(parts + 1)]
    part_w = np.empty((parts, KH * KW * C * F), np.float32)  # (KH, KW, C, F) each
    part_b = np.zeros((parts, F), np.float32)

    def task(t):
        pw = part_w[t].reshape(KH, KW, C, F)
        for k, (n0, m) in enumerate(blocks[bounds[t]:bounds[t + 1]]):
            Q = (m - 1) * P + (OH - 1) * pitch + OW  # through the last output
            dt = np.empty((Q, F), np.float32)
            _samples_to_wide_t(dout, n0, m, P, pitch, dt)
            # 15% faster than the transposed product, with the strided
            # inputs as a.
            for ki, kj, a, offset, lda in tap_inputs(n0, m):
                blas.sgemm(C, F, Q, a, offset, lda, dt, 0, F, pw[ki, kj], F, accumulate=k > 0)
            _column_sums_add(dt, part_b[t])

    threads.blas_threads(1)
    threads.run_tasks(task, parts)
    total = np.empty(KH * KW * C * F, np.float32)
    _sum_parts(part_w, total)
    dw[...] = total.reshape(KH, KW, C, F).transpose(3, 2, 0, 1)
    _sum_parts(part_b, db)


def _shifted_layout(x, w_shape, out_shape, pt, pl):
    """(blocks, P, pitch, tap_inputs) of _tap_forward for a stride-1 layer
    `_shifted_applies` accepts: the padded planes of a block's samples
    stacked (`_stack_planes`), tap (ki, kj) reading them from offset
    ki*pitch + kj."""
    N, C, H, W = x.shape
    F, _, KH, KW = w_shape
    pitch, rows, size, samples = _shifted_plan(N, C, F, H, W, KH, KW, out_shape[2],
                                               out_shape[3], pt, pl)
    xf = x.reshape(N, C, H * W)

    def tap_inputs(n0, m):
        xs = _direct._stack_planes(xf, n0, m, H, W, pitch, rows, size, pt, pl)
        return [(ki, kj, xs, ki * pitch + kj, xs.shape[1])
                for ki in range(KH) for kj in range(KW)]
    return _shifted_blocks(N, samples), rows * pitch, pitch, tap_inputs


def _shifted_forward(x, w, b, out, pt, pl):
    """gemm_forward for a layer `_shifted_applies` accepts."""
    _tap_forward(w, b, out, *_shifted_layout(x, w.shape, out.shape, pt, pl))


def _shifted_backward_weights(x, dout, dw, db, pt, pl):
    """gemm_backward_weights for a layer `_shifted_applies` accepts."""
    _tap_weight_gradient(dout, dw, db, *_shifted_layout(x, dw.shape, dout.shape, pt, pl))


# ---------------------------------------------------------------------------
# Strided convolution as shifted products over phase planes (no im2col)
#
# At stride s, output (i, j)'s tap (ki, kj) reads input row s*i + ki - pt.
# Write ki - pt = s*a + p with 0 <= p < s: the row is s*(i + a) + p, row
# i + a of the "phase plane" p that holds the input rows p, p + s, p + 2s,
# ... (and likewise for columns). So on the phase planes each tap is a
# stride-1 tap: phase (p_row, p_col), shifted by (a_row, a_col). A 3x3
# kernel at stride 2 falls on the four phases as 2x2, 2x1, 1x2 and 1x1
# taps. The phase planes of a block of samples are stored as the stride-1
# stacks are (pitch floats per row, `rows` rows per sample, P = rows*pitch
# per sample), with `top` rows and `left` columns of zeros before the input
# so that every shift is >= 0, and every tap is one product reading its
# phase's stack in place at offset (a_row + top)*pitch + a_col + left:
#   forward          acc (F, Q) += w[:, :, ki, kj] (F, C) @ stack (C, Q)
#   weight gradient  dw[:, :, ki, kj].T (C, F) += stack (C, Q) @ dout_wide.T (Q, F)
# (dout_wide holds 0 at the wide positions that are no output). The phase
# planes copy the input once, where im2col gathers it KH*KW / (sh*sw) times:
# mnist_acgan's 64 -> 128 channel 3x3 stride-2 layer on 14x14 planes takes
# about half the CPU time in either direction. The input gradient stays with
# im2col (one product of depth F, then col2im): as phase planes (per tap
# dstack (C, Q) += w[:, :, ki, kj].T @ dout_wide, then each phase's stack
# read back onto its input rows) it measured 0.96-1.13x of that time, the
# wide rows computing (OH+1)*(OW+1) positions per OH*OW outputs.
# ---------------------------------------------------------------------------

def _phase_axis(K, s, pad, O):
    """Along one axis: ([phase of each tap], [shift of each tap], zeros
    before the input, length of a phase plane) for a K-tap window at stride
    s, padding `pad` before, O outputs."""
    starts = [(k - pad) // s for k in range(K)]
    before = max(0, -min(starts))
    phases = [k - pad - s * a for k, a in zip(range(K), starts)]
    shifts = [a + before for a in starts]
    return phases, shifts, before, O + max(shifts)


def _phase_plan(N, C, F, H, W, KH, KW, OH, OW, sh, sw, pt, pl):
    """The phase planes of a strided layer: a dict of `rows`, `pitch`, `top`,
    `left`, `phases` ((row phase, column phase) of each stack that a tap
    reads; and as arrays, `phase_rows` and `phase_cols`), `taps` ((ki, kj,
    stack, offset) of each tap), `strides` and `samples` per block; or None
    when they do not apply: stride 1, fewer than _PHASED_MIN_DEPTH input
    channels, fewer samples than _MIN_BLOCK_TASKS, one sample's
    accumulators larger than _BLOCK_FLOATS, or no BLAS to call directly."""
    if (sh == 1 and sw == 1) or C < _PHASED_MIN_DEPTH or N < _MIN_BLOCK_TASKS:
        return None
    row_phases, row_shifts, top, rows = _phase_axis(KH, sh, pt, OH)
    col_phases, col_shifts, left, pitch = _phase_axis(KW, sw, pl, OW)
    phases = sorted({(pr, pc) for pr in row_phases for pc in col_phases})
    P = rows * pitch
    if max(F, C * len(phases)) * P > _BLOCK_FLOATS or not blas.available():
        return None
    taps = [(ki, kj, phases.index((row_phases[ki], col_phases[kj])),
             row_shifts[ki] * pitch + col_shifts[kj])
            for ki in range(KH) for kj in range(KW)]
    samples = max(1, min(-(-_MIN_COLUMNS // P), N // _MIN_TASKS))
    return dict(rows=rows, pitch=pitch, top=top, left=left, phases=phases, taps=taps,
                strides=(sh, sw), samples=samples,
                phase_rows=np.array([p for p, _ in phases], np.int64),
                phase_cols=np.array([p for _, p in phases], np.int64))


def _phased_plan(x_shape, w_shape, out_shape, sh, sw, pt, pl):
    N, C, H, W = x_shape
    F, _, KH, KW = w_shape
    return _phase_plan(N, C, F, H, W, KH, KW, out_shape[2], out_shape[3], sh, sw, pt, pl)


@numba.njit(cache=True, nogil=True)
def _gather_phases(x, n0, m, sh, sw, top, left, phase_rows, phase_cols, rows, pitch, xs):
    """xs[k, c, s*P + u*pitch + v] = x[n0+s, c, sh*(u - top) + phase_rows[k],
    sw*(v - left) + phase_cols[k]] (0 outside x), P = rows*pitch. (The rows
    are short: zeroing all of xs first and copying the part inside x, read
    from a slice that starts at its first element, took 40% less time than
    writing each row's zeros and values in turn.)"""
    C = x.shape[1]
    P = rows * pitch
    flat = xs.reshape(-1)
    for q in range(flat.shape[0]):
        flat[q] = 0.0
    for k in range(phase_rows.shape[0]):
        u_lo, u_hi, v_lo, v_hi, r0, q0 = _phase_window(
            x.shape[2], x.shape[3], sh, sw, top, left, phase_rows[k], phase_cols[k], rows, pitch)
        for c in range(C):
            for s in range(m):
                plane = x[n0 + s, c]
                stack = xs[k, c, s * P:(s + 1) * P]
                for u in range(u_lo, u_hi):
                    src = plane[r0 + sh * (u - u_lo), q0:]
                    dst = stack[u * pitch + v_lo:u * pitch + v_hi]
                    for v in range(v_hi - v_lo):
                        dst[v] = src[sw * v]


@numba.njit(cache=True)
def _phase_window(H, W, sh, sw, top, left, pr, pc, rows, pitch):
    """The rows [u_lo, u_hi) and columns [v_lo, v_hi) of phase (pr, pc)'s
    planes that lie inside an (H, W) input, and the input row and column of
    (u_lo, v_lo)."""
    u_lo, u_hi = _valid_range(pr - sh * top, sh, H, rows)
    v_lo, v_hi = _valid_range(pc - sw * left, sw, W, pitch)
    return u_lo, u_hi, v_lo, v_hi, sh * (u_lo - top) + pr, sw * (v_lo - left) + pc


def _phase_stacks(plan, x, n0, m):
    """The phase planes of samples n0 .. n0+m-1 of x: (stacks, C, m*P)."""
    rows, pitch = plan['rows'], plan['pitch']
    sh, sw = plan['strides']
    xs = np.empty((len(plan['phases']), x.shape[1], m * rows * pitch), np.float32)
    _gather_phases(x, n0, m, sh, sw, plan['top'], plan['left'], plan['phase_rows'],
                   plan['phase_cols'], rows, pitch, xs)
    return xs


def _phased_layout(x, plan):
    """(blocks, P, pitch, tap_inputs) of _tap_forward for a strided layer
    `_phased_plan` accepts: the phase planes of a block's samples
    (`_phase_stacks`), each tap reading its phase's stack from its offset."""
    pitch = plan['pitch']
    P = plan['rows'] * pitch

    def tap_inputs(n0, m):
        xs = _phase_stacks(plan, x, n0, m)
        return [(ki, kj, xs[stack], offset, m * P) for ki, kj, stack, offset in plan['taps']]
    return _shifted_blocks(x.shape[0], plan['samples']), P, pitch, tap_inputs


def _phased_forward(x, w, b, out, plan):
    """gemm_forward for a strided layer `_phased_plan` accepts."""
    _tap_forward(w, b, out, *_phased_layout(x, plan))


def _phased_backward_weights(x, dout, dw, db, plan):
    """gemm_backward_weights for a strided layer `_phased_plan` accepts."""
    _tap_weight_gradient(dout, dw, db, *_phased_layout(x, plan))
