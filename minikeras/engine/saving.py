"""Saving and loading weights and whole models in Keras 1.2.2's HDF5 format.

- `save_weights`: root attributes `layer_names`, `backend`, `keras_version`;
  one group per layer (every layer of `model.layers`, InputLayers included,
  weightless layers as empty groups) with an attribute `weight_names` and
  one float32 dataset per weight, named as in Keras 1 (`dense_1_W`).
- `save_model`: root attributes `keras_version` ('1.2.2'), `backend`,
  `model_config` (JSON `{'class_name': 'Sequential'|'Model', 'config': ...}`)
  and `training_config` (JSON: optimizer_config, loss, metrics,
  sample_weight_mode, loss_weights); group `model_weights` (as
  `save_weights`); group `optimizer_weights` (the optimizer's state in Keras
  1's order, with names, plus an `iterations` attribute) so that a reloaded
  model resumes training exactly where it stopped.

Loading also reads Keras 0.x weight files, real Keras 1.x files (Theano or
TensorFlow, 'th' or 'tf' kernels) and the legacy `.h5` files of Keras 2 and
3, translated by `keras_formats`; `export_to_keras3` (`keras3_export`) writes
for Keras 3. Saves are crash-safe (`utils.io_utils.write_hdf5`), and a load
reads and checks everything before it changes a single weight.
"""
import json
import warnings

import numpy as np

from ..utils.io_utils import (check_layer_names, json_attr, json_default, read_hdf5, read_names,
                              read_text_attr, write_hdf5, write_model_header, write_names,
                              write_weights_group)
from .keras3_export import export_to_keras3  # noqa: F401
from .keras_formats import (describe_source, file_generation, translate_model_config,
                            translate_training_config, weight_converter)

KERAS_VERSION = '1.2.2'
# The `keras_version` of a weights group. Keras 2 converts Keras 1 kernel
# layouts (channels-first kernels to (rows, cols, in, out)) only when that
# attribute is absent or exactly '1' (the string '1.2.2' would make it take
# them for Keras 2 layouts and fail on a shape mismatch); Keras 3 ignores it.
# A full-model file still carries '1.2.2' at its root, as Keras 1.2.2 wrote it.
WEIGHTS_KERAS_VERSION = '1'


# ---------------------------------------------------------------------------
# Weights: writing
# ---------------------------------------------------------------------------

def _unique_names(names):
    seen, unique = {}, []
    for name in names:
        base, count = name, seen.get(name, 0)
        while name in seen:
            count += 1
            name = '%s_%d' % (base, count)
        seen[base] = count
        seen[name] = 0
        unique.append(name)
    return unique


def _layer_weight_names(layer):
    names = list(getattr(layer, 'weight_names', []) or [])
    if len(names) != len(layer.weights):
        names = ['param_%d' % i for i in range(len(layer.weights))]
    return _unique_names([n or 'param_%d' % i for i, n in enumerate(names)])


def _write_weights_group(group, model):
    """Keras 1.2.2's `save_weights_to_hdf5_group`, plus `backend` and `keras_version`."""
    layers = [(layer.name, [(name, np.asarray(value)) for name, value in
                            zip(_layer_weight_names(layer), layer.weights)])
              for layer in _saved_layers(model)]
    write_weights_group(group, layers, WEIGHTS_KERAS_VERSION)


def _saved_layers(model):
    """The layers a weights file lists: `model.layers`, or, for a Sequential
    model that starts with a Merge of models, Keras 1.2.2's
    `flattened_layers` (the branches' layers first, so that they are saved)."""
    return list(getattr(model, 'flattened_layers', None) or model.layers)


def save_weights(model, filepath, overwrite=True):
    """Saves every layer's weights to an HDF5 file in Keras 1.2.2's layout.

    # Arguments
        model: a minikeras model (`Sequential` or `Model`).
        filepath: path of the file to write.
        overwrite: when False and the file exists, ask on a terminal, and
            raise FileExistsError when standard input is not a terminal.
    """
    check_layer_names(model)
    write_hdf5(filepath, lambda f: _write_weights_group(f, model), overwrite)


# ---------------------------------------------------------------------------
# Weights: reading
# ---------------------------------------------------------------------------

def _weights_group(f, path):
    """The group holding the layer weights: the root or `model_weights`."""
    if 'layer_names' in f.attrs or 'layer_names0' in f.attrs or 'nb_layers' in f.attrs:
        return f
    if 'model_weights' in f:
        return f['model_weights']
    keys = ', '.join(sorted(f.keys())[:8]) or 'nothing'
    raise ValueError('%s is an HDF5 file but not a Keras weights or model file: it has no '
                     '"layer_names" attribute and no "model_weights" group (it holds %s). '
                     'Keras 3 ".weights.h5" files and SavedModels are not read; save with '
                     'model.save("x.h5") in Keras instead.' % (path, keys))


def _read_group_weights(group, path):
    """[(layer name, [(weight name, array)])] in the file's layer order."""
    saved = []
    if 'nb_layers' in group.attrs:
        for k in range(int(group.attrs['nb_layers'])):
            layer_group = group['layer_%d' % k]
            count = int(layer_group.attrs['nb_params'])
            saved.append(('layer_%d' % k, [('param_%d' % p, np.asarray(layer_group['param_%d' % p]))
                                           for p in range(count)]))
        return saved
    for name in read_names(group, 'layer_names'):
        if name not in group:
            raise ValueError('%s: the file lists layer %r in "layer_names" but has no group for '
                             'it (truncated or foreign file)' % (path, name))
        layer_group = group[name]
        arrays = []
        for weight_name in read_names(layer_group, 'weight_names'):
            if weight_name not in layer_group:
                raise ValueError('%s: layer %r lists weight %r but the file has no such dataset'
                                 % (path, name, weight_name))
            arrays.append((weight_name, np.asarray(layer_group[weight_name][()])))
        saved.append((name, arrays))
    return saved


def _layers_with_weights(model):
    """The model's layers that own weights, each once, in `model.layers` order."""
    return [layer for layer in _saved_layers(model) if layer.weights]


def _pair_by_order(model, saved, source):
    """Keras 1's topological loading: the n-th layer with weights in the file
    goes to the n-th layer with weights in the model."""
    if source.keras_major == 0:
        layers = _saved_layers(model)
        if len(saved) != len(layers):
            raise ValueError('%s is a Keras 0.x weight file with %d layers; the model has %d '
                             'layers (%s)' % (source.path, len(saved), len(layers),
                                              ', '.join(l.name for l in layers)))
        return [(layer, name, arrays) for layer, (name, arrays) in zip(layers, saved)
                if arrays or layer.weights]
    saved = [(name, arrays) for name, arrays in saved if arrays]
    layers = _layers_with_weights(model)
    if len(saved) != len(layers):
        raise ValueError('You are trying to load a weight file containing %d layers with weights '
                         '(%s) into a model with %d layers with weights (%s). File: %s'
                         % (len(saved), ', '.join(n for n, _ in saved) or 'none', len(layers),
                            ', '.join(l.name for l in layers) or 'none', source.path))
    return [(layer, name, arrays) for layer, (name, arrays) in zip(layers, saved)]


def _pair_by_name(model, saved, source):
    if source.keras_major == 0:
        raise ValueError('%s is in the Keras 0.x weight format, which has no layer names: load it '
                         'with by_name=False' % source.path)
    index = {}
    for layer in _saved_layers(model):
        index.setdefault(layer.name, []).append(layer)
    return [(layer, name, arrays) for name, arrays in saved for layer in index.get(name, [])]


def _pair_for_rebuilt_model(model, saved, source):
    """A model rebuilt from the file's own config has the file's layer names:
    pair by name (robust to another generation's layer order), else by order."""
    if source.keras_major >= 1:
        by_name = dict(saved)
        layers = _layers_with_weights(model)
        if all(layer.name in by_name for layer in layers) and \
                len([a for _, a in saved if a]) == len(layers):
            return [(layer, layer.name, by_name[layer.name]) for layer in layers]
    return _pair_by_order(model, saved, source)


def _plan_assignments(model, pairs, source):
    """Converts and checks every array; returns [(layer, arrays)] ready to set.
    Raises before anything is assigned."""
    convert = weight_converter(model, source)
    plan = []
    for index, (layer, saved_name, named_arrays) in enumerate(pairs):
        own = layer.weights
        arrays = [a for _, a in named_arrays]

        def count_error():
            return ValueError('Layer #%d (named %r in the model, %s) was found to correspond to '
                              'layer %r in %s, which has %d weight(s) (%s); the model layer '
                              'expects %d (%s)'
                              % (index, layer.name, type(layer).__name__, saved_name,
                                 source.path, len(arrays), ', '.join(
                                     '%s %s' % (n, a.shape) for n, a in named_arrays) or 'none',
                                 len(own), ', '.join('%s %s' % (n, w.shape) for n, w in
                                                     zip(layer.weight_names, own)) or 'none'))
        # An adapter may change the number of arrays (a Keras 1 'cpu' LSTM's 12
        # arrays are a Keras 2 LSTM's 3), so the count is checked after it.
        try:
            converted = convert(layer, saved_name, list(arrays))
        except (ValueError, IndexError) as error:
            if len(arrays) != len(own):
                raise count_error()
            raise ValueError('%s: cannot convert the weights of layer %r for model layer %r (%s): '
                             '%s' % (source.path, saved_name, layer.name, type(layer).__name__,
                                     error))
        if len(converted) != len(own):
            raise count_error()
        arrays = converted
        for weight_name, current, new in zip(layer.weight_names, own, arrays):
            if tuple(new.shape) != tuple(current.shape):
                raise ValueError('Layer %r (%s) of the model: weight %s has shape %s, but layer %r '
                                 'in %s holds an array of shape %s'
                                 % (layer.name, type(layer).__name__, weight_name, current.shape,
                                    saved_name, source.path, new.shape))
        plan.append((layer, arrays))
    return plan


def _assign(plan):
    for layer, arrays in plan:
        layer.set_weights(arrays)


def load_weights(model, filepath, by_name=False, original_backend=None):
    """Loads weights saved by `save_weights` or `save_model`, by minikeras,
    Keras 1.x (0.x), or Keras 2/3 (legacy `.h5`), into `model`.

    Everything is read and checked (layer count, each shape) before any
    weight changes: a failed load leaves the model as it was.

    # Arguments
        model: a built minikeras model.
        filepath: an HDF5 weights file or full-model file.
        by_name: False matches the file's layers with weights to the model's
            layers with weights in order (Keras 1's topological loading);
            True loads a file layer into the model's layer of the same name
            and skips the others.
        original_backend: the backend the weights were trained with, for
            files that do not record it (Keras 1 never did): 'theano' flips
            convolution kernels (Theano computed true convolutions),
            anything else keeps them. By default the file's `backend`
            attribute, or no flip.

    # Raises
        FileNotFoundError, OSError: missing or unreadable file.
        ValueError: a foreign file, or a layer count or shape mismatch; the
            message names the file, the layer and the shapes.
    """
    with read_hdf5(filepath) as f:
        group = _weights_group(f, filepath)
        source = describe_source(f, group, filepath, original_backend)
        saved = _read_group_weights(group, filepath)
    if by_name:
        pairs = _pair_by_name(model, saved, source)
    else:
        pairs = _pair_by_order(model, saved, source)
    _assign(_plan_assignments(model, pairs, source))


# ---------------------------------------------------------------------------
# Model configs: JSON, YAML, and building a model from a config
# ---------------------------------------------------------------------------

def _model_config(model):
    return {'class_name': model.config_class_name, 'config': model.get_config()}


def model_to_json(model, **kwargs):
    """The model's architecture as a JSON string, as Keras 1.2.2's `to_json`
    (`{'class_name', 'config', 'keras_version'}`); `kwargs` go to `json.dumps`."""
    config = _model_config(model)
    config['keras_version'] = KERAS_VERSION
    return json.dumps(config, default=json_default, **kwargs)


def _yaml():
    try:
        import yaml
    except ImportError:
        raise ImportError('YAML (de)serialisation needs PyYAML, which is not installed: '
                          'pip install pyyaml (or use to_json / model_from_json)')
    return yaml


def model_to_yaml(model, **kwargs):
    """The model's architecture as a YAML string (needs PyYAML). Tuples are
    written as lists, so that `yaml.safe_load` reads the result."""
    yaml = _yaml()
    config = json.loads(model_to_json(model))
    return yaml.safe_dump(config, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """Builds a model (uncompiled, freshly initialised) from a JSON string
    written by `to_json`, by Keras 1, or by Keras 2/3 (translated)."""
    try:
        config = json.loads(json_string)
    except ValueError as error:
        raise ValueError('model_from_json: not valid JSON (%s)' % error)
    return model_from_config(config, custom_objects)


def model_from_yaml(yaml_string, custom_objects=None):
    """Builds a model from a YAML string written by `to_yaml` or Keras 1
    (needs PyYAML; read with `safe_load`)."""
    yaml = _yaml()
    try:
        config = yaml.safe_load(yaml_string)
    except yaml.YAMLError as error:
        raise ValueError('model_from_yaml: not valid YAML for a model config (%s)' % error)
    return model_from_config(config, custom_objects)


def model_from_config(config, custom_objects=None):
    """Builds a model from `{'class_name': 'Sequential'|'Model', 'config': ...}`.

    Keras 2 and 3 configs (class names such as Conv2D, Functional) are
    translated into Keras 1's first.

    # Arguments
        config: the dict.
        custom_objects: optional dict of extra layer classes by name.
    """
    return _build_model(config, custom_objects)


def _build_model(config, custom_objects=None, _path='<config>', _generation=None):
    if isinstance(config, list):
        raise TypeError('model_from_config expects a dictionary, not a list. Maybe you meant '
                        'Sequential.from_config(config)?')
    if not isinstance(config, dict) or 'class_name' not in config:
        raise ValueError('%s: a model config must be a dict with "class_name" and "config", '
                         'got %r' % (_path, type(config).__name__))
    try:
        config = translate_model_config(config, _path, _generation)
    except (KeyError, AttributeError, IndexError) as error:
        raise _malformed_config(_path, error)
    class_name = config['class_name']
    from ..utils.generic_utils import CustomObjectScope
    from ..utils.layer_utils import model_class
    if class_name not in ('Sequential', 'Model', 'Functional'):
        raise ValueError('%s: unknown model class %r; expected "Sequential" or "Model"'
                         % (_path, class_name))
    class_name = 'Model' if class_name == 'Functional' else class_name
    builder = getattr(model_class(class_name), 'from_config', None)
    if builder is None:
        raise ValueError('%s holds a model of class %s, but minikeras.models.%s has no '
                         'from_config in this version' % (_path, class_name, class_name))
    try:
        with CustomObjectScope(custom_objects or {}):
            return builder(config['config'], custom_objects=custom_objects)
    except (ValueError, TypeError) as error:
        if _path in str(error):
            raise
        raise type(error)('%s: cannot build the model from its config: %s' % (_path, error))
    except (KeyError, AttributeError, IndexError) as error:
        raise _malformed_config(_path, error)


def _malformed_config(path, error):
    """The error for a damaged or hand-edited config: an entry missing or of
    the wrong kind, met while reading it."""
    return ValueError('%s: cannot build the model from its config, an entry is missing or '
                      'malformed (%s: %s)' % (path, type(error).__name__, error))


# ---------------------------------------------------------------------------
# Whole models: save_model and load_model
# ---------------------------------------------------------------------------

def _training_config(model):
    optimizer = model.optimizer
    return {'optimizer_config': {'class_name': type(optimizer).__name__,
                                 'config': optimizer.get_config()},
            'loss': model.loss, 'metrics': model.metrics,
            'sample_weight_mode': model.sample_weight_mode,
            'loss_weights': model.loss_weights}


def _trained_layers(model):
    """[(layer, trainable)] in the order the optimizer sees the weights
    (the model's `_parameters`: leaf layers, nested models opened)."""
    if hasattr(model, '_training_leaves'):
        return model._training_leaves()
    return [(layer, layer.trainable) for layer in model.layers]


def _trainable_parameter_names(model):
    """Names of the weights the optimizer updates, in its order."""
    names = []
    for layer, trainable in _trained_layers(model):
        if not trainable:
            continue
        own = layer.weights
        layer_names = _layer_weight_names(layer)
        for w in layer.trainable_weights:
            index = next((i for i, o in enumerate(own) if o is w), None)
            names.append(layer_names[index] if index is not None else layer.name)
    return names


def _has_counter(optimizer):
    from .. import optimizers
    return bool(getattr(optimizer, '_counts_iterations_always', False) or
                isinstance(optimizer, optimizers.SGD))


def _optimizer_state(model):
    """[(name, array)] of the optimizer's state in Keras 1's order: the
    iteration counter (SGD, Adam, Adamax), then each slot for every weight."""
    optimizer = model.optimizer
    state = [np.asarray(a) for a in optimizer.get_weights()]
    names = ['iterations'] if _has_counter(optimizer) and state else []
    slot_names = list(getattr(optimizer, '_slot_names', ()))
    params = _trainable_parameter_names(model)
    if len(state) - len(names) == len(slot_names) * len(params):
        names += ['%s_%s' % (slot, param) for slot in slot_names for param in params]
    else:
        names += ['param_%d' % i for i in range(len(names), len(state))]
    return list(zip(_unique_names(names), state))


def _write_model(f, model, include_optimizer):
    write_model_header(f, KERAS_VERSION, _model_config(model))
    _write_weights_group(f.create_group('model_weights'), model)
    if not include_optimizer or getattr(model, 'optimizer', None) is None:
        return
    f.attrs['training_config'] = json_attr(_training_config(model))
    state = _optimizer_state(model)
    group = f.create_group('optimizer_weights')
    write_names(group, 'weight_names', [name for name, _ in state])
    group.attrs['iterations'] = float(getattr(model.optimizer, 'iterations', 0.))
    for name, value in state:
        group.create_dataset(name, data=value)


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Saves the architecture, weights, training configuration and optimizer
    state in one HDF5 file (Keras 1.2.2's layout); `load_model` restores a
    compiled model that trains on exactly as the saved one would have.

    # Arguments
        model: a minikeras model.
        filepath: path of the file to write.
        overwrite: when False and the file exists, ask on a terminal, and
            raise FileExistsError when standard input is not a terminal.
        include_optimizer: also save the training configuration and the
            optimizer state (when the model is compiled).
    """
    check_layer_names(model)
    write_hdf5(filepath, lambda f: _write_model(f, model, include_optimizer), overwrite)


def _compile_from_training_config(model, training_config, generation, path, custom_objects):
    from .. import optimizers
    from ..utils.generic_utils import CustomObjectScope
    with CustomObjectScope(custom_objects or {}):
        if generation > 1:
            training_config = translate_training_config(training_config)
        optimizer_config = training_config['optimizer_config']
        loss = _resolve_custom(training_config['loss'], custom_objects)
        if generation > 1:      # Keras 2/3 metrics keep their translated names
            metrics = training_config['metrics']
        else:
            metrics = _resolve_custom(training_config.get('metrics') or [], custom_objects)
        optimizer = optimizers.get(optimizer_config)
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics,
                      loss_weights=training_config.get('loss_weights'),
                      sample_weight_mode=training_config.get('sample_weight_mode'))


def _resolve_custom(value, custom_objects):
    """Keras 1's `deserialize`: names found in custom_objects become the objects."""
    custom_objects = custom_objects or {}
    if isinstance(value, list):
        return [custom_objects.get(v, v) if isinstance(v, str) else v for v in value]
    if isinstance(value, dict):
        return {k: custom_objects.get(v, v) if isinstance(v, str) else v
                for k, v in value.items()}
    if isinstance(value, str):
        return custom_objects.get(value, value)
    return value


def _check_optimizer_state(model, names, values, path):
    """Raises unless `values` fit the compiled model's optimizer."""
    optimizer = model.optimizer
    slot_names = list(getattr(optimizer, '_slot_names', ()))
    params = [w for layer, trainable in _trained_layers(model) if trainable
              for w in layer.trainable_weights]
    has_counter = _has_counter(optimizer)
    counter = values[:1] if has_counter and values else []
    slots = values[len(counter):]
    if has_counter and not values:
        raise ValueError('%s: the optimizer state of %s should start with its iteration counter, '
                         'and the file holds no array' % (path, type(optimizer).__name__))
    if not slots:
        return
    if len(slots) != len(slot_names) * len(params):
        raise ValueError('%s: the saved %s state has %d arrays (%s); the model needs %d slot '
                         'arrays for its %d trainable weights'
                         % (path, type(optimizer).__name__, len(values), ', '.join(names),
                            len(slot_names) * len(params), len(params)))
    for index, value in enumerate(slots):
        param = params[index % len(params)]
        if tuple(value.shape) != tuple(param.shape):
            raise ValueError('%s: optimizer array %s has shape %s; the weight it belongs to has '
                             'shape %s' % (path, names[len(counter) + index], value.shape,
                                           param.shape))


def load_model(filepath, custom_objects=None, original_backend=None, compile=True):
    """Loads a model saved by `save_model`, by Keras 1.x, or by Keras 2/3
    (legacy `.h5`, translated to Keras 1 layers).

    When the file has a training configuration the model comes back compiled,
    and for minikeras and Keras 1 files with the optimizer's state restored,
    so training resumes exactly where it stopped. The optimizer state of a
    Keras 2/3 file is not used (their optimizers differ from Keras 1's).

    # Arguments
        filepath: the HDF5 file.
        custom_objects: optional dict of custom layers, losses, metrics and
            optimizers by name.
        original_backend: see `load_weights` ('theano' for the kernels of a
            Keras 1 Theano file, which does not record its backend).
        compile: False skips the training configuration.

    # Raises
        FileNotFoundError, OSError: missing or unreadable file.
        ValueError: no model in the file, an unknown layer class (named with
            the file), or weights that do not fit.
    """
    with read_hdf5(filepath) as f:
        config_text = read_text_attr(f, 'model_config')
        if config_text is None:
            hint = ' (it holds weights only: build the model and call load_weights)' \
                if 'layer_names' in f.attrs else ''
            raise ValueError('No model found in %s: the file has no "model_config" attribute%s'
                             % (filepath, hint))
        try:
            model_config = json.loads(config_text)
        except ValueError as error:
            raise ValueError('%s: the model_config attribute is not valid JSON (%s)'
                             % (filepath, error))
        group = _weights_group(f, filepath)
        source = describe_source(f, group, filepath, original_backend)
        saved = _read_group_weights(group, filepath)
        generation = file_generation(f, model_config)
        training_text = read_text_attr(f, 'training_config') if compile else None
        optimizer_names, optimizer_values, optimizer_iterations = [], [], None
        if 'optimizer_weights' in f and generation <= 1:
            optimizer_group = f['optimizer_weights']
            optimizer_names = read_names(optimizer_group, 'weight_names')
            for name in optimizer_names:
                if name not in optimizer_group:
                    raise ValueError('%s: optimizer weight %r is listed but missing'
                                     % (filepath, name))
            optimizer_values = [np.asarray(optimizer_group[n][()]) for n in optimizer_names]
            if 'iterations' in optimizer_group.attrs:
                optimizer_iterations = float(optimizer_group.attrs['iterations'])
    model = _build_model(model_config, custom_objects, filepath, generation)
    _assign(_plan_assignments(model, _pair_for_rebuilt_model(model, saved, source), source))
    if training_text is None:
        if compile:
            warnings.warn('No training configuration found in %s: the model was *not* compiled. '
                          'Compile it manually.' % filepath)
        return model
    try:
        training_config = json.loads(training_text)
    except ValueError as error:
        raise ValueError('%s: the training_config attribute is not valid JSON (%s)'
                         % (filepath, error))
    try:
        _compile_from_training_config(model, training_config, generation, filepath,
                                      custom_objects)
    except (ValueError, KeyError, TypeError) as error:
        if generation <= 1:
            raise ValueError('%s: cannot compile the model from its training configuration: %s'
                             % (filepath, error))
        warnings.warn('%s: the Keras %d training configuration has no minikeras equivalent (%s); '
                      'the model was *not* compiled. Compile it manually.'
                      % (filepath, generation, error))
        return model
    if optimizer_values:
        _check_optimizer_state(model, optimizer_names, optimizer_values, filepath)
        model.optimizer.set_weights(optimizer_values)
        if optimizer_iterations is not None:
            model.optimizer.iterations = optimizer_iterations
    return model
