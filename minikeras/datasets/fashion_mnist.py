"""Fashion-MNIST, as Keras 2's `keras.datasets.fashion_mnist`."""
import os

from ..utils.data_utils import get_file
from ._common import _READ_ERRORS, DatasetError, read_failure
from .mnist_sources import MNISTSourceError, _read_idx

BASE = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'
FILES = ('train-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz',
         't10k-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz')


def load_data():
    """Loads Fashion-MNIST: 60,000 training and 10,000 test 28x28 images of 10 classes.

    Reads the four IDX files of `~/.keras/datasets/fashion-mnist/`,
    downloading those missing.

    # Returns
        Tuple `(x_train, y_train), (x_test, y_test)`: uint8 images (n, 28, 28)
        and uint8 labels (n,).
    """
    paths = [get_file(name, origin=BASE + name, cache_subdir=os.path.join('datasets',
                                                                          'fashion-mnist'))
             for name in FILES]
    y_train, x_train, y_test, x_test = [_read_idx_file(p, ndim) for p, ndim in
                                        zip(paths, (1, 3, 1, 3))]
    for images, labels, name in ((x_train, y_train, 'training'), (x_test, y_test, 'test')):
        if len(images) != len(labels) or images.shape[1:] != (28, 28):
            raise DatasetError('Fashion-MNIST %s files: images %s, %d labels'
                               % (name, images.shape, len(labels)))
    return (x_train, y_train), (x_test, y_test)


def _read_idx_file(path, ndim):
    try:
        return _read_idx(path, ndim)
    except MNISTSourceError as e:
        raise DatasetError('%s. Delete the file and it will be downloaded again' % e)
    except _READ_ERRORS as e:
        raise read_failure(path, e, 'an IDX file')
