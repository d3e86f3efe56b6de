"""Reuters newswire topics (46 classes), as `keras.datasets.reuters`.

Reads Keras 2's `reuters.npz` or Keras 1's `reuters.pkl` from the cache,
downloading `reuters.npz` otherwise; prepared as Keras 1.2.2 did.
"""
import numpy as np

from . import _common
from .imdb import _locate

_FILES = {
    'reuters.npz': ('https://s3.amazonaws.com/text-datasets/reuters.npz',
                    '87aedbeb0cb229e378797a632c1997b6'),
    'reuters.pkl': ('https://s3.amazonaws.com/text-datasets/reuters.pkl', None),
}
_WORD_INDEX_FILES = {
    'reuters_word_index.json': ('https://s3.amazonaws.com/text-datasets/reuters_word_index.json',
                                '4d44cc38712099c9e383dc6e5f11a921'),
    'reuters_word_index.pkl': ('https://s3.amazonaws.com/text-datasets/reuters_word_index.pkl',
                               None),
}


def load_data(path=None, nb_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113,
              start_char=1, oov_char=2, index_from=3, num_words=None):
    """Loads the Reuters dataset: 11,228 newswires labelled with 46 topics.

    # Arguments
        path: `reuters.npz` or Keras 1's `reuters.pkl` under
            `~/.keras/datasets`; by default whichever is cached.
        nb_words, skip_top, maxlen, seed, start_char, oov_char, index_from:
            as for `imdb.load_data`. `num_words` is Keras 2's `nb_words`.
        test_split: fraction of the newswires (the last ones after the
            shuffle) held out as the test set, in [0, 1).

    # Returns
        Tuple `(x_train, y_train), (x_test, y_test)`: x object arrays of lists
        of word indices, y int arrays of topics.
    """
    words = _common.check_word_arguments('reuters', nb_words, num_words, skip_top, maxlen,
                                         start_char, oov_char, index_from)
    if not 0 <= test_split < 1:
        raise ValueError('reuters.load_data: test_split must be in [0, 1), got %r' % (test_split,))
    path = _locate(path, _FILES)
    what = "Keras's Reuters file"
    if path.endswith('.npz'):
        xs, labels = _common.load_npz(path, ('x', 'y'), what)
    else:
        data = _common.load_pickle(path, what)
        try:
            xs, labels = data
        except (TypeError, ValueError):
            raise _common.DatasetError("%s does not hold (x, y) like Keras 1's reuters.pkl" % path)
    xs, labels = [list(x) for x in xs], list(labels)
    _common.shuffle_like_keras1(xs, seed)
    _common.shuffle_like_keras1(labels, seed)
    xs, labels = _common.prepare_word_sequences('reuters', xs, labels, words, skip_top, maxlen,
                                                start_char, oov_char, index_from)
    cut = int(len(xs) * (1 - test_split))
    return ((_common.object_array(xs[:cut]), np.array(labels[:cut], dtype=np.int64)),
            (_common.object_array(xs[cut:]), np.array(labels[cut:], dtype=np.int64)))


def get_word_index(path=None):
    """Returns the dictionary word -> index (before `index_from` is added).

    # Arguments
        path: `reuters_word_index.json` or `.pkl` under `~/.keras/datasets`.
    """
    path = _locate(path, _WORD_INDEX_FILES)
    if path.endswith('.json'):
        return _common.load_json(path, "Keras's Reuters word index")
    return _common.load_pickle(path, "Keras's Reuters word index")
