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
from .losses_updates import LossesAndUpdates, updates_of_one_call
from .graph import KerasTensor, Node, to_list

_UIDS = collections.defaultdict(int)


def get_uid(prefix=''):
    """Returns 1, 2, 3, ... for successive calls with the same prefix."""
    _UIDS[prefix] += 1
    return _UIDS[prefix]


def reset_uids():
    """Restarts layer numbering (names like 'dense_1')."""
    _UIDS.clear()


class Layer(LossesAndUpdates):
    """Base class of every layer.

    # Arguments
        input_shape: shape tuple of one sample (no batch axis); only for the
            first layer of a model.
        batch_input_shape: the same, batch axis included (None for any size).
        input_dtype: dtype of the input (float32 by default).
        name: the layer's name; by default `<classname>_<n>`.
        trainable: whether the optimizer updates the layer's weights.
        weights: a list of arrays to set after the layer is built.

    # Masking
        A layer whose class sets `supports_masking = True` takes the mask of
        its input (a boolean array `(samples, timesteps)`, True where a step
        is real) as `forward(x, training, mask=...)` and, by default, passes
        it on; `compute_mask` says what mask its output carries.
    """

    supports_masking = False
    # Off while a graph walk wants no gradient of this layer's weights
    # (`K.gradients` with respect to an input): backprop then skips them.
    weight_gradients_wanted = True
    # Keras 1.2.2: whether the output depends on the learning phase (Dropout,
    # noise, BatchNormalization mode 0, a custom layer that says so)
    uses_learning_phase = False
    # Keras 1.2.2's declared input constraints: none unless a layer sets them
    input_spec = None

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

    def add_weight(self, *args, **kwargs):
        """Creates a float32 weight and registers it.

        Called Keras 1's way, `add_weight(shape, initializer, name=None,
        trainable=True, regularizer=None, constraint=None, dim_ordering='th')`,
        or Keras 2's, `add_weight(name, shape, dtype=None, initializer=None,
        regularizer=None, trainable=True, constraint=None)` (a string first
        argument is the name).

        # Arguments
            shape: tuple of ints.
            initializer: an init name or function (see `initializations`),
                or a Keras 2 initializer (a function of the shape alone too);
                glorot_uniform when not given.
            name: the weight's name (used in saved files), e.g. 'dense_1_W'.
            trainable: whether the optimizer updates it.
            regularizer: an optional regularizer, counted in the loss.
            constraint: an optional function applied after each update.
            dim_ordering: kernel layout for the fan computation.
            dtype: Keras 2's; only float32 (or None) is accepted.

        # Returns
            The new array. Training updates it in place.
        """
        order = _KERAS_2_ADD_WEIGHT if args and isinstance(args[0], str) else \
            _KERAS_1_ADD_WEIGHT
        if len(args) > len(order):
            raise TypeError('%s: add_weight takes at most %d positional arguments, got %d'
                            % (self.name, len(order), len(args)))
        for key, value in zip(order, args):
            if key in kwargs:
                raise TypeError('%s: add_weight got multiple values for %r' % (self.name, key))
            kwargs[key] = value
        unknown = set(kwargs) - set(_KERAS_1_ADD_WEIGHT) - set(_KERAS_2_ADD_WEIGHT)
        if unknown or 'shape' not in kwargs:
            raise TypeError('%s: add_weight needs shape= (and takes initializer, name, '
                            'trainable, regularizer, constraint, dim_ordering, dtype); got %s'
                            % (self.name, sorted(kwargs)))
        return self._add_weight(**kwargs)

    def _add_weight(self, shape, initializer=None, name=None, trainable=True, regularizer=None,
                    constraint=None, dim_ordering='th', dtype=None):
        if initializer is None:
            initializer = 'glorot_uniform'
        if dtype not in (None, 'float32', np.float32):
            raise ValueError('%s: weights are float32 in minikeras; add_weight got dtype=%r'
                             % (self.name, dtype))
        from .. import constraints, regularizers
        regularizer = regularizers.get(regularizer)   # Keras 2 layers may give names
        constraint = constraints.get(constraint)
        init = initializations.get(initializer)
        if _takes_dim_ordering(init):
            value = init(tuple(shape), dim_ordering=dim_ordering)
        else:
            value = init(tuple(shape))
        value = np.ascontiguousarray(value, dtype='float32')
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
        """Points the attributes (and the lists, tuples and dicts among them)
        that held a converted weight at the stored array."""
        _substitute_weights(self, {id(original): weight for original, weight in zip(given, stored)
                                   if original is not weight})

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

    @property
    def sublayers(self):
        """The layers this layer applies (a wrapper's layer, a model's
        layers): the engine collects weights, gradients, regularizers and
        constraints from them. Empty for an ordinary layer."""
        return []

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
            new = weight_array(new, self.name, name)
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
        """Returns the output shape for an input shape (batch axis included).
        A layer written the Keras 2 way defines `compute_output_shape` instead."""
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            return self.compute_output_shape(input_shape)
        return input_shape

    def compute_output_shape(self, input_shape):
        """Keras 2's name of `get_output_shape_for`."""
        return self.get_output_shape_for(input_shape)

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

    def compute_mask(self, x, mask=None):
        """The mask of the output, given the input `x` (an array or a list)
        and its mask (an array, None, or a list of them): Keras 1.2.2's rule.
        A layer that supports masking passes the input mask on; one that does
        not returns None, and refuses a mask.
        """
        if not self.supports_masking:
            if any(m is not None for m in to_list(mask)) if isinstance(mask, list) \
                    else mask is not None:
                raise _mask_refused(self)
            return None
        return mask

    def call(self, x, mask=None):
        """Computes the layer's output for a NumPy array `x` (inference mode)."""
        self.compute_mask(x, mask)
        return self.forward(x, training=False, **mask_argument(self, mask))[0]

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        """Computes the output and returns `(y, backprop)`.

        Layers written the Keras 1 way (a `call` on `keras.backend` or NumPy
        code) get their gradients by tracing `call` with `minikeras.autodiff`,
        the weights traced too: wherever the layer holds them (attributes,
        lists, tuples or dicts of them, `self.trainable_weights`), `call`
        sees traced stand-ins. `mask` is passed on to `call` when there is one.
        """
        if type(self).call is Layer.call:
            raise TypeError('Layer %s (%s) defines neither forward() nor call()'
                            % (self.name, type(self).__name__))
        weights = list(self._trainable_weights) \
            if self.trainable and self.weight_gradients_wanted else []

        def traced_call(inputs, *traced_weights):
            undo = _substitute_weights(self, {id(weight): traced for weight, traced
                                              in zip(weights, traced_weights)})
            try:
                # Keras 2's call(x, training=None) gets the phase this call runs in
                options = {'training': bool(training)} if _call_takes_training(self) else {}
                if mask is None:
                    return self.call(inputs, **options)
                return self.call(inputs, mask, **options)
            finally:
                for restore in reversed(undo):
                    restore()
        with updates_of_one_call(self, training):
            y, backprop = traced_forward(traced_call, [x], weights, self._gradients, training)
        return np.asarray(y, dtype='float32'), lambda dy: backprop(dy)[0]

    def __call__(self, x, mask=None, training=None):
        """On Keras tensors (from `Input` or other layers), adds this layer to
        the graph and returns its output tensor; on arrays, computes the output
        (`mask`: the input's mask, with arrays only: on Keras tensors the
        masks come from the layers upstream). `training` (Keras 2): True or
        False runs this call in that learning phase whatever the model does
        (Dropout, BatchNormalization); None (or `K.learning_phase()`)
        follows the model."""
        training = _forced_phase(self, training)
        tensors = x if isinstance(x, (list, tuple)) else [x]
        symbolic = [isinstance(t, KerasTensor) for t in tensors]
        if all(symbolic):
            if mask is not None:
                raise ValueError('Layer %s (%s) was called on Keras tensors with mask=%r; the '
                                 'masks of Keras tensors come from the layers that make them '
                                 '(Masking, Embedding(mask_zero=True)): call it without mask'
                                 % (self.name, type(self).__name__, mask))
            return self._call_on_tensors(list(tensors) if isinstance(x, (list, tuple)) else x,
                                         training)
        if any(symbolic):
            raise TypeError('Layer %s was called on a mix of Keras tensors and arrays' % self.name)
        if training is not None:
            self.compute_mask(x, mask)
            return self.forward(x, training=training, **mask_argument(self, mask))[0]
        return self.call(x, mask)

    def _call_on_tensors(self, x, training=None):
        inputs = x if isinstance(x, list) else [x]
        input_shape = [t.shape for t in inputs] if isinstance(x, list) else x.shape
        output_shape = self.connect(input_shape)
        flags = self._output_mask_flags([t._mask_flag for t in inputs])
        node = Node(self, inputs, output_shape)
        if training is not None:
            # read by the graph walk: this call's phase, whatever the model's
            node.forced_training = training
        for tensor, flag in zip(node.output_tensors, flags):
            tensor._mask_flag = flag
        return node.output_tensors if isinstance(output_shape, list) else node.output_tensors[0]

    def _node_tensors(self, node_index, which):
        if not self.inbound_nodes:
            raise AttributeError('Layer %s has no %s yet: it has not been called on a Keras '
                                 'tensor (or added to a model)' % (self.name, which))
        if not -len(self.inbound_nodes) <= node_index < len(self.inbound_nodes):
            raise ValueError('Layer %s has %d call(s) (nodes), so there is no node %d'
                             % (self.name, len(self.inbound_nodes), node_index))
        node = self.inbound_nodes[node_index]
        # an InputLayer's input is its own tensor, as in Keras
        tensors = node.output_tensors if which == 'output' or not node.input_tensors \
            else node.input_tensors
        return tensors[0] if len(tensors) == 1 else list(tensors)

    def _only_node_tensors(self, which):
        if len(self.inbound_nodes) > 1:
            raise AttributeError('Layer %s has been called %d times (it is shared), so its %s '
                                 'is ambiguous: use get_%s_at(node_index)'
                                 % (self.name, len(self.inbound_nodes), which, which))
        return self._node_tensors(0, which)

    @property
    def input(self):
        """The layer's input tensor (Keras tensor), when it was called once."""
        return self._only_node_tensors('input')

    @property
    def output(self):
        """The layer's output tensor (Keras tensor), when it was called once."""
        return self._only_node_tensors('output')

    def get_input_at(self, node_index):
        """The input tensor(s) of the layer's `node_index`-th call."""
        return self._node_tensors(node_index, 'input')

    def get_output_at(self, node_index):
        """The output tensor(s) of the layer's `node_index`-th call."""
        return self._node_tensors(node_index, 'output')

    def _output_mask_flags(self, input_flags):
        """Whether each output carries a mask, from whether each input does
        (True, False, or None for "only running will tell"), so that a mask
        reaching a layer that cannot take one is refused when the model is
        built, as in Keras 1.2.2. A layer with its own `compute_mask`
        decides when it runs; masking layers of minikeras say it here too."""
        if type(self).compute_mask is not Layer.compute_mask:
            return [None]
        if not self.supports_masking:
            if any(flag is True for flag in input_flags):
                raise _mask_refused(self)
            return [False]
        return [any_mask_flag(input_flags)]

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


_KERAS_1_ADD_WEIGHT = ('shape', 'initializer', 'name', 'trainable', 'regularizer', 'constraint',
                       'dim_ordering')
_KERAS_2_ADD_WEIGHT = ('name', 'shape', 'dtype', 'initializer', 'regularizer', 'trainable',
                       'constraint')


class WeightsOfInnerLayers(object):
    """For layers whose weights belong to the layers they hold (models,
    wrappers): the trainable and frozen lists follow from `weights` and
    `trainable_pairs()`."""

    @property
    def trainable_weights(self):
        return [w for w, _ in self.trainable_pairs()]

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]


def _takes_dim_ordering(init):
    """Keras 1 inits take `dim_ordering`; a Keras 2 function of the shape may not."""
    import inspect
    try:
        parameters = inspect.signature(init).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == 'dim_ordering' or p.kind == p.VAR_KEYWORD for p in parameters)


def _mask_refused(layer):
    return ValueError('Layer %s (%s) does not support masking, but its input carries a mask '
                      '(from a Masking layer or Embedding(mask_zero=True) upstream). Put the '
                      'layers that cannot take a mask before the masking layer, or remove the '
                      'mask.' % (layer.name, type(layer).__name__))


def any_mask_flag(flags):
    """True if some flag is True, else None if some is unknown, else False."""
    if any(flag is True for flag in flags):
        return True
    return None if any(flag is None for flag in flags) else False


def mask_argument(layer, mask):
    """`{'mask': mask}` for a layer that supports masking when there is a
    mask (a list with at least one array for several inputs), else `{}`:
    the keyword arguments with which to call `layer.forward`."""
    present = any(m is not None for m in mask) if isinstance(mask, list) else mask is not None
    return {'mask': mask} if present and layer.supports_masking else {}


def _call_takes_training(layer):
    import inspect
    try:
        return 'training' in inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False


def _forced_phase(layer, training):
    """`training=` of a call as True, False or None (follow the model)."""
    from .input_layer import learning_phase_tensor
    if training is None or training is learning_phase_tensor(create=False):
        return None
    if isinstance(training, (bool, np.bool_)) or training in (0, 1):
        return bool(training)
    raise TypeError('Layer %s (%s): training must be True, False or None (the model\'s '
                    'learning phase), got %r' % (layer.name, type(layer).__name__, training))


def traced_forward(function, inputs, weights, gradient_buffers, training, copy_inputs=True):
    """The forward protocol for code without a hand-written derivative (a
    layer's `call`, a `Lambda`, a graph expression): runs
    `function(*inputs, *weights)` on traced values in the learning phase of
    `training`, and differentiates it with `minikeras.autodiff`.

    # Returns
        `(y, backprop)`: `backprop(dy)` adds the gradients of `weights` into
        `gradient_buffers` and returns the list of the inputs' gradients.
    """
    from .. import autodiff
    from .. import backend_ops
    count = len(inputs)

    def traced(*arrays):
        with backend_ops.learning_phase_scope(1 if training else 0):
            return function(*arrays)
    trace = autodiff.vjp if copy_inputs else autodiff.vjp_of_values
    y, backward = trace(traced, *(list(inputs) + list(weights)))

    def backprop(dy):
        grads = backward(dy)
        for buffer, grad in zip(gradient_buffers, grads[count:]):
            buffer += grad
        return grads[:count]
    return y, backprop


def _substitute_weights(layer, replacements):
    """Puts `replacements[id(w)]` wherever `layer` holds the array `w`: as an
    attribute, or inside a list, tuple or dict attribute (nested too).

    # Returns
        Functions that undo the replacements, in the order they were made.
    """
    undo = []
    seen = set()

    def replaced(value):
        if id(value) in replacements:
            return replacements[id(value)]
        if isinstance(value, (list, dict)) and id(value) not in seen:
            seen.add(id(value))
            keys = range(len(value)) if isinstance(value, list) else list(value)
            for key in keys:
                item = value[key]
                new = replaced(item)
                if new is not item:
                    value[key] = new
                    undo.append(lambda holder=value, key=key, old=item:
                                holder.__setitem__(key, old))
        elif type(value) is tuple:
            items = [replaced(item) for item in value]
            if any(new is not old for new, old in zip(items, value)):
                return tuple(items)
        return value

    attributes = vars(layer)
    for name, value in list(attributes.items()):
        new = replaced(value)
        if new is not value:
            attributes[name] = new
            undo.append(lambda name=name, old=value: attributes.__setitem__(name, old))
    return undo


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


def weight_array(value, owner, weight_name):
    """A weight given to `set_weights`, as float32, checked before any is set."""
    try:
        return np.asarray(value, dtype='float32')
    except (TypeError, ValueError) as error:
        raise TypeError('%s: weight %s should be an array of numbers, got %s (%s)'
                        % (owner, weight_name, type(value).__name__, error))
