"""Activations applied in one pass (kernels/elementwise.py) and inside Dense and
Convolution2D: checked against plain NumPy formulas, against the same model
built with separate Activation layers, and against finite differences."""
import numba
import numpy as np
import pytest

from gradcheck import away_from_zero, built, check_layer_gradients
from thread_counts import assert_same_bits_on_each_thread_count
from minikeras import activations
from minikeras.kernels import elementwise
from minikeras.layers import Activation, Convolution2D, Dense, Flatten
from minikeras.models import Sequential

CODES = {'relu': elementwise.RELU, 'tanh': elementwise.TANH, 'sigmoid': elementwise.SIGMOID}


def _reference_forward(name, x):
    x = x.astype(np.float64)
    if name == 'relu':
        return np.where(x > 0, x, 0.0)
    if name == 'tanh':
        return np.tanh(x)
    return 1.0 / (1.0 + np.exp(-x))


def _reference_backward(name, y, dy):
    y = y.astype(np.float64)
    dy = dy.astype(np.float64)
    if name == 'relu':
        return dy * (y > 0)
    if name == 'tanh':
        return dy * (1 - y * y)
    return dy * y * (1 - y)


def _thread_counts():
    return sorted({1, numba.config.NUMBA_NUM_THREADS})


# Sizes below one chunk, a whole number of chunks, and with a ragged tail.
@pytest.mark.parametrize('size', [1, 63, 1000, elementwise._CHUNK * 3, elementwise._CHUNK * 2 + 77])
@pytest.mark.parametrize('name', sorted(CODES))
def test_kernels_match_numpy_references_and_the_activation_functions(name, size):
    rng = np.random.RandomState(size)
    x = (rng.standard_normal(size) * 4).astype(np.float32)
    x[::97] = 0.0
    code = CODES[name]
    y = np.full_like(x, np.nan)
    elementwise.activation_forward(code, x, y)
    np.testing.assert_allclose(y, _reference_forward(name, x), rtol=2e-6, atol=1e-7)
    function = activations.get(name)
    # bit-identical to the NumPy formulas of minikeras.activations
    assert y.tobytes() == function(x).tobytes()
    dy = rng.standard_normal(size).astype(np.float32)
    dx = np.full_like(x, np.nan)
    elementwise.activation_backward(code, y, dy, dx)
    np.testing.assert_allclose(dx, _reference_backward(name, y, dy), rtol=1e-6, atol=1e-6)
    assert dx.tobytes() == function.backward(x, function(x), dy).tobytes()


def test_relu_of_special_values_is_that_of_where_x_above_zero():
    special = np.array([-0.0, 0.0, np.nan, -np.inf, np.inf, -1e-45, 1e-45, -3.0, 2.5],
                       np.float32)
    # in the vectorised body and in a ragged tail
    x = np.concatenate([np.tile(special, 20), special[::-1]])
    y = np.empty_like(x)
    elementwise.activation_forward(elementwise.RELU, x, y)
    assert y.view(np.int32).tolist() == \
        np.where(x > 0, x, np.float32(0)).astype(np.float32).view(np.int32).tolist()


@pytest.mark.parametrize('name', sorted(CODES))
def test_kernels_in_place_and_deterministic_across_thread_counts(name):
    rng = np.random.RandomState(3)
    x = rng.standard_normal((7, 5, 33, 31)).astype(np.float32) * 3
    dy = rng.standard_normal(x.shape).astype(np.float32)
    code = CODES[name]
    before = numba.get_num_threads()
    outputs = []
    try:
        for count in _thread_counts():
            numba.set_num_threads(count)
            y = x.copy()
            elementwise.activation_forward(code, y, y)
            dx = dy.copy()
            elementwise.activation_backward(code, y, dx, dx)
            outputs.append((y.tobytes(), dx.tobytes()))
    finally:
        numba.set_num_threads(before)
    assert all(o == outputs[0] for o in outputs)
    y = np.empty_like(x)
    elementwise.activation_forward(code, x, y)
    assert outputs[0][0] == y.tobytes()


def test_kernels_reject_bad_arrays_with_a_clear_error():
    x = np.zeros((4, 6), np.float32)
    with pytest.raises(ValueError, match='activation code'):
        elementwise.activation_forward(9, x, x)
    with pytest.raises(ValueError, match='y must be a C-contiguous float32'):
        elementwise.activation_forward(elementwise.RELU, x, x.astype(np.float64))
    with pytest.raises(ValueError, match='x must be a C-contiguous float32.*not contiguous'):
        elementwise.activation_forward(elementwise.RELU, x.T, np.zeros((6, 4), np.float32))
    with pytest.raises(ValueError, match='dx must have 24 elements'):
        elementwise.activation_backward(elementwise.TANH, x, x, np.zeros(5, np.float32))
    # in place means the same memory: an output shifted over the input is refused
    run = np.zeros(30, np.float32)
    with pytest.raises(ValueError, match='not overlap'):
        elementwise.activation_forward(elementwise.TANH, run[:24], run[6:])
    with pytest.raises(ValueError, match='not overlap'):
        elementwise.bias_activation_forward(elementwise.TANH, run[:24].reshape(4, 6),
                                            np.zeros(6, np.float32), run[6:].reshape(4, 6))


def test_apply_and_gradient_fall_back_for_other_arrays_and_functions():
    x64 = np.linspace(-2, 2, 12).reshape(3, 4)
    y = activations.apply(activations.relu, x64, in_place=True)
    assert y.dtype == np.float64 and np.array_equal(y, np.where(x64 > 0, x64, 0))
    assert x64.min() < 0  # not overwritten
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    y = activations.apply(activations.softmax, x, in_place=True)
    np.testing.assert_allclose(y.sum(axis=-1), 1, rtol=1e-6)
    assert x.min() < 0
    dy = np.ones_like(x)
    got = activations.gradient(activations.tanh, x, np.tanh(x), dy)
    assert got is not dy and np.array_equal(dy, np.ones_like(x))
    np.testing.assert_allclose(got, 1 - np.tanh(x.astype(np.float64)) ** 2, rtol=1e-5)


def _pair(build, input_shape, seed):
    """The model with activations inside the layers, and the same model with
    separate Activation layers, with the same weights."""
    fused, unfused = Sequential(), Sequential()
    build(fused, unfused, input_shape)
    for model in (fused, unfused):
        model.compile(loss='categorical_crossentropy', optimizer='sgd')
    unfused.set_weights(fused.get_weights())
    return fused, unfused


def _conv_model(ordering):
    def build(fused, unfused, input_shape):
        for model, split in ((fused, False), (unfused, True)):
            for i, (act, filters) in enumerate([('relu', 6), ('tanh', 5), ('sigmoid', 4)]):
                kwargs = {'input_shape': input_shape} if i == 0 else {}
                model.add(Convolution2D(filters, 3, 3, border_mode='same' if i else 'valid',
                                        dim_ordering=ordering,
                                        activation=None if split else act, **kwargs))
                if split:
                    model.add(Activation(act))
            model.add(Flatten())
            for act in ('relu', 'tanh', 'sigmoid'):
                model.add(Dense(7, activation=None if split else act))
                if split:
                    model.add(Activation(act))
            model.add(Dense(3, activation='softmax'))
    return build


@pytest.mark.parametrize('ordering', ['th', 'tf'])
def test_fused_model_trains_as_the_model_with_separate_activation_layers(ordering):
    shape = (2, 9, 8) if ordering == 'th' else (9, 8, 2)
    fused, unfused = _pair(_conv_model(ordering), shape, 0)
    rng = np.random.RandomState(0)
    x = rng.standard_normal((6,) + shape).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.randint(0, 3, 6)]
    for _ in range(3):
        loss_fused = fused.train_on_batch(x, y)
        loss_unfused = unfused.train_on_batch(x, y)
        np.testing.assert_allclose(loss_fused, loss_unfused, rtol=1e-5)
    for a, b in zip(fused.get_weights(), unfused.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused.predict(x), unfused.predict(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('name', sorted(CODES))
def test_dense_with_an_activation_matches_finite_differences(name):
    layer = built(Dense(5, activation=name), (6,))
    check_layer_gradients(layer, away_from_zero((4, 6), seed=2))


@pytest.mark.parametrize('ordering', ['th', 'tf'])
@pytest.mark.parametrize('name', sorted(CODES))
def test_convolution_with_an_activation_matches_finite_differences(name, ordering):
    shape = (2, 6, 5) if ordering == 'th' else (6, 5, 2)
    layer = built(Convolution2D(3, 3, 3, activation=name, dim_ordering=ordering), shape)
    # a small step, so that relu's kink at 0 stays out of reach of the nudges
    check_layer_gradients(layer, away_from_zero((3,) + shape, seed=4), eps=1e-3, atol=5e-3)


def test_activation_layer_output_is_a_new_array_and_its_input_is_kept():
    x = np.linspace(-1, 1, 24, dtype=np.float32).reshape(4, 6)
    kept = x.copy()
    layer = built(Activation('relu'), (6,))
    y, backprop = layer.forward(x)
    assert y is not x and np.array_equal(x, kept)
    dy = np.ones_like(y)
    dx = backprop(dy)
    assert np.array_equal(dy, np.ones_like(y))
    assert np.array_equal(dx, (x > 0).astype(np.float32))


def _other_layer(kind, activation):
    from minikeras.layers import (Convolution1D, Convolution3D, LocallyConnected1D,
                                  SeparableConvolution2D)
    if kind == 'conv1d':
        return Convolution1D(4, 3, activation=activation, input_shape=(9, 3))
    if kind == 'conv3d':
        return Convolution3D(3, 2, 2, 2, activation=activation, dim_ordering='tf',
                             input_shape=(4, 5, 4, 2))
    if kind == 'separable':
        return SeparableConvolution2D(4, 3, 3, activation=activation, dim_ordering='th',
                                      input_shape=(2, 6, 6))
    return LocallyConnected1D(4, 3, activation=activation, input_shape=(9, 3))


@pytest.mark.parametrize('kind', ['conv1d', 'conv3d', 'separable', 'local1d'])
@pytest.mark.parametrize('name', sorted(CODES))
def test_other_layers_with_an_activation_train_as_with_an_activation_layer(kind, name):
    fused, unfused = Sequential(), Sequential()
    fused.add(_other_layer(kind, name))
    unfused.add(_other_layer(kind, None))
    unfused.add(Activation(name))
    for model in (fused, unfused):
        model.add(Flatten())
        model.add(Dense(2, activation='softmax'))
        model.compile(loss='categorical_crossentropy', optimizer='sgd')
    unfused.set_weights(fused.get_weights())
    rng = np.random.RandomState(5)
    x = rng.standard_normal((5,) + fused.input_shape[1:]).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[rng.randint(0, 2, 5)]
    for _ in range(2):
        np.testing.assert_allclose(fused.train_on_batch(x, y), unfused.train_on_batch(x, y),
                                   rtol=1e-6)
    for a, b in zip(fused.get_weights(), unfused.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def _ulp_distance(a, b):
    """|a - b| in units in the last place of float32 (ordered bit patterns)."""
    def ordered(v):
        bits = v.view(np.int32).astype(np.int64)
        return np.where(bits < 0, -(bits & 0x7FFFFFFF), bits)
    return np.abs(ordered(a) - ordered(b))


def _every_float32(lo, hi):
    """Every float32 in [lo, hi), in slices of at most 2**22."""
    first = int(np.float32(lo).view(np.int32))
    last = int(np.float32(hi).view(np.int32))
    for start in range(first, last, 1 << 22):
        yield np.arange(start, min(last, start + (1 << 22)), dtype=np.int32).view(np.float32)


# Every float32 of these ranges (about 48 million values): the tiny inputs
# returned as they are, both sides of k = 0 and 1 of the exponential's range
# reduction, the bulk of pre-activations, and the approach to saturation.
@pytest.mark.parametrize('lo,hi', [(2.0 ** -14, 2.0 ** -11), (0.125, 1.0), (1.0, 4.0),
                                   (4.0, 9.75)])
def test_tanh_is_within_3_ulp_of_the_correctly_rounded_tanh_on_every_float32(lo, hi):
    worst = 0
    for x in _every_float32(lo, hi):
        y = np.empty_like(x)
        elementwise.activation_forward(elementwise.TANH, x, y)
        exact = np.tanh(x.astype(np.float64)).astype(np.float32)
        worst = max(worst, int(_ulp_distance(y, exact).max()))
        # odd: tanh(-x) is -tanh(x), bit for bit
        negative = np.empty_like(x)
        elementwise.activation_forward(elementwise.TANH, -x, negative)
        assert np.array_equal(negative.view(np.int32), (-y).view(np.int32))
    assert worst <= 3


@numba.njit
def _powers_of_two(ks):
    out = np.empty(ks.shape[0], np.float32)
    for i in range(ks.shape[0]):
        out[i] = elementwise._pow2(ks[i])
    return out


def test_pow2_builds_exact_powers_of_two_from_the_exponent_bits():
    ks = np.arange(128)
    assert _powers_of_two(ks).tolist() == [2.0 ** k for k in range(128)]
    assert _powers_of_two(ks.astype(np.int32)).tolist() == [2.0 ** k for k in range(128)]


def test_tanh_and_sigmoid_of_special_values():
    x = np.array([0.0, -0.0, 1e-45, -1e-45, 1e-30, 9.5, 10.0, 88.0, 3e38, np.inf, -np.inf,
                  np.nan], np.float32)
    x = np.tile(x, 3)  # the vectorised body and the scalar tail
    y = np.empty_like(x)
    elementwise.activation_forward(elementwise.TANH, x, y)
    with np.errstate(over='ignore'):
        exact = np.tanh(x.astype(np.float64)).astype(np.float32)
    # signed zeros and tiny values come back as they are, saturation is +-1 exactly
    assert y.view(np.int32)[~np.isnan(x)].tolist() == exact.view(np.int32)[~np.isnan(x)].tolist()
    assert np.isnan(y[np.isnan(x)]).all()
    s = np.empty_like(x)
    elementwise.activation_forward(elementwise.SIGMOID, x, s)
    with np.errstate(over='ignore'):
        exact_s = (1 / (1 + np.exp(-x.astype(np.float64)))).astype(np.float32)
    finite = ~np.isnan(x)
    np.testing.assert_allclose(s[finite], exact_s[finite], rtol=3e-7, atol=1e-7)
    assert np.isnan(s[~finite]).all()


def test_dense_bias_and_activation_in_one_pass_equal_adding_then_applying():
    rng = np.random.RandomState(7)
    z = (rng.standard_normal((33, 70)) * 3).astype(np.float32)
    b = rng.standard_normal(70).astype(np.float32)
    for name, code in sorted(CODES.items()) + [('linear', elementwise.LINEAR)]:
        y = np.empty_like(z)
        elementwise.bias_activation_forward(code, z, b, y)
        expected = z + b
        if name != 'linear':
            elementwise.activation_forward(code, z + b, expected)
        assert y.tobytes() == expected.tobytes(), name
        in_place = z.copy()
        got = activations.apply_with_bias(activations.get(name), in_place, b)
        assert got is in_place and got.tobytes() == expected.tobytes(), name
    with pytest.raises(ValueError, match='b must have 70 elements'):
        elementwise.bias_activation_forward(elementwise.RELU, z, b[:5], np.empty_like(z))


def test_backend_tanh_and_sigmoid_use_the_kernel_on_float32_arrays_only():
    from minikeras import backend_ops
    rng = np.random.RandomState(9)
    x = (rng.standard_normal((6, 5)) * 3).astype(np.float32)
    for function, code in ((backend_ops.tanh, elementwise.TANH),
                           (backend_ops.sigmoid, elementwise.SIGMOID)):
        expected = np.empty_like(x)
        elementwise.activation_forward(code, x, expected)
        assert function(x).tobytes() == expected.tobytes()
        # any layout: the result of the same values in C order
        assert np.array_equal(function(np.asfortranarray(x)), expected)
        assert function(x.T).shape == (5, 6) and np.array_equal(function(x.T), expected.T)
        scalar = function(np.array(0.25, np.float32))
        assert scalar.shape == () and scalar.dtype == np.float32
    x64 = x.astype(np.float64)
    assert backend_ops.tanh(x64).tobytes() == np.tanh(x64).tobytes()
    assert backend_ops.sigmoid(x64).tobytes() == (0.5 * (np.tanh(0.5 * x64) + 1.)).tobytes()


@pytest.mark.parametrize('alpha', [0.3, 0.0, -0.5, 1e-3])
def test_leaky_relu_kernels_are_the_numpy_formula_bit_for_bit(alpha):
    """x * where(x > 0, 1, alpha) and dy * the same slope, float32 (the
    LeakyReLU layer's NumPy path), on special values in the vectorised body
    and a ragged tail, and on random values under each thread count."""
    special = np.array([-0.0, 0.0, np.nan, -np.inf, np.inf, -1e-45, 1e-45, -3.0, 2.5],
                       np.float32)
    rng = np.random.RandomState(5)
    for x in (np.concatenate([np.tile(special, 20), special[::-1]]),
              rng.standard_normal((7, 5, 33, 31)).astype(np.float32) * 3):
        dy = rng.standard_normal(x.shape).astype(np.float32)
        slope = np.where(x > 0, np.float32(1), np.float32(alpha))

        def run():
            y, dx = np.empty_like(x), np.empty_like(x)
            elementwise.leaky_relu_forward(x, alpha, y)
            elementwise.leaky_relu_backward(x, alpha, dy, dx)
            return y, dx
        y, dx = run()
        with np.errstate(invalid='ignore'):  # inf * 0 where alpha is 0
            assert y.tobytes() == (x * slope).tobytes()
        assert dx.tobytes() == (dy * slope).tobytes()
        assert_same_bits_on_each_thread_count(run)
        in_place = dy.copy()
        elementwise.leaky_relu_backward(x, alpha, in_place, in_place)
        assert in_place.tobytes() == dx.tobytes()
    with pytest.raises(ValueError, match='overlap'):
        elementwise.leaky_relu_forward(x, alpha, x)


def test_leaky_relu_layer_takes_the_kernel_on_float32_arrays_only():
    from minikeras.layers import LeakyReLU
    layer = LeakyReLU(0.2)
    rng = np.random.RandomState(6)
    x = rng.standard_normal((4, 3, 5, 6)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    slope = np.where(x > 0, np.float32(1), np.float32(0.2))
    for given in (x, x.transpose(0, 2, 3, 1), x.astype(np.float64)):
        y, backprop = layer.forward(given)
        expected = given * np.where(given > 0, np.float32(1), np.float32(0.2))
        assert y.dtype == expected.dtype and y.tobytes() == expected.tobytes()
    y, backprop = layer.forward(x)
    assert backprop(dy).tobytes() == (dy * slope).tobytes()
    # a gradient in another layout or type is made a float32 array first
    assert backprop(np.asfortranarray(dy)).tobytes() == (dy * slope).tobytes()
