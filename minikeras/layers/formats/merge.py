"""File formats of Keras 1's `Merge` (`engine/merge.py`), read from Keras 2/3's
Add, Multiply, Average, Maximum, Concatenate and Dot, and written as them."""
from ...engine.layer_formats import (CF_TO_CL_AXIS, ExportedTensor, ExportError, LayerFormat,
                                     register_format)
from ...engine.merge import Merge


# Keras 2/3 configs in

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


# Keras 3 out

_MERGE_MODES_3 = {'sum': 'Add', 'mul': 'Multiply', 'ave': 'Average', 'max': 'Maximum',
                  'concat': 'Concatenate', 'dot': 'Dot'}


def _merge_3(layer, states, converted):
    if not isinstance(layer.mode, str) or layer.mode not in _MERGE_MODES_3:
        raise ExportError('layer %s: Merge mode %r has no Keras 3 equivalent'
                          % (layer.name, layer.mode))
    if any(s.flat is not None for s in states) or len({s.cf for s in states}) > 1:
        raise ExportError('layer %s: Merge of differently laid out tensors is not exported'
                          % layer.name)
    cf = states[0].cf
    config = {}
    if layer.mode == 'concat':
        ndim = len(states[0].shape)
        axis = layer.concat_axis % ndim
        config['axis'] = CF_TO_CL_AXIS[axis] if cf else axis
    if layer.mode == 'dot':
        if cf:
            raise ExportError('layer %s: dot Merge of images is not exported' % layer.name)
        axes = layer.dot_axes
        config['axes'] = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
        config['normalize'] = False
    return [(_MERGE_MODES_3[layer.mode], config, [])], ExportedTensor(layer.output_shape, cf=cf)


register_format(Merge, LayerFormat(
    config_in={'Add': _merge_1('sum'), 'Multiply': _merge_1('mul'), 'Average': _merge_1('ave'),
               'Maximum': _merge_1('max'), 'Concatenate': _merge_1('concat'),
               'Dot': _merge_1('dot')},
    keras3_out=_merge_3, many_inputs=True, takes_trainable=False))
