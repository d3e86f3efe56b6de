"""Winograd F(2x2, 3x3) and F(4x4, 3x3) convolutions (kernels/conv2d_winograd.py) against a NumPy loop.

The reference is written from the definition of the convolution (a loop over
the nine taps of zero-padded input, in float64) and shares no code with the
kernels. Output buffers are filled with NaN before each call, to check that
every element is written.
"""
import numba
import numpy as np
import pytest

from minikeras.kernels import conv2d_backward_input, conv2d_forward, conv_padding
from minikeras.kernels import bits, conv2d_winograd
from minikeras.kernels.conv2d_winograd import (use_winograd, winograd_backward_input,
                                               winograd_forward, winograd_tile)

pytestmark = pytest.mark.filterwarnings('error::numba.core.errors.NumbaWarning')


def ref_forward(x, w, b, pt, pl, OH, OW):
    """out[n, f, i, j] = b[f] + sum x[n, c, i + ki - pt, j + kj - pl] w[f, c, ki, kj]."""
    N, C, H, W = x.shape
    F = w.shape[0]
    xp = np.zeros((N, C, OH + 2, OW + 2))
    # the window of output (i, j) reads rows i - pt .. i - pt + 2 of x
    r0, r1 = max(0, -pt), min(H, OH + 2 - pt)
    c0, c1 = max(0, -pl), min(W, OW + 2 - pl)
    if r1 > r0 and c1 > c0:
        xp[:, :, r0 + pt:r1 + pt, c0 + pl:c1 + pl] = x[:, :, r0:r1, c0:c1]
    out = np.zeros((N, F, OH, OW)) + np.asarray(b, np.float64)[None, :, None, None]
    for ki in range(3):
        for kj in range(3):
            out += np.einsum('nchw,fc->nfhw', xp[:, :, ki:ki + OH, kj:kj + OW],
                             w[:, :, ki, kj].astype(np.float64))
    return out


def ref_backward_input(dout, w, x_shape, pt, pl):
    """Each output gradient added back onto the nine inputs its window read."""
    N, C, H, W = x_shape
    OH, OW = dout.shape[2], dout.shape[3]
    dxp = np.zeros((N, C, OH + 2, OW + 2))
    for ki in range(3):
        for kj in range(3):
            dxp[:, :, ki:ki + OH, kj:kj + OW] += np.einsum(
                'nfhw,fc->nchw', dout.astype(np.float64), w[:, :, ki, kj].astype(np.float64))
    dx = np.zeros((N, C, H, W))
    r0, r1 = max(0, -pt), min(H, OH + 2 - pt)
    c0, c1 = max(0, -pl), min(W, OW + 2 - pl)
    if r1 > r0 and c1 > c0:
        dx[:, :, r0:r1, c0:c1] = dxp[:, :, r0 + pt:r1 + pt, c0 + pl:c1 + pl]
    return dx


def _arrays(N, C, F, H, W, pt, pl, OH, OW, seed):
    rng = np.random.RandomState(seed)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = (rng.standard_normal((F, C, 3, 3)) / np.sqrt(9 * C)).astype(np.float32)
    b = rng.standard_normal(F).astype(np.float32)
    dout = rng.standard_normal((N, F, OH, OW)).astype(np.float32)
    return x, w, b, dout


def _assert_close(got, want, tile=2):
    # float32 rounding of sums of 9*C products: relative to the largest entry.
    # F(4x4, 3x3)'s transforms (factors up to 8, 6 terms) round 5-10 times
    # more: measured up to 5e-6 of the largest entry at 64-512 channels,
    # within the gradients' fidelity tolerance (1e-5 of the largest entry).
    if tile == 2:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-6 * np.abs(want).max())
    else:
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())


def _geometry(H, W, mode):
    pt, OH = conv_padding(H, 3, mode, 1)
    pl, OW = conv_padding(W, 3, mode, 1)
    return pt, pl, OH, OW


SHAPES = [
    # N, C, F, H, W, border mode
    (1, 3, 2, 4, 4, 'valid'),      # one tile
    (2, 5, 7, 9, 11, 'same'),      # odd sizes: half tiles at the bottom and right
    (3, 4, 6, 7, 6, 'valid'),      # odd output rows, even columns
    (2, 3, 5, 5, 8, 'full'),       # 'full' border (padding 2)
    (1, 2, 3, 3, 3, 'same'),       # a plane smaller than a tile
    (5, 16, 24, 13, 10, 'same'),   # tiles of several samples in one block
    (1, 64, 64, 56, 56, 'same'),   # VGG16-like, one image: blocks as tasks
    (1, 64, 64, 100, 130, 'same'),  # blocks of whole tile rows (3 of 2x2 tiles, 4 of 4x4)
    (1, 64, 64, 6, 500, 'same'),    # tile rows longer than a block: blocks cut them
    (1, 128, 128, 20, 20, 'same'),  # 128 channels: blocks past the small products' size
    (1, 128, 96, 14, 14, 'same'),  # VGG16-like small plane: one block, products as tasks
    (4, 64, 32, 30, 31, 'valid'),  # a batch, odd width
]


# the samples path (blocks of whole samples, channels last): its shapes
SAMPLE_SHAPES = [
    # N, C, F, H, W, border mode
    (1, 3, 2, 4, 4, 'valid'),       # one tile, channels below a vector
    (9, 5, 7, 9, 11, 'same'),       # odd sizes, a last block of fewer samples
    (8, 17, 33, 7, 6, 'valid'),     # channels past a whole vector
    (10, 16, 8, 5, 8, 'full'),      # 'full' border (padding 2)
    (8, 2, 3, 3, 3, 'same'),        # a plane smaller than a tile
    (12, 64, 64, 15, 15, 'valid'),  # cifar10_cnn's fourth convolution
    (8, 64, 32, 15, 15, 'same'),
]

# (forward, input gradient, shape): each path on its own shapes
REFERENCE_CASES = ([(winograd_forward, winograd_backward_input, shape) for shape in SHAPES]
                   + [(conv2d_winograd.winograd_samples_forward,
                       conv2d_winograd.winograd_samples_backward_input, shape)
                      for shape in SAMPLE_SHAPES])


@pytest.mark.parametrize('tile', [2, 4])
@pytest.mark.parametrize('forward,backward_input,shape', REFERENCE_CASES)
def test_winograd_forward_matches_reference(forward, backward_input, shape, tile):
    N, C, F, H, W, mode = shape
    pt, pl, OH, OW = _geometry(H, W, mode)
    x, w, b, _ = _arrays(N, C, F, H, W, pt, pl, OH, OW, seed=C + F)
    out = np.full((N, F, OH, OW), np.nan, np.float32)
    forward(x, w, b, out, pt, pl, tile)
    _assert_close(out, ref_forward(x, w, b, pt, pl, OH, OW), tile)


@pytest.mark.parametrize('tile', [2, 4])
@pytest.mark.parametrize('forward,backward_input,shape', REFERENCE_CASES)
def test_winograd_backward_input_matches_reference(forward, backward_input, shape, tile):
    N, C, F, H, W, mode = shape
    pt, pl, OH, OW = _geometry(H, W, mode)
    x, w, _, dout = _arrays(N, C, F, H, W, pt, pl, OH, OW, seed=C * F)
    dx = np.full(x.shape, np.nan, np.float32)
    backward_input(dout, w, dx, pt, pl, tile)
    _assert_close(dx, ref_backward_input(dout, w, x.shape, pt, pl), tile)

# (forward, input gradient, batch): the channels-first path, and the path
# on blocks of whole samples with a batch of more than one block
PATHS = [(winograd_forward, winograd_backward_input, 2),
         (conv2d_winograd.winograd_samples_forward,
          conv2d_winograd.winograd_samples_backward_input, 9)]


@pytest.mark.parametrize('tile', [2, 4])
@pytest.mark.parametrize('forward,backward_input,N', PATHS)
def test_winograd_any_padding_and_output_size(forward, backward_input, N, tile):
    # Padding above 2 (input gradient: a negative padding) and an output
    # that does not reach the input's last rows.
    C, F, H, W = 3, 4, 6, 7
    pt, pl, OH, OW = 3, 1, 5, 9
    x, w, b, dout = _arrays(N, C, F, H, W, pt, pl, OH, OW, seed=5)
    out = np.full((N, F, OH, OW), np.nan, np.float32)
    forward(x, w, b, out, pt, pl, tile)
    _assert_close(out, ref_forward(x, w, b, pt, pl, OH, OW), tile)
    dx = np.full(x.shape, np.nan, np.float32)
    backward_input(dout, w, dx, pt, pl, tile)
    _assert_close(dx, ref_backward_input(dout, w, x.shape, pt, pl), tile)


def test_rule_picks_wide_3x3_stride1_layers_on_large_planes():
    assert use_winograd(64, 64, 3, 3, False, 224, 224)
    assert use_winograd(512, 512, 3, 3, False, 28, 28)
    assert not use_winograd(512, 512, 3, 3, False, 14, 14)   # small plane, one sample
    # small planes with 512 channels and 192 tiles or more
    assert use_winograd(512, 512, 3, 3, False, 14, 14, 4)     # 4 x 49 tiles
    assert use_winograd(512, 1024, 3, 3, False, 7, 7, 12)     # 12 x 16 tiles
    assert not use_winograd(512, 512, 3, 3, False, 7, 7, 11)  # 176 tiles
    assert not use_winograd(256, 512, 3, 3, False, 14, 14, 32)  # 256 channels in
    assert not use_winograd(512, 512, 3, 3, False, 6, 6, 64)  # planes below 7
    assert not use_winograd(32, 64, 3, 3, False, 56, 56)     # few channels
    assert not use_winograd(64, 64, 3, 3, True, 56, 56)      # strided
    assert not use_winograd(64, 64, 5, 5, False, 56, 56)     # not 3x3


@pytest.mark.parametrize('C,F,side,tile,expect', [
    (64, 64, 224, 2, 224),     # two tile rows, 64 x 64 @ 64 x 224 within 1e6
    (64, 64, 224, 4, 224),     # four tile rows
    (64, 128, 112, 2, 112),    # two tile rows (1e6 // (64 * 128) = 122)
    (128, 128, 112, 2, 392),   # no block of 64 tiles within 1e6: 8 blocks of whole rows
    (64, 64, 1000, 2, 244),    # rows of 500 tiles: 1e6 // (64 * 64) tiles
])
def test_block_plan_keeps_small_products_and_whole_tile_rows(C, F, side, tile, expect):
    TW = -(-side // tile)
    assert conv2d_winograd._plan(TW * TW, TW, C, F, tile) == expect


@pytest.mark.parametrize('tile', [2, 4])
@pytest.mark.parametrize('flipped', [False, True])
def test_kernel_transform_matches_g_w_gt(tile, flipped):
    # 3 x 50 kernels: runs of _KERNEL_RUN and a shorter one, in 8 ranges of filters
    rng = np.random.RandomState(tile + 2 * flipped)
    w = rng.standard_normal((3, 50, 3, 3)).astype(np.float32)
    # G as the module docstring writes it
    G = {2: [[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]],
         4: [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [-1 / 3, 1 / 3, -1 / 3],
             [-16 / 15, -8 / 15, -4 / 15], [1 / 15, -2 / 15, 4 / 15], [0, 0, 1]]}[tile]
    g = w[:, :, ::-1, ::-1] if flipped else w
    want = np.einsum('ai,fcij,bj->abfc', G, g.astype(np.float64), G)
    got = conv2d_winograd._transform_kernel(w, tile, flipped)
    A = tile + 2
    assert got.shape == (A * A, 3, 50)
    np.testing.assert_allclose(got.reshape(A, A, 3, 50), want, rtol=0,
                               atol=1e-6 * np.abs(want).max())


def _direct_float32(x, w, pt, pl, OH, OW):
    """The same correlation as one float32 matrix product over the 9 C
    window entries (im2col + sgemm: the rounding of a direct float32 sum)."""
    N, C, H, W = x.shape
    xp = np.zeros((N, C, OH + 2, OW + 2), np.float32)
    xp[:, :, pt:pt + H, pl:pl + W] = x
    cols = np.stack([xp[:, :, ki:ki + OH, kj:kj + OW] for ki in range(3) for kj in range(3)], 2)
    cols = cols.reshape(N, C * 9, OH * OW)
    return (w.reshape(w.shape[0], C * 9) @ cols).reshape(N, w.shape[0], OH, OW)


@pytest.mark.parametrize('C', [64, 128])
def test_tile4_error_within_a_small_multiple_of_a_direct_float32_sum(C):
    # VGG-like data: relu activations, He-scaled weights. F(4x4, 3x3) with
    # the points 0, 1, -1, 1/2, -2 rounds 5-8 times as much as a direct
    # float32 sum at 64 and 128 channels (the points 0, 1, -1, 2, -2: 13-24
    # times).
    rng = np.random.RandomState(C)
    H = W = 40
    x = np.maximum(rng.standard_normal((1, C, H, W)), 0).astype(np.float32)
    w = (rng.standard_normal((C, C, 3, 3)) * np.sqrt(2.0 / (9 * C))).astype(np.float32)
    b = np.zeros(C, np.float32)
    want = ref_forward(x, w, b, 1, 1, H, W)
    direct_error = np.abs(_direct_float32(x, w, 1, 1, H, W) - want).max()
    out = np.full(x.shape, np.nan, np.float32)
    winograd_forward(x, w, b, out, 1, 1, 4)
    assert np.abs(out - want).max() <= 10 * direct_error


def test_tile_rule_takes_4x4_for_input_gradients_on_large_planes():
    assert winograd_tile(224, 224, True) == 4
    assert winograd_tile(64, 80, True) == 4
    assert winograd_tile(56, 56, True) == 4
    assert winograd_tile(28, 28, True) == 2
    assert winograd_tile(224, 224, False) == 2   # forward values keep F(2x2, 3x3)


@pytest.mark.parametrize('N,C,F,H,mode,expect', [
    (1, 64, 128, 32, 'same', True),    # one image, wide: im2col + sgemm before, Winograd now
    (2, 128, 64, 20, 'valid', True),   # F < C, a small batch
    (1, 64, 128, 12, 'same', False),   # small plane: stays on im2col + sgemm
    (16, 64, 64, 20, 'same', False),   # a batch at 64 x 64 channels: the direct loops
    (1, 64, 64, 66, 'same', True),     # a large plane: the input gradient on 4x4 tiles
    (4, 512, 512, 14, 'same', True),   # a small plane, 512 channels and 196 tiles
    (3, 512, 512, 14, 'same', False),  # ... 147 tiles: im2col + sgemm
])
def test_public_kernels_route_and_match_reference(monkeypatch, N, C, F, H, mode, expect):
    _check_route(monkeypatch, ('winograd_forward', 'winograd_backward_input'),
                 N, C, F, H, mode, expect, winograd_tile(H, H, True))


def _record_calls(monkeypatch, names):
    """A list that the functions of conv2d_winograd so named append their
    name to when called."""
    calls = []
    for name in names:
        original = getattr(conv2d_winograd, name)
        monkeypatch.setattr(conv2d_winograd, name,
                            lambda *a, _f=original, _n=name, **k:
                            (calls.append(_n), _f(*a, **k))[1])
    return calls


def _check_route(monkeypatch, names, N, C, F, H, mode, expect, dx_tile=2):
    """conv2d_forward and conv2d_backward_input call `names` (forward, input
    gradient): both when expect is True, neither when False, else the ones
    listed in expect; and match the NumPy loop."""
    calls = _record_calls(monkeypatch, names)
    pt, pl, OH, OW = _geometry(H, H, mode)
    x, w, b, dout = _arrays(N, C, F, H, H, pt, pl, OH, OW, seed=N + C)
    out = np.full((N, F, OH, OW), np.nan, np.float32)
    conv2d_forward(x, w, b, out, 1, 1, pt, pl)
    dx = np.full(x.shape, np.nan, np.float32)
    conv2d_backward_input(dout, w, dx, 1, 1, pt, pl)
    assert calls == (list(names) if expect is True else list(expect or []))
    _assert_close(out, ref_forward(x, w, b, pt, pl, OH, OW))
    _assert_close(dx, ref_backward_input(dout, w, x.shape, pt, pl), dx_tile)


@pytest.mark.parametrize('tile', [2, 4])
@pytest.mark.parametrize('shape', [(1, 64, 64, 40, 36, 'same'), (1, 96, 64, 14, 15, 'valid'),
                                   (6, 16, 8, 11, 9, 'same'), (1, 64, 64, 70, 66, 'same')])
def test_winograd_deterministic_across_runs_and_threads(shape, tile):
    _check_deterministic(shape, lambda *a: winograd_forward(*a, tile),
                         lambda *a: winograd_backward_input(*a, tile))


def _check_deterministic(shape, forward, backward_input):
    """forward(x, w, b, out, pt, pl) and backward_input(dout, w, dx, pt, pl)
    give the same bits twice on 1 thread and twice on 2."""
    N, C, F, H, W, mode = shape
    pt, pl, OH, OW = _geometry(H, W, mode)
    x, w, b, dout = _arrays(N, C, F, H, W, pt, pl, OH, OW, seed=3)
    before = numba.get_num_threads()
    results = []
    try:
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            for _ in range(2):
                out = np.full((N, F, OH, OW), np.nan, np.float32)
                forward(x, w, b, out, pt, pl)
                dx = np.full(x.shape, np.nan, np.float32)
                backward_input(dout, w, dx, pt, pl)
                results.append((out.tobytes(), dx.tobytes()))
    finally:
        numba.set_num_threads(before)
    assert all(r == results[0] for r in results[1:])


@pytest.mark.parametrize('ordering', ['th', 'tf'])
@pytest.mark.parametrize('border_mode', ['same', 'valid'])
def test_convolution2d_layer_on_the_winograd_path(monkeypatch, ordering, border_mode):
    """A wide 3x3 Convolution2D on one image, in either dim ordering: output
    against the NumPy loop, input and weight gradients against finite
    differences (the weight gradient runs as im2col + sgemm)."""
    from minikeras.layers import Convolution2D
    from gradcheck import check_layer_gradients
    calls = []
    original = conv2d_winograd.winograd_forward
    monkeypatch.setattr(conv2d_winograd, 'winograd_forward',
                        lambda *a: (calls.append('forward'), original(*a))[1])
    C, F, H, W = 64, 64, 19, 20
    sample = (C, H, W) if ordering == 'th' else (H, W, C)
    layer = Convolution2D(F, 3, 3, border_mode=border_mode, dim_ordering=ordering,
                          input_shape=sample)
    layer.build((None,) + sample)
    x = np.random.RandomState(2).standard_normal((1,) + sample).astype(np.float32)
    x_th = x if ordering == 'th' else x.transpose(0, 3, 1, 2)
    w_th = layer.W if ordering == 'th' else layer.W.transpose(3, 2, 0, 1)
    pt, pl, OH, OW = _geometry(H, W, border_mode)
    want = ref_forward(x_th, w_th, layer.b, pt, pl, OH, OW)
    if ordering == 'tf':
        want = want.transpose(0, 2, 3, 1)
    _assert_close(layer.call(x), want)
    assert calls == ['forward']
    check_layer_gradients(layer, x)


# ---------------------------------------------------------------------------
# The samples path: blocks of whole samples, channels last (small planes)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize('tile,factor,bound', [(2, 3, 1e-6), (4, 10, 1e-5)])
def test_winograd_samples_error_within_a_small_multiple_of_a_direct_float32_sum(tile, factor,
                                                                               bound):
    # cifar10_cnn-like data: relu activations, He-scaled weights, 64 channels;
    # within the forward values' tolerance on 2x2 tiles, the gradients' on 4x4.
    rng = np.random.RandomState(64)
    N, C, H = 16, 64, 15
    x = np.maximum(rng.standard_normal((N, C, H, H)), 0).astype(np.float32)
    w = (rng.standard_normal((C, C, 3, 3)) * np.sqrt(2.0 / (9 * C))).astype(np.float32)
    b = np.zeros(C, np.float32)
    want = ref_forward(x, w, b, 0, 0, H - 2, H - 2)
    direct_error = np.abs(_direct_float32(x, w, 0, 0, H - 2, H - 2) - want).max()
    out = np.full(want.shape, np.nan, np.float32)
    conv2d_winograd.winograd_samples_forward(x, w, b, out, 0, 0, tile)
    assert np.abs(out - want).max() <= factor * direct_error
    assert np.abs(out - want).max() <= bound * np.abs(want).max()


@pytest.mark.parametrize('tile', [2, 4])
@pytest.mark.parametrize('shape', [(12, 64, 64, 15, 15, 'valid'), (9, 5, 7, 9, 11, 'same')])
def test_winograd_samples_deterministic_across_runs_and_threads(shape, tile):
    _check_deterministic(shape, lambda *a: conv2d_winograd.winograd_samples_forward(*a, tile),
                         lambda *a: conv2d_winograd.winograd_samples_backward_input(*a, tile))


@pytest.mark.parametrize('N,C,F,H,mode,expect', [
    (8, 64, 64, 15, 'valid', True),     # cifar10_cnn's fourth convolution
    (32, 64, 96, 14, 'same', True),
    (8, 32, 64, 15, 'same', ['winograd_samples_backward_input']),  # forward: 32 channels in
    (8, 64, 32, 15, 'same', ['winograd_samples_backward_input']),  # forward: 32 channels out
    (8, 32, 32, 15, 'same', False),     # 32 channels: the direct loops
    (8, 16, 64, 15, 'same', False),     # 16 channels in: the direct loops
    (7, 64, 64, 15, 'valid', False),    # a small batch: im2col + sgemm
    (8, 64, 64, 18, 'valid', False),    # a 16x16 plane: the direct loops
    (8, 64, 64, 11, 'same', False),     # an 11x11 plane: the direct loops
])
def test_public_kernels_route_to_the_samples_path(monkeypatch, N, C, F, H, mode, expect):
    _check_route(monkeypatch, ('winograd_samples_forward', 'winograd_samples_backward_input'),
                 N, C, F, H, mode, expect, dx_tile=4)


def test_convolution2d_layer_on_the_samples_path(monkeypatch):
    """A 64 -> 64 3x3 Convolution2D on a batch of small planes: output
    against the NumPy loop, input and weight gradients against finite
    differences, with both of its calls on the samples path."""
    from minikeras.layers import Convolution2D
    from gradcheck import check_layer_gradients
    calls = _record_calls(monkeypatch, ('winograd_samples_forward',
                                        'winograd_samples_backward_input'))
    C, F, H, W = 64, 64, 13, 12
    layer = Convolution2D(F, 3, 3, border_mode='same', input_shape=(C, H, W))
    layer.build((None, C, H, W))
    x = np.random.RandomState(4).standard_normal((8, C, H, W)).astype(np.float32)
    pt, pl, OH, OW = _geometry(H, W, 'same')
    _assert_close(layer.call(x), ref_forward(x, layer.W, layer.b, pt, pl, OH, OW))
    check_layer_gradients(layer, x)
    assert 'winograd_samples_forward' in calls and 'winograd_samples_backward_input' in calls


# F(2x2)'s fused blocks: shapes that take them (F a multiple of 8, a small U)
FUSED_SHAPES = [
    # N, C, F, H, W, border mode
    (3, 5, 8, 9, 13, 'same'),      # sub-blocks across samples, a short last one
    (1, 64, 64, 40, 36, 'same'),
    (2, 24, 16, 30, 31, 'valid'),  # odd planes: half tiles at the bottom and right
    (1, 256, 256, 12, 12, 'same'),  # the largest U they take
]


@pytest.mark.parametrize('shape', FUSED_SHAPES)
def test_fused_blocks_match_reference_and_unfused_blocks(monkeypatch, shape):
    N, C, F, H, W, mode = shape
    pt, pl, OH, OW = _geometry(H, W, mode)
    x, w, b, _ = _arrays(N, C, F, H, W, pt, pl, OH, OW, seed=F)
    fused = []
    unwrapped = conv2d_winograd._fused2
    monkeypatch.setattr(conv2d_winograd, '_fused2', lambda *a: fused.append(unwrapped(*a)))
    monkeypatch.setattr(conv2d_winograd, '_FUSED_FITS', True)   # correct with spills too
    out = np.full((N, F, OH, OW), np.nan, np.float32)
    winograd_forward(x, w, b, out, pt, pl, 2)
    assert len(fused) == 1
    _assert_close(out, ref_forward(x, w, b, pt, pl, OH, OW))
    monkeypatch.setattr(conv2d_winograd, '_FUSED_CHANNELS', 0)
    unfused = np.full_like(out, np.nan)
    winograd_forward(x, w, b, unfused, pt, pl, 2)
    assert len(fused) == 1
    _assert_close(out, unfused)


@pytest.mark.parametrize('C,F,fused', [(64, 64, True), (8, 512, True), (256, 257, False),
                                       (512, 256, False), (64, 60, False)])
def test_fused_blocks_take_filters_in_eights_and_a_small_u(monkeypatch, C, F, fused):
    calls = []
    monkeypatch.setattr(conv2d_winograd, '_fused2', lambda *a: calls.append(1))
    x = np.zeros((1, C, 8, 8), np.float32)
    U = np.zeros((16, F, C), np.float32)
    conv2d_winograd._winograd(x, U, np.zeros(F, np.float32),
                              np.zeros((1, F, 8, 8), np.float32), 1, 1, 2)
    assert bool(calls) == (fused and conv2d_winograd._FUSED_FITS)


@pytest.mark.parametrize('n', [1, 31, 32, 64])
def test_products8_match_a_float64_product(n):
    rng = np.random.default_rng(n)
    K, F, C, t = 3, 16, 37, 64
    U = rng.standard_normal((K, F, C)).astype(np.float32)
    V = rng.standard_normal((K, C, t)).astype(np.float32)
    M = np.full((K, F, t), np.nan, np.float32)
    conv2d_winograd._products8(conv2d_winograd._pack_rows(U), V, M, n)
    want = np.matmul(U.astype(np.float64), V.astype(np.float64))[:, :, :n]
    np.testing.assert_allclose(M[:, :, :n], want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


# B^T and A^T of F(2x2, 3x3) and F(4x4, 3x3) (module docstring), for the
# transforms' own tests: (B^T, A^T, input transform, output transform, work)
_TRANSFORMS = {
    2: (np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.float64),
        np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float64),
        conv2d_winograd._input_transform, conv2d_winograd._output_transform,
        conv2d_winograd._input_work2),
    4: (np.array([[1, -1.5, -2, 1.5, 1, 0], [0, -1, .5, 2.5, 1, 0], [0, 1, -2.5, .5, 1, 0],
                  [0, -2, -1, 2, 1, 0], [0, .5, -1, -.5, 1, 0], [0, 1, -1.5, -2, 1.5, 1]]),
        np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, .5, -2, 0], [0, 1, 1, .25, 4, 0],
                  [0, 1, -1, .125, -8, 1]]),
        conv2d_winograd._input_transform6, conv2d_winograd._output_transform6,
        conv2d_winograd._input_work6),
}


def _tile_runs(N, TH, TW, t0, t1):
    return [((t // TW) // TH, (t // TW) % TH, t % TW, t) for t in range(t0, t1)]


@pytest.mark.parametrize('tile', [2, 4])
@pytest.mark.parametrize('pt,pl', [(1, 1), (0, 0), (2, 2), (3, -1)])
def test_input_transform_writes_its_channels_and_tiles_only(tile, pt, pl):
    # A block from mid tile row across samples, on channels 3 .. 6 of 10:
    # every (B^T d B)[k] in V's first t1 - t0 columns, nothing in the other
    # channels' rows (the whole vectors stay inside their row). Planes of
    # 2 tile rows: a sample's last tile row and the next one's first read
    # rows of the same numbers.
    BT, _, transform, _, work_shape = _TRANSFORMS[tile]
    A = tile + 2
    N, C, TH, TW = 3, 10, 2, 12
    H, W = tile * TH + 1, tile * TW - 1
    t0, t1, c0, c1 = 7, N * TH * TW - 3, 3, 7
    x = np.random.default_rng(pt).standard_normal((N, C, H, W)).astype(np.float32)
    V = np.full((A * A, C, conv2d_winograd._row_length(t1 - t0)), np.nan, np.float32)
    work = np.full(work_shape(W, TW, pl), np.nan, np.float32)
    transform(x, pt, pl, TH, TW, t0, t1, c0, c1, V, work)
    padded = np.zeros((N, C, H + 8, W + 40))
    padded[:, :, 4:4 + H, 20:20 + W] = x
    for n, i, j, t in _tile_runs(N, TH, TW, t0, t1):
        r, q = 4 + tile * i - pt, 20 + tile * j - pl
        d = padded[n, c0:c1, r:r + A, q:q + A]
        want = np.einsum('ab,cbd,ed->cae', BT, d, BT).reshape(c1 - c0, A * A).T
        np.testing.assert_allclose(V[:, c0:c1, t - t0], want, rtol=1e-5, atol=1e-4)
    assert np.isnan(V[:, :c0]).all() and np.isnan(V[:, c1:]).all()


@pytest.mark.parametrize('tile', [2, 4])
def test_output_transform_writes_its_filters_and_tiles_only(tile):
    # Tiles 5 .. 40 of two samples' 6 x 4 tiles, filters 2 .. 4 of 6, onto
    # planes with part tiles at the bottom and right; the rest untouched.
    _, AT, _, transform, _ = _TRANSFORMS[tile]
    A = tile + 2
    N, F, TH, TW = 2, 6, 6, 4
    OH, OW = tile * TH - 1, tile * TW - 1
    t0, t1, f0, f1 = 5, 41, 2, 5
    rng = np.random.default_rng(3)
    M = rng.standard_normal((A * A, F, conv2d_winograd._row_length(t1 - t0))).astype(np.float32)
    b = rng.standard_normal(F).astype(np.float32)
    out = np.full((N, F, OH, OW), np.nan, np.float32)
    transform(M, b, out, TH, TW, t0, t1, f0, f1)
    want = np.full((N, F, OH + tile, OW + tile), np.nan)
    for n, i, j, t in _tile_runs(N, TH, TW, t0, t1):
        m = M[:, f0:f1, t - t0].T.reshape(f1 - f0, A, A).astype(np.float64)
        want[n, f0:f1, tile * i:tile * (i + 1), tile * j:tile * (j + 1)] = (
            np.einsum('ab,cbd,ed->cae', AT, m, AT) + b[f0:f1, None, None])
    np.testing.assert_allclose(out, want[:, :, :OH, :OW], rtol=1e-5, atol=1e-4)


def test_transforms_refuse_rows_without_room_for_whole_vectors():
    x = np.zeros((1, 2, 8, 8), np.float32)
    V = np.zeros((16, 2, 16), np.float32)
    with pytest.raises(ValueError, match='V: rows too short'):
        conv2d_winograd._input_transform(x, 1, 1, 4, 4, 0, 16, 0, 2, V,
                                         np.zeros(conv2d_winograd._input_work2(8, 4, 1),
                                                  np.float32))
    with pytest.raises(ValueError, match='M: rows too short'):
        conv2d_winograd._output_transform(V, np.zeros(2, np.float32), np.zeros((1, 2, 8, 8),
                                          np.float32), 4, 4, 0, 16, 0, 2)


def test_products8_on_planes_an_odd_number_of_lines_apart():
    rng = np.random.default_rng(5)
    K, F, C, n = 4, 16, 24, 40
    V = conv2d_winograd._planes(None, K, C, 64)
    M = conv2d_winograd._planes('test_M', K, F, 64)
    lines = [a.strides[0] // 64 for a in (V, M)]
    assert all(count % 2 == 1 for count in lines) and V.strides[1:] == (256, 4)
    V[...] = rng.standard_normal(V.shape)
    U = rng.standard_normal((K, F, C)).astype(np.float32)
    conv2d_winograd._products8(conv2d_winograd._pack_rows(U), V, M, n)
    want = np.matmul(U.astype(np.float64), V.astype(np.float64))[:, :, :n]
    np.testing.assert_allclose(M[:, :, :n], want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def _counting_transforms(monkeypatch):
    """A list that grows by one for every kernel transform made."""
    made = []
    unwrapped = conv2d_winograd._transform_kernel
    monkeypatch.setattr(conv2d_winograd, '_transform_kernel',
                        lambda *a: made.append(a[1:]) or unwrapped(*a))
    conv2d_winograd.forget_transforms()
    return made


def test_kept_transforms_serve_repeated_calls_until_the_kernel_changes(monkeypatch):
    made = _counting_transforms(monkeypatch)
    monkeypatch.setattr(bits, '_RUN', 5000)   # compared in 7 tasks
    N, C, F, H, W = 1, 64, 64, 20, 20
    x, w, b, dout = _arrays(N, C, F, H, W, 1, 1, H, W, seed=7)
    first, again = np.empty((N, F, H, W), np.float32), np.empty((N, F, H, W), np.float32)
    winograd_forward(x, w, b, first, 1, 1, 2)
    winograd_forward(x, w, b, again, 1, 1, 2)
    assert made == [(2, False)]
    np.testing.assert_array_equal(first, again)
    # one tap changed in place, between the sampled ones, in the last task's
    # range: the same array, new values
    w[60, 5, 1, 2] += np.float32(0.5)
    winograd_forward(x, w, b, again, 1, 1, 2)
    assert made == [(2, False)] * 2
    _assert_close(again, ref_forward(x, w, b, 1, 1, H, W))
    assert not np.array_equal(first, again)
    dx = np.empty_like(x)
    for _ in range(2):
        winograd_backward_input(dout, w, dx, 1, 1, 4)
    assert made == [(2, False)] * 2 + [(4, True)]
    _assert_close(dx, ref_backward_input(dout, w, x.shape, 1, 1))
    # F(2x2)'s fused blocks on the transposed U: packed rows of their own
    monkeypatch.setattr(conv2d_winograd, '_FUSED_FITS', True)
    for _ in range(2):
        dx[...] = np.nan
        winograd_backward_input(dout, w, dx, 1, 1, 2)
        _assert_close(dx, ref_backward_input(dout, w, x.shape, 1, 1))
    assert made == [(2, False)] * 2 + [(4, True), (2, True)]


def _counting_comparisons(monkeypatch):
    """A list that grows by one for every kernel compared with its kept copy."""
    compared = []
    unwrapped = conv2d_winograd.same_bits
    monkeypatch.setattr(conv2d_winograd, 'same_bits',
                        lambda a, b: compared.append(1) or unwrapped(a, b))
    return compared


def test_a_backward_pass_given_its_forward_passs_kept_kernel_does_not_compare_again(
        monkeypatch):
    made = _counting_transforms(monkeypatch)
    compared = _counting_comparisons(monkeypatch)
    N, C, F, H, W = 1, 64, 64, 20, 20
    x, w, b, dout = _arrays(N, C, F, H, W, 1, 1, H, W, seed=8)
    out, dx = np.empty((N, F, H, W), np.float32), np.empty_like(x)
    checked = conv2d_forward(x, w, b, out, 1, 1, 1, 1)
    assert checked is not None and len(compared) == 0   # a new kernel: copied, not compared
    conv2d_backward_input(dout, w, dx, 1, 1, 1, 1, checked=checked)
    assert len(compared) == 0 and made == [(2, False), (2, True)]
    _assert_close(dx, ref_backward_input(dout, w, x.shape, 1, 1))
    conv2d_backward_input(dout, w, dx, 1, 1, 1, 1)
    assert len(compared) == 1
    # changed after that forward pass: its token no longer vouches for w
    w[3, 60, 2, 0] -= np.float32(0.75)
    again = conv2d_forward(x, w, b, out, 1, 1, 1, 1)
    assert again is not checked and len(compared) == 2
    conv2d_backward_input(dout, w, dx, 1, 1, 1, 1, checked=checked)
    assert len(compared) == 3 and len(made) == 4
    _assert_close(dx, ref_backward_input(dout, w, x.shape, 1, 1))


def test_a_layer_whose_forward_pass_skips_winograd_has_its_kernel_compared_in_backward():
    # 'valid' 3x3 on 16x16: the forward pass (14x14 outputs) runs as im2col
    # + sgemm, the input gradient (16x16) as Winograd's, which keeps a
    # transform of the kernel from one evaluation to the next
    from minikeras import backend as K
    from minikeras.layers import Convolution2D, Input
    from minikeras.models import Model
    conv2d_winograd.forget_transforms()
    image = Input(shape=(64, 16, 16))
    layer = Convolution2D(64, 3, 3, border_mode='valid')
    output = layer(image)
    gradient = K.function([image], [K.gradients(K.sum(output * output), [image])[0]])
    Model(image, output)
    x = np.random.RandomState(9).standard_normal((1, 64, 16, 16)).astype(np.float32)
    for scale in (1, 3):
        W, b = layer.get_weights()
        layer.set_weights([W * np.float32(scale), b])
        W = layer.get_weights()[0]
        dout = 2 * (ref_forward(x, W, b, 0, 0, 14, 14))
        want = ref_backward_input(dout.astype(np.float32), W, x.shape, 0, 0)
        np.testing.assert_allclose(gradient([x])[0], want, rtol=1e-4,
                                   atol=1e-5 * np.abs(want).max())


def test_kept_transforms_keep_to_their_budget(monkeypatch):
    made = _counting_transforms(monkeypatch)
    C = F = 16
    kernels = [np.full((F, C, 3, 3), k, np.float32) for k in range(3)]
    x = np.ones((1, C, 18, 18), np.float32)
    out = np.empty((1, F, 18, 18), np.float32)
    for k, w in enumerate(kernels + kernels[2:] + kernels[:1]):
        winograd_forward(x, w, np.zeros(F, np.float32), out, 1, 1, 2)
        if k == 0:   # room for two kernels' transforms, not three
            one = next(iter(conv2d_winograd._kept.values())).floats()
            monkeypatch.setattr(conv2d_winograd, '_KEPT_FLOATS', 2 * one + one // 2)
    # the third kernel pushed out the first: two kept, the first made again
    assert len(made) == 4
    assert len(conv2d_winograd._kept) == 2


def test_a_tf_ordered_layer_reuses_its_kept_transform_and_sees_new_weights(monkeypatch):
    from minikeras.layers import Convolution2D
    from minikeras.models import Sequential
    made = _counting_transforms(monkeypatch)
    model = Sequential([Convolution2D(64, 3, 3, border_mode='same', dim_ordering='tf',
                                      input_shape=(20, 20, 64))])
    x = np.random.RandomState(3).standard_normal((1, 20, 20, 64)).astype(np.float32)
    first = model.predict(x)
    np.testing.assert_array_equal(model.predict(x), first)
    assert made == [(2, False)]
    W, b = model.get_weights()
    W = (W * 2 + 0.25).astype(np.float32)
    model.set_weights([W, b])
    got = model.predict(x)
    assert made == [(2, False)] * 2
    want = ref_forward(x.transpose(0, 3, 1, 2), W.transpose(3, 2, 0, 1), b, 1, 1, 20, 20)
    _assert_close(got.transpose(0, 3, 1, 2), want)
    # one tap changed in place, away from the values compared first
    model.layers[0].W.reshape(-1)[1000] += np.float32(1.0)
    W = model.get_weights()[0]
    want = ref_forward(x.transpose(0, 3, 1, 2), W.transpose(3, 2, 0, 1), b, 1, 1, 20, 20)
    _assert_close(model.predict(x).transpose(0, 3, 1, 2), want)
    assert made == [(2, False)] * 3
