"""Checks of layers' arguments and input shapes, written once.

Every error has one shape: it names the layer and its class, then what was
expected and what came, e.g. `Layer dense_1 (Dense): output_dim must be a
positive integer, got 0` or `Layer conv_1 (Convolution2D) expects 4D input
(samples, channels, rows, cols), got shape (None, 28, 28)`.
"""
import numbers


def layer_label(layer):
    """'Layer <name> (<class>)', how every layer error starts."""
    return 'Layer %s (%s)' % (layer.name, type(layer).__name__)


def check_known_channels(layer, channels, input_shape):
    """A ValueError naming the layer when the input's channel count, which
    its weight shapes need, is None."""
    if channels is None:
        raise ValueError('%s: the number of input channels must be known, got input shape %s'
                         % (layer_label(layer), tuple(input_shape)))


def noise_mask_shape(layer, noise_shape, shape):
    """The shape of a dropout mask for inputs of `shape`: `shape` itself, or
    Keras 2's `noise_shape` with its None entries filled from `shape`; each
    entry must be 1 or the input's size."""
    if noise_shape is None:
        return shape
    wanted = tuple(d if n is None else n for n, d in zip(noise_shape, shape))
    if len(noise_shape) != len(shape) or any(n not in (1, d) for n, d in zip(wanted, shape)):
        raise ValueError('%s: noise_shape %s does not broadcast to the input shape %s (each '
                         "entry must be 1, None or the input's size)"
                         % (layer_label(layer), noise_shape, shape))
    return wanted


def _is_integer(value):
    # 3.0 counts (Python 2 scripts divided with `/`); True and '3' do not.
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and \
        float(value).is_integer()


def positive_int(layer, arg, value, minimum=1):
    """`value` as an int, after checking that it is an integer >= `minimum`.

    # Arguments
        layer: the layer whose argument it is (named in the error).
        arg: the argument's name.
        value: what the caller gave.
        minimum: the smallest value allowed (1: positive; 0: non-negative).

    # Raises
        ValueError: 'Layer x (Class): arg must be a positive integer, got v'.
    """
    if not _is_integer(value) or value < minimum:
        raise ValueError('%s: %s must be %s, got %r'
                         % (layer_label(layer), arg, 'a positive integer' if minimum == 1
                            else 'an integer >= %d' % minimum, value))
    return int(value)


def positive_ints(layer, arg, values, count):
    """`values` as a tuple of `count` positive ints (a window size, strides).

    # Raises
        ValueError: naming the layer and `arg`, unless `values` is a
            sequence of `count` positive integers.
    """
    try:
        values = tuple(values)
    except TypeError:
        values = (values,)
    if len(values) != count or not all(_is_integer(v) and v >= 1 for v in values):
        raise ValueError('%s: %s must be %s positive integers, got %r'
                         % (layer_label(layer), arg, count, values))
    return tuple(int(v) for v in values)


def fraction(layer, arg, value):
    """`value` after checking it is a fraction in [0, 1) (a dropout rate)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0. <= value < 1.:
        raise ValueError('%s: %s must be in [0, 1), got %r' % (layer_label(layer), arg, value))
    return value


def one_of(layer, arg, value, choices):
    """`value` after checking it is one of `choices`."""
    if value not in choices:
        raise ValueError('%s: %s must be one of %s, got %r'
                         % (layer_label(layer), arg, tuple(choices), value))
    return value


def check_rank(layer, shape, ndim, axes, advice=''):
    """Checks that an input `shape` (batch axis included) has `ndim` axes.

    # Arguments
        layer: the layer (named in the error).
        shape: the input's shape.
        ndim: the number of axes the layer takes.
        axes: how the layer names them, e.g. 'samples, steps, features'.
        advice: what to do about it, appended to the message.

    # Raises
        ValueError: 'Layer x (Class) expects 3D input (axes), got shape s'.
    """
    if len(shape) != ndim:
        raise ValueError('%s expects %dD input (%s), got shape %s%s'
                         % (layer_label(layer), ndim, axes, tuple(shape),
                            '; ' + advice if advice else ''))


def check_features(layer, shape, expected):
    """Checks that the last axis of an input has the `expected` size the
    layer was built for (an unknown size passes)."""
    if shape[-1] is not None and shape[-1] != expected:
        raise ValueError('%s was built for %d input features, got input of shape %s'
                         % (layer_label(layer), expected, tuple(shape)))


def input_shape_from_dim(kwargs, input_dim, input_length=None, sequence=False):
    """Keras 1's `input_dim` (and `input_length`) as the `input_shape` of
    the layer's keyword arguments, unless an input shape is given already.

    # Arguments
        kwargs: the keyword arguments the layer passes to `Layer.__init__`
            (changed in place and returned).
        input_dim: the number of input features, or None.
        input_length: for sequences, the number of steps (None: any).
        sequence: whether the layer takes sequences, `(steps, input_dim)`.
    """
    if input_dim is not None and 'input_shape' not in kwargs and \
            'batch_input_shape' not in kwargs:
        kwargs['input_shape'] = (input_length, input_dim) if sequence else (input_dim,)
    return kwargs


def image_axis_names(dim_ordering):
    """How the axes of one image are named in errors, for 'th' or 'tf'."""
    return 'channels, rows, cols' if dim_ordering == 'th' else 'rows, cols, channels'


def check_image_rank(layer, shape):
    """Checks that an input is a 4D batch of images in the layer's `dim_ordering`."""
    check_rank(layer, shape, 4, 'samples, ' + image_axis_names(layer.dim_ordering))
