"""Layer wrappers of Keras 1.2.2: layers that own another layer."""
import numpy as np

from ..engine.topology import Layer

from ..compat.unsupported import module_getattr as _module_getattr

__getattr__ = _module_getattr('layers.wrappers')

# ---------------------------------------------------------------------------
# Bidirectional


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
        self._initial_weights = weights

    @property
    def sublayers(self):
        """The forward and the backward layer."""
        return [self.forward_layer, self.backward_layer]

    def build(self, input_shape):
        for inner in self.sublayers:
            inner.connect(input_shape)
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
        shape = self.forward_layer.get_output_shape_for(input_shape)
        if self.merge_mode == 'concat':
            return tuple(shape[:-1]) + (shape[-1] * 2,)
        if self.merge_mode is None:
            return [shape, shape]
        return shape

    def compute_mask(self, x, mask=None):
        """The input mask for sequences (one per output without merge), else None."""
        if not self.return_sequences:
            return None
        return [mask, mask] if self.merge_mode is None else mask

    def reset_states(self):
        """Zeroes the states of both (stateful) layers."""
        for inner in self.sublayers:
            inner.reset_states()

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        y, forward_backprop = self.forward_layer.forward(x, training, need_input_grad, mask=mask)
        y_rev, backward_backprop = self.backward_layer.forward(x, training, need_input_grad,
                                                               mask=mask)
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

        def backprop(dy):
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
            dx_f = forward_backprop(np.ascontiguousarray(dy_f, dtype='float32'))
            dx_b = backward_backprop(np.ascontiguousarray(dy_b, dtype='float32'))
            return None if dx_f is None or dx_b is None else dx_f + dx_b
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
