"""Keras 2.2.4 layers and names added on top of the Keras 2 signatures:
AlphaDropout, the Keras 2 names of the convolution family, the recurrent
layers' Keras 2 arguments, the backend functions Keras 2's examples call.
Each is checked against a NumPy reference, the Keras 1 call it must equal,
or finite differences."""
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
    (dict(return_state=True), 'return_state=True is not supported'),
    (dict(reset_after=True), 'reset_after=True'),
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
