"""`sklearn.cross_validation` (removed in scikit-learn 0.20), served inside `minikeras run`.

The functions (`train_test_split`, `cross_val_score`, `cross_val_predict`,
...) are `sklearn.model_selection`'s. The splitters keep the old signatures,
which took the data size or the labels up front and were iterated directly:
`for train, test in StratifiedKFold(y, n_folds=10, shuffle=True): ...`. They
yield the splits of their `model_selection` namesakes, and can be passed as
`cv=` to the model_selection functions and searches.
"""
import numpy as np
from sklearn import model_selection


class _LegacySplitter(object):
    """An old-style splitter: holds the data it splits, iterates over (train, test)."""

    def __init__(self, splitter, n_samples, labels, n_splits):
        self._splitter = splitter
        self._placeholder = np.zeros((n_samples, 1))
        self._labels = labels
        self._n_splits = n_splits

    def __iter__(self):
        for train, test in self._splitter.split(self._placeholder, self._labels):
            yield train, test

    def __len__(self):
        return self._n_splits

    def __repr__(self):
        return '%s(%s)' % (type(self).__name__, ', '.join(
            '%s=%r' % (k, v) for k, v in sorted(vars(self).items()) if not k.startswith('_')))


def _labels(y, owner):
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise ValueError('%s: y should be a 1D array of class labels (the old signature is '
                         '%s(y, n_folds, ...)), got shape %s' % (owner, owner, labels.shape))
    return labels


class KFold(_LegacySplitter):
    """`KFold(n, n_folds=3, shuffle=False, random_state=None)`: consecutive folds of range(n).

    # Arguments
        n: the number of samples.
        n_folds: the number of folds (at least 2).
        shuffle: shuffle the indices before splitting.
        random_state: seed or RandomState for the shuffle.
    """

    def __init__(self, n, n_folds=3, shuffle=False, random_state=None):
        self.n, self.n_folds, self.shuffle, self.random_state = n, n_folds, shuffle, random_state
        splitter = model_selection.KFold(n_splits=n_folds, shuffle=shuffle,
                                         random_state=random_state if shuffle else None)
        super(KFold, self).__init__(splitter, n, None, n_folds)


class StratifiedKFold(_LegacySplitter):
    """`StratifiedKFold(y, n_folds=3, shuffle=False, random_state=None)`: folds keeping class
    shares.

    # Arguments
        y: the class labels, one per sample.
        n_folds: the number of folds (at least 2).
        shuffle: shuffle each class's samples before splitting.
        random_state: seed or RandomState for the shuffle.
    """

    def __init__(self, y, n_folds=3, shuffle=False, random_state=None):
        self.y = _labels(y, 'StratifiedKFold')
        self.n_folds, self.shuffle, self.random_state = n_folds, shuffle, random_state
        splitter = model_selection.StratifiedKFold(
            n_splits=n_folds, shuffle=shuffle, random_state=random_state if shuffle else None)
        super(StratifiedKFold, self).__init__(splitter, len(self.y), self.y, n_folds)


class ShuffleSplit(_LegacySplitter):
    """`ShuffleSplit(n, n_iter=10, test_size=0.1, train_size=None, random_state=None)`.

    # Arguments
        n: the number of samples.
        n_iter: the number of random splits.
        test_size, train_size: fractions (floats) or counts (ints).
        random_state: seed or RandomState.
    """

    def __init__(self, n, n_iter=10, test_size=0.1, train_size=None, random_state=None):
        self.n, self.n_iter, self.test_size, self.train_size = n, n_iter, test_size, train_size
        self.random_state = random_state
        splitter = model_selection.ShuffleSplit(n_splits=n_iter, test_size=test_size,
                                                train_size=train_size, random_state=random_state)
        super(ShuffleSplit, self).__init__(splitter, n, None, n_iter)


class StratifiedShuffleSplit(_LegacySplitter):
    """`StratifiedShuffleSplit(y, n_iter=10, test_size=0.1, train_size=None, random_state=None)`.

    # Arguments
        y: the class labels, one per sample.
        n_iter: the number of random splits.
        test_size, train_size: fractions (floats) or counts (ints).
        random_state: seed or RandomState.
    """

    def __init__(self, y, n_iter=10, test_size=0.1, train_size=None, random_state=None):
        self.y = _labels(y, 'StratifiedShuffleSplit')
        self.n_iter, self.test_size, self.train_size = n_iter, test_size, train_size
        self.random_state = random_state
        splitter = model_selection.StratifiedShuffleSplit(
            n_splits=n_iter, test_size=test_size, train_size=train_size,
            random_state=random_state)
        super(StratifiedShuffleSplit, self).__init__(splitter, len(self.y), self.y, n_iter)


class LeaveOneOut(_LegacySplitter):
    """`LeaveOneOut(n)`: n splits, each testing on one sample.

    # Arguments
        n: the number of samples.
    """

    def __init__(self, n):
        self.n = n
        super(LeaveOneOut, self).__init__(model_selection.LeaveOneOut(), n, None, n)


def __getattr__(name):
    try:
        return getattr(model_selection, name)
    except AttributeError:
        raise AttributeError('sklearn.cross_validation (served from sklearn.model_selection) '
                             'has no %r' % name)
