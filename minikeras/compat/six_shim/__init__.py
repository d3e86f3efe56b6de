"""The part of `six` that legacy Keras scripts use, for interpreters without it."""
import builtins
import io
import pickle

MINIKERAS_SHIM = True
PY2 = False
PY3 = True
string_types = (str,)
integer_types = (int,)
text_type = str
binary_type = bytes
StringIO = io.StringIO
BytesIO = io.BytesIO


def iteritems(d, **kwargs):
    return iter(d.items(**kwargs))


def itervalues(d, **kwargs):
    return iter(d.values(**kwargs))


def iterkeys(d, **kwargs):
    return iter(d.keys(**kwargs))


def b(s):
    return s.encode('latin-1')


def u(s):
    return s


from . import moves  # noqa: E402,F401

__all__ = ['PY2', 'PY3', 'string_types', 'integer_types', 'text_type', 'binary_type',
           'iteritems', 'itervalues', 'iterkeys', 'moves', 'b', 'u', 'StringIO', 'BytesIO',
           'builtins', 'pickle']
