"""One file-format adapter per layer class, looked up by class.

A layer family registers, next to its layers (`minikeras/layers/formats/`),
one `LayerFormat` per class: how to read its Keras 2/3 config as Keras 1's,
how to bring its saved arrays (every historical layout) into the layout the
layer holds, and how to write it for Keras 3. The engine (`keras_formats`,
`keras3_export`) asks `format_of(layer)` or `format_of_saved(class_name)`
and never names a layer.

This module also holds the translations that many layers share: Keras 1 and
Keras 3 spellings of initializers, regularizers, constraints, activations
and paddings, and the layouts of convolution kernels.
"""
import numpy as np


class ExportError(ValueError):
    """A layer or an option that Keras 3 has no exact equivalent of."""


class LayerFormat(object):
    """How one layer class is read from and written to the files of every
    Keras generation. Each part is optional: a part left None means the
    layer cannot be read from Keras 2/3 configs, or exported to Keras 3.

    # Arguments
        saved_names: class names of Keras 2/3 configs read as this layer
            (Keras 1's own name is always known).
        config_in: `(config, major) -> (Keras 1 class name, Keras 1 config)`
            for a Keras 2/3 layer config (`name`, `trainable` and the input
            shape are added by the engine); or a dict of such functions by
            saved class name, when several Keras 2/3 classes become this one.
        weights_in: `(layer, arrays, source, info, target) -> arrays`: a
            file's arrays for `layer` in the layouts the layer holds.
            `source` says what wrote the file (`keras_major`, `backend`);
            `info` is what the file's config says about this layer
            (`ordering`, `flatten_order`); `target` the same about the model.
            Default: the arrays as they are.
        keras3_out: `(layer, state, converted) -> (emitted, state)`: Keras 3
            layers `[(class_name, config, [(weight suffix, array)])]` and the
            `ExportedTensor` of the output; `state` describes the input (a
            list of them when `many_inputs`).
        many_inputs: whether `keras3_out` takes a list of input states.
        role: the layer's part in a chain from images to a Dense, which
            decides the row order of a Dense after a Flatten: 'image' (image
            in, image out, in its `dim_ordering`/`data_format`), 'flatten',
            'dense', 'keep' (keeps the order of its input), or None.
        reads_images: an image input in its `dim_ordering` that is not an
            'image' layer (global pooling): the export makes it channels-last.
        takes_trainable: whether its Keras 1 config has `trainable`.
    """

    def __init__(self, saved_names=(), config_in=None, weights_in=None, keras3_out=None,
                 many_inputs=False, role=None, reads_images=False, takes_trainable=True):
        if isinstance(config_in, dict):
            saved_names = tuple(saved_names) + tuple(config_in)
        self.saved_names = tuple(saved_names)
        self.config_in = config_in
        self.weights_in = weights_in or (lambda layer, arrays, source, info, target: arrays)
        self.keras3_out = keras3_out
        self.many_inputs = many_inputs
        self.role = role
        self.reads_images = reads_images
        self.takes_trainable = takes_trainable

    def reads(self, class_name):
        """Whether it reads Keras 2/3 configs of class `class_name`."""
        if isinstance(self.config_in, dict):
            return class_name in self.config_in
        return self.config_in is not None

    def read_config(self, class_name, config, major):
        """A Keras 2/3 config of class `class_name` as `(Keras 1 class name,
        Keras 1 config)`."""
        if isinstance(self.config_in, dict):
            return self.config_in[class_name](config, major)
        return self.config_in(config, major)


_BY_CLASS = {}
_BY_SAVED_NAME = {}
_LATER_NAMES = set()
_NO_FORMAT = LayerFormat()


def register_format(layer_class, layer_format):
    """Makes `layer_format` the adapter of `layer_class` (and its subclasses
    without one of their own), and of the class names in its `saved_names`."""
    _BY_CLASS[layer_class] = layer_format
    for name in (layer_class.__name__,) + layer_format.saved_names:
        _BY_SAVED_NAME[name] = layer_format
    _LATER_NAMES.update(set(layer_format.saved_names) - {layer_class.__name__})


def register_saved_role(names, role):
    """Keras 2/3 classes that minikeras does not build but whose place in a
    file's chain of layers matters (an element-wise layer between a Flatten
    and its Dense)."""
    for name in names:
        _BY_SAVED_NAME.setdefault(name, LayerFormat(role=role))


def format_of(layer, inherited=True):
    """The adapter of `layer`'s class, else (with `inherited`) of its nearest
    registered base class; else an adapter that can do nothing.

    A subclass shares its base's weight layouts, but may compute something
    else: the Keras 3 export asks with `inherited=False`."""
    for cls in type(layer).__mro__ if inherited else [type(layer)]:
        if cls in _BY_CLASS:
            return _BY_CLASS[cls]
    return _NO_FORMAT


def format_of_saved(class_name):
    """The adapter for a class name found in a file's config, or None."""
    return _BY_SAVED_NAME.get(class_name)


def readable_names():
    """The class names of Keras 2/3 configs that minikeras can read."""
    return sorted(name for name, fmt in _BY_SAVED_NAME.items() if fmt.reads(name))


def later_generation_names():
    """Class names that only Keras 2/3 configs use (Conv2D, Add, ...)."""
    return set(_LATER_NAMES)


def exportable_names():
    """The minikeras classes that can be written for Keras 3."""
    return sorted(cls.__name__ for cls, fmt in _BY_CLASS.items() if fmt.keras3_out is not None)


# ---------------------------------------------------------------------------
# Kernel layouts
# ---------------------------------------------------------------------------

def ordering_of(data_format):
    """Keras 1's dim_ordering for a Keras 2/3 data_format."""
    return 'th' if data_format == 'channels_first' else 'tf'


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


# ---------------------------------------------------------------------------
# Keras 2/3 spellings read as Keras 1's
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


def keras1_initializer(spec, default='glorot_uniform'):
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


def keras1_regularizer(spec):
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


def keras1_constraint(spec, axis_map=None):
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


def keras1_activation(spec, major):
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


def pair(value):
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return (int(value[0]), int(value[0]))
        return (int(value[0]), int(value[1]))
    return (int(value), int(value))


def keras1_padding(config):
    padding = str(config.get('padding', 'valid')).lower()
    if padding not in ('valid', 'same'):
        raise ValueError('padding %r has no Keras 1 equivalent' % (padding,))
    return padding


def keras1_weight_options(c, axis_map=None):
    """The regularizers, constraints and bias flag of a Dense or a
    convolution, the last arguments of their Keras 1 configs."""
    return {'W_regularizer': keras1_regularizer(c.get('kernel_regularizer')),
            'b_regularizer': keras1_regularizer(c.get('bias_regularizer')),
            'activity_regularizer': keras1_regularizer(c.get('activity_regularizer')),
            'W_constraint': keras1_constraint(c.get('kernel_constraint'), axis_map),
            'b_constraint': keras1_constraint(c.get('bias_constraint')),
            'bias': bool(c.get('use_bias', True))}


# ---------------------------------------------------------------------------
# Keras 1 spellings written as Keras 3's
# ---------------------------------------------------------------------------

_INITIALIZERS_3 = {
    'uniform': ('RandomUniform', {'minval': -0.05, 'maxval': 0.05}),
    'normal': ('RandomNormal', {'mean': 0., 'stddev': 0.05}),
    'lecun_uniform': ('LecunUniform', {}), 'glorot_normal': ('GlorotNormal', {}),
    'glorot_uniform': ('GlorotUniform', {}), 'he_normal': ('HeNormal', {}),
    'he_uniform': ('HeUniform', {}), 'orthogonal': ('Orthogonal', {'gain': 1.1}),
    'identity': ('Identity', {}), 'zero': ('Zeros', {}), 'one': ('Ones', {}),
}
# Axis of a channels-first image tensor -> the same axis once channels-last.
CF_TO_CL_AXIS = {1: 3, 2: 1, 3: 2}


def keras3_initializer(init):
    """A Keras 1 init (name or function) as a Keras 3 initializer config."""
    name = init if isinstance(init, str) else getattr(init, '__name__', '')
    class_name, config = _INITIALIZERS_3.get(name, ('GlorotUniform', {}))
    return {'class_name': class_name, 'config': dict(config)}


def keras3_activation(layer, function):
    """The Keras 3 name of `layer`'s activation; ExportError where Keras 3 differs."""
    name = getattr(function, '__name__', str(function))
    if name == 'hard_sigmoid':
        raise ExportError("layer %s: Keras 3's hard_sigmoid is relu6(x + 3) / 6, not Keras 1's "
                          "clip(0.2 * x + 0.5, 0, 1); predictions would differ" % layer.name)
    if name not in KERAS1_ACTIVATIONS:     # hard_sigmoid is refused above
        raise ExportError('layer %s: activation %r has no Keras 3 equivalent' % (layer.name, name))
    return name


def keras3_regularizer(regularizer):
    """A Keras 1 weight or activity regularizer as Keras 3's L1L2 config."""
    if regularizer is None:
        return None
    config = regularizer.get_config()
    if config.get('name') not in ('L1L2Regularizer', 'Regularizer'):
        raise ExportError('regularizer %s has no Keras 3 equivalent' % config.get('name'))
    return {'class_name': 'L1L2', 'config': {'l1': float(config.get('l1', 0.)),
                                             'l2': float(config.get('l2', 0.))}}


def keras3_constraint(layer, constraint, axis_map=None):
    """A Keras 1 constraint as Keras 3's, its kernel axes moved through `axis_map`."""
    if constraint is None:
        return None
    config = constraint.get_config()
    name = config.get('name', type(constraint).__name__)
    if name == 'MaxNorm':
        return {'class_name': 'MaxNorm', 'config': {
            'max_value': config.get('m', 2), 'axis': map_axes(config.get('axis', 0), axis_map)}}
    if name == 'NonNeg':
        return {'class_name': 'NonNeg', 'config': {}}
    if name == 'UnitNorm':
        return {'class_name': 'UnitNorm',
                'config': {'axis': map_axes(config.get('axis', 0), axis_map)}}
    raise ExportError('layer %s: constraint %s has no Keras 3 equivalent' % (layer.name, name))


def keras3_weight_options(layer, axis_map=None):
    """The regularizers and constraints of a Dense or a convolution, the
    last arguments of their Keras 3 configs."""
    return {'kernel_regularizer': keras3_regularizer(layer.W_regularizer),
            'bias_regularizer': keras3_regularizer(layer.b_regularizer),
            'activity_regularizer': keras3_regularizer(layer.activity_regularizer),
            'kernel_constraint': keras3_constraint(layer, layer.W_constraint, axis_map),
            'bias_constraint': keras3_constraint(layer, layer.b_constraint)}


class ExportedTensor(object):
    """How a minikeras tensor is held in the exported model.

    `cf`: a channels-first ('th') image that Keras 3 holds channels-last;
    `flat`: (channels, rows, cols) of such an image flattened by a Flatten
    whose Dense still has to reorder its rows; `shape`: the minikeras shape.
    """

    def __init__(self, shape, cf=False, flat=None):
        self.shape, self.cf, self.flat = tuple(shape), cf, flat

    def plain(self):
        return not self.cf and self.flat is None


def check_image_layer_3(layer, state, converted):
    """Refuses an image layer whose input is not laid out as it expects."""
    if layer.dim_ordering == 'th' and not state.cf:
        raise ExportError('layer %s (%s, channels-first) gets a tensor that is not a '
                          'channels-first image of the model' % (layer.name, type(layer).__name__))
    if layer.dim_ordering == 'tf' and converted:
        raise ExportError('layer %s (%s) is channels-last in a model with channels-first image '
                          'layers; mixed orderings are not exported' % (layer.name,
                                                                        type(layer).__name__))


def image_passthrough_3(class_name, make_config):
    """An image layer without weights whose output keeps its input's layout."""
    def export(layer, state, converted):
        check_image_layer_3(layer, state, converted)
        return [(class_name, make_config(layer), [])], \
            ExportedTensor(layer.output_shape, cf=state.cf)
    return export


def elementwise_3(class_name, make_config):
    """A layer without weights that keeps its input's layout (and shape)."""
    def export(layer, state, converted):
        return [(class_name, make_config(layer), [])], \
            ExportedTensor(layer.output_shape, cf=state.cf, flat=state.flat)
    return export


def plain_only_3(class_name, make_config):
    """A layer without weights that only takes inputs not converted to channels-last."""
    def export(layer, state, converted):
        if not state.plain():
            raise ExportError('layer %s (%s) on a channels-first image is not exported'
                              % (layer.name, type(layer).__name__))
        return [(class_name, make_config(layer), [])], ExportedTensor(layer.output_shape)
    return export
