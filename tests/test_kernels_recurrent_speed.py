"""Kernels of the recurrent training path against NumPy references."""
import numpy as np

from minikeras.kernels import embedding


def test_add_rows_is_np_add_at_bit_for_bit():
    rng = np.random.RandomState(3)
    indices = rng.randint(0, 40, size=300).astype('int64')  # many repeats
    rows = rng.standard_normal((300, 7)).astype('float32')
    keep = (rng.rand(40) < 0.7).astype('float32') / np.float32(0.7)
    start = rng.standard_normal((40, 7)).astype('float32')
    for scaled in (False, True):
        expected = start.copy()
        np.add.at(expected, indices, rows * keep[indices][:, None] if scaled else rows)
        got = start.copy()
        embedding.add_rows(got, indices, rows, keep, scaled)
        np.testing.assert_array_equal(got, expected)
