"""Every Keras 1.2.2 name minikeras lacks explains itself and names an alternative."""
import importlib

import pytest

from minikeras.compat import unsupported

CASES = [('layers', name) for name in sorted(unsupported.LAYERS)] + \
    [(module, name) for module, names in sorted(unsupported.OTHER_NAMES.items())
     for name in sorted(names)]


@pytest.mark.parametrize('module,name', CASES)
def test_unsupported_name_raises_with_an_alternative(module, name):
    loaded = importlib.import_module('minikeras.' + module)
    with pytest.raises(unsupported.NotSupportedError, match='nearest: ') as error:
        getattr(loaded, name)
    assert str(error.value).startswith('keras.%s.%s: ' % (module, name))


@pytest.mark.parametrize('module', sorted(unsupported.MODULES))
def test_unsupported_module_raises_with_an_alternative(module):
    error = unsupported.module_error(module)
    assert isinstance(error, ImportError) and 'nearest: ' in str(error)


def test_a_typo_is_still_a_plain_attribute_error():
    import minikeras.layers
    assert not hasattr(minikeras.layers, 'Dense2')
