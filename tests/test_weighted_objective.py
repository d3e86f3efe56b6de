"""keras.engine.training.weighted_objective (Keras 1.2.2's signature): a
masked, sample-weighted mean, checked against a NumPy loop, and equal to
the loss training reports."""
import numpy as np
import pytest

from minikeras import objectives
from minikeras.engine.training import weighted_objective
from minikeras.layers import Masking, TimeDistributedDense
from minikeras.models import Sequential


def reference(y_true, y_pred, weights, mask):
    """Keras 1.2.2's recipe, one entry at a time, for scores of shape (samples, steps)."""
    samples, steps = y_true.shape[:2]
    scores = np.zeros((samples, steps))
    for i in range(samples):
        for t in range(steps):
            scores[i, t] = np.mean(np.abs(y_true[i, t] - y_pred[i, t]))
    mask_mean = mask.mean()
    total = 0.
    for i in range(samples):
        for t in range(steps):
            value = scores[i, t] * mask[i, t] / mask_mean
            if weights.ndim == 1:
                value = value / steps * weights[i]
            else:
                value = value * weights[i, t]
            total += value
    nonzero = np.mean(weights != 0)
    count = samples if weights.ndim == 1 else samples * steps
    return total / nonzero / count


def test_keras122_loss_masking_case():
    weighted = weighted_objective(objectives.get('mae'))
    x = np.arange(24, dtype='float32').reshape(3, 4, 2)
    y = 2 * x
    weights = np.ones((3,))
    mask = np.ones((3, 4))
    mask[1, 0] = 0
    out = weighted(x, y, weights, mask)
    assert out == pytest.approx(reference(x, y, weights, mask), rel=1e-6)
    assert out == pytest.approx(np.mean(np.abs(x).mean(axis=-1) * mask) / mask.mean(), rel=1e-6)


@pytest.mark.parametrize('temporal', [False, True])
def test_random_weights_and_mask_match_the_loop(temporal):
    rng = np.random.RandomState(3)
    y_true = rng.standard_normal((5, 6, 3)).astype('float32')
    y_pred = rng.standard_normal((5, 6, 3)).astype('float32')
    mask = (rng.uniform(size=(5, 6)) > 0.3).astype('float32')
    weights = rng.uniform(size=(5, 6) if temporal else (5,))
    weights[1] = 0
    out = weighted_objective(objectives.mean_absolute_error)(y_true, y_pred, weights, mask)
    assert out == pytest.approx(reference(y_true, y_pred, weights, mask), rel=1e-5)


def test_no_mask_no_weights_is_the_plain_mean():
    rng = np.random.RandomState(4)
    y_true, y_pred = rng.standard_normal((2, 4, 7))
    out = weighted_objective(objectives.get('mse'))(y_true, y_pred, None)
    assert out == pytest.approx(np.mean((y_true - y_pred) ** 2), rel=1e-6)


def test_a_mask_of_the_wrong_shape_is_an_error_naming_the_objective():
    weighted = weighted_objective(objectives.get('mae'))
    with pytest.raises(ValueError, match='mean_absolute_error: its mask has shape \\(3, 5\\)'):
        weighted(np.ones((3, 4, 2)), np.ones((3, 4, 2)), np.ones(3), np.ones((3, 5)))


def test_equals_the_loss_training_reports():
    x = np.array([[[1.], [2.], [0.]], [[0.], [3.], [1.]]], dtype='float32')
    y = np.array([[[1.], [1.], [5.]], [[2.], [2.], [2.]]], dtype='float32')
    model = Sequential([Masking(0., input_shape=(3, 1)), TimeDistributedDense(1)])
    model.compile('sgd', 'mae', sample_weight_mode='temporal')
    weights = np.array([[1., 2., 1.], [0.5, 1., 1.]], dtype='float32')
    prediction = model.predict(x)
    mask = (x[..., 0] != 0).astype('float32')
    expected = weighted_objective(objectives.get('mae'))(y, prediction, weights, mask)
    assert model.evaluate(x, y, sample_weight=weights, verbose=0) == pytest.approx(expected,
                                                                                 rel=1e-5)
