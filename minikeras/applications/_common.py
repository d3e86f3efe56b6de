"""What the applications share: the input tensor and the pretrained weights."""
from .. import backend as K
from ..engine.input_layer import Input
from ..utils.data_utils import get_file
from .imagenet_utils import _obtain_input_shape

# Where Keras 1.2.2 downloaded each model's weights from (the release per model)
_ORIGIN = 'https://github.com/fchollet/deep-learning-models/releases/download/%s/%s'
_RELEASE = {'vgg16': 'v0.1', 'vgg19': 'v0.1', 'resnet50': 'v0.2', 'inception_v3': 'v0.2',
            'xception': 'v0.4'}


def check_weights_argument(weights, include_top, classes):
    if weights not in ('imagenet', None):
        raise ValueError('The `weights` argument should be either `None` (random '
                         'initialization) or `imagenet` (pre-training on ImageNet).')
    if weights == 'imagenet' and include_top and classes != 1000:
        raise ValueError('If using `weights` as imagenet with `include_top` as true, '
                         '`classes` should be 1000')


def image_input(input_tensor, input_shape, default_size, min_size, include_top):
    """The model's input tensor: `Input(shape)`, the given model input, or an
    input computed from the given graph tensor (a placeholder or expression,
    as style transfer passes)."""
    shape = _obtain_input_shape(input_shape, default_size, min_size, K.image_dim_ordering(),
                                include_top)
    if input_tensor is None:
        return Input(shape=shape)
    if getattr(input_tensor.node.outbound_layer, 'is_model_input', False):
        return input_tensor
    return Input(tensor=input_tensor, shape=shape)


def load_imagenet_weights(model, prefix, include_top):
    """Loads the file Keras 1.2.2 named for this ordering, from ~/.keras/models
    or else downloaded as Keras did (`get_file`):
    '<prefix>_weights_th_dim_ordering_th_kernels[_notop].h5' (Theano kernels,
    flipped when loaded) or '..._tf_dim_ordering_tf_kernels[_notop].h5'."""
    ordering = K.image_dim_ordering()
    fname = '%s_weights_%s_dim_ordering_%s_kernels%s.h5' % (
        prefix, ordering, ordering, '' if include_top else '_notop')
    from ..engine import saving
    path = get_file(fname, _ORIGIN % (_RELEASE[prefix], fname), cache_subdir='models')
    saving.load_weights(model, path,
                        original_backend='theano' if ordering == 'th' else None)
    return model
