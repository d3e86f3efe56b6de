"""VGG16 and VGG19 (Simonyan & Zisserman, 2014) as in Keras 1.2.2 and Keras
2.2.4: the same layer names, so that Keras's weight files load by layer.

The two generations build the same network. A Keras 2 call (see
`compat.keras2.keras2_application`) differs only around it, as Keras 2.2.4
(keras_applications 1.0.6) did: the layout is `K.image_data_format()`,
inputs may be as small as 32x32 (1.2.2: 48x48), `pooling` exists, `weights`
may be a file's path, and the 'tf' file of release v0.1 is loaded in either
data format (1.2.2 took the 'th' file for the 'th' ordering).
"""
from .. import backend as K
from ..compat import keras2
from ..engine.training import Model
from ..layers import Convolution2D, Dense, Flatten, MaxPooling2D
from . import imagenet_utils
from ._common import (apply_weights_2, check_weights_argument, check_weights_argument_2,
                      global_pooling, image_input, keras_1_input_shape, load_imagenet_weights)

# convolutions per block; every block ends with a 2x2 max pooling
_BLOCKS = {'vgg16': (2, 2, 3, 3, 3), 'vgg19': (2, 2, 4, 4, 4)}
_FILTERS = (64, 128, 256, 512, 512)


def _network(name, img_input, include_top, classes, ordering, pooling=None):
    x = img_input
    for block, (count, filters) in enumerate(zip(_BLOCKS[name], _FILTERS), start=1):
        for conv in range(1, count + 1):
            x = Convolution2D(filters, 3, 3, activation='relu', border_mode='same',
                              dim_ordering=ordering, name='block%d_conv%d' % (block, conv))(x)
        x = MaxPooling2D((2, 2), strides=(2, 2), dim_ordering=ordering,
                         name='block%d_pool' % block)(x)
    if include_top:
        x = Flatten(name='flatten')(x)
        x = Dense(4096, activation='relu', name='fc1')(x)
        x = Dense(4096, activation='relu', name='fc2')(x)
        x = Dense(classes, activation='softmax', name='predictions')(x)
    else:
        x = global_pooling(x, pooling, dim_ordering=ordering)
    return Model(img_input, x, name=name)


def _vgg(name, include_top, weights, input_tensor, input_shape, classes):
    check_weights_argument(weights, include_top, classes)
    img_input = image_input(input_tensor, keras_1_input_shape(input_shape, 224, 48, include_top))
    model = _network(name, img_input, include_top, classes, K.image_dim_ordering())
    if weights == 'imagenet':
        load_imagenet_weights(model, name, include_top)
    return model


def _vgg_keras_2(name, include_top, weights, input_tensor, input_shape, pooling, classes):
    check_weights_argument_2(weights, include_top, classes, pooling)
    data_format = K.image_data_format()
    shape = imagenet_utils.obtain_input_shape_2(input_shape, default_size=224, min_size=32,
                                                data_format=data_format,
                                                require_flatten=include_top, weights=weights)
    model = _network(name, image_input(input_tensor, shape), include_top, classes,
                     K.dim_ordering_of(data_format), pooling)
    return apply_weights_2(model, weights, name, include_top)


def _vgg16_keras_2(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
                   pooling=None, classes=1000):
    return _vgg_keras_2('vgg16', include_top, weights, input_tensor, input_shape, pooling,
                        classes)


def _vgg19_keras_2(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
                   pooling=None, classes=1000):
    return _vgg_keras_2('vgg19', include_top, weights, input_tensor, input_shape, pooling,
                        classes)


@keras2.keras2_application(_vgg16_keras_2)
def VGG16(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
          classes=1000):
    """The VGG16 network, optionally with the ImageNet weights of its Keras
    (from ~/.keras/models, or through `get_file`).

    A Keras 2 call (one with `pooling`, or any call in a Keras 2 script)
    takes Keras 2's arguments `(include_top, weights, input_tensor,
    input_shape, pooling, classes)` and Keras 2.2.4's rules (see the module).

    # Arguments
        include_top: whether to include the 3 fully-connected layers.
        weights: None (random initialization) or 'imagenet' (in a Keras 2
            call also the path of a weight file).
        input_tensor: optional Keras tensor to use as image input (an
            `Input`, a placeholder or an expression).
        input_shape: optional image shape, only without the top (else
            (3, 224, 224) for 'th', (224, 224, 3) for 'tf'); at least 48x48
            (Keras 2: 32x32).
        pooling: Keras 2 only: without the top, None, 'avg' or 'max'.
        classes: the number of classes, only without ImageNet weights.

    # Returns
        A `Model`.
    """
    return _vgg('vgg16', include_top, weights, input_tensor, input_shape, classes)


@keras2.keras2_application(_vgg19_keras_2)
def VGG19(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
          classes=1000):
    """The VGG19 network: VGG16 with four convolutions in blocks 3 to 5.

    # Arguments
        As for `VGG16`.
    """
    return _vgg('vgg19', include_top, weights, input_tensor, input_shape, classes)
