"""Training on `add_loss` losses, as Keras 2.2.4's variational autoencoders do:
`compile(optimizer)` with no loss (or None for some outputs), `fit(x, None)`.
The objective is checked against NumPy, its gradients against finite
differences."""
import warnings

import numpy as np
import pytest

from minikeras import backend as K
from minikeras import regularizers
from minikeras.layers import Dense, Input
from minikeras.losses import binary_crossentropy
from minikeras.models import Model

from gradcheck import check_model_gradients

EPSILON = 1e-7


@pytest.fixture(autouse=True)
def default_generation(monkeypatch):
    monkeypatch.delenv('MINIKERAS_KERAS_VERSION', raising=False)


def vae_like(seed=0):
    """A deterministic VAE: encoder (relu layer, z_mean, z_log_var) as a
    nested model, decoder from z_mean, and Keras 2.2.4's example loss."""
    np.random.seed(seed)
    inputs = Input(shape=(6,))
    hidden = Dense(5, activation='tanh')(inputs)
    z_mean = Dense(2)(hidden)
    z_log_var = Dense(2)(hidden)
    encoder = Model(inputs, [z_mean, z_log_var])
    latent = Input(shape=(2,))
    decoder = Model(latent, Dense(6, activation='sigmoid')(latent))
    outputs = decoder(encoder(inputs)[0])
    vae = Model(inputs, outputs)
    reconstruction = binary_crossentropy(inputs, outputs)
    reconstruction *= 6
    kl = 1 + z_log_var - K.square(z_mean) - K.exp(z_log_var)
    kl = K.sum(kl, axis=-1)
    kl *= -0.5
    vae.add_loss(K.mean(reconstruction + kl))
    vae.compile(optimizer='sgd')
    return vae


def numpy_vae_loss(vae, x):
    w1, b1, wm, bm, wv, bv, wd, bd = [w.astype('float64') for w in vae.get_weights()]
    hidden = np.tanh(x @ w1 + b1)
    z_mean, z_log_var = hidden @ wm + bm, hidden @ wv + bv
    out = 1 / (1 + np.exp(-(z_mean @ wd + bd)))
    out = np.clip(out, EPSILON, 1 - EPSILON)
    xent = -np.mean(x * np.log(out) + (1 - x) * np.log(1 - out), axis=-1) * 6
    kl = -0.5 * np.sum(1 + z_log_var - z_mean ** 2 - np.exp(z_log_var), axis=-1)
    return float(np.mean(xent + kl))


def data(n=12, features=6, seed=1):
    return np.random.RandomState(seed).rand(n, features).astype('float32')


def test_vae_objective_equals_numpy():
    vae = vae_like()
    x = data()
    expected = numpy_vae_loss(vae, x)
    assert vae.test_on_batch(x, None) == pytest.approx(expected, rel=1e-5)
    assert vae.evaluate(x, None, batch_size=12, verbose=0) == pytest.approx(expected, rel=1e-5)
    assert vae.metrics_names == ['loss']


def test_vae_gradients_match_finite_differences():
    vae = vae_like()
    check_model_gradients(vae, data().astype('float64').astype('float32'), None, lr=0.5)


def test_fit_with_y_none_and_validation_data_with_none_lowers_the_loss():
    vae = vae_like()
    x = data(64)
    before = numpy_vae_loss(vae, x)
    history = vae.fit(x, None, nb_epoch=5, batch_size=16, verbose=0,
                      validation_data=(x, None))
    assert sorted(history.history) == ['loss', 'val_loss']
    assert history.history['val_loss'][-1] == pytest.approx(numpy_vae_loss(vae, x), rel=1e-5)
    assert numpy_vae_loss(vae, x) < before


def test_fit_generator_with_y_none():
    vae = vae_like()
    x = data(32)

    def batches():
        while True:
            yield x[:16], None
    history = vae.fit_generator(batches(), samples_per_epoch=32, nb_epoch=1, verbose=0)
    assert len(history.history['loss']) == 1


def two_outputs(loss):
    """Outputs `a` (mse when asked) and `b` (a loss-less output), with an
    added L2 loss on `b`'s activations and a weight regularizer on `a`."""
    np.random.seed(3)
    x = Input(shape=(3,))
    a = Dense(2, name='a', W_regularizer=regularizers.l2(0.1))(x)
    b = Dense(2, name='b')(x)
    model = Model(x, [a, b])
    model.add_loss(0.5 * K.mean(K.square(b)))
    model.compile('sgd', loss=loss, metrics=['mae'])
    return model


def numpy_two_outputs(model, x, y_a):
    wa, ba, wb, bb = [w.astype('float64') for w in model.get_weights()]
    a, b = x @ wa + ba, x @ wb + bb
    mse = np.mean((a - y_a) ** 2)
    return mse + 0.5 * np.mean(b ** 2) + 0.1 * np.sum(wa ** 2), mse


@pytest.mark.parametrize('loss', [['mse', None], {'a': 'mse', 'b': None}])
def test_an_output_without_loss_takes_no_target(loss):
    model = two_outputs(loss)
    rng = np.random.RandomState(0)
    x, y_a = rng.rand(10, 3).astype('float32'), rng.rand(10, 2).astype('float32')
    total, mse = numpy_two_outputs(model, x, y_a)
    # as Keras 2.2.4: names, per-output losses and metrics for the outputs with a loss only
    assert model.metrics_names == ['loss', 'a_loss', 'a_mean_absolute_error']
    results = model.test_on_batch(x, y_a)
    assert results[0] == pytest.approx(total, rel=1e-5)
    assert results[1] == pytest.approx(mse, rel=1e-5)
    assert model.test_on_batch(x, [y_a])[0] == pytest.approx(total, rel=1e-5)
    assert model.test_on_batch(x, {'a': y_a})[0] == pytest.approx(total, rel=1e-5)
    check_model_gradients(model, x, y_a, lr=0.5)
    model.fit(x, y_a, nb_epoch=2, batch_size=5, verbose=0, sample_weight=np.ones(10))


def test_keras_2_loss_dict_without_an_output_warns_and_expects_no_target(monkeypatch):
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '2')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        model = two_outputs({'a': 'mse'})
    assert any('Output "b" missing from loss dictionary' in str(w.message) for w in caught)
    assert model.loss_functions[1] is None
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '1.2.2')
    with pytest.raises(ValueError, match=r"loss gives nothing for output\(s\) \['b'\]"):
        two_outputs({'a': 'mse'})


def test_input_conditional_added_loss_counts_for_the_model_that_owns_the_call():
    np.random.seed(4)
    shared = Dense(2)
    first, second = Input(shape=(3,)), Input(shape=(3,))
    out_first, out_second = shared(first), shared(second)
    shared.add_loss(K.sum(K.abs(out_first)), inputs=first)
    owner, other = Model(first, out_first), Model(second, out_second)
    assert len(owner.losses) == 1 and other.losses == []
    owner.compile('sgd', loss='mse')
    other.compile('sgd', loss='mse')
    rng = np.random.RandomState(0)
    x, y = rng.rand(8, 3).astype('float32'), rng.rand(8, 2).astype('float32')
    w, b = [v.astype('float64') for v in shared.get_weights()]
    out = x @ w + b
    mse = float(np.mean((out - y) ** 2))
    assert owner.test_on_batch(x, y) == pytest.approx(mse + np.sum(np.abs(out)), rel=1e-5)
    assert other.test_on_batch(x, y) == pytest.approx(mse, rel=1e-5)
    check_model_gradients(owner, x, y, lr=0.01)


def test_y_for_a_model_without_output_loss_is_an_error_and_changes_nothing():
    vae = vae_like()
    x = data()
    before = vae.get_weights()
    with pytest.raises(ValueError, match='no output has a loss.*expected y=None'):
        vae.fit(x, x, nb_epoch=1, verbose=0)
    with pytest.raises(ValueError, match='no output has a loss'):
        vae.train_on_batch(x, x)
    for old, new in zip(before, vae.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_y_missing_for_an_output_with_loss_is_an_error():
    model = two_outputs(['mse', None])
    x = data(10, 3)
    with pytest.raises(ValueError, match=r"y is None.*output\(s\) \['a'\] have a loss"):
        model.fit(x, None, nb_epoch=1, verbose=0)
    with pytest.raises(ValueError, match=r"y is None.*\['a'\]"):
        model.evaluate(x, None, verbose=0)
    with pytest.raises(ValueError, match='model target'):
        model.fit(x, [x[:, :2], x[:, :2]], nb_epoch=1, verbose=0)


def test_a_model_with_no_loss_at_all_does_not_compile():
    x = Input(shape=(3,))
    model = Model(x, Dense(2)(x))
    with pytest.raises(ValueError, match='no loss to optimize'):
        model.compile('sgd')
    model.compile('sgd', loss='mse')
    assert model.loss_functions[0] is not None


def test_prediction_needs_no_target_either_way():
    vae = vae_like()
    x = data()
    assert vae.predict(x).shape == (12, 6)
    assert vae.predict_on_batch(x).shape == (12, 6)
