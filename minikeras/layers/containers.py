"""Keras 0.x's `keras.layers.containers`: `Sequential` and `Graph`.

In Keras 0.x these were the layer containers that the models were built on;
here they are the models themselves, which can be used as layers too.
"""
from ..compat.keras0_models import Graph  # noqa: F401
from ..models import Sequential  # noqa: F401
