"""Keras 2.2.4 layers and names added on top of the Keras 2 signatures:
AlphaDropout, the Keras 2 names of the convolution family, the recurrent
layers' Keras 2 arguments, the backend functions Keras 2's examples call.
Each is checked against a NumPy reference, the Keras 1 call it must equal,
or finite differences."""
import os

import numpy as np
import pytest

from minikeras import backend
from minikeras.layers import AlphaDropout

from gradcheck import built, numeric_gradient


@pytest.fixture(autouse=True)
def default_orderings(monkeypatch):
    monkeypatch.setattr(backend, '_IMAGE_DIM_ORDERING', 'th')
    monkeypatch.setattr(backend, '_IMAGE_DATA_FORMAT', 'channels_last')
    monkeypatch.delenv('MINIKERAS_KERAS_VERSION', raising=False)


# -- AlphaDropout ---------------------------------------------------------------------------------

SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def alpha_dropout_reference(x, rate, uniform):
    """Keras 2.2.4's formula, written out with NumPy in float64."""
    alpha_p = -SELU_ALPHA * SELU_SCALE
    kept = (uniform >= rate).astype('float64')
    a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * rate
    return a * (x * kept + alpha_p * (1 - kept)) + b


def test_alpha_dropout_matches_keras_2_2_4_formula_with_its_seeded_draws():
    x = np.random.RandomState(0).standard_normal((6, 7)).astype('float32')
    layer = built(AlphaDropout(0.3, seed=5), (7,))
    y, _ = layer.forward(x, training=True)
    uniform = np.random.RandomState(5).random_sample((6, 7))
    np.testing.assert_allclose(y, alpha_dropout_reference(x, 0.3, uniform), rtol=1e-6,
                               atol=1e-6)
    assert y.dtype == np.float32


def test_alpha_dropout_keeps_mean_and_variance_of_standard_input():
    x = np.random.RandomState(1).standard_normal((400, 500)).astype('float32')
    y, _ = built(AlphaDropout(0.2, seed=0), (500,)).forward(x, training=True)
    assert abs(float(y.mean())) < 0.01
    assert abs(float(y.var()) - 1.) < 0.01
    # A plain Dropout would not: its variance grows to 1 / (1 - rate).
    assert (np.abs(y - x) > 1e-6).mean() > 0.15


def test_alpha_dropout_is_identity_at_test_time_and_outside_0_1():
    x = np.random.RandomState(2).standard_normal((3, 4)).astype('float32')
    assert np.array_equal(built(AlphaDropout(0.5), (4,)).forward(x)[0], x)
    for rate in (0., 1.):
        assert np.array_equal(built(AlphaDropout(rate), (4,)).forward(x, training=True)[0], x)


def test_alpha_dropout_noise_shape_broadcasts_and_backward_matches_finite_differences():
    x = np.random.RandomState(3).standard_normal((2, 5, 4)).astype('float32')
    layer = built(AlphaDropout(0.4, noise_shape=(None, 1, 4), seed=1), (5, 4))
    y, backprop = layer.forward(x, training=True)
    changed = np.abs(y - alpha_dropout_reference(x, 0.4, np.ones((2, 1, 4)))) > 1e-5
    assert (changed == changed[:, :1]).all()      # one draw per (sample, feature)
    dy = np.random.RandomState(4).standard_normal(y.shape).astype('float32')
    dx = backprop(dy)

    def objective():
        layer._random = np.random.RandomState(1)
        return float(np.sum(layer.forward(x, training=True)[0].astype('float64') * dy))
    indices, numeric = numeric_gradient(objective, x)
    np.testing.assert_allclose(dx.reshape(-1)[indices], numeric, rtol=2e-2, atol=2e-3)
    with pytest.raises(ValueError, match='AlphaDropout.*noise_shape'):
        built(AlphaDropout(0.4, noise_shape=(2, 3, 4)), (5, 4)).forward(x, training=True)


def test_alpha_dropout_is_a_keras_2_layer_and_saves_its_config(tmp_path):
    from minikeras.models import Sequential, load_model
    from minikeras.layers import Dense
    layer = AlphaDropout(rate=0.1, seed=3)
    assert layer.keras_2_call and layer.name.startswith('alpha_dropout_')
    model = Sequential([Dense(3, input_shape=(4,)), layer])
    model.compile('sgd', 'mse')
    model.save(str(tmp_path / 'm.h5'))
    again = load_model(str(tmp_path / 'm.h5'))
    assert again.layers[1].rate == 0.1 and again.layers[1].seed == 3
    with pytest.raises(TypeError, match="AlphaDropout: unknown argument 'p'"):
        AlphaDropout(p=0.1)


# -- the recurrent layers' Keras 2 arguments ------------------------------------------------------

@pytest.mark.parametrize('kind', ['SimpleRNN', 'GRU', 'LSTM'])
def test_keras_2_recurrent_call_equals_keras_1_call_in_one_kernel_layout(kind):
    from minikeras import layers
    cls = getattr(layers, kind)
    gates = {'SimpleRNN': {}, 'GRU': {'recurrent_activation': 'sigmoid'},
             'LSTM': {'recurrent_activation': 'sigmoid'}}[kind]
    keras_2 = built(cls(units=5, activation='relu', return_sequences=True, go_backwards=True,
                        kernel_initializer='he_normal', **gates), (6, 3))
    keras_1_gates = {'inner_activation': 'sigmoid'} if gates else {}
    keras_1 = built(cls(5, activation='relu', return_sequences=True, go_backwards=True,
                        consume_less='gpu', **keras_1_gates), (6, 3))
    assert keras_2.keras_2_call and not getattr(keras_1, 'keras_2_call', False)
    weights = keras_2.get_weights()
    # Keras 2's layout: kernel, recurrent_kernel, bias with the gates side by side.
    n_gates = {'SimpleRNN': 1, 'GRU': 3, 'LSTM': 4}[kind]
    assert [w.shape for w in weights] == [(3, 5 * n_gates), (5, 5 * n_gates), (5 * n_gates,)]
    keras_1.set_weights(weights)
    x = np.random.RandomState(0).standard_normal((2, 6, 3)).astype('float32')
    np.testing.assert_allclose(keras_2.forward(x)[0], keras_1.forward(x)[0], rtol=1e-6)


def test_keras_2_recurrent_defaults_and_dropout_names():
    from minikeras import initializers
    from minikeras.layers import LSTM
    layer = LSTM(8, dropout=0.25, recurrent_dropout=0.5, implementation=2)
    assert (layer.output_dim, layer.dropout_W, layer.dropout_U) == (8, 0.25, 0.5)
    # Keras 2's orthogonal recurrent kernel has gain 1, and its forget gate's bias starts at 1.
    assert isinstance(layer.inner_init, initializers.Orthogonal) and layer.inner_init.gain == 1
    layer = built(layer, (4, 3))
    u = layer.get_weights()[1]
    np.testing.assert_allclose(u @ u.T, np.eye(8), atol=1e-5)     # (8, 32): orthonormal rows
    np.testing.assert_array_equal(layer.get_weights()[2], np.repeat([0., 1., 0., 0.], 8))
    assert LSTM(8).consume_less == 'cpu'          # a Keras 1 call keeps Keras 1's defaults


@pytest.mark.parametrize('kwargs, message', [
    (dict(reset_after='yes'), 'expected True or False'),
    (dict(use_bias=False), 'use_bias=True'),
    (dict(implementation=3), 'implementation must be 0, 1 or 2'),
    (dict(recurrent_dropot=0.1), "nearest Keras 2 spelling: 'recurrent_dropout'; nearest "
                                 "Keras 1 spelling: 'dropout_U'"),
])
def test_keras_2_recurrent_arguments_minikeras_lacks_are_named(kwargs, message):
    from minikeras.layers import GRU
    with pytest.raises((ValueError, TypeError), match='GRU: .*' + message):
        GRU(units=3, **kwargs)


def test_keras_2_lstm_trains_saves_and_reloads(tmp_path):
    from minikeras.layers import LSTM, Bidirectional, Dense
    from minikeras.models import Sequential, load_model
    model = Sequential([Bidirectional(LSTM(units=4, recurrent_dropout=0.1), input_shape=(5, 3)),
                        Dense(units=1)])
    model.compile('adam', 'mse')
    x = np.random.RandomState(0).standard_normal((8, 5, 3)).astype('float32')
    model.fit(x, x[:, 0, :1], epochs=1, verbose=0)
    model.save(str(tmp_path / 'm.h5'))
    again = load_model(str(tmp_path / 'm.h5'))
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


# -- Keras 2's backend convolutions ---------------------------------------------------------------

def loop_convolution(x, kernel, strides, dilation, pads):
    """Channels-last cross-correlation by nested loops over outputs and taps."""
    rank = x.ndim - 2
    x = np.pad(x.astype('float64'), [(0, 0)] + list(pads) + [(0, 0)])
    spans = [(k - 1) * d + 1 for k, d in zip(kernel.shape[:rank], dilation)]
    outs = [(n - span) // s + 1 for n, span, s in zip(x.shape[1:-1], spans, strides)]
    y = np.zeros((x.shape[0],) + tuple(outs) + (kernel.shape[-1],))
    for out in np.ndindex(*outs):
        for tap in np.ndindex(*kernel.shape[:rank]):
            at = tuple(o * s + t * d for o, s, t, d in zip(out, strides, tap, dilation))
            y[(slice(None),) + out] += x[(slice(None),) + at] @ kernel[tap]
    return y


def test_conv1d_valid_same_causal_strided_dilated_against_loops():
    rng = np.random.RandomState(0)
    x = rng.standard_normal((2, 9, 3)).astype('float32')
    kernel = rng.standard_normal((3, 3, 4)).astype('float32')
    # TensorFlow's 'same': 9 steps, kernel 3 stride 2 -> 5 outputs, 2 pads split 1 / 1.
    for padding, stride, rate, pads in [('valid', 1, 1, (0, 0)), ('same', 2, 1, (1, 1)),
                                        ('causal', 1, 2, (4, 0)), ('valid', 2, 2, (0, 0))]:
        y = backend.conv1d(x, kernel, strides=stride, padding=padding, dilation_rate=rate)
        np.testing.assert_allclose(y, loop_convolution(x, kernel, (stride,), (rate,), [pads]),
                                   rtol=1e-5, atol=1e-5)


def test_conv2d_and_conv3d_with_data_format_against_loops():
    rng = np.random.RandomState(1)
    x = rng.standard_normal((2, 6, 7, 3)).astype('float32')
    kernel = rng.standard_normal((2, 3, 3, 5)).astype('float32')
    # 'same' with kernel 2 along rows: the odd pad goes after (TensorFlow's rule).
    expected = loop_convolution(x, kernel, (1, 2), (1, 1), [(0, 1), (1, 1)])
    np.testing.assert_allclose(backend.conv2d(x, kernel, strides=(1, 2), padding='same'),
                               expected, rtol=1e-5, atol=1e-5)
    y_cf = backend.conv2d(x.transpose(0, 3, 1, 2), kernel, strides=(1, 2), padding='same',
                          data_format='channels_first')
    np.testing.assert_allclose(y_cf, expected.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-5)
    x3 = rng.standard_normal((1, 5, 4, 6, 2)).astype('float32')
    k3 = rng.standard_normal((2, 2, 3, 2, 3)).astype('float32')
    np.testing.assert_allclose(backend.conv3d(x3, k3, dilation_rate=(2, 1, 1)),
                               loop_convolution(x3, k3, (1, 1, 1), (2, 1, 1), [(0, 0)] * 3),
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match='K.conv2d: the input has 3 channels'):
        backend.conv2d(x, kernel[:, :, :2])
    with pytest.raises(ValueError, match="K.conv2d: padding='causal' is for conv1d only"):
        backend.conv2d(x, kernel, padding='causal')


def test_local_conv1d_and_bias_add_against_numpy():
    rng = np.random.RandomState(2)
    x = rng.standard_normal((3, 7, 2)).astype('float32')
    kernel = rng.standard_normal((3, 3 * 2, 4)).astype('float32')     # size 3, stride 2
    expected = np.stack([x[:, 2 * i:2 * i + 3].reshape(3, -1) @ kernel[i] for i in range(3)],
                        axis=1)
    np.testing.assert_allclose(backend.local_conv1d(x, kernel, (3,), (2,)), expected,
                               rtol=1e-5, atol=1e-5)
    bias = np.arange(4, dtype='float32')
    image = rng.standard_normal((2, 4, 3, 3)).astype('float32')
    np.testing.assert_allclose(backend.bias_add(image, bias, 'channels_first'),
                               image + bias[:, None, None])
    np.testing.assert_allclose(backend.bias_add(image, bias[:3], 'channels_last'),
                               image + bias[:3])


def test_conv_functions_are_differentiated_in_a_custom_layer_and_on_keras_tensors():
    from minikeras.autodiff import vjp
    rng = np.random.RandomState(3)
    x = rng.standard_normal((2, 6, 3)).astype('float64')
    kernel = rng.standard_normal((2, 3, 2)).astype('float64')
    dy = rng.standard_normal((2, 6, 2))
    _, backward = vjp(lambda a, k: backend.conv1d(a, k, padding='causal', dilation_rate=2),
                      x, kernel)
    dx, dk = backward(dy)

    def objective():
        return float(np.sum(backend.conv1d(x, kernel, padding='causal', dilation_rate=2) * dy))
    for array, analytic in ((x, dx), (kernel, dk)):
        indices, numeric = numeric_gradient(objective, array, eps=1e-4)
        np.testing.assert_allclose(analytic.reshape(-1)[indices], numeric, rtol=1e-5, atol=1e-6)
    from minikeras.layers import Input
    inputs = Input(shape=(6, 3))
    out = backend.local_conv1d(inputs, backend.variable(np.ones((6, 3, 2))), [1], [1])
    assert backend.int_shape(out)[1:] == (6, 2)
    f = backend.function([inputs], [out])
    np.testing.assert_allclose(f([x])[0], np.repeat(x.sum(-1, keepdims=True), 2, -1),
                               rtol=1e-5)


# -- Keras 2 names of the convolution family ------------------------------------------------------

def same_layer(keras_2, keras_1, sample_shape, seed=0):
    """Both layers built on one input shape, with the same weights, give the same output."""
    keras_2, keras_1 = built(keras_2, sample_shape), built(keras_1, sample_shape)
    assert keras_2.keras_2_call and not getattr(keras_1, 'keras_2_call', False)
    keras_1.set_weights(keras_2.get_weights())
    x = np.random.RandomState(seed).standard_normal((2,) + sample_shape).astype('float32')
    np.testing.assert_allclose(keras_2.forward(x)[0], keras_1.forward(x)[0], rtol=1e-6)
    assert keras_2.output_shape == keras_1.output_shape
    return keras_2


def test_dilated_conv2d_and_conv1d_are_the_atrous_layers():
    from minikeras.layers import (AtrousConvolution1D, AtrousConvolution2D, Conv1D, Conv2D)
    layer = same_layer(Conv2D(3, (3, 2), dilation_rate=(2, 1), padding='same'),
                       AtrousConvolution2D(3, 3, 2, atrous_rate=(2, 1), border_mode='same',
                                           dim_ordering='tf'), (7, 6, 2))
    assert isinstance(layer, Conv2D) and layer.name.startswith('conv2d_')
    same_layer(Conv1D(2, 3, dilation_rate=2, activation='relu'),
               AtrousConvolution1D(2, 3, atrous_rate=2, activation='relu'), (9, 3))
    assert type(Conv2D(3, (3, 3), dilation_rate=1)) is Conv2D


def test_3d_separable_and_local_layers_take_keras_2_arguments():
    from minikeras import layers as L
    same_layer(L.Conv3D(2, (2, 3, 1), strides=(1, 2, 1), padding='same', use_bias=False),
               L.Convolution3D(2, 2, 3, 1, subsample=(1, 2, 1), border_mode='same', bias=False,
                               dim_ordering='tf'), (4, 5, 3, 2))
    same_layer(L.SeparableConv2D(3, (3, 3), depth_multiplier=2, strides=2, padding='same',
                                 depthwise_initializer='he_normal',
                                 pointwise_initializer='he_normal'),
               L.SeparableConvolution2D(3, 3, 3, depth_multiplier=2, subsample=(2, 2),
                                        border_mode='same', dim_ordering='tf'), (7, 6, 2))
    same_layer(L.LocallyConnected2D(2, (2, 3), strides=(2, 1)),
               L.LocallyConnected2D(2, 2, 3, subsample=(2, 1), dim_ordering='tf'), (5, 6, 2))
    same_layer(L.LocallyConnected1D(2, 3, strides=2),
               L.LocallyConnected1D(2, 3, subsample_length=2), (9, 3))
    same_layer(L.MaxPooling3D(2, strides=1, padding='same'),
               L.MaxPooling3D((2, 2, 2), strides=(1, 1, 1), border_mode='same',
                              dim_ordering='tf'), (3, 4, 3, 2))
    same_layer(L.AveragePooling3D(pool_size=2, data_format='channels_first'),
               L.AveragePooling3D((2, 2, 2), dim_ordering='th'), (2, 4, 4, 3))
    same_layer(L.GlobalMaxPooling3D(data_format='channels_last'),
               L.GlobalMaxPooling3D(dim_ordering='tf'), (2, 3, 2, 4))
    same_layer(L.UpSampling3D(2), L.UpSampling3D((2, 2, 2), dim_ordering='tf'), (2, 1, 2, 3))
    same_layer(L.ZeroPadding3D(((1, 1), (0, 0), (2, 2))),
               L.ZeroPadding3D((1, 0, 2), dim_ordering='tf'), (2, 1, 2, 3))
    same_layer(L.Cropping3D(1), L.Cropping3D(((1, 1),) * 3, dim_ordering='tf'), (3, 4, 3, 2))
    layer = L.SpatialDropout3D(rate=0.3)
    assert (layer.p, layer.dim_ordering) == (0.3, 'tf')


@pytest.mark.parametrize('call, message', [
    ("SeparableConv2D(4, (3, 3), depthwise_initializer='he_normal', "
     "pointwise_initializer='zeros')", 'pointwise_initializer .* differs'),
    ("SeparableConv2D(4, (3, 3), bias_initializer='ones')", "bias_initializer='zeros'"),
    ("Conv3D(2, 3, dilation_rate=2)", 'dilation_rate=2 is not supported'),
    ("ZeroPadding3D(((1, 2), (1, 1), (0, 0)))", 'pads unevenly'),
    ("Conv2DTranspose(2, 3, strides=2, output_padding=2)", 'output_padding .* below the strides'),
    ("Conv2DTranspose(2, 3, padding='same', output_shape=(None, 4, 4, 2))",
     "unknown argument 'output_shape'"),
    ("DepthwiseConv2D(3, padding='full')", "padding must be 'valid' or 'same'"),
])
def test_keras_2_convolution_arguments_minikeras_lacks_are_named(call, message):
    from minikeras import layers as L
    with pytest.raises((ValueError, TypeError), match=message):
        eval(call, {}, vars(L))


def test_conv2d_transpose_sizes_itself_from_its_input_as_keras_2_2_4():
    from minikeras.layers import Conv2DTranspose
    from minikeras.layers.convolutional_keras2 import transposed_length
    # deconv_length of Keras 2.2.4, written out by hand for these cases.
    assert transposed_length(7, 2, 3, 'valid', None) == 15
    assert transposed_length(7, 2, 1, 'valid', None) == 14
    assert transposed_length(7, 2, 3, 'same', None) == 14
    assert transposed_length(7, 2, 3, 'same', 0) == 13
    assert transposed_length(7, 3, 2, 'valid', 2) == 22
    layer = built(Conv2DTranspose(4, (3, 3), strides=2, padding='same'), (5, 6, 2))
    assert layer.output_shape == (None, 10, 12, 4)
    layer = built(Conv2DTranspose(4, 3, strides=2, data_format='channels_first'), (2, 5, 6))
    assert layer.output_shape == (None, 4, 11, 13)
    with pytest.raises(ValueError, match='Conv2DTranspose.*give another output_padding'):
        built(Conv2DTranspose(1, 4, strides=2, padding='same', output_padding=0), (5, 5, 1))


def test_depthwise_conv2d_against_loops_and_finite_differences():
    from minikeras.layers import DepthwiseConv2D
    from gradcheck import check_layer_gradients
    layer = built(DepthwiseConv2D((2, 3), strides=(1, 2), depth_multiplier=2,
                                  activation='tanh'), (5, 7, 3))
    rng = np.random.RandomState(5)
    kernel = rng.standard_normal((2, 3, 3, 2)).astype('float32')
    bias = rng.standard_normal(6).astype('float32')
    layer.set_weights([kernel, bias])
    x = rng.standard_normal((2, 5, 7, 3)).astype('float32')
    expected = np.zeros((2, 4, 3, 6))
    for i in range(4):
        for j in range(3):
            patch = x[:, i:i + 2, 2 * j:2 * j + 3, :]                # (2, 2, 3, C)
            expected[:, i, j] = np.einsum('nhwc,hwcm->ncm', patch, kernel).reshape(2, 6)
    np.testing.assert_allclose(layer.forward(x)[0], np.tanh(expected + bias), rtol=1e-5,
                               atol=1e-5)
    check_layer_gradients(layer, x)
    check_layer_gradients(built(DepthwiseConv2D(3, padding='same',
                                                data_format='channels_first'), (2, 5, 4)),
                          rng.standard_normal((2, 2, 5, 4)))


def test_keras_2_convolution_layers_save_and_reload(tmp_path):
    from minikeras.layers import Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
    from minikeras.models import Sequential, load_model
    model = Sequential([Conv2D(3, 3, dilation_rate=2, input_shape=(9, 9, 2)),
                        Conv2DTranspose(2, 3, strides=2, padding='same', output_padding=1),
                        DepthwiseConv2D(3, depth_multiplier=2, depthwise_initializer='he_normal'),
                        SeparableConv2D(2, 3, padding='same')])
    model.compile('sgd', 'mse')
    x = np.random.RandomState(0).standard_normal((2, 9, 9, 2)).astype('float32')
    model.save(str(tmp_path / 'm.h5'))
    again = load_model(str(tmp_path / 'm.h5'))
    assert [type(layer).__name__ for layer in again.layers] == [
        'AtrousConvolution2D', 'Conv2DTranspose', 'DepthwiseConv2D', 'SeparableConvolution2D']
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


# -- ImageDataGenerator: Keras 2.2.4's random stream ----------------------------------------------

AUGMENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'k2_augment.npz')


def test_keras_2_generator_draws_keras_2_2_4_parameters_in_its_order():
    from minikeras.preprocessing.image import ImageDataGenerator
    fixture = np.load(AUGMENT)
    generator = ImageDataGenerator(rotation_range=30, width_shift_range=0.1,
                                   height_shift_range=2, shear_range=10, zoom_range=0.2,
                                   channel_shift_range=5., horizontal_flip=True,
                                   vertical_flip=True, data_format='channels_last')
    drawn = []
    draw = generator._draw_parameters_keras_2

    def recording(*args):
        drawn.append(draw(*args))
        return drawn[-1]
    generator._draw_parameters_keras_2 = recording
    flow = generator.flow(fixture['x'], np.arange(8), batch_size=3, seed=11)
    for _ in range(5):
        next(flow)

    def joined(key):
        return np.concatenate([params[key] for params in drawn])
    np.testing.assert_allclose(joined('theta'), np.deg2rad(fixture['geometry_theta']))
    np.testing.assert_allclose(joined('shear'), np.deg2rad(fixture['geometry_shear']))
    for mine, theirs in (('tx', 'tx'), ('ty', 'ty'), ('zx', 'zx'), ('zy', 'zy'),
                         ('hflip', 'flip_horizontal'), ('vflip', 'flip_vertical')):
        np.testing.assert_allclose(joined(mine), fixture['geometry_' + theirs], err_msg=mine)
    # One intensity for every channel of an image.
    np.testing.assert_allclose(joined('channel'),
                               np.repeat(fixture['geometry_channel_shift_intensity'][:, None],
                                         3, axis=1))
    # height_shift_range=2 (an int) shifts by whole pixels.
    assert set(np.abs(joined('tx'))) <= {0., 1.}


def test_keras_2_generator_serves_keras_2_2_4_batches_and_epochs():
    from minikeras.preprocessing.image import ImageDataGenerator
    fixture = np.load(AUGMENT)
    generator = ImageDataGenerator(channel_shift_range=20., horizontal_flip=True,
                                   vertical_flip=True, data_format='channels_last')
    flow = generator.flow(fixture['x'], np.arange(8), batch_size=4, seed=5)
    batches = [next(flow) for _ in range(5)]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), fixture['plain_y'])
    np.testing.assert_allclose(np.concatenate([b[0] for b in batches]), fixture['plain_x'],
                               rtol=1e-6, atol=1e-4)
    # A Keras 1 generator keeps Keras 1.2.2's stream and its epoch order.
    keras_1 = ImageDataGenerator(channel_shift_range=20., horizontal_flip=True,
                                 vertical_flip=True, dim_ordering='tf')
    flow = keras_1.flow(fixture['x'], np.arange(8), batch_size=4, seed=5)
    labels = np.concatenate([next(flow)[1] for _ in range(4)])
    np.testing.assert_array_equal(labels[:8], labels[8:])


def test_batch_dot_of_4d_tensors_in_a_keras_2_script_batches_over_leading_axes(monkeypatch):
    from minikeras.autodiff import vjp
    rng = np.random.RandomState(6)
    c = rng.standard_normal((2, 3, 5))
    hat = rng.standard_normal((2, 3, 5, 4))
    o = rng.standard_normal((2, 3, 4))
    keras_1 = backend.batch_dot(c, hat, [2, 2])
    assert keras_1.shape == (2, 3, 3, 4)            # Theano's: the named axes only
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '2')
    # Keras 2.2.4's TensorFlow batch_dot, as the capsule example uses it.
    np.testing.assert_allclose(backend.batch_dot(c, hat, [2, 2]),
                               np.einsum('bni,bnid->bnd', c, hat))
    np.testing.assert_allclose(backend.batch_dot(o, hat, [2, 3]),
                               np.einsum('bnd,bnid->bni', o, hat))
    # Up to 3 axes both generations agree.
    x, y = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    np.testing.assert_allclose(backend.batch_dot(x, y, [2, 2]), np.einsum('bik,bjk->bij', x, y))
    dy = rng.standard_normal((2, 3, 5))
    _, backward = vjp(lambda a, b: backend.batch_dot(a, b, [2, 3]), o, hat)
    do, dhat = backward(dy)
    np.testing.assert_allclose(do, np.einsum('bni,bnid->bnd', dy, hat))
    np.testing.assert_allclose(dhat, np.einsum('bni,bnd->bnid', dy, o))


@pytest.mark.parametrize('name', ['CuDNNLSTM', 'CuDNNGRU'])
def test_keras_2_layers_not_provided_name_themselves_and_the_nearest(name):
    from minikeras.compat.unsupported import NotSupportedError
    with pytest.raises(NotSupportedError, match='keras.layers.%s: .*nearest: ' % name):
        exec('from minikeras.layers import %s' % name, {})
