"""Which layers compute each batch row from the same row of their input alone.

A gradient walk that needs some rows of such a layer's input gradient (the
variable image of a style-transfer batch) runs the layer's backward pass on
those rows only: `engine/batch_rows.py` reads `independent_batch_rows`
(False on `Layer`): True, or a function of the layer and the phase
(`training`) for layers that are independent in one phase only.
"""
from ..engine.input_layer import InputLayer
from . import (advanced_activations, convolutional, core, local, noise, normalization,
               pooling)

# the same numbers for a row whatever the other rows, in both phases
_ALWAYS = (
    InputLayer,
    core.Dense, core.Activation, core.Flatten, core.Reshape, core.Permute, core.RepeatVector,
    core.MaxoutDense, core.Highway, core.TimeDistributedDense,
    convolutional.Convolution1D, convolutional.Convolution2D, convolutional.Convolution3D,
    convolutional.AtrousConvolution1D, convolutional.AtrousConvolution2D,
    convolutional.SeparableConvolution2D,
    convolutional.ZeroPadding1D, convolutional.ZeroPadding2D, convolutional.ZeroPadding3D,
    convolutional.Cropping1D, convolutional.Cropping2D, convolutional.Cropping3D,
    convolutional.UpSampling1D, convolutional.UpSampling2D, convolutional.UpSampling3D,
    pooling.MaxPooling1D, pooling.MaxPooling2D, pooling.MaxPooling3D,
    pooling.AveragePooling1D, pooling.AveragePooling2D, pooling.AveragePooling3D,
    pooling.GlobalMaxPooling1D, pooling.GlobalMaxPooling2D, pooling.GlobalMaxPooling3D,
    pooling.GlobalAveragePooling1D, pooling.GlobalAveragePooling2D,
    pooling.GlobalAveragePooling3D,
    advanced_activations.LeakyReLU, advanced_activations.PReLU, advanced_activations.ELU,
    advanced_activations.ParametricSoftplus, advanced_activations.ThresholdedReLU,
    advanced_activations.SReLU,
    local.LocallyConnected1D, local.LocallyConnected2D)

# the identity in the test phase; in the train phase their random draws
# depend on the batch's size, so a part of the batch would draw other numbers
_IN_TEST_PHASE = (
    core.Dropout, core.SpatialDropout1D, core.SpatialDropout2D, core.SpatialDropout3D,
    noise.GaussianNoise, noise.GaussianDropout, noise.AlphaDropout)


def _in_test_phase(layer, training):
    return not training


def _batch_normalization(layer, training):
    # mode 1 normalizes each sample by itself; mode 0 uses the moving
    # statistics in the test phase and the batch's in the train phase;
    # mode 2 always uses the batch's
    return layer.mode == 1 or (layer.mode == 0 and not training)


for _cls in _ALWAYS:
    _cls.independent_batch_rows = True
for _cls in _IN_TEST_PHASE:
    _cls.independent_batch_rows = _in_test_phase
normalization.BatchNormalization.independent_batch_rows = _batch_normalization
