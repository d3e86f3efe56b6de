"""`Merge` and `merge`: Keras 1's layer that combines several tensors into one."""
import numpy as np

from .base_layer import Layer, any_mask_flag
from .graph import KerasTensor, to_list


_MERGE_MODES = ('sum', 'mul', 'concat', 'ave', 'cos', 'dot', 'max')


def _batch_dot_subscripts(ndim1, ndim2, axes):
    letters = 'abcdefghijklmnopqrstuvwxyz'
    left = ['A'] + [letters[i] for i in range(ndim1 - 1)]
    right = ['A'] + [letters[ndim1 - 1 + i] for i in range(ndim2 - 1)]
    right[axes[1]] = left[axes[0]]
    out = ['A'] + [c for i, c in enumerate(left) if i not in (0, axes[0])] + \
        [c for i, c in enumerate(right) if i not in (0, axes[1])]
    return ''.join(left), ''.join(right), ''.join(out)


class Merge(Layer):
    """Merges a list of tensors (or the outputs of a list of models) into one.

    # Example
    ```python
        merged = Sequential()
        merged.add(Merge([left_model, right_model], mode='concat'))
    ```

    # Arguments
        layers: optional list of models or layers whose outputs to merge now
            (Keras 1's Sequential style); otherwise call the layer on tensors.
        mode: 'sum', 'mul', 'concat', 'ave', 'cos', 'dot', 'max', or a
            function of the list of inputs.
        concat_axis: axis for 'concat'.
        dot_axes: int or pair of ints, the axes contracted by 'dot' and 'cos'.
        output_shape: the output shape (without batch axis) or a function of
            the input shapes; needed when `mode` is a function.
        arguments: extra keyword arguments for a function `mode`.
        output_mask: for a function `mode`, the output's mask, or a function
            of the list of input masks that returns it.
        node_indices, tensor_indices: which call of each layer in `layers`
            to take the output of (default: the first).

    # Masks
        As Keras 1.2.2: 'sum', 'mul', 'ave' (and 'max') keep a step where
        every masked input keeps it; 'concat' joins the masks along
        `concat_axis` (an input without a mask counts as all steps kept);
        'cos' and 'dot' give no mask.
    """

    supports_masking = True

    def __init__(self, layers=None, mode='sum', concat_axis=-1, dot_axes=-1, output_shape=None,
                 output_mask=None, arguments=None, node_indices=None, tensor_indices=None,
                 name=None):
        super(Merge, self).__init__(name=name)
        if not callable(mode) and mode not in _MERGE_MODES:
            raise ValueError('Merge %s: mode must be one of %s or a function, got %r'
                             % (self.name, _MERGE_MODES, mode))
        self.mode = mode
        self.concat_axis = concat_axis
        self.dot_axes = dot_axes
        self._output_shape = output_shape
        self.arguments = dict(arguments or {})
        self._output_mask = output_mask
        self.node_indices = node_indices
        self.tensor_indices = tensor_indices
        self.layers = list(layers) if layers else None
        if layers:
            if not isinstance(layers, (list, tuple)) or len(layers) < 2:
                raise TypeError('Merge %s needs a list of at least 2 layers, got %r'
                                % (self.name, layers))
            node_indices = node_indices or [0] * len(layers)
            tensor_indices = tensor_indices or [0] * len(layers)
            tensors = []
            for layer, node_index, tensor_index in zip(layers, node_indices, tensor_indices):
                if getattr(layer, 'outputs', None) and not layer.inbound_nodes:
                    tensors.append(layer.outputs[tensor_index])  # a model: merge its output
                elif layer.inbound_nodes:
                    tensors.append(layer.inbound_nodes[node_index].output_tensors[tensor_index])
                else:
                    raise ValueError('Merge %s: layer %s is not connected to any input yet'
                                     % (self.name, layer.name))
            self(tensors)

    def _normalized_dot_axes(self, input_shapes):
        axes = self.dot_axes
        n1, n2 = len(input_shapes[0]), len(input_shapes[1])
        if isinstance(axes, int):
            axes = [axes % n1, axes % n2] if axes < 0 else [axes, axes]
        axes = list(axes)
        if len(axes) != 2 or not all(isinstance(a, int) for a in axes):
            raise ValueError('Merge %s: dot_axes must be an int or a pair of ints, got %r'
                             % (self.name, self.dot_axes))
        return [a % n for a, n in zip(axes, (n1, n2))]

    def get_output_shape_for(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise TypeError('Merge %s must be called on a list of at least 2 tensors, got %r'
                            % (self.name, input_shape))
        shapes = [tuple(s) for s in input_shape]
        if callable(self.mode):
            if callable(self._output_shape):
                return tuple(self._output_shape(shapes))
            if self._output_shape is not None:
                return (shapes[0][0],) + tuple(self._output_shape)
            raise ValueError('Merge %s has a function as mode: give output_shape too' % self.name)
        if self.mode in ('sum', 'mul', 'ave', 'max', 'cos') and \
                len({s[1:] for s in shapes}) > 1:
            raise ValueError('Merge %s: mode %r needs inputs of the same shape, got %s'
                             % (self.name, self.mode, shapes))
        if self.mode in ('sum', 'mul', 'ave', 'max'):
            return shapes[0]
        if self.mode == 'concat':
            axis = self.concat_axis
            rest = {s[:axis % len(s)] + s[axis % len(s) + 1:] for s in shapes}
            if len(rest) > 1 or len({len(s) for s in shapes}) > 1:
                raise ValueError('Merge %s: "concat" needs shapes that match except on axis %d, '
                                 'got %s' % (self.name, axis, shapes))
            out = list(shapes[0])
            sizes = [s[axis] for s in shapes]
            out[axis] = None if None in sizes else sum(sizes)
            return tuple(out)
        if len(shapes) != 2:
            raise ValueError('Merge %s: mode %r takes exactly 2 inputs, got %d'
                             % (self.name, self.mode, len(shapes)))
        axes = self._normalized_dot_axes(shapes)
        if shapes[0][axes[0]] != shapes[1][axes[1]]:
            raise ValueError('Merge %s: dimension mismatch for mode %r: %s != %s (shapes %s, %s)'
                             % (self.name, self.mode, shapes[0][axes[0]], shapes[1][axes[1]],
                                shapes[0], shapes[1]))
        if self.mode == 'cos' and len(shapes[0]) != 2:
            raise ValueError('Merge %s: mode "cos" supports 2D inputs (batch, features), got %s'
                             % (self.name, shapes))
        first = [d for i, d in enumerate(shapes[0]) if i != axes[0]]
        second = [d for i, d in enumerate(shapes[1]) if i not in (0, axes[1])]
        out = first + second
        return tuple(out + [1] if len(out) == 1 else out)

    def _output_mask_flags(self, input_flags):
        if self.mode in ('cos', 'dot') or input_flags and all(f is False for f in input_flags):
            return [False]
        if callable(self.mode):
            return [self._output_mask is not None]
        return [any_mask_flag(input_flags)]

    def compute_mask(self, inputs, mask=None):
        masks = to_list(mask) if mask is not None else []
        if all(m is None for m in masks):
            return None
        if len(masks) != len(inputs):
            raise ValueError('Merge %s: %d masks for %d inputs' % (self.name, len(masks),
                                                                  len(inputs)))
        if callable(self.mode):
            return self._output_mask(masks) if callable(self._output_mask) else self._output_mask
        if self.mode in ('cos', 'dot'):
            return None
        if self.mode == 'concat':
            axis = self.concat_axis % np.ndim(inputs[0])
            full = []
            for x, m in zip(inputs, masks):
                x_shape = np.shape(x)
                if m is None:
                    full.append(np.ones(x_shape, dtype=bool))
                else:
                    m = np.asarray(m, dtype=bool)
                    m = m.reshape(m.shape + (1,) * (len(x_shape) - m.ndim))
                    full.append(np.broadcast_to(m, x_shape))
            return np.all(np.concatenate(full, axis=axis), axis=-1)
        kept = None
        for m in masks:
            if m is not None:
                kept = np.asarray(m, dtype=bool) if kept is None else kept & m
        return kept

    def _call_on_tensors(self, x, training=None):
        y = super(Merge, self)._call_on_tensors(x, training)
        from .functions import graph_body, takes_gradients
        if callable(self.mode) and takes_gradients(self.mode):
            graph_body(self, x, self.mode(list(x), **self.arguments))
        return y

    def forward(self, inputs, training=False, need_input_grad=True, mask=None):
        xs = list(inputs)
        mode = self.mode
        if getattr(self, '_graph_body', None) is not None:
            return self._graph_body.forward(xs, training, need_input_grad)
        if callable(mode):
            from .. import autodiff
            y, backward = autodiff.vjp(lambda *args: mode(list(args), **self.arguments), *xs)
            return np.asarray(y, dtype='float32'), backward
        if mode in ('sum', 'ave'):
            scale = np.float32(1. / len(xs)) if mode == 'ave' else np.float32(1.)
            y = xs[0].copy()
            for x in xs[1:]:
                y += x
            if mode == 'ave':
                y *= scale
            return y, lambda dy: [dy * scale for _ in xs]
        if mode == 'mul':
            y = xs[0].copy()
            for x in xs[1:]:
                y *= x

            def backprop_mul(dy):
                grads = []
                for i in range(len(xs)):
                    g = dy.copy()
                    for j, x in enumerate(xs):
                        if j != i:
                            g *= x
                    grads.append(g)
                return grads
            return y, backprop_mul
        if mode == 'max':
            stacked = np.stack(xs)
            winner = np.argmax(stacked, axis=0)
            return stacked.max(axis=0), lambda dy: [dy * (winner == i) for i in range(len(xs))]
        if mode == 'concat':
            axis = self.concat_axis % xs[0].ndim
            bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
            return np.concatenate(xs, axis=axis), lambda dy: np.split(dy, bounds, axis=axis)
        a, b = xs
        axes = self._normalized_dot_axes([a.shape, b.shape])
        left, right, out = _batch_dot_subscripts(a.ndim, b.ndim, axes)
        if mode == 'dot':
            y = np.einsum('%s,%s->%s' % (left, right, out), a, b)
            y_shape = y.shape

            def backprop_dot(dy):
                dy = dy.reshape(y_shape)
                return [np.einsum('%s,%s->%s' % (out, right, left), dy, b),
                        np.einsum('%s,%s->%s' % (out, left, right), dy, a)]
            return y.reshape(y.shape + (1,) * (y.ndim == 1)), backprop_dot
        dot = np.sum(a * b, axis=1, keepdims=True)
        aa = np.sum(a * a, axis=1, keepdims=True)
        bb = np.sum(b * b, axis=1, keepdims=True)
        raw = np.sqrt(aa * bb)
        eps = np.float32(1e-7)
        norm = np.maximum(raw, eps)
        y = dot / norm

        def backprop_cos(dy):
            d_dot = dy / norm
            d_norm = -dy * dot / (norm * norm) * (raw >= eps)
            safe = np.where(raw > 0, raw, 1)
            da = d_dot * b + d_norm * (bb * a) / safe
            db = d_dot * a + d_norm * (aa * b) / safe
            return [da, db]
        return y, backprop_cos

    def get_config(self):
        config = {'name': self.name, 'mode': self.mode, 'concat_axis': self.concat_axis,
                  'dot_axes': self.dot_axes, 'output_shape': self._output_shape,
                  'arguments': self.arguments}
        if callable(self.mode) or callable(self._output_shape):
            from ..utils.generic_utils import func_dump
            if callable(self.mode):
                config['mode'] = func_dump(self.mode)
                config['mode_type'] = 'lambda'
            if callable(self._output_shape):
                config['output_shape'] = func_dump(self._output_shape)
                config['output_shape_type'] = 'lambda'
        if self._output_mask is not None:
            from ..utils.generic_utils import func_dump
            callable_mask = callable(self._output_mask)
            config['output_mask'] = func_dump(self._output_mask) if callable_mask \
                else self._output_mask
            if callable_mask:
                config['output_mask_type'] = 'lambda'
        return config

    @classmethod
    def from_config(cls, config):
        from ..utils.generic_utils import func_load
        config = dict(config)
        if config.pop('mode_type', None) == 'lambda':
            config['mode'] = func_load(config['mode'])
        if config.pop('output_shape_type', None) == 'lambda':
            config['output_shape'] = func_load(config['output_shape'])
        if config.pop('output_mask_type', None) == 'lambda':
            config['output_mask'] = func_load(config['output_mask'])
        return cls(**config)


def merge(inputs, mode='sum', concat_axis=-1, dot_axes=-1, output_shape=None, output_mask=None,
          arguments=None, name=None):
    """Merges a list of Keras tensors into one tensor (functional API).

    # Arguments
        inputs: list of Keras tensors (at least 2).
        mode, concat_axis, dot_axes, output_shape, output_mask, arguments,
            name: see `Merge`.

    # Returns
        The merged Keras tensor.
    """
    if not isinstance(inputs, (list, tuple)) or not all(isinstance(t, KerasTensor)
                                                        for t in inputs):
        raise TypeError('merge() takes a list of Keras tensors; for a list of arrays call '
                        'Merge(mode=...)(arrays), got %r' % (inputs,))
    layer = Merge(mode=mode, concat_axis=concat_axis, dot_axes=dot_axes,
                  output_shape=output_shape, output_mask=output_mask, arguments=arguments,
                  name=name)
    return layer(list(inputs))
