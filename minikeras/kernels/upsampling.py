"""Nearest-neighbour upsampling of image planes by integer factors, and its
gradient.

Plain float32 arrays in, preallocated arrays out. x holds P planes of
(H, W), flattened as (P, H*W) (channels-first images: P = samples *
channels); y holds the P upsampled planes of (H*fh, W*fw):

    y[p, i*fh + a, j*fw + b] = x[p, i, j]          (0 <= a < fh, 0 <= b < fw)
    dx[p, i, j] = sum over a, then b, of dy[p, i*fh + a, j*fw + b]

The planes are shared out between the kernel threads in ranges; each
plane's sums run in the fixed order above, so results do not depend on the
thread count.
"""
import numba
import numpy as np

from . import threads

__all__ = ['upsample2d_forward', 'upsample2d_backward']


@numba.njit(cache=True, nogil=True)
def _forward_range(x, H, W, fh, fw, y, lo, hi):
    UW = W * fw
    for p in range(lo, hi):
        src = x[p]
        dst = y[p]
        for i in range(H):
            row = dst[i * fh * UW:(i * fh + 1) * UW]
            s = src[i * W:(i + 1) * W]
            for j in range(W):
                v = s[j]
                for b in range(fw):
                    row[j * fw + b] = v
            for a in range(1, fh):
                copy = dst[(i * fh + a) * UW:(i * fh + a + 1) * UW]
                for k in range(UW):
                    copy[k] = row[k]


@numba.njit(cache=True, nogil=True)
def _backward_range(dy, H, W, fh, fw, dx, lo, hi):
    UW = W * fw
    for p in range(lo, hi):
        src = dy[p]
        dst = dx[p]
        for i in range(H):
            d = dst[i * W:(i + 1) * W]
            for j in range(W):
                d[j] = 0.0
            for a in range(fh):
                row = src[(i * fh + a) * UW:(i * fh + a + 1) * UW]
                for j in range(W):
                    s = d[j]
                    for b in range(fw):
                        s += row[j * fw + b]
                    d[j] = s


def upsample2d_forward(x, y, fh, fw):
    """Fills y (P, H*fh * W*fw) with the planes of x (P, H, W) upsampled by
    (fh, fw); see the module notes."""
    P, H, W = x.shape
    threads.run_ranges(_forward_range, P, y.size, x.reshape(P, H * W), H, W, fh, fw,
                       y.reshape(P, -1))


def upsample2d_backward(dy, dx, fh, fw):
    """Fills dx (P, H, W) with the gradient of upsample2d_forward: every
    plane of dy (P, H*fh * W*fw) summed over each (fh, fw) block."""
    P, H, W = dx.shape
    threads.run_ranges(_backward_range, P, dy.size, dy.reshape(P, -1), H, W, fh, fw,
                       dx.reshape(P, H * W))
