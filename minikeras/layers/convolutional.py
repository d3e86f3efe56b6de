"""2D convolution (and, for Keras 1 import paths, the pooling layers)."""
import numpy as np

from .. import activations, constraints, regularizers
from ..engine.topology import Layer
from ..kernels import conv2d as conv_kernels
from ..utils.conv_utils import (from_channels_first, image_axes, image_shape,
                                resolve_dim_ordering, to_channels_first)
from .core import _config_or_none
from .pooling import MaxPooling2D  # noqa: F401  (Keras 1 exported it from here too)

_BORDER_MODES = ('valid', 'same', 'full')


class Convolution2D(Layer):
    """2D convolution (cross-correlation, as TensorFlow and Keras 2+) over images.

    # Example
    ```python
        model.add(Convolution2D(4, 5, 5, border_mode='valid', input_shape=(1, 28, 28)))
    ```

    # Arguments
        nb_filter: number of convolution kernels.
        nb_row, nb_col: kernel size.
        init: name of the initialization for `W`.
        activation: name of the activation function (linear when None).
        weights: list of arrays [W, b] to start from.
        border_mode: 'valid', 'same' or 'full'.
        subsample: (rows, cols) strides.
        W_regularizer, b_regularizer, activity_regularizer: optional penalties.
        W_constraint, b_constraint: optional weight constraints.
        dim_ordering: 'th' (channels, rows, cols), 'tf' (rows, cols, channels)
            or 'default' (the backend's `image_dim_ordering()`).
        bias: whether to include the bias `b`.

    # Input shape
        4D `(samples, channels, rows, cols)` ('th') or
        `(samples, rows, cols, channels)` ('tf').

    # Output shape
        4D `(samples, nb_filter, new_rows, new_cols)` ('th') or
        `(samples, new_rows, new_cols, nb_filter)` ('tf').

    # Weights
        `W` of shape (nb_filter, channels, nb_row, nb_col) for 'th' and
        (nb_row, nb_col, channels, nb_filter) for 'tf'; `b` of shape (nb_filter,).
    """

    def __init__(self, nb_filter, nb_row, nb_col, init='glorot_uniform', activation=None,
                 weights=None, border_mode='valid', subsample=(1, 1), dim_ordering='default',
                 W_regularizer=None, b_regularizer=None, activity_regularizer=None,
                 W_constraint=None, b_constraint=None, bias=True, **kwargs):
        super(Convolution2D, self).__init__(weights=weights, **kwargs)
        for arg, value in (('nb_filter', nb_filter), ('nb_row', nb_row), ('nb_col', nb_col)):
            if int(value) != value or value <= 0:
                raise ValueError('%s (Convolution2D): %s must be a positive integer, got %r'
                                 % (self.name, arg, value))
        if border_mode not in _BORDER_MODES:
            raise ValueError('%s (Convolution2D): border_mode must be one of %s, got %r'
                             % (self.name, _BORDER_MODES, border_mode))
        subsample = tuple(subsample)
        if len(subsample) != 2 or any(int(s) != s or s <= 0 for s in subsample):
            raise ValueError('%s (Convolution2D): subsample must be two positive integers, got %r'
                             % (self.name, subsample))
        self.nb_filter, self.nb_row, self.nb_col = int(nb_filter), int(nb_row), int(nb_col)
        self.init = init
        self.activation = activations.get(activation)
        self.border_mode = border_mode
        self.subsample = (int(subsample[0]), int(subsample[1]))
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)
        self.W_regularizer = regularizers.get(W_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.W_constraint = constraints.get(W_constraint)
        self.b_constraint = constraints.get(b_constraint)
        self.bias = bias

    def _check_input(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError('Layer %s (Convolution2D) expects 4D input (samples, %s), got shape %s'
                             % (self.name, 'channels, rows, cols' if self.dim_ordering == 'th'
                                else 'rows, cols, channels', tuple(input_shape)))
        channels, rows, cols = image_axes(input_shape, self.dim_ordering)
        if self.border_mode == 'valid':
            for axis, size, k in (('rows', rows, self.nb_row), ('cols', cols, self.nb_col)):
                if size is not None and size < k:
                    raise ValueError('Layer %s (Convolution2D): kernel %dx%d is larger than its '
                                     'input (%s %d) with border_mode="valid"; input shape %s '
                                     '(dim_ordering=%r)' % (self.name, self.nb_row, self.nb_col,
                                                           axis, size, tuple(input_shape),
                                                           self.dim_ordering))
        return channels, rows, cols

    def build(self, input_shape):
        channels, _, _ = self._check_input(input_shape)
        if channels is None:
            raise ValueError('Layer %s (Convolution2D): the number of input channels must be '
                             'known, got input shape %s' % (self.name, tuple(input_shape)))
        if self.dim_ordering == 'th':
            shape = (self.nb_filter, channels, self.nb_row, self.nb_col)
        else:
            shape = (self.nb_row, self.nb_col, channels, self.nb_filter)
        self.W = self.add_weight(shape, self.init, name=self.name + '_W',
                                 regularizer=self.W_regularizer, constraint=self.W_constraint,
                                 dim_ordering=self.dim_ordering)
        self.b = None
        if self.bias:
            self.b = self.add_weight((self.nb_filter,), 'zero', name=self.name + '_b',
                                     regularizer=self.b_regularizer,
                                     constraint=self.b_constraint)

    def get_output_shape_for(self, input_shape):
        _, rows, cols = self._check_input(input_shape)
        out_rows = None if rows is None else conv_kernels.conv_output_length(
            rows, self.nb_row, self.border_mode, self.subsample[0])
        out_cols = None if cols is None else conv_kernels.conv_output_length(
            cols, self.nb_col, self.border_mode, self.subsample[1])
        return image_shape(input_shape[0], self.nb_filter, out_rows, out_cols, self.dim_ordering)

    def _kernel_th(self):
        if self.dim_ordering == 'tf':
            return np.ascontiguousarray(self.W.transpose(3, 2, 0, 1))
        return self.W

    def forward(self, x, training=False, need_input_grad=True):
        x_cf = to_channels_first(x, self.dim_ordering)
        n, _, rows, cols = x_cf.shape
        pad_top, out_rows = conv_kernels.conv_padding(rows, self.nb_row, self.border_mode,
                                                      self.subsample[0])
        pad_left, out_cols = conv_kernels.conv_padding(cols, self.nb_col, self.border_mode,
                                                       self.subsample[1])
        kernel = self._kernel_th()
        bias = self.b if self.b is not None else np.zeros(self.nb_filter, dtype='float32')
        z = np.empty((n, self.nb_filter, out_rows, out_cols), dtype='float32')
        conv_kernels.conv2d_forward(x_cf, kernel, bias, z, self.subsample[0], self.subsample[1],
                                    pad_top, pad_left)
        y_cf = self.activation(z)
        geometry = (self.subsample[0], self.subsample[1], pad_top, pad_left)

        def backprop(dy):
            dz = np.ascontiguousarray(self.activation.backward(
                z, y_cf, to_channels_first(dy, self.dim_ordering)), dtype='float32')
            dw = np.empty_like(kernel)
            db = np.empty(self.nb_filter, dtype='float32')
            conv_kernels.conv2d_backward_weights(x_cf, dz, dw, db, *geometry)
            grads = self.gradients
            grads[0] += dw if self.dim_ordering == 'th' else dw.transpose(2, 3, 1, 0)
            if self.b is not None:
                grads[1] += db
            if not need_input_grad:
                return None
            dx = np.empty_like(x_cf)
            conv_kernels.conv2d_backward_input(dz, kernel, dx, *geometry)
            return from_channels_first(dx, self.dim_ordering)
        return from_channels_first(y_cf, self.dim_ordering), backprop

    def get_config(self):
        config = super(Convolution2D, self).get_config()
        config.update({
            'nb_filter': self.nb_filter, 'nb_row': self.nb_row, 'nb_col': self.nb_col,
            'init': self.init, 'activation': activations.serialize(self.activation),
            'border_mode': self.border_mode, 'subsample': self.subsample,
            'dim_ordering': self.dim_ordering,
            'W_regularizer': _config_or_none(self.W_regularizer),
            'b_regularizer': _config_or_none(self.b_regularizer),
            'activity_regularizer': _config_or_none(self.activity_regularizer),
            'W_constraint': _config_or_none(self.W_constraint),
            'b_constraint': _config_or_none(self.b_constraint),
            'bias': self.bias})
        return config
