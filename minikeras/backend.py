"""Session-wide numeric settings, as `keras.backend` exposed them in Keras 1.

minikeras has a single backend (NumPy with Numba kernels), so this module
keeps only the configuration half of Keras 1's backend: float type, fuzz
factor and image dimension ordering.

The image ordering defaults to 'th' (channels first), because the legacy
scripts minikeras targets were written for Theano. It is read, in order of
precedence, from the `KERAS_IMAGE_DIM_ORDERING` environment variable and the
`image_dim_ordering` entry of `~/.keras/keras.json` (or `$KERAS_HOME/keras.json`).

Keras 2 calls a layer's image layout its `data_format` and defaults it to
`image_data_format()`: 'channels_last' unless keras.json's
`image_data_format` entry says otherwise. The two defaults are kept apart
because a keras.json written by Keras 2 always says 'channels_last', which
must not turn the Theano-era scripts to 'tf'. Setting either at run time
(`set_image_dim_ordering`, `set_image_data_format`) sets both, as one setting
did in Keras 2. In a Keras 2 script (`compat.version`), `image_dim_ordering()`
reports `image_data_format()`, as Keras 2's did: there it is one setting.
"""
import json
import os
import warnings

_FLOATX = 'float32'
_EPSILON = 1e-7
_VALID_ORDERINGS = ('th', 'tf')
_VALID_DATA_FORMATS = ('channels_first', 'channels_last')
_DATA_FORMAT_OF = {'th': 'channels_first', 'tf': 'channels_last'}
_ORDERING_OF = {'channels_first': 'th', 'channels_last': 'tf'}


def _config_path():
    home = os.environ.get('KERAS_HOME') or os.path.join(os.path.expanduser('~'), '.keras')
    return os.path.join(home, 'keras.json')


def _config(warn=False):
    """keras.json's settings ({} when it is missing or damaged; `warn` names a damaged one)."""
    try:
        with open(_config_path()) as f:
            config = json.load(f)
    except OSError:
        return {}
    except ValueError as error:
        if warn:
            warnings.warn('Ignoring %s: it is not valid JSON (%s); image_dim_ordering stays "th"'
                          % (_config_path(), error))
        return {}
    return config if isinstance(config, dict) else {}


def _initial_data_format():
    data_format = _config().get('image_data_format')
    if data_format is None:
        return 'channels_last'
    if data_format not in _VALID_DATA_FORMATS:
        raise ValueError('image_data_format from %s must be "channels_first" or "channels_last", '
                         'got %r' % (_config_path(), data_format))
    return data_format


def _initial_ordering():
    ordering = os.environ.get('KERAS_IMAGE_DIM_ORDERING')
    source = 'the KERAS_IMAGE_DIM_ORDERING environment variable'
    if not ordering:
        path = _config_path()
        ordering = _config(warn=True).get('image_dim_ordering')
        if ordering is None:
            return 'th'
        source = path
    if ordering not in _VALID_ORDERINGS:
        raise ValueError('image_dim_ordering from %s must be "th" or "tf", got %r'
                         % (source, ordering))
    return ordering


_IMAGE_DIM_ORDERING = _initial_ordering()
_IMAGE_DATA_FORMAT = _initial_data_format()


def floatx():
    """Returns the default float type, as a string ('float32')."""
    return _FLOATX


def set_floatx(value):
    """Sets the default float type. Only 'float32' is supported: the kernels
    are compiled for it.

    # Arguments
        value: string, the new float type.
    """
    if value != 'float32':
        raise ValueError("minikeras computes in float32 only; set_floatx got %r" % (value,))


def epsilon():
    """Returns the fuzz factor used in numeric expressions (1e-7, as Keras 1)."""
    return _EPSILON


def set_epsilon(value):
    """Sets the fuzz factor used in numeric expressions.

    # Arguments
        value: float, the new epsilon.
    """
    global _EPSILON
    _EPSILON = float(value)


def image_dim_ordering():
    """Returns the default image dimension ordering: 'th' or 'tf'."""
    from .compat import version
    if version.is_keras_2():
        return _ORDERING_OF[_IMAGE_DATA_FORMAT]
    return _IMAGE_DIM_ORDERING


def set_image_dim_ordering(dim_ordering):
    """Sets the default image dimension ordering.

    # Arguments
        dim_ordering: 'th' (channels, rows, cols) or 'tf' (rows, cols, channels).
    """
    global _IMAGE_DIM_ORDERING, _IMAGE_DATA_FORMAT
    if dim_ordering not in _VALID_ORDERINGS:
        raise ValueError('set_image_dim_ordering: expected "th" or "tf", got %r' % (dim_ordering,))
    _IMAGE_DIM_ORDERING = dim_ordering
    _IMAGE_DATA_FORMAT = _DATA_FORMAT_OF[dim_ordering]


def image_data_format():
    """Returns Keras 2's default image layout: 'channels_first' or 'channels_last'."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    """Sets the default image layout of Keras 2 and Keras 1 calls alike.

    # Arguments
        data_format: 'channels_first' or 'channels_last'.
    """
    if data_format not in _VALID_DATA_FORMATS:
        raise ValueError('set_image_data_format: expected "channels_first" or "channels_last", '
                         'got %r' % (data_format,))
    set_image_dim_ordering(_ORDERING_OF[data_format])


def dim_ordering_of(data_format):
    """The Keras 1 ordering ('th'/'tf') of a Keras 2 data_format."""
    return _ORDERING_OF[data_format]


def cast_to_floatx(x):
    """Casts a NumPy array (or anything array-like) to the default float type."""
    import numpy as np
    return np.asarray(x, dtype=_FLOATX)


_BACKEND = 'minikeras'   # Keras 1.2.2's module variable, which some code reads


def backend():
    """Returns the name of the backend, 'minikeras'."""
    return _BACKEND

from .backend_ops import *  # noqa: E402,F401,F403  (Keras 1's backend functions on NumPy)
from .backend_conv import *  # noqa: E402,F401,F403  (Keras 2's K.conv1d, K.conv2d, ...)

from .compat.unsupported import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr('backend')
