"""Convolution of upsampled images computed before the upsampling
(kernels/conv2d_upsampled.py, Convolution2D.forward_on_upsampled and the
walk that calls it) against float64 loops from the definition and against
the same model run upsampling first."""
import numpy as np
import pytest

from minikeras.kernels.conv2d import conv_padding
from minikeras.kernels.conv2d_upsampled import UpsampledCorrelation
from minikeras.layers import convolutional
from test_kernels import _data, _garbage
from thread_counts import assert_same_bits_on_each_thread_count

pytestmark = pytest.mark.filterwarnings('error::numba.core.errors.NumbaWarning')


def _reference(x, w, b, dout, factors, pads):
    """float64 out, dx, dw, db of the correlation of x upsampled by `factors`,
    by loops over the taps of the upsampled planes."""
    fh, fw = factors
    pt, pl = pads
    u = np.repeat(np.repeat(x.astype(np.float64), fh, axis=2), fw, axis=3)
    N, C, UH, UW = u.shape
    F, _, KH, KW = w.shape
    OH, OW = dout.shape[2:]
    out = np.zeros((N, F, OH, OW)) + b[None, :, None, None]
    du = np.zeros(u.shape)
    dw = np.zeros(w.shape)
    w64, dout64 = w.astype(np.float64), dout.astype(np.float64)
    for r in range(OH):
        for s in range(OW):
            for ki in range(KH):
                for kj in range(KW):
                    a, c = r + ki - pt, s + kj - pl
                    if 0 <= a < UH and 0 <= c < UW:
                        out[:, :, r, s] += u[:, :, a, c] @ w64[:, :, ki, kj].T
                        du[:, :, a, c] += dout64[:, :, r, s] @ w64[:, :, ki, kj]
                        dw[:, :, ki, kj] += dout64[:, :, r, s].T @ u[:, :, a, c]
    dx = du.reshape(N, C, x.shape[2], fh, x.shape[3], fw).sum(axis=(3, 5))
    return out, dx, dw, dout64.sum(axis=(0, 2, 3))


@pytest.mark.parametrize('N,C,F,H,W,KH,KW,factors,mode', [
    (3, 4, 5, 4, 5, 5, 5, (2, 2), 'same'),      # mnist_acgan's generator, small
    (2, 3, 2, 5, 3, 5, 4, (2, 3), 'valid'),     # odd output sizes: partial phases
    (2, 3, 4, 3, 4, 7, 5, (3, 2), 'same'),
    (2, 2, 3, 3, 2, 5, 5, (2, 2), 'full'),
    (9, 64, 16, 6, 6, 5, 5, (2, 2), 'same'),    # wide enough for the matrix products
])
def test_upsampled_correlation_matches_float64_loops(N, C, F, H, W, KH, KW, factors, mode):
    pt, OH = conv_padding(H * factors[0], KH, mode, 1)
    pl, OW = conv_padding(W * factors[1], KW, mode, 1)
    x, w, b, dout = _data(7, (N, C, H, W), (F, C, KH, KW), (F,), (N, F, OH, OW))
    folded = UpsampledCorrelation.fold(w, b, factors, (pt, pl), (OH, OW))
    assert folded is not None

    def run():
        out, dx, dw, db = (_garbage(s) for s in ((N, F, OH, OW), x.shape, w.shape, b.shape))
        folded.forward(x, out)
        phases = folded.phases(dout)
        folded.backward_input(phases, dx)
        folded.backward_weights(x, phases, dw, db)
        return out, dx, dw, db

    got = run()
    scale = np.sqrt(C * KH * KW)
    for value, expected in zip(got, _reference(x, w, b, dout, factors, (pt, pl))):
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=2e-6 * scale * np.sqrt(N))
    assert_same_bits_on_each_thread_count(run, repeats=2)


@pytest.mark.parametrize('KH,KW,factors,pads', [(3, 3, (2, 2), (1, 1)), (2, 2, (2, 2), (0, 0)),
                                               (5, 5, (1, 1), (2, 2))])
def test_folding_that_would_not_halve_the_taps_is_declined(KH, KW, factors, pads):
    w = np.ones((2, 2, KH, KW), np.float32)
    assert UpsampledCorrelation.fold(w, np.zeros(2, np.float32), factors, pads, (8, 8)) is None


# -- in a model --------------------------------------------------------------------------------

def _unfused(monkeypatch):
    monkeypatch.delattr(convolutional.UpSampling2D, 'nearest_upsampling')


def _train_once(build, inputs, target):
    """(prediction, weights after one SGD step of lr 1 from the model's
    initial weights: their gradients) of a freshly built model."""
    from minikeras.optimizers import SGD
    np.random.seed(3)
    model = build()
    model.compile(optimizer=SGD(lr=1.0), loss='mse')
    before = model.get_weights()
    prediction = model.predict(inputs)
    model.train_on_batch(inputs, target)
    return prediction, [w0 - w1 for w0, w1 in zip(before, model.get_weights())]


def _sequential():
    from minikeras.layers import Convolution2D, UpSampling2D
    from minikeras.models import Sequential
    model = Sequential()
    model.add(Convolution2D(6, 3, 3, border_mode='same', input_shape=(3, 4, 5)))
    model.add(UpSampling2D((2, 2)))
    model.add(Convolution2D(4, 5, 5, border_mode='same', activation='relu'))
    return model


def _branching():
    # the upsampled tensor feeds the convolution and a second branch as well
    from minikeras.layers import Convolution2D, Dense, Flatten, Input, UpSampling2D, merge
    from minikeras.models import Model
    image = Input(shape=(3, 4, 5))
    first = Convolution2D(6, 3, 3, border_mode='same')(image)
    up = UpSampling2D((2, 2))(first)
    conv = Flatten()(Convolution2D(2, 5, 5, border_mode='valid', activation='tanh')(up))
    side = Flatten()(up)
    return Model(input=image, output=Dense(3)(merge([conv, side], mode='concat')))


@pytest.mark.parametrize('build,target_shape', [(_sequential, (4, 8, 10)), (_branching, (3,))])
def test_model_gives_what_upsampling_first_gives(monkeypatch, build, target_shape):
    rng = np.random.RandomState(0)
    inputs = rng.standard_normal((5, 3, 4, 5)).astype(np.float32)
    target = rng.standard_normal((5,) + target_shape).astype(np.float32)
    calls = []
    fold = UpsampledCorrelation.fold.__func__

    def counted(cls, *args):
        calls.append(args)
        return fold(cls, *args)
    monkeypatch.setattr(UpsampledCorrelation, 'fold', classmethod(counted))
    fused = _train_once(build, inputs, target)
    assert calls  # the folded path ran
    _unfused(monkeypatch)
    plain = _train_once(build, inputs, target)
    np.testing.assert_allclose(fused[0], plain[0], rtol=1e-5, atol=1e-6)
    for got, expected in zip(fused[1], plain[1]):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())


def test_deconvolution_after_upsampling_is_not_folded():
    from minikeras.layers import Deconvolution2D
    layer = Deconvolution2D(2, 5, 5, output_shape=(None, 2, 8, 8), border_mode='same',
                            input_shape=(3, 8, 8))
    layer.build((None, 3, 8, 8))
    assert layer.forward_on_upsampled(np.zeros((1, 3, 4, 4), np.float32), (2, 2)) is None
