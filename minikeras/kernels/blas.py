"""NumPy's own single-precision matrix product, callable from Numba kernels.

A kernel that loops over many small products (the timesteps of a recurrent
layer) runs its whole loop in compiled code, without the GIL, if it can
multiply there. `sgemm_function()` finds `cblas_sgemm` in the BLAS that
NumPy itself calls (OpenBLAS of the NumPy wheels, 64-bit integers), so a
product computed by `product` is the same call with the same arguments as
`np.matmul` makes for the same float32 arrays, hence bit-identical to it;
the library's thread count (`threads.blas_threads`, and the per-thread one
of the kernel threads) applies to it as well. The function is passed to the
kernels as an argument (a Numba first-class function), so they stay in
Numba's disk cache. Where NumPy's BLAS is another one (MKL, Accelerate, a
system library with 32-bit integers), `sgemm_function()` returns None and
the callers keep their NumPy loops.
"""
import ctypes
import os

import numba
import numpy as np

__all__ = ['sgemm_function', 'product']

# the CBLAS symbols with 64-bit integers, as NumPy's OpenBLAS wheels export them
_SYMBOLS = ('scipy_cblas_sgemm64_', 'cblas_sgemm64_')
_ROW_MAJOR, _NO_TRANS = 101, 111

_INT = ctypes.c_int64
_ADDRESS = ctypes.c_size_t  # a pointer, passed as the integer `array.ctypes.data`
_SGEMM_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_int, ctypes.c_int, _INT, _INT, _INT,
                               ctypes.c_float, _ADDRESS, _INT, _ADDRESS, _INT, ctypes.c_float,
                               _ADDRESS, _INT)

_FOUND = []


def sgemm_function():
    """NumPy's `cblas_sgemm` as a ctypes function Numba kernels can call, or
    None when NumPy's BLAS does not export one with 64-bit integers (or
    cannot be inspected)."""
    if not _FOUND:
        _FOUND.append(_find_sgemm())
    return _FOUND[0]


def _find_sgemm():
    from .threads import _blas_libraries
    found = []
    for controller in _blas_libraries():
        if getattr(controller, 'internal_api', None) != 'openblas':
            continue
        for symbol in _SYMBOLS:
            address = getattr(controller.dynlib, symbol, None)
            if address is not None:
                found.append((controller.filepath, address))
                break
    # the copy NumPy's wheel ships, where another package loaded its own too
    ours = [address for path, address in found
            if os.path.basename(os.path.dirname(path)) == 'numpy.libs']
    if not ours and len(found) == 1:
        ours = [found[0][1]]
    if not ours:
        return None
    return _SGEMM_TYPE(ctypes.cast(ours[0], ctypes.c_void_p).value)


@numba.njit(inline='always', cache=True, nogil=True)
def product(sgemm, a, b, c):
    """c = a @ b through `sgemm` (from `sgemm_function`) for float32 matrices
    whose rows are of unit stride, with the leading dimensions np.matmul
    passes to BLAS (the rows' distances: a view of some columns is fine)."""
    sgemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, a.shape[0], b.shape[1], a.shape[1], np.float32(1.),
          a.ctypes.data, a.strides[0] // 4, b.ctypes.data, b.strides[0] // 4, np.float32(0.),
          c.ctypes.data, c.strides[0] // 4)
