"""File formats of the pooling layers (`layers/pooling.py`)."""
import numpy as np

from ...engine.layer_formats import (check_image_layer_3, ExportedTensor, ExportError,
                                     image_passthrough_3, keras1_padding, LayerFormat,
                                     ordering_of, pair, plain_only_3, register_format)
from ..pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D,
                       GlobalAveragePooling1D, GlobalAveragePooling3D, GlobalMaxPooling3D,
                       GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
                       MaxPooling1D, MaxPooling2D, MaxPooling3D)
from .convolutional import _triple, volume_passthrough_3


# Keras 2/3 configs in

def _pool2d_1(class_name):
    def translate(c, major):
        pool = pair(c.get('pool_size', 2))
        strides = c.get('strides')
        return class_name, {'pool_size': pool,
                            'strides': pair(strides) if strides is not None else pool,
                            'border_mode': keras1_padding(c),
                            'dim_ordering': ordering_of(c.get('data_format'))}
    return translate


def _pool1d_1(class_name):
    def translate(c, major):
        pool = int(np.atleast_1d(c.get('pool_size', 2))[0])
        strides = c.get('strides')
        return class_name, {'pool_length': pool,
                            'stride': int(np.atleast_1d(strides)[0]) if strides is not None
                            else pool, 'border_mode': keras1_padding(c)}
    return translate


def _global_pool_1(class_name):
    def translate(c, major):
        if c.get('keepdims'):
            raise ValueError('keepdims=True is not supported by minikeras')
        if class_name.endswith(('2D', '3D')):
            return class_name, {'dim_ordering': ordering_of(c.get('data_format'))}
        return class_name, {}
    return translate


# Keras 3 out

def _pool2d_config_3(layer):
    return {'pool_size': list(layer.pool_size), 'strides': list(layer.strides),
            'padding': layer.border_mode, 'data_format': 'channels_last'}


def _global_pool2d_3(class_name):
    def export(layer, state, converted):
        check_image_layer_3(layer, state, converted)
        return [(class_name, {'data_format': 'channels_last'}, [])], \
            ExportedTensor(layer.output_shape)
    return export


def _pool1d_3(class_name):
    def export(layer, state, converted):
        config = {'pool_size': [layer.pool_length], 'strides': [layer.stride],
                  'padding': layer.border_mode, 'data_format': 'channels_last'}
        return [(class_name, config, [])], ExportedTensor(layer.output_shape)
    return export


register_format(MaxPooling2D, LayerFormat(
    saved_names=('MaxPool2D',), config_in=_pool2d_1('MaxPooling2D'), role='image',
    keras3_out=image_passthrough_3('MaxPooling2D', _pool2d_config_3)))
register_format(AveragePooling2D, LayerFormat(
    saved_names=('AvgPool2D',), config_in=_pool2d_1('AveragePooling2D'), role='image',
    keras3_out=image_passthrough_3('AveragePooling2D', _pool2d_config_3)))
register_format(MaxPooling1D, LayerFormat(
    saved_names=('MaxPool1D',), config_in=_pool1d_1('MaxPooling1D'),
    keras3_out=_pool1d_3('MaxPooling1D')))
register_format(AveragePooling1D, LayerFormat(
    saved_names=('AvgPool1D',), config_in=_pool1d_1('AveragePooling1D'),
    keras3_out=_pool1d_3('AveragePooling1D')))
register_format(GlobalMaxPooling2D, LayerFormat(
    saved_names=('GlobalMaxPool2D',), config_in=_global_pool_1('GlobalMaxPooling2D'),
    keras3_out=_global_pool2d_3('GlobalMaxPooling2D'), reads_images=True))
register_format(GlobalAveragePooling2D, LayerFormat(
    saved_names=('GlobalAvgPool2D',), config_in=_global_pool_1('GlobalAveragePooling2D'),
    keras3_out=_global_pool2d_3('GlobalAveragePooling2D'), reads_images=True))
register_format(GlobalMaxPooling1D, LayerFormat(
    config_in=_global_pool_1('GlobalMaxPooling1D'),
    keras3_out=plain_only_3('GlobalMaxPooling1D', lambda l: {'data_format': 'channels_last'})))
register_format(GlobalAveragePooling1D, LayerFormat(
    config_in=_global_pool_1('GlobalAveragePooling1D'),
    keras3_out=plain_only_3('GlobalAveragePooling1D',
                            lambda l: {'data_format': 'channels_last'})))


# 3D pooling

def _pool3d_1(class_name):
    def translate(c, major):
        pool = _triple(c.get('pool_size', 2))
        strides = c.get('strides')
        return class_name, {'pool_size': pool,
                            'strides': _triple(strides) if strides is not None else pool,
                            'border_mode': keras1_padding(c),
                            'dim_ordering': ordering_of(c.get('data_format'))}
    return translate


def _pool3d_config_3(layer):
    return {'pool_size': list(layer.pool_size), 'strides': list(layer.strides),
            'padding': layer.border_mode}


register_format(MaxPooling3D, LayerFormat(
    saved_names=('MaxPool3D',), config_in=_pool3d_1('MaxPooling3D'),
    keras3_out=volume_passthrough_3('MaxPooling3D', _pool3d_config_3)))
register_format(AveragePooling3D, LayerFormat(
    saved_names=('AvgPool3D',), config_in=_pool3d_1('AveragePooling3D'),
    keras3_out=volume_passthrough_3('AveragePooling3D', _pool3d_config_3)))


def _global_pool3d_3(class_name):
    def export(layer, state, converted):
        if not state.plain():
            raise ExportError('layer %s (%s) on a converted image is not exported'
                              % (layer.name, type(layer).__name__))
        data_format = 'channels_first' if layer.dim_ordering == 'th' else 'channels_last'
        return [(class_name, {'data_format': data_format}, [])], \
            ExportedTensor(layer.output_shape)
    return export


register_format(GlobalMaxPooling3D, LayerFormat(
    saved_names=('GlobalMaxPool3D',), config_in=_global_pool_1('GlobalMaxPooling3D'),
    keras3_out=_global_pool3d_3('GlobalMaxPooling3D')))
register_format(GlobalAveragePooling3D, LayerFormat(
    saved_names=('GlobalAvgPool3D',), config_in=_global_pool_1('GlobalAveragePooling3D'),
    keras3_out=_global_pool3d_3('GlobalAveragePooling3D')))
