"""Expressions on Keras tensors: one function applied to graph tensors.

`K.mean(model.output)`, `1 + z_log_var - K.square(z_mean)`, `x[:, 0]` or
`np.tanh(x)` on Keras tensors each add one call of an `Operation` to the
graph: a layer without weights of its own whose computation is the function,
run on the NumPy values of its input tensors when the graph is evaluated.
Its gradient is traced (`minikeras.autodiff`), so any backend or NumPy code
the tracer knows differentiates, and an operation it does not know fails when
the expression is built, with the tracer's message naming it.

NumPy float arrays among the arguments (Keras variables made by
`K.variable`, a layer's weights) are kept by reference, not copied: the
expression reads their current value each time it runs, and the gradient
with respect to them is what `K.gradients` returns for those arrays.
"""
import numbers

import numpy as np

from .. import autodiff
from .base_layer import Layer, get_uid, traced_forward
from .graph import KerasTensor, Node, shape_repr


class _Slot(object):
    """Where an argument of the function is filled in at run time."""
    __slots__ = ('kind', 'index')

    def __init__(self, kind, index):
        self.kind, self.index = kind, index


def _template(value, tensors, variables):
    """`value` with every Keras tensor and float array replaced by a `_Slot`."""
    if isinstance(value, KerasTensor):
        for i, t in enumerate(tensors):
            if t is value:
                return _Slot('tensor', i)
        tensors.append(value)
        return _Slot('tensor', len(tensors) - 1)
    if isinstance(value, np.ndarray) and value.dtype.kind == 'f':
        for i, v in enumerate(variables):
            if v is value:
                return _Slot('variable', i)
        variables.append(value)
        return _Slot('variable', len(variables) - 1)
    if isinstance(value, list):
        return [_template(v, tensors, variables) for v in value]
    if type(value) is tuple:
        return tuple(_template(v, tensors, variables) for v in value)
    if isinstance(value, dict):
        return {k: _template(v, tensors, variables) for k, v in value.items()}
    return value


def _fill(template, tensors, variables):
    if isinstance(template, _Slot):
        return (tensors if template.kind == 'tensor' else variables)[template.index]
    if isinstance(template, list):
        return [_fill(v, tensors, variables) for v in template]
    if type(template) is tuple:
        return tuple(_fill(v, tensors, variables) for v in template)
    if isinstance(template, dict):
        return {k: _fill(v, tensors, variables) for k, v in template.items()}
    return template


def contains_keras_tensor(value):
    """Whether a Keras tensor is among `value` (lists, tuples and dicts searched)."""
    if isinstance(value, KerasTensor):
        return True
    if isinstance(value, (list, tuple)):
        return any(contains_keras_tensor(v) for v in value)
    if isinstance(value, dict):
        return any(contains_keras_tensor(v) for v in value.values())
    return False


class Operation(Layer):
    """One function applied to Keras tensors (and constants), as a graph node.

    # Arguments
        function: the function, of NumPy values.
        args, kwargs: its arguments, Keras tensors among them.
        op_name: the operation's name in messages ('K.mean', 'add', ...).
    """

    def __init__(self, function, args, kwargs, op_name):
        label = op_name.replace('np.', '').replace('K.', '').lower()
        super(Operation, self).__init__(name='%s_op_%d' % (label, get_uid(label + '_op')))
        self.function = function
        self.op_name = op_name
        tensors, variables = [], []
        self._template = _template((tuple(args), dict(kwargs)), tensors, variables)
        self.input_tensors = tensors
        # The arrays the expression reads, by reference; their gradients land
        # in the gradient buffers, as a layer's weights do.
        self._trainable_weights = variables
        self._gradients = [np.zeros_like(v) for v in variables]
        self.built = True

    def compute_mask(self, x, mask=None):
        # an expression reads values only; a mask stops here, as in Keras 1
        return None

    def _evaluate(self, tensor_values, variable_values):
        args, kwargs = _fill(self._template, tensor_values, variable_values)
        out = self.function(*args, **kwargs)
        if isinstance(out, tuple) and all(isinstance(v, numbers.Integral) for v in out):
            # a shape (K.shape): one integer tensor, as in Keras
            out = np.array(out, dtype='int64')
        return out

    def trainable_pairs(self):
        return list(zip(self._trainable_weights, self._gradients))

    def forward(self, x, training=False, need_input_grad=True):
        values = list(x) if len(self.input_tensors) != 1 else [x]
        count = len(values)
        traced = self._trainable_weights if self.weight_gradients_wanted else []

        def evaluate(*arrays):
            return self._evaluate(list(arrays[:count]),
                                  list(arrays[count:]) if traced else self._trainable_weights)
        try:
            # the walk's values are shared, never changed in place: no copies
            y, backprop = traced_forward(evaluate, values, traced, self._gradients, training,
                                         copy_inputs=False)
        except TypeError as error:
            raise TypeError('%s (in the graph expression %s): %s'
                            % (self.op_name, self.name, error))

        def backprop_inputs(dy):
            grads = [g if np.asarray(v).dtype.kind == 'f' else None
                     for g, v in zip(backprop(dy), values)]
            return grads if count != 1 else grads[0]
        return np.asarray(y), backprop_inputs


def _probe(tensor, batch):
    dims = tuple(batch if d is None else d for d in tensor.shape)
    return np.zeros(dims, dtype=tensor.dtype)


def _argument_spec(op, value):
    """(shape, dtype) of an argument of `op`: a tensor slot or a float array
    it reads; None for anything else."""
    if isinstance(value, _Slot):
        if value.kind == 'tensor':
            tensor = op.input_tensors[value.index]
            return tuple(tensor.shape), np.dtype(tensor.dtype)
        array = op._trainable_weights[value.index]
        return array.shape, array.dtype
    return None


def _getitem_shape(op, args):
    source, key = args
    spec = _argument_spec(op, source)
    if spec is None or _holds_slot(key):
        return None
    shape, dtype = spec
    shapes = []
    for unknown in ((2, 3) if None in shape else (2,)):
        # a zero-stride array of the shape: indexing it costs no memory
        probe = np.broadcast_to(np.zeros((), dtype), tuple(unknown if d is None else d
                                                             for d in shape))
        shapes.append(probe[key].shape)
    if len(shapes) == 2 and len(shapes[0]) != len(shapes[1]):
        return None
    found = tuple(a if a == b else None for a, b in zip(shapes[0], shapes[-1]))
    return found, dtype


def _dot_shape(op, args):
    specs = [_argument_spec(op, a) for a in args]
    if len(specs) != 2 or None in specs:
        return None
    (x, x_dtype), (y, y_dtype) = specs
    if len(x) < 2 or len(y) < 2 or (x[-1] is not None and y[-2] is not None and
                                    x[-1] != y[-2]):
        return None
    return tuple(x[:-1]) + tuple(y[:-2]) + tuple(y[-1:]), np.result_type(x_dtype, y_dtype)


def _transpose_shape(op, args):
    spec = _argument_spec(op, args[0]) if len(args) == 1 else None
    return None if spec is None else (tuple(reversed(spec[0])), spec[1])


def _batch_flatten_shape(op, args):
    spec = _argument_spec(op, args[0]) if len(args) == 1 else None
    if spec is None or len(spec[0]) < 2 or None in spec[0][1:]:
        return None
    shape, dtype = spec
    return (shape[0], int(np.prod(shape[1:]))), dtype


def _holds_slot(value):
    if isinstance(value, _Slot):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_slot(v) for v in value)
    return False


# Output shapes by rule, for operations whose gradient the tracer is known to
# take (so the probe's other job, finding an operation it cannot trace, is
# not needed): running them on zeros costs a whole computation on a feature
# map, several seconds for the Gram matrices of a style transfer.
_SHAPE_RULES = {
    'getitem': _getitem_shape,
    'K.dot': _dot_shape,
    'K.transpose': _transpose_shape,
    'K.batch_flatten': _batch_flatten_shape,
}


def _shape_by_rule(op):
    """(shape, dtype name) of `op`'s output from its rule, or None when it has
    none for these arguments (the caller probes)."""
    rule = _SHAPE_RULES.get(op.op_name)
    args, kwargs = op._template
    if rule is None or kwargs:
        return None
    found = rule(op, args)
    return None if found is None else (found[0], np.dtype(found[1]).name)


def _output_shape(op):
    """The output shape and dtype, by rule for a few operations
    (`_SHAPE_RULES`), else from running the function on zeros twice,
    with unknown dimensions (None) as 2 and then 3: the dimensions that change
    with them are unknown in the output too."""
    from .. import backend_ops
    by_rule = _shape_by_rule(op)
    if by_rule is not None:
        return by_rule
    known = all(d is not None for t in op.input_tensors for d in t.shape)
    outputs = []
    for batch in ((2,) if known else (2, 3)):
        probes = [_probe(t, batch) for t in op.input_tensors]
        count = len(probes)
        with np.errstate(all='ignore'), backend_ops.learning_phase_scope(0):
            # traced, so that an operation without a gradient fails here, when
            # the expression is written, and not when it is first evaluated
            out = op._evaluate(probes, op._trainable_weights)
            if not isinstance(out, (list, tuple)):
                out = autodiff.vjp(lambda *a: op._evaluate(list(a[:count]), list(a[count:])),
                                   *(probes + op._trainable_weights))[0]
        if isinstance(out, (list, tuple)):
            raise TypeError('%s on Keras tensors returned %d values; a graph expression must '
                            'give one tensor (apply it to each part separately)'
                            % (op.op_name, len(out)))
        outputs.append(np.asarray(out))
    first = outputs[0]
    if len(outputs) == 2 and outputs[1].shape != first.shape:
        if outputs[1].ndim != first.ndim:
            raise ValueError('%s on Keras tensors of shapes %s: the number of output axes '
                             'depends on the unknown dimensions' % (
                                 op.op_name, ', '.join(shape_repr(t.shape)
                                                       for t in op.input_tensors)))
        shape = tuple(None if a != b else a for a, b in zip(first.shape, outputs[1].shape))
    else:
        shape = first.shape
    return shape, first.dtype.name


def apply(function, args, kwargs, op_name):
    """`function(*args, **kwargs)` as a Keras tensor, for arguments among
    which are Keras tensors: the graph node of an expression."""
    op = Operation(function, args, kwargs, op_name)
    described = ', '.join('%s %s' % (t.name, shape_repr(t.shape)) for t in op.input_tensors)
    try:
        shape, dtype = _output_shape(op)
    except TypeError as error:
        raise TypeError('%s cannot be applied to Keras tensors %s: %s'
                        % (op_name, described, error))
    except (ValueError, IndexError) as error:
        raise ValueError('%s on Keras tensors %s failed on sample values (unknown sizes tried '
                         'as 2 and 3), so its output shape is unknown: %s. Give the inputs '
                         'a full batch_shape if the expression needs a fixed batch size.'
                         % (op_name, described, error))
    node = Node(op, op.input_tensors, shape)
    out = node.output_tensors[0]
    out.dtype = dtype
    op.input_shape = [t.shape for t in op.input_tensors]
    op.output_shape = shape
    return out


def _identity(value):
    return value


def variable_tensor(array):
    """A graph tensor whose value is the float array `array` (a Keras
    variable), read when the graph runs: what `Input(tensor=variable)` and
    the gradients with respect to the variable go through."""
    op = Operation(_identity, (array,), {}, 'K.variable')
    node = Node(op, [], array.shape)
    out = node.output_tensors[0]
    out.dtype = array.dtype.name
    op.input_shape, op.output_shape = [], array.shape
    return out
