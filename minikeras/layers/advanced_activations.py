"""Activation layers with parameters or options."""
import numpy as np

from ..engine.topology import Layer


class PReLU(Layer):
    """Parametric ReLU: `f(x) = x` for x >= 0 and `alpha * x` otherwise, with
    a learned `alpha` per input unit.

    # Arguments
        init: initialization of the alphas ('zero' by default).
        weights: list with one array, the initial alphas.
        shared_axes: sample axes (counting from 1) along which one alpha is
            shared, e.g. [2, 3] for one alpha per channel of 'th' images.

    # Input shape
        Any; the alphas have the sample shape (with shared axes of size 1).

    # Output shape
        Same as the input.
    """

    def __init__(self, init='zero', weights=None, shared_axes=None, **kwargs):
        super(PReLU, self).__init__(weights=weights, **kwargs)
        self.init = init
        if shared_axes is None:
            self.shared_axes = []
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape):
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes:
            if not 1 <= axis < len(input_shape):
                raise ValueError('Layer %s (PReLU): shared axis %d outside the sample axes of %s'
                                 % (self.name, axis, tuple(input_shape)))
            param_shape[axis - 1] = 1
        if any(d is None for d in param_shape):
            raise ValueError('Layer %s (PReLU): the sample shape must be known, got %s'
                             % (self.name, tuple(input_shape)))
        self.alphas = self.add_weight(tuple(param_shape), self.init, name=self.name + '_alphas')

    def forward(self, x, training=False, need_input_grad=True):
        negative = np.minimum(x, 0)
        y = np.maximum(x, 0) + self.alphas * negative

        def backprop(dy):
            reduce_axes = (0,) + tuple(self.shared_axes)
            self.gradients[0] += np.sum(dy * negative, axis=reduce_axes).reshape(self.alphas.shape)
            return dy * np.where(x > 0, np.float32(1), self.alphas)
        return y, backprop

    def get_config(self):
        config = super(PReLU, self).get_config()
        config.update({'init': self.init, 'shared_axes': self.shared_axes})
        return config
