"""CIFAR-100 small images, as `keras.datasets.cifar100`."""
import os

import numpy as np

from ..utils.data_utils import get_file
from .cifar import as_keras_arrays, load_batch

ORIGIN = 'https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz'


def load_data(label_mode='fine'):
    """Loads CIFAR-100: 50,000 training and 10,000 test images.

    # Arguments
        label_mode: 'fine' (100 classes) or 'coarse' (20 superclasses).

    # Returns
        As `cifar10.load_data`.
    """
    if label_mode not in ('fine', 'coarse'):
        raise ValueError('cifar100.load_data: label_mode must be "fine" or "coarse", got %r'
                         % (label_mode,))
    path = get_file('cifar-100-python', origin=ORIGIN, untar=True)
    key = label_mode + '_labels'
    x_train, y_train = load_batch(os.path.join(path, 'train'), label_key=key)
    x_test, y_test = load_batch(os.path.join(path, 'test'), label_key=key)
    return as_keras_arrays(x_train.astype(np.uint8), y_train, x_test.astype(np.uint8), y_test)
