"""Optimizers against update sequences computed by hand (float64 loops here)."""
import numpy as np
import pytest

from minikeras import optimizers

GRADS = [np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.3, -0.4]), np.array([-0.2, 0.0, 1.0]),
         np.array([0.7, -0.7, 0.2])]
START = np.array([1.0, -2.0, 0.5])


def run(optimizer):
    p = START.astype('float32').copy()
    history = []
    for g in GRADS:
        optimizer.update([p], [g.astype('float32')])
        history.append(p.copy())
    return np.array(history)


def sgd_by_hand(lr, momentum, decay, nesterov):
    p, m, out = START.copy(), np.zeros(3), []
    for iteration, g in enumerate(GRADS):
        rate = lr / (1 + decay * iteration) if decay else lr
        v = momentum * m - rate * g
        m = v
        p = p + momentum * v - rate * g if nesterov else p + v
        out.append(p.copy())
    return np.array(out)


@pytest.mark.parametrize('momentum,decay,nesterov', [
    (0., 0., False), (0.9, 0., False), (0.9, 0., True), (0.9, 0.1, True), (0., 0.5, False)])
def test_sgd_matches_hand_computed_updates(momentum, decay, nesterov):
    got = run(optimizers.SGD(lr=0.05, momentum=momentum, decay=decay, nesterov=nesterov))
    np.testing.assert_allclose(got, sgd_by_hand(0.05, momentum, decay, nesterov), rtol=1e-6,
                               atol=1e-6)


def test_sgd_counts_iterations_only_with_decay_like_keras_1():
    with_decay = optimizers.SGD(decay=1e-6)
    without = optimizers.SGD()
    run(with_decay)
    run(without)
    assert with_decay.iterations == 4 and without.iterations == 0


def test_seed_script_sgd_step():
    """The seed's SGD(lr=0.05, decay=1e-6, momentum=0.9, nesterov=True), one step by hand."""
    p = np.array([0.2], dtype='float32')
    optimizers.SGD(lr=0.05, decay=1e-6, momentum=0.9, nesterov=True).update(
        [p], [np.array([1.0], dtype='float32')])
    v = -0.05 * 1.0
    assert p[0] == pytest.approx(0.2 + 0.9 * v - 0.05, rel=1e-6)


def test_adagrad_by_hand():
    p, a, out = START.copy(), np.zeros(3), []
    for g in GRADS:
        a = a + g * g
        p = p - 0.01 * g / (np.sqrt(a) + 1e-8)
        out.append(p.copy())
    np.testing.assert_allclose(run(optimizers.Adagrad()), out, rtol=1e-5, atol=1e-6)


def test_adadelta_by_hand():
    p, a, d, out = START.copy(), np.zeros(3), np.zeros(3), []
    for g in GRADS:
        a = 0.95 * a + 0.05 * g * g
        step = g * np.sqrt(d + 1e-8) / np.sqrt(a + 1e-8)
        p = p - 1.0 * step
        d = 0.95 * d + 0.05 * step * step
        out.append(p.copy())
    np.testing.assert_allclose(run(optimizers.Adadelta()), out, rtol=1e-5, atol=1e-6)


def test_rmsprop_by_hand():
    p, a, out = START.copy(), np.zeros(3), []
    for g in GRADS:
        a = 0.9 * a + 0.1 * g * g
        p = p - 0.001 * g / (np.sqrt(a) + 1e-8)
        out.append(p.copy())
    np.testing.assert_allclose(run(optimizers.RMSprop()), out, rtol=1e-5, atol=1e-6)


def test_adam_and_adamax_by_hand():
    p, m, v, out = START.copy(), np.zeros(3), np.zeros(3), []
    for t, g in enumerate(GRADS, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p = p - 0.001 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * m / (np.sqrt(v) + 1e-8)
        out.append(p.copy())
    np.testing.assert_allclose(run(optimizers.Adam()), out, rtol=1e-5, atol=1e-6)
    p, m, u, out = START.copy(), np.zeros(3), np.zeros(3), []
    for t, g in enumerate(GRADS, start=1):
        m = 0.9 * m + 0.1 * g
        u = np.maximum(0.999 * u, np.abs(g))
        p = p - 0.002 / (1 - 0.9 ** t) * m / (u + 1e-8)
        out.append(p.copy())
    np.testing.assert_allclose(run(optimizers.Adamax()), out, rtol=1e-5, atol=1e-6)


def test_clipnorm_and_clipvalue():
    p = np.zeros(2, dtype='float32')
    optimizers.SGD(lr=1., clipnorm=1.).update([p], [np.array([3., 4.], dtype='float32')])
    np.testing.assert_allclose(p, [-0.6, -0.8], rtol=1e-6)
    p = np.zeros(2, dtype='float32')
    optimizers.SGD(lr=1., clipvalue=0.5).update([p], [np.array([3., -0.25], dtype='float32')])
    np.testing.assert_allclose(p, [-0.5, 0.25])


def test_names_configs_and_state():
    assert isinstance(optimizers.get('Adam'), optimizers.Adam)
    with pytest.raises(ValueError, match="Unknown optimizer: 'sgdd'"):
        optimizers.get('sgdd')
    with pytest.raises(TypeError, match='unexpected keyword'):
        optimizers.SGD(learning_rate=0.1)
    sgd = optimizers.SGD(lr=0.1, momentum=0.5, decay=0.01, nesterov=True)
    clone = optimizers.get({'class_name': 'SGD', 'config': sgd.get_config()})
    assert clone.get_config() == sgd.get_config()
    run(sgd)
    clone.set_weights(sgd.get_weights())
    a, b = START.astype('float32'), START.astype('float32')
    sgd.update([a], [GRADS[0].astype('float32')])
    clone.update([b], [GRADS[0].astype('float32')])
    np.testing.assert_array_equal(a, b)


def test_nadam_by_hand_and_state_round_trip():
    p, m, v, schedule, out = START.copy(), np.zeros(3), np.zeros(3), 1.0, []
    for t, g in enumerate(GRADS, start=1):
        cache = 0.9 * (1 - 0.5 * 0.96 ** (t * 0.004))
        cache_next = 0.9 * (1 - 0.5 * 0.96 ** ((t + 1) * 0.004))
        schedule_new = schedule * cache
        schedule_next = schedule_new * cache_next
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        m_bar = (1 - cache) * g / (1 - schedule_new) + cache_next * m / (1 - schedule_next)
        p = p - 0.002 * m_bar / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        schedule = schedule_new
        out.append(p.copy())
    nadam = optimizers.get('nadam')
    np.testing.assert_allclose(run(nadam), out, rtol=1e-5, atol=1e-6)
    twin = optimizers.Nadam()
    twin.set_weights(nadam.get_weights())
    assert twin.m_schedule == pytest.approx(nadam.m_schedule, rel=1e-6)
