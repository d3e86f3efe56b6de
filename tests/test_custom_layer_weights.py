"""Keras 1 custom layers (a `call` in `K.*`) get the gradients of their
weights wherever they keep them: attributes, lists, tuples, dicts, or only
`self.trainable_weights`. Checked against finite differences."""
import numpy as np

from minikeras import backend as K
from minikeras.engine.topology import Layer
from minikeras.layers import Dense
from minikeras.models import Sequential

from gradcheck import check_layer_gradients


def _kernel(input_shape, seed=0):
    return np.random.RandomState(seed).standard_normal((input_shape[1], 3)) * 0.5


class InList(Layer):
    """The weights only in a list attribute (`self.weights_list`)."""

    def build(self, input_shape):
        self.weights_list = [K.variable(_kernel(input_shape)), K.variable(np.full(3, 0.1))]
        self.trainable_weights = self.weights_list

    def call(self, x, mask=None):
        W, b = self.weights_list
        return K.tanh(K.dot(x, W) + b)

    def get_output_shape_for(self, input_shape):
        return (input_shape[0], 3)


class ThroughTrainableWeights(InList):
    """The weights only in `self.trainable_weights`, read back in `call`."""

    def build(self, input_shape):
        self.trainable_weights = [K.variable(_kernel(input_shape)), K.variable(np.full(3, 0.1))]

    def call(self, x, mask=None):
        W, b = self.trainable_weights
        return K.tanh(K.dot(x, W) + b)


class InContainers(InList):
    """A dict, a tuple and a nested list, and a non-trainable scale."""

    def build(self, input_shape):
        W = K.variable(_kernel(input_shape))
        b = K.variable(np.full(3, 0.1))
        g = K.variable(np.full(3, 1.5))
        self.params = {'W': W}
        self.pair = (b, 'bias')
        self.nested = [[g]]
        self.scale = K.variable(np.full(3, 2.))
        self.trainable_weights = [W, b, g]
        self.non_trainable_weights = [self.scale]

    def call(self, x, mask=None):
        y = K.dot(x, self.params['W']) + self.pair[0]
        return K.tanh(y) * self.nested[0][0] * self.scale


class Float64Variables(InList):
    """Weights made as float64 arrays: minikeras stores float32 copies, and
    the list must hold those copies, not the originals."""

    def build(self, input_shape):
        self.weights_list = [_kernel(input_shape), np.full(3, 0.1)]
        self.trainable_weights = self.weights_list


def _built(layer_class, input_dim=4):
    layer = layer_class()
    layer.connect((None, input_dim))
    return layer


def test_list_held_weights_get_their_gradients():
    x = np.random.RandomState(2).standard_normal((5, 4)).astype('float32')
    for layer_class in (InList, ThroughTrainableWeights, InContainers, Float64Variables):
        layer = _built(layer_class)
        check_layer_gradients(layer, x)
        assert all(np.abs(g).sum() > 0 for g in layer.gradients), layer_class.__name__


def test_the_containers_hold_the_weights_again_after_the_call():
    layer = _built(InContainers)
    W, b, g = layer.trainable_weights
    layer.forward(np.ones((2, 4), dtype='float32'), training=True)[1](np.ones((2, 3), 'float32'))
    assert layer.params['W'] is W and layer.pair[0] is b and layer.nested[0][0] is g
    assert layer._trainable_weights[0] is W and type(layer.params['W']) is np.ndarray
    converted = _built(Float64Variables)
    assert converted.weights_list[0] is converted.trainable_weights[0]
    assert converted.weights_list[0].dtype == np.float32


def test_a_model_with_a_list_held_layer_learns():
    np.random.seed(0)
    x = np.random.standard_normal((64, 4)).astype('float32')
    y = (x[:, :1] > 0).astype('float32')
    model = Sequential([ThroughTrainableWeights(input_shape=(4,)), Dense(1, activation='sigmoid')])
    model.compile('sgd', 'binary_crossentropy')
    before = [w.copy() for w in model.layers[0].trainable_weights]
    history = model.fit(x, y, nb_epoch=5, batch_size=16, verbose=0)
    assert history.history['loss'][-1] < history.history['loss'][0]
    assert not np.allclose(before[0], model.layers[0].trainable_weights[0])
