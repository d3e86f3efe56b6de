"""Utilities: `np_utils` (to_categorical) and `generic_utils` (Progbar)."""
from . import generic_utils, np_utils  # noqa: F401
