"""Drawing a model's graph with pydot and Graphviz (Keras 2's `keras.utils.vis_utils`).

pydot (`pip install pydot`) builds the graph; Graphviz's `dot` program
renders it to an image. Neither is a dependency of minikeras: without them
the functions raise an ImportError / OSError that says what to install.
"""
import os
import tempfile

_GRAPHVIZ_HELP = ("install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew "
                  "install graphviz; conda: conda install graphviz) so that its `dot` program "
                  "is on PATH")

# Formats written from pydot's own text, without running Graphviz.
_SOURCE_FORMATS = ('dot', 'gv')


def _import_pydot(caller):
    try:
        import pydot
    except ImportError:
        raise ImportError('%s needs pydot to draw the model: pip install pydot (and Graphviz: '
                          '%s). model.summary() prints the same layers as text.'
                          % (caller, _GRAPHVIZ_HELP))
    return pydot


def _model_layers(model):
    """The model's layers with the input layers it starts from, and its own graph nodes."""
    if not model.layers:
        raise ValueError('%s has no layers to draw yet (a first layer added without an input '
                         'shape, Keras 0.x style, joins the model with the first data): give '
                         'that layer input_shape=..., or fit the model once, before drawing it'
                         % model.name)
    layers = list(model.layers)
    own_nodes = getattr(model, '_nodes', None)
    own_nodes = None if own_nodes is None else {id(node) for node in own_nodes}
    sources = []
    for layer in layers:
        for node in layer.inbound_nodes:
            if own_nodes is not None and id(node) not in own_nodes:
                continue
            for inbound in node.inbound_layers:
                if all(inbound is not known for known in layers + sources):
                    sources.append(inbound)
    return sources + layers, own_nodes


def _shape_text(layer, attribute, own_nodes):
    """Keras's label: the shape (a list for several tensors), or 'multiple' when the
    layer's calls in this model disagree."""
    labels = set()
    for node in layer.inbound_nodes:
        if own_nodes is not None and id(node) not in own_nodes:
            continue
        tensors = node.output_tensors if attribute == 'output_shape' else node.input_tensors
        if not tensors:  # an input layer's node reads nothing
            labels.add(str(getattr(layer, attribute, None)))
        else:
            shapes = [tuple(t.shape) for t in tensors]
            labels.add(str(shapes[0] if len(shapes) == 1 else shapes))
    if not labels:
        return str(getattr(layer, attribute, None))
    return labels.pop() if len(labels) == 1 else 'multiple'


def model_to_dot(model, show_shapes=False, show_layer_names=True, rankdir='TB'):
    """The model's graph as a `pydot.Dot`: one node per layer, one edge per connection.

    # Arguments
        model: a `Sequential` or functional `Model`.
        show_shapes: add each layer's input and output shapes to its node.
        show_layer_names: label nodes `name: ClassName` rather than `ClassName`.
        rankdir: 'TB' draws top to bottom, 'LR' left to right.

    # Returns
        A `pydot.Dot` graph.
    """
    pydot = _import_pydot('model_to_dot')
    if rankdir not in ('TB', 'LR', 'BT', 'RL'):
        raise ValueError("model_to_dot: rankdir should be 'TB', 'LR', 'BT' or 'RL', got %r"
                         % (rankdir,))
    layers, own_nodes = _model_layers(model)
    dot = pydot.Dot()
    dot.set('rankdir', rankdir)
    dot.set('concentrate', True)
    dot.set_node_defaults(shape='record')
    for layer in layers:
        class_name = type(layer).__name__
        label = '%s: %s' % (layer.name, class_name) if show_layer_names else class_name
        if show_shapes:
            label = '%s\n|{input:|output:}|{{%s}|{%s}}' % (
                label, _shape_text(layer, 'input_shape', own_nodes),
                _shape_text(layer, 'output_shape', own_nodes))
        dot.add_node(pydot.Node(str(id(layer)), label=label))
    drawn = {id(layer) for layer in layers}
    for layer in layers:
        for node in layer.inbound_nodes:
            if own_nodes is not None and id(node) not in own_nodes:
                continue
            for inbound in node.inbound_layers:
                if id(inbound) in drawn:
                    dot.add_edge(pydot.Edge(str(id(inbound)), str(id(layer))))
    return dot


def _render(dot, pydot_format):
    try:
        return dot.create(format=pydot_format)
    except (OSError, FileNotFoundError) as error:
        raise OSError('pydot could not run Graphviz to write a %s image (%s): %s, or save as '
                      '.dot, which needs no Graphviz' % (pydot_format, error, _GRAPHVIZ_HELP))


def write_dot(dot, to_file):
    """Writes a pydot graph to `to_file`, in the format its extension names (png by default).

    The file is replaced only once the image is complete.
    """
    extension = os.path.splitext(to_file)[1][1:].lower() or 'png'
    if extension in _SOURCE_FORMATS:
        data = dot.to_string().encode('utf-8')
    else:
        data = _render(dot, extension)
    folder = os.path.dirname(os.path.abspath(to_file))
    handle, partial = tempfile.mkstemp(prefix='.' + os.path.basename(to_file) + '.',
                                       dir=folder)
    try:
        with os.fdopen(handle, 'wb') as out:
            out.write(data)
        os.replace(partial, to_file)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise


def plot_model(model, to_file='model.png', show_shapes=False, show_layer_names=True,
               rankdir='TB'):
    """Draws the model's graph into an image file.

    # Arguments
        model: a `Sequential` or functional `Model`.
        to_file: the image's path; its extension names the format ('png',
            'svg', 'pdf', ... rendered by Graphviz; 'dot' writes the graph's
            source without Graphviz).
        show_shapes: add each layer's input and output shapes.
        show_layer_names: label nodes `name: ClassName` rather than `ClassName`.
        rankdir: 'TB' draws top to bottom, 'LR' left to right.
    """
    write_dot(model_to_dot(model, show_shapes, show_layer_names, rankdir), to_file)
