"""The convolution layers only Keras 2 has under these names:
`Conv2DTranspose` (sized from its input, with `output_padding`) and
`DepthwiseConv2D`. They run on the same kernels as Keras 1's
`Deconvolution2D` and `SeparableConvolution2D`; their arguments are Keras 2's
(translated at the edge by `compat/keras2.py`). Importable from
`keras.layers` and `keras.layers.convolutional`."""
import numpy as np

from .. import activations, constraints, initializations, regularizers
from ..compat import keras2
from ..engine.base_layer import Layer
from ..kernels import conv2d as conv_kernels
from ..kernels import convnd
from ..utils.conv_utils import image_axes, image_shape, resolve_dim_ordering
from ..utils.layer_checks import (check_image_rank, layer_label, one_of, positive_int,
                                  positive_ints)
from .convolutional import (Convolution2D, Deconvolution2D, _conv_geometry, _from_volume,
                            _to_volume)
from .core import _config_or_none


def transposed_length(size, stride, kernel, padding, output_padding):
    """Keras 2.2.4's output length of a transposed convolution (`deconv_length`)."""
    if size is None:
        return None
    if output_padding is None:
        if padding == 'valid':
            return size * stride + max(kernel - stride, 0)
        if padding == 'full':
            return size * stride - (stride + kernel - 2)
        return size * stride
    pad = {'same': kernel // 2, 'valid': 0, 'full': kernel - 1}[padding]
    return (size - 1) * stride + kernel - 2 * pad + output_padding


class Conv2DTranspose(Deconvolution2D):
    """Transposed convolution (Keras 2.2.4): the gradient of a convolution
    for its input, as a layer. Its output size follows from its input's.

    # Example
    ```python
        model.add(Conv2DTranspose(32, (3, 3), strides=(2, 2), padding='same',
                                  input_shape=(14, 14, 64)))
        # now model.output_shape == (None, 28, 28, 32)
    ```

    # Arguments
        filters: number of output channels.
        kernel_size: int or 2 ints.
        strides: int or 2 ints.
        padding: 'valid' or 'same'.
        output_padding: None, or an int or 2 ints below the strides: the
            rows and columns added at the end of the output. None gives
            `size * stride` ('same') or `size * stride + max(kernel -
            stride, 0)` ('valid').
        data_format: 'channels_last' (default: `image_data_format()`) or
            'channels_first'.
        dilation_rate: 1 only.
        activation, use_bias, kernel_initializer, bias_initializer,
        kernel_regularizer, bias_regularizer, activity_regularizer,
        kernel_constraint, bias_constraint: as for Conv2D.

    # Input shape
        4D `(samples, rows, cols, channels)` (channels_last) or
        `(samples, channels, rows, cols)` (channels_first).

    # Output shape
        4D, `filters` channels and the new rows and cols.

    # Weights
        Deconvolution2D's layout (Keras 1): the kernel is `(rows, cols,
        channels, filters)` for channels_last, where Keras 2 kept `(rows,
        cols, filters, channels)`; and the bias `(filters,)`.
    """

    @keras2.keras2_arguments(keras2.CONV2D_TRANSPOSE)
    def __init__(self, nb_filter, nb_row, nb_col, output_padding=None, init='glorot_uniform',
                 activation=None, weights=None, border_mode='valid', subsample=(1, 1),
                 dim_ordering='default', W_regularizer=None, b_regularizer=None,
                 activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True,
                 bias_init='zero', **kwargs):
        Convolution2D.__init__(
            self, nb_filter, nb_row, nb_col, init=init, activation=activation, weights=weights,
            border_mode=border_mode, subsample=subsample, dim_ordering=dim_ordering,
            W_regularizer=W_regularizer, b_regularizer=b_regularizer,
            activity_regularizer=activity_regularizer, W_constraint=W_constraint,
            b_constraint=b_constraint, bias=bias, bias_init=bias_init, **kwargs)
        if self.border_mode == 'full':
            raise ValueError("%s: padding must be 'valid' or 'same', got 'full'"
                             % layer_label(self))
        if output_padding is not None:
            output_padding = _non_negative_pair(self, output_padding)
            for pad, stride in zip(output_padding, self.subsample):
                if pad >= stride:
                    raise ValueError('%s: output_padding %r must be below the strides %r'
                                     % (layer_label(self), output_padding, self.subsample))
        self.output_padding = output_padding
        self.output_shape_ = None
        self._out_rows = self._out_cols = None

    def _check_input(self, input_shape):
        check_image_rank(self, input_shape)
        _, rows, cols = image_axes(input_shape, self.dim_ordering)
        pads = self.output_padding or (None, None)
        sizes = [transposed_length(size, s, k, self.border_mode, p)
                 for size, s, k, p in zip((rows, cols), self.subsample,
                                          (self.nb_row, self.nb_col), pads)]
        for axis, size, out, k, s in zip(('rows', 'cols'), (rows, cols), sizes,
                                         (self.nb_row, self.nb_col), self.subsample):
            if size is None:
                continue
            if out < 1 or conv_kernels.conv_output_length(out, k, self.border_mode, s) != size:
                raise ValueError(
                    '%s: an input of %d %s gives %d %s (kernel %d, stride %d, padding %r, '
                    'output_padding %r), which a convolution does not take back to %d; give '
                    'another output_padding' % (layer_label(self), size, axis, out, axis, k, s,
                                                self.border_mode, self.output_padding, size))
        self._out_rows, self._out_cols = sizes
        self.output_shape_ = image_shape(None, self.nb_filter, sizes[0], sizes[1],
                                         self.dim_ordering)
        return super(Conv2DTranspose, self)._check_input(input_shape)

    def get_output_shape_for(self, input_shape):
        self._check_input(input_shape)
        return image_shape(input_shape[0], self.nb_filter, self._out_rows, self._out_cols,
                           self.dim_ordering)

    def get_config(self):
        config = super(Conv2DTranspose, self).get_config()
        config.pop('output_shape', None)
        config['output_padding'] = None if self.output_padding is None else \
            list(self.output_padding)
        return config


def _initializer(init):
    """An initializer as given, or the object of a saved config; checked."""
    init = initializations.get(init) if isinstance(init, dict) else init
    initializations.get(init)
    return init


def _non_negative_pair(layer, value):
    values = (value, value) if isinstance(value, int) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, int) and v >= 0 for v in values):
        raise ValueError('%s: output_padding must be a non-negative integer or 2 of them, got %r'
                         % (layer_label(layer), value))
    return values


class DepthwiseConv2D(Layer):
    """Depthwise 2D convolution (Keras 2.2.4): each input channel is
    convolved on its own with `depth_multiplier` kernels; channel c gives
    output channels c * depth_multiplier ... (c + 1) * depth_multiplier - 1.

    # Example
    ```python
        model.add(DepthwiseConv2D((3, 3), depth_multiplier=2, padding='same',
                                  input_shape=(32, 32, 8)))
        # now model.output_shape == (None, 32, 32, 16)
    ```

    # Arguments
        kernel_size: int or 2 ints.
        strides: int or 2 ints.
        padding: 'valid' or 'same'.
        depth_multiplier: output channels per input channel.
        data_format: 'channels_last' (default: `image_data_format()`) or
            'channels_first'.
        activation: the activation (linear when None).
        use_bias: whether to add a bias per output channel.
        depthwise_initializer, bias_initializer: the weights' initializers.
        depthwise_regularizer, bias_regularizer, activity_regularizer:
            optional penalties.
        depthwise_constraint, bias_constraint: optional constraints.

    # Input shape
        4D `(samples, rows, cols, channels)` (channels_last) or
        `(samples, channels, rows, cols)` (channels_first).

    # Output shape
        4D, `channels * depth_multiplier` channels and the new rows and cols.

    # Weights
        As Keras 2.2.4: `depthwise_kernel` `(rows, cols, channels,
        depth_multiplier)` whatever the data_format, and `bias`
        `(channels * depth_multiplier,)`.
    """

    @keras2.keras2_arguments(keras2.DEPTHWISE_CONV2D)
    def __init__(self, kernel_size, strides=(1, 1), border_mode='valid', depth_multiplier=1,
                 dim_ordering='default', activation=None, bias=True,
                 depthwise_initializer='glorot_uniform', bias_initializer='zeros',
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super(DepthwiseConv2D, self).__init__(**kwargs)
        self.kernel_size = positive_ints(self, 'kernel_size', kernel_size, 2)
        self.strides = positive_ints(self, 'strides', strides, 2)
        self.border_mode = one_of(self, 'padding', border_mode, ('valid', 'same'))
        self.depth_multiplier = positive_int(self, 'depth_multiplier', depth_multiplier)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)
        self.activation = activations.get(activation)
        self.bias = bool(bias)
        self.depthwise_initializer = _initializer(depthwise_initializer)
        self.bias_initializer = _initializer(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _geometry(self, input_shape):
        check_image_rank(self, input_shape)
        _, rows, cols = image_axes(input_shape, self.dim_ordering)
        if rows is None or cols is None:
            return None, tuple(None if s is None else conv_kernels.conv_output_length(
                s, k, self.border_mode, st)
                for s, k, st in zip((rows, cols), self.kernel_size, self.strides))
        return _conv_geometry(self, (rows, cols), self.kernel_size, self.strides, (1, 1))

    def get_output_shape_for(self, input_shape):
        rows, cols = self._geometry(input_shape)[1]
        channels = image_axes(input_shape, self.dim_ordering)[0]
        return image_shape(input_shape[0], None if channels is None else
                           channels * self.depth_multiplier, rows, cols, self.dim_ordering)

    def build(self, input_shape):
        self._geometry(input_shape)
        channels = image_axes(input_shape, self.dim_ordering)[0]
        if channels is None:
            raise ValueError('%s: the number of input channels must be known, got input '
                             'shape %s' % (layer_label(self), tuple(input_shape)))
        # Keras 2 keeps this kernel channels-last whatever the data_format.
        self.depthwise_kernel = self.add_weight(
            self.kernel_size + (channels, self.depth_multiplier), self.depthwise_initializer,
            name=self.name + '_depthwise_kernel', regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint, dim_ordering='tf')
        self.b = None
        if self.bias:
            self.b = self.add_weight((channels * self.depth_multiplier,), self.bias_initializer,
                                     name=self.name + '_bias', regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint)

    def _grouped_kernel(self):
        """The kernel as a grouped volume kernel (C * M, 1, 1, KH, KW)."""
        kernel = self.depthwise_kernel.transpose(2, 3, 0, 1)        # (C, M, KH, KW)
        return np.ascontiguousarray(kernel.reshape((-1, 1, 1) + self.kernel_size),
                                    dtype='float32')

    def forward(self, x, training=False, need_input_grad=True):
        pads, (rows, cols) = self._geometry(x.shape)
        geometry = ((1,) + self.strides, (1, 1, 1), (0,) + pads)
        x_v = _to_volume(x, self.dim_ordering)
        n, channels = x_v.shape[:2]
        kernel = self._grouped_kernel()
        out_channels = kernel.shape[0]
        bias = self.b if self.b is not None else np.zeros(out_channels, dtype='float32')
        z_v = np.empty((n, out_channels, 1, rows, cols), dtype='float32')
        convnd.convnd_forward(x_v, kernel, bias, z_v, *geometry, groups=channels)
        z = _from_volume(z_v, self.dim_ordering, 2)
        y = self.activation(z)

        def backprop(dy):
            dz = _to_volume(self.activation.backward(z, y, dy), self.dim_ordering)
            dk = np.empty_like(kernel)
            db = np.empty(out_channels, dtype='float32')
            convnd.convnd_backward_weights(x_v, dz, dk, db, *geometry, groups=channels)
            dk = dk.reshape((channels, self.depth_multiplier) + self.kernel_size)
            self.gradients[0] += dk.transpose(2, 3, 0, 1)
            if self.b is not None:
                self.gradients[1] += db
            if not need_input_grad:
                return None
            dx = np.empty_like(x_v)
            convnd.convnd_backward_input(dz, kernel, dx, *geometry, groups=channels)
            return _from_volume(dx, self.dim_ordering, 2)
        return y, backprop

    def get_config(self):
        config = super(DepthwiseConv2D, self).get_config()
        config.update({
            'kernel_size': self.kernel_size, 'strides': self.strides,
            'border_mode': self.border_mode, 'depth_multiplier': self.depth_multiplier,
            'dim_ordering': self.dim_ordering,
            'activation': activations.serialize(self.activation), 'bias': self.bias,
            'depthwise_initializer': initializations.serialize(self.depthwise_initializer),
            'bias_initializer': initializations.serialize(self.bias_initializer),
            'depthwise_regularizer': _config_or_none(self.depthwise_regularizer),
            'bias_regularizer': _config_or_none(self.bias_regularizer),
            'activity_regularizer': _config_or_none(self.activity_regularizer),
            'depthwise_constraint': _config_or_none(self.depthwise_constraint),
            'bias_constraint': _config_or_none(self.bias_constraint)})
        return config
