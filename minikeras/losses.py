"""Keras 2's name for the module of losses (Keras 1's `objectives`): every
Keras 1 objective, and Keras 2's `categorical_hinge` and `logcosh`."""
from .objectives import *  # noqa: F401,F403
from .objectives import get  # noqa: F401
