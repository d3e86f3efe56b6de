"""Weight initializers of Keras 2 (`keras.initializers`), as classes and names.

Keras 2 replaced Keras 1's initialization functions with objects:
`Dense(64, kernel_initializer=RandomNormal(stddev=0.01))`. Each object here
is also a Keras 1 initialization (it accepts `dim_ordering` and `name`), so
the layers take either. Where a name means something else in Keras 2 than
in Keras 1 (`glorot_normal`, `he_normal` and `lecun_normal` draw from a
normal truncated at two standard deviations; `orthogonal` has gain 1, not
1.1), a Keras 2 call gets Keras 2's meaning.

Random draws use NumPy's global generator (or a private one when `seed` is
given), so `np.random.seed(...)` makes a run reproducible.
"""
import numpy as np

from .initializations import get_fans
from .utils.generic_utils import get_from_module

# Standard deviation of a unit normal truncated to [-2, 2]: Keras 2.2 divides
# by it so that the truncated draw keeps the intended variance.
_TRUNCATED_STD = .87962566103423978


def _generator(seed):
    return np.random if seed is None else np.random.RandomState(seed)


def _float32(values):
    return np.asarray(values, dtype='float32')


def _fans(shape, dim_ordering):
    """Keras 2's fans: kernels are laid out (..., input, output) unless the
    layer keeps a 'th' kernel (output, input, ...)."""
    shape = tuple(int(d) for d in shape)
    if len(shape) == 3 or (len(shape) in (4, 5) and dim_ordering != 'th'):
        receptive_field = int(np.prod(shape[:-2]))
        return shape[-2] * receptive_field, shape[-1] * receptive_field
    return get_fans(shape, 'th')


def _truncated_normal(generator, mean, stddev, shape):
    """Normal draws; those more than two standard deviations away are redrawn."""
    values = generator.normal(0., 1., size=shape)
    outside = np.abs(values) > 2.
    while outside.any():
        values[outside] = generator.normal(0., 1., size=int(outside.sum()))
        outside = np.abs(values) > 2.
    return _float32(mean + stddev * values)


class Initializer(object):
    """Base class of Keras 2 initializers: `initializer(shape)` returns an
    array of that shape."""

    def __call__(self, shape, dtype=None, name=None, dim_ordering='tf'):
        raise TypeError('%s is an abstract initializer; use Zeros, RandomNormal, ...'
                        % type(self).__name__)

    def get_config(self):
        """The constructor arguments, as a dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Makes an initializer from `get_config()`'s dict."""
        return cls(**config)

    def __repr__(self):
        return '%s(%s)' % (type(self).__name__,
                           ', '.join('%s=%r' % kv for kv in sorted(self.get_config().items())))


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None, name=None, dim_ordering='tf'):
        return np.zeros(shape, dtype='float32')


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None, name=None, dim_ordering='tf'):
        return np.ones(shape, dtype='float32')


class Constant(Initializer):
    """Every entry set to `value`.

    # Arguments
        value: float.
    """

    def __init__(self, value=0):
        self.value = value

    def __call__(self, shape, dtype=None, name=None, dim_ordering='tf'):
        return np.full(shape, self.value, dtype='float32')

    def get_config(self):
        return {'value': self.value}


class RandomNormal(Initializer):
    """Normal draws.

    # Arguments
        mean: mean of the distribution.
        stddev: its standard deviation.
        seed: optional int, for a reproducible draw.
    """

    def __init__(self, mean=0., stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None, name=None, dim_ordering='tf'):
        return _float32(_generator(self.seed).normal(self.mean, self.stddev, size=shape))

    def get_config(self):
        return {'mean': self.mean, 'stddev': self.stddev, 'seed': self.seed}


class RandomUniform(Initializer):
    """Uniform draws on [minval, maxval).

    # Arguments
        minval, maxval: the bounds.
        seed: optional int, for a reproducible draw.
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None, name=None, dim_ordering='tf'):
        return _float32(_generator(self.seed).uniform(self.minval, self.maxval, size=shape))

    def get_config(self):
        return {'minval': self.minval, 'maxval': self.maxval, 'seed': self.seed}


class TruncatedNormal(Initializer):
    """Normal draws, redrawn when more than two standard deviations from the mean.

    # Arguments
        mean: mean of the distribution.
        stddev: standard deviation of the normal before truncation.
        seed: optional int, for a reproducible draw.
    """

    def __init__(self, mean=0., stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None, name=None, dim_ordering='tf'):
        return _truncated_normal(_generator(self.seed), self.mean, self.stddev, shape)

    def get_config(self):
        return {'mean': self.mean, 'stddev': self.stddev, 'seed': self.seed}


_MODES = ('fan_in', 'fan_out', 'fan_avg')
_DISTRIBUTIONS = ('normal', 'uniform')


class VarianceScaling(Initializer):
    """Draws scaled to the weight's fans, as Keras 2.2 did.

    With `distribution='normal'`, a truncated normal of standard deviation
    `sqrt(scale / n) / 0.8796` (the truncation's own shrinkage undone); with
    'uniform', uniform on +-`sqrt(3 * scale / n)`; `n` is the fan in, the fan
    out, or their mean, by `mode`.

    # Arguments
        scale: float > 0.
        mode: 'fan_in', 'fan_out' or 'fan_avg'.
        distribution: 'normal' or 'uniform'.
        seed: optional int, for a reproducible draw.
    """

    def __init__(self, scale=1.0, mode='fan_in', distribution='normal', seed=None):
        if not scale > 0:
            raise ValueError('VarianceScaling: scale must be a positive float, got %r' % (scale,))
        if str(mode).lower() not in _MODES:
            raise ValueError('VarianceScaling: mode must be one of %s, got %r' % (_MODES, mode))
        if str(distribution).lower() not in _DISTRIBUTIONS:
            raise ValueError('VarianceScaling: distribution must be one of %s, got %r'
                             % (_DISTRIBUTIONS, distribution))
        self.scale = scale
        self.mode = mode.lower()
        self.distribution = distribution.lower()
        self.seed = seed

    def __call__(self, shape, dtype=None, name=None, dim_ordering='tf'):
        fan_in, fan_out = _fans(shape, dim_ordering)
        n = {'fan_in': fan_in, 'fan_out': fan_out, 'fan_avg': (fan_in + fan_out) / 2.}[self.mode]
        variance = self.scale / max(1., float(n))
        generator = _generator(self.seed)
        if self.distribution == 'normal':
            return _truncated_normal(generator, 0., np.sqrt(variance) / _TRUNCATED_STD, shape)
        limit = np.sqrt(3. * variance)
        return _float32(generator.uniform(-limit, limit, size=shape))

    def get_config(self):
        return {'scale': self.scale, 'mode': self.mode, 'distribution': self.distribution,
                'seed': self.seed}


class Orthogonal(Initializer):
    """A random orthogonal matrix (the weight flattened to 2D, last axis kept)
    times `gain`.

    # Arguments
        gain: multiplicative factor.
        seed: optional int, for a reproducible draw.
    """

    def __init__(self, gain=1., seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None, name=None, dim_ordering='tf'):
        shape = tuple(int(d) for d in shape)
        flat_shape = (int(np.prod(shape[:-1])), shape[-1])
        a = _generator(self.seed).normal(0., 1., flat_shape)
        u, _, v = np.linalg.svd(a, full_matrices=False)
        q = u if u.shape == flat_shape else v
        return _float32(self.gain * q.reshape(shape))

    def get_config(self):
        return {'gain': self.gain, 'seed': self.seed}


class Identity(Initializer):
    """`gain` times the identity, for 2D weights; a non-square weight gets
    identity blocks side by side (its sides must divide each other).

    # Arguments
        gain: multiplicative factor.
    """

    def __init__(self, gain=1.):
        self.gain = gain

    def __call__(self, shape, dtype=None, name=None, dim_ordering='tf'):
        if len(shape) != 2:
            raise ValueError('Identity initializer needs a 2D shape, got %s' % (tuple(shape),))
        rows, cols = int(shape[0]), int(shape[1])
        if max(rows, cols) % min(rows, cols):
            raise ValueError('Identity initializer: one side of %s must divide the other'
                             % (tuple(shape),))
        if rows >= cols:
            eye = np.concatenate([np.identity(cols)] * (rows // cols), axis=0)
        else:
            eye = np.concatenate([np.identity(rows)] * (cols // rows), axis=1)
        return _float32(self.gain * eye)

    def get_config(self):
        return {'gain': self.gain}


def lecun_uniform(seed=None):
    """Uniform on +-sqrt(3 / fan_in)."""
    return VarianceScaling(1., 'fan_in', 'uniform', seed)


def lecun_normal(seed=None):
    """Truncated normal of standard deviation sqrt(1 / fan_in) (SELU networks)."""
    return VarianceScaling(1., 'fan_in', 'normal', seed)


def glorot_uniform(seed=None):
    """Uniform on +-sqrt(6 / (fan_in + fan_out))."""
    return VarianceScaling(1., 'fan_avg', 'uniform', seed)


def glorot_normal(seed=None):
    """Truncated normal of standard deviation sqrt(2 / (fan_in + fan_out))."""
    return VarianceScaling(1., 'fan_avg', 'normal', seed)


def he_uniform(seed=None):
    """Uniform on +-sqrt(6 / fan_in)."""
    return VarianceScaling(2., 'fan_in', 'uniform', seed)


def he_normal(seed=None):
    """Truncated normal of standard deviation sqrt(2 / fan_in)."""
    return VarianceScaling(2., 'fan_in', 'normal', seed)


# Keras 2's lower-case names (and its aliases of them).
zero = zeros = Zeros
one = ones = Ones
constant = Constant
normal = random_normal = RandomNormal
uniform = random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
orthogonal = Orthogonal
identity = Identity

_FUNCTIONS = (lecun_uniform, lecun_normal, glorot_uniform, glorot_normal, he_uniform, he_normal)


def serialize(initializer):
    """`{'class_name': ..., 'config': ...}` for an initializer object."""
    return {'class_name': type(initializer).__name__, 'config': initializer.get_config()}


def deserialize(config):
    """The initializer described by `serialize`'s dict."""
    return get(config)


def get(identifier):
    """Returns a Keras 2 initializer object.

    # Arguments
        identifier: a name ('glorot_uniform', 'zeros', 'RandomNormal', ...),
            a `{'class_name': ..., 'config': ...}` dict, an initializer
            object, or any function `f(shape)`.
    """
    if identifier is None:
        return None
    found = get_from_module(identifier, globals(), 'initializer')
    if isinstance(found, type) and issubclass(found, Initializer):
        return found()
    if found in _FUNCTIONS:
        return found()
    if not callable(found):
        raise ValueError('initializer must be a name, a config dict or a function, got %r'
                         % (identifier,))
    return found
