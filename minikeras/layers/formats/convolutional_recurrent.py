"""File formats of `ConvLSTM2D` (`layers/convolutional_recurrent.py`).

Weight layouts read:

- Keras 1: 12 arrays `W_i, U_i, b_i, W_c, U_c, b_c, W_f, U_f, b_f, W_o,
  U_o, b_o`, the kernels in the file's dim_ordering; Theano's were true
  convolutions, flipped here into cross-correlations as for Convolution2D.
- Keras 2 and 3: `kernel` (rows, cols, channels, 4 filters),
  `recurrent_kernel` (rows, cols, filters, 4 filters), `bias` (4 filters,),
  the gates side by side in the order i, f, c, o.

hard_sigmoid gates are mapped between Keras 1's slope 0.2 and Keras 3's 1/6
by scaling the gates' columns of the kernels and the bias by 1.2, as for
LSTM (see formats/recurrent.py); `activation='hard_sigmoid'`, applied to the
cell state too, has no Keras 3 equivalent. Exported in the 'tf' ordering
only (Keras 3 on TensorFlow runs channels-last convolutions on the CPU).
"""
import numpy as np

from ...engine.layer_formats import (ExportedTensor, ExportError, keras1_activation,
                                     keras1_initializer, keras1_padding, keras1_regularizer,
                                     keras3_activation, keras3_initializer, keras3_regularizer,
                                     LayerFormat, ordering_of, pair, register_format,
                                     relayout_kernel)
from ...utils.np_utils import convert_kernel
from ..convolutional_recurrent import GATES, SAVED_ORDER, ConvLSTM2D

_SLOPE_RATIO = np.float32(1.2)   # Keras 1's hard_sigmoid slope 0.2 over Keras 3's 1/6
_HARD_SIGMOID_GATES = (0, 1, 3)  # i, f, o in the concatenated order


def _scale_gates(arrays, n, factor):
    arrays = [np.array(a, dtype='float32') for a in arrays]
    for g in _HARD_SIGMOID_GATES:
        for a in arrays:
            a[..., g * n:(g + 1) * n] *= factor
    return arrays


def _activation_names(info):
    config = info.get('config') or {}

    def name(spec, default):
        if spec is None:
            return default
        if isinstance(spec, dict):
            inner = spec.get('config')
            spec = inner if isinstance(inner, str) else spec.get('class_name', default)
        return str(spec)
    return (name(config.get('activation'), 'tanh'),
            name(config.get('recurrent_activation', config.get('inner_activation')),
                 'hard_sigmoid'))


def _weights_in(layer, arrays, source, info, target):
    where = '%s: layer %s (ConvLSTM2D)' % (getattr(source, 'path', 'file'), layer.name)
    n = layer.nb_filter
    if len(arrays) == 3:
        kernel, recurrent, bias = [np.asarray(a, dtype='float32') for a in arrays]
        if kernel.ndim != 4 or recurrent.ndim != 4 or kernel.shape[-1] != 4 * n:
            raise ValueError('%s: expected kernel (rows, cols, channels, %d) and recurrent_kernel'
                             ' (rows, cols, %d, %d), got shapes %s and %s'
                             % (where, 4 * n, n, 4 * n, kernel.shape, recurrent.shape))
        if getattr(source, 'keras_major', 2) >= 3:
            activation, inner = _activation_names(info)
            if inner == 'hard_sigmoid':
                kernel, recurrent, bias = _scale_gates([kernel, recurrent, bias], n,
                                                       1. / _SLOPE_RATIO)
        out = []
        for gate in SAVED_ORDER:
            k = GATES.index(gate)
            part = slice(k * n, (k + 1) * n)
            out += [relayout_kernel(kernel[..., part], 'tf', layer.dim_ordering),
                    relayout_kernel(recurrent[..., part], 'tf', layer.dim_ordering),
                    bias[part]]
        return [np.ascontiguousarray(a) for a in out]
    if len(arrays) != 12:
        raise ValueError('%s: ConvLSTM2D has 12 weight arrays (Keras 1) or 3 (Keras 2 and 3), '
                         'got %d' % (where, len(arrays)))
    source_layout = info.get('ordering')
    expected = tuple(layer.weights[0].shape)
    if source_layout is None:
        source_layout = layer.dim_ordering if np.shape(arrays[0]) == expected else \
            ('tf' if layer.dim_ordering == 'th' else 'th')
    out = []
    for index, array in enumerate(arrays):
        array = np.asarray(array, dtype='float32')
        if index % 3 != 2:
            if getattr(source, 'backend', None) == 'theano':
                array = convert_kernel(array, source_layout)
            array = relayout_kernel(array, source_layout, layer.dim_ordering)
        out.append(np.ascontiguousarray(array))
    return out


def _config_in(c, major):
    for key in ('kernel_constraint', 'recurrent_constraint', 'bias_constraint',
                'activity_regularizer'):
        if c.get(key) is not None:
            raise ValueError('%s has no Keras 1 equivalent (Keras 1 ConvLSTM2D takes none)'
                             % key)
    if not c.get('use_bias', True):
        raise ValueError("use_bias=False has no Keras 1 equivalent (Keras 1's ConvLSTM2D always "
                         'has a bias)')
    if c.get('return_state'):
        raise ValueError('return_state=True has no Keras 1 equivalent')
    if any(int(d) != 1 for d in pair(c.get('dilation_rate', 1))):
        raise ValueError('dilation_rate=%r is not supported by minikeras'
                         % (c.get('dilation_rate'),))
    rows, cols = pair(c['kernel_size'])
    activation, inner = _activation_names({'config': c})
    if major >= 3 and activation == 'hard_sigmoid':
        raise ValueError("ConvLSTM2D with activation='hard_sigmoid': Keras 3's slope (1/6) "
                         "differs from Keras 1's (0.2) on the cell state too, which no weight "
                         'rescaling can correct')
    return 'ConvLSTM2D', {
        'nb_filter': int(c['filters']), 'nb_row': rows, 'nb_col': cols,
        'init': keras1_initializer(c.get('kernel_initializer')),
        'inner_init': keras1_initializer(c.get('recurrent_initializer'), 'orthogonal'),
        'forget_bias_init': 'one' if c.get('unit_forget_bias', True) else 'zero',
        'activation': keras1_activation(activation, major),
        'inner_activation': keras1_activation(inner, major) if inner != 'hard_sigmoid'
        else 'hard_sigmoid',
        'dim_ordering': ordering_of(c.get('data_format')), 'border_mode': keras1_padding(c),
        'subsample': pair(c.get('strides', 1)),
        'W_regularizer': keras1_regularizer(c.get('kernel_regularizer')),
        'U_regularizer': keras1_regularizer(c.get('recurrent_regularizer')),
        'b_regularizer': keras1_regularizer(c.get('bias_regularizer')),
        'dropout_W': float(c.get('dropout', 0.)), 'dropout_U': float(c.get('recurrent_dropout',
                                                                            0.)),
        'return_sequences': bool(c.get('return_sequences', False)),
        'go_backwards': bool(c.get('go_backwards', False)),
        'stateful': bool(c.get('stateful', False))}


def _keras3_out(layer, state, converted):
    if layer.dim_ordering != 'tf' or not state.plain():
        raise ExportError("layer %s (ConvLSTM2D, dim_ordering 'th') is not exported: Keras 3 on "
                          "TensorFlow runs channels-last convolutions only; build it with "
                          "dim_ordering='tf'" % layer.name)
    activation = layer.activation.__name__
    inner = layer.inner_activation.__name__
    if activation == 'hard_sigmoid':
        raise ExportError("layer %s: ConvLSTM2D with activation='hard_sigmoid' has no Keras 3 "
                          "equivalent (Keras 3's slope is 1/6, Keras 1's 0.2, and it is applied "
                          'to the cell state)' % layer.name)
    n = layer.nb_filter
    by_gate = dict(zip(SAVED_ORDER, [layer.weights[3 * k:3 * k + 3] for k in range(4)]))
    kernel, recurrent, bias = [np.concatenate([by_gate[g][part] for g in GATES], axis=-1)
                               for part in range(3)]
    if inner == 'hard_sigmoid':
        kernel, recurrent, bias = _scale_gates([kernel, recurrent, bias], n, _SLOPE_RATIO)
    config = {
        'filters': n, 'kernel_size': [layer.nb_row, layer.nb_col],
        'strides': list(layer.subsample), 'padding': layer.border_mode,
        'data_format': 'channels_last', 'dilation_rate': [1, 1],
        'activation': keras3_activation(layer, layer.activation),
        # exact in Keras 3 once its gates' columns are scaled (above)
        'recurrent_activation': 'hard_sigmoid' if inner == 'hard_sigmoid'
        else keras3_activation(layer, layer.inner_activation),
        'use_bias': True, 'kernel_initializer': keras3_initializer(layer.init),
        'recurrent_initializer': keras3_initializer(layer.inner_init),
        'bias_initializer': {'class_name': 'Zeros', 'config': {}},
        'unit_forget_bias': False,      # the biases are set by the weights
        'kernel_regularizer': keras3_regularizer(layer.W_regularizer),
        'recurrent_regularizer': keras3_regularizer(layer.U_regularizer),
        'bias_regularizer': keras3_regularizer(layer.b_regularizer),
        'dropout': layer.dropout_W, 'recurrent_dropout': layer.dropout_U,
        'return_sequences': layer.return_sequences, 'return_state': False,
        'go_backwards': layer.go_backwards, 'stateful': layer.stateful}
    weights = [('conv_lstm_cell/kernel', kernel), ('conv_lstm_cell/recurrent_kernel', recurrent),
               ('conv_lstm_cell/bias', bias)]
    return [('ConvLSTM2D', config, weights)], ExportedTensor(layer.output_shape)


register_format(ConvLSTM2D, LayerFormat(config_in=_config_in, weights_in=_weights_in,
                                        keras3_out=_keras3_out))
