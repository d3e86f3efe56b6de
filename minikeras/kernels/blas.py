"""NumPy's own single-precision matrix product, for the calls np.matmul cannot make.

Two kinds of callers need it:

- compiled loops of many small products (a recurrent layer's timesteps) run
  their whole loop in Numba without the GIL: `sgemm_function()` gives the
  product as a function a kernel takes as an argument (a Numba first-class
  function, so the kernels stay in Numba's disk cache), and `product`
  multiplies with it;
- convolutions computed as shifted products read an operand that starts
  anywhere inside a buffer, with any leading dimension, and add into their
  output (beta = 1): `sgemm`, called from Python (ctypes releases the GIL).

The function is `cblas_sgemm` of the BLAS that NumPy itself calls, found
through threadpoolctl (`threads._blas_libraries`): in NumPy's wheels, an
OpenBLAS exporting it with 64-bit integers. Where another package loaded a
BLAS of its own too, the copy NumPy's wheel ships is the one taken, so a
product is the same call with the same arguments as np.matmul makes for the
same float32 arrays, bit-identical to it, and the thread count
`threads.blas_threads` sets applies to it. Before first use, a small strided,
transposed, accumulating product is checked against NumPy. Where no such
function is found or the check fails (another BLAS, an unreadable library),
`available()` is False and `sgemm_function()` None, and the callers keep to
NumPy. The compiled loops take only the 64-bit-integer function.
"""
import ctypes
import os

import numba
import numpy as np

__all__ = ['available', 'sgemm', 'sgemm_function', 'product', 'add_transposed_product']

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
# (exported name, integer type of its dimensions), in order of preference
_SYMBOLS = (('scipy_cblas_sgemm64_', ctypes.c_int64), ('cblas_sgemm64_', ctypes.c_int64),
            ('scipy_cblas_sgemm', ctypes.c_int), ('cblas_sgemm', ctypes.c_int))
_ADDRESS = ctypes.c_size_t  # a pointer, passed as the integer `array.ctypes.data`

_SGEMM = []  # [] before the search; [function] or [None] after it


def _prototype(integer):
    return ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                            integer, integer, integer, ctypes.c_float, _ADDRESS, integer,
                            _ADDRESS, integer, ctypes.c_float, _ADDRESS, integer)


def _find():
    from .threads import _blas_libraries
    found = []  # (library path, function, integer type)
    for controller in _blas_libraries():
        library = getattr(controller, 'dynlib', None)
        for name, integer in _SYMBOLS:
            exported = getattr(library, name, None) if library is not None else None
            if exported is not None:
                address = ctypes.cast(exported, ctypes.c_void_p).value
                found.append((controller.filepath, _prototype(integer)(address), integer))
                break
    numpys = [entry for entry in found
              if os.path.basename(os.path.dirname(entry[0])) == 'numpy.libs']
    if not numpys and len(found) != 1:
        return None  # several BLAS and none of them NumPy's wheel's: which one np.matmul calls is unknown
    _path, function, integer = (numpys or found)[0]
    function.integer = integer
    return function if _agrees(function) else None


def _agrees(function):
    """Whether `function` computes a small strided, transposed, accumulating
    product as NumPy does (a wrong integer width would not)."""
    rng = np.random.RandomState(0)
    a = rng.standard_normal((3, 5)).astype(np.float32)
    b = rng.standard_normal((4, 7)).astype(np.float32)
    c = np.ones((3, 4), np.float32)
    try:
        function(_ROW_MAJOR, _NO_TRANS, _TRANS, 3, 4, 5, 1.0, a.ctypes.data, 5,
                 b.ctypes.data + 4, 7, 1.0, c.ctypes.data, 4)
    except Exception:
        return False
    return bool(np.allclose(c, 1 + a @ b[:, 1:6].T, rtol=1e-5, atol=1e-5))


def available():
    """Whether `sgemm` can be called (NumPy's BLAS found and checked)."""
    if not _SGEMM:
        _SGEMM.append(_find())
    return _SGEMM[0] is not None


def sgemm_function():
    """NumPy's `cblas_sgemm` as a ctypes function Numba kernels can call (for
    `product`), or None where `available()` is False or the function takes
    32-bit integers."""
    if not available() or _SGEMM[0].integer is not ctypes.c_int64:
        return None
    return _SGEMM[0]


def sgemm(M, N, K, a, a_offset, lda, b, b_offset, ldb, c, ldc, accumulate, transpose_b=False):
    """c[:M, :N] (+)= op_a @ op_b, row-major, float32: op_a the (M, K) matrix
    starting `a_offset` floats into a's buffer, its rows lda floats apart;
    op_b the (K, N) matrix starting `b_offset` floats into b's, rows ldb
    apart, or with `transpose_b` the transpose of the (N, K) matrix there;
    c's rows ldc floats apart. `accumulate` adds the product to c; otherwise
    c is overwritten.

    a, b and c are C-contiguous float32 arrays; only the matrices described
    are read or written (the caller makes sure they lie inside the arrays).
    Call `available()` first.
    """
    _SGEMM[0](_ROW_MAJOR, _NO_TRANS, _TRANS if transpose_b else _NO_TRANS, M, N, K, 1.0,
              a.ctypes.data + 4 * a_offset, lda, b.ctypes.data + 4 * b_offset, ldb,
              1.0 if accumulate else 0.0, c.ctypes.data, ldc)


@numba.njit(inline='always', cache=True, nogil=True)
def product(sgemm, a, b, c):
    """c = a @ b through `sgemm` (from `sgemm_function`) for float32 matrices
    whose rows are of unit stride, with the leading dimensions np.matmul
    passes to BLAS (the rows' distances: a view of some columns is fine)."""
    sgemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, a.shape[0], b.shape[1], a.shape[1], np.float32(1.),
          a.ctypes.data, a.strides[0] // 4, b.ctypes.data, b.strides[0] // 4, np.float32(0.),
          c.ctypes.data, c.strides[0] // 4)


@numba.njit(inline='always', cache=True, nogil=True)
def add_transposed_product(sgemm, a, b, c):
    """c += a.T @ b through `sgemm`, for float32 matrices a (K, M), b (K, N)
    and c (M, N) whose rows are of unit stride (a view of some columns is
    fine): the product of a weight gradient, summed over the calls."""
    sgemm(_ROW_MAJOR, _TRANS, _NO_TRANS, a.shape[1], b.shape[1], a.shape[0], np.float32(1.),
          a.ctypes.data, a.strides[0] // 4, b.ctypes.data, b.strides[0] // 4, np.float32(1.),
          c.ctypes.data, c.strides[0] // 4)
