"""Second derivatives through `K.gradients` (issue 11): the gradient of a
piecewise-linear expression is locally constant, so its own derivative is
zero almost everywhere (what Theano and TensorFlow compute); any other
expression is refused, naming the operation that breaks the rule. Checked
against finite differences, away from ties."""
import numpy as np
import pytest

from minikeras import backend as K
from minikeras.layers import (Activation, Convolution2D, Dense, Input, Lambda, MaxPooling2D,
                              UpSampling2D, merge)
from minikeras.models import Model


def gradient_node(expression, shape=(2, 4, 4)):
    """The K.gradients node of K.sum(expression(x)) with respect to x."""
    x = Input(shape=shape)
    g = K.gradients(K.sum(expression(x)), x)
    return x, g, g.node.outbound_layer


@pytest.mark.parametrize('name,expression', [
    ('max pooling', lambda x: MaxPooling2D((2, 2))(x)),
    ('relu', lambda x: K.relu(x)),
    ('relu layer', lambda x: Activation('relu')(x)),
    ('sum and reshape', lambda x: K.reshape(x, (-1, 32)) + x[:, 0].sum()),
    ('product with a constant', lambda x: x * np.arange(32, dtype='float32').reshape(2, 4, 4)),
    ('max', lambda x: K.max(x, axis=1)),
    ('division by a constant', lambda x: x / 3.),
])
def test_piecewise_linear_operations_pass_the_rule(name, expression):
    _, _, node = gradient_node(expression)
    assert node.second_order_breaker() is None, name


@pytest.mark.parametrize('expression,named', [
    (lambda x: K.tanh(x), 'K.tanh'),
    (lambda x: K.exp(x), 'K.exp'),
    (lambda x: x * x, 'a product of two tensors that depend on the sources'),
    (lambda x: 1. / (K.abs(x) + 1.), 'a division by a tensor'),
    (lambda x: Activation('sigmoid')(x), 'Activation with activation sigmoid'),
])
def test_other_operations_break_the_rule_by_name(expression, named):
    _, _, node = gradient_node(expression)
    assert named in node.second_order_breaker()


def test_second_derivative_is_zero_and_matches_finite_differences():
    np.random.seed(0)
    x, g, _ = gradient_node(lambda t: MaxPooling2D((2, 2))(K.relu(t) * 2.))
    weights = np.random.rand(1, 2, 4, 4).astype('float32')
    h = K.sum(g * weights)
    hg = K.gradients(h, x)
    value = K.function([x], [h])
    point = np.random.permutation(32).astype('float32').reshape(1, 2, 4, 4) - 10.5
    analytic = K.function([x], [hg])([point])[0]
    eps = 1e-2
    numeric = np.zeros_like(point)
    for i in np.ndindex(point.shape):
        up, down = point.copy(), point.copy()
        up[i] += eps
        down[i] -= eps
        numeric[i] = (value([up])[0] - value([down])[0]) / (2 * eps)
    np.testing.assert_array_equal(numeric, 0.)
    np.testing.assert_array_equal(analytic, 0.)
    # the gradient itself: 2 where a positive value is its window's maximum
    grad = K.function([x], [g])([point])[0]
    windows = np.maximum(point, 0).reshape(1, 2, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
    winners = windows.reshape(1, 2, 2, 2, 4).max(axis=-1)
    expected = (np.repeat(np.repeat(winners, 2, 2), 2, 3) == point) & (point > 0)
    np.testing.assert_array_equal(grad, 2. * expected)


def test_second_derivative_of_a_smooth_expression_is_refused_naming_it():
    x, g, _ = gradient_node(lambda t: K.tanh(t))
    hg = K.gradients(K.sum(g), x)
    with pytest.raises(TypeError, match=r'K\.tanh'):
        K.function([x], [hg])([np.ones((1, 2, 4, 4), dtype='float32')])


def getwhere(tensors):
    y_prepool, y_postpool = tensors
    return K.gradients(K.sum(y_postpool), y_prepool)


def swwae_block(layer_between=None):
    inp = Input(shape=(1, 4, 4))
    y_prepool = Convolution2D(2, 3, 3, border_mode='same')(inp)
    y = MaxPooling2D((2, 2))(y_prepool)
    if layer_between is not None:
        y = layer_between(y)
    where = merge([y_prepool, y], mode=getwhere, output_shape=lambda s: s[0])
    out = merge([UpSampling2D((2, 2))(y), where], mode='mul')
    return Model(inp, Convolution2D(1, 3, 3, border_mode='same')(out)), where


def test_mnist_swwae_where_mask_trains_through_the_gradient():
    np.random.seed(1)
    model, where_tensor = swwae_block()
    model.compile('sgd', 'mse')
    x = np.random.rand(3, 1, 4, 4).astype('float32')
    before = [w.copy() for w in model.get_weights()]
    loss = model.train_on_batch(x, x)
    assert np.isfinite(loss)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    # the mask is 1 where a window's maximum is: one per 2x2 window
    where = K.function([model.input], [where_tensor])([x])[0]
    assert where.shape == (3, 2, 4, 4)
    np.testing.assert_array_equal(where.reshape(3, 2, 2, 2, 2, 2).sum(axis=(3, 5)), 1.)


def test_a_trained_layer_inside_the_differentiated_expression_is_refused():
    model, _ = swwae_block(Dense(2))
    model.compile('sgd', 'mse')
    with pytest.raises(TypeError, match=r'dense_\d+ \(Dense\), whose weights are differentiated'):
        model.train_on_batch(np.ones((1, 1, 4, 4), 'float32'), np.ones((1, 1, 4, 4), 'float32'))


def test_lambda_with_gradients_is_built_on_its_input_tensors():
    inp = Input(shape=(3,))
    relu = Activation('relu')(inp)
    both = Lambda(lambda t: K.gradients(K.sum(t[1]), t[0]), output_shape=lambda s: s[0])
    mask = both([inp, relu])
    value = K.function([inp], [mask])([np.array([[-1., 2., 3.]], 'float32')])[0]
    np.testing.assert_array_equal(value, [[0., 1., 1.]])
    with pytest.raises(ValueError, match='can be called once only'):
        both([inp, relu])
