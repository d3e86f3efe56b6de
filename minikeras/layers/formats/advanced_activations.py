"""File formats of the advanced activation layers (`layers/advanced_activations.py`)."""
import numpy as np

from ...engine.layer_formats import (CF_TO_CL_AXIS, elementwise_3, ExportedTensor, ExportError,
                                     keras1_initializer, keras3_initializer, LayerFormat,
                                     register_format)
from ..advanced_activations import ELU, LeakyReLU, ParametricSoftplus, PReLU, ThresholdedReLU


def _alphas_weights_in(layer, arrays, source, info, target):
    """Per-position parameters saved for the other image layout are transposed."""
    for i, (array, own) in enumerate(zip(arrays, layer.weights)):
        if array.ndim == 3 and array.shape != own.shape:
            for order in ((2, 0, 1), (1, 2, 0)):
                if array.transpose(order).shape == own.shape:
                    arrays[i] = np.ascontiguousarray(array.transpose(order))
                    break
    return arrays


# Keras 2/3 configs in

def _prelu_1(c, major):
    return 'PReLU', {'init': keras1_initializer(c.get('alpha_initializer'), 'zero'),
                     'shared_axes': c.get('shared_axes')}


def _leaky_relu_1(c, major):
    return 'LeakyReLU', {'alpha': float(c.get('negative_slope', c.get('alpha', 0.3)))}


# Keras 3 out

def _prelu_3(layer, state, converted):
    if state.flat is not None:
        raise ExportError('layer %s: PReLU between a Flatten of channels-first images and its '
                          'Dense is not exported' % layer.name)
    alphas = layer.weights[0]
    shared = list(layer.shared_axes or [])
    if state.cf:
        alphas = alphas.transpose(1, 2, 0)
        shared = sorted(CF_TO_CL_AXIS[a] for a in shared)
    config = {'alpha_initializer': keras3_initializer(layer.init), 'shared_axes': shared or None}
    return [('PReLU', config, [('alpha', alphas)])], ExportedTensor(layer.output_shape, cf=state.cf)


register_format(PReLU, LayerFormat(config_in=_prelu_1, weights_in=_alphas_weights_in,
                                   keras3_out=_prelu_3))
register_format(ParametricSoftplus, LayerFormat(weights_in=_alphas_weights_in))
register_format(LeakyReLU, LayerFormat(
    config_in=_leaky_relu_1,
    keras3_out=elementwise_3('LeakyReLU', lambda l: {'negative_slope': float(l.alpha)}),
    role='keep'))
register_format(ELU, LayerFormat(
    config_in=lambda c, major: ('ELU', {'alpha': float(c.get('alpha', 1.))}),
    keras3_out=elementwise_3('ELU', lambda l: {'alpha': float(l.alpha)}), role='keep'))
register_format(ThresholdedReLU, LayerFormat(
    config_in=lambda c, major: ('ThresholdedReLU', {'theta': float(c.get('theta', 1.))}),
    role='keep'))
