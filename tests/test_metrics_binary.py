"""Keras 1.2.2's batch-wise binary metrics against references written out
element by element: matthews_correlation, precision, recall, fbeta_score,
fmeasure (and its aliases). Keras rounds the clipped predictions at 0.5 and
adds epsilon (1e-7) to each denominator; the data avoid exact halves."""
import numpy as np
import pytest

from minikeras import metrics

EPSILON = 1e-7


def counts(y_true, y_pred):
    """tp, tn, fp, fn over every entry, by a plain loop."""
    tp = tn = fp = fn = 0
    for t, p in zip(np.ravel(y_true), np.ravel(y_pred)):
        label = 1 if min(max(t, 0.), 1.) > 0.5 else 0
        guess = 1 if min(max(p, 0.), 1.) > 0.5 else 0
        if label and guess:
            tp += 1
        elif not label and not guess:
            tn += 1
        elif guess:
            fp += 1
        else:
            fn += 1
    return tp, tn, fp, fn


def reference_precision(y_true, y_pred):
    tp, _, fp, _ = counts(y_true, y_pred)
    return tp / (tp + fp + EPSILON)


def reference_recall(y_true, y_pred):
    tp, _, _, fn = counts(y_true, y_pred)
    return tp / (tp + fn + EPSILON)


def data(seed, shape, positive_rate=0.4):
    rng = np.random.RandomState(seed)
    y_true = (rng.random_sample(shape) < positive_rate).astype('float32')
    y_pred = rng.random_sample(shape).astype('float32')
    y_pred[np.abs(y_pred - 0.5) < 1e-3] = 0.6       # no exact half: rounding is unambiguous
    return y_true, y_pred


SHAPES = [(40, 1), (25, 3), (7, 2, 4)]


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_precision_and_recall(shape, seed):
    y_true, y_pred = data(seed, shape)
    assert metrics.precision(y_true, y_pred) == pytest.approx(
        reference_precision(y_true, y_pred), rel=1e-6)
    assert metrics.recall(y_true, y_pred) == pytest.approx(
        reference_recall(y_true, y_pred), rel=1e-6)


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_matthews_correlation_is_the_correlation_of_the_binary_vectors(shape, seed):
    y_true, y_pred = data(seed, shape)
    tp, tn, fp, fn = counts(y_true, y_pred)
    formula = (tp * tn - fp * fn) / (np.sqrt(float((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))
                                     + EPSILON)
    pearson = np.corrcoef(y_true.ravel(), (y_pred.ravel() > 0.5).astype(float))[0, 1]
    value = metrics.matthews_correlation(y_true, y_pred)
    assert value == pytest.approx(formula, rel=1e-6)
    assert value == pytest.approx(pearson, rel=1e-5)


@pytest.mark.parametrize('beta', [0., 0.5, 1., 2.])
@pytest.mark.parametrize('seed', [0, 3])
def test_fbeta_score_weighs_precision_and_recall(beta, seed):
    y_true, y_pred = data(seed, (30, 2))
    p, r = reference_precision(y_true, y_pred), reference_recall(y_true, y_pred)
    expected = (1 + beta ** 2) * p * r / (beta ** 2 * p + r + EPSILON)
    assert metrics.fbeta_score(y_true, y_pred, beta=beta) == pytest.approx(expected, rel=1e-6)
    if beta == 0.:
        assert metrics.fbeta_score(y_true, y_pred, beta=0.) == pytest.approx(p, rel=1e-5)
    if beta == 1.:
        for f1 in (metrics.fmeasure, metrics.fscore, metrics.f1score,
                   metrics.get('fmeasure')):
            assert f1(y_true, y_pred) == pytest.approx(expected, rel=1e-6)


def test_degenerate_batches():
    ones, zeros = np.ones((6, 1), 'float32'), np.zeros((6, 1), 'float32')
    assert metrics.precision(ones, ones) == pytest.approx(1., rel=1e-6)
    assert metrics.recall(zeros, ones) == 0.             # no positives: 0 / epsilon
    assert metrics.precision(ones, zeros) == 0.          # nothing predicted positive
    assert metrics.fmeasure(zeros, zeros) == 0.
    assert metrics.matthews_correlation(ones, ones) == 0.  # no negatives: 0 / epsilon
    perfect = np.array([[1.], [0.], [1.], [0.]], 'float32')
    assert metrics.matthews_correlation(perfect, perfect * 0.9 + 0.05) == \
        pytest.approx(1., rel=1e-6)
    assert metrics.matthews_correlation(perfect, 1. - perfect) == pytest.approx(-1., rel=1e-6)
    with pytest.raises(ValueError, match='beta'):
        metrics.fbeta_score(ones, ones, beta=-1)


def test_as_model_metrics_they_are_batch_size_weighted():
    """Compiled into a model, each is computed per batch and averaged with the
    batch sizes as weights, as Keras 1.2.2's evaluate did."""
    from minikeras.layers import Dense
    from minikeras.models import Sequential
    model = Sequential([Dense(1, input_dim=3, activation='sigmoid')])
    model.compile(loss='binary_crossentropy', optimizer='sgd',
                  metrics=['precision', 'recall', 'fmeasure', 'matthews_correlation'])
    rng = np.random.RandomState(5)
    x = rng.standard_normal((50, 3)).astype('float32')
    y = (rng.random_sample((50, 1)) < 0.5).astype('float32')
    results = model.evaluate(x, y, batch_size=20, verbose=0)
    prediction = model.predict(x)
    batches = [(0, 20), (20, 40), (40, 50)]
    for name, value in zip(model.metrics_names[1:], results[1:]):
        function = getattr(metrics, name)
        expected = sum(function(y[a:b], prediction[a:b]) * (b - a) for a, b in batches) / 50.
        assert value == pytest.approx(expected, rel=1e-5), name
