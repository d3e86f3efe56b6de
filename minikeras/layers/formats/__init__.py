"""Each layer class's file-format adapter (see `minikeras.engine.layer_formats`),
one module per layer family; importing this package registers them all."""
from . import advanced_activations, convolutional, core, embeddings, merge  # noqa: F401
from . import noise, normalization, pooling, recurrent, wrappers  # noqa: F401
from . import local  # noqa: F401
from . import convolutional_recurrent  # noqa: F401
