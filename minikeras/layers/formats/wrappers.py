"""File formats of the wrappers (`layers/wrappers.py`): the wrapped layer's
adapter does the work, inside the wrapper's config and weight group."""
from ...engine.container import Container
from ...engine.layer_formats import ExportedTensor, ExportError, LayerFormat, format_of, \
    register_format
from ..wrappers import TimeDistributed


# -- TimeDistributed -------------------------------------------------------------------------

def _time_distributed_1(c, major):
    from ...engine.keras_formats import translate_layer_config
    inner = c.get('layer')
    if not isinstance(inner, dict) or 'class_name' not in inner:
        raise ValueError('TimeDistributed config without the wrapped layer: %r' % (inner,))
    return 'TimeDistributed', {'layer': translate_layer_config(inner, major)}


def _time_distributed_weights_in(layer, arrays, source, info, target):
    if isinstance(layer.layer, Container):
        return arrays
    return format_of(layer.layer).weights_in(layer.layer, arrays, source, {}, {})


def _time_distributed_3(layer, state, converted):
    inner = layer.layer
    inner_format = format_of(inner, inherited=False)
    if isinstance(inner, Container) or inner_format.keras3_out is None:
        raise ExportError('layer %s (TimeDistributed) wraps %s (%s), which has no Keras 3 '
                          'translation' % (layer.name, inner.name, type(inner).__name__))
    try:
        emitted, _ = inner_format.keras3_out(inner, ExportedTensor(inner.input_shape), converted)
    except ExportError as error:
        raise ExportError('layer %s (TimeDistributed): %s' % (layer.name, error))
    if len(emitted) != 1:
        raise ExportError('layer %s (TimeDistributed): its layer %s becomes %d Keras 3 layers; '
                          'only one can be wrapped' % (layer.name, inner.name, len(emitted)))
    class_name, config, weights = emitted[0]
    config = dict(config, name=inner.name + config.pop('_name_suffix', ''),
                  trainable=bool(inner.trainable), dtype='float32')
    weights = [('%s/%s' % (config['name'], suffix), value) for suffix, value in weights]
    # Keras 3 finds a wrapped layer's class by its module.
    wrapped = {'module': 'keras.layers', 'class_name': class_name, 'config': config,
               'registered_name': None}
    return [('TimeDistributed', {'layer': wrapped}, weights)], ExportedTensor(layer.output_shape)


register_format(TimeDistributed, LayerFormat(
    config_in=_time_distributed_1, weights_in=_time_distributed_weights_in,
    keras3_out=_time_distributed_3))
