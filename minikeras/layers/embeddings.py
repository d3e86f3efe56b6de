"""Embedding: integer indices to dense vectors."""
import numpy as np

from .. import constraints, initializations, regularizers
from ..compat import keras2
from ..engine.base_layer import Layer
from ..kernels import embedding as embedding_kernels
from ..kernels import threads as kernel_threads
from ..utils.layer_checks import check_rank, fraction, layer_label, positive_int
from .core import _config_or_none


_NO_KEEP = np.ones(1, 'float32')  # no dropout: the kernels do not read it


class Embedding(Layer):
    """Turns indices (integers in [0, input_dim)) into dense vectors of
    size `output_dim`: row `i` of `W` for index `i`.

    # Example
    ```python
        model.add(Embedding(1000, 64, input_length=10))
        # input: integer matrix (batch, 10); model.output_shape == (None, 10, 64)
    ```

    # Arguments
        input_dim: int > 0, the vocabulary size (1 + the largest index).
        output_dim: int >= 0, the size of each vector.
        init: name of the initialization for `W`.
        input_length: length of the input sequences, when constant (needed
            before Flatten and Dense).
        W_regularizer: optional penalty on `W`.
        activity_regularizer: optional penalty on the output.
        W_constraint: optional constraint on `W`.
        mask_zero: whether index 0 is padding: the layer then outputs a mask
            (True where the index is not 0) that layers downstream use to skip
            the padded steps, and every layer after it must support masking.
            Index 0 keeps its row of `W`: `input_dim` is still 1 + the largest
            index, as in Keras 1.
        weights: list with one array, `W` of shape (input_dim, output_dim).
        dropout: float in [0, 1), in training the fraction of the vocabulary
            whose vectors are zeroed (whole rows of `W`, the same for every
            occurrence in the batch), the others scaled by 1 / (1 - dropout).

    # Input shape
        2D `(samples, sequence_length)` of indices; floats are truncated.

    # Output shape
        3D `(samples, sequence_length, output_dim)`.

    # Mask
        With `mask_zero=True`, `(samples, sequence_length)`: True where the
        index is not 0.
    """

    # The training loop may leave the gradient buffer unzeroed before backprop
    # (`_gradients_unset`): the first backprop clears it, only the rows written
    # since it was last cleared where they are known (`_written_rows`), which
    # spares a pass over the whole (input_dim, output_dim) table per batch.
    writes_first_gradient = True

    @keras2.keras2_arguments(keras2.EMBEDDING)
    def __init__(self, input_dim, output_dim, init='uniform', input_length=None,
                 W_regularizer=None, activity_regularizer=None, W_constraint=None,
                 mask_zero=False, weights=None, dropout=0., **kwargs):
        if 'batch_input_shape' not in kwargs:
            kwargs['input_shape'] = (input_length,)
        kwargs.setdefault('input_dtype', 'int32')
        super(Embedding, self).__init__(weights=weights, **kwargs)
        self.input_dim = positive_int(self, 'input_dim', input_dim)
        self.output_dim = positive_int(self, 'output_dim', output_dim, minimum=0)
        fraction(self, 'dropout', dropout)
        initializations.get(init)
        self.init = init
        self.input_length = input_length
        self.W_regularizer = regularizers.get(W_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.W_constraint = constraints.get(W_constraint)
        self.mask_zero = bool(mask_zero)
        self.dropout = dropout
        self.uses_learning_phase = 0. < dropout < 1.

    def build(self, input_shape):
        self.get_output_shape_for(input_shape)
        self.W = self.add_weight((self.input_dim, self.output_dim), self.init,
                                 name=self.name + '_W', regularizer=self.W_regularizer,
                                 constraint=self.W_constraint)

    def compute_mask(self, x, mask=None):
        if not self.mask_zero:
            return None
        return np.not_equal(np.asarray(x), 0)

    def _output_mask_flags(self, input_flags):
        return [self.mask_zero]

    def get_output_shape_for(self, input_shape):
        check_rank(self, input_shape, 2, 'samples, sequence_length')
        length = input_shape[1]
        if self.input_length:
            if length is not None and length != self.input_length:
                raise ValueError('Layer %s (Embedding): input_length is %d but the input has '
                                 'shape %s' % (self.name, self.input_length, tuple(input_shape)))
            length = self.input_length
        return (input_shape[0], length, self.output_dim)

    def _indices(self, x):
        x = np.asarray(x)
        self.get_output_shape_for(x.shape)
        indices = x.astype('int64')
        if indices.size and (indices.min() < 0 or indices.max() >= self.input_dim):
            bad = indices[(indices < 0) | (indices >= self.input_dim)].flat[0]
            raise ValueError('Layer %s (Embedding): index %d is outside [0, input_dim=%d); '
                             'input_dim must be 1 + the largest index in the data'
                             % (self.name, bad, self.input_dim))
        return indices

    def forward(self, x, training=False, need_input_grad=True):
        indices = self._indices(x)
        input_shape = np.shape(x)
        flat = np.ascontiguousarray(indices.reshape(-1))
        keep = None
        if training and 0. < self.dropout < 1.:
            retain = 1. - self.dropout
            keep = (np.random.random_sample(self.input_dim) < retain).astype('float32')
            keep *= np.float32(1. / retain)
        W = np.ascontiguousarray(self.W)
        y = np.empty((flat.shape[0], self.output_dim), W.dtype)
        # W[indices] * keep[indices][..., None], in one pass
        kernel_threads.run_ranges(embedding_kernels.gather_rows, flat.shape[0], y.size, W, flat,
                                  _NO_KEEP if keep is None else keep, keep is not None, y)
        y = y.reshape(indices.shape + (self.output_dim,))

        def backprop(dy):
            rows = np.ascontiguousarray(dy, dtype='float32').reshape(-1, self.output_dim)
            grad = self.gradients[0]
            known = getattr(self, '_written_rows', None)
            to_zero = None  # the rows the last update left, cleared range by range
            if self.__dict__.pop('_gradients_unset', False):
                if known is None:
                    grad.fill(0.)
                else:
                    to_zero = known
                known = flat
            elif known is not None:
                known = np.concatenate([known, flat])
            keep_or_none = keep if keep is not None else _NO_KEEP

            def clear_and_add(lo, hi):
                # both kernels work on the table rows [lo, hi) only: one call of
                # the threads does the clearing and the sums
                if to_zero is not None:
                    embedding_kernels.zero_rows(grad, to_zero, lo, hi)
                embedding_kernels.add_rows(grad, flat, rows, keep_or_none, keep is not None,
                                           lo, hi)

            work = rows.size + (0 if to_zero is None else to_zero.shape[0] * self.output_dim)
            kernel_threads.run_ranges(clear_and_add, grad.shape[0], work)
            # a regularizer's gradient is added into every row after backprop
            # (and a list longer than the table is no saving)
            unknown = self.weight_regularizers or (known is not None and
                                                  known.shape[0] > grad.shape[0])
            self._written_rows = None if unknown else known
            # The indices are not differentiable: their gradient is zero.
            return np.zeros(input_shape, dtype='float32') if need_input_grad else None
        return y, backprop

    def get_config(self):
        config = super(Embedding, self).get_config()
        config.update({'input_dim': self.input_dim, 'output_dim': self.output_dim,
                       'init': initializations.serialize(self.init), 'input_length': self.input_length,
                       'mask_zero': self.mask_zero,
                       'activity_regularizer': _config_or_none(self.activity_regularizer),
                       'W_regularizer': _config_or_none(self.W_regularizer),
                       'W_constraint': _config_or_none(self.W_constraint),
                       'dropout': self.dropout})
        return config
