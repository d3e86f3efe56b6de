"""Convolution layers (1D and 2D) and the other layers of Keras 1's
convolutional module: zero padding, upsampling and cropping of images (2D)
and of temporal data (1D). The pooling layers are importable from here too,
as in Keras 1."""
import numpy as np

from .. import activations, initializers
from ..compat import keras0, keras2
from ..engine.base_layer import Layer
from ..kernels import conv2d as conv_kernels
from ..utils.conv_utils import (from_channels_first, image_axes, image_shape,
                                resolve_dim_ordering, to_channels_first)
from ..utils.layer_checks import (check_image_rank, check_rank, input_shape_from_dim,
                                  layer_label, one_of, positive_int, positive_ints)
from .core import _weight_layer_config, _weight_layer_settings
# Keras 1 exported the pooling layers from here too.
from .pooling import (AveragePooling1D, AveragePooling2D, MaxPooling1D,  # noqa: F401
                      MaxPooling2D)

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
        # The activation sees the layer's own ordering (softmax runs over the last axis).
        z = from_channels_first(z, self.dim_ordering)
        y = self.activation(z)
        geometry = (self.subsample[0], self.subsample[1], pad_top, pad_left)

        def backprop(dy):
            dz = to_channels_first(self.activation.backward(z, y, dy), self.dim_ordering)
            dz = np.ascontiguousarray(dz, dtype='float32')
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
        y = self.activation(z)

        def backprop(dy):
            dz = self.activation.backward(z, y, dy)
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

    def get_config(self):
        config = super(UpSampling2D, self).get_config()
        # Keras 1.2.2 saved only 'size'; see ZeroPadding2D.get_config.
        config.update({'size': self.size, 'dim_ordering': self.dim_ordering})
        return config


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
        try:
            cropping = tuple(tuple(pair) for pair in cropping)
        except TypeError:
            cropping = ()
        if len(cropping) != 2 or any(len(pair) != 2 or not _non_negative_ints(pair)
                                     for pair in cropping):
            raise ValueError('%s: cropping must be ((top, bottom), (left, right)), '
                             'integers >= 0, got %r' % (layer_label(self), cropping))
        self.cropping = tuple((int(a), int(b)) for a, b in cropping)
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
