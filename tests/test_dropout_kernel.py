"""The dropout kernel (minikeras.kernels.dropout) against a NumPy reference,
and the Dropout layer that uses it: distribution, reproducibility, gradient."""
import numba
import numpy as np
import pytest

from minikeras.kernels import dropout
from minikeras.layers import Dropout


def reference_mask(n, key, rate):
    """splitmix64 of key + i * golden, written with NumPy's wrapping uint64
    arithmetic; kept where the top 24 bits / 2**24 >= rate (compared in float64)."""
    with np.errstate(over='ignore'):
        z = np.uint64(key) + np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    uniform = (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)
    return uniform >= rate


def run(x, key, rate, threads=None):
    y, mask = np.empty_like(x), np.empty_like(x)
    old = numba.get_num_threads()
    if threads:
        numba.set_num_threads(threads)
    try:
        dropout.dropout_forward(x, key, dropout.dropout_threshold(rate),
                                np.float32(1. / (1. - rate)), y, mask)
    finally:
        numba.set_num_threads(old)
    return y, mask


@pytest.mark.parametrize('shape,rate,key', [((7,), 0.5, 0), ((128, 512), 0.2, 123456789),
                                            ((3, 5, 700), 0.75, (1 << 63) - 25),
                                            ((1000,), 1e-9, 42)])
def test_mask_and_output_are_the_reference_bit_for_bit(shape, rate, key):
    x = np.random.RandomState(0).standard_normal(shape).astype(np.float32)
    y, mask = run(x, key, rate)
    keep = reference_mask(x.size, key, rate).reshape(shape)
    scaled = keep.astype(np.float32) * np.float32(1. / (1. - rate))
    np.testing.assert_array_equal(mask, scaled)
    np.testing.assert_array_equal(y, x * scaled)


def test_the_mask_does_not_depend_on_the_thread_count_and_differs_between_keys():
    x = np.ones((600, 1000), np.float32)  # large enough to be cut into tasks
    y1, m1 = run(x, 99, 0.3, threads=1)
    y2, m2 = run(x, 99, 0.3, threads=min(2, numba.config.NUMBA_NUM_THREADS))
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(y1, y2)
    _, other = run(x, 100, 0.3)
    assert np.mean(other != m1) > 0.3


@pytest.mark.parametrize('rate', [0.1, 0.5, 0.8])
def test_units_are_dropped_independently_with_probability_rate(rate):
    n = 400000
    keep = run(np.ones(n, np.float32), 2024, rate)[1] != 0
    # fraction kept within 5 standard deviations of 1 - rate
    assert abs(keep.mean() - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / n)
    # neighbours are independent: P(both kept) = (1 - rate)^2
    both = np.mean(keep[1:] & keep[:-1])
    assert abs(both - (1 - rate) ** 2) < 5 * np.sqrt((1 - rate) ** 2 / n)


def test_mismatched_sizes_are_refused_naming_the_shapes():
    with pytest.raises(ValueError, match=r'\(4,\).*\(5,\)'):
        dropout.dropout_forward(np.ones(4, np.float32), 1, dropout.dropout_threshold(0.5),
                                np.float32(2.), np.empty(4, np.float32),
                                np.empty(5, np.float32))


def test_the_layer_is_reproducible_under_a_seed_and_backprops_through_its_mask():
    x = np.random.RandomState(1).rand(64, 300).astype(np.float32) + 1.
    layer = Dropout(0.25)
    np.random.seed(7)
    y1, back1 = layer.forward(x, training=True)
    y2, _ = layer.forward(x, training=True)
    np.random.seed(7)
    again, _ = layer.forward(x, training=True)
    np.testing.assert_array_equal(y1, again)
    assert np.mean(y1 != y2) > 0.2  # a new mask every call
    kept = y1 != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y1[kept], x[kept] / np.float32(0.75), rtol=1e-6)
    dy = np.random.RandomState(2).rand(*x.shape).astype(np.float32)
    mask = np.where(kept, np.float32(1. / 0.75), np.float32(0.))
    np.testing.assert_array_equal(back1(dy), dy * mask)
    seeded = Dropout(0.25, seed=3).forward(x, training=True)[0]
    np.testing.assert_array_equal(seeded, Dropout(0.25, seed=3).forward(x, training=True)[0])
    np.testing.assert_array_equal(layer.forward(x, training=False)[0], x)
