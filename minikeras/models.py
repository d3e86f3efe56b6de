"""Models: `Sequential`, a linear stack of layers, and the functional `Model`."""
from .compat.keras0 import Keras0ModelAPI, Keras0SequentialAPI
from .compat.keras2 import Keras2ModelAPI
from .engine import sequential, training
from .engine.saving import (load_model, model_from_config, model_from_json,  # noqa: F401
                            model_from_yaml, save_model)
# Names Keras 1.2.2's models module had, and Input, for scripts that import them from here.
from .engine.topology import (Container, Input, Layer, Merge, Node,  # noqa: F401
                              get_source_inputs)


class Model(Keras2ModelAPI, Keras0ModelAPI, training.Model):
    __doc__ = training.Model.__doc__


class Sequential(Keras0SequentialAPI, Model, sequential.Sequential):
    __doc__ = sequential.Sequential.__doc__


from .compat.keras0_models import Graph, slice_X  # noqa: E402,F401  (Keras 0.x, on Model)
