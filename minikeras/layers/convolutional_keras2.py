"""The convolution layers only Keras 2 has under these names:
`Conv2DTranspose` and `Conv3DTranspose` (sized from their input, with
`output_padding`), `DepthwiseConv2D` and `SeparableConv1D`. They run on the
same kernels as Keras 1's `Deconvolution2D` and `SeparableConvolution2D`;
their arguments are Keras 2's (translated at the edge by
`compat/keras2.py`). Importable from `keras.layers` and
`keras.layers.convolutional`."""
import numpy as np

from .. import activations, constraints, initializations, regularizers
from ..compat import keras2
from ..engine.base_layer import Layer
from ..kernels import conv2d as conv_kernels
from ..kernels import convnd
from ..utils.conv_utils import image_axes, image_shape, resolve_dim_ordering
from ..utils.layer_checks import (check_image_rank, check_known_channels, check_rank,
                                  layer_label, one_of, positive_int, positive_ints)
from .convolutional import (Convolution2D, Deconvolution2D, SeparableConvolution2D,
                            _channels, _conv_geometry, _from_volume, _spatial_sizes, _to_volume,
                            _volume_shape, transposed_forward)
from .core import _config_or_none, _weight_layer_config, _weight_layer_settings


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


def transposed_sizes(layer, sizes, axes, kernel, strides):
    """The output sizes of a transposed convolution (`layer.border_mode`,
    `layer.output_padding`) for an input of `sizes` (None: unknown), each
    checked: the convolution it transposes must take it back to the input."""
    pads = layer.output_padding or (None,) * len(sizes)
    outs = [transposed_length(size, s, k, layer.border_mode, p)
            for size, s, k, p in zip(sizes, strides, kernel, pads)]
    for axis, size, out, k, s in zip(axes, sizes, outs, kernel, strides):
        if size is None:
            continue
        if out < 1 or conv_kernels.conv_output_length(out, k, layer.border_mode, s) != size:
            raise ValueError(
                '%s: an input of %d %s gives %d %s (kernel %d, stride %d, padding %r, '
                'output_padding %r), which a convolution does not take back to %d; give '
                'another output_padding' % (layer_label(layer), size, axis, out, axis, k, s,
                                            layer.border_mode, layer.output_padding, size))
    return tuple(outs)


def _output_padding(layer, output_padding, rank):
    """`output_padding` checked against the strides (each below its stride)."""
    if output_padding is None:
        return None
    values = (output_padding,) * rank if isinstance(output_padding, int) \
        else tuple(output_padding)
    if len(values) != rank or not all(isinstance(v, int) and v >= 0 for v in values):
        raise ValueError('%s: output_padding must be a non-negative integer or %d of them, '
                         'got %r' % (layer_label(layer), rank, output_padding))
    for pad, stride in zip(values, layer.subsample):
        if pad >= stride:
            raise ValueError('%s: output_padding %r must be below the strides %r'
                             % (layer_label(layer), values, layer.subsample))
    return values


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
        self.output_padding = _output_padding(self, output_padding, 2)
        self.output_shape_ = None
        self._out_rows = self._out_cols = None

    def _check_input(self, input_shape):
        check_image_rank(self, input_shape)
        _, rows, cols = image_axes(input_shape, self.dim_ordering)
        sizes = transposed_sizes(self, (rows, cols), ('rows', 'cols'),
                                 (self.nb_row, self.nb_col), self.subsample)
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
        check_known_channels(self, channels, input_shape)
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


class SeparableConv1D(SeparableConvolution2D):
    """Depthwise separable 1D convolution (Keras 2.2.4): each input channel
    is convolved along the steps on its own with `depth_multiplier` kernels,
    then a pointwise (size 1) convolution mixes the results into `filters`.
    It runs as SeparableConv2D on a sequence seen as an image of one row.

    # Example
    ```python
        model.add(SeparableConv1D(32, 5, depth_multiplier=2, padding='same',
                                  input_shape=(100, 8)))
        # now model.output_shape == (None, 100, 32)
    ```

    # Arguments
        filters: number of output channels.
        kernel_size: an int (or 1 int), the window length.
        strides: an int (or 1 int), the step between windows.
        padding: 'valid' or 'same'.
        data_format: 'channels_last' (the default, as in Keras 2.2.4,
            whatever `image_data_format()` says: `(batch, steps, channels)`)
            or 'channels_first' (`(batch, channels, steps)`).
        dilation_rate: 1 only.
        depth_multiplier: channels the depthwise step makes of each input
            channel; channel c gives c * depth_multiplier ...
            (c + 1) * depth_multiplier - 1.
        activation, use_bias, depthwise_initializer, pointwise_initializer
        (the same as depthwise_initializer), bias_initializer ('zeros'),
        depthwise_regularizer, pointwise_regularizer, bias_regularizer,
        activity_regularizer, depthwise_constraint, pointwise_constraint,
        bias_constraint: as for SeparableConv2D.

    # Input shape
        3D `(batch, steps, channels)` or, channels_first, `(batch, channels, steps)`.

    # Output shape
        3D, `filters` channels and the new number of steps.

    # Weights
        As Keras 2.2.4 saves them, whatever the data_format: depthwise kernel
        `(kernel_size, channels, depth_multiplier)`, pointwise kernel
        `(1, channels * depth_multiplier, filters)`, bias `(filters,)`.
    """

    @keras2.keras2_arguments(keras2.SEPARABLE_CONV1D)
    def __init__(self, nb_filter, filter_length, init='glorot_uniform', activation=None,
                 weights=None, border_mode='valid', subsample_length=1, depth_multiplier=1,
                 data_format='channels_last', depthwise_regularizer=None,
                 pointwise_regularizer=None, b_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, b_constraint=None,
                 bias=True, **kwargs):
        Layer.__init__(self, weights=weights, **kwargs)
        self.filter_length = positive_int(self, 'kernel_size', filter_length)
        self.subsample_length = positive_int(self, 'strides', subsample_length)
        self.data_format = one_of(self, 'data_format', data_format,
                                  ('channels_last', 'channels_first'))
        # the separable 2D convolution this runs as: one row, channels last
        self.nb_row, self.nb_col = 1, self.filter_length
        self.subsample = (1, self.subsample_length)
        self.dim_ordering = 'tf'
        self._separable_settings(
            nb_filter, init, activation, border_mode, depth_multiplier, depthwise_regularizer,
            pointwise_regularizer, b_regularizer, activity_regularizer, depthwise_constraint,
            pointwise_constraint, b_constraint, bias)

    def _image_shape(self, input_shape):
        """(batch, 1, steps, channels), the image the sequence is run as."""
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, 3, 'batch, channels, steps'
                   if self.data_format == 'channels_first' else 'batch, steps, channels')
        batch, steps, channels = input_shape
        if self.data_format == 'channels_first':
            steps, channels = channels, steps
        return (batch, 1, steps, channels)

    def _sequence(self, image):
        """An image output (batch, 1, steps, filters) as this layer's sequence."""
        sequence = image[:, 0]
        return sequence.transpose(0, 2, 1) if self.data_format == 'channels_first' \
            else sequence

    def _kernel_shapes(self, channels):
        return ((self.filter_length, channels, self.depth_multiplier),
                (1, channels * self.depth_multiplier, self.nb_filter))

    def get_output_shape_for(self, input_shape):
        batch, _, steps, filters = super(SeparableConv1D, self).get_output_shape_for(
            self._image_shape(input_shape))
        return (batch, filters, steps) if self.data_format == 'channels_first' \
            else (batch, steps, filters)

    def build(self, input_shape):
        super(SeparableConv1D, self).build(self._image_shape(input_shape))

    def forward(self, x, training=False, need_input_grad=True):
        self._image_shape(np.shape(x))
        x = np.asarray(x, dtype='float32')
        if self.data_format == 'channels_first':
            x = x.transpose(0, 2, 1)
        y, image_backprop = super(SeparableConv1D, self).forward(
            x[:, None], training=training, need_input_grad=need_input_grad)

        def backprop(dy):
            dy = dy.transpose(0, 2, 1) if self.data_format == 'channels_first' else dy
            dx = image_backprop(np.ascontiguousarray(dy[:, None], dtype='float32'))
            return None if dx is None else self._sequence(dx)
        return self._sequence(y), backprop

    def get_config(self):
        config = super(SeparableConv1D, self).get_config()
        for key in ('nb_row', 'nb_col', 'subsample', 'dim_ordering'):
            config.pop(key)
        config.update({'filter_length': self.filter_length,
                       'subsample_length': self.subsample_length,
                       'data_format': self.data_format})
        return config


class Conv3DTranspose(Layer):
    """Transposed 3D convolution (Keras 2.2.4): the gradient of a Conv3D for
    its input, as a layer. Its output size follows from its input's.

    # Example
    ```python
        model.add(Conv3DTranspose(8, (3, 3, 3), strides=2, padding='same',
                                  input_shape=(4, 8, 8, 16)))
        # now model.output_shape == (None, 8, 16, 16, 8)
    ```

    # Arguments
        filters: number of output channels.
        kernel_size: int or 3 ints.
        strides: int or 3 ints.
        padding: 'valid' or 'same'.
        output_padding: None, or an int or 3 ints, each below its stride: the
            positions added at the end of each output axis. None gives
            `size * stride` ('same') or `size * stride + max(kernel - stride,
            0)` ('valid').
        data_format: 'channels_last' (default: `image_data_format()`) or
            'channels_first'.
        dilation_rate: 1 only.
        activation, use_bias, kernel_initializer, bias_initializer,
        kernel_regularizer, bias_regularizer, activity_regularizer,
        kernel_constraint, bias_constraint: as for Conv3D.

    # Input shape
        5D `(samples, dim1, dim2, dim3, channels)` (channels_last) or
        `(samples, channels, dim1, dim2, dim3)` (channels_first).

    # Output shape
        5D, `filters` channels and the new spatial sizes.

    # Weights
        As Keras 2.2.4 saves them, whatever the data_format: the kernel
        `(dim1, dim2, dim3, filters, channels)` and the bias `(filters,)`.
    """

    @keras2.keras2_arguments(keras2.CONV3D_TRANSPOSE)
    def __init__(self, nb_filter, kernel_size, subsample=(1, 1, 1), border_mode='valid',
                 output_padding=None, dim_ordering='default', init='glorot_uniform',
                 activation=None, weights=None, W_regularizer=None, b_regularizer=None,
                 activity_regularizer=None, W_constraint=None, b_constraint=None, bias=True,
                 bias_init='zero', **kwargs):
        super(Conv3DTranspose, self).__init__(weights=weights, **kwargs)
        self.nb_filter = positive_int(self, 'filters', nb_filter)
        self.kernel_size = positive_ints(self, 'kernel_size', kernel_size, 3)
        self.subsample = positive_ints(self, 'strides', subsample, 3)
        self.border_mode = one_of(self, 'padding', border_mode, ('valid', 'same'))
        self.output_padding = _output_padding(self, output_padding, 3)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)
        self.activation = activations.get(activation)
        _weight_layer_settings(self, init, W_regularizer, b_regularizer, activity_regularizer,
                               W_constraint, b_constraint, bias, bias_init)

    def _output_sizes(self, input_shape):
        check_rank(self, input_shape, 5, 'samples, ' + (
            'channels, dim1, dim2, dim3' if self.dim_ordering == 'th'
            else 'dim1, dim2, dim3, channels'))
        return transposed_sizes(self, _spatial_sizes(input_shape, self.dim_ordering),
                                ('dim1', 'dim2', 'dim3'), self.kernel_size, self.subsample)

    def get_output_shape_for(self, input_shape):
        return _volume_shape(input_shape[0], self.nb_filter, self._output_sizes(input_shape),
                             self.dim_ordering)

    def build(self, input_shape):
        self._output_sizes(input_shape)
        channels = _channels(input_shape, self.dim_ordering)
        check_known_channels(self, channels, input_shape)
        self.W = self.add_weight(self.kernel_size + (self.nb_filter, channels), self.init,
                                 name=self.name + '_W', regularizer=self.W_regularizer,
                                 constraint=self.W_constraint, dim_ordering='tf')
        self.b = None
        if self.bias:
            self.b = self.add_weight((self.nb_filter,), self.bias_init, name=self.name + '_b',
                                     regularizer=self.b_regularizer,
                                     constraint=self.b_constraint)

    def _geometry(self, outs):
        """The strides, dilations and pads of the Conv3D this layer transposes
        (from an output of `outs` to the input)."""
        pads = tuple(conv_kernels.conv_padding(out, k, self.border_mode, s)[0]
                     for out, k, s in zip(outs, self.kernel_size, self.subsample))
        return self.subsample, (1, 1, 1), pads

    def _forward_kernel(self):
        """The kernel of that Conv3D, (channels, filters, k1, k2, k3)."""
        return np.ascontiguousarray(self.W.transpose(4, 3, 0, 1, 2), dtype='float32')

    def forward(self, x, training=False, need_input_grad=True):
        outs = self._output_sizes(np.shape(x))

        def add_kernel_gradient(dk):
            self.gradients[0] += dk.transpose(2, 3, 4, 1, 0)
        return transposed_forward(self, x, self._forward_kernel(), outs, self._geometry(outs),
                                  add_kernel_gradient, need_input_grad)

    def get_config(self):
        config = super(Conv3DTranspose, self).get_config()
        config.update({
            'nb_filter': self.nb_filter, 'kernel_size': self.kernel_size,
            'subsample': self.subsample, 'border_mode': self.border_mode,
            'output_padding': None if self.output_padding is None else
            list(self.output_padding), 'dim_ordering': self.dim_ordering,
            'activation': activations.serialize(self.activation)})
        config.update(_weight_layer_config(self))
        return config
