"""Legacy code's own Python functions: custom losses, activations, metrics,
Lambda layers and Keras 1-style custom layers, differentiated by tracing."""
import importlib.util
import os

import numpy as np
import pytest

from minikeras import backend as K
from minikeras.engine.topology import Layer
from minikeras.layers import Activation, Dense, Input, Lambda, merge
from minikeras.models import Model, Sequential
from minikeras.utils.layer_utils import layer_from_config

from gradcheck import check_layer_gradients, check_model_gradients

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def data(seed=0):
    rng = np.random.RandomState(seed)
    return rng.standard_normal((6, 4)).astype('float32'), rng.uniform(0.1, 1, (6, 2))


def test_custom_loss_with_backend_ops_trains_with_the_right_gradient():
    def mean_fourth_power(y_true, y_pred):
        return K.mean(K.square(K.square(y_pred - y_true)), axis=-1)
    model = Sequential([Dense(3, input_dim=4, activation='tanh'), Dense(2)])
    model.compile(loss=mean_fourth_power, optimizer='sgd')
    x, y = data()
    expected = np.mean(((model.predict(x) - y) ** 4).mean(axis=-1))
    assert model.test_on_batch(x, y) == pytest.approx(expected, rel=1e-5)
    check_model_gradients(model, x, y)


def test_custom_loss_reducing_the_batch_itself():
    model = Sequential([Dense(2, input_dim=4)])
    model.compile(loss=lambda t, p: K.sum(K.abs(p - t)), optimizer='sgd')
    x, y = data()
    assert model.test_on_batch(x, y) == pytest.approx(np.abs(model.predict(x) - y).sum(),
                                                      rel=1e-5)
    check_model_gradients(model, x, y, lr=0.01)


def test_custom_activation_and_metric():
    def swish(x):
        return x * K.sigmoid(x)

    def mean_error(y_true, y_pred):
        return K.mean(y_pred - y_true, axis=-1)
    layer = Activation(swish)
    layer.connect((None, 4))
    x = data()[0]
    np.testing.assert_allclose(layer.call(x), x / (1 + np.exp(-x)), rtol=1e-5)
    check_layer_gradients(layer, x)
    model = Sequential([Dense(2, input_dim=4)])
    model.compile(loss='mse', optimizer='sgd', metrics=[mean_error])
    x, y = data()
    loss, metric = model.test_on_batch(x, y)
    assert model.metrics_names == ['loss', 'mean_error']
    assert metric == pytest.approx(np.mean(model.predict(x) - y), rel=1e-5)


def test_lambda_layer_shapes_gradients_and_config():
    layer = Lambda(lambda x: K.concatenate([x[:, :2] ** 2, K.mean(x, axis=1, keepdims=True)]))
    assert layer.connect((None, 4)) == (None, 3)
    x = data()[0]
    expected = np.concatenate([x[:, :2] ** 2, x.mean(axis=1, keepdims=True)], axis=1)
    np.testing.assert_allclose(layer.call(x), expected, rtol=1e-5)
    check_layer_gradients(layer, x)
    clone = layer_from_config({'class_name': 'Lambda', 'config': layer.get_config()})
    np.testing.assert_allclose(clone.call(x), expected, rtol=1e-5)
    with_shape = Lambda(lambda x, scale: x * scale, output_shape=(4,), arguments={'scale': 3.})
    assert with_shape.connect((None, 4)) == (None, 4)
    np.testing.assert_allclose(with_shape.call(x), 3 * x, rtol=1e-6)


def test_lambda_and_function_merge_in_a_functional_model():
    a, b = Input(shape=(4,)), Input(shape=(4,))
    product = merge([a, b], mode=lambda xs: xs[0] * K.tanh(xs[1]), output_shape=(4,))
    model = Model(input=[a, b], output=Dense(2)(Lambda(lambda x: x - K.mean(x))(product)))
    model.compile(loss='mse', optimizer='sgd')
    x1, y = data()
    x2 = data(seed=1)[0]
    check_model_gradients(model, [x1, x2], y)


class Antirectifier(Layer):
    """A Keras 1 example layer: weights from K.variable, listed by assignment."""

    def __init__(self, output_dim, **kwargs):
        self.output_dim = output_dim
        super(Antirectifier, self).__init__(**kwargs)

    def build(self, input_shape):
        self.W = K.variable(np.random.uniform(-0.5, 0.5, (2 * input_shape[1], self.output_dim)))
        self.trainable_weights = [self.W]

    def get_output_shape_for(self, input_shape):
        return (input_shape[0], self.output_dim)

    def call(self, x, mask=None):
        x = x - K.mean(x, axis=1, keepdims=True)
        x = K.l2_normalize(x, axis=1)
        return K.dot(K.concatenate([K.relu(x), K.relu(-x)], axis=1), self.W)


def test_keras_1_style_custom_layer_trains_through_traced_call():
    layer = Antirectifier(3)
    layer.connect((None, 4))
    assert len(layer.trainable_weights) == 1 and layer.W is layer.trainable_weights[0]
    x = data()[0] + np.where(data()[0] > 0, 0.05, -0.05).astype('float32')
    check_layer_gradients(layer, x)
    model = Sequential([Antirectifier(3, input_shape=(4,)), Activation('softmax')])
    model.compile(loss='categorical_crossentropy', optimizer='sgd')
    check_model_gradients(model, x, np.eye(3)[[0, 1, 2, 0, 1, 2]])


def test_two_layer_net_script_matches_the_blogs_numpy_network(capsys):
    spec = importlib.util.spec_from_file_location(
        'two_layer_net', os.path.join(ROOT, 'scripts', 'two_layer_net.py'))
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    losses, predictions = script.main()
    printed = [line for line in capsys.readouterr().out.splitlines()
               if line.startswith('iteration')]
    assert len(printed) == 15
    marks = losses[99::100]
    assert all(later < earlier for earlier, later in zip(marks, marks[1:]))
    np.testing.assert_array_less(np.abs(predictions.ravel() - script.y.ravel()), 0.05)

    # The blog's algorithm, by hand, from the same initial weights.
    np.random.seed(1)
    w1, w2 = np.random.rand(3, 4), np.random.rand(4, 1)

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))
    x, y = script.x.astype('float64'), script.y.astype('float64')
    for _ in range(1500):
        hidden = sigmoid(x @ w1)
        output = sigmoid(hidden @ w2)
        d_out = 2 * (y - output) * output * (1 - output)
        d_w2 = hidden.T @ d_out
        d_w1 = x.T @ (d_out @ w2.T * hidden * (1 - hidden))
        w1, w2 = w1 + d_w1, w2 + d_w2
    np.testing.assert_allclose(predictions, sigmoid(sigmoid(x @ w1) @ w2), atol=2e-4)
