"""Reverse-mode automatic differentiation for NumPy code.

minikeras's layers and losses have hand-written backward passes, but legacy
scripts also hand Keras their own functions written with the backend
(`K.mean(K.square(y_pred - y_true), axis=-1)`), with NumPy operators
(`lambda x: x ** 2 + 1`, `x[:, 0]`) or NumPy functions (`np.tanh(x)`). This
module differentiates such functions by running them once on traced values.

A `Tensor` wraps a NumPy array and records, for every operation made on it,
which values it came from and how to send a gradient back to them
(micrograd's design, for arrays). NumPy ufuncs reach it through
`__array_ufunc__`, NumPy functions (`np.sum`, `np.where`, `np.concatenate`...)
through `__array_function__`, so plain NumPy code runs unchanged. The forward
values are ordinary NumPy results, so dtypes follow NumPy (float32 stays
float32), and every gradient has the shape and dtype of the value it is for.

An operation without a gradient rule raises a TypeError that names it: a
traced value never silently turns into a plain array, since the gradient
would then be wrong. Operations whose derivative is zero almost everywhere
(comparisons, `np.sign`, `np.floor`, `np.round`, `np.argmax`, casts to
integers) return plain NumPy arrays: nothing flows back through them.

# Example

```python
    from minikeras.autodiff import vjp
    y, backward = vjp(lambda t, p: np.mean(np.square(p - t), axis=-1), y_true, y_pred)
    d_true, d_pred = backward(np.ones_like(y))
```
"""
import math
import numbers
import operator

import numpy as np

__all__ = ['Tensor', 'vjp', 'value_and_grad', 'stop_gradient', 'is_traced',
           'supported_operations']


def _untraceable(what, hint=''):
    return TypeError(
        '%s is not supported on traced values, so the gradient cannot be traced through it '
        '(minikeras.autodiff has no derivative for it).%s Rewrite the function with supported '
        'operations (see minikeras.autodiff.supported_operations()), or give the layer or '
        'loss a hand-written backward.' % (what, ' ' + hint if hint else ''))


# ---------------------------------------------------------------------------
# The traced value and the backward pass


class Tensor(object):
    """A NumPy array that records the operations made on it.

    Made by `vjp` and `value_and_grad` for the arrays they differentiate with
    respect to; every operation on a `Tensor` returns a new `Tensor` (or a
    plain array, for operations without a gradient). It has the read-only
    face of an array: `shape`, `ndim`, `size`, `dtype`, `T`, indexing,
    arithmetic and the common methods (`sum`, `mean`, `reshape`, `astype`...).
    It cannot be written into, and cannot be turned into a plain array
    (`np.asarray`, `float`), since either would cut the gradient.
    """
    __slots__ = ('value', '_op', '_edges')
    __array_priority__ = 1000.0
    __hash__ = None

    def __init__(self, value, op='input', edges=()):
        self.value = value
        self._op = op
        # (parent Tensor, function from the output gradient to the parent's)
        self._edges = edges

    # -- array attributes --------------------------------------------------
    @property
    def shape(self):
        return self.value.shape

    @property
    def ndim(self):
        return self.value.ndim

    @property
    def size(self):
        return self.value.size

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def T(self):
        return np.transpose(self)

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        if self.value.ndim == 0:
            raise TypeError('iteration over a 0-d traced value')
        for i in range(len(self.value)):
            yield self[i]

    def __repr__(self):
        return 'Tensor(%r, op=%s)' % (self.value, self._op)

    def __bool__(self):
        return bool(self.value)

    def __round__(self, ndigits=None):
        # rounding has a zero derivative: a plain array
        return np.round(self.value, ndigits or 0)

    # -- conversions that would cut the gradient ---------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            'a traced value was converted to a plain NumPy array (np.asarray, np.array, or a '
            'NumPy routine that converts its input), so the gradient cannot be traced through '
            'it. Use NumPy functions on the value directly, or minikeras.autodiff.stop_gradient '
            'if no gradient should flow.')

    def _no_scalar(self, what):
        raise TypeError('%s of a traced value would cut the gradient, so it cannot be traced; '
                        'keep it an array (or use minikeras.autodiff.stop_gradient first).'
                        % what)

    def __float__(self):
        self._no_scalar('float()')

    def __int__(self):
        self._no_scalar('int()')

    def __complex__(self):
        self._no_scalar('complex()')

    def item(self, *args):
        self._no_scalar('.item()')

    def tolist(self):
        self._no_scalar('.tolist()')

    def __setitem__(self, key, value):
        raise TypeError('item assignment into a traced value cannot be traced: build the new '
                        'value with np.where, np.concatenate or arithmetic instead.')

    # -- indexing ------------------------------------------------------------
    def __getitem__(self, key):
        key = _plain_key(key)
        y = self.value[key]
        shape = self.value.shape
        basic = _is_basic_key(key)

        def grad(g):
            out = np.zeros(shape, dtype=g.dtype)
            if basic:
                out[key] = g
            else:
                np.add.at(out, key, g)
            return out
        return _node(y, 'getitem', [(self, grad)])

    # -- operators -----------------------------------------------------------
    def __add__(self, other):
        return np.add(self, other)

    def __radd__(self, other):
        return np.add(other, self)

    def __sub__(self, other):
        return np.subtract(self, other)

    def __rsub__(self, other):
        return np.subtract(other, self)

    def __mul__(self, other):
        return np.multiply(self, other)

    def __rmul__(self, other):
        return np.multiply(other, self)

    def __truediv__(self, other):
        return np.true_divide(self, other)

    def __rtruediv__(self, other):
        return np.true_divide(other, self)

    def __floordiv__(self, other):
        return np.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return np.floor_divide(other, self)

    def __mod__(self, other):
        return np.remainder(self, other)

    def __rmod__(self, other):
        return np.remainder(other, self)

    def __pow__(self, other):
        return np.power(self, other)

    def __rpow__(self, other):
        return np.power(other, self)

    def __matmul__(self, other):
        return np.matmul(self, other)

    def __rmatmul__(self, other):
        return np.matmul(other, self)

    def __neg__(self):
        return np.negative(self)

    def __pos__(self):
        return np.positive(self)

    def __abs__(self):
        return np.absolute(self)

    def __lt__(self, other):
        return np.less(self, other)

    def __le__(self, other):
        return np.less_equal(self, other)

    def __gt__(self, other):
        return np.greater(self, other)

    def __ge__(self, other):
        return np.greater_equal(self, other)

    def __eq__(self, other):
        return np.equal(self, other)

    def __ne__(self, other):
        return np.not_equal(self, other)

    # -- methods of ndarray ----------------------------------------------------
    def sum(self, *args, **kwargs):
        return np.sum(self, *args, **kwargs)

    def mean(self, *args, **kwargs):
        return np.mean(self, *args, **kwargs)

    def max(self, *args, **kwargs):
        return np.max(self, *args, **kwargs)

    def min(self, *args, **kwargs):
        return np.min(self, *args, **kwargs)

    def prod(self, *args, **kwargs):
        return np.prod(self, *args, **kwargs)

    def std(self, *args, **kwargs):
        return np.std(self, *args, **kwargs)

    def var(self, *args, **kwargs):
        return np.var(self, *args, **kwargs)

    def cumsum(self, *args, **kwargs):
        return np.cumsum(self, *args, **kwargs)

    def clip(self, *args, **kwargs):
        return np.clip(self, *args, **kwargs)

    def dot(self, other):
        return np.dot(self, other)

    def reshape(self, *shape, **kwargs):
        if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
            shape = shape[0]
        return np.reshape(self, shape, **kwargs)

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], numbers.Integral)):
            axes = axes[0]
        return np.transpose(self, axes or None)

    def swapaxes(self, axis1, axis2):
        return np.swapaxes(self, axis1, axis2)

    def squeeze(self, axis=None):
        return np.squeeze(self, axis)

    def ravel(self, order='C'):
        return np.ravel(self, order)

    def flatten(self, order='C'):
        return np.ravel(self, order)

    def repeat(self, repeats, axis=None):
        return np.repeat(self, repeats, axis)

    def take(self, indices, axis=None):
        return np.take(self, indices, axis)

    def copy(self, order='C'):
        return np.copy(self)

    def argmax(self, *args, **kwargs):
        return np.argmax(self.value, *args, **kwargs)

    def argmin(self, *args, **kwargs):
        return np.argmin(self.value, *args, **kwargs)

    def any(self, *args, **kwargs):
        return np.any(self.value, *args, **kwargs)

    def all(self, *args, **kwargs):
        return np.all(self.value, *args, **kwargs)

    def astype(self, dtype, order='K', casting='unsafe', subok=True, copy=True):
        y = self.value.astype(dtype, order=order, casting=casting)
        return _node(y, 'astype', [(self, lambda g: g)])

    # -- NumPy protocols -------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = 'np.' + ufunc.__name__
        out = kwargs.pop('out', None)
        if out is not None and any(o is not None for o in out):
            raise TypeError('%s(..., out=...) would store a traced value in a plain array (an '
                            'in-place update such as `array += traced` does this), so the '
                            'gradient cannot be traced; use the returned value instead.' % name)
        if kwargs.get('where', True) is not True:
            raise _untraceable('%s(..., where=...)' % name)
        kwargs.pop('where', None)
        if method == 'reduce' and ufunc in _UFUNC_REDUCERS:
            kwargs.setdefault('axis', 0)
            return _UFUNC_REDUCERS[ufunc](inputs[0], **kwargs)
        if method != '__call__':
            raise _untraceable('%s.%s' % (name, method))
        values = [_value(x) for x in inputs]
        if ufunc in _NO_GRADIENT_UFUNCS:
            return ufunc(*values, **kwargs)
        rules = _UFUNC_RULES.get(ufunc)
        if rules is None:
            raise _untraceable(name)
        if ufunc is np.matmul and set(kwargs) - {'dtype', 'casting', 'order'}:
            raise _untraceable('np.matmul with %s' % ', '.join(sorted(kwargs)))
        y = ufunc(*values, **kwargs)
        edges = []
        for i, x in enumerate(inputs):
            if isinstance(x, Tensor):
                edges.append((x, _ufunc_grad(rules[i], y, values, x.value.shape)))
        return _node(y, name, edges)

    def __array_function__(self, func, types, args, kwargs):
        handler = _FUNCTIONS.get(func)
        if handler is None:
            raise _untraceable('np.%s' % _function_name(func))
        return handler(*args, **kwargs)


def _function_name(func):
    module = getattr(func, '__module__', '') or ''
    name = getattr(func, '__name__', repr(func))
    if module.startswith('numpy.linalg'):
        return 'linalg.' + name
    if module.startswith('numpy.fft'):
        return 'fft.' + name
    return name


def _ufunc_grad(rule, y, values, shape):
    return lambda g: _unbroadcast(rule(g, y, *values), shape)


def _node(value, op, edges):
    """A new Tensor for `value`, or the plain value when no gradient can flow."""
    value = np.asarray(value)
    if value.dtype.kind == 'c':
        raise _untraceable('%s giving a complex result' % op)
    if not edges or value.dtype.kind != 'f':
        return value[()] if value.ndim == 0 else value
    return Tensor(value, op, tuple(edges))


def _value(x):
    """The NumPy value behind x: a Tensor's array, lists as arrays, scalars as
    they are (Python scalars stay weakly typed, so float32 stays float32)."""
    if isinstance(x, Tensor):
        return x.value
    if isinstance(x, (list, tuple)):
        # a traced value inside a list raises here (its __array__), rather
        # than losing its gradient
        return np.asarray(x)
    return x


def _plain_key(key):
    """A key or argument with every Tensor replaced by its value (indices and
    conditions carry no gradient)."""
    if isinstance(key, Tensor):
        return key.value
    if isinstance(key, tuple):
        return tuple(_plain_key(k) for k in key)
    if isinstance(key, list):
        return [_plain_key(k) for k in key]
    return key


def _is_basic_key(key):
    parts = key if isinstance(key, tuple) else (key,)
    return all(p is None or p is Ellipsis or isinstance(p, (slice, numbers.Integral))
               and not isinstance(p, (bool, np.bool_)) for p in parts)


def _unbroadcast(g, shape):
    """Sums a gradient over the axes along which its input was broadcast."""
    g = np.asarray(g)
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.shape != shape:
        g = np.broadcast_to(g, shape)
    return g


def _topological(root):
    """Every node reachable from root, each after all of its parents."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent, _ in node._edges:
            if id(parent) not in seen:
                stack.append((parent, False))
    return order


def _backprop(root, dy):
    """Gradients of sum(root * dy), keyed by id, for every leaf under root."""
    grads = {id(root): dy}
    for node in reversed(_topological(root)):
        g = grads.get(id(node))
        if g is None or not node._edges:
            continue
        for parent, rule in node._edges:
            pg = np.asarray(rule(g))
            if pg.shape != parent.value.shape:
                raise RuntimeError('minikeras.autodiff internal error: %s gave a gradient of '
                                   'shape %s for a value of shape %s'
                                   % (node._op, pg.shape, parent.value.shape))
            if pg.dtype != parent.value.dtype:
                pg = pg.astype(parent.value.dtype)
            key = id(parent)
            grads[key] = pg if key not in grads else grads[key] + pg
        del grads[id(node)]
    return grads


# ---------------------------------------------------------------------------
# Public API


def is_traced(x):
    """True when x is a traced value (a `Tensor`)."""
    return isinstance(x, Tensor)


def stop_gradient(x):
    """The plain NumPy value of x: no gradient flows back through it."""
    if isinstance(x, Tensor):
        return x.value
    if isinstance(x, (list, tuple)):
        return type(x)(stop_gradient(v) for v in x)
    return x


def vjp(function, *arrays):
    """Evaluates `function(*arrays)` and returns its vector-Jacobian product.

    # Arguments
        function: a Python function of NumPy arrays, written with NumPy or the
            Keras backend (`minikeras.backend`), returning one array.
        *arrays: the arguments. Float arrays are traced (copied first, so a
            later in-place change cannot alter the gradient); integer and bool
            arrays are passed as plain constants.

    # Returns
        `(output, backward)`: the plain NumPy output, and a function
        `backward(dy=None)` that takes the gradient of the output (same shape;
        None means ones) and returns a list with the gradient of every
        argument, each with the shape (and float dtype) of that argument.
        Arguments that do not influence the output get zeros. `backward` may
        be called more than once.

    # Raises
        TypeError: when the function uses an operation the tracer cannot
            differentiate; the message names the operation.
    """
    return _vjp(function, arrays, (True,) * len(arrays))


def vjp_of_values(function, *arrays):
    """`vjp` for arguments that nothing changes in place while `backward`
    may still run (the values of a graph walk, which every consumer shares):
    the float arguments are traced without being copied first, and a
    gradient that is a view of an array of the backward pass alone (a
    reshape, a transpose) is handed out without a copy: the caller reads it
    or adds to it, never writes into it in place."""
    return _vjp(function, arrays, (True,) * len(arrays), copy_inputs=False)


def value_and_grad(function, *arrays, argnums=0):
    """The value of a scalar function and its gradient.

    # Arguments
        function: as for `vjp`, returning a single number (an array of size 1).
        *arrays: the arguments.
        argnums: int or sequence of ints, the arguments to differentiate with
            respect to; the others are passed as plain constants.

    # Returns
        `(value, grad)`, with `grad` one array for an int `argnums`, a list of
        arrays (in the order of `argnums`) for a sequence.
    """
    single = isinstance(argnums, numbers.Integral)
    wanted = [int(argnums)] if single else [int(i) for i in argnums]
    for i in wanted:
        if not -len(arrays) <= i < len(arrays):
            raise ValueError('value_and_grad: argnums %d is out of range for %d arguments'
                             % (i, len(arrays)))
    wanted = [i % len(arrays) for i in wanted]
    mask = tuple(i in wanted for i in range(len(arrays)))
    output, backward = _vjp(function, arrays, mask)
    if np.size(output) != 1:
        raise ValueError('value_and_grad needs a function returning one number; it returned '
                         'an array of shape %s. Reduce it (e.g. np.mean) or use vjp.'
                         % (np.shape(output),))
    grads = backward(None)
    return output, grads[wanted[0]] if single else [grads[i] for i in wanted]


def _fresh(gradient, dtype, dy):
    """Whether `gradient` can be handed out as it is: an array of its own
    (not a view, not `dy` or part of it), writable, of `dtype`."""
    return (isinstance(gradient, np.ndarray) and gradient.dtype == dtype and
            gradient.flags.owndata and gradient.flags.writeable and
            not np.may_share_memory(gradient, dy))


def _private_view(gradient, dtype, dy, handed, inputs):
    """Whether `gradient`, a view (a reshape or transpose of an array made
    during the backward pass), shares memory with nothing the caller sees:
    not `dy`, not a gradient handed out before it, not an input's value.
    Handed out as it is, it saves a copy of a whole feature map where the
    caller only reads it (`vjp_of_values`)."""
    if not (isinstance(gradient, np.ndarray) and gradient.dtype == dtype and
            gradient.flags.writeable) or np.may_share_memory(gradient, dy):
        return False
    others = list(handed) + [x.value if isinstance(x, Tensor) else x for x in inputs]
    return not any(isinstance(other, np.ndarray) and np.may_share_memory(gradient, other)
                   for other in others)


def _vjp(function, arrays, traced, copy_inputs=True):
    inputs = []
    for position, (array, trace) in enumerate(zip(arrays, traced)):
        if isinstance(array, Tensor):
            raise TypeError('vjp: argument %d is already a traced value; nested '
                            'differentiation is not supported' % position)
        value = np.array(array, copy=True) if copy_inputs or not isinstance(
            array, np.ndarray) or array.dtype.kind != 'f' else array
        if value.dtype.kind == 'c':
            raise TypeError('vjp: argument %d is complex; only real arrays can be traced'
                            % position)
        inputs.append(Tensor(value) if trace and value.dtype.kind == 'f' else value)
    output = function(*inputs)
    if isinstance(output, (list, tuple)) and any(isinstance(o, Tensor) for o in output):
        raise TypeError('vjp: the function returned a %s of traced values; it must return a '
                        'single array' % type(output).__name__)
    root = output if isinstance(output, Tensor) else None
    out_value = output.value if root is not None else np.asarray(output)

    def backward(dy=None):
        if dy is None:
            dy = np.ones(out_value.shape, dtype=out_value.dtype
                         if out_value.dtype.kind == 'f' else np.float32)
        dy = np.asarray(dy)
        if dy.shape != out_value.shape:
            raise ValueError('backward: the output gradient has shape %s but the output has '
                             'shape %s' % (dy.shape, out_value.shape))
        if root is not None and dy.dtype != out_value.dtype:
            dy = dy.astype(out_value.dtype)
        grads = _backprop(root, dy) if root is not None else {}
        result, handed = [], set()
        for x in inputs:
            value = x.value if isinstance(x, Tensor) else x
            dtype = value.dtype if value.dtype.kind == 'f' else np.float32
            g = grads.get(id(x)) if isinstance(x, Tensor) else None
            if g is None:
                g = np.zeros(value.shape, dtype=dtype)
            elif id(g) in handed or not (_fresh(g, dtype, dy) or (
                    not copy_inputs and _private_view(g, dtype, dy, result, inputs))):
                # a view or shared array: the caller gets its own copy
                g = np.array(g, dtype=dtype)
            handed.add(id(g))
            result.append(g)
        return result
    return (out_value[()] if out_value.ndim == 0 else out_value), backward


# ---------------------------------------------------------------------------
# Ufuncs: rules give the gradient of each input, before un-broadcasting


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _power_base(g, y, a, b):
    with np.errstate(divide='ignore', invalid='ignore'):
        return g * np.where(np.equal(b, 0), 0, b * np.power(a, b - 1))


def _power_exponent(g, y, a, b):
    with np.errstate(divide='ignore', invalid='ignore'):
        safe = np.where(np.greater(a, 0), a, 1)
        log_a = np.where(np.greater(a, 0), np.log(safe), np.where(np.equal(a, 0), 0, np.nan))
        return g * y * log_a


def _half_on_ties(g, wins, ties):
    return g * wins + 0.5 * (g * ties)


def _matmul_grads():
    def prepared(g, a, b):
        a, b = np.asarray(a), np.asarray(b)
        a2 = a[np.newaxis, :] if a.ndim == 1 else a
        b2 = b[:, np.newaxis] if b.ndim == 1 else b
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        return g, a, b, a2, b2

    def for_a(g, y, a, b):
        g, a, b, a2, b2 = prepared(g, a, b)
        ga = _unbroadcast(np.matmul(g, np.swapaxes(b2, -1, -2)), a2.shape)
        return ga.reshape(a.shape)

    def for_b(g, y, a, b):
        g, a, b, a2, b2 = prepared(g, a, b)
        gb = _unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g), b2.shape)
        return gb.reshape(b.shape)
    return for_a, for_b


def _clip_masks(a, lo, hi):
    lo = -np.inf if lo is None else lo
    hi = np.inf if hi is None else hi
    to_hi = np.maximum(a, lo) > hi
    to_lo = (a < lo) & ~to_hi
    return ~(to_hi | to_lo), to_lo, to_hi


_UFUNC_RULES = {
    np.negative: (lambda g, y, x: -g,),
    np.positive: (lambda g, y, x: g,),
    np.conjugate: (lambda g, y, x: g,),
    np.exp: (lambda g, y, x: g * y,),
    np.exp2: (lambda g, y, x: g * y * _LN2,),
    np.expm1: (lambda g, y, x: g * (y + 1),),
    np.log: (lambda g, y, x: g / x,),
    np.log2: (lambda g, y, x: g / (x * _LN2),),
    np.log10: (lambda g, y, x: g / (x * _LN10),),
    np.log1p: (lambda g, y, x: g / (x + 1),),
    np.sqrt: (lambda g, y, x: g / (2 * y),),
    np.cbrt: (lambda g, y, x: g / (3 * y * y),),
    np.square: (lambda g, y, x: g * (2 * x),),
    np.absolute: (lambda g, y, x: g * np.sign(x),),
    np.fabs: (lambda g, y, x: g * np.sign(x),),
    np.reciprocal: (lambda g, y, x: -g * y * y,),
    np.sin: (lambda g, y, x: g * np.cos(x),),
    np.cos: (lambda g, y, x: -g * np.sin(x),),
    np.tan: (lambda g, y, x: g * (1 + y * y),),
    np.arcsin: (lambda g, y, x: g / np.sqrt(1 - x * x),),
    np.arccos: (lambda g, y, x: -g / np.sqrt(1 - x * x),),
    np.arctan: (lambda g, y, x: g / (1 + x * x),),
    np.sinh: (lambda g, y, x: g * np.cosh(x),),
    np.cosh: (lambda g, y, x: g * np.sinh(x),),
    np.tanh: (lambda g, y, x: g * (1 - y * y),),
    np.arcsinh: (lambda g, y, x: g / np.sqrt(x * x + 1),),
    np.arccosh: (lambda g, y, x: g / np.sqrt(x * x - 1),),
    np.arctanh: (lambda g, y, x: g / (1 - x * x),),
    np.deg2rad: (lambda g, y, x: g * (math.pi / 180),),
    np.rad2deg: (lambda g, y, x: g * (180 / math.pi),),
    np.add: (lambda g, y, a, b: g, lambda g, y, a, b: g),
    np.subtract: (lambda g, y, a, b: g, lambda g, y, a, b: -g),
    np.multiply: (lambda g, y, a, b: g * b, lambda g, y, a, b: g * a),
    np.true_divide: (lambda g, y, a, b: g / b, lambda g, y, a, b: -g * y / b),
    np.power: (_power_base, _power_exponent),
    np.float_power: (_power_base, _power_exponent),
    np.maximum: (lambda g, y, a, b: _half_on_ties(g, a > b, a == b),
                 lambda g, y, a, b: _half_on_ties(g, b > a, a == b)),
    np.minimum: (lambda g, y, a, b: _half_on_ties(g, a < b, a == b),
                 lambda g, y, a, b: _half_on_ties(g, b < a, a == b)),
    np.fmax: (lambda g, y, a, b: _half_on_ties(g, a > b, a == b),
              lambda g, y, a, b: _half_on_ties(g, b > a, a == b)),
    np.fmin: (lambda g, y, a, b: _half_on_ties(g, a < b, a == b),
              lambda g, y, a, b: _half_on_ties(g, b < a, a == b)),
    np.arctan2: (lambda g, y, a, b: g * b / (a * a + b * b),
                 lambda g, y, a, b: -g * a / (a * a + b * b)),
    np.hypot: (lambda g, y, a, b: g * a / y, lambda g, y, a, b: g * b / y),
    np.logaddexp: (lambda g, y, a, b: g * np.exp(a - y), lambda g, y, a, b: g * np.exp(b - y)),
    np.logaddexp2: (lambda g, y, a, b: g * np.exp2(a - y),
                    lambda g, y, a, b: g * np.exp2(b - y)),
    np.remainder: (lambda g, y, a, b: g, lambda g, y, a, b: -g * np.floor_divide(a, b)),
    np.fmod: (lambda g, y, a, b: g, lambda g, y, a, b: -g * np.trunc(np.true_divide(a, b))),
    np.matmul: _matmul_grads(),
}

# np.clip is handled as a function; its ufunc is reached only when called directly
_CLIP_UFUNC = getattr(getattr(np, '_core', None), 'umath', None)
_CLIP_UFUNC = getattr(_CLIP_UFUNC, 'clip', None)
if isinstance(_CLIP_UFUNC, np.ufunc):
    _UFUNC_RULES[_CLIP_UFUNC] = (lambda g, y, a, lo, hi: g * _clip_masks(a, lo, hi)[0],
                                 lambda g, y, a, lo, hi: g * _clip_masks(a, lo, hi)[1],
                                 lambda g, y, a, lo, hi: g * _clip_masks(a, lo, hi)[2])

# Their derivative is zero wherever it exists: they return plain arrays.
_NO_GRADIENT_UFUNCS = frozenset([
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not,
    np.isnan, np.isinf, np.isfinite, np.signbit, np.sign, np.floor, np.ceil, np.trunc,
    np.rint, np.floor_divide, np.heaviside,
])


# ---------------------------------------------------------------------------
# NumPy functions


_FUNCTIONS = {}


def _implements(*functions):
    def register(handler):
        for f in functions:
            _FUNCTIONS[f] = handler
        return handler
    return register


def _check_out(name, out):
    if out is not None:
        raise TypeError('%s(..., out=...) would store a traced value in a plain array, so the '
                        'gradient cannot be traced; use the returned value instead.' % name)


def _check_where(name, where):
    if where is not None and where is not True:
        raise _untraceable('%s(..., where=...)' % name)


def _reduced_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(sorted(operator.index(a) % ndim for a in axes)) if ndim else ()


def _expand(g, shape, axes, keepdims):
    """Broadcasts the gradient of a reduction back to the reduced input."""
    g = np.asarray(g)
    if not keepdims:
        g = g.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))
    return np.broadcast_to(g, shape)


@_implements(np.sum)
def _sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _check_out('np.sum', out)
    _check_where('np.sum', where)
    x = np.asarray(_value(a))
    extra = {} if initial is None else {'initial': initial}
    y = np.sum(x, axis=axis, dtype=dtype, keepdims=keepdims, **extra)
    shape, axes = x.shape, _reduced_axes(axis, x.ndim)
    return _node(y, 'np.sum', _edge(a, lambda g: _expand(g, shape, axes, keepdims)))


@_implements(np.mean)
def _mean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    _check_out('np.mean', out)
    _check_where('np.mean', where)
    x = np.asarray(_value(a))
    y = np.mean(x, axis=axis, dtype=dtype, keepdims=keepdims)
    shape, axes = x.shape, _reduced_axes(axis, x.ndim)
    count = int(np.prod([shape[i] for i in axes]))
    return _node(y, 'np.mean', _edge(a, lambda g: _expand(g, shape, axes, keepdims) / count))


def _extreme(name, reduce):
    def handler(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        _check_out(name, out)
        _check_where(name, where)
        x = np.asarray(_value(a))
        extra = {} if initial is None else {'initial': initial}
        y = reduce(x, axis=axis, keepdims=keepdims, **extra)
        shape, axes = x.shape, _reduced_axes(axis, x.ndim)

        def grad(g):
            hit = (x == _expand(y, shape, axes, keepdims)).astype(g.dtype)
            count = np.maximum(hit.sum(axis=axes, keepdims=True), 1)
            return _expand(g, shape, axes, keepdims) * (hit / count)
        return _node(y, name, _edge(a, grad))
    return handler


_max = _implements(np.max, np.amax)(_extreme('np.max', np.max))
_min = _implements(np.min, np.amin)(_extreme('np.min', np.min))


@_implements(np.prod)
def _prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _check_out('np.prod', out)
    _check_where('np.prod', where)
    x = np.asarray(_value(a))
    extra = {} if initial is None else {'initial': initial}
    y = np.prod(x, axis=axis, dtype=dtype, keepdims=keepdims, **extra)
    shape, axes = x.shape, _reduced_axes(axis, x.ndim)
    kept = [i for i in range(x.ndim) if i not in axes]

    def grad(g):
        if x.size == 0:
            return np.zeros(shape, dtype=g.dtype)
        # the product of all the other entries: exclusive prefix * suffix products
        perm = kept + list(axes)
        flat = np.transpose(x, perm).reshape([shape[i] for i in kept] + [-1])
        ones = np.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
        left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        g_kept = np.asarray(g).reshape([shape[i] for i in kept] + [1])
        if initial is not None:
            g_kept = g_kept * initial
        others = (left * right * g_kept).reshape([shape[i] for i in perm])
        return np.transpose(others, np.argsort(perm))
    return _node(y, 'np.prod', _edge(a, grad))


@_implements(np.var)
def _var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None,
         correction=None):
    _check_out('np.var', out)
    _check_where('np.var', where)
    if mean is not None:
        raise _untraceable('np.var(..., mean=...)')
    if correction is not None:
        ddof = correction
    if dtype is not None:
        a = a.astype(dtype) if isinstance(a, Tensor) else np.asarray(a, dtype=dtype)
    x = np.asarray(_value(a))
    axes = _reduced_axes(axis, x.ndim)
    count = int(np.prod([x.shape[i] for i in axes]))
    # the mean is held constant: its gradient path sums to zero
    centred = a - np.mean(x, axis=axes, keepdims=True)
    return np.sum(centred * centred, axis=axes, keepdims=keepdims) / (count - ddof)


@_implements(np.std)
def _std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None,
         correction=None):
    _check_out('np.std', out)
    return np.sqrt(_var(a, axis, dtype, None, ddof, keepdims, where, mean, correction))


@_implements(np.cumsum)
def _cumsum(a, axis=None, dtype=None, out=None):
    _check_out('np.cumsum', out)
    x = np.asarray(_value(a))
    y = np.cumsum(x, axis=axis, dtype=dtype)
    ax = -1 if axis is None else axis

    def grad(g):
        back = np.flip(np.cumsum(np.flip(g, ax), axis=ax), ax)
        return back.reshape(x.shape)
    return _node(y, 'np.cumsum', _edge(a, grad))


@_implements(np.where)
def _where(condition, x=None, y=None):
    if x is None and y is None:
        return np.where(_value(condition))
    c = _value(condition)
    xv, yv = _value(x), _value(y)
    out = np.where(c, xv, yv)
    edges = []
    if isinstance(x, Tensor):
        edges.append((x, lambda g: _unbroadcast(np.where(c, g, 0), xv.shape)))
    if isinstance(y, Tensor):
        edges.append((y, lambda g: _unbroadcast(np.where(c, 0, g), yv.shape)))
    return _node(out, 'np.where', edges)


_MISSING = object()


@_implements(np.clip)
def _clip(a, a_min=_MISSING, a_max=_MISSING, out=None, min=_MISSING, max=_MISSING, **kwargs):
    _check_out('np.clip', out)
    lo = a_min if a_min is not _MISSING else (None if min is _MISSING else min)
    hi = a_max if a_max is not _MISSING else (None if max is _MISSING else max)
    x, lov, hiv = _value(a), _value(lo), _value(hi)
    y = np.clip(x, lov, hiv, **kwargs)
    masks = _clip_masks(x, lov, hiv)
    edges = []
    for operand, mask in zip((a, lo, hi), masks):
        if isinstance(operand, Tensor):
            edges.append((operand, _masked_grad(mask, operand.value.shape)))
    return _node(y, 'np.clip', edges)


def _masked_grad(mask, shape):
    return lambda g: _unbroadcast(g * mask, shape)


def _edge(a, grad):
    return [(a, grad)] if isinstance(a, Tensor) else []


# -- products ------------------------------------------------------------------


def _tensordot(a, b, axes_a, axes_b, name):
    av, bv = np.asarray(_value(a)), np.asarray(_value(b))
    axes_a = [i % av.ndim for i in axes_a]
    axes_b = [i % bv.ndim for i in axes_b]
    y = np.tensordot(av, bv, axes=(axes_a, axes_b))
    free_a = [i for i in range(av.ndim) if i not in axes_a]
    free_b = [i for i in range(bv.ndim) if i not in axes_b]
    nfa, nfb = len(free_a), len(free_b)
    edges = []
    if isinstance(a, Tensor):
        def grad_a(g):
            ga = np.tensordot(g, bv, axes=(list(range(nfa, nfa + nfb)), free_b))
            # ga's axes: free_a, then a's contracted axes in the order of b's remaining axes
            order = free_a + [axes_a[axes_b.index(j)] for j in sorted(axes_b)]
            return np.transpose(ga, np.argsort(order))
        edges.append((a, grad_a))
    if isinstance(b, Tensor):
        def grad_b(g):
            gb = np.tensordot(av, g, axes=(free_a, list(range(nfa))))
            order = [axes_b[axes_a.index(i)] for i in sorted(axes_a)] + free_b
            return np.transpose(gb, np.argsort(order))
        edges.append((b, grad_b))
    return _node(y, name, edges)


@_implements(np.tensordot)
def _tensordot_handler(a, b, axes=2):
    ndim_a = np.ndim(_value(a))
    if isinstance(axes, numbers.Integral):
        axes_a, axes_b = list(range(ndim_a - axes, ndim_a)), list(range(axes))
    else:
        axes_a, axes_b = axes
        axes_a = [axes_a] if isinstance(axes_a, numbers.Integral) else list(axes_a)
        axes_b = [axes_b] if isinstance(axes_b, numbers.Integral) else list(axes_b)
    return _tensordot(a, b, axes_a, axes_b, 'np.tensordot')


@_implements(np.dot)
def _dot(a, b, out=None):
    _check_out('np.dot', out)
    na, nb = np.ndim(_value(a)), np.ndim(_value(b))
    if na == 0 or nb == 0:
        return np.multiply(a, b)
    if na <= 2 and nb <= 2:
        return np.matmul(a, b)
    return _tensordot(a, b, [na - 1], [nb - 2 if nb >= 2 else 0], 'np.dot')


@_implements(np.inner)
def _inner(a, b):
    na, nb = np.ndim(_value(a)), np.ndim(_value(b))
    if na == 0 or nb == 0:
        return np.multiply(a, b)
    return _tensordot(a, b, [na - 1], [nb - 1], 'np.inner')


@_implements(np.outer)
def _outer(a, b, out=None):
    _check_out('np.outer', out)
    return np.multiply(np.reshape(a, (-1, 1)), np.reshape(b, (1, -1)))


# -- joining -------------------------------------------------------------------


@_implements(np.concatenate)
def _concatenate(arrays, axis=0, out=None, dtype=None, casting='same_kind'):
    _check_out('np.concatenate', out)
    arrays = list(arrays)
    values = [np.asarray(_value(t)) for t in arrays]
    y = np.concatenate(values, axis=axis, dtype=dtype, casting=casting)
    if axis is None:
        sizes = [v.size for v in values]
        ax = 0
    else:
        ax = axis % y.ndim
        sizes = [v.shape[ax] for v in values]
    offsets = np.cumsum(sizes)[:-1]
    edges = []
    for i, (t, v) in enumerate(zip(arrays, values)):
        if isinstance(t, Tensor):
            edges.append((t, _piece(i, offsets, ax, v.shape)))
    return _node(y, 'np.concatenate', edges)


def _piece(i, offsets, axis, shape):
    return lambda g: np.split(g, offsets, axis=axis)[i].reshape(shape)


@_implements(np.stack)
def _stack(arrays, axis=0, out=None, dtype=None, casting='same_kind'):
    _check_out('np.stack', out)
    arrays = list(arrays)
    values = [_value(t) for t in arrays]
    y = np.stack(values, axis=axis, dtype=dtype, casting=casting)
    ax = axis % y.ndim
    edges = [(t, _slice_of(i, ax)) for i, t in enumerate(arrays) if isinstance(t, Tensor)]
    return _node(y, 'np.stack', edges)


def _slice_of(i, axis):
    return lambda g: np.take(g, i, axis=axis)


@_implements(np.atleast_1d)
def _atleast_1d(*arys):
    out = [a if np.ndim(_value(a)) >= 1 else np.reshape(a, (1,)) for a in arys]
    return out[0] if len(out) == 1 else out


@_implements(np.atleast_2d)
def _atleast_2d(*arys):
    out = []
    for a in arys:
        shape = np.shape(_value(a))
        out.append(a if len(shape) >= 2 else np.reshape(a, (1,) + (shape or (1,))))
    return out[0] if len(out) == 1 else out


@_implements(np.vstack)
def _vstack(tup, dtype=None, casting='same_kind'):
    return np.concatenate([np.atleast_2d(a) for a in tup], axis=0, dtype=dtype, casting=casting)


@_implements(np.hstack)
def _hstack(tup, dtype=None, casting='same_kind'):
    arrays = [np.atleast_1d(a) for a in tup]
    axis = 0 if arrays and np.ndim(_value(arrays[0])) == 1 else 1
    return np.concatenate(arrays, axis=axis, dtype=dtype, casting=casting)


# -- shapes --------------------------------------------------------------------


def _same_data(name, forward, backward):
    """An operation that only moves entries (or copies them):
    backward(g, x_shape, *args, **kwargs) sends the gradient back."""
    def handler(a, *args, **kwargs):
        x = np.asarray(_value(a))
        y = forward(x, *args, **kwargs)
        return _node(y, name, _edge(a, lambda g: backward(g, x.shape, *args, **kwargs)))
    return handler


def _reshape_forward(x, shape=None, order='C', newshape=None, copy=None):
    return np.reshape(x, shape if shape is not None else newshape, order=order)


def _reshape_backward(g, x_shape, *args, **kwargs):
    order = args[1] if len(args) > 1 else kwargs.get('order', 'C')
    return np.reshape(g, x_shape, order=order)


def _ravel_backward(g, x_shape, order='C'):
    return np.reshape(g, x_shape, order=order)


def _transpose_backward(g, x_shape, axes=None):
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort([a % len(x_shape) for a in axes]))


_implements(np.reshape)(_same_data('np.reshape', _reshape_forward, _reshape_backward))
_implements(np.ravel)(_same_data('np.ravel', np.ravel, _ravel_backward))
_implements(np.transpose)(_same_data('np.transpose', np.transpose, _transpose_backward))
_implements(np.swapaxes)(_same_data('np.swapaxes', np.swapaxes,
                                    lambda g, s, axis1, axis2: np.swapaxes(g, axis1, axis2)))
_implements(np.moveaxis)(_same_data('np.moveaxis', np.moveaxis,
                                    lambda g, s, source, destination:
                                    np.moveaxis(g, destination, source)))
_implements(np.expand_dims)(_same_data('np.expand_dims', np.expand_dims,
                                       lambda g, s, *a, **k: np.reshape(g, s)))
_implements(np.squeeze)(_same_data('np.squeeze', np.squeeze,
                                   lambda g, s, *a, **k: np.reshape(g, s)))
_implements(np.copy)(_same_data('np.copy', np.copy, lambda g, s, *a, **k: g))
_implements(np.flip)(_same_data('np.flip', np.flip,
                                lambda g, s, axis=None: np.flip(g, axis)))
_implements(np.broadcast_to)(_same_data('np.broadcast_to', np.broadcast_to,
                                        lambda g, s, *a, **k: _unbroadcast(g, s)))


def _repeat_backward(g, x_shape, repeats, axis=None):
    shape = x_shape
    if axis is None:
        g_axis, ax, n = np.ravel(g), 0, int(np.prod(shape))
    else:
        g_axis, ax, n = g, axis % len(shape), shape[axis]
    index = np.repeat(np.arange(n), repeats)
    moved = np.moveaxis(g_axis, ax, 0)
    out = np.zeros((n,) + moved.shape[1:], dtype=g.dtype)
    np.add.at(out, index, moved)
    return np.moveaxis(out, 0, ax).reshape(shape)


def _tile_backward(g, x_shape, reps):
    shape = x_shape
    reps = (reps,) if isinstance(reps, numbers.Integral) else tuple(reps)
    d = max(len(shape), len(reps))
    full_shape = (1,) * (d - len(shape)) + tuple(shape)
    full_reps = (1,) * (d - len(reps)) + reps
    interleaved = [n for pair in zip(full_reps, full_shape) for n in pair]
    summed = np.reshape(g, interleaved).sum(axis=tuple(range(0, 2 * d, 2)))
    return summed.reshape(shape)


def _pad_forward(x, pad_width, mode='constant', **kwargs):
    if mode != 'constant':
        raise _untraceable("np.pad(..., mode=%r)" % (mode,), "Only mode='constant' is traced.")
    return np.pad(x, pad_width, mode='constant', **kwargs)


def _pad_backward(g, x_shape, pad_width, mode='constant', **kwargs):
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (len(x_shape), 2))
    return g[tuple(slice(int(before), int(before) + n)
                   for (before, _), n in zip(widths, x_shape))]


_implements(np.repeat)(_same_data('np.repeat', np.repeat, _repeat_backward))
_implements(np.tile)(_same_data('np.tile', np.tile, _tile_backward))
_implements(np.pad)(_same_data('np.pad', _pad_forward, _pad_backward))


@_implements(np.take)
def _take(a, indices, axis=None, out=None, mode='raise'):
    _check_out('np.take', out)
    if mode != 'raise':
        raise _untraceable("np.take(..., mode=%r)" % (mode,))
    if axis is None:
        return np.ravel(a)[_plain_key(indices)]
    ndim = np.ndim(_value(a))
    return a[(slice(None),) * (axis % ndim) + (_plain_key(indices),)]


@_implements(np.linalg.norm)
def _norm(x, ord=None, axis=None, keepdims=False):
    ndim = np.ndim(_value(x))
    vector = axis is not None and (isinstance(axis, numbers.Integral) or len(axis) == 1) \
        or axis is None and ndim == 1
    if ord is None or ord == 'fro' or (ord == 2 and vector):
        return np.sqrt(np.sum(np.square(x), axis=axis, keepdims=keepdims))
    if ord == 1 and vector:
        return np.sum(np.abs(x), axis=axis, keepdims=keepdims)
    raise _untraceable('np.linalg.norm(..., ord=%r)' % (ord,))


# -- no gradient: the result does not depend smoothly on the traced values ---


def _plain(func):
    def handler(*args, **kwargs):
        return func(*_plain_key(args), **{k: _plain_key(v) for k, v in kwargs.items()})
    return handler


for _f in (np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.flatnonzero,
           np.count_nonzero, np.shape, np.ndim, np.size, np.round, np.around, np.isclose,
           np.allclose, np.array_equal, np.array_equiv, np.any, np.all, np.zeros_like,
           np.ones_like, np.empty_like, np.full_like, np.result_type, np.iscomplexobj,
           np.isrealobj, np.searchsorted, np.digitize, np.fix):
    _FUNCTIONS[_f] = _plain(_f)


def _ufunc_reducer(function):
    def reduce(a, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=None):
        _check_out('ufunc.reduce', out)
        kwargs = {'axis': axis, 'keepdims': keepdims, 'initial': initial, 'where': where}
        if dtype is not None:
            kwargs['dtype'] = dtype
        return function(a, **kwargs)
    return reduce


_UFUNC_REDUCERS = {
    np.add: _ufunc_reducer(_sum),
    np.multiply: _ufunc_reducer(_prod),
    np.maximum: _ufunc_reducer(_max),
    np.minimum: _ufunc_reducer(_min),
}


def supported_operations():
    """The names of the NumPy ufuncs and functions the tracer handles, sorted."""
    names = set('np.' + u.__name__ for u in list(_UFUNC_RULES) + list(_NO_GRADIENT_UFUNCS))
    names.update('np.' + _function_name(f) for f in _FUNCTIONS)
    names.update('np.%s.reduce' % u.__name__ for u in _UFUNC_REDUCERS)
    return sorted(names)
