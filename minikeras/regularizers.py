"""Weight and activity regularizers of Keras 1.

A regularizer `r` gives a penalty `r(x)` added to the training loss (and to
the reported loss, as in Keras 1) and its gradient `r.gradient(x)`.
"""
import numpy as np

from .utils.generic_utils import get_from_module


class Regularizer(object):
    """Base class: no penalty."""

    def __call__(self, x):
        return 0.

    def gradient(self, x):
        """Gradient of the penalty with respect to `x`."""
        return np.zeros_like(x)

    def get_config(self):
        return {'name': type(self).__name__}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop('name', None)
        return cls(**config)


class L1L2Regularizer(Regularizer):
    """Penalty l1 * sum(|x|) + l2 * sum(x ** 2).

    # Arguments
        l1: float, the L1 factor.
        l2: float, the L2 factor.
    """

    def __init__(self, l1=0., l2=0.):
        self.l1 = np.float32(l1)
        self.l2 = np.float32(l2)

    def __call__(self, x):
        penalty = 0.
        if self.l1:
            penalty += float(np.sum(self.l1 * np.abs(x)))
        if self.l2:
            penalty += float(np.sum(self.l2 * np.square(x)))
        return penalty

    def gradient(self, x):
        grad = np.zeros_like(x)
        if self.l1:
            grad += self.l1 * np.sign(x)
        if self.l2:
            grad += 2 * self.l2 * x
        return grad

    def get_config(self):
        return {'name': type(self).__name__, 'l1': float(self.l1), 'l2': float(self.l2)}


WeightRegularizer = L1L2Regularizer
ActivityRegularizer = L1L2Regularizer
L1L2 = L1L2Regularizer      # Keras 2's name


def l1(l=0.01):
    """L1 weight penalty."""
    return L1L2Regularizer(l1=l)


def l2(l=0.01):
    """L2 weight penalty."""
    return L1L2Regularizer(l2=l)


def l1l2(l1=0.01, l2=0.01):
    """L1 plus L2 weight penalty."""
    return L1L2Regularizer(l1=l1, l2=l2)


def l1_l2(l1=0.01, l2=0.01):
    """Keras 2's name of `l1l2`: L1 plus L2 weight penalty."""
    return L1L2Regularizer(l1=l1, l2=l2)


def activity_l1(l=0.01):
    """L1 penalty on a layer's output."""
    return L1L2Regularizer(l1=l)


def activity_l2(l=0.01):
    """L2 penalty on a layer's output."""
    return L1L2Regularizer(l2=l)


def activity_l1l2(l1=0.01, l2=0.01):
    """L1 plus L2 penalty on a layer's output."""
    return L1L2Regularizer(l1=l1, l2=l2)


_BY_NAME = {'Regularizer': Regularizer, 'L1L2Regularizer': L1L2Regularizer,
            'WeightRegularizer': L1L2Regularizer, 'ActivityRegularizer': L1L2Regularizer,
            'L1L2': L1L2Regularizer, 'l1_l2': l1_l2,
            'l1': l1, 'l2': l2, 'l1l2': l1l2, 'activity_l1': activity_l1,
            'activity_l2': activity_l2, 'activity_l1l2': activity_l1l2}


def get(identifier, kwargs=None):
    """Returns a regularizer for None, a name, a config dict or an instance."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return get_from_module(identifier, _BY_NAME, 'regularizer', instantiate=True, kwargs=kwargs)
    found = get_from_module(identifier, _BY_NAME, 'regularizer')
    if not isinstance(found, Regularizer):
        raise ValueError('expected a regularizer, got %r' % (identifier,))
    return found

from .compat.unsupported import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr('regularizers')
