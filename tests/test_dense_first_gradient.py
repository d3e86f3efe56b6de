"""Dense writes its first weight gradient of a training step into the buffer
the training loop left unzeroed (engine/training.py `_start_gradients`):
training must give the weights of zeroing then adding, bit for bit, also
for a Dense called twice and for one that no gradient reaches."""
import numpy as np
import pytest

from minikeras.layers import Activation, Dense, Dropout, Input, merge
from minikeras.models import Model, Sequential


def _sequential():
    model = Sequential([Dense(9, input_dim=6), Activation('relu'), Dropout(0.3),
                        Dense(5, activation='tanh'), Dense(3, activation='softmax')])
    return model, 'categorical_crossentropy'


def _shared():
    a, b = Input(shape=(6,)), Input(shape=(6,))
    shared = Dense(7, activation='sigmoid')
    joined = merge([shared(a), shared(b)], mode='concat')
    return Model([a, b], Dense(3, activation='softmax')(joined)), 'categorical_crossentropy'


def _unreached():
    # the second output has no loss: its Dense gets no gradient at all
    a = Input(shape=(6,))
    hidden = Dense(8, activation='relu')(a)
    model = Model(a, [Dense(3, activation='softmax')(hidden), Dense(3)(hidden)])
    return model, ['categorical_crossentropy', None]


def _train(build, seed):
    np.random.seed(seed)
    model, loss = build()
    model.compile(loss=loss, optimizer='rmsprop')
    np.random.seed(seed + 1)
    rng = np.random.RandomState(seed)
    inputs = [rng.standard_normal((10, 6)).astype(np.float32) for _ in model.inputs]
    target = np.eye(3, dtype=np.float32)[rng.randint(0, 3, 10)]
    for _ in range(3):  # targets only for the outputs with a loss
        model.train_on_batch(inputs if len(inputs) > 1 else inputs[0], target)
    return model.get_weights()


@pytest.mark.parametrize('build', [_sequential, _shared, _unreached])
def test_training_gives_the_weights_of_zeroing_then_adding(build, monkeypatch):
    written = _train(build, 3)
    monkeypatch.setattr(Dense, 'writes_first_gradient', False)
    added = _train(build, 3)
    assert len(written) == len(added)
    for w, a in zip(written, added):
        assert np.array_equal(w, a)


def test_a_dense_subclass_gets_zeroed_buffers():
    """A subclass does not inherit the promise (its forward may add): its
    buffers are zeroed before each step, so each step's gradient is its own."""
    class Doubled(Dense):
        def forward(self, x, training=False, need_input_grad=True):
            y, backprop = super(Doubled, self).forward(x, training, need_input_grad)
            return y * np.float32(2), lambda dy: backprop(dy * np.float32(2))

    model = Sequential([Doubled(4, input_dim=3)])
    model.compile(loss='mse', optimizer='sgd')  # lr 0.01, no momentum
    w, b = 0.1, 0.0
    model.set_weights([np.full((3, 4), w, np.float32), np.full(4, b, np.float32)])
    x = np.ones((2, 3), np.float32)
    for _ in range(2):
        model.train_on_batch(x, np.zeros((2, 4), np.float32))
        # y = 2 (3 w + b) on each of 8 outputs; d mean(y^2) / dy = 2 y / 8;
        # dz = 2 dy; dW = dz summed over the 2 samples, db likewise
        dz = 2 * 2 * (2 * (3 * w + b)) / 8
        w, b = w - 0.01 * 2 * dz, b - 0.01 * 2 * dz
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-5)
    np.testing.assert_allclose(model.get_weights()[1], b, rtol=1e-5, atol=1e-7)


def _calls_of_merged_path(monkeypatch):
    """Cuts every product over the kernel threads (as the 512-wide layers of
    mnist_mlp are) and counts the backprops that take the one-call path."""
    from minikeras.kernels import threads
    from minikeras.layers import core
    monkeypatch.setattr(threads, 'BLAS_PARALLEL_FLOP', 1)
    calls = []
    merged = core._first_gradients_in_one_call

    def counted(*args):
        calls.append(1)
        return merged(*args)
    monkeypatch.setattr(core, '_first_gradients_in_one_call', counted)
    return calls


def _mlp():
    model = Sequential([Dense(40, input_dim=6), Activation('relu'), Dropout(0.2),
                        Dense(24, activation='tanh'), Dense(3, activation='softmax')])
    return model, 'categorical_crossentropy'


@pytest.mark.parametrize('build', [_mlp, _shared])
def test_weight_and_input_gradients_in_one_call_give_the_same_weights(build, monkeypatch):
    calls = _calls_of_merged_path(monkeypatch)
    merged = _train(build, 5)
    assert calls  # the path under test was taken
    monkeypatch.setattr(Dense, 'writes_first_gradient', False)
    separate = _train(build, 5)
    for w, s in zip(merged, separate):
        assert np.array_equal(w, s)


@pytest.mark.parametrize('bias, need_input_grad', [(True, True), (False, True), (True, False)])
def test_one_call_gradients_match_float64_and_do_not_depend_on_threads(bias, need_input_grad,
                                                                       monkeypatch):
    import numba
    from minikeras.layers import core
    _calls_of_merged_path(monkeypatch)
    rng = np.random.RandomState(0)
    x = rng.standard_normal((37, 70)).astype(np.float32)
    dz = rng.standard_normal((37, 45)).astype(np.float32)
    W = rng.standard_normal((70, 45)).astype(np.float32)
    results = []
    threads_before = numba.get_num_threads()
    try:
        for count in (1, threads_before):
            numba.set_num_threads(count)
            grads = [np.full((70, 45), np.nan, np.float32), np.full(45, np.nan, np.float32)]
            dx = core._first_gradients_in_one_call(x, dz, W, grads, bias, need_input_grad)
            results.append((grads[0].copy(), grads[1].copy(), dx))
    finally:
        numba.set_num_threads(threads_before)
    x64, dz64, W64 = (a.astype(np.float64) for a in (x, dz, W))
    dW, db, dx = results[0]
    np.testing.assert_allclose(dW, x64.T @ dz64, rtol=1e-5, atol=1e-5)
    if need_input_grad:
        np.testing.assert_allclose(dx, dz64 @ W64.T, rtol=1e-5, atol=1e-5)
    else:
        assert dx is None
    if bias:
        np.testing.assert_allclose(db, dz64.sum(axis=0), rtol=1e-5, atol=1e-5)
    else:
        assert np.isnan(db).all()  # no bias: its buffer is not written
    for one, many in zip(results[0], results[1]):
        if one is None:
            assert many is None
        else:
            assert np.array_equal(one, many, equal_nan=True)
