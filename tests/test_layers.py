"""Each layer: forward against a NumPy reference, backward against finite
differences, and the get_config/from_config round trip."""
import numpy as np
import pytest

from minikeras import activations
from minikeras.layers import (Activation, Convolution2D, Dense, Dropout, Flatten, MaxPooling2D,
                              Permute, PReLU, RepeatVector, Reshape)
from minikeras.utils.layer_utils import layer_from_config

from gradcheck import away_from_zero, built, check_layer_gradients, distinct_values


def reference_conv_th(x, w, b, stride, pad, out_hw):
    """Cross-correlation by explicit loops over output positions."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    padded = np.zeros((n, c, h + 2 * kh + 2 * stride[0] * out_hw[0],
                       wd + 2 * kw + 2 * stride[1] * out_hw[1]), dtype='float64')
    padded[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + wd] = x
    out = np.zeros((n, f) + tuple(out_hw))
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            patch = padded[:, :, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


# -- Dense -------------------------------------------------------------------------


def test_dense_forward_matches_numpy():
    layer = built(Dense(5, activation='tanh', init='normal'), (7,))
    x = np.random.standard_normal((4, 7)).astype('float32')
    W, b = layer.get_weights()
    b += np.arange(5, dtype='float32')
    layer.set_weights([W, b])
    np.testing.assert_allclose(layer.call(x), np.tanh(x.astype('float64') @ W + b), rtol=1e-5,
                               atol=1e-6)


def test_dense_weights_have_keras_shapes_and_normal_init_scale():
    layer = built(Dense(300, init='normal'), (400,))
    W, b = layer.get_weights()
    assert W.shape == (400, 300) and b.shape == (300,)
    assert W.dtype == np.float32
    assert abs(W.std() - 0.05) < 0.002 and not b.any()


@pytest.mark.parametrize('activation', ['linear', 'tanh', 'sigmoid', 'softmax', 'softplus',
                                        'softsign', 'relu', 'hard_sigmoid', 'elu'])
def test_dense_gradients(activation):
    layer = built(Dense(4, activation=activation), (6,))
    check_layer_gradients(layer, away_from_zero((3, 6)))


def test_dense_without_bias_has_one_weight():
    layer = built(Dense(3, bias=False), (2,))
    assert [w.shape for w in layer.get_weights()] == [(2, 3)]
    check_layer_gradients(layer, away_from_zero((5, 2)))


def test_dense_on_nd_input_applies_to_the_last_axis():
    """Keras 1.2.2's Dense takes any rank: each vector along the last axis
    goes through the same W and b."""
    layer = built(Dense(3, activation='softmax'), (4, 5, 2))
    assert layer.get_output_shape_for((None, 4, 5, 2)) == (None, 4, 5, 3)
    rng = np.random.RandomState(0)
    x = rng.standard_normal((2, 4, 5, 2)).astype('float32')
    layer.b[...] = rng.standard_normal(3)
    y, _ = layer.forward(x)
    expected = np.empty((2, 4, 5, 3))
    for index in np.ndindex(2, 4, 5):
        z = x[index] @ layer.W + layer.b
        expected[index] = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    check_layer_gradients(layer, x)
    with pytest.raises(ValueError, match=r'Dense.*known last axis.*\(None, 4, None\)'):
        built(Dense(3), (4, None))


# -- Activation ------------------------------------------------------------------------

REFERENCES = {
    'linear': lambda x: x,
    'tanh': np.tanh,
    'sigmoid': lambda x: 1 / (1 + np.exp(-x)),
    'hard_sigmoid': lambda x: np.clip(0.2 * x + 0.5, 0, 1),
    'relu': lambda x: np.where(x > 0, x, 0),
    'softplus': lambda x: np.log(1 + np.exp(x)),
    'softsign': lambda x: x / (1 + np.abs(x)),
    'softmax': lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True),
    'elu': lambda x: np.where(x > 0, x, np.exp(x) - 1),
}


@pytest.mark.parametrize('name', sorted(REFERENCES))
def test_activation_forward_and_backward(name):
    x = away_from_zero((3, 5)) * 2
    layer = built(Activation(name), (5,))
    np.testing.assert_allclose(layer.call(x), REFERENCES[name](x.astype('float64')), rtol=1e-5,
                               atol=1e-6)
    check_layer_gradients(layer, x)


def test_unknown_activation_names_the_choices():
    with pytest.raises(ValueError, match=r"Unknown activation: 'tanhh'.*tanh"):
        Activation('tanhh')


def test_custom_activation_without_derivative_is_differentiated_by_tracing():
    check_layer_gradients(built(Activation(lambda x: np.tanh(x) * 2), (4,)),
                          away_from_zero((2, 4)))


def test_untraceable_custom_activation_says_why():
    layer = built(Activation(lambda x: np.sort(x, axis=-1)), (4,))
    _, backprop = layer.forward(away_from_zero((2, 4)))
    with pytest.raises(TypeError, match='sort.*cannot be traced'):
        backprop(np.ones((2, 4), dtype='float32'))


def test_custom_activation_with_derivative_trains():
    def cube(x):
        return x ** 3
    cube.backward = lambda x, y, dy: 3 * x * x * dy
    check_layer_gradients(built(Activation(cube), (4,)), away_from_zero((2, 4)))


# -- Dropout, Flatten, Reshape, Permute, RepeatVector ---------------------------------------------


def test_dropout_scales_kept_units_and_is_identity_at_test_time():
    layer = built(Dropout(0.25), (1000,))
    x = np.ones((20, 1000), dtype='float32')
    assert np.array_equal(layer.call(x), x)
    y, backprop = layer.forward(x, training=True)
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert np.array_equal(backprop(np.ones_like(x)) != 0, kept)


def test_dropout_rejects_p_outside_unit_interval():
    with pytest.raises(ValueError, match=r'p must be in \[0, 1\)'):
        Dropout(1.0)


def test_flatten_uses_channels_rows_cols_order():
    layer = built(Flatten(), (2, 3, 4))
    x = np.arange(48, dtype='float32').reshape(2, 2, 3, 4)
    assert layer.output_shape == (None, 24)
    np.testing.assert_array_equal(layer.call(x), x.reshape(2, 24))
    check_layer_gradients(layer, away_from_zero((2, 2, 3, 4)))


def test_reshape_permute_repeat_vector():
    reshape = built(Reshape((3, -1)), (12,))
    assert reshape.output_shape == (None, 3, 4)
    check_layer_gradients(reshape, away_from_zero((2, 12)))
    permute = built(Permute((2, 1)), (3, 4))
    x = away_from_zero((2, 3, 4))
    np.testing.assert_array_equal(permute.call(x), x.transpose(0, 2, 1))
    check_layer_gradients(permute, x)
    repeat = built(RepeatVector(3), (4,))
    np.testing.assert_array_equal(repeat.call(x[:, 0]), np.stack([x[:, 0]] * 3, axis=1))
    check_layer_gradients(repeat, x[:, 0])
    with pytest.raises(ValueError, match='cannot reshape'):
        built(Reshape((5, -1)), (12,))


# -- Convolution2D -----------------------------------------------------------------------------

CONV_CASES = [
    # (border_mode, subsample, image rows, cols, kernel rows, cols)
    ('valid', (1, 1), 9, 8, 3, 3),
    ('same', (1, 1), 7, 6, 3, 2),
    ('full', (1, 1), 5, 6, 3, 3),
    ('valid', (2, 1), 9, 7, 2, 3),
    ('same', (2, 3), 8, 9, 3, 3),
]


@pytest.mark.parametrize('ordering', ['th', 'tf'])
@pytest.mark.parametrize('border_mode,subsample,rows,cols,kr,kc', CONV_CASES)
def test_convolution2d_forward_and_gradients(ordering, border_mode, subsample, rows, cols, kr, kc):
    channels, filters = 2, 3
    sample = (channels, rows, cols) if ordering == 'th' else (rows, cols, channels)
    layer = built(Convolution2D(filters, kr, kc, border_mode=border_mode, subsample=subsample,
                                dim_ordering=ordering, activation='tanh'), sample)
    W, b = layer.get_weights()
    layer.set_weights([W, np.linspace(-0.5, 0.5, filters).astype('float32')])
    x = away_from_zero((2,) + sample, seed=3)

    x_th = x if ordering == 'th' else x.transpose(0, 3, 1, 2)
    w_th = layer.W if ordering == 'th' else layer.W.transpose(3, 2, 0, 1)
    out_rows, out_cols = [{'valid': -(-(n - k + 1) // s), 'same': -(-n // s),
                           'full': -(-(n + k - 1) // s)}[border_mode]
                          for n, k, s in ((rows, kr, subsample[0]), (cols, kc, subsample[1]))]
    pads = []
    for n, k, s, out in ((rows, kr, subsample[0], out_rows), (cols, kc, subsample[1], out_cols)):
        pads.append({'valid': 0, 'full': k - 1,
                     'same': max((out - 1) * s + k - n, 0) // 2}[border_mode])
    expected = np.tanh(reference_conv_th(x_th, w_th, layer.b, subsample, pads, (out_rows, out_cols)))
    if ordering == 'tf':
        expected = expected.transpose(0, 2, 3, 1)
    assert layer.output_shape[1:] == expected.shape[1:]
    np.testing.assert_allclose(layer.call(x), expected, rtol=1e-5, atol=1e-5)
    check_layer_gradients(layer, x)


def test_convolution2d_weight_shapes_and_glorot_fans_per_ordering():
    th = built(Convolution2D(8, 3, 3, dim_ordering='th'), (4, 10, 10))
    tf = built(Convolution2D(8, 3, 3, dim_ordering='tf'), (10, 10, 4))
    assert th.W.shape == (8, 4, 3, 3) and tf.W.shape == (3, 3, 4, 8)
    limit = np.sqrt(6. / (4 * 9 + 8 * 9))
    for layer in (th, tf):
        assert np.abs(layer.W).max() <= limit and np.abs(layer.W).max() > 0.9 * limit


def test_convolution2d_kernel_larger_than_input_is_named():
    with pytest.raises(ValueError, match=r'convolution2d.*kernel 5x5 is larger than its input'):
        built(Convolution2D(2, 5, 5), (1, 4, 28))


def test_convolution2d_rejects_bad_arguments():
    with pytest.raises(ValueError, match='border_mode must be one of'):
        Convolution2D(2, 3, 3, border_mode='half')
    with pytest.raises(ValueError, match='dim_ordering'):
        Convolution2D(2, 3, 3, dim_ordering='nchw')


# -- MaxPooling2D --------------------------------------------------------------------------------


def reference_maxpool_th(x, pool, strides, pads, out_hw):
    n, c, h, w = x.shape
    padded = np.full((n, c, h + 2 * pool[0] + strides[0] * out_hw[0],
                      w + 2 * pool[1] + strides[1] * out_hw[1]), -np.inf)
    padded[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + w] = x
    out = np.empty((n, c) + tuple(out_hw))
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            window = padded[:, :, i * strides[0]:i * strides[0] + pool[0],
                            j * strides[1]:j * strides[1] + pool[1]]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out


@pytest.mark.parametrize('ordering', ['th', 'tf'])
@pytest.mark.parametrize('pool,strides,border_mode,rows,cols', [
    ((2, 2), None, 'valid', 9, 8),
    ((3, 3), (2, 2), 'valid', 9, 9),
    ((2, 3), (1, 2), 'same', 7, 8),
    ((2, 2), None, 'same', 5, 5),
])
def test_maxpooling2d_forward_and_gradients(ordering, pool, strides, border_mode, rows, cols):
    sample = (3, rows, cols) if ordering == 'th' else (rows, cols, 3)
    layer = built(MaxPooling2D(pool, strides, border_mode, dim_ordering=ordering), sample)
    x = distinct_values((2,) + sample)
    x_th = x if ordering == 'th' else x.transpose(0, 3, 1, 2)
    st = strides or pool
    outs, pads = [], []
    for n, k, s in ((rows, pool[0], st[0]), (cols, pool[1], st[1])):
        out = (n - k) // s + 1 if border_mode == 'valid' else -(-n // s)
        outs.append(out)
        pads.append(0 if border_mode == 'valid' else max((out - 1) * s + k - n, 0) // 2)
    expected = reference_maxpool_th(x_th, pool, st, pads, outs)
    if ordering == 'tf':
        expected = expected.transpose(0, 2, 3, 1)
    assert layer.output_shape[1:] == expected.shape[1:]
    np.testing.assert_array_equal(layer.call(x), expected.astype('float32'))
    check_layer_gradients(layer, x)


def test_pool_larger_than_input_is_named():
    with pytest.raises(ValueError, match=r'maxpooling2d.*pool_size \(3, 3\) is larger'):
        built(MaxPooling2D((3, 3)), (1, 2, 8))


# -- PReLU ------------------------------------------------------------------------------------


@pytest.mark.parametrize('shared_axes', [None, [2, 3]])
def test_prelu_forward_and_gradients(shared_axes):
    layer = built(PReLU(init='uniform', shared_axes=shared_axes), (2, 3, 4))
    x = away_from_zero((3, 2, 3, 4))
    alphas = layer.alphas
    assert alphas.shape == ((2, 3, 4) if shared_axes is None else (2, 1, 1))
    np.testing.assert_allclose(layer.call(x), np.where(x > 0, x, alphas * x), rtol=1e-6)
    check_layer_gradients(layer, x)


# -- configs -------------------------------------------------------------------------------------


@pytest.mark.parametrize('make,input_shape', [
    (lambda: Dense(3, init='normal', activation='relu', bias=False), (4,)),
    (lambda: Activation('softmax'), (4,)),
    (lambda: Dropout(0.3), (4,)),
    (lambda: Flatten(), (2, 3)),
    (lambda: Reshape((2, 2)), (4,)),
    (lambda: Permute((2, 1)), (2, 3)),
    (lambda: RepeatVector(2), (4,)),
    (lambda: Convolution2D(2, 3, 3, border_mode='same', subsample=(2, 2), dim_ordering='tf'),
     (6, 6, 1)),
    (lambda: MaxPooling2D((2, 2), (1, 1), 'same', dim_ordering='th'), (1, 4, 4)),
    (lambda: PReLU(shared_axes=[1]), (3, 4)),
])
def test_config_round_trip(make, input_shape):
    layer = built(make(), input_shape)
    config = layer.get_config()
    clone = layer_from_config({'class_name': type(layer).__name__, 'config': config})
    assert type(clone) is type(layer)
    # As in Keras 1, Dense's input_dim turns into an input shape when the config is read back.
    shape_keys = ('batch_input_shape', 'input_dtype')
    assert {k: v for k, v in clone.get_config().items() if k not in shape_keys} == \
        {k: v for k, v in config.items() if k not in shape_keys}
    clone.connect((None,) + tuple(input_shape))
    clone.set_weights(layer.get_weights())
    x = away_from_zero((2,) + tuple(input_shape))
    np.testing.assert_array_equal(clone.call(x), layer.call(x))


def test_set_weights_checks_every_shape_before_changing_any():
    layer = built(Dense(3), (2,))
    before = layer.get_weights()
    with pytest.raises(ValueError, match=r'dense_\d+_b has shape \(3,\), got an array of shape \(4,\)'):
        layer.set_weights([np.ones((2, 3)), np.ones(4)])
    for old, new in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_activation_get_returns_module_functions():
    assert activations.get('tanh') is activations.tanh
    assert activations.get(None) is activations.linear


def test_convolution2d_softmax_runs_over_the_last_axis_of_its_own_ordering():
    """In 'tf' ordering the last axis is the channels; in 'th' it is the columns."""
    for ordering, sample in (('tf', (5, 5, 2)), ('th', (2, 5, 5))):
        layer = built(Convolution2D(3, 2, 2, activation='softmax', dim_ordering=ordering), sample)
        y = layer.call(away_from_zero((2,) + sample))
        np.testing.assert_allclose(y.sum(axis=-1), 1, rtol=1e-5)
        check_layer_gradients(layer, away_from_zero((2,) + sample))
