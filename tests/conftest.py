import os

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same global NumPy random state."""
    np.random.seed(1234)
    yield


# No test reaches the network: get_file and the MNIST download refuse to
# download unless a test lifts this (the get_file tests, against a local server).
os.environ['MINIKERAS_OFFLINE'] = '1'
