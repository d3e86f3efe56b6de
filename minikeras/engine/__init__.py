# Keras 1.2.2's `keras.engine` names (Node is internal, as it was there; no InputSpec).
from .base_layer import Layer  # noqa: F401
from .graph import get_source_inputs  # noqa: F401
from .input_layer import Input, InputLayer  # noqa: F401
from .merge import Merge, merge  # noqa: F401
from .training import Model  # noqa: F401
