"""The `data` module that legacy scripts import: `from data import load_data`.

The Keras tutorial this targets (wphh's blog, 2015) shipped a `data.py` that
read 42,000 images `./mnist/<label>.<n>.jpg` into a float32 array of shape
(N, 1, 28, 28), divided it by its maximum and subtracted its mean. This
module returns the same arrays from whichever MNIST source
`minikeras.datasets.mnist_sources` finds first; from a larger source (the
full MNIST's 60,000 training digits) it serves the first 42,000, the size of
the tutorial's data.
"""
from __future__ import print_function

import sys

import numpy as np

from ..datasets import mnist_sources
from ..datasets.mnist_sources import MNISTNotFoundError, MNISTSourceError  # noqa: F401

# The tutorial's ./mnist held Kaggle's 42,000 training digits.
TUTORIAL_SIZE = 42000


def configure(path=mnist_sources._UNSET, script_dir=mnist_sources._UNSET):
    """Sets where MNIST is looked for first (`minikeras run --data PATH` calls this).

    Only the given arguments change; the setting is shared with
    `minikeras.datasets.mnist.load_data`.

    # Arguments
        path: file or folder to read MNIST from; beats every other source.
            `None` clears it (the `MINIKERAS_MNIST` variable applies again).
        script_dir: folder of the running script, searched for `./mnist`.
            `None` means the folder of `sys.argv[0]`.
    """
    mnist_sources.configure(path=path, script_dir=script_dir)


def load_data():
    """Loads MNIST training digits the way the legacy `data.py` did.

    # Returns
        Tuple `(data, label)`: `data` float32 of shape (N, 1, 28, 28), divided
        by its maximum then centred by subtracting its mean; `label` uint8 of
        shape (N,). A source with a test set contributes its training set
        only, and at most its first 42,000 digits.

    # Raises
        MNISTNotFoundError: no source found; the message lists the options.
        MNISTSourceError: a source was found but cannot be read.
    """
    digits = mnist_sources.read_digits()
    extra = ['training set only'] if digits.has_test_set else []
    x, label = digits.x_train, digits.y_train
    if len(label) > TUTORIAL_SIZE:
        extra.append('the first %d of %d, as many as the tutorial had'
                     % (TUTORIAL_SIZE, len(label)))
        x, label = x[:TUTORIAL_SIZE], label[:TUTORIAL_SIZE]
    print('minikeras data: %d MNIST digits from %s' % (len(label), digits.describe(extra)),
          file=sys.stderr)
    data = x.astype('float32').reshape(len(label), 1, 28, 28)
    data /= np.max(data)
    data -= np.mean(data)
    return data, label
