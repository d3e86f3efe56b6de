"""Utilities: `np_utils` (to_categorical), `generic_utils` (Progbar), `vis_utils` (plot_model)."""
from . import generic_utils, np_utils  # noqa: F401
from .vis_utils import plot_model  # noqa: F401
