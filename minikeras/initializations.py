"""Weight initializations of Keras 1.

Every initializer draws from NumPy's global random generator, as Keras 1 on
Theano did, so `np.random.seed(...)` at the top of a script makes a run
reproducible. Each returns a float32 array of the requested shape.
"""
import inspect

import numpy as np

from .utils.generic_utils import get_from_module


def get_fans(shape, dim_ordering='th'):
    """Returns (fan_in, fan_out) for a weight shape, as Keras 1 computed them.

    # Arguments
        shape: the weight shape. 2D: (input_dim, output_dim). 4D or 5D
            convolution kernels: 'th' (nb_filter, stack, rows, cols, ...) or
            'tf' (rows, cols, ..., stack, nb_filter).
        dim_ordering: 'th' or 'tf', the kernel layout.
    """
    shape = tuple(int(d) for d in shape)
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) in (4, 5):
        if dim_ordering == 'th':
            receptive_field = int(np.prod(shape[2:]))
            return shape[1] * receptive_field, shape[0] * receptive_field
        if dim_ordering == 'tf':
            receptive_field = int(np.prod(shape[:-2]))
            return shape[-2] * receptive_field, shape[-1] * receptive_field
        raise ValueError('dim_ordering must be "th" or "tf", got %r' % (dim_ordering,))
    fan = np.sqrt(np.prod(shape))
    return fan, fan


def _float32(values):
    return np.asarray(values, dtype='float32')


def uniform(shape, scale=0.05, name=None, dim_ordering='th'):
    """Uniform on [-scale, scale]."""
    return _float32(np.random.uniform(-scale, scale, size=shape))


def normal(shape, scale=0.05, name=None, dim_ordering='th'):
    """Gaussian with mean 0 and standard deviation `scale` (0.05 by default)."""
    return _float32(np.random.normal(0.0, scale, size=shape))


def lecun_uniform(shape, name=None, dim_ordering='th'):
    """Uniform on [-sqrt(3 / fan_in), sqrt(3 / fan_in)] (LeCun 98)."""
    fan_in, _ = get_fans(shape, dim_ordering)
    return uniform(shape, np.sqrt(3. / fan_in))


def glorot_normal(shape, name=None, dim_ordering='th'):
    """Gaussian with standard deviation sqrt(2 / (fan_in + fan_out)) (Glorot 2010)."""
    fan_in, fan_out = get_fans(shape, dim_ordering)
    return normal(shape, np.sqrt(2. / (fan_in + fan_out)))


def glorot_uniform(shape, name=None, dim_ordering='th'):
    """Uniform on +-sqrt(6 / (fan_in + fan_out)) (Glorot 2010)."""
    fan_in, fan_out = get_fans(shape, dim_ordering)
    return uniform(shape, np.sqrt(6. / (fan_in + fan_out)))


def he_normal(shape, name=None, dim_ordering='th'):
    """Gaussian with standard deviation sqrt(2 / fan_in) (He 2015)."""
    fan_in, _ = get_fans(shape, dim_ordering)
    return normal(shape, np.sqrt(2. / fan_in))


def he_uniform(shape, name=None, dim_ordering='th'):
    """Uniform on +-sqrt(6 / fan_in) (He 2015)."""
    fan_in, _ = get_fans(shape, dim_ordering)
    return uniform(shape, np.sqrt(6. / fan_in))


def orthogonal(shape, scale=1.1, name=None, dim_ordering='th'):
    """A random orthogonal matrix (flattened past the first axis) times `scale`."""
    flat_shape = (shape[0], int(np.prod(shape[1:])))
    a = np.random.normal(0.0, 1.0, flat_shape)
    u, _, v = np.linalg.svd(a, full_matrices=False)
    q = u if u.shape == flat_shape else v
    return _float32(scale * q.reshape(shape))


def identity(shape, scale=1, name=None, dim_ordering='th'):
    """`scale` times the identity; only for square 2D weights."""
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError('identity initialization needs a square 2D shape, got %s' % (tuple(shape),))
    return _float32(scale * np.identity(shape[0]))


def zero(shape, name=None, dim_ordering='th'):
    """All zeros."""
    return np.zeros(shape, dtype='float32')


def one(shape, name=None, dim_ordering='th'):
    """All ones."""
    return np.ones(shape, dtype='float32')


_BY_NAME = {f.__name__: f for f in (uniform, normal, lecun_uniform, glorot_normal, glorot_uniform,
                                    he_normal, he_uniform, orthogonal, identity, zero, one)}


def get(identifier, **kwargs):
    """Returns the initialization function for a name or a function.

    # Arguments
        identifier: a name ('normal', 'glorot_uniform', ...) or a function
            `f(shape, name=None, dim_ordering='th')`, or a Keras 2
            initializer (object, or its `{'class_name': ..}` config).
    """
    if isinstance(identifier, dict) and 'class_name' in identifier:
        from . import initializers
        return initializers.get(identifier)
    if isinstance(identifier, str) and identifier not in _BY_NAME:
        from . import initializers
        try:    # a Keras 2 name ('zeros', 'truncated_normal', 'lecun_normal', ...)
            return initializers.get(identifier)
        except ValueError:
            pass
    function = get_from_module(identifier, _BY_NAME, 'init')
    if not callable(function):
        raise ValueError('init must be a name or a function, got %r' % (identifier,))
    if function in _BY_NAME.values():
        return function
    from . import initializers
    if isinstance(function, initializers.Initializer):
        return function
    return _called_as_keras_1(function)


def _called_as_keras_1(function):
    """A user's init, called with the keywords it takes: Keras 1 scripts
    write `lambda shape, name: normal(shape, scale=0.001, name=name)`,
    which takes no `dim_ordering`."""
    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return function
    any_keyword = any(p.kind == p.VAR_KEYWORD for p in params.values())
    wanted = [key for key in ('name', 'dim_ordering') if any_keyword or key in params]

    def init(shape, name=None, dim_ordering='th'):
        given = {'name': name, 'dim_ordering': dim_ordering}
        return function(shape, **{key: given[key] for key in wanted})
    init.__name__ = getattr(function, '__name__', 'custom_init')
    return init


def serialize(init):
    """An init as a layer's config stores it: its name, or a Keras 2
    initializer's `{'class_name': ..., 'config': ...}`."""
    from . import initializers
    if isinstance(init, initializers.Initializer):
        return initializers.serialize(init)
    return init
