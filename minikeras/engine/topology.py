"""The `Layer` base class: weights, shapes, naming and (de)serialisation.

A layer's computation lives in `forward(x, training)`, which returns the
output and a `backprop` closure. `backprop(dy)` adds the gradients of the
layer's weights into `layer.gradients` and returns the gradient of the input.
Everything backward needs is captured by the closure, so a layer can be run
for prediction between a forward pass and its backward pass.
"""
import collections

import numpy as np

from .. import initializations

_UIDS = collections.defaultdict(int)


def get_uid(prefix=''):
    """Returns 1, 2, 3, ... for successive calls with the same prefix."""
    _UIDS[prefix] += 1
    return _UIDS[prefix]


def reset_uids():
    """Restarts layer numbering (names like 'dense_1')."""
    _UIDS.clear()


def shape_repr(shape):
    """Formats a shape with None for the batch axis, as Keras 1 printed it."""
    return '(' + ', '.join('None' if d is None else str(d) for d in shape) + \
        (',)' if len(shape) == 1 else ')')


class Layer(object):
    """Base class of every layer.

    # Arguments
        input_shape: shape tuple of one sample (no batch axis); only for the
            first layer of a model.
        batch_input_shape: the same, batch axis included (None for any size).
        input_dtype: dtype of the input (float32 by default).
        name: the layer's name; by default `<classname>_<n>`.
        trainable: whether the optimizer updates the layer's weights.
        weights: a list of arrays to set after the layer is built.
    """

    def __init__(self, input_shape=None, batch_input_shape=None, input_dtype=None,
                 name=None, trainable=True, weights=None):
        if input_shape is not None and batch_input_shape is not None:
            raise ValueError('%s: give input_shape or batch_input_shape, not both'
                             % type(self).__name__)
        if input_shape is not None:
            batch_input_shape = (None,) + tuple(input_shape)
        self.batch_input_shape = tuple(batch_input_shape) if batch_input_shape is not None else None
        self.input_dtype = input_dtype or 'float32'
        self.name = name or '%s_%d' % (type(self).__name__.lower(),
                                       get_uid(type(self).__name__.lower()))
        self.trainable = trainable
        self.built = False
        self.input_shape = None
        self.output_shape = None
        self._built_input_shape = None
        self.inbound_nodes = []
        self.outbound_nodes = []
        self.weight_regularizers = []
        self.activity_regularizer = None
        self.constraints = {}
        self._trainable_weights = []
        self._non_trainable_weights = []
        self._gradients = []
        self._trainable_names = []
        self._non_trainable_names = []
        self._initial_weights = weights

    # -- weights -------------------------------------------------------------

    def add_weight(self, shape, initializer, name=None, trainable=True,
                   regularizer=None, constraint=None, dim_ordering='th'):
        """Creates a float32 weight of `shape` with `initializer` and registers it.

        # Arguments
            shape: tuple of ints.
            initializer: an init name or function (see `initializations`).
            name: the weight's name (used in saved files), e.g. 'dense_1_W'.
            trainable: whether the optimizer updates it.
            regularizer: an optional regularizer, counted in the loss.
            constraint: an optional function applied after each update.
            dim_ordering: kernel layout for the fan computation.

        # Returns
            The new array. Training updates it in place.
        """
        init = initializations.get(initializer)
        value = np.ascontiguousarray(init(tuple(shape), dim_ordering=dim_ordering), dtype='float32')
        if value.shape != tuple(shape):
            raise ValueError('%s: init %r returned shape %s for weight %s, expected %s'
                             % (self.name, initializer, value.shape, name, tuple(shape)))
        name = name or '%s_W%d' % (self.name, len(self.weights))
        if trainable:
            self._trainable_weights.append(value)
            self._trainable_names.append(name)
            self._gradients.append(np.zeros_like(value))
        else:
            self._non_trainable_weights.append(value)
            self._non_trainable_names.append(name)
        if regularizer is not None:
            self.weight_regularizers.append((regularizer, value))
        if constraint is not None:
            self.constraints[id(value)] = constraint
        return value

    @property
    def trainable_weights(self):
        """The weights the optimizer updates (none when `trainable` is False)."""
        return list(self._trainable_weights) if self.trainable else []

    @trainable_weights.setter
    def trainable_weights(self, weights):
        # Keras 1 custom layers write `self.trainable_weights = [self.W, ...]` in build().
        self._trainable_weights = [_as_weight(w) for w in weights]
        self._gradients = [np.zeros_like(w) for w in self._trainable_weights]
        self._trainable_names = ['%s_W%d' % (self.name, i) for i in range(len(weights))]
        self._relink(weights, self._trainable_weights)

    @property
    def non_trainable_weights(self):
        """The weights the optimizer leaves alone."""
        if self.trainable:
            return list(self._non_trainable_weights)
        return list(self._trainable_weights) + list(self._non_trainable_weights)

    @non_trainable_weights.setter
    def non_trainable_weights(self, weights):
        self._non_trainable_weights = [_as_weight(w) for w in weights]
        self._non_trainable_names = ['%s_S%d' % (self.name, i) for i in range(len(weights))]
        self._relink(weights, self._non_trainable_weights)

    def _relink(self, given, stored):
        """Points attributes that held a converted weight at the stored array."""
        for original, weight in zip(given, stored):
            if original is not weight:
                for name, value in list(vars(self).items()):
                    if value is original:
                        setattr(self, name, weight)

    @property
    def weights(self):
        """All weights, trainable first (the order of `get_weights`)."""
        return list(self._trainable_weights) + list(self._non_trainable_weights)

    @property
    def weight_names(self):
        """Names of the weights, in the order of `weights` (as Keras 1 saved them)."""
        return list(self._trainable_names) + list(self._non_trainable_names)

    @property
    def gradients(self):
        """Gradient buffers, aligned with the layer's own trainable weights."""
        return self._gradients

    def trainable_pairs(self):
        """(weight, gradient buffer) pairs that the optimizer should update."""
        if not self.trainable:
            return []
        return list(zip(self._trainable_weights, self._gradients))

    def get_weights(self):
        """Returns copies of the layer's weights as a list of arrays."""
        return [np.array(w) for w in self.weights]

    def set_weights(self, weights):
        """Sets the layer's weights from a list of arrays (Keras 1 order and shapes).

        Every array is checked before any weight changes.
        """
        weights = list(weights)
        own = self.weights
        if len(weights) != len(own):
            raise ValueError('Layer %s (%s) expects %d weight arrays, got %d'
                             % (self.name, type(self).__name__, len(own), len(weights)))
        checked = []
        for name, current, new in zip(self.weight_names, own, weights):
            new = _weight_array(new, self.name, name)
            if new.shape != current.shape:
                raise ValueError('Layer %s (%s): weight %s has shape %s, got an array of shape %s'
                                 % (self.name, type(self).__name__, name,
                                    current.shape, new.shape))
            checked.append(new)
        for current, new in zip(own, checked):
            current[...] = new

    def count_params(self):
        """Number of scalars in the layer's weights."""
        return int(sum(w.size for w in self.weights))

    # -- shapes and computation ----------------------------------------------

    def build(self, input_shape):
        """Creates the layer's weights for `input_shape` (batch axis first)."""
        self.built = True

    def get_output_shape_for(self, input_shape):
        """Returns the output shape for an input shape (batch axis included)."""
        return input_shape

    def connect(self, input_shape):
        """Builds the layer for `input_shape` (a tuple, or a list of tuples for
        layers with several inputs) and records its input and output shapes."""
        input_shape = _freeze_shape(input_shape)
        if not self.built:
            self.build(input_shape)
            self.built = True
            self._built_input_shape = input_shape
            if self._initial_weights is not None:
                self.set_weights(self._initial_weights)
                self._initial_weights = None
        elif self.weights and not _same_sample_shape(self._built_input_shape, input_shape):
            raise ValueError('Layer %s (%s) was built for input shape %s and cannot take input '
                             'of shape %s' % (self.name, type(self).__name__,
                                              self._built_input_shape, input_shape))
        output_shape = _freeze_shape(self.get_output_shape_for(input_shape))
        if self.input_shape is None:
            self.input_shape, self.output_shape = input_shape, output_shape
        return output_shape

    def call(self, x, mask=None):
        """Computes the layer's output for a NumPy array `x` (inference mode)."""
        return self.forward(x, training=False)[0]

    def forward(self, x, training=False, need_input_grad=True):
        """Computes the output and returns `(y, backprop)`.

        Layers written the Keras 1 way (a `call` on `keras.backend` or NumPy
        code, weights as attributes) get their gradients by tracing `call`
        with `minikeras.autodiff`, the weights traced too.
        """
        if type(self).call is Layer.call:
            raise TypeError('Layer %s (%s) defines neither forward() nor call()'
                            % (self.name, type(self).__name__))
        from .. import autodiff
        from .. import backend_ops
        weights = list(self._trainable_weights) if self.trainable else []
        holders = [(name, index) for name, value in vars(self).items()
                   for index, weight in enumerate(weights) if value is weight]

        def traced_call(inputs, *traced_weights):
            saved = {name: getattr(self, name) for name, _ in holders}
            for name, index in holders:
                setattr(self, name, traced_weights[index])
            try:
                with backend_ops.learning_phase_scope(1 if training else 0):
                    return self.call(inputs)
            finally:
                for name, value in saved.items():
                    setattr(self, name, value)
        y, backward = autodiff.vjp(traced_call, x, *weights)

        def backprop(dy):
            grads = backward(dy)
            for buffer, grad in zip(self._gradients, grads[1:]):
                buffer += grad
            return grads[0]
        return np.asarray(y, dtype='float32'), backprop

    def __call__(self, x, mask=None):
        """On Keras tensors (from `Input` or other layers), adds this layer to
        the graph and returns its output tensor; on arrays, computes the output."""
        tensors = x if isinstance(x, (list, tuple)) else [x]
        symbolic = [isinstance(t, KerasTensor) for t in tensors]
        if all(symbolic):
            return self._call_on_tensors(list(tensors) if isinstance(x, (list, tuple)) else x)
        if any(symbolic):
            raise TypeError('Layer %s was called on a mix of Keras tensors and arrays' % self.name)
        return self.call(x, mask)

    def _call_on_tensors(self, x):
        inputs = x if isinstance(x, list) else [x]
        input_shape = [t.shape for t in inputs] if isinstance(x, list) else x.shape
        output_shape = self.connect(input_shape)
        node = Node(self, inputs, output_shape)
        return node.output_tensors if isinstance(output_shape, list) else node.output_tensors[0]

    def get_output_shape_at(self, node_index):
        """Output shape of the layer's `node_index`-th call."""
        shapes = [t.shape for t in self.inbound_nodes[node_index].output_tensors]
        return shapes if len(shapes) > 1 else shapes[0]

    def get_input_shape_at(self, node_index):
        """Input shape of the layer's `node_index`-th call."""
        shapes = [t.shape for t in self.inbound_nodes[node_index].input_tensors]
        return shapes if len(shapes) > 1 else shapes[0]

    # -- configuration ---------------------------------------------------------

    def get_config(self):
        """Returns the layer's constructor arguments as a JSON-friendly dict."""
        config = {'name': self.name, 'trainable': self.trainable}
        if self.batch_input_shape is not None:
            config['batch_input_shape'] = self.batch_input_shape
            config['input_dtype'] = self.input_dtype
        return config

    @classmethod
    def from_config(cls, config):
        """Creates a layer from the dict returned by `get_config`."""
        return cls(**config)

    def __repr__(self):
        return '<%s %s>' % (type(self).__name__, self.name)


def _as_weight(value):
    """A weight as the optimizer updates it in place: a contiguous float32 array."""
    array = np.asarray(value)
    if array.dtype != np.float32 or not array.flags.c_contiguous:
        array = np.ascontiguousarray(array, dtype='float32')
    return array


def _freeze_shape(shape):
    """Tuples all the way down (a list of shapes stays a list of tuples)."""
    if isinstance(shape, list):
        return [tuple(s) for s in shape]
    return tuple(shape)


def _same_sample_shape(a, b):
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and \
            all(_same_sample_shape(x, y) for x, y in zip(a, b))
    return len(a) == len(b) and all(x is None or y is None or x == y
                                    for x, y in zip(a[1:], b[1:]))


def to_list(x):
    """`x` as a list (a single item becomes a one-item list)."""
    return list(x) if isinstance(x, (list, tuple)) else [x]


class KerasTensor(object):
    """A symbolic output in a graph of layers: its shape (batch axis None)
    and where it comes from, `_keras_history = (layer, node_index, tensor_index)`."""

    def __init__(self, shape, layer, node_index, tensor_index):
        self._keras_shape = tuple(shape)
        self._keras_history = (layer, node_index, tensor_index)

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
    def name(self):
        layer, node_index, tensor_index = self._keras_history
        return '%s_ib-%d_%d' % (layer.name, node_index, tensor_index)

    def __repr__(self):
        return '<KerasTensor %s shape=%s>' % (self.name, shape_repr(self._keras_shape))


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


class InputLayer(Layer):
    """The layer behind `Input()`: it holds a model input's shape and passes
    the data through."""

    def __init__(self, input_shape=None, batch_input_shape=None, input_dtype=None, name=None):
        if name is None:
            name = 'input_%d' % get_uid('input')
        super(InputLayer, self).__init__(input_shape=input_shape,
                                         batch_input_shape=batch_input_shape,
                                         input_dtype=input_dtype, name=name)
        if self.batch_input_shape is None:
            raise ValueError('InputLayer %s needs input_shape or batch_input_shape' % self.name)
        self.built = True
        self.input_shape = self.output_shape = self.batch_input_shape
        Node(self, [], self.batch_input_shape)

    def forward(self, x, training=False, need_input_grad=True):
        return x, lambda dy: dy

    def get_config(self):
        return {'batch_input_shape': self.batch_input_shape, 'input_dtype': self.input_dtype,
                'name': self.name}


def Input(shape=None, batch_shape=None, name=None, dtype='float32'):
    """Creates a Keras tensor: the entry point of a functional model.

    # Example
    ```python
        x = Input(shape=(784,))
        y = Dense(10, activation='softmax')(Dense(64)(x))
        model = Model(input=x, output=y)
    ```

    # Arguments
        shape: shape tuple of one sample, without the batch axis.
        batch_shape: the full shape, batch axis included (None for any size).
        name: the input's name.
        dtype: the data type ('float32').
    """
    if shape is None and batch_shape is None:
        raise ValueError('Input() needs shape (without the batch axis) or batch_shape')
    layer = InputLayer(input_shape=shape, batch_input_shape=batch_shape, input_dtype=dtype,
                       name=name)
    return layer.inbound_nodes[0].output_tensors[0]


def get_source_inputs(tensor):
    """The model inputs (tensors of InputLayers) that `tensor` depends on, in order."""
    found, seen = [], set()

    def visit(t):
        node = t.node
        if not node.input_tensors:
            if id(t) not in seen:
                seen.add(id(t))
                found.append(t)
            return
        for inbound in node.input_tensors:
            visit(inbound)
    visit(tensor)
    return found


_MERGE_MODES = ('sum', 'mul', 'concat', 'ave', 'cos', 'dot', 'max')


def _batch_dot_subscripts(ndim1, ndim2, axes):
    letters = 'abcdefghijklmnopqrstuvwxyz'
    left = ['A'] + [letters[i] for i in range(ndim1 - 1)]
    right = ['A'] + [letters[ndim1 - 1 + i] for i in range(ndim2 - 1)]
    right[axes[1]] = left[axes[0]]
    out = ['A'] + [c for i, c in enumerate(left) if i not in (0, axes[0])] + \
        [c for i, c in enumerate(right) if i not in (0, axes[1])]
    return ''.join(left), ''.join(right), ''.join(out)


class Merge(Layer):
    """Merges a list of tensors (or the outputs of a list of models) into one.

    # Example
    ```python
        merged = Sequential()
        merged.add(Merge([left_model, right_model], mode='concat'))
    ```

    # Arguments
        layers: optional list of models or layers whose outputs to merge now
            (Keras 1's Sequential style); otherwise call the layer on tensors.
        mode: 'sum', 'mul', 'concat', 'ave', 'cos', 'dot', 'max', or a
            function of the list of inputs.
        concat_axis: axis for 'concat'.
        dot_axes: int or pair of ints, the axes contracted by 'dot' and 'cos'.
        output_shape: the output shape (without batch axis) or a function of
            the input shapes; needed when `mode` is a function.
        arguments: extra keyword arguments for a function `mode`.
        node_indices, tensor_indices: which call of each layer in `layers`
            to take the output of (default: the first).
    """

    def __init__(self, layers=None, mode='sum', concat_axis=-1, dot_axes=-1, output_shape=None,
                 output_mask=None, arguments=None, node_indices=None, tensor_indices=None,
                 name=None):
        super(Merge, self).__init__(name=name)
        if not callable(mode) and mode not in _MERGE_MODES:
            raise ValueError('Merge %s: mode must be one of %s or a function, got %r'
                             % (self.name, _MERGE_MODES, mode))
        self.mode = mode
        self.concat_axis = concat_axis
        self.dot_axes = dot_axes
        self._output_shape = output_shape
        self.arguments = dict(arguments or {})
        self.node_indices = node_indices
        self.tensor_indices = tensor_indices
        self.layers = list(layers) if layers else None
        if layers:
            if not isinstance(layers, (list, tuple)) or len(layers) < 2:
                raise TypeError('Merge %s needs a list of at least 2 layers, got %r'
                                % (self.name, layers))
            node_indices = node_indices or [0] * len(layers)
            tensor_indices = tensor_indices or [0] * len(layers)
            tensors = []
            for layer, node_index, tensor_index in zip(layers, node_indices, tensor_indices):
                if getattr(layer, 'outputs', None) and not layer.inbound_nodes:
                    tensors.append(layer.outputs[tensor_index])  # a model: merge its output
                elif layer.inbound_nodes:
                    tensors.append(layer.inbound_nodes[node_index].output_tensors[tensor_index])
                else:
                    raise ValueError('Merge %s: layer %s is not connected to any input yet'
                                     % (self.name, layer.name))
            self(tensors)

    def _normalized_dot_axes(self, input_shapes):
        axes = self.dot_axes
        n1, n2 = len(input_shapes[0]), len(input_shapes[1])
        if isinstance(axes, int):
            axes = [axes % n1, axes % n2] if axes < 0 else [axes, axes]
        axes = list(axes)
        if len(axes) != 2 or not all(isinstance(a, int) for a in axes):
            raise ValueError('Merge %s: dot_axes must be an int or a pair of ints, got %r'
                             % (self.name, self.dot_axes))
        return [a % n for a, n in zip(axes, (n1, n2))]

    def get_output_shape_for(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise TypeError('Merge %s must be called on a list of at least 2 tensors, got %r'
                            % (self.name, input_shape))
        shapes = [tuple(s) for s in input_shape]
        if callable(self.mode):
            if callable(self._output_shape):
                return tuple(self._output_shape(shapes))
            if self._output_shape is not None:
                return (shapes[0][0],) + tuple(self._output_shape)
            raise ValueError('Merge %s has a function as mode: give output_shape too' % self.name)
        if self.mode in ('sum', 'mul', 'ave', 'max', 'cos') and \
                len({s[1:] for s in shapes}) > 1:
            raise ValueError('Merge %s: mode %r needs inputs of the same shape, got %s'
                             % (self.name, self.mode, shapes))
        if self.mode in ('sum', 'mul', 'ave', 'max'):
            return shapes[0]
        if self.mode == 'concat':
            axis = self.concat_axis
            rest = {s[:axis % len(s)] + s[axis % len(s) + 1:] for s in shapes}
            if len(rest) > 1 or len({len(s) for s in shapes}) > 1:
                raise ValueError('Merge %s: "concat" needs shapes that match except on axis %d, '
                                 'got %s' % (self.name, axis, shapes))
            out = list(shapes[0])
            sizes = [s[axis] for s in shapes]
            out[axis] = None if None in sizes else sum(sizes)
            return tuple(out)
        if len(shapes) != 2:
            raise ValueError('Merge %s: mode %r takes exactly 2 inputs, got %d'
                             % (self.name, self.mode, len(shapes)))
        axes = self._normalized_dot_axes(shapes)
        if shapes[0][axes[0]] != shapes[1][axes[1]]:
            raise ValueError('Merge %s: dimension mismatch for mode %r: %s != %s (shapes %s, %s)'
                             % (self.name, self.mode, shapes[0][axes[0]], shapes[1][axes[1]],
                                shapes[0], shapes[1]))
        if self.mode == 'cos' and len(shapes[0]) != 2:
            raise ValueError('Merge %s: mode "cos" supports 2D inputs (batch, features), got %s'
                             % (self.name, shapes))
        first = [d for i, d in enumerate(shapes[0]) if i != axes[0]]
        second = [d for i, d in enumerate(shapes[1]) if i not in (0, axes[1])]
        out = first + second
        return tuple(out + [1] if len(out) == 1 else out)

    def forward(self, inputs, training=False, need_input_grad=True):
        xs = list(inputs)
        mode = self.mode
        if callable(mode):
            from .. import autodiff
            y, backward = autodiff.vjp(lambda *args: mode(list(args), **self.arguments), *xs)
            return np.asarray(y, dtype='float32'), backward
        if mode in ('sum', 'ave'):
            scale = np.float32(1. / len(xs)) if mode == 'ave' else np.float32(1.)
            y = xs[0].copy()
            for x in xs[1:]:
                y += x
            if mode == 'ave':
                y *= scale
            return y, lambda dy: [dy * scale for _ in xs]
        if mode == 'mul':
            y = xs[0].copy()
            for x in xs[1:]:
                y *= x

            def backprop_mul(dy):
                grads = []
                for i in range(len(xs)):
                    g = dy.copy()
                    for j, x in enumerate(xs):
                        if j != i:
                            g *= x
                    grads.append(g)
                return grads
            return y, backprop_mul
        if mode == 'max':
            stacked = np.stack(xs)
            winner = np.argmax(stacked, axis=0)
            return stacked.max(axis=0), lambda dy: [dy * (winner == i) for i in range(len(xs))]
        if mode == 'concat':
            axis = self.concat_axis % xs[0].ndim
            bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
            return np.concatenate(xs, axis=axis), lambda dy: np.split(dy, bounds, axis=axis)
        a, b = xs
        axes = self._normalized_dot_axes([a.shape, b.shape])
        left, right, out = _batch_dot_subscripts(a.ndim, b.ndim, axes)
        if mode == 'dot':
            y = np.einsum('%s,%s->%s' % (left, right, out), a, b)
            y_shape = y.shape

            def backprop_dot(dy):
                dy = dy.reshape(y_shape)
                return [np.einsum('%s,%s->%s' % (out, right, left), dy, b),
                        np.einsum('%s,%s->%s' % (out, left, right), dy, a)]
            return y.reshape(y.shape + (1,) * (y.ndim == 1)), backprop_dot
        dot = np.sum(a * b, axis=1, keepdims=True)
        aa = np.sum(a * a, axis=1, keepdims=True)
        bb = np.sum(b * b, axis=1, keepdims=True)
        raw = np.sqrt(aa * bb)
        eps = np.float32(1e-7)
        norm = np.maximum(raw, eps)
        y = dot / norm

        def backprop_cos(dy):
            d_dot = dy / norm
            d_norm = -dy * dot / (norm * norm) * (raw >= eps)
            safe = np.where(raw > 0, raw, 1)
            da = d_dot * b + d_norm * (bb * a) / safe
            db = d_dot * a + d_norm * (aa * b) / safe
            return [da, db]
        return y, backprop_cos

    def get_config(self):
        config = {'name': self.name, 'mode': self.mode, 'concat_axis': self.concat_axis,
                  'dot_axes': self.dot_axes, 'output_shape': self._output_shape,
                  'arguments': self.arguments}
        if callable(self.mode) or callable(self._output_shape):
            from ..utils.generic_utils import func_dump
            if callable(self.mode):
                config['mode'] = func_dump(self.mode)
                config['mode_type'] = 'lambda'
            if callable(self._output_shape):
                config['output_shape'] = func_dump(self._output_shape)
                config['output_shape_type'] = 'lambda'
        return config

    @classmethod
    def from_config(cls, config):
        from ..utils.generic_utils import func_load
        config = dict(config)
        if config.pop('mode_type', None) == 'lambda':
            config['mode'] = func_load(config['mode'])
        if config.pop('output_shape_type', None) == 'lambda':
            config['output_shape'] = func_load(config['output_shape'])
        return cls(**config)


def merge(inputs, mode='sum', concat_axis=-1, dot_axes=-1, output_shape=None, output_mask=None,
          arguments=None, name=None):
    """Merges a list of Keras tensors into one tensor (functional API).

    # Arguments
        inputs: list of Keras tensors (at least 2).
        mode, concat_axis, dot_axes, output_shape, arguments, name: see `Merge`.

    # Returns
        The merged Keras tensor.
    """
    if not isinstance(inputs, (list, tuple)) or not all(isinstance(t, KerasTensor)
                                                        for t in inputs):
        raise TypeError('merge() takes a list of Keras tensors; for a list of arrays call '
                        'Merge(mode=...)(arrays), got %r' % (inputs,))
    layer = Merge(mode=mode, concat_axis=concat_axis, dot_axes=dot_axes,
                  output_shape=output_shape, arguments=arguments, name=name)
    return layer(list(inputs))


class Container(Layer):
    """A graph of layers from input tensors to output tensors. It runs the
    graph (`_run`) and is itself a layer: a model can be called on tensors or
    added to another model.

    # Arguments
        input: a Keras tensor from `Input()`, or a list of them.
        output: a Keras tensor, or a list of them.
        name: the model's name.
    """

    def __init__(self, input, output, name=None):
        super(Container, self).__init__(name=name or 'model_%d' % get_uid('model'))
        self._set_graph(to_list(input), to_list(output))
        self.layers = list(self._graph_layers)

    # -- the graph ------------------------------------------------------------

    def _set_graph(self, inputs, outputs):
        for t in inputs + outputs:
            if not isinstance(t, KerasTensor):
                raise TypeError('Model %s: inputs and outputs must be Keras tensors (from Input() '
                                'and layer calls), got %r' % (self.name, t))
        for t in inputs:
            if not isinstance(t._keras_history[0], InputLayer):
                raise ValueError('Model %s: input %s does not come from Input(); model inputs '
                                 'must be Input tensors' % (self.name, t.name))
        self.inputs, self.outputs = list(inputs), list(outputs)
        self._nodes, self._graph_layers = _order_graph(self, self.inputs, self.outputs)
        self.input_layers = [t._keras_history[0] for t in self.inputs]
        self.output_layers = [t._keras_history[0] for t in self.outputs]
        self.input_names = [layer.name for layer in self.input_layers]
        self.output_names = [layer.name for layer in self.output_layers]
        self.input_shapes = [t.shape for t in self.inputs]
        self.output_shapes = [t.shape for t in self.outputs]
        self.input_shape = self.input_shapes[0] if len(self.inputs) == 1 else self.input_shapes
        self.output_shape = self.output_shapes[0] if len(self.outputs) == 1 \
            else self.output_shapes
        self.batch_input_shape = self.input_shapes[0] if len(self.inputs) == 1 else None
        self.built = True

    @property
    def input(self):
        """The model's input tensor (a list for several inputs)."""
        return self.inputs[0] if len(self.inputs) == 1 else self.inputs

    @property
    def output(self):
        """The model's output tensor (a list for several outputs)."""
        return self.outputs[0] if len(self.outputs) == 1 else self.outputs

    def _leaf_layers(self):
        """[(layer, trainable)] for every non-container layer in the graph, once each."""
        found, seen = [], set()

        def collect(container, trainable):
            for layer in container._graph_layers:
                if isinstance(layer, Container):
                    collect(layer, trainable and layer.trainable)
                elif id(layer) not in seen:
                    seen.add(id(layer))
                    found.append((layer, trainable and layer.trainable))
        collect(self, self.trainable)
        return found

    def trainable_pairs(self):
        pairs = []
        for layer, trainable in self._leaf_layers():
            if trainable:
                pairs.extend(zip(layer._trainable_weights, layer._gradients))
        return pairs

    @property
    def weights(self):
        return [w for layer, _ in self._leaf_layers() for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for w, _ in self.trainable_pairs()]

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    @property
    def weight_names(self):
        return [n for layer, _ in self._leaf_layers() for n in layer.weight_names]

    def get_weights(self):
        """Copies of every weight, layer by layer (Keras 1 order)."""
        return [np.array(w) for w in self.weights]

    def set_weights(self, weights):
        """Sets every weight from `get_weights()`'s list; all arrays are checked
        before any weight changes."""
        weights = list(weights)
        own = self.weights
        if len(weights) != len(own):
            raise ValueError('Model %s expects %d weight arrays, got %d'
                             % (self.name, len(own), len(weights)))
        checked = []
        for name, current, new in zip(self.weight_names, own, weights):
            new = _weight_array(new, self.name, name)
            if new.shape != current.shape:
                raise ValueError('Model %s: weight %s has shape %s, got an array of shape %s'
                                 % (self.name, name, current.shape, new.shape))
            checked.append(new)
        for current, new in zip(own, checked):
            current[...] = new

    def get_layer(self, name=None, index=None):
        """Returns a layer by name or by index (in `model.layers`)."""
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError('get_layer: index %d out of range for a model of %d layers'
                                 % (index, len(self.layers)))
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError('No such layer: %r. Layers: %s'
                         % (name, [layer.name for layer in self.layers]))

    # -- running ---------------------------------------------------------------

    def _run(self, inputs, training, need_backprop, need_input_grads=False):
        """Runs the graph on arrays.

        # Returns
            `(outputs, backprop, penalty)`: the output arrays; a function that
            takes the output gradients, adds the weight gradients into the
            layers' buffers and returns the input gradients (None where not
            needed); and the activity-regularization loss.
        """
        values = {id(t): x for t, x in zip(self.inputs, inputs)}
        carries = {id(t) for t in self.inputs} if need_input_grads else set()
        records = []
        penalty = 0.
        for node in self._nodes:
            layer = node.outbound_layer
            args = [values[id(t)] for t in node.input_tensors]
            need_input = any(id(t) in carries for t in node.input_tensors)
            if isinstance(layer, Container):
                outs, backprop, inner_penalty = layer._run(args, training, need_backprop, need_input)
                penalty += inner_penalty
            else:
                out, backprop = layer.forward(args if len(args) > 1 else args[0],
                                              training=training, need_input_grad=need_input)
                outs = [out]
                regularizer = layer.activity_regularizer
                if regularizer is not None:
                    penalty += regularizer(out)
                    backprop = _with_activity_gradient(backprop, regularizer, out)
            for t, value in zip(node.output_tensors, outs):
                values[id(t)] = value
            if need_input or layer.trainable_pairs():
                carries.update(id(t) for t in node.output_tensors)
                if need_backprop:
                    records.append((node, backprop, need_input))

        def backprop_all(output_grads):
            grads = {}
            for t, g in zip(self.outputs, output_grads):
                _accumulate(grads, t, g)
            for node, backprop, need_input in reversed(records):
                outs = [grads.pop(id(t), None) for t in node.output_tensors]
                if all(g is None for g in outs):
                    continue
                outs = [np.zeros_like(values[id(t)]) if g is None else g
                        for t, g in zip(node.output_tensors, outs)]
                if isinstance(node.outbound_layer, Container):
                    input_grads = backprop(outs)
                else:
                    input_grads = backprop(outs[0])
                    if len(node.input_tensors) == 1:
                        input_grads = [input_grads]
                if need_input:
                    for t, g in zip(node.input_tensors, input_grads):
                        if g is not None:
                            _accumulate(grads, t, g)
            return [grads.get(id(t)) for t in self.inputs]
        return [values[id(t)] for t in self.outputs], backprop_all, penalty

    def connect(self, input_shape):
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        if len(shapes) != len(self.inputs) or not all(
                _same_sample_shape(a, tuple(b)) for a, b in zip(self.input_shapes, shapes)):
            raise ValueError('Model %s expects input shape(s) %s, got %s'
                             % (self.name, self.input_shapes, input_shape))
        return self.output_shape

    def forward(self, x, training=False, need_input_grad=True):
        outs, backprop, _ = self._run(to_list(x), training, True, need_input_grad)
        single_in, single_out = len(self.inputs) == 1, len(self.outputs) == 1

        def backprop_as_layer(dy):
            grads = backprop(to_list(dy) if not single_out else [dy])
            return grads[0] if single_in else grads
        return (outs[0] if single_out else outs), backprop_as_layer

    def call(self, x, mask=None):
        outs = self._run(to_list(x), training=False, need_backprop=False)[0]
        return outs[0] if len(outs) == 1 else outs

    # -- files -----------------------------------------------------------------

    def save(self, filepath, overwrite=True):
        """Saves architecture, weights, training configuration and optimizer
        state to one HDF5 file in Keras 1.2.2's layout (see `load_model`)."""
        from . import saving
        return saving.save_model(self, filepath, overwrite)

    def save_weights(self, filepath, overwrite=True):
        """Saves the weights to HDF5 in Keras 1.2.2's layout (one group per layer)."""
        from . import saving
        return saving.save_weights(self, filepath, overwrite)

    def load_weights(self, filepath, by_name=False):
        """Loads weights saved by `save_weights` (or by Keras 1, 2 or 3), by
        layer order or, with `by_name=True`, by layer name. Every shape is
        checked first: a failed load leaves the weights as they were."""
        from . import saving
        return saving.load_weights(self, filepath, by_name)

    def to_json(self, **kwargs):
        """The architecture as a JSON string (`model_from_json` reads it)."""
        from . import saving
        return saving.model_to_json(self, **kwargs)

    def to_yaml(self, **kwargs):
        """The architecture as a YAML string (needs PyYAML)."""
        from . import saving
        return saving.model_to_yaml(self, **kwargs)

    # -- description -------------------------------------------------------------

    def summary(self, line_length=100, positions=(.33, .55, .67, 1.)):
        """Prints the layers, their output shapes, parameter counts and
        connections, in Keras 1's format."""
        columns = [int(line_length * p) for p in positions]

        def row(fields):
            line = ''
            for index, field in enumerate(fields):
                if index > 0:
                    line = line[:-1] + ' '
                line = (line + str(field))[:columns[index]]
                line += ' ' * (columns[index] - len(line))
            print(line)

        own_nodes = {id(node) for node in self._nodes}
        print('_' * line_length)
        row(['Layer (type)', 'Output Shape', 'Param #', 'Connected to'])
        print('=' * line_length)
        for index, layer in enumerate(self.layers):
            connections = ['%s[%d][%d]' % (inbound.name, node_index, tensor_index)
                           for node in layer.inbound_nodes if id(node) in own_nodes
                           for inbound, node_index, tensor_index in
                           zip(node.inbound_layers, node.node_indices, node.tensor_indices)]
            shape = layer.output_shape
            shape = 'multiple' if isinstance(shape, list) else shape_repr(shape)
            row(['%s (%s)' % (layer.name, type(layer).__name__), shape, layer.count_params(),
                 connections[0] if connections else ''])
            for extra in connections[1:]:
                row(['', '', '', extra])
            print('=' * line_length if index == len(self.layers) - 1 else '_' * line_length)
        trainable = sum(w.size for w in self.trainable_weights)
        total = sum(w.size for w in self.weights)
        print('Total params: {:,}'.format(total))
        print('Trainable params: {:,}'.format(trainable))
        print('Non-trainable params: {:,}'.format(total - trainable))
        print('_' * line_length)

    def get_config(self):
        """Keras 1's functional config: layers with their inbound nodes, and
        the input and output layers."""
        own_nodes = {id(node) for node in self._nodes}
        node_ids = {}
        for layer in self._graph_layers:
            kept = [n for n in layer.inbound_nodes if id(n) in own_nodes or not n.input_tensors]
            for new_index, node in enumerate(kept):
                node_ids[(id(layer), layer.inbound_nodes.index(node))] = new_index
        layer_configs = []
        for layer in self._graph_layers:
            inbound = []
            for node in layer.inbound_nodes:
                if id(node) not in own_nodes or not node.input_tensors:
                    continue
                inbound.append([[inbound_layer.name,
                                 node_ids.get((id(inbound_layer), node_index), node_index),
                                 tensor_index]
                                for inbound_layer, node_index, tensor_index in
                                zip(node.inbound_layers, node.node_indices, node.tensor_indices)])
            layer_configs.append({'name': layer.name, 'class_name': type(layer).__name__,
                                  'config': layer.get_config(), 'inbound_nodes': inbound})

        def refs(tensors):
            return [[t._keras_history[0].name,
                     node_ids.get((id(t._keras_history[0]), t._keras_history[1]),
                                  t._keras_history[1]), t._keras_history[2]] for t in tensors]
        return {'name': self.name, 'layers': layer_configs,
                'input_layers': refs(self.inputs), 'output_layers': refs(self.outputs)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds a functional model from `get_config()`'s dict."""
        from ..utils.layer_utils import layer_from_config
        created = {}
        pending = list(config['layers'])
        while pending:
            progressed = False
            for layer_config in list(pending):
                name = layer_config['name']
                if name not in created:
                    created[name] = layer_from_config(layer_config, custom_objects)
                layer = created[name]
                ready = True
                for node_data in layer_config.get('inbound_nodes', [])[len(layer.inbound_nodes)
                                                                       - _own_offset(layer):]:
                    sources = []
                    for inbound_name, node_index, tensor_index in node_data:
                        source = created.get(inbound_name)
                        if source is None or len(source.inbound_nodes) <= node_index:
                            ready = False
                            break
                        sources.append(source.inbound_nodes[node_index]
                                       .output_tensors[tensor_index])
                    if not ready:
                        break
                    layer(sources if len(sources) > 1 else sources[0])
                if ready:
                    pending.remove(layer_config)
                    progressed = True
            if not progressed:
                raise ValueError('Model config %r: cannot connect layers %s (unknown inbound '
                                 'layers or a cycle)' % (config.get('name'),
                                                         [c['name'] for c in pending]))

        def tensors(refs):
            return [created[name].inbound_nodes[node_index].output_tensors[tensor_index]
                    for name, node_index, tensor_index in refs]
        return cls(input=tensors(config['input_layers']), output=tensors(config['output_layers']),
                   name=config.get('name'))


def _own_offset(layer):
    """InputLayers are born with their node; the config lists none for them."""
    return 1 if isinstance(layer, InputLayer) else 0


def _accumulate(grads, tensor, grad):
    key = id(tensor)
    grads[key] = grad if key not in grads else grads[key] + grad


def _with_activity_gradient(backprop, regularizer, output):
    def backprop_with_penalty(dy):
        return backprop(dy + regularizer.gradient(output))
    return backprop_with_penalty


def _order_graph(container, inputs, outputs):
    """Nodes in execution order and layers in Keras 1's order (by depth from
    the outputs, deepest first, ties in traversal order)."""
    node_depth, layer_depth, layer_index, nodes_seen = {}, {}, {}, {}
    input_ids = {id(t) for t in inputs}

    def visit(tensor, depth, trail):
        layer, node_index, _ = tensor._keras_history
        node = layer.inbound_nodes[node_index]
        if not node.input_tensors and id(tensor) not in input_ids:
            raise ValueError('Graph disconnected: model %s cannot get a value for %s, which is '
                             'not among its inputs %s' % (container.name, tensor.name,
                                                          [t.name for t in inputs]))
        if id(node) in trail:
            raise ValueError('Model %s: the graph has a cycle at layer %s'
                             % (container.name, layer.name))
        nodes_seen[id(node)] = node
        node_depth[id(node)] = max(depth, node_depth.get(id(node), depth))
        layer_depth[id(layer)] = max(depth, layer_depth.get(id(layer), depth))
        layer_index.setdefault(id(layer), (len(layer_index), layer))
        if id(tensor) in input_ids:
            return
        for inbound in node.input_tensors:
            visit(inbound, layer_depth[id(layer)] + 1, trail | {id(node)})

    for t in outputs:
        visit(t, 0, frozenset())
    nodes = sorted(nodes_seen.values(), key=lambda n: -node_depth[id(n)])
    nodes = [n for n in nodes if n.input_tensors]
    layers = sorted((entry for entry in layer_index.values()),
                    key=lambda entry: (-layer_depth[id(entry[1])], entry[0]))
    return nodes, [layer for _, layer in layers]


def _weight_array(value, owner, weight_name):
    """A weight given to `set_weights`, as float32, checked before any is set."""
    try:
        return np.asarray(value, dtype='float32')
    except (TypeError, ValueError) as error:
        raise TypeError('%s: weight %s should be an array of numbers, got %s (%s)'
                        % (owner, weight_name, type(value).__name__, error))
