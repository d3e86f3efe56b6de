"""What a legacy script imports from its neighbours that they have since removed.

Installed by `minikeras run` for that process only (`install()`), never by
`import minikeras`:

- `scipy.misc.imread`, `imsave`, `imresize`, `toimage`, `bytescale`, ...
  (removed in SciPy 1.2-1.3), through Pillow: `neighbours_scipy_misc`; and
  `scipy.ndimage.imread`, added to the real `scipy.ndimage` as it loads.
- `sklearn.cross_validation` and `sklearn.grid_search` (removed in
  scikit-learn 0.20), mapped onto `sklearn.model_selection`.
- NumPy's removed aliases: `np.float`, `np.int`, `np.bool`, `np.object`,
  `np.str`, `np.long`, `np.unicode`, `np.complex` (removed in NumPy 1.24)
  and the spellings NumPy 1.23 and 2.0 dropped (`np.asscalar`, `np.float_`,
  `np.NaN`, `np.Inf`, ...).
  NumPy refuses them in its module `__getattr__`; the run wraps that
  function, so names NumPy still has (`np.bool` and `np.long` are NumPy
  types again in 2.x) are untouched.
- Python 3.6's `re.split` (no split on an empty match) for the script's own
  code: `neighbours_re`.
"""
import builtins
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys

_MODULES = {
    'scipy.misc': 'minikeras.compat.neighbours_scipy_misc',
    'scipy.misc.pilutil': 'minikeras.compat.neighbours_scipy_misc',
    'sklearn.cross_validation': 'minikeras.compat.neighbours_cross_validation',
    'sklearn.grid_search': 'minikeras.compat.neighbours_grid_search',
}

# Removed in NumPy 1.24: these were the Python types themselves.
_NUMPY_BUILTIN_ALIASES = {
    'float': builtins.float, 'int': builtins.int, 'bool': builtins.bool,
    'object': builtins.object, 'str': builtins.str, 'long': builtins.int,
    'unicode': builtins.str, 'complex': builtins.complex,
}

# Removed in NumPy 2.0: the name NumPy keeps for each.
_NUMPY_RENAMED = {
    'float_': 'float64', 'complex_': 'complex128', 'cfloat': 'complex128',
    'singlecomplex': 'complex64', 'longfloat': 'longdouble', 'longcomplex': 'clongdouble',
    'clongfloat': 'clongdouble', 'string_': 'bytes_', 'unicode_': 'str_',
    'Inf': 'inf', 'Infinity': 'inf', 'infty': 'inf', 'PINF': 'inf', 'NaN': 'nan',
    'round_': 'round', 'alltrue': 'all', 'sometrue': 'any', 'product': 'prod',
    'cumproduct': 'cumprod', 'mat': 'asmatrix', 'int0': 'intp', 'uint0': 'uintp',
    'bool8': 'bool_', 'object0': 'object_', 'str0': 'str_', 'bytes0': 'bytes_',
}


class _ModuleLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass


def _ndimage_imread(fname, flatten=False, mode=None):
    """`scipy.ndimage.imread` (removed in SciPy 1.2): `scipy.misc.imread`."""
    from . import neighbours_scipy_misc
    return neighbours_scipy_misc.imread(fname, flatten=flatten, mode=mode)


# Names put back into real modules, which stay what they are otherwise.
_ADDED_NAMES = {'scipy.ndimage': {'imread': _ndimage_imread}}


def _add_names(module, names):
    for name, value in names.items():
        if not hasattr(module, name):
            setattr(module, name, value)


class _AddingLoader(importlib.abc.Loader):
    """Runs a module's own loader, then adds the names it lost."""

    def __init__(self, loader, names):
        self.loader = loader
        self.names = names

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        _add_names(module, self.names)


class NeighbourFinder(importlib.abc.MetaPathFinder):
    """Serves the removed modules of `_MODULES` and completes those of `_ADDED_NAMES`
    (first on `sys.meta_path`)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in _ADDED_NAMES:
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is not None and spec.loader is not None:
                spec.loader = _AddingLoader(spec.loader, _ADDED_NAMES[fullname])
            return spec
        module = _MODULES.get(fullname)
        if module is None:
            return None
        return importlib.util.spec_from_loader(fullname, _ModuleLoader(module),
                                               is_package=fullname == 'scipy.misc')


def _asfarray(a, dtype=None):
    import numpy
    dtype = numpy.float64 if dtype is None else dtype
    if not numpy.issubdtype(dtype, numpy.inexact):
        dtype = numpy.float64
    return numpy.asarray(a, dtype=dtype)


def _asscalar(a):
    return a.item()


# Removed objects with no NumPy name left: Python types, constants, small functions.
_NUMPY_OBJECTS = dict(_NUMPY_BUILTIN_ALIASES, NINF=float('-inf'), NZERO=-0.0, PZERO=0.0,
                      asfarray=_asfarray, asscalar=_asscalar)


def numpy_alias(name):
    """The object NumPy once had under `np.<name>`; raises KeyError when there was none."""
    if name in _NUMPY_OBJECTS:
        return _NUMPY_OBJECTS[name]
    import numpy
    return getattr(numpy, _NUMPY_RENAMED[name])


def _serve_numpy_aliases():
    import numpy
    original = numpy.__dict__.get('__getattr__')
    if getattr(original, 'minikeras_aliases', False):
        return

    def __getattr__(name):
        try:
            return numpy_alias(name)
        except KeyError:
            pass
        if original is None:
            raise AttributeError("module 'numpy' has no attribute %r" % name)
        return original(name)

    __getattr__.minikeras_aliases = True
    numpy.__getattr__ = __getattr__


def install(script_dir=None):
    """Serves the removed neighbour APIs in this process (idempotent); with
    `script_dir`, Python 3.6's `re.split` to the code under it."""
    if not any(isinstance(f, NeighbourFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, NeighbourFinder())
    for name, names in _ADDED_NAMES.items():
        if name in sys.modules:
            _add_names(sys.modules[name], names)
    _serve_numpy_aliases()
    if script_dir is not None:
        from . import neighbours_re
        neighbours_re.install(script_dir)
