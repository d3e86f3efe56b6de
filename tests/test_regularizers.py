"""Keras 1.2.2's EigenvalueRegularizer: its value against a NumPy power
method and the true eigenvalue, its gradient against finite differences, and
its place in a model (loss, training, config, export)."""
import numpy as np
import pytest

from minikeras import regularizers
from minikeras.engine import saving
from minikeras.engine.layer_formats import ExportError
from minikeras.layers import Dense
from minikeras.models import Sequential, model_from_json

from gradcheck import numeric_gradient


def power_method_penalty(x, k):
    """Keras 1.2.2's formula, written out: v = C^9 1, λ = v^T C v / v^T v."""
    covariance = x.T.astype('float64') @ x.astype('float64')
    vector = np.linalg.matrix_power(covariance, 9) @ np.ones(covariance.shape[0])
    eigenvalue = vector @ covariance @ vector / (vector @ vector)
    return k * np.sqrt(eigenvalue)


def test_penalty_is_keras_power_method_and_near_the_largest_singular_value():
    x = np.random.RandomState(0).standard_normal((7, 5)).astype('float32')
    reg = regularizers.EigenvalueRegularizer(0.3)
    assert reg(x) == pytest.approx(power_method_penalty(x, 0.3), rel=1e-6)
    largest_singular_value = np.linalg.svd(x.astype('float64'), compute_uv=False)[0]
    assert reg(x) == pytest.approx(0.3 * largest_singular_value, rel=1e-2)


@pytest.mark.parametrize('shape', [(6, 4), (3, 8), (1, 1)])
def test_gradient_matches_finite_differences(shape):
    x = np.random.RandomState(1).standard_normal(shape)
    reg = regularizers.EigenvalueRegularizer(0.7)
    indices, numeric = numeric_gradient(lambda: reg(x), x, eps=1e-5)
    analytic = reg.gradient(x).reshape(-1)[indices]
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


def test_gradient_of_an_all_zero_weight_is_zero_not_nan():
    reg = regularizers.EigenvalueRegularizer(0.1)
    x = np.zeros((3, 2), dtype='float32')
    assert reg(x) == 0.
    assert np.array_equal(reg.gradient(x), np.zeros((3, 2)))


def test_rank_other_than_two_is_refused():
    reg = regularizers.EigenvalueRegularizer(0.1)
    with pytest.raises(ValueError, match='EigenvalueRegularizer: expected a weight of rank 2'):
        reg(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match='got shape \\(4,\\)'):
        reg.gradient(np.ones(4))


def _model(regularizer):
    model = Sequential([Dense(3, input_dim=4, W_regularizer=regularizer)])
    model.compile('sgd', 'mse')
    return model


def test_model_loss_adds_the_penalty_and_training_uses_its_gradient():
    rng = np.random.RandomState(2)
    x = rng.standard_normal((8, 4)).astype('float32')
    y = rng.standard_normal((8, 3)).astype('float32')
    model = _model(regularizers.EigenvalueRegularizer(0.5))
    kernel, bias = model.get_weights()
    prediction = x @ kernel + bias
    expected = np.mean((prediction - y) ** 2) + power_method_penalty(kernel, 0.5)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-5)

    # with no data gradient (targets = predictions), one SGD step follows the penalty's gradient
    model.train_on_batch(x, prediction)
    step = kernel - model.get_weights()[0]
    lr = float(model.optimizer.lr)
    expected_step = lr * regularizers.EigenvalueRegularizer(0.5).gradient(kernel)
    np.testing.assert_allclose(step, expected_step, rtol=1e-3, atol=1e-7)


def test_config_round_trip_keeps_k_and_a_keras122_config_without_k_is_refused():
    model = _model(regularizers.EigenvalueRegularizer(0.25))
    again = model_from_json(model.to_json())
    assert isinstance(again.layers[0].W_regularizer, regularizers.EigenvalueRegularizer)
    assert again.layers[0].W_regularizer.k == 0.25
    assert regularizers.get({'name': 'EigenvalueRegularizer', 'k': 2}).k == 2.
    with pytest.raises(ValueError, match='EigenvalueRegularizer: the config has no factor `k`'):
        regularizers.get({'name': 'EigenvalueRegularizer'})


def test_keras3_export_refuses_it_instead_of_dropping_it(tmp_path):
    model = _model(regularizers.EigenvalueRegularizer(0.25))
    path = tmp_path / 'k3.h5'
    with pytest.raises(ExportError, match='EigenvalueRegularizer has no Keras 3 equivalent'):
        saving.export_to_keras3(model, str(path))
    assert not path.exists()
