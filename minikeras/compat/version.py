"""Which Keras API generation a legacy script expects.

Where Keras 0.3 and 1.2.2 differ in meaning (not only in spelling), the
behaviour follows this switch. It is set by `minikeras run --keras-version`
or by the `MINIKERAS_KERAS_VERSION` environment variable; the default is 1.2.2.
"""
import os

_SUPPORTED = ('0.3', '1.2.2')
_ALIASES = {'0': '0.3', '0.3': '0.3', '0.3.3': '0.3', '1': '1.2.2', '1.2': '1.2.2', '1.2.2': '1.2.2'}


def normalize_version(value):
    """Maps a user's version string to one of the supported generations."""
    key = str(value).strip()
    if key not in _ALIASES:
        raise ValueError('Keras version must be one of %s, got %r' % (', '.join(_SUPPORTED), value))
    return _ALIASES[key]


def keras_version():
    """Returns '0.3' or '1.2.2': the API generation currently emulated."""
    value = os.environ.get('MINIKERAS_KERAS_VERSION')
    return normalize_version(value) if value else '1.2.2'


def is_keras_0():
    """True when Keras 0.3 semantics are selected."""
    return keras_version() == '0.3'
