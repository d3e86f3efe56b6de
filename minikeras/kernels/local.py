"""Locally connected (unshared) convolution: forward and gradients.

Plain arrays in, preallocated arrays out, float32, C-contiguous:

- volumes `x`: (N, C, D, H, W), channels first ('valid' windows, no padding)
- weights `w`: (P, C*KD*KH*KW, F), one matrix per output position p, the
  rows in (c, kd, kh, kw) order
- outputs `out`: (N, P, F), P = OD*OH*OW positions in row-major order

    out[n, p, f] = sum over r of window_p(x[n])[r] * w[p, r, f]

(no bias: the caller adds it in its own layout). The windows are copied by
`convnd.vol2col` (parallel over the samples), and every position is one BLAS
product over the batch, so results are bit-identical run to run for a given
BLAS thread count. The columns are returned by the forward and handed back to
the backward, which then needs no copy of `x`.
"""
import numpy as np

from .convnd import col2vol, vol2col

__all__ = ['local_forward', 'local_backward']


def _geometry(kernel, strides, out_size):
    as_array = lambda values: np.asarray(values, dtype=np.int64)  # noqa: E731
    return (as_array(kernel), as_array(strides), as_array((1, 1, 1)), as_array((0, 0, 0)),
            as_array(out_size))


def local_forward(x, w, out, kernel, strides, out_size):
    """out = the locally connected product (see the module docstring).

    # Arguments
        kernel, strides, out_size: (depth, height, width) of the window, its
            steps, and the output grid.

    # Returns
        The columns (C*KD*KH*KW, N, P) for `local_backward`.
    """
    n, channels = x.shape[:2]
    rows, positions = channels * int(np.prod(kernel)), int(np.prod(out_size))
    if w.shape[:2] != (positions, rows) or out.shape != (n, positions, w.shape[2]):
        raise ValueError('local_forward: weights %s and output %s do not match %d positions '
                         'of %d inputs for %d samples' % (w.shape, out.shape, positions, rows, n))
    cols = np.empty((rows, n, positions), dtype=np.float32)
    vol2col(x, cols, *_geometry(kernel, strides, out_size))
    # (P, N, rows) @ (P, rows, F) -> (P, N, F)
    out[...] = np.matmul(cols.transpose(2, 1, 0), w).transpose(1, 0, 2)
    return cols


def local_backward(cols, dout, w, dw, dx, kernel, strides, out_size):
    """dw = the weight gradient; dx (or nothing when `dx` is None) = the input
    gradient, given the forward's columns and the output gradient (N, P, F)."""
    grads = np.ascontiguousarray(dout.transpose(1, 0, 2))          # (P, N, F)
    dw[...] = np.matmul(cols.transpose(2, 0, 1), grads)            # (P, rows, N) @ (P, N, F)
    if dx is None:
        return
    dcols = np.matmul(grads, w.transpose(0, 2, 1))                 # (P, N, rows)
    col2vol(np.ascontiguousarray(dcols.transpose(2, 1, 0)), dx,
            *_geometry(kernel, strides, out_size))
