"""2D average-pooling kernels: forward and backward.

Plain arrays in, preallocated arrays out, channels-first (N, C, H, W)
float32, C-contiguous, the same geometry as `pooling.py`: window (i, j) of a
plane covers rows i*sh - pad_top ... + pool_h - 1 and columns
j*sw - pad_left ... + pool_w - 1. Positions outside the input are padding
and are left out of the average (the divisor is the number of window
positions inside the input), as TensorFlow's 'SAME' average pooling does.
A window with no position inside the input gives 0. `pooling.pool_padding`
gives the Keras 1 padding and output size for a border mode.

Each window is summed in float32 in row-major order, then divided by its
count. Parallel over the batch (`threads.run_ranges`), deterministic
whatever the thread count.
"""
import numba
import numpy as np

from . import threads

__all__ = ['avgpool2d_forward', 'avgpool2d_backward']


@numba.njit(cache=True)
def _avgpool_plane(x, out, ph, pw, sh, sw, pt, pl):
    H, W = x.shape
    OH, OW = out.shape
    for i in range(OH):
        r0 = i * sh - pt
        r_lo = max(r0, 0)
        r_hi = min(r0 + ph, H)
        for j in range(OW):
            c0 = j * sw - pl
            c_lo = max(c0, 0)
            c_hi = min(c0 + pw, W)
            count = max(r_hi - r_lo, 0) * max(c_hi - c_lo, 0)
            total = np.float32(0.0)
            for r in range(r_lo, r_hi):
                row = x[r]
                for c in range(c_lo, c_hi):
                    total += row[c]
            if count > 0:
                out[i, j] = total / np.float32(count)
            else:
                out[i, j] = np.float32(0.0)


@numba.njit(cache=True)
def _avgpool_plane_2x2(x, out):
    """2x2 windows, stride 2, no padding: the same sums, in the same order, as
    _avgpool_plane, so both paths give identical results."""
    OH, OW = out.shape
    for i in range(OH):
        top = x[2 * i]
        bot = x[2 * i + 1]
        orow = out[i]
        for j in range(OW):
            total = np.float32(0.0)
            total += top[2 * j]
            total += top[2 * j + 1]
            total += bot[2 * j]
            total += bot[2 * j + 1]
            orow[j] = total / np.float32(4.0)


@numba.njit(cache=True)
def _avgpool_backward_plane(dout, dx, ph, pw, sh, sw, pt, pl):
    H, W = dx.shape
    OH, OW = dout.shape
    for r in range(H):
        for c in range(W):
            dx[r, c] = 0.0
    for i in range(OH):
        r0 = i * sh - pt
        r_lo = max(r0, 0)
        r_hi = min(r0 + ph, H)
        for j in range(OW):
            c0 = j * sw - pl
            c_lo = max(c0, 0)
            c_hi = min(c0 + pw, W)
            count = max(r_hi - r_lo, 0) * max(c_hi - c_lo, 0)
            if count == 0:
                continue
            share = dout[i, j] / np.float32(count)
            for r in range(r_lo, r_hi):
                row = dx[r]
                for c in range(c_lo, c_hi):
                    row[c] += share


def _check_pool(x, out, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left):
    for name, a in (('input', x), ('pooled array', out)):
        if not isinstance(a, np.ndarray) or a.dtype != np.float32 or a.ndim != 4 \
                or not a.flags.c_contiguous:
            raise ValueError('avgpool2d: the %s must be a C-contiguous float32 array of 4 '
                             'dimensions, got %s' % (name, getattr(a, 'shape', type(a).__name__)))
    if out.shape[0] != x.shape[0] or out.shape[1] != x.shape[1]:
        raise ValueError('avgpool2d: the pooled array must have the batch size and channels '
                         'of the input')
    if pool_h < 1 or pool_w < 1 or stride_h < 1 or stride_w < 1:
        raise ValueError('avgpool2d: pool sizes and strides must be >= 1')
    if pad_top < 0 or pad_left < 0:
        raise ValueError('avgpool2d: padding must be >= 0')


@numba.njit(cache=True, nogil=True)
def _avgpool_range(x, out, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left, n0, n1):
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    OH = out.shape[2]
    OW = out.shape[3]
    simple = (pool_h == 2 and pool_w == 2 and stride_h == 2 and stride_w == 2
              and pad_top == 0 and pad_left == 0 and 2 * OH <= H and 2 * OW <= W)
    for n in range(n0, n1):
        for c in range(C):
            if simple:
                _avgpool_plane_2x2(x[n, c], out[n, c])
            else:
                _avgpool_plane(x[n, c], out[n, c], pool_h, pool_w, stride_h, stride_w,
                               pad_top, pad_left)


def avgpool2d_forward(x, out, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left):
    """out[n,c,i,j] = mean of x[n,c] over the positions of window (i, j) inside x.

    x: (N, C, H, W) float32; out: (N, C, OH, OW) float32, filled completely.
    """
    _check_pool(x, out, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left)
    threads.run_ranges(_avgpool_range, x.shape[0], out.size * pool_h * pool_w,
                       x, out, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left)


@numba.njit(cache=True, nogil=True)
def _avgpool_backward_range(dout, dx, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left,
                            n0, n1):
    C = dx.shape[1]
    for n in range(n0, n1):
        for c in range(C):
            _avgpool_backward_plane(dout[n, c], dx[n, c], pool_h, pool_w, stride_h, stride_w,
                                    pad_top, pad_left)


def avgpool2d_backward(dout, dx, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left):
    """Fills dx (N, C, H, W) with the gradient of sum(out * dout) for the input.

    dout: (N, C, OH, OW); pool sizes, strides and padding as given to
    avgpool2d_forward. Every window adds dout / count to each of its
    positions inside the input; overlapping windows add up in row-major
    output order.
    """
    _check_pool(dx, dout, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left)
    threads.run_ranges(_avgpool_backward_range, dx.shape[0], dout.size * pool_h * pool_w,
                       dout, dx, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left)
