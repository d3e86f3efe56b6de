"""Locally connected layers (Keras 1.2.2's `keras.layers.local`): convolutions
whose weights are not shared, one kernel per output position. They run the
kernels of `kernels/local.py` (windows copied once, one BLAS product per
position over the batch)."""
import numpy as np

from .. import activations
from ..compat import keras2
from ..engine.base_layer import Layer
from ..kernels import conv2d as conv_kernels
from ..kernels import local as local_kernels
from ..utils.conv_utils import image_axes, image_shape, resolve_dim_ordering
from ..utils.layer_checks import (check_image_rank, check_rank, input_shape_from_dim,
                                  layer_label, one_of, positive_int, positive_ints)
from .core import _weight_layer_config, _weight_layer_settings


def _valid_length(layer, size, window, stride, axis, input_shape):
    if size is None:
        return None
    if size < window:
        raise ValueError('%s: a window of %d is larger than its input (%s %d); input shape %s'
                         % (layer_label(layer), window, axis, size, tuple(input_shape)))
    return conv_kernels.conv_output_length(size, window, 'valid', stride)


def _known(layer, what, value, input_shape):
    if value is None:
        raise ValueError('%s: %s must be known to make the weights, got input shape %s'
                         % (layer_label(layer), what, tuple(input_shape)))
    return value


class LocallyConnected1D(Layer):
    """Like Convolution1D, but each output step has its own kernel (no weight
    sharing).

    # Example
    ```python
        model.add(LocallyConnected1D(64, 3, input_shape=(10, 32)))
        # now model.output_shape == (None, 8, 64)
    ```

    # Arguments
        nb_filter: number of output features.
        filter_length: window length, in steps.
        init: name of the initialization for `W`.
        activation: name of the activation function (linear when None).
        weights: list of arrays [W, b] to start from.
        border_mode: only 'valid', as in Keras 1.2.2.
        subsample_length: stride along the steps.
        W_regularizer, b_regularizer, activity_regularizer: optional penalties.
        W_constraint, b_constraint: optional weight constraints.
        bias: whether to include the bias `b`.
        input_dim, input_length: with each other, the input shape of the
            first layer of a model.

    # Input shape
        3D `(samples, steps, input_dim)`; the number of steps must be known.

    # Output shape
        3D `(samples, new_steps, nb_filter)`.

    # Weights
        `W` of shape (new_steps, filter_length * input_dim, nb_filter), each
        window flattened step by step; `b` of shape (new_steps, nb_filter).
    """

    @keras2.keras2_arguments(keras2.LOCALLY_CONNECTED_1D)
    def __init__(self, nb_filter, filter_length, init='glorot_uniform', activation=None,
                 weights=None, border_mode='valid', subsample_length=1, W_regularizer=None,
                 b_regularizer=None, activity_regularizer=None, W_constraint=None,
                 b_constraint=None, bias=True, input_dim=None, input_length=None, **kwargs):
        super(LocallyConnected1D, self).__init__(
            weights=weights, **input_shape_from_dim(kwargs, input_dim, input_length, sequence=True))
        self.nb_filter = positive_int(self, 'nb_filter', nb_filter)
        self.filter_length = positive_int(self, 'filter_length', filter_length)
        self.border_mode = one_of(self, 'border_mode', border_mode, ('valid',))
        self.subsample_length = positive_int(self, 'subsample_length', subsample_length)
        self.activation = activations.get(activation)
        _weight_layer_settings(self, init, W_regularizer, b_regularizer, activity_regularizer,
                               W_constraint, b_constraint, bias)
        self.input_dim = input_dim
        self.input_length = input_length

    def get_output_shape_for(self, input_shape):
        check_rank(self, input_shape, 3, 'samples, steps, input_dim')
        length = _valid_length(self, input_shape[1], self.filter_length, self.subsample_length,
                               'steps', input_shape)
        return (input_shape[0], length, self.nb_filter)

    def build(self, input_shape):
        length = _known(self, 'the number of steps',
                        self.get_output_shape_for(input_shape)[1], input_shape)
        input_dim = _known(self, 'the number of input features', input_shape[2], input_shape)
        self.W = self.add_weight((length, self.filter_length * input_dim, self.nb_filter),
                                 self.init, name=self.name + '_W',
                                 regularizer=self.W_regularizer, constraint=self.W_constraint)
        self.b = None
        if self.bias:
            self.b = self.add_weight((length, self.nb_filter), 'zero', name=self.name + '_b',
                                     regularizer=self.b_regularizer,
                                     constraint=self.b_constraint)

    def forward(self, x, training=False, need_input_grad=True):
        if tuple(x.shape[1:]) != tuple(self.input_shape[1:]):
            raise ValueError('%s: expected input of shape %s, got %s'
                             % (layer_label(self), tuple(self.input_shape), x.shape))
        n, steps, features = x.shape
        positions = self.W.shape[0]
        window, stride = (1, 1, self.filter_length), (1, 1, self.subsample_length)
        out_size = (1, 1, positions)
        # The kernel reads windows feature by feature; Keras's W step by step.
        kernel = np.ascontiguousarray(
            self.W.reshape(positions, self.filter_length, features, self.nb_filter)
            .transpose(0, 2, 1, 3).reshape(self.W.shape))
        x_v = np.ascontiguousarray(x.transpose(0, 2, 1), dtype='float32')[:, :, None, None]
        z = np.empty((n, positions, self.nb_filter), dtype='float32')
        cols = local_kernels.local_forward(x_v, kernel, z, window, stride, out_size)
        if self.b is not None:
            z += self.b
        y = activations.apply(self.activation, z)

        def backprop(dy):
            dz = np.ascontiguousarray(activations.gradient(self.activation, z, y, dy),
                                      dtype='float32')
            dw = np.empty_like(kernel)
            dx = np.empty_like(x_v) if need_input_grad else None
            local_kernels.local_backward(cols, dz, kernel, dw, dx, window, stride, out_size)
            self.gradients[0] += dw.reshape(positions, features, self.filter_length,
                                            self.nb_filter).transpose(0, 2, 1, 3).reshape(
                                                self.W.shape)
            if self.b is not None:
                self.gradients[1] += dz.sum(axis=0)
            if dx is None:
                return None
            return dx[:, :, 0, 0].transpose(0, 2, 1)
        return y, backprop

    def get_config(self):
        config = super(LocallyConnected1D, self).get_config()
        config.update({
            'nb_filter': self.nb_filter, 'filter_length': self.filter_length,
            'activation': activations.serialize(self.activation),
            'border_mode': self.border_mode, 'subsample_length': self.subsample_length,
            'input_dim': self.input_dim, 'input_length': self.input_length})
        config.update(_weight_layer_config(self))
        return config


class LocallyConnected2D(Layer):
    """Like Convolution2D, but each output position has its own kernel (no
    weight sharing).

    # Example
    ```python
        model.add(LocallyConnected2D(64, 3, 3, input_shape=(3, 32, 32)))
        # now model.output_shape == (None, 64, 30, 30)
    ```

    # Arguments
        nb_filter: number of output channels.
        nb_row, nb_col: window size.
        init: name of the initialization for `W`.
        activation: name of the activation function (linear when None).
        weights: list of arrays [W, b] to start from.
        border_mode: only 'valid', as in Keras 1.2.2.
        subsample: (rows, cols) strides.
        W_regularizer, b_regularizer, activity_regularizer: optional penalties.
        W_constraint, b_constraint: optional weight constraints.
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).
        bias: whether to include the bias `b`.

    # Input shape
        4D `(samples, channels, rows, cols)` ('th') or
        `(samples, rows, cols, channels)` ('tf'), rows and cols known.

    # Output shape
        4D `(samples, nb_filter, new_rows, new_cols)` ('th') or
        `(samples, new_rows, new_cols, nb_filter)` ('tf').

    # Weights
        As Keras 1.2.2: `W` of shape (new_rows * new_cols, nb_row * nb_col *
        channels, nb_filter), positions row by row, each window flattened
        as (channels, rows, cols) for 'th' and (rows, cols, channels) for
        'tf'; `b` of shape (new_rows, new_cols, nb_filter). For 'th', Keras
        1.2.2 added `b` reshaped (not transposed) to (nb_filter, new_rows,
        new_cols); so does this layer, so that its weights mean the same.
    """

    @keras2.keras2_arguments(keras2.LOCALLY_CONNECTED_2D)
    def __init__(self, nb_filter, nb_row, nb_col, init='glorot_uniform', activation=None,
                 weights=None, border_mode='valid', subsample=(1, 1), dim_ordering='default',
                 W_regularizer=None, b_regularizer=None, activity_regularizer=None,
                 W_constraint=None, b_constraint=None, bias=True, **kwargs):
        super(LocallyConnected2D, self).__init__(weights=weights, **kwargs)
        self.nb_filter = positive_int(self, 'nb_filter', nb_filter)
        self.nb_row = positive_int(self, 'nb_row', nb_row)
        self.nb_col = positive_int(self, 'nb_col', nb_col)
        self.border_mode = one_of(self, 'border_mode', border_mode, ('valid',))
        self.subsample = positive_ints(self, 'subsample', subsample, 2)
        self.activation = activations.get(activation)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)
        _weight_layer_settings(self, init, W_regularizer, b_regularizer, activity_regularizer,
                               W_constraint, b_constraint, bias)

    def get_output_shape_for(self, input_shape):
        check_image_rank(self, input_shape)
        _, rows, cols = image_axes(input_shape, self.dim_ordering)
        rows = _valid_length(self, rows, self.nb_row, self.subsample[0], 'rows', input_shape)
        cols = _valid_length(self, cols, self.nb_col, self.subsample[1], 'cols', input_shape)
        return image_shape(input_shape[0], self.nb_filter, rows, cols, self.dim_ordering)

    def build(self, input_shape):
        _, rows, cols = image_axes(self.get_output_shape_for(input_shape), self.dim_ordering)
        rows = _known(self, 'the number of rows', rows, input_shape)
        cols = _known(self, 'the number of cols', cols, input_shape)
        channels = _known(self, 'the number of channels',
                          image_axes(input_shape, self.dim_ordering)[0], input_shape)
        self.output_row, self.output_col = rows, cols
        self.W = self.add_weight((rows * cols, self.nb_row * self.nb_col * channels,
                                  self.nb_filter), self.init, name=self.name + '_W',
                                 regularizer=self.W_regularizer, constraint=self.W_constraint,
                                 dim_ordering=self.dim_ordering)
        self.b = None
        if self.bias:
            self.b = self.add_weight((rows, cols, self.nb_filter), 'zero', name=self.name + '_b',
                                     regularizer=self.b_regularizer,
                                     constraint=self.b_constraint)

    def _kernel(self, channels):
        """W with each window in the kernel's (channels, rows, cols) order."""
        if self.dim_ordering == 'th':
            return np.ascontiguousarray(self.W)
        positions = self.W.shape[0]
        return np.ascontiguousarray(
            self.W.reshape(positions, self.nb_row, self.nb_col, channels, self.nb_filter)
            .transpose(0, 3, 1, 2, 4).reshape(self.W.shape))

    def forward(self, x, training=False, need_input_grad=True):
        if tuple(x.shape[1:]) != tuple(self.input_shape[1:]):
            raise ValueError('%s: expected input of shape %s, got %s'
                             % (layer_label(self), tuple(self.input_shape), x.shape))
        x_cf = x if self.dim_ordering == 'th' else x.transpose(0, 3, 1, 2)
        x_v = np.ascontiguousarray(x_cf, dtype='float32')[:, :, None]
        n, channels = x_v.shape[:2]
        rows, cols, filters = self.output_row, self.output_col, self.nb_filter
        window, stride = (1, self.nb_row, self.nb_col), (1,) + self.subsample
        out_size = (1, rows, cols)
        kernel = self._kernel(channels)
        out = np.empty((n, rows * cols, filters), dtype='float32')
        columns = local_kernels.local_forward(x_v, kernel, out, window, stride, out_size)
        if self.dim_ordering == 'th':
            z = out.transpose(0, 2, 1).reshape(n, filters, rows, cols)
            if self.b is not None:
                z = z + self.b.reshape(filters, rows, cols)
        else:
            z = out.reshape(n, rows, cols, filters)
            if self.b is not None:
                z = z + self.b
        y = activations.apply(self.activation, z)

        def backprop(dy):
            dz = activations.gradient(self.activation, z, y, dy)
            if self.dim_ordering == 'th':
                dout = dz.reshape(n, filters, rows * cols).transpose(0, 2, 1)
            else:
                dout = dz.reshape(n, rows * cols, filters)
            dw = np.empty_like(kernel)
            dx = np.empty_like(x_v) if need_input_grad else None
            local_kernels.local_backward(columns, np.ascontiguousarray(dout, dtype='float32'),
                                         kernel, dw, dx, window, stride, out_size)
            if self.dim_ordering == 'tf':
                dw = dw.reshape(rows * cols, channels, self.nb_row, self.nb_col, filters) \
                    .transpose(0, 2, 3, 1, 4).reshape(self.W.shape)
            self.gradients[0] += dw
            if self.b is not None:
                self.gradients[1] += dz.sum(axis=0, dtype='float32').reshape(self.b.shape)
            if dx is None:
                return None
            dx = dx[:, :, 0]
            return dx if self.dim_ordering == 'th' else dx.transpose(0, 2, 3, 1)
        return y, backprop

    def get_config(self):
        config = super(LocallyConnected2D, self).get_config()
        config.update({
            'nb_filter': self.nb_filter, 'nb_row': self.nb_row, 'nb_col': self.nb_col,
            'activation': activations.serialize(self.activation),
            'border_mode': self.border_mode, 'subsample': self.subsample,
            'dim_ordering': self.dim_ordering})
        config.update(_weight_layer_config(self))
        return config
