"""Layer wrappers: a layer that applies another layer (Keras 1.2.2's
`keras.layers.wrappers`).

A wrapper owns no weights of its own: its weights, gradients, regularizers
and constraints are those of the wrapped layer, which the engine reaches
through `sublayers`. Saved files list the wrapped layer's weights under the
wrapper's name, as Keras 1.2.2 did.
"""
import numpy as np

from ..compat.unsupported import module_getattr as _module_getattr
from ..engine.base_layer import Layer, WeightsOfInnerLayers, any_mask_flag
from ..engine.container import Container


# =============================================================================
# Wrapper: the shared base
# =============================================================================

class Wrapper(WeightsOfInnerLayers, Layer):
    """Base class of the layers that wrap another layer.

    # Arguments
        layer: the `Layer` (or model) to wrap.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise TypeError('%s expects a layer instance to wrap, got %r'
                            % (type(self).__name__, layer))
        self.layer = layer
        super(Wrapper, self).__init__(**kwargs)

    @property
    def sublayers(self):
        """The wrapped layer: the engine collects weights and gradients from it."""
        return [self.layer]

    def trainable_pairs(self):
        return self.layer.trainable_pairs() if self.trainable else []

    @property
    def gradients(self):
        return [g for _, g in self.trainable_pairs()]

    @property
    def weights(self):
        return self.layer.weights

    @property
    def weight_names(self):
        return self.layer.weight_names

    def set_weights(self, weights):
        self.layer.set_weights(weights)

    def get_config(self):
        config = super(Wrapper, self).get_config()
        config['layer'] = {'class_name': type(self.layer).__name__,
                           'config': self.layer.get_config()}
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..utils.layer_utils import layer_from_config
        config = dict(config)
        layer = layer_from_config(config.pop('layer'), custom_objects)
        return cls(layer, **config)


# =============================================================================
# TimeDistributed
# =============================================================================

class TimeDistributed(Wrapper):
    """Applies a layer to every temporal slice of its input: the same layer,
    with the same weights, at each step of axis 1.

    # Example
    ```python
        model = Sequential()
        model.add(TimeDistributed(Dense(8), input_shape=(10, 16)))
        # now model.output_shape == (None, 10, 8)
        model.add(TimeDistributed(Dense(32)))
        # now model.output_shape == (None, 10, 32)

        # any layer, for instance a convolution over each of 10 images:
        model = Sequential()
        model.add(TimeDistributed(Convolution2D(64, 3, 3), input_shape=(10, 3, 32, 32)))
    ```

    # Arguments
        layer: the layer (or model) to apply at each step; it sees inputs of
            shape `(samples, ...)`, the input's shape without the time axis.

    # Input shape
        At least 3D: `(samples, timesteps, ...)`.

    # Output shape
        `(samples, timesteps) + the wrapped layer's output shape[1:]`.

    # Mask
        A mask on the input passes through unchanged; the wrapped layer
        itself does not see it (as in Keras 1.2.2).
    """

    supports_masking = True

    def _child_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 3:
            raise ValueError('Layer %s (TimeDistributed) expects input of at least 3 dimensions '
                             '(samples, timesteps, ...) and applies %s to each step, got shape %s'
                             % (self.name, self.layer.name, input_shape))
        samples, steps = input_shape[:2]
        child_batch = samples * steps if samples is not None and steps is not None else None
        return (child_batch,) + input_shape[2:]

    def build(self, input_shape):
        self.layer.connect(self._child_shape(input_shape))
        if isinstance(self.layer.output_shape, list):
            raise ValueError('Layer %s (TimeDistributed): the wrapped %s has %d outputs; '
                             'TimeDistributed applies a layer with one output'
                             % (self.name, self.layer.name, len(self.layer.output_shape)))
        # The wrapped layer's activity penalty applies to the whole output
        # (the engine applies a layer's `activity_regularizer` to its output).
        self.activity_regularizer = getattr(self.layer, 'activity_regularizer', None)

    def get_output_shape_for(self, input_shape):
        child_shape = self._child_shape(input_shape)
        if isinstance(self.layer, Container):
            child_output = self.layer.connect(child_shape)  # checks the shape, builds nothing
        else:
            child_output = self.layer.get_output_shape_for(child_shape)
        child_output = tuple(child_output)
        return (input_shape[0], input_shape[1]) + child_output[1:]

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        x = np.asarray(x)
        self._child_shape(x.shape)
        samples, steps = x.shape[:2]
        flat = np.ascontiguousarray(x.reshape((samples * steps,) + x.shape[2:]))
        flat_y, inner_backprop = self.layer.forward(flat, training=training,
                                                    need_input_grad=need_input_grad)
        y = flat_y.reshape((samples, steps) + flat_y.shape[1:])

        def backprop(dy):
            flat_dy = np.ascontiguousarray(dy.reshape((samples * steps,) + dy.shape[2:]))
            dx = inner_backprop(flat_dy)
            return None if dx is None else dx.reshape(x.shape)
        return y, backprop


# =============================================================================
# Bidirectional
# =============================================================================


_MERGE_MODES = ('sum', 'mul', 'ave', 'concat', None)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards over the
    sequence, and merges the two outputs.

    # Example
    ```python
        model = Sequential()
        model.add(Bidirectional(LSTM(10, return_sequences=True), input_shape=(5, 10)))
        model.add(Bidirectional(LSTM(10)))
        model.add(Dense(5, activation='softmax'))
    ```

    # Arguments
        layer: a `Recurrent` instance (SimpleRNN, GRU, LSTM or your own).
        merge_mode: how the two outputs are combined: 'sum', 'mul', 'ave',
            'concat' (on the last axis), or None for the list of both.
        weights: initial weights, the forward layer's then the backward
            layer's (the order of `get_weights()`).

    With `return_sequences`, the backward layer's sequence is reversed back
    to the input's time order before the merge. The weights of both layers
    train, save (named `forward_<name>_...` and `backward_<name>_...`),
    load, and take the wrapped layer's regularizers.
    """

    supports_masking = True

    def __init__(self, layer, merge_mode='concat', weights=None, **kwargs):
        from .recurrent import Recurrent
        super(Bidirectional, self).__init__(**kwargs)
        if not isinstance(layer, Recurrent):
            raise TypeError('Bidirectional %s wraps a recurrent layer (SimpleRNN, GRU, LSTM or '
                            'a Recurrent subclass), got %r' % (self.name, layer))
        if merge_mode not in _MERGE_MODES:
            raise ValueError('Bidirectional %s: merge_mode must be one of %s, got %r'
                             % (self.name, list(_MERGE_MODES), merge_mode))
        if layer.built:
            raise ValueError('Bidirectional %s: the wrapped layer %s is already built; wrap a '
                             'new layer' % (self.name, layer.name))
        config = layer.get_config()
        self.layer = layer
        self.forward_layer = type(layer).from_config(dict(config, name='forward_' + layer.name))
        config['go_backwards'] = not config['go_backwards']
        self.backward_layer = type(layer).from_config(dict(config, name='backward_' + layer.name))
        if getattr(layer, 'batch_input_shape', None) is not None and \
                self.batch_input_shape is None:
            self.batch_input_shape = layer.batch_input_shape
        self.merge_mode = merge_mode
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self._initial_weights = weights

    @property
    def sublayers(self):
        """The forward and the backward layer."""
        return [self.forward_layer, self.backward_layer]

    def _split_states(self, items):
        """[sequence] + forward states + backward states (Keras 2.2.4's order)
        -> (sequence, forward states or None, backward states or None)."""
        if not isinstance(items, list):
            return items, None, None
        states = items[1:]
        if len(states) % 2:
            raise ValueError('Bidirectional %s: the initial states must be the forward '
                             "layer's then the backward layer's (an even number), got %d"
                             % (self.name, len(states)))
        half = len(states) // 2
        return items[0], states[:half], states[half:]

    def __call__(self, x, mask=None, initial_state=None, training=None):
        """Keras 2.2.4's call: `initial_state` lists the forward layer's
        states, then the backward layer's."""
        if initial_state is not None:
            x = [x] + list(initial_state)
        return super(Bidirectional, self).__call__(x, mask, training=training)

    def build(self, input_shape):
        sequence, forward_states, backward_states = self._split_states(input_shape)
        for inner, states in zip(self.sublayers, (forward_states, backward_states)):
            inner.connect([sequence] + states if states else sequence)
        # The wrapper's weight lists are the inner layers' own arrays and
        # buffers: training, saving, regularizers and constraints see them.
        self._trainable_weights = []
        self._gradients = []
        self._trainable_names = []
        self._non_trainable_weights = []
        self._non_trainable_names = []
        self.weight_regularizers = []
        self.constraints = {}
        for inner in self.sublayers:
            self._trainable_weights += inner._trainable_weights
            self._gradients += inner._gradients
            self._trainable_names += inner._trainable_names
            self._non_trainable_weights += inner._non_trainable_weights
            self._non_trainable_names += inner._non_trainable_names
            self.weight_regularizers += inner.weight_regularizers
            self.constraints.update(inner.constraints)

    def get_output_shape_for(self, input_shape):
        sequence, forward_states, _ = self._split_states(input_shape)
        shape = self.forward_layer.get_output_shape_for(
            [sequence] + forward_states if forward_states else sequence)
        if self.return_state:
            shape, state_shapes = shape[0], list(shape[1:])
        if self.merge_mode == 'concat':
            shape = tuple(shape[:-1]) + (shape[-1] * 2,)
        outputs = [shape, shape] if self.merge_mode is None else shape
        if self.return_state:   # then the forward layer's states and the backward layer's
            return (outputs if isinstance(outputs, list) else [outputs]) + state_shapes * 2
        return outputs

    def _state_output_count(self):
        return 2 * self.forward_layer._state_count() if self.return_state else 0

    def compute_mask(self, x, mask=None):
        """The input mask for sequences (one per output without merge), else
        None; none for returned states."""
        if isinstance(mask, list):
            mask = mask[0]
        mask = mask if self.return_sequences else None
        masks = [mask, mask] if self.merge_mode is None else [mask]
        if self.return_state:
            return masks + [None] * self._state_output_count()
        return masks if self.merge_mode is None else mask

    def _output_mask_flags(self, input_flags):
        flag = any_mask_flag(input_flags[:1]) if self.return_sequences else False
        flags = [flag, flag] if self.merge_mode is None else [flag]
        return flags + [False] * self._state_output_count()

    def reset_states(self):
        """Zeroes the states of both (stateful) layers."""
        for inner in self.sublayers:
            inner.reset_states()

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        x, forward_states, backward_states = self._split_states(
            list(x) if isinstance(x, (list, tuple)) else x)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        y, forward_backprop = self.forward_layer.forward(
            [x] + forward_states if forward_states else x, training, need_input_grad, mask=mask)
        y_rev, backward_backprop = self.backward_layer.forward(
            [x] + backward_states if backward_states else x, training, need_input_grad,
            mask=mask)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        mode = self.merge_mode
        if mode == 'concat':
            out = np.concatenate([y, y_rev], axis=-1)
        elif mode == 'sum':
            out = y + y_rev
        elif mode == 'ave':
            out = (y + y_rev) * np.float32(0.5)
        elif mode == 'mul':
            out = y * y_rev
        else:
            out = [y, y_rev]
        n = y.shape[-1]
        if self.return_state:
            out = (out if isinstance(out, list) else [out]) + states
        given = forward_states is not None

        def backprop(dy):
            d_states_f = d_states_b = None
            if self.return_state:
                merged = 2 if mode is None else 1
                half = len(states) // 2
                d_states_f = list(dy[merged:merged + half])
                d_states_b = list(dy[merged + half:])
                dy = list(dy[:merged]) if mode is None else dy[0]
            if mode == 'concat':
                dy_f, dy_b = dy[..., :n], dy[..., n:]
            elif mode == 'sum':
                dy_f = dy_b = dy
            elif mode == 'ave':
                dy_f = dy_b = dy * np.float32(0.5)
            elif mode == 'mul':
                dy_f, dy_b = dy * y_rev, dy * y
            else:
                dy_f, dy_b = dy
            if self.return_sequences:
                dy_b = dy_b[:, ::-1]
            dy_f = np.ascontiguousarray(dy_f, dtype='float32')
            dy_b = np.ascontiguousarray(dy_b, dtype='float32')
            dx_f = forward_backprop([dy_f] + d_states_f if self.return_state else dy_f)
            dx_b = backward_backprop([dy_b] + d_states_b if self.return_state else dy_b)
            if given:   # [dx] + the forward layer's initial states' + the backward layer's
                (dx_f, *d_initial_f), (dx_b, *d_initial_b) = dx_f, dx_b
            dx = None if dx_f is None or dx_b is None else dx_f + dx_b
            return [dx] + d_initial_f + d_initial_b if given else dx
        return out, backprop

    def call(self, x, mask=None):
        return self.forward(x, training=False, mask=mask)[0]

    def get_config(self):
        config = super(Bidirectional, self).get_config()
        config['layer'] = {'class_name': type(self.layer).__name__,
                           'config': self.layer.get_config()}
        config['merge_mode'] = self.merge_mode
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..utils.layer_utils import layer_from_config
        config = dict(config)
        layer = layer_from_config(config.pop('layer'), custom_objects)
        return cls(layer, **config)


__getattr__ = _module_getattr('layers.wrappers')
