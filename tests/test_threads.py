"""The kernels' thread pool and per-product BLAS threads (minikeras.kernels.threads)."""
import sys
import threading
import types

import numba
import numpy as np
import pytest

from minikeras.kernels import threads
from thread_counts import thread_counts


@pytest.mark.parametrize('count', [0, 1, 2, 7, 40])
def test_run_tasks_runs_every_task_once(count):
    seen = []
    lock = threading.Lock()

    def task(t):
        with lock:
            seen.append(t)

    for workers in (1, 2, 3):
        del seen[:]
        threads.run_tasks(task, count, workers)
        assert sorted(seen) == list(range(count))


def test_a_worker_late_for_its_call_takes_no_task_of_the_next_one():
    # A worker that woke after its call ended asks for tasks with that call's
    # generation; while the next call runs, it must get none of them (it would
    # run them with the ended call's function, or with None).
    pool = threads._POOL
    answers, done = [], []
    lock = threading.Lock()

    def task(t):
        with lock:
            answers.append(pool._take(pool._generation - 1))
            done.append(t)
    threads.run_tasks(task, 6, 2)
    assert sorted(done) == list(range(6))
    assert answers == [None] * 6


def test_run_tasks_reraises_the_first_error_and_stays_usable():
    def task(t):
        if t == 3:
            raise KeyError('task 3')

    with pytest.raises(KeyError, match='task 3'):
        threads.run_tasks(task, 10, 2)
    done = []
    threads.run_tasks(done.append, 5, 2)
    assert sorted(done) == list(range(5))


def test_run_tasks_from_a_task_runs_serially_in_that_thread():
    inner = []

    def task(t):
        threads.run_tasks(lambda u: inner.append((t, u)), 3, 2)

    threads.run_tasks(task, 4, 2)
    assert sorted(inner) == [(t, u) for t in range(4) for u in range(3)]


@pytest.mark.parametrize('count,work', [(1, 10), (5, 1 << 30), (100, 1 << 30), (9, 3 << 16)])
def test_run_ranges_covers_the_range_in_order_pieces(count, work):
    pieces = []
    lock = threading.Lock()

    def kernel(tag, lo, hi):
        assert tag == 'x'
        with lock:
            pieces.append((lo, hi))

    threads.run_ranges(kernel, count, work, 'x')
    pieces.sort()
    assert pieces[0][0] == 0 and pieces[-1][1] == count
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
    assert all(lo < hi for lo, hi in pieces)


@pytest.mark.parametrize('count,work', [(1, 10), (5, 1 << 30), (100, 1 << 30), (9, 3 << 16)])
def test_range_tasks_are_the_calls_of_run_ranges(count, work):
    pieces = []
    lock = threading.Lock()

    def kernel(tag, lo, hi):
        with lock:
            pieces.append((tag, lo, hi))

    threads.run_ranges(kernel, count, work, 'run')
    for task in threads.range_tasks(kernel, count, work, 'task'):
        task()
    assert sorted(p[1:] for p in pieces if p[0] == 'run') == \
        [p[1:] for p in pieces if p[0] == 'task']


@pytest.mark.parametrize('sizes', [[1], [3, 5], [401408, 512, 262144, 512, 5120, 10],
                                   [1 << 20, 0, 7]])
def test_run_range_calls_covers_every_call_once_in_ranges_set_by_the_sizes(sizes):
    def cover(workers):
        pieces = {k: [] for k in range(len(sizes))}
        lock = threading.Lock()

        def kernel(tag, lo, hi):
            with lock:
                pieces[tag].append((lo, hi))

        old = numba.get_num_threads()
        numba.set_num_threads(workers)
        try:
            threads.run_range_calls([(kernel, n, (k,)) for k, n in enumerate(sizes)])
        finally:
            numba.set_num_threads(old)
        return {k: sorted(p) for k, p in pieces.items()}

    for workers in thread_counts():
        pieces = cover(workers)
        for k, n in enumerate(sizes):
            p = pieces[k]
            if n == 0:
                assert p == []
                continue
            assert p[0][0] == 0 and p[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(p, p[1:]))
    if len(thread_counts()) > 1:
        many = cover(2)
        assert cover(2) == many  # the same ranges every time
        assert max(len(p) for p in many.values()) > 1 or sum(sizes) < (1 << 17)


@pytest.mark.parametrize('M,K,N', [(128, 784, 512), (784, 128, 512), (100, 256, 128),
                                   (300, 70, 1000), (33, 1000, 700),
                                   (1, 20000, 1000), (7, 9000, 300)])  # cut by depth
def test_matmul_matches_numpy_and_is_deterministic_across_threads(M, K, N):
    rng = np.random.default_rng(M + K + N)
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    reference = a.astype(np.float64) @ b.astype(np.float64)
    before = numba.get_num_threads()
    results = []
    try:
        for count in thread_counts():
            numba.set_num_threads(count)
            for _ in range(2):
                results.append(threads.matmul(a, b))
                out = np.full((M, N), np.nan, np.float32)
                assert threads.matmul(a, b, out=out) is out
                results.append(out)
            # transposed operands, as a dense layer's backward passes them
            got = threads.matmul(np.ascontiguousarray(a.T).T, b)
            np.testing.assert_allclose(got, reference, rtol=1e-4, atol=1e-3 * np.sqrt(K))
    finally:
        numba.set_num_threads(before)
    np.testing.assert_allclose(results[0], reference, rtol=1e-4, atol=1e-3 * np.sqrt(K))
    for other in results[1:]:
        assert other.tobytes() == results[0].tobytes()


@pytest.mark.parametrize('M,K,N,by_depth', [(1, 20000, 1000, True), (31, 3000, 1000, True),
                                            (1, 4096, 4096, True), (32, 3000, 1000, False),
                                            (1, 4096, 4097, False)])
def test_matmul_cuts_the_sums_of_a_few_rows_times_a_tall_matrix(monkeypatch, M, K, N, by_depth):
    calls = []
    unwrapped = threads._matmul_by_depth
    monkeypatch.setattr(threads, '_matmul_by_depth', lambda *a: calls.append(1) or unwrapped(*a))
    a = np.ones((M, K), np.float32)
    b = np.full((K, N), 0.5, np.float32)
    np.testing.assert_array_equal(threads.matmul(a, b), np.full((M, N), K / 2, np.float32))
    assert bool(calls) == by_depth


@pytest.mark.parametrize('M,K,N', [(2560, 128, 128), (100, 256, 128), (64, 128, 1000)])
def test_matmul_tasks_with_a_bias_add_it_as_numpy_does_after_the_product(M, K, N):
    rng = np.random.default_rng(M + N)
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    bias = rng.standard_normal(N).astype(np.float32)
    expected = threads.matmul(a, b)
    expected += bias
    wide = np.full((M, N + 5), np.nan, np.float32)  # into a view with longer rows
    out, tasks = threads.matmul_tasks(a, b, wide[:, 2:N + 2], bias=bias)
    threads.run_all(tasks)
    assert out.tobytes() == expected.tobytes()
    assert np.isnan(wide[:, :2]).all() and np.isnan(wide[:, N + 2:]).all()


def test_matmul_keeps_other_dtypes():
    a = np.arange(6.).reshape(2, 3)
    b = np.arange(12.).reshape(3, 4)
    got = threads.matmul(a, b)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, a @ b)


def test_kernel_blas_restores_the_blas_thread_count():
    threadpoolctl = pytest.importorskip('threadpoolctl')
    blas = threadpoolctl.ThreadpoolController().select(user_api='blas')
    if not blas.lib_controllers:
        pytest.skip('no controllable BLAS')
    with blas.limit(limits=2):
        if any(lib.num_threads != 2 for lib in blas.lib_controllers):
            pytest.skip('the BLAS cannot run 2 threads here')
        with threads.kernel_blas():
            assert all(lib.num_threads == 1 for lib in blas.lib_controllers)
        assert all(lib.num_threads == 2 for lib in blas.lib_controllers)


def test_pool_threads_follows_numba_set_num_threads_in_each_thread():
    before = numba.get_num_threads()
    seen_elsewhere = []

    def elsewhere():
        numba.set_num_threads(1)
        seen_elsewhere.append(threads.pool_threads())

    try:
        for count in thread_counts():
            numba.set_num_threads(count)
            assert threads.pool_threads() == count == numba.get_num_threads()
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        other = threading.Thread(target=elsewhere)
        other.start()
        other.join()
        # the count is the calling thread's, as numba.get_num_threads() is
        assert seen_elsewhere == [1]
        assert threads.pool_threads() == numba.config.NUMBA_NUM_THREADS
    finally:
        numba.set_num_threads(before)


def test_blas_libraries_are_looked_up_again_after_an_import(monkeypatch):
    threadpoolctl = pytest.importorskip('threadpoolctl')
    threads._blas_libraries()
    scans = []
    real_controller = threadpoolctl.ThreadpoolController

    def counting_controller():
        scans.append(1)
        return real_controller()

    monkeypatch.setattr(threadpoolctl, 'ThreadpoolController', counting_controller)
    threads._blas_libraries()
    assert scans == []   # nothing imported since the last look-up
    monkeypatch.setitem(sys.modules, 'minikeras_test_freshly_imported',
                        types.ModuleType('minikeras_test_freshly_imported'))
    threads._blas_libraries()
    assert scans == [1]
