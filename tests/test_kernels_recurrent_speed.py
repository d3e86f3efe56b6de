"""Kernels of the recurrent training path against NumPy references.

The recurrent kernels run a batch as independent groups of samples
(`batch_shards`) on the kernel threads; the tests of test_recurrent.py use
batches of a few samples (one group), these use batches of several groups.
"""
import numpy as np
import pytest

from minikeras.kernels import elementwise, embedding
from minikeras.kernels import recurrent as recurrent_kernels
from minikeras.layers import GRU, LSTM, SimpleRNN

from test_fused_activations import _every_float32, _ulp_distance
from test_recurrent import data, make, reference


def test_add_rows_is_np_add_at_bit_for_bit():
    rng = np.random.RandomState(3)
    indices = rng.randint(0, 40, size=300).astype('int64')  # many repeats
    rows = rng.standard_normal((300, 7)).astype('float32')
    keep = (rng.rand(40) < 0.7).astype('float32') / np.float32(0.7)
    start = rng.standard_normal((40, 7)).astype('float32')
    for scaled in (False, True):
        expected = start.copy()
        np.add.at(expected, indices, rows * keep[indices][:, None] if scaled else rows)
        for bounds in ([0, 40], [0, 13, 14, 40]):  # whole, and in ranges of table rows
            got = start.copy()
            for lo, hi in zip(bounds[:-1], bounds[1:]):
                embedding.add_rows(got, indices, rows, keep, scaled, lo, hi)
            np.testing.assert_array_equal(got, expected)


class _TracedLSTM(LSTM):
    """The same cell through K.rnn and the tracer: an independent implementation."""

    def step(self, x, states):
        return LSTM.step(self, x, states)


def test_batch_shards_cover_the_batch_and_depend_on_its_size_only():
    assert recurrent_kernels.batch_shards(3) == [0, 3]
    assert recurrent_kernels.batch_shards(32) == [0, 16, 32]
    assert recurrent_kernels.batch_shards(40) == [0, 20, 40]
    assert recurrent_kernels.batch_shards(64) == [0, 32, 64]
    assert recurrent_kernels.batch_shards(128) == [0, 64, 128]
    assert recurrent_kernels.batch_shards(256) == [0, 64, 128, 192, 256]
    assert recurrent_kernels.batch_shards(1000) == [0, 250, 500, 750, 1000]


def _lstm_kernels_run(batch, gate_masks, seed):
    """out and dz of `lstm_forward` and `lstm_backward` on random data with
    recurrent dropout masks (when `gate_masks`) and masked steps."""
    steps, n = 6, 9
    rng = np.random.RandomState(seed)
    xp = rng.standard_normal((steps, batch, 4 * n)).astype('float32')
    U = (rng.standard_normal((n, 4 * n)) * 0.5).astype('float32')
    Ug = np.ascontiguousarray(U.reshape(n, 4, n).transpose(1, 0, 2))
    mu = (rng.rand(4, batch, n) < 0.7).astype('float32') / np.float32(0.7)
    h0 = np.zeros((batch, n), 'float32')
    mask = (rng.rand(steps, batch) < 0.8).astype('uint8')
    dout = rng.standard_normal((steps, batch, n)).astype('float32')
    gates = np.empty((steps, batch, 4 * n), 'float32')
    hs = np.empty((steps + 1, batch, n), 'float32')
    cs = np.empty_like(hs)
    act_c = np.empty((steps, batch, n), 'float32')
    out = np.empty_like(act_c)
    masked_states = np.empty((4, steps + 1 if gate_masks else 1, batch, n), 'float32')
    dz = np.empty_like(gates)
    codes = recurrent_kernels.TANH, recurrent_kernels.HARD_SIGMOID
    recurrent_kernels.lstm_forward(xp, U, Ug, mu, gate_masks, h0, h0, mask, *codes, gates, hs,
                                   cs, act_c, out, masked_states)
    recurrent_kernels.lstm_backward(dout, gates, cs, act_c, mask, np.ascontiguousarray(U.T),
                                    np.ascontiguousarray(Ug.transpose(0, 2, 1)), mu, gate_masks,
                                    *codes, dz)
    return out, dz


@pytest.mark.parametrize('gate_masks', [False, True])
def test_lstm_kernels_give_the_same_numbers_for_any_grouping_and_thread_count(monkeypatch,
                                                                              gate_masks):
    """The groups of samples are independent sequences: one group, the
    default groups, and other cuts of the batch, on one thread and on all,
    give the same outputs and gradients bit for bit."""
    import numba
    batch = 128
    expected = None
    default = recurrent_kernels.batch_shards
    before = numba.get_num_threads()
    try:
        for count in (1, 2, 3, 4, 7, 8):
            monkeypatch.setattr(recurrent_kernels, 'batch_shards',
                                lambda size, count=count: [size * k // count
                                                           for k in range(count + 1)])
            for threads in (1, before):
                numba.set_num_threads(threads)
                got = _lstm_kernels_run(batch, gate_masks, seed=3)
                if expected is None:
                    expected = got
                for a, b in zip(got, expected):
                    np.testing.assert_array_equal(a, b)
        monkeypatch.setattr(recurrent_kernels, 'batch_shards', default)
        for a, b in zip(_lstm_kernels_run(batch, gate_masks, seed=3), expected):
            np.testing.assert_array_equal(a, b)
    finally:
        numba.set_num_threads(before)


def _lstm_backward_with_sums(batch, gate_masks, one_hot, seed, sums=True, zero_start=False):
    """dz and the weight gradients `lstm_backward` sums while it runs (None
    where it does not), with masked steps, recurrent dropout (with
    `gate_masks`), a non-zero initial state (zero with `zero_start`), and
    one-hot inputs of 5 characters (with `one_hot`), plus the states;
    without `sums`, the call asks for no sums."""
    steps, n, dim = 5, 6, 5
    rng = np.random.RandomState(seed)
    xp = rng.standard_normal((steps, batch, 4 * n)).astype('float32')
    U = (rng.standard_normal((n, 4 * n)) * 0.5).astype('float32')
    Ug = np.ascontiguousarray(U.reshape(n, 4, n).transpose(1, 0, 2))
    mu = (rng.rand(4, batch, n) < 0.7).astype('float32') / np.float32(0.7)
    h0 = rng.standard_normal((batch, n)).astype('float32')
    if zero_start:
        h0[...] = 0.
    mask = (rng.rand(steps, batch) < 0.8).astype('uint8')
    dout = rng.standard_normal((steps, batch, n)).astype('float32')
    gates = np.empty((steps, batch, 4 * n), 'float32')
    hs = np.empty((steps + 1, batch, n), 'float32')
    cs, act_c, out = np.empty_like(hs), np.empty_like(dout), np.empty_like(dout)
    masked_states = np.empty((4, steps + 1 if gate_masks else 1, batch, n), 'float32')
    codes = recurrent_kernels.TANH, recurrent_kernels.HARD_SIGMOID
    recurrent_kernels.lstm_forward(xp, U, Ug, mu, gate_masks, h0, h0, mask, *codes, gates, hs,
                                   cs, act_c, out, masked_states)
    columns = rng.randint(-1, dim, (steps, batch)).astype('int64')
    dz = np.empty_like(gates)
    states = (masked_states if gate_masks else hs) if sums else None
    sums = recurrent_kernels.lstm_backward(
        dout, gates, cs, act_c, mask, np.ascontiguousarray(U.T),
        np.ascontiguousarray(Ug.transpose(0, 2, 1)), mu, gate_masks, *codes, dz, states,
        (columns, dim) if one_hot else None)
    return dz, sums, states, columns


@pytest.mark.parametrize('batch', [128, 256])
@pytest.mark.parametrize('gate_masks', [False, True])
@pytest.mark.parametrize('one_hot', [False, True])
@pytest.mark.parametrize('zero_start', [False, True])
def test_lstm_backward_sums_the_weight_gradients_of_the_dense_products(batch, gate_masks,
                                                                       one_hot, zero_start):
    """Groups of 64 samples and more sum U's gradient (and a one-hot input's
    W and b gradients) while they walk back: float64 products of the states
    and dz, within float32 rounding, and the same bits on one thread and on
    all; dz is the dz of a call that sums nothing. A zero initial state's
    product is skipped, the others summed."""
    import numba
    assert recurrent_kernels.folds_weight_gradients(batch, 6)
    before = numba.get_num_threads()
    runs = []
    try:
        for threads in (1, before):
            numba.set_num_threads(threads)
            runs.append(_lstm_backward_with_sums(batch, gate_masks, one_hot, seed=batch,
                                                 zero_start=zero_start))
    finally:
        numba.set_num_threads(before)
    (dz, sums, states, columns), (dz2, sums2, _, _) = runs
    np.testing.assert_array_equal(dz, dz2)
    for a, b in zip(sums, sums2):
        if a is None:
            assert b is None and not one_hot
        else:
            np.testing.assert_array_equal(a, b)
    steps, n = dz.shape[0], dz.shape[2] // 4
    dz64 = dz.astype('float64').reshape(steps * batch, 4 * n)
    if gate_masks:
        expected = np.concatenate([
            states[g, :-1].reshape(steps * batch, n).astype('float64').T @
            dz64[:, g * n:(g + 1) * n] for g in range(4)], axis=1)
    else:
        expected = states[:-1].reshape(steps * batch, n).astype('float64').T @ dz64
    np.testing.assert_allclose(sums[0], expected, rtol=1e-5, atol=1e-5)
    if one_hot:
        x = np.zeros((steps * batch, 5))
        flat = columns.reshape(-1)
        x[flat >= 0, flat[flat >= 0]] = 1
        np.testing.assert_allclose(sums[1], x.T @ dz64, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(sums[2], dz64.sum(axis=0), rtol=1e-5, atol=1e-5)
    plain = _lstm_backward_with_sums(batch, gate_masks, one_hot, seed=batch, sums=False,
                                     zero_start=zero_start)
    assert plain[1] is None
    np.testing.assert_array_equal(plain[0], dz)


@pytest.mark.parametrize('one_hot', [False, True])
@pytest.mark.parametrize('dropout_U', [0., 0.3])
def test_lstm_layer_with_summed_weight_gradients_matches_the_traced_step(one_hot, dropout_U):
    """A batch of two groups of 64: the layer takes the weight gradients the
    backward kernel summed; the same as K.rnn running Keras 1.2.2's step."""
    kwargs = dict(n=5, sample_shape=(4, 3), dropout_U=dropout_U, seed=6)
    fused, traced = make(LSTM, **kwargs), make(_TracedLSTM, **kwargs)
    x = _one_hot(128, 4, 3, 5) if one_hot else data((128, 4, 3), seed=5)
    mask = np.random.RandomState(3).rand(128, 4) < 0.8
    _assert_fused_matches_traced(fused, traced, x, mask, data((128, 5), seed=7), seed=8)


def test_lstm_backward_sums_nothing_for_groups_of_fewer_than_64_samples():
    assert not recurrent_kernels.folds_weight_gradients(64, 6)  # two groups of 32
    assert not recurrent_kernels.folds_weight_gradients(128, 1)  # products of one unit
    assert _lstm_backward_with_sums(64, False, True, seed=1)[1] is None


@pytest.mark.parametrize('batch', [32, 50, 70, 200])
@pytest.mark.parametrize('go_backwards', [False, True])
def test_lstm_over_several_groups_matches_a_numpy_loop_with_masks(batch, go_backwards):
    layer = make(LSTM, n=6, sample_shape=(7, 4), return_sequences=True,
                 go_backwards=go_backwards, seed=batch)
    x = data((batch, 7, 4), seed=batch) * 3  # tanh and the gates away from their linear part
    mask = np.random.RandomState(batch).rand(batch, 7) < 0.7
    got = layer.forward(x, mask=mask)[0]
    np.testing.assert_allclose(got, reference(layer, x, mask), rtol=1e-5, atol=1e-5)


def _assert_fused_matches_traced(fused, traced, x, mask, dy, seed):
    """One training forward and backward of each layer from zeroed
    gradients, with the same dropout masks (numpy seeded alike): outputs,
    input gradients and weight gradients agree."""
    results = []
    for layer in (fused, traced):
        for grad in layer.gradients:
            grad.fill(0.)
        np.random.seed(seed)
        y, backprop = layer.forward(x, training=True, mask=mask)
        results.append((y, backprop(dy), [g.copy() for g in layer.gradients]))
    (y1, dx1, g1), (y2, dx2, g2) = results
    np.testing.assert_allclose(y1, y2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx1, dx2, rtol=1e-4, atol=1e-5)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('consume_less', ['cpu', 'gpu'])
def test_lstm_gradients_over_several_groups_match_the_traced_step(consume_less):
    """Dropout on both sides, a mask, a batch of four groups: the fused
    forward and backward against K.rnn running Keras 1.2.2's step, traced."""
    kwargs = dict(n=5, sample_shape=(6, 3), return_sequences=True, dropout_W=0.3,
                  dropout_U=0.4, consume_less=consume_less, seed=4)
    fused, traced = make(LSTM, **kwargs), make(_TracedLSTM, **kwargs)
    assert fused._uses_fused_kernel() and not traced._uses_fused_kernel()
    x = data((64, 6, 3), seed=9) * 2
    mask = np.random.RandomState(2).rand(64, 6) < 0.8
    dy = data((64, 6, 5), seed=3)
    _assert_fused_matches_traced(fused, traced, x, mask, dy, seed=11)


@pytest.mark.parametrize('one_hot', [False, True])
def test_lstm_results_do_not_depend_on_the_thread_count(one_hot):
    """Dense inputs, and one-hot ones (the projection read from the table)."""
    import numba
    layer = make(LSTM, n=8, sample_shape=(5, 3), return_sequences=True, dropout_U=0.3, seed=1)
    x = _one_hot(64, 5, 3, 1) if one_hot else data((64, 5, 3), seed=1)
    dy = data((64, 5, 8), seed=2)
    runs = []
    before = numba.get_num_threads()
    try:
        for threads in (1, before):
            numba.set_num_threads(threads)
            for grad in layer.gradients:
                grad.fill(0.)
            np.random.seed(0)
            y, backprop = layer.forward(x, training=True)
            runs.append((y, backprop(dy), [g.copy() for g in layer.gradients]))
    finally:
        numba.set_num_threads(before)
    for a, b in zip(runs[0][:2], runs[1][:2]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(runs[0][2], runs[1][2]):
        np.testing.assert_array_equal(a, b)


def _lstm_activation(values, code):
    """The LSTM step's activation `code` (`_activate_gate`) on values in place,
    as one gate of one sample."""
    recurrent_kernels._activate_gate(values.reshape(1, 1, 1, -1), 0, 0, 1, 0, code)


# Every float32 of these ranges: the tiny inputs returned as they are, the
# bulk of pre-activations, and the approach to saturation.
@pytest.mark.parametrize('lo,hi', [(2.0 ** -13, 2.0 ** -11), (0.5, 2.0), (8.0, 9.75)])
def test_the_lstm_tanh_is_the_element_wise_tanh_within_3_ulp_on_every_float32(lo, hi):
    worst = 0
    for x in _every_float32(lo, hi):
        for signed in (x, -x):
            got = signed.copy()
            _lstm_activation(got, recurrent_kernels.TANH)
            exact = np.tanh(signed.astype(np.float64)).astype(np.float32)
            worst = max(worst, int(_ulp_distance(got, exact).max()))
            element_wise = np.empty_like(signed)
            elementwise.activation_forward(elementwise.TANH, signed, element_wise)
            assert np.array_equal(got.view(np.int32), element_wise.view(np.int32))
    assert worst <= 3


def test_the_lstm_tanh_of_special_values_and_the_gates_are_numpys():
    x = np.concatenate([np.linspace(-12, 12, 200001), [0., -0., 1e-30, -1e-30, 3e-5, -2e-4],
                        np.random.RandomState(0).standard_normal(10000)]).astype('float32')
    got = x.copy()
    _lstm_activation(got, recurrent_kernels.TANH)
    exact = np.tanh(x.astype('float64')).astype('float32')
    assert _ulp_distance(got, exact).max() <= 3
    # signed zeros and tiny values as they are, saturation +-1 exactly
    assert np.signbit(got[200002]) and got[200003] == np.float32(1e-30)
    assert got[200004] == np.float32(-1e-30) and got[0] == -1. and got[200000] == 1.
    for code in (recurrent_kernels.HARD_SIGMOID, recurrent_kernels.RELU,
                 recurrent_kernels.LINEAR, recurrent_kernels.SOFTSIGN):
        got = x.copy()
        _lstm_activation(got, code)
        np.testing.assert_array_equal(got, recurrent_kernels.activate(x.copy(), code))
    for code in (recurrent_kernels.SIGMOID, recurrent_kernels.SOFTPLUS, recurrent_kernels.ELU):
        got = x.copy()
        _lstm_activation(got, code)
        np.testing.assert_allclose(got, recurrent_kernels.activate(x.copy(), code), rtol=1e-6,
                                   atol=1e-7)


@pytest.mark.parametrize('reverse', [False, True])
def test_input_dropout_kernels_are_the_numpy_formulas_bit_for_bit(reverse):
    rng = np.random.RandomState(5)
    batch, steps, dim, gates = 5, 7, 6, 4
    x = rng.standard_normal((batch, steps, dim)).astype('float32')
    w_mask = (rng.rand(gates, batch, dim) < 0.7).astype('float32') / np.float32(0.7)
    x_tm = x.transpose(1, 0, 2)[::-1] if reverse else x.transpose(1, 0, 2)
    masked = np.empty((gates, steps, batch, dim), 'float32')
    recurrent_kernels.mask_inputs(x, w_mask, reverse, masked, 0, 3)
    recurrent_kernels.mask_inputs(x, w_mask, reverse, masked, 3, steps)
    for g in range(gates):
        np.testing.assert_array_equal(masked[g], x_tm * w_mask[g])
    per_gate = rng.standard_normal((gates, steps, batch, dim)).astype('float32')
    expected = np.zeros((steps, batch, dim), 'float32')
    for g in range(gates):
        expected += per_gate[g] * w_mask[g]
    expected = (expected[::-1] if reverse else expected).transpose(1, 0, 2)
    dx = np.full((batch, steps, dim), np.nan, 'float32')
    recurrent_kernels.gather_input_gradient(per_gate, w_mask, reverse, dx, 0, 4)
    recurrent_kernels.gather_input_gradient(per_gate, w_mask, reverse, dx, 4, steps)
    np.testing.assert_array_equal(dx, expected)


def _run_tasks_on(tasks, thread_count, reverse_order=False):
    """Runs callables on `thread_count` kernel threads (the tasks in reverse
    order with `reverse_order`: their results must not depend on it)."""
    import numba
    from minikeras.kernels import threads as kernel_threads
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(thread_count)
        kernel_threads.run_all(tasks[::-1] if reverse_order else tasks)
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize('reverse', [False, True])
def test_masked_projection_and_input_gradient_tasks_match_float64(reverse):
    import numba
    rng = np.random.RandomState(9)
    # several ranges of steps: the call is above threads.BLAS_PARALLEL_FLOP
    batch, steps, dim, n, gates = 48, 11, 128, 40, 4
    x = rng.standard_normal((batch, steps, dim)).astype('float32')
    w_mask = (rng.rand(gates, batch, dim) < 0.7).astype('float32') / np.float32(0.7)
    W = rng.standard_normal((dim, gates * n)).astype('float32')
    b = rng.standard_normal(gates * n).astype('float32')
    dz = rng.standard_normal((steps * batch, gates * n)).astype('float32')
    x_tm = (x.transpose(1, 0, 2)[::-1] if reverse else x.transpose(1, 0, 2)).astype('float64')
    masked_ref = x_tm[None] * w_mask[:, None].astype('float64')     # (G, T, B, D)
    xp_ref = np.concatenate([masked_ref[g].reshape(steps * batch, dim) @ W[:, g * n:(g + 1) * n]
                             for g in range(gates)], axis=1) + b
    dx_ref = sum((dz[:, g * n:(g + 1) * n].astype('float64') @ W[:, g * n:(g + 1) * n].T)
                 .reshape(steps, batch, dim) * w_mask[g] for g in range(gates))
    dx_ref = (dx_ref[::-1] if reverse else dx_ref).transpose(1, 0, 2)
    results = []
    for thread_count, reverse_order in ((1, False), (max(2, numba.get_num_threads()), True)):
        masked = np.full((gates, steps, batch, dim), np.nan, 'float32')
        xp = np.full((steps * batch, gates * n), np.nan, 'float32')
        tasks = recurrent_kernels.masked_projection_tasks(x, w_mask, reverse, W, b, masked, xp)
        assert len(tasks) > 1
        _run_tasks_on(tasks, thread_count, reverse_order)
        per_gate = np.full((gates, steps * batch, dim), np.nan, 'float32')
        dx = np.full((batch, steps, dim), np.nan, 'float32')
        tasks = recurrent_kernels.masked_input_gradient_tasks(dz, W, w_mask, reverse, per_gate, dx)
        assert len(tasks) > 1
        _run_tasks_on(tasks, thread_count, reverse_order)
        np.testing.assert_array_equal(masked, masked_ref.astype('float32'))
        np.testing.assert_allclose(xp, xp_ref, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(dx, dx_ref, rtol=1e-4, atol=1e-4)
        results.append((xp, dx))
    for a, b in zip(*results):  # the same bits on one thread and on several
        np.testing.assert_array_equal(a, b)


def test_one_hot_gradient_tasks_are_one_hot_gradients_bit_for_bit():
    rng = np.random.RandomState(10)
    rows, dim, width = 3000, 7, 10  # two ranges of rows
    columns = rng.randint(-1, dim, rows).astype('int64')
    dz = rng.standard_normal((rows, width)).astype('float32')
    dW, db = recurrent_kernels.one_hot_gradients(columns, dz, dim)
    finish, tasks = recurrent_kernels.one_hot_gradient_tasks(columns, dz, dim)
    assert len(tasks) == 2
    _run_tasks_on(tasks, 2, reverse_order=True)
    got_dW, got_db = finish()
    np.testing.assert_array_equal(got_dW, dW)
    np.testing.assert_array_equal(got_db, db)

def _one_hot(batch, steps, dim, seed):
    """One-hot vectors, a fifth of them all zero (as padding leaves them)."""
    rng = np.random.RandomState(seed)
    x = np.zeros((batch, steps, dim), 'float32')
    x[np.arange(batch)[:, None], np.arange(steps), rng.randint(0, dim, (batch, steps))] = 1
    x[rng.rand(batch, steps) < 0.2] = 0
    return x


def test_one_hot_kernels_are_the_dense_products():
    rng = np.random.RandomState(7)
    batch, steps, dim, width = 9, 6, 11, 20
    x = _one_hot(batch, steps, dim, 7)
    W = rng.standard_normal((dim, width)).astype('float32')
    b = rng.standard_normal(width).astype('float32')
    dz = rng.standard_normal((steps * batch, width)).astype('float32')
    for reverse in (False, True):
        columns = np.empty((steps, batch), 'int64')
        assert recurrent_kernels.one_hot_columns(x, reverse, columns)
        x_tm = x.transpose(1, 0, 2)[::-1] if reverse else x.transpose(1, 0, 2)
        flat = x_tm.reshape(steps * batch, dim).astype('float64')
        columns = columns.reshape(-1)
        out = np.full((steps * batch, width), np.nan, 'float32')
        recurrent_kernels.project_one_hot(W, b, columns, out, 0, 20)
        recurrent_kernels.project_one_hot(W, b, columns, out, 20, steps * batch)
        # W[k] + b is one correctly rounded float32 sum: the float64 product, rounded
        np.testing.assert_array_equal(out, (flat @ W + b).astype('float32'))
        by_samples = np.full_like(out, np.nan)  # ranges of samples, every step
        recurrent_kernels.project_one_hot_samples(W, b, columns, by_samples, steps, batch, 0, 4)
        recurrent_kernels.project_one_hot_samples(W, b, columns, by_samples, steps, batch, 4,
                                                  batch)
        np.testing.assert_array_equal(by_samples, out)
        dW, db = recurrent_kernels.one_hot_gradients(columns, dz, dim)
        np.testing.assert_allclose(dW, flat.T @ dz, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(db, dz.astype('float64').sum(axis=0), rtol=1e-5, atol=1e-5)


def test_one_hot_gradients_over_several_ranges_of_rows():
    rng = np.random.RandomState(8)
    rows, dim, width = 3000, 7, 10  # two ranges of rows
    columns = rng.randint(-1, dim, rows).astype('int64')
    dz = rng.standard_normal((rows, width)).astype('float32')
    x = np.zeros((rows, dim))
    x[columns >= 0, columns[columns >= 0]] = 1
    dW, db = recurrent_kernels.one_hot_gradients(columns, dz, dim)
    np.testing.assert_allclose(dW, x.T @ dz, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(db, dz.astype('float64').sum(axis=0), rtol=1e-5, atol=1e-4)


def test_inputs_that_are_not_one_hot_are_refused():
    columns = np.empty((3, 2), 'int64')
    x = _one_hot(2, 3, 5, 1)
    assert recurrent_kernels.one_hot_columns(x, False, columns)
    for vector in ([0, 1, 0, 1, 0], [0, 0, 2, 0, 0], [0.5, 0, 0, 0, 0], [0, 0, 0, 0, -1],
                   [1, 0, 0, 0, 1e-30], [0, np.nan, 0, 0, 0]):
        bad = x.copy()
        bad[1, 2] = vector
        assert not recurrent_kernels.one_hot_columns(bad, False, columns), vector
    # 57 characters: the vectorised body of the scan, and its tail
    x = _one_hot(2, 3, 57, 2)
    assert recurrent_kernels.one_hot_columns(x, True, columns)
    np.testing.assert_array_equal(columns, np.where(x.any(axis=2), x.argmax(axis=2), -1).T[::-1])
    for where, value in ((40, 2.), (56, np.nan), (3, 0.5), (50, -1.), ((33, 50), 1.)):
        bad = x.copy()
        bad[0, 1] = 0.
        bad[0, 1, where] = value
        assert not recurrent_kernels.one_hot_columns(bad, False, columns), (where, value)


@pytest.mark.parametrize('cls', [SimpleRNN, GRU, LSTM])
@pytest.mark.parametrize('consume_less', ['cpu', 'gpu'])
@pytest.mark.parametrize('go_backwards', [False, True])
def test_one_hot_inputs_match_the_traced_step(cls, consume_less, go_backwards):
    """One-hot inputs take the lookup path (forward, weight and input
    gradients): the same results as K.rnn running Keras 1.2.2's step."""
    traced_cls = type('Traced' + cls.__name__, (cls,),
                      {'step': lambda self, x, states: cls.step(self, x, states)})
    kwargs = dict(n=5, sample_shape=(6, 4), return_sequences=True, consume_less=consume_less,
                  go_backwards=go_backwards, dropout_U=0.3, seed=2)
    fused, traced = make(cls, **kwargs), make(traced_cls, **kwargs)
    x = _one_hot(40, 6, 4, 3)
    assert recurrent_kernels.one_hot_columns(x, False, np.empty((6, 40), 'int64'))
    mask = np.random.RandomState(2).rand(40, 6) < 0.8
    dy = data((40, 6, 5), seed=4)
    _assert_fused_matches_traced(fused, traced, x, mask, dy, seed=5)


@pytest.mark.parametrize('rows', [700, 2048, 5121])
def test_tall_product_is_the_product_and_does_not_depend_on_the_thread_count(rows):
    import numba
    rng = np.random.RandomState(rows)
    left = rng.standard_normal((rows, 9)).astype('float32')
    right = rng.standard_normal((rows, 13)).astype('float32')
    before = numba.get_num_threads()
    results = []
    try:
        for threads in (1, before):
            numba.set_num_threads(threads)
            out = np.full((9, 13), np.nan, 'float32')
            results.append((recurrent_kernels.tall_product(left, right),
                            recurrent_kernels.tall_product(left, right, out=out)))
    finally:
        numba.set_num_threads(before)
    exact = left.astype('float64').T @ right.astype('float64')
    for got in results[0] + results[1]:
        np.testing.assert_allclose(got, exact, rtol=1e-5, atol=1e-4)
        np.testing.assert_array_equal(got, results[0][0])


@pytest.mark.parametrize('rows', [700, 2560])
def test_products_sharing_one_call_of_the_threads_are_the_separate_products(rows):
    """The recurrent layers' backward runs every gate's weight and input
    products as the tasks of one call (`tall_product_tasks`,
    `threads.matmul_tasks`), into column slices of one array: the same
    bits as each product alone, and the products within float32 rounding."""
    from minikeras.kernels import threads
    rng = np.random.RandomState(rows)
    left = [rng.standard_normal((rows, 24)).astype('float32') for _ in range(3)]
    right = rng.standard_normal((rows, 3 * 40)).astype('float32')
    weights = rng.standard_normal((3 * 40, 24)).astype('float32')
    weight_grad = np.full((24, 3 * 40), np.nan, 'float32')
    input_grads = np.full((3, rows, 24), np.nan, 'float32')
    finishers, tasks = [], []
    for g in range(3):
        cols = slice(g * 40, (g + 1) * 40)
        finish, more = recurrent_kernels.tall_product_tasks(left[g], right[:, cols],
                                                             weight_grad[:, cols])
        finishers.append(finish)
        tasks += more
        tasks += threads.matmul_tasks(right[:, cols], weights[cols], input_grads[g])[1]
    unfinished, more = recurrent_kernels.tall_product_tasks(left[0], right)
    threads.run_all(tasks + more)
    for g, finish in enumerate(finishers):
        cols = slice(g * 40, (g + 1) * 40)
        assert np.shares_memory(finish(), weight_grad)  # written in place
        alone = recurrent_kernels.tall_product(left[g], right[:, cols])
        np.testing.assert_array_equal(weight_grad[:, cols], alone)
        exact = left[g].astype('float64').T @ right[:, cols].astype('float64')
        np.testing.assert_allclose(weight_grad[:, cols], exact, rtol=1e-5, atol=1e-4)
        np.testing.assert_array_equal(input_grads[g], threads.matmul(right[:, cols],
                                                                    weights[cols]))
        np.testing.assert_allclose(input_grads[g], right[:, cols].astype('float64') @
                                   weights[cols].astype('float64'), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(unfinished(), recurrent_kernels.tall_product(left[0], right))


def test_numpys_sgemm_from_numba_is_np_matmul_bit_for_bit():
    from minikeras.kernels import blas
    sgemm = blas.sgemm_function()
    if sgemm is None:
        pytest.skip("NumPy's BLAS exports no 64-bit cblas_sgemm: the NumPy loops run")
    import numba

    @numba.njit
    def product(sgemm, a, b, c):
        blas.product(sgemm, a, b, c)

    rng = np.random.RandomState(0)
    wide = rng.standard_normal((37, 4 * 29)).astype('float32')
    b = rng.standard_normal((29, 53)).astype('float32')
    for a in (wide[:, :29].copy(), wide[:, 2 * 29:3 * 29]):  # rows apart as in dz's gates
        c = np.full((37, 53), np.nan, np.float32)
        product(sgemm, a, b, c)
        np.testing.assert_array_equal(c, np.matmul(a, b))


def _lstm_kernels(compiled, batch, n, steps, gate_masks, seed, one_hot=None, last_step=None):
    """Outputs and dz of lstm_forward and lstm_backward, with the compiled time
    loops or with NumPy's (`compiled` False hides NumPy's sgemm from them).
    With `one_hot` 'xp' or 'table', xp is the projection of one-hot inputs of
    7 characters (some all zero), given as xp or as `one_hot_table`. With
    `last_step` 'zeros' or 'alone', the last step's output alone has a
    gradient, given with zeros for the other steps or alone (1, B, n)."""
    from minikeras.kernels import blas
    rng = np.random.RandomState(seed)

    def normal(*shape):
        return (rng.standard_normal(shape) * 0.4).astype('float32')

    xp, U = normal(steps, batch, 4 * n), normal(n, 4 * n)
    table = None
    if one_hot is not None:
        W, b = normal(7, 4 * n), normal(4 * n)
        columns = rng.randint(-1, 7, (steps, batch)).astype('int64')
        recurrent_kernels.project_one_hot(W, b, columns.reshape(-1), xp.reshape(-1, 4 * n), 0,
                                          steps * batch)
        if one_hot == 'table':
            table, xp = (recurrent_kernels.one_hot_table(W, b), columns), None
    Ug = np.ascontiguousarray(U.reshape(n, 4, n).transpose(1, 0, 2))
    mu = (rng.rand(4, batch, n) > 0.2).astype('float32') / np.float32(0.8)
    h0, c0 = normal(batch, n), normal(batch, n)
    mask = (rng.rand(steps, batch) < 0.7).astype('uint8')
    gates = np.empty((steps, batch, 4 * n), 'float32')
    hs, cs = np.empty((2, steps + 1, batch, n), 'float32')
    act_c, out = np.empty((2, steps, batch, n), 'float32')
    masked = np.empty((4, steps + 1 if gate_masks else 1, batch, n), 'float32')
    dout, dz = normal(steps, batch, n), np.empty((steps, batch, 4 * n), 'float32')
    if last_step == 'zeros':
        dout[:-1] = 0.
    elif last_step == 'alone':
        dout = np.ascontiguousarray(dout[-1:])
    act, inner = recurrent_kernels.TANH, recurrent_kernels.HARD_SIGMOID
    found = blas._SGEMM[:]
    blas._SGEMM[:] = found if compiled else [None]
    try:
        recurrent_kernels.lstm_forward(xp, U, Ug, mu, gate_masks, h0, c0, mask, act, inner, gates,
                                       hs, cs, act_c, out, masked, table)
        recurrent_kernels.lstm_backward(dout, gates, cs, act_c, mask, np.ascontiguousarray(U.T),
                                        np.ascontiguousarray(Ug.transpose(0, 2, 1)), mu,
                                        gate_masks, act, inner, dz)
    finally:
        blas._SGEMM[:] = found
    return out, hs, cs, dz


@pytest.mark.parametrize('gate_masks', [False, True])
@pytest.mark.parametrize('batch, n', [(32, 9), (70, 5), (3, 4)])
def test_lstm_compiled_time_loops_are_the_numpy_loops_bit_for_bit(gate_masks, batch, n):
    from minikeras.kernels import blas
    if blas.sgemm_function() is None:
        pytest.skip("NumPy's BLAS exports no 64-bit cblas_sgemm: the NumPy loops run")
    compiled = _lstm_kernels(True, batch, n, 6, gate_masks, seed=batch)
    numpy_loops = _lstm_kernels(False, batch, n, 6, gate_masks, seed=batch)
    for got, expected in zip(compiled, numpy_loops):
        np.testing.assert_array_equal(got, expected)
    assert np.isfinite(compiled[-1]).all() and np.abs(compiled[-1]).max() > 0


@pytest.mark.parametrize('option, given, reference', [('one_hot', 'table', 'xp'),
                                                       ('last_step', 'alone', 'zeros')])
@pytest.mark.parametrize('gate_masks', [False, True])
@pytest.mark.parametrize('compiled', [False, True])
def test_lstm_kernels_short_forms_of_their_inputs_give_the_bits_of_the_full_ones(
        option, given, reference, gate_masks, compiled):
    """Over several groups of samples: each step reading its rows of
    `one_hot_table` gives the bits of xp made by `project_one_hot`, and the
    gradient of the last output alone (1, B, n) those of zeros for the others."""
    from minikeras.kernels import blas
    if compiled and blas.sgemm_function() is None:
        pytest.skip("NumPy's BLAS exports no 64-bit cblas_sgemm: the NumPy loops run")
    got = _lstm_kernels(compiled, 70, 5, 6, gate_masks, seed=3, **{option: given})
    expected = _lstm_kernels(compiled, 70, 5, 6, gate_masks, seed=3, **{option: reference})
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(got[-1]).all() and np.abs(got[-1][0]).max() > 0


def test_the_one_hot_table_is_each_characters_projection_then_the_bias():
    rng = np.random.RandomState(2)
    W, b = rng.standard_normal((2, 57, 12)).astype('float32')
    table = recurrent_kernels.one_hot_table(W, b[0])
    assert table.shape == (58, 12)
    # W[k] + b is one correctly rounded float32 sum
    np.testing.assert_array_equal(table[:57], (W.astype('float64') + b[0]).astype('float32'))
    np.testing.assert_array_equal(table[57], b[0])
