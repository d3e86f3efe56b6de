"""Noise layers, active in training only. They draw from NumPy's global
generator, so `np.random.seed` makes a run reproducible."""
import numpy as np

from ..compat import keras2
from ..engine.base_layer import Layer
from ..utils.layer_checks import fraction, layer_label, noise_mask_shape


class GaussianNoise(Layer):
    """Adds zero-centred Gaussian noise of standard deviation `sigma` in
    training; the identity at test time.

    # Arguments
        sigma: float >= 0, the standard deviation of the noise.

    # Input shape
        Any.

    # Output shape
        Same as the input.
    """

    supports_masking = True

    @keras2.keras2_arguments(keras2.GAUSSIAN_NOISE)
    def __init__(self, sigma, **kwargs):
        super(GaussianNoise, self).__init__(**kwargs)
        if not sigma >= 0:
            raise ValueError('%s: sigma must be >= 0, got %r' % (layer_label(self), sigma))
        self.sigma = sigma
        self.uses_learning_phase = True

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        if not training or self.sigma == 0:
            return x, lambda dy: dy
        noise = np.random.standard_normal(x.shape).astype('float32')
        noise *= np.float32(self.sigma)
        return x + noise, lambda dy: dy

    def get_config(self):
        config = super(GaussianNoise, self).get_config()
        config['sigma'] = self.sigma
        return config


class GaussianDropout(Layer):
    """Multiplies the input by 1-centred Gaussian noise of standard deviation
    `sqrt(p / (1 - p))` in training; the identity at test time.

    # Arguments
        p: float in [0, 1), the drop probability it stands for (as in Dropout).

    # Input shape
        Any.

    # Output shape
        Same as the input.
    """

    supports_masking = True

    @keras2.keras2_arguments(keras2.GAUSSIAN_DROPOUT)
    def __init__(self, p, **kwargs):
        super(GaussianDropout, self).__init__(**kwargs)
        self.p = fraction(self, 'p', p)
        self.uses_learning_phase = 0. < self.p < 1.

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        if not training or self.p == 0:
            return x, lambda dy: dy
        noise = np.random.standard_normal(x.shape).astype('float32')
        noise *= np.float32(np.sqrt(self.p / (1. - self.p)))
        noise += np.float32(1)

        def backprop(dy):
            return dy * noise
        return x * noise, backprop

    def get_config(self):
        config = super(GaussianDropout, self).get_config()
        config['p'] = self.p
        return config


# The constants of selu (Klambauer et al. 2017), as Keras 2.2.4 wrote them.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(Layer):
    """Dropout that keeps the mean and variance of its input (Keras 2.2.4),
    for self-normalizing networks (`selu`): a dropped unit becomes selu's
    negative saturation value `-alpha * scale` instead of 0, and an affine map
    `a * x + b` restores the mean and variance. The identity at test time,
    and when `rate` is not strictly between 0 and 1.

    # Arguments
        rate: float, the probability of dropping a unit (as with Dropout).
        noise_shape: optional shape of the keep/drop mask, broadcast over the
            input (entries 1, None or the input's size).
        seed: optional int: masks from a private generator seeded with it,
            instead of NumPy's global one.

    # Input shape
        Any.

    # Output shape
        Same as the input.

    # References
        - [Self-Normalizing Neural Networks](https://arxiv.org/abs/1706.02515)
    """

    supports_masking = True

    @keras2.keras2_arguments(keras2.ALPHA_DROPOUT)
    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super(AlphaDropout, self).__init__(**kwargs)
        try:
            self.rate = float(rate)
        except (TypeError, ValueError):
            raise ValueError('%s: rate must be a number, got %r' % (layer_label(self), rate))
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._random = np.random if seed is None else np.random.RandomState(seed)

    def _mask_shape(self, shape):
        return noise_mask_shape(self, self.noise_shape, shape)

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        mask_shape = self._mask_shape(x.shape)
        rate = self.rate
        if not training or not 0. < rate < 1.:
            return x, lambda dy: dy
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1. - rate) * (1. + rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * rate
        kept = (self._random.random_sample(mask_shape) >= rate).astype('float32')
        # a * (x * kept + alpha_p * (1 - kept)) + b, with its slope a * kept.
        slope = np.float32(a) * kept
        offset = np.float32(a * alpha_p) * (np.float32(1) - kept) + np.float32(b)
        y = (x * slope + offset).astype(x.dtype, copy=False)

        def backprop(dy):
            return dy * slope
        return y, backprop

    def get_config(self):
        config = super(AlphaDropout, self).get_config()
        config['rate'] = self.rate
        if self.noise_shape is not None:
            config['noise_shape'] = list(self.noise_shape)
        if self.seed is not None:
            config['seed'] = self.seed
        return config
