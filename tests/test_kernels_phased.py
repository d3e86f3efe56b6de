"""conv2d_gemm's phase planes (strided layers with many channels), against
the float64 references of test_kernels.py and test_layers.py and finite
differences."""
import numpy as np
import pytest

from minikeras.kernels import blas, conv2d_gemm
from minikeras.kernels.conv2d import (conv2d_backward_input, conv2d_backward_weights,
                                      conv2d_forward, conv_padding)
from minikeras.layers import Convolution2D
from gradcheck import built, check_layer_gradients
from test_kernels import (_data, _garbage, ref_conv_backward_input, ref_conv_backward_weights,
                          ref_conv_forward)
from test_layers import reference_conv_th
from thread_counts import assert_same_bits_on_each_thread_count

pytestmark = [pytest.mark.filterwarnings('error::numba.core.errors.NumbaWarning'),
              pytest.mark.skipif(not blas.available(), reason="NumPy's BLAS not callable")]

CASES = [
    # N, C, F, H, W, KH, KW, sh, sw, border mode
    (8, 64, 128, 14, 14, 3, 3, 2, 2, 'same'),   # mnist_acgan's discriminator, conv3
    (9, 64, 70, 15, 13, 3, 3, 2, 2, 'same'),    # odd planes: a row and column of padding before
    (8, 64, 66, 15, 14, 3, 3, 2, 2, 'valid'),
    (5, 70, 64, 16, 11, 5, 5, 2, 2, 'full'),    # four rows and columns of padding before
    (6, 64, 64, 13, 13, 3, 2, 3, 2, 'same'),    # unequal strides, six phases
    (4, 64, 64, 9, 9, 1, 1, 2, 2, 'valid'),     # one phase
    (8, 64, 64, 10, 10, 2, 4, 3, 3, 'same'),    # input rows that no tap reads
    (6, 16, 1, 12, 11, 3, 3, 2, 2, 'same'),     # the fewest channels in, one filter
    (17, 32, 4, 9, 9, 3, 3, 2, 2, 'same'),      # two samples per block, one in the last
]


def _geometry(case):
    N, C, F, H, W, KH, KW, sh, sw, mode = case
    pt, OH = conv_padding(H, KH, mode, sh)
    pl, OW = conv_padding(W, KW, mode, sw)
    return pt, pl, OH, OW


def _run(case, seed):
    N, C, F, H, W, KH, KW, sh, sw, mode = case
    pt, pl, OH, OW = _geometry(case)
    x, w, b, dout = _data(seed, (N, C, H, W), (F, C, KH, KW), (F,), (N, F, OH, OW))
    out, dx, dw, db = (_garbage(s) for s in ((N, F, OH, OW), x.shape, w.shape, b.shape))
    conv2d_forward(x, w, b, out, sh, sw, pt, pl)
    conv2d_backward_input(dout, w, dx, sh, sw, pt, pl)
    conv2d_backward_weights(x, dout, dw, db, sh, sw, pt, pl)
    return (x, w, b, dout), (out, dx, dw, db)


@pytest.mark.parametrize('case', CASES)
def test_phase_planes_match_reference(case):
    N, C, F, H, W, KH, KW, sh, sw, mode = case
    pt, pl, OH, OW = _geometry(case)
    assert conv2d_gemm._phased_plan((N, C, H, W), (F, C, KH, KW), (N, F, OH, OW),
                                    sh, sw, pt, pl) is not None
    (x, w, b, dout), (out, dx, dw, db) = _run(case, seed=C + F + KH)
    np.testing.assert_allclose(out, ref_conv_forward(x, w, b, sh, sw, pt, pl, OH, OW),
                               rtol=1e-5, atol=1e-5 + 1e-7 * C * KH * KW)
    np.testing.assert_allclose(dx, ref_conv_backward_input(dout, w, x.shape, sh, sw, pt, pl),
                               rtol=1e-5, atol=1e-5 + 1e-7 * F * KH * KW)
    ref_dw, ref_db = ref_conv_backward_weights(x, dout, KH, KW, sh, sw, pt, pl)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-5, atol=1e-5 + 1e-7 * N * OH * OW)
    np.testing.assert_allclose(db, ref_db, rtol=1e-5, atol=1e-5 + 1e-7 * N * OH * OW)


def test_phase_planes_leave_other_layers_to_their_paths():
    # stride 1, 8 channels in, a batch of 3, an accumulator beyond the block
    # size
    assert conv2d_gemm._phased_plan((8, 64, 14, 14), (64, 64, 3, 3), (8, 64, 14, 14),
                                    1, 1, 1, 1) is None
    assert conv2d_gemm._phased_plan((8, 8, 14, 14), (128, 8, 3, 3), (8, 128, 7, 7),
                                    2, 2, 0, 0) is None
    assert conv2d_gemm._phased_plan((3, 64, 14, 14), (128, 64, 3, 3), (3, 128, 7, 7),
                                    2, 2, 0, 0) is None
    assert conv2d_gemm._phased_plan((8, 64, 224, 224), (64, 64, 3, 3), (8, 64, 112, 112),
                                    2, 2, 0, 0) is None


def test_phase_planes_of_a_3x3_stride_2_window():
    plan = conv2d_gemm._phase_plan(8, 64, 128, 14, 14, 3, 3, 7, 7, 2, 2, 0, 0)
    # rows 0, 2 (phase 0, shifts 0 and 1) and 1 (phase 1): 2x2, 2x1, 1x2
    # and 1x1 taps on 8x8 planes
    assert (plan['rows'], plan['pitch'], plan['top'], plan['left']) == (8, 8, 0, 0)
    assert plan['phases'] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [(ki, kj, plan['phases'][stack], offset) for ki, kj, stack, offset in plan['taps']] \
        == [(0, 0, (0, 0), 0), (0, 1, (0, 1), 0), (0, 2, (0, 0), 1),
            (1, 0, (1, 0), 0), (1, 1, (1, 1), 0), (1, 2, (1, 0), 1),
            (2, 0, (0, 0), 8), (2, 1, (0, 1), 8), (2, 2, (0, 0), 9)]


@pytest.mark.parametrize('case', [CASES[1], CASES[4]])
def test_phase_planes_deterministic_across_threads(case):
    assert_same_bits_on_each_thread_count(lambda: _run(case, seed=11)[1], repeats=2)


@pytest.mark.parametrize('ordering', ['th', 'tf'])
def test_strided_wide_convolution2d_layer_against_loops_and_finite_differences(ordering):
    channels, filters, rows, cols = 64, 64, 9, 8
    sample = (channels, rows, cols) if ordering == 'th' else (rows, cols, channels)
    layer = built(Convolution2D(filters, 3, 3, border_mode='same', subsample=(2, 2),
                                dim_ordering=ordering), sample)
    assert conv2d_gemm._phased_plan((4, channels, rows, cols), (filters, channels, 3, 3),
                                    (4, filters, 5, 4), 2, 2, 1, 0) is not None
    x = np.random.RandomState(5).standard_normal((4,) + sample).astype('float32')
    x_th = x if ordering == 'th' else x.transpose(0, 3, 1, 2)
    w_th = layer.W if ordering == 'th' else layer.W.transpose(3, 2, 0, 1)
    # 'same' at stride 2: 5 x 4 outputs, one row of padding before, no column
    expected = reference_conv_th(x_th, w_th, layer.b, (2, 2), (1, 0), (5, 4))
    if ordering == 'tf':
        expected = expected.transpose(0, 2, 3, 1)
    np.testing.assert_allclose(layer.call(x), expected, rtol=1e-5, atol=1e-5)
    check_layer_gradients(layer, x)
