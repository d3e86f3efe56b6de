"""`Container`: a graph of layers from input tensors to output tensors,
itself usable as a layer. The training API is added by `training.Model`."""
import numpy as np

from .base_layer import Layer, WeightsOfInnerLayers, _same_sample_shape, get_uid, weight_array
from .graph import KerasTensor, shape_repr, to_list
from .input_layer import InputLayer
from .losses_updates import ModelLossesAndUpdates


class Container(WeightsOfInnerLayers, ModelLossesAndUpdates, Layer):
    """A graph of layers from input tensors to output tensors. It runs the
    graph (`_run`) and is itself a layer: a model can be called on tensors or
    added to another model.

    # Arguments
        input: a Keras tensor from `Input()`, or a list of them.
        output: a Keras tensor, or a list of them.
        name: the model's name.
    """

    # The `class_name` of the model in saved configs; `model_from_config`
    # builds the class of that name (`utils.layer_utils.model_class`).
    config_class_name = 'Model'

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
        if len({id(t) for t in inputs}) != len(inputs):
            raise ValueError('Model %s: the list of inputs is redundant (%s): each input may '
                             'appear only once' % (self.name, ', '.join(t.name for t in inputs)))
        for t in inputs:
            if not isinstance(t._keras_history[0], InputLayer):
                raise ValueError('Model %s: input %s does not come from Input(); model inputs '
                                 'must be Input tensors' % (self.name, t.name))
        self.inputs, self.outputs = list(inputs), list(outputs)
        self._nodes, self._graph_layers = _order_graph(self, self.inputs, self.outputs)
        from .operation import Operation
        for layer in self._graph_layers:
            if isinstance(layer, Operation):
                raise TypeError('Model %s: its graph computes %s (%s) outside any layer; as in '
                                'Keras 1, a model is made of layers: wrap the expression in a '
                                'Lambda layer' % (self.name, layer.op_name, layer.name))
        self.input_layers = [t._keras_history[0] for t in self.inputs]
        self.output_layers = [t._keras_history[0] for t in self.outputs]
        # Keras 1.2.2's bookkeeping of where the inputs and outputs come from
        self.input_layers_node_indices = [t._keras_history[1] for t in self.inputs]
        self.input_layers_tensor_indices = [t._keras_history[2] for t in self.inputs]
        self.output_layers_node_indices = [t._keras_history[1] for t in self.outputs]
        self.output_layers_tensor_indices = [t._keras_history[2] for t in self.outputs]
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

    @property
    def sublayers(self):
        return list(self._graph_layers)

    @property
    def uses_learning_phase(self):
        """Whether a layer of the model uses the learning phase (Keras 1.2.2)."""
        return any(layer.uses_learning_phase for layer in self._graph_layers)

    @uses_learning_phase.setter
    def uses_learning_phase(self, value):
        # as in Keras 1.2.2, a model's is its layers'
        pass

    @property
    def input_spec(self):
        """The input specs of the model's input layers, one per input (None
        where a layer declares none), as in Keras 1.2.2."""
        specs = []
        for layer in getattr(self, 'input_layers', []):
            spec = layer.input_spec
            specs.extend(spec if isinstance(spec, list) else [spec])
        return specs

    @input_spec.setter
    def input_spec(self, value):
        pass

    def _leaf_layers(self):
        """[(layer, trainable)] for every layer of the graph that has no
        sublayers (nested models and wrappers are opened), once each."""
        found, seen = [], set()

        def collect(layers, trainable):
            for layer in layers:
                inner = layer.sublayers
                if inner:
                    collect(inner, trainable and layer.trainable)
                elif id(layer) not in seen:
                    seen.add(id(layer))
                    found.append((layer, trainable and layer.trainable))
        collect(self._graph_layers, self.trainable)
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
            new = weight_array(new, self.name, name)
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
        return self._run_masked(inputs, training, need_backprop, need_input_grads)[:3]

    def _run_masked(self, inputs, training, need_backprop, need_input_grads=False,
                    input_masks=None):
        """`_run` with masks: each layer gets the mask of its input (layers
        that support masking in `forward`, the others only if it is None)
        and its `compute_mask` gives the mask of its output.

        # Returns
            `(outputs, backprop, penalty, output_masks)`.
        """
        from .execution import run_nodes
        feeds = {id(t): x for t, x in zip(self.inputs, inputs)}
        masks = {id(t): m for t, m in zip(self.inputs, input_masks or []) if m is not None}
        carried = [id(t) for t in self.inputs] if need_input_grads else ()
        values, backprop, penalty, masks = run_nodes(self._nodes, feeds, training,
                                                     need_backprop, carried, masks=masks)

        def backprop_all(output_grads):
            grads = backprop(list(zip(self.outputs, output_grads)))
            return [grads.get(id(t)) for t in self.inputs]
        return [values[id(t)] for t in self.outputs], backprop_all, penalty, \
            [masks.get(id(t)) for t in self.outputs]

    def get_output_shape_for(self, input_shape):
        """The output shape(s) for the given input shape(s), batch axis
        included, computed layer by layer through the graph (as Keras 1.2.2's
        Container did): a tuple for one output, a list for several."""
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        if len(shapes) != len(self.inputs):
            raise ValueError('Model %s has %d input(s), got %d input shape(s): %s'
                             % (self.name, len(self.inputs), len(shapes), input_shape))
        known = {id(t): tuple(shape) for t, shape in zip(self.inputs, shapes)}
        for node in self._nodes:
            in_shapes = [known[id(t)] for t in node.input_tensors]
            out = node.outbound_layer.get_output_shape_for(
                in_shapes if len(in_shapes) > 1 else in_shapes[0])
            outs = out if isinstance(out, list) else [out]
            for t, shape in zip(node.output_tensors, outs):
                known[id(t)] = tuple(shape)
        outputs = [known[id(t)] for t in self.outputs]
        return outputs[0] if len(outputs) == 1 else outputs

    def connect(self, input_shape):
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        if len(shapes) != len(self.inputs) or not all(
                _same_sample_shape(a, tuple(b)) for a, b in zip(self.input_shapes, shapes)):
            raise ValueError('Model %s expects input shape(s) %s, got %s'
                             % (self.name, self.input_shapes, input_shape))
        # a model built for (None, None) called on (None, 12) has the longer shape's output
        return self.get_output_shape_for(input_shape)

    def forward(self, x, training=False, need_input_grad=True):
        outs, backprop, _ = self._run(to_list(x), training, True, need_input_grad)
        single_in, single_out = len(self.inputs) == 1, len(self.outputs) == 1

        def backprop_as_layer(dy):
            grads = backprop(to_list(dy) if not single_out else [dy])
            return grads[0] if single_in else grads
        return (outs[0] if single_out else outs), backprop_as_layer

    def call(self, x, mask=None):
        outs = self._run_masked(to_list(x), False, False, input_masks=_mask_list(mask))[0]
        return outs[0] if len(outs) == 1 else outs

    def _output_mask_flags(self, input_flags):
        flags = {id(t): flag for t, flag in zip(self.inputs, input_flags)}
        for node in self._nodes:
            outs = node.outbound_layer._output_mask_flags(
                [flags.get(id(t), False) for t in node.input_tensors])
            flags.update((id(t), flag) for t, flag in zip(node.output_tensors, outs))
        return [flags.get(id(t), False) for t in self.outputs]

    def compute_mask(self, x, mask=None):
        """The masks of the outputs for inputs `x` with masks `mask`: the
        graph is run (Keras 1.2.2 ran it too). On Keras tensors: None for
        each output that carries no mask."""
        if any(isinstance(t, KerasTensor) for t in to_list(x)):
            masks = _mask_list(mask) or [None] * len(to_list(x))
            flags = self._output_mask_flags([t._mask_flag or m is not None
                                             for t, m in zip(to_list(x), masks)])
            if any(flags):
                raise TypeError('Model %s: compute_mask on Keras tensors whose outputs carry '
                                'a mask: minikeras computes masks with the values; call it on '
                                'arrays' % self.name)
            return [None] * len(flags) if len(flags) != 1 else None
        out_masks = self._run_masked(to_list(x), False, False, input_masks=_mask_list(mask))[3]
        return out_masks[0] if len(out_masks) == 1 else out_masks

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
                # a call's training=True/False is kept as Keras 2.2.4 kept it
                forced = [{'training': node.forced_training}] \
                    if hasattr(node, 'forced_training') else []
                inbound.append([[inbound_layer.name,
                                 node_ids.get((id(inbound_layer), node_index), node_index),
                                 tensor_index] + forced
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
                    sources, options = [], {}
                    for inbound_name, node_index, tensor_index, *call_options in node_data:
                        for option in call_options:
                            if isinstance(option, dict) and 'training' in option:
                                options['training'] = option['training']
                        source = created.get(inbound_name)
                        if source is None or len(source.inbound_nodes) <= node_index:
                            ready = False
                            break
                        sources.append(source.inbound_nodes[node_index]
                                       .output_tensors[tensor_index])
                    if not ready:
                        break
                    layer(sources if len(sources) > 1 else sources[0], **options)
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


def _mask_list(mask):
    return None if mask is None else to_list(mask)


def _own_offset(layer):
    """InputLayers are born with their node; the config lists none for them."""
    return 1 if isinstance(layer, InputLayer) else 0


def _order_graph(container, inputs, outputs):
    """Nodes in execution order and layers in Keras 1's order (by depth from
    the outputs, deepest first, ties in traversal order)."""
    node_depth, layer_depth, layer_index, nodes_seen = {}, {}, {}, {}
    # the depth each node last passed to its inputs: a node is explored again
    # only when it would pass a greater one (else the walk along every path
    # of a many-branched graph, such as Inception's, is exponential)
    passed = {}
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
        child_depth = layer_depth[id(layer)] + 1
        if passed.get(id(node), -1) >= child_depth:
            return
        passed[id(node)] = child_depth
        for inbound in node.input_tensors:
            visit(inbound, child_depth, trail | {id(node)})

    for t in outputs:
        visit(t, 0, frozenset())
    nodes = sorted(nodes_seen.values(), key=lambda n: -node_depth[id(n)])
    nodes = [n for n in nodes if n.input_tensors and
             not any(id(t) in input_ids for t in n.output_tensors)]
    layers = sorted((entry for entry in layer_index.values()),
                    key=lambda entry: (-layer_depth[id(entry[1])], entry[0]))
    return nodes, [layer for _, layer in layers]
