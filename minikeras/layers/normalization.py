"""Batch normalization (Keras 1.2.2 semantics, TensorFlow backend)."""
import numpy as np

from ..compat import keras0, keras2
from .. import constraints, initializations, regularizers
from ..engine.base_layer import Layer
from ..utils.layer_checks import layer_label
from .core import _config_or_none

_MODES = (0, 1, 2)


class BatchNormalization(Layer):
    """Normalizes the activations of the previous layer at each batch, then
    scales them by `gamma` and shifts them by `beta`.

    # Example
    ```python
        model.add(Convolution2D(32, 3, 3, input_shape=(1, 28, 28)))
        model.add(BatchNormalization(axis=1))   # one mean per channel of 'th' images
    ```

    # Arguments
        epsilon: small float > 0 added to the variance.
        mode: 0, 1 or 2.
            - 0: feature-wise normalization along `axis`. Training uses the
              batch's mean and (biased) variance and updates the moving
              averages; inference uses the moving averages.
            - 1: sample-wise normalization over the last axis:
              `(x - mean) / (sqrt(var + epsilon) + epsilon)`, in training
              and inference alike.
            - 2: like 0, but always with the batch's statistics (no moving
              averages are updated).
        axis: the features axis (its statistics are computed over all the
            other axes), e.g. 1 for 'th' images, -1 for 'tf' images.
        momentum: of the moving averages:
            `moving = moving * momentum + batch_value * (1 - momentum)`.
        weights: list of arrays [gamma, beta, running_mean, running_std].
        beta_init, gamma_init: initializations of the shift and the scale.
        gamma_regularizer, beta_regularizer: optional weight penalties.
        center: whether to add the shift `beta` (without it: no `beta` weight).
        scale: whether to multiply by `gamma` (without it: no `gamma` weight).
        moving_mean_init, moving_variance_init: initializations of the
            moving averages.
        beta_constraint, gamma_constraint: optional weight constraints.
        unbiased_moving_variance: Keras 2's update: the moving variance
            averages the batch variance times n / (n - 1 - epsilon) (n values
            per feature), as Keras 2.2 did; Keras 1 averaged the biased one.

    Keras 2's spelling (`axis, momentum, epsilon, center, scale,
    beta_initializer, gamma_initializer, moving_mean_initializer,
    moving_variance_initializer, beta_/gamma_regularizer,
    beta_/gamma_constraint`) is accepted and gets Keras 2's update.

    # Input shape
        Any.

    # Output shape
        Same as the input.

    # Weights
        `gamma`, `beta` (trainable), then `running_mean` and `running_std`
        (not trainable), each of shape (input_shape[axis],). As in Keras
        1.2.2 with the TensorFlow backend, `running_std` holds the moving
        average of the batch *variance*, despite its name.
    """

    supports_masking = True

    @keras2.keras2_arguments(keras2.BATCH_NORMALIZATION)
    @keras0.legacy_arguments(keras0.input_shape_first_arguments)
    def __init__(self, epsilon=1e-3, mode=0, axis=-1, momentum=0.99, weights=None,
                 beta_init='zero', gamma_init='one', gamma_regularizer=None,
                 beta_regularizer=None, center=True, scale=True, moving_mean_init='zero',
                 moving_variance_init='one', beta_constraint=None, gamma_constraint=None,
                 unbiased_moving_variance=False, **kwargs):
        super(BatchNormalization, self).__init__(weights=weights, **kwargs)
        if mode not in _MODES:
            raise ValueError('%s: mode must be 0, 1 or 2, got %r'
                             % (layer_label(self), mode))
        if not epsilon > 0:
            raise ValueError('%s: epsilon must be > 0, got %r'
                             % (layer_label(self), epsilon))
        if int(axis) != axis:
            raise ValueError('%s: axis must be an integer, got %r'
                             % (layer_label(self), axis))
        for init in (beta_init, gamma_init, moving_mean_init, moving_variance_init):
            initializations.get(init)
        self.epsilon = epsilon
        self.mode = mode
        self.uses_learning_phase = mode == 0
        self.axis = int(axis)
        self.momentum = momentum
        self.beta_init = beta_init
        self.gamma_init = gamma_init
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.center = bool(center)
        self.scale = bool(scale)
        self.moving_mean_init = moving_mean_init
        self.moving_variance_init = moving_variance_init
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.unbiased_moving_variance = bool(unbiased_moving_variance)

    def _call_on_tensors(self, x, training=None):
        y = super(BatchNormalization, self)._call_on_tensors(x, training)
        # Keras 1.2.2: the moving averages move by updates conditional on
        # this call's input, applied by whoever runs them (training,
        # K.function(updates=model.updates)), never by the forward pass; a
        # call in the test phase (Keras 2's training=False) declares none
        if training is None or training:
            self.add_update(self.updates_for_input(x), x)
        return y

    def updates_for_input(self, x):
        """The `(variable, new value)` pairs of a training pass on the Keras
        tensor `x`: the moving averages of mode 0 (none in modes 1 and 2)."""
        if self.mode != 0:
            return []
        from ..engine.losses_updates import update_value
        size = self.running_mean.shape
        stats = update_value(self._batch_statistics, [x], (2,) + size,
                             self.name + '_batch_statistics')
        return [(self.running_mean, update_value(self._moving_mean, [stats], size,
                                                 self.name + '_moving_mean')),
                (self.running_std, update_value(self._moving_variance, [stats], size,
                                                self.name + '_moving_variance'))]

    def _batch_statistics(self, x):
        """[the batch mean, the batch variance the moving average takes in]
        along the feature axis, float64: the statistics of the training pass."""
        x = np.asarray(x, dtype='float32')
        axis = self._feature_axis(x.shape)
        reduce_axes = tuple(a for a in range(x.ndim) if a != axis)
        broadcast = [1] * x.ndim
        broadcast[axis] = x.shape[axis]
        count = int(np.prod([x.shape[a] for a in reduce_axes]))
        mean = x.mean(axis=reduce_axes, dtype='float64')
        centered = x - mean.astype('float32').reshape(broadcast)
        var = np.mean(np.square(centered), axis=reduce_axes, dtype='float64')
        if self.unbiased_moving_variance:
            var = var * (count / (count - (1. + self.epsilon)))
        return np.stack([mean, var])

    def _moving_mean(self, stats):
        return self.running_mean * self.momentum + stats[0] * (1. - self.momentum)

    def _moving_variance(self, stats):
        return self.running_std * self.momentum + stats[1] * (1. - self.momentum)

    def _feature_axis(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim or self.axis % ndim == 0:
            raise ValueError('Layer %s (BatchNormalization): axis %d is not a feature axis of '
                             'input shape %s (the batch axis 0 cannot be normalized along)'
                             % (self.name, self.axis, tuple(input_shape)))
        axis = self.axis % ndim
        if self.mode == 1 and axis != ndim - 1:
            raise ValueError('Layer %s (BatchNormalization): mode 1 normalizes each sample over '
                             'its last axis, so axis must be -1 (or %d), got %d'
                             % (self.name, ndim - 1, self.axis))
        return axis

    def build(self, input_shape):
        axis = self._feature_axis(input_shape)
        size = input_shape[axis]
        if size is None:
            raise ValueError('Layer %s (BatchNormalization): the size of axis %d must be known, '
                             'got input shape %s' % (self.name, self.axis, tuple(input_shape)))
        shape = (size,)
        # Without scale or center, gamma is fixed at 1 and beta at 0 and are not weights.
        self._gradient_slots = {}
        if self.scale:
            self._gradient_slots['gamma'] = len(self._trainable_weights)
            self.gamma = self.add_weight(shape, self.gamma_init, name=self.name + '_gamma',
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        else:
            self.gamma = np.ones(shape, dtype='float32')
        if self.center:
            self._gradient_slots['beta'] = len(self._trainable_weights)
            self.beta = self.add_weight(shape, self.beta_init, name=self.name + '_beta',
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        else:
            self.beta = np.zeros(shape, dtype='float32')
        self.running_mean = self.add_weight(shape, self.moving_mean_init,
                                            name=self.name + '_running_mean', trainable=False)
        self.running_std = self.add_weight(shape, self.moving_variance_init,
                                           name=self.name + '_running_std', trainable=False)

    def _add_gradients(self, grad_gamma, grad_beta):
        grads = self.gradients
        if 'gamma' in self._gradient_slots:
            grads[self._gradient_slots['gamma']] += grad_gamma
        if 'beta' in self._gradient_slots:
            grads[self._gradient_slots['beta']] += grad_beta

    def get_output_shape_for(self, input_shape):
        self._feature_axis(input_shape)
        return input_shape

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        x = np.asarray(x, dtype='float32')
        axis = self._feature_axis(x.shape)
        if x.shape[axis] != self.gamma.shape[0]:
            raise ValueError('Layer %s (BatchNormalization) was built for %d features on axis '
                             '%d, got input shape %s' % (self.name, self.gamma.shape[0],
                                                         self.axis, x.shape))
        if self.mode == 1:
            return self._forward_samplewise(x, need_input_grad)
        reduce_axes = tuple(a for a in range(x.ndim) if a != axis)
        broadcast = [1] * x.ndim
        broadcast[axis] = x.shape[axis]
        gamma = self.gamma.reshape(broadcast)
        beta = self.beta.reshape(broadcast)
        if self.mode == 2 or training:
            return self._forward_batch_stats(x, reduce_axes, broadcast, gamma, beta,
                                             need_input_grad)
        inv_std = (1. / np.sqrt(self.running_std.astype('float64') + self.epsilon))
        inv_std = inv_std.astype('float32').reshape(broadcast)
        x_hat = (x - self.running_mean.reshape(broadcast)) * inv_std
        y = x_hat * gamma + beta

        def backprop(dy):
            self._add_gradients(
                np.sum(dy * x_hat, axis=reduce_axes, dtype='float64').astype('float32'),
                np.sum(dy, axis=reduce_axes, dtype='float64').astype('float32'))
            return dy * (gamma * inv_std) if need_input_grad else None
        return y, backprop

    def _forward_batch_stats(self, x, reduce_axes, broadcast, gamma, beta, need_input_grad):
        count = int(np.prod([x.shape[a] for a in reduce_axes]))
        if count == 0:
            raise ValueError('Layer %s (BatchNormalization): cannot compute batch statistics '
                             'of an empty batch (input shape %s)' % (self.name, x.shape))
        mean = x.mean(axis=reduce_axes, dtype='float64')
        centered = x - mean.astype('float32').reshape(broadcast)
        var = np.mean(np.square(centered), axis=reduce_axes, dtype='float64')
        inv_std = (1. / np.sqrt(var + self.epsilon)).astype('float32').reshape(broadcast)
        x_hat = centered * inv_std
        y = x_hat * gamma + beta

        def backprop(dy):
            grad_beta = np.sum(dy, axis=reduce_axes, dtype='float64')
            grad_gamma = np.sum(dy * x_hat, axis=reduce_axes, dtype='float64')
            self._add_gradients(grad_gamma.astype('float32'), grad_beta.astype('float32'))
            if not need_input_grad:
                return None
            # d/dx of gamma * x_hat, with the batch mean and variance depending on x.
            mean_dy = (grad_beta / count).astype('float32').reshape(broadcast)
            mean_dy_xhat = (grad_gamma / count).astype('float32').reshape(broadcast)
            return (gamma * inv_std) * (dy - mean_dy - x_hat * mean_dy_xhat)
        return y, backprop

    def _forward_samplewise(self, x, need_input_grad):
        mean = x.mean(axis=-1, keepdims=True, dtype='float64').astype('float32')
        centered = x - mean
        var = np.mean(np.square(centered), axis=-1, keepdims=True, dtype='float64')
        std = np.sqrt(var + self.epsilon).astype('float32')
        scale = np.float32(1.) / (std + np.float32(self.epsilon))
        x_hat = centered * scale
        y = x_hat * self.gamma + self.beta
        reduce_axes = tuple(range(x.ndim - 1))
        features = x.shape[-1]

        def backprop(dy):
            self._add_gradients(
                np.sum(dy * x_hat, axis=reduce_axes, dtype='float64').astype('float32'),
                np.sum(dy, axis=reduce_axes, dtype='float64').astype('float32'))
            if not need_input_grad:
                return None
            g = dy * self.gamma
            # x_hat = c / (s + eps) with c = x - mean(x), s = sqrt(var(x) + eps):
            # dx = (g - mean(g)) / (s + eps) - c * sum(g * c) / (n * s * (s + eps)^2).
            g_mean = g.mean(axis=-1, keepdims=True)
            g_c = np.sum(g * centered, axis=-1, keepdims=True)
            return (g - g_mean) * scale - centered * (g_c * scale * scale / (features * std))
        return y, backprop

    def get_config(self):
        config = super(BatchNormalization, self).get_config()
        # beta_init and gamma_init are not in Keras 1.2.2's config; Keras reads them back fine.
        config.update({'epsilon': self.epsilon, 'mode': self.mode, 'axis': self.axis,
                       'momentum': self.momentum, 'beta_init': self.beta_init,
                       'gamma_init': self.gamma_init,
                       'gamma_regularizer': _config_or_none(self.gamma_regularizer),
                       'beta_regularizer': _config_or_none(self.beta_regularizer)})
        # The Keras 2 options, only where they differ from Keras 1's fixed behaviour.
        options = {'center': (self.center, True), 'scale': (self.scale, True),
                   'moving_mean_init': (self.moving_mean_init, 'zero'),
                   'moving_variance_init': (self.moving_variance_init, 'one'),
                   'beta_constraint': (_config_or_none(self.beta_constraint), None),
                   'gamma_constraint': (_config_or_none(self.gamma_constraint), None),
                   'unbiased_moving_variance': (self.unbiased_moving_variance, False)}
        for key, (value, default) in options.items():
            if value != default:
                config[key] = initializations.serialize(value)
        config['beta_init'] = initializations.serialize(self.beta_init)
        config['gamma_init'] = initializations.serialize(self.gamma_init)
        return config
