"""Weight constraints of Keras 1, applied to a weight after every update."""
import numpy as np

from . import backend
from .utils.generic_utils import get_from_module


class Constraint(object):
    """Base class: leaves the weight unchanged."""

    def __call__(self, p):
        return p

    def get_config(self):
        return {'name': type(self).__name__}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop('name', None)
        return cls(**config)


def _norms(p, axis):
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    return np.sqrt(np.sum(np.square(p), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescales the weights incident to each unit to a norm of at most `m`.

    # Arguments
        m: the maximum norm.
        axis: the axis (or axes) along which norms are computed (0 for a
            Dense kernel; [0, 1, 2] for a 'tf' convolution kernel).
    """

    def __init__(self, m=2, axis=0, max_value=None):
        self.m = m if max_value is None else max_value   # Keras 2 names it max_value
        self.axis = axis

    def __call__(self, p):
        norms = _norms(p, self.axis)
        desired = np.clip(norms, 0, self.m)
        return p * (desired / (backend.epsilon() + norms))

    def get_config(self):
        return {'name': type(self).__name__, 'm': self.m, 'axis': self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, p):
        return p * (p >= 0.)


class UnitNorm(Constraint):
    """Rescales the weights incident to each unit to unit norm.

    # Arguments
        axis: the axis (or axes) along which norms are computed.
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, p):
        return p / (backend.epsilon() + _norms(p, self.axis))

    def get_config(self):
        return {'name': type(self).__name__, 'axis': self.axis}


class MinMaxNorm(Constraint):
    """Keras 2: rescales the weights incident to each unit towards a norm
    between `min_value` and `max_value`:
    `w * (rate * clip(norm, min_value, max_value) + (1 - rate) * norm) / norm`.

    # Arguments
        min_value, max_value: the bounds of the norm.
        rate: 1 enforces the bounds at once; smaller values move towards them.
        axis: the axis (or axes) along which norms are computed.
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, p):
        norms = _norms(p, self.axis)
        desired = self.rate * np.clip(norms, self.min_value, self.max_value) + \
            (1 - self.rate) * norms
        return p * (desired / (backend.epsilon() + norms))

    def get_config(self):
        return {'name': type(self).__name__, 'min_value': self.min_value,
                'max_value': self.max_value, 'rate': self.rate, 'axis': self.axis}


maxnorm = max_norm = MaxNorm
nonneg = non_neg = NonNeg
unitnorm = unit_norm = UnitNorm
min_max_norm = MinMaxNorm

_BY_NAME = {'Constraint': Constraint, 'MaxNorm': MaxNorm, 'NonNeg': NonNeg,
            'UnitNorm': UnitNorm, 'maxnorm': MaxNorm, 'nonneg': NonNeg, 'unitnorm': UnitNorm,
            'MinMaxNorm': MinMaxNorm, 'max_norm': MaxNorm, 'non_neg': NonNeg,
            'unit_norm': UnitNorm, 'min_max_norm': MinMaxNorm}


def get(identifier, kwargs=None):
    """Returns a constraint for None, a name, a config dict or an instance."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return get_from_module(identifier, _BY_NAME, 'constraint', instantiate=True, kwargs=kwargs)
    return get_from_module(identifier, _BY_NAME, 'constraint')
