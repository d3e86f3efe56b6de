"""ResNet50 (He et al., 2015) as Keras 1.2.2 and Keras 2.2.4 built it, with
their layer names, so that Keras's weight file loads by layer.

Both use the same residual blocks and the same file (release v0.2). Keras
2.2.4's (keras_applications 1.0.6) differs around them: the input padding
is a layer named 'conv1_pad', a one-pixel 'pool1_pad' comes before the
first max pooling (56x56 after it at 224x224, where 1.2.2 has 55x55), the
top is a global average pooling instead of 1.2.2's 7x7 average pooling
(which 1.2.2 kept without the top, giving 1x1 features), inputs may be as
small as 32x32, and `pooling` exists. A Keras 2 call (see
`compat.keras2.keras2_application`) builds 2.2.4's.
"""
import warnings

from .. import backend as K
from ..compat import keras2
from ..engine.merge import merge
from ..engine.training import Model
from ..layers import (Activation, Add, AveragePooling2D, BatchNormalization, Convolution2D,
                      Dense, Flatten, GlobalAveragePooling2D, MaxPooling2D, ZeroPadding2D)
from . import imagenet_utils
from ._common import (apply_weights_2, check_weights_argument, check_weights_argument_2,
                      global_pooling, image_input, keras_1_input_shape, load_imagenet_weights)
from .imagenet_utils import decode_predictions, preprocess_input  # noqa: F401


class _Keras1Units(object):
    def __init__(self):
        self.axis = 3 if K.image_dim_ordering() == 'tf' else 1

    def conv(self, x, filters, size, strides=(1, 1), padding='valid', name=None):
        return Convolution2D(filters, size, size, subsample=strides, border_mode=padding,
                             name=name)(x)

    def norm(self, x, name):
        return BatchNormalization(axis=self.axis, name=name)(x)

    def add(self, tensors):
        return merge(tensors, mode='sum')


class _Keras2Units(object):
    """Every layer told its data format: Keras 2 calls, with Keras 2's names."""

    def __init__(self, data_format):
        self.data_format = data_format
        self.axis = 1 if data_format == 'channels_first' else 3

    def conv(self, x, filters, size, strides=(1, 1), padding='valid', name=None):
        return Convolution2D(filters, (size, size), strides=strides, padding=padding,
                             data_format=self.data_format, name=name)(x)

    def norm(self, x, name):
        return BatchNormalization(axis=self.axis, name=name)(x)

    def add(self, tensors):
        return Add()(tensors)


def _residual_block(units, x, kernel_size, filters, stage, block, strides=None):
    """Three convolutions (1x1, kxk, 1x1) added to the shortcut: the input
    itself, or, with `strides` (Keras's conv_block), a strided 1x1
    convolution of it."""
    conv_name = 'res%d%s_branch' % (stage, block)
    bn_name = 'bn%d%s_branch' % (stage, block)
    shortcut = x
    first_strides = strides or (1, 1)
    y = x
    for part, (n, size) in zip('abc', zip(filters, (1, kernel_size, 1))):
        y = units.conv(y, n, size, strides=first_strides if part == 'a' else (1, 1),
                       padding='same' if part == 'b' else 'valid', name=conv_name + '2' + part)
        y = units.norm(y, bn_name + '2' + part)
        if part != 'c':
            y = Activation('relu')(y)
    if strides is not None:
        shortcut = units.conv(x, filters[2], 1, strides=strides, name=conv_name + '1')
        shortcut = units.norm(shortcut, bn_name + '1')
    y = units.add([y, shortcut])
    return Activation('relu')(y)


_STAGES = ((2, (64, 64, 256), 3, (1, 1)), (3, (128, 128, 512), 4, (2, 2)),
           (4, (256, 256, 1024), 6, (2, 2)), (5, (512, 512, 2048), 3, (2, 2)))


def _stages(units, x):
    for stage, filters, blocks, strides in _STAGES:
        for index in range(blocks):
            x = _residual_block(units, x, 3, filters, stage, 'abcdef'[index],
                                strides=strides if index == 0 else None)
    return x


def _resnet50_keras_2(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
                      pooling=None, classes=1000):
    """Keras 2.2.4's ResNet50 (keras_applications 1.0.6)."""
    check_weights_argument_2(weights, include_top, classes, pooling)
    data_format = K.image_data_format()
    units = _Keras2Units(data_format)
    shape = imagenet_utils.obtain_input_shape_2(input_shape, default_size=224, min_size=32,
                                                data_format=data_format,
                                                require_flatten=include_top, weights=weights)
    img_input = image_input(input_tensor, shape)
    x = ZeroPadding2D(padding=(3, 3), data_format=data_format, name='conv1_pad')(img_input)
    x = units.conv(x, 64, 7, strides=(2, 2), name='conv1')
    x = units.norm(x, 'bn_conv1')
    x = Activation('relu')(x)
    x = ZeroPadding2D(padding=(1, 1), data_format=data_format, name='pool1_pad')(x)
    x = MaxPooling2D((3, 3), strides=(2, 2), data_format=data_format)(x)
    x = _stages(units, x)
    if include_top:
        x = GlobalAveragePooling2D(data_format=data_format, name='avg_pool')(x)
        x = Dense(classes, activation='softmax', name='fc1000')(x)
    elif pooling is None:
        warnings.warn('The output shape of `ResNet50(include_top=False)` has been changed since '
                      'Keras 2.2.0.')
    else:
        x = global_pooling(x, pooling, data_format=data_format)
    model = Model(img_input, x, name='resnet50')
    return apply_weights_2(model, weights, 'resnet50', include_top)


@keras2.keras2_application(_resnet50_keras_2)
def ResNet50(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
             classes=1000):
    """The 50-layer residual network, optionally with the ImageNet weights of
    its Keras (from ~/.keras/models, or through `get_file`).

    A Keras 1 call builds Keras 1.2.2's network (at least 197x197; without
    the top, the 7x7 average pooling stays: (1, 1, 2048) features); a Keras 2
    call (one with `pooling`, or any call in a Keras 2 script) builds Keras
    2.2.4's (in `K.image_data_format()`, at least 32x32; without the top, the
    last block's 4D output unless `pooling`), with Keras 2's arguments
    `(include_top, weights, input_tensor, input_shape, pooling, classes)`.
    Both load release v0.2's file.

    # Arguments
        include_top: whether to include the final Dense layer.
        weights: None (random initialization) or 'imagenet' (in a Keras 2
            call also the path of a weight file).
        input_tensor: optional Keras tensor to use as image input.
        input_shape: optional image shape, only without the top.
        pooling: Keras 2 only: without the top, None, 'avg' or 'max'.
        classes: the number of classes, only without ImageNet weights.

    # Returns
        A `Model`.
    """
    check_weights_argument(weights, include_top, classes)
    units = _Keras1Units()
    img_input = image_input(input_tensor, keras_1_input_shape(input_shape, 224, 197, include_top))
    x = ZeroPadding2D((3, 3))(img_input)
    x = units.conv(x, 64, 7, strides=(2, 2), name='conv1')
    x = units.norm(x, 'bn_conv1')
    x = Activation('relu')(x)
    x = MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _stages(units, x)
    x = AveragePooling2D((7, 7), name='avg_pool')(x)
    if include_top:
        x = Flatten()(x)
        x = Dense(classes, activation='softmax', name='fc1000')(x)
    model = Model(img_input, x, name='resnet50')
    if weights == 'imagenet':
        load_imagenet_weights(model, 'resnet50', include_top)
    return model
