"""ResNet50 (He et al., 2015) as in Keras 1.2.2: the same layer names, so
that Keras's weight files load by layer."""
from .. import backend as K
from ..engine.merge import merge
from ..engine.training import Model
from ..layers import (Activation, AveragePooling2D, BatchNormalization, Convolution2D, Dense,
                      Flatten, MaxPooling2D, ZeroPadding2D)
from ._common import (check_weights_argument, image_input, keras_1_input_shape,
                      load_imagenet_weights)
from .imagenet_utils import decode_predictions, preprocess_input  # noqa: F401


def _bn_axis():
    return 3 if K.image_dim_ordering() == 'tf' else 1


def _residual_block(x, kernel_size, filters, stage, block, strides=None):
    """Three convolutions (1x1, kxk, 1x1) added to the shortcut: the input
    itself, or, with `strides` (Keras's conv_block), a strided 1x1
    convolution of it."""
    conv_name = 'res%d%s_branch' % (stage, block)
    bn_name = 'bn%d%s_branch' % (stage, block)
    shortcut = x
    first_strides = strides or (1, 1)
    y = x
    for part, (n, size) in zip('abc', zip(filters, (1, kernel_size, 1))):
        y = Convolution2D(n, size, size, subsample=first_strides if part == 'a' else (1, 1),
                          border_mode='same' if part == 'b' else 'valid',
                          name=conv_name + '2' + part)(y)
        y = BatchNormalization(axis=_bn_axis(), name=bn_name + '2' + part)(y)
        if part != 'c':
            y = Activation('relu')(y)
    if strides is not None:
        shortcut = Convolution2D(filters[2], 1, 1, subsample=strides, name=conv_name + '1')(x)
        shortcut = BatchNormalization(axis=_bn_axis(), name=bn_name + '1')(shortcut)
    y = merge([y, shortcut], mode='sum')
    return Activation('relu')(y)


_STAGES = ((2, (64, 64, 256), 3, (1, 1)), (3, (128, 128, 512), 4, (2, 2)),
           (4, (256, 256, 1024), 6, (2, 2)), (5, (512, 512, 2048), 3, (2, 2)))


def ResNet50(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
             classes=1000):
    """The 50-layer residual network, optionally with the ImageNet weights
    Keras 1.2.2 downloaded (from ~/.keras/models, or through `get_file`).

    # Arguments
        include_top: whether to include the final Dense layer.
        weights: None (random initialization) or 'imagenet'.
        input_tensor: optional Keras tensor to use as image input.
        input_shape: optional image shape, only without the top; at least
            197x197.
        classes: the number of classes, only without ImageNet weights.

    # Returns
        A `Model`.
    """
    check_weights_argument(weights, include_top, classes)
    img_input = image_input(input_tensor, keras_1_input_shape(input_shape, 224, 197, include_top))
    x = ZeroPadding2D((3, 3))(img_input)
    x = Convolution2D(64, 7, 7, subsample=(2, 2), name='conv1')(x)
    x = BatchNormalization(axis=_bn_axis(), name='bn_conv1')(x)
    x = Activation('relu')(x)
    x = MaxPooling2D((3, 3), strides=(2, 2))(x)
    for stage, filters, blocks, strides in _STAGES:
        for index in range(blocks):
            x = _residual_block(x, 3, filters, stage, 'abcdef'[index],
                                strides=strides if index == 0 else None)
    x = AveragePooling2D((7, 7), name='avg_pool')(x)
    if include_top:
        x = Flatten()(x)
        x = Dense(classes, activation='softmax', name='fc1000')(x)
    model = Model(img_input, x, name='resnet50')
    if weights == 'imagenet':
        load_imagenet_weights(model, 'resnet50', include_top)
    return model
