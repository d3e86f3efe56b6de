"""Which batch rows of each tensor a requested gradient depends on.

A gradient walk (`execution.run_nodes`) follows the tensors that depend on
the tensors whose gradient is wanted. Along the batch axis that dependence is
often partial: neural style transfer concatenates two constant images and
the variable one into a batch of three, and every VGG layer computes each
batch row from the same row of its input alone, so only the third row of each
feature map depends on the variable, and only that row's backward pass is
needed for its gradient.

The walk keeps, for such tensors, the sorted tuple of rows that depend on the
wanted ones (a tensor absent from its table depends on them through every
row), and each node maps its inputs' rows to its outputs' rows:

- a layer whose class declares `independent_batch_rows` (True, or a function
  of the layer and the phase; `layers/batch_rows.py` declares them) keeps
  the rows of its one input;
- `K.concatenate` / `np.concatenate` on the batch axis, and slicing the batch
  axis with a slice, map them to the rows of the output; indexing it with an
  integer gives every row of the output, or none (the output then does not
  depend on the wanted tensors at all, and its backward pass is skipped);
- any other operation, and a layer whose weights' gradients are wanted,
  depend on the wanted tensors through every row of their outputs.

A batch-row independent layer whose input depends on the wanted tensors
through some rows only runs twice: on those rows with its backward pass kept,
and on the others without; its output is the two parts put back in place and
the gradients of its output and input are kept for those rows only. Its
output on the other rows can be kept from one walk to the next (`K.gradients`
keeps it while the layer's weights, the phase and those input rows are the
same). The numbers are the whole-batch layer's, up to float32 rounding: a
kernel may sum in another order for fewer rows (a matrix product instead of
direct loops), about 1e-7 relative.
"""
import numpy as np

from ..kernels.bits import same_bits


def _defining_class(cls, name):
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass
    return None


def independent_rows(layer, x, training):
    """Whether `layer` computes each batch row of its output from the same
    row of its input `x` alone, with the same numbers whatever the other rows
    (in the phase `training`)."""
    cls = type(layer)
    declaring = _defining_class(cls, 'independent_batch_rows')
    if declaring is None or np.ndim(x) < 2:
        return False
    # a subclass with a computation of its own (a custom layer deriving from
    # Dense) is not covered by its parent's declaration
    if any(_defining_class(cls, name) not in declaring.__mro__ for name in ('forward', 'call')):
        return False
    rule = vars(declaring)['independent_batch_rows']
    if callable(rule):
        return bool(rule(layer, training))
    return bool(rule)


def _consecutive(rows):
    return bool(rows) and rows[-1] - rows[0] == len(rows) - 1


def take_rows(array, rows):
    """`array[rows]` along the first axis, a view when the rows are consecutive."""
    if _consecutive(rows):
        return array[rows[0]:rows[-1] + 1]
    return np.take(array, rows, axis=0)


def _put_rows(array, rows, values):
    if _consecutive(rows):
        array[rows[0]:rows[-1] + 1] = values
    else:
        array[list(rows)] = values


def other_rows(rows, batch):
    """The rows of a batch of `batch` rows that are not in `rows`, as a tuple."""
    chosen = set(rows)
    return tuple(r for r in range(batch) if r not in chosen)


def expand_rows(gradient, rows, shape):
    """A gradient of shape `shape` that is `gradient` on `rows` and zero
    elsewhere (the rows whose gradient the walk does not follow)."""
    full = np.zeros(shape, dtype=np.result_type(gradient, np.float32))
    _put_rows(full, rows, gradient)
    return full


class _OtherRows(object):
    """The output of a layer on the rows a walk does not follow, with what it
    was computed from: the rows, the phase, copies of the layer's weights, and
    a copy of the input rows when no earlier layer of the walk vouches for them.

    `full` is the layer's whole-batch output, those rows filled in: a walk
    that reuses them writes the followed rows into it, instead of putting a
    new batch together (the feature maps of a style transfer are 40 MB a row)."""

    def __init__(self, layer, rows, training, x_rest, keep_input, full):
        self.rows, self.training = rows, training
        self.full = full
        self.weights = [np.array(w) for w in layer.weights]
        self.input = np.array(x_rest) if keep_input else None

    def matches(self, layer, rows, training, x_rest, input_unchanged):
        if self.rows != rows or self.training != training:
            return False
        weights = layer.weights
        if len(weights) != len(self.weights) or not all(
                same_bits(np.asarray(w), old) for w, old in zip(weights, self.weights)):
            return False
        if input_unchanged:
            return True
        return self.input is not None and same_bits(self.input, np.asarray(x_rest))


def kept_outputs(cache):
    """The whole-batch arrays a `split_forward` cache writes into from one walk
    to the next: a value of a walk that shares memory with one of them changes
    at the next walk, so a caller that hands it out copies it first."""
    return [entry.full for entry in cache.values()]


def split_forward(layer, x, rows, training, forward_kwargs, cache=None, key=None,
                  input_state=None):
    """Runs the batch-row independent `layer` on the `rows` of `x` with its
    backward pass, and on the other rows without one.

    The other rows' output can come from `cache` ({key: entry}, kept by the
    caller from one walk to the next): when the layer's weights, the phase
    and those rows of its input are what they were, it is the same.
    `input_state` says what is known of those input rows: 'unchanged' (an
    earlier layer of this walk reused its own), 'computed' (an earlier
    layer recomputed them) or None (they come from elsewhere: compared by
    value).

    With a cache, the whole-batch output `y` is the cache's array, which the
    next walk writes into (see `kept_outputs`).

    # Returns
        `(y, backprop, reused)`: the output for the whole batch; the layer's
        backprop closure for the rows `rows` (output gradient of those rows
        in, input gradient of those rows out); and whether the other rows'
        output came from the cache.
    """
    rest = other_rows(rows, x.shape[0])
    y_rows, backprop = layer.forward(take_rows(x, rows), training=training,
                                     need_input_grad=True, **forward_kwargs)
    y_rows = np.asarray(y_rows)
    x_rest = take_rows(x, rest)
    entry = cache.get(key) if cache is not None else None
    reused = entry is not None and entry.matches(layer, rows, training, x_rest,
                                                 input_state == 'unchanged')
    if reused:
        y = entry.full
        _check_parts(layer, rows, y_rows, y[:0])
        if y.dtype != np.result_type(y_rows, y):
            reused = False
    if not reused:
        y_rest, _ = layer.forward(x_rest, training=training, need_input_grad=False,
                                  **forward_kwargs)
        y_rest = np.asarray(y_rest)
        _check_parts(layer, rows, y_rows, y_rest)
        shape = (x.shape[0],) + y_rows.shape[1:]
        dtype = np.result_type(y_rows, y_rest)
        # the old buffer's pages are already mapped: no page faults to fill them
        y = entry.full if entry is not None and entry.full.shape == shape and \
            entry.full.dtype == dtype else np.empty(shape, dtype=dtype)
        _put_rows(y, rest, y_rest)
        if cache is not None:
            cache[key] = _OtherRows(layer, rows, training, x_rest, input_state is None, y)
    _put_rows(y, rows, y_rows)
    return y, backprop, reused


def _check_parts(layer, rows, y_rows, y_rest):
    if y_rows.shape[1:] != y_rest.shape[1:] or y_rows.ndim == 0:
        raise ValueError('Layer %s (%s) declares independent batch rows, but its output on '
                         'rows %s has shape %s and on the other rows %s'
                         % (layer.name, type(layer).__name__, rows, y_rows.shape,
                            y_rest.shape[1:]))


def _is_integer_index(key):
    """An integer index (not a bool, which NumPy reads as a mask)."""
    return isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_))


def _normalized_axis(axis, ndim):
    return axis + ndim if isinstance(axis, (int, np.integer)) and axis < 0 else axis


def _slot_value(op, slot, args):
    return args[slot.index] if slot.kind == 'tensor' else op._trainable_weights[slot.index]


def _concatenate_rows(op, input_rows, args, output):
    """Rows of `K.concatenate(parts, axis)` / `np.concatenate(parts, axis)`."""
    from .operation import _Slot
    positional, keywords = op._template
    parts = positional[0] if positional else keywords.get('tensors', keywords.get('arrays'))
    default = -1 if op.op_name == 'K.concatenate' else 0
    axis = positional[1] if len(positional) > 1 else keywords.get('axis', default)
    if not isinstance(parts, (list, tuple)) or \
            _normalized_axis(axis, np.ndim(output)) != 0:
        return None
    found, offset = [], 0
    for part in parts:
        value = _slot_value(op, part, args) if isinstance(part, _Slot) else part
        size = np.shape(value)[0] if np.ndim(value) else None
        if size is None:
            return None
        if isinstance(part, _Slot) and part.kind == 'tensor':
            rows = input_rows[part.index]
            if rows is None:
                rows = range(size)
            found.extend(offset + r for r in rows)
        offset += size
    return tuple(sorted(set(found)))


def _getitem_rows(op, input_rows, args, output):
    """Rows of `x[key]` when the key indexes the batch axis with an integer
    (every row of the output, or none when that row does not depend on the
    wanted tensors) or a slice (the output rows whose source row depends on
    them)."""
    from .operation import _Slot
    (source, key), _ = op._template
    if not isinstance(source, _Slot) or source.kind != 'tensor':
        return None
    parts = key if type(key) is tuple else (key,)
    if not parts or any(k is None or k is Ellipsis or isinstance(k, (list, np.ndarray, _Slot))
                        for k in parts):
        return None
    rows = input_rows[source.index]
    if rows is None:
        return None
    batch = np.shape(args[source.index])[0]
    first = parts[0]
    if _is_integer_index(first):
        return None if first % batch in rows else ()
    if not isinstance(first, slice):
        return None
    chosen = set(rows)
    return tuple(i for i, r in enumerate(range(*first.indices(batch))) if r in chosen)


def row_getitem_backprop(op, input_rows, args):
    """For `x[i, ...]` (an integer index of the batch axis, basic indices
    after it) where `x` is followed on `input_rows` and row i is one of them:
    a backprop closure that gives the gradient of `x` on those rows only
    (the traced one builds a zero gradient of the whole batch, which the walk
    then cuts down to the rows). None for any other operation.
    """
    from .operation import _Slot
    if getattr(op, 'op_name', None) != 'getitem' or op._trainable_weights:
        return None
    (source, key), _ = op._template
    if not isinstance(source, _Slot) or source.kind != 'tensor' or len(input_rows) != 1:
        return None
    rows = input_rows[0]
    parts = key if type(key) is tuple else (key,)
    value = args[source.index]
    if rows is None or not parts or not isinstance(value, np.ndarray) or \
            value.dtype.kind != 'f' or value.ndim == 0:
        return None
    first = parts[0]
    if not _is_integer_index(first):
        return None
    if not all(isinstance(k, slice) or _is_integer_index(k) for k in parts[1:]):
        return None
    batch = value.shape[0]
    if not -batch <= first < batch or first % batch not in rows:
        return None
    at = rows.index(first % batch)
    rest = tuple(parts[1:])
    whole = len(rows) == 1 and all(k == slice(None) for k in rest)
    shape = (len(rows),) + value.shape[1:]

    def backprop_rows(dy):
        dy = np.asarray(dy, dtype=value.dtype)
        if whole and dy.shape == shape[1:]:
            return dy[np.newaxis]
        grad = np.zeros(shape, dtype=value.dtype)
        grad[at][rest] = dy
        return grad
    return backprop_rows


_OPERATION_RULES = {
    'K.concatenate': _concatenate_rows,
    'np.concatenate': _concatenate_rows,
    'getitem': _getitem_rows,
}


def output_rows(layer, input_rows, args, output, training):
    """The rows of the (single) output of `layer` that depend on the wanted
    tensors, as a sorted tuple: None for every row, () for none.

    # Arguments
        input_rows: per input tensor, the tuple of its rows that depend on
            the wanted tensors, None for every row, () for none.
        args: the input values.
        output: the output value.
    """
    from .operation import Operation
    if np.ndim(output) == 0:
        return None
    is_operation = isinstance(layer, Operation)
    if not is_operation and (len(input_rows) != 1 or input_rows[0] is None):
        # the common case of every batch of a fit, decided without looking
        # the layer's class up: a layer follows the rows of one input only
        return None
    if is_operation:
        rule = _OPERATION_RULES.get(layer.op_name)
        if rule is None:
            return None
        rows = rule(layer, input_rows, args, output)
    elif len(input_rows) == 1 and independent_rows(layer, args[0], training):
        rows = input_rows[0]
    else:
        return None
    if rows is None or (rows and len(rows) == np.shape(output)[0]):
        return None
    return rows
