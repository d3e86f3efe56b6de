"""Noise layers, active in training only. They draw from NumPy's global
generator, so `np.random.seed` makes a run reproducible."""
import numpy as np

from ..compat import keras2
from ..engine.base_layer import Layer
from ..utils.layer_checks import fraction, layer_label


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
