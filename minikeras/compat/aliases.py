"""Import hooks that let a legacy script run unchanged.

- `keras` and every `keras.X.Y` resolve to `minikeras` / `minikeras.X.Y`
  (installed at the front of `sys.meta_path`, for this process only).
- Names a 2015-2017 script may import that this interpreter lacks are served
  as a last resort (installed at the end of `sys.meta_path`, so anything
  really installed, or a `data.py` beside the script, wins): `data` (the MNIST
  shim), `six` and `six.moves`, `cPickle`.
"""
import importlib
import importlib.abc
import importlib.util
import sys

from . import unsupported


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass


class KerasAliasFinder(importlib.abc.MetaPathFinder):
    """Resolves `keras[.X]` to the module `minikeras[.X]`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != 'keras' and not fullname.startswith('keras.'):
            return None
        target = 'mini' + fullname
        if fullname != 'keras':
            error = unsupported.module_error(fullname[len('keras.'):])
            if error is not None:
                raise error
        try:
            found = importlib.util.find_spec(target)
        except ModuleNotFoundError:
            found = None
        if found is None:
            raise ModuleNotFoundError(
                'No module named %r: minikeras has no %r (see the support table in minikeras\'s '
                'README for what Keras 1.2.2 provides and what minikeras covers)'
                % (fullname, target), name=fullname)
        return importlib.util.spec_from_loader(fullname, _AliasLoader(target),
                                               is_package=found.submodule_search_locations
                                               is not None)


class LegacyFallbackFinder(importlib.abc.MetaPathFinder):
    """Serves `data`, `six`, `six.moves` and `cPickle` when nothing else can."""

    _TARGETS = {
        'data': 'minikeras.compat.data_shim',
        'six': 'minikeras.compat.six_shim',
        'six.moves': 'minikeras.compat.six_shim.moves',
        'cPickle': 'pickle',
    }

    def find_spec(self, fullname, path=None, target=None):
        module = self._TARGETS.get(fullname)
        if module is None:
            return None
        six = sys.modules.get('six')
        if fullname == 'six.moves' and six is not None and not getattr(six, 'MINIKERAS_SHIM', False):
            return None     # the real six is installed: its own importer serves six.moves
        return importlib.util.spec_from_loader(fullname, _AliasLoader(module),
                                               is_package=fullname == 'six')


def install():
    """Installs both finders (idempotent)."""
    if not any(isinstance(f, KerasAliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, KerasAliasFinder())
    if not any(isinstance(f, LegacyFallbackFinder) for f in sys.meta_path):
        sys.meta_path.append(LegacyFallbackFinder())
