"""ImageNet helpers of Keras 1.2.2's applications: the input preprocessing
the pretrained weights expect, and decoding of the 1000 class scores."""
import json
import warnings

import numpy as np

from .. import backend as K

# The mean pixel of ImageNet, in BGR order, that the Caffe-trained weights subtract.
BGR_MEAN = (103.939, 116.779, 123.68)
CLASS_INDEX_FILE = 'imagenet_class_index.json'
CLASS_INDEX_PATH = ('https://s3.amazonaws.com/deep-learning-models/image-models/'
                    'imagenet_class_index.json')
CLASS_INDEX = None


def preprocess_input(x, dim_ordering='default', data_format=None, mode=None):
    """Turns a batch of RGB images (0-255) into the networks' input: channels
    reversed to BGR and the ImageNet mean pixel subtracted. Like Keras 1.2.2,
    it works on the array given (a float array is changed in place).

    A call with Keras 2's arguments (`data_format`, `mode`) is Keras 2.2.4's
    (`preprocess_input_2`).

    # Arguments
        x: 4D NumPy array, a batch of images.
        dim_ordering: 'th', 'tf' or 'default' (the configured ordering).
        data_format: Keras 2: 'channels_first', 'channels_last' or None.
        mode: Keras 2: 'caffe' (this), 'tf' or 'torch'.

    # Returns
        The preprocessed array.
    """
    if data_format is not None or mode is not None:
        if dim_ordering != 'default':
            raise TypeError('preprocess_input: both dim_ordering (Keras 1) and data_format or '
                            'mode (Keras 2) given; keep one')
        return preprocess_input_2(x, data_format=data_format, mode=mode or 'caffe')
    if dim_ordering == 'default':
        dim_ordering = K.image_dim_ordering()
    if dim_ordering not in ('th', 'tf'):
        raise ValueError("preprocess_input: dim_ordering must be 'th', 'tf' or 'default', "
                         "got %r" % (dim_ordering,))
    if np.ndim(x) != 4:
        raise ValueError('preprocess_input expects a 4D batch of images, got shape %s'
                         % (np.shape(x),))
    channel_axis = 1 if dim_ordering == 'th' else 3
    if x.shape[channel_axis] != 3:
        raise ValueError('preprocess_input expects 3 channels on axis %d (%r ordering), got '
                         'shape %s' % (channel_axis, dim_ordering, x.shape))
    x = np.flip(x, axis=channel_axis)
    for channel, mean in enumerate(BGR_MEAN):
        index = [slice(None)] * 4
        index[channel_axis] = channel
        x[tuple(index)] -= mean
    return x


# ImageNet's per-channel mean and standard deviation of [0, 1] RGB pixels (mode 'torch')
_RGB_MEAN_01 = (0.485, 0.456, 0.406)
_RGB_STD_01 = (0.229, 0.224, 0.225)


def preprocess_input_2(x, data_format=None, mode='caffe'):
    """Keras 2.2.4's `preprocess_input` of a 3D image or 4D batch (changed in
    place when it is a float array; other arrays are converted to floatx).

    # Arguments
        x: NumPy array of RGB values in [0, 255].
        data_format: 'channels_first', 'channels_last' or None
            (`K.image_data_format()`).
        mode: 'caffe' (RGB to BGR, the ImageNet mean pixel subtracted), 'tf'
            (scaled to [-1, 1]) or 'torch' (scaled to [0, 1], then each
            channel normalized by ImageNet's mean and deviation).

    # Returns
        The preprocessed array.
    """
    if data_format is None:
        data_format = K.image_data_format()
    if data_format not in ('channels_first', 'channels_last'):
        raise ValueError("preprocess_input: data_format must be 'channels_first' or "
                         "'channels_last', got %r" % (data_format,))
    if mode not in ('caffe', 'tf', 'torch'):
        raise ValueError("preprocess_input: mode must be 'caffe', 'tf' or 'torch', got %r"
                         % (mode,))
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(K.floatx())
    if mode == 'tf':
        x /= 127.5
        x -= 1.
        return x
    if x.ndim not in (3, 4):
        raise ValueError('preprocess_input expects a 3D image or a 4D batch, got shape %s'
                         % (x.shape,))
    channel_axis = x.ndim - 3 if data_format == 'channels_first' else x.ndim - 1
    if x.shape[channel_axis] != 3:
        raise ValueError('preprocess_input expects 3 channels on axis %d (%s), got shape %s'
                         % (channel_axis, data_format, x.shape))
    if mode == 'torch':
        x /= 255.
        mean, std = _RGB_MEAN_01, _RGB_STD_01
    else:
        x = np.flip(x, axis=channel_axis)
        mean, std = BGR_MEAN, None
    for channel in range(3):
        index = [slice(None)] * x.ndim
        index[channel_axis] = channel
        x[tuple(index)] -= mean[channel]
        if std is not None:
            x[tuple(index)] /= std[channel]
    return x


def scale_to_unit_range(x, data_format=None):
    """Inception V3's and Xception's `preprocess_input`: pixels from [0, 255]
    to [-1, 1], returned (a float array is changed in place).

    In a Keras 2 script (or with Keras 2's `data_format`) this is Keras
    2.2.4's, mode 'tf' of `preprocess_input_2`: `x / 127.5 - 1`, other arrays
    converted to floatx first; otherwise Keras 1.2.2's `(x / 255 - 0.5) * 2`,
    which rounds differently in float32.

    # Arguments
        x: NumPy array of images.
        data_format: Keras 2's argument (every channel is scaled alike).
    """
    from ..compat import version
    if data_format is not None or version.is_keras_2():
        return preprocess_input_2(x, data_format=data_format, mode='tf')
    x /= 255.
    x -= 0.5
    x *= 2.
    return x


def decode_predictions(preds, top=5):
    """The `top` classes of each prediction, as lists of
    `(class_name, class_description, score)`, best first.

    # Arguments
        preds: NumPy array of shape (samples, 1000).
        top: how many classes per sample.
    """
    global CLASS_INDEX
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError('`decode_predictions` expects a batch of predictions (i.e. a 2D array '
                         'of shape (samples, 1000)). Found array with shape: %s'
                         % (preds.shape,))
    if CLASS_INDEX is None:
        from ..utils.data_utils import get_file
        with open(get_file(CLASS_INDEX_FILE, CLASS_INDEX_PATH, cache_subdir='models')) as f:
            CLASS_INDEX = json.load(f)
    results = []
    for pred in preds:
        best = np.argsort(pred)[::-1][:top]
        results.append([tuple(CLASS_INDEX[str(i)]) + (pred[i],) for i in best])
    return results


def _obtain_input_shape(input_shape, default_size, min_size, dim_ordering, include_top):
    """The image shape of a model (one sample), checked as Keras 1.2.2 did:
    the default size with the classifier on top, else any size of at least
    `min_size` (None for unknown) with 3 channels."""
    default = (3, default_size, default_size) if dim_ordering == 'th' \
        else (default_size, default_size, 3)
    if include_top:
        if input_shape is not None and tuple(input_shape) != default:
            raise ValueError('When setting`include_top=True`, `input_shape` should be %s.'
                             % (default,))
        return default
    if input_shape is None:
        return (3, None, None) if dim_ordering == 'th' else (None, None, 3)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError('`input_shape` must be a tuple of three integers.')
    channels = input_shape[0] if dim_ordering == 'th' else input_shape[-1]
    spatial = input_shape[1:] if dim_ordering == 'th' else input_shape[:2]
    if channels != 3:
        raise ValueError('The input must have 3 channels; got `input_shape=%s`'
                         % (input_shape,))
    if any(d is not None and d < min_size for d in spatial):
        raise ValueError('Input size must be at least %dx%d, got `input_shape=%s`'
                         % (min_size, min_size, input_shape))
    return input_shape


def obtain_input_shape_2(input_shape, default_size, min_size, data_format, require_flatten,
                         weights=None):
    """The image shape of a model (one sample), checked as Keras 2.2.4 did:
    with ImageNet weights and a flattening top, the default size; otherwise
    any size of at least `min_size` (None for unknown), 3 channels only with
    ImageNet weights."""
    first = data_format == 'channels_first'
    channels = 3
    if weights != 'imagenet' and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if first else input_shape[-1]
        if channels not in (1, 3):
            warnings.warn('This model usually expects 1 or 3 input channels. However, it was '
                          'passed an input_shape with %s input channels.' % (channels,))
    default = (channels, default_size, default_size) if first else \
        (default_size, default_size, channels)
    if weights == 'imagenet' and require_flatten:
        if input_shape is not None and tuple(input_shape) != default:
            raise ValueError('When setting`include_top=True` and loading `imagenet` weights, '
                             '`input_shape` should be %s.' % (default,))
        return default
    if input_shape:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError('`input_shape` must be a tuple of three integers.')
        given = input_shape[0] if first else input_shape[-1]
        if given != 3 and weights == 'imagenet':
            raise ValueError('The input must have 3 channels; got `input_shape=%s`'
                             % (input_shape,))
        spatial = input_shape[1:] if first else input_shape[:2]
        if any(d is not None and d < min_size for d in spatial):
            raise ValueError('Input size must be at least %dx%d; got `input_shape=%s`'
                             % (min_size, min_size, input_shape))
    elif require_flatten:
        input_shape = default
    else:
        input_shape = (3, None, None) if first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError('If `include_top` is True, you should specify a static `input_shape`. '
                         'Got `input_shape=%s`' % (input_shape,))
    return input_shape
