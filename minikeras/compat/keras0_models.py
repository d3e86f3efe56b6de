"""Keras 0.x's `Graph` model, built on the functional `Model`, and `slice_X`.

A `Graph` names its inputs, nodes and outputs, and takes and returns dicts
keyed by those names:

```python
    graph = Graph()
    graph.add_input(name='input', input_shape=(32,))
    graph.add_node(Dense(16), name='dense1', input='input')
    graph.add_node(Dense(4), name='dense2', inputs=['input', 'dense1'], merge_mode='concat')
    graph.add_output(name='output', input='dense2')
    graph.compile('rmsprop', {'output': 'mse'})
    graph.fit({'input': x, 'output': y}, nb_epoch=10)
    predictions = graph.predict({'input': x})['output']
```

Each `add_*` call applies the layer to Keras tensors at once; the first
`compile` (or `summary`, ...) makes the graph a `Model` from the inputs to
the outputs, in the order they were added. An output whose name differs
from its node's is a linear `Activation` of that name, so that the model's
output names are the graph's. As in Keras 0.3, `fit`, `evaluate` and
`predict` default to `batch_size=128` and `fit` to `nb_epoch=100`;
`evaluate`, `train_on_batch` and `test_on_batch` return the total loss.
"""
from collections import OrderedDict

import numpy as np

from ..engine.base_layer import Layer, get_uid
from ..engine.input_layer import Input
from ..engine.merge import merge
from ..models import Model

_MERGE_MODES = ('sum', 'ave', 'mul', 'dot', 'cos', 'concat', 'max')


class Graph(Model):
    """A model of named inputs, nodes and outputs (Keras 0.x).

    # Arguments
        name: the model's name.
    """

    def __init__(self, name=None):
        Layer.__init__(self, name=name or 'graph_%d' % get_uid('graph'))
        self.namespace = set()
        self.input_order = []
        self.output_order = []
        self._graph_inputs = OrderedDict()
        self._graph_nodes = OrderedDict()
        self._graph_outputs = OrderedDict()
        self.nodes = OrderedDict()  # name -> layer, as Keras 0.3 exposed them
        self.layers = []
        self.inputs, self.outputs = [], []
        self._connected = False

    # -- building ------------------------------------------------------------

    def _claim(self, name, check_only=False):
        if not isinstance(name, str) or not name:
            raise ValueError('Graph %s: a name must be a non-empty string, got %r'
                             % (self.name, name))
        if name in self.namespace:
            raise ValueError('Graph %s: duplicate node identifier %r' % (self.name, name))
        if self._connected:
            raise RuntimeError('Graph %s: add inputs, nodes and outputs before compiling'
                               % self.name)
        if not check_only:
            self.namespace.add(name)

    def _tensor(self, name, role):
        if name in self._graph_inputs:
            return self._graph_inputs[name]
        if name in self._graph_nodes:
            return self._graph_nodes[name]
        raise ValueError('Graph %s: %s %r is no input or node of the graph (known: %s)'
                         % (self.name, role, name, ', '.join(sorted(self.namespace)) or 'none'))

    def _merged(self, names, merge_mode, concat_axis, dot_axes, role, name=None):
        if merge_mode not in _MERGE_MODES:
            raise ValueError('Graph %s: merge_mode of %s must be one of %s, got %r'
                             % (self.name, role, ', '.join(_MERGE_MODES), merge_mode))
        tensors = [self._single(n, role) for n in names]
        if len(tensors) < 2:
            raise ValueError('Graph %s: inputs=%r of %s must name at least 2 nodes (use input= '
                             'for one)' % (self.name, names, role))
        return merge(tensors, mode=merge_mode, concat_axis=concat_axis, dot_axes=dot_axes,
                     name=name)

    def _single(self, name, role):
        tensor = self._tensor(name, role)
        if isinstance(tensor, OrderedDict):
            raise ValueError("Graph %s: node %r was made with merge_mode='join' and can only feed "
                             'a Lambda layer (whose function receives the dict of its inputs)'
                             % (self.name, name))
        return tensor

    def add_input(self, name, input_shape=None, batch_input_shape=None, dtype='float'):
        """Adds an input.

        # Arguments
            name: unique name of the input (the key of its data).
            input_shape: shape of one sample (no batch axis).
            batch_input_shape: shape including the batch axis.
            dtype: 'float' or 'int' (word indices for an Embedding), or the
                type float or int.
        """
        if input_shape is None and batch_input_shape is None:
            raise ValueError('Graph %s: add_input(%r) needs input_shape or batch_input_shape'
                             % (self.name, name))
        # 0.3 made every dtype but 'float' an integer input (0.3's
        # imdb_bidirectional_lstm passes the type int)
        try:
            kind = np.dtype(dtype).kind
        except TypeError:
            kind = None
        if kind not in ('f', 'i', 'u'):
            raise ValueError("Graph %s: add_input dtype must be 'float' or 'int', got %r"
                             % (self.name, dtype))
        self._claim(name, check_only=True)
        if batch_input_shape is not None:
            tensor = Input(batch_shape=tuple(batch_input_shape), name=name)
        else:
            tensor = Input(shape=tuple(input_shape), name=name)
        self._claim(name)
        self._graph_inputs[name] = tensor
        self.input_order.append(name)

    def add_node(self, layer, name, input=None, inputs=(), merge_mode='concat', concat_axis=-1,
                 dot_axes=-1, create_output=False):
        """Adds a layer fed by one node (`input`) or by several (`inputs`, merged first).

        # Arguments
            layer: the layer; it takes `name` as its name.
            name: unique name of the node.
            input: name of the input or node feeding the layer.
            inputs: names of the inputs or nodes merged to feed the layer.
            merge_mode: 'concat', 'sum', 'mul', 'ave', 'max', 'dot' or 'cos'.
            concat_axis, dot_axes: as for `merge`.
            create_output: also make the node an output of the same name.
        """
        if bool(input) == bool(inputs):
            raise ValueError('Graph %s: add_node(%r) needs exactly one of input= and inputs='
                             % (self.name, name))
        if not isinstance(layer, Layer):
            raise TypeError('Graph %s: add_node(%r) needs a layer, got %r'
                            % (self.name, name, layer))
        self._claim(name, check_only=True)
        role = 'the input of node %r' % name
        if input and isinstance(self._tensor(input, role), OrderedDict):
            layer.name = name
            tensor = self._call_on_joined(layer, self._graph_nodes[input])
        elif input:
            source = self._single(input, role)
            layer.name = name
            tensor = layer(source)
        else:
            source = self._merged(list(inputs), merge_mode, concat_axis, dot_axes,
                                  'node %r' % name)
            layer.name = name
            tensor = layer(source)
        self._claim(name)
        self._graph_nodes[name] = tensor
        self.nodes[name] = layer
        if create_output:
            self.add_output(name, input=name)

    def _call_on_joined(self, layer, joined):
        from ..layers.core import Lambda
        if not isinstance(layer, Lambda):
            raise ValueError("Graph %s: a node made with merge_mode='join' can only feed a Lambda "
                             'layer, not %s' % (self.name, type(layer).__name__))
        function, names = layer.function, list(joined)

        def on_dict(tensors, **arguments):
            return function(OrderedDict(zip(names, tensors)), **arguments)
        layer.function = on_dict
        return layer(list(joined.values()))

    def add_shared_node(self, layer, name, inputs=(), merge_mode=None, concat_axis=-1,
                        dot_axes=-1, outputs=(), create_output=False):
        """Applies one layer (shared weights) to several nodes.

        # Arguments
            layer: the shared layer (a model works too).
            name: unique name of the node.
            inputs: names of the inputs or nodes the layer is applied to.
            merge_mode: how the results are merged into the node `name`:
                as for `add_node`, or 'join' (a dict of the results, for a
                Lambda to take), or None (the results become the nodes
                named in `outputs`).
            concat_axis, dot_axes: as for `merge`.
            outputs: with `merge_mode=None`, one name per input.
            create_output: also make the node(s) outputs.
        """
        inputs, outputs = list(inputs), list(outputs)
        if len(inputs) < 2:
            raise ValueError('Graph %s: add_shared_node(%r) needs at least 2 inputs, got %r'
                             % (self.name, name, inputs))
        if merge_mode is None and len(outputs) != len(inputs):
            raise ValueError('Graph %s: add_shared_node(%r) without merge_mode needs one name in '
                             'outputs= per input (%d), got %r'
                             % (self.name, name, len(inputs), outputs))
        if merge_mode is not None and merge_mode != 'join' and merge_mode not in _MERGE_MODES:
            raise ValueError('Graph %s: merge_mode of shared node %r must be one of %s, join or '
                             'None, got %r' % (self.name, name, ', '.join(_MERGE_MODES),
                                               merge_mode))
        if merge_mode == 'join' and create_output:
            raise ValueError("Graph %s: a node made with merge_mode='join' cannot be an output"
                             % self.name)
        sources = [self._single(n, 'an input of shared node %r' % name) for n in inputs]
        for n in [name] + outputs:
            self._claim(n, check_only=True)
        if len(set([name] + outputs)) != len(outputs) + 1:
            raise ValueError('Graph %s: shared node %r and its outputs %r need distinct names'
                             % (self.name, name, outputs))
        results = [layer(t) for t in sources]
        for n in [name] + outputs:
            self._claim(n)
        self.nodes[name] = layer
        if merge_mode is None:
            self._graph_nodes[name] = OrderedDict(zip(inputs, results))
            for o, result in zip(outputs, results):
                self._graph_nodes[o] = result
                if create_output:
                    self.add_output(o, input=o)
        elif merge_mode == 'join':
            self._graph_nodes[name] = OrderedDict(zip(inputs, results))
        else:
            self._graph_nodes[name] = merge(results, mode=merge_mode, concat_axis=concat_axis,
                                            dot_axes=dot_axes, name=name)
            if create_output:
                self.add_output(name, input=name)

    def add_output(self, name, input=None, inputs=(), merge_mode='concat', concat_axis=-1,
                   dot_axes=-1):
        """Makes a node (`input`), or several merged (`inputs`), an output.

        # Arguments
            name: name of the output (the key of its targets and predictions).
            input: name of the node or input.
            inputs: names of the nodes merged into the output.
            merge_mode, concat_axis, dot_axes: as for `add_node`.
        """
        from ..layers.core import Activation
        if name in self._graph_outputs:
            raise ValueError('Graph %s: duplicate output identifier %r' % (self.name, name))
        if bool(input) == bool(inputs):
            raise ValueError('Graph %s: add_output(%r) needs exactly one of input= and inputs='
                             % (self.name, name))
        if self._connected:
            raise RuntimeError('Graph %s: add outputs before compiling' % self.name)
        if inputs:
            self._claim_output_name(name)
            tensor = self._merged(list(inputs), merge_mode, concat_axis, dot_axes,
                                  'output %r' % name, name=name)
        else:
            tensor = self._single(input, 'the input of output %r' % name)
            if tensor._keras_history[0].name != name:
                if input != name:  # an output may carry its own node's name
                    self._claim_output_name(name)
                tensor = Activation('linear', name=name)(tensor)
        self._graph_outputs[name] = tensor
        self.output_order.append(name)

    def _claim_output_name(self, name):
        if name in self.namespace:
            raise ValueError('Graph %s: output %r has the name of a node or input but is fed by '
                             'another one; choose another name' % (self.name, name))

    # -- the model -----------------------------------------------------------

    def _connect(self):
        if self._connected:
            return
        if not self._graph_inputs or not self._graph_outputs:
            raise RuntimeError('Graph %s has %d inputs and %d outputs; add_input and add_output '
                               'first' % (self.name, len(self._graph_inputs),
                                          len(self._graph_outputs)))
        self._set_graph(list(self._graph_inputs.values()), list(self._graph_outputs.values()))
        self.layers = list(self._graph_layers)
        self._connected = True

    def compile(self, optimizer, loss, metrics=None, loss_weights=None,
                sample_weight_modes=None, **kwargs):
        """Configures training.

        # Arguments
            optimizer: name or optimizer instance.
            loss: dict output name -> objective (name or function).
            sample_weight_modes: dict output name -> None or 'temporal'.
        """
        self._connect()
        if not isinstance(loss, dict):
            raise TypeError('Graph %s: loss must be a dict {output name: objective}, got %r'
                            % (self.name, loss))
        unknown = [k for k in loss if k not in self._graph_outputs]
        missing = [k for k in self._graph_outputs if k not in loss]
        if unknown or missing:
            raise ValueError('Graph %s: loss must name each output (%s) once; unknown: %s, '
                             'missing: %s' % (self.name, ', '.join(self.output_order),
                                              unknown or 'none', missing or 'none'))
        return super(Graph, self).compile(optimizer, loss, metrics=metrics,
                                          loss_weights=loss_weights,
                                          sample_weight_mode=sample_weight_modes, **kwargs)

    def summary(self, *args, **kwargs):
        self._connect()
        return super(Graph, self).summary(*args, **kwargs)

    def _split(self, data, with_targets, method):
        if not isinstance(data, dict):
            raise TypeError('Graph %s.%s: data must be a dict keyed by input%s names, got %s'
                            % (self.name, method, ' and output' if with_targets else '',
                               type(data).__name__))
        wanted = list(self.input_order) + (list(self.output_order) if with_targets else [])
        missing = [k for k in wanted if k not in data]
        if missing:
            raise ValueError('Graph %s.%s: data has no %s (it has %s)'
                             % (self.name, method, ', '.join(missing), ', '.join(sorted(data))))
        x = [data[k] for k in self.input_order]
        y = [data[k] for k in self.output_order] if with_targets else None
        return x, y

    def _weights(self, weights):
        if not weights:
            return None
        return [weights.get(k) for k in self.output_order]

    def fit(self, data, batch_size=128, nb_epoch=100, verbose=1, callbacks=None,
            validation_split=0., validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, show_accuracy=False):
        """Trains on a dict of input and output arrays.

        # Arguments
            data: dict name -> array, for every input and output.
            validation_data: dict like `data`.
            sample_weight, class_weight: dicts keyed by output name.
            batch_size, nb_epoch, verbose, callbacks, validation_split,
            shuffle, initial_epoch: as for `Model.fit`.
            show_accuracy: also report the accuracy (`acc`, `val_acc`); as in
                Keras 0.3, only for a Graph with one output.

        # Returns
            The `History`.
        """
        if show_accuracy and len(self.output_order) != 1:
            raise ValueError('Graph %s.fit: show_accuracy needs a Graph with exactly one output '
                             '(it has %d: %s), as in Keras 0.3; accuracy is ill-defined otherwise'
                             % (self.name, len(self.output_order), self.output_order))
        self._check_compiled()
        x, y = self._split(data, True, 'fit')
        validation = None
        if validation_data is not None:
            vx, vy = self._split(validation_data, True, 'fit (validation_data)')
            validation = (vx, vy)
        return super(Graph, self).fit(x, y, batch_size=batch_size, nb_epoch=nb_epoch,
                                      verbose=verbose, callbacks=callbacks,
                                      validation_split=validation_split,
                                      validation_data=validation, shuffle=shuffle,
                                      class_weight=self._weights(class_weight),
                                      sample_weight=self._weights(sample_weight),
                                      initial_epoch=initial_epoch, show_accuracy=show_accuracy)

    def evaluate(self, data, batch_size=128, show_accuracy=False, verbose=0, sample_weight=None):
        """Returns the total loss on a dict of input and output arrays."""
        if show_accuracy:
            raise ValueError('Graph %s.evaluate: show_accuracy is not available for a Graph '
                             '(Keras 0.3 did not have it either)' % self.name)
        self._check_compiled()
        x, y = self._split(data, True, 'evaluate')
        outs = super(Graph, self).evaluate(x, y, batch_size=batch_size, verbose=verbose,
                                           sample_weight=self._weights(sample_weight))
        return outs[0] if isinstance(outs, list) else outs

    def predict(self, data, batch_size=128, verbose=0):
        """Returns a dict output name -> predictions for a dict of input arrays."""
        self._connect()
        x, _ = self._split(data, False, 'predict')
        outs = super(Graph, self).predict(x, batch_size=batch_size, verbose=verbose)
        outs = outs if isinstance(outs, list) else [outs]
        return OrderedDict(zip(self.output_order, outs))

    def train_on_batch(self, data, accuracy=False, class_weight=None, sample_weight=None):
        """One gradient update on a dict batch; returns the total loss."""
        if accuracy:
            raise ValueError('Graph %s.train_on_batch: accuracy is not available for a Graph'
                             % self.name)
        self._check_compiled()
        x, y = self._split(data, True, 'train_on_batch')
        outs = super(Graph, self).train_on_batch(x, y, class_weight=self._weights(class_weight),
                                                 sample_weight=self._weights(sample_weight))
        return outs[0] if isinstance(outs, list) else outs

    def test_on_batch(self, data, accuracy=False, sample_weight=None):
        """The total loss on a dict batch, without updating."""
        if accuracy:
            raise ValueError('Graph %s.test_on_batch: accuracy is not available for a Graph'
                             % self.name)
        self._check_compiled()
        x, y = self._split(data, True, 'test_on_batch')
        outs = super(Graph, self).test_on_batch(x, y, sample_weight=self._weights(sample_weight))
        return outs[0] if isinstance(outs, list) else outs

    def predict_on_batch(self, data):
        """Returns a dict output name -> predictions for one dict batch."""
        self._connect()
        x, _ = self._split(data, False, 'predict_on_batch')
        outs = super(Graph, self).predict_on_batch(x)
        outs = outs if isinstance(outs, list) else [outs]
        return OrderedDict(zip(self.output_order, outs))


def slice_X(X, start=None, stop=None):
    """Slices an array, or each array of a list, as Keras 0.x's `keras.models.slice_X`.

    # Arguments
        X: a NumPy array or a list of them.
        start: start index, or an array or list of indices to take.
        stop: end index (with an integer `start`).

    # Returns
        The slice (a list of slices for a list).
    """
    def take(x):
        if hasattr(start, '__len__'):
            return x[list(start) if not hasattr(start, 'shape') else start.tolist()]
        # 0.3's addition_rnn passes Python 3's len(X) / 10: NumPy < 1.12 took a whole float
        return x[_whole(start):_whole(stop)]
    if isinstance(X, list):
        return [take(x) for x in X]
    return take(X)


def _whole(bound):
    return int(bound) if isinstance(bound, float) and bound.is_integer() else bound
