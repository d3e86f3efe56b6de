"""File formats of the convolution layers (`layers/convolutional.py`)."""
import numpy as np

from ...engine.layer_formats import (check_image_layer_3, ExportedTensor, ExportError,
                                     image_passthrough_3, keras1_activation, keras1_constraint,
                                     keras1_initializer, keras1_padding, keras1_regularizer,
                                     keras1_weight_options, keras3_activation, keras3_constraint,
                                     keras3_initializer, keras3_regularizer,
                                     keras3_weight_options, kernel_axis_map, LayerFormat,
                                     ordering_of, pair, register_format, relayout_kernel)
from ...utils.conv_utils import image_axes
from ...utils.np_utils import convert_kernel
from ..convolutional import (AtrousConvolution1D, AtrousConvolution2D, Convolution1D,
                             Convolution2D, Convolution3D, Cropping2D, Cropping3D,
                             Deconvolution2D, SeparableConvolution2D, UpSampling2D,
                             UpSampling3D, ZeroPadding2D, ZeroPadding3D)
from ..convolutional_keras2 import Conv3DTranspose, SeparableConv1D


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
    dilation = pair(c.get('dilation_rate', 1))
    if any(int(v) != 1 for v in dilation):
        config['atrous_rate'] = [int(v) for v in dilation]
        return 'AtrousConvolution2D', config
    return 'Convolution2D', config


def _conv1d_1(c, major):
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
    dilation = int(np.atleast_1d(c.get('dilation_rate', 1))[0])
    if dilation != 1:
        config['atrous_rate'] = dilation
        return 'AtrousConvolution1D', config
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


# ---------------------------------------------------------------------------
# Dilated, transposed, separable and 3D convolutions, and the 3D shape layers
# ---------------------------------------------------------------------------

# Where each axis of a 'tf' 5D kernel (k1, k2, k3, stack, nb_filter) goes in
# the 'th' one (nb_filter, stack, k1, k2, k3), and back.
_VOLUME_KERNEL_TF_TO_TH = (4, 3, 0, 1, 2)
_VOLUME_KERNEL_TH_TO_TF = (2, 3, 4, 1, 0)


def _volume_axis_map(source_layout, target_layout):
    if source_layout == target_layout:
        return None
    order = _VOLUME_KERNEL_TF_TO_TH if source_layout == 'tf' else _VOLUME_KERNEL_TH_TO_TF
    return {old: new for new, old in enumerate(order)}


def _kernel_source_layout(kernel, expected, target_layout, source, info, relayout):
    """The layout a saved kernel is in: Keras 2/3 files are 'tf'; Keras 1
    files say so in their config, or else the shape tells."""
    if source.keras_major >= 2:
        return 'tf'
    layout = info.get('ordering')
    if layout is None:
        other = 'tf' if target_layout == 'th' else 'th'
        layout = other if kernel.shape != expected and \
            relayout(kernel, other, target_layout).shape == expected else target_layout
    return layout


def _relayout_volume(kernel, source_layout, target_layout):
    if source_layout == target_layout:
        return kernel
    return kernel.transpose(_VOLUME_KERNEL_TF_TO_TH if source_layout == 'tf'
                            else _VOLUME_KERNEL_TH_TO_TF)


def _deconv2d_weights_in(layer, arrays, source, info, target):
    """Keras 2/3 hold a transposed kernel as (rows, cols, nb_filter, stack);
    Keras 1, as a Convolution2D's kernel of the layer's ordering."""
    if arrays and arrays[0].ndim == 4:
        kernel = arrays[0]
        if source.keras_major >= 2:
            kernel = kernel.transpose(0, 1, 3, 2)
        layout = _kernel_source_layout(kernel, tuple(layer.weights[0].shape), layer.dim_ordering,
                                       source, info, relayout_kernel)
        arrays[0] = np.ascontiguousarray(relayout_kernel(kernel, layout, layer.dim_ordering))
    return arrays


def _separable2d_weights_in(layer, arrays, source, info, target):
    """The depthwise and pointwise kernels of Keras 1's 'th' layer are its
    'tf' ones with the axes of a 2D kernel relaid; Keras 2/3 hold 'tf' ones."""
    for i in (0, 1):
        if len(arrays) > i and arrays[i].ndim == 4:
            layout = _kernel_source_layout(arrays[i], tuple(layer.weights[i].shape),
                                           layer.dim_ordering, source, info, relayout_kernel)
            arrays[i] = np.ascontiguousarray(relayout_kernel(arrays[i], layout,
                                                             layer.dim_ordering))
    return arrays


def _conv3d_weights_in(layer, arrays, source, info, target):
    if arrays and arrays[0].ndim == 5:
        layout = _kernel_source_layout(arrays[0], tuple(layer.weights[0].shape),
                                       layer.dim_ordering, source, info, _relayout_volume)
        arrays[0] = np.ascontiguousarray(_relayout_volume(arrays[0], layout,
                                                          layer.dim_ordering))
    return arrays


def _triple(value):
    values = [int(v) for v in np.atleast_1d(value)]
    return values * 3 if len(values) == 1 else values


def _separable2d_1(c, major):
    if any(int(v) != 1 for v in pair(c.get('dilation_rate', 1))):
        raise ValueError('SeparableConv2D with dilation_rate=%r is not supported by minikeras'
                         % (c.get('dilation_rate'),))
    rows, cols = pair(c['kernel_size'])
    ordering = ordering_of(c.get('data_format'))
    axis_map = kernel_axis_map('tf', ordering)
    return 'SeparableConvolution2D', {
        'nb_filter': int(c['filters']), 'nb_row': rows, 'nb_col': cols,
        'init': keras1_initializer(c.get('depthwise_initializer')),
        'activation': keras1_activation(c.get('activation'), major),
        'border_mode': keras1_padding(c), 'subsample': pair(c.get('strides', 1)),
        'depth_multiplier': int(c.get('depth_multiplier', 1)), 'dim_ordering': ordering,
        'depthwise_regularizer': keras1_regularizer(c.get('depthwise_regularizer')),
        'pointwise_regularizer': keras1_regularizer(c.get('pointwise_regularizer')),
        'b_regularizer': keras1_regularizer(c.get('bias_regularizer')),
        'activity_regularizer': keras1_regularizer(c.get('activity_regularizer')),
        'depthwise_constraint': keras1_constraint(c.get('depthwise_constraint'), axis_map),
        'pointwise_constraint': keras1_constraint(c.get('pointwise_constraint'), axis_map),
        'b_constraint': keras1_constraint(c.get('bias_constraint')),
        'bias': bool(c.get('use_bias', True))}


def _conv3d_1(c, major):
    if any(v != 1 for v in _triple(c.get('dilation_rate', 1))):
        raise ValueError('Conv3D with dilation_rate=%r is not supported by minikeras'
                         % (c.get('dilation_rate'),))
    if int(c.get('groups', 1) or 1) != 1:
        raise ValueError('Conv3D with groups=%r is not supported by minikeras'
                         % (c.get('groups'),))
    k1, k2, k3 = _triple(c['kernel_size'])
    ordering = ordering_of(c.get('data_format'))
    config = {'nb_filter': int(c['filters']), 'kernel_dim1': k1, 'kernel_dim2': k2,
              'kernel_dim3': k3, 'init': keras1_initializer(c.get('kernel_initializer')),
              'activation': keras1_activation(c.get('activation'), major),
              'border_mode': keras1_padding(c), 'subsample': _triple(c.get('strides', 1)),
              'dim_ordering': ordering}
    config.update(keras1_weight_options(c, _volume_axis_map('tf', ordering)))
    return 'Convolution3D', config


def _separable1d_1(c, major):
    """Keras 2/3's SeparableConv1D config; its kernels keep their layout."""
    if any(int(v) != 1 for v in np.atleast_1d(c.get('dilation_rate', 1))):
        raise ValueError('SeparableConv1D with dilation_rate=%r is not supported by minikeras'
                         % (c.get('dilation_rate'),))
    return 'SeparableConv1D', {
        'nb_filter': int(c['filters']), 'filter_length': int(np.atleast_1d(c['kernel_size'])[0]),
        'subsample_length': int(np.atleast_1d(c.get('strides', 1))[0]),
        'border_mode': keras1_padding(c), 'data_format': c.get('data_format') or 'channels_last',
        'depth_multiplier': int(c.get('depth_multiplier', 1)),
        'init': keras1_initializer(c.get('depthwise_initializer')),
        'activation': keras1_activation(c.get('activation'), major),
        'depthwise_regularizer': keras1_regularizer(c.get('depthwise_regularizer')),
        'pointwise_regularizer': keras1_regularizer(c.get('pointwise_regularizer')),
        'b_regularizer': keras1_regularizer(c.get('bias_regularizer')),
        'activity_regularizer': keras1_regularizer(c.get('activity_regularizer')),
        'depthwise_constraint': keras1_constraint(c.get('depthwise_constraint')),
        'pointwise_constraint': keras1_constraint(c.get('pointwise_constraint')),
        'b_constraint': keras1_constraint(c.get('bias_constraint')),
        'bias': bool(c.get('use_bias', True))}


def _conv3d_transpose_1(c, major):
    """Keras 2/3's Conv3DTranspose config; its kernel keeps its layout."""
    if any(v != 1 for v in _triple(c.get('dilation_rate', 1))):
        raise ValueError('Conv3DTranspose with dilation_rate=%r is not supported by minikeras'
                         % (c.get('dilation_rate'),))
    output_padding = c.get('output_padding')
    config = {'nb_filter': int(c['filters']), 'kernel_size': tuple(_triple(c['kernel_size'])),
              'subsample': tuple(_triple(c.get('strides', 1))),
              'border_mode': keras1_padding(c),
              'output_padding': None if output_padding is None else _triple(output_padding),
              'dim_ordering': ordering_of(c.get('data_format')),
              'init': keras1_initializer(c.get('kernel_initializer')),
              'activation': keras1_activation(c.get('activation'), major)}
    config.update(keras1_weight_options(c))
    return 'Conv3DTranspose', config


def _upsampling3d_1(c, major):
    return 'UpSampling3D', {'size': _triple(c.get('size', 2)),
                            'dim_ordering': ordering_of(c.get('data_format'))}


def _zero_padding3d_1(c, major):
    padding = c.get('padding', 1)
    if isinstance(padding, (list, tuple)) and isinstance(padding[0], (list, tuple)):
        if any(int(a) != int(b) for a, b in padding):
            raise ValueError('ZeroPadding3D with unequal paddings %r has no Keras 1 equivalent'
                             % (padding,))
        padding = [a for a, _ in padding]
    return 'ZeroPadding3D', {'padding': _triple(padding),
                             'dim_ordering': ordering_of(c.get('data_format'))}


def _cropping3d_1(c, major):
    cropping = c.get('cropping', 1)
    if isinstance(cropping, int):
        cropping = [[cropping, cropping]] * 3
    elif not isinstance(cropping[0], (list, tuple)):
        cropping = [[int(v), int(v)] for v in cropping]
    return 'Cropping3D', {'cropping': [[int(a), int(b)] for a, b in cropping],
                          'dim_ordering': ordering_of(c.get('data_format'))}


def _atrous2d_3(layer, state, converted):
    if any(s != 1 for s in layer.subsample) and any(d != 1 for d in layer.atrous_rate):
        raise ExportError('layer %s (AtrousConvolution2D): Keras 3 refuses strides above 1 '
                          'with a dilation above 1' % layer.name)
    emitted, tensor = _conv2d_3(layer, state, converted)
    emitted[0][1]['dilation_rate'] = list(layer.atrous_rate)
    return emitted, tensor


def _deconv2d_3(layer, state, converted):
    check_image_layer_3(layer, state, converted)
    if layer.border_mode not in ('valid', 'same'):
        raise ExportError('layer %s: border_mode %r has no Keras 3 equivalent'
                          % (layer.name, layer.border_mode))
    _, in_rows, in_cols = image_axes(layer.input_shape, layer.dim_ordering)
    # Keras 3 sizes a transposed convolution from output_padding; choose it
    # so that its output has the rows and cols of Keras 1's output_shape.
    output_padding = []
    for size, out, k, s in ((in_rows, layer._out_rows, layer.nb_row, layer.subsample[0]),
                            (in_cols, layer._out_cols, layer.nb_col, layer.subsample[1])):
        pad = 0 if layer.border_mode == 'valid' else k // 2
        extra = out - ((size - 1) * s + k - 2 * pad)
        if not 0 <= extra < max(s, 1) or (s == 1 and extra != 0):
            raise ExportError('layer %s (Deconvolution2D): Keras 3 cannot make an output of %d '
                              'from %d (kernel %d, stride %d, padding %r)'
                              % (layer.name, out, size, k, s, layer.border_mode))
        output_padding.append(int(extra))
    kernel = relayout_kernel(layer.weights[0], layer.dim_ordering, 'tf').transpose(0, 1, 3, 2)
    weights = [('kernel', np.ascontiguousarray(kernel))]
    if layer.bias:
        weights.append(('bias', layer.weights[1]))
    config = {'filters': layer.nb_filter, 'kernel_size': [layer.nb_row, layer.nb_col],
              'strides': list(layer.subsample), 'padding': layer.border_mode,
              'output_padding': output_padding, 'data_format': 'channels_last',
              'dilation_rate': [1, 1], 'activation': keras3_activation(layer, layer.activation),
              'use_bias': bool(layer.bias), 'kernel_initializer': keras3_initializer(layer.init),
              'bias_initializer': {'class_name': 'Zeros', 'config': {}}}
    # Keras 3's kernel is (rows, cols, nb_filter, stack): axes 2 and 3 swapped.
    axis_map = kernel_axis_map(layer.dim_ordering, 'tf') or {0: 0, 1: 1, 2: 2, 3: 3}
    config.update(keras3_weight_options(layer, {old: {2: 3, 3: 2}.get(new, new)
                                                for old, new in axis_map.items()}))
    return [('Conv2DTranspose', config, weights)], \
        ExportedTensor(layer.output_shape, cf=layer.dim_ordering == 'th')


def _separable_options_3(layer, axis_map=None):
    """The initializers, regularizers and constraints of a separable
    convolution's Keras 3 config, the kernel axes of its constraints moved
    through `axis_map`."""
    return {'depthwise_initializer': keras3_initializer(layer.init),
            'pointwise_initializer': keras3_initializer(layer.init),
            'bias_initializer': {'class_name': 'Zeros', 'config': {}},
            'depthwise_regularizer': keras3_regularizer(layer.depthwise_regularizer),
            'pointwise_regularizer': keras3_regularizer(layer.pointwise_regularizer),
            'bias_regularizer': keras3_regularizer(layer.b_regularizer),
            'activity_regularizer': keras3_regularizer(layer.activity_regularizer),
            'depthwise_constraint': keras3_constraint(layer, layer.depthwise_constraint,
                                                      axis_map),
            'pointwise_constraint': keras3_constraint(layer, layer.pointwise_constraint,
                                                      axis_map),
            'bias_constraint': keras3_constraint(layer, layer.b_constraint)}


def _separable2d_3(layer, state, converted):
    check_image_layer_3(layer, state, converted)
    axis_map = kernel_axis_map(layer.dim_ordering, 'tf')
    weights = [('depthwise_kernel', relayout_kernel(layer.weights[0], layer.dim_ordering, 'tf')),
               ('pointwise_kernel', relayout_kernel(layer.weights[1], layer.dim_ordering, 'tf'))]
    if layer.bias:
        weights.append(('bias', layer.weights[2]))
    config = {'filters': layer.nb_filter, 'kernel_size': [layer.nb_row, layer.nb_col],
              'strides': list(layer.subsample), 'padding': layer.border_mode,
              'data_format': 'channels_last', 'dilation_rate': [1, 1],
              'depth_multiplier': layer.depth_multiplier,
              'activation': keras3_activation(layer, layer.activation),
              'use_bias': bool(layer.bias)}
    config.update(_separable_options_3(layer, axis_map))
    return [('SeparableConv2D', config, weights)], \
        ExportedTensor(layer.output_shape, cf=layer.dim_ordering == 'th')


def check_volume_layer_3(layer, state):
    """3D layers export in the 'tf' ordering only: the export converts
    channels-first images, not volumes."""
    if layer.dim_ordering != 'tf' or not state.plain():
        raise ExportError("layer %s (%s): only 'tf'-ordered volumes are exported to Keras 3; "
                          "build the model with dim_ordering='tf'"
                          % (layer.name, type(layer).__name__))


def volume_passthrough_3(class_name, make_config):
    """A 3D layer without weights."""
    def export(layer, state, converted):
        check_volume_layer_3(layer, state)
        config = dict(make_config(layer), data_format='channels_last')
        return [(class_name, config, [])], ExportedTensor(layer.output_shape)
    return export


def _conv3d_3(layer, state, converted):
    check_volume_layer_3(layer, state)
    if layer.border_mode not in ('valid', 'same'):
        raise ExportError('layer %s: border_mode %r has no Keras 3 equivalent'
                          % (layer.name, layer.border_mode))
    weights = [('kernel', layer.weights[0])]
    if layer.bias:
        weights.append(('bias', layer.weights[1]))
    config = {'filters': layer.nb_filter,
              'kernel_size': [layer.kernel_dim1, layer.kernel_dim2, layer.kernel_dim3],
              'strides': list(layer.subsample), 'padding': layer.border_mode,
              'data_format': 'channels_last', 'dilation_rate': [1, 1, 1], 'groups': 1,
              'activation': keras3_activation(layer, layer.activation),
              'use_bias': bool(layer.bias),
              'kernel_initializer': keras3_initializer(layer.init),
              'bias_initializer': {'class_name': 'Zeros', 'config': {}}}
    config.update(keras3_weight_options(layer))
    return [('Conv3D', config, weights)], ExportedTensor(layer.output_shape)


register_format(AtrousConvolution2D, LayerFormat(
    weights_in=_conv2d_weights_in, keras3_out=_atrous2d_3, role='image'))
register_format(Deconvolution2D, LayerFormat(
    weights_in=_deconv2d_weights_in, keras3_out=_deconv2d_3, role='image'))
register_format(SeparableConvolution2D, LayerFormat(
    saved_names=('SeparableConv2D',), config_in=_separable2d_1,
    weights_in=_separable2d_weights_in, keras3_out=_separable2d_3, role='image'))
register_format(Convolution3D, LayerFormat(
    saved_names=('Conv3D',), config_in=_conv3d_1, weights_in=_conv3d_weights_in,
    keras3_out=_conv3d_3))
def _separable1d_3(layer, state, converted):
    if not state.plain():
        raise ExportError('layer %s (SeparableConv1D) on a channels-first image is not exported'
                          % layer.name)
    weights = [('depthwise_kernel', layer.weights[0]), ('pointwise_kernel', layer.weights[1])]
    if layer.bias:
        weights.append(('bias', layer.weights[2]))
    config = {'filters': layer.nb_filter, 'kernel_size': [layer.filter_length],
              'strides': [layer.subsample_length], 'padding': layer.border_mode,
              'data_format': layer.data_format, 'dilation_rate': [1],
              'depth_multiplier': layer.depth_multiplier,
              'activation': keras3_activation(layer, layer.activation),
              'use_bias': bool(layer.bias)}
    config.update(_separable_options_3(layer))
    return [('SeparableConv1D', config, weights)], ExportedTensor(layer.output_shape)


def _conv3d_transpose_3(layer, state, converted):
    check_volume_layer_3(layer, state)
    weights = [('kernel', layer.weights[0])]
    if layer.bias:
        weights.append(('bias', layer.weights[1]))
    config = {'filters': layer.nb_filter, 'kernel_size': list(layer.kernel_size),
              'strides': list(layer.subsample), 'padding': layer.border_mode,
              'output_padding': None if layer.output_padding is None else
              list(layer.output_padding),
              'data_format': 'channels_last', 'dilation_rate': [1, 1, 1],
              'activation': keras3_activation(layer, layer.activation),
              'use_bias': bool(layer.bias),
              'kernel_initializer': keras3_initializer(layer.init),
              'bias_initializer': {'class_name': 'Zeros', 'config': {}}}
    config.update(keras3_weight_options(layer))
    return [('Conv3DTranspose', config, weights)], ExportedTensor(layer.output_shape)


register_format(SeparableConv1D, LayerFormat(config_in=_separable1d_1,
                                             keras3_out=_separable1d_3))
register_format(Conv3DTranspose, LayerFormat(config_in=_conv3d_transpose_1,
                                             keras3_out=_conv3d_transpose_3))
register_format(UpSampling3D, LayerFormat(
    config_in=_upsampling3d_1,
    keras3_out=volume_passthrough_3('UpSampling3D', lambda l: {'size': list(l.size)})))
register_format(ZeroPadding3D, LayerFormat(
    config_in=_zero_padding3d_1,
    keras3_out=volume_passthrough_3('ZeroPadding3D', lambda l: {
        'padding': [[p, p] for p in l.padding]})))
register_format(Cropping3D, LayerFormat(
    config_in=_cropping3d_1,
    keras3_out=volume_passthrough_3('Cropping3D', lambda l: {
        'cropping': [list(pair) for pair in l.cropping]})))


def _atrous1d_3(layer, state, converted):
    if layer.subsample_length != 1 and layer.atrous_rate != 1:
        raise ExportError('layer %s (AtrousConvolution1D): Keras 3 refuses strides above 1 '
                          'with a dilation above 1' % layer.name)
    emitted, tensor = _conv1d_3(layer, state, converted)
    emitted[0][1]['dilation_rate'] = [layer.atrous_rate]
    return emitted, tensor


register_format(AtrousConvolution1D, LayerFormat(
    weights_in=_conv1d_weights_in, keras3_out=_atrous1d_3))
