"""`K.function` and `K.gradients`: clients of the graph walk (`execution`)."""
import numpy as np

from . import batch_rows
from .base_layer import Layer, get_uid
from .execution import order_nodes, run_nodes, weight_gradients_only_for, weight_owners
from .graph import KerasTensor, Node, shape_repr
from .losses_updates import not_collecting_updates


def _is_variable(value):
    return isinstance(value, np.ndarray) and value.dtype.kind == 'f'


def _describe(value):
    if isinstance(value, KerasTensor):
        return value.name
    if isinstance(value, np.ndarray):
        return 'an array of shape %s' % (value.shape,)
    return repr(value)


def _source_tensors(outputs):
    """The tensors without a computing node (inputs, placeholders) that
    `outputs` depend on, each once."""
    found, seen, stack = [], set(), list(outputs)
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        node = tensor.node
        if not node.input_tensors:
            # inputs and placeholders; a variable's node computes its value
            if getattr(node.outbound_layer, 'is_model_input', False):
                found.append(tensor)
        stack.extend(node.input_tensors)
    return found[::-1]


def _ancestors(outputs):
    """ids of every tensor `outputs` depend on (themselves included)."""
    seen, stack = set(), list(outputs)
    while stack:
        tensor = stack.pop()
        if id(tensor) not in seen:
            seen.add(id(tensor))
            stack.extend(tensor.node.input_tensors)
    return seen


class UpdateValue(Layer):
    """The new value of a variable computed from graph tensors, as a graph
    node (see `losses_updates.update_value`): no gradient flows through it,
    since an update is applied, not differentiated."""

    def __init__(self, function, count, name):
        super(UpdateValue, self).__init__(name='%s_%d' % (name, get_uid(name)))
        self.function = function
        self.count = count
        self.built = True

    def compute_mask(self, x, mask=None):
        return None

    def forward(self, x, training=False, need_input_grad=True):
        args = list(x) if self.count != 1 else [x]
        y = np.asarray(self.function(*args))

        def backprop_none(dy):
            return [None] * self.count if self.count != 1 else None
        return y, backprop_none


class Gradients(Layer):
    """The gradients of a scalar expression with respect to tensors and
    arrays (weights, `K.variable`s), as a graph node: its inputs are the
    sources of the expression, and running it walks the expression's graph
    forward and back."""

    def __init__(self, loss, variables):
        super(Gradients, self).__init__(name='gradients_%d' % get_uid('gradients'))
        self.loss = loss
        self.variables = list(variables)
        self.sources = _source_tensors([loss])
        fed = {id(t) for t in self.sources}
        self._nodes = order_nodes([loss], fed, 'K.gradients')
        if all(isinstance(v, KerasTensor) for v in self.variables):
            # the loss as a function of the variables and of what else feeds
            # the nodes between them and it: the gradient node reads only those
            self.sources = _boundary(self._nodes, self.variables)
            self._nodes = order_nodes([loss], {id(t) for t in self.sources}, 'K.gradients')
        self._verdict = None
        # the outputs of layers on the batch rows the gradient does not
        # follow, kept from one evaluation to the next (`run_nodes`)
        self._row_cache = {}
        self.built = True

    def compute_mask(self, x, mask=None):
        # an expression reads values only; a mask stops here, as in Keras 1
        return None

    def forward(self, x, training=False, need_input_grad=True):
        values = list(x) if len(self.sources) != 1 else [x]
        grads, _ = self.compute({id(t): v for t, v in zip(self.sources, values)}, training)

        def backprop_second_order(dy):
            breaking = self.second_order_breaker()
            if breaking is not None:
                raise TypeError(
                    'the gradient of %s (a second derivative) is taken as zero only where '
                    'the differentiated expression is piecewise linear in its sources '
                    '(max pooling, relu, sums, reshapes, products with tensors that do not '
                    'depend on them, layers whose weights are not differentiated); %s breaks '
                    'that rule, and minikeras computes no other second derivative'
                    % (self.name, breaking))
            zeros = [np.zeros_like(np.asarray(v), dtype='float32') for v in values]
            return zeros if len(self.sources) != 1 else zeros[0]
        return (grads if len(grads) > 1 else grads[0]), backprop_second_order

    def second_order_breaker(self):
        """None when the expression is piecewise linear in the sources between
        them and the loss (so the gradient is locally constant and its own
        derivative zero almost everywhere, as Theano and TensorFlow compute
        it), else a description of the first operation that breaks the rule."""
        if not all(isinstance(v, KerasTensor) for v in self.variables):
            return 'the gradient with respect to a weight or variable (it depends on the ' \
                'inputs of the layer that reads it)'
        from .operation import Operation
        if self._verdict is None:
            self._verdict = [_structure_breaker(self._nodes, self.sources)]
        if self._verdict[0] is not None:
            return self._verdict[0]
        for node in self._nodes:
            layer = node.outbound_layer
            if isinstance(layer, (Gradients, UpdateValue, Operation)):
                # an expression's arrays are constants here: only K.gradients
                # with respect to them differentiates them
                continue
            if layer.weight_gradients_wanted and layer.trainable_pairs():
                return 'layer %s (%s), whose weights are differentiated' % (
                    layer.name, type(layer).__name__)
        return None

    def compute(self, feeds, training):
        """The gradients, and the values of every tensor of the loss's graph
        ({id: value}), from the values of the sources in `feeds`."""
        tensor_ids = [id(v) for v in self.variables if isinstance(v, KerasTensor)]
        weight_ids = {id(v) for v in self.variables if not isinstance(v, KerasTensor)}
        # only the buffers of the weights asked for are computed (and zeroed)
        pairs = [(w, b) for w, b in weight_owners(self._nodes) if id(w) in weight_ids]
        for _, buffer in pairs:
            buffer.fill(0.)
        with weight_gradients_only_for(self._nodes, weight_ids), not_collecting_updates():
            vals, backprop, _, _ = run_nodes(self._nodes, feeds, training, True,
                                          carried=[i for i in tensor_ids if i in feeds],
                                          wanted=[i for i in tensor_ids if i not in feeds],
                                          row_cache=self._row_cache)
            seed = np.ones_like(np.asarray(vals[id(self.loss)], dtype='float32'))
            found = backprop([(self.loss, seed)])
        grads = []
        for v in self.variables:
            if isinstance(v, KerasTensor):
                value = np.asarray(vals[id(v)])
                g = found.get(id(v))
                grads.append(np.zeros_like(value, dtype='float32') if g is None else
                             np.asarray(g, dtype='float32'))
            else:
                total = np.zeros(v.shape, dtype='float32')
                for weight, buffer in pairs:
                    if weight is v:
                        total += buffer
                grads.append(total)
        for _, buffer in pairs:
            buffer.fill(0.)
        return grads, vals


def _boundary(nodes, variables):
    """The variables, then the tensors from outside that the nodes between the
    variables and the loss read, each once."""
    between = {id(v) for v in variables}
    found, seen = list(variables), set(between)
    for node in nodes:
        if any(id(t) in between for t in node.input_tensors):
            for t in node.input_tensors:
                if id(t) not in seen and id(t) not in between:
                    seen.add(id(t))
                    found.append(t)
            between.update(id(t) for t in node.output_tensors)
    return found


# Second derivatives: operations piecewise linear in all their inputs, and
# those linear in each input when the others do not depend on the sources.
_PIECEWISE_LINEAR_OPS = {
    'add', 'sub', 'neg', 'abs', 'getitem', 'reshape', 'transpose', 'sum', 'mean',
    'dimshuffle', 'np.add', 'np.subtract', 'np.negative', 'np.absolute', 'np.maximum',
    'np.minimum', 'np.sum', 'np.mean', 'np.reshape', 'np.transpose', 'np.concatenate',
    'K.sum', 'K.mean', 'K.max', 'K.min', 'K.maximum', 'K.minimum', 'K.abs', 'K.relu',
    'K.reshape', 'K.permute_dimensions', 'K.transpose', 'K.flatten', 'K.batch_flatten',
    'K.expand_dims', 'K.squeeze', 'K.concatenate', 'K.repeat', 'K.repeat_elements',
    'K.tile', 'K.spatial_2d_padding', 'K.temporal_padding', 'K.resize_images',
    'K.stop_gradient', 'K.variable', 'K.zeros_like', 'K.ones_like'}
_LINEAR_IN_ONE_OPS = {'mul', 'matmul', 'np.multiply', 'np.dot', 'np.matmul', 'K.dot',
                      'K.batch_dot'}
_DIVISION_OPS = {'truediv', 'np.divide', 'np.true_divide'}
def _second_order_verdict(node, dependent):
    """None when the node is piecewise linear in its inputs that depend on
    the sources (`dependent`: one flag per input), else what breaks it."""
    from .merge import Merge
    from .operation import Operation
    layer = node.outbound_layer
    if isinstance(layer, (Gradients, UpdateValue)):
        return None     # locally constant (a gradient of the same kind) or no gradient
    if isinstance(layer, Operation):
        name = layer.op_name
        if name in _PIECEWISE_LINEAR_OPS:
            return None
        if name in _LINEAR_IN_ONE_OPS and sum(
                dependent[i] for i in _tensor_slots(layer._template)) <= 1:
            return None
        if name in _DIVISION_OPS:
            args = layer._template[0]
            divisor = args[1] if len(args) > 1 else None
            if not (getattr(divisor, 'kind', None) == 'tensor' and dependent[divisor.index]):
                return None
        what = 'a product of two tensors that depend on the sources' \
            if name in _LINEAR_IN_ONE_OPS else 'a division by a tensor that depends on the ' \
            'sources' if name in _DIVISION_OPS else 'an operation that is not piecewise linear'
        return 'the operation %s (%s, %s)' % (name, layer.name, what)
    # each layer class says whether it is piecewise linear in its input for
    # fixed weights (layers/second_order.py); weights are checked at backprop
    if getattr(layer, 'piecewise_linear', False) or getattr(layer, 'is_model_input', False):
        return None
    if isinstance(layer, Merge) and not callable(layer.mode):
        if layer.mode in ('sum', 'ave', 'max', 'concat') or (
                layer.mode == 'mul' and sum(dependent) <= 1):
            return None
    activation = getattr(getattr(layer, 'activation', None), '__name__', None)
    detail = (' with activation %s' % activation) if activation else ''
    return 'layer %s (%s%s, not piecewise linear in its input)' % (
        layer.name, type(layer).__name__, detail)


def _tensor_slots(template):
    """The input index of every place a Keras tensor fills in an operation's
    arguments (a tensor used twice counts twice)."""
    if getattr(template, 'kind', None) == 'tensor':
        return [template.index]
    if isinstance(template, (list, tuple)):
        return [i for part in template for i in _tensor_slots(part)]
    if isinstance(template, dict):
        return [i for part in template.values() for i in _tensor_slots(part)]
    return []


def _structure_breaker(nodes, sources):
    """The first node among `nodes` (in order) that is not piecewise linear
    in its inputs depending on `sources`, described; None when there is none."""
    dependent = set()
    for t in sources:
        node = t.node
        # constants and variables read by the expression do not vary
        if node.input_tensors or getattr(node.outbound_layer, 'is_model_input', False):
            dependent.add(id(t))
    for node in nodes:
        flags = [id(t) in dependent for t in node.input_tensors]
        if not any(flags):
            continue
        verdict = _second_order_verdict(node, flags)
        if verdict is not None:
            return verdict
        dependent.update(id(t) for t in node.output_tensors)
    return None


def gradients(loss, variables):
    """The gradients of the scalar `loss` with respect to each of `variables`.

    # Arguments
        loss: a scalar Keras tensor (an expression of the graph).
        variables: a list of Keras tensors (inputs, placeholders or
            intermediate tensors) and arrays (layer weights, `K.variable`s).

    # Returns
        A list of Keras tensors, one per variable, of its shape.

    # Raises
        ValueError: when the loss is not a scalar, or does not depend on one
            of the variables.
    """
    if not isinstance(loss, KerasTensor):
        from .. import autodiff
        if autodiff.is_traced(loss):
            raise TypeError('K.gradients was called inside a layer or Lambda while it runs (on '
                            'values being traced, not on graph tensors): minikeras takes '
                            'gradients on the graph only. Take K.gradients of graph tensors '
                            '(layer outputs, placeholders) outside the layer.')
        raise TypeError('K.gradients: the loss must be a Keras tensor (an expression of the '
                        'graph), got %s' % _describe(loss))
    if tuple(loss.shape) != ():
        raise ValueError('K.gradients: the loss %s has shape %s, but a gradient is taken of a '
                         'scalar: reduce it first, e.g. K.sum(loss) or K.mean(loss)'
                         % (loss.name, shape_repr(loss.shape)))
    single = not isinstance(variables, (list, tuple))
    variables = [variables] if single else list(variables)
    if not variables:
        return []
    ancestors = _ancestors([loss])
    for v in variables:
        if not isinstance(v, KerasTensor) and not _is_variable(v):
            raise TypeError('K.gradients: variables must be Keras tensors or float arrays '
                            '(weights, K.variable), got %s' % _describe(v))
        if isinstance(v, KerasTensor) and id(v) not in ancestors:
            raise ValueError('K.gradients: the loss %s does not depend on %s (they are not '
                             'connected in the graph), so its gradient is undefined'
                             % (loss.name, _describe(v)))
    op = Gradients(loss, variables)
    reads = {id(w) for w, _ in weight_owners(op._nodes)}
    for v in variables:
        if not isinstance(v, KerasTensor) and id(v) not in reads:
            raise ValueError('K.gradients: the loss %s does not depend on %s (they are not '
                             'connected in the graph), so its gradient is undefined'
                             % (loss.name, _describe(v)))
    node = Node(op, op.sources, [np.shape(v) if not isinstance(v, KerasTensor) else v.shape
                                 for v in variables])
    op.input_shape = [t.shape for t in op.sources]
    op.output_shape = [t.shape for t in node.output_tensors]
    outputs = node.output_tensors
    return outputs[0] if single else list(outputs)


def takes_gradients(function):
    """Whether the code of `function` names `gradients` (`K.gradients`): such
    a Lambda or merge function is built on Keras tensors, as Keras built
    every one, since a gradient needs the graph behind its arguments."""
    code = getattr(function, '__code__', None)
    return code is not None and 'gradients' in code.co_names


class GraphBody(object):
    """A layer's function built once on its input Keras tensors, run as that
    graph: `forward(values, training, need_input_grad)` -> `(y, backprop)`,
    with `backprop(dy)` returning one gradient per input."""

    def __init__(self, layer, inputs, output):
        if not isinstance(output, KerasTensor):
            raise TypeError('Layer %s: its function, given Keras tensors, must return one '
                            'Keras tensor, got %s' % (layer.name, _describe(output)))
        self.inputs, self.output = list(inputs), output
        self.nodes = order_nodes([output], {id(t) for t in self.inputs},
                                 'Layer %s (its function)' % layer.name)

    def forward(self, values, training, need_input_grad):
        feeds = {id(t): v for t, v in zip(self.inputs, values)}
        carried = [id(t) for t in self.inputs] if need_input_grad else ()
        computed, backprop, _, _ = run_nodes(self.nodes, feeds, training, True, carried)

        def backprop_inputs(dy):
            found = backprop([(self.output, dy)])
            return [np.zeros_like(np.asarray(v), dtype='float32') if found.get(id(t)) is None
                    else found[id(t)] for t, v in zip(self.inputs, values)]
        return np.asarray(computed[id(self.output)], dtype='float32'), backprop_inputs


def graph_body(layer, inputs, output):
    """Records on `layer` the `GraphBody` of its call; a layer whose function
    is a graph is called once (its forward cannot tell calls apart)."""
    if getattr(layer, '_graph_body', None) is not None:
        raise ValueError('Layer %s takes K.gradients in its function, so it is built as a graph '
                         'on its input tensors and can be called once only; make one layer '
                         'per call' % layer.name)
    layer._graph_body = GraphBody(layer, inputs, output)


class Function(object):
    """A graph evaluated on NumPy values: `K.function(inputs, outputs, updates)`.

    Calling it with a list of arrays, one per input, returns the list of the
    outputs' values, and then applies the updates (pairs `(variable, new
    value)`, as `K.update` makes them). The learning phase
    (`K.learning_phase()`) is an input like the others; when it is not among
    the inputs, the graph runs in the test phase. As in Keras, running in the
    train phase does not move BatchNormalization's moving statistics.
    """

    def __init__(self, inputs, outputs, updates=None, name=None, **kwargs):
        if not isinstance(inputs, (list, tuple)):
            raise TypeError('K.function: inputs must be a list of Keras tensors, got %s'
                            % _describe(inputs))
        for i, t in enumerate(inputs):
            if not isinstance(t, KerasTensor):
                raise TypeError('K.function: input %d must be a Keras tensor (Input, '
                                'K.placeholder, a layer output or K.learning_phase()), got %s'
                                % (i, _describe(t)))
        self.single_output = not isinstance(outputs, (list, tuple))
        outputs = [outputs] if self.single_output else list(outputs)
        self.inputs, self.outputs = list(inputs), outputs
        self.updates = []
        for update in updates or []:
            if not isinstance(update, (list, tuple)) or len(update) != 2 or \
                    not _is_variable(update[0]):
                raise TypeError('K.function: each update must be a pair (variable, new value) '
                                'as K.update makes it, got %r' % (update,))
            self.updates.append(tuple(update))
        graph = [o for o in outputs + [u[1] for u in self.updates] if isinstance(o, KerasTensor)]
        self._owner = 'K.function (inputs: %s)' % (', '.join(t.name for t in self.inputs)
                                                    or 'none')
        self._nodes = order_nodes(graph, {id(t) for t in self.inputs}, self._owner)

    def _state(self):
        """The non-trainable weights of the graph's layers (moving statistics)."""
        from .container import Container
        arrays = []
        for node in self._nodes:
            layer = node.outbound_layer
            layers = [leaf for leaf, _ in layer._leaf_layers()] \
                if isinstance(layer, Container) else [layer]
            for leaf in layers:
                arrays.extend(leaf._non_trainable_weights)
        return arrays

    def _run(self, feeds, training):
        """Runs the graph. The gradients are computed first, each from one
        forward and backward walk of its loss's graph, whose values are then
        reused: `K.function([x], [loss] + K.gradients(loss, [x]))` runs the
        network forward once."""
        gradient_nodes = [node for node in self._nodes
                          if isinstance(node.outbound_layer, Gradients)]
        if not gradient_nodes:
            return run_nodes(self._nodes, feeds, training, need_backprop=False)[0]
        from .input_layer import learning_phase_tensor
        known = dict(feeds)
        phase = learning_phase_tensor(create=False)
        if phase is not None and id(phase) not in known:
            known[id(phase)] = np.array(1 if training else 0, dtype='int32')
        for node in gradient_nodes:
            op = node.outbound_layer
            if not all(id(t) in known for t in op.sources):
                return run_nodes(self._nodes, feeds, training, need_backprop=False)[0]
            grads, values = op.compute({id(t): known[id(t)] for t in op.sources}, training)
            known.update(values)
            known.update((id(t), g) for t, g in zip(node.output_tensors, grads))
        graph = [o for o in self.outputs + [u[1] for u in self.updates]
                 if isinstance(o, KerasTensor)]
        rest = order_nodes(graph, set(known), self._owner)
        return run_nodes(rest, known, training, need_backprop=False)[0]

    def __call__(self, values):
        if not isinstance(values, (list, tuple)):
            values = [values]
        if len(values) != len(self.inputs):
            raise ValueError('K.function was given %d input value(s) but has %d input(s) (%s)'
                             % (len(values), len(self.inputs),
                                ', '.join(t.name for t in self.inputs)))
        feeds, training = {}, False
        for t, value in zip(self.inputs, values):
            array = np.asarray(value, dtype=t.dtype)
            if getattr(t.node.outbound_layer, 'is_learning_phase', False):
                training = bool(array)
            elif array.ndim != len(t.shape) or any(
                    d is not None and d != n for d, n in zip(t.shape, array.shape)):
                raise ValueError('K.function: input %s expects shape %s, got an array of shape %s'
                                 % (t.name, shape_repr(t.shape), array.shape))
            feeds[id(t)] = array
        state = self._state()
        saved = [np.array(a) for a in state]
        try:
            computed = self._run(feeds, training)
        finally:
            for array, old in zip(state, saved):
                array[...] = old

        # a layer output the gradient walk keeps in its row cache is written
        # over at the next call: the caller gets a copy of it
        kept = [array for node in self._nodes if isinstance(node.outbound_layer, Gradients)
                for array in batch_rows.kept_outputs(node.outbound_layer._row_cache)]

        def value(o):
            if not isinstance(o, KerasTensor):
                return np.asarray(o)
            array = np.asarray(computed[id(o)])
            if any(np.may_share_memory(array, k) for k in kept):
                array = np.array(array)
            return array
        results = [value(o) for o in self.outputs]
        new_values = [value(new) for _, new in self.updates]
        for (variable, _), new in zip(self.updates, new_values):
            variable[...] = new
        return results[0] if self.single_output else results


def function(inputs, outputs, updates=None, **kwargs):
    """Instantiates a Keras function: see `Function`.

    # Arguments
        inputs: list of Keras tensors to feed.
        outputs: list of Keras tensors to compute.
        updates: list of (variable, new value) pairs applied after each call.
    """
    return Function(inputs, outputs, updates=updates, **kwargs)
