"""File formats of Keras 1's `Merge` (`engine/merge.py`), read from Keras 2/3's
Add, Multiply, Average, Maximum, Concatenate and Dot, and written as them; and
Keras 2's merge layers (`layers/merge.py`), written as Keras 3's of their name."""
from ...engine.layer_formats import (CF_TO_CL_AXIS, ExportedTensor, ExportError, LayerFormat,
                                     register_format)
from ...engine.merge import Merge
from ..merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,
                     Subtract)


# Keras 2/3 configs in

def _merge_1(mode):
    def translate(c, major):
        config = {'mode': mode}
        if mode == 'concat':
            config['concat_axis'] = int(c.get('axis', -1))
        if mode == 'dot':
            axes = c.get('axes', -1)
            if c.get('normalize'):     # cosine proximity: Keras 2's Dot has it, Merge not
                return 'Dot', {'axes': axes, 'normalize': True}
            config['dot_axes'] = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
        return 'Merge', config
    return translate


# Keras 3 out

_MERGE_MODES_3 = {'sum': 'Add', 'mul': 'Multiply', 'ave': 'Average', 'max': 'Maximum',
                  'concat': 'Concatenate', 'dot': 'Dot'}


def _merge_layout(layer, states):
    """Whether the merged tensors are channels-first images turned
    channels-last by the export; all must be laid out alike."""
    if any(s.flat is not None for s in states) or len({s.cf for s in states}) > 1:
        raise ExportError('layer %s: Merge of differently laid out tensors is not exported'
                          % layer.name)
    return states[0].cf


def _merge_config_3(layer, states, class_name, concat_axis=None, dot_axes=None,
                    normalize=False):
    """The Keras 3 layer `class_name` that merges as `layer` does."""
    cf = _merge_layout(layer, states)
    config = {}
    if class_name == 'Concatenate':
        axis = concat_axis % len(states[0].shape)
        config['axis'] = CF_TO_CL_AXIS[axis] if cf else axis
    if class_name == 'Dot':
        if cf:
            raise ExportError('layer %s: dot Merge of images is not exported' % layer.name)
        config['axes'] = list(dot_axes) if isinstance(dot_axes, (list, tuple)) \
            else [dot_axes, dot_axes]
        config['normalize'] = bool(normalize)
    return [(class_name, config, [])], ExportedTensor(layer.output_shape, cf=cf)


def _merge_3(layer, states, converted):
    if not isinstance(layer.mode, str) or layer.mode not in _MERGE_MODES_3:
        raise ExportError('layer %s: Merge mode %r has no Keras 3 equivalent'
                          % (layer.name, layer.mode))
    return _merge_config_3(layer, states, _MERGE_MODES_3[layer.mode],
                           concat_axis=layer.concat_axis, dot_axes=layer.dot_axes)


def _keras2_merge_3(layer, states, converted):
    return _merge_config_3(layer, states, type(layer).__name__,
                           concat_axis=getattr(layer, 'axis', None),
                           dot_axes=getattr(layer, 'axes', None),
                           normalize=getattr(layer, 'normalize', False))


# Registered first, so that Keras 2/3 files keep being read as Merge below.
for _keras2_merge in (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot):
    # Subtract and Minimum have no Merge mode: files name them, and they are read as themselves
    register_format(_keras2_merge, LayerFormat(
        config_in=(lambda c, major, name=_keras2_merge.__name__: (name, {}))
        if _keras2_merge in (Subtract, Minimum) else None,
        keras3_out=_keras2_merge_3, many_inputs=True, takes_trainable=False))
register_format(Merge, LayerFormat(
    config_in={'Add': _merge_1('sum'), 'Multiply': _merge_1('mul'), 'Average': _merge_1('ave'),
               'Maximum': _merge_1('max'), 'Concatenate': _merge_1('concat'),
               'Dot': _merge_1('dot')},
    keras3_out=_merge_3, many_inputs=True, takes_trainable=False))
