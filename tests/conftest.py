import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same global NumPy random state."""
    np.random.seed(1234)
    yield
