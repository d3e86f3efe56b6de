"""kernels/borrowed.py: an array without an owner, and views of it, inside a Numba kernel."""
import numba
import numpy as np

from minikeras.kernels.borrowed import borrowed, borrowed_span


@numba.njit
def _row_sums_through_views(x, out):
    x, out = borrowed(x), borrowed(out)
    for i in range(x.shape[0]):
        row = x[i, 1:]   # a view of a view
        total = 0.0
        for j in range(row.shape[0]):
            total += row[j]
        out[i] = total


@numba.njit
def _copy_of_second(x):
    return borrowed(x)[1].copy()   # a borrowed view must not outlive the call


def test_borrowed_views_read_and_write_the_same_memory():
    x = np.arange(20, dtype=np.float32).reshape(4, 5)
    out = np.full(4, np.nan, np.float32)
    _row_sums_through_views(x, out)
    np.testing.assert_array_equal(out, x[:, 1:].sum(axis=1))


def test_borrowed_keeps_shape_and_strides():
    x = np.arange(24, dtype=np.float64).reshape(2, 3, 4)[:, ::2, 1:]
    row = _copy_of_second(x)
    np.testing.assert_array_equal(row, x[1])


@numba.njit
def _span_of(a):
    return borrowed_span(a).copy()


def test_borrowed_span_covers_planes_apart_from_first_to_last_element():
    buffer = np.arange(3 * 70, dtype=np.float32).reshape(3, 70)
    planes = buffer[:, :60].reshape(3, 6, 10)       # planes 70 floats apart
    span = _span_of(planes)
    np.testing.assert_array_equal(span, buffer.reshape(-1)[:2 * 70 + 60])
    assert _span_of(np.zeros((0, 6, 10), np.float32)).size == 0
