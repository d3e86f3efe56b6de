"""Which layers are piecewise linear in their input (for fixed weights).

The gradient of an expression made of such layers is locally constant, so
its own derivative (a second derivative through `K.gradients`, as in
mnist_swwae's `getwhere`) is zero almost everywhere: `engine/functions.py`
reads `layer.piecewise_linear` (False on `Layer`) to apply that rule.
"""
from . import convolutional, core, pooling

# max/average pooling, reshapes, padding, cropping, repetition and dropout's
# masks: piecewise linear whatever their settings
_ALWAYS = (
    pooling.MaxPooling1D, pooling.MaxPooling2D, pooling.MaxPooling3D,
    pooling.AveragePooling1D, pooling.AveragePooling2D, pooling.AveragePooling3D,
    pooling.GlobalMaxPooling1D, pooling.GlobalMaxPooling2D, pooling.GlobalMaxPooling3D,
    pooling.GlobalAveragePooling1D, pooling.GlobalAveragePooling2D,
    pooling.GlobalAveragePooling3D,
    core.Flatten, core.Reshape, core.Permute, core.RepeatVector, core.Dropout,
    core.SpatialDropout1D, core.SpatialDropout2D, core.SpatialDropout3D,
    convolutional.ZeroPadding1D, convolutional.ZeroPadding2D, convolutional.ZeroPadding3D,
    convolutional.Cropping1D, convolutional.Cropping2D, convolutional.Cropping3D,
    convolutional.UpSampling1D, convolutional.UpSampling2D, convolutional.UpSampling3D)

# linear in the input for fixed weights: piecewise linear when the
# activation is (linear or relu)
_BY_ACTIVATION = (
    core.Activation, core.Dense, convolutional.Convolution1D, convolutional.Convolution2D,
    convolutional.Convolution3D, convolutional.AtrousConvolution1D,
    convolutional.AtrousConvolution2D, convolutional.Deconvolution2D,
    convolutional.SeparableConvolution2D)

_PIECEWISE_LINEAR_ACTIVATIONS = ('linear', 'relu')


def _piecewise_linear_activation(layer):
    return getattr(layer.activation, '__name__', None) in _PIECEWISE_LINEAR_ACTIVATIONS


for _cls in _ALWAYS:
    _cls.piecewise_linear = True
for _cls in _BY_ACTIVATION:
    _cls.piecewise_linear = property(_piecewise_linear_activation)
