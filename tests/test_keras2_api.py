"""Keras 2's activations, losses, metrics, regularizers, constraints, optimizer
arguments and callbacks, against NumPy references and finite differences."""
import numpy as np
import pytest

import minikeras as keras
from minikeras import backend as K
from minikeras import activations, callbacks, constraints, losses, metrics, regularizers
from minikeras.layers import Dense
from minikeras.models import Sequential
from minikeras.optimizers import SGD, Adam, Adamax, RMSprop

from gradcheck import numeric_gradient

ALPHA, SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


@pytest.fixture(autouse=True)
def keras_1_script(monkeypatch):
    monkeypatch.delenv('MINIKERAS_KERAS_VERSION', raising=False)


def test_selu_and_its_derivative():
    x = np.linspace(-3, 3, 13).astype('float32') + 0.01
    expected = SCALE * np.where(x > 0, x, ALPHA * (np.exp(x) - 1))
    y = activations.get('selu')(x)
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    x64 = x.astype('float64')
    indices, numeric = numeric_gradient(lambda: float(np.sum(activations.selu(x64))), x64,
                                        eps=1e-4)
    analytic = activations.selu.backward(x, y, np.ones_like(x))
    np.testing.assert_allclose(analytic[indices], numeric, rtol=1e-4)


def test_relu_alpha_and_max_value():
    x = np.array([-2., -0.5, 0.5, 3., 10.], dtype='float32')
    np.testing.assert_allclose(activations.relu(x, alpha=0.1, max_value=6.),
                               [-0.2, -0.05, 0.5, 3., 6.])


def test_keras_2_losses_and_their_gradients():
    rng = np.random.RandomState(0)
    t = np.eye(4, dtype='float64')[rng.randint(0, 4, 6)]
    p = rng.uniform(-1, 1, (6, 4))
    positive = np.sum(t * p, axis=1)
    negative = np.max((1 - t) * p, axis=1)
    np.testing.assert_allclose(losses.categorical_hinge(t, p),
                               np.maximum(0, negative - positive + 1))
    np.testing.assert_allclose(losses.logcosh(t, p), np.mean(np.log(np.cosh(p - t)), axis=1),
                               rtol=1e-6)
    for name in ('categorical_hinge', 'logcosh'):
        loss = keras.objectives.get(name)
        indices, numeric = numeric_gradient(lambda: float(np.sum(loss(t, p))), p, eps=1e-6)
        np.testing.assert_allclose(loss.backward(t, p).reshape(-1)[indices], numeric,
                                   rtol=1e-4, atol=1e-7)
    assert losses.get('mse') is keras.objectives.mean_squared_error


def test_sparse_top_k_categorical_accuracy():
    y_pred = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]], dtype='float32')
    assert metrics.get('sparse_top_k_categorical_accuracy')(np.array([[2], [2], [2]]), y_pred,
                                                            k=2) == pytest.approx(2 / 3.)
    assert metrics.sparse_top_k_categorical_accuracy(np.array([2, 0, 0]), y_pred, k=1) == \
        pytest.approx(1 / 3.)


def test_keras_2_regularizer_and_constraint_names():
    reg = regularizers.l1_l2(l1=0.1, l2=0.2)
    w = np.array([[1., -2.], [0.5, 0.]], dtype='float32')
    assert reg(w) == pytest.approx(0.1 * 3.5 + 0.2 * 5.25)
    assert isinstance(regularizers.get('l1_l2'), regularizers.L1L2)
    np.testing.assert_allclose(constraints.max_norm(max_value=1.)(w), constraints.MaxNorm(1)(w))
    assert constraints.get('non_neg') is not None and constraints.get('unit_norm') is not None
    norms = np.sqrt(np.sum(w * w, axis=0, keepdims=True))
    desired = 0.5 * np.clip(norms, 0.5, 1.5) + 0.5 * norms
    np.testing.assert_allclose(
        constraints.min_max_norm(min_value=0.5, max_value=1.5, rate=0.5)(w),
        w * desired / (1e-7 + norms), rtol=1e-6)
    config = constraints.MinMaxNorm(0.2, 2.).get_config()
    assert constraints.get(config).max_value == 2.


def test_optimizer_epsilon_follows_the_generation(monkeypatch):
    assert Adam().epsilon == 1e-8 and RMSprop().epsilon == 1e-8
    assert Adam(epsilon=None).epsilon == 1e-7
    assert Adam(amsgrad=True).epsilon == 1e-7
    assert Adam(0.01, 0.9, 0.999, 1e-3).epsilon == 1e-3
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '2')
    assert Adam().epsilon == 1e-7 and Adamax().epsilon == 1e-7
    assert Adam(epsilon=1e-8).epsilon == 1e-8


def test_amsgrad_against_a_numpy_loop():
    rng = np.random.RandomState(0)
    p = rng.standard_normal(5).astype('float32')
    grads = [rng.standard_normal(5).astype('float32') * s for s in (1., 0.1, 2., 0.01)]
    opt = Adam(lr=0.1, amsgrad=True, epsilon=1e-7)
    weights = [p.copy()]
    ref = p.astype('float64')
    m = v = v_hat = np.zeros(5)
    for t, g in enumerate(grads, 1):
        opt.update(weights, [g])
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        v_hat = np.maximum(v_hat, v)
        lr_t = 0.1 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        ref = ref - lr_t * m / (np.sqrt(v_hat) + 1e-7)
    np.testing.assert_allclose(weights[0], ref, rtol=1e-5)
    assert opt.get_config()['amsgrad'] is True
    assert len(opt.get_weights()) == 1 + 3


def model_and_data():
    np.random.seed(0)
    model = Sequential([Dense(1, input_dim=3)])
    model.compile(loss='mse', optimizer=SGD(lr=0.1))
    x = np.random.RandomState(0).standard_normal((40, 3)).astype('float32')
    return model, x, x @ np.array([[1.], [-2.], [0.5]], dtype='float32')


class Scripted(callbacks.Callback):
    def __init__(self, key, values):
        super(Scripted, self).__init__()
        self.key, self.values = key, list(values)

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


def test_keras_2_early_stopping_patience_baseline_and_restore(capsys):
    model, x, y = model_and_data()
    stopper = callbacks.EarlyStopping(patience=1, verbose=1, restore_best_weights=True)
    saved = {}

    class Snapshot(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved[epoch] = self.model.get_weights()
    history = model.fit(x, y, nb_epoch=10, verbose=0, callbacks=[
        Scripted('val_loss', [5, 4, 4.5, 4.2, 3, 2, 1, 1, 1, 1]), Snapshot(), stopper])
    # Keras 2 stops after `patience` bad epochs (Keras 1, in test_callbacks, one later).
    assert history.epoch == [0, 1, 2]
    for now, best in zip(model.get_weights(), saved[1]):
        np.testing.assert_array_equal(now, best)
    assert capsys.readouterr().out.strip().endswith('Epoch 00003: early stopping')
    model, x, y = model_and_data()
    stopper = callbacks.EarlyStopping(patience=2, baseline=3.5)
    history = model.fit(x, y, nb_epoch=10, verbose=0, callbacks=[
        Scripted('val_loss', [5, 4, 3, 2, 1, 1, 1, 1, 1, 1]), stopper])
    assert history.epoch == [0, 1]


def test_reduce_lr_on_plateau_min_delta():
    model, x, y = model_and_data()
    reducer = callbacks.ReduceLROnPlateau(monitor='val_loss', factor=0.5, patience=1,
                                          min_delta=0.5)
    assert reducer.epsilon == 0.5 and reducer.strict_patience
    model.fit(x, y, nb_epoch=3, verbose=0,
              callbacks=[Scripted('val_loss', [5, 4.8, 4.7]), reducer])
    # 4.8 and 4.7 are no improvement by 0.5: two reductions, at epochs 1 and 2.
    assert float(model.optimizer.lr) == pytest.approx(0.025)


def test_terminate_on_nan_stops_within_the_epoch(capsys):
    model, x, y = model_and_data()
    # NaN targets are refused before training, so the loss itself turns NaN:
    # from the second batch on, the targets are negative and their log is NaN.
    model.compile(loss=lambda y_true, y_pred: K.mean(K.square(y_pred - K.log(y_true)), axis=-1),
                  optimizer=SGD(lr=0.1))
    y[:8] = 1.
    y[8:] = -1.
    history = model.fit(x, y, batch_size=8, nb_epoch=3, shuffle=False, verbose=0,
                        callbacks=[callbacks.TerminateOnNaN()])
    assert history.epoch == [0]
    assert capsys.readouterr().out.strip() == 'Batch 1: Invalid loss, terminating training'


def test_model_checkpoint_counts_epochs_from_1_in_keras_2_scripts(tmp_path, monkeypatch):
    model, x, y = model_and_data()
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '2')
    path = str(tmp_path / 'w.{epoch:02d}.h5')
    model.fit(x, y, nb_epoch=2, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(path, save_weights_only=True)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ['w.01.h5', 'w.02.h5']
