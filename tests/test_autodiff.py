"""minikeras.autodiff and minikeras.backend_ops: every traced operation's
gradient against central finite differences in float64, Keras-style custom
losses and Lambda functions against their hand-derived gradients, and the
errors for what cannot be traced."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from minikeras import autodiff
from minikeras import backend_ops as K
from minikeras.autodiff import Tensor, value_and_grad, vjp

FAST = settings(max_examples=8, deadline=None)
FD_EPS = 1e-6


def copies(arrays):
    # on plain arrays `x -= ...` writes into its argument (on traced values it rebinds)
    return [a.copy() for a in arrays]


def numeric_vjp(function, arrays, dy):
    """Central differences of sum(function(*arrays) * dy), entry by entry."""
    grads = []
    for array in arrays:
        grad = np.zeros_like(array)
        flat, flat_grad = array.reshape(-1), grad.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + FD_EPS
            plus = np.sum(np.asarray(function(*copies(arrays)), dtype=np.float64) * dy)
            flat[i] = original - FD_EPS
            minus = np.sum(np.asarray(function(*copies(arrays)), dtype=np.float64) * dy)
            flat[i] = original
            flat_grad[i] = (plus - minus) / (2 * FD_EPS)
        grads.append(grad)
    return grads


def check_gradients(function, *arrays, rtol=1e-5, atol=1e-6, seed=0):
    """The traced forward equals the plain one, and backward matches finite
    differences for a random output gradient."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    out, backward = vjp(function, *arrays)
    plain = function(*[a.copy() for a in arrays])
    np.testing.assert_allclose(out, plain, rtol=1e-10, atol=1e-12)
    dy = np.random.RandomState(seed).standard_normal(np.shape(out))
    grads = backward(dy)
    numeric = numeric_vjp(function, arrays, dy)
    for k, (g, n, a) in enumerate(zip(grads, numeric, arrays)):
        assert g.shape == a.shape and g.dtype == np.float64, (k, g.shape, g.dtype)
        np.testing.assert_allclose(g, n, rtol=rtol, atol=atol, err_msg='argument %d' % k)
    return out, grads


def normal(shape, seed, domain=None):
    x = np.random.RandomState(seed).standard_normal(shape)
    if domain == 'positive':
        return np.abs(x) + 0.5
    if domain == 'unit':
        return 0.9 * np.tanh(x)
    if domain == 'above_one':
        return 1.5 + np.abs(x)
    if domain == 'away_from_zero':
        return x + 0.3 * np.sign(x) + (x == 0)
    return x


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
seeds = st.integers(0, 2 ** 31 - 1)
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


# ---------------------------------------------------------------------------
# Element-wise operations

UNARY = [
    ('negative', np.negative, None), ('positive', np.positive, None),
    ('exp', np.exp, None), ('exp2', np.exp2, None), ('expm1', np.expm1, None),
    ('log', np.log, 'positive'), ('log2', np.log2, 'positive'),
    ('log10', np.log10, 'positive'), ('log1p', np.log1p, 'positive'),
    ('sqrt', np.sqrt, 'positive'), ('cbrt', np.cbrt, 'positive'),
    ('square', np.square, None), ('abs', np.abs, 'away_from_zero'),
    ('fabs', np.fabs, 'away_from_zero'), ('reciprocal', np.reciprocal, 'positive'),
    ('sin', np.sin, None), ('cos', np.cos, None), ('tan', np.tan, 'unit'),
    ('arcsin', np.arcsin, 'unit'), ('arccos', np.arccos, 'unit'),
    ('arctan', np.arctan, None), ('sinh', np.sinh, None), ('cosh', np.cosh, None),
    ('tanh', np.tanh, None), ('arcsinh', np.arcsinh, None),
    ('arccosh', np.arccosh, 'above_one'), ('arctanh', np.arctanh, 'unit'),
    ('deg2rad', np.deg2rad, None), ('rad2deg', np.rad2deg, None),
    ('power 3', lambda x: np.power(x, 3), None),
    ('x ** 2 + 1', lambda x: x ** 2 + 1, None),
    ('x ** 0.5', lambda x: x ** 0.5, 'positive'),
    ('2 ** x', lambda x: 2 ** x, None),
    ('1 / x', lambda x: 1 / x, 'positive'),
    ('-x * 3 - 1', lambda x: -x * 3 - 1, None),
    ('abs(x)', lambda x: abs(x), 'away_from_zero'),
    ('+x / 2', lambda x: +x / 2, None),
    ('np.float32 scalar', lambda x: np.float64(2.5) * x + np.float64(1), None),
]


@pytest.mark.parametrize('name,function,domain', UNARY, ids=[u[0] for u in UNARY])
@FAST
@given(shape=shapes, seed=seeds)
def test_unary_gradients(name, function, domain, shape, seed):
    check_gradients(function, normal(shape, seed, domain))


BINARY = [
    ('add', np.add, None), ('subtract', np.subtract, None),
    ('multiply', np.multiply, None), ('divide', np.divide, 'positive'),
    ('power', np.power, 'both_positive'), ('float_power', np.float_power, 'both_positive'),
    ('maximum', np.maximum, None), ('minimum', np.minimum, None),
    ('fmax', np.fmax, None), ('fmin', np.fmin, None),
    ('arctan2', np.arctan2, 'positive'), ('hypot', np.hypot, 'positive'),
    ('logaddexp', np.logaddexp, None), ('logaddexp2', np.logaddexp2, None),
    ('a + b', lambda a, b: a + b, None), ('a - b', lambda a, b: a - b, None),
    ('a * b', lambda a, b: a * b, None), ('a / b', lambda a, b: a / b, 'positive'),
    ('a ** b', lambda a, b: a ** b, 'both_positive'),
    ('a * b + a / (1 + b * b)', lambda a, b: a * b + a / (1 + b * b), None),
]


@pytest.mark.parametrize('name,function,domain', BINARY, ids=[b[0] for b in BINARY])
@FAST
@given(shapes=pairs, seed=seeds)
def test_binary_gradients_with_broadcasting(name, function, domain, shapes, seed):
    first, second = shapes.input_shapes
    a = normal(first, seed, 'positive' if domain == 'both_positive' else None)
    b = normal(second, seed + 1, 'positive' if domain else None)
    check_gradients(function, a, b)


def test_remainder_and_fmod_away_from_their_jumps():
    a = np.array([[2.3, -1.7], [5.2, 0.4]])
    b = np.array([1.1, 0.9])
    check_gradients(np.remainder, a, b)
    check_gradients(np.fmod, a, b)
    check_gradients(lambda a, b: a % b, a, b)


def test_clip_with_traced_bounds():
    a = np.array([-2., -0.5, 0.1, 0.7, 3.])
    lo, hi = np.array(-1.), np.array(1.)
    check_gradients(lambda a, lo, hi: np.clip(a, lo, hi), a, lo, hi)
    check_gradients(lambda a: np.clip(a, None, 0.5), a)
    check_gradients(lambda a: np.clip(a, a_min=-0.3, a_max=None), a)
    check_gradients(lambda a: a.clip(-1, 1), a)


@FAST
@given(shapes=pairs, seed=seeds)
def test_where_sends_the_gradient_to_the_chosen_branch(shapes, seed):
    first, second = shapes.input_shapes
    x, y = normal(first, seed), normal(second, seed + 1)
    condition = np.random.RandomState(seed).rand(*np.broadcast_shapes(first, second)) > 0.5
    check_gradients(lambda x, y: np.where(condition, x, y), x, y)
    check_gradients(lambda x: np.where(x > 0, x, 0.1 * x), normal(first, seed, 'away_from_zero'))


def test_comparisons_and_sign_give_plain_bool_or_zero_gradient_arrays():
    x = np.array([-1., 0.5, 2.])

    def inspect(t):
        for result in (t > 0, t >= 0, t < 0, t <= 0, t == 0.5, t != 0.5,
                       np.greater(t, 1), np.isfinite(t), np.logical_and(t > 0, t < 1)):
            assert type(result) is np.ndarray and result.dtype == bool
        for result in (np.sign(t), np.floor(t), np.ceil(t), np.round(t), np.rint(t), t // 1):
            assert type(result) is np.ndarray
        return np.sign(t) + np.floor(t) + np.round(t)
    out, backward = vjp(inspect, x)
    np.testing.assert_array_equal(backward(np.ones(3))[0], np.zeros(3))


# ---------------------------------------------------------------------------
# Reductions

REDUCTIONS = [
    ('sum', np.sum), ('mean', np.mean), ('max', np.max), ('min', np.min),
    ('amax', np.amax), ('prod', np.prod), ('std', np.std), ('var', np.var),
    ('method sum', lambda x, **kw: x.sum(**kw)), ('method mean', lambda x, **kw: x.mean(**kw)),
    ('method max', lambda x, **kw: x.max(**kw)), ('method min', lambda x, **kw: x.min(**kw)),
    ('method prod', lambda x, **kw: x.prod(**kw)),
    ('K.max', lambda x, axis=None, keepdims=False: K.max(x, axis, keepdims)),
    ('K.sum', lambda x, axis=None, keepdims=False: K.sum(x, axis, keepdims)),
    ('K.mean', lambda x, axis=None, keepdims=False: K.mean(x, axis, keepdims)),
    ('K.std', lambda x, axis=None, keepdims=False: K.std(x, axis, keepdims)),
    ('K.prod', lambda x, axis=None, keepdims=False: K.prod(x, axis, keepdims)),
]


@st.composite
def reduction_cases(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    axes = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                          st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True)
                          .map(tuple)))
    return shape, axes, draw(st.booleans()), draw(seeds)


@pytest.mark.parametrize('name,function', REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
@FAST
@given(case=reduction_cases())
def test_reduction_gradients(name, function, case):
    shape, axis, keepdims, seed = case
    if name.startswith('K.') and isinstance(axis, tuple):
        axis = list(axis)      # Keras spells several axes as a list
    x = normal(shape, seed, 'away_from_zero')
    if 'std' in name:           # sqrt(var) has no derivative where var is 0
        reduced = range(len(shape)) if axis is None else np.atleast_1d(axis)
        assume(np.prod([shape[i] for i in reduced]) > 1)
    check_gradients(lambda x: function(x, axis=axis, keepdims=keepdims), x)


def test_var_and_std_with_ddof():
    x = normal((3, 4), 1)
    check_gradients(lambda x: np.var(x, axis=0, ddof=1), x)
    check_gradients(lambda x: np.std(x, ddof=1), x)
    check_gradients(lambda x: x.std(axis=-1, keepdims=True), x)


def test_prod_with_zeros_and_ties_of_max():
    check_gradients(lambda x: np.prod(x, axis=1), np.array([[0., 2., 3.], [0., 0., 4.]]))
    # ties share the gradient of max equally; maximum splits it in half
    _, backward = vjp(np.max, np.array([1., 3., 3.]))
    np.testing.assert_allclose(backward(1.)[0], [0., 0.5, 0.5])
    _, backward = vjp(np.maximum, np.array([2.]), np.array([2.]))
    np.testing.assert_allclose(backward(np.ones(1)), [[0.5], [0.5]])


@FAST
@given(shape=shapes, seed=seeds, data=st.data())
def test_cumsum_gradient(shape, seed, data):
    axis = None if not shape else data.draw(st.integers(-len(shape), len(shape) - 1))
    check_gradients(lambda x: np.cumsum(x, axis=axis), normal(shape, seed))


def test_ufunc_reduce_methods():
    x = normal((3, 4), 0)
    check_gradients(lambda x: np.add.reduce(x), x)
    check_gradients(lambda x: np.maximum.reduce(x, axis=1), x)
    check_gradients(lambda x: np.multiply.reduce(x, axis=None), x)


# ---------------------------------------------------------------------------
# Products


@FAST
@given(data=st.data(), seed=seeds)
def test_matmul_with_batch_broadcasting_and_vectors(data, seed):
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    batch_a = data.draw(st.sampled_from([(), (2,), (1,), (2, 1)]))
    batch_b = data.draw(st.sampled_from([(), (2,), (1,), (3, 1, 1)[-len(batch_a) - 1:]]))
    a_shape = data.draw(st.sampled_from([batch_a + (n, k), (k,)]))
    b_shape = data.draw(st.sampled_from([batch_b + (k, m), (k,)]))
    a, b = normal(a_shape, seed), normal(b_shape, seed + 1)
    check_gradients(np.matmul, a, b)
    check_gradients(lambda a, b: a @ b, a, b)


@FAST
@given(data=st.data(), seed=seeds)
def test_dot_and_tensordot(data, seed):
    a_shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    b_lead = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    b_shape = (b_lead[:-1] + (a_shape[-1],) + b_lead[-1:]) if b_lead else (a_shape[-1],)
    a, b = normal(a_shape, seed), normal(b_shape, seed + 1)
    check_gradients(np.dot, a, b)
    check_gradients(lambda a, b: a.dot(b), a, b)
    check_gradients(K.dot, a, b)
    theano_axes = ([a.ndim - 1], [b.ndim - 2 if b.ndim > 1 else 0])
    check_gradients(lambda a, b: np.tensordot(a, b, axes=theano_axes), a, b)
    check_gradients(np.dot, np.array(1.5), b)


def test_tensordot_with_crossed_axes_inner_and_outer():
    a, b = normal((2, 3, 4), 0), normal((4, 5, 2), 1)
    check_gradients(lambda a, b: np.tensordot(a, b, axes=([0, 2], [2, 0])), a, b)
    check_gradients(lambda a, b: np.tensordot(a[:, :2, :3], b[:2, :3, 1], axes=2), a, b)
    check_gradients(lambda a, b: np.tensordot(a, b, axes=0)[0, 0, 0], a, b)
    check_gradients(np.inner, normal((2, 3), 2), normal((4, 3), 3))
    check_gradients(np.outer, normal((2, 3), 2), normal((4,), 3))


# ---------------------------------------------------------------------------
# Shapes, joining and indexing

SHAPE_OPS = [
    ('reshape -1', lambda x: np.reshape(x, -1)),
    ('method reshape', lambda x: x.reshape(x.size, 1)),
    ('method reshape tuple', lambda x: x.reshape((1, -1))),
    ('ravel', np.ravel), ('flatten', lambda x: x.flatten()),
    ('transpose', np.transpose), ('.T', lambda x: x.T),
    ('transpose axes', lambda x: np.transpose(x, tuple(range(x.ndim))[::-1])),
    ('method transpose', lambda x: x.transpose(*range(x.ndim)[::-1])),
    ('expand_dims', lambda x: np.expand_dims(x, 0)),
    ('expand_dims end', lambda x: np.expand_dims(x, -1)),
    ('squeeze', lambda x: np.squeeze(np.expand_dims(x, 1), axis=1)),
    ('flip', np.flip), ('copy', np.copy),
    ('broadcast_to', lambda x: np.broadcast_to(x, (2,) + x.shape)),
    ('repeat', lambda x: np.repeat(x, 2)),
    ('repeat axis', lambda x: np.repeat(x, 3, axis=-1)),
    ('repeat counts', lambda x: np.repeat(x, ([1, 0, 2] * 2)[:x.shape[0]], axis=0)),
    ('tile', lambda x: np.tile(x, 2)), ('tile 3d', lambda x: np.tile(x, (2, 1, 2))),
    ('pad', lambda x: np.pad(x, 1)),
    ('pad widths', lambda x: np.pad(x, [(1, 0)] + [(0, 2)] * (x.ndim - 1))),
    ('concatenate', lambda x: np.concatenate([x, 2 * x, x * x], axis=0)),
    ('concatenate last', lambda x: np.concatenate([x, np.ones(x.shape[:-1] + (2,))], axis=-1)),
    ('concatenate None', lambda x: np.concatenate([x, x[:1]], axis=None)),
    ('stack', lambda x: np.stack([x, x * 2], axis=-1)),
    ('vstack/hstack', lambda x: np.vstack([x, x]).sum() + np.hstack([x, x]).sum()),
    ('swapaxes', lambda x: np.swapaxes(x, 0, -1)),
    ('moveaxis', lambda x: np.moveaxis(x, 0, -1)),
    ('take', lambda x: np.take(x, [0, 0, -1], axis=0)),
    ('take flat', lambda x: np.take(x, [0, -1, 0])),
    ('atleast_2d', lambda x: np.atleast_2d(x[0]) * 2),
    ('astype', lambda x: x.astype(np.float32).astype(np.float64) * 0 + x),
    ('sum of rows', lambda x: sum(row for row in x)),
    ('norm', lambda x: np.linalg.norm(x, axis=-1)),
    ('norm all', np.linalg.norm),
]


@pytest.mark.parametrize('name,function', SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
@FAST
@given(shape=hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=3), seed=seeds)
def test_shape_operations(name, function, shape, seed):
    check_gradients(function, normal(shape, seed, 'away_from_zero'))


INDEXING = [
    ('x[:, 0]', lambda x: x[:, 0]),
    ('x[0]', lambda x: x[0]),
    ('x[..., 1:]', lambda x: x[..., 1:]),
    ('x[::-1, None, 1]', lambda x: x[::-1, None, 1]),
    ('fancy with repeats', lambda x: x[[0, 0, 2, 1]]),
    ('fancy pairs', lambda x: x[[0, 2, 2], [1, 1, 0]]),
    ('boolean mask', lambda x: x[x > 0]),
    ('boolean rows', lambda x: x[np.array([True, False, True])]),
    ('mixed', lambda x: x[1:, [2, 0, 2]]),
    ('traced index', lambda x: x[np.array([1, 1])] * 2),
]


@pytest.mark.parametrize('name,function', INDEXING, ids=[i[0] for i in INDEXING])
def test_indexing(name, function):
    check_gradients(function, normal((3, 4), 7, 'away_from_zero'))


def test_iterating_len_and_attributes():
    def inspect(x):
        assert (x.shape, x.ndim, x.size, x.dtype, len(x)) == ((3, 2), 2, 6, np.float32, 3)
        assert isinstance(x, Tensor) and autodiff.is_traced(x)
        return np.stack([row * i for i, row in enumerate(x)])
    out, backward = vjp(inspect, np.ones((3, 2), dtype=np.float32))
    np.testing.assert_allclose(backward(np.ones((3, 2)))[0], [[0, 0], [1, 1], [2, 2]])


# ---------------------------------------------------------------------------
# The public API


def test_vjp_keeps_float32_and_returns_plain_arrays():
    x = np.random.RandomState(0).standard_normal((4, 3)).astype(np.float32)
    out, backward = vjp(lambda x: np.tanh(x) * 2.0 + K.mean(x, axis=-1, keepdims=True), x)
    assert type(out) is np.ndarray and out.dtype == np.float32
    (grad,) = backward(np.ones((4, 3), dtype=np.float64))
    assert type(grad) is np.ndarray and grad.dtype == np.float32 and grad.shape == (4, 3)
    np.testing.assert_allclose(grad, 2 * (1 - np.tanh(x) ** 2) + 1, rtol=1e-5)


def test_backward_twice_inputs_copied_and_dy_checked():
    x = np.array([1., 2., 3.])
    out, backward = vjp(lambda x: x * x, x)
    x[:] = 100.             # the caller changes its array: the gradient must not
    first, second = backward(np.ones(3)), backward(np.ones(3))
    np.testing.assert_allclose(first[0], [2., 4., 6.])
    np.testing.assert_allclose(second[0], first[0])
    with pytest.raises(ValueError, match=r'shape \(2,\).*shape \(3,\)'):
        backward(np.ones(2))


def test_outputs_that_do_not_depend_on_the_inputs_give_zero_gradients():
    x, y = np.ones((2, 3), dtype=np.float32), np.ones(4)
    cases = [
        (lambda x, y: np.ones(3), (3,)),
        (lambda x, y: 2.0, ()),
        (lambda x, y: np.sign(x) + np.floor(y[:3]), (2, 3)),
        (lambda x, y: (x > 0).astype(np.float32), (2, 3)),
        (lambda x, y: K.stop_gradient(x) * 3, (2, 3)),
        (lambda x, y: K.zeros_like(x) + K.ones_like(y)[:3], (2, 3)),
    ]
    for function, shape in cases:
        out, backward = vjp(function, x, y)
        assert np.shape(out) == shape
        gx, gy = backward(np.ones(shape))
        assert gx.dtype == np.float32 and gy.dtype == np.float64
        np.testing.assert_array_equal(gx, np.zeros((2, 3)))
        np.testing.assert_array_equal(gy, np.zeros(4))
    # an input unused by a traced output
    _, backward = vjp(lambda x, y: x * 2, x, y)
    np.testing.assert_array_equal(backward(np.ones((2, 3)))[1], np.zeros(4))


def test_integer_inputs_are_constants():
    labels, p = np.array([0, 2]), np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    out, backward = vjp(lambda t, p: -np.log(p[np.arange(2), t]), labels, p)
    g_labels, g_p = backward(np.ones(2))
    assert g_labels.shape == (2,) and not g_labels.any()
    np.testing.assert_allclose(g_p, [[-5, 0, 0], [0, 0, -1.25]])


def test_value_and_grad():
    x, y = np.array([1., 2.]), np.array([3., 4.])
    value, grad = value_and_grad(lambda x, y: np.sum(x * y), x, y)
    assert value == 11. and np.allclose(grad, y)
    value, grads = value_and_grad(lambda x, y: np.sum(x * y), x, y, argnums=(1, 0))
    np.testing.assert_allclose(grads, [x, y])
    _, grad = value_and_grad(lambda x, y: np.sum(x * y), x, y, argnums=-1)
    np.testing.assert_allclose(grad, x)
    with pytest.raises(ValueError, match='one number'):
        value_and_grad(lambda x: x * 2, x)


# ---------------------------------------------------------------------------
# Keras-style functions


def test_custom_mse_loss_against_its_hand_gradient():
    rng = np.random.RandomState(3)
    y_true = rng.standard_normal((5, 4)).astype(np.float32)
    y_pred = rng.standard_normal((5, 4)).astype(np.float32)

    def my_loss(y_true, y_pred):
        return K.mean(K.square(y_pred - y_true), axis=-1)
    out, backward = vjp(my_loss, y_true, y_pred)
    assert out.shape == (5,) and out.dtype == np.float32
    np.testing.assert_allclose(out, ((y_pred - y_true) ** 2).mean(-1), rtol=1e-6)
    dy = rng.standard_normal(5).astype(np.float32)
    d_true, d_pred = backward(dy)
    hand = 2 * (y_pred - y_true) / 4 * dy[:, None]
    np.testing.assert_allclose(d_pred, hand, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(d_true, -hand, rtol=1e-5, atol=1e-7)
    check_gradients(my_loss, y_true, y_pred)


def test_categorical_crossentropy_against_its_hand_gradient():
    rng = np.random.RandomState(4)
    target = np.eye(4)[rng.randint(0, 4, 6)]
    output = rng.uniform(0.05, 1., (6, 4))
    out, backward = vjp(lambda o, t: K.categorical_crossentropy(o, t), output, target)
    total = output.sum(-1, keepdims=True)
    np.testing.assert_allclose(out, -(target * np.log(output / total)).sum(-1), rtol=1e-12)
    d_out, _ = backward(np.ones(6))
    # L = -sum_k t_k (log p_k - log S)  =>  dL/dp_j = -t_j / p_j + sum_k t_k / S
    np.testing.assert_allclose(d_out, -target / output + target.sum(-1, keepdims=True) / total,
                               rtol=1e-10)
    check_gradients(lambda o: K.categorical_crossentropy(o, target), output)
    # from logits: d/dz = softmax(z) * sum(t) - t
    logits = rng.standard_normal((6, 4))
    _, backward = vjp(lambda z: K.categorical_crossentropy(z, target, from_logits=True), logits)
    soft = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(backward(np.ones(6))[0], soft - target, rtol=1e-9, atol=1e-12)


def test_crossentropies_clip_with_epsilon_like_keras():
    eps = 1e-7
    output = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]], dtype=np.float32)
    target = np.array([[0., 1., 0.], [0., 0., 1.]], dtype=np.float32)
    np.testing.assert_allclose(K.categorical_crossentropy(output, target),
                               [-np.log(eps), -np.log(eps)], rtol=1e-5)
    _, backward = vjp(lambda o: K.categorical_crossentropy(o, target), output)
    assert np.all(np.isfinite(backward(np.ones(2, dtype=np.float32))[0]))
    p = np.array([0.2, 0.9, 1.0])
    t = np.array([0., 1., 1.])
    np.testing.assert_allclose(K.binary_crossentropy(p, t),
                               -(t * np.log(np.clip(p, eps, 1 - eps)) +
                                 (1 - t) * np.log(1 - np.clip(p, eps, 1 - eps))))
    check_gradients(lambda p: K.binary_crossentropy(p, t[:2]), p[:2])
    check_gradients(lambda z: K.binary_crossentropy(z, t, from_logits=True),
                    np.array([-1.2, 0.3, 2.0]))
    labels = np.array([2, 0])
    probabilities = np.array([[.2, .3, .5], [.6, .3, .1]])
    np.testing.assert_allclose(K.sparse_categorical_crossentropy(probabilities, labels),
                               -np.log([.5, .6]))
    check_gradients(lambda o: K.sparse_categorical_crossentropy(o, labels), probabilities)


def test_lambda_layer_functions():
    x = normal((3, 4, 2), 5)
    check_gradients(lambda x: x[:, 0], x)
    check_gradients(lambda x: K.mean(x, axis=1), x)
    check_gradients(lambda x: x ** 2, x)
    check_gradients(lambda x: K.sum(x ** 2, axis=-1, keepdims=True) + 1, x)
    check_gradients(lambda x: K.l2_normalize(x, axis=-1), x)
    check_gradients(lambda x: K.batch_flatten(x[:, ::-1]), x)
    # merge(mode=callable) gets a list of tensors
    merge = lambda inputs: K.concatenate([inputs[0], inputs[1] * inputs[0]], axis=-1)
    check_gradients(lambda a, b: merge([a, b]), normal((3, 2), 1), normal((3, 2), 2))
    cosine = lambda inputs: K.sum(K.l2_normalize(inputs[0], -1) * K.l2_normalize(inputs[1], -1),
                                  axis=-1, keepdims=True)
    check_gradients(lambda a, b: cosine([a, b]), normal((3, 4), 3), normal((3, 4), 4))


def test_keras_examples_antirectifier():
    # keras/examples/antirectifier.py, as a Lambda function
    def antirectifier(x):
        x -= K.mean(x, axis=1, keepdims=True)
        x = K.l2_normalize(x, axis=1)
        pos = K.relu(x)
        neg = K.relu(-x)
        return K.concatenate([pos, neg], axis=1)
    check_gradients(antirectifier, normal((4, 5), 9, 'away_from_zero'))


@pytest.mark.parametrize('name', [
    'mean_squared_error', 'mean_absolute_error', 'mean_absolute_percentage_error',
    'mean_squared_logarithmic_error', 'squared_hinge', 'hinge', 'categorical_crossentropy',
    'sparse_categorical_crossentropy', 'binary_crossentropy', 'kullback_leibler_divergence',
    'poisson', 'cosine_proximity'])
def test_built_in_objectives_trace_to_their_hand_written_backward(name):
    # legacy custom losses call keras.objectives inside their own function
    from minikeras import objectives
    loss = objectives.get(name)
    rng = np.random.RandomState(2)
    y_pred = rng.uniform(0.05, 0.95, (4, 3))
    y_true = {'categorical_crossentropy': np.eye(3)[[0, 1, 2, 0]],
              'sparse_categorical_crossentropy': np.array([[0], [1], [2], [1]]),
              'squared_hinge': np.sign(rng.uniform(-1, 1, (4, 3))),
              'hinge': np.sign(rng.uniform(-1, 1, (4, 3)))}.get(name, rng.uniform(0.05, 1, (4, 3)))
    out, backward = vjp(loss, y_true, y_pred)
    np.testing.assert_allclose(out, loss(y_true, y_pred), rtol=1e-12)
    np.testing.assert_allclose(backward(np.ones(4))[1], loss.backward(y_true, y_pred),
                               rtol=1e-9, atol=1e-12)


KERAS_OPS = [
    ('square', K.square, None), ('abs', K.abs, 'away_from_zero'), ('sqrt', K.sqrt, 'positive'),
    ('exp', K.exp, None), ('log', K.log, 'positive'), ('pow', lambda x: K.pow(x, 3), None),
    ('sin', K.sin, None), ('cos', K.cos, None), ('tanh', K.tanh, None),
    ('sigmoid', K.sigmoid, None), ('hard_sigmoid', lambda x: K.hard_sigmoid(x * 2), None),
    ('softplus', K.softplus, None), ('softsign', K.softsign, None),
    ('relu', K.relu, 'away_from_zero'),
    ('relu alpha max', lambda x: K.relu(x, alpha=0.1, max_value=0.8), 'away_from_zero'),
    ('elu', K.elu, 'away_from_zero'), ('elu alpha', lambda x: K.elu(x, 0.5), 'away_from_zero'),
    ('softmax', K.softmax, None),
    ('clip', lambda x: K.clip(x, -0.5, 0.5), None),
    ('maximum', lambda x: K.maximum(x, 0.1), None), ('minimum', lambda x: K.minimum(x, 0.1), None),
    ('var', lambda x: K.var(x, axis=-1), None), ('min', lambda x: K.min(x, axis=0), None),
    ('transpose', K.transpose, None),
    ('permute_dimensions', lambda x: K.permute_dimensions(x, (2, 0, 1)), None),
    ('reshape', lambda x: K.reshape(x, (-1, x.shape[-1])), None),
    ('flatten', K.flatten, None), ('batch_flatten', K.batch_flatten, None),
    ('expand_dims', lambda x: K.expand_dims(x, 1), None),
    ('squeeze', lambda x: K.squeeze(K.expand_dims(x), -1), None),
    ('repeat', lambda x: K.repeat(x[:, 0], 3), None),
    ('repeat_elements', lambda x: K.repeat_elements(x, 2, axis=1), None),
    ('tile', lambda x: K.tile(x, (1, 2, 1)), None),
    ('concatenate', lambda x: K.concatenate([x, x * 2]), None),
    ('stack', lambda x: K.stack([x, x ** 2]), None),
    ('reverse', lambda x: K.reverse(x, [0, 2]), None),
    ('gather', lambda x: K.gather(x, np.array([1, 1, 0])), None),
    ('switch tensor', lambda x: K.switch(x > 0, x, -2 * x), 'away_from_zero'),
    ('switch scalar', lambda x: K.switch(1, lambda: x * 2, lambda: x), None),
    ('in_train_phase', lambda x: K.in_train_phase(x * 0.5, x), None),
    ('in_test_phase', lambda x: K.in_test_phase(lambda: x * 0.5, x), None),
    ('cast', lambda x: K.cast(K.cast(x, 'float32'), 'float64') * 0 + x * 2, None),
    ('temporal_padding', K.temporal_padding, None),
    ('asymmetric_temporal_padding', lambda x: K.asymmetric_temporal_padding(x, 0, 2), None),
    ('spatial_2d_padding', lambda x: K.spatial_2d_padding(x[None], dim_ordering='th'), None),
    ('asymmetric_spatial_2d_padding tf',
     lambda x: K.asymmetric_spatial_2d_padding(x[None], 1, 0, 0, 2, 'tf'), None),
    ('resize_images', lambda x: K.resize_images(x[None], 2, 1, 'th'), None),
    ('map_fn', lambda x: K.map_fn(lambda row: K.sum(row ** 2), x), None),
    ('foldl', lambda x: K.foldl(lambda acc, row: acc * row, x), None),
    ('foldr', lambda x: K.foldr(lambda acc, row: acc + row ** 2, x, initializer=x[0]), None),
    ('batch_normalization', lambda x: K.batch_normalization(x, 0.2, 1.5, x[0, 0], x[1, 1]), None),
    ('normalize_batch_in_training', lambda x: K.normalize_batch_in_training(
        x, x[0, 0] + 1, x[0, 1], [0, 1])[0], None),
]


@pytest.mark.parametrize('name,function,domain', KERAS_OPS, ids=[k[0] for k in KERAS_OPS])
def test_keras_backend_gradients(name, function, domain):
    check_gradients(function, normal((3, 2, 4), 11, domain))


@FAST
@given(seed=seeds, data=st.data())
def test_batch_dot_against_einsum(seed, data):
    case = data.draw(st.sampled_from([
        ((3, 4), (3, 4), 1, 'bi,bi->b', (3, 1)),
        ((3, 2, 4), (3, 4, 5), None, 'bij,bjk->bik', (3, 2, 5)),
        ((3, 4), (3, 5, 4), (1, 2), 'bi,bji->bj', (3, 5)),
        ((3, 4, 1), (3, 5, 4), [1, 2], 'bic,bji->bcj', (3, 1, 5)),
        ((3, 2, 4), (3, 2, 5), (1, 1), 'bij,bik->bjk', (3, 4, 5)),
        ((3, 2, 4), (3, 4, 2), ([1, 2], [2, 1]), 'bij,bji->b', (3, 1)),
    ]))
    x_shape, y_shape, axes, spec, out_shape = case
    x, y = normal(x_shape, seed), normal(y_shape, seed + 1)
    expected = np.einsum(spec, x, y).reshape(out_shape)
    np.testing.assert_allclose(K.batch_dot(x, y, axes), expected, rtol=1e-12, atol=1e-12)
    check_gradients(lambda x, y: K.batch_dot(x, y, axes), x, y)


def test_dot_is_theano_dot_for_nd():
    x, y = normal((2, 3), 0), normal((4, 3, 5), 1)
    assert K.dot(x, y).shape == (2, 4, 5)
    np.testing.assert_allclose(K.dot(x, y), np.einsum('ij,kjl->ikl', x, y), rtol=1e-12)
    x3 = normal((2, 6, 3), 2)
    assert K.dot(x3, normal((3, 4), 3)).shape == (2, 6, 4)


def test_backend_values_variables_and_randomness():
    v = K.variable([[1, 2], [3, 4]])
    assert v.dtype == np.float32 and K.int_shape(v) == (2, 2) and K.dtype(v) == 'float32'
    assert K.ndim(v) == 2 and K.shape(v) == (2, 2) and K.count_params(v) == 4
    K.set_value(v, np.zeros((2, 2)))
    np.testing.assert_array_equal(K.get_value(v), np.zeros((2, 2)))
    assert K.get_value(v) is not v and K.eval(K.ones((2,))).tolist() == [1., 1.]
    with pytest.raises(ValueError, match='shape'):
        K.set_value(v, np.zeros(3))
    with pytest.raises(TypeError, match='K.variable'):
        K.set_value(0.01, 0.1)
    assert K.zeros((2, 3)).dtype == np.float32 and K.eye(3).trace() == 3
    assert K.zeros_like(np.ones(3, dtype=np.float64)).dtype == np.float64
    assert K.cast(np.array([1.7]), 'int32').dtype == np.int32
    assert K.equal(np.array([1., 2.]), 2.).tolist() == [False, True]
    assert K.lesser_equal(np.array([1., 2.]), 1.).tolist() == [True, False]
    assert K.argmax(np.array([[1., 3., 2.]])).tolist() == [1]
    assert K.round(np.array([0.5, 1.5, 2.5])).tolist() == [0., 2., 2.]
    assert K.any(np.array([0., 1.])) and not K.all(np.array([0., 1.]))
    assert K.arange(3).tolist() == [0, 1, 2] and K.arange(3).dtype == np.int32
    np.testing.assert_array_equal(K.one_hot(np.array([1, 0]), 3), [[0, 1, 0], [1, 0, 0]])
    assert K.in_top_k(np.array([[.1, .5, .4], [.7, .2, .1]]), np.array([2, 2]), 2).tolist() \
        == [True, False]
    assert K.sqrt(np.array([-1., 4.])).tolist() == [0., 2.]
    assert K.clip(np.array([0., 5.]), 1., 0.5).tolist() == [1., 1.]   # max < min -> min
    for sample in (K.random_normal((2, 3), 1., 2.), K.random_uniform((2, 3), -1., 1.),
                   K.random_binomial((2, 3), p=0.5)):
        assert sample.shape == (2, 3) and sample.dtype == np.float32
    assert set(np.unique(K.random_binomial((50,), 0.5))) <= {0., 1.}
    np.testing.assert_array_equal(K.random_normal((3,), seed=5), K.random_normal((3,), seed=5))
    kept = K.dropout(np.ones(1000, dtype=np.float32), 0.25, seed=1)
    assert set(np.unique(kept)) <= {0., np.float32(1 / 0.75)} and 650 < np.count_nonzero(kept) < 850
    softmax = K.softmax(np.array([[1., 2., 3.], [1000., 1000., 0.]]))
    np.testing.assert_allclose(softmax.sum(-1), 1.)
    np.testing.assert_allclose(K.sigmoid(np.array([-800., 0., 800.])), [0., .5, 1.])
    np.testing.assert_allclose(K.softplus(np.array([-800., 0., 800.])), [0., np.log(2), 800.])


def test_learning_phase():
    # outside a run of the graph it is the graph's symbolic input, as in Keras;
    # eager choices between arrays take the test phase
    assert K.is_keras_tensor(K.learning_phase()) and K.learning_phase().shape == ()
    assert K.in_train_phase(1, 2) == 2 and K.in_test_phase(1, 2) == 1
    with K.learning_phase_scope(1):
        assert K.learning_phase() == 1 and K.in_train_phase(lambda: 1, 2) == 1
    with K.learning_phase_scope(0):
        assert K.learning_phase() == 0
    try:
        K.set_learning_phase(1)
        with K.learning_phase_scope(0):
            assert K.learning_phase() == 1      # fixed by the user: the loop cannot change it
        with pytest.raises(ValueError):
            K.set_learning_phase(2)
    finally:
        K._LEARNING_PHASE = None


def test_backend_functions_keep_float32():
    x = np.random.RandomState(0).uniform(0.1, 1., (4, 3)).astype(np.float32)
    t = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    for result in (K.categorical_crossentropy(x, t), K.binary_crossentropy(x, t), K.softmax(x),
                   K.sigmoid(x), K.relu(x), K.elu(x), K.softplus(x), K.hard_sigmoid(x),
                   K.l2_normalize(x, -1), K.sqrt(x), K.mean(x), K.std(x, 0), K.clip(x, 0, 1)):
        assert np.asarray(result).dtype == np.float32


# ---------------------------------------------------------------------------
# What cannot be traced


UNSUPPORTED = [
    ('np.sort', lambda x: np.sort(x)),
    ('np.linalg.svd', lambda x: np.linalg.svd(x)),
    ('np.einsum', lambda x: np.einsum('ij->i', x)),
    ('np.cumprod', lambda x: np.cumprod(x)),
    ('np.spacing', lambda x: np.spacing(x)),
    ('np.add.accumulate', lambda x: np.add.accumulate(x)),
    ('np.pad', lambda x: np.pad(x, 1, mode='reflect')),
]


@pytest.mark.parametrize('name,function', UNSUPPORTED, ids=[u[0] for u in UNSUPPORTED])
def test_unsupported_operations_raise_a_clear_type_error(name, function):
    with pytest.raises(TypeError, match='%s.*gradient cannot be traced' % name.replace('.', r'\.')):
        vjp(function, np.ones((2, 3)))


@pytest.mark.parametrize('function,message', [
    (lambda x: np.asarray(x), 'converted to a plain NumPy array'),
    (lambda x: np.array([x[0], x[1]]), 'converted to a plain NumPy array'),
    (lambda x: float(np.sum(x)), r'float\(\)'),
    (lambda x: np.sum(x).item(), r'\.item\(\)'),
    (lambda x: x + [x, x], 'converted to a plain NumPy array'),
    (lambda x: np.add(np.zeros(3), x, out=np.zeros(3)), 'out='),
    (lambda x: K.get_value(x), 'get_value'),
    (lambda x: K.eval(x), 'eval'),
], ids=['asarray', 'array of traced', 'float', 'item', 'list operand', 'out', 'get_value', 'eval'])
def test_conversions_that_would_cut_the_gradient_raise(function, message):
    with pytest.raises(TypeError, match=message):
        vjp(function, np.ones(3))


def test_in_place_updates_raise():
    def write(x):
        x[0] = 1.
        return x
    with pytest.raises(TypeError, match='item assignment'):
        vjp(write, np.ones(3))

    def accumulate(x):
        total = np.zeros(3)
        total += x
        return total
    with pytest.raises(TypeError, match='gradient cannot be traced'):
        vjp(accumulate, np.ones(3))


def test_supported_operations_lists_the_brief():
    names = set(autodiff.supported_operations())
    for name in ('sum', 'mean', 'max', 'min', 'clip', 'exp', 'log', 'sqrt', 'square',
                 'absolute', 'maximum', 'minimum', 'tanh', 'where', 'dot', 'matmul',
                 'concatenate', 'stack', 'reshape', 'transpose', 'expand_dims', 'squeeze',
                 'log1p', 'expm1', 'power', 'sign', 'greater'):
        assert 'np.' + name in names, name


def test_backward_of_graph_values_hands_out_arrays_of_their_own():
    # vjp_of_values traces without copying its inputs; each gradient it
    # returns is still an array of its own, free to change in place
    a, b = np.ones(3, 'float32'), np.ones(3, 'float32')
    y, backward = autodiff.vjp_of_values(lambda x, z: (x + z) * np.float32(2.), a, b)
    np.testing.assert_array_equal(y, 4.)
    dy = np.ones(3, 'float32')
    ga, gb = backward(dy)
    assert not np.may_share_memory(ga, gb) and not np.may_share_memory(ga, dy)
    ga += 1.
    np.testing.assert_array_equal(gb, 2.)
    g = autodiff.vjp_of_values(lambda x: x, a)[1](dy)[0]
    assert not np.may_share_memory(g, dy)
    np.testing.assert_array_equal(g, 1.)
