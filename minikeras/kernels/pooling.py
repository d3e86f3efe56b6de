"""2D max-pooling kernels: forward (with argmax) and backward.

Plain arrays in, preallocated arrays out, channels-first (N, C, H, W)
float32, C-contiguous. Window (i, j) of a plane covers rows
i*sh - pad_top ... + pool_h - 1 and columns j*sw - pad_left ... + pool_w - 1;
positions outside the input are padding and never win (they count as -inf,
as in TensorFlow). The output size is whatever the caller allocated;
`pool_padding` gives the Keras 1 one for a border mode.

Parallel over the batch (`threads.run_ranges`), deterministic whatever the
thread count.
"""
import numba
import numpy as np

from . import threads
from .borrowed import borrowed

__all__ = ['pool_output_length', 'pool_padding', 'maxpool2d_forward', 'maxpool2d_backward']

_BORDER_MODES = ('valid', 'same')


def _check_geometry(pool_size, border_mode, stride, what):
    if border_mode not in _BORDER_MODES:
        raise ValueError("%s: border_mode must be 'valid' or 'same' for pooling, got %r"
                         % (what, border_mode))
    if int(pool_size) != pool_size or pool_size < 1:
        raise ValueError('%s: the pool size must be a positive integer, got %r'
                         % (what, pool_size))
    if int(stride) != stride or stride < 1:
        raise ValueError('%s: the stride must be a positive integer, got %r' % (what, stride))


def pool_output_length(input_length, pool_size, border_mode, stride):
    """Length of a pooling output along one axis, as Keras 1 computes it.

    'valid': ceil((L - k + 1) / s); 'same': ceil(L / s). `None` gives `None`.
    A 'valid' window larger than the input gives a length below 1;
    `pool_padding` rejects it.

    # Arguments
        input_length: int or None, the input length L.
        pool_size: int, the window length k.
        border_mode: 'valid' or 'same'.
        stride: int, the stride s.
    """
    _check_geometry(pool_size, border_mode, stride, 'pool_output_length')
    if input_length is None:
        return None
    if border_mode == 'valid':
        length = input_length - pool_size + 1
    else:
        length = input_length
    return (length + stride - 1) // stride


def pool_padding(input_length, pool_size, border_mode, stride):
    """(pad_before, output_length) of a pooling along one axis.

    'valid' pads 0; 'same' follows TensorFlow: the total padding is
    max((out - 1) * s + k - L, 0), of which total // 2 goes before.

    # Arguments
        input_length: int, the input length L.
        pool_size: int, the window length k.
        border_mode: 'valid' or 'same'.
        stride: int, the stride s.
    """
    out = pool_output_length(input_length, pool_size, border_mode, stride)
    if out is None or out < 1:
        raise ValueError("pool_padding: a window of %r does not fit in an input of length %r "
                         "with border_mode %r; use a smaller pool_size or border_mode 'same'"
                         % (pool_size, input_length, border_mode))
    if border_mode == 'valid':
        pad = 0
    else:
        pad = max((out - 1) * stride + pool_size - input_length, 0) // 2
    return pad, out


@numba.njit(cache=True)
def _maxpool_plane(x, out, argmax, ph, pw, sh, sw, pt, pl):
    """One (H, W) plane, any window, stride and padding.

    The maximum is the first in row-major window order that no later element
    exceeds (`>`), so ties go to the first one. Comparisons with NaN are
    false: a NaN is kept only when it opens its window. A window entirely in
    the padding gives -inf and argmax -1.
    """
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
            if r_lo >= r_hi or c_lo >= c_hi:
                out[i, j] = -np.inf
                argmax[i, j] = -1
                continue
            best = x[r_lo, c_lo]
            arg = r_lo * W + c_lo
            for r in range(r_lo, r_hi):
                row = x[r]
                for c in range(c_lo, c_hi):
                    v = row[c]
                    t = v > best
                    best = v if t else best
                    arg = r * W + c if t else arg
            out[i, j] = best
            argmax[i, j] = arg


@numba.njit(cache=True)
def _maxpool_plane_2x2(x, out, argmax):
    """2x2 windows, stride 2, no padding, all inside the plane (the common case).
    Same rule as _maxpool_plane; written with selects, not branches, because
    the branches are unpredictable on real data."""
    W = x.shape[1]
    OH, OW = out.shape
    for i in range(OH):
        top = x[2 * i]
        bot = x[2 * i + 1]
        orow = out[i]
        arow = argmax[i]
        base = 2 * i * W
        for j in range(OW):
            a = top[2 * j]
            b = top[2 * j + 1]
            c = bot[2 * j]
            d = bot[2 * j + 1]
            m = a
            k = 0
            t = b > m
            m = b if t else m
            k = 1 if t else k
            t = c > m
            m = c if t else m
            k = W if t else k
            t = d > m
            m = d if t else m
            k = W + 1 if t else k
            orow[j] = m
            arow[j] = base + 2 * j + k


@numba.njit(cache=True, nogil=True)
def _maxpool_range(x, out, argmax, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left,
                   n0, n1):
    # Views of a few rows per output row, of arrays the threads share: borrowed,
    # they cost no atomic reference counting.
    x, out, argmax = borrowed(x), borrowed(out), borrowed(argmax)
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    OH = out.shape[2]
    OW = out.shape[3]
    simple = (pool_h == 2 and pool_w == 2 and stride_h == 2 and stride_w == 2
              and pad_top == 0 and pad_left == 0 and 2 * OH <= H and 2 * OW <= W)
    for n in range(n0, n1):
        for c in range(C):
            if simple:
                _maxpool_plane_2x2(x[n, c], out[n, c], argmax[n, c])
            else:
                _maxpool_plane(x[n, c], out[n, c], argmax[n, c], pool_h, pool_w,
                               stride_h, stride_w, pad_top, pad_left)


def _check_array(kernel, name, a, dtype):
    if not isinstance(a, np.ndarray) or a.dtype != dtype or a.ndim != 4 \
            or not a.flags.c_contiguous:
        raise ValueError('%s: %s must be a C-contiguous %s array of 4 dimensions, got %s'
                         % (kernel, name, np.dtype(dtype).name,
                            '%s %s' % (a.dtype, a.shape) if isinstance(a, np.ndarray)
                            else type(a).__name__))


def maxpool2d_forward(x, out, argmax, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left):
    """out[n,c,i,j] = max of x[n,c] over window (i, j); argmax = row*W + col of it.

    x: (N, C, H, W) float32; out: (N, C, OH, OW) float32; argmax: (N, C, OH, OW)
    int32, both filled completely.
    """
    _check_array('maxpool2d_forward', 'x', x, np.float32)
    _check_array('maxpool2d_forward', 'out', out, np.float32)
    _check_array('maxpool2d_forward', 'argmax', argmax, np.int32)
    N, C, H, W = x.shape
    if out.shape[0] != N or out.shape[1] != C:
        raise ValueError('maxpool2d_forward: out must have the batch size and channels of x')
    if argmax.shape != out.shape:
        raise ValueError('maxpool2d_forward: argmax must have the shape of out')
    if pool_h < 1 or pool_w < 1 or stride_h < 1 or stride_w < 1:
        raise ValueError('maxpool2d_forward: pool sizes and strides must be >= 1')
    if pad_top < 0 or pad_left < 0:
        raise ValueError('maxpool2d_forward: padding must be >= 0')
    threads.run_ranges(_maxpool_range, N, out.size * pool_h * pool_w,
                       x, out, argmax, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left)


@numba.njit(cache=True, nogil=True)
def _maxpool_backward_range(dout, argmax, dx, n0, n1):
    """The samples n0 .. n1-1 of maxpool2d_backward; returns the number of
    argmax entries outside the plane."""
    dout, argmax, dx = borrowed(dout), borrowed(argmax), borrowed(dx)   # shared by the threads
    C, H, W = dx.shape[1], dx.shape[2], dx.shape[3]
    OH = dout.shape[2]
    OW = dout.shape[3]
    bad = 0
    for n in range(n0, n1):
        for c in range(C):
            plane = dx[n, c].reshape(H * W)
            for k in range(H * W):
                plane[k] = 0.0
            d = dout[n, c]
            a = argmax[n, c]
            for i in range(OH):
                for j in range(OW):
                    k = a[i, j]
                    if k >= 0 and k < H * W:
                        plane[k] += d[i, j]
                    elif k != -1:
                        bad += 1
    return bad


def maxpool2d_backward(dout, argmax, dx):
    """Fills dx (N, C, H, W): zero, then dx[n, c].flat[argmax] += dout for every output.

    Overlapping windows add up, in row-major output order. Entries of argmax
    equal to -1 (windows with no input) are skipped; any other entry outside
    [0, H*W) is an error.
    """
    _check_array('maxpool2d_backward', 'dout', dout, np.float32)
    _check_array('maxpool2d_backward', 'argmax', argmax, np.int32)
    _check_array('maxpool2d_backward', 'dx', dx, np.float32)
    N, C, H, W = dx.shape
    if dout.shape[0] != N or dout.shape[1] != C:
        raise ValueError('maxpool2d_backward: dout must have the batch size and channels of dx')
    if argmax.shape != dout.shape:
        raise ValueError('maxpool2d_backward: argmax must have the shape of dout')
    bad = []

    def samples(n0, n1):
        bad.append(_maxpool_backward_range(dout, argmax, dx, n0, n1))

    threads.run_ranges(samples, N, dx.size)
    if sum(bad):
        raise ValueError('maxpool2d_backward: argmax holds indices outside the (H, W) plane '
                         'of dx; pass the argmax that maxpool2d_forward filled for this input')
