"""Layer wrappers: a layer that applies another layer (Keras 1.2.2's
`keras.layers.wrappers`).

A wrapper owns no weights of its own: its weights, gradients, regularizers
and constraints are those of the wrapped layer, which the engine reaches
through `sublayers`. Saved files list the wrapped layer's weights under the
wrapper's name, as Keras 1.2.2 did.
"""
import numpy as np

from ..compat.unsupported import module_getattr as _module_getattr
from ..engine.base_layer import Layer
from ..engine.container import Container


# =============================================================================
# Wrapper: the shared base
# =============================================================================

class Wrapper(Layer):
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
    def trainable_weights(self):
        return [w for w, _ in self.trainable_pairs()]

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

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


__getattr__ = _module_getattr('layers.wrappers')
