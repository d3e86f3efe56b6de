"""NumPy helpers from Keras 1's `keras.utils.np_utils`."""
import numpy as np

from ..compat import keras2


@keras2.keras2_function_arguments(keras2.TO_CATEGORICAL)
def to_categorical(y, nb_classes=None, dtype=None, keep_shape=False):
    """Converts a class vector (integers) to a binary class matrix.

    # Arguments
        y: class vector (integers from 0 to nb_classes - 1).
        nb_classes: total number of classes; defaults to `max(y) + 1`
            (Keras 2: `num_classes`).
        dtype: of the result: float64 by default (Keras 1); Keras 2's
            default is float32.
        keep_shape: Keras 2's shape: `y.shape + (nb_classes,)` (a trailing
            axis of size 1 dropped), instead of Keras 1's flat
            `(y.size, nb_classes)`. A Keras 2 call (`num_classes=`,
            `dtype=`, or a Keras 2 script) gets float32 and this shape.

    # Returns
        A float array with one 1 per label.
    """
    labels = np.asarray(y)
    if labels.size and not np.all(np.equal(np.mod(labels, 1), 0)):
        raise ValueError('to_categorical: labels must be integers, got values such as %r'
                         % (labels.ravel()[0],))
    labels = labels.astype('int64').ravel()
    if not nb_classes:
        nb_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= nb_classes):
        raise ValueError('to_categorical: labels must lie in [0, %d), got range [%d, %d]'
                         % (nb_classes, labels.min(), labels.max()))
    shape = np.shape(y)
    if keep_shape and len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    if dtype is None:
        dtype = 'float32' if keep_shape else 'float64'
    categorical = np.zeros((labels.shape[0], nb_classes), dtype=dtype)
    categorical[np.arange(labels.shape[0]), labels] = 1
    if keep_shape:
        categorical = categorical.reshape(tuple(shape) + (nb_classes,))
    return categorical


def normalize(x, axis=-1, order=2):
    """Keras 2: `x` divided by its `order`-norm along `axis` (zero norms left as they are).

    # Arguments
        x: array.
        axis: the axis along which to normalize.
        order: the norm's order (2 for L2).
    """
    norms = np.atleast_1d(np.linalg.norm(x, order, axis))
    norms[norms == 0] = 1
    return x / np.expand_dims(norms, axis)


def categorical_probas_to_classes(p):
    """Returns the index of the largest probability in each row."""
    return np.argmax(p, axis=1)


def accuracy(p, y):
    """Keras 0.x: the fraction of the pairs `(p[i], y[i])` that are equal
    (`p` and `y` are zipped, so the shorter decides how many are compared).

    # Arguments
        p, y: sequences of labels, e.g. true labels and rounded predictions.
    """
    return np.mean([np.equal(a, b) for a, b in zip(p, y)])


def probas_to_classes(y_pred):
    """Class indices from predictions: argmax for several columns, a 0.5
    threshold for one column (as Keras 1)."""
    y_pred = np.asarray(y_pred)
    if y_pred.ndim > 1 and y_pred.shape[1] > 1:
        return categorical_probas_to_classes(y_pred)
    return np.array([1 if p > 0.5 else 0 for p in y_pred.ravel()])


def convert_kernel(kernel, dim_ordering=None):
    """Flips a convolution kernel spatially (Theano <-> TensorFlow convention).

    # Arguments
        kernel: array of shape (nb_filter, stack, rows, cols) for 'th' or
            (rows, cols, stack, nb_filter) for 'tf'.
        dim_ordering: 'th' or 'tf'; defaults to the backend's.
    """
    from .. import backend
    kernel = np.asarray(kernel)
    ordering = dim_ordering or backend.image_dim_ordering()
    if kernel.ndim != 4:
        raise ValueError('convert_kernel expects a 4D kernel, got shape %s' % (kernel.shape,))
    if ordering == 'th':
        return np.ascontiguousarray(kernel[:, :, ::-1, ::-1])
    if ordering == 'tf':
        return np.ascontiguousarray(kernel[::-1, ::-1, :, :])
    raise ValueError('dim_ordering must be "th" or "tf", got %r' % (ordering,))


def normalize(a, axis=-1, order=2):
    """Scales `a` to unit norm along `axis` (rows of norm 0 are left as they are).

    # Arguments
        a: array.
        axis: the axis along which norms are taken.
        order: the norm's order (2: Euclidean).
    """
    a = np.asarray(a)
    norms = np.atleast_1d(np.linalg.norm(a, order, axis))
    norms[norms == 0] = 1
    return a / np.expand_dims(norms, axis)


def conv_output_length(input_length, filter_size, border_mode, stride, dilation=1):
    """Length of a convolution's output along one axis (None for None).

    # Arguments
        input_length: the input length, or None.
        filter_size: the kernel length.
        border_mode: 'valid', 'same' or 'full'.
        stride: the stride.
        dilation: the dilation rate (a dilated kernel spans
            `filter_size + (filter_size - 1) * (dilation - 1)` inputs).
    """
    from ..kernels.conv2d import conv_output_length as kernel_output_length
    span = filter_size + (filter_size - 1) * (dilation - 1)
    return kernel_output_length(input_length, span, border_mode, stride)


def conv_input_length(output_length, filter_size, border_mode, stride):
    """The input length a convolution needs for a given output length (the
    inverse of `conv_output_length` for stride 1; None for None).

    # Arguments
        output_length: the output length, or None.
        filter_size: the kernel length.
        border_mode: 'valid', 'same' or 'full'.
        stride: the stride.
    """
    if output_length is None:
        return None
    padding = {'same': filter_size // 2, 'valid': 0, 'full': filter_size - 1}
    if border_mode not in padding:
        raise ValueError('conv_input_length: border_mode must be "valid", "same" or "full", '
                         'got %r' % (border_mode,))
    return (output_length - 1) * stride - 2 * padding[border_mode] + filter_size
