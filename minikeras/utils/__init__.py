"""Utilities: `np_utils` (to_categorical), `generic_utils` (Progbar), `vis_utils`
(plot_model), and the names Keras 2 exported from `keras.utils` itself."""
from . import generic_utils, np_utils  # noqa: F401
from .generic_utils import CustomObjectScope, Progbar, get_custom_objects  # noqa: F401
from .np_utils import normalize, to_categorical  # noqa: F401
from .sequence import Sequence  # noqa: F401
from .vis_utils import plot_model  # noqa: F401

custom_object_scope = CustomObjectScope
