"""CIFAR-10 small images, as `keras.datasets.cifar10`."""
import os

import numpy as np

from ..utils.data_utils import get_file
from .cifar import as_keras_arrays, load_batch

ORIGIN = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'


def load_data():
    """Loads CIFAR-10: 50,000 training and 10,000 test images of 10 classes.

    Reads `~/.keras/datasets/cifar-10-batches-py/`, downloading and
    extracting Keras's archive when it is missing.

    # Returns
        Tuple `(x_train, y_train), (x_test, y_test)`: uint8 images of shape
        (n, 3, 32, 32), or (n, 32, 32, 3) with 'tf' dim ordering; uint8
        labels of shape (n, 1).
    """
    path = get_file('cifar-10-batches-py', origin=ORIGIN, untar=True)
    parts = [load_batch(os.path.join(path, 'data_batch_%d' % i)) for i in range(1, 6)]
    x_train = np.concatenate([data for data, _ in parts]).astype(np.uint8)
    y_train = [label for _, labels in parts for label in labels]
    x_test, y_test = load_batch(os.path.join(path, 'test_batch'))
    return as_keras_arrays(x_train, y_train, x_test.astype(np.uint8), y_test)
