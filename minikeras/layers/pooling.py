"""Pooling layers: max and average pooling over 1D and 2D windows, and global pooling.

The windowed layers run the channels-first Numba kernels of
`kernels/pooling.py` (max) and `kernels/avgpool.py` (average); the 1D layers
reuse them on a (samples, features, steps, 1) view of their input.
"""
import numpy as np

from ..compat import keras0, keras2
from ..engine.base_layer import Layer
from ..kernels import avgpool as avg_kernels
from ..kernels import pooling as pool_kernels
from ..kernels import pooling3d as pool3d_kernels
from ..utils.conv_utils import (from_channels_first, image_axes, image_shape,
                                resolve_dim_ordering, to_channels_first)
from ..utils.layer_checks import (check_image_rank, check_rank, one_of, positive_int,
                                  positive_ints)

_BORDER_MODES = ('valid', 'same')


def _pool_cf(x_cf, mode, pool_size, strides, border_mode):
    """Pools a float32 channels-first batch (N, C, H, W).

    Returns (y, backprop) with y of shape (N, C, OH, OW) and backprop(dy)
    taking and returning channels-first arrays.
    """
    n, channels, rows, cols = x_cf.shape
    pad_top, out_rows = pool_kernels.pool_padding(rows, pool_size[0], border_mode, strides[0])
    pad_left, out_cols = pool_kernels.pool_padding(cols, pool_size[1], border_mode, strides[1])
    geometry = (pool_size[0], pool_size[1], strides[0], strides[1], pad_top, pad_left)
    y = np.empty((n, channels, out_rows, out_cols), dtype='float32')
    if mode == 'max':
        argmax = np.empty(y.shape, dtype='int32')
        pool_kernels.maxpool2d_forward(x_cf, y, argmax, *geometry)

        def backprop(dy_cf):
            dx = np.empty_like(x_cf)
            pool_kernels.maxpool2d_backward(np.ascontiguousarray(dy_cf, dtype='float32'),
                                            argmax, dx)
            return dx
    else:
        avg_kernels.avgpool2d_forward(x_cf, y, *geometry)

        def backprop(dy_cf):
            dx = np.empty_like(x_cf)
            avg_kernels.avgpool2d_backward(np.ascontiguousarray(dy_cf, dtype='float32'), dx,
                                           *geometry)
            return dx
    return y, backprop


class _Pooling2D(Layer):
    """Shared by MaxPooling2D and AveragePooling2D."""

    _mode = None

    @keras2.keras2_arguments(keras2.POOLING2D)
    @keras0.legacy_arguments(keras0.pooling2d_arguments)
    def __init__(self, pool_size=(2, 2), strides=None, border_mode='valid',
                 dim_ordering='default', **kwargs):
        super(_Pooling2D, self).__init__(**kwargs)
        self.pool_size = positive_ints(self, 'pool_size', pool_size, 2)
        self.strides = positive_ints(self, 'strides', strides if strides is not None
                                     else self.pool_size, 2)
        self.border_mode = one_of(self, 'border_mode', border_mode, _BORDER_MODES)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)

    def get_output_shape_for(self, input_shape):
        check_image_rank(self, input_shape)
        channels, rows, cols = image_axes(input_shape, self.dim_ordering)
        sizes = []
        for axis, size, window, stride in (('rows', rows, self.pool_size[0], self.strides[0]),
                                           ('cols', cols, self.pool_size[1], self.strides[1])):
            if size is None:
                sizes.append(None)
                continue
            if self.border_mode == 'valid' and size < window:
                raise ValueError('Layer %s (%s): pool_size %s is larger than its input '
                                 '(%s %d); input shape %s (dim_ordering=%r)'
                                 % (self.name, type(self).__name__, self.pool_size, axis, size,
                                    tuple(input_shape), self.dim_ordering))
            sizes.append(pool_kernels.pool_output_length(size, window, self.border_mode, stride))
        return image_shape(input_shape[0], channels, sizes[0], sizes[1], self.dim_ordering)

    def forward(self, x, training=False, need_input_grad=True):
        self.get_output_shape_for(x.shape)
        x_cf = np.ascontiguousarray(to_channels_first(x, self.dim_ordering), dtype='float32')
        y_cf, backprop_cf = _pool_cf(x_cf, self._mode, self.pool_size, self.strides,
                                     self.border_mode)

        def backprop(dy):
            dx = backprop_cf(to_channels_first(dy, self.dim_ordering))
            return from_channels_first(dx, self.dim_ordering)
        return from_channels_first(y_cf, self.dim_ordering), backprop

    def get_config(self):
        config = super(_Pooling2D, self).get_config()
        config.update({'pool_size': self.pool_size, 'strides': self.strides,
                       'border_mode': self.border_mode, 'dim_ordering': self.dim_ordering})
        return config


class MaxPooling2D(_Pooling2D):
    """Max pooling over 2D windows.

    # Example
    ```python
        model.add(MaxPooling2D(pool_size=(2, 2)))
    ```

    # Arguments
        pool_size: (rows, cols) window size.
        strides: (rows, cols) strides; the pool size when None.
        border_mode: 'valid' or 'same' (TensorFlow's padding rule; padded
            positions never win).
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).

    # Input shape
        4D `(samples, channels, rows, cols)` ('th') or
        `(samples, rows, cols, channels)` ('tf').

    # Output shape
        4D, with pooled rows and cols.
    """

    _mode = 'max'


class AveragePooling2D(_Pooling2D):
    """Average pooling over 2D windows.

    With border_mode='same', the padded positions are left out of each
    average, as in TensorFlow (the backend Keras 1.2.2 defaults to).

    # Arguments
        pool_size: (rows, cols) window size.
        strides: (rows, cols) strides; the pool size when None.
        border_mode: 'valid' or 'same'.
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).

    # Input shape
        4D `(samples, channels, rows, cols)` ('th') or
        `(samples, rows, cols, channels)` ('tf').

    # Output shape
        4D, with pooled rows and cols.
    """

    _mode = 'avg'


class _Pooling1D(Layer):
    """Shared by MaxPooling1D and AveragePooling1D: 2D pooling of a
    (samples, features, steps, 1) view, steps as rows."""

    _mode = None

    @keras2.keras2_arguments(keras2.POOLING1D)
    @keras0.legacy_arguments(keras0.pooling1d_arguments)
    def __init__(self, pool_length=2, stride=None, border_mode='valid', **kwargs):
        super(_Pooling1D, self).__init__(**kwargs)
        self.pool_length = positive_int(self, 'pool_length', pool_length)
        self.stride = positive_int(self, 'stride', stride if stride is not None
                                   else self.pool_length)
        self.border_mode = one_of(self, 'border_mode', border_mode, _BORDER_MODES)

    def get_output_shape_for(self, input_shape):
        check_rank(self, input_shape, 3, 'samples, steps, features')
        steps = input_shape[1]
        if steps is not None and self.border_mode == 'valid' and steps < self.pool_length:
            raise ValueError('Layer %s (%s): pool_length %d is larger than its input (%d steps); '
                             'input shape %s' % (self.name, type(self).__name__,
                                                 self.pool_length, steps, tuple(input_shape)))
        length = pool_kernels.pool_output_length(steps, self.pool_length, self.border_mode,
                                                 self.stride)
        return (input_shape[0], length, input_shape[2])

    def forward(self, x, training=False, need_input_grad=True):
        self.get_output_shape_for(x.shape)
        x_cf = np.ascontiguousarray(x.transpose(0, 2, 1), dtype='float32')[:, :, :, None]
        y_cf, backprop_cf = _pool_cf(x_cf, self._mode, (self.pool_length, 1), (self.stride, 1),
                                     self.border_mode)

        def backprop(dy):
            dy_cf = np.ascontiguousarray(dy.transpose(0, 2, 1), dtype='float32')[:, :, :, None]
            return backprop_cf(dy_cf)[:, :, :, 0].transpose(0, 2, 1)
        return y_cf[:, :, :, 0].transpose(0, 2, 1), backprop

    def get_config(self):
        config = super(_Pooling1D, self).get_config()
        config.update({'stride': self.stride, 'pool_length': self.pool_length,
                       'border_mode': self.border_mode})
        return config


class MaxPooling1D(_Pooling1D):
    """Max pooling over windows of steps (temporal data).

    # Arguments
        pool_length: window length.
        stride: step between windows; the pool length when None.
        border_mode: 'valid' or 'same'.

    # Input shape
        3D `(samples, steps, features)`.

    # Output shape
        3D `(samples, downsampled_steps, features)`.
    """

    _mode = 'max'


class AveragePooling1D(_Pooling1D):
    """Average pooling over windows of steps (temporal data).

    With border_mode='same', padded steps are left out of each average.

    # Arguments
        pool_length: window length.
        stride: step between windows; the pool length when None.
        border_mode: 'valid' or 'same'.

    # Input shape
        3D `(samples, steps, features)`.

    # Output shape
        3D `(samples, downsampled_steps, features)`.
    """

    _mode = 'avg'


def _global_max(x3, axis):
    """Max of a 3D array over `axis` (1 or 2), and the backprop that sends each
    output gradient to the first maximum."""
    index = np.expand_dims(np.argmax(x3, axis=axis), axis)
    y = np.take_along_axis(x3, index, axis=axis)

    def backprop(dy):
        dx = np.zeros(x3.shape, dtype='float32')
        np.put_along_axis(dx, index, np.expand_dims(dy, axis).astype('float32'), axis=axis)
        return dx
    return np.squeeze(y, axis=axis), backprop


def _global_average(x3, axis):
    """Mean of a 3D array over `axis`, and its backprop."""
    count = x3.shape[axis]
    y = x3.mean(axis=axis, dtype='float64').astype('float32')
    shape = x3.shape

    def backprop(dy):
        share = np.expand_dims(dy, axis).astype('float32') / np.float32(count)
        return np.broadcast_to(share, shape).copy()
    return y, backprop


class _GlobalPooling1D(Layer):
    """(samples, steps, features) -> (samples, features)."""

    _reduce = None

    @keras2.keras2_arguments(keras2.GLOBAL_POOLING1D)
    def __init__(self, **kwargs):
        super(_GlobalPooling1D, self).__init__(**kwargs)

    def get_output_shape_for(self, input_shape):
        check_rank(self, input_shape, 3, 'samples, steps, features')
        return (input_shape[0], input_shape[2])

    def forward(self, x, training=False, need_input_grad=True):
        self.get_output_shape_for(x.shape)
        if x.shape[1] == 0:
            raise ValueError('Layer %s (%s): cannot pool over 0 steps'
                             % (self.name, type(self).__name__))
        return self._reduce(np.asarray(x, dtype='float32'), 1)


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Max over the steps of temporal data.

    # Input shape
        3D `(samples, steps, features)`.

    # Output shape
        2D `(samples, features)`.
    """

    _reduce = staticmethod(_global_max)


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over the steps of temporal data.

    # Input shape
        3D `(samples, steps, features)`.

    # Output shape
        2D `(samples, features)`.
    """

    _reduce = staticmethod(_global_average)


class _GlobalPooling2D(Layer):
    """4D images -> (samples, channels)."""

    _reduce = None

    @keras2.keras2_arguments(keras2.GLOBAL_POOLING2D)
    def __init__(self, dim_ordering='default', **kwargs):
        super(_GlobalPooling2D, self).__init__(**kwargs)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)

    def get_output_shape_for(self, input_shape):
        check_image_rank(self, input_shape)
        channels, _, _ = image_axes(input_shape, self.dim_ordering)
        return (input_shape[0], channels)

    def forward(self, x, training=False, need_input_grad=True):
        self.get_output_shape_for(x.shape)
        shape = x.shape
        n = shape[0]
        channels, rows, cols = image_axes(shape, self.dim_ordering)
        if rows * cols == 0:
            raise ValueError('Layer %s (%s): cannot pool over an empty image'
                             % (self.name, type(self).__name__))
        x = np.asarray(x, dtype='float32')
        if self.dim_ordering == 'th':
            y, backprop3 = self._reduce(x.reshape(n, channels, rows * cols), 2)
        else:
            y, backprop3 = self._reduce(x.reshape(n, rows * cols, channels), 1)

        def backprop(dy):
            return backprop3(dy).reshape(shape)
        return y, backprop

    def get_config(self):
        config = super(_GlobalPooling2D, self).get_config()
        config['dim_ordering'] = self.dim_ordering
        return config


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Max over the rows and cols of each channel.

    # Arguments
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).

    # Input shape
        4D `(samples, channels, rows, cols)` ('th') or
        `(samples, rows, cols, channels)` ('tf').

    # Output shape
        2D `(samples, channels)`.
    """

    _reduce = staticmethod(_global_max)


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean over the rows and cols of each channel.

    # Arguments
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).

    # Input shape
        4D `(samples, channels, rows, cols)` ('th') or
        `(samples, rows, cols, channels)` ('tf').

    # Output shape
        2D `(samples, channels)`.
    """

    _reduce = staticmethod(_global_average)


# ---------------------------------------------------------------------------
# 3D pooling, on the kernels of `kernels/pooling3d.py`.
# ---------------------------------------------------------------------------

class _Pooling3D(Layer):
    """Shared by MaxPooling3D and AveragePooling3D."""

    _mode = None

    @keras2.keras2_arguments(keras2.POOLING3D)
    def __init__(self, pool_size=(2, 2, 2), strides=None, border_mode='valid',
                 dim_ordering='default', **kwargs):
        super(_Pooling3D, self).__init__(**kwargs)
        self.pool_size = positive_ints(self, 'pool_size', pool_size, 3)
        self.strides = positive_ints(self, 'strides', strides if strides is not None
                                     else self.pool_size, 3)
        self.border_mode = one_of(self, 'border_mode', border_mode, _BORDER_MODES)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)

    def _sizes(self, input_shape):
        check_rank(self, input_shape, 5, 'samples, ' + (
            'channels, dim1, dim2, dim3' if self.dim_ordering == 'th'
            else 'dim1, dim2, dim3, channels'))
        return tuple(input_shape[2:]) if self.dim_ordering == 'th' else \
            tuple(input_shape[1:4])

    def get_output_shape_for(self, input_shape):
        sizes = []
        for axis, size, window, stride in zip(('dim1', 'dim2', 'dim3'), self._sizes(input_shape),
                                              self.pool_size, self.strides):
            if size is None:
                sizes.append(None)
                continue
            if self.border_mode == 'valid' and size < window:
                raise ValueError('Layer %s (%s): pool_size %s is larger than its input (%s %d); '
                                 'input shape %s (dim_ordering=%r)'
                                 % (self.name, type(self).__name__, self.pool_size, axis, size,
                                    tuple(input_shape), self.dim_ordering))
            sizes.append(pool_kernels.pool_output_length(size, window, self.border_mode, stride))
        if self.dim_ordering == 'th':
            return (input_shape[0], input_shape[1]) + tuple(sizes)
        return (input_shape[0],) + tuple(sizes) + (input_shape[4],)

    def forward(self, x, training=False, need_input_grad=True):
        self.get_output_shape_for(x.shape)
        x_cf = np.moveaxis(x, -1, 1) if self.dim_ordering == 'tf' else x
        x_cf = np.ascontiguousarray(x_cf, dtype='float32')
        pads, outs = zip(*[pool_kernels.pool_padding(size, window, self.border_mode, stride)
                           for size, window, stride in zip(x_cf.shape[2:], self.pool_size,
                                                           self.strides)])
        geometry = [np.asarray(v, dtype=np.int64) for v in (self.pool_size, self.strides, pads)]
        y_cf = np.empty(x_cf.shape[:2] + tuple(outs), dtype='float32')
        if self._mode == 'max':
            argmax = np.empty(y_cf.shape, dtype=np.int64)
            pool3d_kernels.maxpool3d_forward(x_cf, y_cf, argmax, *geometry)
        else:
            pool3d_kernels.avgpool3d_forward(x_cf, y_cf, *geometry)

        def backprop(dy):
            dy_cf = np.moveaxis(dy, -1, 1) if self.dim_ordering == 'tf' else dy
            dy_cf = np.ascontiguousarray(dy_cf, dtype='float32')
            dx = np.empty_like(x_cf)
            if self._mode == 'max':
                pool3d_kernels.maxpool3d_backward(dy_cf, argmax, dx)
            else:
                pool3d_kernels.avgpool3d_backward(dy_cf, dx, *geometry)
            return np.moveaxis(dx, 1, -1) if self.dim_ordering == 'tf' else dx
        return (np.moveaxis(y_cf, 1, -1) if self.dim_ordering == 'tf' else y_cf), backprop

    def get_config(self):
        config = super(_Pooling3D, self).get_config()
        config.update({'pool_size': self.pool_size, 'strides': self.strides,
                       'border_mode': self.border_mode, 'dim_ordering': self.dim_ordering})
        return config


class MaxPooling3D(_Pooling3D):
    """Max pooling over 3D windows (e.g. of video frames or scans).

    # Arguments
        pool_size: (dim1, dim2, dim3) window size.
        strides: (dim1, dim2, dim3) strides; the pool size when None.
        border_mode: 'valid' or 'same' (TensorFlow's padding rule; padded
            positions never win).
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).

    # Input shape
        5D `(samples, channels, dim1, dim2, dim3)` ('th') or
        `(samples, dim1, dim2, dim3, channels)` ('tf').

    # Output shape
        5D, with pooled spatial axes.
    """

    _mode = 'max'


class AveragePooling3D(_Pooling3D):
    """Average pooling over 3D windows.

    With border_mode='same', the padded positions are left out of each
    average, as in TensorFlow.

    # Arguments
        pool_size: (dim1, dim2, dim3) window size.
        strides: (dim1, dim2, dim3) strides; the pool size when None.
        border_mode: 'valid' or 'same'.
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).

    # Input shape
        5D `(samples, channels, dim1, dim2, dim3)` ('th') or
        `(samples, dim1, dim2, dim3, channels)` ('tf').

    # Output shape
        5D, with pooled spatial axes.
    """

    _mode = 'avg'


class _GlobalPooling3D(Layer):
    """Shared by GlobalMaxPooling3D and GlobalAveragePooling3D."""

    @keras2.keras2_arguments(keras2.GLOBAL_POOLING3D)
    def __init__(self, dim_ordering='default', **kwargs):
        super(_GlobalPooling3D, self).__init__(**kwargs)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)

    def _check(self, input_shape):
        check_rank(self, input_shape, 5, 'samples, ' + (
            'channels, dim1, dim2, dim3' if self.dim_ordering == 'th'
            else 'dim1, dim2, dim3, channels'))

    def get_output_shape_for(self, input_shape):
        self._check(input_shape)
        return (input_shape[0], input_shape[1] if self.dim_ordering == 'th' else input_shape[4])

    def forward(self, x, training=False, need_input_grad=True):
        self._check(x.shape)
        x_cf = np.moveaxis(x, -1, 1) if self.dim_ordering == 'tf' else x
        n, channels = x_cf.shape[:2]
        flat = x_cf.reshape(n, channels, -1)
        if self._mode == 'max':
            where = np.argmax(flat, axis=2)         # the first maximum wins a tie
            y = np.take_along_axis(flat, where[:, :, None], axis=2)[:, :, 0]
        else:
            y = flat.mean(axis=2, dtype='float32')
        shape_cf = x_cf.shape

        def backprop(dy):
            if self._mode == 'max':
                dx = np.zeros((n, channels, flat.shape[2]), dtype='float32')
                np.put_along_axis(dx, where[:, :, None], dy[:, :, None], axis=2)
            else:
                dx = np.repeat(dy[:, :, None] / np.float32(flat.shape[2]), flat.shape[2],
                               axis=2)
            dx = dx.reshape(shape_cf)
            return np.moveaxis(dx, 1, -1) if self.dim_ordering == 'tf' else dx
        return y.astype('float32'), backprop

    def get_config(self):
        config = super(_GlobalPooling3D, self).get_config()
        config['dim_ordering'] = self.dim_ordering
        return config


class GlobalMaxPooling3D(_GlobalPooling3D):
    """The maximum of each channel over the three spatial axes of volumes.

    # Arguments
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).

    # Input shape
        5D `(samples, channels, dim1, dim2, dim3)` ('th') or
        `(samples, dim1, dim2, dim3, channels)` ('tf').

    # Output shape
        2D `(samples, channels)`.
    """

    _mode = 'max'


class GlobalAveragePooling3D(_GlobalPooling3D):
    """The mean of each channel over the three spatial axes of volumes.

    # Arguments
        dim_ordering: 'th', 'tf' or 'default' (the backend's ordering).

    # Input shape
        5D `(samples, channels, dim1, dim2, dim3)` ('th') or
        `(samples, dim1, dim2, dim3, channels)` ('tf').

    # Output shape
        2D `(samples, channels)`.
    """

    _mode = 'avg'


# Keras 2's short names.
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
