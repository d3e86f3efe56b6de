"""Saving and loading weights and whole models in the HDF5 files of Keras.

Files written here use Keras 1.2.2's layout, so that real Keras reads them:

- `save_weights`: root attributes `layer_names`, `backend`, `keras_version`;
  one group per layer (every layer of `model.layers`, InputLayers included,
  weightless layers as empty groups) with an attribute `weight_names` and
  one float32 dataset per weight, named as in Keras 1 (`dense_1_W`).
- `save_model`: root attributes `keras_version` ('1.2.2'), `model_config`
  (JSON `{'class_name': 'Sequential'|'Model', 'config': ...}`) and
  `training_config` (JSON: optimizer_config, loss, metrics,
  sample_weight_mode, loss_weights); group `model_weights` (as
  `save_weights`); group `optimizer_weights` (the optimizer's state in Keras
  1's order, with names, plus an `iterations` attribute) so that a reloaded
  model resumes training exactly where it stopped.

Two attribute values are chosen for the readers of later Keras versions:

- `backend` is 'tensorflow'. Keras 2's loader flips convolution kernels when
  a file's backend differs from its own and one of them is Theano (true
  convolution); minikeras computes cross-correlation, like TensorFlow, so
  'tensorflow' makes every Keras 2 backend load our kernels correctly.
- `keras_version` of a weights group is '1'. Keras 2 converts Keras 1 kernel
  layouts (channels-first kernels to (rows, cols, in, out)) only when that
  attribute is absent or exactly '1' (the string '1.2.2' would make it take
  them for Keras 2 layouts and fail on a shape mismatch); Keras 3 ignores it.
  A full-model file still carries `keras_version` '1.2.2' at its root, as
  Keras 1.2.2 wrote it.

Reading accepts files written by minikeras, by real Keras 1.x (Theano or
TensorFlow backend, 'th' or 'tf' kernels), Keras 0.x weight files, and the
legacy `.h5` files of Keras 2 and Keras 3: their model configs are
translated into the Keras 1 layer configs minikeras understands and their
kernels into minikeras's layouts. `export_to_keras3` writes the other way.

Every save writes a temporary file in the target's folder and renames it
over the target only when complete, so an interrupted save leaves the old
file intact; every load reads and checks everything before it changes a
single weight.
"""
import contextlib
import json
import os
import sys
import tempfile
import warnings

import numpy as np

KERAS_VERSION = '1.2.2'
WEIGHTS_KERAS_VERSION = '1'
BACKEND_NAME = 'tensorflow'
KERAS3_EXPORT_VERSION = '3.0.0'

_HDF5_ATTR_LIMIT = 64512


def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is a dependency
        raise ImportError('Saving and loading HDF5 files needs h5py: pip install h5py')
    return h5py


# ---------------------------------------------------------------------------
# Files: atomic writes, guarded reads, string attributes
# ---------------------------------------------------------------------------

def _ask_to_proceed_with_overwrite(filepath):
    """Keras 1's prompt; returns True to overwrite."""
    answer = input('[WARNING] %s already exists - overwrite? [y/n] ' % filepath)
    while answer.strip().lower() not in ('y', 'n'):
        answer = input('Enter "y" (overwrite) or "n" (cancel). ')
    if answer.strip().lower() == 'n':
        return False
    print('[TIP] Next time specify overwrite=True!')
    return True


def _may_write(filepath, overwrite):
    """Whether to write `filepath`. With `overwrite=False` and an existing
    file, Keras 1 asked on the terminal; we ask too when standard input is a
    terminal, and raise FileExistsError otherwise (a script must not hang)."""
    if overwrite or not os.path.exists(filepath):
        return True
    stdin = sys.stdin
    if stdin is not None and hasattr(stdin, 'isatty') and stdin.isatty():
        return _ask_to_proceed_with_overwrite(filepath)
    raise FileExistsError('%s already exists and overwrite=False: pass overwrite=True to replace '
                          'it, or choose another file name' % filepath)


def _write_atomically(filepath, write):
    """Runs `write(h5file)` on a temporary HDF5 file in the target's folder,
    then renames it over `filepath`. On any error the temporary file is
    removed and the old `filepath` is untouched."""
    h5py = _h5py()
    filepath = os.fspath(filepath)
    folder = os.path.dirname(os.path.abspath(filepath))
    if not os.path.isdir(folder):
        raise FileNotFoundError('Cannot save %s: the folder %s does not exist' % (filepath, folder))
    if os.path.isdir(filepath):
        raise IsADirectoryError('Cannot save to %s: it is a folder' % filepath)
    handle, temp_path = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(filepath) + '.',
                                         suffix='.tmp')
    os.close(handle)
    try:
        with h5py.File(temp_path, 'w') as f:
            write(f)
            f.flush()
        with open(temp_path, 'rb') as f:
            os.fsync(f.fileno())
        os.chmod(temp_path, _file_mode(filepath))
        os.replace(temp_path, filepath)
    except BaseException:
        try:
            os.remove(temp_path)
        except OSError:
            pass
        raise


def _file_mode(filepath):
    """The mode the saved file gets: the old file's, or the umask's default."""
    try:
        return os.stat(filepath).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _open_for_reading(filepath):
    """Opens an HDF5 file, turning h5py's errors into ones that name the file."""
    h5py = _h5py()
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError('No such file: %s' % filepath)
    if os.path.isdir(filepath):
        raise IsADirectoryError('%s is a folder, not an HDF5 file' % filepath)
    try:
        return h5py.File(filepath, 'r')
    except OSError as error:
        size = os.path.getsize(filepath)
        raise OSError('Cannot read %s (%d bytes) as an HDF5 file: it is truncated, corrupt or '
                      'not HDF5 (%s)' % (filepath, size, error))


@contextlib.contextmanager
def _read_errors_name(filepath):
    """HDF5 read errors inside an open file (a damaged dataset, a missing
    group) re-raised with the file's name."""
    try:
        yield
    except KeyError as error:
        raise ValueError('%s: missing object in the HDF5 file (%s); the file is truncated, '
                         'damaged or not written by Keras' % (filepath, error))
    except OSError as error:
        if os.fspath(filepath) in str(error):
            raise
        raise OSError('%s: cannot read the HDF5 data (%s); the file is truncated or damaged'
                      % (filepath, error))


def _text(value):
    if isinstance(value, bytes):
        return value.decode('utf8')
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value.item())
    return str(value)


def _read_names(node, name):
    """A list-of-strings attribute, also in Keras 2's chunked form (name0, name1, ...)."""
    if name in node.attrs:
        return [_text(n) for n in np.atleast_1d(node.attrs[name])]
    names, chunk = [], 0
    while '%s%d' % (name, chunk) in node.attrs:
        names.extend(_text(n) for n in np.atleast_1d(node.attrs['%s%d' % (name, chunk)]))
        chunk += 1
    return names


def _write_names(node, name, names):
    """Writes a list of strings as Keras does (UTF-8 bytes), chunked when
    the attribute would exceed HDF5's header limit."""
    data = np.array([n.encode('utf8') for n in names]) if names else np.zeros((0,), 'S1')
    chunks = 1
    while data.nbytes / chunks > _HDF5_ATTR_LIMIT and chunks < len(names):
        chunks += 1
    if chunks == 1:
        node.attrs[name] = data
    else:
        for index, part in enumerate(np.array_split(data, chunks)):
            node.attrs['%s%d' % (name, index)] = part


def _fixed_text(text):
    """A string attribute as Keras 1 wrote it with h5py 2: fixed-length UTF-8
    bytes, which every Keras reads back with `.decode('utf8')`."""
    return np.bytes_(text.encode('utf8'))


def _read_attr_text(node, name, default=None):
    if name not in node.attrs:
        return default
    return _text(node.attrs[name])


def _json_default(obj):
    """Keras 1's `get_json_type`: configs, NumPy scalars, functions, classes."""
    if hasattr(obj, 'get_config'):
        return {'class_name': type(obj).__name__, 'config': obj.get_config()}
    if type(obj).__module__ == np.__name__:
        return obj.item() if np.ndim(obj) == 0 else obj.tolist()
    if callable(obj) and hasattr(obj, '__name__'):
        return obj.__name__
    raise TypeError('Not JSON serializable: %r' % (obj,))


def _to_json(obj):
    return json.dumps(obj, default=_json_default)


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
    layers = list(model.layers)
    _write_names(group, 'layer_names', [layer.name for layer in layers])
    group.attrs['backend'] = _fixed_text(BACKEND_NAME)
    group.attrs['keras_version'] = _fixed_text(WEIGHTS_KERAS_VERSION)
    for layer in layers:
        layer_group = group.create_group(layer.name)
        names = _layer_weight_names(layer)
        _write_names(layer_group, 'weight_names', names)
        for name, value in zip(names, layer.weights):
            layer_group.create_dataset(name, data=np.asarray(value))


def save_weights(model, filepath, overwrite=True):
    """Saves every layer's weights to an HDF5 file in Keras 1.2.2's layout.

    # Arguments
        model: a minikeras model (`Sequential` or `Model`).
        filepath: path of the file to write.
        overwrite: when False and the file exists, ask on a terminal, and
            raise FileExistsError when standard input is not a terminal.
    """
    _check_layer_names(model)
    if not _may_write(filepath, overwrite):
        return
    _write_atomically(filepath, lambda f: _write_weights_group(f, model))


def _check_layer_names(model):
    seen = set()
    for layer in model.layers:
        if layer.name in seen:
            raise ValueError('Model %s has two layers named %r; layer names must be unique to be '
                             'saved' % (model.name, layer.name))
        seen.add(layer.name)


# ---------------------------------------------------------------------------
# Weights: reading
# ---------------------------------------------------------------------------

class _Source(object):
    """What a file tells about how its weights were stored.

    # Attributes
        path: the file's path, for error messages.
        keras_major: 0, 1, 2 or 3: the layout generation of the weights.
        backend: the backend that computed them ('theano' kernels are true
            convolutions and must be flipped), or None if unknown.
        layers: name -> info dict from the file's model config ({} if none):
            'class_name', 'ordering' ('th'/'tf' for image layers),
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


def _describe_source(f, group, path, original_backend=None):
    version = _read_attr_text(group, 'keras_version')
    if version is None and group is not f:
        root_version = _read_attr_text(f, 'keras_version')
        # Keras 1 wrote its version only at the root of a model file.
        if root_version and _version_major(root_version, 1) <= 1:
            version = root_version
    major = 0 if 'nb_layers' in group.attrs else _version_major(version, 1)
    backend = original_backend or _read_attr_text(group, 'backend')
    layers = {}
    config_text = _read_attr_text(f, 'model_config')
    if config_text:
        try:
            config = json.loads(config_text)
            layers = _source_layer_info(config, major)
        except (ValueError, KeyError, TypeError, AttributeError):
            layers = {}
    return _Source(path, major, backend, layers)


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
    for name in _read_names(group, 'layer_names'):
        if name not in group:
            raise ValueError('%s: the file lists layer %r in "layer_names" but has no group for '
                             'it (truncated or foreign file)' % (path, name))
        layer_group = group[name]
        arrays = []
        for weight_name in _read_names(layer_group, 'weight_names'):
            if weight_name not in layer_group:
                raise ValueError('%s: layer %r lists weight %r but the file has no such dataset'
                                 % (path, name, weight_name))
            arrays.append((weight_name, np.asarray(layer_group[weight_name][()])))
        saved.append((name, arrays))
    return saved


def _layers_with_weights(model):
    """The model's layers that own weights, each once, in `model.layers` order."""
    return [layer for layer in model.layers if layer.weights]


def _pair_by_order(model, saved, source):
    """Keras 1's topological loading: the n-th layer with weights in the file
    goes to the n-th layer with weights in the model."""
    if source.keras_major == 0:
        layers = list(model.layers)
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
    for layer in model.layers:
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
    targets = _target_layer_info(model)
    plan = []
    for index, (layer, saved_name, named_arrays) in enumerate(pairs):
        own = layer.weights
        arrays = [a for _, a in named_arrays]
        if len(arrays) != len(own):
            raise ValueError('Layer #%d (named %r in the model, %s) was found to correspond to '
                             'layer %r in %s, which has %d weight(s) (%s); the model layer '
                             'expects %d (%s)'
                             % (index, layer.name, type(layer).__name__, saved_name, source.path,
                                len(arrays), ', '.join('%s %s' % (n, a.shape)
                                                       for n, a in named_arrays) or 'none',
                                len(own), ', '.join('%s %s' % (n, w.shape) for n, w in
                                                    zip(layer.weight_names, own)) or 'none'))
        info = source.layers.get(saved_name, {})
        try:
            arrays = _convert_weights(layer, arrays, source, info, targets.get(id(layer), {}))
        except ValueError as error:
            raise ValueError('%s: cannot convert the weights of layer %r for model layer %r (%s): '
                             '%s' % (source.path, saved_name, layer.name, type(layer).__name__,
                                     error))
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
    with _open_for_reading(filepath) as f, _read_errors_name(filepath):
        group = _weights_group(f, filepath)
        source = _describe_source(f, group, filepath, original_backend)
        saved = _read_group_weights(group, filepath)
    if by_name:
        pairs = _pair_by_name(model, saved, source)
    else:
        pairs = _pair_by_order(model, saved, source)
    _assign(_plan_assignments(model, pairs, source))


# ---------------------------------------------------------------------------
# Weight layouts: what a file's layers and the model's layers expect
# ---------------------------------------------------------------------------

# Keras 2/3 classes whose input and output are images in their `data_format`.
_IMAGE_CLASSES_2 = ('Conv2D', 'Convolution2D', 'MaxPooling2D', 'MaxPool2D', 'AveragePooling2D',
                    'AvgPool2D', 'ZeroPadding2D', 'UpSampling2D', 'Cropping2D')
# Keras 1 (and minikeras) classes with a `dim_ordering` over images.
_IMAGE_CLASSES_1 = ('Convolution2D', 'MaxPooling2D', 'AveragePooling2D', 'ZeroPadding2D',
                    'UpSampling2D', 'Cropping2D')
# Element-wise layers between a Flatten and its Dense: they keep the order.
_ORDER_KEEPING = ('Dropout', 'Activation', 'GaussianNoise', 'GaussianDropout',
                  'ActivityRegularization', 'LeakyReLU', 'ELU', 'ThresholdedReLU', 'ReLU',
                  'SpatialDropout2D', 'AlphaDropout')


def _ordering_of(data_format):
    return 'th' if data_format == 'channels_first' else 'tf'


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


def _source_layer_info(model_config, major):
    """name -> {'class_name', 'ordering', 'flatten_order'} for a file's model
    config, walking its layers in order (the chain a Flatten feeds)."""
    _, entries = _model_layer_entries(model_config)
    info, ordering, flatten_order = {}, None, None
    for entry in entries:
        class_name = entry.get('class_name')
        config = entry.get('config') or {}
        name = _layer_name(entry)
        record = {'class_name': class_name}
        if major >= 2 and class_name in _IMAGE_CLASSES_2:
            ordering = _ordering_of(config.get('data_format'))
            record['ordering'] = ordering
            flatten_order = None
        elif major < 2 and class_name in _IMAGE_CLASSES_1:
            ordering = config.get('dim_ordering') if config.get('dim_ordering') in ('th', 'tf') \
                else None
            record['ordering'] = ordering
            flatten_order = None
        elif class_name == 'Flatten':
            flatten_order = None
            if ordering == 'th':
                if major >= 2 and config.get('data_format') == 'channels_first':
                    flatten_order = 'hwc'
                else:
                    flatten_order = 'chw'
            elif ordering == 'tf' and not (major >= 2 and
                                           config.get('data_format') == 'channels_first'):
                flatten_order = 'hwc'
        elif class_name == 'Dense':
            record['flatten_order'] = flatten_order
            flatten_order, ordering = None, None
        elif class_name not in _ORDER_KEEPING and class_name != 'InputLayer':
            flatten_order = None
        if name:
            info[name] = record
    return info


def _target_layer_info(model):
    """id(layer) -> {'flatten_order', 'image'} for the model's Dense layers
    fed by a Flatten of images ('image' is (channels, rows, cols))."""
    info, ordering, flat = {}, None, None
    for layer in model.layers:
        class_name = type(layer).__name__
        if class_name in _IMAGE_CLASSES_1 and getattr(layer, 'dim_ordering', None) in ('th', 'tf'):
            ordering, flat = layer.dim_ordering, None
        elif class_name == 'Flatten':
            shape = getattr(layer, 'input_shape', None)
            flat = None
            if ordering and isinstance(shape, tuple) and len(shape) == 4 and None not in shape[1:]:
                if ordering == 'th':
                    flat = ('chw', (shape[1], shape[2], shape[3]))
                else:
                    flat = ('hwc', (shape[3], shape[1], shape[2]))
        elif class_name == 'Dense':
            if flat is not None:
                info[id(layer)] = {'flatten_order': flat[0], 'image': flat[1]}
            flat, ordering = None, None
        elif class_name not in _ORDER_KEEPING:
            flat = None
    return info


def _flip_spatial(kernel, layout):
    """Theano's true-convolution kernels <-> cross-correlation kernels."""
    if layout == 'th':
        return kernel[:, :, ::-1, ::-1]
    return kernel[::-1, ::-1, :, :]


def _convert_conv2d_kernel(kernel, layer, source, info):
    target_layout = layer.dim_ordering
    expected = tuple(layer.weights[0].shape)
    if kernel.ndim != 4:
        return kernel
    if source.keras_major >= 2:
        source_layout = 'tf'
    else:
        source_layout = info.get('ordering')
        if source_layout is None:
            if kernel.shape == expected:
                source_layout = target_layout
            else:
                other = 'tf' if target_layout == 'th' else 'th'
                source_layout = other if _relayout(kernel, other, target_layout).shape == \
                    expected else target_layout
    if source.backend == 'theano':
        kernel = _flip_spatial(kernel, source_layout)
    return np.ascontiguousarray(_relayout(kernel, source_layout, target_layout))


def _relayout(kernel, source_layout, target_layout):
    if source_layout == target_layout:
        return kernel
    if source_layout == 'th':      # (out, in, rows, cols) -> (rows, cols, in, out)
        return kernel.transpose(2, 3, 1, 0)
    return kernel.transpose(3, 2, 0, 1)


def _convert_conv1d_kernel(kernel, layer, source):
    expected = tuple(layer.weights[0].shape)      # (length, 1, input_dim, nb_filter)
    if kernel.ndim == 3:                           # Keras 2/3: (length, input_dim, nb_filter)
        kernel = kernel[:, None, :, :]
    elif kernel.ndim == 4 and kernel.shape != expected and \
            kernel.transpose(2, 3, 1, 0).shape == expected:
        kernel = kernel.transpose(2, 3, 1, 0)      # Keras 1.0's (nb_filter, input_dim, length, 1)
    if source.backend == 'theano' and kernel.ndim == 4:
        kernel = kernel[::-1]
    return np.ascontiguousarray(kernel)


def _reorder_flattened_rows(kernel, image, source_order, target_order):
    """Rows of a Dense kernel fed by a Flatten, from one flattening order of
    an image (channels, rows, cols) to the other."""
    channels, rows, cols = image
    units = kernel.shape[1]
    if source_order == 'hwc' and target_order == 'chw':
        return np.ascontiguousarray(kernel.reshape(rows, cols, channels, units)
                                    .transpose(2, 0, 1, 3).reshape(-1, units))
    if source_order == 'chw' and target_order == 'hwc':
        return np.ascontiguousarray(kernel.reshape(channels, rows, cols, units)
                                    .transpose(1, 2, 0, 3).reshape(-1, units))
    return kernel


def _convert_weights(layer, arrays, source, info, target):
    """The file's arrays for one layer, in the layout `layer` expects."""
    arrays = [np.asarray(a) for a in arrays]
    class_name = type(layer).__name__
    if not arrays:
        return arrays
    if class_name == 'Convolution2D' or (hasattr(layer, 'nb_row') and
                                         getattr(layer, 'dim_ordering', None) in ('th', 'tf')):
        arrays[0] = _convert_conv2d_kernel(arrays[0], layer, source, info)
    elif class_name in ('Convolution1D', 'Conv1D'):
        arrays[0] = _convert_conv1d_kernel(arrays[0], layer, source)
    elif class_name == 'Dense' and arrays[0].ndim == 2:
        source_order, target_order = info.get('flatten_order'), target.get('flatten_order')
        image = target.get('image')
        if source_order and target_order and source_order != target_order and image and \
                arrays[0].shape[0] == int(np.prod(image)):
            arrays[0] = _reorder_flattened_rows(arrays[0], image, source_order, target_order)
    elif class_name in ('PReLU', 'ParametricSoftplus'):
        for i, (array, own) in enumerate(zip(arrays, layer.weights)):
            if array.ndim == 3 and array.shape != own.shape:
                for order in ((2, 0, 1), (1, 2, 0)):
                    if array.transpose(order).shape == own.shape:
                        arrays[i] = np.ascontiguousarray(array.transpose(order))
                        break
    return arrays


# ---------------------------------------------------------------------------
# Keras 2 and 3 model configs -> Keras 1 layer configs
# ---------------------------------------------------------------------------

_INITIALIZERS_1 = {
    'glorotuniform': 'glorot_uniform', 'glorot_uniform': 'glorot_uniform',
    'glorotnormal': 'glorot_normal', 'glorot_normal': 'glorot_normal',
    'henormal': 'he_normal', 'he_normal': 'he_normal',
    'heuniform': 'he_uniform', 'he_uniform': 'he_uniform',
    'lecununiform': 'lecun_uniform', 'lecun_uniform': 'lecun_uniform',
    'zeros': 'zero', 'zero': 'zero', 'ones': 'one', 'one': 'one',
    'orthogonal': 'orthogonal', 'identity': 'identity',
    'randomnormal': 'normal', 'random_normal': 'normal', 'normal': 'normal',
    'truncatednormal': 'normal', 'truncated_normal': 'normal',
    'randomuniform': 'uniform', 'random_uniform': 'uniform', 'uniform': 'uniform',
}


def _initializer_1(spec, default='glorot_uniform'):
    """A Keras 2/3 initializer (name or config) as a Keras 1 init name. Only
    re-initialisation uses it (loading sets the weights); unknown ones map
    to the default."""
    if spec is None:
        return default
    if isinstance(spec, str):
        return _INITIALIZERS_1.get(spec.lower(), default)
    if isinstance(spec, dict):
        class_name = str(spec.get('class_name', ''))
        config = spec.get('config') or {}
        if class_name == 'VarianceScaling':
            mode, dist = config.get('mode'), str(config.get('distribution', ''))
            scale = float(config.get('scale', 1.))
            if mode == 'fan_avg':
                return 'glorot_uniform' if dist == 'uniform' else 'glorot_normal'
            if mode == 'fan_in' and scale == 2.:
                return 'he_uniform' if dist == 'uniform' else 'he_normal'
            if mode == 'fan_in' and dist == 'uniform':
                return 'lecun_uniform'
            return default
        return _INITIALIZERS_1.get(class_name.lower(), default)
    return default


def _regularizer_1(spec):
    if spec is None:
        return None
    if isinstance(spec, str):
        spec = {'class_name': spec, 'config': {}}
    class_name = str(spec.get('class_name', '')).lower()
    config = spec.get('config') or {}
    l1 = float(config.get('l1', 0.) or 0.)
    l2 = float(config.get('l2', 0.) or 0.)
    if class_name in ('l1', 'l2', 'l1l2', 'l1_l2'):
        if class_name == 'l1' and 'l1' not in config:
            l1 = 0.01
        if class_name == 'l2' and 'l2' not in config:
            l2 = 0.01
        return {'name': 'L1L2Regularizer', 'l1': l1, 'l2': l2}
    raise ValueError('regularizer %r has no Keras 1 equivalent' % (spec.get('class_name'),))


def _constraint_1(spec, axis_map=None):
    if spec is None:
        return None
    if isinstance(spec, str):
        spec = {'class_name': spec, 'config': {}}
    class_name = str(spec.get('class_name', ''))
    config = spec.get('config') or {}

    def axis(value):
        if axis_map is None:
            return value
        if isinstance(value, (list, tuple)):
            return sorted(axis_map[a % 4] for a in value)
        return axis_map[value % 4]
    if class_name in ('MaxNorm', 'max_norm', 'maxnorm'):
        return {'name': 'MaxNorm', 'm': config.get('max_value', 2),
                'axis': axis(config.get('axis', 0))}
    if class_name in ('NonNeg', 'non_neg', 'nonneg'):
        return {'name': 'NonNeg'}
    if class_name in ('UnitNorm', 'unit_norm', 'unitnorm'):
        return {'name': 'UnitNorm', 'axis': axis(config.get('axis', 0))}
    raise ValueError('constraint %r has no Keras 1 equivalent' % (class_name,))


_KERAS1_ACTIVATIONS = ('softmax', 'elu', 'softplus', 'softsign', 'relu', 'tanh', 'sigmoid',
                       'hard_sigmoid', 'linear')


def _activation_1(spec, major):
    if spec is None:
        return 'linear'
    if isinstance(spec, dict):
        inner = spec.get('config')
        spec = inner if isinstance(inner, str) else spec.get('class_name', '')
    name = str(spec)
    if name == 'hard_sigmoid' and major >= 3:
        raise ValueError("Keras 3's hard_sigmoid is relu6(x + 3) / 6, not Keras 1's "
                         "clip(0.2 * x + 0.5, 0, 1); minikeras has no equivalent")
    if name not in _KERAS1_ACTIVATIONS:
        raise ValueError('activation %r has no Keras 1 equivalent (known: %s)'
                         % (name, ', '.join(_KERAS1_ACTIVATIONS)))
    return name


def _pair(value):
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return (int(value[0]), int(value[0]))
        return (int(value[0]), int(value[1]))
    return (int(value), int(value))


def _padding_1(config):
    padding = str(config.get('padding', 'valid')).lower()
    if padding not in ('valid', 'same'):
        raise ValueError('padding %r has no Keras 1 equivalent' % (padding,))
    return padding


# (config, major) -> (Keras 1 class name, Keras 1 config without name/trainable)
def _conv2d_1(c, major):
    for key in ('dilation_rate',):
        if any(int(v) != 1 for v in _pair(c.get(key, 1))):
            raise ValueError('%s=%r is not supported by minikeras' % (key, c.get(key)))
    if int(c.get('groups', 1) or 1) != 1:
        raise ValueError('groups=%r is not supported by minikeras' % (c.get('groups'),))
    rows, cols = _pair(c['kernel_size'])
    ordering = _ordering_of(c.get('data_format'))
    axis_map = {0: 2, 1: 3, 2: 1, 3: 0} if ordering == 'th' else None
    return 'Convolution2D', {
        'nb_filter': int(c['filters']), 'nb_row': rows, 'nb_col': cols,
        'init': _initializer_1(c.get('kernel_initializer')),
        'activation': _activation_1(c.get('activation'), major),
        'border_mode': _padding_1(c), 'subsample': _pair(c.get('strides', 1)),
        'dim_ordering': ordering,
        'W_regularizer': _regularizer_1(c.get('kernel_regularizer')),
        'b_regularizer': _regularizer_1(c.get('bias_regularizer')),
        'activity_regularizer': _regularizer_1(c.get('activity_regularizer')),
        'W_constraint': _constraint_1(c.get('kernel_constraint'), axis_map),
        'b_constraint': _constraint_1(c.get('bias_constraint')),
        'bias': bool(c.get('use_bias', True))}


def _conv1d_1(c, major):
    if any(int(v) != 1 for v in np.atleast_1d(c.get('dilation_rate', 1))):
        raise ValueError('dilation_rate=%r is not supported by minikeras'
                         % (c.get('dilation_rate'),))
    if str(c.get('data_format', 'channels_last')) != 'channels_last':
        raise ValueError('Conv1D with data_format=%r is not supported by minikeras'
                         % (c.get('data_format'),))
    return 'Convolution1D', {
        'nb_filter': int(c['filters']), 'filter_length': int(np.atleast_1d(c['kernel_size'])[0]),
        'init': _initializer_1(c.get('kernel_initializer')),
        'activation': _activation_1(c.get('activation'), major),
        'border_mode': _padding_1(c),
        'subsample_length': int(np.atleast_1d(c.get('strides', 1))[0]),
        'W_regularizer': _regularizer_1(c.get('kernel_regularizer')),
        'b_regularizer': _regularizer_1(c.get('bias_regularizer')),
        'activity_regularizer': _regularizer_1(c.get('activity_regularizer')),
        'W_constraint': _constraint_1(c.get('kernel_constraint')),
        'b_constraint': _constraint_1(c.get('bias_constraint')),
        'bias': bool(c.get('use_bias', True))}


def _dense_1(c, major):
    return 'Dense', {
        'output_dim': int(c['units']), 'init': _initializer_1(c.get('kernel_initializer')),
        'activation': _activation_1(c.get('activation'), major),
        'W_regularizer': _regularizer_1(c.get('kernel_regularizer')),
        'b_regularizer': _regularizer_1(c.get('bias_regularizer')),
        'activity_regularizer': _regularizer_1(c.get('activity_regularizer')),
        'W_constraint': _constraint_1(c.get('kernel_constraint')),
        'b_constraint': _constraint_1(c.get('bias_constraint')),
        'bias': bool(c.get('use_bias', True))}


def _pool2d_1(class_name):
    def translate(c, major):
        pool = _pair(c.get('pool_size', 2))
        strides = c.get('strides')
        return class_name, {'pool_size': pool,
                            'strides': _pair(strides) if strides is not None else pool,
                            'border_mode': _padding_1(c),
                            'dim_ordering': _ordering_of(c.get('data_format'))}
    return translate


def _pool1d_1(class_name):
    def translate(c, major):
        pool = int(np.atleast_1d(c.get('pool_size', 2))[0])
        strides = c.get('strides')
        return class_name, {'pool_length': pool,
                            'stride': int(np.atleast_1d(strides)[0]) if strides is not None
                            else pool, 'border_mode': _padding_1(c)}
    return translate


def _global_pool2d_1(class_name):
    def translate(c, major):
        if c.get('keepdims'):
            raise ValueError('keepdims=True is not supported by minikeras')
        return class_name, {'dim_ordering': _ordering_of(c.get('data_format'))}
    return translate


def _global_pool1d_1(class_name):
    def translate(c, major):
        if c.get('keepdims'):
            raise ValueError('keepdims=True is not supported by minikeras')
        return class_name, {}
    return translate


def _zero_padding2d_1(c, major):
    padding = c.get('padding', 1)
    if isinstance(padding, int):
        pads = (padding, padding, padding, padding)
    elif isinstance(padding[0], (list, tuple)):
        pads = (padding[0][0], padding[0][1], padding[1][0], padding[1][1])
    else:
        pads = (padding[0], padding[0], padding[1], padding[1])
    return 'ZeroPadding2D', {'padding': {'top_pad': int(pads[0]), 'bottom_pad': int(pads[1]),
                                         'left_pad': int(pads[2]), 'right_pad': int(pads[3])},
                             'dim_ordering': _ordering_of(c.get('data_format'))}


def _cropping2d_1(c, major):
    cropping = c.get('cropping', ((0, 0), (0, 0)))
    if isinstance(cropping, int):
        cropping = ((cropping, cropping), (cropping, cropping))
    elif not isinstance(cropping[0], (list, tuple)):
        cropping = ((cropping[0], cropping[0]), (cropping[1], cropping[1]))
    return 'Cropping2D', {'cropping': [list(map(int, cropping[0])), list(map(int, cropping[1]))],
                          'dim_ordering': _ordering_of(c.get('data_format'))}


def _upsampling2d_1(c, major):
    if str(c.get('interpolation', 'nearest')) != 'nearest':
        raise ValueError('interpolation=%r is not supported by minikeras'
                         % (c.get('interpolation'),))
    return 'UpSampling2D', {'size': _pair(c.get('size', 2)),
                            'dim_ordering': _ordering_of(c.get('data_format'))}


def _batchnorm_1(c, major):
    if not c.get('center', True) or not c.get('scale', True):
        raise ValueError('BatchNormalization with center or scale False is not supported by '
                         'minikeras')
    axis = c.get('axis', -1)
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise ValueError('BatchNormalization over several axes %r is not supported' % (axis,))
        axis = axis[0]
    return 'BatchNormalization', {
        'epsilon': float(c.get('epsilon', 1e-3)), 'mode': 0, 'axis': int(axis),
        'momentum': float(c.get('momentum', 0.99)),
        'beta_init': _initializer_1(c.get('beta_initializer'), 'zero'),
        'gamma_init': _initializer_1(c.get('gamma_initializer'), 'one'),
        'gamma_regularizer': _regularizer_1(c.get('gamma_regularizer')),
        'beta_regularizer': _regularizer_1(c.get('beta_regularizer'))}


def _dropout_1(c, major):
    if c.get('noise_shape') is not None:
        raise ValueError('Dropout noise_shape=%r is not supported by minikeras'
                         % (c['noise_shape'],))
    return 'Dropout', {'p': float(c.get('rate', c.get('p', 0.)))}


def _prelu_1(c, major):
    return 'PReLU', {'init': _initializer_1(c.get('alpha_initializer'), 'zero'),
                     'shared_axes': c.get('shared_axes')}


def _leaky_relu_1(c, major):
    return 'LeakyReLU', {'alpha': float(c.get('negative_slope', c.get('alpha', 0.3)))}


def _merge_1(mode):
    def translate(c, major):
        config = {'mode': mode}
        if mode == 'concat':
            config['concat_axis'] = int(c.get('axis', -1))
        if mode == 'dot':
            if c.get('normalize'):
                raise ValueError('Dot(normalize=True) is not supported by minikeras')
            axes = c.get('axes', -1)
            config['dot_axes'] = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
        return 'Merge', config
    return translate


_TO_KERAS1 = {
    'Conv2D': _conv2d_1, 'Convolution2D': _conv2d_1, 'Conv1D': _conv1d_1,
    'Convolution1D': _conv1d_1, 'Dense': _dense_1,
    'MaxPooling2D': _pool2d_1('MaxPooling2D'), 'MaxPool2D': _pool2d_1('MaxPooling2D'),
    'AveragePooling2D': _pool2d_1('AveragePooling2D'),
    'AvgPool2D': _pool2d_1('AveragePooling2D'),
    'MaxPooling1D': _pool1d_1('MaxPooling1D'), 'MaxPool1D': _pool1d_1('MaxPooling1D'),
    'AveragePooling1D': _pool1d_1('AveragePooling1D'),
    'AvgPool1D': _pool1d_1('AveragePooling1D'),
    'GlobalMaxPooling2D': _global_pool2d_1('GlobalMaxPooling2D'),
    'GlobalMaxPool2D': _global_pool2d_1('GlobalMaxPooling2D'),
    'GlobalAveragePooling2D': _global_pool2d_1('GlobalAveragePooling2D'),
    'GlobalAvgPool2D': _global_pool2d_1('GlobalAveragePooling2D'),
    'GlobalMaxPooling1D': _global_pool1d_1('GlobalMaxPooling1D'),
    'GlobalAveragePooling1D': _global_pool1d_1('GlobalAveragePooling1D'),
    'ZeroPadding2D': _zero_padding2d_1, 'Cropping2D': _cropping2d_1,
    'UpSampling2D': _upsampling2d_1, 'BatchNormalization': _batchnorm_1,
    'Flatten': lambda c, major: ('Flatten', {}),
    'Activation': lambda c, major: ('Activation',
                                    {'activation': _activation_1(c.get('activation'), major)}),
    'Dropout': _dropout_1,
    'Reshape': lambda c, major: ('Reshape', {'target_shape': list(c['target_shape'])}),
    'Permute': lambda c, major: ('Permute', {'dims': list(c['dims'])}),
    'RepeatVector': lambda c, major: ('RepeatVector', {'n': int(c['n'])}),
    'PReLU': _prelu_1, 'LeakyReLU': _leaky_relu_1,
    'ELU': lambda c, major: ('ELU', {'alpha': float(c.get('alpha', 1.))}),
    'ThresholdedReLU': lambda c, major: ('ThresholdedReLU', {'theta': float(c.get('theta', 1.))}),
    'GaussianNoise': lambda c, major: ('GaussianNoise', {'sigma': float(c['stddev'])}),
    'GaussianDropout': lambda c, major: ('GaussianDropout', {'p': float(c['rate'])}),
    'ActivityRegularization': lambda c, major: ('ActivityRegularization',
                                                {'l1': float(c.get('l1', 0.)),
                                                 'l2': float(c.get('l2', 0.))}),
    'Embedding': lambda c, major: ('Embedding', {
        'input_dim': int(c['input_dim']), 'output_dim': int(c['output_dim']),
        'init': _initializer_1(c.get('embeddings_initializer'), 'uniform'),
        'mask_zero': bool(c.get('mask_zero', False)),
        'input_length': c.get('input_length')}),
    'Add': _merge_1('sum'), 'Multiply': _merge_1('mul'), 'Average': _merge_1('ave'),
    'Maximum': _merge_1('max'), 'Concatenate': _merge_1('concat'), 'Dot': _merge_1('dot'),
}

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
        if entry.get('class_name') in ('Conv2D', 'Functional', 'Add', 'Concatenate'):
            generation = 2
    return generation


def _translate_layer(entry, major, path):
    class_name = entry.get('class_name')
    config = dict(entry.get('config') or {})
    name = config.get('name') or entry.get('name')
    translate = _TO_KERAS1.get(class_name)
    if translate is None:
        raise ValueError('%s: layer %r has class %r, which minikeras cannot translate from '
                         'Keras %d (known: %s)' % (path, name, class_name, major,
                                          ', '.join(sorted(_TO_KERAS1))))
    try:
        new_class, new_config = translate(config, major)
    except (KeyError, ValueError, TypeError, IndexError) as error:
        raise ValueError('%s: layer %r (%s): %s' % (path, name, class_name, error))
    new_config['name'] = name
    if new_class != 'Merge':            # Keras 1's Merge takes no `trainable`
        new_config['trainable'] = bool(config.get('trainable', True))
    shape = config.get('batch_input_shape') or config.get('batch_shape')
    if shape is not None:
        new_config['batch_input_shape'] = list(shape)
        new_config['input_dtype'] = 'float32'
    return {'class_name': new_class, 'config': new_config}


def _input_layer_1(entry):
    config = entry.get('config') or {}
    shape = config.get('batch_input_shape') or config.get('batch_shape')
    if shape is None:
        raise ValueError('InputLayer %r has no batch shape' % (_layer_name(entry),))
    return {'class_name': 'InputLayer',
            'config': {'batch_input_shape': list(shape), 'input_dtype': 'float32',
                       'name': _layer_name(entry)}}


def _inbound_1(node_data):
    """One inbound node of Keras 2 (list) or Keras 3 (args/kwargs dict) as
    Keras 1's [[layer name, node index, tensor index], ...]."""
    if isinstance(node_data, list):
        return [[item[0], int(item[1]), int(item[2])] for item in node_data]
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
# Model configs: JSON, YAML, and building a model from a config
# ---------------------------------------------------------------------------

def _model_config(model):
    return {'class_name': 'Sequential' if _is_sequential(model) else 'Model',
            'config': model.get_config()}


def _is_sequential(model):
    from .. import models
    return isinstance(model, models.Sequential)


def model_to_json(model, **kwargs):
    """The model's architecture as a JSON string, as Keras 1.2.2's `to_json`
    (`{'class_name', 'config', 'keras_version'}`); `kwargs` go to `json.dumps`."""
    config = _model_config(model)
    config['keras_version'] = KERAS_VERSION
    return json.dumps(config, default=_json_default, **kwargs)


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
    config = translate_model_config(config, _path, _generation)
    class_name = config['class_name']
    from ..utils.generic_utils import CustomObjectScope
    if class_name == 'Sequential':
        from ..models import Sequential
        builder = Sequential.from_config
    elif class_name in ('Model', 'Functional'):
        from .. import models
        model_class = getattr(models, 'Model', None)
        builder = getattr(model_class, 'from_config', None)
        if builder is None:
            raise ValueError('%s holds a functional model (class Model), but '
                             'minikeras.models.Model has no from_config in this version' % _path)
    else:
        raise ValueError('%s: unknown model class %r; expected "Sequential" or "Model"'
                         % (_path, class_name))
    try:
        with CustomObjectScope(custom_objects or {}):
            return builder(config['config'], custom_objects=custom_objects)
    except (ValueError, TypeError, KeyError) as error:
        if _path in str(error):
            raise
        raise type(error)('%s: cannot build the model from its config: %s' % (_path, error))


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
    if hasattr(model, '_leaf_layers'):
        return model._leaf_layers()
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
    f.attrs['keras_version'] = _fixed_text(KERAS_VERSION)
    f.attrs['backend'] = _fixed_text(BACKEND_NAME)
    f.attrs['model_config'] = _fixed_text(_to_json(_model_config(model)))
    _write_weights_group(f.create_group('model_weights'), model)
    if not include_optimizer or getattr(model, 'optimizer', None) is None:
        return
    f.attrs['training_config'] = _fixed_text(_to_json(_training_config(model)))
    state = _optimizer_state(model)
    group = f.create_group('optimizer_weights')
    _write_names(group, 'weight_names', [name for name, _ in state])
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
    _check_layer_names(model)
    if not _may_write(filepath, overwrite):
        return
    _write_atomically(filepath, lambda f: _write_model(f, model, include_optimizer))


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


def _compile_from_training_config(model, training_config, generation, path, custom_objects):
    from .. import optimizers
    from ..utils.generic_utils import CustomObjectScope
    with CustomObjectScope(custom_objects or {}):
        if generation <= 1:
            optimizer_config = training_config['optimizer_config']
            loss = _resolve_custom(training_config['loss'], custom_objects)
            metrics = _resolve_custom(training_config.get('metrics') or [], custom_objects)
            sample_weight_mode = training_config.get('sample_weight_mode')
            loss_weights = training_config.get('loss_weights')
        else:
            optimizer_config = _optimizer_1(training_config['optimizer_config'])
            loss = _resolve_custom(_loss_1(training_config.get('loss')), custom_objects)
            metrics = _metrics_1(training_config.get('metrics'))
            sample_weight_mode = None
            loss_weights = training_config.get('loss_weights')
        optimizer = optimizers.get(optimizer_config)
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics,
                      loss_weights=loss_weights, sample_weight_mode=sample_weight_mode)


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
    with _open_for_reading(filepath) as f, _read_errors_name(filepath):
        config_text = _read_attr_text(f, 'model_config')
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
        source = _describe_source(f, group, filepath, original_backend)
        saved = _read_group_weights(group, filepath)
        generation = _config_generation(model_config, _version_major(
            _read_attr_text(f, 'keras_version'), None))
        training_text = _read_attr_text(f, 'training_config') if compile else None
        optimizer_names, optimizer_values, optimizer_iterations = [], [], None
        if 'optimizer_weights' in f and generation <= 1:
            optimizer_group = f['optimizer_weights']
            optimizer_names = _read_names(optimizer_group, 'weight_names')
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
    training_config = json.loads(training_text)
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


# ---------------------------------------------------------------------------
# minikeras -> Keras 3 legacy .h5
# ---------------------------------------------------------------------------

_INITIALIZERS_3 = {
    'uniform': ('RandomUniform', {'minval': -0.05, 'maxval': 0.05}),
    'normal': ('RandomNormal', {'mean': 0., 'stddev': 0.05}),
    'lecun_uniform': ('LecunUniform', {}), 'glorot_normal': ('GlorotNormal', {}),
    'glorot_uniform': ('GlorotUniform', {}), 'he_normal': ('HeNormal', {}),
    'he_uniform': ('HeUniform', {}), 'orthogonal': ('Orthogonal', {'gain': 1.1}),
    'identity': ('Identity', {}), 'zero': ('Zeros', {}), 'one': ('Ones', {}),
}
_ACTIVATIONS_3 = ('softmax', 'elu', 'softplus', 'softsign', 'relu', 'tanh', 'sigmoid', 'linear')
_LOSSES_3 = ('categorical_crossentropy', 'sparse_categorical_crossentropy', 'binary_crossentropy',
             'mean_squared_error', 'mse', 'mean_absolute_error', 'mae',
             'mean_absolute_percentage_error', 'mape', 'mean_squared_logarithmic_error', 'msle',
             'hinge', 'squared_hinge', 'poisson', 'categorical_hinge')
# Axis of a channels-first image tensor -> the same axis once channels-last.
_CF_TO_CL_AXIS = {1: 3, 2: 1, 3: 2}


class _ExportError(ValueError):
    pass


def _initializer_3(init):
    name = init if isinstance(init, str) else getattr(init, '__name__', '')
    class_name, config = _INITIALIZERS_3.get(name, ('GlorotUniform', {}))
    return {'class_name': class_name, 'config': dict(config)}


def _activation_3(layer, function):
    name = getattr(function, '__name__', str(function))
    if name == 'hard_sigmoid':
        raise _ExportError("layer %s: Keras 3's hard_sigmoid is relu6(x + 3) / 6, not Keras 1's "
                           "clip(0.2 * x + 0.5, 0, 1); predictions would differ" % layer.name)
    if name not in _ACTIVATIONS_3:
        raise _ExportError('layer %s: activation %r has no Keras 3 equivalent' % (layer.name, name))
    return name


def _regularizer_3(regularizer):
    if regularizer is None:
        return None
    config = regularizer.get_config()
    return {'class_name': 'L1L2', 'config': {'l1': float(config.get('l1', 0.)),
                                             'l2': float(config.get('l2', 0.))}}


def _constraint_3(layer, constraint, axis_map=None):
    if constraint is None:
        return None
    config = constraint.get_config()
    name = config.get('name', type(constraint).__name__)

    def axis(value):
        if axis_map is None:
            return value
        if isinstance(value, (list, tuple)):
            return sorted(axis_map[a % 4] for a in value)
        return axis_map[value % 4]
    if name == 'MaxNorm':
        return {'class_name': 'MaxNorm', 'config': {'max_value': config.get('m', 2),
                                                    'axis': axis(config.get('axis', 0))}}
    if name == 'NonNeg':
        return {'class_name': 'NonNeg', 'config': {}}
    if name == 'UnitNorm':
        return {'class_name': 'UnitNorm', 'config': {'axis': axis(config.get('axis', 0))}}
    raise _ExportError('layer %s: constraint %s has no Keras 3 equivalent' % (layer.name, name))


class _Tensor(object):
    """How a minikeras tensor is held in the exported model.

    `cf`: a channels-first ('th') image that Keras 3 holds channels-last;
    `flat`: (channels, rows, cols) of such an image flattened by a Flatten
    whose Dense still has to reorder its rows; `shape`: the minikeras shape.
    """

    def __init__(self, shape, cf=False, flat=None):
        self.shape, self.cf, self.flat = tuple(shape), cf, flat

    def plain(self):
        return not self.cf and self.flat is None


def _image_layer_3(layer, state, converted):
    if layer.dim_ordering == 'th' and not state.cf:
        raise _ExportError('layer %s (%s, channels-first) gets a tensor that is not a '
                           'channels-first image of the model' % (layer.name, type(layer).__name__))
    if layer.dim_ordering == 'tf' and converted:
        raise _ExportError('layer %s (%s) is channels-last in a model with channels-first image '
                           'layers; mixed orderings are not exported' % (layer.name,
                                                                        type(layer).__name__))


def _conv2d_3(layer, state, converted):
    _image_layer_3(layer, state, converted)
    if layer.border_mode not in ('valid', 'same'):
        raise _ExportError('layer %s: border_mode %r has no Keras 3 equivalent'
                           % (layer.name, layer.border_mode))
    th = layer.dim_ordering == 'th'
    kernel = layer.weights[0]
    weights = [('kernel', kernel.transpose(2, 3, 1, 0) if th else kernel)]
    if layer.bias:
        weights.append(('bias', layer.weights[1]))
    axis_map = {0: 3, 1: 2, 2: 0, 3: 1} if th else None
    config = {'filters': layer.nb_filter, 'kernel_size': [layer.nb_row, layer.nb_col],
              'strides': list(layer.subsample), 'padding': layer.border_mode,
              'data_format': 'channels_last', 'dilation_rate': [1, 1], 'groups': 1,
              'activation': _activation_3(layer, layer.activation), 'use_bias': bool(layer.bias),
              'kernel_initializer': _initializer_3(layer.init),
              'bias_initializer': {'class_name': 'Zeros', 'config': {}},
              'kernel_regularizer': _regularizer_3(layer.W_regularizer),
              'bias_regularizer': _regularizer_3(layer.b_regularizer),
              'activity_regularizer': _regularizer_3(layer.activity_regularizer),
              'kernel_constraint': _constraint_3(layer, layer.W_constraint, axis_map),
              'bias_constraint': _constraint_3(layer, layer.b_constraint)}
    return [('Conv2D', config, weights)], _Tensor(layer.output_shape, cf=th)


def _pool2d_3(class_name):
    def export(layer, state, converted):
        _image_layer_3(layer, state, converted)
        config = {'pool_size': list(layer.pool_size), 'strides': list(layer.strides),
                  'padding': layer.border_mode, 'data_format': 'channels_last'}
        return [(class_name, config, [])], _Tensor(layer.output_shape, cf=state.cf)
    return export


def _global_pool2d_3(class_name):
    def export(layer, state, converted):
        _image_layer_3(layer, state, converted)
        return [(class_name, {'data_format': 'channels_last'}, [])], _Tensor(layer.output_shape)
    return export


def _zero_padding2d_3(layer, state, converted):
    _image_layer_3(layer, state, converted)
    padding = [[layer.top_pad, layer.bottom_pad], [layer.left_pad, layer.right_pad]]
    return [('ZeroPadding2D', {'padding': padding, 'data_format': 'channels_last'}, [])], \
        _Tensor(layer.output_shape, cf=state.cf)


def _cropping2d_3(layer, state, converted):
    _image_layer_3(layer, state, converted)
    cropping = [[int(v) for v in pair] for pair in layer.cropping]
    return [('Cropping2D', {'cropping': cropping, 'data_format': 'channels_last'}, [])], \
        _Tensor(layer.output_shape, cf=state.cf)


def _upsampling2d_3(layer, state, converted):
    _image_layer_3(layer, state, converted)
    return [('UpSampling2D', {'size': list(layer.size), 'data_format': 'channels_last',
                              'interpolation': 'nearest'}, [])], \
        _Tensor(layer.output_shape, cf=state.cf)


def _flatten_3(layer, state, converted):
    if state.flat is not None:
        raise _ExportError('layer %s: Flatten of an already flattened image' % layer.name)
    flat = tuple(state.shape[1:]) if state.cf else None
    return [('Flatten', {'data_format': 'channels_last'}, [])], \
        _Tensor(layer.output_shape, flat=flat)


def _dense_3(layer, state, converted):
    if state.cf:
        raise _ExportError('layer %s: Dense on a channels-first image is not exported' % layer.name)
    kernel = layer.weights[0]
    if state.flat is not None:
        kernel = _reorder_flattened_rows(kernel, state.flat, 'chw', 'hwc')
    weights = [('kernel', kernel)]
    if layer.bias:
        weights.append(('bias', layer.weights[1]))
    config = {'units': layer.output_dim, 'activation': _activation_3(layer, layer.activation),
              'use_bias': bool(layer.bias), 'kernel_initializer': _initializer_3(layer.init),
              'bias_initializer': {'class_name': 'Zeros', 'config': {}},
              'kernel_regularizer': _regularizer_3(layer.W_regularizer),
              'bias_regularizer': _regularizer_3(layer.b_regularizer),
              'activity_regularizer': _regularizer_3(layer.activity_regularizer),
              'kernel_constraint': _constraint_3(layer, layer.W_constraint),
              'bias_constraint': _constraint_3(layer, layer.b_constraint)}
    return [('Dense', config, weights)], _Tensor(layer.output_shape)


def _elementwise_3(class_name, make_config):
    def export(layer, state, converted):
        return [(class_name, make_config(layer), [])], \
            _Tensor(layer.output_shape, cf=state.cf, flat=state.flat)
    return export


def _batchnorm_3(layer, state, converted):
    if layer.mode != 0:
        raise _ExportError('layer %s: BatchNormalization mode %d has no Keras 3 equivalent'
                           % (layer.name, layer.mode))
    if state.flat is not None:
        raise _ExportError('layer %s: BatchNormalization between a Flatten of channels-first '
                           'images and its Dense is not exported' % layer.name)
    ndim = len(state.shape)
    axis = layer.axis % ndim
    if state.cf:
        axis = _CF_TO_CL_AXIS[axis]
    gamma, beta, mean, variance = layer.weights
    config = {'axis': -1 if axis == ndim - 1 else axis, 'momentum': float(layer.momentum),
              'epsilon': float(layer.epsilon), 'center': True, 'scale': True,
              'beta_initializer': _initializer_3(layer.beta_init),
              'gamma_initializer': _initializer_3(layer.gamma_init),
              'beta_regularizer': _regularizer_3(layer.beta_regularizer),
              'gamma_regularizer': _regularizer_3(layer.gamma_regularizer)}
    weights = [('gamma', gamma), ('beta', beta), ('moving_mean', mean),
               ('moving_variance', variance)]
    return [('BatchNormalization', config, weights)], _Tensor(layer.output_shape, cf=state.cf)


def _prelu_3(layer, state, converted):
    if state.flat is not None:
        raise _ExportError('layer %s: PReLU between a Flatten of channels-first images and its '
                           'Dense is not exported' % layer.name)
    alphas = layer.weights[0]
    shared = list(layer.shared_axes or [])
    if state.cf:
        alphas = alphas.transpose(1, 2, 0)
        shared = sorted(_CF_TO_CL_AXIS[a] for a in shared)
    config = {'alpha_initializer': _initializer_3(layer.init), 'shared_axes': shared or None}
    return [('PReLU', config, [('alpha', alphas)])], _Tensor(layer.output_shape, cf=state.cf)


def _reshape_3(layer, state, converted):
    if not state.plain():
        raise _ExportError('layer %s: Reshape of a channels-first image is not exported'
                           % layer.name)
    emitted = [('Reshape', {'target_shape': list(layer.target_shape)}, [])]
    out_shape = tuple(layer.output_shape)
    if converted and len(out_shape) == 4:
        # The reshaped sample is a channels-first image: make it channels-last.
        emitted.append(('Permute', {'dims': [2, 3, 1], '_name_suffix': '_to_channels_last'}, []))
        return emitted, _Tensor(out_shape, cf=True)
    return emitted, _Tensor(out_shape)


def _plain_only_3(class_name, make_config):
    def export(layer, state, converted):
        if not state.plain():
            raise _ExportError('layer %s (%s) on a channels-first image is not exported'
                               % (layer.name, type(layer).__name__))
        return [(class_name, make_config(layer), [])], _Tensor(layer.output_shape)
    return export


def _embedding_3(layer, state, converted):
    config = {'input_dim': layer.input_dim, 'output_dim': layer.output_dim,
              'embeddings_initializer': _initializer_3(layer.init),
              'mask_zero': bool(layer.mask_zero)}
    return [('Embedding', config, [('embeddings', layer.weights[0])])], \
        _Tensor(layer.output_shape)


def _conv1d_3(layer, state, converted):
    if layer.border_mode not in ('valid', 'same'):
        raise _ExportError('layer %s: border_mode %r has no Keras 3 equivalent'
                           % (layer.name, layer.border_mode))
    weights = [('kernel', layer.weights[0][:, 0, :, :])]
    if layer.bias:
        weights.append(('bias', layer.weights[1]))
    config = {'filters': layer.nb_filter, 'kernel_size': [layer.filter_length],
              'strides': [layer.subsample_length], 'padding': layer.border_mode,
              'data_format': 'channels_last', 'dilation_rate': [1], 'groups': 1,
              'activation': _activation_3(layer, layer.activation), 'use_bias': bool(layer.bias),
              'kernel_initializer': _initializer_3(layer.init),
              'kernel_regularizer': _regularizer_3(layer.W_regularizer),
              'bias_regularizer': _regularizer_3(layer.b_regularizer),
              'activity_regularizer': _regularizer_3(layer.activity_regularizer),
              'kernel_constraint': _constraint_3(layer, layer.W_constraint),
              'bias_constraint': _constraint_3(layer, layer.b_constraint)}
    return [('Conv1D', config, weights)], _Tensor(layer.output_shape)


def _pool1d_3(class_name):
    def export(layer, state, converted):
        config = {'pool_size': [layer.pool_length], 'strides': [layer.stride],
                  'padding': layer.border_mode, 'data_format': 'channels_last'}
        return [(class_name, config, [])], _Tensor(layer.output_shape)
    return export


_MERGE_MODES_3 = {'sum': 'Add', 'mul': 'Multiply', 'ave': 'Average', 'max': 'Maximum',
                  'concat': 'Concatenate', 'dot': 'Dot'}


def _merge_3(layer, states, converted):
    if not isinstance(layer.mode, str) or layer.mode not in _MERGE_MODES_3:
        raise _ExportError('layer %s: Merge mode %r has no Keras 3 equivalent'
                           % (layer.name, layer.mode))
    if any(s.flat is not None for s in states) or len({s.cf for s in states}) > 1:
        raise _ExportError('layer %s: Merge of differently laid out tensors is not exported'
                           % layer.name)
    cf = states[0].cf
    config = {}
    if layer.mode == 'concat':
        ndim = len(states[0].shape)
        axis = layer.concat_axis % ndim
        config['axis'] = _CF_TO_CL_AXIS[axis] if cf else axis
    if layer.mode == 'dot':
        if cf:
            raise _ExportError('layer %s: dot Merge of images is not exported' % layer.name)
        axes = layer.dot_axes
        config['axes'] = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
        config['normalize'] = False
    return [(_MERGE_MODES_3[layer.mode], config, [])], _Tensor(layer.output_shape, cf=cf)


_TO_KERAS3 = {
    'Convolution2D': _conv2d_3, 'Convolution1D': _conv1d_3,
    'MaxPooling2D': _pool2d_3('MaxPooling2D'), 'AveragePooling2D': _pool2d_3('AveragePooling2D'),
    'MaxPooling1D': _pool1d_3('MaxPooling1D'), 'AveragePooling1D': _pool1d_3('AveragePooling1D'),
    'GlobalMaxPooling2D': _global_pool2d_3('GlobalMaxPooling2D'),
    'GlobalAveragePooling2D': _global_pool2d_3('GlobalAveragePooling2D'),
    'GlobalMaxPooling1D': _plain_only_3('GlobalMaxPooling1D',
                                        lambda l: {'data_format': 'channels_last'}),
    'GlobalAveragePooling1D': _plain_only_3('GlobalAveragePooling1D',
                                            lambda l: {'data_format': 'channels_last'}),
    'ZeroPadding2D': _zero_padding2d_3, 'Cropping2D': _cropping2d_3,
    'UpSampling2D': _upsampling2d_3, 'Flatten': _flatten_3, 'Dense': _dense_3,
    'Activation': _elementwise_3('Activation', lambda l: {
        'activation': _activation_3(l, l.activation)}),
    'Dropout': _elementwise_3('Dropout', lambda l: {'rate': float(l.p)}),
    'GaussianNoise': _elementwise_3('GaussianNoise', lambda l: {'stddev': float(l.sigma)}),
    'GaussianDropout': _elementwise_3('GaussianDropout', lambda l: {'rate': float(l.p)}),
    'ActivityRegularization': _elementwise_3('ActivityRegularization', lambda l: {
        'l1': float(l.l1), 'l2': float(l.l2)}),
    'LeakyReLU': _elementwise_3('LeakyReLU', lambda l: {'negative_slope': float(l.alpha)}),
    'ELU': _elementwise_3('ELU', lambda l: {'alpha': float(l.alpha)}),
    'BatchNormalization': _batchnorm_3, 'PReLU': _prelu_3, 'Reshape': _reshape_3,
    'Permute': _plain_only_3('Permute', lambda l: {'dims': list(l.dims)}),
    'RepeatVector': _plain_only_3('RepeatVector', lambda l: {'n': int(l.n)}),
    'Embedding': _embedding_3,
}


def _is_converted(model):
    """Whether the model has channels-first image layers (exported channels-last)."""
    return any(type(layer).__name__ in _IMAGE_CLASSES_1 + ('GlobalMaxPooling2D',
                                                           'GlobalAveragePooling2D')
               and getattr(layer, 'dim_ordering', None) == 'th' for layer in model.layers)


def _keras3_input_shape(shape, converted):
    shape = list(shape)
    if converted and len(shape) == 4:
        shape = [shape[0], shape[2], shape[3], shape[1]]
    return shape


def _keras3_graph(model):
    """The exported layers: [(name, class_name, config, weights, inbound refs)],
    the model's input and output refs, and whether it was converted."""
    from .topology import Container, InputLayer
    converted = _is_converted(model)
    for layer in model.layers:
        if isinstance(layer, Container) or getattr(layer, 'layers', None):
            raise _ExportError('layer %s holds nested models; rebuild it as one functional model '
                               'to export it' % layer.name)
    sequential = _is_sequential(model)
    if sequential:
        input_layer = model.inputs[0]._keras_history[0] if getattr(model, 'inputs', None) \
            else None
        input_name = input_layer.name if input_layer is not None else 'input_layer'
        steps = [(input_layer, [])] if input_layer is not None else []
        previous = input_name
        for layer in model.layers:
            steps.append((layer, [previous]))
            previous = layer.name
        outputs = [previous]
        inputs = [input_name]
        if input_layer is None:
            raise _ExportError('model %s has no input' % model.name)
    else:
        by_name = {layer.name: layer for layer in model.layers}
        config = model.get_config()
        steps = []
        for entry in config['layers']:
            nodes = entry.get('inbound_nodes') or []
            if len(nodes) > 1:
                raise _ExportError('layer %s is shared (called %d times); shared layers are not '
                                   'exported' % (entry['name'], len(nodes)))
            steps.append((by_name[entry['name']], [ref[0] for ref in nodes[0]] if nodes else []))
        inputs = [ref[0] for ref in config['input_layers']]
        outputs = [ref[0] for ref in config['output_layers']]
    states, alias, exported = {}, {}, []
    for layer, inbound in steps:
        class_name = type(layer).__name__
        if isinstance(layer, InputLayer):
            shape = tuple(layer.batch_input_shape)
            states[layer.name] = _Tensor(shape, cf=converted and len(shape) == 4)
            config = {'batch_shape': _keras3_input_shape(shape, converted), 'dtype': 'float32',
                      'sparse': False, 'name': layer.name}
            exported.append((layer.name, 'InputLayer', config, [], []))
            continue
        in_states = [states[name] for name in inbound]
        in_refs = [alias.get(name, name) for name in inbound]
        if class_name == 'Merge':
            emitted, out_state = _merge_3(layer, in_states, converted)
        else:
            export = _TO_KERAS3.get(class_name)
            if export is None:
                raise _ExportError('layer %s has class %s, which has no Keras 3 translation '
                                   '(known: %s)' % (layer.name, class_name,
                                                    ', '.join(sorted(_TO_KERAS3) + ['Merge'])))
            if len(in_states) != 1:
                raise _ExportError('layer %s (%s) has %d inputs' % (layer.name, class_name,
                                                                    len(in_states)))
            emitted, out_state = export(layer, in_states[0], converted)
        refs = in_refs
        for new_class, config, weights in emitted:
            name = layer.name + config.pop('_name_suffix', '')
            config['name'] = name
            config['trainable'] = bool(layer.trainable)
            config['dtype'] = 'float32'
            exported.append((name, new_class, config, weights, refs))
            refs = [name]
        alias[layer.name] = refs[0]
        states[layer.name] = out_state
    for name in outputs:
        state = states[name]
        if state.flat is not None:
            raise _ExportError('output %s is a flattened channels-first image; end the model with '
                               'a Dense layer or use channels-last layers' % name)
    return exported, [alias.get(n, n) for n in inputs], [alias.get(n, n) for n in outputs], \
        converted, sequential


def _keras3_training_config(model):
    """Keras 3 compile arguments, when the optimizer, loss and metrics translate exactly."""
    optimizer = getattr(model, 'optimizer', None)
    if optimizer is None:
        return None
    name = type(optimizer).__name__
    args = {'SGD': ('momentum', 'nesterov'), 'RMSprop': ('rho', 'epsilon'),
            'Adagrad': ('epsilon',), 'Adadelta': ('rho', 'epsilon'),
            'Adam': ('beta_1', 'beta_2', 'epsilon'), 'Adamax': ('beta_1', 'beta_2', 'epsilon')}
    if name not in args or float(getattr(optimizer, 'decay', 0.) or 0.):
        return None
    config = {'learning_rate': float(optimizer.lr)}
    config.update((key, getattr(optimizer, key)) for key in args[name])
    for key in ('clipnorm', 'clipvalue'):
        if getattr(optimizer, key, None) is not None:
            config[key] = float(getattr(optimizer, key))

    def loss_name(loss):
        loss = getattr(loss, '__name__', loss)
        return loss if loss in _LOSSES_3 else None
    loss = model.loss
    if isinstance(loss, dict):
        loss = {k: loss_name(v) for k, v in loss.items()}
        known = all(loss.values())
    elif isinstance(loss, (list, tuple)):
        loss = [loss_name(v) for v in loss]
        known = all(loss)
    else:
        loss = loss_name(loss)
        known = loss is not None
    if not known:
        return None
    metrics = ['accuracy' for m in (model.metrics if isinstance(model.metrics, list) else [])
               if m in ('accuracy', 'acc')][:1]
    loss_weights = list(getattr(model, 'loss_weights', None) or [])
    return {'loss': loss, 'metrics': metrics or None, 'weighted_metrics': None,
            'loss_weights': None if all(w == 1. for w in loss_weights) else loss_weights,
            'optimizer_config': {'class_name': name, 'config': config}}


def export_to_keras3(model, filepath, overwrite=True):
    """Writes the model as a Keras 3 legacy `.h5` file that
    `keras.models.load_model(filepath)` opens on every Keras 3 backend.

    The file has Keras 3 class names and arguments (Conv2D, Dense, ...),
    kernels in Keras 3's layouts ((rows, cols, in, out) for Conv2D), and,
    when the optimizer, loss and metrics have exact Keras 3 equivalents,
    a training configuration (not the optimizer state).

    A model with channels-first ('th') image layers is converted to
    channels-last: conv kernels are transposed, the first Dense after a
    Flatten has its rows reordered from (channels, rows, cols) flattening
    order to (rows, cols, channels) order, and the model's input becomes
    (rows, cols, channels). Give the Keras 3 model transposed inputs:

        keras3_model.predict(x.transpose(0, 2, 3, 1))

    where `x` is what the minikeras model takes, shape (n, channels, rows, cols).

    # Arguments
        model: a minikeras `Sequential` or functional `Model`.
        filepath: the `.h5` file to write.
        overwrite: as in `save_model`.

    # Returns
        True when the model was converted to channels-last (inputs must be
        transposed), False otherwise.

    # Raises
        ValueError: for a layer or an option Keras 3 has no exact
            equivalent of (hard_sigmoid, border_mode='full', nested models...).
    """
    _check_layer_names(model)
    exported, inputs, outputs, converted, sequential = _keras3_graph(model)
    if sequential:
        layers = [{'class_name': class_name, 'config': config}
                  for _, class_name, config, _, _ in exported]
        model_config = {'class_name': 'Sequential',
                        'config': {'name': model.name, 'trainable': True, 'layers': layers}}
        saved_layers = exported[1:]
    else:
        layers = [{'class_name': class_name, 'config': config, 'name': name,
                   'inbound_nodes': [[[ref, 0, 0, {}] for ref in refs]] if refs else []}
                  for name, class_name, config, _, refs in exported]
        model_config = {'class_name': 'Functional',
                        'config': {'name': model.name, 'trainable': True, 'layers': layers,
                                   'input_layers': [[n, 0, 0] for n in inputs],
                                   'output_layers': [[n, 0, 0] for n in outputs]}}
        saved_layers = exported
    training_config = _keras3_training_config(model)

    def write(f):
        f.attrs['keras_version'] = _fixed_text(KERAS3_EXPORT_VERSION)
        f.attrs['backend'] = _fixed_text(BACKEND_NAME)
        f.attrs['model_config'] = _fixed_text(json.dumps(model_config, default=_json_default))
        if training_config is not None:
            f.attrs['training_config'] = _fixed_text(json.dumps(training_config,
                                                                default=_json_default))
        group = f.create_group('model_weights')
        _write_names(group, 'layer_names', [entry[0] for entry in saved_layers])
        group.attrs['backend'] = _fixed_text(BACKEND_NAME)
        group.attrs['keras_version'] = _fixed_text(KERAS3_EXPORT_VERSION)
        for name, _, _, weights, _ in saved_layers:
            layer_group = group.create_group(name)
            paths = ['%s/%s' % (name, suffix) for suffix, _ in weights]
            _write_names(layer_group, 'weight_names', paths)
            for path, (_, value) in zip(paths, weights):
                layer_group.create_dataset(path, data=np.asarray(value, dtype='float32'))
        _write_names(group.create_group('top_level_model_weights'), 'weight_names', [])

    if not _may_write(filepath, overwrite):
        return converted
    _write_atomically(filepath, write)
    return converted
