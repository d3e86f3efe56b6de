"""Shared test set-up.

The tests must not depend on the machine they run on: before minikeras is
imported, every `KERAS_*` and `MINIKERAS_*` variable is removed and
`KERAS_HOME` points at an empty folder, so that neither the user's
`~/.keras/keras.json` (image ordering) nor `~/.keras/datasets` nor a
`MINIKERAS_MNIST` / `MINIKERAS_KERAS_VERSION` setting reaches them. Child
processes the tests start inherit the same clean environment.
"""
import os
import shutil
import tempfile

import numpy as np
import pytest

# The one thing read from the user's Keras folder: its dataset cache, from which
# tests/real_mnist.py copies real digits for the tests that must learn.
os.environ['MINIKERAS_TESTS_USER_DATASETS'] = os.path.join(
    os.environ.get('KERAS_HOME') or os.path.join(os.path.expanduser('~'), '.keras'), 'datasets')
for _name in list(os.environ):
    if _name.startswith(('KERAS_', 'MINIKERAS_')) and _name != 'MINIKERAS_TESTS_USER_DATASETS':
        del os.environ[_name]
_KERAS_HOME = tempfile.mkdtemp(prefix='minikeras_tests_keras_home_')
os.environ['KERAS_HOME'] = _KERAS_HOME
# No test reaches the network: get_file and the MNIST download refuse to
# download unless a test lifts this (the get_file tests, against a local server).
os.environ['MINIKERAS_OFFLINE'] = '1'


def pytest_unconfigure(config):
    shutil.rmtree(_KERAS_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same global NumPy random state."""
    np.random.seed(1234)
    yield

