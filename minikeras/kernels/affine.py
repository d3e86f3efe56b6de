"""Batched nearest-neighbour (order 0) affine resampling of images.

One 3x3 homogeneous matrix per image maps an output pixel (row, col) to the
input position it samples, exactly as

    scipy.ndimage.affine_transform(channel, m[:2, :2], offset=m[:2, 2],
                                   order=0, mode=mode, cval=cval)

does for each channel of each image. The arithmetic follows scipy's C code
(`NI_GeometricTransform` and `map_coordinate` in ni_interpolation.c, as
shipped in scipy 1.17) step by step, so results are bit-identical to scipy:

- the input coordinate along an axis is `(offset + row * m[k, 0]) + col * m[k, 1]`,
  added in that order in float64;
- order 0 picks `floor(c + 0.5)` (halves round up, in float64, so
  `0.49999999999999994 + 0.5 == 1.0` picks 1, as scipy does);
- coordinates outside the image are first folded by the fill mode, then a
  pixel index that still falls outside is folded once more with the spline
  boundary rule (mirror for 'constant' and 'wrap', the mode itself otherwise).

Fill modes, as scipy.ndimage defines them now. Samples of the row a b c d
at integer coordinates -5 .. 8, the image being at 0 .. 3:

- 'nearest':   a a a a a | a b c d | d d d d d
- 'constant':  . . . . . | a b c d | . . . . .   (cval, '.', everywhere outside
  [0, len - 1], even within half a pixel of the edge)
- 'reflect':   d d c b a | a b c d | d c b a a   (half-sample symmetric;
  'grid-mirror' is the same)
- 'mirror':    b c d c b | a b c d | c b a b c   (whole-sample symmetric)
- 'wrap':      b c d b c | a b c d | b c a b c   (scipy's legacy periodic
  mode: period len - 1, the first and last samples overlapping; NOT the
  plain tiling, which is 'grid-wrap')
- 'grid-wrap': d a b c d | a b c d | a b c d a
- 'grid-constant': cval where the rounded index falls outside the image.

Keras 1.2.2 ran on scipy < 1.6, where order-0 'reflect' differed in one
detail: a coordinate less than half a pixel outside [0, len - 1] took the
second pixel from the edge (b, or c on the right) where scipy >= 1.6, and
this kernel, take the edge pixel (a, or d). The other modes are unchanged
for order 0.

Non-finite or astronomically large coordinates (|c| > 9.2e18), where scipy's
C integer casts overflow, give cval here rather than scipy's wrapped index.

Everything here is plain arrays in, arrays out. Inputs are channels-first
batches `(N, C, H, W)`; matrices are float64 `(N, 3, 3)` (only the top two
rows are read).
"""
import threading

import numba
import numpy as np

MODE_NEAREST = 0
MODE_WRAP = 1
MODE_REFLECT = 2
MODE_MIRROR = 3
MODE_CONSTANT = 4
MODE_GRID_WRAP = 5
MODE_GRID_CONSTANT = 6

FILL_MODES = {
    'nearest': MODE_NEAREST,
    'wrap': MODE_WRAP,
    'reflect': MODE_REFLECT,
    'grid-mirror': MODE_REFLECT,
    'mirror': MODE_MIRROR,
    'constant': MODE_CONSTANT,
    'grid-wrap': MODE_GRID_WRAP,
    'grid-constant': MODE_GRID_CONSTANT,
}

_INT64_MIN = -9223372036854775808
_INT64_LIMIT = 9.2e18

# The parallel kernel is launched under this lock: Numba's default
# 'workqueue' threading layer aborts when two Python threads launch parallel
# kernels at once, and Keras-style generators are consumed from threads.
_launch_lock = threading.Lock()


@numba.njit(cache=True, inline='always')
def _trunc(v):
    """C's `(npy_intp)v` for a double: truncation toward zero. Out-of-range
    values and NaN give INT64_MIN, as x86-64 does (LLVM alone makes them
    undefined)."""
    if v != v or v >= _INT64_LIMIT or v <= -_INT64_LIMIT:
        return _INT64_MIN
    return np.int64(v)


@numba.njit(cache=True)
def _map_coordinate(x, n, mode):
    """scipy's `map_coordinate`: folds a float coordinate lying outside
    [0, n - 1] back inside according to `mode`; -1 means 'use cval'."""
    if x < 0:
        if mode == MODE_MIRROR:
            if n <= 1:
                x = 0.0
            else:
                sz2 = 2 * n - 2
                x = sz2 * _trunc(-x / sz2) + x
                if x <= 1 - n:
                    x = x + sz2
                else:
                    x = -x
        elif mode == MODE_REFLECT:
            if n <= 1:
                x = 0.0
            else:
                sz2 = 2 * n
                if x < -sz2:
                    x = sz2 * _trunc(-x / sz2) + x
                if x < -n:
                    x = x + sz2
                else:
                    # scipy keeps -0.0-ish values from landing exactly on -1
                    if x > -1e-15:
                        x = 1e-15 - 1
                    else:
                        x = -x - 1
        elif mode == MODE_WRAP:
            if n <= 1:
                x = 0.0
            else:
                sz = n - 1
                x = x + sz * (_trunc(-x / sz) + 1)
        elif mode == MODE_GRID_WRAP:
            if n <= 1:
                x = 0.0
            else:
                x = x + n * (_trunc((-1 - x) / n) + 1)
        elif mode == MODE_NEAREST:
            x = 0.0
        elif mode == MODE_CONSTANT:
            x = -1.0
    elif x > n - 1:
        if mode == MODE_MIRROR:
            if n <= 1:
                x = 0.0
            else:
                sz2 = 2 * n - 2
                x = x - sz2 * _trunc(x / sz2)
                if x >= n:
                    x = sz2 - x
        elif mode == MODE_REFLECT:
            if n <= 1:
                x = 0.0
            else:
                sz2 = 2 * n
                x = x - sz2 * _trunc(x / sz2)
                if x >= n:
                    x = sz2 - x - 1
        elif mode == MODE_WRAP:
            if n <= 1:
                x = 0.0
            else:
                sz = n - 1
                x = x - sz * _trunc(x / sz)
        elif mode == MODE_GRID_WRAP:
            if n <= 1:
                x = 0.0
            else:
                x = x - n * _trunc(x / n)
        elif mode == MODE_NEAREST:
            x = float(n - 1)
        elif mode == MODE_CONSTANT:
            x = -1.0
    return x


@numba.njit(cache=True)
def _source_index(c, n, mode, spline_mode):
    """Index of the input pixel sampled at float coordinate `c` along an
    axis of length `n`, or -1 when the fill value is to be used."""
    if mode != MODE_GRID_CONSTANT and mode != MODE_NEAREST:
        c = _map_coordinate(c, n, mode)
        if not c > -1.0:
            return -1
    start = _trunc(np.floor(c + 0.5))
    if start < 0 or start >= n:
        if mode == MODE_GRID_CONSTANT:
            return -1
        start = _trunc(_map_coordinate(float(start), n, spline_mode))
        if start < 0 or start >= n:
            # only non-finite or astronomically large coordinates get here,
            # where scipy's C integer casts overflow; never read outside
            return -1
    return start


@numba.njit(cache=True)
def _resample_row(x, matrices, mode, spline_mode, cval, out, t):
    """Writes output row t of the batch (image t // H, row t % H)."""
    n_chan, h, w = x.shape[1], x.shape[2], x.shape[3]
    h_last = float(h - 1)
    w_last = float(w - 1)
    b = t // h
    i = t - b * h
    m00 = matrices[b, 0, 0]
    m01 = matrices[b, 0, 1]
    m02 = matrices[b, 0, 2]
    m10 = matrices[b, 1, 0]
    m11 = matrices[b, 1, 1]
    m12 = matrices[b, 1, 2]
    # scipy's order of additions: (offset + row * m[k, 0]) + col * m[k, 1]
    row_base = m02 + i * m00
    col_base = m12 + i * m10
    for j in range(w):
        r = row_base + j * m01
        c = col_base + j * m11
        # Inside [0, len - 1] every mode leaves the coordinate alone and
        # rounding stays in range: the common case needs no folding.
        if r >= 0.0 and r <= h_last:
            si = np.int64(np.floor(r + 0.5))
        else:
            si = _source_index(r, h, mode, spline_mode)
        sj = -1
        if si >= 0:
            if c >= 0.0 and c <= w_last:
                sj = np.int64(np.floor(c + 0.5))
            else:
                sj = _source_index(c, w, mode, spline_mode)
        if si < 0 or sj < 0:
            for ch in range(n_chan):
                out[b, ch, i, j] = cval
        else:
            for ch in range(n_chan):
                out[b, ch, i, j] = x[b, ch, si, sj]


@numba.njit(cache=True)
def _spline_mode(mode):
    # how scipy folds a rounded pixel index that is still outside the image
    if mode == MODE_CONSTANT or mode == MODE_WRAP:
        return MODE_MIRROR
    return mode


@numba.njit(cache=True, parallel=True, nogil=True)
def affine_nearest_batch(x, matrices, mode, cval, out):
    """Resamples every image of `x` through its own affine matrix, in
    parallel over the output rows of the batch.

    # Arguments
        x: array (N, C, H, W), float32 or float64, C-contiguous.
        matrices: float64 array (N, 3, 3); row k of image b gives the input
            coordinate along axis k as `m[k, 2] + row * m[k, 0] + col * m[k, 1]`.
        mode: integer fill-mode code (see `FILL_MODES`).
        cval: fill value for the constant modes.
        out: preallocated array (N, C, H, W) of x's dtype; written in full.
    """
    spline_mode = _spline_mode(mode)
    for t in numba.prange(x.shape[0] * x.shape[2]):
        _resample_row(x, matrices, mode, spline_mode, cval, out, t)
    return out


@numba.njit(cache=True, nogil=True)
def affine_nearest_batch_serial(x, matrices, mode, cval, out):
    """`affine_nearest_batch` on the calling thread only (without the GIL,
    so generator threads can augment batches side by side)."""
    spline_mode = _spline_mode(mode)
    for t in range(x.shape[0] * x.shape[2]):
        _resample_row(x, matrices, mode, spline_mode, cval, out, t)
    return out


# Below this many output values a batch is resampled on one thread: waking
# the thread pool costs more than it saves (and much more on a busy machine).
PARALLEL_MIN_VALUES = 1 << 20


def fill_mode_code(fill_mode):
    """Returns the kernel's integer code for a scipy fill-mode name."""
    try:
        return FILL_MODES[fill_mode]
    except (KeyError, TypeError):
        raise ValueError('fill_mode must be one of %s, got %r'
                         % (', '.join(repr(k) for k in FILL_MODES), fill_mode))


def affine_transform_batch(x, matrices, fill_mode='nearest', cval=0., out=None):
    """Applies one affine matrix per image with order-0 resampling.

    # Arguments
        x: array (N, C, H, W) of float32 or float64 (other dtypes are
            computed in float32).
        matrices: array (N, 3, 3) (or (3, 3), shared by all images) mapping
            output pixel coordinates to input coordinates.
        fill_mode: 'nearest', 'constant', 'reflect', 'wrap', 'mirror',
            'grid-wrap', 'grid-mirror' or 'grid-constant' (scipy's meanings).
        cval: fill value for 'constant' and 'grid-constant'.
        out: optional preallocated output, same shape and dtype as x.

    # Returns
        The transformed batch, same shape as x.
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError('affine_transform_batch expects a (N, C, H, W) batch, '
                         'got an array of shape %s' % (x.shape,))
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float32)
    x = np.ascontiguousarray(x)
    matrices = np.asarray(matrices, dtype=np.float64)
    if matrices.shape == (3, 3):
        matrices = np.broadcast_to(matrices, (x.shape[0], 3, 3))
    if matrices.shape != (x.shape[0], 3, 3):
        raise ValueError('affine_transform_batch expects one 3x3 matrix per image, '
                         'i.e. shape (%d, 3, 3); got %s' % (x.shape[0], matrices.shape))
    matrices = np.ascontiguousarray(matrices)
    mode = fill_mode_code(fill_mode)
    if out is None:
        out = np.empty_like(x)
    elif out.shape != x.shape or out.dtype != x.dtype or not out.flags.c_contiguous:
        raise ValueError('affine_transform_batch: `out` must be a C-contiguous %s array '
                         'of shape %s, got %s %s'
                         % (x.dtype, x.shape, out.dtype, out.shape))
    if x.size == 0:
        return out
    if x.size < PARALLEL_MIN_VALUES:
        affine_nearest_batch_serial(x, matrices, mode, float(cval), out)
    else:
        with _launch_lock:
            affine_nearest_batch(x, matrices, mode, float(cval), out)
    return out
