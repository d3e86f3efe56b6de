"""Real MNIST digits for tests that must learn, read offline from the Keras cache."""
import os

import numpy as np
import pytest

# The user's Keras cache as it was when the tests started (tests change KERAS_HOME).
# (conftest.py records it before it points KERAS_HOME at an empty folder.)
_KERAS_CACHE = os.environ.get('MINIKERAS_TESTS_USER_DATASETS') or os.path.join(
    os.environ.get('KERAS_HOME') or os.path.join(os.path.expanduser('~'), '.keras'), 'datasets')


def real_mnist_subset(folder, n=5000):
    """Writes the first `n` training digits of the full MNIST, read from the
    user's Keras cache, to `<folder>/mnist_<n>.npz`, and returns that path.

    Tests that need real digits to learn from use it, offline; the test is
    skipped when the cache has no MNIST (`bash .ci/run` puts it there first;
    so does any `minikeras run` of a MNIST script with network access).
    """
    cached = os.path.join(_KERAS_CACHE, 'mnist.npz')
    if not os.path.isfile(cached):
        pytest.skip('the full MNIST is not in %s; run python3 -m minikeras.datasets.mnist '
                    'once with network access' % cached)
    with np.load(cached) as f:
        x, y = f['x_train'][:n], f['y_train'][:n]
    path = os.path.join(str(folder), 'mnist_%d.npz' % n)
    np.savez(path, x_train=x, y_train=y)
    return path
