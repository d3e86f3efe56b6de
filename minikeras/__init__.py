"""minikeras: the Keras 1.2.2 API (with Keras 0.x spellings) on NumPy and Numba.

`import minikeras as keras` works for new code; `minikeras run script.py`
runs a legacy script with `import keras` resolved to minikeras.
"""
from . import activations, backend, callbacks, constraints, initializations  # noqa: F401
from . import initializers, layers, losses, metrics, models, objectives  # noqa: F401
from . import optimizers, regularizers  # noqa: F401
from .utils import generic_utils, np_utils  # noqa: F401

__version__ = '0.1.0'
