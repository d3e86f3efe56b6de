"""Image-layout helpers shared by the convolution and pooling layers."""
import numpy as np

from .. import backend


def resolve_dim_ordering(dim_ordering, layer_name):
    """Maps 'default' to the backend's ordering and rejects anything but 'th'/'tf'."""
    if dim_ordering == 'default':
        return backend.image_dim_ordering()
    if dim_ordering not in ('th', 'tf'):
        raise ValueError('%s: dim_ordering must be "th", "tf" or "default", got %r'
                         % (layer_name, dim_ordering))
    return dim_ordering


def to_channels_first(x, dim_ordering):
    """A contiguous (batch, channels, rows, cols) view of an image batch."""
    if dim_ordering == 'tf':
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    return np.ascontiguousarray(x)


def from_channels_first(x, dim_ordering):
    """Back to the layer's ordering from (batch, channels, rows, cols)."""
    if dim_ordering == 'tf':
        return x.transpose(0, 2, 3, 1)
    return x


def image_axes(input_shape, dim_ordering):
    """(channels, rows, cols) of a 4D shape in the given ordering."""
    if dim_ordering == 'th':
        return input_shape[1], input_shape[2], input_shape[3]
    return input_shape[3], input_shape[1], input_shape[2]


def image_shape(batch, channels, rows, cols, dim_ordering):
    """A 4D shape in the given ordering."""
    if dim_ordering == 'th':
        return (batch, channels, rows, cols)
    return (batch, rows, cols, channels)
