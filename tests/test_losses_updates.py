"""Keras 1.2.2's `losses` and `updates` of layers and models (issue 11):
`add_loss`, `add_update`, `get_losses_for`, `get_updates_for`, the
regularizers' penalties as graph tensors, checked against NumPy."""
import numpy as np
import pytest

from minikeras import backend as K
from minikeras import regularizers
from minikeras.layers import Dense, Input, TimeDistributed
from minikeras.engine.topology import Layer
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


def _moving_reference(moving, x, momentum=0.99):
    """Keras 1.2.2's moving averages of a feature-wise (axis -1) batch
    normalization after one training batch, in float64."""
    mean = x.astype('float64').mean(axis=0)
    var = ((x.astype('float64') - mean) ** 2).mean(axis=0)
    return moving[0] * momentum + mean * (1 - momentum), moving[1] * momentum + var * (1 - momentum)


def test_shared_batchnorm_declares_per_call_updates_and_training_applies_them():
    from minikeras.layers import BatchNormalization
    np.random.seed(3)
    bn = BatchNormalization(input_shape=(10,), mode=0)
    x1, x2 = Input(shape=(10,)), Input(shape=(10,))
    bn(x1)
    y2 = bn(x2)
    model = Model(x2, y2)
    assert len(bn.updates) == 4 and len(model.updates) == 2
    assert all(var is bn.running_mean for var, _ in bn.get_updates_for(x1)[:1])
    model.compile('sgd', 'mse')
    x = np.random.normal(loc=5.0, scale=10.0, size=(4, 10)).astype('float32')
    moving = [bn.running_mean.copy(), bn.running_std.copy()]
    model.train_on_batch(x, x)
    mean, var = _moving_reference(moving, x)
    np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(bn.running_std, var, rtol=1e-6)
    # a model as a layer: its BatchNormalization moves when the outer model trains
    x3 = Input(shape=(10,))
    outer = Model(x3, model(x3))
    assert len(model.updates) == 2
    outer.compile('sgd', 'mse')
    moving = [bn.running_mean.copy(), bn.running_std.copy()]
    outer.train_on_batch(x, x)
    mean, var = _moving_reference(moving, x)
    np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(bn.running_std, var, rtol=1e-6)


def test_batchnorm_updates_move_only_where_applied():
    from minikeras.layers import BatchNormalization
    np.random.seed(4)
    inp = Input(shape=(3,))
    bn = BatchNormalization()
    out = bn(inp)
    model = Model(inp, out)
    x = np.random.rand(6, 3).astype('float32') * 4
    before = [bn.running_mean.copy(), bn.running_std.copy()]
    # predicting, evaluating and running the train phase without updates move nothing
    model.predict(x)
    model.compile('sgd', 'mse')
    model.test_on_batch(x, x)
    K.function([inp, K.learning_phase()], [out])([x, 1])
    np.testing.assert_array_equal(bn.running_mean, before[0])
    np.testing.assert_array_equal(bn.running_std, before[1])
    # K.function(updates=model.updates) applies them, from the batch it is given
    K.function([inp, K.learning_phase()], [out], updates=model.updates)([x, 1])
    mean, var = _moving_reference(before, x)
    np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-6)
    np.testing.assert_allclose(bn.running_std, var, rtol=1e-6)


def test_time_distributed_batchnorm_declares_and_applies_its_updates():
    from minikeras.layers import BatchNormalization
    np.random.seed(5)
    model = Sequential([TimeDistributed(BatchNormalization(), input_shape=(5, 3))])
    assert len(model.updates) == 2
    model.compile('sgd', 'mse')
    bn = model.layers[0].layer
    before = [bn.running_mean.copy(), bn.running_std.copy()]
    x = np.random.rand(4, 5, 3).astype('float32')
    model.train_on_batch(x, x)
    mean, var = _moving_reference(before, x.reshape(-1, 3))
    np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-6)
    np.testing.assert_allclose(bn.running_std, var, rtol=1e-6)


class _BatchStatistics(Layer):
    """A Keras 1 custom layer that keeps, through updates made in `call`, the
    number of training batches it saw and the mean of the last one."""

    def __init__(self, assign, **kwargs):
        self.assign = assign
        super(_BatchStatistics, self).__init__(**kwargs)

    def build(self, input_shape):
        self.seen = K.variable(0.)
        self.last_mean = K.variable(np.zeros(input_shape[1]))

    def call(self, x, mask=None):
        pairs = [K.update_add(self.seen, 1.), K.update(self.last_mean, K.mean(x, axis=0))]
        if self.assign:
            self.updates = pairs
        else:
            self.add_update(pairs)
        return x


@pytest.mark.parametrize('assign', [False, True], ids=['add_update', 'assigned'])
def test_updates_made_in_call_are_applied_once_per_training_batch(assign):
    model = Sequential([Dense(3, input_dim=4), _BatchStatistics(assign)])
    model.compile('sgd', 'mse')
    x = np.random.RandomState(0).randn(10, 4).astype('float32')
    y = np.zeros((10, 3), 'float32')
    stats = model.layers[1]
    model.fit(x, y, batch_size=4, nb_epoch=2, shuffle=False, verbose=0)
    assert K.get_value(stats.seen) == 6.  # 3 batches (4, 4, 2) in each of 2 epochs
    # the last batch's mean, of the outputs of the weights before that batch's step
    before = [w.copy() for w in model.layers[0].get_weights()]
    model.train_on_batch(x[:5], y[:5])
    assert K.get_value(stats.seen) == 7.
    expected = (x[:5] @ before[0] + before[1]).mean(axis=0)
    np.testing.assert_allclose(K.get_value(stats.last_mean), expected, rtol=1e-5, atol=1e-6)
    # prediction and evaluation apply nothing, and the layer's lists do not grow
    model.predict(x)
    model.evaluate(x, y, verbose=0)
    assert K.get_value(stats.seen) == 7.
    assert len(stats.updates) == 0 and len(stats.get_updates_for(None)) == 0


def test_a_model_called_twice_inside_another_lists_its_updates_per_call():
    from minikeras.layers import BatchNormalization, merge
    inner = Sequential([Dense(4, input_dim=3), BatchNormalization(mode=0)])
    a, b = Input((3,)), Input((3,))
    outer = Model([a, b], merge([inner(a), inner(b)], mode='sum'))
    assert len(inner.updates) == 2  # moving mean and variance
    assert len(inner.get_updates_for(a)) == 2 and len(inner.get_updates_for(b)) == 2
    assert len(inner.get_updates_for(None)) == 0
    assert len(outer.updates) == 4
