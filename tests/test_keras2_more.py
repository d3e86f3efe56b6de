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
