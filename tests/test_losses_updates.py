"""Keras 1.2.2's `losses` and `updates` of layers and models (issue 11):
`add_loss`, `add_update`, `get_losses_for`, `get_updates_for`, the
regularizers' penalties as graph tensors, checked against NumPy."""
import numpy as np

from minikeras import backend as K
from minikeras import regularizers
from minikeras.layers import Dense, Input, TimeDistributed
from minikeras.models import Model, Sequential


def test_added_losses_and_updates_by_input():
    a = Input(shape=(2,))
    dense = Dense(1)
    dense.add_update(0, inputs=a)
    dense.add_update(1, inputs=None)
    dense.add_loss(0, inputs=a)
    dense.add_loss(1, inputs=None)
    assert dense.get_updates_for(a) == [0] and dense.get_updates_for(None) == [1]
    assert dense.get_losses_for(a) == [0] and dense.get_losses_for(None) == [1]
    assert dense.updates == [0, 1] and dense.losses == [0, 1]


def test_regularization_losses_are_graph_tensors_equal_to_numpy():
    np.random.seed(0)
    model = Sequential()
    model.add(Dense(5, input_shape=(4,)))
    model.add(Dense(3, W_regularizer=regularizers.l1l2(0.1, 0.2),
                    activity_regularizer=regularizers.activity_l1(0.5)))
    model.compile(loss='mse', optimizer='sgd')
    assert len(model.losses) == 2
    weight_loss, activity_loss = model.losses
    W = model.layers[1].W.astype('float64')
    np.testing.assert_allclose(K.eval(weight_loss),
                               0.1 * np.abs(W).sum() + 0.2 * np.square(W).sum(), rtol=1e-5)
    x = np.random.rand(6, 4).astype('float32')
    value = K.function([model.input], [activity_loss])([x])[0]
    np.testing.assert_allclose(value, 0.5 * np.abs(model.predict(x)).sum(), rtol=1e-5)
    # differentiable: d(0.1 |W| + 0.2 W^2) / dW
    grad = K.eval(K.gradients(weight_loss, [model.layers[1].W])[0])
    np.testing.assert_allclose(grad, 0.1 * np.sign(W) + 0.4 * W, rtol=1e-5, atol=1e-6)
    # a wrapped layer's regularizer is the wrapper's
    wrapped = Sequential()
    wrapped.add(TimeDistributed(Dense(2, W_regularizer='l1'), input_shape=(3, 4)))
    assert len(wrapped.losses) == 1


def test_model_collects_the_calls_it_owns():
    a, b = Input(shape=(3,)), Input(shape=(3,))
    shared = Dense(2)
    out_a, out_b = shared(a), shared(b)
    shared.add_update('update for a', inputs=a)
    shared.add_update('update for b', inputs=b)
    shared.add_update('always', inputs=None)
    model = Model(a, out_a)
    assert model.updates == ['update for a', 'always']
    assert model.state_updates == []
    both = Model([a, b], [out_a, out_b])
    assert both.updates == ['update for a', 'update for b', 'always']
