"""Threads for the kernels, and BLAS threads decided per operation.

Two pieces, both plain Python:

- `run_tasks(function, count)` calls `function(task)` for task = 0 .. count-1
  on a small pool of Python threads (the caller included). Tasks are handed
  out one at a time from a shared counter, so a thread that the scheduler
  takes away (another process busy on a core) leaves its share to the others
  instead of stalling the call for a whole time slice, as a static split
  does. Idle threads sleep (no spinning that would compete with BLAS or with
  other processes). The work of each task must not depend on which thread
  runs it: results then do not depend on the thread count. The task
  functions are Numba kernels compiled with `nogil=True` and NumPy matrix
  products, which release the GIL.
- `blas_threads(n)` sets the number of threads of NumPy's OpenBLAS for the
  operations that follow (cheap: a direct call into the library).
- `matmul(a, b, out)` decides per product: one thread for small products
  (waking threads costs more than they save), every kernel thread for large
  ones (the 512-wide dense layers of a multilayer perceptron), as blocks on
  the same pool as the kernels, each with single-threaded BLAS: OpenBLAS's
  own threads split a product statically and spin for a long while after
  it, which stalls under load and competes with the kernels.

The pool has `numba.get_num_threads()` threads (NUMBA_NUM_THREADS, or
`numba.set_num_threads`), so one setting controls every kernel.
"""
import functools
import os
import sys
import threading

import numpy as np

__all__ = ['run_tasks', 'run_ranges', 'range_tasks', 'run_range_calls', 'even_ranges',
           'pool_threads', 'blas_threads', 'kernel_blas', 'matmul', 'matmul_tasks', 'is_split',
           'run_all', 'BLAS_PARALLEL_FLOP']

# A matrix product of at least this many FLOP (2*M*N*K) runs on every
# kernel thread; smaller ones run on one. Measured on 2 cores: 784x128 @
# 128x512 (103 MFLOP) and 128x4608 @ 4608x128 (151 MFLOP) gain 1.9x from a
# second thread, 200x100 @ 100x1024 (41 MFLOP) 1.3x; 100x256 @ 256x128
# (6.6 MFLOP) loses.
BLAS_PARALLEL_FLOP = 1 << 24


_read_numba_threads = None   # the fastest reader of Numba's thread count, once found


def _numba_thread_reader():
    """A function returning Numba's thread count for the calling thread.
    `numba.get_num_threads()` takes its threading layer's locks on every call
    (about 5 microseconds, and the kernels and dense layers ask ten times a
    batch); once the layer is up, its plain C getter (which it calls itself)
    answers the same in a tenth of a microsecond. Numba versions without that
    getter keep the public function."""
    import numba
    numba.get_num_threads()  # starts the threading layer
    try:
        from numba.np.ufunc import parallel
        getter = parallel._get_num_threads
        if int(getter()) == numba.get_num_threads():
            return getter
    except Exception:  # another Numba's internals: the public function
        pass
    return numba.get_num_threads


def pool_threads():
    """How many threads run kernel tasks: Numba's thread count."""
    global _read_numba_threads
    try:
        if _read_numba_threads is None:
            _read_numba_threads = _numba_thread_reader()
        return max(1, int(_read_numba_threads()))
    except Exception:  # Numba's threading layer unavailable: run serially
        return 1


class _Pool(object):
    """Worker threads that run the tasks of one call at a time."""

    def __init__(self):
        self._lock = threading.Lock()       # one call at a time
        self._cond = threading.Condition()  # wakes the workers, reports completion
        self._workers = []
        self._generation = 0
        self._function = None
        self._count = 0
        self._next = 0
        self._busy = 0
        self._wanted = 0
        self._error = None
        self._pid = os.getpid()

    def _ensure_workers(self, n):
        if self._pid != os.getpid():  # forked: the threads did not come along
            self.__init__()
        while len(self._workers) < n:
            thread = threading.Thread(target=self._work, args=(len(self._workers),),
                                      name='minikeras-kernel-%d' % len(self._workers),
                                      daemon=True)
            self._workers.append(thread)
            thread.start()

    def _take(self, generation):
        """The next task of call `generation`, or None when that call has no
        task left (or is over: a late worker must not take the next call's)."""
        with self._cond:
            task = self._next
            if generation != self._generation or task >= self._count:
                return None
            self._next = task + 1
            return task

    def _drain(self, function, generation):
        while True:
            task = self._take(generation)
            if task is None:
                return
            try:
                function(task)
            except BaseException as error:  # reported to the caller
                with self._cond:
                    if self._error is None:
                        self._error = error
                    self._next = self._count

    def _work(self, index):
        _single_blas_thread_here()
        seen = 0
        while True:
            with self._cond:
                while self._generation == seen or index >= self._wanted:
                    if self._generation != seen:
                        seen = self._generation  # a call that does not need this worker
                    self._cond.wait()
                seen = self._generation
                function = self._function
                self._busy += 1
            if function is not None:  # None: the call ended before this worker woke
                self._drain(function, seen)
            with self._cond:
                self._busy -= 1
                if self._busy == 0:
                    self._cond.notify_all()

    def run(self, function, count, threads):
        helpers = min(threads, count) - 1
        if helpers <= 0 or not self._lock.acquire(blocking=False):
            for task in range(count):
                function(task)
            return
        try:
            self._ensure_workers(helpers)
            with self._cond:
                self._function = function
                self._count = count
                self._next = 0
                self._error = None
                self._wanted = helpers
                self._generation += 1
                generation = self._generation
                self._cond.notify_all()
            self._drain(function, generation)
            with self._cond:
                while self._busy or self._next < self._count:
                    self._cond.wait()
                self._function = None
                error, self._error = self._error, None
            if error is not None:
                raise error
        finally:
            self._lock.release()


_POOL = _Pool()


def run_tasks(function, count, threads=None):
    """Calls function(task) for every task in range(count), on up to `threads`
    threads (default: `pool_threads()`), the calling one included; returns
    when all are done, raising the first error a task raised. Calls from
    other threads while the pool is busy run serially in their own thread.

    # Arguments
        function: callable taking a task index.
        count: int, number of tasks.
        threads: int or None.
    """
    if count <= 0:
        return
    _POOL.run(function, count, pool_threads() if threads is None else threads)


# run_ranges cuts a call into at most this many tasks per thread, of at least
# _MIN_TASK_WORK units of work each (multiply-adds, or elements): enough
# tasks for a thread to take over the share of one the scheduler took away,
# few enough that handing them out (a few microseconds each) stays small.
_TASKS_PER_THREAD = 4
_MIN_TASK_WORK = MIN_TASK_WORK = 1 << 16


def run_ranges(kernel, count, work, *args):
    """Calls kernel(*args, lo, hi) on consecutive ranges [lo, hi) covering
    [0, count), spread over the kernel threads. `work` (the call's total work,
    in any unit of which _MIN_TASK_WORK is worth ten microseconds or so) sets
    how finely to cut. The kernel must give the same result for an item
    whatever range it comes in.

    # Arguments
        kernel: a Numba function compiled with nogil=True whose last two
            arguments are the range.
        count: int, number of items (samples, groups of samples).
        work: number, the total work of the call.
        *args: the kernel's other arguments.
    """
    bounds = _range_bounds(count, work)
    if len(bounds) == 2:
        kernel(*(args + (0, count)))
        return

    def task(t):
        kernel(*(args + (bounds[t], bounds[t + 1])))

    run_tasks(task, len(bounds) - 1)


def range_tasks(kernel, count, work, *args):
    """The calls `run_ranges(kernel, count, work, *args)` makes, as callables
    without arguments for `run_all`, so that they share one call of the
    threads with other tasks."""
    bounds = _range_bounds(count, work)
    return [functools.partial(kernel, *(args + (lo, hi)))
            for lo, hi in zip(bounds[:-1], bounds[1:])]


def even_ranges(count, parts):
    """[(start, end)]: 0..count cut into at most `parts` near-equal ranges
    (at least one), from the arguments only.

    # Arguments
        count: the number of items.
        parts: the most ranges wanted.
    """
    parts = max(1, min(parts, count))
    return [(count * k // parts, count * (k + 1) // parts) for k in range(parts)]


def _range_bounds(count, work):
    """run_ranges' ranges: [0, count] alone for one thread or one piece."""
    workers = pool_threads()
    pieces = int(min(count, workers * _TASKS_PER_THREAD, max(1, work // _MIN_TASK_WORK)))
    if workers == 1 or pieces <= 1:
        return [0, count]
    return [count * k // pieces for k in range(pieces + 1)]


def run_range_calls(calls):
    """Runs several `run_ranges` calls as one pool call: kernel(*args, lo, hi)
    over ranges covering [0, count) of each (kernel, count, args) in `calls`,
    where an item's work is one unit. One wake-up of the threads for all of
    them (the update of every weight of a model, say) instead of one each;
    the ranges of a call depend on the sizes in `calls` only.

    # Arguments
        calls: list of (kernel, count, args) tuples, as for `run_ranges`.
    """
    calls = [call for call in calls if call[1] > 0]  # nothing to do for empty ones
    total = sum(count for _, count, _ in calls)
    workers = pool_threads()
    pieces = int(min(workers * _TASKS_PER_THREAD, max(1, total // _MIN_TASK_WORK)))
    if workers == 1 or pieces <= 1:
        for kernel, count, args in calls:
            kernel(*(args + (0, count)))
        return
    # one range at most this long; a call shorter than it stays whole
    longest = -(-total // pieces)
    tasks = []
    for kernel, count, args in calls:
        cut = -(-count // longest)
        for k in range(cut):
            tasks.append((kernel, args, count * k // cut, count * (k + 1) // cut))

    def task(t):
        kernel, args, lo, hi = tasks[t]
        kernel(*(args + (lo, hi)))

    run_tasks(task, len(tasks), workers)


# ---------------------------------------------------------------------------
# BLAS threads
# ---------------------------------------------------------------------------

_BLAS = None   # threadpoolctl's controllers of the BLAS libraries loaded, once found
_BLAS_MODULES = 0   # len(sys.modules) when they were found
_LOCAL_SETTERS = []


def _blas_libraries():
    """The BLAS libraries in the process. Looked up again after an import,
    since a module imported later (SciPy's own OpenBLAS) may bring one."""
    global _BLAS, _BLAS_MODULES
    if _BLAS is None or len(sys.modules) != _BLAS_MODULES:
        try:
            from threadpoolctl import ThreadpoolController
            controllers = ThreadpoolController().select(user_api='blas').lib_controllers
        except Exception:  # threadpoolctl missing or unable to inspect: leave BLAS alone
            controllers = []
        setters = []
        for controller in controllers:
            local = getattr(getattr(controller, 'dynlib', None),
                            'openblas_set_num_threads_local', None)
            if local is not None:
                setters.append(local)
        _LOCAL_SETTERS[:] = setters
        _BLAS = list(controllers)
        _BLAS_MODULES = len(sys.modules)
    return _BLAS


def _single_blas_thread_here():
    """In a kernel worker thread: its BLAS calls run on that thread only
    (OpenBLAS >= 0.3.27 keeps a per-thread count; elsewhere the caller of
    run_tasks has set the process-wide count to 1)."""
    _blas_libraries()
    for setter in _LOCAL_SETTERS:
        try:
            setter(1)
        except Exception:
            pass


def blas_threads(n):
    """Sets NumPy's BLAS to `n` threads (a no-op when the BLAS cannot be
    controlled). Cheap (a direct call into the library, about a microsecond),
    and done before every product instead of being remembered, so that a
    count changed by other means (threadpoolctl) never goes unnoticed.

    The kernels and the dense layers set the count they want before each
    matrix product, so nothing restores it: whoever multiplies next sets
    their own.
    """
    for lib in _blas_libraries():
        lib.set_num_threads(n)


class kernel_blas(object):
    """Context for one batch of a model: BLAS on one thread inside it, and the
    count it had restored at the end. Products large enough to gain from
    more threads split themselves over the kernel threads (`matmul`), each
    block on one BLAS thread: OpenBLAS's own threads would split them
    statically (stalling under load) and keep spinning after each product,
    competing with the kernels for the cores."""

    def __enter__(self):
        self._previous = max([lib.num_threads for lib in _blas_libraries()] or [0])
        blas_threads(1)
        return self

    def __exit__(self, *exc):
        if self._previous:
            blas_threads(self._previous)
        return False


def matmul(a, b, out=None):
    """a @ b for 2D arrays. Float32 products of at least BLAS_PARALLEL_FLOP are
    cut into blocks of rows (or of columns, whichever side is longer) that
    the kernel threads take one at a time, each with single-threaded BLAS;
    smaller products run on the calling thread. The blocks depend on the
    shapes only, and each element of the result is computed by one BLAS call
    whatever the thread count, so results do not depend on it. With fewer
    than _SPLIT_ALIGN rows of `a` and a `b` at least as tall as wide, the
    sums are cut instead (_matmul_by_depth), in runs that depend on the
    shapes only.

    # Arguments
        a: array (M, K).
        b: array (K, N).
        out: optional C-contiguous array (M, N) to write into.
    """
    if not is_split(a, b):
        blas_threads(1)
        return np.matmul(a, b, out=out)
    if a.shape[0] < _SPLIT_ALIGN and b.shape[0] >= b.shape[1]:
        return _matmul_by_depth(a, b, out)
    out, tasks = matmul_tasks(a, b, out)
    run_all(tasks)
    return out


def _matmul_by_depth(a, b, out):
    """matmul for a few rows of `a` times a tall or square `b` (a dense
    layer's forward pass on one sample): the sums cut into _SPLIT_BLOCKS
    runs of b's rows, one task each, then added in order. Cut by columns,
    every task would read a short piece of each of b's rows (4 KB of VGG16's
    fc1), and memory streams them slower: fc1 25 -> 31 GB/s, fc2 (4096 x
    4096) 40 -> 44 GB/s on a 2-core Xeon."""
    M, K = a.shape
    N = b.shape[1]
    step = max(_SPLIT_ALIGN, -(-K // _SPLIT_BLOCKS) // _SPLIT_ALIGN * _SPLIT_ALIGN)
    bounds = list(range(0, K, step))
    partial = np.empty((len(bounds), M, N), np.float32)

    def part(k):
        lo = bounds[k]
        np.matmul(a[:, lo:lo + step], b[lo:lo + step], out=partial[k])
    blas_threads(1)
    run_tasks(part, len(bounds))
    if out is None:
        out = np.empty((M, N), np.float32)
    np.copyto(out, partial[0])
    for k in range(1, len(bounds)):
        out += partial[k]
    return out


def is_split(a, b):
    """Whether `matmul(a, b)` cuts the product over the kernel threads
    (float32 operands, at least BLAS_PARALLEL_FLOP), so that a caller with
    several such products can run their `matmul_tasks` in one `run_all`."""
    return (2.0 * a.shape[0] * a.shape[1] * b.shape[1] >= BLAS_PARALLEL_FLOP
            and a.dtype == np.float32 and b.dtype == np.float32)


def matmul_tasks(a, b, out=None, bias=None):
    """(out, tasks): a @ b as `matmul` computes it, each of its blocks a
    callable without arguments (one for a product too small to cut), for
    `run_all`, so that several products share one call of the threads.
    `out` is filled once every task has run.

    # Arguments
        a: float32 array (M, K).
        b: float32 array (K, N).
        out: optional C-contiguous float32 array (M, N) to write into.
        bias: optional float32 array (N,), added to each block by the task
            that computed it (the sums of `out += bias` after the product,
            without a serial pass over `out`).
    """
    M, K = a.shape
    N = b.shape[1]
    if out is None:
        out = np.empty((M, N), np.float32)

    def product(a_part, b_part, out_part, bias_part):
        np.matmul(a_part, b_part, out=out_part)
        if bias_part is not None:
            out_part += bias_part

    if 2.0 * M * K * N < BLAS_PARALLEL_FLOP:
        return out, [lambda: product(a, b, out, bias)]
    by_rows = M >= N
    length = M if by_rows else N
    step = max(_SPLIT_ALIGN, -(-length // _SPLIT_BLOCKS) // _SPLIT_ALIGN * _SPLIT_ALIGN)

    def block(lo):
        hi = min(length, lo + step)
        if by_rows:
            return lambda: product(a[lo:hi], b, out[lo:hi], bias)
        return lambda: product(a, b[:, lo:hi], out[:, lo:hi],
                               None if bias is None else bias[lo:hi])

    return out, [block(lo) for lo in range(0, length, step)]


def run_all(tasks):
    """Runs callables without arguments (`matmul_tasks`' and the like) in one
    call of the kernel threads, each with single-threaded BLAS."""
    blas_threads(1)
    run_tasks(lambda t: tasks[t](), len(tasks))


# matmul's blocks: about this many per product, a multiple of this many rows
# or columns each.
_SPLIT_BLOCKS = 4
_SPLIT_ALIGN = 32
