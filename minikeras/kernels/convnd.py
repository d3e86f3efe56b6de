"""Convolutions of rank 1 to 3 with strides, dilation and groups, as im2col + BLAS.

Plain arrays in, preallocated arrays out. Every array is C-contiguous float32
in channels-first layout with three spatial axes (a 2D image is a volume of
depth 1, a sequence one of depth and height 1):

- volumes `x`: (N, C, D, H, W)
- kernels `w`: (F, C // groups, KD, KH, KW), the Keras 1 'th' layout
- outputs `out`: (N, F, OD, OH, OW), sized by the caller

The convolution is a cross-correlation (no kernel flip, as TensorFlow does).
Along each axis, output position i reads input i*stride + k*dilation - pad
for tap k; positions outside the input count as 0. Output channel f reads
the input channels of its group, g = f // (F // groups):

    out[n, f, i] = b[f] + sum over c in group g, taps k of
                   x[n, c, i*s + k*d - pad] * w[f, c - g*(C // groups), k]

`groups == C` with F = C * M is a depthwise convolution whose output channel
c*M + m reads input channel c (TensorFlow's order).

How: `vol2col` copies, for a chunk of n samples, every tap of every window
into a matrix of shape (C * KD*KH*KW, n * OD*OH*OW) (rows in (c, kd, kh, kw)
order, the kernel's own; the samples side by side), so that one BLAS product
per group does the sums of the whole chunk. The gradient for the input
multiplies the transposed kernel with the output gradient and `col2vol` adds
every column back where it was read from; the weight gradient multiplies the
output gradient with the transposed columns.

`vol2col`/`col2vol` run on the kernel threads (`threads.run_ranges`), each
sample in a fixed order, and the products are split over the same threads by
`threads.matmul`, each part on single-threaded BLAS. The chunks of samples
depend only on the shapes, and their weight gradients are added in chunk
order, so results are bit-identical run to run, whatever the thread count.
"""
import numba
import numpy as np

from . import threads

__all__ = ['dilated_size', 'vol2col', 'col2vol', 'convnd_forward', 'convnd_backward_input',
           'convnd_backward_weights']

# The column matrices of one chunk of samples stay below this many bytes.
_CHUNK_BYTES = 32 * 1024 * 1024


def dilated_size(kernel_size, dilation):
    """The span of a kernel of `kernel_size` taps `dilation` apart."""
    return (kernel_size - 1) * dilation + 1


@numba.njit(cache=True)
def _inside(offset, stride, size, count):
    """[lo, hi): the outputs k < count with 0 <= k*stride + offset < size."""
    lo = 0
    if offset < 0:
        lo = (-offset + stride - 1) // stride
    hi = 0
    if size - 1 - offset >= 0:
        hi = (size - 1 - offset) // stride + 1
    hi = min(hi, count)
    return lo, max(hi, lo)


@numba.njit(cache=True)
def _vol2col_sample(x, cols, kernel, strides, dilations, pads, out_size):
    C, D, H, W = x.shape
    KD, KH, KW = kernel
    OD, OH, OW = out_size
    row = 0
    for c in range(C):
        for a in range(KD):
            for b in range(KH):
                for e in range(KW):
                    dest = cols[row]
                    offset = e * dilations[2] - pads[2]
                    k_lo, k_hi = _inside(offset, strides[2], W, OW)
                    p = 0
                    for i in range(OD):
                        z = i * strides[0] + a * dilations[0] - pads[0]
                        for j in range(OH):
                            y = j * strides[1] + b * dilations[1] - pads[1]
                            if 0 <= z < D and 0 <= y < H:
                                line = x[c, z, y]
                                for k in range(k_lo):
                                    dest[p + k] = 0.0
                                for k in range(k_lo, k_hi):
                                    dest[p + k] = line[k * strides[2] + offset]
                                for k in range(k_hi, OW):
                                    dest[p + k] = 0.0
                            else:
                                for k in range(OW):
                                    dest[p + k] = 0.0
                            p += OW
                    row += 1


@numba.njit(cache=True)
def _col2vol_sample(cols, dx, kernel, strides, dilations, pads, out_size):
    C, D, H, W = dx.shape
    KD, KH, KW = kernel
    OD, OH, OW = out_size
    dx[:] = 0.0
    row = 0
    for c in range(C):
        for a in range(KD):
            for b in range(KH):
                for e in range(KW):
                    source = cols[row]
                    offset = e * dilations[2] - pads[2]
                    k_lo, k_hi = _inside(offset, strides[2], W, OW)
                    p = 0
                    for i in range(OD):
                        z = i * strides[0] + a * dilations[0] - pads[0]
                        for j in range(OH):
                            y = j * strides[1] + b * dilations[1] - pads[1]
                            if 0 <= z < D and 0 <= y < H:
                                line = dx[c, z, y]
                                for k in range(k_lo, k_hi):
                                    line[k * strides[2] + offset] += source[p + k]
                            p += OW
                    row += 1


@numba.njit(cache=True, nogil=True)
def _vol2col_range(x, cols, kernel, strides, dilations, pads, out_size, lo, hi):
    for n in range(lo, hi):
        _vol2col_sample(x[n], cols[:, n, :], kernel, strides, dilations, pads, out_size)


@numba.njit(cache=True, nogil=True)
def _col2vol_range(cols, dx, kernel, strides, dilations, pads, out_size, lo, hi):
    for n in range(lo, hi):
        _col2vol_sample(cols[:, n, :], dx[n], kernel, strides, dilations, pads, out_size)


def vol2col(x, cols, kernel, strides, dilations, pads, out_size):
    """Copies the windows of `x` (N, C, D, H, W) into `cols` (C*KD*KH*KW, N,
    OD*OH*OW). `kernel`, `strides`, `dilations`, `pads` (before each axis) and
    `out_size` are (depth, height, width) int64 arrays."""
    threads.run_ranges(_vol2col_range, x.shape[0], cols.size,
                       x, cols, kernel, strides, dilations, pads, out_size)


def col2vol(cols, dx, kernel, strides, dilations, pads, out_size):
    """The adjoint of `vol2col`: `dx` (N, C, D, H, W) is set to the sum of the
    columns (C*KD*KH*KW, N, OD*OH*OW) read from each of its positions."""
    threads.run_ranges(_col2vol_range, dx.shape[0], cols.size,
                       cols, dx, kernel, strides, dilations, pads, out_size)


def _grouped_matmul(a, b):
    """a (G, M, K) @ b (G, K, N), each group's product split over the kernel
    threads by `threads.matmul` (whose results do not depend on the thread
    count)."""
    out = np.empty((a.shape[0], a.shape[1], b.shape[2]), np.float32)
    for g in range(a.shape[0]):
        threads.matmul(a[g], b[g], out=out[g])
    return out


def _geometry(w_shape, out_shape, strides, dilations, pads):
    as_array = lambda values: np.asarray(values, dtype=np.int64)  # noqa: E731
    return (as_array(w_shape[2:]), as_array(strides), as_array(dilations), as_array(pads),
            as_array(out_shape[2:]))


def _check(x_shape, w_shape, out_shape, groups, strides, dilations, pads, what):
    if len(x_shape) != 5 or len(w_shape) != 5 or len(out_shape) != 5:
        raise ValueError('%s: x, w and out must be 5D, got %s, %s, %s'
                         % (what, x_shape, w_shape, out_shape))
    if x_shape[1] % groups or w_shape[0] % groups or x_shape[1] // groups != w_shape[1]:
        raise ValueError('%s: %d input channels in %d groups do not match a kernel of shape %s'
                         % (what, x_shape[1], groups, w_shape))
    if out_shape[:2] != (x_shape[0], w_shape[0]):
        raise ValueError('%s: output shape %s does not match %d samples and %d filters'
                         % (what, out_shape, x_shape[0], w_shape[0]))
    for axis in range(3):
        if pads[axis] < 0 or out_shape[2 + axis] < 1 or strides[axis] < 1 or \
                dilations[axis] < 1:
            raise ValueError('%s: axis %d: output %d, stride %d, dilation %d, pad %d: sizes, '
                             'strides and dilations must be >= 1 and pads >= 0'
                             % (what, axis, out_shape[2 + axis], strides[axis], dilations[axis],
                                pads[axis]))


def _sample_chunks(samples, rows, positions):
    per_chunk = max(1, _CHUNK_BYTES // max(1, rows * positions * 4))
    return [slice(start, min(start + per_chunk, samples))
            for start in range(0, samples, per_chunk)]


def convnd_forward(x, w, b, out, strides, dilations, pads, groups=1):
    """out = the convolution of `x` with `w`, plus `b` (F,) (see the module
    docstring). `strides`, `dilations`, `pads`: 3 ints each."""
    _check(x.shape, w.shape, out.shape, groups, strides, dilations, pads, 'convnd_forward')
    geometry = _geometry(w.shape, out.shape, strides, dilations, pads)
    N, C = x.shape[:2]
    F = w.shape[0]
    rows, positions = C * int(np.prod(w.shape[2:])), int(np.prod(out.shape[2:]))
    kernel = w.reshape(groups, F // groups, rows // groups)
    for chunk in _sample_chunks(N, rows, positions):
        n = chunk.stop - chunk.start
        cols = np.empty((rows, n, positions), dtype=np.float32)
        vol2col(x[chunk], cols, *geometry)
        y = _grouped_matmul(kernel, cols.reshape(groups, rows // groups, n * positions))
        y = y.reshape(F, n, positions).transpose(1, 0, 2)
        np.add(y.reshape((n, F) + out.shape[2:]), b.reshape(F, 1, 1, 1), out=out[chunk])


def _grouped_output(dout, groups):
    """A chunk's output gradient (n, F, ...) as (groups, F // groups, n * positions)."""
    n, F = dout.shape[:2]
    grads = np.ascontiguousarray(dout.reshape(n, F, -1).transpose(1, 0, 2))
    return grads.reshape(groups, F // groups, -1)


def convnd_backward_input(dout, w, dx, strides, dilations, pads, groups=1):
    """dx = the gradient of the convolution for its input, given `dout`."""
    _check(dx.shape, w.shape, dout.shape, groups, strides, dilations, pads,
           'convnd_backward_input')
    geometry = _geometry(w.shape, dout.shape, strides, dilations, pads)
    N, C = dx.shape[:2]
    F = w.shape[0]
    rows, positions = C * int(np.prod(w.shape[2:])), int(np.prod(dout.shape[2:]))
    kernel_t = w.reshape(groups, F // groups, rows // groups).transpose(0, 2, 1)
    for chunk in _sample_chunks(N, rows, positions):
        n = chunk.stop - chunk.start
        cols = _grouped_matmul(kernel_t, _grouped_output(dout[chunk], groups))
        col2vol(np.ascontiguousarray(cols.reshape(rows, n, positions)), dx[chunk], *geometry)


def convnd_backward_weights(x, dout, dw, db, strides, dilations, pads, groups=1):
    """dw, db = the gradients of the convolution for its kernel and bias."""
    _check(x.shape, dw.shape, dout.shape, groups, strides, dilations, pads,
           'convnd_backward_weights')
    geometry = _geometry(dw.shape, dout.shape, strides, dilations, pads)
    N, C = x.shape[:2]
    F = dw.shape[0]
    rows, positions = C * int(np.prod(dw.shape[2:])), int(np.prod(dout.shape[2:]))
    total = np.zeros((groups, F // groups, rows // groups), dtype=np.float32)
    for chunk in _sample_chunks(N, rows, positions):
        n = chunk.stop - chunk.start
        cols = np.empty((rows, n, positions), dtype=np.float32)
        vol2col(x[chunk], cols, *geometry)
        cols = cols.reshape(groups, rows // groups, n * positions).transpose(0, 2, 1)
        total += _grouped_matmul(_grouped_output(dout[chunk], groups), cols)
    dw[...] = total.reshape(dw.shape)
    db[...] = dout.sum(axis=(0, 2, 3, 4), dtype=np.float32)
