"""`keras.utils.Sequence` (Keras 2): a dataset addressed by batch index."""


class Sequence(object):
    """Base class of a dataset that `fit_generator`, `evaluate_generator` and
    `predict_generator` read batch by batch: batch `i` is `sequence[i]`.

    A Sequence knows its length, so those methods need no `steps`; training
    visits every batch once per epoch (in a new order each epoch when
    `shuffle=True`) and then calls `on_epoch_end()`.

    # Example
    ```python
        class Batches(Sequence):
            def __init__(self, x, y, batch_size):
                self.x, self.y, self.batch_size = x, y, batch_size

            def __len__(self):
                return int(np.ceil(len(self.x) / float(self.batch_size)))

            def __getitem__(self, index):
                part = slice(index * self.batch_size, (index + 1) * self.batch_size)
                return self.x[part], self.y[part]
    ```
    """

    def __getitem__(self, index):
        """Batch number `index`: `(inputs, targets)` or `(inputs, targets, weights)`."""
        raise TypeError('%s must define __getitem__(index), returning batch number index'
                        % type(self).__name__)

    def __len__(self):
        """The number of batches."""
        raise TypeError('%s must define __len__(), the number of batches'
                        % type(self).__name__)

    def on_epoch_end(self):
        """Called after every epoch of training; override it to reshuffle, say."""

    def __iter__(self):
        """The batches in order, once."""
        for index in range(len(self)):
            yield self[index]
