"""register_tile: the lane-count rule and the tile operations against NumPy."""
import numba
import numpy as np
import pytest

from minikeras.kernels.register_tile import (TILE_LANES, VECTOR_LANES, tile_fma, tile_lanes,
                                             tile_load, tile_splat, tile_store, vector_fma,
                                             vector_even, vector_load, vector_odd,
                                             vector_registers, vector_store, vector_sum,
                                             vector_zero, vector_zip_high, vector_zip_low)


@pytest.mark.parametrize('features,lanes', [
    ({'+avx512f', '+avx2', '+avx', '-prefer-256-bit'}, 64),  # AVX-512 at 512 bits: 4 x 16
    ({'+avx512f', '+avx2', '+avx'}, 32),                     # AVX-512 kept at 256 bits: 4 x 8
    ({'+avx2', '+avx', '+fma', '-avx512f'}, 16),            # AMD Zen 3: 2 x 8
    ({'+sse4.2', '-avx'}, 8),                                # SSE only: 2 x 4
])
def test_tile_lanes_rule(features, lanes):
    assert tile_lanes(features) == lanes


@numba.njit(fastmath={'contract'})
def _tile_ops(a, offsets, weights, bias, out, at):
    t = tile_splat(bias)
    for k in range(offsets.shape[0]):
        t = tile_fma(t, tile_load(a, offsets[k]), weights[k])
    tile_store(out, at, t)


def test_tile_ops_against_float64():
    rng = np.random.RandomState(0)
    a = rng.standard_normal(3 * TILE_LANES + 5).astype(np.float32)
    offsets = np.array([0, 1, 7, 2 * TILE_LANES + 5])
    weights = rng.standard_normal(4).astype(np.float32)
    out = np.full(TILE_LANES + 6, np.nan, np.float32)
    _tile_ops(a, offsets, weights, np.float32(0.5), out, 3)
    want = np.full(TILE_LANES, 0.5)
    for o, wk in zip(offsets, weights):
        want += float(wk) * a[o:o + TILE_LANES].astype(np.float64)
    np.testing.assert_allclose(out[3:3 + TILE_LANES], want, rtol=1e-5, atol=1e-5)
    # Only the tile's own lanes are written.
    assert np.isnan(out[:3]).all() and np.isnan(out[3 + TILE_LANES:]).all()


@pytest.mark.parametrize('features,registers,lanes', [
    ({'+avx512f', '+avx2', '+avx', '-prefer-256-bit'}, 32, 16),
    ({'+avx512f', '+avx2', '+avx'}, 32, 8),
    ({'+avx2', '+avx', '+fma', '-avx512f'}, 16, 8),
    ({'+sse4.2', '-avx'}, 16, 4),
])
def test_vector_registers_rule(features, registers, lanes):
    assert vector_registers(features) == (registers, lanes)


@numba.njit(fastmath={'contract'})
def _vector_ops(u, v, offsets):
    acc = vector_zero()
    for k in range(offsets.shape[0]):
        acc = vector_fma(acc, vector_load(u, offsets[k]), vector_load(v, k))
    return vector_sum(acc)


@numba.njit
def _vector_lanes_sum(a):
    return vector_sum(vector_load(a, 0))


def test_vector_ops_against_float64():
    rng = np.random.RandomState(1)
    u = rng.standard_normal(3 * VECTOR_LANES + 5).astype(np.float32)
    v = rng.standard_normal(4 * VECTOR_LANES).astype(np.float32)
    offsets = np.array([0, 3, 1, 2 * VECTOR_LANES + 5])
    want = sum(u[o:o + VECTOR_LANES].astype(np.float64) @ v[k:k + VECTOR_LANES].astype(np.float64)
               for k, o in enumerate(offsets))
    np.testing.assert_allclose(_vector_ops(u, v, offsets), want, rtol=1e-5, atol=1e-5)


def test_vector_sum_adds_by_halves():
    """Lanes i and i + n/2 first, down to one: with values where float32
    rounding depends on the order, the result is that order's, exactly."""
    rng = np.random.RandomState(2)
    a = (rng.standard_normal(VECTOR_LANES) * 10.0 ** rng.randint(-4, 5, VECTOR_LANES)).astype(
        np.float32)
    want = a.copy()
    n = VECTOR_LANES
    while n > 1:
        n //= 2
        want = (want[:n] + want[n:2 * n]).astype(np.float32)
    assert _vector_lanes_sum(a) == want[0]


@numba.njit
def _every_other(a, even, odd):
    u, v = vector_load(a, 0), vector_load(a, VECTOR_LANES)
    vector_store(even, 0, vector_even(u, v))
    vector_store(odd, 0, vector_odd(u, v))


def test_even_and_odd_lanes():
    a = np.arange(2 * VECTOR_LANES, dtype=np.float32) * 3 + 1
    even, odd = np.empty(VECTOR_LANES, np.float32), np.empty(VECTOR_LANES, np.float32)
    _every_other(a, even, odd)
    np.testing.assert_array_equal(even, a[0::2])
    np.testing.assert_array_equal(odd, a[1::2])


@numba.njit
def _zipped(u, v, out):
    a, b = vector_load(u, 0), vector_load(v, 0)
    vector_store(out, 0, vector_zip_low(a, b))
    vector_store(out, VECTOR_LANES, vector_zip_high(a, b))


def test_zipped_lanes_interleave_two_vectors():
    u = np.arange(VECTOR_LANES, dtype=np.float32) + 1
    v = -np.arange(VECTOR_LANES, dtype=np.float32) * 10 - 5
    out = np.empty(2 * VECTOR_LANES, np.float32)
    _zipped(u, v, out)
    want = np.empty(2 * VECTOR_LANES, np.float32)
    want[0::2], want[1::2] = u, v
    np.testing.assert_array_equal(out, want)
