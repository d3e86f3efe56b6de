"""What the applications share: the input tensor and the pretrained weights."""
import contextlib
import os

from .. import backend as K
from ..engine.input_layer import Input
from ..utils import data_utils
from .imagenet_utils import _obtain_input_shape

# Where Keras 1.2.2 downloaded each model's weights from (the release per model)
_ORIGIN = 'https://github.com/fchollet/deep-learning-models/releases/download/%s/%s'
_RELEASE = {'vgg16': 'v0.1', 'vgg19': 'v0.1', 'resnet50': 'v0.2', 'inception_v3': 'v0.2',
            'xception': 'v0.4'}
# Keras 2.2.4's (keras_applications 1.0.6): the release per model, and the md5 of
# each file (with the top, without it) that its get_file checked.
_RELEASE_2 = {'inception_v3': ('v0.5', '9a0d58056eeedaa3f26cb7ebd46da564',
                               'bcbd6486424b2319ff4ef7d526e38f63'),
              'resnet50': ('v0.2', 'a7b3fe01876f51b976af0dea6bc144eb',
                           'a268eb855778b3df3c7506639542a6af'),
              'vgg16': ('v0.1', '64373286793e3c8b2b4e3219cbf3544b',
                        '6d6bbae143d832006294945121d1f1fc'),
              'vgg19': ('v0.1', 'cbe5617147190e668d6c5d5026f83318',
                        '253f8cb515780f3b799900260a226db6'),
              'xception': ('v0.4', '0a58e3b7378bc2990ea3b43d5981f1f6',
                           'b0042744bf5b25fce3cb969f33bebb97')}


def check_weights_argument(weights, include_top, classes):
    if weights not in ('imagenet', None):
        raise ValueError('The `weights` argument should be either `None` (random '
                         'initialization) or `imagenet` (pre-training on ImageNet).')
    if weights == 'imagenet' and include_top and classes != 1000:
        raise ValueError('If using `weights` as imagenet with `include_top` as true, '
                         '`classes` should be 1000')


def check_weights_argument_2(weights, include_top, classes, pooling):
    """Keras 2.2.4's checks: `weights` may also be the path of a file."""
    if not (weights in ('imagenet', None) or (isinstance(weights, str) and
                                              os.path.exists(weights))):
        raise ValueError('The `weights` argument should be either `None` (random '
                         'initialization), `imagenet` (pre-training on ImageNet), or the path '
                         'to the weights file to be loaded; got %r' % (weights,))
    if weights == 'imagenet' and include_top and classes != 1000:
        raise ValueError('If using `weights` as `"imagenet"` with `include_top` as true, '
                         '`classes` should be 1000')
    if pooling not in (None, 'avg', 'max'):
        raise ValueError("`pooling` should be None, 'avg' or 'max', got %r" % (pooling,))


@contextlib.contextmanager
def channels_last():
    """Builds layers in the 'tf' ordering (channels_last), then restores both
    settings as they were (Keras 1's ordering and Keras 2's data format are
    remembered apart)."""
    saved = K._IMAGE_DIM_ORDERING, K._IMAGE_DATA_FORMAT
    K.set_image_dim_ordering('tf')
    try:
        yield
    finally:
        K._IMAGE_DIM_ORDERING, K._IMAGE_DATA_FORMAT = saved


def image_input(input_tensor, shape):
    """The model's input tensor for one image of `shape`: `Input(shape)`, the
    given model input, or an input computed from the given graph tensor (a
    placeholder or expression, as style transfer passes)."""
    if input_tensor is None:
        return Input(shape=shape)
    if getattr(input_tensor.node.outbound_layer, 'is_model_input', False):
        return input_tensor
    return Input(tensor=input_tensor, shape=shape)


def keras_1_input_shape(input_shape, default_size, min_size, include_top):
    """The image shape, checked as Keras 1.2.2 did, in the configured ordering."""
    return _obtain_input_shape(input_shape, default_size, min_size, K.image_dim_ordering(),
                               include_top)


def load_imagenet_weights(model, prefix, include_top):
    """Loads the file Keras 1.2.2 named for this ordering, from ~/.keras/models
    or else downloaded as Keras did (`get_file`):
    '<prefix>_weights_th_dim_ordering_th_kernels[_notop].h5' (Theano kernels,
    flipped when loaded) or '..._tf_dim_ordering_tf_kernels[_notop].h5'."""
    ordering = K.image_dim_ordering()
    fname = '%s_weights_%s_dim_ordering_%s_kernels%s.h5' % (
        prefix, ordering, ordering, '' if include_top else '_notop')
    path = data_utils.get_file(fname, _ORIGIN % (_RELEASE[prefix], fname),
                               cache_subdir='models')
    _load(model, path, prefix, 'Keras 1.2.2', _RELEASE[prefix],
          original_backend='theano' if ordering == 'th' else None)
    return model


def load_imagenet_weights_2(model, prefix, include_top):
    """Loads Keras 2.2.4's file, '<prefix>_weights_tf_dim_ordering_tf_kernels
    [_notop].h5', in any data format, from ~/.keras/models or else downloaded
    from Keras 2.2.4's release, checked against the md5 Keras 2.2.4 checked.

    A cached file is taken as it is (as Keras 1.2.2 took its files): a file of
    the same name in another generation's layout is refused when loaded, with
    an error naming both releases."""
    release, md5_top, md5_notop = _RELEASE_2[prefix]
    fname = '%s_weights_tf_dim_ordering_tf_kernels%s.h5' % (
        prefix, '' if include_top else '_notop')
    origin = _ORIGIN % (release, fname)
    cached = os.path.join(data_utils._cache_folder(None, 'models'), fname)
    if os.path.exists(cached):
        path = cached
    else:
        path = data_utils.get_file(fname, origin, cache_subdir='models',
                                   md5_hash=md5_top if include_top else md5_notop)
    _load(model, path, prefix, 'Keras 2.2.4', release)
    return model


def global_pooling(x, pooling, **ordering):
    """The `pooling` argument of a model built without its top (Keras 2.2.4's;
    VGG's in Keras 1.2.2 too): 'avg' or 'max' pools the last feature maps
    over space, None leaves them. `ordering`: the layer's data format
    argument, in the builder's spelling."""
    from ..layers import GlobalAveragePooling2D, GlobalMaxPooling2D
    if pooling == 'avg':
        return GlobalAveragePooling2D(**ordering)(x)
    if pooling == 'max':
        return GlobalMaxPooling2D(**ordering)(x)
    return x


def apply_weights_2(model, weights, prefix, include_top):
    """The end of every Keras 2.2.4 builder: `weights` 'imagenet' loads Keras
    2.2.4's file (`load_imagenet_weights_2`), a path loads that file, None
    leaves the model as built. Returns the model."""
    if weights == 'imagenet':
        load_imagenet_weights_2(model, prefix, include_top)
    elif weights is not None:
        model.load_weights(weights)
    return model


def _load(model, path, prefix, generation, release, original_backend=None):
    from ..engine import saving
    try:
        saving.load_weights(model, path, original_backend=original_backend)
    except ValueError as error:
        if _RELEASE_2[prefix][0] == _RELEASE[prefix]:
            raise
        raise ValueError(
            '%s does not hold the weights of %s\'s %s (release %s of '
            'fchollet/deep-learning-models); the model was left as it was built. Keras 1.2.2 '
            '(release %s) and Keras 2.2.4 (release %s) gave their different files this same '
            'name: a Keras 1 call takes 1.2.2\'s, a Keras 2 call (in a Keras 2 script, or with '
            '`pooling=`) 2.2.4\'s. Loading said: %s'
            % (path, generation, prefix, release, _RELEASE[prefix], _RELEASE_2[prefix][0],
               error)) from error
