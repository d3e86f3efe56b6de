"""Embedding clears the gradient buffer the training loop left unzeroed
(engine/training.py `_start_gradients`) by zeroing only the rows it wrote
since the last clearing, and looks its rows up with one kernel
(kernels/embedding.py): training must give the weights of zeroing the whole
buffer then adding, and of NumPy's lookup, bit for bit, whatever rows each
batch touches, also for an Embedding called twice, a regularized one and
one that no gradient reaches."""
import numpy as np
import pytest

from minikeras.kernels import embedding as embedding_kernels
from minikeras.layers import Dense, Embedding, Flatten, Input, merge
from minikeras.models import Model, Sequential
from minikeras.regularizers import l2


def _sequential():
    return Sequential([Embedding(30, 5, input_length=4, dropout=0.3), Flatten(),
                       Dense(3, activation='softmax')])


def _regularized():
    return Sequential([Embedding(30, 5, input_length=4, W_regularizer=l2(0.01)), Flatten(),
                       Dense(3, activation='softmax')])


def _shared():
    a, b = Input(shape=(4,), dtype='int32'), Input(shape=(4,), dtype='int32')
    shared = Embedding(30, 5, input_length=4)
    joined = merge([Flatten()(shared(a)), Flatten()(shared(b))], mode='concat')
    return Model([a, b], Dense(3, activation='softmax')(joined))


def _unreached():
    # the second output has no loss: its Embedding gets no gradient at all
    a = Input(shape=(4,), dtype='int32')
    first = Dense(3, activation='softmax')(Flatten()(Embedding(30, 5, input_length=4)(a)))
    second = Flatten()(Embedding(30, 2, input_length=4)(a))
    return Model(a, [first, second])


def _train(build, seed, optimizer):
    np.random.seed(seed)
    model = build()
    losses = ['categorical_crossentropy', None] if len(model.outputs) > 1 else \
        'categorical_crossentropy'
    model.compile(loss=losses, optimizer=optimizer)
    np.random.seed(seed + 1)
    rng = np.random.RandomState(seed)
    for _ in range(4):  # each batch touches other rows of the 30
        inputs = [rng.randint(0, 30, (6, 4)) for _ in model.inputs]
        target = np.eye(3, dtype=np.float32)[rng.randint(0, 3, 6)]
        model.train_on_batch(inputs if len(inputs) > 1 else inputs[0], target)
    return model.get_weights()


@pytest.mark.parametrize('build', [_sequential, _regularized, _shared, _unreached])
@pytest.mark.parametrize('optimizer', ['adam', 'sgd'])
def test_training_gives_the_weights_of_zeroing_then_adding(build, optimizer, monkeypatch):
    written = _train(build, 5, optimizer)
    monkeypatch.setattr(Embedding, 'writes_first_gradient', False)
    monkeypatch.setattr(embedding_kernels, 'zero_rows', None)  # never reached then
    added = _train(build, 5, optimizer)
    assert len(written) == len(added)
    for w, a in zip(written, added):
        assert np.array_equal(w, a)


def test_a_cleared_buffer_holds_only_the_last_batch():
    layer = Embedding(50, 3, input_length=6)
    layer.build((None, 6))
    rng = np.random.RandomState(2)
    reference = np.zeros_like(layer.W)
    for step in range(3):
        x = rng.randint(0, 50, (4, 6))
        dy = rng.standard_normal((4, 6, 3)).astype('float32')
        layer._gradients_unset = True  # as the training loop marks it
        layer.forward(x, training=True)[1](dy)
        reference[...] = 0.
        np.add.at(reference, x.reshape(-1), dy.reshape(-1, 3))
        assert np.array_equal(layer.gradients[0], reference)


def test_gather_rows_is_numpy_lookup_bit_for_bit():
    rng = np.random.RandomState(3)
    table = rng.standard_normal((40, 7)).astype('float32')
    keep = (rng.random_sample(40) < 0.6).astype('float32') * np.float32(1. / 0.6)
    indices = rng.randint(0, 40, 100).astype('int64')
    for scaled in (False, True):
        out = np.empty((100, 7), 'float32')
        embedding_kernels.gather_rows(table, indices, keep, scaled, out, 0, 60)
        embedding_kernels.gather_rows(table, indices, keep, scaled, out, 60, 100)
        expected = table[indices] * keep[indices][:, None] if scaled else table[indices]
        assert np.array_equal(out, expected)


def test_zero_rows_clears_the_listed_rows_only():
    expected = np.arange(24, dtype='float32').reshape(6, 4) + 1
    expected[[1, 4]] = 0.
    for bounds in ([0, 6], [0, 2, 4, 5, 6]):  # whole, and in ranges of table rows
        table = np.arange(24, dtype='float32').reshape(6, 4) + 1
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            embedding_kernels.zero_rows(table, np.array([4, 1, 4], 'int64'), lo, hi)
        assert np.array_equal(table, expected)


@pytest.mark.parametrize('threads', [1, 2])
def test_clearing_and_adding_over_ranges_of_rows_is_np_add_at(threads):
    """A table and a batch large enough for several ranges of table rows,
    each cleared (the rows the last batch wrote) and then summed into by one
    task: np.add.at's bits on one thread and on several."""
    import numba
    layer = Embedding(20000, 128, input_length=80)
    layer.build((None, 80))
    rng = np.random.RandomState(3)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        for step in range(3):
            x = rng.randint(0, 20000, (32, 80))
            dy = rng.standard_normal((32, 80, 128)).astype('float32')
            layer._gradients_unset = True
            layer.forward(x, training=True)[1](dy)
            reference = np.zeros_like(layer.W)
            np.add.at(reference, x.reshape(-1), dy.reshape(-1, 128))
            assert np.array_equal(layer.gradients[0], reference)
    finally:
        numba.set_num_threads(before)
