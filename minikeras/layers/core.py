"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector,
ActivityRegularization, Lambda, SpatialDropout1D/2D, MaxoutDense, Highway,
TimeDistributedDense."""
import warnings

import numpy as np

from .. import activations, constraints, initializations, regularizers
from .. import backend as K  # noqa: F401  (functions loaded from configs use it)
from ..compat import keras0, keras2
from ..engine.base_layer import Layer
from ..kernels import dropout as kernel_dropout
from ..kernels import threads as kernel_threads
from ..engine.merge import Merge  # noqa: F401  (Keras 1 exported Merge here too)
from ..utils.conv_utils import resolve_dim_ordering
from ..utils.layer_checks import (check_features, check_rank, fraction, input_shape_from_dim,
                                  layer_label, noise_mask_shape, positive_int)


class Dense(Layer):
    """A densely-connected layer: `output = activation(dot(input, W) + b)`.

    # Example
    ```python
        model.add(Dense(128, init='normal', input_dim=784))
    ```

    # Arguments
        output_dim: int > 0, the number of units.
        init: name of the initialization for `W` (see `initializations`).
        activation: name of the activation function (linear when None).
        weights: list of arrays [W, b] to start from.
        W_regularizer, b_regularizer: optional weight penalties.
        activity_regularizer: optional penalty on the output.
        W_constraint, b_constraint: optional weight constraints.
        bias: whether to include the bias `b`.
        input_dim: input size; only for the first layer of a model.
        bias_init: initialization of `b` (zeros).

    Keras 2's spelling is accepted too: `Dense(units, activation,
    use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
    bias_regularizer, activity_regularizer, kernel_constraint,
    bias_constraint)` (see `compat/keras2.py`).

    # Input shape
        nD array `(nb_samples, ..., input_dim)`, most often 2D
        `(nb_samples, input_dim)`; as in Keras 1.2.2, more axes apply the
        layer to each vector along the last one.

    # Output shape
        `(nb_samples, ..., output_dim)`.
    """

    # The training loop may leave the gradient buffers unzeroed before
    # backprop (`_gradients_unset`): the first backprop writes them.
    writes_first_gradient = True

    @keras2.keras2_arguments(keras2.DENSE)
    @keras0.legacy_arguments(keras0.dense_arguments)
    def __init__(self, output_dim, init='glorot_uniform', activation=None, weights=None,
                 W_regularizer=None, b_regularizer=None, activity_regularizer=None,
                 W_constraint=None, b_constraint=None, bias=True, input_dim=None,
                 bias_init='zero', **kwargs):
        super(Dense, self).__init__(weights=weights,
                                    **input_shape_from_dim(kwargs, input_dim))
        self.output_dim = positive_int(self, 'output_dim', output_dim)
        self.activation = activations.get(activation)
        _weight_layer_settings(self, init, W_regularizer, b_regularizer, activity_regularizer,
                               W_constraint, b_constraint, bias, bias_init)
        self.input_dim = input_dim

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError('%s expects input of shape (batch, ..., features) with a known last '
                             'axis, got shape %s' % (layer_label(self), tuple(input_shape)))
        self.input_dim = input_shape[-1]
        self.W = self.add_weight((self.input_dim, self.output_dim), self.init,
                                 name=self.name + '_W', regularizer=self.W_regularizer,
                                 constraint=self.W_constraint)
        self.b = None
        if self.bias:
            self.b = self.add_weight((self.output_dim,), self.bias_init, name=self.name + '_b',
                                     regularizer=self.b_regularizer,
                                     constraint=self.b_constraint)

    def get_output_shape_for(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_dim,)

    def forward(self, x, training=False, need_input_grad=True):
        shape = x.shape
        if x.ndim != 2:
            # Every vector along the last axis is one row of a 2D product.
            x = x.reshape(-1, shape[-1])
        z = kernel_threads.matmul(x, self.W)
        # z is this call's own array: relu, tanh and sigmoid overwrite it
        # with the output (their derivative needs the output only), in the
        # same pass as the bias.
        if self.b is not None:
            y = activations.apply_with_bias(self.activation, z, self.b)
        else:
            y = activations.apply(self.activation, z, in_place=True)

        def backprop(dy):
            dy = dy.reshape(z.shape)
            dz = activations.gradient(self.activation, z, y, dy)
            if self.weight_gradients_wanted:
                grads = self.gradients
                if self.__dict__.pop('_gradients_unset', False):
                    # the training loop left the buffers unzeroed for this first write
                    if kernel_threads.is_split(x.T, dz) and \
                            (not need_input_grad or kernel_threads.is_split(dz, self.W.T)):
                        dx = _first_gradients_in_one_call(x, dz, self.W, grads, self.b is not None,
                                                          need_input_grad)
                        return None if dx is None else dx.reshape(shape)
                    kernel_threads.matmul(x.T, dz, out=grads[0])
                    if self.b is not None:
                        np.sum(dz, axis=0, out=grads[1])
                else:
                    grads[0] += kernel_threads.matmul(x.T, dz)
                    if self.b is not None:
                        grads[1] += dz.sum(axis=0)
            if not need_input_grad:
                return None
            return kernel_threads.matmul(dz, self.W.T).reshape(shape)
        return y.reshape(shape[:-1] + (self.output_dim,)), backprop

    def get_config(self):
        config = super(Dense, self).get_config()
        config.update({
            'output_dim': self.output_dim,
            'activation': activations.serialize(self.activation),
            'input_dim': self.input_dim})
        config.update(_weight_layer_config(self))
        return config


def _first_gradients_in_one_call(x, dz, W, grads, bias, need_input_grad):
    """Writes a Dense layer's weight gradient x.T @ dz into grads[0] (and
    its bias gradient, the column sums of dz, into grads[1] when `bias`),
    and returns its input gradient dz @ W.T (None unless `need_input_grad`):
    the blocks of the products and the sums as the tasks of one call of the
    kernel threads, one wake-up for all. Each is computed as
    `kernel_threads.matmul` and `np.sum` compute it alone: the same values."""
    _, tasks = kernel_threads.matmul_tasks(x.T, dz, out=grads[0])
    if bias:
        tasks.append(lambda: np.sum(dz, axis=0, out=grads[1]))
    dx = None
    if need_input_grad:
        dx, input_tasks = kernel_threads.matmul_tasks(dz, W.T)
        tasks += input_tasks
    kernel_threads.run_all(tasks)
    return dx


def _config_or_none(obj):
    return obj.get_config() if obj is not None else None


class Activation(Layer):
    """Applies an activation function to its input.

    # Arguments
        activation: name of the function ('tanh', 'relu', 'softmax', ...).

    # Input shape
        Any.

    # Output shape
        Same as the input.
    """

    supports_masking = True

    def __init__(self, activation, **kwargs):
        super(Activation, self).__init__(**kwargs)
        self.activation = activations.get(activation)

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        y = activations.apply(self.activation, x)

        def backprop(dy):
            return activations.gradient(self.activation, x, y, dy)
        return y, backprop

    def get_config(self):
        config = super(Activation, self).get_config()
        config['activation'] = activations.serialize(self.activation)
        return config


class Masking(Layer):
    """Marks the timesteps whose features all equal `mask_value` as padding:
    they are zeroed in the output, and layers downstream that support masking
    skip them (the loss leaves them out too). A layer that does not support
    masking and receives the mask raises an error.

    # Example
    ```python
        model = Sequential()
        model.add(Masking(mask_value=0., input_shape=(timesteps, features)))
        model.add(LSTM(32))
    ```

    # Arguments
        mask_value: the padding value; a step is masked when every feature
            of it equals this value.

    # Input shape
        Any, at least 2D; usually `(samples, timesteps, features)`.

    # Output shape
        Same as the input.

    # Mask
        `(samples, timesteps)`: True where some feature differs from
        `mask_value`.
    """

    supports_masking = True

    def __init__(self, mask_value=0., **kwargs):
        super(Masking, self).__init__(**kwargs)
        self.mask_value = mask_value

    def get_output_shape_for(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError('Layer %s (Masking) expects input of at least 2 dimensions '
                             '(samples, ..., features), got shape %s'
                             % (self.name, tuple(input_shape)))
        return input_shape

    def compute_mask(self, x, mask=None):
        return np.any(np.not_equal(x, self.mask_value), axis=-1)

    def _output_mask_flags(self, input_flags):
        return [True]

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        self.get_output_shape_for(np.shape(x))
        keep = np.any(np.not_equal(x, self.mask_value), axis=-1, keepdims=True).astype(x.dtype)
        y = x * keep

        def backprop(dy):
            return dy * keep
        return y, backprop

    def get_config(self):
        config = super(Masking, self).get_config()
        config['mask_value'] = self.mask_value
        return config


class Dropout(Layer):
    """Sets a random fraction `p` of the input to 0 during training, scaling
    the rest by 1 / (1 - p); identity at test time.

    # Arguments
        p: float between 0 and 1, the fraction of the input units to drop
            (Keras 2: `rate`).
        noise_shape: optional shape of the keep/drop mask, broadcast over
            the input: e.g. `(batch_size, 1, features)` drops the same
            features at every timestep; None entries take the input's size.
        seed: optional int: masks from a private generator seeded with it,
            instead of NumPy's global one.
    """

    supports_masking = True

    @keras2.keras2_arguments(keras2.DROPOUT)
    def __init__(self, p, noise_shape=None, seed=None, **kwargs):
        super(Dropout, self).__init__(**kwargs)
        self.p = fraction(self, 'p', p)
        self.uses_learning_phase = 0. < self.p < 1.
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._random = np.random if seed is None else np.random.RandomState(seed)

    def _mask_shape(self, shape):
        return noise_mask_shape(self, self.noise_shape, shape)

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        mask_shape = self._mask_shape(x.shape)
        if not training or self.p == 0.:
            return x, lambda dy: dy
        if tuple(mask_shape) == x.shape and x.dtype == np.float32:
            # one uniform per unit from a counter-based stream keyed by one
            # draw of the layer's generator, drawn and applied in one pass
            x = np.ascontiguousarray(x)
            y, scaled_mask = np.empty_like(x), np.empty_like(x)
            key = self._random.randint(np.iinfo(np.int64).max, dtype=np.int64)
            kernel_dropout.dropout_forward(x, key, kernel_dropout.dropout_threshold(self.p),
                                           np.float32(1. / (1. - self.p)), y, scaled_mask)
        else:
            scaled_mask = (self._random.random_sample(mask_shape) >= self.p).astype(x.dtype)
            scaled_mask *= np.float32(1. / (1. - self.p))
            y = x * scaled_mask

        def backprop(dy):
            return dy * scaled_mask
        return y, backprop

    def get_config(self):
        config = super(Dropout, self).get_config()
        config['p'] = self.p
        # Keras 1.2.2 saved 'p' only; the others are kept when they were given.
        if self.noise_shape is not None:
            config['noise_shape'] = list(self.noise_shape)
        if self.seed is not None:
            config['seed'] = self.seed
        return config


class Flatten(Layer):
    """Flattens every sample to one dimension (batch axis kept).

    # Arguments
        dim_ordering: None (flatten as stored), or the layout of image
            input: 'th' images are flattened in channels-last order, as
            Keras 2's `Flatten(data_format='channels_first')` did.

    # Input shape
        Any, with a fully known sample shape.

    # Output shape
        `(nb_samples, product of the other dimensions)`.
    """

    @keras2.keras2_arguments(keras2.FLATTEN)
    def __init__(self, dim_ordering=None, **kwargs):
        super(Flatten, self).__init__(**kwargs)
        if dim_ordering not in (None, 'th', 'tf'):
            raise ValueError('%s (Flatten): dim_ordering must be None, "th" or "tf", got %r'
                             % (self.name, dim_ordering))
        self.dim_ordering = dim_ordering

    def get_output_shape_for(self, input_shape):
        if any(d is None for d in input_shape[1:]):
            raise ValueError('Layer %s (Flatten): the sample shape must be fully known, got %s'
                             % (self.name, tuple(input_shape)))
        return (input_shape[0], int(np.prod(input_shape[1:])))

    def forward(self, x, training=False, need_input_grad=True):
        if self.dim_ordering == 'th' and x.ndim > 2:
            # Channels moved last, so the features come out in channels_last order.
            order = (0,) + tuple(range(2, x.ndim)) + (1,)
            inverse = tuple(np.argsort(order))
            moved = np.ascontiguousarray(x.transpose(order))

            def backprop_moved(dy):
                return dy.reshape(moved.shape).transpose(inverse)
            return moved.reshape(x.shape[0], -1), backprop_moved
        shape = x.shape

        def backprop(dy):
            return dy.reshape(shape)
        return x.reshape(shape[0], -1), backprop

    def get_config(self):
        config = super(Flatten, self).get_config()
        if self.dim_ordering is not None:
            config['dim_ordering'] = self.dim_ordering
        return config


class Reshape(Layer):
    """Reshapes every sample to `target_shape` (one entry may be -1).

    # Arguments
        target_shape: tuple of ints, the sample shape (batch axis excluded).
    """

    def __init__(self, target_shape, **kwargs):
        super(Reshape, self).__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def get_output_shape_for(self, input_shape):
        target = list(self.target_shape)
        unknown = [i for i, d in enumerate(target) if d == -1]
        if len(unknown) > 1:
            raise ValueError('Layer %s (Reshape): at most one -1 in target_shape, got %s'
                             % (self.name, self.target_shape))
        if any(d is None for d in input_shape[1:]):
            # Sample axes of unknown size (e.g. Input(shape=(None, None, 3))): the -1 entry
            # is known only when the data come.
            return (input_shape[0],) + tuple(None if d == -1 else d for d in target)
        size = int(np.prod(input_shape[1:]))
        known = int(np.prod([d for d in target if d != -1]))
        if unknown:
            if known == 0 or size % known:
                raise ValueError('Layer %s (Reshape): cannot reshape %s into %s'
                                 % (self.name, tuple(input_shape[1:]), self.target_shape))
            target[unknown[0]] = size // known
        elif known != size:
            raise ValueError('Layer %s (Reshape): total size of the new shape %s (%d) must equal '
                             'the input sample size %s (%d)' % (self.name, self.target_shape,
                                                               known, tuple(input_shape[1:]), size))
        return (input_shape[0],) + tuple(target)

    def forward(self, x, training=False, need_input_grad=True):
        shape = x.shape
        y = x.reshape((shape[0],) + self.get_output_shape_for(shape)[1:])
        return y, lambda dy: dy.reshape(shape)

    def get_config(self):
        config = super(Reshape, self).get_config()
        config['target_shape'] = self.target_shape
        return config


class Permute(Layer):
    """Permutes the sample axes; `dims` counts from 1 (the batch axis stays).

    # Arguments
        dims: tuple of ints, e.g. (2, 1) swaps the two sample axes.
    """

    def __init__(self, dims, **kwargs):
        super(Permute, self).__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError('%s: dims must be a permutation of 1..%d, got %s'
                             % (layer_label(self), len(self.dims), self.dims))

    def get_output_shape_for(self, input_shape):
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError('Layer %s (Permute): dims %s need %d-dimensional samples, got %s'
                             % (self.name, self.dims, len(self.dims), tuple(input_shape)))
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def forward(self, x, training=False, need_input_grad=True):
        order = (0,) + self.dims
        inverse = tuple(np.argsort(order))
        return np.ascontiguousarray(x.transpose(order)), lambda dy: dy.transpose(inverse)

    def get_config(self):
        config = super(Permute, self).get_config()
        config['dims'] = self.dims
        return config


class RepeatVector(Layer):
    """Repeats a 2D input `n` times: (batch, features) -> (batch, n, features).

    # Arguments
        n: int, the repetition factor.
    """

    def __init__(self, n, **kwargs):
        super(RepeatVector, self).__init__(**kwargs)
        self.n = int(n)

    def get_output_shape_for(self, input_shape):
        check_rank(self, input_shape, 2, 'samples, features')
        return (input_shape[0], self.n, input_shape[1])

    def forward(self, x, training=False, need_input_grad=True):
        y = np.repeat(x[:, None, :], self.n, axis=1)
        return y, lambda dy: dy.sum(axis=1)

    def get_config(self):
        config = super(RepeatVector, self).get_config()
        config['n'] = self.n
        return config


class ActivityRegularization(Layer):
    """The identity, adding `l1 * sum(|output|) + l2 * sum(output ** 2)` to
    the training loss.

    # Arguments
        l1: float >= 0, the L1 factor.
        l2: float >= 0, the L2 factor.

    # Input shape
        Any.

    # Output shape
        Same as the input.
    """

    supports_masking = True

    def __init__(self, l1=0., l2=0., **kwargs):
        super(ActivityRegularization, self).__init__(**kwargs)
        self.l1 = l1
        self.l2 = l2
        self.activity_regularizer = regularizers.L1L2Regularizer(l1=l1, l2=l2)

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        return x, lambda dy: dy

    def get_config(self):
        config = super(ActivityRegularization, self).get_config()
        config.update({'l1': self.l1, 'l2': self.l2})
        return config


class Lambda(Layer):
    """Wraps a function of the input (NumPy or `keras.backend` code) as a
    layer; its gradient is taken by tracing the function.

    # Example
    ```python
        model.add(Lambda(lambda x: x ** 2))
    ```

    # Arguments
        function: the function, of the input (or of the list of inputs).
        output_shape: the output shape without the batch axis, or a function
            of the input shape (batch axis included); when None, it is found
            by running the function on a small zero batch.
        arguments: optional dict of keyword arguments for the function.
    """

    def __init__(self, function, output_shape=None, arguments=None, **kwargs):
        super(Lambda, self).__init__(**kwargs)
        if not callable(function):
            raise TypeError('%s: function must be callable, got %r' % (layer_label(self), function))
        self.function = function
        self._output_shape = output_shape
        self.arguments = dict(arguments or {})

    def _apply(self, x):
        return self.function(x, **self.arguments)

    def _call_on_tensors(self, x, training=None):
        y = super(Lambda, self)._call_on_tensors(x, training)
        from ..engine.functions import graph_body, takes_gradients
        if takes_gradients(self.function):
            graph_body(self, x if isinstance(x, list) else [x], self._apply(x))
        return y

    def get_output_shape_for(self, input_shape):
        if self._output_shape is None:
            shapes = input_shape if isinstance(input_shape, list) else [input_shape]
            probes = [np.zeros((2,) + tuple(d or 1 for d in s[1:]), dtype='float32')
                      for s in shapes]
            from .. import backend_ops
            with backend_ops.learning_phase_scope(0):
                out = np.asarray(self._apply(probes if isinstance(input_shape, list)
                                             else probes[0]))
            return (shapes[0][0],) + out.shape[1:]
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
        return (batch,) + tuple(self._output_shape)

    def forward(self, x, training=False, need_input_grad=True):
        from ..engine.base_layer import traced_forward
        inputs = list(x) if isinstance(x, list) else [x]
        if getattr(self, '_graph_body', None) is not None:
            y, backprop = self._graph_body.forward(inputs, training, need_input_grad)
            return y, (backprop if isinstance(x, list) else lambda dy: backprop(dy)[0])

        def traced(*arrays):
            return self._apply(list(arrays) if isinstance(x, list) else arrays[0])
        y, backprop = traced_forward(traced, inputs, [], [], training)
        if not isinstance(x, list):
            return np.asarray(y, dtype='float32'), lambda dy: backprop(dy)[0]
        return np.asarray(y, dtype='float32'), backprop

    def get_config(self):
        from ..utils.generic_utils import func_dump
        config = super(Lambda, self).get_config()
        config.update({'function': func_dump(self.function), 'function_type': 'lambda',
                       'arguments': self.arguments})
        if callable(self._output_shape):
            config.update({'output_shape': func_dump(self._output_shape),
                           'output_shape_type': 'lambda'})
        else:
            config.update({'output_shape': self._output_shape, 'output_shape_type': 'raw'})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..utils.generic_utils import func_load, get_custom_objects
        config = dict(config)
        # As in Keras 1, a loaded function sees this module's names (K, np) and the
        # custom objects (so that a saved `lambda x: square_fn(x)` finds square_fn).
        globs = dict(globals())
        globs.update(get_custom_objects())
        globs.update(custom_objects or {})
        if config.pop('function_type', 'lambda') == 'lambda':
            config['function'] = func_load(config['function'], globs=globs)
        if config.pop('output_shape_type', 'raw') == 'lambda':
            config['output_shape'] = func_load(config['output_shape'], globs=globs)
        return cls(**config)


def _spatial_dropout(layer, x, training, noise_shape):
    """Dropout with one draw per entry of `noise_shape`, broadcast over the
    axes of size 1 there; kept entries are scaled by 1 / (1 - p)."""
    if not training or layer.p == 0.:
        return x, lambda dy: dy
    scaled_mask = (np.random.random_sample(noise_shape) >= layer.p).astype(x.dtype)
    scaled_mask *= np.float32(1. / (1. - layer.p))
    y = x * scaled_mask

    def backprop(dy):
        return dy * scaled_mask
    return y, backprop


class SpatialDropout1D(Dropout):
    """Dropout of whole feature maps of temporal data: each of a sample's
    features is kept or dropped at every step at once; kept ones are scaled
    by 1 / (1 - p) during training. The identity at test time.

    # Example
    ```python
        model.add(Convolution1D(32, 3, input_shape=(20, 8)))
        model.add(SpatialDropout1D(0.2))
    ```

    # Arguments
        p: float between 0 and 1, the fraction of the feature maps to drop.

    # Input shape
        3D `(samples, timesteps, channels)`.

    # Output shape
        Same as the input.

    # Randomness
        One draw of NumPy's global generator per (sample, channel), so
        `np.random.seed` makes the masks reproducible.
    """

    @keras2.keras2_arguments(keras2.SPATIAL_DROPOUT_1D)
    def __init__(self, p, **kwargs):
        super(SpatialDropout1D, self).__init__(p, **kwargs)

    def get_output_shape_for(self, input_shape):
        check_rank(self, input_shape, 3, 'samples, timesteps, channels')
        return input_shape

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        check_rank(self, x.shape, 3, 'samples, timesteps, channels')
        return _spatial_dropout(self, x, training, (x.shape[0], 1, x.shape[2]))


class _FeatureMapDropout(Dropout):
    """Dropout of whole channels of images or volumes, in either ordering:
    the shared part of SpatialDropout2D and SpatialDropout3D, which name
    their spatial axes in `spatial_axes`."""

    spatial_axes = ()

    def __init__(self, p, dim_ordering='default', **kwargs):
        super(_FeatureMapDropout, self).__init__(p, **kwargs)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, self.name)

    def _axes(self):
        axes = ['samples'] + list(self.spatial_axes)
        axes.insert(1 if self.dim_ordering == 'th' else len(axes), 'channels')
        return ', '.join(axes)

    def get_output_shape_for(self, input_shape):
        check_rank(self, input_shape, 2 + len(self.spatial_axes), self._axes())
        return input_shape

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        check_rank(self, x.shape, 2 + len(self.spatial_axes), self._axes())
        channel_axis = 1 if self.dim_ordering == 'th' else x.ndim - 1
        noise_shape = tuple(x.shape[i] if i in (0, channel_axis) else 1 for i in range(x.ndim))
        return _spatial_dropout(self, x, training, noise_shape)

    def get_config(self):
        config = super(_FeatureMapDropout, self).get_config()
        # Keras 1.2.2 saved only 'p'; the ordering is kept so that a reloaded
        # layer drops the same axis whatever the backend's default.
        config['dim_ordering'] = self.dim_ordering
        return config


class SpatialDropout2D(_FeatureMapDropout):
    """Dropout of whole feature maps of images: each of a sample's channels
    is kept or dropped at every pixel at once; kept ones are scaled by
    1 / (1 - p) during training. The identity at test time.

    # Example
    ```python
        model.add(Convolution2D(16, 3, 3, input_shape=(1, 28, 28)))
        model.add(SpatialDropout2D(0.25))
    ```

    # Arguments
        p: float between 0 and 1, the fraction of the feature maps to drop.
        dim_ordering: 'th' (channels at index 1), 'tf' (channels at index 3)
            or 'default' (the backend's `image_dim_ordering()`).

    # Input shape
        4D `(samples, channels, rows, cols)` ('th') or
        `(samples, rows, cols, channels)` ('tf').

    # Output shape
        Same as the input.

    # Randomness
        One draw of NumPy's global generator per (sample, channel).
    """

    spatial_axes = ('rows', 'cols')

    @keras2.keras2_arguments(keras2.SPATIAL_DROPOUT_2D)
    def __init__(self, p, dim_ordering='default', **kwargs):
        super(SpatialDropout2D, self).__init__(p, dim_ordering, **kwargs)


def _weight_layer_settings(layer, init, W_regularizer, b_regularizer, activity_regularizer,
                           W_constraint, b_constraint, bias, bias_init='zero'):
    """Stores the arguments that Dense-like layers share."""
    # A Keras 2 initializer's config (from a saved model) becomes the object again.
    layer.init = initializations.get(init) if isinstance(init, dict) else init
    layer.bias_init = initializations.get(bias_init) if isinstance(bias_init, dict) else bias_init
    initializations.get(layer.init)
    initializations.get(layer.bias_init)
    layer.W_regularizer = regularizers.get(W_regularizer)
    layer.b_regularizer = regularizers.get(b_regularizer)
    layer.activity_regularizer = regularizers.get(activity_regularizer)
    layer.W_constraint = constraints.get(W_constraint)
    layer.b_constraint = constraints.get(b_constraint)
    layer.bias = bias


def _weight_layer_config(layer):
    config = {'init': initializations.serialize(layer.init),
              'W_regularizer': _config_or_none(layer.W_regularizer),
              'b_regularizer': _config_or_none(layer.b_regularizer),
              'activity_regularizer': _config_or_none(layer.activity_regularizer),
              'W_constraint': _config_or_none(layer.W_constraint),
              'b_constraint': _config_or_none(layer.b_constraint),
              'bias': layer.bias}
    if getattr(layer, 'bias_init', 'zero') != 'zero':
        config['bias_init'] = initializations.serialize(layer.bias_init)
    return config


class MaxoutDense(Layer):
    """A dense maxout layer: the element-wise maximum of `nb_feature` linear
    (Dense) layers, `output = max_k(dot(input, W[k]) + b[k])`. It has no
    activation; add an `Activation` layer after it if you want one.

    # Example
    ```python
        model.add(MaxoutDense(64, nb_feature=4, input_dim=784))
    ```

    # Arguments
        output_dim: int > 0, the number of units.
        nb_feature: number of linear pieces the maximum is taken over.
        init: name of the initialization for `W` (see `initializations`).
        weights: list of arrays [W, b] to start from.
        W_regularizer, b_regularizer: optional weight penalties.
        activity_regularizer: optional penalty on the output.
        W_constraint, b_constraint: optional weight constraints.
        bias: whether to include the bias `b`.
        input_dim: input size; only for the first layer of a model.

    # Input shape
        2D array `(nb_samples, input_dim)`.

    # Output shape
        2D array `(nb_samples, output_dim)`.

    # Weights
        `W` of shape (nb_feature, input_dim, output_dim); `b` of shape
        (nb_feature, output_dim).
    """

    def __init__(self, output_dim, nb_feature=4, init='glorot_uniform', weights=None,
                 W_regularizer=None, b_regularizer=None, activity_regularizer=None,
                 W_constraint=None, b_constraint=None, bias=True, input_dim=None, **kwargs):
        super(MaxoutDense, self).__init__(weights=weights,
                                          **input_shape_from_dim(kwargs, input_dim))
        self.output_dim = positive_int(self, 'output_dim', output_dim)
        self.nb_feature = positive_int(self, 'nb_feature', nb_feature)
        _weight_layer_settings(self, init, W_regularizer, b_regularizer, activity_regularizer,
                               W_constraint, b_constraint, bias)
        self.input_dim = input_dim

    def get_output_shape_for(self, input_shape):
        check_rank(self, input_shape, 2, 'nb_samples, input_dim')
        return (input_shape[0], self.output_dim)

    def build(self, input_shape):
        check_rank(self, input_shape, 2, 'nb_samples, input_dim')
        if input_shape[1] is None:
            raise ValueError('Layer %s (MaxoutDense): the input size must be known, got input '
                             'shape %s' % (self.name, tuple(input_shape)))
        self.W = self.add_weight((self.nb_feature, input_shape[1], self.output_dim), self.init,
                                 name=self.name + '_W', regularizer=self.W_regularizer,
                                 constraint=self.W_constraint)
        self.b = None
        if self.bias:
            self.b = self.add_weight((self.nb_feature, self.output_dim), 'zero',
                                     name=self.name + '_b', regularizer=self.b_regularizer,
                                     constraint=self.b_constraint)

    def forward(self, x, training=False, need_input_grad=True):
        check_rank(self, x.shape, 2, 'nb_samples, input_dim')
        check_features(self, x.shape, self.W.shape[1])
        z = np.tensordot(x, self.W, axes=([1], [1]))  # (samples, nb_feature, output_dim)
        if self.b is not None:
            z += self.b
        winner = np.argmax(z, axis=1)[:, None, :]
        y = np.take_along_axis(z, winner, axis=1)[:, 0, :]

        def backprop(dy):
            # The gradient goes to the (first) linear piece that gave the maximum.
            dz = np.zeros_like(z)
            np.put_along_axis(dz, winner, dy[:, None, :], axis=1)
            grads = self.gradients
            grads[0] += np.tensordot(x, dz, axes=([0], [0])).transpose(1, 0, 2)
            if self.b is not None:
                grads[1] += dz.sum(axis=0)
            if not need_input_grad:
                return None
            return np.tensordot(dz, self.W, axes=([1, 2], [0, 2]))
        return y, backprop

    def get_config(self):
        config = super(MaxoutDense, self).get_config()
        config.update(_weight_layer_config(self))
        config.update({'output_dim': self.output_dim, 'nb_feature': self.nb_feature,
                       'input_dim': self.input_dim})
        return config


class Highway(Layer):
    """A densely-connected highway layer: a gate `T = sigmoid(dot(x, W_carry)
    + b_carry)` mixes a transformed input with the input itself,
    `output = T * activation(dot(x, W) + b) + (1 - T) * x`.

    # Example
    ```python
        model.add(Highway(activation='relu', input_dim=64))
    ```

    # Arguments
        init: name of the initialization for `W` and `W_carry`.
        activation: name of the activation function (linear when None).
        weights: list of arrays [W, W_carry, b, b_carry] ([W, W_carry]
            without bias) to start from.
        W_regularizer, b_regularizer: optional penalties on `W` and `b`.
        activity_regularizer: optional penalty on the output.
        W_constraint, b_constraint: optional constraints on `W` and `b`.
        bias: whether to include the biases `b` and `b_carry`.
        input_dim: input size; only for the first layer of a model.
        transform_bias: ignored, as in Keras 1.2.2, which deprecated it
            (`b_carry` starts at 1); giving it warns.

    # Input shape
        2D array `(nb_samples, input_dim)`.

    # Output shape
        2D array `(nb_samples, input_dim)`.

    # Weights
        `W`, `W_carry` of shape (input_dim, input_dim); `b` (zeros) and
        `b_carry` (ones) of shape (input_dim,), in that order.
    """

    def __init__(self, init='glorot_uniform', activation=None, weights=None, W_regularizer=None,
                 b_regularizer=None, activity_regularizer=None, W_constraint=None,
                 b_constraint=None, bias=True, input_dim=None, transform_bias=None, **kwargs):
        super(Highway, self).__init__(weights=weights, **input_shape_from_dim(kwargs, input_dim))
        if transform_bias is not None:
            warnings.warn('%s: transform_bias is ignored, as in Keras 1.2.2, which '
                          'deprecated it; b_carry starts at 1' % layer_label(self), stacklevel=2)
        _weight_layer_settings(self, init, W_regularizer, b_regularizer, activity_regularizer,
                               W_constraint, b_constraint, bias)
        self.activation = activations.get(activation)
        self.input_dim = input_dim

    def get_output_shape_for(self, input_shape):
        check_rank(self, input_shape, 2, 'nb_samples, input_dim')
        return input_shape

    def build(self, input_shape):
        check_rank(self, input_shape, 2, 'nb_samples, input_dim')
        size = input_shape[1]
        if size is None:
            raise ValueError('Layer %s (Highway): the input size must be known, got input '
                             'shape %s' % (self.name, tuple(input_shape)))
        self.W = self.add_weight((size, size), self.init, name=self.name + '_W',
                                 regularizer=self.W_regularizer, constraint=self.W_constraint)
        self.W_carry = self.add_weight((size, size), self.init, name=self.name + '_W_carry')
        self.b = self.b_carry = None
        if self.bias:
            self.b = self.add_weight((size,), 'zero', name=self.name + '_b',
                                     regularizer=self.b_regularizer,
                                     constraint=self.b_constraint)
            self.b_carry = self.add_weight((size,), 'one', name=self.name + '_b_carry')

    def forward(self, x, training=False, need_input_grad=True):
        check_rank(self, x.shape, 2, 'nb_samples, input_dim')
        check_features(self, x.shape, self.W.shape[0])
        gate_in = x @ self.W_carry
        z = x @ self.W
        if self.b is not None:
            gate_in += self.b_carry
            z += self.b
        gate = activations.sigmoid(gate_in)
        transformed = self.activation(z)
        y = gate * transformed + (1 - gate) * x

        def backprop(dy):
            dz = self.activation.backward(z, transformed, dy * gate)
            d_gate_in = dy * (transformed - x) * gate * (1 - gate)
            grads = self.gradients
            grads[0] += x.T @ dz
            grads[1] += x.T @ d_gate_in
            if self.b is not None:
                grads[2] += dz.sum(axis=0)
                grads[3] += d_gate_in.sum(axis=0)
            if not need_input_grad:
                return None
            return dz @ self.W.T + d_gate_in @ self.W_carry.T + dy * (1 - gate)
        return y, backprop

    def get_config(self):
        config = super(Highway, self).get_config()
        config.update(_weight_layer_config(self))
        config.update({'activation': activations.serialize(self.activation),
                       'input_dim': self.input_dim})
        return config


class TimeDistributedDense(Layer):
    """The same Dense layer applied at every step of temporal data:
    `output[:, t] = activation(dot(input[:, t], W) + b)`.

    # Example
    ```python
        model.add(TimeDistributedDense(8, input_dim=16, input_length=10))
        # now model.output_shape == (None, 10, 8)
    ```

    # Arguments
        output_dim: int > 0, the number of units.
        init: name of the initialization for `W` (see `initializations`).
        activation: name of the activation function (linear when None).
        weights: list of arrays [W, b] to start from.
        W_regularizer, b_regularizer: optional weight penalties.
        activity_regularizer: optional penalty on the output.
        W_constraint, b_constraint: optional weight constraints.
        bias: whether to include the bias `b`.
        input_dim: number of input features; with `input_length`, gives the
            input shape of the first layer of a model.
        input_length: number of steps (None for any).

    # Input shape
        3D array `(nb_samples, timesteps, input_dim)`.

    # Output shape
        3D array `(nb_samples, timesteps, output_dim)`.

    # Weights
        `W` of shape (input_dim, output_dim); `b` of shape (output_dim,).
    """

    supports_masking = True

    def __init__(self, output_dim, init='glorot_uniform', activation=None, weights=None,
                 W_regularizer=None, b_regularizer=None, activity_regularizer=None,
                 W_constraint=None, b_constraint=None, bias=True, input_dim=None,
                 input_length=None, **kwargs):
        super(TimeDistributedDense, self).__init__(
            weights=weights, **input_shape_from_dim(kwargs, input_dim, input_length, sequence=True))
        self.output_dim = positive_int(self, 'output_dim', output_dim)
        _weight_layer_settings(self, init, W_regularizer, b_regularizer, activity_regularizer,
                               W_constraint, b_constraint, bias)
        self.activation = activations.get(activation)
        self.input_dim = input_dim
        self.input_length = input_length

    def get_output_shape_for(self, input_shape):
        check_rank(self, input_shape, 3, 'nb_samples, timesteps, input_dim')
        return (input_shape[0], input_shape[1], self.output_dim)

    def build(self, input_shape):
        check_rank(self, input_shape, 3, 'nb_samples, timesteps, input_dim')
        if input_shape[2] is None:
            raise ValueError('Layer %s (TimeDistributedDense): the number of input features '
                             'must be known, got input shape %s' % (self.name, tuple(input_shape)))
        self.W = self.add_weight((input_shape[2], self.output_dim), self.init,
                                 name=self.name + '_W', regularizer=self.W_regularizer,
                                 constraint=self.W_constraint)
        self.b = None
        if self.bias:
            self.b = self.add_weight((self.output_dim,), 'zero', name=self.name + '_b',
                                     regularizer=self.b_regularizer,
                                     constraint=self.b_constraint)

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        check_rank(self, x.shape, 3, 'nb_samples, timesteps, input_dim')
        check_features(self, x.shape, self.W.shape[0])
        samples, steps, features = x.shape
        flat = x.reshape(samples * steps, features)
        z = flat @ self.W
        if self.b is not None:
            z += self.b
        z = z.reshape(samples, steps, self.output_dim)
        y = self.activation(z)

        def backprop(dy):
            dz = self.activation.backward(z, y, dy).reshape(samples * steps, self.output_dim)
            grads = self.gradients
            grads[0] += flat.T @ dz
            if self.b is not None:
                grads[1] += dz.sum(axis=0)
            if not need_input_grad:
                return None
            return (dz @ self.W.T).reshape(x.shape)
        return y, backprop

    def get_config(self):
        config = super(TimeDistributedDense, self).get_config()
        config.update(_weight_layer_config(self))
        config.update({'output_dim': self.output_dim,
                       'activation': activations.serialize(self.activation),
                       'input_dim': self.input_dim, 'input_length': self.input_length})
        return config


class SpatialDropout3D(_FeatureMapDropout):
    """Dropout of whole feature maps of volumes: each of a sample's channels
    is kept or dropped at every position at once; kept ones are scaled by
    1 / (1 - p) during training. The identity at test time.

    # Arguments
        p: float between 0 and 1, the fraction of the feature maps to drop.
        dim_ordering: 'th' (channels at index 1), 'tf' (channels at index 4)
            or 'default' (the backend's `image_dim_ordering()`).

    # Input shape
        5D `(samples, channels, dim1, dim2, dim3)` ('th') or
        `(samples, dim1, dim2, dim3, channels)` ('tf').

    # Output shape
        Same as the input.

    # Randomness
        One draw of NumPy's global generator per (sample, channel).
    """

    spatial_axes = ('dim1', 'dim2', 'dim3')

    @keras2.keras2_arguments(keras2.SPATIAL_DROPOUT_3D)
    def __init__(self, p, dim_ordering='default', **kwargs):
        super(SpatialDropout3D, self).__init__(p, dim_ordering, **kwargs)
