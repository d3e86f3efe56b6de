"""`Sequential`: a linear stack of layers, on the graph of `Container` and
the training loop of `training.Model`. (`minikeras.models.Sequential` adds
the Keras 0.x spellings.)"""
from . import training
from .base_layer import Layer, get_uid
from .container import Container
from .graph import get_source_inputs
from .input_layer import Input
from .merge import Merge


class Sequential(training.Model):
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

    config_class_name = 'Sequential'

    def __init__(self, layers=None, name=None):
        Layer.__init__(self, name=name or 'sequential_%d' % get_uid('sequential'))
        self.layers = []
        self._layer_outputs = []
        self.inputs, self.outputs = [], []
        self.input_names, self.input_shapes = [], []
        self._nodes, self._graph_layers = [], []
        for layer in layers or []:
            self.add(layer)

    # -- building ----------------------------------------------------------------

    def add(self, layer):
        """Adds a layer on top of the stack; its input shape is checked now.

        # Arguments
            layer: a `Layer` instance (or a model, or a `Merge` of models).
        """
        if not isinstance(layer, Layer):
            raise TypeError('Sequential.add expects a Layer instance, got %r' % (layer,))
        if self.outputs:
            output = layer(self.outputs[0])
        elif layer.inbound_nodes and not isinstance(layer, Container):
            # A Merge of models: the stack starts from the merged branches.
            if len(layer.inbound_nodes) != 1 or len(layer.inbound_nodes[0].output_tensors) != 1:
                raise ValueError('The first layer of a Sequential model can be a connected layer '
                                 'only if it has exactly one output; %s has %d calls'
                                 % (layer.name, len(layer.inbound_nodes)))
            output = layer.inbound_nodes[0].output_tensors[0]
        elif layer.batch_input_shape is None:
            raise ValueError('The first layer of Sequential model %s, %s (%s), must get an '
                             'input_shape or batch_input_shape argument'
                             % (self.name, layer.name, type(layer).__name__))
        else:
            prefix = type(layer).__name__.lower() + '_input_'
            source = Input(batch_shape=layer.batch_input_shape, dtype=layer.input_dtype,
                           name=prefix + str(get_uid(prefix)))
            output = layer(source)
        if isinstance(output, list):
            raise ValueError('Layer %s has several outputs; a Sequential model needs one'
                             % layer.name)
        self.layers.append(layer)
        self._layer_outputs.append(output)
        self._rebuild()

    def _build_from_data(self, x):
        self._check_built()

    def _check_built(self):
        if not self.layers:
            raise RuntimeError('The Sequential model %s has no layers: add some before '
                               'compiling or predicting' % self.name)

    def build(self, input_shape=None):
        """Keras 1.2.2's `Sequential.build`: layers are connected as they are
        added, so this only checks that the model has layers (`input_shape`
        is ignored, as it was there)."""
        self._check_built()

    @property
    def flattened_layers(self):
        """The layers in Keras 1.2.2's saving order: when the model starts with
        a `Merge` of models, the layers of each branch (flattened the same
        way, each once), then the model's other layers; else `layers`."""
        if not self.layers or not isinstance(self.layers[0], Merge) or \
                not self.layers[0].layers:
            return list(self.layers)
        flattened = []
        for branch in self.layers[0].layers:
            sublayers = getattr(branch, 'flattened_layers', None) or \
                getattr(branch, 'layers', None) or [branch]
            flattened.extend(layer for layer in sublayers if layer not in flattened)
        flattened.extend(layer for layer in self.layers[1:] if layer not in flattened)
        return flattened

    def summary(self, *args, **kwargs):
        self._check_built()
        return super(Sequential, self).summary(*args, **kwargs)

    def pop(self):
        """Removes the last layer."""
        if not self.layers:
            raise TypeError('There are no layers in the model to pop.')
        layer = self.layers.pop()
        self._layer_outputs.pop()
        node = layer.inbound_nodes[-1]
        for inbound in node.inbound_layers:
            if node in inbound.outbound_nodes:
                inbound.outbound_nodes.remove(node)
        self._rebuild()

    def _rebuild(self):
        if not self.layers:
            self.inputs, self.outputs = [], []
            self.input_names, self.input_shapes = [], []
            self._nodes, self._graph_layers = [], []
            self.built = False
            return
        output = self._layer_outputs[-1]
        self._set_graph(get_source_inputs(output), [output])

    def _run_masked(self, inputs, training, need_backprop, need_input_grads=False,
                    input_masks=None):
        self._check_built()
        return super(Sequential, self)._run_masked(inputs, training, need_backprop,
                                                   need_input_grads, input_masks)

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

    def get_config(self):
        """A list with each layer's `{'class_name', 'config'}`; a `Merge` of
        models carries the configs of its branches, as in Keras 1."""
        config = []
        for layer in self.layers:
            layer_config = layer.get_config()
            if isinstance(layer, Merge) and layer.layers:
                layer_config['layers'] = [{'class_name': type(branch).__name__,
                                           'config': branch.get_config()}
                                          for branch in layer.layers]
            config.append({'class_name': type(layer).__name__, 'config': layer_config})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds a Sequential model from `get_config()`'s list."""
        from ..utils.layer_utils import layer_from_config
        model = cls()
        for layer_config in config:
            inner = layer_config.get('config')
            # (A nested Sequential's config is a list: no branches there.)
            branches = inner.get('layers') if isinstance(inner, dict) else None
            if layer_config.get('class_name') == 'Merge' and branches:
                merge_config = dict(layer_config['config'])
                merge_config['layers'] = [layer_from_config(branch, custom_objects)
                                          for branch in branches]
                model.add(Merge.from_config(merge_config))
            else:
                model.add(layer_from_config(layer_config, custom_objects))
        return model
