"""The fused optimizer kernels against Keras 1.2.2's formulas written in NumPy.

Each reference below is the update of Keras 1.2.2's optimizers.py, evaluated
with float32 NumPy arrays (one NumPy operation per step of the formula, the
way minikeras computed it before the kernels). The kernels compute the same
float32 operations in the same order, so the results must agree to the last
bit, over several steps, with learning-rate decay, clipnorm and clipvalue,
on parameters of several shapes (a matrix, a vector, an embedding-like
table whose gradient is zero on most rows).
"""
import numpy as np
import pytest

from minikeras import optimizers

F = np.float32


def clip_by_hand(grads, clipnorm, clipvalue):
    if clipnorm:
        norm = np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads))
        if norm >= clipnorm:
            grads = [g * F(clipnorm / norm) for g in grads]
    if clipvalue:
        grads = [np.clip(g, -clipvalue, clipvalue) for g in grads]
    return grads


class Reference(object):
    """Keras 1.2.2's update rules, float32 NumPy, one weight list at a time."""

    def __init__(self, name, decay=0., clipnorm=None, clipvalue=None, **kwargs):
        self.name, self.kwargs = name, kwargs
        self.decay, self.clipnorm, self.clipvalue = decay, clipnorm, clipvalue
        self.iterations = 0.
        self.slots = None
        self.m_schedule = F(1.)

    def update(self, params, grads):
        k = self.kwargs
        if self.slots is None:
            self.slots = [[np.zeros_like(p) for _ in range(3)] for p in params]
        grads = clip_by_hand(grads, self.clipnorm, self.clipvalue)
        lr = F(k['lr'])
        if self.decay > 0:
            lr = F(lr * (F(1.) / (F(1.) + F(self.decay) * F(self.iterations))))
        t = F(self.iterations + 1)
        if self.name == 'nadam':
            b1, sd = F(k['beta_1']), k['schedule_decay']
            cache_t = b1 * (F(1.) - F(0.5) * F(0.96) ** (t * F(sd)))
            cache_next = b1 * (F(1.) - F(0.5) * F(0.96) ** ((t + F(1.)) * F(sd)))
            schedule_new = self.m_schedule * cache_t
            schedule_next = schedule_new * cache_next
        for index, (p, g) in enumerate(zip(params, grads)):
            s = self.slots[index]
            if self.name == 'sgd':
                momentum = F(k['momentum'])
                velocity = momentum * s[0] - lr * g
                s[0][...] = velocity
                new = p + momentum * velocity - lr * g if k['nesterov'] else p + velocity
            elif self.name == 'rmsprop':
                rho = F(k['rho'])
                s[0][...] = rho * s[0] + (F(1.) - rho) * np.square(g)
                new = p - lr * g / (np.sqrt(s[0]) + F(k['epsilon']))
            elif self.name == 'adagrad':
                s[0] += np.square(g)
                new = p - lr * g / (np.sqrt(s[0]) + F(k['epsilon']))
            elif self.name == 'adadelta':
                rho, eps = F(k['rho']), F(k['epsilon'])
                s[0][...] = rho * s[0] + (F(1.) - rho) * np.square(g)
                step = g * np.sqrt(s[1] + eps) / np.sqrt(s[0] + eps)
                s[1][...] = rho * s[1] + (F(1.) - rho) * np.square(step)
                new = p - lr * step
            elif self.name in ('adam', 'amsgrad'):
                b1, b2 = F(k['beta_1']), F(k['beta_2'])
                s[0][...] = b1 * s[0] + (F(1.) - b1) * g
                s[1][...] = b2 * s[1] + (F(1.) - b2) * np.square(g)
                v = s[1]
                if self.name == 'amsgrad':
                    np.maximum(s[2], s[1], out=s[2])
                    v = s[2]
                lr_t = lr * (np.sqrt(F(1.) - b2 ** t) / (F(1.) - b1 ** t))
                new = p - lr_t * s[0] / (np.sqrt(v) + F(k['epsilon']))
            elif self.name == 'adamax':
                b1 = F(k['beta_1'])
                s[0][...] = b1 * s[0] + (F(1.) - b1) * g
                s[1][...] = np.maximum(F(k['beta_2']) * s[1], np.abs(g))
                new = p - (lr / (F(1.) - b1 ** t)) * s[0] / (s[1] + F(k['epsilon']))
            elif self.name == 'nadam':
                b1, b2 = F(k['beta_1']), F(k['beta_2'])
                g_prime = g / (F(1.) - schedule_new)
                s[0][...] = b1 * s[0] + (F(1.) - b1) * g
                m_prime = s[0] / (F(1.) - schedule_next)
                s[1][...] = b2 * s[1] + (F(1.) - b2) * np.square(g)
                v_prime = s[1] / (F(1.) - b2 ** t)
                m_bar = (F(1.) - cache_t) * g_prime + cache_next * m_prime
                new = p - lr * m_bar / (np.sqrt(v_prime) + F(k['epsilon']))
            p[...] = new
        if self.name == 'nadam':
            self.m_schedule = schedule_new
        counts = self.name in ('adam', 'amsgrad', 'adamax', 'nadam') or self.decay > 0
        if counts:
            self.iterations += 1.


CASES = [
    ('sgd', optimizers.SGD, dict(lr=0.05, momentum=0., nesterov=False), 0.),
    ('sgd', optimizers.SGD, dict(lr=0.05, momentum=0.9, nesterov=False), 0.),
    ('sgd', optimizers.SGD, dict(lr=0.05, momentum=0.9, nesterov=True), 1e-2),
    ('rmsprop', optimizers.RMSprop, dict(lr=0.01, rho=0.9, epsilon=1e-8), 0.),
    ('rmsprop', optimizers.RMSprop, dict(lr=0.01, rho=0.8, epsilon=1e-6), 0.1),
    ('adagrad', optimizers.Adagrad, dict(lr=0.01, epsilon=1e-8), 1e-3),
    ('adadelta', optimizers.Adadelta, dict(lr=1.0, rho=0.95, epsilon=1e-8), 0.),
    ('adadelta', optimizers.Adadelta, dict(lr=0.5, rho=0.9, epsilon=1e-6), 0.05),
    ('adam', optimizers.Adam, dict(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8), 0.),
    ('adam', optimizers.Adam, dict(lr=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-7), 0.01),
    ('amsgrad', optimizers.Adam, dict(lr=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8), 0.),
    ('adamax', optimizers.Adamax, dict(lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-8), 0.),
    ('adamax', optimizers.Adamax, dict(lr=0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-8), 0.1),
    ('nadam', optimizers.Nadam, dict(lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                                     schedule_decay=0.004), 0.),
]


def make_problem(seed):
    rng = np.random.RandomState(seed)
    params = [rng.standard_normal((7, 5)).astype(F), rng.standard_normal(5).astype(F),
              rng.standard_normal((50, 4)).astype(F)]
    steps = []
    for _ in range(6):
        grads = [rng.standard_normal(p.shape).astype(F) for p in params]
        grads[2][rng.rand(50) < 0.8] = 0.  # an embedding: most rows unused this batch
        steps.append(grads)
    return params, steps


def build(cls, name, kwargs, decay, clipnorm, clipvalue):
    kwargs = dict(kwargs)
    if name == 'amsgrad':
        kwargs['amsgrad'] = True
    if decay:
        kwargs['decay'] = decay
    return cls(clipnorm=clipnorm, clipvalue=clipvalue, **kwargs)


@pytest.mark.parametrize('clipnorm,clipvalue', [(None, None), (2.0, None), (None, 0.5),
                                                (3.0, 0.8)])
@pytest.mark.parametrize('name,cls,kwargs,decay', CASES)
def test_fused_update_is_the_numpy_formula_bit_for_bit(name, cls, kwargs, decay, clipnorm,
                                                       clipvalue):
    params, steps = make_problem(len(name) + int(decay * 1000))
    fused = [p.copy() for p in params]
    reference = [p.copy() for p in params]
    optimizer = build(cls, name, kwargs, decay, clipnorm, clipvalue)
    by_hand = Reference(name, decay=decay, clipnorm=clipnorm, clipvalue=clipvalue, **kwargs)
    for grads in steps:
        optimizer.update(fused, [g.copy() for g in grads])
        by_hand.update(reference, [g.copy() for g in grads])
        for got, expected in zip(fused, reference):
            np.testing.assert_array_equal(got, expected)
    for got, expected in zip(optimizer._slots, by_hand.slots):
        for slot_got, slot_expected in zip(got, expected):
            np.testing.assert_array_equal(slot_got, slot_expected)


def test_gradients_are_left_unchanged_and_constraints_see_the_new_value():
    p = np.ones((3, 2), F)
    g = np.full((3, 2), 10., F)
    seen = []

    def constraint(value):
        seen.append(value.copy())
        return np.clip(value, 0.5, None)
    optimizers.SGD(lr=0.1, clipvalue=1.).update([p], [g], [constraint])
    np.testing.assert_array_equal(g, np.full((3, 2), 10., F))
    np.testing.assert_allclose(seen[0], np.full((3, 2), 0.9, F))
    np.testing.assert_allclose(p, np.full((3, 2), 0.9, F))


def test_a_gradient_of_the_wrong_size_is_refused_with_both_shapes():
    p = np.ones((3, 2), F)
    with pytest.raises(ValueError, match=r'Adam: a gradient of shape \(4,\) for a weight of '
                                         r'shape \(3, 2\)'):
        optimizers.Adam().update([p], [np.ones(4, F)])
    np.testing.assert_array_equal(p, np.ones((3, 2), F))


def test_a_non_contiguous_weight_is_updated_too():
    base = np.ones((4, 6), F)
    view = base[:, ::2]
    optimizers.SGD(lr=0.5).update([view], [np.ones((4, 3), F)])
    np.testing.assert_array_equal(base[:, ::2], np.full((4, 3), 0.5, F))
    np.testing.assert_array_equal(base[:, 1::2], np.ones((4, 3), F))


@pytest.mark.parametrize('name,cls,kwargs,decay', [CASES[2], CASES[8], CASES[10], CASES[13]])
def test_a_large_parameter_spread_over_threads_gives_the_same_bits(name, cls, kwargs, decay):
    rng = np.random.RandomState(5)
    table = rng.standard_normal((2000, 130)).astype(F)  # several ranges of the thread pool
    fused, reference = table.copy(), table.copy()
    optimizer = build(cls, name, kwargs, decay, 50., 0.3)
    by_hand = Reference(name, decay=decay, clipnorm=50., clipvalue=0.3, **kwargs)
    for _ in range(3):
        g = rng.standard_normal(table.shape).astype(F)
        optimizer.update([fused], [g])
        by_hand.update([reference], [g.copy()])
    np.testing.assert_array_equal(fused, reference)


def test_a_state_of_another_shape_is_refused_before_any_update():
    adam = optimizers.Adam()
    p = np.ones((3, 2), F)
    adam.update([p], [np.ones((3, 2), F)])
    adam.set_weights([np.array(1., F), np.zeros(4, F), np.zeros(4, F)])
    before = p.copy()
    with pytest.raises(ValueError, match=r'Adam: its m state for weight 0 has shape \(4,\), '
                                         r'the weight \(3, 2\)'):
        adam.update([p], [np.ones((3, 2), F)])
    np.testing.assert_array_equal(p, before)
