"""The last feed-forward layers of Keras 1.2.2: SpatialDropout1D/2D, MaxoutDense,
Highway, TimeDistributedDense, UpSampling1D, ZeroPadding1D, Cropping1D and
SReLU. Each forward is checked against a NumPy reference written with loops,
each backward against finite differences, and each layer for its shapes, its
weights (names, order, shapes, initial values), its config round trip and a
clear error for bad input."""
import json
import warnings

import numpy as np
import pytest

from minikeras.layers import (Cropping1D, Dense, Flatten, Highway, MaxoutDense, SpatialDropout1D,
                              SpatialDropout2D, SReLU, TimeDistributedDense, UpSampling1D,
                              ZeroPadding1D)
from minikeras.models import Sequential, model_from_json
from minikeras.utils.layer_utils import layer_from_config

from gradcheck import away_from_zero, built, check_layer_gradients


def sigmoid(z):
    return 1. / (1. + np.exp(-z))


def round_trip(layer, sample_shape, x):
    """The layer rebuilt from its config (through JSON, as in a saved model)
    has the same config and, given the same weights, the same output."""
    config = json.loads(json.dumps({'class_name': type(layer).__name__,
                                    'config': layer.get_config()}))
    copy = built(layer_from_config(config), sample_shape)
    assert type(copy) is type(layer)
    assert json.dumps(copy.get_config(), sort_keys=True) == \
        json.dumps(layer.get_config(), sort_keys=True)
    copy.set_weights(layer.get_weights())
    np.testing.assert_array_equal(copy.call(x), layer.call(x))
    return copy


def base_keys(layer):
    keys = {'name', 'trainable'}
    if layer.batch_input_shape is not None:
        keys |= {'batch_input_shape', 'input_dtype'}
    return keys


# -- SpatialDropout1D / SpatialDropout2D ----------------------------------------------------------


def dropout_cases():
    # (layer, sample shape, axes the mask is shared over, the kept-or-dropped axes)
    return [
        (lambda p: SpatialDropout1D(p), (30, 40), (1,)),
        (lambda p: SpatialDropout2D(p, dim_ordering='th'), (40, 6, 5), (2, 3)),
        (lambda p: SpatialDropout2D(p, dim_ordering='tf'), (6, 5, 40), (1, 2)),
    ]


@pytest.mark.parametrize('make,sample,shared', dropout_cases())
def test_spatial_dropout_drops_whole_feature_maps_with_keras_scaling(make, sample, shared):
    layer = built(make(0.3), sample)
    assert layer.output_shape == (None,) + sample
    x = away_from_zero((25,) + sample, seed=1)
    assert layer.call(x) is x
    assert layer.forward(x, training=False)[0] is x
    np.random.seed(7)
    y, backprop = layer.forward(x, training=True)
    factor = np.round(y / x, 4)
    # Every entry is dropped (0) or kept and scaled by 1 / (1 - p) ...
    np.testing.assert_allclose(np.unique(factor), [0., 1 / 0.7], rtol=1e-4)
    # ... and the choice is the same all along the spatial / temporal axes.
    assert (factor == factor.max(axis=shared, keepdims=True)).all()
    assert (factor == factor.min(axis=shared, keepdims=True)).all()
    dropped = (factor.max(axis=shared) == 0).mean()
    assert abs(dropped - 0.3) < 0.05  # 1,000 independent maps
    dy = away_from_zero(x.shape, seed=2)
    np.testing.assert_allclose(backprop(dy), dy * factor, rtol=1e-4)
    # One draw of NumPy's global generator per (sample, channel), as the noise shape says.
    np.random.seed(7)
    noise_shape = tuple(1 if axis in shared else d for axis, d in enumerate(x.shape))
    mask = (np.random.random_sample(noise_shape) >= 0.3) / np.float32(0.7)
    np.testing.assert_allclose(y, x * mask, rtol=1e-6)
    np.random.seed(7)
    np.testing.assert_array_equal(layer.forward(x, training=True)[0], y)


@pytest.mark.parametrize('make,sample,shared', dropout_cases())
def test_spatial_dropout_config_errors_and_p_zero(make, sample, shared):
    layer = built(make(0.25), sample)
    config = layer.get_config()
    assert config['p'] == 0.25
    assert set(config) == base_keys(layer) | {'p'} | \
        ({'dim_ordering'} if isinstance(layer, SpatialDropout2D) else set())
    x = away_from_zero((2,) + sample)
    round_trip(layer, sample, x)
    check_layer_gradients(built(make(0.), sample), x, training=True)
    name = type(layer).__name__
    with pytest.raises(ValueError, match=r'%s\) expects %dD input \(samples, .*\), got shape '
                                         r'\(None, 4\)' % (name, len(sample) + 1)):
        built(make(0.5), (4,))
    with pytest.raises(ValueError, match=r'%s\) expects' % name):
        layer.forward(np.ones((2, 3), dtype='float32'), training=True)
    with pytest.raises(ValueError, match=r'\(%s\): p must be in \[0, 1\)' % name):
        make(1.)


def test_spatial_dropout2d_default_ordering_and_bad_ordering():
    from minikeras import backend
    assert SpatialDropout2D(0.1).dim_ordering == backend.image_dim_ordering()
    with pytest.raises(ValueError, match='dim_ordering must be "th", "tf" or "default"'):
        SpatialDropout2D(0.1, dim_ordering='channels_last')


# -- MaxoutDense ----------------------------------------------------------------------------------


def reference_maxout(x, W, b):
    n, o = x.shape[0], W.shape[2]
    out = np.empty((n, o))
    for i in range(n):
        for j in range(o):
            out[i, j] = max(x[i].astype('float64') @ W[k, :, j] + b[k, j]
                            for k in range(W.shape[0]))
    return out


def test_maxout_dense_forward_gradients_and_weights():
    layer = MaxoutDense(3, nb_feature=4, input_dim=5, name='maxout')
    assert layer.batch_input_shape == (None, 5)
    built(layer, (5,))
    assert layer.output_shape == (None, 3)
    assert layer.weight_names == ['maxout_W', 'maxout_b']
    W, b = layer.get_weights()
    assert W.shape == (4, 5, 3) and b.shape == (4, 3) and (b == 0).all()
    # Keras 1 gives a 3D weight the fans sqrt(size) and sqrt(size).
    limit = np.sqrt(6. / (2 * np.sqrt(4 * 5 * 3)))
    assert limit * 0.8 < np.abs(W).max() <= limit
    rng = np.random.RandomState(3)
    layer.set_weights([W, rng.uniform(-0.5, 0.5, (4, 3))])
    # Inputs whose best two pieces are apart by more than a finite-difference step can change.
    for seed in range(100):
        x = away_from_zero((6, 5), seed=seed)
        pieces = np.einsum('nd,kdo->nko', x.astype('float64'), layer.W) + layer.b
        top_two = np.sort(pieces, axis=1)[:, -2:]
        if (top_two[:, 1] - top_two[:, 0]).min() > 0.1:
            break
    else:
        raise AssertionError('no input with well-separated maxout pieces')
    np.testing.assert_allclose(layer.call(x), reference_maxout(x, layer.W, layer.b), rtol=1e-5,
                               atol=1e-6)
    check_layer_gradients(layer, x)
    round_trip(layer, (5,), x)


def test_maxout_dense_without_bias_config_and_errors():
    layer = built(MaxoutDense(2, nb_feature=3, bias=False, W_regularizer='l2'), (4,))
    assert len(layer.get_weights()) == 1
    x = away_from_zero((3, 4), seed=5)
    np.testing.assert_allclose(layer.call(x), reference_maxout(x, layer.W, np.zeros((3, 2))),
                               rtol=1e-5, atol=1e-6)
    check_layer_gradients(layer, x)
    config = layer.get_config()
    assert set(config) == base_keys(layer) | {
        'output_dim', 'init', 'nb_feature', 'W_regularizer', 'b_regularizer',
        'activity_regularizer', 'W_constraint', 'b_constraint', 'bias', 'input_dim'}
    assert config['W_regularizer']['l2'] == pytest.approx(0.01)
    round_trip(layer, (4,), x)
    with pytest.raises(ValueError, match=r'maxoutdense.*\(MaxoutDense\) expects 2D input '
                                         r'\(nb_samples, input_dim\), got shape \(None, 3, 4\)'):
        built(MaxoutDense(2), (3, 4))
    with pytest.raises(ValueError, match=r'MaxoutDense\) was built for 4 input features, got '
                                         r'input of shape \(3, 5\)'):
        layer.forward(np.ones((3, 5), dtype='float32'))
    with pytest.raises(ValueError, match='nb_feature must be a positive integer'):
        MaxoutDense(2, nb_feature=0)


# -- Highway --------------------------------------------------------------------------------------


def reference_highway(x, W, W_carry, b, b_carry, activation):
    x = x.astype('float64')
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        gate = sigmoid(x[i] @ W_carry + b_carry)
        out[i] = gate * activation(x[i] @ W + b) + (1 - gate) * x[i]
    return out


def test_highway_weights_names_order_and_initial_values():
    layer = Highway(input_dim=6, name='hw')
    assert layer.batch_input_shape == (None, 6)
    built(layer, (6,))
    assert layer.output_shape == (None, 6)
    assert layer.weight_names == ['hw_W', 'hw_W_carry', 'hw_b', 'hw_b_carry']
    W, W_carry, b, b_carry = layer.get_weights()
    assert W.shape == W_carry.shape == (6, 6) and b.shape == b_carry.shape == (6,)
    assert (b == 0).all() and (b_carry == 1).all()
    assert not np.array_equal(W, W_carry)
    assert np.abs(W).max() <= np.sqrt(6. / 12)
    no_bias = built(Highway(bias=False, name='hw2'), (6,))
    assert no_bias.weight_names == ['hw2_W', 'hw2_W_carry']


@pytest.mark.parametrize('activation,reference', [
    ('tanh', np.tanh), (None, lambda z: z), ('relu', lambda z: np.maximum(z, 0))])
def test_highway_forward_and_gradients(activation, reference):
    layer = built(Highway(activation=activation), (5,))
    rng = np.random.RandomState(6)
    W, W_carry = layer.get_weights()[:2]
    layer.set_weights([W, W_carry, rng.uniform(-0.5, 0.5, 5), rng.uniform(-1, 1, 5)])
    x = away_from_zero((4, 5), seed=7)
    if activation == 'relu':
        z = x @ layer.W + layer.b
        assert np.abs(z).min() > 0.02  # away from the kink
    expected = reference_highway(x, *layer.get_weights(), reference)
    np.testing.assert_allclose(layer.call(x), expected, rtol=1e-5, atol=1e-6)
    check_layer_gradients(layer, x)
    round_trip(layer, (5,), x)


def test_highway_without_bias_config_transform_bias_and_errors():
    layer = built(Highway(activation='sigmoid', bias=False, b_regularizer='l1'), (3,))
    x = away_from_zero((4, 3), seed=8)
    W, W_carry = layer.get_weights()
    expected = reference_highway(x, W, W_carry, 0., 0., sigmoid)
    np.testing.assert_allclose(layer.call(x), expected, rtol=1e-5, atol=1e-6)
    check_layer_gradients(layer, x)
    config = layer.get_config()
    assert set(config) == base_keys(layer) | {
        'init', 'activation', 'W_regularizer', 'b_regularizer', 'activity_regularizer',
        'W_constraint', 'b_constraint', 'bias', 'input_dim'}
    assert config['activation'] == 'sigmoid'
    assert built(Highway(), (3,)).get_config()['activation'] == 'linear'
    # Keras 1.2.2 deprecated transform_bias and ignores it: b_carry starts at 1.
    with pytest.warns(UserWarning, match='transform_bias is ignored'):
        legacy = Highway(transform_bias=-2)
    assert (built(legacy, (3,)).get_weights()[3] == 1).all()
    with pytest.raises(ValueError, match=r'highway.*\(Highway\) expects 2D input'):
        built(Highway(), (3, 3))
    with pytest.raises(ValueError, match=r'Highway\) was built for 3 input features'):
        layer.forward(np.ones((2, 4), dtype='float32'))


# -- TimeDistributedDense -------------------------------------------------------------------------


def reference_time_distributed_dense(x, W, b, activation):
    out = np.empty(x.shape[:2] + (W.shape[1],))
    for t in range(x.shape[1]):
        out[:, t] = activation(x[:, t].astype('float64') @ W + b)
    return out


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize('activation,reference', [('tanh', np.tanh), ('softmax', softmax),
                                                  (None, lambda z: z)])
def test_time_distributed_dense_forward_and_gradients(activation, reference):
    layer = TimeDistributedDense(4, activation=activation, input_dim=3, input_length=5,
                                 name='tdd')
    assert layer.batch_input_shape == (None, 5, 3)
    built(layer, (5, 3))
    assert layer.output_shape == (None, 5, 4)
    assert layer.weight_names == ['tdd_W', 'tdd_b']
    W, b = layer.get_weights()
    assert W.shape == (3, 4) and b.shape == (4,) and (b == 0).all()
    layer.set_weights([W, np.linspace(-0.2, 0.3, 4)])
    x = away_from_zero((2, 5, 3), seed=9)
    np.testing.assert_allclose(layer.call(x), reference_time_distributed_dense(
        x, layer.W, layer.b, reference), rtol=1e-5, atol=1e-6)
    check_layer_gradients(layer, x)
    round_trip(layer, (5, 3), x)


def test_time_distributed_dense_any_length_config_and_errors():
    layer = built(TimeDistributedDense(2, bias=False), (None, 3))
    assert layer.output_shape == (None, None, 2)
    assert len(layer.get_weights()) == 1
    for steps in (1, 6):
        x = away_from_zero((2, steps, 3), seed=steps)
        np.testing.assert_allclose(layer.call(x), reference_time_distributed_dense(
            x, layer.W, 0., lambda z: z), rtol=1e-5, atol=1e-6)
    check_layer_gradients(layer, away_from_zero((3, 4, 3), seed=10))
    config = layer.get_config()
    assert set(config) == base_keys(layer) | {
        'output_dim', 'init', 'activation', 'W_regularizer', 'b_regularizer',
        'activity_regularizer', 'W_constraint', 'b_constraint', 'bias', 'input_dim',
        'input_length'}
    round_trip(layer, (None, 3), away_from_zero((2, 4, 3)))
    with pytest.raises(ValueError, match=r'timedistributeddense.*\(TimeDistributedDense\) expects '
                                         r'3D input \(nb_samples, timesteps, input_dim\), got '
                                         r'shape \(None, 3\)'):
        built(TimeDistributedDense(2), (3,))
    with pytest.raises(ValueError, match=r'was built for 3 input features, got input of shape '
                                         r'\(2, 4, 5\)'):
        layer.forward(np.ones((2, 4, 5), dtype='float32'))


# -- UpSampling1D, ZeroPadding1D, Cropping1D ------------------------------------------------------


@pytest.mark.parametrize('length', [1, 2, 3])
def test_upsampling1d(length):
    layer = built(UpSampling1D(length), (4, 3))
    assert layer.output_shape == (None, 4 * length, 3)
    x = away_from_zero((2, 4, 3))
    expected = np.empty((2, 4 * length, 3), dtype='float32')
    for t in range(4 * length):
        expected[:, t] = x[:, t // length]
    np.testing.assert_array_equal(layer.call(x), expected)
    check_layer_gradients(layer, x)
    round_trip(layer, (4, 3), x)
    assert set(layer.get_config()) == base_keys(layer) | {'length'}
    assert built(UpSampling1D(length), (None, 3)).output_shape == (None, None, 3)


@pytest.mark.parametrize('padding,pads', [(1, (1, 1)), (0, (0, 0)), ((2, 0), (2, 0)),
                                          ({'right_pad': 3}, (0, 3)),
                                          ({'left_pad': 1, 'right_pad': 2}, (1, 2))])
def test_zero_padding1d(padding, pads):
    left, right = pads
    layer = built(ZeroPadding1D(padding), (4, 3))
    assert layer.output_shape == (None, left + 4 + right, 3)
    x = away_from_zero((2, 4, 3))
    expected = np.zeros((2, left + 4 + right, 3), dtype='float32')
    for t in range(4):
        expected[:, left + t] = x[:, t]
    np.testing.assert_array_equal(layer.call(x), expected)
    check_layer_gradients(layer, x)
    copy = round_trip(layer, (4, 3), x)
    assert (copy.left_pad, copy.right_pad) == pads
    assert set(layer.get_config()) == base_keys(layer) | {'padding'}
    assert built(ZeroPadding1D(padding), (None, 3)).output_shape == (None, None, 3)


@pytest.mark.parametrize('cropping', [(1, 1), (0, 2), (3, 0), (0, 0)])
def test_cropping1d(cropping):
    start, end = cropping
    layer = built(Cropping1D(cropping), (6, 3))
    assert layer.output_shape == (None, 6 - start - end, 3)
    x = away_from_zero((2, 6, 3))
    expected = np.empty((2, 6 - start - end, 3), dtype='float32')
    for t in range(6 - start - end):
        expected[:, t] = x[:, start + t]
    np.testing.assert_array_equal(layer.call(x), expected)
    check_layer_gradients(layer, x)
    round_trip(layer, (6, 3), x)
    assert set(layer.get_config()) == base_keys(layer) | {'cropping'}
    assert built(Cropping1D(cropping), (None, 3)).output_shape == (None, None, 3)


def test_temporal_layers_defaults_and_errors():
    assert UpSampling1D().length == 2
    assert (ZeroPadding1D().left_pad, ZeroPadding1D().right_pad) == (1, 1)
    assert Cropping1D().cropping == (1, 1)
    for make in (UpSampling1D, ZeroPadding1D, Cropping1D):
        name = make.__name__
        with pytest.raises(ValueError, match=r'%s.*\(%s\) expects 3D input \(samples, steps, '
                                             r'features\), got shape \(None, 4, 4, 3\)'
                                             % (name.lower(), name)):
            built(make(), (4, 4, 3))
        with pytest.raises(ValueError, match=r'\(%s\) expects 3D input.*got shape \(2, 5\)'
                                             % name):
            make().forward(np.ones((2, 5), dtype='float32'))
    with pytest.raises(ValueError, match=r'cropping1d.*cropping 2 \+ 2 steps leaves nothing of an '
                                         r'input of 4 steps'):
        built(Cropping1D((2, 2)), (4, 3))
    with pytest.raises(ValueError, match=r'cropping must be \(start, end\)'):
        Cropping1D(1)
    with pytest.raises(ValueError, match=r'cropping must be \(start, end\)'):
        Cropping1D((1, -1))
    with pytest.raises(ValueError, match='unexpected padding keys'):
        ZeroPadding1D({'top_pad': 1})
    with pytest.raises(ValueError, match=r'padding must be an integer >= 0, \(left_pad, '):
        ZeroPadding1D((1, 2, 3))
    with pytest.raises(ValueError, match='padding must be an integer >= 0'):
        ZeroPadding1D(-1)
    with pytest.raises(ValueError, match='length must be a positive integer'):
        UpSampling1D(0)


# -- SReLU ----------------------------------------------------------------------------------------


def reference_srelu(x, t_left, a_left, t_right, a_right):
    """The piecewise definition, element by element."""
    x = x.astype('float64')
    params = [np.broadcast_to(p, x.shape[1:]).astype('float64')
              for p in (t_left, a_left, t_right, a_right)]
    out = np.empty_like(x)
    for index in np.ndindex(*x.shape):
        tl, al, tr, ar = (p[index[1:]] for p in params)
        t_right_actual = tl + abs(tr)
        v = x[index]
        if v >= t_right_actual:
            out[index] = t_right_actual + ar * (v - t_right_actual)
        elif v > tl:
            out[index] = v
        else:
            out[index] = tl + al * (v - tl)
    return out


@pytest.mark.parametrize('shared_axes,param_shape', [(None, (3, 4)), ([1], (1, 4)),
                                                     (2, (3, 1)), ((1, 2), (1, 1))])
def test_srelu_forward_and_gradients(shared_axes, param_shape):
    layer = built(SReLU(shared_axes=shared_axes), (3, 4))
    rng = np.random.RandomState(11)
    t_left = rng.uniform(-0.8, -0.1, param_shape)
    # Negative t_right too: only its absolute value counts.
    t_right = rng.choice([-1, 1], param_shape) * rng.uniform(0.4, 1.2, param_shape)
    layer.set_weights([t_left, rng.uniform(-0.5, 0.5, param_shape), t_right,
                       rng.uniform(0.2, 1.5, param_shape)])
    x = (away_from_zero((6, 3, 4), seed=12) * 1.5).astype('float32')
    # Keep the inputs 0.05 away from both thresholds (the kinks) for finite differences.
    for threshold in (layer.t_left, layer.t_left + np.abs(layer.t_right)):
        near = np.abs(x - threshold) < 0.05
        x = np.where(near, x + 0.12, x).astype('float32')
    weights = layer.get_weights()
    np.testing.assert_allclose(layer.call(x), reference_srelu(x, *weights), rtol=1e-5, atol=1e-6)
    regions = [x <= layer.t_left, x >= layer.t_left + np.abs(layer.t_right)]
    assert all(region.any() for region in regions) and not (regions[0] | regions[1]).all()
    check_layer_gradients(layer, x)
    copy = round_trip(layer, (3, 4), x)
    assert copy.shared_axes == layer.shared_axes


def test_srelu_weights_initial_values_config_and_errors():
    layer = built(SReLU(name='s'), (5,))
    assert layer.weight_names == ['s_t_left', 's_a_left', 's_t_right', 's_a_right']
    t_left, a_left, t_right, a_right = layer.get_weights()
    assert all(w.shape == (5,) for w in (t_left, a_left, t_right, a_right))
    assert (t_left == 0).all() and (a_right == 1).all()
    # glorot_uniform on a 1D shape: Keras 1's fans are sqrt(5) and sqrt(5).
    limit = np.sqrt(6. / (2 * np.sqrt(5)))
    assert np.abs(a_left).max() <= limit and np.abs(t_right).max() <= limit
    assert not np.array_equal(a_left, t_right)
    custom = built(SReLU(t_left_init='one', a_left_init='zero', t_right_init='one',
                         a_right_init='zero'), (2,))
    assert [float(w[0]) for w in custom.get_weights()] == [1., 0., 1., 0.]
    config = layer.get_config()
    assert set(config) == base_keys(layer) | {'t_left_init', 'a_left_init', 't_right_init',
                                              'a_right_init', 'shared_axes'}
    assert config['shared_axes'] == []
    layer = built(SReLU(shared_axes=[2]), (3, 4))
    with pytest.raises(ValueError, match=r'SReLU\) was built for parameters of shape \(3, 1\).*'
                                         r'input of shape \(2, 3, 5, 1\)'):
        layer.forward(np.ones((2, 3, 5, 1), dtype='float32'))
    with pytest.raises(ValueError, match=r'srelu.*shared axis 3 outside the sample axes'):
        built(SReLU(shared_axes=3), (3, 4))


# -- In a model -----------------------------------------------------------------------------------


def test_new_layers_train_in_a_model_and_survive_json():
    model = Sequential([
        ZeroPadding1D((1, 2), input_shape=(5, 3)),
        Cropping1D((2, 1)),
        UpSampling1D(2),
        SpatialDropout1D(0.2),
        TimeDistributedDense(4, activation='tanh'),
        Flatten(),
        Highway(activation='relu'),
        MaxoutDense(6, nb_feature=3),
        SReLU(),
        Dense(2),
    ])
    assert model.output_shape == (None, 2)
    model.compile('sgd', 'mse')
    x = away_from_zero((8, 5, 3), seed=13)
    y = away_from_zero((8, 2), seed=14)
    before = [w.copy() for w in model.get_weights()]
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    changed = [not np.array_equal(a, b) for a, b in zip(before, model.get_weights())]
    assert sum(changed) >= len(changed) - 2  # SReLU's t_left/t_right may see no gradient
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        copy = model_from_json(model.to_json())
    copy.set_weights(model.get_weights())
    np.testing.assert_allclose(copy.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
