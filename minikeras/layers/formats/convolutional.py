"""File formats of the convolution layers (`layers/convolutional.py`)."""
import numpy as np

from ...engine.layer_formats import (check_image_layer_3, ExportedTensor, ExportError,
                                     image_passthrough_3, keras1_activation, keras1_initializer,
                                     keras1_padding, keras1_weight_options, keras3_activation,
                                     keras3_initializer, keras3_weight_options, kernel_axis_map,
                                     LayerFormat, ordering_of, pair, register_format,
                                     relayout_kernel)
from ...utils.np_utils import convert_kernel
from ..convolutional import Convolution1D, Convolution2D, Cropping2D, UpSampling2D, ZeroPadding2D


def _convert_conv2d_kernel(kernel, layer, source, info):
    target_layout = layer.dim_ordering
    expected = tuple(layer.weights[0].shape)
    if kernel.ndim != 4:
        return kernel
    if source.keras_major >= 2:
        source_layout = 'tf'
    else:
        source_layout = info.get('ordering')
        if source_layout is None:
            if kernel.shape == expected:
                source_layout = target_layout
            else:
                other = 'tf' if target_layout == 'th' else 'th'
                source_layout = other if relayout_kernel(kernel, other, target_layout).shape == \
                    expected else target_layout
    if source.backend == 'theano':      # Theano's true convolutions -> cross-correlation
        kernel = convert_kernel(kernel, source_layout)
    return np.ascontiguousarray(relayout_kernel(kernel, source_layout, target_layout))


def _convert_conv1d_kernel(kernel, layer, source):
    expected = tuple(layer.weights[0].shape)      # (length, 1, input_dim, nb_filter)
    if kernel.ndim == 3:                           # Keras 2/3: (length, input_dim, nb_filter)
        kernel = kernel[:, None, :, :]
    elif kernel.ndim == 4 and kernel.shape != expected and \
            kernel.transpose(2, 3, 1, 0).shape == expected:
        kernel = kernel.transpose(2, 3, 1, 0)      # Keras 1.0's (nb_filter, input_dim, length, 1)
    if source.backend == 'theano' and kernel.ndim == 4:
        kernel = kernel[::-1]
    return np.ascontiguousarray(kernel)


def _conv2d_weights_in(layer, arrays, source, info, target):
    if arrays:
        arrays[0] = _convert_conv2d_kernel(arrays[0], layer, source, info)
    return arrays


def _conv1d_weights_in(layer, arrays, source, info, target):
    if arrays:
        arrays[0] = _convert_conv1d_kernel(arrays[0], layer, source)
    return arrays


# Keras 2/3 configs in

def _conv2d_1(c, major):
    for key in ('dilation_rate',):
        if any(int(v) != 1 for v in pair(c.get(key, 1))):
            raise ValueError('%s=%r is not supported by minikeras' % (key, c.get(key)))
    if int(c.get('groups', 1) or 1) != 1:
        raise ValueError('groups=%r is not supported by minikeras' % (c.get('groups'),))
    rows, cols = pair(c['kernel_size'])
    ordering = ordering_of(c.get('data_format'))
    config = {'nb_filter': int(c['filters']), 'nb_row': rows, 'nb_col': cols,
              'init': keras1_initializer(c.get('kernel_initializer')),
              'activation': keras1_activation(c.get('activation'), major),
              'border_mode': keras1_padding(c), 'subsample': pair(c.get('strides', 1)),
              'dim_ordering': ordering}
    config.update(keras1_weight_options(c, kernel_axis_map('tf', ordering)))
    return 'Convolution2D', config


def _conv1d_1(c, major):
    if any(int(v) != 1 for v in np.atleast_1d(c.get('dilation_rate', 1))):
        raise ValueError('dilation_rate=%r is not supported by minikeras'
                         % (c.get('dilation_rate'),))
    if str(c.get('data_format', 'channels_last')) != 'channels_last':
        raise ValueError('Conv1D with data_format=%r is not supported by minikeras'
                         % (c.get('data_format'),))
    config = {'nb_filter': int(c['filters']),
              'filter_length': int(np.atleast_1d(c['kernel_size'])[0]),
              'init': keras1_initializer(c.get('kernel_initializer')),
              'activation': keras1_activation(c.get('activation'), major),
              'border_mode': keras1_padding(c),
              'subsample_length': int(np.atleast_1d(c.get('strides', 1))[0])}
    config.update(keras1_weight_options(c))
    return 'Convolution1D', config


def _zero_padding2d_1(c, major):
    padding = c.get('padding', 1)
    if isinstance(padding, int):
        pads = (padding, padding, padding, padding)
    elif isinstance(padding[0], (list, tuple)):
        pads = (padding[0][0], padding[0][1], padding[1][0], padding[1][1])
    else:
        pads = (padding[0], padding[0], padding[1], padding[1])
    return 'ZeroPadding2D', {'padding': {'top_pad': int(pads[0]), 'bottom_pad': int(pads[1]),
                                         'left_pad': int(pads[2]), 'right_pad': int(pads[3])},
                             'dim_ordering': ordering_of(c.get('data_format'))}


def _cropping2d_1(c, major):
    cropping = c.get('cropping', ((0, 0), (0, 0)))
    if isinstance(cropping, int):
        cropping = ((cropping, cropping), (cropping, cropping))
    elif not isinstance(cropping[0], (list, tuple)):
        cropping = ((cropping[0], cropping[0]), (cropping[1], cropping[1]))
    return 'Cropping2D', {'cropping': [list(map(int, cropping[0])), list(map(int, cropping[1]))],
                          'dim_ordering': ordering_of(c.get('data_format'))}


def _upsampling2d_1(c, major):
    if str(c.get('interpolation', 'nearest')) != 'nearest':
        raise ValueError('interpolation=%r is not supported by minikeras'
                         % (c.get('interpolation'),))
    return 'UpSampling2D', {'size': pair(c.get('size', 2)),
                            'dim_ordering': ordering_of(c.get('data_format'))}


# Keras 3 out

def _conv2d_3(layer, state, converted):
    check_image_layer_3(layer, state, converted)
    if layer.border_mode not in ('valid', 'same'):
        raise ExportError('layer %s: border_mode %r has no Keras 3 equivalent'
                          % (layer.name, layer.border_mode))
    weights = [('kernel', relayout_kernel(layer.weights[0], layer.dim_ordering, 'tf'))]
    if layer.bias:
        weights.append(('bias', layer.weights[1]))
    config = {'filters': layer.nb_filter, 'kernel_size': [layer.nb_row, layer.nb_col],
              'strides': list(layer.subsample), 'padding': layer.border_mode,
              'data_format': 'channels_last', 'dilation_rate': [1, 1], 'groups': 1,
              'activation': keras3_activation(layer, layer.activation),
              'use_bias': bool(layer.bias),
              'kernel_initializer': keras3_initializer(layer.init),
              'bias_initializer': {'class_name': 'Zeros', 'config': {}}}
    config.update(keras3_weight_options(layer, kernel_axis_map(layer.dim_ordering, 'tf')))
    return [('Conv2D', config, weights)], ExportedTensor(layer.output_shape,
                                                         cf=layer.dim_ordering == 'th')


def _conv1d_3(layer, state, converted):
    if layer.border_mode not in ('valid', 'same'):
        raise ExportError('layer %s: border_mode %r has no Keras 3 equivalent'
                          % (layer.name, layer.border_mode))
    weights = [('kernel', layer.weights[0][:, 0, :, :])]
    if layer.bias:
        weights.append(('bias', layer.weights[1]))
    config = {'filters': layer.nb_filter, 'kernel_size': [layer.filter_length],
              'strides': [layer.subsample_length], 'padding': layer.border_mode,
              'data_format': 'channels_last', 'dilation_rate': [1], 'groups': 1,
              'activation': keras3_activation(layer, layer.activation),
              'use_bias': bool(layer.bias),
              'kernel_initializer': keras3_initializer(layer.init)}
    config.update(keras3_weight_options(layer))
    return [('Conv1D', config, weights)], ExportedTensor(layer.output_shape)


register_format(Convolution2D, LayerFormat(
    saved_names=('Conv2D',), config_in=_conv2d_1, weights_in=_conv2d_weights_in,
    keras3_out=_conv2d_3, role='image'))
register_format(Convolution1D, LayerFormat(
    saved_names=('Conv1D',), config_in=_conv1d_1, weights_in=_conv1d_weights_in,
    keras3_out=_conv1d_3))
register_format(ZeroPadding2D, LayerFormat(
    config_in=_zero_padding2d_1, role='image',
    keras3_out=image_passthrough_3('ZeroPadding2D', lambda l: {
        'padding': [[l.top_pad, l.bottom_pad], [l.left_pad, l.right_pad]],
        'data_format': 'channels_last'})))
register_format(Cropping2D, LayerFormat(
    config_in=_cropping2d_1, role='image',
    keras3_out=image_passthrough_3('Cropping2D', lambda l: {
        'cropping': [[int(v) for v in pair] for pair in l.cropping],
        'data_format': 'channels_last'})))
register_format(UpSampling2D, LayerFormat(
    config_in=_upsampling2d_1, role='image',
    keras3_out=image_passthrough_3('UpSampling2D', lambda l: {
        'size': list(l.size), 'data_format': 'channels_last', 'interpolation': 'nearest'})))
