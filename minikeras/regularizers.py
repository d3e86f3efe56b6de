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


class EigenvalueRegularizer(Regularizer):
    """Penalty k * sqrt(λ), λ the dominant eigenvalue of x^T x (Keras 1.2.2's).

    λ is estimated as Keras 1.2.2 did: ten steps of the power method from a
    vector of ones (v = C^9 · 1 with C = x^T x, then λ = v^T C v / v^T v).
    The gradient is that of this estimate, as Keras's backends derived it.
    Only for rank-2 weights (a Dense kernel, say). Where C · 1 = 0 (an
    all-zero weight) the penalty is 0, where Keras 1.2.2 gave NaN.

    # Arguments
        k: float, the regularization factor.
    """

    power_steps = 9

    def __init__(self, k):
        self.k = float(k)

    def _check(self, x):
        if np.ndim(x) != 2:
            raise ValueError('EigenvalueRegularizer: expected a weight of rank 2, got shape %s'
                             % (np.shape(x),))

    def _power_vectors(self, covariance):
        """[C · 1, C^2 · 1, ..., C^9 · 1], each a column of float64."""
        vector = np.ones((covariance.shape[0], 1))
        vectors = []
        for _ in range(self.power_steps):
            vector = covariance.dot(vector)
            vectors.append(vector)
        return vectors

    def _eigenvalue(self, x):
        x = np.asarray(x, dtype=np.float64)
        covariance = x.T.dot(x)
        vectors = self._power_vectors(covariance)
        dominant = vectors[-1]
        norm = dominant.T.dot(dominant).item()
        if norm == 0.:
            # C · 1 = 0 (an all-zero weight, say): Keras 1.2.2 gave NaN, here no penalty
            return x, covariance, vectors, norm, 0.
        eigenvalue = covariance.dot(dominant).T.dot(dominant).item() / norm
        return x, covariance, vectors, norm, eigenvalue

    def __call__(self, x):
        self._check(x)
        eigenvalue = self._eigenvalue(x)[-1]
        return self.k * float(np.sqrt(eigenvalue))

    def gradient(self, x):
        self._check(x)
        x64, covariance, vectors, norm, eigenvalue = self._eigenvalue(x)
        if eigenvalue <= 0.:
            # sqrt is not differentiable at 0: no push either way
            return np.zeros_like(x)
        dominant = vectors[-1]
        # d sqrt(λ) = dλ / (2 sqrt(λ)); λ = v^T C v / v^T v with C symmetric
        scale = self.k / (2. * np.sqrt(eigenvalue))
        grad_covariance = scale * dominant.dot(dominant.T) / norm
        grad_vector = scale * 2. * (covariance.dot(dominant) - eigenvalue * dominant) / norm
        # back through v_j = C v_{j-1}, with v_0 = 1
        inputs = [np.ones_like(dominant)] + vectors[:-1]
        for previous in reversed(inputs):
            grad_covariance += grad_vector.dot(previous.T)
            grad_vector = covariance.T.dot(grad_vector)
        # C = x^T x
        grad_x = x64.dot(grad_covariance + grad_covariance.T)
        return grad_x.astype(np.asarray(x).dtype, copy=False)

    def get_config(self):
        # Keras 1.2.2 saved only the name, which it could not load back: k is kept here
        return {'name': type(self).__name__, 'k': self.k}

    @classmethod
    def from_config(cls, config):
        if 'k' not in config:
            raise ValueError('EigenvalueRegularizer: the config has no factor `k` (Keras 1.2.2 '
                             'did not save it); got %r' % (config,))
        return cls(config['k'])


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
            'L1L2': L1L2Regularizer, 'l1_l2': l1_l2, 'EigenvalueRegularizer': EigenvalueRegularizer,
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
