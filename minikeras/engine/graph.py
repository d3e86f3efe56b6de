"""The graph of layers: Keras tensors and the nodes (layer calls) that link them.

A `KerasTensor` is one symbolic output: its shape and the node that made it.
A `Node` records one call of a layer on Keras tensors. Containers walk these
links to order and run a model's layers.
"""


def shape_repr(shape):
    """Formats a shape with None for the batch axis, as Keras 1 printed it."""
    return '(' + ', '.join('None' if d is None else str(d) for d in shape) + \
        (',)' if len(shape) == 1 else ')')


def to_list(x):
    """`x` as a list (a single item becomes a one-item list)."""
    return list(x) if isinstance(x, (list, tuple)) else [x]


class KerasTensor(object):
    """A symbolic output in a graph of layers: its shape (batch axis None)
    and where it comes from, `_keras_history = (layer, node_index, tensor_index)`."""

    def __init__(self, shape, layer, node_index, tensor_index):
        self._keras_shape = tuple(shape)
        self._keras_history = (layer, node_index, tensor_index)
        # Whether the tensor carries a mask, as far as the graph tells:
        # True, False, or None when only running it will tell.
        self._mask_flag = False

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
