"""Whether two arrays hold the same bits: the check behind the caches of
arrays derived from weights (a kernel's Winograd transforms, a 'tf'
kernel's channels-first copy, style transfer's kept outputs), which are
used again only while the weights they came from are unchanged.

For C-contiguous float32 arrays, a sample of _SAMPLES values is compared
first: weights that changed, as in training, almost always differ there,
and cost no more. Then every value, as unsigned integers (so that -0.0 and
0.0 differ and a NaN equals itself: what derived arrays depend on is the
bits), in tasks of _RUN values on the threads.
"""
import numba
import numpy as np

from . import threads

__all__ = ['same_bits']

_SAMPLES = 64
# Values compared per task (a 512 x 512 x 3 x 3 kernel is 9 such runs):
# np.array_equal, on one thread, a pass to a bool array and one to reduce
# it, took 9 ms of VGG16's 215 ms input-gradient step; these tasks 4.7 ms.
_RUN = 1 << 18


@numba.njit(cache=True, nogil=True)
def _bits_differ(a, b, i0, i1):
    """Whether a[i] != b[i] for some i0 <= i < i1 (uint32 arrays), checked
    in runs of 4096, each a vector loop over slices: indexing the whole
    arrays, with indices Numba must allow to be negative, compiled to scalar
    code (17 GB/s; this way 28 from memory, 50 from L2)."""
    for r0 in range(i0, i1, 4096):
        x, y = a[r0:min(r0 + 4096, i1)], b[r0:min(r0 + 4096, i1)]
        seen = np.uint32(0)
        for i in range(x.size):
            seen |= x[i] ^ y[i]
        if seen:
            return True
    return False


def same_bits(a, b):
    """Whether NumPy arrays a and b have the same shape, dtype and bits
    (C-contiguous float32 ones as above; others byte by byte, on one thread).

    # Arguments
        a, b: the arrays.
    """
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype != np.float32 or not (a.flags.c_contiguous and b.flags.c_contiguous):
        return np.array_equal(np.ascontiguousarray(a).reshape(-1).view(np.uint8),
                              np.ascontiguousarray(b).reshape(-1).view(np.uint8))
    mine, theirs = a.reshape(-1).view(np.uint32), b.reshape(-1).view(np.uint32)
    every = max(1, mine.size // _SAMPLES)
    if not np.array_equal(mine[::every], theirs[::every]):
        return False
    ranges = threads.even_ranges(mine.size, max(1, mine.size // _RUN))
    differ = np.zeros(len(ranges), np.bool_)

    def part(k):
        differ[k] = _bits_differ(mine, theirs, ranges[k][0], ranges[k][1])
    threads.run_tasks(part, len(ranges))
    return not differ.any()
