"""Keras 1's objectives (losses), each with its derivative.

A loss `f(y_true, y_pred)` returns the loss of every sample (one value per
row, reduced over the last axis), exactly as Keras 1 defined it, including its
clipping with `epsilon` (1e-7). `f.backward(y_true, y_pred)` returns the
gradient of `sum(f(y_true, y_pred))` with respect to `y_pred`.
"""
import numpy as np

from . import backend, backend_ops
from .autodiff import stop_gradient
from .utils.generic_utils import get_from_module


def _differentiable(backward):
    def attach(function):
        function.backward = backward
        # on Keras tensors the loss is a node of the graph (a loss built from
        # other tensors, K.function on a placeholder), as in Keras 1.2.2
        return backend_ops._graph_aware(function, 'objectives.' + function.__name__)
    return attach


def _inside(x, low, high):
    """Where `clip(x, low, high)` passes gradient through."""
    return (x >= low) & (x <= high)


def _mean_last(values):
    return np.mean(values, axis=-1)


def _per_element(backward_of_elements):
    """Derivative of mean(g(y_true, y_pred), axis=-1) from the element-wise g'."""
    def backward(y_true, y_pred):
        return backward_of_elements(y_true, y_pred) / np.float32(y_pred.shape[-1])
    return backward


@_differentiable(_per_element(lambda t, p: 2 * (p - t)))
def mean_squared_error(y_true, y_pred):
    """mean((y_pred - y_true)**2) over the last axis."""
    return _mean_last(np.square(y_pred - y_true))


@_differentiable(_per_element(lambda t, p: np.sign(p - t)))
def mean_absolute_error(y_true, y_pred):
    """mean(|y_pred - y_true|) over the last axis."""
    return _mean_last(np.abs(y_pred - y_true))


def _mape_backward(t, p):
    scale = np.clip(np.abs(t), backend.epsilon(), None)
    return 100. * np.sign(p - t) / scale


@_differentiable(_per_element(_mape_backward))
def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|y_true - y_pred| / clip(|y_true|, epsilon, inf))."""
    diff = np.abs((y_true - y_pred) / np.clip(np.abs(y_true), backend.epsilon(), None))
    return 100. * _mean_last(diff)


def _msle_parts(t, p):
    eps = backend.epsilon()
    return np.log(np.clip(p, eps, None) + 1.), np.log(np.clip(t, eps, None) + 1.)


def _msle_backward(t, p):
    first, second = _msle_parts(t, p)
    eps = backend.epsilon()
    return 2 * (first - second) * (p >= eps) / (np.clip(p, eps, None) + 1.)


@_differentiable(_per_element(_msle_backward))
def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(clip(y_pred) + 1) - log(clip(y_true) + 1))**2)."""
    first, second = _msle_parts(y_true, y_pred)
    return _mean_last(np.square(first - second))


@_differentiable(_per_element(lambda t, p: -2 * t * np.maximum(1. - t * p, 0.)))
def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)**2)."""
    return _mean_last(np.square(np.maximum(1. - y_true * y_pred, 0.)))


@_differentiable(_per_element(lambda t, p: -t * (1. - t * p > 0)))
def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0))."""
    return _mean_last(np.maximum(1. - y_true * y_pred, 0.))


def _cce_backward(y_true, y_pred):
    eps = backend.epsilon()
    total = np.sum(y_pred, axis=-1, keepdims=True)
    q = y_pred / total
    dq = np.where(_inside(q, eps, 1. - eps), -y_true / np.clip(q, eps, 1. - eps), 0.)
    return (dq - np.sum(dq * q, axis=-1, keepdims=True)) / total


@_differentiable(_cce_backward)
def categorical_crossentropy(y_true, y_pred):
    """-sum(y_true * log(clip(y_pred / sum(y_pred), eps, 1 - eps))) over the last axis."""
    eps = backend.epsilon()
    q = np.clip(y_pred / np.sum(y_pred, axis=-1, keepdims=True), eps, 1. - eps)
    return -np.sum(y_true * np.log(q), axis=-1)


def _sparse_as_one_hot(y_true, y_pred):
    labels = np.asarray(stop_gradient(y_true)).reshape(y_pred.shape[:-1]).astype('int64')
    one_hot = np.zeros(y_pred.shape, dtype=y_pred.dtype)
    np.put_along_axis(one_hot, labels[..., None], 1., axis=-1)
    return one_hot


@_differentiable(lambda t, p: _cce_backward(_sparse_as_one_hot(t, p), p))
def sparse_categorical_crossentropy(y_true, y_pred):
    """Categorical crossentropy with integer targets of shape (..., 1) or (...)."""
    return categorical_crossentropy(_sparse_as_one_hot(y_true, y_pred), y_pred)


def _bce_backward(t, p):
    eps = backend.epsilon()
    o = np.clip(p, eps, 1. - eps)
    return np.where(_inside(p, eps, 1. - eps), (o - t) / (o * (1. - o)), 0.)


@_differentiable(_per_element(_bce_backward))
def binary_crossentropy(y_true, y_pred):
    """mean(-(t * log(o) + (1 - t) * log(1 - o))), o = clip(y_pred, eps, 1 - eps)."""
    eps = backend.epsilon()
    o = np.clip(y_pred, eps, 1. - eps)
    return _mean_last(-(y_true * np.log(o) + (1. - y_true) * np.log(1. - o)))


def _kld_backward(t, p):
    eps = backend.epsilon()
    t = np.clip(t, eps, 1.)
    return np.where(_inside(p, eps, 1.), -t / np.clip(p, eps, 1.), 0.)


@_differentiable(_kld_backward)
def kullback_leibler_divergence(y_true, y_pred):
    """sum(t * log(t / p)) with both clipped to [epsilon, 1]."""
    eps = backend.epsilon()
    t = np.clip(y_true, eps, 1.)
    p = np.clip(y_pred, eps, 1.)
    return np.sum(t * np.log(t / p), axis=-1)


@_differentiable(_per_element(lambda t, p: 1. - t / (p + backend.epsilon())))
def poisson(y_true, y_pred):
    """mean(y_pred - y_true * log(y_pred + epsilon))."""
    return _mean_last(y_pred - y_true * np.log(y_pred + backend.epsilon()))


def _l2_normalize(x):
    return x / np.sqrt(np.sum(np.square(x), axis=-1, keepdims=True))


def _cosine_backward(t, p):
    norm = np.sqrt(np.sum(np.square(p), axis=-1, keepdims=True))
    u = p / norm
    dv = -_l2_normalize(t) / np.float32(p.shape[-1])
    return (dv - u * np.sum(dv * u, axis=-1, keepdims=True)) / norm


@_differentiable(_cosine_backward)
def cosine_proximity(y_true, y_pred):
    """-mean(l2_normalize(y_true) * l2_normalize(y_pred)) over the last axis."""
    return -_mean_last(_l2_normalize(y_true) * _l2_normalize(y_pred))


def _categorical_hinge_backward(t, p):
    negative = (1. - t) * p
    winner = np.argmax(negative, axis=-1)[..., None]
    neg = np.take_along_axis(negative, winner, axis=-1)
    active = (neg - np.sum(t * p, axis=-1, keepdims=True) + 1. > 0).astype(p.dtype)
    d_neg = np.zeros_like(p)
    np.put_along_axis(d_neg, winner, np.take_along_axis(1. - t, winner, axis=-1), axis=-1)
    return active * (d_neg - t)


@_differentiable(_categorical_hinge_backward)
def categorical_hinge(y_true, y_pred):
    """Keras 2: max(0, max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1)."""
    positive = np.sum(y_true * y_pred, axis=-1)
    negative = np.max((1. - y_true) * y_pred, axis=-1)
    return np.maximum(0., negative - positive + 1.)


@_differentiable(_per_element(lambda t, p: np.tanh(p - t)))
def logcosh(y_true, y_pred):
    """Keras 2: mean(log(cosh(y_pred - y_true))) over the last axis, computed
    as `x + softplus(-2x) - log(2)` so that it does not overflow."""
    x = y_pred - y_true
    softplus = np.maximum(-2. * x, 0) + np.log1p(np.exp(-np.abs(2. * x)))
    return _mean_last(x + softplus - np.float32(np.log(2.)))


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence
cosine = cosine_proximity
cce = categorical_crossentropy
bce = binary_crossentropy

_BY_NAME = {name: value for name, value in dict(globals()).items()
            if not name.startswith('_') and hasattr(value, 'backward')}


def get(identifier):
    """Returns the loss function for a name or a function.

    # Arguments
        identifier: a name ('categorical_crossentropy', 'mse', ...) or a
            function `f(y_true, y_pred)` with a `backward(y_true, y_pred)`
            attribute giving its gradient.
    """
    function = get_from_module(identifier, _BY_NAME, 'loss')
    if not callable(function):
        raise ValueError('loss must be a name or a function, got %r' % (identifier,))
    return function
