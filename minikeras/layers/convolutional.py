"""Convolution layers (1D and 2D) and the other layers of Keras 1's
convolutional module: zero padding, upsampling and cropping of images (2D)
and of temporal data (1D). The pooling layers are importable from here too,
as in Keras 1."""
import numpy as np

from .. import activations, constraints, initializers, regularizers
from ..compat import keras0, keras2
from ..engine.base_layer import Layer
from ..kernels import conv2d as conv_kernels
from ..kernels import convnd
from ..kernels.conv2d_upsampled import UpsampledCorrelation
from ..kernels.bits import same_bits
from ..kernels.layout import kernel_to_channels_first
from ..kernels import upsampling as upsampling_kernels
from ..utils.conv_utils import (from_channels_first, image_axes, image_shape,
                                resolve_dim_ordering, to_channels_first)
from ..utils.layer_checks import (check_image_rank, check_known_channels, check_rank,
                                  image_axis_names, input_shape_from_dim, layer_label, one_of,
                                  positive_int, positive_ints)
from .core import _config_or_none, _weight_layer_config, _weight_layer_settings
# Keras 1 exported the pooling layers from here too.
from .pooling import (AveragePooling1D, AveragePooling2D, MaxPooling1D,  # noqa: F401
                      MaxPooling2D)
from .pooling import AveragePooling3D, MaxPooling3D  # noqa: F401

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
        bias_init: initialization of `b` (zeros).

    Keras 2's spelling is accepted too (`compat/keras2.py`): `Conv2D(filters,
    kernel_size, strides, padding, data_format, dilation_rate=1, activation,
    use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
    bias_regularizer, activity_regularizer, kernel_constraint,
    bias_constraint)`; such a call defaults to `K.image_data_format()`.

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

    def __new__(cls, *args, **kwargs):
        # Keras 2's Conv2D(..., dilation_rate=2) is Keras 1's AtrousConvolution2D.
        if cls is Convolution2D and keras2.is_dilated(kwargs):
            cls = AtrousConvolution2D
        return super(Convolution2D, cls).__new__(cls)

    @keras2.keras2_arguments(keras2.CONV2D)
    @keras0.legacy_arguments(keras0.convolution2d_arguments)
    def __init__(self, nb_filter, nb_row, nb_col, init='glorot_uniform', activation=None,
                 weights=None, border_mode='valid', subsample=(1, 1), dim_ordering='default',
                 W_regularizer=None, b_regularizer=None, activity_regularizer=None,
                 W_constraint=None, b_constraint=None, bias=True, bias_init='zero', **kwargs):
        super(Convolution2D, self).__init__(weights=weights, **kwargs)
        self.nb_filter = positive_int(self, 'nb_filter', nb_filter)
        self.nb_row = positive_int(self, 'nb_row', nb_row)
        self.nb_col = positive_int(self, 'nb_col', nb_col)
        self.border_mode = one_of(self, 'border_mode', border_mode, _BORDER_MODES)
        self.activation = activations.get(activation)
        self.subsample = positive_ints(self, 'subsample', subsample, 2)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)
        _weight_layer_settings(self, init, W_regularizer, b_regularizer, activity_regularizer,
                               W_constraint, b_constraint, bias, bias_init)

    def _check_input(self, input_shape):
        check_image_rank(self, input_shape)
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
            self.b = self.add_weight((self.nb_filter,), self.bias_init, name=self.name + '_b',
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
        if self.dim_ordering == 'th':
            return self.W
        if self.W.dtype != np.float32 or not self.W.flags.c_contiguous:
            return np.ascontiguousarray(self.W.transpose(3, 2, 0, 1))
        # One array, copied again only when W changed (a copy of W as it was
        # tells; the copy costs 2-3x the comparison): the Winograd kernels
        # find the transforms they keep for a kernel by its address.
        kernel, source = getattr(self, '_kernel_th_copies', (None, None))
        if source is None or source.shape != self.W.shape:
            source = np.empty_like(self.W)
            kernel = np.empty(tuple(self.W.shape[i] for i in (3, 2, 0, 1)), np.float32)
            self._kernel_th_copies = kernel, source
        elif same_bits(source, self.W):
            return kernel
        kernel_to_channels_first(self.W, kernel)
        np.copyto(source, self.W)
        return kernel

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
        checked = conv_kernels.conv2d_forward(x_cf, kernel, bias, z, self.subsample[0],
                                              self.subsample[1], pad_top, pad_left)
        geometry = (self.subsample[0], self.subsample[1], pad_top, pad_left)

        def weight_gradients(dz):
            dw = np.empty_like(kernel)
            db = np.empty(self.nb_filter, dtype='float32')
            conv_kernels.conv2d_backward_weights(x_cf, dz, dw, db, *geometry)
            return dw, db

        def input_gradient(dz):
            dx = np.empty_like(x_cf)
            # kernel keeps its bits until this evaluation's updates
            conv_kernels.conv2d_backward_input(dz, kernel, dx, *geometry, checked=checked)
            return from_channels_first(dx, self.dim_ordering)
        return self._activated(z, weight_gradients, input_gradient, need_input_grad)

    def forward_on_upsampled(self, x, size, training=False, need_input_grad=True):
        """`forward` on x upsampled by `size` (nearest neighbour, as
        UpSampling2D does), computed on x itself where that at least halves
        the multiplications (a 5x5 window at factor 2: 9 taps in place of
        25; see kernels/conv2d_upsampled.py); None elsewhere. Its backprop
        returns the gradient of x, not of the upsampled input.

        # Arguments
            x: the input before the upsampling, channels first.
            size: (rows, cols), the upsampling factors.
        """
        if type(self).forward is not Convolution2D.forward:
            return None  # a subclass computing something else (Deconvolution2D)
        if self.dim_ordering != 'th' or tuple(self.subsample) != (1, 1) \
                or not isinstance(x, np.ndarray) or x.dtype != np.float32 or x.ndim != 4:
            return None
        n, _, rows, cols = x.shape
        pad_top, out_rows = conv_kernels.conv_padding(rows * size[0], self.nb_row,
                                                      self.border_mode, 1)
        pad_left, out_cols = conv_kernels.conv_padding(cols * size[1], self.nb_col,
                                                       self.border_mode, 1)
        kernel = self._kernel_th()
        bias = self.b if self.b is not None else np.zeros(self.nb_filter, dtype='float32')
        folded = UpsampledCorrelation.fold(kernel, bias, size, (pad_top, pad_left),
                                           (out_rows, out_cols))
        if folded is None:
            return None
        x = np.ascontiguousarray(x)
        z = np.empty((n, self.nb_filter, out_rows, out_cols), dtype='float32')
        folded.forward(x, z)

        def weight_gradients(dz_phases):
            dw = np.empty_like(kernel)
            db = np.empty(self.nb_filter, dtype='float32')
            folded.backward_weights(x, dz_phases, dw, db)
            return dw, db

        def input_gradient(dz_phases):
            dx = np.empty_like(x)
            folded.backward_input(dz_phases, dx)
            return dx
        return self._activated(z, weight_gradients, input_gradient, need_input_grad,
                               folded.phases)

    def _activated(self, z, weight_gradients, input_gradient, need_input_grad,
                   prepare=None):
        """(y, backprop) of the layer from its channels-first output z before
        the activation, given the gradients of its convolution: functions of
        the gradient of z, or of `prepare` of it when given."""
        if getattr(self.activation, 'kernel_code', None) is not None:
            # Element-wise with a derivative read from the output: applied in
            # place on the kernel's contiguous channels-first output.
            y_cf = activations.apply(self.activation, z, in_place=True)
            y = from_channels_first(y_cf, self.dim_ordering)

            def output_gradient(dy):
                dy_cf = np.ascontiguousarray(to_channels_first(dy, self.dim_ordering))
                return activations.gradient(self.activation, y_cf, y_cf, dy_cf)
        else:
            # The activation sees the layer's own ordering (softmax runs over the last axis).
            z = from_channels_first(z, self.dim_ordering)
            y = self.activation(z)

            def output_gradient(dy):
                return to_channels_first(self.activation.backward(z, y, dy), self.dim_ordering)

        def backprop(dy):
            dz = np.ascontiguousarray(output_gradient(dy), dtype='float32')
            if prepare is not None:
                dz = prepare(dz)
            if self.weight_gradients_wanted:
                dw, db = weight_gradients(dz)
                grads = self.gradients
                grads[0] += dw if self.dim_ordering == 'th' else dw.transpose(2, 3, 1, 0)
                if self.b is not None:
                    grads[1] += db
            if not need_input_grad:
                return None
            return input_gradient(dz)
        return y, backprop

    def get_config(self):
        config = super(Convolution2D, self).get_config()
        config.update({
            'nb_filter': self.nb_filter, 'nb_row': self.nb_row, 'nb_col': self.nb_col,
            'activation': activations.serialize(self.activation),
            'border_mode': self.border_mode, 'subsample': self.subsample,
            'dim_ordering': self.dim_ordering})
        config.update(_weight_layer_config(self))
        return config


class Convolution1D(Layer):
    """1D convolution (cross-correlation) over the steps of temporal data.

    # Example
    ```python
        # 64 filters of length 3 over sequences of 10 vectors of 32 features
        model.add(Convolution1D(64, 3, border_mode='same', input_shape=(10, 32)))
        # now model.output_shape == (None, 10, 64)
    ```

    # Arguments
        nb_filter: number of convolution kernels (output features).
        filter_length: kernel length, in steps.
        init: name of the initialization for `W` (fans computed as Keras 1
            did, from the 4D kernel shape in 'th' layout).
        activation: name of the activation function (linear when None).
        weights: list of arrays [W, b] to start from.
        border_mode: 'valid', 'same' or 'full'.
        subsample_length: stride along the steps.
        W_regularizer, b_regularizer, activity_regularizer: optional penalties.
        W_constraint, b_constraint: optional weight constraints.
        bias: whether to include the bias `b`.
        input_dim: number of input features; with `input_length`, gives the
            input shape of the first layer of a model.
        input_length: number of steps, when it is constant.

    # Input shape
        3D `(samples, steps, input_dim)`.

    # Output shape
        3D `(samples, new_steps, nb_filter)`.

    # Weights
        `W` of shape (filter_length, 1, input_dim, nb_filter); `b` of shape
        (nb_filter,).
    """

    def __new__(cls, *args, **kwargs):
        # Keras 2's Conv1D(..., dilation_rate=2) is Keras 1's AtrousConvolution1D.
        if cls is Convolution1D and keras2.is_dilated(kwargs):
            cls = AtrousConvolution1D
        return super(Convolution1D, cls).__new__(cls)

    @keras2.keras2_arguments(keras2.CONV1D)
    @keras0.legacy_arguments(keras0.convolution1d_arguments)
    def __init__(self, nb_filter, filter_length, init='glorot_uniform', activation=None,
                 weights=None, border_mode='valid', subsample_length=1, W_regularizer=None,
                 b_regularizer=None, activity_regularizer=None, W_constraint=None,
                 b_constraint=None, bias=True, input_dim=None, input_length=None,
                 bias_init='zero', **kwargs):
        super(Convolution1D, self).__init__(
            weights=weights, **input_shape_from_dim(kwargs, input_dim, input_length, sequence=True))
        self.nb_filter = positive_int(self, 'nb_filter', nb_filter)
        self.filter_length = positive_int(self, 'filter_length', filter_length)
        self.border_mode = one_of(self, 'border_mode', border_mode, _BORDER_MODES)
        self.subsample_length = positive_int(self, 'subsample_length', subsample_length)
        self.activation = activations.get(activation)
        _weight_layer_settings(self, init, W_regularizer, b_regularizer, activity_regularizer,
                               W_constraint, b_constraint, bias)
        self.input_dim = input_dim
        self.input_length = input_length

    def _check_input(self, input_shape):
        check_rank(self, input_shape, 3, 'samples, steps, input_dim')
        steps = input_shape[1]
        if self.border_mode == 'valid' and steps is not None and steps < self.filter_length:
            raise ValueError('Layer %s (Convolution1D): filter_length %d is larger than its input '
                             '(%d steps) with border_mode="valid"; input shape %s'
                             % (self.name, self.filter_length, steps, tuple(input_shape)))
        return steps, input_shape[2]

    def build(self, input_shape):
        _, input_dim = self._check_input(input_shape)
        if input_dim is None:
            raise ValueError('Layer %s (Convolution1D): the number of input features must be '
                             'known, got input shape %s' % (self.name, tuple(input_shape)))
        # Keras 1 initialises this 'tf'-layout kernel with 'th' fans; so do we.
        # A Keras 2 initializer gets Keras 2's fans, those of the 'tf' layout.
        fans = 'tf' if isinstance(self.init, initializers.Initializer) else 'th'
        self.W = self.add_weight((self.filter_length, 1, input_dim, self.nb_filter), self.init,
                                 name=self.name + '_W', regularizer=self.W_regularizer,
                                 constraint=self.W_constraint, dim_ordering=fans)
        self.b = None
        if self.bias:
            self.b = self.add_weight((self.nb_filter,), 'zero', name=self.name + '_b',
                                     regularizer=self.b_regularizer,
                                     constraint=self.b_constraint)

    def get_output_shape_for(self, input_shape):
        steps, _ = self._check_input(input_shape)
        length = conv_kernels.conv_output_length(steps, self.filter_length, self.border_mode,
                                                 self.subsample_length)
        return (input_shape[0], length, self.nb_filter)

    def forward(self, x, training=False, need_input_grad=True):
        self._check_input(x.shape)
        # Steps as image rows, width 1: (samples, input_dim, steps, 1).
        x_cf = np.ascontiguousarray(x.transpose(0, 2, 1), dtype='float32')[:, :, :, None]
        n, _, steps, _ = x_cf.shape
        pad_top, out_steps = conv_kernels.conv_padding(steps, self.filter_length,
                                                       self.border_mode, self.subsample_length)
        kernel = np.ascontiguousarray(self.W.transpose(3, 2, 0, 1))
        bias = self.b if self.b is not None else np.zeros(self.nb_filter, dtype='float32')
        z_cf = np.empty((n, self.nb_filter, out_steps, 1), dtype='float32')
        geometry = (self.subsample_length, 1, pad_top, 0)
        conv_kernels.conv2d_forward(x_cf, kernel, bias, z_cf, *geometry)
        z = np.ascontiguousarray(z_cf[:, :, :, 0].transpose(0, 2, 1))
        y = activations.apply(self.activation, z)

        def backprop(dy):
            dz = activations.gradient(self.activation, z, y, dy)
            dz_cf = np.ascontiguousarray(dz.transpose(0, 2, 1), dtype='float32')[:, :, :, None]
            dw = np.empty_like(kernel)
            db = np.empty(self.nb_filter, dtype='float32')
            conv_kernels.conv2d_backward_weights(x_cf, dz_cf, dw, db, *geometry)
            grads = self.gradients
            grads[0] += dw.transpose(2, 3, 1, 0)
            if self.b is not None:
                grads[1] += db
            if not need_input_grad:
                return None
            dx_cf = np.empty_like(x_cf)
            conv_kernels.conv2d_backward_input(dz_cf, kernel, dx_cf, *geometry)
            return dx_cf[:, :, :, 0].transpose(0, 2, 1)
        return y, backprop

    def get_config(self):
        config = super(Convolution1D, self).get_config()
        config.update({
            'nb_filter': self.nb_filter, 'filter_length': self.filter_length,
            'activation': activations.serialize(self.activation),
            'border_mode': self.border_mode, 'subsample_length': self.subsample_length,
            'input_dim': self.input_dim, 'input_length': self.input_length})
        config.update(_weight_layer_config(self))
        return config


def _check_image_input(layer, input_shape):
    check_image_rank(layer, input_shape)
    return image_axes(input_shape, layer.dim_ordering)


def _spatial_slices(dim_ordering, rows, cols):
    """An index that applies the (rows, cols) slices to a 4D batch."""
    if dim_ordering == 'th':
        return (slice(None), slice(None), rows, cols)
    return (slice(None), rows, cols, slice(None))


def _non_negative_ints(values):
    return all(int(v) == v and v >= 0 for v in values)


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around images.

    # Arguments
        padding: (rows, cols): as many zeros above as below and as many to
            the left as to the right; or (top_pad, bottom_pad, left_pad,
            right_pad); or a dict with some of those four keys (0 for the
            others).
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).

    # Input shape
        4D `(samples, channels, rows, cols)` ('th') or
        `(samples, rows, cols, channels)` ('tf').

    # Output shape
        4D, with padded rows and cols.
    """

    _KEYS = ('top_pad', 'bottom_pad', 'left_pad', 'right_pad')

    @keras2.keras2_arguments(keras2.ZEROPADDING2D)
    def __init__(self, padding=(1, 1), dim_ordering='default', **kwargs):
        super(ZeroPadding2D, self).__init__(**kwargs)
        if isinstance(padding, dict):
            unknown = set(padding) - set(self._KEYS)
            if unknown:
                raise ValueError('%s: unexpected padding keys %s; the keys are '
                                 '%s' % (layer_label(self), sorted(unknown), self._KEYS))
            pads = tuple(padding.get(key, 0) for key in self._KEYS)
        else:
            try:
                values = tuple(padding)
            except TypeError:
                values = ()
            if len(values) == 2:
                pads = (values[0], values[0], values[1], values[1])
            elif len(values) == 4:
                pads = values
            else:
                raise ValueError('%s: padding must be (rows, cols), (top_pad, '
                                 'bottom_pad, left_pad, right_pad) or a dict, got %r'
                                 % (layer_label(self), padding))
        if not _non_negative_ints(pads):
            raise ValueError('%s: paddings must be integers >= 0, got %r'
                             % (layer_label(self), padding))
        self.padding = padding
        self.top_pad, self.bottom_pad, self.left_pad, self.right_pad = (int(p) for p in pads)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)

    def get_output_shape_for(self, input_shape):
        channels, rows, cols = _check_image_input(self, input_shape)
        if rows is not None:
            rows += self.top_pad + self.bottom_pad
        if cols is not None:
            cols += self.left_pad + self.right_pad
        return image_shape(input_shape[0], channels, rows, cols, self.dim_ordering)

    def forward(self, x, training=False, need_input_grad=True):
        _check_image_input(self, x.shape)
        widths = [(0, 0)] * 4
        row_axis, col_axis = (2, 3) if self.dim_ordering == 'th' else (1, 2)
        widths[row_axis] = (self.top_pad, self.bottom_pad)
        widths[col_axis] = (self.left_pad, self.right_pad)
        y = np.pad(x, widths, mode='constant')
        index = _spatial_slices(self.dim_ordering,
                                slice(self.top_pad, y.shape[row_axis] - self.bottom_pad),
                                slice(self.left_pad, y.shape[col_axis] - self.right_pad))

        def backprop(dy):
            return dy[index]
        return y, backprop

    def get_config(self):
        config = super(ZeroPadding2D, self).get_config()
        # Keras 1.2.2 saved only 'padding'; the ordering is kept so that a
        # reloaded layer pads the same axes whatever the backend's default.
        config.update({'padding': self.padding, 'dim_ordering': self.dim_ordering})
        return config


class UpSampling2D(Layer):
    """Repeats the rows and the columns of images `size[0]` and `size[1]` times
    (nearest-neighbour upsampling).

    # Arguments
        size: (rows, cols) integer factors.
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).

    # Input shape
        4D `(samples, channels, rows, cols)` ('th') or
        `(samples, rows, cols, channels)` ('tf').

    # Output shape
        4D, with `rows * size[0]` rows and `cols * size[1]` cols.
    """

    @keras2.keras2_arguments(keras2.UPSAMPLING2D)
    def __init__(self, size=(2, 2), dim_ordering='default', **kwargs):
        super(UpSampling2D, self).__init__(**kwargs)
        self.size = positive_ints(self, 'size', size, 2)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)

    def get_output_shape_for(self, input_shape):
        channels, rows, cols = _check_image_input(self, input_shape)
        rows = rows * self.size[0] if rows is not None else None
        cols = cols * self.size[1] if cols is not None else None
        return image_shape(input_shape[0], channels, rows, cols, self.dim_ordering)

    def forward(self, x, training=False, need_input_grad=True):
        _check_image_input(self, x.shape)
        if self.dim_ordering == 'th' and x.dtype == np.float32:
            return self._forward_planes(x)
        row_axis, col_axis = (2, 3) if self.dim_ordering == 'th' else (1, 2)
        y = np.repeat(np.repeat(x, self.size[0], axis=row_axis), self.size[1], axis=col_axis)
        shape = x.shape

        def backprop(dy):
            # Split every upsampled axis into (original, factor) and sum the factor.
            split = list(shape)
            split.insert(col_axis + 1, self.size[1])
            split.insert(row_axis + 1, self.size[0])
            return dy.reshape(split).sum(axis=(row_axis + 1, col_axis + 2))
        return y, backprop

    def nearest_upsampling(self):
        """The (rows, cols) factors by which the output repeats a
        channels-first input, for a layer after it that computes on the
        input before the upsampling (`forward_on_upsampled`); None for 'tf'
        ordering."""
        return tuple(self.size) if self.dim_ordering == 'th' else None

    def _forward_planes(self, x):
        """forward for channels-first float32 images, by the upsampling kernels."""
        N, C, H, W = x.shape
        fh, fw = self.size
        y = np.empty((N, C, H * fh, W * fw), np.float32)
        upsampling_kernels.upsample2d_forward(
            np.ascontiguousarray(x).reshape(N * C, H, W), y, fh, fw)

        def backprop(dy):
            dx = np.empty((N, C, H, W), np.float32)
            upsampling_kernels.upsample2d_backward(
                np.ascontiguousarray(dy, np.float32).reshape(N * C, -1), dx.reshape(N * C, H, W),
                fh, fw)
            return dx
        return y, backprop

    def get_config(self):
        config = super(UpSampling2D, self).get_config()
        # Keras 1.2.2 saved only 'size'; see ZeroPadding2D.get_config.
        config.update({'size': self.size, 'dim_ordering': self.dim_ordering})
        return config


def _cropping_pairs(layer, cropping, nb_axes, spelled):
    """`cropping` as `nb_axes` pairs of integers >= 0, or a ValueError naming the layer."""
    try:
        pairs = tuple(tuple(pair) for pair in cropping)
    except TypeError:
        pairs = ()
    if len(pairs) != nb_axes or any(len(pair) != 2 or not _non_negative_ints(pair)
                                    for pair in pairs):
        raise ValueError('%s: cropping must be %s, integers >= 0, got %r'
                         % (layer_label(layer), spelled, pairs))
    return tuple((int(a), int(b)) for a, b in pairs)


class Cropping2D(Layer):
    """Trims rows and columns off the borders of images.

    # Example
    ```python
        model.add(Cropping2D(cropping=((2, 2), (4, 4)), input_shape=(3, 28, 28)))
        # now model.output_shape == (None, 3, 24, 20)
    ```

    # Arguments
        cropping: ((top, bottom), (left, right)): how many rows and columns
            to trim off each border.
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).

    # Input shape
        4D `(samples, channels, rows, cols)` ('th') or
        `(samples, rows, cols, channels)` ('tf').

    # Output shape
        4D, with cropped rows and cols.
    """

    @keras2.keras2_arguments(keras2.CROPPING2D)
    def __init__(self, cropping=((0, 0), (0, 0)), dim_ordering='default', **kwargs):
        super(Cropping2D, self).__init__(**kwargs)
        self.cropping = _cropping_pairs(self, cropping, 2, '((top, bottom), (left, right))')
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)

    def get_output_shape_for(self, input_shape):
        channels, rows, cols = _check_image_input(self, input_shape)
        sizes = []
        for axis, size, (before, after) in (('rows', rows, self.cropping[0]),
                                            ('cols', cols, self.cropping[1])):
            if size is None:
                sizes.append(None)
                continue
            if before + after >= size:
                raise ValueError('Layer %s (Cropping2D): cropping %d + %d %s leaves nothing of an '
                                 'input of %d %s; input shape %s (dim_ordering=%r)'
                                 % (self.name, before, after, axis, size, axis,
                                    tuple(input_shape), self.dim_ordering))
            sizes.append(size - before - after)
        return image_shape(input_shape[0], channels, sizes[0], sizes[1], self.dim_ordering)

    def forward(self, x, training=False, need_input_grad=True):
        _, rows, cols = image_axes(self.get_output_shape_for(x.shape), self.dim_ordering)
        (top, _), (left, _) = self.cropping
        index = _spatial_slices(self.dim_ordering, slice(top, top + rows),
                                slice(left, left + cols))
        shape, dtype = x.shape, x.dtype

        def backprop(dy):
            dx = np.zeros(shape, dtype=dtype)
            dx[index] = dy
            return dx
        return x[index], backprop

    def get_config(self):
        config = super(Cropping2D, self).get_config()
        # Keras 1.2.2 saved only 'cropping'; see ZeroPadding2D.get_config.
        config.update({'cropping': self.cropping, 'dim_ordering': self.dim_ordering})
        return config


def _check_temporal_input(layer, shape):
    check_rank(layer, shape, 3, 'samples, steps, features')
    return shape[1]


def _steps_shape(input_shape, steps):
    return (input_shape[0], steps, input_shape[2])


class UpSampling1D(Layer):
    """Repeats every step of temporal data `length` times along the steps.

    # Example
    ```python
        model.add(UpSampling1D(3, input_shape=(10, 4)))
        # now model.output_shape == (None, 30, 4)
    ```

    # Arguments
        length: int > 0, the upsampling factor.

    # Input shape
        3D `(samples, steps, features)`.

    # Output shape
        3D `(samples, steps * length, features)`.
    """

    @keras2.keras2_arguments(keras2.UPSAMPLING1D)
    def __init__(self, length=2, **kwargs):
        super(UpSampling1D, self).__init__(**kwargs)
        self.length = positive_int(self, 'length', length)

    def get_output_shape_for(self, input_shape):
        steps = _check_temporal_input(self, input_shape)
        return _steps_shape(input_shape, steps * self.length if steps is not None else None)

    def forward(self, x, training=False, need_input_grad=True):
        _check_temporal_input(self, x.shape)
        samples, steps, features = x.shape

        def backprop(dy):
            return dy.reshape(samples, steps, self.length, features).sum(axis=2)
        return np.repeat(x, self.length, axis=1), backprop

    def get_config(self):
        config = super(UpSampling1D, self).get_config()
        config['length'] = self.length
        return config


class ZeroPadding1D(Layer):
    """Adds steps of zeros at the start and at the end of temporal data.

    # Example
    ```python
        model.add(ZeroPadding1D((1, 2), input_shape=(10, 4)))
        # now model.output_shape == (None, 13, 4)
    ```

    # Arguments
        padding: an int (as many zeros at the start as at the end), a
            tuple (left_pad, right_pad), or a dict with some of the keys
            'left_pad' and 'right_pad' (0 for the other).

    # Input shape
        3D `(samples, steps, features)`.

    # Output shape
        3D `(samples, left_pad + steps + right_pad, features)`.
    """

    _KEYS = ('left_pad', 'right_pad')

    def __init__(self, padding=1, **kwargs):
        super(ZeroPadding1D, self).__init__(**kwargs)
        if isinstance(padding, dict):
            unknown = set(padding) - set(self._KEYS)
            if unknown:
                raise ValueError('%s: unexpected padding keys %s; the keys are '
                                 '%s' % (layer_label(self), sorted(unknown), self._KEYS))
            pads = tuple(padding.get(key, 0) for key in self._KEYS)
        elif isinstance(padding, (list, tuple)):
            pads = tuple(padding)
        else:
            pads = (padding, padding)
        if len(pads) != 2 or not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool)
                                     for p in pads) or not _non_negative_ints(pads):
            raise ValueError('%s: padding must be an integer >= 0, (left_pad, '
                             'right_pad) or a dict, got %r' % (layer_label(self), padding))
        self.padding = padding
        self.left_pad, self.right_pad = int(pads[0]), int(pads[1])

    def get_output_shape_for(self, input_shape):
        steps = _check_temporal_input(self, input_shape)
        if steps is not None:
            steps += self.left_pad + self.right_pad
        return _steps_shape(input_shape, steps)

    def forward(self, x, training=False, need_input_grad=True):
        steps = _check_temporal_input(self, x.shape)
        y = np.pad(x, ((0, 0), (self.left_pad, self.right_pad), (0, 0)), mode='constant')
        kept = slice(self.left_pad, self.left_pad + steps)

        def backprop(dy):
            return dy[:, kept]
        return y, backprop

    def get_config(self):
        config = super(ZeroPadding1D, self).get_config()
        config['padding'] = self.padding
        return config


class Cropping1D(Layer):
    """Trims steps off the start and the end of temporal data.

    # Example
    ```python
        model.add(Cropping1D((2, 1), input_shape=(10, 4)))
        # now model.output_shape == (None, 7, 4)
    ```

    # Arguments
        cropping: (start, end): how many steps to trim off each end.

    # Input shape
        3D `(samples, steps, features)`.

    # Output shape
        3D `(samples, steps - start - end, features)`.
    """

    def __init__(self, cropping=(1, 1), **kwargs):
        super(Cropping1D, self).__init__(**kwargs)
        try:
            cropping = tuple(cropping)
        except TypeError:
            cropping = ()
        if len(cropping) != 2 or not _non_negative_ints(cropping):
            raise ValueError('%s: cropping must be (start, end), integers >= 0, '
                             'got %r' % (layer_label(self), cropping))
        self.cropping = (int(cropping[0]), int(cropping[1]))

    def get_output_shape_for(self, input_shape):
        steps = _check_temporal_input(self, input_shape)
        if steps is None:
            return _steps_shape(input_shape, None)
        start, end = self.cropping
        if start + end >= steps:
            raise ValueError('Layer %s (Cropping1D): cropping %d + %d steps leaves nothing of an '
                             'input of %d steps; input shape %s'
                             % (self.name, start, end, steps, tuple(input_shape)))
        return _steps_shape(input_shape, steps - start - end)

    def forward(self, x, training=False, need_input_grad=True):
        steps = self.get_output_shape_for(x.shape)[1]
        kept = slice(self.cropping[0], self.cropping[0] + steps)
        shape, dtype = x.shape, x.dtype

        def backprop(dy):
            dx = np.zeros(shape, dtype=dtype)
            dx[:, kept] = dy
            return dx
        return x[:, kept], backprop

    def get_config(self):
        config = super(Cropping1D, self).get_config()
        config['cropping'] = self.cropping
        return config


# Keras 1.2.2's short names, for the layers that exist here.
Conv1D = Convolution1D
Conv2D = Convolution2D


# ---------------------------------------------------------------------------
# The rest of Keras 1.2.2's convolution family: dilated, transposed,
# separable and 3D convolutions, and the 3D shape layers. They run the
# im2col + BLAS kernels of `kernels/convnd.py` on channels-first volumes
# (N, C, D, H, W); an image is a volume of depth 1.
# ---------------------------------------------------------------------------

def _to_volume(x, dim_ordering):
    """A contiguous float32 (N, C, D, H, W) copy or view of a 4D or 5D batch."""
    if dim_ordering == 'tf':
        x = np.moveaxis(x, -1, 1)
    x = np.ascontiguousarray(x, dtype='float32')
    return x[:, :, None] if x.ndim == 4 else x


def _from_volume(v, dim_ordering, rank):
    """Back to the layer's ordering from (N, C, D, H, W), `rank` spatial axes."""
    if rank == 2:
        v = v[:, :, 0]
    return np.moveaxis(v, 1, -1) if dim_ordering == 'tf' else v


def _spatial_sizes(input_shape, dim_ordering):
    return tuple(input_shape[2:]) if dim_ordering == 'th' else tuple(input_shape[1:-1])


def _channels(input_shape, dim_ordering):
    return input_shape[1] if dim_ordering == 'th' else input_shape[-1]


def _volume_shape(batch, channels, sizes, dim_ordering):
    if dim_ordering == 'th':
        return (batch, channels) + tuple(sizes)
    return (batch,) + tuple(sizes) + (channels,)


def _conv_geometry(layer, sizes, kernel, strides, dilations):
    """(pads, out_sizes) along every spatial axis, checking that windows fit."""
    pads, outs = [], []
    for axis, (size, k, s, d) in enumerate(zip(sizes, kernel, strides, dilations)):
        span = convnd.dilated_size(k, d)
        out = conv_kernels.conv_output_length(size, span, layer.border_mode, s)
        if out < 1:
            raise ValueError('%s: a kernel spanning %d (size %d, dilation %d) does not fit '
                             'the %d positions of spatial axis %d with border_mode=%r; use '
                             "border_mode='same' or a smaller kernel"
                             % (layer_label(layer), span, k, d, size, axis, layer.border_mode))
        pad, out = conv_kernels.conv_padding(size, span, layer.border_mode, s)
        pads.append(pad)
        outs.append(out)
    return tuple(pads), tuple(outs)


def _padded3(values, rank, fill):
    """A spatial tuple of `rank` entries as the 3 entries of a volume."""
    return (fill,) * (3 - rank) + tuple(values)


def _bias_or_zeros(layer, filters):
    return layer.b if layer.b is not None else np.zeros(filters, dtype='float32')


class _VolumeConvolution(Layer):
    """Shared by the convolutions that run on `kernels/convnd.py`: a 'th'
    kernel of shape (nb_filter, channels) + kernel size, optional dilation."""

    _rank = 2

    def _kernel_size(self):
        return (self.nb_row, self.nb_col)

    def _dilation(self):
        return (1,) * self._rank

    def _check_rank(self, input_shape):
        if self._rank == 2:
            check_image_rank(self, input_shape)
        else:
            check_rank(self, input_shape, 5, 'samples, ' + (
                'channels, dim1, dim2, dim3' if self.dim_ordering == 'th'
                else 'dim1, dim2, dim3, channels'))

    def _output_sizes(self, input_shape):
        self._check_rank(input_shape)
        sizes = _spatial_sizes(input_shape, self.dim_ordering)
        if any(s is None for s in sizes):
            return tuple(None if s is None else conv_kernels.conv_output_length(
                s, convnd.dilated_size(k, d), self.border_mode, st)
                for s, k, st, d in zip(sizes, self._kernel_size(), self.subsample,
                                       self._dilation()))
        return _conv_geometry(self, sizes, self._kernel_size(), self.subsample,
                              self._dilation())[1]

    def get_output_shape_for(self, input_shape):
        return _volume_shape(input_shape[0], self.nb_filter, self._output_sizes(input_shape),
                             self.dim_ordering)

    def build(self, input_shape):
        self._output_sizes(input_shape)
        channels = _channels(input_shape, self.dim_ordering)
        check_known_channels(self, channels, input_shape)
        if self.dim_ordering == 'th':
            shape = (self.nb_filter, channels) + self._kernel_size()
        else:
            shape = self._kernel_size() + (channels, self.nb_filter)
        self.W = self.add_weight(shape, self.init, name=self.name + '_W',
                                 regularizer=self.W_regularizer, constraint=self.W_constraint,
                                 dim_ordering=self.dim_ordering)
        self.b = None
        if self.bias:
            self.b = self.add_weight((self.nb_filter,), 'zero', name=self.name + '_b',
                                     regularizer=self.b_regularizer,
                                     constraint=self.b_constraint)

    def _kernel_volume(self):
        """The kernel as (F, C, KD, KH, KW), 'th' layout."""
        kernel = self.W if self.dim_ordering == 'th' else np.moveaxis(
            np.moveaxis(self.W, -1, 0), -1, 1)
        kernel = np.ascontiguousarray(kernel, dtype='float32')
        return kernel[:, :, None] if self._rank == 2 else kernel

    def _add_kernel_gradient(self, dw_volume):
        dw = dw_volume[:, :, 0] if self._rank == 2 else dw_volume
        if self.dim_ordering == 'tf':
            dw = np.moveaxis(np.moveaxis(dw, 0, -1), 0, -2)
        self.gradients[0] += dw

    def forward(self, x, training=False, need_input_grad=True):
        sizes = _spatial_sizes(x.shape, self.dim_ordering)
        self._check_rank(x.shape)
        pads, outs = _conv_geometry(self, sizes, self._kernel_size(), self.subsample,
                                    self._dilation())
        rank = self._rank
        geometry = (_padded3(self.subsample, rank, 1), _padded3(self._dilation(), rank, 1),
                    _padded3(pads, rank, 0))
        x_v = _to_volume(x, self.dim_ordering)
        kernel = self._kernel_volume()
        z_v = np.empty((x_v.shape[0], self.nb_filter) + _padded3(outs, rank, 1),
                       dtype='float32')
        convnd.convnd_forward(x_v, kernel, _bias_or_zeros(self, self.nb_filter), z_v,
                              *geometry)
        z = _from_volume(z_v, self.dim_ordering, rank)
        y = activations.apply(self.activation, z)

        def backprop(dy):
            dz = _to_volume(activations.gradient(self.activation, z, y, dy), self.dim_ordering)
            dw = np.empty_like(kernel)
            db = np.empty(self.nb_filter, dtype='float32')
            convnd.convnd_backward_weights(x_v, dz, dw, db, *geometry)
            self._add_kernel_gradient(dw)
            if self.b is not None:
                self.gradients[1] += db
            if not need_input_grad:
                return None
            dx = np.empty_like(x_v)
            convnd.convnd_backward_input(dz, kernel, dx, *geometry)
            return _from_volume(dx, self.dim_ordering, rank)
        return y, backprop


class AtrousConvolution2D(_VolumeConvolution, Convolution2D):
    """2D convolution with holes (dilated convolution): the kernel's taps are
    `atrous_rate` rows and columns apart.

    # Example
    ```python
        model.add(AtrousConvolution2D(64, 3, 3, atrous_rate=(2, 2), border_mode='valid',
                                      input_shape=(3, 256, 256)))
        # now model.output_shape == (None, 64, 252, 252)
    ```

    # Arguments
        nb_filter, nb_row, nb_col, init, activation, weights, border_mode,
        subsample, W_regularizer, b_regularizer, activity_regularizer,
        W_constraint, b_constraint, dim_ordering, bias: as for Convolution2D.
        atrous_rate: (rows, cols) dilation; a kernel of k taps spans
            (k - 1) * rate + 1 positions, and the output sizes follow that span.

    # Input shape
        4D `(samples, channels, rows, cols)` ('th') or
        `(samples, rows, cols, channels)` ('tf').

    # Output shape
        4D `(samples, nb_filter, new_rows, new_cols)` ('th') or
        `(samples, new_rows, new_cols, nb_filter)` ('tf').

    # Weights
        As Convolution2D's: `W` (nb_filter, channels, nb_row, nb_col) for 'th',
        (nb_row, nb_col, channels, nb_filter) for 'tf'; `b` (nb_filter,).
    """

    @keras2.keras2_arguments(keras2.ATROUS_CONV2D)
    def __init__(self, nb_filter, nb_row, nb_col, init='glorot_uniform', activation=None,
                 weights=None, border_mode='valid', subsample=(1, 1), atrous_rate=(1, 1),
                 dim_ordering='default', W_regularizer=None, b_regularizer=None,
                 activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True,
                 **kwargs):
        super(AtrousConvolution2D, self).__init__(
            nb_filter, nb_row, nb_col, init=init, activation=activation, weights=weights,
            border_mode=border_mode, subsample=subsample, dim_ordering=dim_ordering,
            W_regularizer=W_regularizer, b_regularizer=b_regularizer,
            activity_regularizer=activity_regularizer, W_constraint=W_constraint,
            b_constraint=b_constraint, bias=bias, **kwargs)
        self.atrous_rate = positive_ints(self, 'atrous_rate', atrous_rate, 2)

    def _dilation(self):
        return self.atrous_rate

    def get_config(self):
        config = super(AtrousConvolution2D, self).get_config()
        config['atrous_rate'] = self.atrous_rate
        return config


def transposed_forward(layer, x, kernel, out_sizes, geometry, add_kernel_gradient,
                       need_input_grad):
    """The forward protocol of a transposed convolution: the input gradient
    of the convolution whose 'th' volume kernel is `kernel` (input channels
    of `x`, nb_filter, taps) and whose strides, dilations and pads are
    `geometry`, plus the bias, through the activation.
    `add_kernel_gradient(dk)` gets the gradient of `kernel`."""
    rank = len(out_sizes)
    x_v = _to_volume(x, layer.dim_ordering)
    z_v = np.empty((x_v.shape[0], layer.nb_filter) + _padded3(out_sizes, rank, 1),
                   dtype='float32')
    convnd.convnd_backward_input(x_v, kernel, z_v, *geometry)
    if layer.b is not None:
        z_v += layer.b.reshape(-1, 1, 1, 1)
    z = _from_volume(z_v, layer.dim_ordering, rank)
    y = activations.apply(layer.activation, z)

    def backprop(dy):
        dz = _to_volume(activations.gradient(layer.activation, z, y, dy), layer.dim_ordering)
        # The adjoint of "the input gradient of a convolution" is that
        # convolution, and its kernel gradient swaps the roles of x and dz.
        dk = np.empty_like(kernel)
        unused_db = np.empty(kernel.shape[0], dtype='float32')
        convnd.convnd_backward_weights(dz, x_v, dk, unused_db, *geometry)
        add_kernel_gradient(dk)
        if layer.b is not None:
            layer.gradients[1] += dz.sum(axis=(0, 2, 3, 4), dtype='float32')
        if not need_input_grad:
            return None
        dx = np.empty_like(x_v)
        convnd.convnd_forward(dz, kernel, np.zeros(kernel.shape[0], dtype='float32'), dx,
                              *geometry)
        return _from_volume(dx, layer.dim_ordering, rank)
    return y, backprop


class Deconvolution2D(Convolution2D):
    """Transposed convolution over images: the gradient of a Convolution2D
    for its input, as a layer. It maps something shaped like a convolution's
    output to something shaped like that convolution's input.

    # Example
    ```python
        model.add(Deconvolution2D(3, 3, 3, output_shape=(None, 3, 25, 25), subsample=(2, 2),
                                  border_mode='valid', input_shape=(3, 12, 12)))
        # now model.output_shape == (None, 3, 25, 25)
    ```

    # Arguments
        nb_filter: number of output channels.
        nb_row, nb_col: kernel size.
        output_shape: the full output shape, `(samples, nb_filter, rows, cols)`
            ('th') or `(samples, rows, cols, nb_filter)` ('tf'); the samples
            entry is ignored. Several output sizes give the same input size
            when the stride is above 1, so it must be given; it is checked:
            a Convolution2D with the same kernel, border_mode and subsample
            must take it back to the input's size.
        init, activation, weights, border_mode ('valid', 'same', 'full'),
        subsample, W_regularizer, b_regularizer, activity_regularizer,
        W_constraint, b_constraint, dim_ordering, bias: as for Convolution2D.

    # Input shape
        4D `(samples, channels, rows, cols)` ('th') or
        `(samples, rows, cols, channels)` ('tf').

    # Output shape
        4D, the rows and cols of `output_shape`, `nb_filter` channels.

    # Weights
        As Keras 1.2.2: `W` of shape (nb_filter, channels, nb_row, nb_col)
        for 'th' and (nb_row, nb_col, channels, nb_filter) for 'tf' (channels
        being the input's); `b` of shape (nb_filter,).
    """

    def __init__(self, nb_filter, nb_row, nb_col, output_shape, init='glorot_uniform',
                 activation=None, weights=None, border_mode='valid', subsample=(1, 1),
                 dim_ordering='default', W_regularizer=None, b_regularizer=None,
                 activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True,
                 **kwargs):
        super(Deconvolution2D, self).__init__(
            nb_filter, nb_row, nb_col, init=init, activation=activation, weights=weights,
            border_mode=border_mode, subsample=subsample, dim_ordering=dim_ordering,
            W_regularizer=W_regularizer, b_regularizer=b_regularizer,
            activity_regularizer=activity_regularizer, W_constraint=W_constraint,
            b_constraint=b_constraint, bias=bias, **kwargs)
        try:
            output_shape = tuple(output_shape)
        except TypeError:
            output_shape = ()
        if len(output_shape) != 4:
            raise ValueError('%s: output_shape must be 4 entries (samples, %s), got %r'
                             % (layer_label(self), image_axis_names(self.dim_ordering),
                                output_shape))
        channels, rows, cols = image_axes(output_shape, self.dim_ordering)
        positive_ints(self, 'the rows and cols of output_shape', (rows, cols), 2)
        if channels is not None and channels != self.nb_filter:
            raise ValueError('%s: output_shape %r has %r channels, but nb_filter is %d'
                             % (layer_label(self), output_shape, channels, self.nb_filter))
        self.output_shape_ = output_shape
        self._out_rows, self._out_cols = int(rows), int(cols)

    def _check_input(self, input_shape):
        check_image_rank(self, input_shape)
        channels, rows, cols = image_axes(input_shape, self.dim_ordering)
        for axis, size, out, k, s in (('rows', rows, self._out_rows, self.nb_row,
                                       self.subsample[0]),
                                      ('cols', cols, self._out_cols, self.nb_col,
                                       self.subsample[1])):
            back = conv_kernels.conv_output_length(out, k, self.border_mode, s)
            if size is not None and back != size:
                raise ValueError(
                    '%s: output_shape %r does not fit an input of %d %s: a convolution of '
                    'its %d %s (kernel %d, stride %d, border_mode=%r) gives %d %s, not %d; '
                    'input shape %s (dim_ordering=%r)'
                    % (layer_label(self), self.output_shape_, size, axis, out, axis, k, s,
                       self.border_mode, back, axis, size, tuple(input_shape),
                       self.dim_ordering))
        return channels, rows, cols

    def get_output_shape_for(self, input_shape):
        self._check_input(input_shape)
        return image_shape(input_shape[0], self.nb_filter, self._out_rows, self._out_cols,
                           self.dim_ordering)

    def _transposed_geometry(self):
        pad_top, _ = conv_kernels.conv_padding(self._out_rows, self.nb_row, self.border_mode,
                                               self.subsample[0])
        pad_left, _ = conv_kernels.conv_padding(self._out_cols, self.nb_col, self.border_mode,
                                                self.subsample[1])
        return ((1,) + tuple(self.subsample), (1, 1, 1), (0, pad_top, pad_left))

    def _forward_kernel(self):
        """The kernel of the convolution this layer transposes, which maps
        nb_filter channels to the input's: (channels, nb_filter, 1, rows, cols)."""
        kernel = self.W if self.dim_ordering == 'th' else self.W.transpose(3, 2, 0, 1)
        return np.ascontiguousarray(kernel.transpose(1, 0, 2, 3)[:, :, None], dtype='float32')

    def forward(self, x, training=False, need_input_grad=True):
        self._check_input(x.shape)

        def add_kernel_gradient(dk):
            dw = dk[:, :, 0].transpose(1, 0, 2, 3)
            self.gradients[0] += dw if self.dim_ordering == 'th' else dw.transpose(2, 3, 1, 0)
        return transposed_forward(self, x, self._forward_kernel(), (self._out_rows,
                                                                   self._out_cols),
                                  self._transposed_geometry(), add_kernel_gradient,
                                  need_input_grad)

    def get_config(self):
        config = super(Deconvolution2D, self).get_config()
        config['output_shape'] = self.output_shape_
        return config


class SeparableConvolution2D(Layer):
    """Depthwise separable 2D convolution: each input channel is convolved on
    its own with `depth_multiplier` kernels (the depthwise step), then a 1x1
    convolution mixes the resulting channels into `nb_filter` (the pointwise
    step).

    # Example
    ```python
        model.add(SeparableConvolution2D(32, 3, 3, depth_multiplier=2, border_mode='same',
                                         input_shape=(3, 64, 64)))
        # now model.output_shape == (None, 32, 64, 64)
    ```

    # Arguments
        nb_filter: number of output channels.
        nb_row, nb_col: kernel size of the depthwise step.
        init: name of the initialization of both kernels.
        activation: name of the activation function (linear when None).
        weights: list of arrays [depthwise, pointwise, b] to start from.
        border_mode: 'valid' or 'same'.
        subsample: (rows, cols) strides of the depthwise step.
        depth_multiplier: how many channels the depthwise step makes of each
            input channel; channel c gives channels c * depth_multiplier ...
            (c + 1) * depth_multiplier - 1.
        depthwise_regularizer, pointwise_regularizer, b_regularizer,
        activity_regularizer: optional penalties.
        depthwise_constraint, pointwise_constraint, b_constraint: optional
            weight constraints.
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).
        bias: whether to include the bias `b`.

    # Input shape
        4D `(samples, channels, rows, cols)` ('th') or
        `(samples, rows, cols, channels)` ('tf').

    # Output shape
        4D `(samples, nb_filter, new_rows, new_cols)` ('th') or
        `(samples, new_rows, new_cols, nb_filter)` ('tf').

    # Weights
        As Keras 1.2.2: 'th': depthwise (depth_multiplier, channels, nb_row,
        nb_col), pointwise (nb_filter, depth_multiplier * channels, 1, 1);
        'tf': depthwise (nb_row, nb_col, channels, depth_multiplier),
        pointwise (1, 1, depth_multiplier * channels, nb_filter); `b`
        (nb_filter,).
    """

    @keras2.keras2_arguments(keras2.SEPARABLE_CONV2D)
    def __init__(self, nb_filter, nb_row, nb_col, init='glorot_uniform', activation=None,
                 weights=None, border_mode='valid', subsample=(1, 1), depth_multiplier=1,
                 dim_ordering='default', depthwise_regularizer=None, pointwise_regularizer=None,
                 b_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, b_constraint=None, bias=True, **kwargs):
        super(SeparableConvolution2D, self).__init__(weights=weights, **kwargs)
        self.nb_row = positive_int(self, 'nb_row', nb_row)
        self.nb_col = positive_int(self, 'nb_col', nb_col)
        self.subsample = positive_ints(self, 'subsample', subsample, 2)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)
        self._separable_settings(
            nb_filter, init, activation, border_mode, depth_multiplier, depthwise_regularizer,
            pointwise_regularizer, b_regularizer, activity_regularizer, depthwise_constraint,
            pointwise_constraint, b_constraint, bias)

    def _separable_settings(self, nb_filter, init, activation, border_mode, depth_multiplier,
                            depthwise_regularizer, pointwise_regularizer, b_regularizer,
                            activity_regularizer, depthwise_constraint, pointwise_constraint,
                            b_constraint, bias):
        """The arguments every separable convolution shares, checked and kept."""
        self.nb_filter = positive_int(self, 'nb_filter', nb_filter)
        self.border_mode = one_of(self, 'border_mode', border_mode, ('valid', 'same'))
        self.depth_multiplier = positive_int(self, 'depth_multiplier', depth_multiplier)
        self.activation = activations.get(activation)
        self.init = init
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.b_constraint = constraints.get(b_constraint)
        self.bias = bias

    def _geometry(self, input_shape):
        check_image_rank(self, input_shape)
        _, rows, cols = image_axes(input_shape, self.dim_ordering)
        if rows is None or cols is None:
            return None, tuple(conv_kernels.conv_output_length(s, k, self.border_mode, st)
                               if s is not None else None for s, k, st in
                               zip((rows, cols), (self.nb_row, self.nb_col), self.subsample))
        return _conv_geometry(self, (rows, cols), (self.nb_row, self.nb_col), self.subsample,
                              (1, 1))

    def get_output_shape_for(self, input_shape):
        rows, cols = self._geometry(input_shape)[1]
        return image_shape(input_shape[0], self.nb_filter, rows, cols, self.dim_ordering)

    def build(self, input_shape):
        self._geometry(input_shape)
        channels = image_axes(input_shape, self.dim_ordering)[0]
        check_known_channels(self, channels, input_shape)
        depthwise, pointwise = self._kernel_shapes(channels)
        self.depthwise_kernel = self.add_weight(
            depthwise, self.init, name=self.name + '_depthwise_kernel',
            regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint,
            dim_ordering=self.dim_ordering)
        self.pointwise_kernel = self.add_weight(
            pointwise, self.init, name=self.name + '_pointwise_kernel',
            regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint,
            dim_ordering=self.dim_ordering)
        self.b = None
        if self.bias:
            self.b = self.add_weight((self.nb_filter,), 'zero', name=self.name + '_b',
                                     regularizer=self.b_regularizer,
                                     constraint=self.b_constraint)

    def _kernel_shapes(self, channels):
        """The shapes of the depthwise and the pointwise kernel."""
        middle = self.depth_multiplier * channels
        if self.dim_ordering == 'th':
            return ((self.depth_multiplier, channels, self.nb_row, self.nb_col),
                    (self.nb_filter, middle, 1, 1))
        return ((self.nb_row, self.nb_col, channels, self.depth_multiplier),
                (1, 1, middle, self.nb_filter))

    def _kernels(self):
        """(depthwise as grouped 'th' volume kernel (C*M, 1, 1, KH, KW),
        pointwise as a matrix (F, C*M))."""
        if self.dim_ordering == 'th':
            depthwise = self.depthwise_kernel.transpose(1, 0, 2, 3)       # (C, M, KH, KW)
            pointwise = self.pointwise_kernel[:, :, 0, 0]
        else:
            # a 'tf' kernel without its axes of 1 (SeparableConv1D's) reads the same
            depthwise = self.depthwise_kernel.reshape(
                (self.nb_row, self.nb_col) + self.depthwise_kernel.shape[-2:])
            depthwise = depthwise.transpose(2, 3, 0, 1)
            pointwise = self.pointwise_kernel.reshape(-1, self.nb_filter).T
        channels = depthwise.shape[0]
        depthwise = depthwise.reshape((channels * self.depth_multiplier, 1, 1) +
                                      depthwise.shape[2:])
        return (np.ascontiguousarray(depthwise, dtype='float32'),
                np.ascontiguousarray(pointwise, dtype='float32'))

    def forward(self, x, training=False, need_input_grad=True):
        pads, (rows, cols) = self._geometry(x.shape)
        geometry = ((1,) + self.subsample, (1, 1, 1), (0,) + pads)
        x_v = _to_volume(x, self.dim_ordering)
        n, channels = x_v.shape[:2]
        depthwise, pointwise = self._kernels()
        middle = depthwise.shape[0]
        hidden = np.empty((n, middle, 1, rows, cols), dtype='float32')
        convnd.convnd_forward(x_v, depthwise, np.zeros(middle, dtype='float32'), hidden,
                              *geometry, groups=channels)
        hidden_m = hidden.reshape(n, middle, rows * cols)
        z_cf = np.matmul(pointwise, hidden_m)
        if self.b is not None:
            z_cf += self.b[:, None]
        z = from_channels_first(z_cf.reshape(n, self.nb_filter, rows, cols), self.dim_ordering)
        y = activations.apply(self.activation, z)

        def backprop(dy):
            dz = to_channels_first(activations.gradient(self.activation, z, y, dy),
                                   self.dim_ordering)
            dz_m = dz.reshape(n, self.nb_filter, rows * cols)
            dpoint = np.matmul(dz_m.transpose(1, 0, 2).reshape(self.nb_filter, -1),
                               hidden_m.transpose(1, 0, 2).reshape(middle, -1).T)
            dhidden = np.ascontiguousarray(
                np.matmul(pointwise.T, dz_m).reshape(hidden.shape), dtype='float32')
            ddepth = np.empty_like(depthwise)
            unused_db = np.empty(middle, dtype='float32')
            convnd.convnd_backward_weights(x_v, dhidden, ddepth, unused_db, *geometry,
                                           groups=channels)
            ddepth = ddepth.reshape((channels, self.depth_multiplier) + ddepth.shape[3:])
            if self.dim_ordering == 'th':
                self.gradients[0] += ddepth.transpose(1, 0, 2, 3)
                self.gradients[1] += dpoint[:, :, None, None]
            else:
                self.gradients[0] += ddepth.transpose(2, 3, 0, 1).reshape(
                    self.gradients[0].shape)
                self.gradients[1] += dpoint.T.reshape(self.gradients[1].shape)
            if self.b is not None:
                self.gradients[2] += dz.sum(axis=(0, 2, 3), dtype='float32')
            if not need_input_grad:
                return None
            dx = np.empty_like(x_v)
            convnd.convnd_backward_input(dhidden, depthwise, dx, *geometry, groups=channels)
            return _from_volume(dx, self.dim_ordering, 2)
        return y, backprop

    def get_config(self):
        config = super(SeparableConvolution2D, self).get_config()
        config.update({
            'nb_filter': self.nb_filter, 'nb_row': self.nb_row, 'nb_col': self.nb_col,
            'init': self.init, 'activation': activations.serialize(self.activation),
            'border_mode': self.border_mode, 'subsample': self.subsample,
            'depth_multiplier': self.depth_multiplier, 'dim_ordering': self.dim_ordering,
            'depthwise_regularizer': _config_or_none(self.depthwise_regularizer),
            'pointwise_regularizer': _config_or_none(self.pointwise_regularizer),
            'b_regularizer': _config_or_none(self.b_regularizer),
            'activity_regularizer': _config_or_none(self.activity_regularizer),
            'depthwise_constraint': _config_or_none(self.depthwise_constraint),
            'pointwise_constraint': _config_or_none(self.pointwise_constraint),
            'b_constraint': _config_or_none(self.b_constraint), 'bias': self.bias})
        return config


class Convolution3D(_VolumeConvolution):
    """3D convolution (cross-correlation) over volumes (e.g. video frames or
    scans).

    # Example
    ```python
        model.add(Convolution3D(8, 3, 3, 3, input_shape=(1, 16, 32, 32)))
        # now model.output_shape == (None, 8, 14, 30, 30)
    ```

    # Arguments
        nb_filter: number of convolution kernels.
        kernel_dim1, kernel_dim2, kernel_dim3: kernel size along the three
            spatial axes.
        init: name of the initialization for `W`.
        activation: name of the activation function (linear when None).
        weights: list of arrays [W, b] to start from.
        border_mode: 'valid', 'same' or 'full'.
        subsample: (dim1, dim2, dim3) strides.
        W_regularizer, b_regularizer, activity_regularizer: optional penalties.
        W_constraint, b_constraint: optional weight constraints.
        dim_ordering: 'th' (channels first), 'tf' (channels last) or 'default'.
        bias: whether to include the bias `b`.

    # Input shape
        5D `(samples, channels, dim1, dim2, dim3)` ('th') or
        `(samples, dim1, dim2, dim3, channels)` ('tf').

    # Output shape
        5D, `nb_filter` channels and the new spatial sizes.

    # Weights
        `W` of shape (nb_filter, channels, kernel_dim1, kernel_dim2,
        kernel_dim3) for 'th' and (kernel_dim1, kernel_dim2, kernel_dim3,
        channels, nb_filter) for 'tf'; `b` of shape (nb_filter,).
    """

    _rank = 3

    @keras2.keras2_arguments(keras2.CONV3D)
    def __init__(self, nb_filter, kernel_dim1, kernel_dim2, kernel_dim3,
                 init='glorot_uniform', activation=None, weights=None, border_mode='valid',
                 subsample=(1, 1, 1), dim_ordering='default', W_regularizer=None,
                 b_regularizer=None, activity_regularizer=None, W_constraint=None,
                 b_constraint=None, bias=True, **kwargs):
        super(Convolution3D, self).__init__(weights=weights, **kwargs)
        self.nb_filter = positive_int(self, 'nb_filter', nb_filter)
        self.kernel_dim1 = positive_int(self, 'kernel_dim1', kernel_dim1)
        self.kernel_dim2 = positive_int(self, 'kernel_dim2', kernel_dim2)
        self.kernel_dim3 = positive_int(self, 'kernel_dim3', kernel_dim3)
        self.border_mode = one_of(self, 'border_mode', border_mode, _BORDER_MODES)
        self.activation = activations.get(activation)
        self.subsample = positive_ints(self, 'subsample', subsample, 3)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)
        _weight_layer_settings(self, init, W_regularizer, b_regularizer, activity_regularizer,
                               W_constraint, b_constraint, bias)

    def _kernel_size(self):
        return (self.kernel_dim1, self.kernel_dim2, self.kernel_dim3)

    def get_config(self):
        config = super(Convolution3D, self).get_config()
        config.update({
            'nb_filter': self.nb_filter, 'kernel_dim1': self.kernel_dim1,
            'kernel_dim2': self.kernel_dim2, 'kernel_dim3': self.kernel_dim3,
            'activation': activations.serialize(self.activation),
            'border_mode': self.border_mode, 'subsample': self.subsample,
            'dim_ordering': self.dim_ordering})
        config.update(_weight_layer_config(self))
        return config


def _check_volume_input(layer, input_shape):
    check_rank(layer, input_shape, 5, 'samples, ' + (
        'channels, dim1, dim2, dim3' if layer.dim_ordering == 'th'
        else 'dim1, dim2, dim3, channels'))
    return _spatial_sizes(input_shape, layer.dim_ordering)


def _spatial_axes(dim_ordering):
    return (2, 3, 4) if dim_ordering == 'th' else (1, 2, 3)


def _with_sizes(input_shape, dim_ordering, sizes):
    return _volume_shape(input_shape[0], _channels(input_shape, dim_ordering), sizes,
                         dim_ordering)


class UpSampling3D(Layer):
    """Repeats the entries of volumes `size[0]`, `size[1]` and `size[2]` times
    along their three spatial axes (nearest-neighbour upsampling).

    # Arguments
        size: (dim1, dim2, dim3) integer factors.
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).

    # Input shape
        5D `(samples, channels, dim1, dim2, dim3)` ('th') or
        `(samples, dim1, dim2, dim3, channels)` ('tf').

    # Output shape
        5D, every spatial size multiplied by its factor.
    """

    @keras2.keras2_arguments(keras2.UPSAMPLING3D)
    def __init__(self, size=(2, 2, 2), dim_ordering='default', **kwargs):
        super(UpSampling3D, self).__init__(**kwargs)
        self.size = positive_ints(self, 'size', size, 3)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)

    def get_output_shape_for(self, input_shape):
        sizes = _check_volume_input(self, input_shape)
        return _with_sizes(input_shape, self.dim_ordering,
                           [s * f if s is not None else None for s, f in zip(sizes, self.size)])

    def forward(self, x, training=False, need_input_grad=True):
        _check_volume_input(self, x.shape)
        axes = _spatial_axes(self.dim_ordering)
        y = x
        for axis, factor in zip(axes, self.size):
            y = np.repeat(y, factor, axis=axis)
        shape = x.shape

        def backprop(dy):
            split = []
            for axis, length in enumerate(shape):
                split.append(length)
                if axis in axes:
                    split.append(self.size[axes.index(axis)])
            summed = tuple(axis + 1 + axes.index(axis) for axis in axes)
            return dy.reshape(split).sum(axis=summed)
        return y, backprop

    def get_config(self):
        config = super(UpSampling3D, self).get_config()
        # Keras 1.2.2 saved only 'size'; see ZeroPadding2D.get_config.
        config.update({'size': self.size, 'dim_ordering': self.dim_ordering})
        return config


class ZeroPadding3D(Layer):
    """Adds zeros on both sides of each spatial axis of volumes.

    # Arguments
        padding: (dim1, dim2, dim3): as many zeros before as after along each
            spatial axis.
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).

    # Input shape
        5D `(samples, channels, dim1, dim2, dim3)` ('th') or
        `(samples, dim1, dim2, dim3, channels)` ('tf').

    # Output shape
        5D, each spatial size grown by twice its padding.
    """

    @keras2.keras2_arguments(keras2.ZEROPADDING3D)
    def __init__(self, padding=(1, 1, 1), dim_ordering='default', **kwargs):
        super(ZeroPadding3D, self).__init__(**kwargs)
        try:
            padding = tuple(padding)
        except TypeError:
            padding = ()
        if len(padding) != 3 or not _non_negative_ints(padding):
            raise ValueError('%s: padding must be (dim1, dim2, dim3), integers >= 0, got %r'
                             % (layer_label(self), padding))
        self.padding = tuple(int(p) for p in padding)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)

    def get_output_shape_for(self, input_shape):
        sizes = _check_volume_input(self, input_shape)
        return _with_sizes(input_shape, self.dim_ordering,
                           [s + 2 * p if s is not None else None
                            for s, p in zip(sizes, self.padding)])

    def forward(self, x, training=False, need_input_grad=True):
        _check_volume_input(self, x.shape)
        widths = [(0, 0)] * 5
        index = [slice(None)] * 5
        for axis, pad in zip(_spatial_axes(self.dim_ordering), self.padding):
            widths[axis] = (pad, pad)
            index[axis] = slice(pad, pad + x.shape[axis])
        index = tuple(index)

        def backprop(dy):
            return dy[index]
        return np.pad(x, widths, mode='constant'), backprop

    def get_config(self):
        config = super(ZeroPadding3D, self).get_config()
        config.update({'padding': self.padding, 'dim_ordering': self.dim_ordering})
        return config


class Cropping3D(Layer):
    """Trims positions off both ends of each spatial axis of volumes.

    # Arguments
        cropping: ((before, after), (before, after), (before, after)) for
            dim1, dim2 and dim3.
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).

    # Input shape
        5D `(samples, channels, dim1, dim2, dim3)` ('th') or
        `(samples, dim1, dim2, dim3, channels)` ('tf').

    # Output shape
        5D, with cropped spatial axes.
    """

    @keras2.keras2_arguments(keras2.CROPPING3D)
    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), dim_ordering='default', **kwargs):
        super(Cropping3D, self).__init__(**kwargs)
        self.cropping = _cropping_pairs(self, cropping, 3, '((before, after),) * 3')
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)

    def get_output_shape_for(self, input_shape):
        sizes = []
        for axis, size, (before, after) in zip(('dim1', 'dim2', 'dim3'),
                                               _check_volume_input(self, input_shape),
                                               self.cropping):
            if size is not None and before + after >= size:
                raise ValueError('%s: cropping %d + %d along %s leaves nothing of its %d '
                                 'positions; input shape %s (dim_ordering=%r)'
                                 % (layer_label(self), before, after, axis, size,
                                    tuple(input_shape), self.dim_ordering))
            sizes.append(None if size is None else size - before - after)
        return _with_sizes(input_shape, self.dim_ordering, sizes)

    def forward(self, x, training=False, need_input_grad=True):
        self.get_output_shape_for(x.shape)
        index = [slice(None)] * 5
        for axis, (before, after) in zip(_spatial_axes(self.dim_ordering), self.cropping):
            index[axis] = slice(before, x.shape[axis] - after)
        index = tuple(index)
        shape, dtype = x.shape, x.dtype

        def backprop(dy):
            dx = np.zeros(shape, dtype=dtype)
            dx[index] = dy
            return dx
        return x[index], backprop

    def get_config(self):
        config = super(Cropping3D, self).get_config()
        config.update({'cropping': self.cropping, 'dim_ordering': self.dim_ordering})
        return config


class AtrousConvolution1D(Convolution1D):
    """1D convolution with holes (dilated convolution) over the steps of
    temporal data: the kernel's taps are `atrous_rate` steps apart.

    # Example
    ```python
        model.add(AtrousConvolution1D(64, 3, atrous_rate=2, border_mode='same',
                                      input_shape=(10, 32)))
        # now model.output_shape == (None, 10, 64)
    ```

    # Arguments
        nb_filter, filter_length, init, activation, weights, border_mode,
        subsample_length, W_regularizer, b_regularizer, activity_regularizer,
        W_constraint, b_constraint, bias, input_dim, input_length: as for
        Convolution1D.
        atrous_rate: the dilation; a kernel of k taps spans
            (k - 1) * atrous_rate + 1 steps.

    # Input shape
        3D `(samples, steps, input_dim)`.

    # Output shape
        3D `(samples, new_steps, nb_filter)`.

    # Weights
        As Convolution1D's: `W` (filter_length, 1, input_dim, nb_filter), `b`
        (nb_filter,).
    """

    @keras2.keras2_arguments(keras2.ATROUS_CONV1D)
    def __init__(self, nb_filter, filter_length, init='glorot_uniform', activation=None,
                 weights=None, border_mode='valid', subsample_length=1, atrous_rate=1,
                 W_regularizer=None, b_regularizer=None, activity_regularizer=None,
                 W_constraint=None, b_constraint=None, bias=True, **kwargs):
        super(AtrousConvolution1D, self).__init__(
            nb_filter, filter_length, init=init, activation=activation, weights=weights,
            border_mode=border_mode, subsample_length=subsample_length,
            W_regularizer=W_regularizer, b_regularizer=b_regularizer,
            activity_regularizer=activity_regularizer, W_constraint=W_constraint,
            b_constraint=b_constraint, bias=bias, **kwargs)
        self.atrous_rate = positive_int(self, 'atrous_rate', atrous_rate)

    def _geometry(self, input_shape):
        check_rank(self, input_shape, 3, 'samples, steps, input_dim')
        steps = input_shape[1]
        if steps is None:
            return None, conv_kernels.conv_output_length(
                None, self.filter_length, self.border_mode, self.subsample_length)
        pads, outs = _conv_geometry(self, (steps,), (self.filter_length,),
                                    (self.subsample_length,), (self.atrous_rate,))
        return pads[0], outs[0]

    def get_output_shape_for(self, input_shape):
        return (input_shape[0], self._geometry(input_shape)[1], self.nb_filter)

    def build(self, input_shape):
        self._geometry(input_shape)
        super(AtrousConvolution1D, self).build(input_shape)

    def forward(self, x, training=False, need_input_grad=True):
        pad, steps_out = self._geometry(x.shape)
        geometry = ((1, 1, self.subsample_length), (1, 1, self.atrous_rate), (0, 0, pad))
        # Steps as the last spatial axis: (samples, input_dim, 1, 1, steps).
        x_v = np.ascontiguousarray(x.transpose(0, 2, 1), dtype='float32')[:, :, None, None]
        kernel = np.ascontiguousarray(self.W.transpose(3, 2, 1, 0))[:, :, None]
        z_v = np.empty((x.shape[0], self.nb_filter, 1, 1, steps_out), dtype='float32')
        convnd.convnd_forward(x_v, kernel, _bias_or_zeros(self, self.nb_filter), z_v, *geometry)
        z = z_v[:, :, 0, 0].transpose(0, 2, 1)
        y = activations.apply(self.activation, z)

        def backprop(dy):
            dz = activations.gradient(self.activation, z, y, dy)
            dz_v = np.ascontiguousarray(dz.transpose(0, 2, 1), dtype='float32')[:, :, None, None]
            dw = np.empty_like(kernel)
            db = np.empty(self.nb_filter, dtype='float32')
            convnd.convnd_backward_weights(x_v, dz_v, dw, db, *geometry)
            self.gradients[0] += dw[:, :, 0].transpose(3, 2, 1, 0)
            if self.b is not None:
                self.gradients[1] += db
            if not need_input_grad:
                return None
            dx = np.empty_like(x_v)
            convnd.convnd_backward_input(dz_v, kernel, dx, *geometry)
            return dx[:, :, 0, 0].transpose(0, 2, 1)
        return y, backprop

    def get_config(self):
        config = super(AtrousConvolution1D, self).get_config()
        config['atrous_rate'] = self.atrous_rate
        return config


# Keras 1.2.2's short names of the layers above.
Conv3D = Convolution3D
Deconv2D = Deconvolution2D
AtrousConv1D = AtrousConvolution1D
AtrousConv2D = AtrousConvolution2D
SeparableConv2D = SeparableConvolution2D

# Keras 2's own convolution layers (transposed, depthwise, separable 1D).
from .convolutional_keras2 import (Conv2DTranspose, Conv3DTranspose,  # noqa: E402,F401
                                   DepthwiseConv2D, SeparableConv1D)
