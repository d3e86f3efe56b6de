"""Numba kernels against independent NumPy references.

The references below are written from the definitions (np.pad plus strided
slicing, np.einsum, np.add.at), in float64, and share no code with the
kernels. Random shapes, strides, paddings and batch sizes come from
hypothesis; output buffers are filled with garbage before each call to check
that the kernels overwrite every element.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minikeras.kernels import (conv2d_backward_input, conv2d_backward_weights, conv2d_forward,
                               conv_output_length, conv_padding, maxpool2d_backward,
                               maxpool2d_forward, pool_output_length, pool_padding)
from thread_counts import assert_same_bits_on_each_thread_count

SETTINGS = settings(max_examples=30, deadline=None)

# A kernel that Numba compiles but cannot cache on disk warns: fail instead.
# (Visible on runs that compile, i.e. with an empty cache, as on CI.)
pytestmark = pytest.mark.filterwarnings('error::numba.core.errors.NumbaWarning')


# ---------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------

def _padded(x, pt, pb, pl, pr):
    """x zero padded by (pt, pb) rows and (pl, pr) columns; negative pads crop."""
    H, W = x.shape[2], x.shape[3]
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (max(pt, 0), max(pb, 0)),
                                       (max(pl, 0), max(pr, 0))))
    return xp[:, :, max(-pt, 0):max(-pt, 0) + H + pt + pb, max(-pl, 0):max(-pl, 0) + W + pl + pr]


def _tap_slices(ki, kj, sh, sw, OH, OW):
    return (slice(ki, ki + (OH - 1) * sh + 1, sh), slice(kj, kj + (OW - 1) * sw + 1, sw))


def _bottom_right(H, W, KH, KW, sh, sw, pt, pl, OH, OW):
    # Padding after the input so that the last window fits.
    return (OH - 1) * sh + KH - H - pt, (OW - 1) * sw + KW - W - pl


def ref_conv_forward(x, w, b, sh, sw, pt, pl, OH, OW):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    pb, pr = _bottom_right(H, W, KH, KW, sh, sw, pt, pl, OH, OW)
    xp = _padded(x, pt, pb, pl, pr)
    out = np.zeros((N, F, OH, OW)) + np.asarray(b, np.float64)[None, :, None, None]
    for ki in range(KH):
        for kj in range(KW):
            rows, cols = _tap_slices(ki, kj, sh, sw, OH, OW)
            out += np.einsum('nchw,fc->nfhw', xp[:, :, rows, cols],
                             w[:, :, ki, kj].astype(np.float64))
    return out


def ref_conv_backward_input(dout, w, x_shape, sh, sw, pt, pl):
    """Scatter each output gradient back onto the taps it read."""
    N, C, H, W = x_shape
    F, _, KH, KW = w.shape
    OH, OW = dout.shape[2], dout.shape[3]
    pb, pr = _bottom_right(H, W, KH, KW, sh, sw, pt, pl, OH, OW)
    dxp = np.zeros((N, C, H + pt + pb, W + pl + pr))
    for ki in range(KH):
        for kj in range(KW):
            rows, cols = _tap_slices(ki, kj, sh, sw, OH, OW)
            dxp[:, :, rows, cols] += np.einsum('nfhw,fc->nchw', dout.astype(np.float64),
                                               w[:, :, ki, kj].astype(np.float64))
    # Undo the padding: gradient landing on padding is dropped.
    full = np.zeros((N, C, H + max(pt, 0) + max(pb, 0), W + max(pl, 0) + max(pr, 0)))
    full[:, :, max(-pt, 0) + 0:max(-pt, 0) + dxp.shape[2],
         max(-pl, 0):max(-pl, 0) + dxp.shape[3]] = dxp
    return full[:, :, max(pt, 0):max(pt, 0) + H, max(pl, 0):max(pl, 0) + W]


def ref_conv_backward_weights(x, dout, KH, KW, sh, sw, pt, pl):
    N, C, H, W = x.shape
    OH, OW = dout.shape[2], dout.shape[3]
    pb, pr = _bottom_right(H, W, KH, KW, sh, sw, pt, pl, OH, OW)
    xp = _padded(x, pt, pb, pl, pr)
    d = dout.astype(np.float64)
    dw = np.zeros((dout.shape[1], C, KH, KW))
    for ki in range(KH):
        for kj in range(KW):
            rows, cols = _tap_slices(ki, kj, sh, sw, OH, OW)
            dw[:, :, ki, kj] = np.einsum('nfhw,nchw->fc', d, xp[:, :, rows, cols])
    return dw, d.sum(axis=(0, 2, 3))


def ref_maxpool(x, ph, pw, sh, sw, pt, pl, OH, OW):
    N, C, H, W = x.shape
    out = np.empty((N, C, OH, OW), np.float32)
    arg = np.empty((N, C, OH, OW), np.int64)
    for i in range(OH):
        for j in range(OW):
            r0, c0 = i * sh - pt, j * sw - pl
            rs = [r for r in range(r0, r0 + ph) if 0 <= r < H]
            cs = [c for c in range(c0, c0 + pw) if 0 <= c < W]
            window = x[:, :, rs][:, :, :, cs].reshape(N, C, -1)
            k = np.argmax(window, axis=2)  # first maximum in row-major order
            out[:, :, i, j] = np.take_along_axis(window, k[:, :, None], 2)[:, :, 0]
            arg[:, :, i, j] = np.array(rs)[k // len(cs)] * W + np.array(cs)[k % len(cs)]
    return out, arg


def ref_maxpool_backward(dout, argmax, x_shape):
    N, C, H, W = x_shape
    dx = np.zeros((N, C, H * W))
    for n in range(N):
        for c in range(C):
            np.add.at(dx[n, c], argmax[n, c].ravel(), dout[n, c].ravel().astype(np.float64))
    return dx.reshape(x_shape)


def test_references_are_adjoint():
    """<conv(x'), dout> = <x', dx> and <conv_w'(x), dout> = <w', dw>: the three
    conv references agree with each other (checked once, on an awkward shape)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((4, 3, 3, 2))
    geometry = (2, 1, 1, 0)  # strides (2, 1), pads (1, 0)
    OH, OW = 4, 5
    dout = rng.standard_normal((2, 4, OH, OW))
    x2 = rng.standard_normal(x.shape)
    w2 = rng.standard_normal(w.shape)
    zero = np.zeros(4)
    dx = ref_conv_backward_input(dout, w, x.shape, *geometry)
    dw, _ = ref_conv_backward_weights(x, dout, 3, 2, *geometry)
    lhs = (ref_conv_forward(x2, w, zero, *geometry, OH, OW) * dout).sum()
    np.testing.assert_allclose(lhs, (x2 * dx).sum(), rtol=1e-10)
    lhs = (ref_conv_forward(x, w2, zero, *geometry, OH, OW) * dout).sum()
    np.testing.assert_allclose(lhs, (w2 * dw).sum(), rtol=1e-10)


# ---------------------------------------------------------------------------
# Geometry strategies
# ---------------------------------------------------------------------------

@st.composite
def conv_cases(draw, strides=st.integers(1, 3), mode=None):
    """A convolution: shapes, strides, explicit pads and the output size.

    Half the cases use a Keras border mode through conv_padding; the others
    draw arbitrary pads before and after (up to k - 1, as TensorFlow can).
    """
    N = draw(st.integers(1, 4))
    C = draw(st.integers(1, 4))
    F = draw(st.integers(1, 6))
    KH = draw(st.integers(1, 5))
    KW = draw(st.integers(1, 5))
    sh = draw(strides)
    sw = draw(strides)
    H = draw(st.integers(1, 11))
    W = draw(st.integers(1, 11))
    if mode is not None or draw(st.booleans()):
        border = mode or draw(st.sampled_from(['valid', 'same', 'full']))
        if border == 'valid':
            H = max(H, KH)
            W = max(W, KW)
        pt, OH = conv_padding(H, KH, border, sh)
        pl, OW = conv_padding(W, KW, border, sw)
    else:
        pt = draw(st.integers(0, KH - 1))
        pl = draw(st.integers(0, KW - 1))
        pb = draw(st.integers(0, KH - 1))
        pr = draw(st.integers(0, KW - 1))
        H = max(H, KH - pt - pb)
        W = max(W, KW - pl - pr)
        OH = (H + pt + pb - KH) // sh + 1
        OW = (W + pl + pr - KW) // sw + 1
    return N, C, F, H, W, KH, KW, sh, sw, pt, pl, OH, OW


def _data(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _garbage(shape, dtype=np.float32):
    out = np.empty(shape, dtype)
    out.fill(np.nan if dtype == np.float32 else -12345)
    return out


def _run_conv(case, seed):
    N, C, F, H, W, KH, KW, sh, sw, pt, pl, OH, OW = case
    x, w, b, dout = _data(seed, (N, C, H, W), (F, C, KH, KW), (F,), (N, F, OH, OW))
    out = _garbage((N, F, OH, OW))
    conv2d_forward(x, w, b, out, sh, sw, pt, pl)
    dx = _garbage(x.shape)
    conv2d_backward_input(dout, w, dx, sh, sw, pt, pl)
    dw = _garbage(w.shape)
    db = _garbage(b.shape)
    conv2d_backward_weights(x, dout, dw, db, sh, sw, pt, pl)
    return (x, w, b, dout), (out, dx, dw, db)


def _check_conv(case, seed):
    N, C, F, H, W, KH, KW, sh, sw, pt, pl, OH, OW = case
    (x, w, b, dout), (out, dx, dw, db) = _run_conv(case, seed)
    # Each output sums C*KH*KW products, each input gradient up to F*KH*KW:
    # float32 rounding grows with the number of terms.
    np.testing.assert_allclose(out, ref_conv_forward(x, w, b, sh, sw, pt, pl, OH, OW),
                               rtol=1e-5, atol=1e-5 + 1e-7 * C * KH * KW)
    np.testing.assert_allclose(dx, ref_conv_backward_input(dout, w, x.shape, sh, sw, pt, pl),
                               rtol=1e-5, atol=1e-5 + 1e-7 * F * KH * KW)
    ref_dw, ref_db = ref_conv_backward_weights(x, dout, KH, KW, sh, sw, pt, pl)
    terms = N * OH * OW  # summed per weight: float32 rounding grows with it
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-5, atol=1e-5 + 1e-7 * terms)
    np.testing.assert_allclose(db, ref_db, rtol=1e-5, atol=1e-5 + 1e-7 * terms)


# ---------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------

@SETTINGS
@given(conv_cases(strides=st.just(1)), st.integers(0, 2 ** 32 - 1))
def test_conv_stride1_matches_reference(case, seed):
    _check_conv(case, seed)


@SETTINGS
@given(conv_cases(strides=st.integers(1, 3)), st.integers(0, 2 ** 32 - 1))
def test_conv_any_stride_matches_reference(case, seed):
    _check_conv(case, seed)


@pytest.mark.parametrize('mode', ['valid', 'same', 'full'])
@pytest.mark.parametrize('KH,KW', [(3, 3), (5, 5), (2, 4), (1, 1)])
def test_conv_border_modes(mode, KH, KW):
    H, W = 9, 8
    pt, OH = conv_padding(H, KH, mode, 1)
    pl, OW = conv_padding(W, KW, mode, 1)
    _check_conv((3, 2, 5, H, W, KH, KW, 1, 1, pt, pl, OH, OW), seed=KH * 10 + KW)


@pytest.mark.parametrize('mode', ['valid', 'same', 'full'])
def test_conv_one_dimensional(mode):
    """Convolution1D runs as (N, C, steps, 1) images with (F, C, k, 1) kernels."""
    steps, k = 17, 4
    pt, out_steps = conv_padding(steps, k, mode, 1)
    _check_conv((3, 5, 6, steps, 1, k, 1, 1, 1, pt, 0, out_steps, 1), seed=k)


@pytest.mark.parametrize('shape', [
    (100, 1, 28, 28, 4, 5),   # the seed model's three convolutions
    (100, 4, 24, 24, 8, 3),
    (100, 8, 11, 11, 16, 3),
    (37, 3, 6, 5, 7, 3),      # several sample groups, a short last one
])
def test_conv_real_shapes(shape):
    N, C, H, W, F, K = shape
    _check_conv((N, C, F, H, W, K, K, 1, 1, 0, 0, H - K + 1, W - K + 1), seed=N + C)


@pytest.mark.parametrize('mode', ['valid', 'same', 'full'])
@pytest.mark.parametrize('C,F', [(1, 4), (3, 5), (1, 7), (3, 9), (2, 6), (3, 32)])
def test_conv_3x3_filter_blocks(mode, C, F):
    """3x3 kernels on the direct path: the weight gradient's blocks of four
    filters, then a pair and a single filter for what is left; 1 and 3
    channels; planes whose wide rows (and stacked groups) are not a multiple
    of the 8-float vectors."""
    from minikeras.kernels.conv2d_gemm import use_gemm
    N, H, W = 5, 11, 7
    assert not use_gemm(C, F, 3, 3, False, N)
    pt, OH = conv_padding(H, 3, mode, 1)
    pl, OW = conv_padding(W, 3, mode, 1)
    _check_conv((N, C, F, H, W, 3, 3, 1, 1, pt, pl, OH, OW), seed=C * 10 + F)


@pytest.mark.parametrize('pads', ['valid', 'same', 'full', (0, 1, 2, 0), (2, 0, 1, 2)])
@pytest.mark.parametrize('KH,KW', [(3, 3), (5, 3)])
def test_conv_one_sample_in_bands_of_rows(pads, KH, KW):
    """One sample of 64 output rows and more (VGG16's first layer on one
    image) runs as bands of rows on the threads: the bands' shared rows of
    input, every border mode and uneven pads; 3 -> 5 channels and back (the
    input gradient)."""
    from minikeras.kernels.conv2d import _BAND_MIN_ROWS, _BANDS
    from minikeras.kernels.conv2d_gemm import use_gemm
    H, W = _BANDS * _BAND_MIN_ROWS + 4, 13
    assert not use_gemm(3, 5, KH, KW, False, 1)
    if isinstance(pads, str):
        pt, OH = conv_padding(H, KH, pads, 1)
        pl, OW = conv_padding(W, KW, pads, 1)
    else:
        pt, pb, pl, pr = [min(p, k - 1) for p, k in zip(pads, (KH, KH, KW, KW))]
        OH, OW = H + pt + pb - KH + 1, W + pl + pr - KW + 1
    assert OH >= _BANDS * _BAND_MIN_ROWS
    _check_conv((1, 3, 5, H, W, KH, KW, 1, 1, pt, pl, OH, OW), seed=KH * 7 + KW)


@pytest.mark.parametrize('pads', ['valid', 'same', 'full', (0, 1, 2, 0), (2, 0, 1, 2)])
@pytest.mark.parametrize('KH,KW', [(3, 3), (2, 4), (5, 3)])
def test_conv_shared_padding_in_sample_groups(pads, KH, KW):
    """Stacked samples share the zero rows between them, and wide rows the zero
    columns between them: groups of several samples (40 samples of small
    planes), every border mode and uneven pads (top, bottom, left, right)."""
    from minikeras.kernels.conv2d import _wide_geometry
    N, C, F, H, W = 40, 3, 5, 6, 7
    if isinstance(pads, str):
        pt, OH = conv_padding(H, KH, pads, 1)
        pl, OW = conv_padding(W, KW, pads, 1)
        pb, pr = OH + KH - 1 - H - pt, OW + KW - 1 - W - pl
    else:
        pt, pb, pl, pr = [min(p, k - 1) for p, k in zip(pads, (KH, KH, KW, KW))]
        OH, OW = H + pt + pb - KH + 1, W + pl + pr - KW + 1
    pitch, rows, _ = _wide_geometry.py_func(H, W, OH, OW, KH, KW, pt, pl)
    assert pitch == OW + KW - 1 - min(pl, pr) and rows == OH + KH - 1 - min(pt, pb)
    _check_conv((N, C, F, H, W, KH, KW, 1, 1, pt, pl, OH, OW), seed=KH * 7 + KW)


@pytest.mark.parametrize('L,off', [(1, 0), (7, 3), (8, 0), (13, 5), (61, 2), (200, 9)])
def test_dots_row3_x4_against_float64_loop(L, off):
    """The twelve dot products of the weight gradient's inner loop, on lengths
    that leave a remainder after the vectors, against a float64 loop."""
    from minikeras.kernels.conv2d import _dots_row3_x4
    rng = np.random.RandomState(L + off)
    d = rng.standard_normal((4, L + 3)).astype(np.float32)
    x = rng.standard_normal(off + L + 2).astype(np.float32)
    got = _dots_row3_x4(d[0], d[1], d[2], d[3], x, off, L)
    want = [sum(float(d[f, p]) * float(x[off + kj + p]) for p in range(L))
            for f in range(4) for kj in range(3)]
    np.testing.assert_allclose(np.array(got, np.float64), want, rtol=1e-5, atol=1e-5 * L)



@pytest.mark.parametrize('F,C,pitch,vectors', [(3, 1, 3, 1), (7, 2, 26, 3), (8, 3, 17, 40),
                                                (1, 2, 5, 2)])
def test_dw3x3_tiles_against_float64_loop(F, C, pitch, vectors):
    """The weight gradient's register tiles (three filters by nine taps, over
    the positions a machine vector at a time; a last block of one or two
    filters) against a float64 loop."""
    from minikeras.kernels.conv2d import _dw3x3_tiles
    from minikeras.kernels.register_tile import VECTOR_LANES
    rng = np.random.RandomState(F + C + pitch)
    L = vectors * VECTOR_LANES
    ds = rng.standard_normal((F, L + 3)).astype(np.float32)
    xs = rng.standard_normal((C, L + 2 * pitch + 2)).astype(np.float32)
    dw = np.full((F, C, 3, 3), np.nan, np.float32)
    _dw3x3_tiles(ds, xs, pitch, L, dw)
    want = np.empty((F, C, 3, 3))
    for ki in range(3):
        for kj in range(3):
            tap = xs[:, ki * pitch + kj:ki * pitch + kj + L].astype(np.float64)
            want[:, :, ki, kj] = ds[:, :L].astype(np.float64) @ tap.T
    np.testing.assert_allclose(dw, want, rtol=1e-5, atol=1e-6 * L)


def test_weight_tiles_rule():
    """Register tiles for the 3x3 weight gradient where 31 vector registers
    are free (AVX-512's 32), the row dot products with AVX2's 16."""
    from minikeras.kernels.conv2d import weight_tiles_fit
    assert weight_tiles_fit(32) and not weight_tiles_fit(16)


@pytest.mark.parametrize('tiles', [False, True])
@pytest.mark.parametrize('shape', [(5, 3, 7, 11, 9, 'same'), (4, 2, 8, 9, 8, 'valid')])
def test_stride1_weight_gradient_either_path(tiles, shape):
    """Both 3x3 weight-gradient paths (the register tiles and the row dot
    products, which CPUs without 32 vector registers take) against the
    reference, whichever this CPU picks."""
    from minikeras.kernels.conv2d import _backward_weights_s1
    N, C, F, H, W, mode = shape
    pt, OH = conv_padding(H, 3, mode, 1)
    pl, OW = conv_padding(W, 3, mode, 1)
    x, dout = _data(F, (N, C, H, W), (N, F, OH, OW))
    dw, db = _garbage((F, C, 3, 3)), _garbage((F,))
    _backward_weights_s1(x, dout, dw, db, pt, pl, tiles)
    ref_dw, ref_db = ref_conv_backward_weights(x, dout, 3, 3, 1, 1, pt, pl)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(db, ref_db, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('tiles', [False, True])
@pytest.mark.parametrize('shape', [(19, 2, 5, 2, 'same'), (20, 3, 4, 4, 'same'),
                                   (11, 1, 6, 9, 'valid')])
def test_stride1_weight_gradient_groups_in_one_range(tiles, shape):
    """A range of sample groups reuses one wide output-gradient buffer: the
    per-group partials are bit for bit those of each group run alone, also
    for a short last group whose rounded length reads past its own samples
    (2x2 planes), and they add up to the reference."""
    from minikeras.kernels.conv2d import (_GROUP_MULTIPLE, _backward_weights_s1_groups,
                                          _group_size, _wide_geometry)
    N, C, F, H, mode = shape
    pad, OH = conv_padding(H, 3, mode, 1)
    x, dout = _data(N + H, (N, C, H, H), (N, F, OH, OH))
    pitch, rows, _ = _wide_geometry.py_func(H, H, OH, OH, 3, 3, pad, pad)
    gs = _group_size.py_func(N, rows * pitch, _GROUP_MULTIPLE)
    ng = -(-N // gs)
    assert gs > 1 and N % gs != 0
    together = _garbage((ng, F, C, 3, 3)), _garbage((ng, F))
    _backward_weights_s1_groups(x, dout, together[0], together[1], pad, pad, gs, tiles, 0, ng)
    alone = _garbage((ng, F, C, 3, 3)), _garbage((ng, F))
    for g in range(ng):
        _backward_weights_s1_groups(x, dout, alone[0], alone[1], pad, pad, gs, tiles, g, g + 1)
    for a, b in zip(together, alone):
        assert np.array_equal(a.view(np.int32), b.view(np.int32))
    ref_dw, ref_db = ref_conv_backward_weights(x, dout, 3, 3, 1, 1, pad, pad)
    np.testing.assert_allclose(together[0].sum(axis=0), ref_dw, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(together[1].sum(axis=0), ref_db, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('L,pitch', [(1, 3), (7, 5), (8, 3), (13, 9), (61, 16), (200, 31)])
def test_plane3x3_against_float64_loop(L, pitch):
    """The forward pass's inner loops (nine taps of one channel added into the
    accumulators of four filters, or of one), on lengths that leave a
    remainder after the vectors, against a float64 loop."""
    from minikeras.kernels.conv2d import _plane3x3_x1, _plane3x3_x4
    rng = np.random.RandomState(L + pitch)
    x = rng.standard_normal(L + 2 * pitch + 2).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    start = rng.standard_normal((4, L)).astype(np.float32)
    want = start.astype(np.float64)
    for f in range(4):
        for p in range(L):
            for ki in range(3):
                for kj in range(3):
                    want[f, p] += float(w[f + 2, 1, ki, kj]) * float(x[p + ki * pitch + kj])
    acc = start.copy()
    _plane3x3_x4(acc[0], acc[1], acc[2], acc[3], x, pitch, w, 2, 1)
    np.testing.assert_allclose(acc, want, rtol=1e-5, atol=1e-5)
    one = start[0].copy()
    _plane3x3_x1(one, x, pitch, w, 2, 1)
    np.testing.assert_allclose(one, want[0], rtol=1e-5, atol=1e-5)

@pytest.mark.parametrize('F,C,pitch', [(4, 1, 3), (8, 3, 26), (12, 2, 31)])
def test_plane3x3_tiles_against_float64_loop_and_channel_loop(F, C, pitch):
    """The forward pass's register tiles (four filters by TILE_LANES positions,
    over every channel) against a float64 loop, and bit for bit against the
    channel-at-a-time loop (_plane3x3_x4), which sums in the same order."""
    from minikeras.kernels.conv2d import _pack_3x3_blocks, _plane3x3_tiles, _plane3x3_x4
    from minikeras.kernels.register_tile import TILE_LANES
    rng = np.random.RandomState(F + C + pitch)
    L = 3 * TILE_LANES
    xs = rng.standard_normal((C, L + 2 * pitch + 2)).astype(np.float32)
    w = rng.standard_normal((F, C, 3, 3)).astype(np.float32)
    b = rng.standard_normal(F).astype(np.float32)
    acc = np.full((F, L + 5), np.nan, np.float32)
    _plane3x3_tiles(xs, pitch, _pack_3x3_blocks(w), b, acc, L)
    assert np.isnan(acc[:, L:]).all()
    want = np.repeat(b.astype(np.float64)[:, None], L, axis=1)
    for ki in range(3):
        for kj in range(3):
            tap = xs[:, ki * pitch + kj:ki * pitch + kj + L].astype(np.float64)
            want += np.einsum('fc,cp->fp', w[:, :, ki, kj].astype(np.float64), tap)
    np.testing.assert_allclose(acc[:, :L], want, rtol=1e-5, atol=1e-5 * C)
    loop = np.repeat(b[:, None], L, axis=1)
    for f in range(0, F, 4):
        for c in range(C):
            _plane3x3_x4(loop[f], loop[f + 1], loop[f + 2], loop[f + 3], xs[c], pitch, w, f, c)
    assert np.array_equal(acc[:, :L], loop)


@pytest.mark.parametrize('shape', [
    # N, C, F, H, W, K, stride, border mode: wide layers, run as matrix products
    (3, 128, 256, 7, 7, 3, 1, 'same'),    # mnist_acgan's discriminator, last convolution
    (2, 64, 128, 14, 14, 3, 2, 'same'),   # ... its third, stride 2
    (4, 1, 32, 28, 28, 3, 2, 'same'),     # ... its first: one channel, stride 2
    (1, 128, 80, 30, 30, 5, 1, 'same'),   # a sample cut into blocks of rows
    (5, 64, 129, 7, 6, 3, 1, 'full'),     # odd filter count, 'full' border
    (1, 64, 48, 100, 90, 3, 1, 'same'),   # one image (VGG16's step): blocks of rows on threads
    (2, 16, 24, 9, 11, 3, 1, 'valid'),    # a small batch of small images: split products
    (9, 64, 128, 5, 6, 3, 1, 'same'),     # more filters than channels: input gradient by col2im
    (1, 96, 96, 14, 14, 3, 1, 'same'),    # VGG16's 14x14 layers, narrower: split col2im
    (2, 128, 128, 14, 13, 5, 1, 'same'),  # a small batch in blocks of rows: split col2im
])
def test_conv_wide_layers_match_reference(shape):
    from minikeras.kernels.conv2d_gemm import _plan, use_gemm
    N, C, F, H, W, K, s, mode = shape
    pt, OH = conv_padding(H, K, mode, s)
    pl, OW = conv_padding(W, K, mode, s)
    assert use_gemm(C, F, K, K, s > 1, N)
    if H == 30:
        assert _plan(N, C, K, K, OH, OW)[1] < OH
    _check_conv((N, C, F, H, W, K, K, s, s, pt, pl, OH, OW), seed=C + F)


@pytest.mark.parametrize('N,C,F,H,expect', [
    (1, 512, 512, 14, True),    # VGG16's conv5_x on one image: no flipped copy of the kernel
    (2, 128, 128, 14, True),    # a small batch of square layers
    (1, 64, 48, 100, False),    # fewer filters on a large plane: the flipped kernel
    (8, 512, 512, 14, False),   # a batch to share out by samples
])
def test_small_batch_input_gradient_route(monkeypatch, N, C, F, H, expect):
    from minikeras.kernels import conv2d_gemm
    calls = []
    monkeypatch.setattr(conv2d_gemm, '_backward_input_in_turn', lambda *a: calls.append(a))
    monkeypatch.setattr(conv2d_gemm, 'gemm_forward', lambda *a: calls.append(None))
    monkeypatch.setattr(conv2d_gemm, '_col2im_add', lambda *a: None)
    dx = np.zeros((N, C, H, H), np.float32)
    conv2d_gemm.gemm_backward_input(np.zeros((N, F, H, H), np.float32),
                                    np.zeros((F, C, 3, 3), np.float32), dx, 1, 1, 1, 1)
    assert (calls[0] is not None) == expect


@pytest.mark.parametrize('shape', [(37, 21, 3, 2), (16, 32, 3, 3), (1, 5, 1, 4)])
def test_flipped_swapped_kernel_matches_numpy_view(shape):
    from minikeras.kernels.conv2d_gemm import _flipped_swapped
    w = np.random.RandomState(0).standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(_flipped_swapped(w), w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])


@pytest.mark.parametrize('case', [
    (37, 3, 6, 10, 9, 3, 3, 1, 1, 1, 1, 10, 9),    # stride-1 path, 'same'
    (23, 2, 5, 9, 9, 5, 5, 1, 1, 0, 0, 5, 5),      # stride-1 path, 'valid'
    (19, 2, 3, 9, 8, 3, 2, 2, 3, 1, 0, 5, 3),      # any-stride path
    (21, 64, 128, 6, 5, 3, 3, 1, 1, 1, 1, 6, 5),   # matrix-product path
    (3, 40, 16, 24, 20, 5, 5, 2, 1, 2, 2, 12, 20),  # matrix products, blocks of rows
    (1, 64, 48, 100, 90, 3, 3, 1, 1, 1, 1, 100, 90),  # one image: blocks of rows on threads
    (1, 64, 48, 9, 7, 3, 3, 1, 1, 1, 1, 9, 7),      # one small image: split products
    (1, 96, 96, 14, 14, 3, 3, 1, 1, 1, 1, 14, 14),  # one 14x14 image: split steps
    (1, 3, 5, 70, 9, 3, 3, 1, 1, 1, 1, 70, 9),      # one image: bands of rows
    (2, 128, 128, 14, 13, 5, 5, 1, 1, 2, 2, 14, 13),  # split col2im, blocks of rows
])
def test_conv_deterministic_across_runs_and_threads(case):
    assert_same_bits_on_each_thread_count(lambda: _run_conv(case, seed=7)[1], repeats=2)


def test_conv_rejects_mismatched_shapes():
    x, w, b = _data(0, (2, 3, 5, 5), (4, 3, 3, 3), (4,))
    with pytest.raises(ValueError, match='input channels'):
        conv2d_forward(x, np.ascontiguousarray(w[:, :2]), b, np.empty((2, 4, 3, 3), np.float32),
                       1, 1, 0, 0)
    with pytest.raises(ValueError, match='one entry per filter'):
        conv2d_forward(x, w, b[:3].copy(), np.empty((2, 4, 3, 3), np.float32), 1, 1, 0, 0)
    with pytest.raises(ValueError, match='filters'):
        conv2d_forward(x, w, b, np.empty((2, 5, 3, 3), np.float32), 1, 1, 0, 0)
    with pytest.raises(ValueError, match='strides'):
        conv2d_forward(x, w, b, np.empty((2, 4, 3, 3), np.float32), 0, 1, 0, 0)
    with pytest.raises(ValueError, match='padding'):
        conv2d_forward(x, w, b, np.empty((2, 4, 3, 3), np.float32), 1, 1, -1, 0)


# ---------------------------------------------------------------------------
# Output-size and padding helpers
# ---------------------------------------------------------------------------

@given(st.integers(1, 60), st.integers(1, 9), st.integers(1, 5),
       st.sampled_from(['valid', 'same', 'full']))
def test_conv_output_length_formulas(L, k, s, mode):
    expected = {'valid': math.ceil((L - k + 1) / s), 'same': math.ceil(L / s),
                'full': math.ceil((L + k - 1) / s)}[mode]
    assert conv_output_length(L, k, mode, s) == expected
    if expected < 1:
        with pytest.raises(ValueError, match='does not fit'):
            conv_padding(L, k, mode, s)
        return
    pad, out = conv_padding(L, k, mode, s)
    assert out == expected
    if mode == 'valid':
        assert pad == 0
    elif mode == 'full':
        assert pad == k - 1
    else:
        assert pad == max((out - 1) * s + k - L, 0) // 2
    # The last window starts inside the padded input.
    assert (out - 1) * s <= L + 2 * (k - 1)


def test_conv_output_length_keras_examples():
    assert conv_output_length(28, 5, 'valid', 1) == 24
    assert conv_output_length(28, 3, 'same', 2) == 14
    assert conv_output_length(28, 3, 'full', 1) == 30
    assert conv_output_length(None, 3, 'same', 1) is None
    assert conv_padding(28, 3, 'same', 1) == (1, 28)
    assert conv_padding(28, 4, 'same', 1) == (1, 28)   # TF: the extra row goes after
    assert conv_padding(7, 3, 'same', 2) == (1, 4)


def test_helpers_reject_bad_arguments():
    with pytest.raises(ValueError, match='border_mode'):
        conv_output_length(10, 3, 'causal', 1)
    with pytest.raises(ValueError, match='stride'):
        conv_padding(10, 3, 'same', 0)
    with pytest.raises(ValueError, match='border_mode'):
        pool_padding(10, 2, 'full', 2)
    with pytest.raises(ValueError, match='pool size'):
        pool_output_length(10, 0, 'valid', 1)


@given(st.integers(1, 60), st.integers(1, 6), st.integers(1, 5), st.sampled_from(['valid', 'same']))
def test_pool_output_length_formulas(L, k, s, mode):
    expected = math.ceil((L - k + 1) / s) if mode == 'valid' else math.ceil(L / s)
    assert pool_output_length(L, k, mode, s) == expected
    if expected >= 1:
        pad, out = pool_padding(L, k, mode, s)
        assert out == expected
        assert pad == (0 if mode == 'valid' else max((out - 1) * s + k - L, 0) // 2)


# ---------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------

@st.composite
def pool_cases(draw):
    N = draw(st.integers(1, 4))
    C = draw(st.integers(1, 4))
    ph = draw(st.integers(1, 4))
    pw = draw(st.integers(1, 4))
    sh = draw(st.integers(1, 3))
    sw = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(['valid', 'same']))
    H = draw(st.integers(1, 12))
    W = draw(st.integers(1, 12))
    if mode == 'valid':
        H = max(H, ph)
        W = max(W, pw)
    pt, OH = pool_padding(H, ph, mode, sh)
    pl, OW = pool_padding(W, pw, mode, sw)
    return N, C, H, W, ph, pw, sh, sw, pt, pl, OH, OW


def _check_pool(case, x, dout_seed):
    N, C, H, W, ph, pw, sh, sw, pt, pl, OH, OW = case
    out = _garbage((N, C, OH, OW))
    argmax = _garbage((N, C, OH, OW), np.int32)
    maxpool2d_forward(x, out, argmax, ph, pw, sh, sw, pt, pl)
    ref_out, ref_arg = ref_maxpool(x, ph, pw, sh, sw, pt, pl, OH, OW)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(argmax, ref_arg)
    (dout,) = _data(dout_seed, (N, C, OH, OW))
    dx = _garbage(x.shape)
    maxpool2d_backward(dout, argmax, dx)
    np.testing.assert_allclose(dx, ref_maxpool_backward(dout, ref_arg, x.shape),
                               rtol=1e-6, atol=1e-6)


@SETTINGS
@given(pool_cases(), st.integers(0, 2 ** 32 - 1))
def test_maxpool_matches_reference(case, seed):
    N, C, H, W = case[:4]
    (x,) = _data(seed, (N, C, H, W))
    _check_pool(case, x, seed + 1)


@SETTINGS
@given(pool_cases(), st.integers(0, 2 ** 32 - 1))
def test_maxpool_ties_go_to_first_in_window(case, seed):
    """Few distinct values, so most windows hold several equal maxima."""
    N, C, H, W = case[:4]
    rng = np.random.default_rng(seed)
    x = rng.integers(-1, 2, size=(N, C, H, W)).astype(np.float32)
    _check_pool(case, x, seed + 1)


@pytest.mark.parametrize('H,W', [(22, 22), (9, 9), (8, 5)])
def test_maxpool_2x2_fast_path(H, W):
    """2x2 stride 2 'valid' (the common case has its own loop), odd sizes included."""
    pt, OH = pool_padding(H, 2, 'valid', 2)
    pl, OW = pool_padding(W, 2, 'valid', 2)
    case = (5, 3, H, W, 2, 2, 2, 2, pt, pl, OH, OW)
    (x,) = _data(H * W, (5, 3, H, W))
    _check_pool(case, x, 1)
    x = np.zeros((5, 3, H, W), np.float32)   # all ties: the top-left element wins
    _check_pool(case, x, 2)


def test_maxpool_padding_never_wins():
    """'same' windows hanging over the edge of an all-negative input."""
    x = -1.0 - np.arange(2 * 5 * 5, dtype=np.float32).reshape(1, 2, 5, 5)
    pt, OH = pool_padding(5, 3, 'same', 2)
    pl, OW = pool_padding(5, 3, 'same', 2)
    out = _garbage((1, 2, OH, OW))
    argmax = _garbage((1, 2, OH, OW), np.int32)
    maxpool2d_forward(x, out, argmax, 3, 3, 2, 2, pt, pl)
    assert (out < 0).all()
    flat = x.reshape(1, 2, 25)
    np.testing.assert_array_equal(out, np.take_along_axis(flat, argmax.reshape(1, 2, -1), 2)
                                  .reshape(out.shape))


def test_maxpool_backward_adds_overlapping_windows():
    x = np.zeros((1, 1, 3, 3), np.float32)
    x[0, 0, 1, 1] = 5.0                    # the centre wins all four 2x2 windows
    out = _garbage((1, 1, 2, 2))
    argmax = _garbage((1, 1, 2, 2), np.int32)
    maxpool2d_forward(x, out, argmax, 2, 2, 1, 1, 0, 0)
    assert (argmax == 4).all()
    dx = _garbage(x.shape)
    maxpool2d_backward(np.ones((1, 1, 2, 2), np.float32), argmax, dx)
    expected = np.zeros((1, 1, 3, 3), np.float32)
    expected[0, 0, 1, 1] = 4.0
    np.testing.assert_array_equal(dx, expected)


def test_maxpool_backward_rejects_bad_argmax():
    dx = np.empty((1, 1, 2, 2), np.float32)
    with pytest.raises(ValueError, match='argmax'):
        maxpool2d_backward(np.ones((1, 1, 1, 1), np.float32),
                           np.full((1, 1, 1, 1), 4, np.int32), dx)


def test_maxpool_deterministic_across_threads():
    (x,) = _data(3, (41, 5, 13, 11))
    case_geometry = (3, 3, 2, 2, 1, 1)  # pool, strides, pads: 13x11 -> 7x6

    def run():
        out = _garbage((41, 5, 7, 6))
        argmax = _garbage((41, 5, 7, 6), np.int32)
        maxpool2d_forward(x, out, argmax, *case_geometry)
        dx = _garbage(x.shape)
        maxpool2d_backward(out, argmax, dx)
        return out, argmax, dx
    assert_same_bits_on_each_thread_count(run)
