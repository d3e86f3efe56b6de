"""kernels/bits.py: whether two arrays hold the same bits (float32 ones in tasks, others bytewise)."""
import numpy as np
import pytest

from minikeras.kernels import bits


@pytest.mark.parametrize('at', [0, 4095, 4096, 9998, 9999])
def test_bits_differ_finds_one_flipped_bit_in_its_range_only(at):
    a = np.random.default_rng(at).integers(0, 2 ** 32, 10000, dtype=np.uint32)
    b = a.copy()
    assert not bits._bits_differ(a, b, 0, a.size)
    b[at] ^= np.uint32(1 << 31)
    assert bits._bits_differ(a, b, 0, a.size)
    assert bits._bits_differ(a, b, at, at + 1)
    assert not bits._bits_differ(a, b, 0, at)
    assert not bits._bits_differ(a, b, at + 1, a.size)


@pytest.mark.parametrize('at', [0, 1, 150000, 299999])   # sampled or not, any task's range
def test_same_bits_tells_one_changed_value(monkeypatch, at):
    monkeypatch.setattr(bits, '_RUN', 40000)
    a = np.random.default_rng(at).standard_normal((3, 100, 1000)).astype(np.float32)
    assert bits.same_bits(a, a.copy())
    b = a.copy()
    b.reshape(-1)[at] = np.nextafter(b.reshape(-1)[at], np.float32(np.inf))
    assert not bits.same_bits(a, b)
    assert not bits.same_bits(a, a.reshape(300, 1000))


def test_same_bits_goes_by_bits_not_values():
    a = np.array([0.0, np.nan, 1.0], np.float32)
    assert bits.same_bits(a, a.copy())                       # a NaN equals itself
    assert not bits.same_bits(a, np.array([-0.0, np.nan, 1.0], np.float32))


def test_same_bits_of_other_arrays_compares_dtype_and_bytes():
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    assert bits.same_bits(a.T, a.T.copy())                   # not contiguous
    assert not bits.same_bits(a, a.astype(np.float32))       # another dtype
    b = a.copy()
    b[2, 3] = -b[2, 3]
    assert not bits.same_bits(a, b)
    assert bits.same_bits(np.float32(2.0) * np.ones(()), np.full((), 2.0))
    assert not bits.same_bits(np.zeros(()), np.full((), -0.0))
