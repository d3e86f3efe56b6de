"""Keras 0.3's custom-layer protocol (0.3.3 examples/antirectifier.py): a
layer with `get_output(train)` reading `self.get_input(train)` and an
`output_shape` property, translated at the compat edge into Keras 1's
`call`/`get_output_shape_for`; values against NumPy, gradients against
finite differences."""
import numpy as np

from minikeras import backend as K
from minikeras.layers.core import Activation, Dense, Layer
from minikeras.models import Sequential

from gradcheck import check_layer_gradients


class Antirectifier(Layer):
    """0.3.3's example layer, as written for Keras 0.3."""

    @property
    def output_shape(self):
        shape = list(self.input_shape)
        assert len(shape) == 2
        shape[-1] *= 2
        return tuple(shape)

    def get_output(self, train):
        x = self.get_input(train)
        x -= K.mean(x, axis=1, keepdims=True)
        x = K.l2_normalize(x, axis=1)
        return K.concatenate([K.relu(x), K.relu(-x)], axis=1)


def reference(x):
    x = x.astype('float64') - x.mean(axis=1, keepdims=True)
    x = x / np.sqrt(np.sum(x * x, axis=1, keepdims=True))
    return np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)], axis=1)


class Scaled(Layer):
    """A 0.3 layer whose output depends on the phase (`train`)."""

    def get_output(self, train):
        return self.get_input(train) * (2. if train else 1.)


def test_antirectifier_in_a_sequential_model():
    np.random.seed(0)
    model = Sequential()
    model.add(Dense(6, input_shape=(5,)))
    model.add(Antirectifier())
    model.add(Dense(3))
    model.add(Activation('softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='sgd')
    assert model.layers[1].output_shape == (None, 12)
    assert model.layers[2].W.shape == (12, 3)
    x = np.random.rand(8, 5).astype('float32')
    hidden = x.dot(model.layers[0].W) + model.layers[0].b
    kept = x.copy()
    expected = reference(hidden).dot(model.layers[2].W) + model.layers[2].b
    expected = np.exp(expected) / np.exp(expected).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(x, kept)
    # the layer on arrays, and on a graph tensor (get_output outside a model)
    np.testing.assert_allclose(Antirectifier()(hidden), reference(hidden), rtol=1e-5, atol=1e-6)
    y = np.eye(3)[np.random.randint(0, 3, 8)]
    history = model.fit(x, y, nb_epoch=3, verbose=0).history
    assert history['loss'][-1] < history['loss'][0]


def test_antirectifier_gradient_and_phase():
    layer = Antirectifier()
    layer.connect((None, 4))
    x = np.random.RandomState(1).standard_normal((3, 4)).astype('float32')
    check_layer_gradients(layer, x)
    scaled = Scaled()
    scaled.connect((None, 4))
    np.testing.assert_allclose(scaled.forward(x, training=True)[0], 2 * x)
    np.testing.assert_allclose(scaled.forward(x, training=False)[0], x)
