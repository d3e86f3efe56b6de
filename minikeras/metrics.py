"""Keras 1's metrics: each returns the batch value as a float.

Like Keras 1, a metric is computed per batch and the epoch figure is the
average of the batch figures weighted by batch size.
"""
import numpy as np

from . import backend, backend_ops, objectives
from .autodiff import stop_gradient
from .utils.generic_utils import get_from_module


def binary_accuracy(y_true, y_pred):
    """Fraction of entries where round(y_pred) equals y_true."""
    return float(np.mean(np.equal(y_true, np.round(y_pred))))


def categorical_accuracy(y_true, y_pred):
    """Fraction of rows whose argmax matches the target's argmax."""
    return float(np.mean(np.equal(np.argmax(y_true, axis=-1), np.argmax(y_pred, axis=-1))))


def sparse_categorical_accuracy(y_true, y_pred):
    """Fraction of rows whose argmax equals the integer target."""
    labels = np.asarray(y_true).reshape(y_pred.shape[:-1])
    return float(np.mean(np.equal(labels, np.argmax(y_pred, axis=-1))))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Fraction of rows whose target class is among the k largest predictions."""
    targets = np.argmax(y_true, axis=-1)
    top_k = np.argsort(-y_pred, axis=-1, kind='stable')[..., :k]
    return float(np.mean(np.any(top_k == targets[..., None], axis=-1)))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Keras 2: `top_k_categorical_accuracy` with integer targets."""
    targets = np.asarray(y_true).reshape(y_pred.shape[:-1]).astype('int64')
    top_k = np.argsort(-y_pred, axis=-1, kind='stable')[..., :k]
    return float(np.mean(np.any(top_k == targets[..., None], axis=-1)))


def _mean_of_loss(loss):
    def metric(y_true, y_pred):
        return float(np.mean(loss(y_true, y_pred)))
    metric.__name__ = loss.__name__
    metric.__doc__ = 'Batch mean of the `%s` objective.' % loss.__name__
    return metric


mean_squared_error = _mean_of_loss(objectives.mean_squared_error)
mean_absolute_error = _mean_of_loss(objectives.mean_absolute_error)
mean_absolute_percentage_error = _mean_of_loss(objectives.mean_absolute_percentage_error)
mean_squared_logarithmic_error = _mean_of_loss(objectives.mean_squared_logarithmic_error)
hinge = _mean_of_loss(objectives.hinge)
squared_hinge = _mean_of_loss(objectives.squared_hinge)
categorical_crossentropy = _mean_of_loss(objectives.categorical_crossentropy)
sparse_categorical_crossentropy = _mean_of_loss(objectives.sparse_categorical_crossentropy)
binary_crossentropy = _mean_of_loss(objectives.binary_crossentropy)
kullback_leibler_divergence = _mean_of_loss(objectives.kullback_leibler_divergence)
poisson = _mean_of_loss(objectives.poisson)
cosine_proximity = _mean_of_loss(objectives.cosine_proximity)
categorical_hinge = _mean_of_loss(objectives.categorical_hinge)
logcosh = _mean_of_loss(objectives.logcosh)


def matthews_correlation(y_true, y_pred):
    """Matthews correlation coefficient of round(clip(y_pred, 0, 1)) against y_true."""
    pred_pos = np.round(np.clip(y_pred, 0, 1))
    pred_neg = 1 - pred_pos
    pos = np.round(np.clip(y_true, 0, 1))
    neg = 1 - pos
    tp, tn = np.sum(pos * pred_pos), np.sum(neg * pred_neg)
    fp, fn = np.sum(neg * pred_pos), np.sum(pos * pred_neg)
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return float((tp * tn - fp * fn) / (denominator + backend.epsilon()))


def precision(y_true, y_pred):
    """Batch-wise precision of round(clip(y_pred, 0, 1)) (as Keras 1.2.2)."""
    true_positives = np.sum(np.round(np.clip(y_true * y_pred, 0, 1)))
    predicted_positives = np.sum(np.round(np.clip(y_pred, 0, 1)))
    return float(true_positives / (predicted_positives + backend.epsilon()))


def recall(y_true, y_pred):
    """Batch-wise recall of round(clip(y_pred, 0, 1)) (as Keras 1.2.2)."""
    true_positives = np.sum(np.round(np.clip(y_true * y_pred, 0, 1)))
    possible_positives = np.sum(np.round(np.clip(y_true, 0, 1)))
    return float(true_positives / (possible_positives + backend.epsilon()))


def fbeta_score(y_true, y_pred, beta=1):
    """Batch-wise F-beta score from `precision` and `recall` (as Keras 1.2.2)."""
    if beta < 0:
        raise ValueError('fbeta_score: beta must be >= 0, got %r' % (beta,))
    p = precision(y_true, y_pred)
    r = recall(y_true, y_pred)
    bb = beta ** 2
    return float((1 + bb) * (p * r) / (bb * p + r + backend.epsilon()))


def fmeasure(y_true, y_pred):
    """F1 score: `fbeta_score` with beta = 1."""
    return fbeta_score(y_true, y_pred, beta=1)


def _graph_aware(metric):
    """`metric` that, given Keras tensors, is a node of the graph giving the
    batch value as a float32 scalar tensor (as Keras 1.2.2's metrics were);
    a metric carries no gradient."""
    def on_values(*args, **kwargs):
        return np.float32(metric(*stop_gradient(args), **kwargs))
    return backend_ops._graph_aware(metric, 'metrics.' + metric.__name__, on_values)


for _name, _value in list(globals().items()):
    if not _name.startswith('_') and callable(_value) and \
            getattr(_value, '__module__', None) == __name__:
        globals()[_name] = _graph_aware(_value)

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
cosine = cosine_proximity
fscore = f1score = fmeasure

_BY_NAME = {name: value for name, value in dict(globals()).items()
            if not name.startswith('_') and callable(value)
            and getattr(value, '__module__', None) == __name__}
_BY_NAME.update({'mse': mse, 'MSE': mse, 'mae': mae, 'MAE': mae, 'mape': mape, 'MAPE': mape,
                 'msle': msle, 'MSLE': msle, 'cosine': cosine})


def get(identifier):
    """Returns the metric function for a name or a function `f(y_true, y_pred)`."""
    return get_from_module(identifier, _BY_NAME, 'metric')
