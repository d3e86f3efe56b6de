"""Keras 2's merge layers and functions against NumPy, backward against finite
differences, in a functional model, and errors for bad input."""
import numpy as np
import pytest

import minikeras.layers.merge as merge_module
from minikeras.layers import (Add, Average, Concatenate, Dense, Dot, Input, Maximum, Minimum,
                              Multiply, Subtract, add, average, concatenate, dot, maximum, merge,
                              minimum, multiply, subtract)
from minikeras.models import Model

from gradcheck import numeric_gradient


def run(layer, xs):
    """Output, and the input gradients of sum(output * weights) next to finite differences."""
    y, backprop = layer.forward(xs, training=True)
    weights = np.random.RandomState(1).uniform(-1, 1, y.shape).astype('float32')
    grads = backprop(weights)
    for i, x in enumerate(xs):
        x = x.astype('float64')     # perturbed in place by numeric_gradient

        def loss(x=x, i=i):
            trial = list(xs)
            trial[i] = x
            return float(np.sum(layer.forward(trial)[0].astype('float64') * weights))
        indices, numeric = numeric_gradient(loss, x, eps=1e-3)
        np.testing.assert_allclose(grads[i].reshape(-1)[indices], numeric, rtol=2e-2,
                                   atol=2e-3)
    return y


def inputs(*shapes, seed=0):
    rng = np.random.RandomState(seed)
    # Distinct values, so that maximum and minimum have no ties.
    return [(rng.permutation(int(np.prod(s))).reshape(s) / 7. - 1.).astype('float32')
            for s in shapes]


@pytest.mark.parametrize('layer, reference', [
    (Add(), lambda xs: xs[0] + xs[1] + xs[2]),
    (Multiply(), lambda xs: xs[0] * xs[1] * xs[2]),
    (Average(), lambda xs: (xs[0] + xs[1] + xs[2]) / 3.),
    (Maximum(), lambda xs: np.maximum(np.maximum(xs[0], xs[1]), xs[2])),
    (Minimum(), lambda xs: np.minimum(np.minimum(xs[0], xs[1]), xs[2])),
])
def test_elementwise_merges(layer, reference):
    xs = inputs((2, 3, 4), (2, 3, 4), (2, 3, 4))
    xs = [xs[0], xs[1] + 0.05, xs[2] - 0.05]
    layer.connect([x.shape for x in xs])
    np.testing.assert_allclose(run(layer, xs), reference(xs), rtol=1e-6)


def test_subtract_and_broadcasting():
    a, b = inputs((2, 3), (2, 3))
    np.testing.assert_allclose(run(Subtract(), [a, b]), a - b)
    with pytest.raises(ValueError, match=r'Subtract\) must be called on a list of exactly 2'):
        Subtract().connect([(None, 3)] * 3)
    a, b = inputs((2, 3, 4), (2, 1, 4))
    layer = Add()
    assert layer.connect([(None, 3, 4), (None, 1, 4)]) == (None, 3, 4)
    np.testing.assert_allclose(run(layer, [a, b]), a + b)
    with pytest.raises(ValueError, match=r'do not broadcast together'):
        Add().connect([(None, 3), (None, 4)])


def test_concatenate():
    a, b = inputs((2, 3, 4), (2, 5, 4))
    layer = Concatenate(axis=1)
    assert layer.connect([(None, 3, 4), (None, 5, 4)]) == (None, 8, 4)
    np.testing.assert_array_equal(run(layer, [a, b]), np.concatenate([a, b], axis=1))
    with pytest.raises(ValueError, match=r'must match except on axis -1'):
        Concatenate().connect([(None, 3, 4), (None, 5, 4)])


def test_dot_and_normalize():
    a, b = inputs((3, 4), (3, 4))
    layer = Dot(axes=1)
    assert layer.connect([(None, 4), (None, 4)]) == (None, 1)
    np.testing.assert_allclose(run(layer, [a, b]), np.sum(a * b, axis=1, keepdims=True),
                               rtol=1e-5)
    cosine = Dot(axes=-1, normalize=True)
    expected = np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(run(cosine, [a, b])[:, 0], expected, rtol=1e-5)
    a, b = inputs((2, 3, 4), (2, 5, 3))
    layer = Dot(axes=(1, 2))
    assert layer.connect([(None, 3, 4), (None, 5, 3)]) == (None, 4, 5)
    np.testing.assert_allclose(run(layer, [a, b]), np.einsum('nij,nki->njk', a, b), rtol=1e-5)
    with pytest.raises(ValueError, match=r'dimension mismatch: 4 != 3'):
        Dot(axes=2).connect([(None, 3, 4), (None, 5, 3)])


def test_functions_build_graphs_that_train():
    np.random.seed(0)
    left, right = Input(shape=(4,)), Input(shape=(4,))
    branches = [Dense(3)(left), Dense(3)(right)]
    merged = [f(branches) for f in (add, subtract, multiply, average, maximum, minimum)]
    merged.append(dot(branches, axes=1, normalize=True))
    output = Dense(1)(concatenate(merged, axis=-1))
    model = Model(inputs=[left, right], outputs=output)
    assert model.layers[-2].output_shape == (None, 19)
    model.compile('sgd', 'mse')
    x = [np.random.rand(16, 4).astype('float32') for _ in range(2)]
    y = np.random.rand(16, 1).astype('float32')
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, nb_epoch=20, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before


def test_merge_stays_keras_1_function():
    a, b = Input(shape=(3,)), Input(shape=(3,))
    assert merge([a, b], mode='sum').shape == (None, 3)
    # The module of the same name (Keras 2's) does what Keras 1's function did.
    assert merge_module([a, b], mode='concat').shape == (None, 6)
    assert merge_module.Add is Add


def merges_model():
    """Every Keras 2 merge layer in one functional model, its inputs from Dense layers."""
    a, b = Input((4,)), Input((4,))
    x, y = Dense(4, activation='tanh')(a), Dense(4)(b)
    merged = [Add()([x, y]), Subtract()([x, y]), Multiply()([x, y]), Average()([x, y]),
              Maximum()([x, y]), Minimum()([x, y]), Dot(axes=1, normalize=True)([x, y])]
    return Model([a, b], Dense(2)(Concatenate()(merged)))


def test_keras2_merges_export_to_keras3_and_read_back(tmp_path):
    from minikeras.engine.saving import export_to_keras3
    from minikeras.models import load_model
    model = merges_model()
    rng = np.random.RandomState(2)
    model.set_weights([rng.uniform(-1, 1, w.shape).astype('float32') for w in model.get_weights()])
    xs = [rng.uniform(-1, 1, (5, 4)).astype('float32') for _ in range(2)]
    path = str(tmp_path / 'k3.h5')
    export_to_keras3(model, path)
    import h5py
    import json
    with h5py.File(path, 'r') as f:
        config = json.loads(f.attrs['model_config'])
    classes = [layer['class_name'] for layer in config['config']['layers']]
    for name in ('Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Dot',
                 'Concatenate'):
        assert name in classes
    np.testing.assert_allclose(load_model(path).predict(xs), model.predict(xs), rtol=1e-5,
                               atol=1e-6)
