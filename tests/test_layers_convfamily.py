"""The rest of Keras 1.2.2's convolution family: dilated, transposed,
separable, 3D and locally connected layers, and the 3D shape layers.

Forward passes against NumPy loops written from Keras 1.2.2's definitions
(float64), backward passes against finite differences, in both orderings."""
import itertools

import numpy as np
import pytest

from gradcheck import check_layer_gradients, distinct_values
from minikeras.layers import (AtrousConvolution2D, AveragePooling3D, Convolution2D,
                              Convolution3D, Cropping3D, Deconvolution2D, LocallyConnected1D,
                              LocallyConnected2D, MaxPooling3D, SeparableConvolution2D,
                              SpatialDropout3D, UpSampling3D, ZeroPadding3D)
from minikeras.models import Sequential


def make(cls, input_shape, seed=0, **kwargs):
    model = Sequential()
    model.add(cls(input_shape=tuple(input_shape), **kwargs))
    layer = model.layers[0]
    rng = np.random.RandomState(seed)
    layer.set_weights([rng.standard_normal(w.shape).astype('float32') * 0.5
                       for w in layer.get_weights()])
    return layer


def to_th(x, ordering):
    return np.moveaxis(x, -1, 1) if ordering == 'tf' else x


def from_th(x, ordering):
    return np.moveaxis(x, 1, -1) if ordering == 'tf' else x


def ref_correlate(x, w_th, strides, dilations, pads, out_sizes):
    """x (N, C, *spatial), w_th (F, C, *kernel): Keras's cross-correlation."""
    N = x.shape[0]
    F = w_th.shape[0]
    out = np.zeros((N, F) + tuple(out_sizes))
    rank = len(out_sizes)
    for o in itertools.product(*[range(s) for s in out_sizes]):
        for k in itertools.product(*[range(s) for s in w_th.shape[2:]]):
            pos = [o[a] * strides[a] + k[a] * dilations[a] - pads[a] for a in range(rank)]
            if all(0 <= pos[a] < x.shape[2 + a] for a in range(rank)):
                values = x[(slice(None), slice(None)) + tuple(pos)].astype(np.float64)
                out[(slice(None), slice(None)) + o] += values @ \
                    w_th[(slice(None), slice(None)) + k].astype(np.float64).T
    return out


def tf_same_pad(size, span, stride):
    out = -(-size // stride)
    return max((out - 1) * stride + span - size, 0) // 2, out


# ---------------------------------------------------------------------------
# AtrousConvolution2D
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('ordering', ['th', 'tf'])
@pytest.mark.parametrize('border_mode,subsample', [('valid', (1, 1)), ('same', (1, 1)),
                                                   ('full', (1, 1)), ('same', (2, 2)),
                                                   ('valid', (2, 1))])
def test_atrous_against_loops_and_gradients(ordering, border_mode, subsample):
    shape = (3, 11, 10) if ordering == 'th' else (11, 10, 3)
    layer = make(AtrousConvolution2D, shape, nb_filter=4, nb_row=3, nb_col=2,
                 atrous_rate=(2, 3), border_mode=border_mode, subsample=subsample,
                 dim_ordering=ordering)
    x = np.random.RandomState(1).standard_normal((2,) + shape).astype('float32')
    y, _ = layer.forward(x)
    assert y.shape[1:] == layer.output_shape[1:]
    W, b = layer.get_weights()
    w_th = W if ordering == 'th' else W.transpose(3, 2, 0, 1)
    spans = (5, 4)
    pads, outs = [], []
    for size, span, s in zip(to_th(x, ordering).shape[2:], spans, subsample):
        if border_mode == 'valid':
            pads.append(0)
            outs.append((size - span) // s + 1)
        elif border_mode == 'full':
            pads.append(span - 1)
            outs.append((size + span - 2) // s + 1)
        else:
            pad, out = tf_same_pad(size, span, s)
            pads.append(pad)
            outs.append(out)
    expected = ref_correlate(to_th(x, ordering), w_th, subsample, (2, 3), pads, outs) + \
        b[None, :, None, None]
    np.testing.assert_allclose(y, from_th(expected, ordering), rtol=1e-4, atol=1e-4)
    check_layer_gradients(layer, x)


def test_atrous_rate_one_is_convolution2d():
    conv = make(Convolution2D, (2, 7, 7), nb_filter=3, nb_row=3, nb_col=3, border_mode='same',
                subsample=(2, 2), dim_ordering='th')
    atrous = make(AtrousConvolution2D, (2, 7, 7), nb_filter=3, nb_row=3, nb_col=3,
                  border_mode='same', subsample=(2, 2), dim_ordering='th')
    atrous.set_weights(conv.get_weights())
    x = np.random.RandomState(2).standard_normal((3, 2, 7, 7)).astype('float32')
    np.testing.assert_allclose(atrous.forward(x)[0], conv.forward(x)[0], rtol=1e-5, atol=1e-5)


def test_atrous_checks():
    with pytest.raises(ValueError, match=r'AtrousConvolution2D\).*atrous_rate'):
        AtrousConvolution2D(2, 3, 3, atrous_rate=(0, 1))
    with pytest.raises(ValueError, match=r'AtrousConvolution2D\).*spanning 7'):
        make(AtrousConvolution2D, (1, 6, 6), nb_filter=2, nb_row=3, nb_col=3,
             atrous_rate=(3, 3), dim_ordering='th')


# ---------------------------------------------------------------------------
# Deconvolution2D
# ---------------------------------------------------------------------------

def ref_deconv(x_th, w_th, strides, pads, out_sizes):
    """Scatter: every input position adds its kernel-weighted copy to the
    output window that a convolution would have read it from."""
    N, C = x_th.shape[:2]
    F = w_th.shape[0]
    out = np.zeros((N, F) + tuple(out_sizes))
    for i, j in itertools.product(range(x_th.shape[2]), range(x_th.shape[3])):
        for ki, kj in itertools.product(range(w_th.shape[2]), range(w_th.shape[3])):
            r, c = i * strides[0] + ki - pads[0], j * strides[1] + kj - pads[1]
            if 0 <= r < out_sizes[0] and 0 <= c < out_sizes[1]:
                # W (F, C): output channel f, input channel c.
                out[:, :, r, c] += x_th[:, :, i, j].astype(np.float64) @ \
                    w_th[:, :, ki, kj].astype(np.float64).T
    return out


@pytest.mark.parametrize('ordering', ['th', 'tf'])
@pytest.mark.parametrize('border_mode,subsample,out_rows,out_cols',
                         [('valid', (1, 1), 9, 8), ('valid', (2, 2), 15, 14),
                          ('same', (2, 2), 14, 11), ('same', (1, 1), 7, 6),
                          ('full', (1, 1), 5, 4), ('valid', (2, 3), 16, 18)])
def test_deconvolution_against_loops_and_gradients(ordering, border_mode, subsample, out_rows,
                                                   out_cols):
    shape = (3, 7, 6) if ordering == 'th' else (7, 6, 3)
    out_shape = (None, 4, out_rows, out_cols) if ordering == 'th' else \
        (None, out_rows, out_cols, 4)
    layer = make(Deconvolution2D, shape, nb_filter=4, nb_row=3, nb_col=3,
                 output_shape=out_shape, border_mode=border_mode, subsample=subsample,
                 dim_ordering=ordering)
    assert layer.output_shape == out_shape
    W, b = layer.get_weights()
    # Keras 1.2.2's kernel layout: (nb_filter, input channels, rows, cols) for 'th'.
    assert W.shape == ((4, 3, 3, 3) if ordering == 'th' else (3, 3, 3, 4))
    x = np.random.RandomState(3).standard_normal((2,) + shape).astype('float32')
    y, _ = layer.forward(x)
    w_th = W if ordering == 'th' else W.transpose(3, 2, 0, 1)
    pads = []
    for size, s in zip((out_rows, out_cols), subsample):
        pads.append({'valid': 0, 'full': 2}.get(border_mode) if border_mode != 'same'
                    else tf_same_pad(size, 3, s)[0])
    expected = ref_deconv(to_th(x, ordering), w_th, subsample, pads, (out_rows, out_cols)) + \
        b[None, :, None, None]
    np.testing.assert_allclose(y, from_th(expected, ordering), rtol=1e-4, atol=1e-4)
    check_layer_gradients(layer, x)


def test_deconvolution_is_the_adjoint_of_convolution():
    conv = make(Convolution2D, (4, 9, 8), nb_filter=3, nb_row=3, nb_col=3, subsample=(2, 2),
                border_mode='same', dim_ordering='th', bias=False)
    deconv = make(Deconvolution2D, (3, 5, 4), nb_filter=4, nb_row=3, nb_col=3,
                  output_shape=(None, 4, 9, 8), subsample=(2, 2), border_mode='same',
                  dim_ordering='th', bias=False)
    # conv maps 4 -> 3 channels with W (3, 4, 3, 3); deconv's W is (4, 3, 3, 3).
    deconv.set_weights([conv.get_weights()[0].transpose(1, 0, 2, 3)])
    rng = np.random.RandomState(4)
    u = rng.standard_normal((2, 4, 9, 8)).astype('float32')
    v = rng.standard_normal((2, 3, 5, 4)).astype('float32')
    lhs = np.sum(conv.forward(u)[0].astype(np.float64) * v)
    rhs = np.sum(u.astype(np.float64) * deconv.forward(v)[0])
    assert abs(lhs - rhs) < 1e-3 * (1 + abs(lhs))


def test_deconvolution_output_shape_checks():
    with pytest.raises(ValueError, match=r'Deconvolution2D\).*output_shape must be 4 entries'):
        Deconvolution2D(3, 3, 3, output_shape=(14, 14), dim_ordering='th')
    with pytest.raises(ValueError, match=r'has 5 channels, but nb_filter is 3'):
        Deconvolution2D(3, 3, 3, output_shape=(None, 5, 14, 14), dim_ordering='th')
    with pytest.raises(ValueError, match=r'output_shape \(None, 3, 15, 14\) does not fit an '
                                         r'input of 12 rows.*gives 13 rows, not 12'):
        make(Deconvolution2D, (3, 12, 12), nb_filter=3, nb_row=3, nb_col=3,
             output_shape=(None, 3, 15, 14), dim_ordering='th')
    # The stride-2 example of Keras 1.2.2's docstring.
    layer = make(Deconvolution2D, (3, 12, 12), nb_filter=3, nb_row=3, nb_col=3,
                 output_shape=(None, 3, 25, 25), subsample=(2, 2), dim_ordering='th')
    assert layer.forward(np.ones((2, 3, 12, 12), 'float32'))[0].shape == (2, 3, 25, 25)


# ---------------------------------------------------------------------------
# SeparableConvolution2D
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('ordering', ['th', 'tf'])
@pytest.mark.parametrize('border_mode,subsample,multiplier', [('valid', (1, 1), 1),
                                                              ('same', (2, 2), 2),
                                                              ('same', (1, 2), 3)])
def test_separable_against_loops_and_gradients(ordering, border_mode, subsample, multiplier):
    shape = (3, 8, 7) if ordering == 'th' else (8, 7, 3)
    layer = make(SeparableConvolution2D, shape, nb_filter=5, nb_row=3, nb_col=2,
                 depth_multiplier=multiplier, border_mode=border_mode, subsample=subsample,
                 dim_ordering=ordering)
    depthwise, pointwise, b = layer.get_weights()
    if ordering == 'th':
        assert depthwise.shape == (multiplier, 3, 3, 2)
        assert pointwise.shape == (5, 3 * multiplier, 1, 1)
        dw = depthwise.transpose(2, 3, 1, 0)          # -> (rows, cols, channels, multiplier)
        pw = pointwise[:, :, 0, 0].T                  # -> (channels * multiplier, filters)
    else:
        assert depthwise.shape == (3, 2, 3, multiplier)
        assert pointwise.shape == (1, 1, 3 * multiplier, 5)
        dw, pw = depthwise, pointwise[0, 0]
    x = np.random.RandomState(5).standard_normal((2,) + shape).astype('float32')
    x_th = to_th(x, ordering)
    pads, outs = [], []
    for size, span, s in zip(x_th.shape[2:], (3, 2), subsample):
        pad, out = ((0, (size - span) // s + 1) if border_mode == 'valid'
                    else tf_same_pad(size, span, s))
        pads.append(pad)
        outs.append(out)
    hidden = []
    for c in range(3):
        for m in range(multiplier):                   # channel c * multiplier + m
            kernel = dw[:, :, c, m][None, None]
            hidden.append(ref_correlate(x_th[:, c:c + 1], kernel, subsample, (1, 1), pads,
                                        outs)[:, 0])
    hidden = np.stack(hidden, axis=1)
    expected = np.einsum('nmhw,mf->nfhw', hidden, pw.astype(np.float64)) + \
        b[None, :, None, None]
    y, _ = layer.forward(x)
    np.testing.assert_allclose(y, from_th(expected, ordering), rtol=1e-4, atol=1e-4)
    check_layer_gradients(layer, x)


def test_separable_checks_and_config():
    with pytest.raises(ValueError, match=r'SeparableConvolution2D\).*border_mode'):
        SeparableConvolution2D(4, 3, 3, border_mode='full')
    with pytest.raises(ValueError, match=r'depth_multiplier'):
        SeparableConvolution2D(4, 3, 3, depth_multiplier=0)
    layer = make(SeparableConvolution2D, (2, 6, 6), nb_filter=3, nb_row=3, nb_col=3,
                 depth_multiplier=2, dim_ordering='th', depthwise_regularizer='l2')
    config = layer.get_config()
    assert config['depth_multiplier'] == 2 and config['depthwise_regularizer']['name']


# ---------------------------------------------------------------------------
# Convolution3D and the 3D shape layers
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('ordering', ['th', 'tf'])
@pytest.mark.parametrize('border_mode,subsample', [('valid', (1, 1, 1)), ('same', (2, 1, 2)),
                                                   ('full', (1, 2, 1))])
def test_convolution3d_against_loops_and_gradients(ordering, border_mode, subsample):
    shape = (2, 5, 6, 4) if ordering == 'th' else (5, 6, 4, 2)
    layer = make(Convolution3D, shape, nb_filter=3, kernel_dim1=2, kernel_dim2=3,
                 kernel_dim3=2, border_mode=border_mode, subsample=subsample,
                 dim_ordering=ordering)
    W, b = layer.get_weights()
    assert W.shape == ((3, 2, 2, 3, 2) if ordering == 'th' else (2, 3, 2, 2, 3))
    w_th = W if ordering == 'th' else W.transpose(4, 3, 0, 1, 2)
    x = np.random.RandomState(6).standard_normal((2,) + shape).astype('float32')
    x_th = to_th(x, ordering)
    pads, outs = [], []
    for size, span, s in zip(x_th.shape[2:], (2, 3, 2), subsample):
        if border_mode == 'valid':
            pad, out = 0, (size - span) // s + 1
        elif border_mode == 'full':
            pad, out = span - 1, (size + span - 2) // s + 1
        else:
            pad, out = tf_same_pad(size, span, s)
        pads.append(pad)
        outs.append(out)
    expected = ref_correlate(x_th, w_th, subsample, (1, 1, 1), pads, outs) + \
        b[None, :, None, None, None]
    y, _ = layer.forward(x)
    assert y.shape[1:] == layer.output_shape[1:]
    np.testing.assert_allclose(y, from_th(expected, ordering), rtol=1e-4, atol=1e-4)
    check_layer_gradients(layer, x)


def test_convolution3d_checks():
    with pytest.raises(ValueError, match=r'Convolution3D\).*expects 5D input'):
        make(Convolution3D, (3, 8, 8), nb_filter=2, kernel_dim1=2, kernel_dim2=2,
             kernel_dim3=2)
    with pytest.raises(ValueError, match=r'Convolution3D\).*subsample'):
        Convolution3D(2, 3, 3, 3, subsample=(1, 1))


def ref_pool3d(x_th, pool, strides, border_mode, mode):
    sizes = x_th.shape[2:]
    pads, outs = [], []
    for size, k, s in zip(sizes, pool, strides):
        pad, out = ((0, (size - k) // s + 1) if border_mode == 'valid'
                    else tf_same_pad(size, k, s))
        pads.append(pad)
        outs.append(out)
    out = np.zeros(x_th.shape[:2] + tuple(outs))
    for o in itertools.product(*[range(s) for s in outs]):
        index = tuple(slice(max(o[a] * strides[a] - pads[a], 0),
                            min(o[a] * strides[a] - pads[a] + pool[a], sizes[a]))
                      for a in range(3))
        window = x_th[(slice(None), slice(None)) + index].astype(np.float64)
        reduce = np.max if mode == 'max' else np.mean
        out[(slice(None), slice(None)) + o] = reduce(window, axis=(2, 3, 4))
    return out


@pytest.mark.parametrize('ordering', ['th', 'tf'])
@pytest.mark.parametrize('cls,mode', [(MaxPooling3D, 'max'), (AveragePooling3D, 'avg')])
@pytest.mark.parametrize('pool,strides,border_mode', [((2, 2, 2), None, 'valid'),
                                                      ((3, 2, 2), (2, 1, 2), 'same')])
def test_pooling3d_against_loops_and_gradients(ordering, cls, mode, pool, strides, border_mode):
    shape = (2, 5, 6, 4) if ordering == 'th' else (5, 6, 4, 2)
    layer = make(cls, shape, pool_size=pool, strides=strides, border_mode=border_mode,
                 dim_ordering=ordering)
    x = distinct_values((2,) + shape, seed=7)
    y, _ = layer.forward(x)
    expected = ref_pool3d(to_th(x, ordering), pool, strides or pool, border_mode, mode)
    assert y.shape[1:] == layer.output_shape[1:]
    np.testing.assert_allclose(y, from_th(expected, ordering), rtol=1e-5, atol=1e-6)
    check_layer_gradients(layer, x)


@pytest.mark.parametrize('ordering', ['th', 'tf'])
def test_3d_shape_layers(ordering):
    shape = (2, 3, 4, 5) if ordering == 'th' else (3, 4, 5, 2)
    x = np.random.RandomState(8).standard_normal((2,) + shape).astype('float32')
    x_th = to_th(x, ordering)

    up = make(UpSampling3D, shape, size=(2, 1, 3), dim_ordering=ordering)
    expected = x_th.repeat(2, axis=2).repeat(1, axis=3).repeat(3, axis=4)
    np.testing.assert_array_equal(up.forward(x)[0], from_th(expected, ordering))
    assert up.output_shape[1:] == from_th(expected, ordering).shape[1:]
    check_layer_gradients(up, x)

    pad = make(ZeroPadding3D, shape, padding=(1, 0, 2), dim_ordering=ordering)
    expected = np.zeros(x_th.shape[:2] + (5, 4, 9), 'float32')
    expected[:, :, 1:4, :, 2:7] = x_th
    np.testing.assert_array_equal(pad.forward(x)[0], from_th(expected, ordering))
    assert pad.output_shape[1:] == from_th(expected, ordering).shape[1:]
    check_layer_gradients(pad, x)

    crop = make(Cropping3D, shape, cropping=((1, 0), (1, 2), (0, 3)), dim_ordering=ordering)
    expected = x_th[:, :, 1:, 1:2, 0:2]
    np.testing.assert_array_equal(crop.forward(x)[0], from_th(expected, ordering))
    assert crop.output_shape[1:] == from_th(expected, ordering).shape[1:]
    check_layer_gradients(crop, x)
    with pytest.raises(ValueError, match=r'Cropping3D\).*leaves nothing'):
        make(Cropping3D, shape, cropping=((2, 2), (0, 0), (0, 0)), dim_ordering=ordering)


@pytest.mark.parametrize('ordering', ['th', 'tf'])
def test_spatial_dropout3d_drops_whole_channels(ordering):
    shape = (6, 3, 4, 5) if ordering == 'th' else (3, 4, 5, 6)
    layer = make(SpatialDropout3D, shape, p=0.5, dim_ordering=ordering)
    x = np.ones((4,) + shape, dtype='float32')
    np.random.seed(0)
    y, backprop = layer.forward(x, training=True)
    y_th = to_th(y, ordering)
    per_channel = y_th.reshape(4, 6, -1)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))
    assert 0 < np.mean(per_channel == 0) < 1
    np.testing.assert_array_equal(backprop(np.ones_like(x)), y)
    np.testing.assert_array_equal(layer.forward(x, training=False)[0], x)


# ---------------------------------------------------------------------------
# LocallyConnected1D / 2D
# ---------------------------------------------------------------------------

def test_locally_connected1d_against_keras_definition():
    layer = make(LocallyConnected1D, (9, 3), nb_filter=4, filter_length=3, subsample_length=2)
    W, b = layer.get_weights()
    assert W.shape == (4, 9, 4) and b.shape == (4, 4)
    x = np.random.RandomState(9).standard_normal((2, 9, 3)).astype('float32')
    expected = np.stack([x[:, 2 * i:2 * i + 3, :].reshape(2, -1).astype(np.float64) @ W[i]
                         for i in range(4)], axis=1) + b
    np.testing.assert_allclose(layer.forward(x)[0], expected, rtol=1e-4, atol=1e-4)
    check_layer_gradients(layer, x)


@pytest.mark.parametrize('ordering', ['th', 'tf'])
def test_locally_connected2d_against_keras_definition(ordering):
    shape = (2, 6, 5) if ordering == 'th' else (6, 5, 2)
    layer = make(LocallyConnected2D, shape, nb_filter=3, nb_row=3, nb_col=2,
                 subsample=(2, 1), dim_ordering=ordering)
    W, b = layer.get_weights()
    rows, cols = 2, 4
    assert W.shape == (rows * cols, 3 * 2 * 2, 3) and b.shape == (rows, cols, 3)
    x = np.random.RandomState(10).standard_normal((2,) + shape).astype('float32')
    out = np.zeros((2, rows, cols, 3))
    for i, j in itertools.product(range(rows), range(cols)):
        if ordering == 'th':
            window = x[:, :, 2 * i:2 * i + 3, j:j + 2]
        else:
            window = x[:, 2 * i:2 * i + 3, j:j + 2, :]
        out[:, i, j] = window.reshape(2, -1).astype(np.float64) @ W[i * cols + j]
    if ordering == 'th':
        # Keras 1.2.2 reshaped (not transposed) b to (nb_filter, rows, cols).
        expected = out.transpose(0, 3, 1, 2) + b.reshape(3, rows, cols)
    else:
        expected = out + b
    np.testing.assert_allclose(layer.forward(x)[0], expected, rtol=1e-4, atol=1e-4)
    check_layer_gradients(layer, x)


def test_locally_connected_checks():
    with pytest.raises(ValueError, match=r"LocallyConnected1D\).*border_mode.*'same'"):
        LocallyConnected1D(2, 3, border_mode='same')
    with pytest.raises(ValueError, match=r'LocallyConnected2D\).*the number of rows must be '
                                         r'known'):
        make(LocallyConnected2D, (2, None, 5), nb_filter=2, nb_row=2, nb_col=2,
             dim_ordering='th')


# ---------------------------------------------------------------------------
# In models: training, saving and loading
# ---------------------------------------------------------------------------

def test_family_trains_saves_and_reloads(tmp_path):
    from minikeras.layers import Flatten, Dense
    from minikeras.models import load_model
    model = Sequential()
    model.add(Convolution3D(2, 2, 2, 2, input_shape=(1, 4, 6, 6), dim_ordering='th'))
    model.add(MaxPooling3D((1, 2, 2), dim_ordering='th'))
    model.add(ZeroPadding3D((0, 1, 1), dim_ordering='th'))
    model.add(Cropping3D(((0, 0), (1, 0), (0, 1)), dim_ordering='th'))
    model.add(UpSampling3D((1, 1, 1), dim_ordering='th'))
    model.add(SpatialDropout3D(0.1, dim_ordering='th'))
    model.add(Flatten())
    model.add(Dense(2, activation='softmax'))
    model.compile('sgd', 'categorical_crossentropy')
    rng = np.random.RandomState(11)
    x = rng.standard_normal((8, 1, 4, 6, 6)).astype('float32')
    y = np.eye(2)[rng.randint(0, 2, 8)].astype('float32')
    model.fit(x, y, nb_epoch=1, batch_size=4, verbose=0)
    path = str(tmp_path / 'm.h5')
    model.save(path)
    again = load_model(path)
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-6)

    images = Sequential()
    images.add(AtrousConvolution2D(3, 3, 3, atrous_rate=(2, 2), border_mode='same',
                                   input_shape=(8, 8, 2), dim_ordering='tf'))
    images.add(SeparableConvolution2D(4, 3, 3, depth_multiplier=2, dim_ordering='tf'))
    images.add(Deconvolution2D(2, 3, 3, output_shape=(None, 13, 13, 2), subsample=(2, 2),
                               dim_ordering='tf'))
    images.add(LocallyConnected2D(2, 3, 3, subsample=(2, 2), dim_ordering='tf'))
    images.add(Flatten())
    images.add(Dense(1))
    images.compile('adam', 'mse')
    xi = rng.standard_normal((6, 8, 8, 2)).astype('float32')
    images.train_on_batch(xi, np.zeros((6, 1), 'float32'))
    path = str(tmp_path / 'i.h5')
    images.save(path)
    again = load_model(path)
    np.testing.assert_allclose(again.predict(xi), images.predict(xi), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------
# AtrousConvolution1D, GlobalMax/AveragePooling3D
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('border_mode,stride', [('valid', 1), ('same', 1), ('full', 2),
                                                ('same', 2)])
def test_atrous1d_against_loops_and_gradients(border_mode, stride):
    from minikeras.layers import AtrousConvolution1D
    layer = make(AtrousConvolution1D, (11, 3), nb_filter=4, filter_length=3, atrous_rate=2,
                 border_mode=border_mode, subsample_length=stride)
    W, b = layer.get_weights()
    assert W.shape == (3, 1, 3, 4)
    x = np.random.RandomState(12).standard_normal((2, 11, 3)).astype('float32')
    span = 5
    if border_mode == 'valid':
        pad, out = 0, (11 - span) // stride + 1
    elif border_mode == 'full':
        pad, out = span - 1, (11 + span - 2) // stride + 1
    else:
        pad, out = tf_same_pad(11, span, stride)
    w_th = W[:, 0].transpose(2, 1, 0)            # (nb_filter, input_dim, length)
    expected = ref_correlate(x.transpose(0, 2, 1), w_th, (stride,), (2,), (pad,), (out,))
    expected = expected.transpose(0, 2, 1) + b
    np.testing.assert_allclose(layer.forward(x)[0], expected, rtol=1e-4, atol=1e-4)
    assert layer.output_shape == (None, out, 4)
    check_layer_gradients(layer, x)


@pytest.mark.parametrize('ordering', ['th', 'tf'])
def test_global_pooling3d(ordering):
    from minikeras.layers import GlobalAveragePooling3D, GlobalMaxPooling3D
    shape = (3, 2, 4, 3) if ordering == 'th' else (2, 4, 3, 3)
    x = distinct_values((2,) + shape, seed=13)
    x_th = to_th(x, ordering)
    for cls, reduce in ((GlobalMaxPooling3D, np.max), (GlobalAveragePooling3D, np.mean)):
        layer = make(cls, shape, dim_ordering=ordering)
        assert layer.output_shape == (None, 3)
        np.testing.assert_allclose(layer.forward(x)[0],
                                   reduce(x_th.astype(np.float64), axis=(2, 3, 4)),
                                   rtol=1e-6, atol=1e-6)
        check_layer_gradients(layer, x)
