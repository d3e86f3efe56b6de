"""File formats of the locally connected layers (`layers/local.py`).

Keras 2's LocallyConnected1D/2D (implementation 1) hold the same arrays as
Keras 1.2.2's: the kernel (positions, window, filters) with windows in the
data format's own order, and the bias (positions..., filters). Keras 3 has
no such layers, so they are not exported to it."""
import numpy as np

from ...engine.layer_formats import (keras1_activation, keras1_initializer, keras1_weight_options,
                                     LayerFormat, ordering_of, pair, register_format)
from ..local import LocallyConnected1D, LocallyConnected2D


def _check_implementation(c, class_name):
    if int(c.get('implementation', 1)) != 1:
        raise ValueError('%s with implementation=%r is not supported by minikeras (only 1, '
                         "Keras 1.2.2's weight layout)" % (class_name, c.get('implementation')))
    padding = str(c.get('padding', 'valid')).lower()
    if padding != 'valid':
        raise ValueError("%s with padding=%r is not supported ('valid' only, as in Keras 1.2.2)"
                         % (class_name, padding))


def _local1d_1(c, major):
    _check_implementation(c, 'LocallyConnected1D')
    config = {'nb_filter': int(c['filters']),
              'filter_length': int(np.atleast_1d(c['kernel_size'])[0]),
              'init': keras1_initializer(c.get('kernel_initializer')),
              'activation': keras1_activation(c.get('activation'), major),
              'subsample_length': int(np.atleast_1d(c.get('strides', 1))[0])}
    config.update(keras1_weight_options(c))
    return 'LocallyConnected1D', config


def _local2d_1(c, major):
    _check_implementation(c, 'LocallyConnected2D')
    rows, cols = pair(c['kernel_size'])
    config = {'nb_filter': int(c['filters']), 'nb_row': rows, 'nb_col': cols,
              'init': keras1_initializer(c.get('kernel_initializer')),
              'activation': keras1_activation(c.get('activation'), major),
              'subsample': pair(c.get('strides', 1)),
              'dim_ordering': ordering_of(c.get('data_format'))}
    config.update(keras1_weight_options(c))
    return 'LocallyConnected2D', config


register_format(LocallyConnected1D, LayerFormat(config_in=_local1d_1))
register_format(LocallyConnected2D, LayerFormat(config_in=_local2d_1))
