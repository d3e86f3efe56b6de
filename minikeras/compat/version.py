"""Which Keras API generation a legacy script expects.

Where Keras 0.3 and 1.2.2 differ in meaning (not only in spelling), the
behaviour follows this switch. It is set by `minikeras run --keras-version`
or by the `MINIKERAS_KERAS_VERSION` environment variable; the default is 1.2.2.

'2.2.4' selects Keras 2's whole-script defaults (`fit` runs one epoch; image
layers whose call says nothing of their generation are channels_last). A
single call written with Keras 2 arguments gets Keras 2's behaviour under
any setting (see `compat/keras2.py`); `minikeras run` selects 2.2.4 by itself
when the script uses Keras 2 spellings (`keras2.guess_generation`).
"""
import os

_SUPPORTED = ('0.3', '1.2.2', '2.2.4')
_ALIASES = {'0': '0.3', '0.3': '0.3', '0.3.3': '0.3',
            '1': '1.2.2', '1.2': '1.2.2', '1.2.2': '1.2.2',
            '2': '2.2.4', '2.0': '2.2.4', '2.1': '2.2.4', '2.2': '2.2.4', '2.2.4': '2.2.4'}


def normalize_version(value):
    """Maps a user's version string to one of the supported generations."""
    key = str(value).strip()
    if key not in _ALIASES:
        raise ValueError('Keras version must be one of %s, got %r' % (', '.join(_SUPPORTED), value))
    return _ALIASES[key]


def keras_version():
    """Returns '0.3', '1.2.2' or '2.2.4': the API generation currently emulated."""
    value = os.environ.get('MINIKERAS_KERAS_VERSION')
    return normalize_version(value) if value else '1.2.2'


def is_keras_0():
    """True when Keras 0.3 semantics are selected."""
    return keras_version() == '0.3'


def is_keras_2():
    """True when Keras 2's whole-script defaults are selected."""
    return keras_version() == '2.2.4'
