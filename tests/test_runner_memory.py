"""`minikeras run` has glibc keep freed memory (compat/runner._keep_freed_memory)."""
import ctypes

from minikeras.compat import runner


class _FakeLibc(object):
    def __init__(self):
        self.calls = []

    def mallopt(self, parameter, value):
        self.calls.append((parameter, value))
        return 1


def test_it_raises_glibcs_thresholds(monkeypatch):
    libc = _FakeLibc()
    monkeypatch.setattr(ctypes, 'CDLL', lambda name: libc)
    monkeypatch.delenv('MALLOC_TRIM_THRESHOLD_', raising=False)
    monkeypatch.delenv('MALLOC_MMAP_THRESHOLD_', raising=False)
    runner._keep_freed_memory()
    # M_MMAP_THRESHOLD (-3) at glibc's largest, M_TRIM_THRESHOLD (-1) at 1 GiB
    assert sorted(libc.calls) == [(-3, 32 << 20), (-1, 1 << 30)]


def test_a_users_malloc_setting_is_left_alone(monkeypatch):
    libc = _FakeLibc()
    monkeypatch.setattr(ctypes, 'CDLL', lambda name: libc)
    monkeypatch.setenv('MALLOC_TRIM_THRESHOLD_', '0')
    runner._keep_freed_memory()
    assert libc.calls == []


def test_without_glibc_nothing_happens(monkeypatch):
    def no_library(name):
        raise OSError('no libc')
    monkeypatch.setattr(ctypes, 'CDLL', no_library)
    monkeypatch.delenv('MALLOC_TRIM_THRESHOLD_', raising=False)
    monkeypatch.delenv('MALLOC_MMAP_THRESHOLD_', raising=False)
    runner._keep_freed_memory()
