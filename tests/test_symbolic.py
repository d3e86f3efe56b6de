"""The symbolic backend: expressions on Keras tensors, K.function, K.gradients.

References: finite differences of K.function's own value (float64 central
differences), the model's predict, and NumPy formulas written out here.
"""
import numpy as np
import pytest

import minikeras.backend as K
from minikeras.layers import BatchNormalization, Dense, Dropout, Input, Lambda
from minikeras.models import Model, Sequential


def _numeric_gradient(f, x, eps=1e-2):
    """Central differences of the scalar f at x (computed in float32, so a
    large step on smooth functions)."""
    grad = np.zeros(x.shape, dtype='float64')
    for index in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        grad[index] = (float(f(up)) - float(f(down))) / (2 * eps)
    return grad


RNG = np.random.RandomState(0)
X = RNG.uniform(0.2, 1.0, (3, 4)).astype('float32')
W = RNG.uniform(-1, 1, (4, 4)).astype('float32')

# name -> expression of a (3, 4) Keras tensor x, reduced to a scalar by the test
OPERATIONS = {
    'add': lambda x: x + 2.,
    'radd': lambda x: 2. + x,
    'sub_mul_div': lambda x: (x - 0.5) * x / (x + 1.),
    'rsub_rdiv': lambda x: 1. / x - 3. * x,
    'pow': lambda x: x ** 3 + 2 ** x,
    'neg_abs': lambda x: abs(-x + 0.1),
    'getitem': lambda x: x[:, 1:3] * x[0, :2] + x[[0, 0, 2], 1:3],
    'numpy_ufunc': lambda x: np.tanh(x) + np.exp(x),
    'mean': lambda x: K.mean(x, axis=-1),
    'sum': lambda x: K.sum(x, axis=0, keepdims=True),
    'max_min': lambda x: K.max(x, axis=1) + K.min(x, axis=0)[0],
    'prod': lambda x: K.prod(x, axis=1),
    'std_var': lambda x: K.std(x, axis=0) + K.var(x, axis=1)[0],
    'square_sqrt': lambda x: K.square(x) + K.sqrt(x),
    'exp_log': lambda x: K.exp(x) + K.log(x),
    'abs': lambda x: K.abs(x - 0.6),
    'pow_k': lambda x: K.pow(x, 3),
    'clip': lambda x: K.clip(x, 0.4, 0.8),
    'maximum_minimum': lambda x: K.maximum(x, 0.5) + K.minimum(x, 0.7),
    'sin_cos': lambda x: K.sin(x) * K.cos(x),
    'dot': lambda x: K.dot(x, W),
    'batch_dot': lambda x: K.batch_dot(x, x * 2., axes=1),
    'transpose': lambda x: K.dot(K.transpose(x), x),
    'concatenate': lambda x: K.concatenate([x, K.square(x)], axis=-1),
    'reshape': lambda x: K.reshape(x, (-1, 2, 2)) * np.arange(4.).reshape(1, 2, 2),
    'permute': lambda x: K.permute_dimensions(K.reshape(x, (-1, 2, 2)), (0, 2, 1))[:, 0],
    'repeat_elements': lambda x: K.repeat_elements(x, 2, axis=1) * np.arange(8.),
    'repeat': lambda x: K.repeat(x, 3) * np.arange(3.).reshape(1, 3, 1),
    'tile': lambda x: K.tile(x, (1, 2)) * np.arange(8.),
    'flatten': lambda x: K.batch_flatten(x) * K.flatten(x)[0],
    'expand_squeeze': lambda x: K.squeeze(K.expand_dims(x, 1), 1) * 2,
    'padding': lambda x: K.spatial_2d_padding(K.reshape(x, (-1, 1, 2, 2)), (1, 1)) ** 2,
    'resize_images': lambda x: K.resize_images(K.reshape(x, (-1, 1, 2, 2)), 2, 2, 'th') ** 2,
    'gather': lambda x: K.gather(x, [2, 0, 0]),
    'one_hot_mask': lambda x: x * K.one_hot(K.argmax(x, axis=-1), 4),
    'reverse': lambda x: K.reverse(x, 1) * np.arange(4.),
    'l2_normalize': lambda x: K.l2_normalize(x, axis=-1) * np.arange(4.),
    'switch': lambda x: K.switch(K.greater(x, 0.5), x ** 2, -x),
    'cast': lambda x: K.cast(x, 'float32') * 3,
    'relu_elu': lambda x: K.relu(x - 0.5) + K.elu(x - 0.5),
    'softmax': lambda x: K.softmax(x) * np.arange(4.),
    'softplus_softsign': lambda x: K.softplus(x) + K.softsign(x),
    'sigmoid_tanh': lambda x: K.sigmoid(x) + K.tanh(x) + K.hard_sigmoid(x),
    'crossentropies': lambda x: K.categorical_crossentropy(K.softmax(x), np.eye(4)[[0, 1, 2]])
    + K.mean(K.binary_crossentropy(K.sigmoid(x), np.ones((3, 4))), axis=-1),
    'batch_normalization': lambda x: K.batch_normalization(x, 0.5, 2., 0.1, 3.),
}


@pytest.mark.parametrize('name', sorted(OPERATIONS))
def test_gradients_match_finite_differences(name):
    x = Input(batch_shape=(3, 4))
    loss = K.sum(OPERATIONS[name](x))
    grad = K.gradients(loss, [x])[0]
    f = K.function([x], [loss, grad])
    value, analytic = f([X])
    assert grad.shape == x.shape and analytic.shape == X.shape
    loss_only = K.function([x], [loss])
    numeric = _numeric_gradient(lambda v: loss_only([v])[0], X.astype('float64'), eps=1e-3)
    np.testing.assert_allclose(analytic, numeric, rtol=2e-2, atol=2e-2)
    # and the value is the eager computation on arrays
    np.testing.assert_allclose(value, np.sum(OPERATIONS[name](X)), rtol=1e-5)


def test_stop_gradient_and_unknown_batch_sizes():
    x = Input(shape=(4,))
    y = K.mean(x * K.stop_gradient(x), axis=-1) + K.sum(x[:, :2], axis=-1)
    assert y.shape == (None,)
    grad = K.function([x], K.gradients(K.sum(y), [x]))([X])[0]
    np.testing.assert_allclose(grad, X / 4. + [1., 1., 0., 0.], rtol=1e-6)


def test_gradients_with_respect_to_intermediate_tensors_weights_and_variables():
    x = Input(shape=(4,))
    dense = Dense(3, activation='tanh')
    h = dense(x)
    scale = K.variable(np.array([1., 2., 3.]))
    loss = K.sum(K.square(h) * scale)
    g_h, g_w, g_b, g_scale = K.gradients(loss, [h, dense.W, dense.b, scale])
    values = K.function([x], [h, g_h, g_w, g_b, g_scale])([X])
    hv = values[0]
    np.testing.assert_allclose(values[1], 2 * hv * [1., 2., 3.], rtol=1e-5)
    dpre = 2 * hv * [1., 2., 3.] * (1 - hv ** 2)
    np.testing.assert_allclose(values[2], X.T.dot(dpre), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(values[3], dpre.sum(0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(values[4], (hv ** 2).sum(0), rtol=1e-5)
    # a variable is read when the function runs, not when it was written
    K.set_value(scale, np.array([0., 0., 1.]))
    np.testing.assert_allclose(K.function([x], [loss])([X])[0], (hv[:, 2] ** 2).sum(),
                               rtol=1e-5)


def test_function_equals_truncated_model_predict():
    model = Sequential([Dense(5, input_dim=4, activation='relu'), Dropout(0.5),
                        Dense(3, activation='softmax')])
    layer_output = K.function([model.layers[0].input, K.learning_phase()],
                              [model.layers[0].output])
    truncated = Sequential([Dense(5, input_dim=4, activation='relu',
                                  weights=model.layers[0].get_weights())])
    np.testing.assert_allclose(layer_output([X, 0])[0], truncated.predict(X), rtol=1e-6)
    out = K.function([model.input], [model.output])([X])[0]
    np.testing.assert_allclose(out, model.predict(X), rtol=1e-6)
    assert model.layers[1].get_output_at(0) is model.layers[2].input


def test_learning_phase_switches_dropout():
    x = Input(shape=(1000,))
    y = Dropout(0.5)(x)
    f = K.function([x, K.learning_phase()], [y])
    ones = np.ones((2, 1000), dtype='float32')
    np.testing.assert_array_equal(f([ones, 0])[0], ones)
    train = f([ones, 1])[0]
    assert set(np.unique(train)) == {0., 2.}
    assert 0.4 < np.mean(train == 0) < 0.6
    # without the learning phase among the inputs: the test phase
    np.testing.assert_array_equal(K.function([x], [y])([ones])[0], ones)


def test_learning_phase_switches_batch_normalization_without_moving_its_statistics():
    x = Input(shape=(3,))
    bn = BatchNormalization(mode=0, epsilon=1e-3)
    y = bn(x)
    bn.set_weights([np.array([1., 2., 3.]), np.array([0., .5, 1.]),
                    np.array([.1, .2, .3]), np.array([2., 3., 4.])])
    before = [w.copy() for w in bn.get_weights()]
    f = K.function([x, K.learning_phase()], [y])
    data = RNG.normal(size=(6, 3)).astype('float32')
    gamma, beta, mean, var = before
    np.testing.assert_allclose(f([data, 0])[0], (data - mean) / np.sqrt(var + 1e-3) * gamma
                               + beta, rtol=1e-5)
    batch = (data - data.mean(0)) / np.sqrt(data.var(0) + 1e-3) * gamma + beta
    np.testing.assert_allclose(f([data, 1])[0], batch, rtol=1e-4, atol=1e-5)
    for old, new in zip(before, bn.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_in_train_phase_on_graph_tensors_and_updates():
    x = K.placeholder(shape=(None, 2))
    y = K.in_train_phase(x * 2, x - 1)
    f = K.function([x, K.learning_phase()], [y])
    data = np.array([[1., 2.]], dtype='float32')
    np.testing.assert_allclose(f([data, 1])[0], data * 2)
    np.testing.assert_allclose(f([data, 0])[0], data - 1)
    total = K.variable(np.zeros(2))
    step = K.function([x], [K.sum(x)], updates=[K.update_add(total, K.sum(x, axis=0))])
    step([data])
    step([data])
    np.testing.assert_allclose(K.get_value(total), [2., 4.])


def test_expressions_in_lambda_and_custom_layers_train():
    x = Input(shape=(4,))
    h = Dense(4)(x)
    y = Lambda(lambda t: K.sum(K.square(t), axis=-1, keepdims=True))(h)
    model = Model(x, y)
    model.compile('sgd', 'mse')
    before = model.evaluate(X, np.ones((3, 1)), verbose=0)
    for _ in range(20):
        model.train_on_batch(X, np.ones((3, 1)))
    assert model.evaluate(X, np.ones((3, 1)), verbose=0) < before


# -- errors -------------------------------------------------------------------


def test_operation_the_graph_cannot_express():
    x = Input(shape=(4,))
    with pytest.raises(TypeError, match='np.fft.fft|fft'):
        np.fft.fft(x)
    with pytest.raises(TypeError, match='no value yet'):
        np.asarray(x)
    with pytest.raises(TypeError, match='wrap the expression in a Lambda'):
        Model(x, Dense(2)(x) * 2)


def test_function_with_the_wrong_number_of_inputs():
    x, z = Input(shape=(4,)), Input(shape=(4,))
    f = K.function([x, z], [x + z])
    with pytest.raises(ValueError, match='given 1 input value.*has 2 input'):
        f([X])
    with pytest.raises(ValueError, match='expects shape \\(None, 4\\), got an array of shape'):
        f([X, X[:, :2]])
    with pytest.raises(ValueError, match='graph disconnected.*' + z.name):
        K.function([x], [x + z])


def test_gradient_of_a_non_scalar_or_of_an_unconnected_tensor():
    x, z = Input(shape=(4,)), Input(shape=(4,))
    with pytest.raises(ValueError, match='has shape \\(None, 4\\).*scalar'):
        K.gradients(x * 2, [x])
    with pytest.raises(ValueError, match='does not depend on ' + z.name):
        K.gradients(K.sum(x), [z])
    with pytest.raises(ValueError, match='does not depend on an array of shape \\(2,\\)'):
        K.gradients(K.sum(x), [K.variable(np.zeros(2))])


def test_in_place_operator_on_a_variable_builds_an_expression():
    x = Input(shape=(4,))
    loss = K.variable(0.)
    loss += K.sum(x)
    loss -= 2. * K.sum(K.square(x))
    assert K.get_value(K.variable(0.)) == 0.
    np.testing.assert_allclose(K.function([x], [loss])([X])[0],
                               X.sum() - 2. * (X ** 2).sum(), rtol=1e-5)


def test_function_of_a_loss_and_its_gradient_runs_the_network_forward_once():
    calls = []

    def counted(t):
        calls.append(1)
        return K.tanh(t)
    x = Input(shape=(4,))
    loss = K.sum(Lambda(counted)(Dense(3)(x)))
    f = K.function([x], [loss] + K.gradients(loss, [x]))
    del calls[:]
    value, grad = f([X])
    assert len(calls) == 1
    assert grad.shape == X.shape and np.isfinite(value)


def test_input_on_a_variable_reads_it_when_the_graph_runs():
    masks = K.variable(np.ones((2, 3)))
    mask_input = Input(tensor=masks, shape=(3,))
    out = Dense(2, bias=False)(mask_input)
    model = Model(mask_input, out)
    f = K.function([], [out])
    np.testing.assert_allclose(f([])[0], model.predict(np.ones((2, 3))), rtol=1e-6)
    K.set_value(masks, np.zeros((2, 3)))
    np.testing.assert_allclose(f([])[0], 0.)


def test_keras0_first_layer_input_and_get_output():
    from minikeras.layers import ZeroPadding2D, Convolution2D
    image = K.placeholder((1, 1, 5, 5))
    first = ZeroPadding2D((1, 1), input_shape=(1, 5, 5))
    first.input = image
    model = Sequential()
    model.add(first)
    model.add(Convolution2D(2, 3, 3))
    loss = K.sum(model.layers[-1].get_output())
    grad = K.gradients(loss, image)
    data = np.random.RandomState(0).uniform(size=(1, 1, 5, 5)).astype('float32')
    value, g = K.function([image], [loss, grad])([data])
    np.testing.assert_allclose(value, model.predict(data).sum(), rtol=1e-5)
    assert g.shape == data.shape and model.layers[0].get_input() is model.input


def test_shape_of_a_tensor_is_an_integer_tensor():
    x = Input(shape=(4,))
    size = K.shape(x)
    assert size.shape == (2,)
    rows = K.cast(K.shape(x)[0], 'float32')
    np.testing.assert_array_equal(K.function([x], [size])([X])[0], [3, 4])
    np.testing.assert_allclose(K.function([x], [K.sum(x) / rows])([X])[0], X.sum() / 3,
                               rtol=1e-6)
