"""Keras 1.2.2's `losses` and `updates` of layers and models.

A layer's `losses` are graph tensors: the penalty of each weight regularizer
(unconditional), the activity regularizer's penalty on each output it was
called on (conditional on that call's inputs), and whatever `add_loss` was
given. Its `updates` are the `(variable, new value)` pairs `add_update` was
given, as `K.update` makes them. `get_losses_for(inputs)` /
`get_updates_for(inputs)` return those added for the given input tensors
(None: the unconditional ones). A model collects them from its layers, for
the calls of each layer that belong to the model.

The training loop computes regularization itself (with hand-written
gradients); these tensors are what legacy code reads, evaluates with
`K.function` or adds to its own losses.

Updates are applied by whoever runs them: `K.function(..., updates=...)`
after each call, and the training step for the calls of the layers it runs
in the training phase (`collecting_updates`, `record_updates`): each layer
call's conditional updates are evaluated from the values the step computed,
and applied after the weights' update, as Keras 1.2.2's training function
applied `model.updates`. A Keras 1 layer's `call` runs on arrays at every
step, so the updates it adds there are that step's (`updates_of_one_call`).
"""
import contextlib
import threading

import numpy as np

from ..autodiff import stop_gradient
from .graph import to_list


def _inputs_key(inputs):
    if inputs is None:
        return None
    return tuple(id(t) for t in to_list(inputs))


def _penalty(regularizer):
    """The regularizer's penalty as a function of graph values: the L1/L2
    formula, differentiable; another regularizer's value, without gradient
    (minikeras trains with its `gradient`, not through these tensors)."""
    from ..regularizers import L1L2Regularizer
    if isinstance(regularizer, L1L2Regularizer):
        def l1_l2(x):
            return regularizer.l1 * np.sum(np.abs(x)) + regularizer.l2 * np.sum(np.square(x))
        return l1_l2

    def value_only(x):
        return np.float32(regularizer(stop_gradient(x)))
    return value_only


_collecting = threading.local()


@contextlib.contextmanager
def collecting_updates():
    """Within the block, the graph walks in the training phase record the
    new values of the updates of the layer calls they run (see
    `record_updates`); yields the list of `(variable, new value)` pairs,
    for `apply_updates` once the step has succeeded."""
    pending = []
    previous = getattr(_collecting, 'pending', None)
    _collecting.pending = pending
    try:
        yield pending
    finally:
        _collecting.pending = previous


@contextlib.contextmanager
def not_collecting_updates():
    """Within the block, nothing is recorded (a walk inside a graph node,
    such as a `K.gradients` node's, which runs layers a second time)."""
    previous = getattr(_collecting, 'pending', None)
    _collecting.pending = None
    try:
        yield
    finally:
        _collecting.pending = previous


def record_updates(layer, node, values):
    """When a training step is collecting, adds the new values of the
    updates `layer` declared for the call `node` (conditional on its
    inputs), computed from `values` ({id(tensor): value}, the walk's)."""
    pending = getattr(_collecting, 'pending', None)
    if pending is None:
        return
    store = layer.__dict__.get('_per_input_updates')
    if not store:
        return
    pairs = store.get(_inputs_key(node.input_tensors))
    if not pairs:
        return
    from .execution import order_nodes, run_nodes
    from .graph import KerasTensor
    for pair in pairs:
        variable, new = _checked_pair(layer, pair)
        if isinstance(new, KerasTensor):
            nodes = order_nodes([new], set(values), 'the updates of layer %s' % layer.name)
            value = run_nodes(nodes, values, True, need_backprop=False)[0][id(new)]
        else:
            value = new
        pending.append((variable, value))


@contextlib.contextmanager
def updates_of_one_call(layer, training):
    """Around one run of a Keras 1 layer's `call` on arrays: the updates the
    call adds (`add_update`, `self.updates = [...]`, `self.updates.append`)
    belong to that step alone. In a training step they are recorded (their
    new values taken from the traced values) to be applied with the others;
    either way the layer's lists are left as they were, so they do not grow
    step after step. (Keras 1.2.2 ran `call` once, on symbolic tensors.)"""
    per_input = layer._conditional('_per_input_updates')
    saved_per_input = {key: list(pairs) for key, pairs in per_input.items()}
    saved_list = layer._own_updates()
    saved_items = list(saved_list)
    try:
        yield
    finally:
        added = []
        current = layer.__dict__.get('_updates')
        if current is not saved_list:  # `self.updates = [...]` in call
            added += list(current or [])
        else:
            added += current[len(saved_items):]
        seen = {id(pair) for pair in added}
        for key, pairs in per_input.items():
            added += [pair for pair in pairs[len(saved_per_input.get(key, ())):]
                      if id(pair) not in seen]
        saved_list[:] = saved_items
        layer.__dict__['_updates'] = saved_list
        per_input.clear()
        per_input.update(saved_per_input)
    pending = getattr(_collecting, 'pending', None)
    if training and pending is not None:
        for pair in added:
            variable, new = _checked_pair(layer, pair)
            pending.append((variable, np.array(getattr(new, 'value', new))))


def _checked_pair(layer, pair):
    if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and
            isinstance(pair[0], np.ndarray)):
        raise TypeError('layer %s: each update must be a pair (variable, new value) as '
                        'K.update makes it, got %r' % (layer.name, pair))
    return pair


def apply_updates(pairs):
    """Assigns each `(variable, new value)` pair, in order."""
    for variable, value in pairs:
        variable[...] = value


def update_value(function, tensors, shape, name):
    """A Keras tensor whose value is `function(*values of tensors)`, of
    `shape`, through which no gradient flows: the new value of an update,
    for `add_update`."""
    from .functions import UpdateValue
    from .graph import Node
    op = UpdateValue(function, len(tensors), name)
    node = Node(op, list(tensors), tuple(shape))
    op.input_shape = [t.shape for t in tensors]
    op.output_shape = tuple(shape)
    return node.output_tensors[0]


def _unique(tensors):
    found = {}
    for tensor in tensors:
        found.setdefault(id(tensor), tensor)
    return list(found.values())


class LossesAndUpdates(object):
    """`add_loss`, `add_update`, `get_losses_for`, `get_updates_for`,
    `losses` and `updates` for `Layer`."""

    def _conditional(self, kind):
        store = self.__dict__.get(kind)
        if store is None:
            store = self.__dict__[kind] = {}
        return store

    def add_loss(self, losses, inputs=None):
        """Adds loss tensors to the layer, conditional on `inputs` (a tensor
        or list of tensors) or unconditional (None)."""
        if losses is None:
            return
        self._conditional('_per_input_losses').setdefault(
            _inputs_key(inputs), []).extend(to_list(losses))

    def add_update(self, updates, inputs=None):
        """Adds updates (`(variable, new value)` pairs) to the layer,
        conditional on `inputs` or unconditional (None)."""
        if updates is None:
            return
        added = to_list(updates)
        self._conditional('_per_input_updates').setdefault(
            _inputs_key(inputs), []).extend(added)
        self._own_updates().extend(added)

    def _added_for(self, inputs):
        return list(self._conditional('_per_input_losses').get(_inputs_key(inputs), []))

    def get_updates_for(self, inputs):
        """The updates added for `inputs` (None: the unconditional ones)."""
        return list(self._conditional('_per_input_updates').get(_inputs_key(inputs), []))

    def get_losses_for(self, inputs):
        """The losses for `inputs` (None: the unconditional ones, the weight
        regularizers' penalties among them)."""
        key = _inputs_key(inputs)
        found = self._regularization_losses() if key is None else []
        for node in self.inbound_nodes:
            if _inputs_key(node.input_tensors) == key:
                found += self._activity_losses(node)
        return found + list(self._conditional('_per_input_losses').get(key, []))

    def _regularization_losses(self):
        from .operation import apply, variable_tensor
        cache = self._conditional('_loss_tensors')
        losses = []
        for regularizer, weight in self.weight_regularizers:
            key = ('weight', id(regularizer), id(weight))
            if key not in cache:
                cache[key] = apply(_penalty(regularizer), (variable_tensor(weight),), {},
                                   '%s regularizer' % self.name)
            losses.append(cache[key])
        for sublayer in self.sublayers:
            # a wrapper's layer regularizes the wrapper's loss
            losses += sublayer._regularization_losses()
        return losses

    def _activity_losses(self, node):
        from .operation import apply
        regularizer = self.activity_regularizer
        if regularizer is None:
            return []
        cache = self._conditional('_loss_tensors')
        losses = []
        for output in node.output_tensors:
            key = ('activity', id(regularizer), id(output))
            if key not in cache:
                cache[key] = apply(_penalty(regularizer), (output,), {},
                                   '%s activity regularizer' % self.name)
            losses.append(cache[key])
        return losses

    @property
    def losses(self):
        """Every loss tensor of the layer: regularization and added losses."""
        found = self._regularization_losses()
        for node in self.inbound_nodes:
            found += self._activity_losses(node)
        for added in self._conditional('_per_input_losses').values():
            found += added
        return found

    @losses.setter
    def losses(self, value):
        # Keras 1 layers may assign their own list: the added losses
        self._conditional('_per_input_losses').clear()
        self.add_loss(list(value))

    def _own_updates(self):
        updates = self.__dict__.get('_updates')
        if updates is None:
            updates = self.__dict__['_updates'] = []
        return updates

    @property
    def updates(self):
        """The layer's updates (a list it may also append to, as Keras 1
        custom layers did with `self.updates`)."""
        return self._own_updates()

    @updates.setter
    def updates(self, value):
        self.__dict__['_updates'] = list(value)


class ModelLossesAndUpdates(object):
    """A model's `losses`, `updates` and `state_updates`: its layers', for
    the calls of each layer that belong to the model (Keras 1.2.2's rule)."""

    def _owned_collect(self, collect_for, everything):
        owned = {id(node) for node in getattr(self, '_nodes', [])}
        found = []
        for layer in self.layers:
            if len(layer.inbound_nodes) <= 1:
                found += everything(layer)
                continue
            for node in layer.inbound_nodes:
                if id(node) in owned:
                    found += collect_for(layer, node.input_tensors)
            found += collect_for(layer, None)
        return found

    @property
    def losses(self):
        """The loss tensors of the model's layers, and those added to the
        model itself unconditionally (Keras 2.2.4)."""
        found = self._owned_collect(lambda layer, inputs: layer.get_losses_for(inputs),
                                    lambda layer: layer.losses)
        return _unique(found + self._added_for(None))

    def _added_losses(self):
        """The tensors given to `add_loss` among `losses`: the training loop
        differentiates these through the graph (the regularizers' penalties
        it computes and differentiates itself)."""
        def everything(layer):
            if isinstance(layer, ModelLossesAndUpdates):
                return layer._added_losses()
            return [t for added in layer._conditional('_per_input_losses').values()
                    for t in added]
        found = self._owned_collect(
            lambda layer, inputs: layer._added_for(inputs), everything)
        return _unique(found + self._added_for(None))

    @property
    def updates(self):
        """The updates of the model's layers."""
        return self._owned_collect(lambda layer, inputs: layer.get_updates_for(inputs),
                                   lambda layer: layer.updates)

    @updates.setter
    def updates(self, value):
        # as in Keras 1.2.2, a model's updates are its layers': not settable
        pass

    def get_updates_for(self, inputs):
        """The updates added for `inputs`; for the inputs of a call of this
        model inside another, its layers' updates too (that call runs them,
        as Keras 1.2.2's called container declared them for its inputs)."""
        found = LossesAndUpdates.get_updates_for(self, inputs)
        key = _inputs_key(inputs)
        own_inputs = _inputs_key(getattr(self, 'inputs', None))
        if key is not None and key != own_inputs and any(
                _inputs_key(node.input_tensors) == key for node in self.inbound_nodes):
            found += self.updates
        return found

    @property
    def state_updates(self):
        """The updates of the model's stateful layers (Keras 1.2.2)."""
        found = []
        for layer in self.layers:
            if getattr(layer, 'stateful', False):
                found += layer.updates
        return found
