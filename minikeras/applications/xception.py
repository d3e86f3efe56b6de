"""Xception V1 (Chollet, 2016) as in Keras 1.2.2: the same layer names and
order, so that Keras's weight file loads.

Keras 1.2.2 provided it for the 'tf' dimension ordering only (its
SeparableConvolution2D was TensorFlow's): with the 'th' ordering set, it
warns and builds the model for 'tf' inputs all the same, as Keras did.
minikeras has its own separable convolution, so unlike Keras 1.2.2 on
Theano it does not refuse to build it.
"""
import warnings

from .. import backend as K
from ..engine.merge import merge
from ..engine.training import Model
from ..layers import (Activation, BatchNormalization, Convolution2D, Dense,
                      GlobalAveragePooling2D, MaxPooling2D, SeparableConvolution2D)
from ._common import (check_weights_argument, image_input, keras_1_input_shape,
                      load_imagenet_weights)
from .imagenet_utils import decode_predictions  # noqa: F401


def _separable(x, filters, name, activate_first=True):
    """(relu,) 3x3 separable convolution without bias, batch normalization."""
    if activate_first:
        x = Activation('relu', name=name + '_act')(x)
    x = SeparableConvolution2D(filters, 3, 3, border_mode='same', bias=False, name=name)(x)
    return BatchNormalization(name=name + '_bn')(x)


def _shortcut(x, filters):
    """The strided 1x1 convolution (and its normalization) of the entry and
    exit flows' residual connections; Keras left these layers unnamed."""
    shortcut = Convolution2D(filters, 1, 1, subsample=(2, 2), border_mode='same',
                             bias=False)(x)
    return BatchNormalization()(shortcut)


def _downsampling_block(x, filters, block, activate_first=True):
    """Two separable convolutions and a strided max pooling, added to the
    strided 1x1 convolution of the block's input."""
    first, second = filters
    shortcut = _shortcut(x, second)
    prefix = 'block%d' % block
    x = _separable(x, first, prefix + '_sepconv1', activate_first)
    if not activate_first:
        # Keras 1.2.2's block 2: its relu between the two convolutions is
        # named after the second one
        x = Activation('relu', name=prefix + '_sepconv2_act')(x)
        x = SeparableConvolution2D(second, 3, 3, border_mode='same', bias=False,
                                   name=prefix + '_sepconv2')(x)
        x = BatchNormalization(name=prefix + '_sepconv2_bn')(x)
    else:
        x = _separable(x, second, prefix + '_sepconv2')
    x = MaxPooling2D((3, 3), strides=(2, 2), border_mode='same', name=prefix + '_pool')(x)
    return merge([x, shortcut], mode='sum')


def Xception(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
             classes=1000):
    """The Xception network, optionally with the ImageNet weights Keras 1.2.2
    downloaded (from ~/.keras/models, or through `get_file`). Its inputs
    follow the 'tf' dimension ordering (rows, cols, channels) whatever the
    setting, as in Keras 1.2.2, which warned when the setting was 'th'.

    # Arguments
        include_top: whether to include the final Dense layer.
        weights: None (random initialization) or 'imagenet'.
        input_tensor: optional Keras tensor to use as image input.
        input_shape: optional image shape, only without the top; at least
            71x71 with 3 channels, e.g. (150, 150, 3).
        classes: the number of classes, only without ImageNet weights.

    # Returns
        A `Model`.
    """
    check_weights_argument(weights, include_top, classes)
    old_dim_ordering = K.image_dim_ordering()
    if old_dim_ordering != 'tf':
        warnings.warn('The Xception model is only available for the input dimension ordering '
                      '"tf" (width, height, channels). However your settings specify the '
                      'default dimension ordering "th" (channels, width, height). You should '
                      'set `image_dim_ordering="tf"` in your Keras config located at '
                      '~/.keras/keras.json. The model being returned right now will expect '
                      'inputs to follow the "tf" dimension ordering.')
        K.set_image_dim_ordering('tf')
    try:
        return _xception(include_top, weights, input_tensor, input_shape, classes)
    finally:
        K.set_image_dim_ordering(old_dim_ordering)


def _xception(include_top, weights, input_tensor, input_shape, classes):
    img_input = image_input(input_tensor, keras_1_input_shape(input_shape, 299, 71, include_top))
    x = Convolution2D(32, 3, 3, subsample=(2, 2), bias=False, name='block1_conv1')(img_input)
    x = BatchNormalization(name='block1_conv1_bn')(x)
    x = Activation('relu', name='block1_conv1_act')(x)
    x = Convolution2D(64, 3, 3, bias=False, name='block1_conv2')(x)
    x = BatchNormalization(name='block1_conv2_bn')(x)
    x = Activation('relu', name='block1_conv2_act')(x)

    x = _downsampling_block(x, (128, 128), 2, activate_first=False)
    x = _downsampling_block(x, (256, 256), 3)
    x = _downsampling_block(x, (728, 728), 4)
    for block in range(5, 13):
        residual = x
        for part in (1, 2, 3):
            x = _separable(x, 728, 'block%d_sepconv%d' % (block, part))
        x = merge([x, residual], mode='sum')
    x = _downsampling_block(x, (728, 1024), 13)

    for part, filters in ((1, 1536), (2, 2048)):
        name = 'block14_sepconv%d' % part
        x = SeparableConvolution2D(filters, 3, 3, border_mode='same', bias=False, name=name)(x)
        x = BatchNormalization(name=name + '_bn')(x)
        x = Activation('relu', name=name + '_act')(x)
    if include_top:
        x = GlobalAveragePooling2D(name='avg_pool')(x)
        x = Dense(classes, activation='softmax', name='predictions')(x)
    model = Model(img_input, x, name='xception')
    if weights == 'imagenet':
        load_imagenet_weights(model, 'xception', include_top)
    return model


def preprocess_input(x):
    """Scales pixels from [0, 255] to [-1, 1] in place (Keras 1.2.2's
    Xception preprocessing) and returns `x`."""
    x /= 255.
    x -= 0.5
    x *= 2.
    return x
