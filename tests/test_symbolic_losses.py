"""Losses that close over graph tensors (Keras 1.2.2's variational
autoencoder), checked against a NumPy computation of the formula and the
training step against finite differences of the loss."""
import numpy as np

import minikeras.backend as K
from minikeras import objectives
from minikeras.layers import Dense, Input, Lambda
from minikeras.models import Model
from minikeras.optimizers import SGD

ORIGINAL, LATENT = 6, 2


def _vae(epsilon_std):
    x = Input(batch_shape=(4, ORIGINAL))
    h = Dense(5, activation='tanh')(x)
    z_mean = Dense(LATENT)(h)
    z_log_var = Dense(LATENT)(h)

    def sampling(args):
        mean, log_var = args
        epsilon = K.random_normal(shape=(4, LATENT), mean=0., std=epsilon_std)
        return mean + K.exp(log_var / 2) * epsilon
    z = Lambda(sampling, output_shape=(LATENT,))([z_mean, z_log_var])
    x_decoded_mean = Dense(ORIGINAL, activation='sigmoid')(Dense(5, activation='tanh')(z))

    def vae_loss(x, x_decoded_mean):
        xent_loss = ORIGINAL * objectives.binary_crossentropy(x, x_decoded_mean)
        kl_loss = - 0.5 * K.sum(1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)
        return xent_loss + kl_loss
    vae = Model(x, x_decoded_mean)
    vae.compile(optimizer=SGD(lr=1.), loss=vae_loss)
    return vae, x, z_mean, z_log_var


DATA = np.random.RandomState(0).uniform(0.05, 0.95, (4, ORIGINAL)).astype('float32')


def test_vae_loss_equals_numpy_formula():
    np.random.seed(1)
    vae, x, z_mean, z_log_var = _vae(epsilon_std=0.)
    mean, log_var = K.function([x], [z_mean, z_log_var])([DATA])
    decoded = vae.predict(DATA, batch_size=4).astype('float64')
    clipped = np.clip(decoded, 1e-7, 1 - 1e-7)
    xent = -np.mean(DATA * np.log(clipped) + (1 - DATA) * np.log(1 - clipped), axis=-1)
    kl = -0.5 * np.sum(1 + log_var - mean ** 2 - np.exp(log_var), axis=-1)
    expected = np.mean(ORIGINAL * xent + kl)
    np.testing.assert_allclose(vae.evaluate(DATA, DATA, batch_size=4, verbose=0), expected,
                               rtol=1e-5)


def test_vae_training_step_follows_the_gradient_of_its_loss():
    np.random.seed(2)
    vae, _, _, _ = _vae(epsilon_std=0.)
    weights = [w for w in vae.trainable_weights]
    before = [w.copy() for w in weights]
    vae.train_on_batch(DATA, DATA)
    steps = [b - w for b, w in zip(before, weights)]   # lr 1: the gradient
    for w, b in zip(weights, before):
        w[...] = b
    for layer_index, (w, step) in enumerate(zip(weights, steps)):
        index = tuple(np.argmax(np.abs(step)) // np.array(
            [int(np.prod(w.shape[i + 1:])) for i in range(w.ndim)]) % np.array(w.shape))
        eps = 1e-2
        w[index] += eps
        up = vae.evaluate(DATA, DATA, batch_size=4, verbose=0)
        w[index] -= 2 * eps
        down = vae.evaluate(DATA, DATA, batch_size=4, verbose=0)
        w[index] += eps
        np.testing.assert_allclose(step[index], (up - down) / (2 * eps), rtol=3e-2, atol=2e-3)


def test_vae_trains():
    np.random.seed(3)
    vae, _, _, _ = _vae(epsilon_std=1.)
    vae.compile(optimizer='rmsprop', loss=vae.loss)
    data = np.tile(DATA, (8, 1))
    history = vae.fit(data, data, batch_size=4, nb_epoch=15, verbose=0)
    assert history.history['loss'][-1] < history.history['loss'][0]
