"""All layers, importable as `keras.layers.<Name>` as in Keras 1."""
from ..engine.topology import Layer
from .advanced_activations import PReLU
from .convolutional import Convolution2D
from .core import Activation, Dense, Dropout, Flatten, Permute, RepeatVector, Reshape
from .pooling import MaxPooling2D

Conv2D = Convolution2D
MaxPool2D = MaxPooling2D
