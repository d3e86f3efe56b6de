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


def test_a_listed_module_and_its_submodules_raise_with_an_alternative(monkeypatch):
    # Every Keras 1.2.2 module exists today, so the table is empty: list one to check the rule.
    monkeypatch.setitem(unsupported.MODULES, 'legacy_thing', 'gone; nearest: keras.models')
    for module in ('legacy_thing', 'legacy_thing.sub'):
        error = unsupported.module_error(module)
        assert isinstance(error, ImportError) and 'nearest: ' in str(error)
        assert str(error).startswith('keras.%s: ' % module)
    assert unsupported.module_error('legacy_thingy') is None
    assert unsupported.module_error('models') is None


def test_a_typo_is_still_a_plain_attribute_error():
    import minikeras.layers
    assert not hasattr(minikeras.layers, 'Dense2')
