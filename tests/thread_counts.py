"""Running a kernel call under each thread count the machine allows, for the
tests that results do not depend on it."""
import numba


def thread_counts():
    """1 and 2 threads where Numba has two or more, else 1."""
    return sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)})


def assert_same_bits_on_each_thread_count(run, repeats=1):
    """Calls `run()` `repeats` times under each of `thread_counts()` and
    checks that every call returned the same arrays, bit for bit. `run`
    returns a sequence of arrays; Numba's thread count is restored after."""
    before = numba.get_num_threads()
    results = []
    try:
        for count in thread_counts():
            numba.set_num_threads(count)
            for _ in range(repeats):
                results.append([array.tobytes() for array in run()])
    finally:
        numba.set_num_threads(before)
    assert all(result == results[0] for result in results)
