"""Activations, objectives and metrics applied to graph tensors (issue 11):
each builds a graph node on a `K.placeholder` and computes NumPy on arrays;
the values are checked against NumPy formulas written here, the gradients
against finite differences."""
import numpy as np
import pytest

from minikeras import activations, metrics, objectives
from minikeras import backend as K

from gradcheck import numeric_gradient

X = np.array([[-1.5, -0.3, 0.02, 0.1, 0.5, 0.9, 2.0],
              [0.7, -2.2, 1.1, -0.4, 0.25, 3.0, -0.05]], dtype='float32')

# independent references: the formulas, in float64
ACTIVATIONS = {
    'softmax': lambda x: np.exp(x - x.max(-1, keepdims=True)) /
    np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True),
    'softplus': lambda x: np.log1p(np.exp(x)),
    'softsign': lambda x: x / (1 + np.abs(x)),
    'sigmoid': lambda x: 1 / (1 + np.exp(-x)),
    'hard_sigmoid': lambda x: np.clip(0.2 * x + 0.5, 0, 1),
    'relu': lambda x: np.maximum(x, 0),
    'elu': lambda x: np.where(x > 0, x, np.exp(x) - 1),
    'tanh': np.tanh,
    'linear': lambda x: x,
}


@pytest.mark.parametrize('name', sorted(ACTIVATIONS))
def test_activation_on_a_placeholder(name):
    function = getattr(activations, name)
    x = K.placeholder(shape=X.shape)
    y = function(x)
    assert K.is_keras_tensor(y)
    f = K.function([x], [y])
    expected = ACTIVATIONS[name](X.astype('float64'))
    np.testing.assert_allclose(f([X])[0], expected, rtol=1e-5, atol=1e-6)
    # on arrays it stays NumPy
    np.testing.assert_allclose(function(X), expected, rtol=1e-5, atol=1e-6)
    # and the node differentiates: d sum(y * w) / dx by finite differences
    weights = np.linspace(-1, 1, X.size).reshape(X.shape).astype('float32')
    grad = K.function([x], K.gradients(K.sum(y * weights), [x]))([X])[0]
    point = X.astype('float64')
    _, numeric = numeric_gradient(
        lambda: float(np.sum(ACTIVATIONS[name](point) * weights)), point, eps=1e-4,
        max_entries=point.size)
    np.testing.assert_allclose(grad.reshape(-1), numeric, rtol=1e-3, atol=1e-4)


def test_time_distributed_softmax_on_a_placeholder():
    x = K.placeholder(shape=(1, 1, 7))
    out = K.function([x], [activations.softmax(x)])([X[:1].reshape(1, 1, 7)])[0]
    np.testing.assert_allclose(out[0, 0], ACTIVATIONS['softmax'](X[0].astype('float64')),
                               rtol=1e-5)


P = np.array([[0.2, 0.7, 0.1], [0.5, 0.3, 0.2], [0.05, 0.05, 0.9]], dtype='float32')
T = np.array([[0, 1, 0], [1, 0, 0], [0, 1, 0]], dtype='float32')
EPS = 1e-7

OBJECTIVES = {
    'mean_squared_error': lambda t, p: np.mean((p - t) ** 2, -1),
    'mean_absolute_error': lambda t, p: np.mean(np.abs(p - t), -1),
    'binary_crossentropy': lambda t, p: np.mean(
        -(t * np.log(np.clip(p, EPS, 1 - EPS)) + (1 - t) * np.log(1 - np.clip(p, EPS, 1 - EPS))), -1),
    'categorical_crossentropy': lambda t, p: -np.sum(t * np.log(p / p.sum(-1, keepdims=True)), -1),
    'hinge': lambda t, p: np.mean(np.maximum(1 - t * p, 0), -1),
    'poisson': lambda t, p: np.mean(p - t * np.log(p + EPS), -1),
    'cosine_proximity': lambda t, p: -np.mean(
        t / np.linalg.norm(t, axis=-1, keepdims=True) *
        p / np.linalg.norm(p, axis=-1, keepdims=True), -1),
}


@pytest.mark.parametrize('name', sorted(OBJECTIVES))
def test_objective_on_placeholders(name):
    t, p = K.placeholder(shape=(None, 3)), K.placeholder(shape=(None, 3))
    loss = getattr(objectives, name)(t, p)
    assert K.is_keras_tensor(loss) and loss.shape == (None,)
    expected = OBJECTIVES[name](T.astype('float64'), P.astype('float64'))
    np.testing.assert_allclose(K.function([t, p], [loss])([T, P])[0], expected, rtol=1e-5)
    grad = K.function([t, p], K.gradients(K.sum(loss), [p]))([T, P])[0]
    point = P.astype('float64')
    _, numeric = numeric_gradient(lambda: float(np.sum(OBJECTIVES[name](T, point))), point,
                                  eps=1e-5, max_entries=point.size)
    np.testing.assert_allclose(grad.reshape(-1), numeric, rtol=2e-3, atol=2e-4)


def test_sparse_categorical_crossentropy_on_placeholders():
    t, p = K.placeholder(shape=(3, 1)), K.placeholder(shape=(3, 3))
    loss = objectives.sparse_categorical_crossentropy(t, p)
    out = K.function([t, p], [loss])([np.array([[1], [0], [1]], 'float32'), P])[0]
    np.testing.assert_allclose(out, -np.log([0.7, 0.5, 0.05]), rtol=1e-5)


def test_metrics_on_placeholders_are_scalar_nodes():
    t, p = K.placeholder(ndim=2), K.placeholder(ndim=2)
    accuracy = metrics.categorical_accuracy(t, p)
    binary = metrics.binary_accuracy(t, p)
    assert accuracy.shape == () and binary.shape == ()
    acc, bin_acc = K.function([t, p], [accuracy, binary])([T, P])
    assert acc == pytest.approx(2 / 3.)
    # round(P) == T entry by entry: 7 of the 9 entries agree
    assert bin_acc == pytest.approx(np.mean(np.round(P) == T))
    assert metrics.categorical_accuracy(T, P) == pytest.approx(2 / 3.)


def _small_convnet():
    from minikeras.layers import Convolution2D, Dense, Flatten, Input, Lambda
    from minikeras.models import Model
    image = Input(shape=(2, 6, 6))
    h = Convolution2D(3, 3, 3, activation='tanh', dim_ordering='th')(image)
    h = Lambda(lambda v: v * 1.5)(h)
    h = Flatten()(h)
    out = Dense(4, activation='tanh')(h)
    return Model(image, out)


def test_input_gradient_computes_no_weight_gradient():
    np.random.seed(3)
    model = _small_convnet()
    x = np.random.RandomState(0).standard_normal((2, 2, 6, 6)).astype('float32')
    loss = K.sum(K.square(model.output))
    f = K.function([model.input], K.gradients(loss, [model.input]))
    buffers = [g for layer in model.layers for g in layer.gradients]
    for g in buffers:
        g.fill(np.nan)
    grad = f([x])[0]
    # the weight gradients were not computed: their buffers are as they were
    assert all(np.isnan(g).all() for g in buffers)
    _, numeric = numeric_gradient(
        lambda: float(np.sum(np.square(model.predict(x).astype('float64')))), x, eps=1e-2)
    indices, _ = numeric_gradient(lambda: 0., x)
    np.testing.assert_allclose(grad.reshape(-1)[indices], numeric, rtol=2e-2, atol=2e-3)
    # asked for, a weight's gradient is still there, equal to finite differences
    kernel = model.layers[1].W
    g_kernel, g_input = K.function([model.input], K.gradients(loss, [kernel, model.input]))([x])
    np.testing.assert_allclose(g_input, grad, rtol=1e-5, atol=1e-6)
    indices, numeric = numeric_gradient(
        lambda: float(np.sum(np.square(model.predict(x).astype('float64')))), kernel, eps=1e-2)
    np.testing.assert_allclose(g_kernel.reshape(-1)[indices], numeric, rtol=2e-2, atol=2e-3)
    # and every layer computes its weight gradients again afterwards
    assert all(layer.weight_gradients_wanted for layer in model.layers)


def test_pruned_gradients_through_a_nested_model():
    from minikeras.layers import Dense, Input
    from minikeras.models import Model
    np.random.seed(0)
    inner_input = Input(shape=(4,))
    inner = Model(inner_input, Dense(3, activation='tanh')(
        Dense(5, activation='tanh')(inner_input)))
    image = Input(shape=(4,))
    outer = Model(image, Dense(2)(inner(image)))
    loss = K.sum(K.square(outer.output))
    kernel = inner.layers[1].W
    x = np.random.RandomState(2).standard_normal((2, 4)).astype('float32')
    g_kernel, g_input = K.function([image], K.gradients(loss, [kernel, image]))([x])

    def objective():
        return float(np.sum(np.square(outer.predict(x).astype('float64'))))
    for array, grad in ((kernel, g_kernel), (x, g_input)):
        indices, numeric = numeric_gradient(objective, array, eps=1e-2)
        np.testing.assert_allclose(grad.reshape(-1)[indices], numeric, rtol=2e-2, atol=2e-4)
    # the input gradient alone leaves the inner layers' buffers untouched
    for layer in inner.layers[1:]:
        for g in layer.gradients:
            g.fill(np.nan)
    K.function([image], K.gradients(loss, [image]))([x])
    assert all(np.isnan(g).all() for layer in inner.layers[1:] for g in layer.gradients)
