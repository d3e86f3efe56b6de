"""A convolution kernel from Keras's 'tf' layout to the kernels' channels-first one.

A 'tf' Convolution2D holds its kernel as (rows, cols, channels, filters)
and the convolution kernels read (filters, channels, rows, cols). NumPy's
copy of that transposed view reads the source with a stride of
filters x channels floats between the taps of one kernel: 19 ms for
VGG16's 512 x 512 x 3 x 3 kernel, 107 ms of its 340 ms input-gradient step
in 'tf' ordering. Here the copy goes by blocks of _BLOCK filters x _BLOCK
channels, whose nine source rows of _BLOCK floats stay in L1 while their
destination, _BLOCK runs of 9 x _BLOCK consecutive floats, is written in
order; blocks of filters are shared out between the threads.
"""
import numba
import numpy as np

from . import threads

__all__ = ['kernel_to_channels_first']

_BLOCK = 16
# At least this many floats per task (smaller kernels: one task, no handoff)
_MIN_TASK_FLOATS = 1 << 16


@numba.njit(cache=True, nogil=True)
def _to_channels_first(w, out, f0, f1):
    """out[f, c, i, j] = w[i, j, c, f] for f0 <= f < f1."""
    KH, KW, C, F = w.shape
    src = w.reshape(KH * KW, C, F)
    dst = out.reshape(F, C, KH * KW)
    taps = KH * KW
    for fb in range(f0, f1, _BLOCK):
        fe = min(fb + _BLOCK, f1)
        for cb in range(0, C, _BLOCK):
            ce = min(cb + _BLOCK, C)
            for f in range(fb, fe):
                for c in range(cb, ce):
                    row = dst[f, c]
                    for k in range(taps):
                        row[k] = src[k, c, f]


def kernel_to_channels_first(w, out):
    """Fills out (filters, channels, rows, cols) with w (rows, cols,
    channels, filters) transposed; both C-contiguous float32 arrays.

    # Arguments
        w: the kernel in Keras's 'tf' layout.
        out: where its channels-first copy goes.
    """
    KH, KW, C, F = w.shape
    if out.shape != (F, C, KH, KW):
        raise ValueError('kernel_to_channels_first: out must have shape %s, got %s'
                         % ((F, C, KH, KW), out.shape))
    for name, a in (('w', w), ('out', out)):
        if a.dtype != np.float32 or not a.flags.c_contiguous:
            raise ValueError('kernel_to_channels_first: %s must be a C-contiguous float32 '
                             'array, got %s%s' % (name, a.dtype, '' if a.flags.c_contiguous
                                                  else ' (not contiguous)'))
    parts = max(1, min(threads.pool_threads(), w.size // _MIN_TASK_FLOATS, -(-F // _BLOCK)))
    ranges = threads.even_ranges(-(-F // _BLOCK), parts)
    threads.run_tasks(lambda k: _to_channels_first(w, out, _BLOCK * ranges[k][0],
                                                   min(F, _BLOCK * ranges[k][1])), len(ranges))
