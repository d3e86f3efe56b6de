"""`export_to_keras3`: a minikeras model as a Keras 3 legacy `.h5` file,
with Keras 3 class names, arguments and weight layouts (channels-first
image models become channels-last). Each layer is written by its class's
adapter (`layer_formats`); this module walks the model and writes the file."""
import numpy as np

from ..utils.io_utils import (check_layer_names, json_attr, write_hdf5, write_model_header,
                              write_names, write_weights_group)
from .container import Container
from .layer_formats import ExportedTensor, ExportError, exportable_names, format_of

KERAS3_EXPORT_VERSION = '3.0.0'

_LOSSES_3 = ('categorical_crossentropy', 'sparse_categorical_crossentropy', 'binary_crossentropy',
             'mean_squared_error', 'mean_absolute_error', 'mean_absolute_percentage_error',
             'mean_squared_logarithmic_error', 'hinge', 'squared_hinge', 'poisson',
             'categorical_hinge')
# Keras 3 (3.15) cannot load a legacy .h5 whose training config names a loss by its short
# alias ("Could not deserialize 'keras.metrics.mse'"), so the export writes the full name.
_LOSS_ALIASES = {'mse': 'mean_squared_error', 'mae': 'mean_absolute_error',
                 'mape': 'mean_absolute_percentage_error', 'msle': 'mean_squared_logarithmic_error'}


def _is_converted(model):
    """Whether the model has channels-first image layers (exported channels-last)."""
    for layer in model.layers:
        layer_format = format_of(layer, inherited=False)
        if (layer_format.role == 'image' or layer_format.reads_images) and \
                getattr(layer, 'dim_ordering', None) == 'th':
            return True
    return False


def _keras3_input_shape(shape, converted):
    shape = list(shape)
    if converted and len(shape) == 4:
        shape = [shape[0], shape[2], shape[3], shape[1]]
    return shape


def _keras3_graph(model):
    """The exported layers: [(name, class_name, config, weights, inbound refs)],
    the model's input and output refs, and whether it was converted."""
    converted = _is_converted(model)
    for layer in model.layers:
        if isinstance(layer, Container) or getattr(layer, 'layers', None):
            raise ExportError('layer %s holds nested models; rebuild it as one functional model '
                              'to export it' % layer.name)
    sequential = model.config_class_name == 'Sequential'
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
            raise ExportError('model %s has no input' % model.name)
    else:
        by_name = {layer.name: layer for layer in model.layers}
        config = model.get_config()
        steps = []
        for entry in config['layers']:
            nodes = entry.get('inbound_nodes') or []
            if len(nodes) > 1:
                raise ExportError('layer %s is shared (called %d times); shared layers are not '
                                  'exported' % (entry['name'], len(nodes)))
            steps.append((by_name[entry['name']], [ref[0] for ref in nodes[0]] if nodes else []))
        inputs = [ref[0] for ref in config['input_layers']]
        outputs = [ref[0] for ref in config['output_layers']]
    states, alias, exported = {}, {}, []
    for layer, inbound in steps:
        class_name = type(layer).__name__
        if not layer.inbound_nodes or not layer.inbound_nodes[0].input_tensors:
            # An input of the model (an InputLayer).
            shape = tuple(layer.batch_input_shape)
            states[layer.name] = ExportedTensor(shape, cf=converted and len(shape) == 4)
            config = {'batch_shape': _keras3_input_shape(shape, converted), 'dtype': 'float32',
                      'sparse': False, 'name': layer.name}
            exported.append((layer.name, 'InputLayer', config, [], []))
            continue
        in_states = [states[name] for name in inbound]
        in_refs = [alias.get(name, name) for name in inbound]
        layer_format = format_of(layer, inherited=False)
        if layer_format.keras3_out is None:
            raise ExportError('layer %s has class %s, which has no Keras 3 translation '
                              '(known: %s)' % (layer.name, class_name,
                                               ', '.join(exportable_names())))
        if layer_format.many_inputs:
            emitted, out_state = layer_format.keras3_out(layer, in_states, converted)
        elif len(in_states) != 1:
            raise ExportError('layer %s (%s) has %d inputs' % (layer.name, class_name,
                                                               len(in_states)))
        else:
            emitted, out_state = layer_format.keras3_out(layer, in_states[0], converted)
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
            raise ExportError('output %s is a flattened channels-first image; end the model with '
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
        loss = _LOSS_ALIASES.get(loss, loss)
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
