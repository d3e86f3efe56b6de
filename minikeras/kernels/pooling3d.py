"""3D max- and average-pooling kernels: forward and backward.

Plain arrays in, preallocated arrays out, channels-first (N, C, D, H, W)
float32, C-contiguous. Window (i, j, k) covers depths i*sd - pad_d ... +
pool_d - 1, rows j*sh - pad_h ... + pool_h - 1 and columns k*sw - pad_w ...
+ pool_w - 1. Positions outside the input are padding: they never win a
maximum (they count as -inf) and are left out of an average (the divisor is
the number of window positions inside the input), as TensorFlow's 'SAME'
pooling does. A window with nothing inside the input gives 0.
`pooling.pool_padding` gives the Keras 1 padding and output size per axis.

The maximum is the first, in (depth, row, column) order, that no later element
exceeds; ties go to the first. An average is summed in float32 in that order,
then divided by its count. Ranges of samples run on the kernel threads
(`threads.run_ranges`); each sample is computed the same way in any range,
so results do not depend on the thread count.

`pool`, `strides` and `pads` are (depth, height, width) int64 arrays.
"""
import numba
import numpy as np

from . import threads

__all__ = ['maxpool3d_forward', 'maxpool3d_backward', 'avgpool3d_forward',
           'avgpool3d_backward']


@numba.njit(cache=True)
def _window(i, size, pool, stride, pad):
    start = i * stride - pad
    return max(start, 0), min(start + pool, size)


@numba.njit(cache=True)
def _maxpool_volume(x, out, argmax, pool, strides, pads):
    D, H, W = x.shape
    OD, OH, OW = out.shape
    for i in range(OD):
        d0, d1 = _window(i, D, pool[0], strides[0], pads[0])
        for j in range(OH):
            h0, h1 = _window(j, H, pool[1], strides[1], pads[1])
            for k in range(OW):
                w0, w1 = _window(k, W, pool[2], strides[2], pads[2])
                best = np.float32(0.0)
                where = -1
                for d in range(d0, d1):
                    for h in range(h0, h1):
                        for w in range(w0, w1):
                            v = x[d, h, w]
                            if where < 0 or v > best:
                                best = v
                                where = (d * H + h) * W + w
                out[i, j, k] = best
                argmax[i, j, k] = where


@numba.njit(cache=True, nogil=True)
def _maxpool3d_forward_range(x, out, argmax, pool, strides, pads, lo, hi):
    for n in range(lo, hi):
        for c in range(x.shape[1]):
            _maxpool_volume(x[n, c], out[n, c], argmax[n, c], pool, strides, pads)


def maxpool3d_forward(x, out, argmax, pool, strides, pads):
    """out = the window maxima of `x`; `argmax` (int64, out's shape) = where
    each was, as a flat index into its (D, H, W) volume (-1: an empty window)."""
    threads.run_ranges(_maxpool3d_forward_range, x.shape[0], x.size + out.size * int(np.prod(pool)),
                       x, out, argmax, pool, strides, pads)


@numba.njit(cache=True, nogil=True)
def _maxpool3d_backward_range(dout, argmax, dx, lo, hi):
    for n in range(lo, hi):
        for c in range(dx.shape[1]):
            flat_dx = dx[n, c].reshape(-1)
            flat_dx[:] = 0.0
            flat_dout = dout[n, c].reshape(-1)
            flat_arg = argmax[n, c].reshape(-1)
            for p in range(flat_dout.shape[0]):
                if flat_arg[p] >= 0:
                    flat_dx[flat_arg[p]] += flat_dout[p]


def maxpool3d_backward(dout, argmax, dx):
    """dx = the output gradient routed back to each window's maximum."""
    threads.run_ranges(_maxpool3d_backward_range, dx.shape[0], dx.size + dout.size,
                       dout, argmax, dx)


@numba.njit(cache=True)
def _avgpool_volume(x, out, dout, dx, pool, strides, pads, forward):
    D, H, W = x.shape
    OD, OH, OW = out.shape
    for i in range(OD):
        d0, d1 = _window(i, D, pool[0], strides[0], pads[0])
        for j in range(OH):
            h0, h1 = _window(j, H, pool[1], strides[1], pads[1])
            for k in range(OW):
                w0, w1 = _window(k, W, pool[2], strides[2], pads[2])
                count = max(d1 - d0, 0) * max(h1 - h0, 0) * max(w1 - w0, 0)
                if forward:
                    total = np.float32(0.0)
                    for d in range(d0, d1):
                        for h in range(h0, h1):
                            for w in range(w0, w1):
                                total += x[d, h, w]
                    out[i, j, k] = total / np.float32(count) if count > 0 else 0.0
                elif count > 0:
                    share = dout[i, j, k] / np.float32(count)
                    for d in range(d0, d1):
                        for h in range(h0, h1):
                            for w in range(w0, w1):
                                dx[d, h, w] += share


@numba.njit(cache=True, nogil=True)
def _avgpool3d_range(x, out, dout, dx, pool, strides, pads, forward, lo, hi):
    for n in range(lo, hi):
        for c in range(x.shape[1]):
            if forward:
                _avgpool_volume(x[n, c], out[n, c], out[n, c], x[n, c], pool, strides, pads,
                                True)
            else:
                dx[n, c] = 0.0
                _avgpool_volume(dx[n, c], dout[n, c], dout[n, c], dx[n, c], pool, strides,
                                pads, False)


def avgpool3d_forward(x, out, pool, strides, pads):
    """out = the window means of `x` over the positions inside the input."""
    threads.run_ranges(_avgpool3d_range, x.shape[0], x.size + out.size * int(np.prod(pool)),
                       x, out, out, x, pool, strides, pads, True)


def avgpool3d_backward(dout, dx, pool, strides, pads):
    """dx = each output gradient shared equally by its window's inside positions."""
    threads.run_ranges(_avgpool3d_range, dx.shape[0], dx.size + dout.size * int(np.prod(pool)),
                       dx, dout, dout, dx, pool, strides, pads, False)
