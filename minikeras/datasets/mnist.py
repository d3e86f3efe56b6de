"""MNIST handwritten digits, like `keras.datasets.mnist`.

Local copies come first (see `minikeras.datasets.mnist_sources` for the
places and formats tried); otherwise the full MNIST is downloaded once into
Keras's cache as `mnist.npz` (`minikeras.datasets.mnist_download`).
"""
from __future__ import print_function

import sys

from . import mnist_sources
from .mnist_sources import MNISTNotFoundError, MNISTSourceError, configure  # noqa: F401


def holdout_split(x, y):
    """Splits a training-only source into training and test sets.

    The last 1/6 of the samples (rounded; 10,000 of 60,000 like MNIST's own
    split) become the test set. The order is the source's served order,
    already shuffled with a fixed seed where the source is sorted by class.

    # Arguments
        x: array of images, shape (n, 28, 28).
        y: array of labels, shape (n,).

    # Returns
        Tuple `(x_train, y_train), (x_test, y_test)`.
    """
    n_test = (len(y) + 3) // 6  # n / 6 rounded half up
    cut = len(y) - n_test
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def load_data(path=None):
    """Loads the MNIST dataset: 60,000 training and 10,000 test digits.

    # Arguments
        path: file name under `~/.keras/datasets` to read instead of
            `mnist.npz` / `mnist.pkl.gz` (Keras 1's meaning; an absolute
            path is used as is). An explicit source (`minikeras run --data`,
            `MINIKERAS_MNIST`) or a `./mnist` folder next to the script
            takes precedence. When none is found the full MNIST is
            downloaded into the cache as `mnist.npz`.

    # Returns
        Tuple of Numpy arrays: `(x_train, y_train), (x_test, y_test)`;
        images uint8 of shape (n, 28, 28), labels uint8 of shape (n,).
        A source with a training set only is split by `holdout_split`.

    # Raises
        MNISTNotFoundError: no source found; the message lists the options.
        MNISTSourceError: a source was found but cannot be read.
    """
    data = mnist_sources.read_digits(keras_path=path)
    if data.has_test_set:
        train, test = (data.x_train, data.y_train), (data.x_test, data.y_test)
        extra = ()
    else:
        train, test = holdout_split(data.x_train, data.y_train)
        extra = ('the last 1/6 held out as the test set',)
    print('minikeras mnist: %d training + %d test digits from %s'
          % (len(train[1]), len(test[1]), data.describe(extra)), file=sys.stderr)
    return train, test


if __name__ == '__main__':
    # `python -m minikeras.datasets.mnist`: find (or download) MNIST once and say where.
    load_data()
