"""The operations half of Keras 1's backend (`from keras import backend as K`),
on NumPy.

Every function takes plain NumPy arrays or traced values
(`minikeras.autodiff.Tensor`) and computes with NumPy, so the same code gives
an eager result on arrays and a differentiable one inside `autodiff.vjp`: a
custom loss, a `Lambda` layer or a `merge(mode=callable)` written with `K.*`
gets its gradient for free. Names, signatures and semantics follow Keras
1.2.2 (the Theano backend where the two backends differ: `K.dot` on N-D
tensors, `K.batch_dot`, crossentropy clipping with `epsilon`).

Every function also takes Keras tensors (`Input`, layer outputs,
`placeholder`): then it returns a Keras tensor, a node of the same graph as
the layers (`minikeras.engine.operation`), which `function` evaluates and
`gradients` differentiates. `rnn` is a Python loop over time of the step
function, so a recurrent layer's `step()` written with `K.*` is traced like
any other code. The convolutions and the CTC helpers are not provided.

A Keras "variable" is a NumPy array (of `floatx()` by default):
`set_value` writes into it in place, so it must keep its shape. The learning
phase is a plain 0 (test) or 1 (train): the training loop sets it around each
pass with `learning_phase_scope`, and `set_learning_phase` fixes it for good,
as in Keras.
"""
import builtins
import contextlib
import functools

import numpy as np

from .autodiff import is_traced, stop_gradient as _plain_value
from .kernels import elementwise as _elementwise

__all__ = [
    # variables and values
    'variable', 'is_sparse', 'to_dense', 'shape', 'int_shape', 'ndim', 'dtype', 'eval',
    'zeros', 'ones', 'eye', 'zeros_like', 'ones_like', 'random_uniform_variable',
    'random_normal_variable', 'count_params', 'cast', 'update', 'update_add', 'update_sub',
    'moving_average_update', 'get_value', 'batch_get_value', 'set_value', 'batch_set_value',
    'get_variable_shape', 'print_tensor', 'stop_gradient', 'placeholder', 'constant',
    'function', 'gradients', 'is_keras_tensor',
    # linear algebra
    'dot', 'batch_dot', 'transpose', 'gather',
    # element-wise and reductions
    'max', 'min', 'sum', 'prod', 'mean', 'std', 'var', 'any', 'all', 'argmax', 'argmin',
    'square', 'abs', 'sqrt', 'exp', 'log', 'round', 'sign', 'pow', 'clip', 'equal',
    'not_equal', 'greater', 'greater_equal', 'lesser', 'lesser_equal', 'maximum', 'minimum',
    'sin', 'cos', 'normalize_batch_in_training', 'batch_normalization',
    # shapes
    'concatenate', 'reshape', 'permute_dimensions', 'repeat_elements', 'resize_images',
    'resize_volumes', 'repeat', 'arange', 'tile', 'flatten', 'batch_flatten', 'expand_dims',
    'squeeze', 'temporal_padding', 'asymmetric_temporal_padding', 'spatial_2d_padding',
    'asymmetric_spatial_2d_padding', 'spatial_3d_padding', 'stack', 'one_hot', 'reverse',
    # control flow and learning phase
    'learning_phase', 'set_learning_phase', 'learning_phase_scope', 'switch',
    'in_train_phase', 'in_test_phase', 'map_fn', 'foldl', 'foldr', 'rnn',
    # neural network operations
    'relu', 'elu', 'softmax', 'softplus', 'softsign', 'categorical_crossentropy',
    'sparse_categorical_crossentropy', 'binary_crossentropy', 'sigmoid', 'hard_sigmoid',
    'tanh', 'dropout', 'l2_normalize', 'in_top_k',
    # randomness
    'random_normal', 'random_uniform', 'random_binomial',
]


# Settings live in minikeras.backend, which re-exports this module: read them
# at call time so that neither module needs the other while it is imported.

def _floatx():
    from . import backend
    return backend.floatx()


def _epsilon():
    from . import backend
    return backend.epsilon()


def _image_dim_ordering():
    from . import backend
    return backend.image_dim_ordering()


def _axis(axis):
    """Keras accepts a list of axes where NumPy wants a tuple."""
    return tuple(axis) if isinstance(axis, list) else axis


def _kind(x):
    return np.asarray(_plain_value(x)).dtype.kind


def _no_traced(name, x):
    if is_traced(x):
        raise TypeError('%s() reads the value of a variable, but got a traced value (an '
                        'expression inside a function being differentiated): its value would '
                        'carry no gradient, so the gradient cannot be traced. Use the '
                        'expression itself, or K.stop_gradient to drop its gradient on purpose.'
                        % name)


# ---------------------------------------------------------------------------
# Variables and values


def variable(value, dtype=None, name=None):
    """Instantiates a variable: a NumPy array holding a copy of `value`.

    # Arguments
        value: NumPy array (or anything array-like, or a SciPy sparse matrix,
            made dense), the initial value.
        dtype: the array's type, `floatx()` when None.
        name: ignored (Keras names graph nodes; arrays have no names).
    """
    _no_traced('variable', value)
    if hasattr(value, 'toarray'):
        value = value.toarray()
    return np.array(value, dtype=dtype or _floatx())


def is_sparse(tensor):
    """True for a SciPy sparse matrix; minikeras computes on dense arrays."""
    return hasattr(tensor, 'tocoo') and not isinstance(tensor, np.ndarray)


def to_dense(tensor):
    """A dense NumPy array for a sparse matrix; other values unchanged."""
    return tensor.toarray() if is_sparse(tensor) else tensor


def shape(x):
    """The shape of a tensor, as a tuple of ints."""
    return np.shape(x)


def int_shape(x):
    """The shape of a tensor or variable, as a tuple of ints."""
    return tuple(int(n) for n in np.shape(x))


def ndim(x):
    """The number of axes of a tensor."""
    return np.ndim(x)


def dtype(x):
    """The dtype of a tensor, as a string ('float32')."""
    return np.asarray(_plain_value(x)).dtype.name


def eval(x):
    """The value of a tensor or variable, as a NumPy array."""
    _no_traced('eval', x)
    return np.array(to_dense(x))


def zeros(shape, dtype=None, name=None):
    """A variable filled with zeros."""
    return np.zeros(shape, dtype=dtype or _floatx())


def ones(shape, dtype=None, name=None):
    """A variable filled with ones."""
    return np.ones(shape, dtype=dtype or _floatx())


def eye(size, dtype=None, name=None):
    """An identity matrix variable."""
    return np.eye(size, dtype=dtype or _floatx())


def zeros_like(x, dtype=None, name=None):
    """Zeros with the shape of x (and its dtype unless `dtype` is given)."""
    return np.zeros(np.shape(x), dtype=dtype or np.asarray(_plain_value(x)).dtype)


def ones_like(x, dtype=None, name=None):
    """Ones with the shape of x (and its dtype unless `dtype` is given)."""
    return np.ones(np.shape(x), dtype=dtype or np.asarray(_plain_value(x)).dtype)


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """A variable drawn from U(low, high) (NumPy's global generator unless `seed`)."""
    return variable(_rng(seed).uniform(low, high, size=shape), dtype=dtype)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """A variable drawn from N(mean, scale**2) (NumPy's global generator unless `seed`)."""
    return variable(_rng(seed).normal(mean, scale, size=shape), dtype=dtype)


def count_params(x):
    """The number of scalars in a tensor."""
    return int(np.prod(np.shape(x)))


def cast(x, dtype):
    """x converted to `dtype`; a cast to an integer type carries no gradient."""
    if is_traced(x):
        return x.astype(dtype)
    return np.asarray(x).astype(dtype)


def update(x, new_x):
    return (x, new_x)


def update_add(x, increment):
    return (x, x + increment)


def update_sub(x, decrement):
    return (x, x - decrement)


def moving_average_update(variable, value, momentum):
    return (variable, variable * momentum + value * (1. - momentum))


def get_value(x):
    """A copy of the value of a variable, as a NumPy array."""
    _no_traced('get_value', x)
    return np.array(to_dense(x))


def batch_get_value(xs):
    """The values of several variables, as a list of NumPy arrays."""
    return [get_value(x) for x in xs]


def set_value(x, value):
    """Writes `value` into the variable `x` (a NumPy array), in place.

    # Raises
        TypeError: when x is not a NumPy array (a Python float, for instance).
        ValueError: when the new value has another shape.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError('set_value() writes into a variable made by K.variable (a NumPy '
                        'array), got %s. Make the value a variable first, e.g. '
                        'x = K.variable(%r).' % (type(x).__name__, x))
    value = np.asarray(value, dtype=x.dtype)
    if value.shape != x.shape:
        raise ValueError('set_value(): the variable has shape %s but the new value has shape '
                         '%s; a variable is updated in place, so its shape cannot change.'
                         % (x.shape, value.shape))
    x[...] = value


def batch_set_value(tuples):
    """`set_value` for every (variable, value) pair."""
    for x, value in tuples:
        set_value(x, value)


def get_variable_shape(x):
    return np.shape(x)


def print_tensor(x, message=''):
    """Prints `message` and the value of x, and returns x unchanged."""
    print(message, _plain_value(x))
    return x


def stop_gradient(variables):
    """The value(s) without their gradient: nothing flows back through them."""
    return _plain_value(variables)


# ---------------------------------------------------------------------------
# Linear algebra


def dot(x, y):
    """Matrix product; for N-D tensors Theano's `dot`: it sums over the last
    axis of x and the second-to-last of y, so (2, 3) . (4, 3, 5) -> (2, 4, 5)."""
    return np.dot(x, y)


def batch_dot(x, y, axes=None):
    """Batchwise dot product: for every sample i, the dot product of x[i] and
    y[i] summed over `axes` (Theano's `batched_tensordot`).

    # Arguments
        x, y: tensors with ndim >= 2, the same batch size on axis 0.
        axes: int, or a pair (axes of x, axes of y), each an int or a list
            of ints; None is (x.ndim - 1, y.ndim - 2) (a batched matmul),
            and (1, 1) for two matrices.

    # Returns
        A tensor of shape x's free axes + y's free axes (after the batch
        axis); of shape (batch, 1) when that leaves one axis.
    """
    nx, ny = ndim(x), ndim(y)
    if nx < 2 or ny < 2:
        raise ValueError('batch_dot needs tensors with at least 2 axes, got %d and %d axes'
                         % (nx, ny))
    from .compat import version
    if builtins.max(nx, ny) > 3 and version.is_keras_2():
        from . import backend_keras2    # Keras 2.2.4 batches over the leading axes there
        return backend_keras2.batch_dot(x, y, axes)
    if isinstance(axes, int):
        axes = (axes, axes)
    if axes is None:
        axes = (nx - 1, ny - 2 if ny > 2 else ny - 1)
    ax_x = [a % nx for a in (axes[0] if isinstance(axes[0], (list, tuple)) else [axes[0]])]
    ax_y = [a % ny for a in (axes[1] if isinstance(axes[1], (list, tuple)) else [axes[1]])]
    if 0 in ax_x or 0 in ax_y:
        raise ValueError('batch_dot cannot sum over the batch axis 0; got axes %r' % (axes,))
    sx, sy = shape(x), shape(y)
    free_x = [i for i in range(1, nx) if i not in ax_x]
    free_y = [i for i in range(1, ny) if i not in ax_y]

    def size(s, dims):
        return int(np.prod([s[i] for i in dims]))
    xt = np.reshape(np.transpose(x, [0] + free_x + ax_x),
                    (sx[0], size(sx, free_x), size(sx, ax_x)))
    yt = np.reshape(np.transpose(y, [0] + ax_y + free_y),
                    (sy[0], size(sy, ax_y), size(sy, free_y)))
    out = np.reshape(np.matmul(xt, yt),
                     (sx[0],) + tuple(sx[i] for i in free_x) + tuple(sy[i] for i in free_y))
    if ndim(out) == 1:
        out = expand_dims(out, 1)
    return out


def transpose(x):
    """Reverses the axes of x."""
    return np.transpose(x)


def gather(reference, indices):
    """The rows `indices` of `reference` (`reference[indices]`)."""
    indices = np.asarray(_plain_value(indices))
    if indices.dtype.kind == 'f':
        indices = indices.astype('int64')
    return reference[indices]


# ---------------------------------------------------------------------------
# Element-wise operations and reductions


def max(x, axis=None, keepdims=False):
    """Maximum over `axis` (an int, a list of ints, or None for all)."""
    return np.max(x, axis=_axis(axis), keepdims=keepdims)


def min(x, axis=None, keepdims=False):
    """Minimum over `axis`."""
    return np.min(x, axis=_axis(axis), keepdims=keepdims)


def sum(x, axis=None, keepdims=False):
    """Sum over `axis`."""
    return np.sum(x, axis=_axis(axis), keepdims=keepdims)


def prod(x, axis=None, keepdims=False):
    """Product over `axis`."""
    return np.prod(x, axis=_axis(axis), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean over `axis`; integer and bool tensors are averaged as floatx."""
    if _kind(x) in 'biu':
        x = cast(x, _floatx())
    return np.mean(x, axis=_axis(axis), keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """Standard deviation over `axis` (population, ddof=0)."""
    return np.std(x, axis=_axis(axis), keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    """Variance over `axis` (population, ddof=0)."""
    return np.var(x, axis=_axis(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    """Logical OR over `axis` (a bool array, no gradient)."""
    return np.any(_plain_value(x), axis=_axis(axis), keepdims=keepdims)


def all(x, axis=None, keepdims=False):
    """Logical AND over `axis` (a bool array, no gradient)."""
    return np.all(_plain_value(x), axis=_axis(axis), keepdims=keepdims)


def argmax(x, axis=-1):
    return np.argmax(_plain_value(x), axis=axis)


def argmin(x, axis=-1):
    return np.argmin(_plain_value(x), axis=axis)


def square(x):
    return np.square(x)


def abs(x):
    return np.abs(x)


def sqrt(x):
    """sqrt(max(x, 0)), as Keras clips before the square root."""
    return np.sqrt(np.clip(x, 0., np.inf))


def exp(x):
    return np.exp(x)


def log(x):
    return np.log(x)


def round(x):
    """Rounds half to even (no gradient)."""
    return np.round(x)


def sign(x):
    """-1, 0 or 1 (no gradient)."""
    return np.sign(x)


def pow(x, a):
    return np.power(x, a)


def clip(x, min_value, max_value):
    """Clips x to [min_value, max_value]; a max below the min becomes the
    min, and None means no bound."""
    if max_value is not None and min_value is not None and max_value < min_value:
        max_value = min_value
    if max_value is None:
        max_value = np.inf
    if min_value is None:
        min_value = -np.inf
    return np.clip(x, min_value, max_value)


def equal(x, y):
    return np.equal(x, y)


def not_equal(x, y):
    return np.not_equal(x, y)


def greater(x, y):
    return np.greater(x, y)


def greater_equal(x, y):
    return np.greater_equal(x, y)


def lesser(x, y):
    return np.less(x, y)


def lesser_equal(x, y):
    return np.less_equal(x, y)


def maximum(x, y):
    return np.maximum(x, y)


def minimum(x, y):
    return np.minimum(x, y)


def sin(x):
    return np.sin(x)


def cos(x):
    return np.cos(x)


def batch_normalization(x, mean, var, beta, gamma, epsilon=1e-3):
    """(x - mean) / sqrt(var + epsilon) * gamma + beta."""
    return (x - mean) * (gamma / np.sqrt(var + epsilon)) + beta


def normalize_batch_in_training(x, gamma, beta, reduction_axes, epsilon=1e-3):
    """Normalizes x with the mean and variance over `reduction_axes`.

    # Returns
        (normalized x, mean, variance), the statistics with the shape of the
        axes that were kept.
    """
    axes = tuple(a % ndim(x) for a in reduction_axes)
    m = np.mean(x, axis=axes, keepdims=True)
    v = np.var(x, axis=axes, keepdims=True)
    target = tuple(1 if i in axes else n for i, n in enumerate(shape(x)))
    beta = 0. if beta is None else np.reshape(beta, target)
    gamma = 1. if gamma is None else np.reshape(gamma, target)
    kept = tuple(n for i, n in enumerate(shape(x)) if i not in axes)
    normed = batch_normalization(x, m, v, beta, gamma, epsilon)
    return normed, np.reshape(m, kept), np.reshape(v, kept)


# ---------------------------------------------------------------------------
# Shapes


def concatenate(tensors, axis=-1):
    return np.concatenate([to_dense(t) for t in tensors], axis=axis)


def reshape(x, shape):
    return np.reshape(x, tuple(shape))


def permute_dimensions(x, pattern):
    """Transposes x to the axis order `pattern`, e.g. (0, 2, 1)."""
    return np.transpose(x, tuple(pattern))


def repeat_elements(x, rep, axis):
    """Repeats every element `rep` times along `axis`, like np.repeat."""
    return np.repeat(x, rep, axis=axis)


def resize_images(X, height_factor, width_factor, dim_ordering):
    """Repeats the rows and columns of a 4D image batch."""
    if dim_ordering == 'th':
        return repeat_elements(repeat_elements(X, height_factor, 2), width_factor, 3)
    if dim_ordering == 'tf':
        return repeat_elements(repeat_elements(X, height_factor, 1), width_factor, 2)
    raise ValueError('Invalid dim_ordering: %r (expected "th" or "tf")' % (dim_ordering,))


def resize_volumes(X, depth_factor, height_factor, width_factor, dim_ordering):
    """Repeats the three spatial axes of a 5D volume batch."""
    if dim_ordering == 'th':
        first = 2
    elif dim_ordering == 'tf':
        first = 1
    else:
        raise ValueError('Invalid dim_ordering: %r (expected "th" or "tf")' % (dim_ordering,))
    for offset, factor in enumerate((depth_factor, height_factor, width_factor)):
        X = repeat_elements(X, factor, first + offset)
    return X


def repeat(x, n):
    """Repeats a 2D tensor (samples, dim) into (samples, n, dim)."""
    if ndim(x) != 2:
        raise ValueError('repeat expects a 2D tensor (samples, dim), got shape %s'
                         % (shape(x),))
    return np.repeat(np.expand_dims(x, 1), n, axis=1)


def arange(start, stop=None, step=1, dtype='int32'):
    """A 1-D sequence; with one argument it is the stop, as in Theano."""
    if stop is None:
        start, stop = 0, start
    return np.arange(start, stop, step, dtype=dtype)


def tile(x, n):
    return np.tile(x, [n] if isinstance(n, int) else n)


def flatten(x):
    return np.reshape(x, (-1,))


def batch_flatten(x):
    """Flattens every sample: (batch, ...) -> (batch, product of the rest)."""
    s = shape(x)
    return np.reshape(x, (s[0], int(np.prod(s[1:]))))


def expand_dims(x, dim=-1):
    """Adds an axis of length 1 at index `dim` (-1: at the end)."""
    return np.expand_dims(x, dim)


def squeeze(x, axis):
    """Removes the axis `axis`, of length 1."""
    return np.squeeze(x, axis)


def _pad_axes(x, pads):
    widths = [(0, 0)] * ndim(x)
    for axis, pad in pads.items():
        widths[axis] = pad
    return np.pad(x, widths, mode='constant')


def temporal_padding(x, padding=1):
    """Pads the middle axis of a 3D tensor with `padding` zeros on each side."""
    return _pad_axes(x, {1: (padding, padding)})


def asymmetric_temporal_padding(x, left_pad=1, right_pad=1):
    return _pad_axes(x, {1: (left_pad, right_pad)})


def _spatial_axes(dim_ordering, count):
    if dim_ordering == 'default':
        dim_ordering = _image_dim_ordering()
    if dim_ordering == 'th':
        return list(range(2, 2 + count))
    if dim_ordering == 'tf':
        return list(range(1, 1 + count))
    raise ValueError('Invalid dim_ordering: %r (expected "th" or "tf")' % (dim_ordering,))


def spatial_2d_padding(x, padding=(1, 1), dim_ordering='default'):
    """Pads the rows and columns of a 4D tensor with zeros."""
    rows, cols = _spatial_axes(dim_ordering, 2)
    return _pad_axes(x, {rows: (padding[0], padding[0]), cols: (padding[1], padding[1])})


def asymmetric_spatial_2d_padding(x, top_pad=1, bottom_pad=1, left_pad=1, right_pad=1,
                                  dim_ordering='default'):
    rows, cols = _spatial_axes(dim_ordering, 2)
    return _pad_axes(x, {rows: (top_pad, bottom_pad), cols: (left_pad, right_pad)})


def spatial_3d_padding(x, padding=(1, 1, 1), dim_ordering='default'):
    """Pads the three spatial axes of a 5D tensor with zeros."""
    axes = _spatial_axes(dim_ordering, 3)
    return _pad_axes(x, {a: (p, p) for a, p in zip(axes, padding)})


def stack(x):
    """Stacks a list of tensors along a new first axis."""
    return np.stack(list(x))


def one_hot(indices, nb_classes):
    """(..., ) integer indices -> (..., nb_classes) one-hot floats."""
    indices = np.asarray(_plain_value(indices)).astype('int64')
    return np.eye(nb_classes, dtype=_floatx())[indices]


def reverse(x, axes):
    """Reverses x along `axes` (an int or a list)."""
    axes = [axes] if isinstance(axes, int) else list(axes)
    axes = [a % ndim(x) for a in axes]
    return x[tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(ndim(x)))]


# ---------------------------------------------------------------------------
# Control flow and the learning phase


_LEARNING_PHASE = None   # fixed by set_learning_phase, for good
_RUNNING_PHASE = None    # set around each pass of the graph (training loop, K.function)


def learning_phase():
    """The learning phase: while a graph runs, 0 (test) or 1 (train); outside,
    the graph's learning-phase input (a scalar Keras tensor), to feed to
    `K.function` (0 or 1) as in Keras."""
    if _LEARNING_PHASE is not None:
        return _LEARNING_PHASE
    if _RUNNING_PHASE is not None:
        return _RUNNING_PHASE
    from .engine.input_layer import learning_phase_tensor
    return learning_phase_tensor()


def _phase_for(*expressions):
    """The phase to choose with: the running one; outside a run, the symbolic
    one when the choice is between graph tensors, else the test phase."""
    phase = learning_phase()
    if is_keras_tensor(phase) and not _has_keras_tensor(expressions):
        return 0
    return phase


def _given_phase(training):
    if is_keras_tensor(training):
        return _phase_for(training)
    if training not in (0, 1):
        raise ValueError('training must be True, False, 0, 1 or the learning phase, got %r'
                         % (training,))
    return int(training)


def set_learning_phase(value):
    """Fixes the learning phase to 0 (test) or 1 (train) from now on, as in
    Keras: the training loop no longer changes it."""
    global _LEARNING_PHASE
    if value not in (0, 1):
        raise ValueError('Expected learning phase to be 0 or 1, got %r' % (value,))
    _LEARNING_PHASE = int(value)


@contextlib.contextmanager
def learning_phase_scope(value):
    """The learning phase inside a `with` block, for the training loop (1 while
    fitting, 0 while predicting). A phase fixed by `set_learning_phase` wins."""
    global _RUNNING_PHASE
    if value not in (0, 1):
        raise ValueError('Expected learning phase to be 0 or 1, got %r' % (value,))
    previous, _RUNNING_PHASE = _RUNNING_PHASE, int(value)
    try:
        yield
    finally:
        _RUNNING_PHASE = previous


def switch(condition, then_expression, else_expression):
    """then_expression where condition holds, else_expression elsewhere.

    A scalar condition picks one of the two whole (a callable is called only
    when picked); a tensor condition picks element-wise, as Theano's switch.
    """
    c = _plain_value(condition)
    if np.ndim(c) == 0:
        chosen = then_expression if bool(c) else else_expression
        return chosen() if callable(chosen) else chosen
    if callable(then_expression):
        then_expression = then_expression()
    if callable(else_expression):
        else_expression = else_expression()
    return np.where(c, then_expression, else_expression)


def _called(x):
    return x() if callable(x) else x


def _pick(phase, train, test):
    return train if int(np.asarray(phase)) == 1 else test


def in_train_phase(x, alt, training=None):
    """x in the train phase, alt otherwise (callables are called when chosen;
    on graph tensors outside a run, both are, and the choice is in the graph).
    `training` (Keras 2): True, False or 0/1 decide instead of the phase."""
    phase = _phase_for(x, alt) if training is None else _given_phase(training)
    if is_keras_tensor(phase):
        return _symbolic_apply(_pick, (phase, _called(x), _called(alt)), {}, 'K.in_train_phase')
    return _called(x if phase == 1 else alt)


def in_test_phase(x, alt, training=None):
    """x in the test phase, alt otherwise (callables are called when chosen);
    `training` (Keras 2) decides instead of the phase when given."""
    phase = _phase_for(x, alt) if training is None else _given_phase(training)
    if is_keras_tensor(phase):
        return _symbolic_apply(_pick, (phase, _called(alt), _called(x)), {}, 'K.in_test_phase')
    return _called(x if phase == 0 else alt)


def map_fn(fn, elems, name=None):
    """fn applied to every element of elems along axis 0, stacked."""
    return np.stack([fn(e) for e in elems])


def foldl(fn, elems, initializer=None, name=None):
    """Reduces elems along axis 0 from the left with fn(accumulator, element)."""
    items = list(elems)
    acc, items = (items[0], items[1:]) if initializer is None else (initializer, items)
    for item in items:
        acc = fn(acc, item)
    return acc


def foldr(fn, elems, initializer=None, name=None):
    """Reduces elems along axis 0 from the right with fn(accumulator, element)."""
    return foldl(fn, list(elems)[::-1], initializer)


def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None,
        unroll=False, input_length=None):
    """Iterates `step_function` over the time axis of `inputs`, as Keras 1.2.2's `K.rnn`.

    # Arguments
        step_function: `output, new_states = step_function(input_t, states)`,
            with `input_t` of shape (samples, ...) and `states` the list of
            the current states followed by `constants`.
        inputs: tensor (samples, time, ...).
        initial_states: list of tensors (samples, ...).
        go_backwards: iterate from the last timestep to the first; the
            outputs are then in that (reversed) order, as in Keras 1.
        mask: (samples, time) booleans, True where a step is real. At a
            masked step the states are kept and the output is the previous
            output (zeros before the first real step).
        constants: list of tensors passed to every step after the states.
        unroll, input_length: accepted for Keras 1 compatibility (the loop
            is always a Python loop).

    # Returns
        `(last_output, outputs, new_states)`: the output of the last step
        (samples, ...), all outputs (samples, time, ...), and the last states.
    """
    if ndim(inputs) < 3:
        raise ValueError('K.rnn: inputs must have at least 3 dimensions (samples, time, ...), '
                         'got shape %s' % (shape(inputs),))
    steps = shape(inputs)[1]
    if steps == 0:
        raise ValueError('K.rnn: inputs have no timesteps (shape %s)' % (shape(inputs),))
    constants = list(constants or [])
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    if mask is not None:
        mask = np.asarray(_plain_value(mask)).astype(bool)
        if mask.shape != tuple(shape(inputs)[:2]):
            raise ValueError('K.rnn: the mask has shape %s, expected (samples, time) = %s'
                             % (mask.shape, tuple(shape(inputs)[:2])))
    states = list(initial_states)
    outputs = []
    previous = None
    for t in order:
        output, new_states = step_function(inputs[:, t], states + constants)
        new_states = list(new_states)
        if len(new_states) != len(states):
            raise ValueError('K.rnn: the step function returned %d states, expected %d'
                             % (len(new_states), len(states)))
        if mask is not None:
            real = mask[:, t].reshape((-1,) + (1,) * (ndim(output) - 1))
            previous = output * 0. if previous is None else previous
            output = np.where(real, output, previous)
            new_states = [np.where(mask[:, t].reshape((-1,) + (1,) * (ndim(new) - 1)), new, old)
                          for new, old in zip(new_states, states)]
        outputs.append(output)
        previous = output
        states = new_states
    return outputs[-1], np.stack(outputs, axis=1), states


# ---------------------------------------------------------------------------
# Neural network operations


def relu(x, alpha=0., max_value=None):
    """max(x, 0), with slope `alpha` below 0 and a ceiling `max_value`."""
    y = np.where(x > 0, x, alpha * x) if alpha else np.where(x > 0, x, 0.)
    if max_value is not None:
        y = np.clip(y, None, max_value)
    return y


def elu(x, alpha=1.0):
    """x above 0, alpha * (exp(x) - 1) below."""
    return np.where(x > 0, x, alpha * np.expm1(np.where(x > 0, 0., x)))


def softmax(x):
    """Softmax over the last axis."""
    shifted = x - np.max(_plain_value(x), axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def softplus(x):
    """log(1 + exp(x)), without overflow."""
    return np.logaddexp(0., x)


def softsign(x):
    return x / (1 + np.abs(x))


def sigmoid(x):
    """1 / (1 + exp(-x)), computed as (1 + tanh(x / 2)) / 2 to avoid overflow
    (on float32 arrays by the compiled kernel, with its tanh)."""
    if _float32_array(x):
        return _elementwise.sigmoid(x)
    return 0.5 * (np.tanh(0.5 * x) + 1.)


def hard_sigmoid(x):
    """clip(0.2 * x + 0.5, 0, 1)."""
    return np.clip(0.2 * x + 0.5, 0., 1.)


def tanh(x):
    """Hyperbolic tangent; of a float32 array by the compiled kernel (within
    3 ulp of the correctly rounded tanh, see kernels/elementwise.py)."""
    if _float32_array(x):
        return _elementwise.tanh(x)
    return np.tanh(x)


def _float32_array(x):
    return type(x) is np.ndarray and x.dtype == np.float32


def categorical_crossentropy(output, target, from_logits=False):
    """-sum(target * log(output)) over the last axis, per sample.

    The output is scaled to sum to 1 (or, `from_logits`, passed through a
    softmax) and clipped to [epsilon, 1 - epsilon], as Keras 1 does.
    """
    if from_logits:
        output = softmax(output)
    else:
        output = output / np.sum(output, axis=-1, keepdims=True)
    eps = _epsilon()
    output = np.clip(output, eps, 1. - eps)
    return -np.sum(target * np.log(output), axis=-1)


def sparse_categorical_crossentropy(output, target, from_logits=False):
    """Categorical crossentropy against integer class indices."""
    labels = np.asarray(_plain_value(target)).reshape(-1).astype('int64')
    one = one_hot(labels, shape(output)[-1]).reshape(shape(output))
    return categorical_crossentropy(output, one, from_logits)


def binary_crossentropy(output, target, from_logits=False):
    """-(target * log(output) + (1 - target) * log(1 - output)), element-wise,
    with the output (after a sigmoid, `from_logits`) clipped to
    [epsilon, 1 - epsilon]."""
    if from_logits:
        output = sigmoid(output)
    eps = _epsilon()
    output = np.clip(output, eps, 1. - eps)
    return -(target * np.log(output) + (1. - target) * np.log(1. - output))


def dropout(x, level, noise_shape=None, seed=None):
    """Zeroes a fraction `level` of x at random and scales the rest by
    1 / (1 - level)."""
    if level < 0. or level >= 1:
        raise ValueError('Dropout level must be in interval [0, 1[, got %r' % (level,))
    retain = 1. - level
    size = shape(x) if noise_shape is None else tuple(noise_shape)
    keep = _rng(seed).binomial(1, retain, size=size).astype(dtype(x))
    return x * keep / retain


def l2_normalize(x, axis):
    """x / sqrt(max(sum(x ** 2, axis), 1e-12)) (TensorFlow's floor on the norm)."""
    return x / np.sqrt(np.maximum(np.sum(np.square(x), axis=axis, keepdims=True), 1e-12))


def in_top_k(predictions, targets, k):
    """Whether each target class is among the k largest predictions (bool)."""
    predictions = np.asarray(_plain_value(predictions))
    targets = np.asarray(_plain_value(targets)).reshape(-1).astype('int64')
    top = np.argsort(predictions, axis=-1)[:, -k:] if k > 0 else \
        np.zeros((len(targets), 0), dtype='int64')
    return np.any(top == targets[:, None], axis=-1)


# ---------------------------------------------------------------------------
# Randomness (no gradient)


def _rng(seed):
    return np.random if seed is None else np.random.RandomState(seed)


def random_normal(shape, mean=0.0, std=1.0, dtype=None, seed=None):
    """Samples of N(mean, std**2) (NumPy's global generator unless `seed`)."""
    return _rng(seed).normal(mean, std, size=shape).astype(dtype or _floatx())


def random_uniform(shape, low=0.0, high=1.0, dtype=None, seed=None):
    """Samples of U(low, high) (NumPy's global generator unless `seed`)."""
    return _rng(seed).uniform(low, high, size=shape).astype(dtype or _floatx())


def random_binomial(shape, p=0.0, dtype=None, seed=None):
    """1 with probability p, else 0 (NumPy's global generator unless `seed`)."""
    return (_rng(seed).uniform(size=shape) < p).astype(dtype or _floatx())



# ---------------------------------------------------------------------------
# The graph: placeholders, constants, functions, gradients


def is_keras_tensor(x):
    """True for a Keras tensor (a node of the graph: Input, layer output,
    placeholder or an expression on them)."""
    return getattr(type(x), '_is_keras_tensor', False)


def _has_keras_tensor(value):
    if is_keras_tensor(value):
        return True
    if isinstance(value, (list, tuple)):
        return builtins.any(_has_keras_tensor(v) for v in value)
    if isinstance(value, dict):
        return builtins.any(_has_keras_tensor(v) for v in value.values())
    return False


def _symbolic_apply(function, args, kwargs, name):
    from .engine.operation import apply
    return apply(function, args, kwargs, name)


def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None):
    """A graph input to feed through `K.function`.

    # Arguments
        shape: the full shape, batch axis included (None for unknown sizes).
        ndim: the number of axes, when the shape is not given.
        dtype: its type, `floatx()` by default.
        name: its name.
    """
    if shape is None:
        if ndim is None:
            raise ValueError('K.placeholder needs shape or ndim')
        shape = (None,) * int(ndim)
    from .engine.input_layer import Input
    return Input(batch_shape=tuple(shape), dtype=dtype or _floatx(), name=name)


def constant(value, dtype=None, shape=None, name=None):
    """A constant array (`value` broadcast to `shape` when given)."""
    array = np.asarray(value, dtype=dtype or _floatx())
    if shape is not None:
        array = np.array(np.broadcast_to(array, tuple(shape)))
    return array


def function(inputs, outputs, updates=None, **kwargs):
    """A callable evaluating `outputs` from values of `inputs` (a list of
    Keras tensors, `K.learning_phase()` among them if wanted), then applying
    `updates` ((variable, new value) pairs)."""
    from .engine.functions import function as make_function
    return make_function(inputs, outputs, updates=updates, **kwargs)


def gradients(loss, variables):
    """The gradients (Keras tensors) of the scalar Keras tensor `loss` with
    respect to `variables`: Keras tensors, layer weights or `K.variable`s."""
    from .engine.functions import gradients as graph_gradients
    return graph_gradients(loss, variables)


def _graph_aware(function, name=None, on_graph=None):
    """`function` that builds a graph node (named `name`, of `on_graph`, by
    default `function` itself) when one of its arguments is a Keras tensor,
    and computes on values otherwise."""
    name = name or 'K.' + function.__name__
    on_graph = on_graph or function

    @functools.wraps(function)
    def graph_aware(*args, **kwargs):
        # arrays alone (every batch of a model) need no search for graph tensors
        if (kwargs or not builtins.all(type(a) is np.ndarray for a in args)) and \
                (_has_keras_tensor(args) or _has_keras_tensor(kwargs)):
            return _symbolic_apply(on_graph, args, kwargs, name)
        return function(*args, **kwargs)
    return graph_aware


def _static(function, on_tensor):
    @functools.wraps(function)
    def static(x, *args, **kwargs):
        if is_keras_tensor(x):
            return on_tensor(x)
        return function(x, *args, **kwargs)
    return static


# Functions of values only (variables, settings) stay as they are; those that
# read a static property answer it for a Keras tensor; the rest build graph
# nodes when given Keras tensors.
_VALUE_ONLY = {'variable', 'is_sparse', 'to_dense', 'zeros', 'ones', 'eye',
               'random_uniform_variable', 'random_normal_variable', 'get_value',
               'batch_get_value', 'set_value', 'batch_set_value', 'learning_phase',
               'set_learning_phase', 'learning_phase_scope', 'in_train_phase', 'in_test_phase',
               'placeholder', 'constant', 'function', 'gradients', 'is_keras_tensor', 'update',
               'update_add', 'update_sub', 'moving_average_update', 'eval'}
int_shape = _static(int_shape, lambda x: tuple(x.shape))
get_variable_shape = _static(get_variable_shape, lambda x: tuple(x.shape))
ndim = _static(ndim, lambda x: len(x.shape))
dtype = _static(dtype, lambda x: x.dtype)
count_params = _static(count_params, lambda x: int(np.prod(x.shape)))
_STATIC = {'int_shape', 'get_variable_shape', 'ndim', 'dtype', 'count_params'}
for _name in __all__:
    if _name not in _VALUE_ONLY and _name not in _STATIC:
        globals()[_name] = _graph_aware(globals()[_name])


def _eval_tensor(x):
    return function([], [x])([])[0]


eval = _static(eval, _eval_tensor)
