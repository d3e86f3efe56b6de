"""Keras 2's merge layers (`keras.layers.merge`): `Add`, `Subtract`, `Multiply`,
`Average`, `Maximum`, `Minimum`, `Concatenate`, `Dot`, and their functional
forms `add`, `subtract`, ... Each is called on a list of tensors:
`Add()([a, b])`, `concatenate([a, b], axis=1)`.

Keras 1's `Merge(mode=...)` and `merge(...)` stay in `engine/merge.py`. Since
Keras 1 scripts import the function `merge` from `keras.layers`, where Keras
2's module of the same name lives, this module is callable too: `merge(...)`
means Keras 1's function whichever of the two a script ends up holding.
"""
import sys
import types

import numpy as np

from ..engine.base_layer import Layer
from ..engine.merge import _batch_dot_subscripts, merge as _keras_1_merge


def _reduce_to(grad, shape):
    """Sums a broadcast gradient back to an input's shape."""
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


class _Merge(Layer):
    """Element-wise merges: inputs of one shape (or shapes that broadcast)."""

    _min_inputs = 2

    def __init__(self, **kwargs):
        super(_Merge, self).__init__(**kwargs)

    def _check_inputs(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < self._min_inputs:
            raise ValueError('Layer %s (%s) must be called on a list of at least %d tensors, '
                             'got %r' % (self.name, type(self).__name__, self._min_inputs,
                                         input_shape))

    def get_output_shape_for(self, input_shape):
        self._check_inputs(input_shape)
        shapes = [tuple(s) for s in input_shape]
        rank = max(len(s) for s in shapes)
        out = []
        for axis in range(1, rank):
            sizes = {s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 1}
            known = {d for d in sizes if d is not None and d != 1}
            if len(known) > 1:
                raise ValueError('Layer %s (%s): inputs of shapes %s do not broadcast together '
                                 '(axis %d: %s)' % (self.name, type(self).__name__, shapes,
                                                    axis, sorted(known)))
            out.append(known.pop() if known else (None if None in sizes else 1))
        return (shapes[0][0],) + tuple(out)

    def forward(self, inputs, training=False, need_input_grad=True):
        xs = [np.asarray(x, dtype='float32') for x in inputs]
        self._check_inputs([x.shape for x in xs])
        y, local_grads = self._merge(xs)

        def backprop(dy):
            return [_reduce_to(g(dy), x.shape) for g, x in zip(local_grads, xs)]
        return y.astype('float32', copy=False), backprop


class Add(_Merge):
    """Sums its inputs (of one shape).

    # Example
    ```python
        added = Add()([x1, x2])
    ```
    """

    def _merge(self, xs):
        y = xs[0]
        for x in xs[1:]:
            y = y + x
        return y, [lambda dy: dy for _ in xs]


class Subtract(_Merge):
    """`inputs[0] - inputs[1]`, of exactly two inputs."""

    def _check_inputs(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError('Layer %s (Subtract) must be called on a list of exactly 2 tensors, '
                             'got %r' % (self.name, input_shape))

    def _merge(self, xs):
        return xs[0] - xs[1], [lambda dy: dy, lambda dy: -dy]


class Multiply(_Merge):
    """The element-wise product of its inputs."""

    def _merge(self, xs):
        y = xs[0]
        for x in xs[1:]:
            y = y * x

        def grad_of(i):
            def grad(dy):
                g = dy
                for j, x in enumerate(xs):
                    if j != i:
                        g = g * x
                return g
            return grad
        return y, [grad_of(i) for i in range(len(xs))]


class Average(_Merge):
    """The element-wise mean of its inputs."""

    def _merge(self, xs):
        scale = np.float32(1. / len(xs))
        y = xs[0]
        for x in xs[1:]:
            y = y + x
        return y * scale, [lambda dy: dy * scale for _ in xs]


class _Extremum(_Merge):
    """Maximum or Minimum; the gradient goes to the first input that attains it."""

    _pick = None

    def _merge(self, xs):
        shape = np.broadcast_shapes(*[x.shape for x in xs])
        stacked = np.stack([np.broadcast_to(x, shape) for x in xs])
        winner = type(self)._pick(stacked, axis=0)
        y = np.take_along_axis(stacked, winner[None], axis=0)[0]

        def grad_of(i):
            return lambda dy: dy * (winner == i)
        return y, [grad_of(i) for i in range(len(xs))]


class Maximum(_Extremum):
    """The element-wise maximum of its inputs."""

    _pick = staticmethod(np.argmax)


class Minimum(_Extremum):
    """The element-wise minimum of its inputs."""

    _pick = staticmethod(np.argmin)


class Concatenate(Layer):
    """Concatenates its inputs along `axis`.

    # Arguments
        axis: the axis to join along (-1, the last, by default).
    """

    def __init__(self, axis=-1, **kwargs):
        super(Concatenate, self).__init__(**kwargs)
        if isinstance(axis, bool) or int(axis) != axis:
            raise ValueError('%s (Concatenate): axis must be an integer, got %r'
                             % (self.name, axis))
        self.axis = int(axis)

    def get_output_shape_for(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError('Layer %s (Concatenate) must be called on a list of at least 2 '
                             'tensors, got %r' % (self.name, input_shape))
        shapes = [tuple(s) for s in input_shape]
        rank = len(shapes[0])
        if len({len(s) for s in shapes}) > 1 or not -rank <= self.axis < rank or \
                self.axis % rank == 0:
            raise ValueError('Layer %s (Concatenate): axis %d needs inputs of one rank with that '
                             'axis past the batch axis, got shapes %s'
                             % (self.name, self.axis, shapes))
        axis = self.axis % rank
        if len({s[:axis] + s[axis + 1:] for s in shapes}) > 1:
            raise ValueError('Layer %s (Concatenate): the inputs must match except on axis %d, '
                             'got shapes %s' % (self.name, self.axis, shapes))
        sizes = [s[axis] for s in shapes]
        out = list(shapes[0])
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def forward(self, inputs, training=False, need_input_grad=True):
        xs = [np.asarray(x, dtype='float32') for x in inputs]
        self.get_output_shape_for([x.shape for x in xs])
        axis = self.axis % xs[0].ndim
        bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=axis), lambda dy: np.split(dy, bounds, axis=axis)

    def get_config(self):
        config = super(Concatenate, self).get_config()
        config['axis'] = self.axis
        return config


def _l2_normalize(x, axis):
    """`x / sqrt(max(sum(x ** 2), 1e-12))` along `axis`, and its backward."""
    squares = np.sum(x * x, axis=axis, keepdims=True)
    norm = np.sqrt(np.maximum(squares, np.float32(1e-12)))
    y = x / norm

    def backward(dy):
        projected = np.sum(dy * y, axis=axis, keepdims=True) * (squares > 1e-12)
        return (dy - y * projected) / norm
    return y, backward


class Dot(Layer):
    """The dot product of two tensors along the given axes, sample by sample.

    # Arguments
        axes: int or pair of ints: the axis of each input that is summed over.
        normalize: whether to L2-normalize both inputs along those axes
            first; the output is then their cosine similarity.

    # Output shape
        The axes of the first input but its `axes[0]`, then those of the
        second but its batch axis and `axes[1]`; `(batch, 1)` if that
        leaves only the batch axis.
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super(Dot, self).__init__(**kwargs)
        if isinstance(axes, int):
            pair = (axes, axes)
        else:
            pair = tuple(axes)
        if len(pair) != 2 or not all(isinstance(a, int) and not isinstance(a, bool)
                                     for a in pair):
            raise ValueError('%s (Dot): axes must be an int or a pair of ints, got %r'
                             % (self.name, axes))
        self.axes = axes if isinstance(axes, int) else list(pair)
        self.normalize = bool(normalize)

    def _axes_for(self, shapes):
        if isinstance(self.axes, int) and self.axes < 0:
            return [self.axes % len(shapes[0]), self.axes % len(shapes[1])]
        pair = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        return [a % len(s) for a, s in zip(pair, shapes)]

    def get_output_shape_for(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError('Layer %s (Dot) must be called on a list of exactly 2 tensors, got '
                             '%r' % (self.name, input_shape))
        shape1, shape2 = [tuple(s) for s in input_shape]
        axes = self._axes_for([shape1, shape2])
        if 0 in axes:
            raise ValueError('Layer %s (Dot): axes %r include the batch axis'
                             % (self.name, self.axes))
        if shape1[axes[0]] != shape2[axes[1]]:
            raise ValueError('Layer %s (Dot): dimension mismatch: %s != %s (shapes %s and %s, '
                             'axes %s)' % (self.name, shape1[axes[0]], shape2[axes[1]], shape1,
                                           shape2, axes))
        out = [d for i, d in enumerate(shape1) if i != axes[0]] + \
            [d for i, d in enumerate(shape2) if i not in (0, axes[1])]
        return tuple(out + [1] if len(out) == 1 else out)

    def forward(self, inputs, training=False, need_input_grad=True):
        a, b = [np.asarray(x, dtype='float32') for x in inputs]
        self.get_output_shape_for([a.shape, b.shape])
        axes = self._axes_for([a.shape, b.shape])
        back_a = back_b = None
        if self.normalize:
            a, back_a = _l2_normalize(a, axes[0])
            b, back_b = _l2_normalize(b, axes[1])
        left, right, out = _batch_dot_subscripts(a.ndim, b.ndim, axes)
        y = np.einsum('%s,%s->%s' % (left, right, out), a, b)
        y_shape = y.shape

        def backprop(dy):
            dy = dy.reshape(y_shape)
            da = np.einsum('%s,%s->%s' % (out, right, left), dy, b)
            db = np.einsum('%s,%s->%s' % (out, left, right), dy, a)
            if self.normalize:
                da, db = back_a(da), back_b(db)
            return [da, db]
        return y.reshape(y.shape + (1,) * (y.ndim == 1)), backprop

    def get_config(self):
        config = super(Dot, self).get_config()
        config.update({'axes': self.axes, 'normalize': self.normalize})
        return config


def _functional(cls):
    def function(inputs, **kwargs):
        return cls(**kwargs)(inputs)
    function.__name__ = cls.__name__.lower()
    function.__doc__ = ('Functional form of `%s`: `%s(inputs, **kwargs)` is '
                        '`%s(**kwargs)(inputs)`.'
                        % (cls.__name__, function.__name__, cls.__name__))
    return function


add = _functional(Add)
subtract = _functional(Subtract)
multiply = _functional(Multiply)
average = _functional(Average)
maximum = _functional(Maximum)
minimum = _functional(Minimum)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of `Concatenate`: `Concatenate(axis, **kwargs)(inputs)`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes, normalize=False, **kwargs):
    """Functional form of `Dot`: `Dot(axes, normalize, **kwargs)(inputs)`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)


class _CallableModule(types.ModuleType):
    """`keras.layers.merge` is Keras 2's module and Keras 1's function."""

    def __call__(self, inputs, mode='sum', concat_axis=-1, dot_axes=-1, output_shape=None,
                 output_mask=None, arguments=None, name=None):
        """Keras 1's `merge(inputs, mode, ...)`: see `engine.merge.merge`."""
        return _keras_1_merge(inputs, mode=mode, concat_axis=concat_axis, dot_axes=dot_axes,
                              output_shape=output_shape, output_mask=output_mask,
                              arguments=arguments, name=name)


sys.modules[__name__].__class__ = _CallableModule
