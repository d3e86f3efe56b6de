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

Blocks run as tasks on the threads of `threads.run_tasks`, each with
single-threaded BLAS; a call with fewer than _MIN_BLOCK_TASKS blocks runs
them in turn, each product split by `threads.matmul`. The cut into blocks
depends on the shapes only. For the weight gradient, at most 16 tasks each accumulate a
run of consecutive blocks, in order, into their own partial sum, and the
partial sums are added in task order: results are bit-identical whatever the
number of threads, and the partial sums take at most 16 kernels' worth of
memory. (OpenBLAS splits a product between threads by rows and columns of
the result, never along the summed dimension.)
"""
import numba
import numpy as np

from . import threads

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
                            for j in range(j_lo, j_hi):
                                dst[j * sw + off] += d[j]


@numba.njit(cache=True, nogil=True)
def _scatter_out(acc, b, out, n0, m, i0, i1):
    """out[n0+s, f, i0:i1, :] = acc[f, block of sample s] + b[f]."""
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
    after the other, each product split over the kernel threads by
    `threads.matmul`.
    Either way every output element comes from one product of the same
    operands, so results do not depend on the thread count."""
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    OH, OW = out.shape[2], out.shape[3]
    wm = w.reshape(F, C * KH * KW)
    blocks = _blocks(N, OH, *_plan(N, C, KH, KW, OH, OW))

    def block(t, product):
        n0, m, i0, i1 = blocks[t]
        cols = np.empty((C * KH * KW, m * (i1 - i0) * OW), np.float32)
        _im2col(x, n0, m, i0, i1, KH, KW, sh, sw, pt, pl, OW, cols)
        _scatter_out(product(wm, cols), b, out, n0, m, i0, i1)

    threads.blas_threads(1)
    if len(blocks) >= _MIN_BLOCK_TASKS:
        threads.run_tasks(lambda t: block(t, np.matmul), len(blocks))
    else:
        for t in range(len(blocks)):
            block(t, threads.matmul)


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
    order."""
    N, C, H, W = dx.shape
    F, _, KH, KW = w.shape
    if sh == 1 and sw == 1 and (F <= C or N < _MIN_TASKS):
        gemm_forward(dout, _flipped_swapped(w), np.zeros(C, np.float32), dx,
                     1, 1, KH - 1 - pt, KW - 1 - pl)
        return
    OH, OW = dout.shape[2], dout.shape[3]
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


def gemm_backward_weights(x, dout, dw, db, sh, sw, pt, pl):
    """conv2d_backward_weights's contract, computed as matrix products."""
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
