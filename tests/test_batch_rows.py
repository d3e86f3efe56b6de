"""K.gradients that follows only the batch rows its variables reach.

Each case builds one network twice on shared layers: on a batch whose
constant rows are Keras variables concatenated with a placeholder (the walk
runs the backward pass of the batch-row independent layers on the
placeholder's rows only), and on the same batch made of placeholders alone,
with the gradient asked for every part (the whole backward pass, as before).
The two gradients with respect to the placeholder must agree.
"""
import numpy as np
import pytest

from minikeras import backend as K
from minikeras.engine import batch_rows
from minikeras.layers import (Activation, AveragePooling2D, BatchNormalization, Convolution2D,
                              Dense, Dropout, Flatten, LeakyReLU, MaxPooling2D, ZeroPadding2D)

from gradcheck import numeric_gradient

SHAPE = (3, 8, 8)


@pytest.fixture
def split_calls(monkeypatch):
    """The layers the walk ran on some rows only, by class name."""
    calls = []
    original = batch_rows.split_forward

    def counting(layer, x, rows, training, kwargs, *cache):
        calls.append((type(layer).__name__, rows))
        return original(layer, x, rows, training, kwargs, *cache)
    monkeypatch.setattr(batch_rows, 'split_forward', counting)
    return calls


@pytest.fixture
def reuses(monkeypatch):
    """Per split layer run, whether its other rows' output was reused."""
    found = []
    original = batch_rows.split_forward

    def recording(*args):
        y, backprop, reused = original(*args)
        found.append(reused)
        return y, backprop, reused
    monkeypatch.setattr(batch_rows, 'split_forward', recording)
    return found


def _loss(y):
    """A scalar reading every row of `y` and mixing them (a style-transfer-like
    loss: the last row compared with the others)."""
    rows = K.int_shape(y)[0]
    r = np.random.RandomState(7)
    weights = K.variable(r.uniform(-1, 1, K.int_shape(y)[1:]).astype('float32'))
    total = K.sum(K.square(y[rows - 1] * weights))
    for i in range(rows - 1):
        total = total + K.sum(K.square(y[rows - 1] - y[i])) * (0.5 + i)
    return total


def _compare(network, constant_rows=2, variable_at=None, rtol=1e-6, shape=SHAPE, phase=None):
    """Gradient with respect to the placeholder: through the row-restricted
    walk and through the whole backward pass. Returns both and the values."""
    r = np.random.RandomState(0)
    constants = [r.uniform(-1, 1, (1,) + shape).astype('float32') for _ in range(constant_rows)]
    x = r.uniform(-1, 1, (1,) + shape).astype('float32')
    at = constant_rows if variable_at is None else variable_at

    variable = K.placeholder((1,) + shape)
    parts = [K.variable(c) for c in constants]
    parts.insert(at, variable)
    restricted_loss = _loss(network(K.concatenate(parts, axis=0)))

    fed = [K.placeholder((1,) + shape) for _ in constants]
    full_parts = list(fed)
    full_parts.insert(at, variable)
    full_loss = _loss(network(K.concatenate(full_parts, axis=0)))

    inputs = [variable] + ([K.learning_phase()] if phase is not None else [])
    extra = [phase] if phase is not None else []
    restricted = K.function(inputs, [restricted_loss, K.gradients(restricted_loss, variable)])
    full = K.function([variable] + fed + inputs[1:],
                      [full_loss] + K.gradients(full_loss, [variable] + fed))
    loss_a, grad_a = restricted([x] + extra)
    outs = full([x] + constants + extra)
    loss_b, grad_b = outs[0], outs[1]
    assert np.isclose(loss_a, loss_b, rtol=1e-6)
    scale = np.abs(grad_b).max()
    assert scale > 0
    np.testing.assert_allclose(grad_a, grad_b, rtol=0, atol=rtol * scale)
    return grad_a, x


def _sequence(*layers):
    def network(t):
        for layer in layers:
            t = layer(t)
        return t
    return network


def test_convolutions_and_pooling(split_calls):
    _compare(_sequence(Convolution2D(4, 3, 3, activation='relu', border_mode='same'),
                       MaxPooling2D((2, 2)),
                       ZeroPadding2D((1, 1)),
                       Convolution2D(5, 3, 3, activation='tanh'),
                       AveragePooling2D((2, 2), border_mode='same')))
    names = [name for name, rows in split_calls]
    assert {'Convolution2D', 'MaxPooling2D', 'ZeroPadding2D', 'AveragePooling2D'} <= set(names)
    assert all(rows == (2,) for _, rows in split_calls)


def test_convolution_channels_last(split_calls):
    _compare(_sequence(Convolution2D(4, 3, 3, activation='relu', dim_ordering='tf'),
                       MaxPooling2D((2, 2), dim_ordering='tf')), shape=(8, 8, 3))
    assert 'Convolution2D' in [name for name, _ in split_calls]


def test_dense_and_activations(split_calls):
    _compare(_sequence(Convolution2D(3, 3, 3, border_mode='same'), LeakyReLU(0.2), Flatten(),
                       Dense(6), Activation('tanh'), Dense(4, activation='softmax')))
    names = {name for name, _ in split_calls}
    assert {'LeakyReLU', 'Flatten', 'Dense', 'Activation'} <= names


def test_batch_normalization_in_inference(split_calls):
    norm = BatchNormalization(axis=1)
    network = _sequence(Convolution2D(4, 3, 3), norm, Activation('relu'))
    network(K.placeholder((1,) + SHAPE))
    r = np.random.RandomState(3)
    norm.set_weights([r.uniform(0.5, 2, 4).astype('float32'), r.uniform(-1, 1, 4).astype('float32'),
                      r.uniform(-1, 1, 4).astype('float32'), r.uniform(0.5, 2, 4).astype('float32')])
    _compare(network)
    assert 'BatchNormalization' in [name for name, _ in split_calls]


def test_batch_normalization_in_training_uses_the_whole_batch(split_calls):
    # batch statistics mix the rows: the walk must not split the layer
    norm = BatchNormalization(axis=1)
    _compare(_sequence(Convolution2D(4, 3, 3), norm, Convolution2D(2, 3, 3)), phase=1)
    names = [name for name, _ in split_calls]
    assert names.count('Convolution2D') == 1 and 'BatchNormalization' not in names


def test_dropout_is_split_in_the_test_phase_only(split_calls):
    network = _sequence(Convolution2D(4, 3, 3), Dropout(0.5), Convolution2D(2, 3, 3))
    _compare(network, phase=0)
    assert [name for name, _ in split_calls].count('Dropout') == 1


def test_a_mean_over_the_batch_falls_back_to_every_row(split_calls):
    first, second = Convolution2D(4, 3, 3, activation='tanh'), Convolution2D(3, 3, 3)

    def network(t):
        y = first(t)
        # mixes the rows: each row of `centred` depends on the variable row
        centred = y - K.mean(y, axis=0, keepdims=True)
        return second(centred)
    _compare(network)
    assert [name for name, _ in split_calls] == ['Convolution2D']


def test_rows_apart_and_slicing_the_batch(split_calls):
    conv = Convolution2D(4, 3, 3, activation='relu')

    def network(t):
        return conv(t[1:])
    # the variable is row 1 of 3 (row 0 of the slice), with constants around it
    _compare(network, constant_rows=2, variable_at=1)
    assert split_calls[-1] == ('Convolution2D', (0,))


def test_two_variables_with_a_constant_between(split_calls):
    conv, pool = Convolution2D(3, 3, 3, activation='relu'), MaxPooling2D((2, 2))
    r = np.random.RandomState(1)
    constant = r.uniform(-1, 1, (1,) + SHAPE).astype('float32')
    first, second = K.placeholder((1,) + SHAPE), K.placeholder((1,) + SHAPE)
    restricted = pool(conv(K.concatenate([first, K.variable(constant), second], axis=0)))
    middle = K.placeholder((1,) + SHAPE)
    full = pool(conv(K.concatenate([first, middle, second], axis=0)))
    loss_a, loss_b = _loss(restricted), _loss(full)
    a = K.function([first, second], K.gradients(loss_a, [first, second]))
    b = K.function([first, middle, second], K.gradients(loss_b, [first, middle, second]))
    values = [r.uniform(-1, 1, (1,) + SHAPE).astype('float32') for _ in range(2)]
    grads_a = a(values)
    grads_b = b([values[0], constant, values[1]])
    for ga, gb in zip(grads_a, [grads_b[0], grads_b[2]]):
        np.testing.assert_allclose(ga, gb, rtol=0, atol=1e-6 * np.abs(gb).max())
    assert ('Convolution2D', (0, 2)) in split_calls


def test_weight_gradients_take_every_row(split_calls):
    conv = Convolution2D(3, 3, 3, activation='relu')
    network = _sequence(conv, MaxPooling2D((2, 2)))
    r = np.random.RandomState(2)
    constants = r.uniform(-1, 1, (2,) + SHAPE).astype('float32')
    variable = K.placeholder((1,) + SHAPE)
    loss = _loss(network(K.concatenate([K.variable(constants), variable], axis=0)))
    fed = K.placeholder((2,) + SHAPE)
    full_loss = _loss(network(K.concatenate([fed, variable], axis=0)))
    x = r.uniform(-1, 1, (1,) + SHAPE).astype('float32')
    grad_x, grad_w = K.function([variable], K.gradients(loss, [variable, conv.W]))([x])
    full_x, _, full_w = K.function([variable, fed], K.gradients(full_loss, [variable, fed,
                                                                            conv.W]))([x, constants])
    np.testing.assert_allclose(grad_x, full_x, rtol=0, atol=1e-6 * np.abs(full_x).max())
    np.testing.assert_allclose(grad_w, full_w, rtol=0, atol=1e-6 * np.abs(full_w).max())
    # the convolution's weights need its whole batch; the pooling after it too
    assert not split_calls


def test_finite_differences():
    network = _sequence(Convolution2D(3, 3, 3, activation='tanh'), MaxPooling2D((2, 2)),
                        Flatten(), Dense(4, activation='tanh'))
    r = np.random.RandomState(5)
    constants = r.uniform(-1, 1, (2,) + SHAPE).astype('float32')
    variable = K.placeholder((1,) + SHAPE)
    loss = _loss(network(K.concatenate([K.variable(constants), variable], axis=0)))
    value_of = K.function([variable], [loss])
    gradient = K.function([variable], [K.gradients(loss, variable)])
    x = r.uniform(-1, 1, (1,) + SHAPE).astype('float64')
    analytic = gradient([x.astype('float32')])[0].reshape(-1)
    indices, numeric = numeric_gradient(
        lambda: float(value_of([x.astype('float32')])[0]), x, eps=1e-2)
    np.testing.assert_allclose(analytic[indices], numeric, rtol=2e-2, atol=2e-3)


def _style_graph(constants, norm=None):
    conv1 = Convolution2D(4, 3, 3, activation='relu', border_mode='same')
    conv2 = Convolution2D(3, 3, 3, activation='tanh')
    layers = [conv1, MaxPooling2D((2, 2))] + ([norm] if norm is not None else []) + [conv2]
    network = _sequence(*layers)
    variable = K.placeholder((1,) + SHAPE)
    loss = _loss(network(K.concatenate([constants, variable], axis=0)))
    fed = K.placeholder((2,) + SHAPE)
    full_loss = _loss(network(K.concatenate([fed, variable], axis=0)))
    restricted = K.function([variable, K.learning_phase()],
                            [loss, K.gradients(loss, variable)])
    full = K.function([variable, fed, K.learning_phase()],
                      [full_loss] + K.gradients(full_loss, [variable, fed]))
    return restricted, full, conv2


def _style_setup(seed):
    """Two constant images (a variable), the style graph on them (and its
    last convolution), and a variable image; the generator for what the
    test draws next."""
    r = np.random.RandomState(seed)
    values = r.uniform(-1, 1, (2,) + SHAPE).astype('float32')
    constants = K.variable(values)
    restricted, full, conv2 = _style_graph(constants)
    x = r.uniform(-1, 1, (1,) + SHAPE).astype('float32')
    return r, values, constants, restricted, full, conv2, x


def _agree(restricted, full, x, constants, phase=0):
    loss_a, grad_a = restricted([x, phase])
    loss_b, grad_b, _ = full([x, constants, phase])
    assert np.isclose(loss_a, loss_b, rtol=1e-6)
    np.testing.assert_allclose(grad_a, grad_b, rtol=0, atol=1e-6 * np.abs(grad_b).max())
    return grad_a


def test_the_other_rows_are_reused_while_nothing_changes(reuses):
    r, values, constants, restricted, full, _, x = _style_setup(4)
    first = _agree(restricted, full, x, values)
    assert reuses and not any(reuses)
    del reuses[:]
    # a new variable image: the constant rows' outputs are those of the last call
    x2 = r.uniform(-1, 1, (1,) + SHAPE).astype('float32')
    second = _agree(restricted, full, x2, values)
    assert reuses and all(reuses)
    assert not np.allclose(first, second)


def test_a_changed_variable_or_weight_is_not_reused(reuses):
    r, values, constants, restricted, full, conv2, x = _style_setup(6)
    _agree(restricted, full, x, values)
    # the constant image changed in place (K.set_value): every layer recomputes
    del reuses[:]
    values = r.uniform(-1, 1, (2,) + SHAPE).astype('float32')
    K.set_value(constants, values)
    _agree(restricted, full, x, values)
    assert reuses and not any(reuses)
    # the last convolution's weights changed: it recomputes, the layers before it do not
    del reuses[:]
    conv2.set_weights([w + 0.5 for w in conv2.get_weights()])
    _agree(restricted, full, x, values)
    assert reuses[:-1] and all(reuses[:-1]) and not reuses[-1]


def test_the_phase_is_part_of_what_is_reused(reuses):
    r = np.random.RandomState(8)
    values = r.uniform(-1, 1, (2,) + SHAPE).astype('float32')
    norm = BatchNormalization(mode=1)
    restricted, full, _ = _style_graph(K.variable(values), norm=norm)
    x = r.uniform(-1, 1, (1,) + SHAPE).astype('float32')
    _agree(restricted, full, x, values, phase=0)
    del reuses[:]
    _agree(restricted, full, x, values, phase=1)
    assert reuses and not any(reuses)


def _declared_cases():
    from minikeras import layers as L
    image, steps, vector, volume = (3, 8, 8), (6, 4), (5,), (2, 4, 4, 4)
    return [
        (lambda: L.AtrousConvolution2D(2, 3, 3, atrous_rate=(2, 2)), image),
        (lambda: L.SeparableConvolution2D(4, 3, 3, dim_ordering='tf'), (8, 8, 3)),
        (lambda: L.Cropping2D(((1, 2), (2, 1))), image),
        (lambda: L.UpSampling2D((2, 2)), image),
        (lambda: L.GlobalMaxPooling2D(), image),
        (lambda: L.GlobalAveragePooling2D(), image),
        (lambda: L.LocallyConnected2D(2, 3, 3), image),
        (lambda: L.PReLU(), image),
        (lambda: L.ELU(0.7), image),
        (lambda: L.SReLU(), image),
        (lambda: L.ThresholdedReLU(0.1), image),
        (lambda: L.ParametricSoftplus(), image),
        (lambda: L.Reshape((3, 64)), image),
        (lambda: L.Permute((2, 1, 3)), image),
        (lambda: L.SpatialDropout2D(0.5), image),
        (lambda: L.GaussianNoise(0.5), image),
        (lambda: L.GaussianDropout(0.5), image),
        (lambda: L.Convolution1D(3, 3), steps),
        (lambda: L.AtrousConvolution1D(3, 2, atrous_rate=2), steps),
        (lambda: L.MaxPooling1D(2), steps),
        (lambda: L.AveragePooling1D(2), steps),
        (lambda: L.ZeroPadding1D(1), steps),
        (lambda: L.Cropping1D((1, 2)), steps),
        (lambda: L.UpSampling1D(2), steps),
        (lambda: L.GlobalMaxPooling1D(), steps),
        (lambda: L.GlobalAveragePooling1D(), steps),
        (lambda: L.LocallyConnected1D(3, 3), steps),
        (lambda: L.TimeDistributedDense(5), steps),
        (lambda: L.Highway(activation='tanh'), vector),
        (lambda: L.MaxoutDense(4), vector),
        (lambda: L.RepeatVector(3), vector),
        (lambda: L.Convolution3D(2, 3, 3, 3), volume),
        (lambda: L.MaxPooling3D((2, 2, 2)), volume),
        (lambda: L.AveragePooling3D((2, 2, 2)), volume),
        (lambda: L.ZeroPadding3D((1, 1, 1)), volume),
        (lambda: L.UpSampling3D((2, 2, 2)), volume),
        (lambda: L.Cropping3D(((1, 0), (0, 1), (1, 1))), volume),
        (lambda: L.GlobalMaxPooling3D(), volume),
    ]


@pytest.mark.parametrize('make, shape', _declared_cases())
def test_every_declared_layer(make, shape, split_calls):
    layer = make()
    _compare(_sequence(layer), shape=shape, phase=0)
    assert (type(layer).__name__, (2,)) in split_calls


def test_a_model_built_on_the_batch_as_applications_build_it(split_calls):
    # VGG16(input_tensor=...): Input(tensor=...) then the layers; the loss
    # reads the layers' outputs
    from minikeras.engine import Input
    from minikeras.models import Model
    conv, pool = Convolution2D(4, 3, 3, activation='relu'), MaxPooling2D((2, 2))

    def network(t):
        inputs = Input(tensor=t)
        model = Model(inputs, pool(conv(inputs)))
        return model.outputs[0]
    _compare(network)
    assert [name for name, _ in split_calls] == ['InputLayer', 'Convolution2D', 'MaxPooling2D']


def _gram_loss(y):
    """Neural style transfer's loss on one feature map: the Gram matrix of
    the last row against the first's, and the last row against the second."""
    def gram(features):
        flat = K.batch_flatten(features)
        return K.dot(flat, K.transpose(flat))
    last = y[2, :, :, :]
    return K.sum(K.square(gram(y[0, :, :, :]) - gram(last))) * 0.01 + \
        0.5 * K.sum(K.square(last - y[1, :, :, :]))


def test_gram_matrices_of_rows_agree_with_the_whole_backward_and_finite_differences():
    r = np.random.RandomState(11)
    values = r.uniform(-1, 1, (2,) + SHAPE).astype('float32')
    conv = Convolution2D(4, 3, 3, activation='relu', border_mode='same')
    network = _sequence(conv, MaxPooling2D((2, 2)), Convolution2D(5, 3, 3, border_mode='same'))
    variable = K.placeholder((1,) + SHAPE)
    loss = _gram_loss(network(K.concatenate([K.variable(values), variable], axis=0)))
    fed = K.placeholder((2,) + SHAPE)
    full_loss = _gram_loss(network(K.concatenate([fed, variable], axis=0)))
    restricted = K.function([variable], [loss, K.gradients(loss, variable)])
    full = K.function([variable, fed], [full_loss] + K.gradients(full_loss, [variable, fed]))
    for _ in range(2):  # the second call reuses the constant rows' outputs
        x = r.uniform(-1, 1, (1,) + SHAPE).astype('float32')
        loss_a, grad_a = restricted([x])
        loss_b, grad_b, _ = full([x, values])
        assert np.isclose(loss_a, loss_b, rtol=1e-6)
        np.testing.assert_allclose(grad_a, grad_b, rtol=0, atol=1e-6 * np.abs(grad_b).max())
    value_of = K.function([variable], [loss])
    x = x.astype('float64')
    indices, numeric = numeric_gradient(
        lambda: float(value_of([x.astype('float32')])[0]), x, eps=1e-2)
    np.testing.assert_allclose(grad_a.reshape(-1)[indices], numeric, rtol=2e-2,
                               atol=2e-3 * np.abs(numeric).max())


def test_a_layer_output_handed_out_is_not_changed_by_the_next_call():
    """The split layers keep their batch output from one call to the next and
    write the followed rows into it: K.function hands out copies of it."""
    r = np.random.RandomState(12)
    values = r.uniform(-1, 1, (2,) + SHAPE).astype('float32')
    conv = Convolution2D(4, 3, 3, border_mode='same')
    variable = K.placeholder((1,) + SHAPE)
    features = conv(K.concatenate([K.variable(values), variable], axis=0))
    loss = K.sum(K.square(features[2] - features[0]))
    f = K.function([variable], [features, features[2], K.gradients(loss, variable)])
    x1 = r.uniform(-1, 1, (1,) + SHAPE).astype('float32')
    first, first_row, _ = f([x1])
    kept_first, kept_row = first.copy(), first_row.copy()
    second, second_row, _ = f([r.uniform(-1, 1, (1,) + SHAPE).astype('float32')])
    np.testing.assert_array_equal(first, kept_first)
    np.testing.assert_array_equal(first_row, kept_row)
    assert not np.array_equal(first[2], second[2])
    np.testing.assert_array_equal(first[:2], second[:2])
    np.testing.assert_allclose(second_row, second[2])
