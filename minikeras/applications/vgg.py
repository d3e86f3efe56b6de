"""VGG16 and VGG19 (Simonyan & Zisserman, 2014) as in Keras 1.2.2: the same
layer names, so that Keras's weight files load by layer."""
from ..engine.training import Model
from ..layers import Convolution2D, Dense, Flatten, MaxPooling2D
from ._common import (check_weights_argument, image_input, keras_1_input_shape,
                      load_imagenet_weights)

# convolutions per block; every block ends with a 2x2 max pooling
_BLOCKS = {'vgg16': (2, 2, 3, 3, 3), 'vgg19': (2, 2, 4, 4, 4)}
_FILTERS = (64, 128, 256, 512, 512)


def _vgg(name, include_top, weights, input_tensor, input_shape, classes):
    check_weights_argument(weights, include_top, classes)
    img_input = image_input(input_tensor, keras_1_input_shape(input_shape, 224, 48, include_top))
    x = img_input
    for block, (count, filters) in enumerate(zip(_BLOCKS[name], _FILTERS), start=1):
        for conv in range(1, count + 1):
            x = Convolution2D(filters, 3, 3, activation='relu', border_mode='same',
                              name='block%d_conv%d' % (block, conv))(x)
        x = MaxPooling2D((2, 2), strides=(2, 2), name='block%d_pool' % block)(x)
    if include_top:
        x = Flatten(name='flatten')(x)
        x = Dense(4096, activation='relu', name='fc1')(x)
        x = Dense(4096, activation='relu', name='fc2')(x)
        x = Dense(classes, activation='softmax', name='predictions')(x)
    model = Model(img_input, x, name=name)
    if weights == 'imagenet':
        load_imagenet_weights(model, name, include_top)
    return model


def VGG16(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
          classes=1000):
    """The VGG16 network, optionally with the ImageNet weights Keras 1.2.2
    downloaded (from ~/.keras/models, or through `get_file`).

    # Arguments
        include_top: whether to include the 3 fully-connected layers.
        weights: None (random initialization) or 'imagenet'.
        input_tensor: optional Keras tensor to use as image input (an
            `Input`, a placeholder or an expression).
        input_shape: optional image shape, only without the top (else
            (3, 224, 224) for 'th', (224, 224, 3) for 'tf'); at least 48x48.
        classes: the number of classes, only without ImageNet weights.

    # Returns
        A `Model`.
    """
    return _vgg('vgg16', include_top, weights, input_tensor, input_shape, classes)


def VGG19(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
          classes=1000):
    """The VGG19 network: VGG16 with four convolutions in blocks 3 to 5.

    # Arguments
        As for `VGG16`.
    """
    return _vgg('vgg19', include_top, weights, input_tensor, input_shape, classes)
