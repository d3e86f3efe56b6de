"""Each objective against its formula (written out independently here) and
its backward against finite differences; metrics against NumPy counts."""
import numpy as np
import pytest

from minikeras import metrics, objectives

from gradcheck import numeric_gradient

EPS = 1e-7


def probabilities(shape, seed=0):
    rng = np.random.RandomState(seed)
    p = rng.uniform(0.05, 1., shape)
    return (p / p.sum(axis=-1, keepdims=True)).astype('float64')


def one_hot(labels, classes):
    out = np.zeros((len(labels), classes))
    out[np.arange(len(labels)), labels] = 1
    return out


def formula(name, t, p):
    """Per-sample losses, straight from Keras 1.2.2's definitions."""
    if name == 'mean_squared_error':
        return ((p - t) ** 2).mean(-1)
    if name == 'mean_absolute_error':
        return np.abs(p - t).mean(-1)
    if name == 'mean_absolute_percentage_error':
        return 100 * (np.abs(t - p) / np.maximum(np.abs(t), EPS)).mean(-1)
    if name == 'mean_squared_logarithmic_error':
        return ((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2).mean(-1)
    if name == 'squared_hinge':
        return (np.maximum(1 - t * p, 0) ** 2).mean(-1)
    if name == 'hinge':
        return np.maximum(1 - t * p, 0).mean(-1)
    if name == 'categorical_crossentropy':
        q = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
        return -(t * np.log(q)).sum(-1)
    if name == 'binary_crossentropy':
        o = np.clip(p, EPS, 1 - EPS)
        return (-(t * np.log(o) + (1 - t) * np.log(1 - o))).mean(-1)
    if name == 'kullback_leibler_divergence':
        tc, pc = np.clip(t, EPS, 1), np.clip(p, EPS, 1)
        return (tc * np.log(tc / pc)).sum(-1)
    if name == 'poisson':
        return (p - t * np.log(p + EPS)).mean(-1)
    if name == 'cosine_proximity':
        tn = t / np.sqrt((t ** 2).sum(-1, keepdims=True))
        pn = p / np.sqrt((p ** 2).sum(-1, keepdims=True))
        return -(tn * pn).mean(-1)
    raise KeyError(name)


def targets_for(name, shape, rng):
    if name in ('categorical_crossentropy', 'kullback_leibler_divergence', 'cosine_proximity'):
        return one_hot(rng.randint(0, shape[1], shape[0]), shape[1]) if name != 'cosine_proximity' \
            else rng.standard_normal(shape)
    if name in ('hinge', 'squared_hinge'):
        return rng.choice([-1., 1.], shape)
    if name == 'binary_crossentropy':
        return rng.randint(0, 2, shape).astype('float64')
    return rng.uniform(0.1, 2, shape)


NAMES = ['mean_squared_error', 'mean_absolute_error', 'mean_absolute_percentage_error',
         'mean_squared_logarithmic_error', 'squared_hinge', 'hinge', 'categorical_crossentropy',
         'binary_crossentropy', 'kullback_leibler_divergence', 'poisson', 'cosine_proximity']


@pytest.mark.parametrize('name', NAMES)
def test_objective_value_and_gradient(name):
    rng = np.random.RandomState(3)
    shape = (5, 4)
    t = targets_for(name, shape, rng)
    p = probabilities(shape) if name not in ('hinge', 'squared_hinge', 'cosine_proximity') \
        else rng.standard_normal(shape)
    loss = objectives.get(name)
    np.testing.assert_allclose(loss(t, p), formula(name, t, p), rtol=1e-10)
    analytic = loss.backward(t, p)
    idx, numeric = numeric_gradient(lambda: float(np.sum(formula(name, t, p))), p, eps=1e-6)
    np.testing.assert_allclose(analytic.reshape(-1)[idx], numeric, rtol=1e-4, atol=1e-6)


def test_crossentropy_gradient_through_clipping_is_zero_where_clipped():
    t = one_hot([0], 3)
    p = np.array([[1e-9, 0.5, 0.5]])
    grad = objectives.categorical_crossentropy.backward(t, p)
    np.testing.assert_allclose(objectives.categorical_crossentropy(t, p), -np.log(EPS), rtol=1e-6)
    # The target column is clipped: no gradient flows into it, only through the normalisation.
    assert grad[0, 0] == 0


def test_sparse_categorical_crossentropy_equals_one_hot_version():
    p = probabilities((6, 5))
    labels = np.array([0, 4, 2, 2, 1, 3])
    dense = objectives.categorical_crossentropy(one_hot(labels, 5), p)
    np.testing.assert_allclose(objectives.sparse_categorical_crossentropy(labels[:, None], p), dense)
    np.testing.assert_allclose(objectives.sparse_categorical_crossentropy.backward(labels, p),
                               objectives.categorical_crossentropy.backward(one_hot(labels, 5), p))


def test_aliases_and_unknown_names():
    assert objectives.get('mse') is objectives.mean_squared_error
    assert objectives.get('categorical_crossentropy') is objectives.categorical_crossentropy
    assert objectives.get('cce') is objectives.categorical_crossentropy
    with pytest.raises(ValueError, match=r"Unknown loss: 'categorical_crossentrop'"):
        objectives.get('categorical_crossentrop')


def test_accuracy_metrics_count_matches():
    y_true = one_hot([0, 1, 2, 1], 3)
    y_pred = np.array([[.8, .1, .1], [.3, .6, .1], [.5, .4, .1], [.1, .2, .7]])
    assert metrics.categorical_accuracy(y_true, y_pred) == 0.5
    assert metrics.sparse_categorical_accuracy(np.array([[0], [1], [2], [1]]), y_pred) == 0.5
    assert metrics.binary_accuracy(np.array([[1], [0], [1]]), np.array([[.7], [.6], [.2]])) == \
        pytest.approx(1 / 3)
    assert metrics.top_k_categorical_accuracy(y_true, y_pred, k=2) == 0.75
