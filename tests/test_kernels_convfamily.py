"""The N-d, grouped, dilated convolution, 3D pooling and locally connected
kernels against plain NumPy loops written from the definitions (float64)."""
import itertools

import numpy as np
import pytest

from minikeras.kernels import convnd, local, pooling3d
from thread_counts import assert_same_bits_on_each_thread_count

pytestmark = pytest.mark.filterwarnings('error::numba.core.errors.NumbaWarning')


def ref_conv(x, w, b, strides, dilations, pads, out_size, groups):
    N, C = x.shape[:2]
    F = w.shape[0]
    cg, fg = C // groups, F // groups
    out = np.zeros((N, F) + tuple(out_size))
    for n, f in itertools.product(range(N), range(F)):
        g = f // fg
        for o in itertools.product(*[range(s) for s in out_size]):
            total = float(b[f])
            for c in range(cg):
                for k in itertools.product(*[range(s) for s in w.shape[2:]]):
                    pos = [o[a] * strides[a] + k[a] * dilations[a] - pads[a] for a in range(3)]
                    if all(0 <= pos[a] < x.shape[2 + a] for a in range(3)):
                        total += float(x[n, g * cg + c][tuple(pos)]) * float(w[f, c][k])
            out[(n, f) + o] = total
    return out


CASES = [  # x shape, w shape, strides, dilations, pads, groups
    ((2, 3, 1, 7, 6), (4, 3, 1, 3, 2), (1, 2, 1), (1, 1, 1), (0, 1, 0), 1),
    ((2, 2, 1, 9, 9), (3, 2, 1, 3, 3), (1, 1, 2), (1, 2, 3), (0, 2, 3), 1),
    ((3, 2, 4, 5, 3), (2, 2, 2, 3, 2), (2, 1, 1), (1, 1, 1), (1, 1, 1), 1),
    ((2, 4, 1, 6, 5), (8, 1, 1, 3, 3), (1, 2, 2), (1, 1, 1), (0, 1, 1), 4),   # depthwise x2
    ((2, 4, 3, 4, 4), (6, 2, 2, 2, 2), (1, 1, 1), (2, 1, 1), (0, 0, 0), 2),
]


def _out_size(x_shape, w_shape, strides, dilations, pads):
    return tuple((x_shape[2 + a] + 2 * pads[a] - convnd.dilated_size(w_shape[2 + a],
                                                                      dilations[a]))
                 // strides[a] + 1 for a in range(3))


@pytest.mark.parametrize('case', CASES)
def test_convnd_against_loops(case):
    x_shape, w_shape, strides, dilations, pads, groups = case
    rng = np.random.RandomState(len(x_shape) + sum(w_shape))
    x = rng.standard_normal(x_shape).astype('float32')
    w = rng.standard_normal(w_shape).astype('float32')
    b = rng.standard_normal(w_shape[0]).astype('float32')
    out_size = _out_size(x_shape, w_shape, strides, dilations, pads)
    out = np.full((x_shape[0], w_shape[0]) + out_size, np.nan, dtype='float32')
    convnd.convnd_forward(x, w, b, out, strides, dilations, pads, groups)
    np.testing.assert_allclose(out, ref_conv(x, w, b, strides, dilations, pads, out_size, groups),
                               rtol=1e-4, atol=1e-4)

    # Gradients: the adjoint identities <dout, conv(x)> against the loops.
    dout = rng.standard_normal(out.shape).astype('float32')
    dx = np.full(x_shape, np.nan, dtype='float32')
    convnd.convnd_backward_input(dout, w, dx, strides, dilations, pads, groups)
    dw = np.full(w_shape, np.nan, dtype='float32')
    db = np.full(w_shape[0], np.nan, dtype='float32')
    convnd.convnd_backward_weights(x, dout, dw, db, strides, dilations, pads, groups)
    zero_b = np.zeros_like(b)
    for index in itertools.islice(np.ndindex(*x_shape), 0, None, 7):
        e = np.zeros(x_shape)
        e[index] = 1
        expected = np.sum(ref_conv(e, w, zero_b, strides, dilations, pads, out_size, groups)
                          * dout)
        assert abs(dx[index] - expected) < 1e-3 * (1 + abs(expected))
    for index in np.ndindex(*w_shape):
        e = np.zeros(w_shape)
        e[index] = 1
        expected = np.sum(ref_conv(x, e, zero_b, strides, dilations, pads, out_size, groups)
                          * dout)
        assert abs(dw[index] - expected) < 1e-3 * (1 + abs(expected))
    np.testing.assert_allclose(db, dout.astype(np.float64).sum(axis=(0, 2, 3, 4)), rtol=1e-4,
                               atol=1e-4)


def test_convnd_is_deterministic_and_chunks_agree(monkeypatch):
    rng = np.random.RandomState(0)
    x = rng.standard_normal((9, 3, 2, 6, 6)).astype('float32')
    w = rng.standard_normal((5, 3, 2, 3, 3)).astype('float32')
    dout = rng.standard_normal((9, 5, 1, 4, 4)).astype('float32')
    geometry = ((1, 1, 1), (1, 1, 1), (0, 0, 0))

    def run():
        out = np.empty((9, 5, 1, 4, 4), dtype='float32')
        convnd.convnd_forward(x, w, np.zeros(5, 'float32'), out, *geometry)
        dw, db = np.empty_like(w), np.empty(5, 'float32')
        convnd.convnd_backward_weights(x, dout, dw, db, *geometry)
        return out, dw
    first, again = run(), run()
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    monkeypatch.setattr(convnd, '_CHUNK_BYTES', 1)       # one sample per chunk
    chunked = run()
    np.testing.assert_array_equal(chunked[0], first[0])
    np.testing.assert_allclose(chunked[1], first[1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('groups', [1, 4])
def test_convnd_and_pooling3d_do_not_depend_on_the_thread_count(groups):
    # Large enough for the kernel threads to split both the windows' copies
    # and the products (threads.BLAS_PARALLEL_FLOP).
    rng = np.random.RandomState(groups)
    x = rng.standard_normal((6, 8, 6, 10, 10)).astype('float32')
    w = rng.standard_normal((16, 8 // groups, 3, 3, 3)).astype('float32')
    b = rng.standard_normal(16).astype('float32')
    dout = rng.standard_normal((6, 16, 6, 10, 10)).astype('float32')
    geometry = ((1, 1, 1), (1, 1, 1), (1, 1, 1))
    pool = [np.array(v, np.int64) for v in ((2, 2, 2), (2, 2, 2), (0, 0, 0))]

    def run():
        out = np.empty_like(dout)
        convnd.convnd_forward(x, w, b, out, *geometry, groups=groups)
        dx = np.empty_like(x)
        convnd.convnd_backward_input(dout, w, dx, *geometry, groups=groups)
        dw, db = np.empty_like(w), np.empty(16, 'float32')
        convnd.convnd_backward_weights(x, dout, dw, db, *geometry, groups=groups)
        pooled = np.empty((6, 8, 3, 5, 5), 'float32')
        argmax = np.empty(pooled.shape, np.int64)
        pooling3d.maxpool3d_forward(x, pooled, argmax, *pool)
        routed = np.empty_like(x)
        pooling3d.maxpool3d_backward(pooled, argmax, routed)
        averaged = np.empty_like(pooled)
        pooling3d.avgpool3d_forward(x, averaged, *pool)
        shared = np.empty_like(x)
        pooling3d.avgpool3d_backward(averaged, shared, *pool)
        return out, dx, dw, db, pooled, argmax, routed, averaged, shared
    assert_same_bits_on_each_thread_count(run)


def test_convnd_rejects_mismatched_groups():
    with pytest.raises(ValueError, match='groups'):
        convnd.convnd_forward(np.zeros((1, 3, 1, 4, 4), 'float32'),
                              np.zeros((2, 2, 1, 2, 2), 'float32'), np.zeros(2, 'float32'),
                              np.zeros((1, 2, 1, 3, 3), 'float32'), (1, 1, 1), (1, 1, 1),
                              (0, 0, 0), groups=2)


def ref_pool(x, pool, strides, pads, out_size, mode):
    out = np.zeros(x.shape[:2] + tuple(out_size))
    for n, c in np.ndindex(*x.shape[:2]):
        for o in np.ndindex(*out_size):
            values = []
            for k in np.ndindex(*pool):
                pos = [o[a] * strides[a] + k[a] - pads[a] for a in range(3)]
                if all(0 <= pos[a] < x.shape[2 + a] for a in range(3)):
                    values.append(float(x[n, c][tuple(pos)]))
            out[(n, c) + o] = (max(values) if mode == 'max' else np.mean(values)) if values else 0
    return out


@pytest.mark.parametrize('pool,strides,pads', [((2, 2, 2), (2, 2, 2), (0, 0, 0)),
                                               ((3, 2, 2), (1, 2, 1), (1, 0, 1)),
                                               ((2, 3, 1), (2, 2, 1), (0, 1, 0))])
def test_pooling3d_against_loops(pool, strides, pads):
    rng = np.random.RandomState(sum(pool))
    x = rng.permutation(2 * 3 * 5 * 6 * 4).reshape(2, 3, 5, 6, 4).astype('float32') / 10
    out_size = tuple((x.shape[2 + a] + 2 * pads[a] - pool[a]) // strides[a] + 1
                     for a in range(3))
    geometry = [np.asarray(v, dtype=np.int64) for v in (pool, strides, pads)]
    dout = rng.standard_normal(x.shape[:2] + out_size).astype('float32')
    for mode in ('max', 'avg'):
        out = np.full(x.shape[:2] + out_size, np.nan, dtype='float32')
        dx = np.full(x.shape, np.nan, dtype='float32')
        if mode == 'max':
            argmax = np.empty(out.shape, dtype=np.int64)
            pooling3d.maxpool3d_forward(x, out, argmax, *geometry)
            pooling3d.maxpool3d_backward(dout, argmax, dx)
        else:
            pooling3d.avgpool3d_forward(x, out, *geometry)
            pooling3d.avgpool3d_backward(dout, dx, *geometry)
        np.testing.assert_allclose(out, ref_pool(x, pool, strides, pads, out_size, mode),
                                   rtol=1e-5, atol=1e-6)
        # The backward is the adjoint of the forward's local linear map.
        eps = 1e-3
        for index in itertools.islice(np.ndindex(*x.shape), 0, None, 11):
            bumped = x.astype(np.float64)
            bumped[index] += eps
            change = (ref_pool(bumped, pool, strides, pads, out_size, mode)
                      - ref_pool(x, pool, strides, pads, out_size, mode)) / eps
            assert abs(dx[index] - np.sum(change * dout)) < 1e-2


def test_local_against_loops():
    rng = np.random.RandomState(3)
    x = rng.standard_normal((3, 2, 1, 6, 5)).astype('float32')
    kernel, strides = (1, 3, 2), (1, 2, 1)
    out_size = (1, 2, 4)
    rows, positions, filters = 2 * 6, 8, 4
    w = rng.standard_normal((positions, rows, filters)).astype('float32')
    out = np.full((3, positions, filters), np.nan, dtype='float32')
    cols = local.local_forward(x, w, out, kernel, strides, out_size)
    expected = np.zeros(out.shape)
    for n in range(3):
        for p, (i, j, k) in enumerate(np.ndindex(*out_size)):
            window = x[n, :, i, j * 2:j * 2 + 3, k:k + 2].astype(np.float64).reshape(-1)
            expected[n, p] = window @ w[p]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)

    dout = rng.standard_normal(out.shape).astype('float32')
    dw = np.full(w.shape, np.nan, dtype='float32')
    dx = np.full(x.shape, np.nan, dtype='float32')
    local.local_backward(cols, dout, w, dw, dx, kernel, strides, out_size)
    expected_dx = np.zeros(x.shape)
    expected_dw = np.zeros(w.shape)
    for n in range(3):
        for p, (i, j, k) in enumerate(np.ndindex(*out_size)):
            window = x[n, :, i, j * 2:j * 2 + 3, k:k + 2].astype(np.float64)
            expected_dw[p] += np.outer(window.reshape(-1), dout[n, p])
            expected_dx[n, :, i, j * 2:j * 2 + 3, k:k + 2] += \
                (w[p].astype(np.float64) @ dout[n, p]).reshape(window.shape)
    np.testing.assert_allclose(dw, expected_dw, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-4, atol=1e-4)
