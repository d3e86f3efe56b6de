"""Files of other Keras generations read as Keras 1 (minikeras's form).

- Weights: which generation and backend wrote a file (`describe_source`),
  and its arrays in the layouts of the model's layers (`weight_converter`):
  Theano's flipped kernels, 'th' and 'tf' kernels, Keras 2/3 kernels,
  the rows of a Dense after a Flatten.
- Configs: Keras 2 and 3 model configs (`translate_model_config`) and
  training configs (`translate_training_config`) as Keras 1's.

The layout helpers also serve `keras3_export`, which goes the other way.
"""
import json

import numpy as np

from ..utils.io_utils import read_text_attr
from ..utils.np_utils import convert_kernel


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

# Keras 2/3 classes whose input and output are images in their `data_format`.
_IMAGE_CLASSES_2 = ('Conv2D', 'Convolution2D', 'MaxPooling2D', 'MaxPool2D', 'AveragePooling2D',
                    'AvgPool2D', 'ZeroPadding2D', 'UpSampling2D', 'Cropping2D')
# Keras 1 (and minikeras) classes with a `dim_ordering` over images.
KERAS1_IMAGE_CLASSES = ('Convolution2D', 'MaxPooling2D', 'AveragePooling2D', 'ZeroPadding2D',
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
        elif major < 2 and class_name in KERAS1_IMAGE_CLASSES:
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
        if class_name in KERAS1_IMAGE_CLASSES and \
                getattr(layer, 'dim_ordering', None) in ('th', 'tf'):
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
                source_layout = other if relayout_kernel(kernel, other, target_layout).shape == \
                    expected else target_layout
    if source.backend == 'theano':      # Theano's true convolutions -> cross-correlation
        kernel = convert_kernel(kernel, source_layout)
    return np.ascontiguousarray(relayout_kernel(kernel, source_layout, target_layout))


def _kernel_axes(source_layout):
    """The transposition of a 2D convolution kernel out of `source_layout`:
    'th' (out, in, rows, cols) <-> 'tf' (rows, cols, in, out)."""
    return (2, 3, 1, 0) if source_layout == 'th' else (3, 2, 0, 1)


def relayout_kernel(kernel, source_layout, target_layout):
    """A 2D convolution kernel from one layout to the other.

    # Arguments
        kernel: a 4D array.
        source_layout, target_layout: 'th' (nb_filter, stack, rows, cols)
            or 'tf' (rows, cols, stack, nb_filter, as in Keras 2 and 3).
    """
    if source_layout == target_layout:
        return kernel
    return kernel.transpose(_kernel_axes(source_layout))


def kernel_axis_map(source_layout, target_layout):
    """Where each axis of a `source_layout` kernel goes in `target_layout`
    (see `relayout_kernel`), for the axes of kernel constraints; None when
    the layouts are the same.

    # Arguments
        source_layout, target_layout: 'th' or 'tf'.
    """
    if source_layout == target_layout:
        return None
    return {old: new for new, old in enumerate(_kernel_axes(source_layout))}


def map_axes(value, axis_map):
    """A constraint's axis (or list of axes) of a 4D kernel through
    `axis_map` (see `kernel_axis_map`); unchanged when `axis_map` is None.

    # Arguments
        value: an axis or a list of axes.
        axis_map: dict old axis -> new axis, or None.
    """
    if axis_map is None:
        return value
    if isinstance(value, (list, tuple)):
        return sorted(axis_map[a % 4] for a in value)
    return axis_map[value % 4]


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


def reorder_flattened_rows(kernel, image, source_order, target_order):
    """The rows of a Dense kernel fed by a Flatten, from one flattening order
    of an image to the other.

    # Arguments
        kernel: the (inputs, units) kernel.
        image: (channels, rows, cols) of the flattened image.
        source_order, target_order: 'chw' (channels-first flattening) or
            'hwc' (channels-last).
    """
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
            arrays[0] = reorder_flattened_rows(arrays[0], image, source_order, target_order)
    elif class_name in ('PReLU', 'ParametricSoftplus'):
        for i, (array, own) in enumerate(zip(arrays, layer.weights)):
            if array.ndim == 3 and array.shape != own.shape:
                for order in ((2, 0, 1), (1, 2, 0)):
                    if array.transpose(order).shape == own.shape:
                        arrays[i] = np.ascontiguousarray(array.transpose(order))
                        break
    return arrays


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
        return _convert_weights(layer, arrays, source, source.layers.get(saved_name, {}),
                                targets.get(id(layer), {}))
    return convert


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
    if class_name in ('MaxNorm', 'max_norm', 'maxnorm'):
        return {'name': 'MaxNorm', 'm': config.get('max_value', 2),
                'axis': map_axes(config.get('axis', 0), axis_map)}
    if class_name in ('NonNeg', 'non_neg', 'nonneg'):
        return {'name': 'NonNeg'}
    if class_name in ('UnitNorm', 'unit_norm', 'unitnorm'):
        return {'name': 'UnitNorm', 'axis': map_axes(config.get('axis', 0), axis_map)}
    raise ValueError('constraint %r has no Keras 1 equivalent' % (class_name,))


# Activations by name; all but hard_sigmoid are the same functions in Keras 3.
KERAS1_ACTIVATIONS = ('softmax', 'elu', 'softplus', 'softsign', 'relu', 'tanh', 'sigmoid',
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
    if name not in KERAS1_ACTIVATIONS:
        raise ValueError('activation %r has no Keras 1 equivalent (known: %s)'
                         % (name, ', '.join(KERAS1_ACTIVATIONS)))
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


def _weight_options_1(c, axis_map=None):
    """The regularizers, constraints and bias flag of a Dense or a
    convolution, the last arguments of their Keras 1 configs."""
    return {'W_regularizer': _regularizer_1(c.get('kernel_regularizer')),
            'b_regularizer': _regularizer_1(c.get('bias_regularizer')),
            'activity_regularizer': _regularizer_1(c.get('activity_regularizer')),
            'W_constraint': _constraint_1(c.get('kernel_constraint'), axis_map),
            'b_constraint': _constraint_1(c.get('bias_constraint')),
            'bias': bool(c.get('use_bias', True))}


# (config, major) -> (Keras 1 class name, Keras 1 config without name/trainable)
def _conv2d_1(c, major):
    for key in ('dilation_rate',):
        if any(int(v) != 1 for v in _pair(c.get(key, 1))):
            raise ValueError('%s=%r is not supported by minikeras' % (key, c.get(key)))
    if int(c.get('groups', 1) or 1) != 1:
        raise ValueError('groups=%r is not supported by minikeras' % (c.get('groups'),))
    rows, cols = _pair(c['kernel_size'])
    ordering = _ordering_of(c.get('data_format'))
    config = {'nb_filter': int(c['filters']), 'nb_row': rows, 'nb_col': cols,
              'init': _initializer_1(c.get('kernel_initializer')),
              'activation': _activation_1(c.get('activation'), major),
              'border_mode': _padding_1(c), 'subsample': _pair(c.get('strides', 1)),
              'dim_ordering': ordering}
    config.update(_weight_options_1(c, kernel_axis_map('tf', ordering)))
    return 'Convolution2D', config


def _conv1d_1(c, major):
    if any(int(v) != 1 for v in np.atleast_1d(c.get('dilation_rate', 1))):
        raise ValueError('dilation_rate=%r is not supported by minikeras'
                         % (c.get('dilation_rate'),))
    if str(c.get('data_format', 'channels_last')) != 'channels_last':
        raise ValueError('Conv1D with data_format=%r is not supported by minikeras'
                         % (c.get('data_format'),))
    config = {'nb_filter': int(c['filters']),
              'filter_length': int(np.atleast_1d(c['kernel_size'])[0]),
              'init': _initializer_1(c.get('kernel_initializer')),
              'activation': _activation_1(c.get('activation'), major),
              'border_mode': _padding_1(c),
              'subsample_length': int(np.atleast_1d(c.get('strides', 1))[0])}
    config.update(_weight_options_1(c))
    return 'Convolution1D', config


def _dense_1(c, major):
    config = {'output_dim': int(c['units']), 'init': _initializer_1(c.get('kernel_initializer')),
              'activation': _activation_1(c.get('activation'), major)}
    config.update(_weight_options_1(c))
    return 'Dense', config


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


def _global_pool_1(class_name):
    def translate(c, major):
        if c.get('keepdims'):
            raise ValueError('keepdims=True is not supported by minikeras')
        if class_name.endswith('2D'):
            return class_name, {'dim_ordering': _ordering_of(c.get('data_format'))}
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
    'GlobalMaxPooling2D': _global_pool_1('GlobalMaxPooling2D'),
    'GlobalMaxPool2D': _global_pool_1('GlobalMaxPooling2D'),
    'GlobalAveragePooling2D': _global_pool_1('GlobalAveragePooling2D'),
    'GlobalAvgPool2D': _global_pool_1('GlobalAveragePooling2D'),
    'GlobalMaxPooling1D': _global_pool_1('GlobalMaxPooling1D'),
    'GlobalAveragePooling1D': _global_pool_1('GlobalAveragePooling1D'),
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
