"""Layer (de)serialisation helpers."""
import inspect

from .generic_utils import get_custom_objects


def model_class(class_name):
    """The model class saved configs call `class_name` ('Sequential' or 'Model')."""
    from .. import models
    return {'Sequential': models.Sequential, 'Model': models.Model}[class_name]


def layer_from_config(config, custom_objects=None):
    """Instantiates a layer from `{'class_name': ..., 'config': ...}`.

    # Arguments
        config: the dict `layer.get_config()` is wrapped in.
        custom_objects: optional dict of extra layer classes by name.
    """
    from .. import layers as layer_module
    if not isinstance(config, dict) or 'class_name' not in config:
        raise ValueError('A layer config must be a dict with "class_name" and "config", got %r'
                         % (config,))
    name = config['class_name']
    known = dict(layer_module.__dict__)
    known['Sequential'] = model_class('Sequential')
    known['Model'] = model_class('Model')
    known.update(get_custom_objects())
    known.update(custom_objects or {})
    cls = known.get(name)
    if not isinstance(cls, type):
        raise ValueError('Unknown layer class %r in config; pass it in custom_objects if it is '
                         'your own' % (name,))
    params = config.get('config')
    params = list(params) if isinstance(params, list) else dict(params or {})
    if 'custom_objects' in inspect.signature(cls.from_config).parameters:
        return cls.from_config(params, custom_objects=custom_objects)
    return cls.from_config(params)
