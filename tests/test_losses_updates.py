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


def test_graph_attributes_keras_1_2_2_code_reads():
    import pytest
    from minikeras.layers import BatchNormalization, Dropout, merge
    a, b = Input(shape=(4,), name='in_a'), Input(shape=(4,), name='in_b')
    dense, dropout = Dense(3), Dropout(0.5)
    a_2, b_2 = dense(a), dropout(b)
    assert dropout.uses_learning_phase and not dense.uses_learning_phase
    assert not Dropout(0.).uses_learning_phase
    assert BatchNormalization(mode=0).uses_learning_phase
    assert not BatchNormalization(mode=2).uses_learning_phase
    assert b_2._uses_learning_phase and not a_2._uses_learning_phase
    merged = merge([a_2, b_2], mode='concat')
    assert merged._uses_learning_phase
    assert (a_2 * K.learning_phase())._uses_learning_phase
    model = Model([a, b], [a_2, merged])
    assert model.uses_learning_phase and model.input_spec == [None, None]
    assert model.input_layers_node_indices == [0, 0]
    assert model.input_layers_tensor_indices == [0, 0]
    assert model.output_layers_node_indices == [0, 0]
    assert model.compute_mask([a, b], [None, None]) == [None, None]
    with pytest.raises(ValueError, match='redundant'):
        Model([a, b, a], [a_2, merged])
    x = np.ones((5, 4), dtype='float32')
    test, train = [K.function(model.inputs + [K.learning_phase()], model.outputs)(
        [x, x, phase]) for phase in (0, 1)]
    np.testing.assert_array_equal(test[0], train[0])
    assert not np.array_equal(test[1], train[1])
