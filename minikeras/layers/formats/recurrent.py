"""File formats of the recurrent layers (`layers/recurrent.py`) and of
`Bidirectional` (`layers/wrappers.py`).

Weight layouts read:

- Keras 1 'cpu'/'mem': one W, U, b per gate, LSTM in the order i, c, f, o
  (12 arrays), GRU z, r, h (9); Keras 1 'gpu', Keras 2 and Keras 3:
  `kernel` (input_dim, G n), `recurrent_kernel` (n, G n), `bias` (G n,), the
  gates side by side (LSTM i, f, c, o; GRU z, r, h). Either is converted to
  whichever layout the layer holds. A GRU with `reset_after=True` (Keras 3's
  default) has a `bias` (2, 3 n), input bias then recurrent bias, read as it
  is into a GRU(reset_after=True), which always holds the concatenated layout.
- hard_sigmoid: Keras 1 and 2 compute clip(0.2 x + 0.5, 0, 1), Keras 3
  clip(x / 6 + 0.5, 0, 1) = Keras 1's at x / 1.2. The argument of a gate is
  linear in its columns of W, U and b, so a Keras 3 gate is Keras 1's with
  those columns divided by 1.2: reading a Keras 3 file divides them,
  exporting to Keras 3 multiplies them by 1.2, and the predictions are
  unchanged. The same holds for `activation='hard_sigmoid'` of SimpleRNN and
  of GRU's candidate; LSTM's `activation` is also applied to the cell state,
  which is not linear in the weights: that one has no Keras 3 equivalent.

Not exported (no Keras 3 equivalent): `truncate_gradient` (Keras 0.x), and
Keras 1.2.2's 'cpu'/'mem' LSTM and GRU regularise `U` with `W_regularizer`,
which is exported as Keras 3's `recurrent_regularizer` so that training
stays the same.
"""
import numpy as np

from ...engine.layer_formats import (ExportedTensor, ExportError, keras1_activation,
                                     keras1_initializer, keras1_regularizer, keras3_activation,
                                     keras3_initializer, keras3_regularizer, LayerFormat,
                                     register_format)
from ..recurrent import GRU, LSTM, SimpleRNN
from ..wrappers import Bidirectional

_GATES = {'SimpleRNN': ('',), 'GRU': ('z', 'r', 'h'), 'LSTM': ('i', 'f', 'c', 'o')}
_KERAS1_SPLIT_ORDER = {'GRU': ('z', 'r', 'h'), 'LSTM': ('i', 'c', 'f', 'o')}
_SLOPE_RATIO = np.float32(1.2)   # Keras 1's hard_sigmoid slope 0.2 over Keras 3's 1/6
_CELL_NAMES = {'SimpleRNN': 'simple_rnn_cell', 'GRU': 'gru_cell', 'LSTM': 'lstm_cell'}


def _kind(layer):
    for cls in type(layer).__mro__:
        if cls in (SimpleRNN, GRU, LSTM):
            return cls.__name__
    raise ValueError('layer %s is not a SimpleRNN, GRU or LSTM' % layer.name)


def _activation_name(spec):
    if spec is None:
        return 'linear'
    if isinstance(spec, dict):
        inner = spec.get('config')
        spec = inner if isinstance(inner, str) else spec.get('class_name', '')
    return str(spec)


def _hard_sigmoid_gates(kind, activation, inner_activation):
    """Indices of the gates whose argument is rescaled between Keras 1's
    and Keras 3's hard_sigmoid."""
    gates = []
    if inner_activation == 'hard_sigmoid':
        gates += {'GRU': [0, 1], 'LSTM': [0, 1, 3]}.get(kind, [])
    if activation == 'hard_sigmoid':
        if kind == 'LSTM':
            raise ValueError("LSTM with activation='hard_sigmoid': Keras 3's hard_sigmoid "
                             "(slope 1/6) differs from Keras 1's (slope 0.2), and LSTM applies "
                             "it to the cell state, which no weight rescaling can correct")
        gates += {'GRU': [2], 'SimpleRNN': [0]}[kind]
    return gates


def _scale_gates(arrays, gates, n, factor):
    arrays = [np.array(a, dtype='float32') for a in arrays]
    for g in gates:
        for a in arrays:
            a[..., g * n:(g + 1) * n] *= factor
    return arrays


# -- weights in -------------------------------------------------------------------

def _concatenated(kind, arrays, n, where, reset_after=False):
    """A file's arrays as [W, U, b] with the gates side by side (kernel order)."""
    gates = _GATES[kind]
    if len(arrays) == 3 * len(gates) and len(gates) > 1:
        by_gate = dict(zip(_KERAS1_SPLIT_ORDER[kind],
                           [arrays[3 * k:3 * k + 3] for k in range(len(gates))]))
        return [np.concatenate([by_gate[g][part] for g in gates], axis=-1) for part in range(3)]
    if len(arrays) == 3:
        if kind == 'GRU' and (np.ndim(arrays[2]) == 2) != reset_after:
            raise ValueError('%s: the file\'s GRU bias has shape %s, which is a GRU with '
                             'reset_after=%s, but the layer has reset_after=%s'
                             % (where, np.shape(arrays[2]), np.ndim(arrays[2]) == 2,
                                reset_after))
        return list(arrays)
    expected = '3' if len(gates) == 1 else '3 or %d' % (3 * len(gates))
    raise ValueError('%s: a %s has %s weight arrays (W, U, b), got %d'
                     % (where, kind, expected, len(arrays)))


def _held_layout(layer, W, U, b):
    """[W, U, b] (kernel gate order) in the layout the layer holds."""
    if layer._gate_parts is None:
        return [W, U, b]
    kind, n = _kind(layer), layer.output_dim
    gates = _GATES[kind]
    out = []
    for gate in _KERAS1_SPLIT_ORDER[kind]:
        k = gates.index(gate)
        out += [np.ascontiguousarray(a[..., k * n:(k + 1) * n]) for a in (W, U, b)]
    return out


def _file_activations(info, kind):
    config = info.get('config') or {}
    if 'layer' in config and isinstance(config['layer'], dict):   # inside a Bidirectional
        config = config['layer'].get('config') or {}
    return (_activation_name(config.get('activation', 'tanh')),
            _activation_name(config.get('recurrent_activation', config.get(
                'inner_activation', 'hard_sigmoid' if kind != 'SimpleRNN' else None))))


def _recurrent_weights_in(layer, arrays, source, info, target):
    kind, n = _kind(layer), layer.output_dim
    where = '%s: layer %s' % (getattr(source, 'path', 'file'), layer.name)
    W, U, b = _concatenated(kind, arrays, n, where, getattr(layer, 'reset_after', False))
    if getattr(source, 'keras_major', 1) >= 3:
        activation, inner = _file_activations(info, kind)
        W, U, b = _scale_gates([W, U, b], _hard_sigmoid_gates(kind, activation, inner), n,
                               1. / _SLOPE_RATIO)
    return _held_layout(layer, W, U, b)


def _bidirectional_weights_in(layer, arrays, source, info, target):
    half = len(arrays) // 2
    if len(arrays) != 2 * half:
        raise ValueError('%s: Bidirectional %s has an odd number of weight arrays (%d)'
                         % (getattr(source, 'path', 'file'), layer.name, len(arrays)))
    return (_recurrent_weights_in(layer.forward_layer, arrays[:half], source, info, target) +
            _recurrent_weights_in(layer.backward_layer, arrays[half:], source, info, target))


# -- Keras 2/3 configs in --------------------------------------------------------------

def _recurrent_1(kind):
    def read(c, major):
        if not c.get('use_bias', True):
            raise ValueError("use_bias=False has no Keras 1 equivalent (Keras 1's recurrent "
                             'layers always have a bias)')
        reset_after = kind == 'GRU' and bool(c.get('reset_after', major >= 3))
        for key in ('kernel_constraint', 'recurrent_constraint', 'bias_constraint'):
            if c.get(key) is not None:
                raise ValueError('%s has no Keras 1 equivalent (Keras 1 recurrent layers take '
                                 'no constraints)' % key)
        activation = _activation_name(c.get('activation', 'tanh'))
        inner = _activation_name(c.get('recurrent_activation', 'hard_sigmoid'))
        _hard_sigmoid_gates(kind, activation, inner if kind != 'SimpleRNN' else None)
        config = {
            'output_dim': int(c['units']),
            'init': keras1_initializer(c.get('kernel_initializer')),
            'inner_init': keras1_initializer(c.get('recurrent_initializer'), 'orthogonal'),
            'activation': keras1_activation(activation, 2),
            'W_regularizer': keras1_regularizer(c.get('kernel_regularizer')),
            'U_regularizer': keras1_regularizer(c.get('recurrent_regularizer')),
            'b_regularizer': keras1_regularizer(c.get('bias_regularizer')),
            'dropout_W': float(c.get('dropout', 0.)), 'dropout_U': float(c.get('recurrent_dropout',
                                                                                0.)),
            'return_sequences': bool(c.get('return_sequences', False)),
            'go_backwards': bool(c.get('go_backwards', False)),
            'stateful': bool(c.get('stateful', False)), 'unroll': bool(c.get('unroll', False)),
            # Keras 2's implementation 1 drew one dropout mask per gate, as Keras 1's 'cpu'
            'consume_less': 'cpu' if c.get('implementation', 2 if major >= 3 else 1) == 1
            else 'gpu'}
        if c.get('return_state'):
            config['return_state'] = True
        if reset_after:
            # minikeras's reset_after GRU holds Keras 2's concatenated weights
            config.update(reset_after=True, consume_less='gpu')
        if kind != 'SimpleRNN':
            config['inner_activation'] = keras1_activation(inner, 2)
        if kind == 'LSTM':
            config['forget_bias_init'] = 'one' if c.get('unit_forget_bias', True) else \
                keras1_initializer(c.get('bias_initializer'), 'zero')
        if c.get('activity_regularizer') is not None:
            raise ValueError('activity_regularizer on a recurrent layer has no Keras 1 '
                             'equivalent')
        return kind, config
    return read


def _bidirectional_1(c, major):
    inner = c['layer']
    class_name = inner.get('class_name')
    if class_name not in _GATES:
        raise ValueError('Bidirectional of %r: minikeras wraps SimpleRNN, GRU and LSTM'
                         % (class_name,))
    inner_class, inner_config = _recurrent_1(class_name)(dict(inner.get('config') or {}), major)
    inner_config['name'] = (inner.get('config') or {}).get('name', class_name.lower())
    merge_mode = c.get('merge_mode', 'concat')
    return 'Bidirectional', {'layer': {'class_name': inner_class, 'config': inner_config},
                             'merge_mode': merge_mode}


# -- Keras 3 out -----------------------------------------------------------------------

def _recurrent_config_3(layer):
    kind, n = _kind(layer), layer.output_dim
    if layer.truncate_gradient != -1:
        raise ExportError('layer %s: truncate_gradient (Keras 0.x) has no Keras 3 equivalent'
                          % layer.name)
    if not layer._uses_fused_kernel():
        raise ExportError('layer %s (%s) computes its own step(); only SimpleRNN, GRU and LSTM '
                          'are exported' % (layer.name, type(layer).__name__))
    activation = layer.activation.__name__
    inner = layer.inner_activation.__name__ if kind != 'SimpleRNN' else None
    try:
        scaled = _hard_sigmoid_gates(kind, activation, inner)
    except ValueError as error:
        raise ExportError('layer %s: %s' % (layer.name, error))
    W, U, b = _scale_gates(list(layer._concatenated_weights()), scaled, n, _SLOPE_RATIO)
    split = layer._gate_parts is not None
    config = {
        # hard_sigmoid is exact in Keras 3 once its gates' columns are scaled (above)
        'units': n, 'activation': 'hard_sigmoid' if activation == 'hard_sigmoid'
        else keras3_activation(layer, layer.activation),
        'use_bias': True, 'kernel_initializer': keras3_initializer(layer.init),
        'recurrent_initializer': keras3_initializer(layer.inner_init),
        'bias_initializer': {'class_name': 'Zeros', 'config': {}},
        'kernel_regularizer': keras3_regularizer(layer.W_regularizer),
        'recurrent_regularizer': keras3_regularizer(layer.W_regularizer if split
                                                    else layer.U_regularizer),
        'bias_regularizer': keras3_regularizer(layer.b_regularizer),
        'dropout': float(layer.dropout_W) if (kind != 'SimpleRNN' or
                                              layer.consume_less == 'cpu') else 0.,
        'recurrent_dropout': float(layer.dropout_U),
        'return_sequences': layer.return_sequences, 'return_state': layer.return_state,
        'go_backwards': layer.go_backwards, 'stateful': layer.stateful, 'unroll': False}
    if kind != 'SimpleRNN':
        config['recurrent_activation'] = 'hard_sigmoid' if inner == 'hard_sigmoid' else \
            keras3_activation(layer, layer.inner_activation)
    if kind == 'LSTM':
        config['unit_forget_bias'] = False     # the biases are set by the weights
    if kind == 'GRU':
        config['reset_after'] = layer.reset_after
    cell = _CELL_NAMES[kind]
    weights = [('%s/kernel' % cell, W), ('%s/recurrent_kernel' % cell, U), ('%s/bias' % cell, b)]
    return kind, config, weights


def _recurrent_3(layer, state, converted):
    if not state.plain():
        raise ExportError('layer %s (%s) on a channels-first image is not exported'
                          % (layer.name, type(layer).__name__))
    kind, config, weights = _recurrent_config_3(layer)
    return [(kind, config, weights)], ExportedTensor(layer.output_shape)


def _bidirectional_3(layer, state, converted):
    if not state.plain():
        raise ExportError('layer %s (Bidirectional) on a channels-first image is not exported'
                          % layer.name)
    if layer.merge_mode is None:
        raise ExportError('layer %s: Bidirectional with merge_mode=None (two outputs) is not '
                          'exported' % layer.name)
    kind, config, forward = _recurrent_config_3(layer.forward_layer)
    _, _, backward = _recurrent_config_3(layer.backward_layer)
    config['name'] = layer.forward_layer.name
    weights = [('forward_%s' % suffix, w) for suffix, w in forward] + \
        [('backward_%s' % suffix, w) for suffix, w in backward]
    # Keras 3 deserialises the wrapped layer with its new serializer, which needs the module
    inner = {'module': 'keras.layers', 'class_name': kind, 'config': config,
             'registered_name': None}
    return [('Bidirectional', {'layer': inner, 'merge_mode': layer.merge_mode}, weights)], \
        ExportedTensor(layer.output_shape)


for _cls in (SimpleRNN, GRU, LSTM):
    register_format(_cls, LayerFormat(config_in=_recurrent_1(_cls.__name__),
                                      weights_in=_recurrent_weights_in, keras3_out=_recurrent_3))
register_format(Bidirectional, LayerFormat(config_in=_bidirectional_1,
                                           weights_in=_bidirectional_weights_in,
                                           keras3_out=_bidirectional_3))
