"""File formats of `BatchNormalization` (`layers/normalization.py`)."""
from ...engine.layer_formats import (CF_TO_CL_AXIS, ExportedTensor, ExportError,
                                     keras1_initializer, keras1_regularizer, keras3_initializer,
                                     keras3_regularizer, LayerFormat, register_format)
from ..normalization import BatchNormalization


# Keras 2/3 configs in

def _batchnorm_1(c, major):
    axis = c.get('axis', -1)
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise ValueError('BatchNormalization over several axes %r is not supported' % (axis,))
        axis = axis[0]
    return 'BatchNormalization', {
        'epsilon': float(c.get('epsilon', 1e-3)), 'mode': 0, 'axis': int(axis),
        'momentum': float(c.get('momentum', 0.99)),
        'beta_init': keras1_initializer(c.get('beta_initializer'), 'zero'),
        'gamma_init': keras1_initializer(c.get('gamma_initializer'), 'one'),
        'gamma_regularizer': keras1_regularizer(c.get('gamma_regularizer')),
        'beta_regularizer': keras1_regularizer(c.get('beta_regularizer')),
        'center': bool(c.get('center', True)), 'scale': bool(c.get('scale', True)),
        # Keras 2 averaged the unbiased variance; Keras 3 the biased one.
        'unbiased_moving_variance': major == 2}


# Keras 3 out

def _batchnorm_3(layer, state, converted):
    if layer.mode != 0:
        raise ExportError('layer %s: BatchNormalization mode %d has no Keras 3 equivalent'
                          % (layer.name, layer.mode))
    if state.flat is not None:
        raise ExportError('layer %s: BatchNormalization between a Flatten of channels-first '
                          'images and its Dense is not exported' % layer.name)
    ndim = len(state.shape)
    axis = layer.axis % ndim
    if state.cf:
        axis = CF_TO_CL_AXIS[axis]
    weights = list(layer.weights)
    gamma = weights.pop(0) if layer.scale else None
    beta = weights.pop(0) if layer.center else None
    mean, variance = weights
    config = {'axis': -1 if axis == ndim - 1 else axis, 'momentum': float(layer.momentum),
              'epsilon': float(layer.epsilon), 'center': layer.center, 'scale': layer.scale,
              'beta_initializer': keras3_initializer(layer.beta_init),
              'gamma_initializer': keras3_initializer(layer.gamma_init),
              'beta_regularizer': keras3_regularizer(layer.beta_regularizer),
              'gamma_regularizer': keras3_regularizer(layer.gamma_regularizer)}
    weights = [(name, value) for name, value in (('gamma', gamma), ('beta', beta))
               if value is not None] + [('moving_mean', mean), ('moving_variance', variance)]
    return [('BatchNormalization', config, weights)], \
        ExportedTensor(layer.output_shape, cf=state.cf)


register_format(BatchNormalization, LayerFormat(config_in=_batchnorm_1,
                                                keras3_out=_batchnorm_3))
