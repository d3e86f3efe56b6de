"""Inception V3 (Szegedy et al., 2015) as Keras 1.2.2 and Keras 2.2.4 built it.

Both generations chain the same convolutions into the same blocks, with the
concatenations named 'mixed0' ... 'mixed10' (and 'mixed9_0', 'mixed9_1'),
but each unit differs, and so does each weight file:

- Keras 1.2.2: a biased convolution with its relu, then BatchNormalization
  (gamma and beta); layers named '<x>_conv'/'<x>_bn' only where Keras named
  them; release v0.2's files.
- Keras 2.2.4 (keras_applications 1.0.6): a bias-free convolution, then
  BatchNormalization(scale=False) (no gamma), then a relu; the layers take
  Keras 2's default names (conv2d_N, batch_normalization_N, activation_N);
  the top is a global average pooling; the network accepts 75x75 inputs;
  release v0.5's files (the same file names as v0.2's).

A Keras 2 call (see `compat.keras2.keras2_application`) builds 2.2.4's.
"""
from .. import backend as K
from ..compat import keras2
from ..engine.merge import merge
from ..engine.training import Model
from ..layers import (Activation, AveragePooling2D, BatchNormalization, Concatenate,
                      Convolution2D, Dense, Flatten, GlobalAveragePooling2D, MaxPooling2D)
from . import imagenet_utils
from ._common import (apply_weights_2, check_weights_argument, check_weights_argument_2,
                      global_pooling, image_input, keras_1_input_shape, load_imagenet_weights)
from .imagenet_utils import decode_predictions  # noqa: F401
from .imagenet_utils import scale_to_unit_range as preprocess_input  # noqa: F401


class _Keras1Units(object):
    """Keras 1.2.2's layers: relu convolution, then batch normalization."""

    def __init__(self):
        self.axis = 1 if K.image_dim_ordering() == 'th' else 3

    def conv_bn(self, x, filters, rows, cols, padding='same', strides=(1, 1)):
        x = Convolution2D(filters, rows, cols, subsample=strides, activation='relu',
                          border_mode=padding)(x)
        return BatchNormalization(axis=self.axis)(x)

    def max_pool(self, x):
        return MaxPooling2D((3, 3), strides=(2, 2))(x)

    def same_average_pool(self, x):
        return AveragePooling2D((3, 3), strides=(1, 1), border_mode='same')(x)

    def concat(self, branches, name=None):
        return merge(branches, mode='concat', concat_axis=self.axis, name=name)


class _Keras2Units(object):
    """Keras 2.2.4's layers, in `data_format`: bias-free convolution, batch
    normalization without scale, relu; every layer told its data format, so
    that each is a Keras 2 call and takes Keras 2's default name."""

    def __init__(self, data_format):
        self.data_format = data_format
        self.axis = 1 if data_format == 'channels_first' else 3

    def conv_bn(self, x, filters, rows, cols, padding='same', strides=(1, 1)):
        x = Convolution2D(filters, (rows, cols), strides=strides, padding=padding,
                          use_bias=False, data_format=self.data_format)(x)
        x = BatchNormalization(axis=self.axis, scale=False)(x)
        return Activation('relu')(x)

    def max_pool(self, x):
        return MaxPooling2D((3, 3), strides=(2, 2), data_format=self.data_format)(x)

    def same_average_pool(self, x):
        return AveragePooling2D((3, 3), strides=(1, 1), padding='same',
                                data_format=self.data_format)(x)

    def concat(self, branches, name=None):
        return Concatenate(axis=self.axis, name=name)(branches)


def _chain(units, x, specs):
    """`units.conv_bn` applied in turn: each spec is (filters, rows, cols[, options])."""
    for spec in specs:
        x = units.conv_bn(x, *spec[:3], **(spec[3] if len(spec) > 3 else {}))
    return x


_REDUCE = {'strides': (2, 2), 'padding': 'valid'}
_VALID = {'padding': 'valid'}


def _block_35(units, x, pool_filters, name):
    return units.concat([_chain(units, x, [(64, 1, 1)]),
                         _chain(units, x, [(48, 1, 1), (64, 5, 5)]),
                         _chain(units, x, [(64, 1, 1), (96, 3, 3), (96, 3, 3)]),
                         _chain(units, units.same_average_pool(x), [(pool_filters, 1, 1)])],
                        name)


def _block_17(units, x, middle, name):
    return units.concat([_chain(units, x, [(192, 1, 1)]),
                         _chain(units, x, [(middle, 1, 1), (middle, 1, 7), (192, 7, 1)]),
                         _chain(units, x, [(middle, 1, 1), (middle, 7, 1), (middle, 1, 7),
                                           (middle, 7, 1), (192, 1, 7)]),
                         _chain(units, units.same_average_pool(x), [(192, 1, 1)])], name)


def _block_8(units, x, index):
    narrow = _chain(units, x, [(320, 1, 1)])
    wide = _chain(units, x, [(384, 1, 1)])
    wide = units.concat([_chain(units, wide, [(384, 1, 3)]), _chain(units, wide, [(384, 3, 1)])],
                        'mixed9_%d' % index)
    deep = _chain(units, x, [(448, 1, 1), (384, 3, 3)])
    deep = units.concat([_chain(units, deep, [(384, 1, 3)]), _chain(units, deep, [(384, 3, 1)])])
    return units.concat([narrow, wide, deep,
                         _chain(units, units.same_average_pool(x), [(192, 1, 1)])],
                        'mixed%d' % (9 + index))


def _features(units, img_input):
    """The convolutional part, from the image to 'mixed10'; each generation's
    layers are created in the order its Keras created them."""
    x = _chain(units, img_input, [(32, 3, 3, _REDUCE), (32, 3, 3, _VALID), (64, 3, 3)])
    x = units.max_pool(x)
    x = _chain(units, x, [(80, 1, 1, _VALID), (192, 3, 3, _VALID)])
    x = units.max_pool(x)
    for i in range(3):
        x = _block_35(units, x, 32 if i == 0 else 64, 'mixed%d' % i)
    x = units.concat([_chain(units, x, [(384, 3, 3, _REDUCE)]),
                      _chain(units, x, [(64, 1, 1), (96, 3, 3), (96, 3, 3, _REDUCE)]),
                      units.max_pool(x)], 'mixed3')
    for i, middle in enumerate((128, 160, 160, 192)):
        x = _block_17(units, x, middle, 'mixed%d' % (4 + i))
    return x


def _reduction_8(units, x, last_pool):
    return units.concat([_chain(units, x, [(192, 1, 1), (320, 3, 3, _REDUCE)]),
                         _chain(units, x, [(192, 1, 1), (192, 1, 7), (192, 7, 1),
                                           (192, 3, 3, _REDUCE)]),
                         last_pool(x)], 'mixed8')


def _inception_v3_keras_2(include_top=True, weights='imagenet', input_tensor=None,
                          input_shape=None, pooling=None, classes=1000):
    """Keras 2.2.4's InceptionV3 (keras_applications 1.0.6)."""
    check_weights_argument_2(weights, include_top, classes, pooling)
    data_format = K.image_data_format()
    units = _Keras2Units(data_format)
    shape = imagenet_utils.obtain_input_shape_2(input_shape, default_size=299, min_size=75,
                                                data_format=data_format, require_flatten=False,
                                                weights=weights)
    img_input = image_input(input_tensor, shape)
    x = _features(units, img_input)
    x = _reduction_8(units, x, units.max_pool)
    for i in range(2):
        x = _block_8(units, x, i)
    if include_top:
        x = GlobalAveragePooling2D(name='avg_pool', data_format=data_format)(x)
        x = Dense(classes, activation='softmax', name='predictions')(x)
    else:
        x = global_pooling(x, pooling, data_format=data_format)
    model = Model(img_input, x, name='inception_v3')
    return apply_weights_2(model, weights, 'inception_v3', include_top)


@keras2.keras2_application(_inception_v3_keras_2)
def InceptionV3(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
                classes=1000):
    """The Inception V3 network, optionally with the ImageNet weights of its
    Keras (from ~/.keras/models, or through `get_file`). Its inputs are
    scaled to [-1, 1] (`inception_v3.preprocess_input`).

    A Keras 1 call builds Keras 1.2.2's network (at least 139x139, release
    v0.2's weights); a Keras 2 call (one with `pooling`, or any call in a
    Keras 2 script) builds Keras 2.2.4's (in `K.image_data_format()`, at
    least 75x75, release v0.5's weights, Keras 2's arguments
    `(include_top, weights, input_tensor, input_shape, pooling, classes)`).

    # Arguments
        include_top: whether to include the final pooling and Dense layer.
        weights: None (random initialization) or 'imagenet' (in a Keras 2
            call also the path of a weight file).
        input_tensor: optional Keras tensor to use as image input.
        input_shape: optional image shape, only without the top in a Keras
            1 call (else (3, 299, 299) for 'th', (299, 299, 3) for 'tf').
        pooling: Keras 2 only: without the top, None (the 4D output of
            'mixed10'), 'avg' or 'max' (global pooling).
        classes: the number of classes, only without ImageNet weights.

    # Returns
        A `Model`.
    """
    check_weights_argument(weights, include_top, classes)
    units = _Keras1Units()
    img_input = image_input(input_tensor, keras_1_input_shape(input_shape, 299, 139, include_top))
    x = _features(units, img_input)
    x = _reduction_8(units, x, lambda y: AveragePooling2D((3, 3), strides=(2, 2))(y))
    for i in range(2):
        x = _block_8(units, x, i)
    if include_top:
        x = AveragePooling2D((8, 8), strides=(8, 8), name='avg_pool')(x)
        x = Flatten(name='flatten')(x)
        x = Dense(classes, activation='softmax', name='predictions')(x)
    model = Model(img_input, x, name='inception_v3')
    if weights == 'imagenet':
        load_imagenet_weights(model, 'inception_v3', include_top)
    return model
