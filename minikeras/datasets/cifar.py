"""Reading one CIFAR batch file (the pickled dicts of the Python version)."""
import os

import numpy as np

from . import _common


def load_batch(fpath, label_key='labels'):
    """Reads a CIFAR batch.

    # Arguments
        fpath: path of the batch file.
        label_key: 'labels' (CIFAR-10), 'fine_labels' or 'coarse_labels'.

    # Returns
        `(data, labels)`: uint8 array (n, 3, 32, 32) and the list of labels.
    """
    batch = _common.load_pickle(fpath, 'a CIFAR batch', encoding='bytes', remedy=(
        'delete the folder %s and it will be extracted again from its archive'
        % os.path.dirname(os.path.abspath(fpath))))
    if not isinstance(batch, dict):
        raise _common.DatasetError('%s holds a %s; a CIFAR batch is a dict'
                                   % (fpath, type(batch).__name__))
    batch = {k.decode('utf8') if isinstance(k, bytes) else k: v for k, v in batch.items()}
    for key in ('data', label_key):
        if key not in batch:
            raise _common.DatasetError('%s has no %r entry (it has %s)'
                                       % (fpath, key, ', '.join(sorted(map(str, batch)))))
    data = np.asarray(batch['data'])
    labels = list(batch[label_key])
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise _common.DatasetError('%s: data of shape %s and %d labels; expected (n, 3072) and n'
                                   % (fpath, data.shape, len(labels)))
    return data.reshape(len(data), 3, 32, 32), labels


def as_keras_arrays(x_train, y_train, x_test, y_test):
    """Labels as (n, 1) uint8, images in the configured dim ordering, as Keras 1 returned them."""
    from .. import backend as K
    y_train = np.reshape(np.asarray(y_train, dtype=np.uint8), (len(y_train), 1))
    y_test = np.reshape(np.asarray(y_test, dtype=np.uint8), (len(y_test), 1))
    if K.image_dim_ordering() == 'tf':
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
