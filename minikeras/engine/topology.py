"""Keras 1's `keras.engine.topology`, kept as an import path.

The classes live in modules by job: `base_layer` (Layer), `graph`
(KerasTensor, Node, get_source_inputs), `input_layer` (Input, InputLayer),
`merge` (Merge, merge) and `container` (Container).
"""
from .base_layer import Layer, get_uid, reset_uids  # noqa: F401
from .container import Container  # noqa: F401
from .graph import KerasTensor, Node, get_source_inputs, shape_repr, to_list  # noqa: F401
from .input_layer import Input, InputLayer  # noqa: F401
from .merge import Merge, merge  # noqa: F401
