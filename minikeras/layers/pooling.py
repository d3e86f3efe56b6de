"""Pooling layers."""
import numpy as np

from ..engine.topology import Layer
from ..kernels import pooling as pool_kernels
from ..utils.conv_utils import (from_channels_first, image_axes, image_shape,
                                resolve_dim_ordering, to_channels_first)


class MaxPooling2D(Layer):
    """Max pooling over 2D windows.

    # Arguments
        pool_size: (rows, cols) window size.
        strides: (rows, cols) strides; the pool size when None.
        border_mode: 'valid' or 'same' (TensorFlow's padding rule).
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).

    # Input shape
        4D `(samples, channels, rows, cols)` ('th') or
        `(samples, rows, cols, channels)` ('tf').

    # Output shape
        4D, with pooled rows and cols.
    """

    def __init__(self, pool_size=(2, 2), strides=None, border_mode='valid',
                 dim_ordering='default', **kwargs):
        super(MaxPooling2D, self).__init__(**kwargs)
        pool_size = tuple(pool_size)
        strides = tuple(strides) if strides is not None else pool_size
        for arg, value in (('pool_size', pool_size), ('strides', strides)):
            if len(value) != 2 or any(int(v) != v or v <= 0 for v in value):
                raise ValueError('%s (MaxPooling2D): %s must be two positive integers, got %r'
                                 % (self.name, arg, value))
        if border_mode not in ('valid', 'same'):
            raise ValueError('%s (MaxPooling2D): border_mode must be "valid" or "same", got %r'
                             % (self.name, border_mode))
        self.pool_size = (int(pool_size[0]), int(pool_size[1]))
        self.strides = (int(strides[0]), int(strides[1]))
        self.border_mode = border_mode
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)

    def get_output_shape_for(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError('Layer %s (MaxPooling2D) expects 4D input, got shape %s'
                             % (self.name, tuple(input_shape)))
        channels, rows, cols = image_axes(input_shape, self.dim_ordering)
        sizes = []
        for axis, size, window, stride in (('rows', rows, self.pool_size[0], self.strides[0]),
                                           ('cols', cols, self.pool_size[1], self.strides[1])):
            if size is None:
                sizes.append(None)
                continue
            if self.border_mode == 'valid' and size < window:
                raise ValueError('Layer %s (MaxPooling2D): pool_size %s is larger than its input '
                                 '(%s %d); input shape %s (dim_ordering=%r)'
                                 % (self.name, self.pool_size, axis, size, tuple(input_shape),
                                    self.dim_ordering))
            sizes.append(pool_kernels.pool_output_length(size, window, self.border_mode, stride))
        return image_shape(input_shape[0], channels, sizes[0], sizes[1], self.dim_ordering)

    def forward(self, x, training=False, need_input_grad=True):
        x_cf = to_channels_first(x, self.dim_ordering)
        n, channels, rows, cols = x_cf.shape
        pad_top, out_rows = pool_kernels.pool_padding(rows, self.pool_size[0], self.border_mode,
                                                      self.strides[0])
        pad_left, out_cols = pool_kernels.pool_padding(cols, self.pool_size[1], self.border_mode,
                                                       self.strides[1])
        y = np.empty((n, channels, out_rows, out_cols), dtype='float32')
        argmax = np.empty(y.shape, dtype='int32')
        pool_kernels.maxpool2d_forward(x_cf, y, argmax, self.pool_size[0], self.pool_size[1],
                                       self.strides[0], self.strides[1], pad_top, pad_left)

        def backprop(dy):
            dx = np.empty_like(x_cf)
            pool_kernels.maxpool2d_backward(
                np.ascontiguousarray(to_channels_first(dy, self.dim_ordering), dtype='float32'),
                argmax, dx)
            return from_channels_first(dx, self.dim_ordering)
        return from_channels_first(y, self.dim_ordering), backprop

    def get_config(self):
        config = super(MaxPooling2D, self).get_config()
        config.update({'pool_size': self.pool_size, 'strides': self.strides,
                       'border_mode': self.border_mode, 'dim_ordering': self.dim_ordering})
        return config
