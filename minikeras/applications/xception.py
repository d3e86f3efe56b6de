"""Xception V1 (Chollet, 2016) as in Keras 1.2.2: the same layer names and
order, so that Keras's weight file loads.

Keras 1.2.2 provided it for the 'tf' dimension ordering only (its
SeparableConvolution2D was TensorFlow's): with the 'th' ordering set, it
warns and builds the model for 'tf' inputs all the same, as Keras did.
minikeras has its own separable convolution, so unlike Keras 1.2.2 on
Theano it does not refuse to build it.

Keras 2.2.4 (keras_applications 1.0.6) built the same network from the same
file (release v0.4); a Keras 2 call (see `compat.keras2.keras2_application`)
follows its rules around it: any input size with the top, `pooling`,
`weights` as a path, its warning about channels_first.
"""
import warnings

from .. import backend as K
from ..compat import keras2
from ..engine.merge import merge
from ..engine.training import Model
from ..layers import (Activation, BatchNormalization, Convolution2D, Dense,
                      GlobalAveragePooling2D, MaxPooling2D, SeparableConvolution2D)
from . import imagenet_utils
from ._common import (apply_weights_2, channels_last, check_weights_argument,
                      check_weights_argument_2, global_pooling, image_input, keras_1_input_shape,
                      load_imagenet_weights)
from .imagenet_utils import decode_predictions  # noqa: F401
from .imagenet_utils import scale_to_unit_range as preprocess_input  # noqa: F401


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


def _xception_keras_2(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
                      pooling=None, classes=1000):
    """Keras 2.2.4's Xception (keras_applications 1.0.6): the same network,
    any input size with the top, `pooling`, `weights` as a path."""
    check_weights_argument_2(weights, include_top, classes, pooling)
    if K.image_data_format() != 'channels_last':
        warnings.warn('The Xception model is only available for the input data format '
                      '"channels_last" (width, height, channels). However your settings '
                      'specify the default data format "channels_first" (channels, width, '
                      'height). You should set `image_data_format="channels_last"` in your '
                      'Keras config located at ~/.keras/keras.json. The model being returned '
                      'right now will expect inputs to follow the "channels_last" data format.')
    with channels_last():
        shape = imagenet_utils.obtain_input_shape_2(input_shape, default_size=299, min_size=71,
                                                    data_format='channels_last',
                                                    require_flatten=False, weights=weights)
        model = _xception(image_input(input_tensor, shape), include_top, classes, pooling)
    return apply_weights_2(model, weights, 'xception', include_top)


@keras2.keras2_application(_xception_keras_2)
def Xception(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
             classes=1000):
    """The Xception network, optionally with the ImageNet weights Keras 1.2.2
    downloaded (from ~/.keras/models, or through `get_file`). Its inputs
    follow the 'tf' dimension ordering (rows, cols, channels) whatever the
    setting, as in Keras 1.2.2, which warned when the setting was 'th'.

    A Keras 2 call (one with `pooling`, or any call in a Keras 2 script)
    takes Keras 2's arguments `(include_top, weights, input_tensor,
    input_shape, pooling, classes)` and Keras 2.2.4's rules.

    # Arguments
        include_top: whether to include the final Dense layer.
        weights: None (random initialization) or 'imagenet' (in a Keras 2
            call also the path of a weight file).
        input_tensor: optional Keras tensor to use as image input.
        input_shape: optional image shape, only without the top (Keras 2:
            with it too); at least 71x71 with 3 channels, e.g. (150, 150, 3).
        pooling: Keras 2 only: without the top, None, 'avg' or 'max'.
        classes: the number of classes, only without ImageNet weights.

    # Returns
        A `Model`.
    """
    check_weights_argument(weights, include_top, classes)
    if K.image_dim_ordering() != 'tf':
        warnings.warn('The Xception model is only available for the input dimension ordering '
                      '"tf" (width, height, channels). However your settings specify the '
                      'default dimension ordering "th" (channels, width, height). You should '
                      'set `image_dim_ordering="tf"` in your Keras config located at '
                      '~/.keras/keras.json. The model being returned right now will expect '
                      'inputs to follow the "tf" dimension ordering.')
    with channels_last():
        img_input = image_input(input_tensor,
                                keras_1_input_shape(input_shape, 299, 71, include_top))
        model = _xception(img_input, include_top, classes)
        if weights == 'imagenet':
            load_imagenet_weights(model, 'xception', include_top)
    return model


def _xception(img_input, include_top, classes, pooling=None):
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
    else:
        x = global_pooling(x, pooling)
    return Model(img_input, x, name='xception')
