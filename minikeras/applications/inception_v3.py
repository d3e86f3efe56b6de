"""Inception V3 (Szegedy et al., 2015) as in Keras 1.2.2: the same layers in
the same order and the concatenations named 'mixed0' ... 'mixed10', so that
Keras's weight files load by layer."""
from .. import backend as K
from ..engine.merge import merge
from ..engine.training import Model
from ..layers import (AveragePooling2D, BatchNormalization, Convolution2D, Dense, Flatten,
                      MaxPooling2D)
from ._common import check_weights_argument, image_input, load_imagenet_weights
from .imagenet_utils import decode_predictions  # noqa: F401


def _channel_axis():
    return 1 if K.image_dim_ordering() == 'th' else 3


def conv2d_bn(x, nb_filter, nb_row, nb_col, border_mode='same', subsample=(1, 1), name=None):
    """A relu convolution followed by batch normalization (Keras's helper;
    `name` gives '<name>_conv' and '<name>_bn')."""
    x = Convolution2D(nb_filter, nb_row, nb_col, subsample=subsample, activation='relu',
                      border_mode=border_mode, name=None if name is None else name + '_conv')(x)
    return BatchNormalization(axis=_channel_axis(),
                              name=None if name is None else name + '_bn')(x)


def _chain(x, specs):
    """conv2d_bn applied in turn: each spec is (filters, rows, cols[, options])."""
    for spec in specs:
        x = conv2d_bn(x, *spec[:3], **(spec[3] if len(spec) > 3 else {}))
    return x


def _concat(branches, name=None):
    return merge(branches, mode='concat', concat_axis=_channel_axis(), name=name)


def _same_average_pool(x, filters):
    pooled = AveragePooling2D((3, 3), strides=(1, 1), border_mode='same')(x)
    return conv2d_bn(pooled, filters, 1, 1)


_REDUCE = {'subsample': (2, 2), 'border_mode': 'valid'}


def _block_35(x, pool_filters, name):
    return _concat([_chain(x, [(64, 1, 1)]),
                    _chain(x, [(48, 1, 1), (64, 5, 5)]),
                    _chain(x, [(64, 1, 1), (96, 3, 3), (96, 3, 3)]),
                    _same_average_pool(x, pool_filters)], name)


def _block_17(x, middle, name):
    return _concat([_chain(x, [(192, 1, 1)]),
                    _chain(x, [(middle, 1, 1), (middle, 1, 7), (192, 7, 1)]),
                    _chain(x, [(middle, 1, 1), (middle, 7, 1), (middle, 1, 7), (middle, 7, 1),
                               (192, 1, 7)]),
                    _same_average_pool(x, 192)], name)


def _block_8(x, index):
    wide = _chain(x, [(384, 1, 1)])
    wide = _concat([_chain(wide, [(384, 1, 3)]), _chain(wide, [(384, 3, 1)])],
                   'mixed9_%d' % index)
    deep = _chain(x, [(448, 1, 1), (384, 3, 3)])
    deep = _concat([_chain(deep, [(384, 1, 3)]), _chain(deep, [(384, 3, 1)])])
    return _concat([_chain(x, [(320, 1, 1)]), wide, deep, _same_average_pool(x, 192)],
                   'mixed%d' % (9 + index))


def InceptionV3(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
                classes=1000):
    """The Inception V3 network, optionally with the ImageNet weights Keras
    1.2.2 downloaded (from ~/.keras/models, or through `get_file`). Its inputs are scaled to
    [-1, 1] (`inception_v3.preprocess_input`).

    # Arguments
        include_top: whether to include the final pooling and Dense layer.
        weights: None (random initialization) or 'imagenet'.
        input_tensor: optional Keras tensor to use as image input.
        input_shape: optional image shape, only without the top (else
            (3, 299, 299) for 'th', (299, 299, 3) for 'tf'); at least 139x139.
        classes: the number of classes, only without ImageNet weights.

    # Returns
        A `Model`.
    """
    check_weights_argument(weights, include_top, classes)
    img_input = image_input(input_tensor, input_shape, default_size=299, min_size=139,
                            include_top=include_top)
    x = _chain(img_input, [(32, 3, 3, _REDUCE), (32, 3, 3, {'border_mode': 'valid'}),
                           (64, 3, 3)])
    x = MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _chain(x, [(80, 1, 1, {'border_mode': 'valid'}), (192, 3, 3, {'border_mode': 'valid'})])
    x = MaxPooling2D((3, 3), strides=(2, 2))(x)
    for i in range(3):
        x = _block_35(x, 32 if i == 0 else 64, 'mixed%d' % i)
    x = _concat([_chain(x, [(384, 3, 3, _REDUCE)]),
                 _chain(x, [(64, 1, 1), (96, 3, 3), (96, 3, 3, _REDUCE)]),
                 MaxPooling2D((3, 3), strides=(2, 2))(x)], 'mixed3')
    for i, middle in enumerate((128, 160, 160, 192)):
        x = _block_17(x, middle, 'mixed%d' % (4 + i))
    x = _concat([_chain(x, [(192, 1, 1), (320, 3, 3, _REDUCE)]),
                 _chain(x, [(192, 1, 1), (192, 1, 7), (192, 7, 1), (192, 3, 3, _REDUCE)]),
                 AveragePooling2D((3, 3), strides=(2, 2))(x)], 'mixed8')
    for i in range(2):
        x = _block_8(x, i)
    if include_top:
        x = AveragePooling2D((8, 8), strides=(8, 8), name='avg_pool')(x)
        x = Flatten(name='flatten')(x)
        x = Dense(classes, activation='softmax', name='predictions')(x)
    model = Model(img_input, x, name='inception_v3')
    if weights == 'imagenet':
        load_imagenet_weights(model, 'inception_v3', include_top)
    return model


def preprocess_input(x):
    """Scales pixels from [0, 255] to [-1, 1], in place, as Inception V3's
    weights expect."""
    x /= 255.
    x -= 0.5
    x *= 2.
    return x
