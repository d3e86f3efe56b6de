"""glibc keeps freed memory (utils/allocator.keep_freed_memory), from the
start of `minikeras run` and from `fit`'s first batch."""
import ctypes
import os
import subprocess
import sys

import pytest

from minikeras.utils import allocator


class _FakeLibc(object):
    def __init__(self):
        self.calls = []

    def mallopt(self, parameter, value):
        self.calls.append((parameter, value))
        return 1


@pytest.fixture
def libc(monkeypatch):
    fake = _FakeLibc()
    monkeypatch.setattr(ctypes, 'CDLL', lambda name: fake)
    monkeypatch.setattr(allocator, '_done', False)  # as in a new process
    for name in ('MALLOC_TRIM_THRESHOLD_', 'MALLOC_MMAP_THRESHOLD_', 'MINIKERAS_MALLOC_TUNING'):
        monkeypatch.delenv(name, raising=False)
    return fake


def test_it_raises_glibcs_thresholds_once(libc):
    assert allocator.keep_freed_memory()
    assert allocator.keep_freed_memory()
    # M_MMAP_THRESHOLD (-3) at 64 MiB, M_TRIM_THRESHOLD (-1) at 1 GiB, once
    assert sorted(libc.calls) == [(-3, 64 << 20), (-1, 1 << 30)]


@pytest.mark.parametrize('name, value', [('MALLOC_TRIM_THRESHOLD_', '0'),
                                         ('MALLOC_MMAP_THRESHOLD_', '131072'),
                                         ('MINIKERAS_MALLOC_TUNING', '0')])
def test_a_users_malloc_setting_is_left_alone(libc, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    assert not allocator.keep_freed_memory()
    assert libc.calls == []


def test_without_glibc_nothing_happens(libc, monkeypatch):
    def no_library(name):
        raise OSError('no libc')
    monkeypatch.setattr(ctypes, 'CDLL', no_library)
    assert not allocator.keep_freed_memory()


def test_the_runner_tunes_malloc_before_the_script_runs(tmp_path):
    script = tmp_path / 'script.py'
    script.write_text('from minikeras.utils import allocator\nprint(allocator._done)\n')
    env = {k: v for k, v in os.environ.items()
           if k not in ('MALLOC_TRIM_THRESHOLD_', 'MALLOC_MMAP_THRESHOLD_', 'MINIKERAS_MALLOC_TUNING')}
    done = subprocess.run([sys.executable, '-m', 'minikeras.compat.runner', 'run', str(script)],
                          env=env, capture_output=True, text=True, check=True, cwd=str(tmp_path))
    assert done.stdout.split()[-1] == 'True'
