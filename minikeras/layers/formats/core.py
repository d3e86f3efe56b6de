"""File formats of the core layers (`layers/core.py`)."""
import numpy as np

from ...engine.layer_formats import (elementwise_3, ExportedTensor, ExportError, keras1_activation,
                                     keras1_initializer, keras1_weight_options, keras3_activation,
                                     keras3_initializer, keras3_weight_options, LayerFormat,
                                     ordering_of, plain_only_3, register_format,
                                     register_saved_role, reorder_flattened_rows)
from ...engine.input_layer import InputLayer
from ..core import (Activation, ActivityRegularization, Dense, Dropout, Flatten, Masking,
                    Permute, RepeatVector, Reshape, SpatialDropout1D, SpatialDropout2D,
                    SpatialDropout3D)


def _dense_weights_in(layer, arrays, source, info, target):
    """A Dense after a Flatten of images: its rows follow the flattening
    order of the file's model, reordered for the model being loaded."""
    if arrays and arrays[0].ndim == 2:
        source_order, target_order = info.get('flatten_order'), target.get('flatten_order')
        image = target.get('image')
        if source_order and target_order and source_order != target_order and image and \
                arrays[0].shape[0] == int(np.prod(image)):
            arrays[0] = reorder_flattened_rows(arrays[0], image, source_order, target_order)
    return arrays


# Keras 2/3 configs in

def _dense_1(c, major):
    config = {'output_dim': int(c['units']),
              'init': keras1_initializer(c.get('kernel_initializer')),
              'activation': keras1_activation(c.get('activation'), major)}
    config.update(keras1_weight_options(c))
    return 'Dense', config


_SPATIAL_DROPOUTS = {3: 'SpatialDropout1D', 4: 'SpatialDropout2D', 5: 'SpatialDropout3D'}


def _dropout_1(c, major):
    rate = float(c.get('rate', c.get('p', 0.)))
    noise_shape = c.get('noise_shape')
    if noise_shape is not None:
        # A mask shared over every axis but samples and channels (last) is a
        # channels-last spatial dropout, as the export writes SpatialDropout3D.
        spatial = _SPATIAL_DROPOUTS.get(len(noise_shape))
        if spatial is not None and noise_shape[0] is None and noise_shape[-1] is not None and \
                all(v == 1 for v in noise_shape[1:-1]):
            return spatial, ({'p': rate} if spatial == 'SpatialDropout1D'
                             else {'p': rate, 'dim_ordering': 'tf'})
    config = {'p': rate}
    for key in ('noise_shape', 'seed'):
        if c.get(key) is not None:
            config[key] = c[key]
    return 'Dropout', config


def _dropout_3(layer, state, converted):
    config = {'rate': float(layer.p)}
    if layer.seed is not None:
        config['seed'] = layer.seed
    if layer.noise_shape is not None:
        if not state.plain():
            raise ExportError('layer %s (Dropout): a noise_shape on a channels-first image is '
                              'not exported' % layer.name)
        config['noise_shape'] = list(layer.noise_shape)
    return elementwise_3('Dropout', lambda l: config)(layer, state, converted)


# Keras 3 out

def _dense_3(layer, state, converted):
    if state.cf:
        raise ExportError('layer %s: Dense on a channels-first image is not exported' % layer.name)
    kernel = layer.weights[0]
    if state.flat is not None:
        kernel = reorder_flattened_rows(kernel, state.flat, 'chw', 'hwc')
    weights = [('kernel', kernel)]
    if layer.bias:
        weights.append(('bias', layer.weights[1]))
    config = {'units': layer.output_dim, 'activation': keras3_activation(layer, layer.activation),
              'use_bias': bool(layer.bias), 'kernel_initializer': keras3_initializer(layer.init),
              'bias_initializer': {'class_name': 'Zeros', 'config': {}}}
    config.update(keras3_weight_options(layer))
    return [('Dense', config, weights)], ExportedTensor(layer.output_shape)


def _flatten_3(layer, state, converted):
    if state.flat is not None:
        raise ExportError('layer %s: Flatten of an already flattened image' % layer.name)
    flat = tuple(state.shape[1:]) if state.cf else None
    return [('Flatten', {'data_format': 'channels_last'}, [])], \
        ExportedTensor(layer.output_shape, flat=flat)


def _reshape_3(layer, state, converted):
    if not state.plain():
        raise ExportError('layer %s: Reshape of a channels-first image is not exported'
                          % layer.name)
    emitted = [('Reshape', {'target_shape': list(layer.target_shape)}, [])]
    out_shape = tuple(layer.output_shape)
    if converted and len(out_shape) == 4:
        # The reshaped sample is a channels-first image: make it channels-last.
        emitted.append(('Permute', {'dims': [2, 3, 1], '_name_suffix': '_to_channels_last'}, []))
        return emitted, ExportedTensor(out_shape, cf=True)
    return emitted, ExportedTensor(out_shape)


register_format(Dense, LayerFormat(config_in=_dense_1, weights_in=_dense_weights_in,
                                   keras3_out=_dense_3, role='dense'))
register_format(Flatten, LayerFormat(config_in=lambda c, major: ('Flatten', {}),
                                     keras3_out=_flatten_3, role='flatten'))
register_format(Activation, LayerFormat(
    config_in=lambda c, major: ('Activation',
                                {'activation': keras1_activation(c.get('activation'), major)}),
    keras3_out=elementwise_3('Activation', lambda l: {
        'activation': keras3_activation(l, l.activation)}),
    role='keep'))
register_format(Dropout, LayerFormat(
    config_in=_dropout_1, keras3_out=_dropout_3,
    role='keep'))
register_format(SpatialDropout1D, LayerFormat())
register_format(SpatialDropout2D, LayerFormat(role='keep'))


def _spatial_dropout3d_3(layer, state, converted):
    if layer.dim_ordering != 'tf' or not state.plain():
        raise ExportError("layer %s (SpatialDropout3D): only 'tf'-ordered volumes are exported "
                          "to Keras 3; build the model with dim_ordering='tf'" % layer.name)
    # As a Dropout whose mask is shared over the spatial axes: Keras 3's own
    # SpatialDropout3D cannot be read back from a config ('trainable').
    noise_shape = [None, 1, 1, 1, int(layer.output_shape[-1])]
    return [('Dropout', {'rate': float(layer.p), 'noise_shape': noise_shape, 'seed': None},
             [])], ExportedTensor(layer.output_shape)


register_format(SpatialDropout3D, LayerFormat(
    config_in=lambda c, major: ('SpatialDropout3D', {
        'p': float(c.get('rate', c.get('p', 0.5))),
        'dim_ordering': ordering_of(c.get('data_format'))}),
    keras3_out=_spatial_dropout3d_3))
register_format(Reshape, LayerFormat(
    config_in=lambda c, major: ('Reshape', {'target_shape': list(c['target_shape'])}),
    keras3_out=_reshape_3))
register_format(Permute, LayerFormat(
    config_in=lambda c, major: ('Permute', {'dims': list(c['dims'])}),
    keras3_out=plain_only_3('Permute', lambda l: {'dims': list(l.dims)})))
register_format(RepeatVector, LayerFormat(
    config_in=lambda c, major: ('RepeatVector', {'n': int(c['n'])}),
    keras3_out=plain_only_3('RepeatVector', lambda l: {'n': int(l.n)})))
register_format(ActivityRegularization, LayerFormat(
    config_in=lambda c, major: ('ActivityRegularization', {'l1': float(c.get('l1', 0.)),
                                                           'l2': float(c.get('l2', 0.))}),
    keras3_out=elementwise_3('ActivityRegularization', lambda l: {
        'l1': float(l.l1), 'l2': float(l.l2)}),
    role='keep'))
# A model's input keeps the order of the chain it is found in.
register_format(InputLayer, LayerFormat(role='keep'))
# Keras 2/3 element-wise layers minikeras does not build, between a Flatten and its Dense.
register_saved_role(('ReLU', 'AlphaDropout'), 'keep')


# Masking: the same in every generation

def _masking_1(c, major):
    return 'Masking', {'mask_value': float(c.get('mask_value', 0.))}


def _masking_3(layer, state, converted):
    if not state.plain():
        raise ExportError('layer %s (Masking) on a channels-first image is not exported'
                          % layer.name)
    return [('Masking', {'mask_value': float(layer.mask_value)}, [])], \
        ExportedTensor(layer.output_shape)


register_format(Masking, LayerFormat(config_in=_masking_1, keras3_out=_masking_3, role='keep'))
