"""IMDB movie-review sentiment, as `keras.datasets.imdb`.

Reads whichever of Keras's cache files is there: Keras 2's `imdb.npz`, then
Keras 1's `imdb_full.pkl`; downloads `imdb.npz` otherwise. Either way the
reviews are shuffled and prepared as Keras 1.2.2 did.
"""
from . import _common

_FILES = {
    'imdb.npz': ('https://s3.amazonaws.com/text-datasets/imdb.npz',
                 '599dadb1135973df5b59232a0e9a887c'),
    'imdb_full.pkl': ('https://s3.amazonaws.com/text-datasets/imdb_full.pkl',
                      'd091312047c43cf9e4e38fef92437263'),
}
_WORD_INDEX_FILES = {
    'imdb_word_index.json': ('https://s3.amazonaws.com/text-datasets/imdb_word_index.json',
                             'bfafd718b763782e994055a2d397834f'),
    'imdb_word_index.pkl': ('https://s3.amazonaws.com/text-datasets/imdb_word_index.pkl',
                            '72d94b01291be4ff843198d3b0e1e4d7'),
}


def _locate(path, files):
    if path is None:
        names = list(files)
    else:
        names = [path]
    origins = [files.get(n, files[list(files)[0]])[0] for n in names]
    hashes = [files[n][1] if n in files else None for n in names]
    return _common.cached_or_download(names, origins, hashes)


def _read_reviews(path):
    what = "Keras's IMDB file"
    if path.endswith('.npz'):
        x_train, y_train, x_test, y_test = _common.load_npz(
            path, ('x_train', 'y_train', 'x_test', 'y_test'), what)
    else:
        data = _common.load_pickle(path, what)
        try:
            (x_train, y_train), (x_test, y_test) = data
        except (TypeError, ValueError):
            raise _common.DatasetError('%s does not hold ((x_train, y_train), (x_test, y_test)) '
                                       "like Keras 1's imdb_full.pkl" % path)
    return [list(x) for x in x_train], list(y_train), [list(x) for x in x_test], list(y_test)


def load_data(path=None, nb_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, num_words=None):
    """Loads the IMDB dataset: 25,000 training and 25,000 test reviews.

    # Arguments
        path: file under `~/.keras/datasets` (`imdb.npz` or Keras 1's
            `imdb_full.pkl`); by default whichever is cached.
        nb_words: keep the words of the `nb_words` most frequent indices;
            the others become `oov_char`. `num_words` is Keras 2's name.
        skip_top: also replace the `skip_top` most frequent words.
        maxlen: drop the reviews of `maxlen` words or more.
        seed: seed of the shuffle (NumPy's global generator, as Keras 1.2.2).
        start_char: index marking the start of a review (None: no mark).
        oov_char: index replacing cut words (None: drop them).
        index_from: actual words are indexed from this number.

    # Returns
        Tuple `(x_train, y_train), (x_test, y_test)`: x object arrays of
        lists of word indices, y int arrays of 0/1.

    # Raises
        ValueError: an argument out of range, or `maxlen` keeping nothing.
        DownloadError: the file is not cached and cannot be downloaded.
    """
    words = _common.check_word_arguments('imdb', nb_words, num_words, skip_top, maxlen,
                                         start_char, oov_char, index_from)
    x_train, labels_train, x_test, labels_test = _read_reviews(_locate(path, _FILES))
    _common.shuffle_like_keras1(x_train, seed)
    _common.shuffle_like_keras1(labels_train, seed)
    _common.shuffle_like_keras1(x_test, seed * 2)
    _common.shuffle_like_keras1(labels_test, seed * 2)
    xs, labels = _common.prepare_word_sequences(
        'imdb', x_train + x_test, labels_train + labels_test, words, skip_top, maxlen,
        start_char, oov_char, index_from)
    # Keras 1.2.2 split at the original training size, after the maxlen filter.
    cut = len(x_train)
    return ((_common.object_array(xs[:cut]), _int_array(labels[:cut])),
            (_common.object_array(xs[cut:]), _int_array(labels[cut:])))


def _int_array(values):
    import numpy as np
    return np.array(values, dtype=np.int64)


def get_word_index(path=None):
    """Returns the dictionary word -> index (before `index_from` is added).

    # Arguments
        path: `imdb_word_index.json` (Keras 2) or `imdb_word_index.pkl`
            (Keras 1) under `~/.keras/datasets`; by default whichever is cached.
    """
    path = _locate(path, _WORD_INDEX_FILES)
    if path.endswith('.json'):
        return _common.load_json(path, "Keras's IMDB word index")
    return _common.load_pickle(path, "Keras's IMDB word index")
