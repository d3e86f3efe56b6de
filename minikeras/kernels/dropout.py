"""Dropout: a keep/drop mask drawn and applied in one compiled pass.

Plain float32 arrays in, preallocated arrays out. Element i of the input
(read as a flat C-contiguous run, so any shape and layout) is kept when

    splitmix64(key + i * 0x9E3779B97F4A7C15) >> 40  >=  threshold,

that is when a uniform draw u_i = (those top 24 bits) / 2**24 on [0, 1) is
at least `threshold / 2**24` (the caller passes ceil(rate * 2**24), so the
test is u_i >= rate, as Keras's `uniform() >= rate`: one independent uniform
per unit, on a 2**-24 grid like a float32 uniform). splitmix64 is the
finaliser of Steele, Lea and Flood's SplitMix generator, a bijection of the
64-bit integers whose outputs over consecutive counters pass BigCrush; here
it serves as a counter-based generator: each element's draw depends on the
key and its own index only, so the mask does not depend on how the array
is cut into tasks or on the thread count, and the same key gives the same
mask on every run. The caller draws the key from the layer's NumPy
generator (one draw per call), so `np.random.seed(...)` or the layer's
`seed` still makes a run reproducible.

Outputs: mask_i = scale when kept, else 0 (the scaled mask of Keras's
dropout), and y_i = x_i * mask_i, the same float32 product `x * mask` gives.
"""
import math

import numba
import numpy as np

from . import threads

__all__ = ['dropout_threshold', 'dropout_forward']

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S40 = np.uint64(40)
_ZERO = np.float32(0.)

# 24 random bits per element (a float32's mantissa and its implicit bit)
_GRID = 1 << 24


@numba.njit(cache=True, nogil=True, error_model='numpy', boundscheck=False)
def _dropout_range(x, key, threshold, scale, y, mask, lo, hi):
    for i in range(lo, hi):
        z = key + np.uint64(i) * _GOLDEN
        z = (z ^ (z >> _S30)) * _MIX_1
        z = (z ^ (z >> _S27)) * _MIX_2
        z = z ^ (z >> _S31)
        s = scale if (z >> _S40) >= threshold else _ZERO
        mask[i] = s
        y[i] = x[i] * s


def dropout_threshold(rate):
    """The integer threshold of `dropout_forward` for dropping a fraction
    `rate` (0 <= rate < 1) of the units: ceil(rate * 2**24)."""
    return np.uint64(math.ceil(float(rate) * _GRID))


def dropout_forward(x, key, threshold, scale, y, mask):
    """Draws the mask of key `key` and writes mask and y = x * mask.

    # Arguments
        x: C-contiguous float32 array.
        key: np.uint64, the draw's key.
        threshold: np.uint64 from `dropout_threshold(rate)`.
        scale: float32, the factor of kept units (1 / (1 - rate)).
        y, mask: C-contiguous float32 arrays with as many elements as x
            (y may be x, to apply the mask in place).
    """
    flat_x, flat_y, flat_mask = x.reshape(-1), y.reshape(-1), mask.reshape(-1)
    if not (flat_x.size == flat_y.size == flat_mask.size):
        raise ValueError('dropout_forward: x, y and mask must have as many elements, got '
                         'shapes %s, %s and %s' % (x.shape, y.shape, mask.shape))
    n = flat_x.size
    threads.run_ranges(_dropout_range, n, n, flat_x, np.uint64(key), np.uint64(threshold),
                       np.float32(scale), flat_y, flat_mask)
