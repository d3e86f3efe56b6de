"""What the dataset loaders share: finding the cached file, reading it safely,
and Keras's preparation of word-index sequences (IMDB, Reuters)."""
import io
import json
import os
import pickle
import struct
import zipfile
import zlib

import numpy as np

from ..utils import data_utils


class DatasetError(ValueError):
    """A dataset file is corrupt or not in the expected format, or an argument is out of range."""


def cached_or_download(names, origins, hashes=None):
    """Returns the path of the first of `names` in Keras's cache, else downloads the first.

    # Arguments
        names: file names under `~/.keras/datasets`, in order of preference.
        origins: the URL of each name.
        hashes: the md5 of each name (or None), checked when downloading and
            against a cached file, which is downloaded again on a mismatch.
    """
    hashes = hashes or [None] * len(names)
    cache = os.path.join(data_utils.keras_home(), 'datasets')
    for name, origin, file_hash in zip(names, origins, hashes):
        if os.path.isfile(os.path.join(cache, os.path.expanduser(name))):
            return data_utils.get_file(name, origin=origin, file_hash=file_hash)
    return data_utils.get_file(names[0], origin=origins[0], file_hash=hashes[0])


def read_failure(path, error, what, remedy=None):
    return DatasetError('cannot read %s as %s: %s: %s. The file is corrupt or truncated; %s'
                        % (path, what, type(error).__name__, error,
                           remedy or 'delete it and it will be downloaded again'))


# what reading damaged bytes raises: zipfile gives NotImplementedError for a
# compression method it does not know (one flipped bit in a header)
_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, zlib.error,
                zipfile.BadZipFile, pickle.UnpicklingError, UnicodeDecodeError, struct.error,
                NotImplementedError)


def load_pickle(path, what, encoding='latin1', remedy=None):
    """Unpickles lists, dicts and NumPy arrays only (no arbitrary code)."""
    from .mnist_sources import _read_bytes, _SafeNumpyUnpickler
    try:
        return _SafeNumpyUnpickler(io.BytesIO(_read_bytes(path)), encoding=encoding).load()
    except _READ_ERRORS as e:
        raise read_failure(path, e, what, remedy)


def load_npz(path, keys, what):
    """Returns the arrays `keys` of an `.npz` file (object arrays allowed: Keras's text sets)."""
    try:
        with np.load(path, allow_pickle=True) as f:
            missing = [k for k in keys if k not in f.files]
            if missing:
                raise DatasetError('%s holds the arrays %s; %s needs %s'
                                   % (path, sorted(f.files), what, ', '.join(keys)))
            return [f[k] for k in keys]
    except DatasetError:
        raise
    except _READ_ERRORS as e:
        raise read_failure(path, e, what)


def load_json(path, what):
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except _READ_ERRORS as e:
        raise read_failure(path, e, what)


def object_array(sequences):
    """A 1D object array of lists, whatever their lengths (np.array would make 2D of equal ones)."""
    out = np.empty(len(sequences), dtype=object)
    for i, s in enumerate(sequences):
        out[i] = s
    return out


def check_word_arguments(dataset, nb_words, num_words, skip_top, maxlen, start_char, oov_char,
                         index_from):
    if nb_words is not None and num_words is not None and nb_words != num_words:
        raise ValueError('%s.load_data: nb_words=%r and num_words=%r name the same setting; '
                         'give one' % (dataset, nb_words, num_words))
    words = nb_words if nb_words is not None else num_words
    for name, value in (('nb_words', words), ('maxlen', maxlen)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 0):
            raise ValueError('%s.load_data: %s must be a whole number >= 0 or None, got %r'
                             % (dataset, name, value))
    for name, value in (('skip_top', skip_top), ('index_from', index_from)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError('%s.load_data: %s must be a whole number >= 0, got %r'
                             % (dataset, name, value))
    for name, value in (('start_char', start_char), ('oov_char', oov_char)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 0):
            raise ValueError('%s.load_data: %s must be a whole number >= 0 or None, got %r'
                             % (dataset, name, value))
    return words


def shuffle_like_keras1(items, seed):
    """Shuffles a list in place as Keras 1.2.2 did: `np.random.seed(seed)` then
    `np.random.shuffle`. The global NumPy state is left as Keras 1.2.2 left it,
    which scripts that train after loading depend on for their exact numbers."""
    np.random.seed(seed)
    np.random.shuffle(items)


def prepare_word_sequences(dataset, xs, labels, nb_words, skip_top, maxlen, start_char, oov_char,
                           index_from):
    """Keras's preparation of word-index sequences, as in Keras 1.2.2's IMDB and Reuters.

    Indices are shifted by `index_from`, `start_char` is prepended, sequences
    of `maxlen` words or more are dropped, and words of index `nb_words` or
    above, or below `skip_top`, become `oov_char` (or are dropped when it is
    None).

    # Returns
        `(xs, labels)`: lists.
    """
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[w + index_from for w in x] for x in xs]
    else:
        xs = [list(x) for x in xs]
    if maxlen:
        kept = [(x, y) for x, y in zip(xs, labels) if len(x) < maxlen]
        if not kept:
            raise ValueError('%s.load_data: after filtering for sequences shorter than '
                             'maxlen=%d, no sequence was kept. Increase maxlen.'
                             % (dataset, maxlen))
        xs, labels = [x for x, _ in kept], [y for _, y in kept]
    if not nb_words:
        nb_words = max([max(x) for x in xs if len(x)] or [0])
    if oov_char is not None:
        xs = [[w if skip_top <= w < nb_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < nb_words] for x in xs]
    return xs, list(labels)
