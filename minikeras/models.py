"""Models: `Sequential`, a linear stack of layers."""
import numpy as np

from .engine.topology import Layer, get_uid, shape_repr
from .engine.training import Model


class Sequential(Model):
    """A linear stack of layers.

    # Example
    ```python
        model = Sequential()
        model.add(Dense(32, input_dim=500))
        model.add(Activation('relu'))
        model.compile(optimizer='sgd', loss='mse')
    ```

    # Arguments
        layers: optional list of layers to add.
        name: the model's name.
    """

    def __init__(self, layers=None, name=None):
        self.layers = []
        self.name = name or 'sequential_%d' % get_uid('sequential')
        self.input_names = []
        self.input_shapes = []
        self.trainable = True
        self.built = False
        for layer in layers or []:
            self.add(layer)

    # -- building ----------------------------------------------------------------

    def add(self, layer):
        """Adds a layer on top of the stack; its input shape is checked now.

        # Arguments
            layer: a `Layer` instance.
        """
        if not isinstance(layer, Layer):
            raise TypeError('Sequential.add expects a Layer instance, got %r' % (layer,))
        if not self.layers:
            if layer.batch_input_shape is None:
                raise ValueError('The first layer in a Sequential model must get an `input_shape` '
                                 'or `batch_input_shape` argument (or `input_dim` for Dense); '
                                 'layer %s has none' % layer.name)
            prefix = type(layer).__name__.lower() + '_input_'
            self.input_names = [prefix + str(get_uid(prefix))]
            self.input_shapes = [tuple(layer.batch_input_shape)]
            input_shape = self.input_shapes[0]
        else:
            input_shape = self.layers[-1].output_shape
        layer.connect(input_shape)
        self.layers.append(layer)

    def pop(self):
        """Removes the last layer."""
        if not self.layers:
            raise TypeError('There are no layers in the model to pop.')
        self.layers.pop()
        if not self.layers:
            self.input_names, self.input_shapes = [], []

    def _check_built(self):
        if not self.layers:
            raise RuntimeError('The Sequential model %s has no layers: add some before '
                               'compiling or predicting' % self.name)

    # -- the graph interface of Model --------------------------------------------

    @property
    def output_names(self):
        return [self.layers[-1].name] if self.layers else []

    @property
    def output_shapes(self):
        return [self.layers[-1].output_shape] if self.layers else []

    @property
    def input_shape(self):
        """Shape of the model's input, batch axis None."""
        self._check_built()
        return self.input_shapes[0]

    @property
    def output_shape(self):
        """Shape of the model's output, batch axis None."""
        self._check_built()
        return self.output_shapes[0]

    def _run(self, inputs, training, need_backprop):
        self._check_built()
        x = inputs[0]
        first_trainable = next((i for i, layer in enumerate(self.layers)
                                if layer.trainable_pairs()), len(self.layers))
        backprops = []
        penalty = 0.
        for index, layer in enumerate(self.layers):
            y, backprop = layer.forward(x, training=training,
                                        need_input_grad=index > first_trainable)
            regularizer = getattr(layer, 'activity_regularizer', None)
            if regularizer is not None:
                penalty += regularizer(y)
                backprop = _with_activity_gradient(backprop, regularizer, y)
            if index >= first_trainable:
                backprops.append(backprop)
            x = y

        def backprop_all(output_grads):
            grad = output_grads[0]
            for backprop in reversed(backprops):
                grad = backprop(grad)
        return [x], backprop_all, penalty

    # -- Keras 1 conveniences ----------------------------------------------------

    def predict_proba(self, x, batch_size=32, verbose=1):
        """Class probabilities for the input samples (the model's output),
        with a warning when they fall outside [0, 1]."""
        preds = self.predict(x, batch_size, verbose)
        if preds.min() < 0. or preds.max() > 1.:
            print('Network returning invalid probability values. The last layer might not '
                  'normalize predictions into probabilities (like softmax or sigmoid would).')
        return preds

    def predict_classes(self, x, batch_size=32, verbose=1):
        """Class index for each sample: argmax of the output, or a 0.5
        threshold for a single output unit."""
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype('int32')

    def get_layer(self, name=None, index=None):
        """Returns a layer by name or by index."""
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError('get_layer: index %d out of range for a model of %d layers'
                                 % (index, len(self.layers)))
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError('No such layer: %r. Layers: %s' % (name, [l.name for l in self.layers]))

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    def get_weights(self):
        """Copies of every layer's weights, layer by layer (Keras 1 order)."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights):
        """Sets every layer's weights from `get_weights()`'s list; all arrays
        are checked before any weight changes."""
        weights = list(weights)
        expected = sum(len(layer.weights) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError('Model %s expects %d weight arrays, got %d'
                             % (self.name, expected, len(weights)))
        offset = 0
        for layer in self.layers:
            for own, new in zip(layer.weights, weights[offset:offset + len(layer.weights)]):
                if np.shape(new) != own.shape:
                    raise ValueError('Layer %s (%s) expects a weight of shape %s, got %s'
                                     % (layer.name, type(layer).__name__, own.shape,
                                        np.shape(new)))
            offset += len(layer.weights)
        offset = 0
        for layer in self.layers:
            layer.set_weights(weights[offset:offset + len(layer.weights)])
            offset += len(layer.weights)

    def count_params(self):
        """Number of scalars in all the weights."""
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, line_length=100, positions=(.33, .55, .67, 1.)):
        """Prints a table of the layers, their output shapes and parameter
        counts, in Keras 1's format."""
        self._check_built()
        columns = [int(line_length * p) for p in positions]

        def row(fields):
            line = ''
            for index, field in enumerate(fields):
                if index > 0:
                    line = line[:-1] + ' '
                line = (line + str(field))[:columns[index]]
                line += ' ' * (columns[index] - len(line))
            print(line)

        print('_' * line_length)
        row(['Layer (type)', 'Output Shape', 'Param #', 'Connected to'])
        print('=' * line_length)
        previous = self.input_names[0]
        for index, layer in enumerate(self.layers):
            row(['%s (%s)' % (layer.name, type(layer).__name__), shape_repr(layer.output_shape),
                 layer.count_params(), previous + '[0][0]'])
            previous = layer.name
            print('=' * line_length if index == len(self.layers) - 1 else '_' * line_length)
        trainable = sum(w.size for w in self.trainable_weights)
        non_trainable = sum(w.size for w in self.non_trainable_weights)
        print('Total params: {:,}'.format(trainable + non_trainable))
        print('Trainable params: {:,}'.format(trainable))
        print('Non-trainable params: {:,}'.format(non_trainable))
        print('_' * line_length)

    def get_config(self):
        """A list with each layer's `{'class_name', 'config'}`."""
        return [{'class_name': type(layer).__name__, 'config': layer.get_config()}
                for layer in self.layers]

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds a Sequential model from `get_config()`'s list."""
        from .utils.layer_utils import layer_from_config
        model = cls()
        for layer_config in config:
            model.add(layer_from_config(layer_config, custom_objects))
        return model


def _with_activity_gradient(backprop, regularizer, output):
    def backprop_with_penalty(dy):
        return backprop(dy + regularizer.gradient(output))
    return backprop_with_penalty
