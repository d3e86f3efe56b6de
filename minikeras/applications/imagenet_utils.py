"""ImageNet helpers of Keras 1.2.2's applications: the input preprocessing
the pretrained weights expect, and decoding of the 1000 class scores."""
import json

import numpy as np

from .. import backend as K

# The mean pixel of ImageNet, in BGR order, that the Caffe-trained weights subtract.
BGR_MEAN = (103.939, 116.779, 123.68)
CLASS_INDEX_FILE = 'imagenet_class_index.json'
CLASS_INDEX_PATH = ('https://s3.amazonaws.com/deep-learning-models/image-models/'
                    'imagenet_class_index.json')
CLASS_INDEX = None


def preprocess_input(x, dim_ordering='default'):
    """Turns a batch of RGB images (0-255) into the networks' input: channels
    reversed to BGR and the ImageNet mean pixel subtracted. Like Keras 1.2.2,
    it works on the array given (a float array is changed in place).

    # Arguments
        x: 4D NumPy array, a batch of images.
        dim_ordering: 'th', 'tf' or 'default' (the configured ordering).

    # Returns
        The preprocessed array.
    """
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
