"""Boston housing prices, as Keras 2's `keras.datasets.boston_housing`."""
import numpy as np

from ..utils.data_utils import get_file
from ._common import load_npz

ORIGIN = 'https://s3.amazonaws.com/keras-datasets/boston_housing.npz'
SHA256 = 'f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5'


def load_data(path='boston_housing.npz', test_split=0.2, seed=113):
    """Loads the Boston housing dataset: 506 houses, 13 features, prices in k$.

    # Arguments
        path: file under `~/.keras/datasets`.
        test_split: fraction held out as the test set (the last ones after
            the shuffle), in [0, 1).
        seed: seed of the shuffle (NumPy's global generator, as Keras 2.2).

    # Returns
        Tuple `(x_train, y_train), (x_test, y_test)` of float arrays.
    """
    if not 0 <= test_split < 1:
        raise ValueError('boston_housing.load_data: test_split must be in [0, 1), got %r'
                         % (test_split,))
    path = get_file(path, origin=ORIGIN,
                    file_hash=SHA256 if path == 'boston_housing.npz' else None)
    x, y = load_npz(path, ('x', 'y'), "Keras's boston_housing.npz")
    np.random.seed(seed)
    indices = np.arange(len(x))
    np.random.shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])
