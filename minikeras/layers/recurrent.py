"""Recurrent layers of Keras 1.2.2: the `Recurrent` base, `SimpleRNN`, `GRU`, `LSTM`.

The three built-in cells run as fused kernels (`minikeras.kernels.recurrent`):
the input projection of every timestep is one matmul, the loop over time
and backprop through time run inside the kernel. A subclass written the
Keras 1 way (its own `step`, `get_initial_states`, `preprocess_input` or
`get_constants`), or a cell with an activation the kernels do not know,
runs through `K.rnn` and is differentiated by tracing
(`minikeras.autodiff`).

Keras 1.2.2 details kept as they were (they change what a script computes):

- LSTM and GRU with `consume_less` 'cpu' or 'mem' initialise the recurrent
  matrices `U_*` with `init` (not `inner_init`) and regularise them with
  `W_regularizer` (`U_regularizer` is not used); 'gpu' uses `inner_init`
  and `U_regularizer`.
- dropout masks are drawn once per sequence (the same at every timestep):
  'cpu' and 'mem' draw one input mask and one recurrent mask per gate, 'gpu'
  shares one of each across the gates. SimpleRNN applies `dropout_W` only
  with `consume_less='cpu'`.
- with `go_backwards`, the returned sequence is in the reversed order.
"""
import functools

import numpy as np

from .. import activations, initializations, regularizers
from .. import backend as K
from ..compat import keras0, keras2
from ..engine.base_layer import Layer, _freeze_shape, any_mask_flag
from ..kernels import recurrent as kernels
from ..kernels import recurrent_states
from ..kernels import threads as kernel_threads
from .core import _config_or_none

__all__ = ['Recurrent', 'SimpleRNN', 'GRU', 'LSTM']

_CONSUME_LESS = ('cpu', 'mem', 'gpu')


def _fraction(layer_name, class_name, arg, value):
    value = float(value)
    if not 0. <= value < 1.:
        raise ValueError('%s (%s): %s must be in [0, 1), got %r'
                         % (layer_name, class_name, arg, value))
    return value


def _dropout_masks(count, batch, size, p):
    """`count` masks (count, batch, size) of Keras's K.dropout on ones: kept
    with probability 1 - p, scaled by 1 / (1 - p). A uniform draw below
    1 - p is K.dropout's binomial draw in distribution, at a third of the
    cost of NumPy's binomial sampler (as Embedding's dropout draws)."""
    retain = 1. - p
    keep = (np.random.random_sample((count, batch, size)) < retain).astype('float32')
    keep *= np.float32(1. / retain)
    return keep


class Recurrent(Layer):
    """Base class of the recurrent layers; subclass it the Keras 1 way.

    A subclass defines `build` (its weights and `self.states`, a list with
    one entry per state), `step(x, states)` returning `(output, new_states)`
    for one timestep (written with `keras.backend` or NumPy), and optionally
    `get_initial_states(x)`, `preprocess_input(x)` and `get_constants(x)`
    (tensors appended to the states of every step). `call` runs `K.rnn`;
    gradients come from tracing it.

    # Example
    ```python
        model = Sequential()
        model.add(LSTM(32, input_shape=(10, 64)))
        # now model.output_shape == (None, 32)
        model.add(RepeatVector(5))
        model.add(LSTM(16, return_sequences=True))
    ```

    # Arguments
        weights: list of arrays to set as initial weights (the order of
            `get_weights()`).
        return_sequences: return the whole output sequence, or only the
            last output.
        go_backwards: process the sequence from its end; the returned
            sequence is then in that reversed order.
        stateful: the last states of each sample of a batch are the initial
            states of the same sample in the next batch. Needs a fixed batch
            size (`batch_input_shape`); `reset_states()` zeroes them.
        unroll: accepted for Keras 1 compatibility; the loop runs in a
            compiled kernel either way.
        consume_less: 'cpu', 'mem' or 'gpu' (LSTM and GRU): the weight
            layout and how dropout masks are shared (see the module notes).
        input_dim: size of each timestep's input; for the first layer.
        input_length: number of timesteps, when it is constant.
        truncate_gradient: Keras 0.x: backpropagate through the last
            `truncate_gradient` steps only (as Theano's scan did); -1, the
            default, through all of them.
        return_state: (Keras 2) return `[output] + the final states` (LSTM:
            h and c), each `(nb_samples, output_dim)`. With `initial_state=`
            in the call (`layer(x, initial_state=[h, c])`), the recurrence
            starts from the given states; gradients flow into them and out
            of the returned ones.

    # Input shape
        3D `(nb_samples, timesteps, input_dim)`.

    # Output shape
        `(nb_samples, timesteps, output_dim)` with `return_sequences`, else
        `(nb_samples, output_dim)`.

    # Masking
        A mask (from `Embedding(mask_zero=True)` or `Masking`) skips steps:
        the states stay, the output repeats the previous one.
    """

    supports_masking = True

    def __init__(self, weights=None, return_sequences=False, go_backwards=False, stateful=False,
                 unroll=False, consume_less='cpu', input_dim=None, input_length=None,
                 truncate_gradient=-1, return_state=False, **kwargs):
        if input_dim and 'input_shape' not in kwargs and 'batch_input_shape' not in kwargs:
            kwargs['input_shape'] = (input_length, input_dim)
        super(Recurrent, self).__init__(weights=weights, **kwargs)
        if consume_less not in _CONSUME_LESS:
            raise ValueError('%s (%s): consume_less must be one of %s, got %r'
                             % (self.name, type(self).__name__, _CONSUME_LESS, consume_less))
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.consume_less = consume_less
        self.input_dim = input_dim
        self.input_length = input_length
        if isinstance(truncate_gradient, bool) or int(truncate_gradient) != truncate_gradient or \
                (truncate_gradient < 1 and truncate_gradient != -1):
            raise ValueError('%s (%s): truncate_gradient must be -1 (no truncation) or a '
                             'positive number of steps, got %r'
                             % (self.name, type(self).__name__, truncate_gradient))
        self.truncate_gradient = int(truncate_gradient)
        self.states = []

    # -- the Keras 1 protocol ---------------------------------------------------

    def get_output_shape_for(self, input_shape):
        if isinstance(input_shape, list):   # [sequence] + initial states (Keras 2)
            self._check_initial_state_shapes(input_shape)
            input_shape = input_shape[0]
        self._check_input_shape(input_shape)
        if self.return_sequences:
            output_shape = (input_shape[0], input_shape[1], self.output_dim)
        else:
            output_shape = (input_shape[0], self.output_dim)
        if self.return_state:
            return [output_shape] + [(input_shape[0], self.output_dim)] * self._state_count()
        return output_shape

    def connect(self, input_shape):
        """Builds for the sequence's shape; `input_shape` may list the initial
        states' shapes after it."""
        if not isinstance(input_shape, list):
            return super(Recurrent, self).connect(input_shape)
        self._check_initial_state_shapes(input_shape)
        super(Recurrent, self).connect(input_shape[0])
        return _freeze_shape(self.get_output_shape_for(input_shape))

    def compute_mask(self, x, mask=None):
        """The output mask: the input mask for sequences, None for the last output
        (and none for the returned states)."""
        if isinstance(mask, list):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * self._state_count()
        return output_mask

    def _output_mask_flags(self, input_flags):
        # known when the model is built: a sequence keeps its mask, the last output has none
        flag = any_mask_flag(input_flags[:1]) if self.return_sequences else False
        return [flag] + [False] * (self._state_count() if self.return_state else 0)

    def __call__(self, x, mask=None, initial_state=None, training=None, **kwargs):
        """Keras 2.2.4's call: `initial_state` is a list of tensors (or
        arrays), one per state (LSTM: [h, c]), that start the recurrence;
        they become inputs of the layer after the sequence."""
        if kwargs:
            raise TypeError('Layer %s (%s) got unexpected call argument(s) %s'
                            % (self.name, type(self).__name__, sorted(kwargs)))
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) \
                else [initial_state]
            if isinstance(x, (list, tuple)):
                raise ValueError('Layer %s (%s): give the initial states either in the input '
                                 'list or as initial_state=, not both'
                                 % (self.name, type(self).__name__))
            x = [x] + states
        return super(Recurrent, self).__call__(x, mask, training=training)

    def _check_initial_state_shapes(self, shapes):
        count = self._state_count()
        if len(shapes) - 1 != count:
            raise ValueError('Layer %s (%s) has %d state(s), got %d initial state(s)'
                             % (self.name, type(self).__name__, count, len(shapes) - 1))
        for shape in shapes[1:]:
            if len(shape) != 2 or (shape[1] is not None and shape[1] != self.output_dim):
                raise ValueError('Layer %s (%s): an initial state must have shape (samples, %d), '
                                 'got %s' % (self.name, type(self).__name__, self.output_dim,
                                             tuple(shape)))

    def get_constants(self, x):
        """Tensors passed to every step after the states (none here)."""
        return []

    def get_initial_states(self, x):
        """One all-zero (samples, output_dim) array per entry of `self.states`."""
        return [np.zeros((K.int_shape(x)[0], self.output_dim), 'float32') for _ in self.states]

    def preprocess_input(self, x):
        """The sequence the steps read; the input itself here."""
        return x

    def reset_states(self):
        """Zeroes the states of a stateful layer."""
        if not self.stateful:
            raise ValueError('Layer %s (%s): reset_states() is for stateful layers; this one '
                             'was made with stateful=False' % (self.name, type(self).__name__))
        batch = self._stateful_batch_size()
        if self.states and all(s is not None for s in self.states):
            for state in self.states:
                state.fill(0.)
        else:
            self.states = [np.zeros((batch, self.output_dim), 'float32')
                           for _ in range(max(len(self.states), self._state_count()))]

    def _state_count(self):
        return max(len(self.states), self._STATE_COUNT)

    _STATE_COUNT = 1

    def _stateful_batch_size(self):
        shape = self._built_input_shape or self.batch_input_shape
        if not shape or not shape[0]:
            raise ValueError(
                'Layer %s (%s) is stateful, so it needs to know its batch size: give '
                'batch_input_shape=(batch, timesteps, input_dim) to the first layer of a '
                'Sequential model, or batch_shape=... to Input()'
                % (self.name, type(self).__name__))
        return shape[0]

    def _begin_states(self, count):
        """`self.states` after build: zeros for a stateful layer, else placeholders."""
        self.states = [None] * count
        if self.stateful:
            self.reset_states()

    # -- checks -------------------------------------------------------------------

    def _check_input_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError('Layer %s (%s) expects 3D input (samples, timesteps, input_dim), '
                             'got shape %s' % (self.name, type(self).__name__,
                                               tuple(input_shape)))
        if self.input_length and input_shape[1] is not None and \
                input_shape[1] != self.input_length:
            raise ValueError('Layer %s (%s): input_length is %d but the input has shape %s'
                             % (self.name, type(self).__name__, self.input_length,
                                tuple(input_shape)))

    def _check_input(self, x, mask):
        x = np.asarray(x)
        self._check_input_shape(x.shape)
        built = self._built_input_shape
        if built is not None:
            expected = tuple(built[1:])
            if x.shape[2] != built[2] or (built[1] is not None and x.shape[1] != built[1]):
                raise ValueError('Layer %s (%s) expects input of shape %s, got an array of '
                                 'shape %s' % (self.name, type(self).__name__,
                                               (None,) + expected, x.shape))
        if x.shape[1] == 0:
            raise ValueError('Layer %s (%s): the input has no timesteps (shape %s)'
                             % (self.name, type(self).__name__, x.shape))
        if self.stateful:
            batch = self._stateful_batch_size()
            if x.shape[0] != batch:
                raise ValueError('Layer %s (%s) is stateful with batch size %d (from '
                                 'batch_input_shape %s) but got a batch of shape %s; feed '
                                 'batches of exactly %d samples (batch_size=%d, and a sample '
                                 'count divisible by it)' % (self.name, type(self).__name__,
                                                             batch, built, x.shape, batch, batch))
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != x.shape[:2]:
                raise ValueError('Layer %s (%s): the mask has shape %s, expected (samples, '
                                 'timesteps) = %s' % (self.name, type(self).__name__,
                                                      mask.shape, x.shape[:2]))
            mask = mask.astype(bool)
        return np.ascontiguousarray(x, dtype='float32'), mask

    # -- computation ---------------------------------------------------------------

    def call(self, x, mask=None):
        """The output for an array `x` (and its mask), in inference mode."""
        return self.forward(x, training=False, mask=mask)[0]

    def _run_steps(self, x, mask):
        if not hasattr(self, 'step'):
            raise TypeError('Layer %s (%s) defines no step(x, states); a Recurrent subclass '
                            'must define it' % (self.name, type(self).__name__))
        initial_states = list(self.states) if self.stateful else self.get_initial_states(x)
        constants = self.get_constants(x)
        preprocessed = self.preprocess_input(x)
        last_output, outputs, states = K.rnn(self.step, preprocessed, initial_states,
                                             go_backwards=self.go_backwards, mask=mask,
                                             constants=constants, unroll=self.unroll,
                                             input_length=K.int_shape(x)[1])
        return (outputs if self.return_sequences else last_output), states

    def _uses_fused_kernel(self):
        return False

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        initial = None
        if isinstance(x, (list, tuple)):
            x, initial = x[0], self._check_initial_states(x)
            mask = mask[0] if isinstance(mask, (list, tuple)) else mask
        x, mask = self._check_input(x, mask)
        if initial is not None or self.return_state or self._needs_state_path():
            if not self._uses_fused_kernel():
                raise ValueError('Layer %s (%s) computes its own step(); initial_state and '
                                 'return_state are supported by the built-in SimpleRNN, GRU '
                                 'and LSTM with their own activations'
                                 % (self.name, type(self).__name__))
            return self._state_forward(x, initial, mask, training, need_input_grad)
        if self._uses_fused_kernel():
            y, backprop, final_states = self._fused_forward(x, mask, training, need_input_grad)
        else:
            y, backprop, final_states = self._traced_forward(x, mask, training)
        if self.stateful:
            for state, value in zip(self.states, final_states):
                state[...] = value
        return y, backprop

    def _needs_state_path(self):
        return False

    def _check_initial_states(self, inputs):
        states = [np.asarray(s, dtype='float32') for s in inputs[1:]]
        batch = np.shape(inputs[0])[0]
        self._check_initial_state_shapes([np.shape(inputs[0])] + [s.shape for s in states])
        for state in states:
            if state.shape[0] != batch:
                raise ValueError('Layer %s (%s): the initial states must have one row per '
                                 'sample (%d), got shape %s'
                                 % (self.name, type(self).__name__, batch, state.shape))
        return [np.ascontiguousarray(s) for s in states]

    def _traced_forward(self, x, mask, training):
        if self.truncate_gradient != -1:
            raise ValueError('Layer %s (%s): truncate_gradient is supported by the built-in '
                             'SimpleRNN, GRU and LSTM with their own activations; this layer '
                             'runs its own step(), so use truncate_gradient=-1'
                             % (self.name, type(self).__name__))
        from .. import autodiff
        from .. import backend_ops
        weights = list(self._trainable_weights) if self.trainable else []
        holders = [(name, index) for name, value in vars(self).items()
                   for index, weight in enumerate(weights) if value is weight]
        final = []
        own_call = type(self).call is not Recurrent.call

        def traced_call(inputs, *traced_weights):
            saved = {name: getattr(self, name) for name, _ in holders}
            for name, index in holders:
                setattr(self, name, traced_weights[index])
            try:
                with backend_ops.learning_phase_scope(1 if training else 0):
                    if own_call:  # a Keras 1 subclass with its own call(): no state update
                        y, states = self.call(inputs, mask), self.states
                    else:
                        y, states = self._run_steps(inputs, mask)
            finally:
                for name, value in saved.items():
                    setattr(self, name, value)
            final[:] = [np.array(autodiff.stop_gradient(s), dtype='float32') for s in states]
            return y
        y, backward = autodiff.vjp(traced_call, x, *weights)

        def backprop(dy):
            grads = backward(dy)
            for buffer, grad in zip(self._gradients, grads[1:]):
                buffer += grad
            return grads[0]
        return np.asarray(y, dtype='float32'), backprop, final

    # -- configuration --------------------------------------------------------------

    def get_config(self):
        config = super(Recurrent, self).get_config()
        if self.return_state:
            config['return_state'] = True
        config.update({'return_sequences': self.return_sequences,
                       'go_backwards': self.go_backwards, 'stateful': self.stateful,
                       'unroll': self.unroll, 'consume_less': self.consume_less})
        if self.stateful and self._built_input_shape is not None:
            config['batch_input_shape'] = self._built_input_shape
        else:
            config['input_dim'] = self.input_dim
            config['input_length'] = self.input_length
        if self.truncate_gradient != -1:
            config['truncate_gradient'] = self.truncate_gradient
        return config


class _FusedCell(Recurrent):
    """The built-in cells: the weights as Keras 1.2.2 laid them out, run by
    the fused kernels. `_GATES` names the gates in the kernels' order;
    `_SAVED_ORDER` is the order of the per-gate weights in `get_weights()`.
    A cell whose kernel reads a one-hot input's projection from a table of
    rows (`_TAKES_ONE_HOT`) gets xp None and `one_hot` (table, columns) in
    its `_run_kernel`; the others get xp made. A cell whose backward kernel
    takes the gradient of the last output alone (`_TAKES_LAST_STEP_GRADIENT`)
    gets it as (1, B, n) where the layer returns its last output."""

    _GATES = ()
    _SAVED_ORDER = ()
    _TAKES_ONE_HOT = False
    _TAKES_LAST_STEP_GRADIENT = False

    def __init__(self, output_dim, init='glorot_uniform', inner_init='orthogonal',
                 activation='tanh', inner_activation='hard_sigmoid', W_regularizer=None,
                 U_regularizer=None, b_regularizer=None, dropout_W=0., dropout_U=0., **kwargs):
        super(_FusedCell, self).__init__(**kwargs)
        kind = type(self).__name__
        if isinstance(output_dim, bool) or int(output_dim) != output_dim or output_dim <= 0:
            raise ValueError('%s (%s): output_dim must be a positive integer, got %r'
                             % (self.name, kind, output_dim))
        self.output_dim = int(output_dim)
        initializations.get(init)
        initializations.get(inner_init)
        self.init = init
        self.inner_init = inner_init
        self.activation = activations.get(activation)
        self.inner_activation = activations.get(inner_activation)
        self.W_regularizer = regularizers.get(W_regularizer)
        self.U_regularizer = regularizers.get(U_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer)
        self.dropout_W = _fraction(self.name, kind, 'dropout_W', dropout_W)
        self.dropout_U = _fraction(self.name, kind, 'dropout_U', dropout_U)

    # -- weights ----------------------------------------------------------------

    def _add_gate_weights(self, input_dim, bias_inits):
        """Adds W, U, b per gate ('cpu'/'mem') or concatenated ('gpu'), with
        Keras 1.2.2's names, initializers and regularizers."""
        n, gates = self.output_dim, len(self._GATES)
        name = self.name
        if self.consume_less == 'gpu' or gates == 1:
            self.W = self.add_weight((input_dim, gates * n), self.init, name=name + '_W',
                                     regularizer=self.W_regularizer)
            self.U = self.add_weight((n, gates * n), self.inner_init, name=name + '_U',
                                     regularizer=self.U_regularizer)
            bias = np.concatenate([initializations.get(bias_inits.get(g, 'zero'))((n,))
                                   for g in self._GATES]).astype('float32')
            bias_shape = (2, gates * n) if self._needs_state_path() else (gates * n,)
            self.b = self.add_weight(bias_shape, 'zero', name=name + '_b',
                                     regularizer=self.b_regularizer)
            self.b[...] = bias
            self._gate_parts = None
            return
        parts = {}
        for gate in self._SAVED_ORDER:
            W = self.add_weight((input_dim, n), self.init, name='%s_W_%s' % (name, gate),
                                regularizer=self.W_regularizer)
            U = self.add_weight((n, n), self.init, name='%s_U_%s' % (name, gate),
                                regularizer=self.W_regularizer)
            b = self.add_weight((n,), bias_inits.get(gate, 'zero'),
                                name='%s_b_%s' % (name, gate), regularizer=self.b_regularizer)
            setattr(self, 'W_' + gate, W)
            setattr(self, 'U_' + gate, U)
            setattr(self, 'b_' + gate, b)
            parts[gate] = (W, U, b)
        self._gate_parts = [parts[g] for g in self._GATES]

    def _concatenated_weights(self):
        """(W, U, b) with the gates side by side in the kernels' order."""
        if self._gate_parts is None:
            return self.W, self.U, self.b
        return tuple(np.concatenate([p[k] for p in self._gate_parts], axis=-1)
                     for k in range(3))

    def _add_concatenated_gradients(self, dW, dU, db):
        if self._gate_parts is None:
            owned = [self.W, self.U, self.b]
            for array, grad in zip(owned, (dW, dU, db)):
                self._gradient_of(array)[...] += grad
            return
        n = self.output_dim
        for g, part in enumerate(self._gate_parts):
            for array, grad in zip(part, (dW, dU, db)):
                self._gradient_of(array)[...] += grad[..., g * n:(g + 1) * n]

    def _gradient_of(self, array):
        for weight, grad in zip(self._trainable_weights, self._gradients):
            if weight is array:
                return grad
        raise KeyError('%s: no gradient buffer for a weight' % self.name)

    # -- the fused path -------------------------------------------------------------

    def _uses_fused_kernel(self):
        own = type(self)
        base = _fused_base(own)
        for method in ('step', 'get_initial_states', 'preprocess_input', 'get_constants',
                       '_run_steps', 'call'):
            if getattr(own, method) is not getattr(base, method):
                return False
        return self.activation in _KERNEL_ACTIVATIONS and \
            self.inner_activation in _KERNEL_ACTIVATIONS

    def _dropout(self, training, batch, input_dim):
        """(input masks (G, B, D) or None, recurrent masks (G, B, n) or None),
        sampled as Keras 1.2.2 did for this layer's consume_less."""
        gates, n = len(self._GATES), self.output_dim
        shared = self.consume_less == 'gpu'
        w_mask = u_mask = None
        if training and 0. < self.dropout_W < 1. and self._input_dropout_applies():
            w_mask = _dropout_masks(1 if shared else gates, batch, input_dim, self.dropout_W)
            if shared:
                w_mask = np.repeat(w_mask, gates, axis=0)
        if training and 0. < self.dropout_U < 1.:
            u_mask = _dropout_masks(1 if shared else gates, batch, n, self.dropout_U)
            if shared:
                u_mask = np.repeat(u_mask, gates, axis=0)
        return w_mask, u_mask

    def _input_dropout_applies(self):
        return True

    def _initial_state_values(self, batch):
        if self.stateful:
            return [np.array(s) for s in self.states]
        return [np.zeros((batch, self.output_dim), 'float32') for _ in self.states]

    def _fused_forward(self, x, mask, training, need_input_grad):
        batch, steps, input_dim = x.shape
        n, gates = self.output_dim, len(self._GATES)
        W, U, b = self._concatenated_weights()
        w_mask, u_mask = self._dropout(training, batch, input_dim)
        mask_tm = np.ones((steps, batch), 'uint8') if mask is None else \
            np.ascontiguousarray(mask.T, dtype='uint8')
        if self.go_backwards:
            mask_tm = np.ascontiguousarray(mask_tm[::-1])
        masked_inputs = []
        one_hot = None
        columns = np.empty((steps, batch), 'int64') if w_mask is None else None
        if columns is not None and kernels.one_hot_columns(x, self.go_backwards, columns):
            # one-hot input vectors: the projection is a lookup of rows of W
            if self._TAKES_ONE_HOT:
                one_hot = (kernels.one_hot_table(W, b), columns)
                xp = None
            else:
                xp = np.empty((steps * batch, gates * n), 'float32')
                kernel_threads.run_ranges(functools.partial(
                    kernels.project_one_hot_samples, W, b, columns.reshape(steps * batch), xp,
                    steps, batch), batch, xp.size)
            columns = columns.reshape(steps * batch)
        elif w_mask is None:
            columns = None
            x_tm = x.transpose(1, 0, 2)
            x_tm = np.ascontiguousarray(x_tm[::-1] if self.go_backwards else x_tm)
            flat = x_tm.reshape(steps * batch, input_dim)
            # the bias added by each block's task: no serial pass over xp
            xp, tasks = kernel_threads.matmul_tasks(flat, W, bias=b)
            kernel_threads.run_all(tasks)
        else:
            # each gate's masked input, time-major (and reversed for go_backwards),
            # and its product, in one call of the threads
            masked = np.empty((gates, steps, batch, input_dim), 'float32')
            xp = np.empty((steps * batch, gates * n), 'float32')
            kernel_threads.run_all(kernels.masked_projection_tasks(
                x, w_mask, self.go_backwards, W, b, masked, xp))
            masked_inputs = [masked[g].reshape(steps * batch, input_dim) for g in range(gates)]
        if xp is not None:
            xp = xp.reshape(steps, batch, gates * n)
        gate_masks = u_mask is not None
        mu = u_mask if gate_masks else np.ones((gates, 1, 1), 'float32')
        Ug = np.ascontiguousarray(U.reshape(n, gates, n).transpose(1, 0, 2))
        initial = self._initial_state_values(batch)
        out, cache, final_states = self._run_kernel(xp, U, Ug, mu, gate_masks, initial, mask_tm,
                                                    one_hot)

        if self.return_sequences:
            y = np.ascontiguousarray(out.transpose(1, 0, 2))
        else:
            y = np.array(out[-1])

        def backprop(dy):
            if self.return_sequences:
                dout = np.ascontiguousarray(dy.transpose(1, 0, 2), dtype='float32')
            elif self._TAKES_LAST_STEP_GRADIENT:
                dout = np.ascontiguousarray(dy[None], dtype='float32')
            else:
                dout = np.zeros((steps, batch, n), 'float32')
                dout[-1] = dy
            Ut = np.ascontiguousarray(U.T)
            Ugt = np.ascontiguousarray(Ug.transpose(0, 2, 1))
            if 0 < self.truncate_gradient < steps:
                dz = self._run_backward_kernel(dout, cache, mask_tm, U, Ut, Ug, Ugt, mu,
                                               gate_masks)
                # Theano's scan computed the gradient of the last k steps only
                dz[:steps - self.truncate_gradient] = 0.
                sums = None
            else:
                dz, sums = self._backward_with_weight_gradients(
                    dout, cache, mask_tm, U, Ut, Ug, Ugt, mu, gate_masks,
                    None if columns is None else (columns.reshape(steps, batch), input_dim))
            dz_flat = dz.reshape(steps * batch, gates * n)
            # the weight and input gradients' products, in one call of the threads
            if sums is None:
                dU, finish_dU, tasks = self._recurrent_weight_gradient_tasks(
                    cache, dz_flat, mu, gate_masks, steps, batch)
            else:
                dU, finish_dU, tasks = sums[0], (lambda: None), []
            dx = None
            if columns is not None:  # one-hot inputs: W's and b's gradients are sums of rows
                if need_input_grad:
                    dx, dx_tasks = kernel_threads.matmul_tasks(dz_flat, np.transpose(W))
                    tasks += dx_tasks
                if sums is None:
                    finish_one_hot, one_hot_tasks = kernels.one_hot_gradient_tasks(
                        columns, dz_flat, input_dim)
                    kernel_threads.run_all(tasks + one_hot_tasks)
                    dW, db = finish_one_hot()
                else:
                    if tasks:
                        kernel_threads.run_all(tasks)
                    dW, db = sums[1:]
                finish_dU()
            else:
                db = np.empty(gates * n, 'float32')
                tasks.append(lambda: np.sum(dz_flat, axis=0, out=db))
                if w_mask is None:
                    finish_dW, dW_tasks = kernels.tall_product_tasks(flat, dz_flat)
                    tasks += dW_tasks
                    if need_input_grad:
                        dx, dx_tasks = kernel_threads.matmul_tasks(dz_flat, np.transpose(W))
                        tasks += dx_tasks
                    kernel_threads.run_all(tasks)
                    dW = finish_dW()
                    finish_dU()
                else:
                    dW, dx = self._masked_input_gradients(tasks, finish_dU, masked_inputs,
                                                          dz_flat, W, w_mask, need_input_grad)
                    self._add_concatenated_gradients(dW, dU, db)
                    return dx
            self._add_concatenated_gradients(dW, dU, db)
            if dx is None:
                return None
            dx = dx.reshape(steps, batch, input_dim)
            if self.go_backwards:
                dx = dx[::-1]
            return np.ascontiguousarray(dx.transpose(1, 0, 2))
        return y, backprop, final_states

    def _state_forward(self, x, initial, mask, training, need_input_grad):
        """The forward pass with the states as inputs and outputs (Keras 2's
        `initial_state` and `return_state`, and GRU's `reset_after`), run by
        `minikeras.kernels.recurrent_states`; the output is `[y] + states`
        with `return_state`, and backprop then takes one gradient per output
        and returns `[dx] + the initial states' gradients` when they were given."""
        batch, steps, input_dim = x.shape
        n, gates = self.output_dim, len(self._GATES)
        W, U, b = self._concatenated_weights()
        input_bias, recurrent_bias = (b[0], b[1]) if b.ndim == 2 else (b, None)
        w_mask, u_mask = self._dropout(training, batch, input_dim)
        x_tm = x.transpose(1, 0, 2)
        mask_tm = None if mask is None else mask.T
        if self.go_backwards:
            x_tm = x_tm[::-1]
            mask_tm = None if mask_tm is None else mask_tm[::-1]
        x_tm = np.ascontiguousarray(x_tm)
        flat = x_tm.reshape(steps * batch, input_dim)
        if w_mask is None:
            xp = flat @ W
            masked_inputs = None
        else:
            masked_inputs = [(x_tm * w_mask[g]).reshape(steps * batch, input_dim)
                             for g in range(gates)]
            xp = np.concatenate([masked_inputs[g] @ W[:, g * n:(g + 1) * n]
                                 for g in range(gates)], axis=1)
        xp = (xp + input_bias).reshape(steps, batch, gates * n).astype('float32')
        given = initial is not None
        if not given:
            initial = self._initial_state_values(batch)
        act, inner = self._activation_codes()
        out, final, cache = recurrent_states.forward(self._STATE_CELL, xp, U, recurrent_bias,
                                                     u_mask, mask_tm, initial, act, inner)
        if self.stateful:
            for state, value in zip(self.states, final):
                state[...] = value
        y = np.ascontiguousarray(out.transpose(1, 0, 2)) if self.return_sequences \
            else np.array(out[-1])
        outputs = [y] + [np.array(s) for s in final] if self.return_state else y

        def backprop(dy):
            d_final = [None] * len(final)
            if self.return_state:
                dy, d_final = dy[0], list(dy[1:])
            d_out = np.zeros((steps, batch, n), 'float32')
            if self.return_sequences:
                d_out[...] = np.asarray(dy).transpose(1, 0, 2)
            else:
                d_out[-1] = dy
            d_xp, dU, d_recurrent_bias, d_initial = recurrent_states.backward(
                cache, U, d_out, d_final)
            if 0 < self.truncate_gradient < steps:
                d_xp[:steps - self.truncate_gradient] = 0.
            dz = d_xp.reshape(steps * batch, gates * n)
            db = dz.sum(axis=0)
            if d_recurrent_bias is not None:
                db = np.stack([db, d_recurrent_bias])
            dx = None
            if w_mask is None:
                dW = flat.T @ dz
                if need_input_grad:
                    dx = dz @ W.T
            else:
                dW = np.empty_like(W)
                dx = np.zeros((steps * batch, input_dim), 'float32') if need_input_grad else None
                for g in range(gates):
                    cols = slice(g * n, (g + 1) * n)
                    dW[:, cols] = masked_inputs[g].T @ dz[:, cols]
                    if dx is not None:
                        dx += (dz[:, cols] @ W[:, cols].T) * \
                            w_mask[g][None].repeat(steps, 0).reshape(steps * batch, input_dim)
            self._add_concatenated_gradients(dW, dU, db)
            if dx is not None:
                dx = dx.reshape(steps, batch, input_dim)
                if self.go_backwards:
                    dx = dx[::-1]
                dx = np.ascontiguousarray(dx.transpose(1, 0, 2), dtype='float32')
            return [dx] + d_initial if given else dx
        return outputs, backprop

    def _backward_with_weight_gradients(self, dout, cache, mask_tm, U, Ut, Ug, Ugt, mu,
                                        gate_masks, one_hot):
        """(dz, None), or (dz, (dU, dW, db)) where the backward kernel summed
        U's gradient while it ran, and for one-hot inputs (`one_hot`:
        (columns (T, B), the input's width), else None) W's and b's (dW and
        db None otherwise). Here none are summed; a cell whose kernel sums
        them overrides this."""
        return self._run_backward_kernel(dout, cache, mask_tm, U, Ut, Ug, Ugt, mu,
                                         gate_masks), None

    def _masked_input_gradients(self, tasks, finish_dU, masked_inputs, dz_flat, W, w_mask,
                                need_input_grad):
        """(dW, dx) under input dropout: each gate's part of W's gradient from
        that gate's masked inputs, and dx = sum_g (dz_g W_g.T) * mask_g,
        batch-major in the input's time order (None unless need_input_grad).
        `tasks` and `finish_dU` (U's and b's gradients) share the threads' calls."""
        gates, n = len(self._GATES), self.output_dim
        batch, input_dim = w_mask.shape[1:]
        steps = dz_flat.shape[0] // batch
        dW = np.empty_like(W)
        per_gate = np.empty((gates, steps * batch, input_dim), 'float32') \
            if need_input_grad else None
        finishers = []
        for g in range(gates):
            cols = slice(g * n, (g + 1) * n)
            finish_dW, dW_tasks = kernels.tall_product_tasks(masked_inputs[g], dz_flat[:, cols],
                                                             dW[:, cols])
            finishers.append(finish_dW)
            tasks += dW_tasks
        dx = None
        if need_input_grad:  # each range of steps' products, then its part of dx
            dx = np.empty((batch, steps, input_dim), 'float32')
            tasks += kernels.masked_input_gradient_tasks(dz_flat, W, w_mask, self.go_backwards,
                                                         per_gate, dx)
        kernel_threads.run_all(tasks)
        # the sums of the products' parts: a few small additions, on this thread
        for finish in finishers + [finish_dU]:
            finish()
        return dW, dx

    def _recurrent_weight_gradient_tasks(self, cache, dz_flat, mu, gate_masks, steps, batch):
        """(dU, finish, tasks): the gradient of U, written into dU once the
        tasks have run (`threads.run_all`) and then `finish()`, as
        `kernels.tall_product_tasks` computes it."""
        n, gates = self.output_dim, len(self._GATES)
        h_prev = cache['hs'][:-1].reshape(steps * batch, n)
        dU = np.empty((n, gates * n), 'float32')
        if not gate_masks:
            return (dU,) + kernels.tall_product_tasks(h_prev, dz_flat, dU)
        finishers, tasks = [], []
        for g in range(gates):
            if 'masked_states' in cache:  # h * mu[g], kept by the forward kernel
                scaled = cache['masked_states'][g, :-1].reshape(steps * batch, n)
            else:
                scaled = (cache['hs'][:-1] * mu[g]).reshape(steps * batch, n)
            finish, gate_tasks = kernels.tall_product_tasks(
                scaled, dz_flat[:, g * n:(g + 1) * n], dU[:, g * n:(g + 1) * n])
            finishers.append(finish)
            tasks += gate_tasks

        def finish():
            for finish_gate in finishers:
                finish_gate()
        return dU, finish, tasks

    def get_constants(self, x):
        """The dropout multipliers of every step: [recurrent masks, input masks],
        one (samples, size) array per gate (ones outside training)."""
        batch, _, input_dim = K.int_shape(x)
        w_mask, u_mask = self._dropout(K.learning_phase() == 1, batch, input_dim)
        gates = len(self._GATES)
        if u_mask is None:
            u_mask = np.ones((gates, batch, self.output_dim), 'float32')
        if w_mask is None:
            w_mask = np.ones((gates, batch, input_dim), 'float32')
        return [list(u_mask), list(w_mask)]

    def _concatenated_weights_traced(self):
        """Like `_concatenated_weights`, read from the attributes (traced in `step`)."""
        if self._gate_parts is None:
            return self.W, self.U, self.b
        parts = [tuple(getattr(self, '%s_%s' % (k, g)) for k in 'WUb') for g in self._GATES]
        return tuple(np.concatenate([p[k] for p in parts], axis=-1) for k in range(3))

    def _activation_codes(self):
        return (kernels.ACTIVATIONS[self.activation.__name__],
                kernels.ACTIVATIONS[self.inner_activation.__name__])

    # -- configuration --------------------------------------------------------------

    def get_config(self):
        config = super(_FusedCell, self).get_config()
        config.update({'output_dim': self.output_dim, 'init': _init_name(self.init),
                       'inner_init': _init_name(self.inner_init),
                       'activation': activations.serialize(self.activation),
                       'inner_activation': activations.serialize(self.inner_activation),
                       'W_regularizer': _config_or_none(self.W_regularizer),
                       'U_regularizer': _config_or_none(self.U_regularizer),
                       'b_regularizer': _config_or_none(self.b_regularizer),
                       'dropout_W': self.dropout_W, 'dropout_U': self.dropout_U})
        return config


def _init_name(init):
    return init if isinstance(init, str) else getattr(init, '__name__', init)


_KERNEL_ACTIVATIONS = tuple(getattr(activations, name) for name in kernels.ACTIVATIONS)


def _fused_base(cls):
    for klass in cls.__mro__:
        if klass in (SimpleRNN, GRU, LSTM):
            return klass
    return cls


class SimpleRNN(_FusedCell):
    """A fully-connected RNN whose output is fed back as input:
    `h_t = activation(x_t W + b + h_{t-1} U)`.

    # Arguments
        output_dim: int > 0, the size of the output and of the state.
        init: initialization of `W` (see `initializations`).
        inner_init: initialization of `U`.
        activation: the activation function.
        W_regularizer, U_regularizer, b_regularizer: optional weight penalties.
        dropout_W: fraction of the input units to drop (with
            consume_less='cpu', as in Keras 1.2.2).
        dropout_U: fraction of the recurrent units to drop.
        and the arguments of `Recurrent`.

    Weights: `[W (input_dim, output_dim), U (output_dim, output_dim), b (output_dim,)]`.
    """

    _GATES = ('',)
    _STATE_CELL = 'simple'

    @keras2.keras2_arguments(keras2.SIMPLE_RNN)
    @keras0.legacy_arguments(keras0.recurrent_arguments)
    def __init__(self, output_dim, init='glorot_uniform', inner_init='orthogonal',
                 activation='tanh', W_regularizer=None, U_regularizer=None, b_regularizer=None,
                 dropout_W=0., dropout_U=0., **kwargs):
        super(SimpleRNN, self).__init__(output_dim, init=init, inner_init=inner_init,
                                        activation=activation, inner_activation='linear',
                                        W_regularizer=W_regularizer,
                                        U_regularizer=U_regularizer,
                                        b_regularizer=b_regularizer, dropout_W=dropout_W,
                                        dropout_U=dropout_U, **kwargs)

    def build(self, input_shape):
        input_shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        self._check_input_shape(input_shape)
        self.input_dim = input_shape[2]
        self._built_input_shape = tuple(input_shape)
        self._begin_states(1)
        self._add_gate_weights(self.input_dim, {})

    def _input_dropout_applies(self):
        return self.consume_less == 'cpu'

    def step(self, x, states):
        # Keras 1.2.2 projected the inputs in preprocess_input for 'cpu'; the
        # same sums, here in the step.
        prev_output, B_U, B_W = states[0], states[1][0], states[2][0]
        h = K.dot(x * B_W, self.W) + self.b
        output = self.activation(h + K.dot(prev_output * B_U, self.U))
        return output, [output]

    def _run_kernel(self, xp, U, Ug, mu, gate_masks, initial, mask_tm, one_hot=None):
        steps, batch, n = xp.shape
        hs = np.empty((steps + 1, batch, n), 'float32')
        out = np.empty((steps, batch, n), 'float32')
        act, _ = self._activation_codes()
        kernels.rnn_forward(xp, np.ascontiguousarray(U), Ug, mu, gate_masks,
                            np.ascontiguousarray(initial[0]), mask_tm, act, hs, out)
        return out, {'hs': hs}, [hs[-1]]

    def _run_backward_kernel(self, dout, cache, mask_tm, U, Ut, Ug, Ugt, mu, gate_masks):
        dz = np.empty_like(dout)
        act, _ = self._activation_codes()
        kernels.rnn_backward(dout, cache['hs'], mask_tm, Ut, Ugt, mu, gate_masks, act, dz)
        return dz

    def get_config(self):
        config = super(SimpleRNN, self).get_config()
        del config['inner_activation']
        return config


class GRU(_FusedCell):
    """Gated Recurrent Unit (Cho et al. 2014), as Keras 1.2.2 computed it:

        z = inner_activation(x W_z + b_z + h U_z)
        r = inner_activation(x W_r + b_r + h U_r)
        hh = activation(x W_h + b_h + (r * h) U_h)
        h' = z * h + (1 - z) * hh

    # Arguments
        output_dim: int > 0, the size of the output and of the state.
        init, inner_init: initializations (see the module notes for 'cpu'/'mem').
        activation: activation of the candidate state (tanh).
        inner_activation: activation of the gates (hard_sigmoid: clip(0.2 x + 0.5, 0, 1)).
        W_regularizer, U_regularizer, b_regularizer: optional weight penalties.
        dropout_W, dropout_U: fractions of the input / recurrent units to drop.
        reset_after: (Keras 2.2.4; Keras 3's default) apply the reset gate
            after the recurrent matmul, with a recurrent bias:
            `hh = activation(x W_h + b_h + r * (h U_h + b'_h))`, and b' added
            to z's and r's recurrent parts too. Needs consume_less='gpu'.
        and the arguments of `Recurrent`.

    Weights: 'cpu'/'mem': `W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h`;
    'gpu': `W (input_dim, 3n), U (n, 3n), b (3n,)` in gate order z, r, h;
    with reset_after, `b` is (2, 3n): the input bias, then the recurrent bias.
    """

    _GATES = ('z', 'r', 'h')
    _SAVED_ORDER = ('z', 'r', 'h')

    @keras2.keras2_arguments(keras2.GRU)
    @keras0.legacy_arguments(keras0.recurrent_arguments)
    def __init__(self, output_dim, init='glorot_uniform', inner_init='orthogonal',
                 activation='tanh', inner_activation='hard_sigmoid', W_regularizer=None,
                 U_regularizer=None, b_regularizer=None, dropout_W=0., dropout_U=0.,
                 reset_after=False, **kwargs):
        super(GRU, self).__init__(output_dim, init=init, inner_init=inner_init,
                                  activation=activation, inner_activation=inner_activation,
                                  W_regularizer=W_regularizer, U_regularizer=U_regularizer,
                                  b_regularizer=b_regularizer, dropout_W=dropout_W,
                                  dropout_U=dropout_U, **kwargs)
        self.reset_after = bool(reset_after)
        if self.reset_after and self.consume_less != 'gpu':
            raise ValueError("%s (GRU): reset_after=True keeps Keras 2's concatenated weights "
                             "(kernel, recurrent_kernel, bias (2, 3*units)); it needs "
                             "consume_less='gpu' (implementation=2), got consume_less=%r"
                             % (self.name, self.consume_less))

    @property
    def _STATE_CELL(self):
        return 'gru_reset_after' if self.reset_after else 'gru'

    def _needs_state_path(self):
        return self.reset_after

    def get_config(self):
        config = super(GRU, self).get_config()
        if self.reset_after:
            config['reset_after'] = True
        return config

    def build(self, input_shape):
        input_shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        self._check_input_shape(input_shape)
        self.input_dim = input_shape[2]
        self._built_input_shape = tuple(input_shape)
        self._begin_states(1)
        self._add_gate_weights(self.input_dim, {})

    def step(self, x, states):
        h_tm1, B_U, B_W = states[0], states[1], states[2]
        W, U, b = self._concatenated_weights_traced()
        n = self.output_dim
        x_z = K.dot(x * B_W[0], W[:, :n]) + b[:n]
        x_r = K.dot(x * B_W[1], W[:, n:2 * n]) + b[n:2 * n]
        x_h = K.dot(x * B_W[2], W[:, 2 * n:]) + b[2 * n:]
        z = self.inner_activation(x_z + K.dot(h_tm1 * B_U[0], U[:, :n]))
        r = self.inner_activation(x_r + K.dot(h_tm1 * B_U[1], U[:, n:2 * n]))
        hh = self.activation(x_h + K.dot(r * h_tm1 * B_U[2], U[:, 2 * n:]))
        h = z * h_tm1 + (1 - z) * hh
        return h, [h]

    def _run_kernel(self, xp, U, Ug, mu, gate_masks, initial, mask_tm, one_hot=None):
        steps, batch, n3 = xp.shape
        n = n3 // 3
        gates = np.empty((steps, batch, 3 * n), 'float32')
        hs = np.empty((steps + 1, batch, n), 'float32')
        rh = np.empty((steps, batch, n), 'float32')
        out = np.empty((steps, batch, n), 'float32')
        act, inner = self._activation_codes()
        kernels.gru_forward(xp, np.ascontiguousarray(U[:, :2 * n]),
                            np.ascontiguousarray(U[:, 2 * n:]), Ug, mu, gate_masks,
                            np.ascontiguousarray(initial[0]), mask_tm, act, inner, gates, hs,
                            rh, out)
        return out, {'hs': hs, 'gates': gates, 'rh': rh}, [hs[-1]]

    def _run_backward_kernel(self, dout, cache, mask_tm, U, Ut, Ug, Ugt, mu, gate_masks):
        n = self.output_dim
        dz = np.empty(dout.shape[:2] + (3 * n,), 'float32')
        act, inner = self._activation_codes()
        kernels.gru_backward(dout, cache['gates'], cache['hs'], mask_tm,
                             np.ascontiguousarray(Ut[:2 * n]), np.ascontiguousarray(Ut[2 * n:]),
                             Ugt, mu, gate_masks, act, inner, dz)
        return dz

    def _recurrent_weight_gradient_tasks(self, cache, dz_flat, mu, gate_masks, steps, batch):
        n = self.output_dim
        dU = np.empty((n, 3 * n), 'float32')
        for g in range(2):
            h_prev = cache['hs'][:-1]
            if gate_masks:
                h_prev = h_prev * mu[g]
            dU[:, g * n:(g + 1) * n] = h_prev.reshape(steps * batch, n).T @ \
                dz_flat[:, g * n:(g + 1) * n]
        dU[:, 2 * n:] = cache['rh'].reshape(steps * batch, n).T @ dz_flat[:, 2 * n:]
        return dU, (lambda: None), []


class LSTM(_FusedCell):
    """Long short-term memory (Hochreiter 1997), as Keras 1.2.2 computed it:

        i = inner_activation(x W_i + b_i + h U_i)
        f = inner_activation(x W_f + b_f + h U_f)
        c' = f * c + i * activation(x W_c + b_c + h U_c)
        o = inner_activation(x W_o + b_o + h U_o)
        h' = o * activation(c')

    # Arguments
        output_dim: int > 0, the size of the output and of the states.
        init, inner_init: initializations (see the module notes for 'cpu'/'mem').
        forget_bias_init: initialization of the forget gate's bias ('one').
        activation: activation of the cell input and output (tanh).
        inner_activation: activation of the gates (hard_sigmoid: clip(0.2 x + 0.5, 0, 1)).
        W_regularizer, U_regularizer, b_regularizer: optional weight penalties.
        dropout_W, dropout_U: fractions of the input / recurrent units to drop.
        and the arguments of `Recurrent`.

    Weights: 'cpu'/'mem': `W_i, U_i, b_i, W_c, U_c, b_c, W_f, U_f, b_f,
    W_o, U_o, b_o`; 'gpu': `W (input_dim, 4n), U (n, 4n), b (4n,)` in gate
    order i, f, c, o.
    """

    _GATES = ('i', 'f', 'c', 'o')
    _SAVED_ORDER = ('i', 'c', 'f', 'o')
    _STATE_CELL = 'lstm'
    _STATE_COUNT = 2
    _TAKES_ONE_HOT = True
    _TAKES_LAST_STEP_GRADIENT = True

    @keras2.keras2_arguments(keras2.LSTM)
    @keras0.legacy_arguments(keras0.recurrent_arguments)
    def __init__(self, output_dim, init='glorot_uniform', inner_init='orthogonal',
                 forget_bias_init='one', activation='tanh', inner_activation='hard_sigmoid',
                 W_regularizer=None, U_regularizer=None, b_regularizer=None, dropout_W=0.,
                 dropout_U=0., **kwargs):
        super(LSTM, self).__init__(output_dim, init=init, inner_init=inner_init,
                                   activation=activation, inner_activation=inner_activation,
                                   W_regularizer=W_regularizer, U_regularizer=U_regularizer,
                                   b_regularizer=b_regularizer, dropout_W=dropout_W,
                                   dropout_U=dropout_U, **kwargs)
        initializations.get(forget_bias_init)
        self.forget_bias_init = forget_bias_init

    def build(self, input_shape):
        input_shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        self._check_input_shape(input_shape)
        self.input_dim = input_shape[2]
        self._built_input_shape = tuple(input_shape)
        self._begin_states(2)
        self._add_gate_weights(self.input_dim, {'f': self.forget_bias_init})

    def step(self, x, states):
        h_tm1, c_tm1, B_U, B_W = states[0], states[1], states[2], states[3]
        W, U, b = self._concatenated_weights_traced()
        n = self.output_dim
        pre = [K.dot(x * B_W[g], W[:, g * n:(g + 1) * n]) + b[g * n:(g + 1) * n] +
               K.dot(h_tm1 * B_U[g], U[:, g * n:(g + 1) * n]) for g in range(4)]
        i = self.inner_activation(pre[0])
        f = self.inner_activation(pre[1])
        c = f * c_tm1 + i * self.activation(pre[2])
        o = self.inner_activation(pre[3])
        h = o * self.activation(c)
        return h, [h, c]

    def _run_kernel(self, xp, U, Ug, mu, gate_masks, initial, mask_tm, one_hot=None):
        steps, batch = mask_tm.shape
        n = self.output_dim
        gates = np.empty((steps, batch, 4 * n), 'float32')
        hs = np.empty((steps + 1, batch, n), 'float32')
        cs = np.empty((steps + 1, batch, n), 'float32')
        act_c = np.empty((steps, batch, n), 'float32')
        out = np.empty((steps, batch, n), 'float32')
        masked_states = np.empty((4, steps + 1 if gate_masks else 1, batch, n), 'float32')
        act, inner = self._activation_codes()
        kernels.lstm_forward(xp, np.ascontiguousarray(U), Ug, mu, gate_masks,
                             np.ascontiguousarray(initial[0]), np.ascontiguousarray(initial[1]),
                             mask_tm, act, inner, gates, hs, cs, act_c, out, masked_states,
                             one_hot)
        cache = {'hs': hs, 'cs': cs, 'gates': gates, 'act_c': act_c,
                 'masked_states': masked_states}
        return out, cache, [hs[-1], cs[-1]]

    def _run_backward_kernel(self, dout, cache, mask_tm, U, Ut, Ug, Ugt, mu, gate_masks):
        return self._lstm_backward(dout, cache, mask_tm, Ut, Ugt, mu, gate_masks, None, None)[0]

    def _backward_with_weight_gradients(self, dout, cache, mask_tm, U, Ut, Ug, Ugt, mu,
                                        gate_masks, one_hot):
        states = cache['masked_states'] if gate_masks else cache['hs']
        return self._lstm_backward(dout, cache, mask_tm, Ut, Ugt, mu, gate_masks, states,
                                   one_hot)

    def _lstm_backward(self, dout, cache, mask_tm, Ut, Ugt, mu, gate_masks, states, one_hot):
        """(dz, the weight gradients `kernels.lstm_backward` summed, or None)."""
        dz = np.empty(cache['gates'].shape, 'float32')
        act, inner = self._activation_codes()
        sums = kernels.lstm_backward(dout, cache['gates'], cache['cs'], cache['act_c'], mask_tm,
                                     Ut, Ugt, mu, gate_masks, act, inner, dz, states, one_hot)
        return dz, sums

    def get_config(self):
        config = super(LSTM, self).get_config()
        config['forget_bias_init'] = _init_name(self.forget_bias_init)
        return config
