"""`export_to_keras3`: a minikeras model as a Keras 3 legacy `.h5` file,
with Keras 3 class names, arguments and weight layouts (channels-first
image models become channels-last)."""
import numpy as np

from ..utils.io_utils import (check_layer_names, json_attr, write_hdf5, write_model_header,
                              write_names, write_weights_group)
from .keras_formats import (KERAS1_ACTIVATIONS, KERAS1_IMAGE_CLASSES, kernel_axis_map, map_axes,
                            relayout_kernel, reorder_flattened_rows)

KERAS3_EXPORT_VERSION = '3.0.0'

_INITIALIZERS_3 = {
    'uniform': ('RandomUniform', {'minval': -0.05, 'maxval': 0.05}),
    'normal': ('RandomNormal', {'mean': 0., 'stddev': 0.05}),
    'lecun_uniform': ('LecunUniform', {}), 'glorot_normal': ('GlorotNormal', {}),
    'glorot_uniform': ('GlorotUniform', {}), 'he_normal': ('HeNormal', {}),
    'he_uniform': ('HeUniform', {}), 'orthogonal': ('Orthogonal', {'gain': 1.1}),
    'identity': ('Identity', {}), 'zero': ('Zeros', {}), 'one': ('Ones', {}),
}
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
    if name not in KERAS1_ACTIVATIONS:     # hard_sigmoid is refused above
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
    if name == 'MaxNorm':
        return {'class_name': 'MaxNorm', 'config': {
            'max_value': config.get('m', 2), 'axis': map_axes(config.get('axis', 0), axis_map)}}
    if name == 'NonNeg':
        return {'class_name': 'NonNeg', 'config': {}}
    if name == 'UnitNorm':
        return {'class_name': 'UnitNorm',
                'config': {'axis': map_axes(config.get('axis', 0), axis_map)}}
    raise _ExportError('layer %s: constraint %s has no Keras 3 equivalent' % (layer.name, name))


def _weight_options_3(layer, axis_map=None):
    """The regularizers and constraints of a Dense or a convolution, the
    last arguments of their Keras 3 configs."""
    return {'kernel_regularizer': _regularizer_3(layer.W_regularizer),
            'bias_regularizer': _regularizer_3(layer.b_regularizer),
            'activity_regularizer': _regularizer_3(layer.activity_regularizer),
            'kernel_constraint': _constraint_3(layer, layer.W_constraint, axis_map),
            'bias_constraint': _constraint_3(layer, layer.b_constraint)}


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
    weights = [('kernel', relayout_kernel(layer.weights[0], layer.dim_ordering, 'tf'))]
    if layer.bias:
        weights.append(('bias', layer.weights[1]))
    config = {'filters': layer.nb_filter, 'kernel_size': [layer.nb_row, layer.nb_col],
              'strides': list(layer.subsample), 'padding': layer.border_mode,
              'data_format': 'channels_last', 'dilation_rate': [1, 1], 'groups': 1,
              'activation': _activation_3(layer, layer.activation), 'use_bias': bool(layer.bias),
              'kernel_initializer': _initializer_3(layer.init),
              'bias_initializer': {'class_name': 'Zeros', 'config': {}}}
    config.update(_weight_options_3(layer, kernel_axis_map(layer.dim_ordering, 'tf')))
    return [('Conv2D', config, weights)], _Tensor(layer.output_shape,
                                                  cf=layer.dim_ordering == 'th')


def _image_3(class_name, make_config):
    """An image layer without weights whose output keeps its input's layout."""
    def export(layer, state, converted):
        _image_layer_3(layer, state, converted)
        return [(class_name, make_config(layer), [])], _Tensor(layer.output_shape, cf=state.cf)
    return export


def _pool2d_config_3(layer):
    return {'pool_size': list(layer.pool_size), 'strides': list(layer.strides),
            'padding': layer.border_mode, 'data_format': 'channels_last'}


def _global_pool2d_3(class_name):
    def export(layer, state, converted):
        _image_layer_3(layer, state, converted)
        return [(class_name, {'data_format': 'channels_last'}, [])], _Tensor(layer.output_shape)
    return export


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
        kernel = reorder_flattened_rows(kernel, state.flat, 'chw', 'hwc')
    weights = [('kernel', kernel)]
    if layer.bias:
        weights.append(('bias', layer.weights[1]))
    config = {'units': layer.output_dim, 'activation': _activation_3(layer, layer.activation),
              'use_bias': bool(layer.bias), 'kernel_initializer': _initializer_3(layer.init),
              'bias_initializer': {'class_name': 'Zeros', 'config': {}}}
    config.update(_weight_options_3(layer))
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
              'kernel_initializer': _initializer_3(layer.init)}
    config.update(_weight_options_3(layer))
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
    'MaxPooling2D': _image_3('MaxPooling2D', _pool2d_config_3),
    'AveragePooling2D': _image_3('AveragePooling2D', _pool2d_config_3),
    'MaxPooling1D': _pool1d_3('MaxPooling1D'), 'AveragePooling1D': _pool1d_3('AveragePooling1D'),
    'GlobalMaxPooling2D': _global_pool2d_3('GlobalMaxPooling2D'),
    'GlobalAveragePooling2D': _global_pool2d_3('GlobalAveragePooling2D'),
    'GlobalMaxPooling1D': _plain_only_3('GlobalMaxPooling1D',
                                        lambda l: {'data_format': 'channels_last'}),
    'GlobalAveragePooling1D': _plain_only_3('GlobalAveragePooling1D',
                                            lambda l: {'data_format': 'channels_last'}),
    'ZeroPadding2D': _image_3('ZeroPadding2D', lambda l: {
        'padding': [[l.top_pad, l.bottom_pad], [l.left_pad, l.right_pad]],
        'data_format': 'channels_last'}),
    'Cropping2D': _image_3('Cropping2D', lambda l: {
        'cropping': [[int(v) for v in pair] for pair in l.cropping],
        'data_format': 'channels_last'}),
    'UpSampling2D': _image_3('UpSampling2D', lambda l: {
        'size': list(l.size), 'data_format': 'channels_last', 'interpolation': 'nearest'}),
    'Flatten': _flatten_3, 'Dense': _dense_3,
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
    return any(type(layer).__name__ in KERAS1_IMAGE_CLASSES + ('GlobalMaxPooling2D',
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
    from ..models import Sequential
    from .container import Container
    from .input_layer import InputLayer
    converted = _is_converted(model)
    for layer in model.layers:
        if isinstance(layer, Container) or getattr(layer, 'layers', None):
            raise _ExportError('layer %s holds nested models; rebuild it as one functional model '
                               'to export it' % layer.name)
    sequential = isinstance(model, Sequential)
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
    check_layer_names(model)
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

    weights = [(name, [('%s/%s' % (name, suffix), np.asarray(value, dtype='float32'))
                       for suffix, value in layer_weights])
               for name, _, _, layer_weights, _ in saved_layers]

    def write(f):
        write_model_header(f, KERAS3_EXPORT_VERSION, model_config)
        if training_config is not None:
            f.attrs['training_config'] = json_attr(training_config)
        group = f.create_group('model_weights')
        write_weights_group(group, weights, KERAS3_EXPORT_VERSION)
        write_names(group.create_group('top_level_model_weights'), 'weight_names', [])

    write_hdf5(filepath, write, overwrite)
    return converted
