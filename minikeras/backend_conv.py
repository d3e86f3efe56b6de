"""Keras 2's convolution functions of the backend (`K.conv1d`, `K.conv2d`,
`K.conv3d`, `K.local_conv1d`, `K.bias_add`), on NumPy.

They follow Keras 2.2.4's TensorFlow backend: cross-correlation (the kernel
is not flipped), kernels laid out `spatial sizes + (input channels, output
channels)` whatever the `data_format`, TensorFlow's 'same' padding (the odd
pixel goes after), and 'causal' padding for `conv1d`. They are written with
NumPy slicing, stacking and `tensordot`, so that the tracer
(`minikeras.autodiff`) differentiates them inside a custom layer's `call` or
a loss; the layers use the kernels of `minikeras/kernels/` instead.
"""
import numpy as np

__all__ = ['conv1d', 'conv2d', 'conv3d', 'local_conv1d', 'bias_add']


def _data_format(function, data_format):
    if data_format is None:
        from . import backend
        data_format = backend.image_data_format()
    if data_format not in ('channels_first', 'channels_last'):
        raise ValueError("K.%s: data_format must be 'channels_first' or 'channels_last', got %r"
                         % (function, data_format))
    return data_format


def _ints(function, what, value, rank):
    values = (value,) * rank if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != rank or not all(isinstance(v, (int, np.integer)) and v >= 1
                                      for v in values):
        raise ValueError('K.%s: %s must be a positive integer or %d of them, got %r'
                         % (function, what, rank, value))
    return values


def _same_pads(size, span, stride):
    """TensorFlow's 'same': ceil(size / stride) outputs, the odd pad after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def _convolution(function, x, kernel, strides, padding, data_format, dilation_rate, rank):
    data_format = _data_format(function, data_format)
    strides = _ints(function, 'strides', strides, rank)
    dilation = _ints(function, 'dilation_rate', dilation_rate, rank)
    if x.ndim != rank + 2 or kernel.ndim != rank + 2:
        raise ValueError('K.%s: expected a %dD input and a %dD kernel (%s + (in, out)), got '
                         'shapes %s and %s' % (function, rank + 2, rank + 2,
                                               'spatial sizes', tuple(x.shape),
                                               tuple(kernel.shape)))
    if data_format == 'channels_first':
        x = np.moveaxis(x, 1, -1)
    sizes, taps = x.shape[1:-1], kernel.shape[:rank]
    if x.shape[-1] != kernel.shape[-2]:
        raise ValueError('K.%s: the input has %d channels, the kernel (shape %s) takes %d'
                         % (function, x.shape[-1], tuple(kernel.shape), kernel.shape[-2]))
    spans = [(k - 1) * d + 1 for k, d in zip(taps, dilation)]
    if padding == 'causal':
        if rank != 1:
            raise ValueError("K.%s: padding='causal' is for conv1d only" % function)
        pads = [(spans[0] - 1, 0)]
    elif padding == 'same':
        pads = [_same_pads(n, span, s) for n, span, s in zip(sizes, spans, strides)]
    elif padding == 'valid':
        pads = [(0, 0)] * rank
    else:
        raise ValueError("K.%s: padding must be 'valid', 'same'%s, got %r"
                         % (function, " or 'causal'" if rank == 1 else '', padding))
    if any(p for pair in pads for p in pair):
        x = np.pad(x, [(0, 0)] + list(pads) + [(0, 0)])
    outs = [(n + sum(p) - span) // s + 1 for n, p, span, s in zip(sizes, pads, spans, strides)]
    if min(outs) < 1:
        raise ValueError('K.%s: a kernel spanning %s does not fit the input sizes %s with '
                         'padding=%r' % (function, tuple(spans), tuple(sizes), padding))
    # One strided view of the input per kernel tap, stacked beside the channels.
    windows = []
    for tap in np.ndindex(*taps):
        key = (slice(None),) + tuple(
            slice(t * d, t * d + (o - 1) * s + 1, s)
            for t, d, o, s in zip(tap, dilation, outs, strides)) + (slice(None),)
        windows.append(x[key])
    patches = np.stack(windows, axis=-2)            # (batch,) + outs + (taps, in)
    flat_kernel = np.reshape(kernel, (-1,) + tuple(kernel.shape[-2:]))
    y = np.tensordot(patches, flat_kernel, axes=([rank + 1, rank + 2], [0, 1]))
    return np.moveaxis(y, -1, 1) if data_format == 'channels_first' else y


def conv1d(x, kernel, strides=1, padding='valid', data_format=None, dilation_rate=1):
    """1D convolution (Keras 2.2.4).

    # Arguments
        x: `(batch, steps, channels)` (channels_last) input.
        kernel: `(kernel_size, channels, filters)`.
        strides: the stride.
        padding: 'valid', 'same' or 'causal' (left padding only, so that an
            output sees no later step).
        data_format: 'channels_last' or 'channels_first' (x as `(batch,
            channels, steps)`); None means `image_data_format()`.
        dilation_rate: the distance between the kernel's taps.
    """
    return _convolution('conv1d', x, kernel, strides, padding,
                        'channels_last' if data_format is None else data_format,
                        dilation_rate, 1)


def conv2d(x, kernel, strides=(1, 1), padding='valid', data_format=None, dilation_rate=(1, 1)):
    """2D convolution (Keras 2.2.4; cross-correlation, as TensorFlow's).

    # Arguments
        x: `(batch, rows, cols, channels)` (channels_last) or `(batch,
            channels, rows, cols)` (channels_first).
        kernel: `(kernel_rows, kernel_cols, channels, filters)`.
        strides: int or 2 ints.
        padding: 'valid' or 'same'.
        data_format: None means `image_data_format()`.
        dilation_rate: int or 2 ints.
    """
    return _convolution('conv2d', x, kernel, strides, padding, data_format, dilation_rate, 2)


def conv3d(x, kernel, strides=(1, 1, 1), padding='valid', data_format=None,
           dilation_rate=(1, 1, 1)):
    """3D convolution (Keras 2.2.4): as `conv2d`, with three spatial axes and
    a kernel `(k1, k2, k3, channels, filters)`."""
    return _convolution('conv3d', x, kernel, strides, padding, data_format, dilation_rate, 3)


def local_conv1d(inputs, kernel, kernel_size, strides, data_format=None):
    """1D convolution with a kernel of its own at every output step (Keras 2.2.4).

    # Arguments
        inputs: `(batch, steps, input_dim)`.
        kernel: `(output_length, kernel_size * input_dim, filters)`.
        kernel_size, strides: 1-tuples (or ints).
        data_format: accepted for Keras 2's signature; the input is
            channels-last temporal data either way.

    # Returns
        `(batch, output_length, filters)`.
    """
    size = _ints('local_conv1d', 'kernel_size', kernel_size, 1)[0]
    stride = _ints('local_conv1d', 'strides', strides, 1)[0]
    output_length, feature_dim, filters = kernel.shape
    if size * inputs.shape[-1] != feature_dim or (output_length - 1) * stride + size > \
            inputs.shape[1]:
        raise ValueError('K.local_conv1d: a kernel of shape %s (output_length, kernel_size * '
                         'input_dim, filters) does not fit inputs of shape %s with kernel_size '
                         '%d and stride %d' % (tuple(kernel.shape), tuple(inputs.shape), size,
                                               stride))
    pieces = [np.reshape(inputs[:, i * stride:i * stride + size, :], (1, -1, feature_dim))
              for i in range(output_length)]
    stacked = np.concatenate(pieces, axis=0)        # (output_length, batch, feature_dim)
    return np.transpose(np.matmul(stacked, kernel), (1, 0, 2))


def bias_add(x, bias, data_format=None):
    """Adds a bias vector (or one of a value per position) to the channels
    of x (Keras 2.2.4).

    # Arguments
        x: a tensor; its channels are last, or second for data_format
            'channels_first' (None means `image_data_format()`).
        bias: `(channels,)`, or the shape of x without the batch axis.
    """
    data_format = _data_format('bias_add', data_format)
    if bias.ndim not in (1, x.ndim - 1):
        raise ValueError('K.bias_add: the bias must have 1 or %d dimensions, got shape %s'
                         % (x.ndim - 1, tuple(bias.shape)))
    if bias.ndim == 1 and data_format == 'channels_first' and x.ndim > 2:
        return x + np.reshape(bias, (1, -1) + (1,) * (x.ndim - 2))
    if bias.ndim > 1 and data_format == 'channels_first' and x.ndim > 2:
        # Keras 2 gives such a bias channels-last; it is moved in front.
        return x + np.moveaxis(bias, -1, 0)[None]
    return x + bias


# Given Keras tensors (an Input, a layer's output), they build graph nodes as
# the other backend functions do.
from .backend_ops import _graph_aware  # noqa: E402

for _name in __all__:
    globals()[_name] = _graph_aware(globals()[_name])
