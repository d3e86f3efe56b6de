"""Models: `Sequential`, a linear stack of layers, and the functional `Model`."""
from .compat.keras0 import Keras0ModelAPI, Keras0SequentialAPI
from .compat.keras2 import Keras2ModelAPI
from .engine import sequential, training
from .engine.saving import (load_model, model_from_config, model_from_json,  # noqa: F401
                            model_from_yaml, save_model)
# Names Keras 1.2.2's models module had, and Input, for scripts that import them from here.
from .engine.topology import (Container, Input, Layer, Merge, Node,  # noqa: F401
                              get_source_inputs)
from .engine.training import slice_X  # noqa: F401  (Keras 0.x scripts imported it from here)


class Model(Keras2ModelAPI, Keras0ModelAPI, training.Model):
    __doc__ = training.Model.__doc__

    def reset_states(self):
        """Zeroes the states of every stateful layer of the model (and of the
        layers they wrap), as Keras 1's `model.reset_states()`."""
        for layer in self.layers:
            if hasattr(layer, 'reset_states') and getattr(layer, 'stateful', False):
                layer.reset_states()


class Sequential(Keras0SequentialAPI, Model, sequential.Sequential):
    __doc__ = sequential.Sequential.__doc__


from .compat.keras0_models import Graph, slice_X  # noqa: E402,F401  (Keras 0.x, on Model)
