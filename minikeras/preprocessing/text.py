"""Text preprocessing, as `keras.preprocessing.text` (Keras 1.2.2).

The answers are Keras 1.2.2's, quirks included: words of equal count are
indexed in the order they were first seen; `fit_on_texts` restarts
`document_count` at every call while the word counts accumulate; with
`char_level=True` characters are neither lowercased nor filtered; tf-idf is
`(1 + log(count)) * log(1 + documents / (1 + documents containing the word))`.
"""
from __future__ import absolute_import, division

import hashlib

import numpy as np

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
MATRIX_MODES = ('binary', 'count', 'tfidf', 'freq')


def text_to_word_sequence(text, filters=DEFAULT_FILTERS, lower=True, split=' '):
    """Splits a text into a list of words.

    # Arguments
        text: the text (string).
        filters: characters to remove (each becomes a split).
        lower: whether to lowercase the text first.
        split: the word separator.

    # Returns
        The list of words (empty strings dropped).
    """
    if not isinstance(text, str):
        raise TypeError('text_to_word_sequence: text must be a string, got %s'
                        % type(text).__name__)
    if not split:
        raise ValueError('text_to_word_sequence: split must be a non-empty string')
    if lower:
        text = text.lower()
    if len(split) == 1:
        text = text.translate(str.maketrans(filters, split * len(filters)))
    else:
        for character in filters:
            text = text.replace(character, split)
    return [word for word in text.split(split) if word]


def hashing_trick(text, n, hash_function=None, filters=DEFAULT_FILTERS, lower=True, split=' '):
    """Encodes a text as word indices in `[1, n)` by hashing (Keras 2).

    # Arguments
        text: the text (string).
        n: size of the hashing space; indices run from 1 to n - 1.
        hash_function: None (Python's `hash`, which differs between runs
            unless PYTHONHASHSEED is set), 'md5' (stable), or a function of
            a string returning an int.
        filters, lower, split: as for `text_to_word_sequence`.

    # Returns
        List of integer word indices.
    """
    _check_hash_space(n, 'hashing_trick')
    if hash_function is None:
        hash_function = hash
    elif hash_function == 'md5':
        hash_function = _md5_int
    elif not callable(hash_function):
        raise ValueError("hashing_trick: hash_function must be None, 'md5' or a function, got %r"
                         % (hash_function,))
    words = text_to_word_sequence(text, filters=filters, lower=lower, split=split)
    return [hash_function(word) % (n - 1) + 1 for word in words]


def one_hot(text, n, filters=DEFAULT_FILTERS, lower=True, split=' '):
    """Encodes a text as word indices in `[1, n)` with Python's `hash`.

    Keras 1.2.2's formula, `abs(hash(word)) % (n - 1) + 1`; Python salts
    `hash` per process unless PYTHONHASHSEED is set.

    # Arguments
        text: the text (string).
        n: size of the hashing space.
        filters, lower, split: as for `text_to_word_sequence`.

    # Returns
        List of integer word indices.
    """
    _check_hash_space(n, 'one_hot')
    words = text_to_word_sequence(text, filters=filters, lower=lower, split=split)
    return [abs(hash(word)) % (n - 1) + 1 for word in words]


def _md5_int(word):
    return int(hashlib.md5(word.encode('utf-8')).hexdigest(), 16)


def _check_hash_space(n, caller):
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError('%s: n must be an integer >= 2 (indices run from 1 to n - 1), got %r'
                         % (caller, n))


class Tokenizer(object):
    """Turns texts into sequences of word indices, or into vectors.

    Index 0 is reserved and never given to a word; the most frequent word
    gets index 1.

    # Arguments
        nb_words: keep only the `nb_words - 1` most frequent words (indices
            below `nb_words`) when converting; None keeps all.
        filters: characters removed from the texts.
        lower: whether to lowercase the texts.
        split: the word separator.
        char_level: every character is a token.
        num_words: Keras 2's name for `nb_words`.

    # Attributes (after fitting)
        word_counts: word -> number of occurrences.
        word_docs: word -> number of texts containing it.
        word_index: word -> index.
        document_count: number of texts of the last `fit_on_texts` call
            (or of sequences given to `fit_on_sequences`).
    """

    def __init__(self, nb_words=None, filters=DEFAULT_FILTERS, lower=True, split=' ',
                 char_level=False, num_words=None):
        if nb_words is not None and num_words is not None and nb_words != num_words:
            raise ValueError('Tokenizer: nb_words=%r and num_words=%r name the same setting; '
                             'give one' % (nb_words, num_words))
        words = nb_words if nb_words is not None else num_words
        if words is not None and (not isinstance(words, (int, np.integer)) or words < 0):
            raise ValueError('Tokenizer: nb_words must be a whole number >= 0 or None, got %r'
                             % (words,))
        self.word_counts = {}
        self.word_docs = {}
        self.filters = filters
        self.split = split
        self.lower = lower
        self.nb_words = words
        self.document_count = 0
        self.char_level = char_level
        self.word_index = {}
        self.index_docs = {}

    @property
    def num_words(self):
        return self.nb_words

    @num_words.setter
    def num_words(self, value):
        self.nb_words = value

    def _tokens(self, text):
        if self.char_level:
            return text
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts):
        """Counts the words of `texts` and (re)builds `word_index`.

        # Arguments
            texts: a list (or any iterable) of strings.
        """
        if isinstance(texts, str):
            raise TypeError('Tokenizer.fit_on_texts: texts must be a list of strings, got one '
                            'string; wrap it in a list')
        self.document_count = 0
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for word in tokens:
                self.word_counts[word] = self.word_counts.get(word, 0) + 1
            for word in set(tokens):
                self.word_docs[word] = self.word_docs.get(word, 0) + 1
        # A stable sort: words of equal count keep the order they were first seen in.
        by_count = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)
        self.word_index = {word: i for i, (word, _) in enumerate(by_count, start=1)}
        self.index_docs = {self.word_index[word]: count for word, count in self.word_docs.items()}

    def fit_on_sequences(self, sequences):
        """Counts, for each word index, the sequences containing it (for tf-idf).

        # Arguments
            sequences: list of sequences of word indices.
        """
        self.document_count = len(sequences)
        self.index_docs = {}
        for sequence in sequences:
            for i in set(sequence):
                self.index_docs[i] = self.index_docs.get(i, 0) + 1

    def texts_to_sequences(self, texts):
        """Converts texts to lists of word indices (see `texts_to_sequences_generator`).

        # Returns
            A list of lists of ints.
        """
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        """Yields each text as its list of word indices.

        Words never fitted, and words of index `nb_words` or above, are left out.

        # Arguments
            texts: a list (or iterable) of strings.
        """
        if isinstance(texts, str):
            raise TypeError('Tokenizer.texts_to_sequences: texts must be a list of strings, got '
                            'one string; wrap it in a list')
        limit = self.nb_words
        for text in texts:
            sequence = []
            for word in self._tokens(text):
                i = self.word_index.get(word)
                if i is not None and not (limit and i >= limit):
                    sequence.append(i)
            yield sequence

    def texts_to_matrix(self, texts, mode='binary'):
        """Converts texts to a matrix (see `sequences_to_matrix`)."""
        self._check_mode(mode)
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def _check_mode(self, mode):
        if mode not in MATRIX_MODES:
            raise ValueError('Tokenizer: mode must be one of %s, got %r'
                             % (', '.join(MATRIX_MODES), mode))

    def sequences_to_matrix(self, sequences, mode='binary'):
        """Converts sequences of word indices to a matrix of one row per sequence.

        # Arguments
            sequences: list of sequences of word indices.
            mode: 'binary' (1 where the word occurs), 'count', 'freq' (count
                divided by the sequence's length) or 'tfidf'.

        # Returns
            float64 Numpy array of shape `(len(sequences), nb_words)`
            (`len(word_index) + 1` columns when `nb_words` is None).
            Indices of `nb_words` or above are ignored.

        # Raises
            ValueError: unknown mode, or a tokenizer that has neither
                `nb_words` nor a fitted vocabulary (nor, for tf-idf, documents).
        """
        self._check_mode(mode)
        if self.nb_words:
            columns = self.nb_words
        elif self.word_index:
            columns = len(self.word_index) + 1
        else:
            raise ValueError('Tokenizer: specify a dimension (nb_words argument), or fit on some '
                             'text data first (fit_on_texts) before asking for a matrix')
        if mode == 'tfidf' and not self.document_count:
            raise ValueError('Tokenizer: fit the Tokenizer on some data (fit_on_texts or '
                             'fit_on_sequences) before using tfidf mode')
        x = np.zeros((len(sequences), columns))
        for row, sequence in enumerate(sequences):
            if not len(sequence):
                continue
            counts = {}
            for j in sequence:
                if j >= columns:
                    continue
                if j < 0:
                    raise ValueError('Tokenizer.sequences_to_matrix: sequence %d holds the '
                                     'negative index %d' % (row, j))
                counts[j] = counts.get(j, 0.) + 1
            for j, count in counts.items():
                if mode == 'count':
                    x[row, j] = count
                elif mode == 'freq':
                    x[row, j] = count / len(sequence)
                elif mode == 'binary':
                    x[row, j] = 1
                else:
                    tf = 1 + np.log(count)
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    x[row, j] = tf * idf
        return x
