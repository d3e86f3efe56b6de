"""Running a graph: the one walk behind models, `K.function` and `K.gradients`.

`run_nodes` evaluates graph nodes (layer calls, nested models, expressions)
in order on NumPy values, keeping each layer's backprop closure, and returns
a function that sends gradients from any tensors back to the fed tensors,
to the intermediate tensors asked for, and into the gradient buffers of the
weights on the way.
"""
import contextlib

import numpy as np


def order_nodes(outputs, fed, owner):
    """The nodes needed to compute `outputs` from the tensors in `fed` (a set
    of ids), each after the nodes it reads.

    # Raises
        ValueError: naming the input tensor that is needed but not fed.
    """
    from .input_layer import InputLayer
    order, done, stack = [], set(), [(t, False) for t in reversed(outputs)]
    while stack:
        tensor, expanded = stack.pop()
        node = tensor.node
        if id(tensor) in fed or id(node) in done:
            continue
        if expanded:
            done.add(id(node))
            order.append(node)
            continue
        if not node.input_tensors and isinstance(node.outbound_layer, InputLayer):
            if getattr(node.outbound_layer, 'is_learning_phase', False):
                continue
            raise ValueError('%s: graph disconnected: the value of %s is needed but it is not '
                             'among the inputs given; add it to the inputs'
                             % (owner, tensor.name))
        stack.append((tensor, True))
        for inbound in reversed(node.input_tensors):
            if id(inbound) not in fed and id(inbound.node) not in done:
                stack.append((inbound, False))
    return order


def _forward_naming_layer(layer, x, training, need_input, mask_kwargs):
    """`layer.forward`, whose ValueError (an input the layer cannot take,
    found by a kernel) names the layer and the input's shape."""
    try:
        return layer.forward(x, training=training, need_input_grad=need_input, **mask_kwargs)
    except ValueError as error:
        if layer.name in str(error):
            raise
        shapes = [np.shape(v) for v in x] if isinstance(x, list) else np.shape(x)
        raise ValueError('Layer %s (%s) on an input of shape %s: %s'
                         % (layer.name, type(layer).__name__, shapes, error)) from error


def run_nodes(nodes, feeds, training, need_backprop, carried=(), wanted=(), masks=None,
              row_cache=None):
    """Runs `nodes` (in order) on the values in `feeds` ({id(tensor): array}).

    Masks ride with the values: each layer gets the mask of its input (layers
    that support masking in `forward`, the others only if it is None) and its
    `compute_mask` gives the mask of its output.

    # Arguments
        training: whether layers run in the training phase (Dropout,
            BatchNormalization's batch statistics).
        need_backprop: whether to keep the layers' backprop closures.
        carried: ids of fed tensors whose gradient is wanted.
        wanted: ids of intermediate tensors whose gradient is wanted.
            Where these reach a tensor through some of its batch rows only,
            the walk follows those rows alone (`batch_rows`).
        masks: {id(tensor): mask} for the fed tensors that carry one.
        row_cache: a dict kept from one walk to the next, where a layer run
            on some rows keeps its output on the others, reused while its
            weights and input rows stay the same (`batch_rows.split_forward`).

    # Returns
        `(values, backprop, penalty, masks)`: {id(tensor): value} for every tensor
        computed or fed; `backprop(seeds)`, which takes [(tensor, gradient)],
        adds the weight gradients into the layers' buffers and returns
        {id(tensor): gradient} for the carried and wanted tensors; and the
        activity-regularization loss; and {id(tensor): mask} for the tensors
        that carry a mask.
    """
    from . import batch_rows
    from .base_layer import mask_argument
    from .container import Container
    from .input_layer import learning_phase_tensor
    from .losses_updates import record_updates
    values = dict(feeds)
    masks = dict(masks or {})
    phase = learning_phase_tensor(create=False)
    if phase is not None and id(phase) not in values:
        values[id(phase)] = np.array(1 if training else 0, dtype='int32')
    carries = set(carried)
    wanted = set(wanted)
    # {id(tensor): the rows through which it depends on the carried and
    # wanted tensors}, for tensors that do through some rows only
    row_sets = {}
    # how the other rows of a split layer's output came about: 'unchanged'
    # (taken from `row_cache`) or 'computed'
    other_rows_state = {}
    records = []
    penalty = 0.
    # {id(tensor): (the tensor it upsamples, factors)}, see _forward_on_upsampled
    upsampled = {}
    # nothing to follow for backprop (prediction, evaluation): no bookkeeping
    tracking = bool(need_backprop or carries or wanted)
    for node in nodes:
        layer = node.outbound_layer
        args = [values[id(t)] for t in node.input_tensors]
        in_masks = [masks.get(id(t)) for t in node.input_tensors]
        need_input = tracking and any(id(t) in carries for t in node.input_tensors)
        # a call made with training=True/False runs in that phase (Keras 2)
        node_phase = getattr(node, 'forced_training', training)
        split = False
        record_node = node
        if isinstance(layer, Container):
            outs, backprop, inner_penalty, out_masks = layer._run_masked(
                args, node_phase, need_backprop, need_input, in_masks)
            penalty += inner_penalty
        else:
            x = args if len(args) != 1 else args[0]
            mask = in_masks if len(args) != 1 else in_masks[0]
            out_masks = layer.compute_mask(x, mask)
            if not (isinstance(out_masks, list) and len(node.output_tensors) > 1):
                out_masks = [out_masks]
            rows = row_sets.get(id(node.input_tensors[0])) \
                if need_input and len(args) == 1 and len(node.output_tensors) == 1 else None
            split = rows is not None and mask is None and layer.activity_regularizer is None \
                and id(node.output_tensors[0]) not in wanted \
                and not (layer.weight_gradients_wanted and layer.trainable_pairs()) \
                and batch_rows.independent_rows(layer, x, node_phase)
            if split:
                out, backprop, reused = batch_rows.split_forward(
                    layer, x, rows, node_phase, mask_argument(layer, mask), row_cache, id(node),
                    other_rows_state.get(id(node.input_tensors[0])))
                other_rows_state[id(node.output_tensors[0])] = \
                    'unchanged' if reused else 'computed'
            else:
                fused = _forward_on_upsampled(layer, node, upsampled, values, node_phase,
                                              need_input, mask, wanted, row_sets)
                if fused is not None:
                    (out, backprop), record_node = fused
                else:
                    out, backprop = _forward_naming_layer(layer, x, node_phase, need_input,
                                                          mask_argument(layer, mask))
            _note_upsampling(layer, node, mask, upsampled)
            outs = list(out) if len(node.output_tensors) > 1 else [out]
            regularizer = layer.activity_regularizer
            if regularizer is not None:
                penalty += regularizer(out)
                backprop = _with_activity_gradient(backprop, regularizer, out)
        out_masks = list(out_masks) + [None] * (len(outs) - len(out_masks))
        for t, value, mask in zip(node.output_tensors, outs, out_masks):
            values[id(t)] = value
            if mask is not None:
                masks[id(t)] = mask
        if training and node_phase:
            record_updates(layer, node, values)
        if not tracking:
            continue
        own_weights = bool(layer.weight_gradients_wanted and layer.trainable_pairs())
        out_rows = None
        if split:
            out_rows = rows
        elif need_input and not own_weights and len(node.output_tensors) == 1 and \
                record_node is node and \
                not isinstance(layer, Container) and id(node.output_tensors[0]) not in wanted:
            input_rows = [row_sets.get(id(t)) if id(t) in carries else ()
                          for t in node.input_tensors]
            out_rows = batch_rows.output_rows(layer, input_rows, args, outs[0], node_phase)
            if out_rows != ():
                row_backprop = batch_rows.row_getitem_backprop(layer, input_rows, args)
                if row_backprop is not None:
                    # its input's gradient comes on the followed rows, as a
                    # split layer's does
                    backprop, split = row_backprop, True
        if out_rows == ():
            # it reads the carried tensors through rows the gradient does not
            # follow only (the constant image of a batch): nothing to carry
            continue
        if need_input or own_weights:
            carries.update(id(t) for t in node.output_tensors)
            if out_rows is not None:
                row_sets[id(node.output_tensors[0])] = out_rows
            if need_backprop:
                records.append((record_node, backprop, need_input, split))
        elif any(id(t) in wanted for t in node.output_tensors):
            carries.update(id(t) for t in node.output_tensors)

    def backprop_all(seeds):
        grads, found, owned = {}, {}, set()
        for t, g in seeds:
            if g is not None:
                if id(t) in row_sets:
                    g = batch_rows.take_rows(np.asarray(g), row_sets[id(t)])
                _accumulate(grads, id(t), g)
        for node, backprop, need_input, split in reversed(records):
            outs = [grads.pop(id(t), None) for t in node.output_tensors]
            for t, g in zip(node.output_tensors, outs):
                if id(t) in wanted and g is not None:
                    found[id(t)] = g
            if all(g is None for g in outs):
                continue
            if not split:
                # a gradient kept for some rows only, given to a backward
                # pass that takes the whole batch
                outs = [batch_rows.expand_rows(g, row_sets[id(t)], np.shape(values[id(t)]))
                        if g is not None and id(t) in row_sets else g
                        for t, g in zip(node.output_tensors, outs)]
            outs = [np.zeros_like(values[id(t)]) if g is None else g
                    for t, g in zip(node.output_tensors, outs)]
            if isinstance(node.outbound_layer, Container):
                input_grads = backprop(outs)
            else:
                input_grads = backprop(outs if len(outs) > 1 else outs[0])
                if len(node.input_tensors) == 1:
                    input_grads = [input_grads]
            if need_input:
                for t, g in zip(node.input_tensors, input_grads):
                    if g is not None:
                        if not split and id(t) in row_sets:
                            g = batch_rows.take_rows(np.asarray(g), row_sets[id(t)])
                        _accumulate(grads, id(t), g, owned)
        for key, g in grads.items():
            if key in wanted or key in carried:
                found[key] = g
        return found
    return values, backprop_all, penalty, masks


class _NodeReading(object):
    """A node seen as reading `inputs` in place of its own input tensors."""

    def __init__(self, node, inputs):
        self.outbound_layer = node.outbound_layer
        self.output_tensors = node.output_tensors
        self.input_tensors = inputs


def _note_upsampling(layer, node, mask, upsampled):
    """Notes in `upsampled` the output of a layer that repeats its input
    (nearest-neighbour upsampling: `nearest_upsampling()` gives the factors)."""
    upsampling = getattr(layer, 'nearest_upsampling', None)
    if upsampling is None or mask is not None or len(node.input_tensors) != 1 \
            or len(node.output_tensors) != 1:
        return
    factors = upsampling()
    if factors is not None:
        upsampled[id(node.output_tensors[0])] = (node.input_tensors[0], factors)


def _forward_on_upsampled(layer, node, upsampled, values, training, need_input, mask, wanted,
                          row_sets):
    """A layer reading the output of an upsampling layer may compute from
    the upsampling's input instead (`forward_on_upsampled`: fewer
    multiplications). Then ((y, backprop), the node as reading that input):
    its backprop gives the gradient of the input before the upsampling, and
    any other use of the upsampled tensor still reaches it through the
    upsampling layer's backprop. None where it does not apply."""
    compute = getattr(layer, 'forward_on_upsampled', None)
    if compute is None or mask is not None or len(node.input_tensors) != 1 \
            or len(node.output_tensors) != 1:
        return None
    t = node.input_tensors[0]
    source = upsampled.get(id(t))
    if source is None or id(t) in wanted or id(t) in row_sets or id(source[0]) in row_sets:
        return None
    result = compute(values[id(source[0])], source[1], training=training,
                     need_input_grad=need_input)
    if result is None:
        return None
    return result, _NodeReading(node, [source[0]])


def _accumulate(grads, key, grad, owned=None):
    """Adds `grad` into `grads[key]`; a sum this walk made (its key in
    `owned`) takes the next terms in place instead of a new array each."""
    if key not in grads:
        grads[key] = grad
        if owned is not None:
            owned.discard(key)
    elif owned is not None and key in owned and np.shape(grad) == np.shape(grads[key]) and \
            np.result_type(grads[key], grad) == grads[key].dtype:
        np.add(grads[key], grad, out=grads[key])
    else:
        grads[key] = grads[key] + grad
        if owned is not None and isinstance(grads[key], np.ndarray):
            owned.add(key)


def _with_activity_gradient(backprop, regularizer, output):
    def backprop_with_penalty(dy):
        return backprop(dy + regularizer.gradient(output))
    return backprop_with_penalty


@contextlib.contextmanager
def weight_gradients_off(layers):
    """Within the block, `layers` skip the gradients of their weights in
    the walk and in backprop (each layer's class default shows through
    again after it)."""
    switched, seen = [], set()
    for layer in layers:
        if layer.weight_gradients_wanted and id(layer) not in seen:
            seen.add(id(layer))
            switched.append(layer)
    for layer in switched:
        layer.weight_gradients_wanted = False
    try:
        yield
    finally:
        for layer in switched:
            del layer.weight_gradients_wanted


def weight_gradients_only_for(nodes, weight_ids):
    """A `weight_gradients_off` block for the layers among `nodes` (nested
    models' and wrappers' layers included) that hold none of the weights in
    `weight_ids`: a gradient with respect to an input walks back through the
    layers without computing what nobody asked for."""
    from .container import Container
    def unwanted(layer):
        return not any(id(w) in weight_ids for w, _ in layer.trainable_pairs())

    off = []
    for node in nodes:
        layer = node.outbound_layer
        stack = [leaf for leaf, _ in layer._leaf_layers()] \
            if isinstance(layer, Container) else [layer]
        while stack:
            current = stack.pop()
            if unwanted(current):
                off.append(current)
            stack.extend(current.sublayers)
        if unwanted(layer):
            off.append(layer)
    return weight_gradients_off(off)


def weight_owners(nodes):
    """[(weight, gradient buffer)] of every layer and expression among
    `nodes` (nested models' layers included), for reading gradients."""
    from .container import Container
    pairs = []
    for node in nodes:
        layer = node.outbound_layer
        if isinstance(layer, Container):
            for leaf, trainable in layer._leaf_layers():
                if trainable:
                    pairs.extend(zip(leaf._trainable_weights, leaf._gradients))
        else:
            pairs.extend(layer.trainable_pairs())
    return pairs


__all__ = ['order_nodes', 'run_nodes', 'weight_gradients_off', 'weight_gradients_only_for',
           'weight_owners']
