"""Keras 2's `layer(x, training=True/False)`: that call runs in the given
learning phase whatever the model does (fit, evaluate, predict)."""
import numpy as np
import pytest

from minikeras import backend as K
from minikeras.engine.base_layer import Layer
from minikeras.layers import BatchNormalization, Dense, Dropout, Input
from minikeras.models import Model, model_from_json

from gradcheck import check_model_gradients


def test_dropout_forced_on_drops_in_predict():
    np.random.seed(0)
    a = Input(shape=(2000,))
    model = Model(a, Dropout(0.5)(a, training=True))
    x = np.ones((2, 2000), 'float32')
    y = model.predict(x)
    # inverted dropout: kept units scaled by 1 / (1 - rate), the others 0
    assert set(np.unique(y)) == {0., 2.}
    assert 0.45 < np.mean(y == 0) < 0.55
    # the same layer type called without training= follows predict's phase
    plain = Model(a, Dropout(0.5)(a))
    np.testing.assert_array_equal(plain.predict(x), x)


def test_dropout_forced_off_trains_deterministically():
    np.random.seed(1)
    a = Input(shape=(4,))
    hidden = Dropout(0.9)(Dense(5, activation='tanh')(a), training=False)
    model = Model(a, Dense(2)(hidden))
    model.compile('sgd', 'mse')
    rng = np.random.RandomState(0)
    x, y = rng.rand(6, 4).astype('float32'), rng.rand(6, 2).astype('float32')
    # finite differences of the test loss equal the training step's gradient
    # only if training ran without dropout too
    check_model_gradients(model, x, y)


def numpy_batchnorm(x, gamma, beta, mean, var, epsilon):
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta


def test_batchnormalization_forced_phases():
    np.random.seed(2)
    a = Input(shape=(3,))
    by_batch = BatchNormalization(epsilon=1e-3)
    model = Model(a, by_batch(a, training=True))
    x = np.random.RandomState(0).rand(8, 3).astype('float32') * 4
    gamma, beta, mean, var = [w.astype('float64') for w in by_batch.get_weights()]
    expected = numpy_batchnorm(x, gamma, beta, x.mean(axis=0), x.var(axis=0), 1e-3)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-4, atol=1e-5)

    by_moving = BatchNormalization(epsilon=1e-3)
    frozen = Model(a, by_moving(a, training=False))
    frozen.compile('sgd', 'mse')
    frozen.train_on_batch(x, x)
    gamma, beta, mean, var = [w.astype('float64') for w in by_moving.get_weights()]
    # the moving statistics are untouched by training, and were used
    np.testing.assert_array_equal(mean, 0.)
    np.testing.assert_array_equal(var, 1.)
    expected = numpy_batchnorm(x, gamma, beta, mean, var, 1e-3)
    np.testing.assert_allclose(frozen.predict(x), expected, rtol=1e-4, atol=1e-5)


class TimesTwoInTraining(Layer):
    """Written the Keras 2 way: call(x, training=None)."""
    def call(self, x, training=None):
        self.seen = training
        return K.in_train_phase(x * 2, x, training=training)

    def get_output_shape_for(self, input_shape):
        return input_shape


def test_keras_2_custom_call_receives_the_phase():
    a = Input(shape=(3,))
    forced, following = TimesTwoInTraining(), TimesTwoInTraining()
    model = Model(a, [forced(a, training=True), following(a)])
    x = np.ones((2, 3), 'float32')
    out_forced, out_following = model.predict(x)
    np.testing.assert_array_equal(out_forced, 2 * x)
    np.testing.assert_array_equal(out_following, x)
    assert forced.seen is True and following.seen is False


def test_k_in_train_phase_training_argument():
    assert K.in_train_phase(1, 2, training=True) == 1
    assert K.in_train_phase(1, 2, training=0) == 2
    assert K.in_test_phase(1, 2, training=False) == 1
    with pytest.raises(ValueError, match='training must be'):
        K.in_train_phase(1, 2, training='yes')


def test_training_on_arrays_and_the_learning_phase_tensor():
    np.random.seed(3)
    x = np.ones((4, 1000), 'float32')
    assert np.mean(Dropout(0.5)(x, training=True) == 0) > 0.4
    np.testing.assert_array_equal(Dropout(0.5)(x, training=False), x)
    a = Input(shape=(1000,))
    # training=K.learning_phase() is the model's own phase (Keras 2 scripts write it)
    model = Model(a, Dropout(0.5)(a, training=K.learning_phase()))
    np.testing.assert_array_equal(model.predict(x), x)


def test_bad_training_value_names_the_layer():
    a = Input(shape=(3,))
    with pytest.raises(TypeError, match=r"Layer drop \(Dropout\): training must be True, "
                                        r"False or None.*'yes'"):
        Dropout(0.5, name='drop')(a, training='yes')


def test_forced_phase_survives_the_model_config():
    np.random.seed(4)
    a = Input(shape=(2000,))
    model = Model(a, Dropout(0.5, name='drop')(Dense(2000, name='d')(a), training=True))
    layers = model.get_config()['layers']
    node = [layer for layer in layers if layer['name'] == 'drop'][0]['inbound_nodes'][0]
    assert node == [['d', 0, 0, {'training': True}]]
    rebuilt = model_from_json(model.to_json())
    rebuilt.set_weights(model.get_weights())
    y = rebuilt.predict(np.ones((1, 2000), 'float32'))
    assert 0.4 < np.mean(y == 0) < 0.6
