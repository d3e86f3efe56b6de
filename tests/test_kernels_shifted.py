"""conv2d_gemm's shifted products (stride 1, wide windows) and blas.sgemm,
against the float64 references of test_kernels.py and np.matmul."""
import numpy as np
import pytest

from minikeras.kernels import blas, conv2d_gemm
from minikeras.kernels.conv2d import conv_padding
from test_kernels import (_data, _garbage, ref_conv_backward_input, ref_conv_backward_weights,
                          ref_conv_forward)
from thread_counts import assert_same_bits_on_each_thread_count

pytestmark = [pytest.mark.filterwarnings('error::numba.core.errors.NumbaWarning'),
              pytest.mark.skipif(not blas.available(), reason="NumPy's BLAS not callable")]


@pytest.mark.parametrize('accumulate', [False, True])
@pytest.mark.parametrize('transpose_b', [False, True])
def test_sgemm_strided_operand_matches_matmul(accumulate, transpose_b):
    a, b, c = _data(3, (6, 7), (9, 40), (5, 6))
    expected = c.astype(np.float64) if accumulate else np.zeros((5, 6))
    # op(b): the matrix starting 11 floats into b, its rows 40 floats apart:
    # (6, 7) transposed, or (7, 6).
    rows, cols = (6, 7) if transpose_b else (7, 6)
    matrix = np.lib.stride_tricks.as_strided(b.reshape(-1)[11:], (rows, cols), (160, 4))
    # op(a): a's last five rows.
    expected += a[1:].astype(np.float64) @ (matrix.T if transpose_b else matrix)
    blas.sgemm(5, 6, 7, a, 7, 7, b, 11, 40, c, 6, accumulate, transpose_b=transpose_b)
    np.testing.assert_allclose(c, expected, rtol=1e-5, atol=1e-5)


CASES = [
    # N, C, F, H, W, K, border mode
    (4, 128, 64, 14, 14, 5, 'same'),   # mnist_acgan's generator, shrunk
    (4, 64, 80, 9, 7, 5, 'same'),      # W != H
    (9, 64, 72, 5, 6, 5, 'valid'),     # no padding; several samples per block
    (4, 96, 70, 6, 8, 5, 'full'),      # padding of 4 on every side
    (17, 64, 64, 4, 4, 5, 'same'),     # planes smaller than the window
    (5, 70, 65, 8, 9, 7, 'same'),      # 7x7
    (6, 128, 256, 7, 7, 3, 'same'),    # mnist_acgan's discriminator, last convolution
    (5, 64, 66, 6, 9, 3, 'valid'),     # 3x3, no padding
]


def _geometry(case):
    N, C, F, H, W, K, mode = case
    pt, OH = conv_padding(H, K, mode, 1)
    pl, OW = conv_padding(W, K, mode, 1)
    return pt, pl, OH, OW


def _run(case, seed):
    N, C, F, H, W, K, mode = case
    pt, pl, OH, OW = _geometry(case)
    x, w, b, dout = _data(seed, (N, C, H, W), (F, C, K, K), (F,), (N, F, OH, OW))
    out, dx, dw, db = (_garbage(s) for s in ((N, F, OH, OW), x.shape, w.shape, b.shape))
    conv2d_gemm.gemm_forward(x, w, b, out, 1, 1, pt, pl)
    conv2d_gemm.gemm_backward_input(dout, w, dx, 1, 1, pt, pl)
    conv2d_gemm.gemm_backward_weights(x, dout, dw, db, 1, 1, pt, pl)
    return (x, w, b, dout), (out, dx, dw, db)


@pytest.mark.parametrize('case', CASES)
def test_shifted_products_match_reference(case):
    N, C, F, H, W, K, mode = case
    pt, pl, OH, OW = _geometry(case)
    # The three products of the layer all take the shifted path.
    assert conv2d_gemm._shifted_applies((N, C, H, W), (F, C, K, K), (N, F, OH, OW), 1, 1, pt, pl)
    assert conv2d_gemm._shifted_applies((N, F, OH, OW), (C, F, K, K), (N, C, H, W), 1, 1,
                                        K - 1 - pt, K - 1 - pl)
    (x, w, b, dout), (out, dx, dw, db) = _run(case, seed=C + F)
    np.testing.assert_allclose(out, ref_conv_forward(x, w, b, 1, 1, pt, pl, OH, OW),
                               rtol=1e-5, atol=1e-5 + 1e-7 * C * K * K)
    np.testing.assert_allclose(dx, ref_conv_backward_input(dout, w, x.shape, 1, 1, pt, pl),
                               rtol=1e-5, atol=1e-5 + 1e-7 * F * K * K)
    ref_dw, ref_db = ref_conv_backward_weights(x, dout, K, K, 1, 1, pt, pl)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-5, atol=1e-5 + 1e-7 * N * OH * OW)
    np.testing.assert_allclose(db, ref_db, rtol=1e-5, atol=1e-5 + 1e-7 * N * OH * OW)


def test_shifted_products_leave_other_layers_to_im2col():
    # 2x2 windows, a layer for Winograd, a batch of 3, few channels, an
    # accumulator beyond the block size, stride 2.
    assert not conv2d_gemm._shifted_applies((8, 128, 14, 14), (128, 128, 2, 2), (8, 128, 15, 15),
                                            1, 1, 1, 1)
    assert not conv2d_gemm._shifted_applies((8, 128, 28, 28), (128, 128, 3, 3), (8, 128, 28, 28),
                                            1, 1, 1, 1)
    assert not conv2d_gemm._shifted_applies((3, 128, 14, 14), (128, 128, 5, 5), (3, 128, 14, 14),
                                            1, 1, 2, 2)
    assert not conv2d_gemm._shifted_applies((8, 32, 14, 14), (256, 32, 5, 5), (8, 256, 14, 14),
                                            1, 1, 2, 2)
    assert not conv2d_gemm._shifted_applies((2, 64, 112, 112), (64, 64, 5, 5), (2, 64, 112, 112),
                                            1, 1, 2, 2)
    assert not conv2d_gemm._shifted_applies((8, 128, 28, 28), (64, 128, 5, 5), (8, 64, 14, 14),
                                            2, 2, 2, 2)


@pytest.mark.parametrize('case', [CASES[0], CASES[2]])
def test_shifted_products_deterministic_across_threads(case):
    assert_same_bits_on_each_thread_count(lambda: _run(case, seed=11)[1], repeats=2)



def test_without_callable_blas_layers_stay_with_im2col(monkeypatch):
    monkeypatch.setattr(blas, '_SGEMM', [None])
    case = CASES[0]
    N, C, F, H, W, K, mode = case
    pt, pl, OH, OW = _geometry(case)
    assert not conv2d_gemm._shifted_applies((N, C, H, W), (F, C, K, K), (N, F, OH, OW),
                                            1, 1, pt, pl)
    (x, w, b, dout), (out, dx, dw, db) = _run(case, seed=3)
    np.testing.assert_allclose(out, ref_conv_forward(x, w, b, 1, 1, pt, pl, OH, OW),
                               rtol=1e-5, atol=1e-5 + 1e-7 * C * K * K)
