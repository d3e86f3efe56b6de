"""Preprocessing of integer sequences, as `keras.preprocessing.sequence` (1.2.2).

`skipgrams` draws from Python's global `random` module in the same order as
Keras 1.2.2, so a script that seeds `random` gets the same couples.
"""
from __future__ import absolute_import, division

import random

import numpy as np


def pad_sequences(sequences, maxlen=None, dtype='int32',
                  padding='pre', truncating='pre', value=0.):
    """Pads sequences to the same length.

    Every sequence becomes `maxlen` long (default: the longest one): longer
    ones lose their beginning (`truncating='pre'`) or end (`'post'`), shorter
    ones are padded with `value` before (`padding='pre'`) or after (`'post'`).

    # Arguments
        sequences: list of sequences (lists or arrays); each element may
            itself be an array, of the same shape throughout.
        maxlen: int, length of the output sequences.
        dtype: type of the output.
        padding: 'pre' or 'post'.
        truncating: 'pre' or 'post'.
        value: the padding value.

    # Returns
        Numpy array of shape `(len(sequences), maxlen) + element shape`.

    # Raises
        ValueError: unknown `padding` or `truncating`, a negative `maxlen`,
            an entry that is not a sequence, or elements of different shapes.
    """
    if padding not in ('pre', 'post'):
        raise ValueError('pad_sequences: padding must be "pre" or "post", got %r' % (padding,))
    if truncating not in ('pre', 'post'):
        raise ValueError('pad_sequences: truncating must be "pre" or "post", got %r'
                         % (truncating,))
    lengths = []
    for idx, s in enumerate(sequences):
        try:
            lengths.append(len(s))
        except TypeError:
            raise ValueError('pad_sequences: sequences must be a list of sequences; entry %d '
                             'is %r' % (idx, s))
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    elif int(maxlen) != maxlen or maxlen < 0:
        raise ValueError('pad_sequences: maxlen must be a whole number >= 0, got %r' % (maxlen,))
    maxlen = int(maxlen)

    # The shape of one element comes from the first non-empty sequence.
    sample_shape = ()
    for s in sequences:
        if len(s) > 0:
            sample_shape = np.asarray(s).shape[1:]
            break

    x = (np.ones((len(lengths), maxlen) + sample_shape) * value).astype(dtype)
    if maxlen == 0:
        return x
    for idx, s in enumerate(sequences):
        if not len(s):
            continue
        kept = s[-maxlen:] if truncating == 'pre' else s[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError('pad_sequences: the elements of sequence %d have shape %s; '
                             'expected %s like those of the first non-empty sequence'
                             % (idx, kept.shape[1:], sample_shape))
        if padding == 'post':
            x[idx, :len(kept)] = kept
        else:
            x[idx, maxlen - len(kept):] = kept
    return x


def make_sampling_table(size, sampling_factor=1e-5):
    """Returns word2vec's rank-based sampling probabilities.

    Entry i is the probability of keeping a word of frequency rank i, with
    word frequencies approximated by Zipf's law:
    `frequency(rank) ~ 1 / (rank * (log(rank) + gamma) + 1/2 - 1/(12 rank))`
    and `p = min(1, sqrt(frequency / factor) / (frequency / factor))`.

    # Arguments
        size: number of possible words.
        sampling_factor: the sampling factor of word2vec.

    # Returns
        1D Numpy array of length `size`.
    """
    gamma = 0.577
    rank = np.arange(size)
    if size:
        rank[0] = 1  # rank 0 is the non-word; it gets rank 1's value
    inverse_frequency = rank * (np.log(rank) + gamma) + 0.5 - 1. / (12. * rank)
    f = sampling_factor * inverse_frequency
    return np.minimum(1., f / np.sqrt(f))


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1.,
              shuffle=True, categorical=False, sampling_table=None):
    """Generates skip-gram couples `[word, context word]` with their labels.

    Each word is paired with every word within `window_size` of it (label 1),
    then `negative_samples` times as many couples pair a word with a random
    one (label 0). Index 0 is a non-word and is skipped.

    # Arguments
        sequence: list of word indices.
        vocabulary_size: largest word index + 1.
        window_size: half-width of the context window.
        negative_samples: number of negative couples per positive one (>= 0).
        shuffle: whether to shuffle the couples (and labels alike).
        categorical: labels as `[0, 1]` / `[1, 0]` instead of 1 / 0.
        sampling_table: array of size `vocabulary_size`; word i is kept with
            probability `sampling_table[i]` (see `make_sampling_table`).

    # Returns
        `couples, labels`: lists of the same length.
    """
    if negative_samples < 0:
        raise ValueError('skipgrams: negative_samples must be >= 0, got %r' % (negative_samples,))
    if negative_samples > 0 and vocabulary_size < 2:
        raise ValueError('skipgrams: negative samples need vocabulary_size >= 2, got %r'
                         % (vocabulary_size,))
    couples = []
    labels = []
    positive, negative = ([0, 1], [1, 0]) if categorical else (1, 0)
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < random.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([wi, sequence[j]])
                labels.append(list(positive) if categorical else positive)

    if negative_samples > 0 and couples:
        nb_negative = int(len(labels) * negative_samples)
        words = [c[0] for c in couples]
        random.shuffle(words)
        couples += [[words[i % len(words)], random.randint(1, vocabulary_size - 1)]
                    for i in range(nb_negative)]
        labels += [list(negative) if categorical else negative for _ in range(nb_negative)]

    if shuffle:
        # One seed for both shuffles keeps couples and labels aligned.
        seed = random.randint(0, 10000000)
        random.seed(seed)
        random.shuffle(couples)
        random.seed(seed)
        random.shuffle(labels)
    return couples, labels
