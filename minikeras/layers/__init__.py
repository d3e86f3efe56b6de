"""All layers, importable as `keras.layers.<Name>` as in Keras 1 and Keras 2."""
from ..engine import Input, InputLayer, Layer, Merge
# `merge` is Keras 2's module, callable as Keras 1's function `merge(...)`.
from . import merge  # noqa: F401
from .merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add,
                    average, concatenate, dot, maximum, minimum, multiply, subtract)
from .advanced_activations import (ELU, LeakyReLU, ParametricSoftplus, PReLU, SReLU,
                                   ThresholdedReLU)
from .convolutional import (Conv1D, Conv2D, Convolution1D, Convolution2D, Cropping1D, Cropping2D,
                            UpSampling1D, UpSampling2D, ZeroPadding1D, ZeroPadding2D)
from .core import (Activation, ActivityRegularization, Dense, Dropout, Flatten, Highway, Lambda,
                   Masking, MaxoutDense, Permute, RepeatVector, Reshape, SpatialDropout1D,
                   SpatialDropout2D, TimeDistributedDense)
from .embeddings import Embedding
from .noise import AlphaDropout, GaussianDropout, GaussianNoise
from .normalization import BatchNormalization
from .recurrent import GRU, LSTM, Recurrent, SimpleRNN
from .pooling import (AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D,
                      GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAvgPool1D,
                      GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPooling1D,
                      GlobalMaxPooling2D, MaxPool1D, MaxPool2D, MaxPooling1D, MaxPooling2D)
from .wrappers import Bidirectional, TimeDistributed, Wrapper
from .convolutional_recurrent import ConvLSTM2D
from .convolutional import (AtrousConv1D, AtrousConv2D, AtrousConvolution1D, AtrousConvolution2D,
                            Conv3D, Convolution3D, Cropping3D, Deconv2D, Deconvolution2D,
                            SeparableConv2D, SeparableConvolution2D, UpSampling3D, ZeroPadding3D)
from .core import SpatialDropout3D
from .convolutional_keras2 import (Conv2DTranspose, Conv3DTranspose, DepthwiseConv2D,
                                   SeparableConv1D)
from .local import LocallyConnected1D, LocallyConnected2D
from .pooling import (AveragePooling3D, GlobalAveragePooling3D, GlobalMaxPooling3D,
                      MaxPooling3D)
from . import formats  # noqa: F401  (registers each layer class's file formats)
from . import second_order  # noqa: F401  (declares the piecewise-linear layers)
from . import batch_rows  # noqa: F401  (declares the batch-row independent layers)

from ..compat import keras0 as _keras0
from ..compat.unsupported import module_getattr as _module_getattr

_keras0.install_layer_api(Layer)
_keras0.install_merge_api(Merge)

__getattr__ = _module_getattr('layers')
