"""Direct calls into NumPy's own BLAS: single-precision matrix products on
strided operands, accumulating into their output.

`np.matmul` always writes a fresh result and needs each operand as an array
of its own; `sgemm` here reads an operand that starts anywhere inside a
buffer, with any leading dimension, and adds into C (beta = 1). That is what
a convolution computed as shifted products needs: tap (ki, kj) of a stack of
padded input planes is the same buffer read from a later offset.

The library is the one threadpoolctl finds behind NumPy (OpenBLAS, whose
cblas_sgemm is exported as `cblas_sgemm`, or `scipy_cblas_sgemm64_` in the
NumPy wheels with 64-bit integers). Before first use a small product is
checked against np.matmul; when no library is found or the check fails,
`available()` is False and callers keep to np.matmul. Calls through ctypes
release the GIL, and run on as many BLAS threads as `threads.blas_threads`
(or the calling kernel thread) set.
"""
import ctypes

import numpy as np

from . import threads

__all__ = ['available', 'sgemm']

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
# (exported name, integer type of its dimensions)
_SYMBOLS = (('scipy_cblas_sgemm64_', ctypes.c_int64), ('cblas_sgemm64_', ctypes.c_int64),
            ('scipy_cblas_sgemm', ctypes.c_int), ('cblas_sgemm', ctypes.c_int))

_SGEMM = []  # [] before the search; [function] or [None] after it


def _find():
    for controller in threads._blas_libraries():
        library = getattr(controller, 'dynlib', None)
        for name, integer in _SYMBOLS:
            function = getattr(library, name, None) if library is not None else None
            if function is None:
                continue
            function.restype = None
            function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                 integer, integer, integer, ctypes.c_float,
                                 ctypes.c_void_p, integer, ctypes.c_void_p, integer,
                                 ctypes.c_float, ctypes.c_void_p, integer]
            if _agrees(function):
                return function
    return None


def _agrees(function):
    """Whether `function` computes a small strided, transposed, accumulating
    product as np.matmul does (a wrong integer width would not)."""
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
