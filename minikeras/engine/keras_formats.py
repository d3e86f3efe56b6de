"""Files of other Keras generations read as Keras 1 (minikeras's form).

- Weights: which generation and backend wrote a file (`describe_source`),
  and its arrays in the layouts of the model's layers (`weight_converter`):
  Theano's flipped kernels, 'th' and 'tf' kernels, Keras 2/3 kernels,
  the rows of a Dense after a Flatten.
- Configs: Keras 2 and 3 model configs (`translate_model_config`) and
  training configs (`translate_training_config`) as Keras 1's.

What is particular to a layer class (its config, its weight layouts) is
its adapter's (`layer_formats`); this module walks files and models.
"""
import json

import numpy as np

from ..utils.io_utils import read_text_attr
from .layer_formats import (format_of, format_of_saved, later_generation_names, ordering_of,
                            readable_names)


# ---------------------------------------------------------------------------
# What a file says about its weights
# ---------------------------------------------------------------------------

class _Source(object):
    """What a file tells about how its weights were stored.

    # Attributes
        path: the file's path, for error messages.
        keras_major: 0, 1, 2 or 3: the layout generation of the weights.
        backend: the backend that computed them ('theano' kernels are true
            convolutions and must be flipped), or None if unknown.
        layers: name -> info dict from the file's model config ({} if none):
            'class_name', 'config' (the layer's config in the file),
            'ordering' ('th'/'tf' for image layers),
            'flatten_order' ('chw'/'hwc' for a Dense fed by a Flatten).
    """

    def __init__(self, path, keras_major, backend, layers=None):
        self.path = path
        self.keras_major = keras_major
        self.backend = backend
        self.layers = layers or {}


def _version_major(version, default):
    if not version:
        return default
    head = version.strip().split('.')[0]
    return int(head) if head.isdigit() else default


def describe_source(f, group, path, original_backend=None):
    """How a file's weights were stored: generation, backend, and what its
    model config (if any) says about each layer's layout.

    # Arguments
        f: the open `h5py.File`.
        group: the group holding the layer weights (root or `model_weights`).
        path: the file's path, for error messages.
        original_backend: overrides the file's `backend` attribute.

    # Returns
        An object with attributes `path`, `keras_major` (0 to 3),
        `backend` and `layers` (name -> layout info).
    """
    version = read_text_attr(group, 'keras_version')
    if version is None and group is not f:
        root_version = read_text_attr(f, 'keras_version')
        # Keras 1 wrote its version only at the root of a model file.
        if root_version and _version_major(root_version, 1) <= 1:
            version = root_version
    major = 0 if 'nb_layers' in group.attrs else _version_major(version, 1)
    backend = original_backend or read_text_attr(group, 'backend')
    layers = {}
    config_text = read_text_attr(f, 'model_config')
    if config_text:
        try:
            config = json.loads(config_text)
            layers = _source_layer_info(config, major)
        except (ValueError, KeyError, TypeError, AttributeError):
            layers = {}
    return _Source(path, major, backend, layers)


def file_generation(f, model_config):
    """1 for a model file of Keras 1 (or minikeras), 2 or 3 for later ones:
    the root `keras_version` attribute, else what the config looks like.

    # Arguments
        f: the open `h5py.File`.
        model_config: its parsed `model_config` attribute.
    """
    return _config_generation(model_config,
                              _version_major(read_text_attr(f, 'keras_version'), None))


# ---------------------------------------------------------------------------
# Weight layouts: what a file's layers and the model's layers expect
# ---------------------------------------------------------------------------

def _model_layer_entries(model_config):
    """(kind, entries) for a model config of any generation: kind is
    'sequential' or 'functional'; entries are the layer dicts in order."""
    class_name = model_config.get('class_name')
    config = model_config.get('config')
    if class_name == 'Sequential':
        layers = config if isinstance(config, list) else (config or {}).get('layers', [])
        return 'sequential', list(layers)
    if isinstance(config, dict) and 'layers' in config:
        return 'functional', list(config['layers'])
    raise ValueError('not a model config (class_name %r)' % (class_name,))


def _layer_name(entry):
    return (entry.get('config') or {}).get('name') or entry.get('name')


def _role(layer_format):
    return layer_format.role if layer_format is not None else None


def _source_layer_info(model_config, major):
    """name -> {'class_name', 'ordering', 'flatten_order'} for a file's model
    config, walking its layers in order (the chain a Flatten feeds)."""
    _, entries = _model_layer_entries(model_config)
    info, ordering, flatten_order = {}, None, None
    for entry in entries:
        class_name = entry.get('class_name')
        config = entry.get('config') or {}
        name = _layer_name(entry)
        record = {'class_name': class_name, 'config': config}
        role = _role(format_of_saved(class_name))
        if role == 'image' and major >= 2:
            ordering = ordering_of(config.get('data_format'))
            record['ordering'] = ordering
            flatten_order = None
        elif role == 'image':
            ordering = config.get('dim_ordering') if config.get('dim_ordering') in ('th', 'tf') \
                else None
            record['ordering'] = ordering
            flatten_order = None
        elif role == 'flatten':
            flatten_order = None
            if ordering == 'th':
                if major >= 2 and config.get('data_format') == 'channels_first':
                    flatten_order = 'hwc'
                else:
                    flatten_order = 'chw'
            elif ordering == 'tf' and not (major >= 2 and
                                           config.get('data_format') == 'channels_first'):
                flatten_order = 'hwc'
        elif role == 'dense':
            record['flatten_order'] = flatten_order
            flatten_order, ordering = None, None
        elif role != 'keep':
            flatten_order = None
        if name:
            info[name] = record
    return info


def _target_layer_info(model):
    """id(layer) -> {'flatten_order', 'image'} for the model's Dense layers
    fed by a Flatten of images ('image' is (channels, rows, cols))."""
    info, ordering, flat = {}, None, None
    for layer in model.layers:
        role = format_of(layer).role
        if role == 'image' and getattr(layer, 'dim_ordering', None) in ('th', 'tf'):
            ordering, flat = layer.dim_ordering, None
        elif role == 'flatten':
            shape = getattr(layer, 'input_shape', None)
            flat = None
            if ordering and isinstance(shape, tuple) and len(shape) == 4 and None not in shape[1:]:
                if ordering == 'th':
                    flat = ('chw', (shape[1], shape[2], shape[3]))
                else:
                    flat = ('hwc', (shape[3], shape[1], shape[2]))
        elif role == 'dense':
            if flat is not None:
                info[id(layer)] = {'flatten_order': flat[0], 'image': flat[1]}
            flat, ordering = None, None
        elif role != 'keep':
            flat = None
    return info


def weight_converter(model, source):
    """A function `convert(layer, saved_name, arrays)` that returns a file
    layer's arrays in the layouts `layer` of `model` expects.

    # Arguments
        model: the minikeras model being loaded.
        source: what `describe_source` says about the file.

    # Raises (from `convert`)
        ValueError: arrays that cannot be converted.
    """
    targets = _target_layer_info(model)

    def convert(layer, saved_name, arrays):
        arrays = [np.asarray(a) for a in arrays]
        return format_of(layer).weights_in(layer, arrays, source,
                                           source.layers.get(saved_name, {}),
                                           targets.get(id(layer), {}))
    return convert


# ---------------------------------------------------------------------------
# Keras 2 and 3 model configs -> Keras 1 layer configs
# ---------------------------------------------------------------------------

# Keys that only Keras 2+ layer configs have (Keras 1 spelled them differently).
_KERAS2_KEYS = ('units', 'filters', 'kernel_size', 'data_format', 'rate', 'use_bias',
                'kernel_initializer', 'batch_shape', 'dilation_rate', 'stddev')


def _config_generation(model_config, hint=None):
    """1 for a Keras 1 (or minikeras) model config, 2 or 3 for later ones."""
    if hint is not None:
        return max(1, hint)
    version = model_config.get('keras_version')
    if version:
        return max(1, _version_major(str(version), 1))
    if model_config.get('class_name') == 'Functional' or 'module' in model_config:
        return 3
    try:
        kind, entries = _model_layer_entries(model_config)
    except ValueError:
        return 1
    generation = 1
    if model_config.get('class_name') == 'Sequential' and isinstance(model_config.get('config'),
                                                                     dict):
        generation = 2
    for entry in entries:
        config = entry.get('config') or {}
        if 'module' in entry or isinstance(config.get('dtype'), dict) or 'batch_shape' in config:
            return 3
        if any(key in config for key in _KERAS2_KEYS):
            generation = 2
        if entry.get('class_name') == 'Functional' or \
                entry.get('class_name') in later_generation_names():
            generation = 2
    return generation


def _translate_layer(entry, major, path):
    class_name = entry.get('class_name')
    config = dict(entry.get('config') or {})
    name = config.get('name') or entry.get('name')
    layer_format = format_of_saved(class_name)
    if layer_format is None or not layer_format.reads(class_name):
        raise ValueError('%s: layer %r has class %r, which minikeras cannot translate from '
                         'Keras %d (known: %s)' % (path, name, class_name, major,
                                                   ', '.join(readable_names())))
    try:
        new_class, new_config = layer_format.read_config(class_name, config, major)
    except (KeyError, ValueError, TypeError, IndexError) as error:
        raise ValueError('%s: layer %r (%s): %s' % (path, name, class_name, error))
    new_config['name'] = name
    if layer_format.takes_trainable:
        new_config['trainable'] = bool(config.get('trainable', True))
    shape = config.get('batch_input_shape') or config.get('batch_shape')
    if shape is not None:
        new_config['batch_input_shape'] = list(shape)
        new_config['input_dtype'] = 'float32'
    return {'class_name': new_class, 'config': new_config}


def translate_layer_config(entry, major, path='<config>'):
    """One Keras 2/3 layer entry `{'class_name', 'config'}` as Keras 1's (for
    the adapters of layers that hold a layer, such as wrappers)."""
    return _translate_layer(entry, major, path)


def _input_layer_1(entry):
    config = entry.get('config') or {}
    shape = config.get('batch_input_shape') or config.get('batch_shape')
    if shape is None:
        raise ValueError('InputLayer %r has no batch shape' % (_layer_name(entry),))
    return {'class_name': 'InputLayer',
            'config': {'batch_input_shape': list(shape), 'input_dtype': 'float32',
                       'name': _layer_name(entry)}}


def _training_option(call_options):
    for option in call_options:
        if isinstance(option, dict) and option.get('training') in (True, False):
            return [{'training': option['training']}]
    return []


def _inbound_1(node_data):
    """One inbound node of Keras 2 (list) or Keras 3 (args/kwargs dict) as
    Keras 1's [[layer name, node index, tensor index], ...]."""
    if isinstance(node_data, list):
        # Keras 2's fourth item holds the call's arguments: training is kept
        return [[item[0], int(item[1]), int(item[2])] + _training_option(item[3:])
                for item in node_data]
    found = []

    def walk(value):
        if isinstance(value, dict):
            if value.get('class_name') == '__keras_tensor__':
                history = value['config']['keras_history']
                found.append([history[0], int(history[1]), int(history[2])])
                return
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
    walk(node_data.get('args', []))
    walk(node_data.get('kwargs', {}))
    return found


def _refs_1(refs):
    """Keras 3 writes a single input or output as [name, 0, 0], not nested."""
    if refs and isinstance(refs[0], str):
        refs = [refs]
    return [[r[0], int(r[1]), int(r[2])] for r in refs]


def translate_model_config(model_config, path='<config>', generation=None):
    """A Keras 2 or 3 model config (`{'class_name', 'config'}`) as the Keras 1
    config minikeras builds: Keras 1 class names and arguments, with each
    layer's data_format kept as its dim_ordering. Keras 1 configs pass
    through unchanged.

    # Arguments
        model_config: the dict, as in a file's `model_config` attribute.
        path: where the config comes from, for error messages.
        generation: the Keras major version that wrote it, when known
            (else guessed from the config).

    # Raises
        ValueError: for a layer class or an option minikeras does not have;
            the message names the class and `path`.
    """
    major = _config_generation(model_config, generation)
    if major <= 1:
        return model_config
    kind, entries = _model_layer_entries(model_config)
    config = model_config.get('config')
    if kind == 'sequential':
        layers, pending_shape = [], None
        if isinstance(config, dict) and config.get('build_input_shape'):
            pending_shape = config['build_input_shape']
        for entry in entries:
            if entry.get('class_name') == 'InputLayer':
                entry_config = entry.get('config') or {}
                pending_shape = entry_config.get('batch_input_shape') or \
                    entry_config.get('batch_shape')
                continue
            layer = _translate_layer(entry, major, path)
            if not layers and pending_shape is not None and \
                    'batch_input_shape' not in layer['config']:
                layer['config']['batch_input_shape'] = list(pending_shape)
                layer['config']['input_dtype'] = 'float32'
            layers.append(layer)
        return {'class_name': 'Sequential', 'config': layers}
    layers = []
    for entry in entries:
        if entry.get('class_name') == 'InputLayer':
            layer = _input_layer_1(entry)
        else:
            layer = _translate_layer(entry, major, path)
            layer['config'].pop('batch_input_shape', None)
            layer['config'].pop('input_dtype', None)
        layer['name'] = layer['config']['name']
        layer['inbound_nodes'] = [_inbound_1(node) for node in entry.get('inbound_nodes', [])]
        layers.append(layer)
    return {'class_name': 'Model',
            'config': {'name': config.get('name'), 'layers': layers,
                       'input_layers': _refs_1(config.get('input_layers', [])),
                       'output_layers': _refs_1(config.get('output_layers', []))}}


# ---------------------------------------------------------------------------
# Keras 2 and 3 training configs -> Keras 1 compile arguments
# ---------------------------------------------------------------------------
_LOSSES_1 = {'categoricalcrossentropy': 'categorical_crossentropy',
             'sparsecategoricalcrossentropy': 'sparse_categorical_crossentropy',
             'binarycrossentropy': 'binary_crossentropy',
             'meansquarederror': 'mean_squared_error', 'mse': 'mean_squared_error',
             'meanabsoluteerror': 'mean_absolute_error', 'mae': 'mean_absolute_error',
             'meanabsolutepercentageerror': 'mean_absolute_percentage_error',
             'meansquaredlogarithmicerror': 'mean_squared_logarithmic_error',
             'hinge': 'hinge', 'squaredhinge': 'squared_hinge',
             'kldivergence': 'kullback_leibler_divergence',
             'kullbackleiblerdivergence': 'kullback_leibler_divergence',
             'poisson': 'poisson', 'logcosh': 'logcosh',
             'categoricalhinge': 'categorical_hinge'}

_OPTIMIZER_ARGS_1 = {'learning_rate': 'lr', 'lr': 'lr', 'momentum': 'momentum',
                     'nesterov': 'nesterov', 'rho': 'rho', 'epsilon': 'epsilon',
                     'beta_1': 'beta_1', 'beta_2': 'beta_2', 'decay': 'decay',
                     'clipnorm': 'clipnorm', 'clipvalue': 'clipvalue'}


def _loss_1(spec):
    if spec is None:
        return None
    if isinstance(spec, list):
        return [_loss_1(s) for s in spec]
    if isinstance(spec, dict) and 'class_name' not in spec:
        return {k: _loss_1(v) for k, v in spec.items()}
    if isinstance(spec, dict):
        if (spec.get('config') or {}).get('from_logits'):
            raise ValueError('losses with from_logits=True have no Keras 1 equivalent')
        spec = spec['class_name']
    key = str(spec).replace('_', '').lower()
    if key in _LOSSES_1:
        return _LOSSES_1[key]
    return str(spec)


def _metrics_1(spec):
    found = []

    def walk(value):
        if isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            config = value.get('config') or {}
            name = config.get('name') or config.get('fn') or value.get('class_name')
            walk(name)
        elif value is not None:
            name = str(value)
            found.append('accuracy' if name in ('acc', 'accuracy', 'categorical_accuracy',
                                                'binary_accuracy',
                                                'sparse_categorical_accuracy') else name)
    walk(spec)
    return [m for i, m in enumerate(found) if m not in found[:i]]


def _optimizer_1(spec):
    class_name = str(spec['class_name']).split('>')[-1]
    config = spec.get('config') or {}
    converted = {}
    for key, value in config.items():
        if key in _OPTIMIZER_ARGS_1 and value is not None:
            converted[_OPTIMIZER_ARGS_1[key]] = value
        elif key in ('weight_decay', 'global_clipnorm', 'ema_overwrite_frequency',
                     'loss_scale_factor', 'gradient_accumulation_steps') and value:
            raise ValueError('optimizer option %s=%r has no Keras 1 equivalent' % (key, value))
        elif key in ('use_ema', 'amsgrad', 'centered') and value:
            raise ValueError('optimizer option %s=%r has no Keras 1 equivalent' % (key, value))
    if isinstance(converted.get('lr'), dict):
        raise ValueError('learning-rate schedules have no Keras 1 equivalent')
    if class_name.lower() == 'rmsprop' and float(config.get('momentum', 0.) or 0.):
        raise ValueError('RMSprop momentum has no Keras 1 equivalent')
    if class_name.lower() != 'sgd':
        converted.pop('momentum', None)
        converted.pop('nesterov', None)
    return {'class_name': class_name, 'config': converted}


def translate_training_config(training_config):
    """A Keras 2 or 3 training config (a file's `training_config`) as Keras
    1's: optimizer config, loss and metrics by Keras 1 names.

    # Arguments
        training_config: the parsed dict.

    # Raises
        ValueError, KeyError: an optimizer, loss or option with no Keras 1
            equivalent, or a missing optimizer config.
    """
    return {'optimizer_config': _optimizer_1(training_config['optimizer_config']),
            'loss': _loss_1(training_config.get('loss')),
            'metrics': _metrics_1(training_config.get('metrics')),
            'sample_weight_mode': None,
            'loss_weights': training_config.get('loss_weights')}
