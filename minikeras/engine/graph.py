"""The graph of layers: Keras tensors and the nodes (layer calls) that link them.

A `KerasTensor` is one symbolic output: its shape and the node that made it.
A `Node` records one call of a layer on Keras tensors. Containers walk these
links to order and run a model's layers.

A Keras tensor also combines with Python operators, indexing, NumPy functions
and every `keras.backend` function into a bigger expression: each such step
is a call of an `Operation` (a layer without weights, `engine/operation.py`),
so an expression is made of the same nodes as a model.
"""
import operator

import numpy as np


def shape_repr(shape):
    """Formats a shape with None for the batch axis, as Keras 1 printed it."""
    return '(' + ', '.join('None' if d is None else str(d) for d in shape) + \
        (',)' if len(shape) == 1 else ')')


def to_list(x):
    """`x` as a list (a single item becomes a one-item list)."""
    return list(x) if isinstance(x, (list, tuple)) else [x]


class KerasTensor(object):
    """A symbolic output in a graph of layers: its shape (batch axis None)
    and where it comes from, `_keras_history = (layer, node_index, tensor_index)`."""

    # NumPy hands binary operators with an array on the left to us
    __array_priority__ = 2000.0
    _is_keras_tensor = True
    __hash__ = object.__hash__

    def __init__(self, shape, layer, node_index, tensor_index, dtype='float32'):
        self._keras_shape = tuple(shape)
        self._keras_history = (layer, node_index, tensor_index)
        self.dtype = dtype
        # Whether the tensor carries a mask, as far as the graph tells:
        # True, False, or None when only running it will tell.
        self._mask_flag = False

    @property
    def shape(self):
        return self._keras_shape

    @property
    def ndim(self):
        return len(self._keras_shape)

    @property
    def node(self):
        layer, node_index, _ = self._keras_history
        return layer.inbound_nodes[node_index]

    @property
    def _uses_learning_phase(self):
        """Keras 1.2.2: whether the value depends on the learning phase (a
        layer upstream uses it, or the expression reads K.learning_phase())."""
        seen, stack = set(), [self]
        while stack:
            tensor = stack.pop()
            if id(tensor) in seen:
                continue
            seen.add(id(tensor))
            layer = tensor.node.outbound_layer
            if layer.uses_learning_phase or getattr(layer, 'is_learning_phase', False):
                return True
            stack.extend(tensor.node.input_tensors)
        return False

    @property
    def name(self):
        layer, node_index, tensor_index = self._keras_history
        return '%s_ib-%d_%d' % (layer.name, node_index, tensor_index)

    def __repr__(self):
        return '<KerasTensor %s shape=%s>' % (self.name, shape_repr(self._keras_shape))

    # -- expressions -------------------------------------------------------------

    def __getitem__(self, key):
        return _apply(operator.getitem, (self, key), 'getitem')

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # `variable += tensor` makes a new expression, as in Keras; the
        # variable keeps its value
        kwargs.pop('out', None)
        function = ufunc if method == '__call__' else getattr(ufunc, method)
        return _apply(function, inputs, 'np.%s' % ufunc.__name__, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _apply(func, args, 'np.%s' % func.__name__, kwargs)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            'Keras tensor %s has no value yet: it is a symbolic tensor of the graph (shape %s). '
            'Evaluate it with K.function([inputs], [tensor]) or model.predict, or use it in '
            'keras.backend functions to build a bigger expression.'
            % (self.name, shape_repr(self._keras_shape)))

    def __bool__(self):
        raise TypeError('Keras tensor %s has no truth value: it is symbolic (use K.switch for '
                        'a choice that depends on it)' % self.name)

    def __len__(self):
        raise TypeError('Keras tensor %s has no len(): it is symbolic; use K.int_shape(x) for '
                        'its static shape %s' % (self.name, shape_repr(self._keras_shape)))

    def __iter__(self):
        raise TypeError('Keras tensor %s cannot be iterated over: it is symbolic; index it '
                        '(x[0], x[:, 1]) instead' % self.name)

    @property
    def T(self):
        return _apply(np.transpose, (self,), 'transpose')

    def sum(self, *args, **kwargs):
        return _apply(np.sum, (self,) + args, 'sum', kwargs)

    def mean(self, *args, **kwargs):
        return _apply(np.mean, (self,) + args, 'mean', kwargs)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _apply(np.reshape, (self, shape), 'reshape')

    def dimshuffle(self, *pattern):
        # Theano's name, used by Keras 0.x-era custom layers
        if len(pattern) == 1 and isinstance(pattern[0], (tuple, list)):
            pattern = tuple(pattern[0])
        return _apply(_dimshuffle, (self, pattern), 'dimshuffle')


def _dimshuffle(x, pattern):
    kept = [p for p in pattern if p != 'x']
    y = np.transpose(x, kept)
    for axis, p in enumerate(pattern):
        if p == 'x':
            y = np.expand_dims(y, axis)
    return y


def _apply(function, args, name, kwargs=None):
    from .operation import apply
    return apply(function, args, kwargs or {}, name)


def _binary(function, name, reflected=False):
    if reflected:
        return lambda self, other: _apply(function, (other, self), name)
    return lambda self, other: _apply(function, (self, other), name)


for _name, _function in [('add', operator.add), ('sub', operator.sub), ('mul', operator.mul),
                         ('truediv', operator.truediv), ('floordiv', operator.floordiv),
                         ('mod', operator.mod), ('pow', operator.pow),
                         ('matmul', operator.matmul)]:
    setattr(KerasTensor, '__%s__' % _name, _binary(_function, _name))
    setattr(KerasTensor, '__r%s__' % _name, _binary(_function, _name, reflected=True))
for _name, _function in [('lt', operator.lt), ('le', operator.le), ('gt', operator.gt),
                         ('ge', operator.ge), ('eq', operator.eq), ('ne', operator.ne)]:
    setattr(KerasTensor, '__%s__' % _name, _binary(_function, _name))
KerasTensor.__div__ = KerasTensor.__truediv__
KerasTensor.__rdiv__ = KerasTensor.__rtruediv__
KerasTensor.__neg__ = lambda self: _apply(operator.neg, (self,), 'neg')
KerasTensor.__pos__ = lambda self: self
KerasTensor.__abs__ = lambda self: _apply(operator.abs, (self,), 'abs')


class Node(object):
    """One call of a layer on Keras tensors: the inputs it read and the
    outputs it produced. It registers itself with the layers involved."""

    def __init__(self, layer, input_tensors, output_shape):
        self.outbound_layer = layer
        self.input_tensors = list(input_tensors)
        self.inbound_layers = [t._keras_history[0] for t in self.input_tensors]
        self.node_indices = [t._keras_history[1] for t in self.input_tensors]
        self.tensor_indices = [t._keras_history[2] for t in self.input_tensors]
        index = len(layer.inbound_nodes)
        shapes = output_shape if isinstance(output_shape, list) else [output_shape]
        self.output_tensors = [KerasTensor(shape, layer, index, i) for i, shape in enumerate(shapes)]
        layer.inbound_nodes.append(self)
        for inbound in self.inbound_layers:
            inbound.outbound_nodes.append(self)


def get_source_inputs(tensor):
    """The model inputs (tensors of InputLayers) that `tensor` depends on, in order."""
    found, seen = [], set()

    def visit(t):
        node = t.node
        if not node.input_tensors or getattr(node.outbound_layer, 'is_model_input', False):
            if id(t) not in seen:
                seen.add(id(t))
                found.append(t)
            return
        for inbound in node.input_tensors:
            visit(inbound)
    visit(tensor)
    return found
