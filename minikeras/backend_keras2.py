"""Keras 2.2.4's meaning of backend functions whose Keras 1 meaning (the
Theano backend's, which `backend_ops` follows) differs, used in a Keras 2
script (`compat.version`)."""
import numpy as np


def batch_dot(x, y, axes=None):
    """Keras 2.2.4's `K.batch_dot` (its TensorFlow backend): the tensor of
    fewer axes gets trailing axes of 1, then every axis but the last two is a
    batch axis of one `matmul`, x's last two axes transposed unless
    `axes[0]` is its last, y's unless `axes[1]` is not its last; the added
    axes are dropped again. For tensors of at most 3 axes this is Keras 1's
    `batch_dot`; with 4 or more, Keras 1 contracted the named axes only.

    # Arguments
        x, y: tensors with at least 2 axes.
        axes: None (a batched matmul), an int, or a pair of ints.
    """
    x_ndim, y_ndim = np.ndim(x), np.ndim(y)
    if isinstance(axes, int):
        axes = (axes, axes)
    if axes is None:
        axes = (x_ndim - 1, y_ndim - 2)
    if any(isinstance(a, (list, tuple)) for a in axes):
        raise ValueError('K.batch_dot: Keras 2 takes one axis per tensor (None, an int or a '
                         'pair of ints), got %r' % (axes,))
    diff = abs(x_ndim - y_ndim)
    if x_ndim > y_ndim:
        y = np.reshape(y, tuple(np.shape(y)) + (1,) * diff)
    elif y_ndim > x_ndim:
        x = np.reshape(x, tuple(np.shape(x)) + (1,) * diff)
    ndim = np.ndim(x)
    if ndim == 2:
        if axes[0] == axes[1]:
            out = np.sum(x * y, axis=axes[0])
        else:
            out = np.sum(np.transpose(x) * y, axis=axes[1])
    else:
        swap = list(range(ndim - 2)) + [ndim - 1, ndim - 2]
        if axes[0] != ndim - 1:
            x = np.transpose(x, swap)
        if axes[1] == ndim - 1:
            y = np.transpose(y, swap)
        out = np.matmul(x, y)
    if diff:
        start = x_ndim + y_ndim - 3 if x_ndim > y_ndim else x_ndim - 1
        shape = np.shape(out)
        out = np.reshape(out, shape[:start] + shape[start + diff:])
    if np.ndim(out) == 1:
        out = np.reshape(out, (-1, 1))
    return out
