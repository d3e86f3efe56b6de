"""Activation layers with parameters or options: LeakyReLU, PReLU, ELU,
ParametricSoftplus, ThresholdedReLU, SReLU."""
import numpy as np

from .. import activations, constraints, initializations, regularizers
from ..compat import keras0, keras2
from ..engine.base_layer import Layer
from ..kernels import elementwise


def _shared_param_shape(layer, input_shape, shared_axes):
    """The parameter shape of a per-unit activation: the sample shape, with
    size 1 along the shared axes (counted from 1, the batch axis being 0)."""
    param_shape = list(input_shape[1:])
    for axis in shared_axes:
        if not 1 <= axis < len(input_shape):
            raise ValueError('Layer %s (%s): shared axis %d outside the sample axes of %s'
                             % (layer.name, type(layer).__name__, axis, tuple(input_shape)))
        param_shape[axis - 1] = 1
    if any(d is None for d in param_shape):
        raise ValueError('Layer %s (%s): the sample shape must be known, got %s'
                         % (layer.name, type(layer).__name__, tuple(input_shape)))
    return tuple(param_shape)


def _reduce_to(grad, shape):
    """Sums a gradient of the input's shape down to a parameter of `shape`
    (the batch axis and the shared axes)."""
    axes = (0,) + tuple(i + 1 for i, d in enumerate(shape) if d == 1 and grad.shape[i + 1] != 1)
    return np.sum(grad, axis=axes, dtype='float64').reshape(shape).astype('float32')


class LeakyReLU(Layer):
    """Leaky ReLU: `f(x) = x` for x >= 0 and `alpha * x` otherwise.

    # Arguments
        alpha: float >= 0, the slope for negative inputs.

    # Input shape
        Any.

    # Output shape
        Same as the input.
    """

    supports_masking = True

    @keras2.keras2_arguments(keras2.SAME_IN_BOTH)
    def __init__(self, alpha=0.3, **kwargs):
        super(LeakyReLU, self).__init__(**kwargs)
        self.alpha = alpha

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        if elementwise.takes(x):
            # one compiled pass each way, on the kernel threads; same bits
            y = np.empty_like(x)
            elementwise.leaky_relu_forward(x, self.alpha, y)

            def backprop(dy):
                if not elementwise.takes(dy):
                    dy = np.ascontiguousarray(dy, dtype=np.float32)
                dx = np.empty_like(dy)
                elementwise.leaky_relu_backward(x, self.alpha, dy, dx)
                return dx
            return y, backprop
        slope = np.where(x > 0, np.float32(1), np.float32(self.alpha))
        y = x * slope

        def backprop(dy):
            return dy * slope
        return y, backprop

    def get_config(self):
        config = super(LeakyReLU, self).get_config()
        config['alpha'] = self.alpha
        return config


class PReLU(Layer):
    """Parametric ReLU: `f(x) = x` for x >= 0 and `alpha * x` otherwise, with
    a learned `alpha` per input unit.

    # Arguments
        init: initialization of the alphas ('zero' by default).
        weights: list with one array, the initial alphas.
        shared_axes: sample axes (counting from 1) along which one alpha is
            shared, e.g. [2, 3] for one alpha per channel of 'th' images.
        alpha_regularizer, alpha_constraint: optional penalty and constraint
            on the alphas.

    Keras 2's spelling is accepted too: `PReLU(alpha_initializer,
    alpha_regularizer, alpha_constraint, shared_axes)`.

    # Input shape
        Any; the alphas have the sample shape (with shared axes of size 1).

    # Output shape
        Same as the input.
    """

    supports_masking = True

    @keras2.keras2_arguments(keras2.PRELU)
    @keras0.legacy_arguments(keras0.input_shape_first_arguments)
    def __init__(self, init='zero', weights=None, shared_axes=None, alpha_regularizer=None,
                 alpha_constraint=None, **kwargs):
        super(PReLU, self).__init__(weights=weights, **kwargs)
        self.init = init
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = []
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape):
        param_shape = _shared_param_shape(self, input_shape, self.shared_axes)
        self.alphas = self.add_weight(param_shape, self.init, name=self.name + '_alphas',
                                      regularizer=self.alpha_regularizer,
                                      constraint=self.alpha_constraint)

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        negative = np.minimum(x, 0)
        y = np.maximum(x, 0) + self.alphas * negative

        def backprop(dy):
            reduce_axes = (0,) + tuple(self.shared_axes)
            self.gradients[0] += np.sum(dy * negative, axis=reduce_axes).reshape(self.alphas.shape)
            return dy * np.where(x > 0, np.float32(1), self.alphas)
        return y, backprop

    def get_config(self):
        config = super(PReLU, self).get_config()
        config.update({'init': initializations.serialize(self.init),
                       'shared_axes': self.shared_axes})
        if self.alpha_regularizer is not None:
            config['alpha_regularizer'] = self.alpha_regularizer.get_config()
        if self.alpha_constraint is not None:
            config['alpha_constraint'] = self.alpha_constraint.get_config()
        return config


class ELU(Layer):
    """Exponential linear unit: `f(x) = x` for x > 0 and
    `alpha * (exp(x) - 1)` otherwise.

    # Arguments
        alpha: scale of the negative part.

    # Input shape
        Any.

    # Output shape
        Same as the input.
    """

    supports_masking = True

    @keras2.keras2_arguments(keras2.SAME_IN_BOTH)
    def __init__(self, alpha=1.0, **kwargs):
        super(ELU, self).__init__(**kwargs)
        self.alpha = float(alpha)

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        y = activations.elu(x, self.alpha)

        def backprop(dy):
            return activations.elu_backward(x, y, dy, self.alpha)
        return y, backprop

    def get_config(self):
        config = super(ELU, self).get_config()
        config['alpha'] = self.alpha
        return config


class ParametricSoftplus(Layer):
    """Parametric softplus: `f(x) = alpha * log(1 + exp(beta * x))`, with a
    learned `alpha` and `beta` per input unit.

    # Arguments
        alpha_init: float, the initial value of every alpha.
        beta_init: float, the initial value of every beta.
        weights: list of arrays [alphas, betas].
        shared_axes: sample axes (counting from 1) along which one alpha and
            one beta are shared, e.g. [1, 2] for one pair per channel of 'tf'
            images.

    # Input shape
        Any; the parameters have the sample shape (with shared axes of size 1).

    # Output shape
        Same as the input.
    """

    supports_masking = True

    @keras0.legacy_arguments(keras0.input_shape_first_arguments)
    def __init__(self, alpha_init=0.2, beta_init=5.0, weights=None, shared_axes=None, **kwargs):
        super(ParametricSoftplus, self).__init__(weights=weights, **kwargs)
        self.alpha_init = float(alpha_init)
        self.beta_init = float(beta_init)
        if shared_axes is None:
            self.shared_axes = []
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape):
        shape = _shared_param_shape(self, input_shape, self.shared_axes)
        self.alphas = self.add_weight(shape, _constant(self.alpha_init), name=self.name + '_alphas')
        self.betas = self.add_weight(shape, _constant(self.beta_init), name=self.name + '_betas')

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        scaled = self.betas * x
        softplus = np.logaddexp(np.float32(0), scaled)
        y = self.alphas * softplus

        def backprop(dy):
            sigmoid = np.float32(0.5) * (np.float32(1) + np.tanh(np.float32(0.5) * scaled))
            grads = self.gradients
            grads[0] += _reduce_to(dy * softplus, self.alphas.shape)
            d_scaled = dy * self.alphas * sigmoid
            grads[1] += _reduce_to(d_scaled * x, self.betas.shape)
            return d_scaled * self.betas if need_input_grad else None
        return y, backprop

    def get_config(self):
        config = super(ParametricSoftplus, self).get_config()
        # shared_axes is not in Keras 1.2.2's config; Keras reads it back fine.
        config.update({'alpha_init': self.alpha_init, 'beta_init': self.beta_init,
                       'shared_axes': self.shared_axes})
        return config


def _constant(value):
    def init(shape, name=None, dim_ordering='th'):
        return np.full(shape, value, dtype='float32')
    return init


class ThresholdedReLU(Layer):
    """Thresholded ReLU: `f(x) = x` for x > theta and 0 otherwise.

    # Arguments
        theta: float >= 0, the threshold.

    # Input shape
        Any.

    # Output shape
        Same as the input.
    """

    supports_masking = True

    @keras2.keras2_arguments(keras2.SAME_IN_BOTH)
    def __init__(self, theta=1.0, **kwargs):
        super(ThresholdedReLU, self).__init__(**kwargs)
        self.theta = float(theta)

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        kept = (x > np.float32(self.theta)).astype(x.dtype)
        y = x * kept

        def backprop(dy):
            return dy * kept
        return y, backprop

    def get_config(self):
        config = super(ThresholdedReLU, self).get_config()
        config['theta'] = self.theta
        return config


class SReLU(Layer):
    """S-shaped rectified linear unit, with learned thresholds and slopes per
    input unit. With `t_right_actual = t_left + |t_right|`:

    `f(x) = t_right_actual + a_right * (x - t_right_actual)` for x >= t_right_actual,
    `f(x) = x` for t_left < x < t_right_actual,
    `f(x) = t_left + a_left * (x - t_left)` for x <= t_left.

    # Arguments
        t_left_init: initialization of the left thresholds `t_left`.
        a_left_init: initialization of the left slopes `a_left`.
        t_right_init: initialization of `t_right`, whose absolute value is
            the width of the middle (identity) part.
        a_right_init: initialization of the right slopes `a_right`.
        shared_axes: sample axes (counting from 1) along which one set of
            parameters is shared, e.g. [2, 3] for one set per channel of 'th'
            images.

    # Input shape
        Any; the parameters have the sample shape (with shared axes of size 1).

    # Output shape
        Same as the input.

    # Weights
        `t_left`, `a_left`, `t_right`, `a_right`, in that order.
    """

    supports_masking = True

    def __init__(self, t_left_init='zero', a_left_init='glorot_uniform',
                 t_right_init='glorot_uniform', a_right_init='one', shared_axes=None, **kwargs):
        super(SReLU, self).__init__(**kwargs)
        self.t_left_init = t_left_init
        self.a_left_init = a_left_init
        self.t_right_init = t_right_init
        self.a_right_init = a_right_init
        if shared_axes is None:
            self.shared_axes = []
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape):
        shape = _shared_param_shape(self, input_shape, self.shared_axes)
        self.t_left = self.add_weight(shape, self.t_left_init, name=self.name + '_t_left')
        self.a_left = self.add_weight(shape, self.a_left_init, name=self.name + '_a_left')
        self.t_right = self.add_weight(shape, self.t_right_init, name=self.name + '_t_right')
        self.a_right = self.add_weight(shape, self.a_right_init, name=self.name + '_a_right')

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        params = self.t_left.shape
        if x.ndim != len(params) + 1 or any(p not in (1, d) for p, d in zip(params, x.shape[1:])):
            raise ValueError('Layer %s (SReLU) was built for parameters of shape %s (size 1 on '
                             'the shared axes), which do not fit input of shape %s'
                             % (self.name, params, x.shape))
        width = np.abs(self.t_right)
        from_left = x - self.t_left
        from_right = from_left - width
        left = from_left < 0
        right = from_right > 0
        y = self.t_left + np.clip(from_left, 0, width) + self.a_left * np.minimum(from_left, 0) + \
            self.a_right * np.maximum(from_right, 0)

        def backprop(dy):
            one = np.float32(1)
            grads = self.gradients
            grads[0] += _reduce_to(dy * np.where(left, one - self.a_left,
                                                 np.where(right, one - self.a_right, 0)),
                                   self.t_left.shape)
            grads[1] += _reduce_to(dy * np.minimum(from_left, 0), self.a_left.shape)
            grads[2] += _reduce_to(dy * np.where(right, (one - self.a_right) *
                                                 np.sign(self.t_right), 0), self.t_right.shape)
            grads[3] += _reduce_to(dy * np.maximum(from_right, 0), self.a_right.shape)
            if not need_input_grad:
                return None
            return dy * np.where(left, self.a_left, np.where(right, self.a_right, one))
        return y.astype(x.dtype, copy=False), backprop

    def get_config(self):
        config = super(SReLU, self).get_config()
        # shared_axes is not in Keras 1.2.2's config; Keras reads it back fine.
        config.update({'t_left_init': self.t_left_init, 'a_left_init': self.a_left_init,
                       't_right_init': self.t_right_init, 'a_right_init': self.a_right_init,
                       'shared_axes': self.shared_axes})
        return config
