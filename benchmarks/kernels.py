#!/usr/bin/env python3
"""Kernel microbenchmark: minikeras' conv and pooling kernels at the seed model's shapes.

    python3 benchmarks/kernels.py                  # Numba threads 1 and the default
    python3 benchmarks/kernels.py --threads 2 --write-results

For each kernel of `minikeras.kernels` the seed CNN calls, at batch 100:

    conv1  x (100, 1, 28, 28)  w (4, 1, 5, 5)   -> (100, 4, 24, 24)
    conv2  x (100, 4, 24, 24)  w (8, 4, 3, 3)   -> (100, 8, 22, 22)
    conv3  x (100, 8, 11, 11)  w (16, 8, 3, 3)  -> (100, 16, 9, 9)
    pool1  x (100, 8, 22, 22)  2x2 stride 2     -> (100, 8, 11, 11)
    pool2  x (100, 16, 9, 9)   2x2 stride 2     -> (100, 16, 4, 4)

(stride 1, 'valid': no padding) it reports the best time per call over
several repeats and the rate: GFLOP/s for the convolutions (nominal
2*N*F*C*KH*KW*OH*OW multiply-adds-as-two, the same count for forward, input
gradient and weight gradient, whatever the kernel really computes), and
Gelem/s (input elements) and GB/s (bytes read + written) for pooling. Next
to them: the machine's float32 matrix-product rate through NumPy's BLAS
(2048 x 2048 @ 2048 x 2048 by default) at the same thread count, as the
practical peak, and the time of the first call of each kernel (JIT
compilation or Numba cache load; measured once, in the first thread count).

It ends with the kernel time of one training step of the seed model
(forward, weight gradients, input gradients except for the first layer,
pooling both ways) and what that implies for one 42,000-sample epoch
(336 training steps + 84 validation forwards), a floor for the epoch time
that run.py measures.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

CONVS = [  # name, x shape, w shape
    ('conv1', (100, 1, 28, 28), (4, 1, 5, 5)),
    ('conv2', (100, 4, 24, 24), (8, 4, 3, 3)),
    ('conv3', (100, 8, 11, 11), (16, 8, 3, 3)),
]
POOLS = [('pool1', (100, 8, 22, 22)), ('pool2', (100, 16, 9, 9))]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n', 1)[1])
    p.add_argument('--batch', type=int, default=100, help='batch size N (default 100)')
    p.add_argument('--threads', default=None,
                   help='comma-separated Numba/BLAS thread counts (default: 1 and the '
                        'Numba default)')
    p.add_argument('--repeat', type=int, default=7,
                   help='timing repeats; the best is kept (default 7)')
    p.add_argument('--min-time', type=float, default=0.1,
                   help='seconds of calls per repeat (default 0.1)')
    p.add_argument('--matmul-size', type=int, default=2048,
                   help='square float32 matrix product size (default 2048)')
    p.add_argument('--wait-idle', type=float, default=20, metavar='SECONDS',
                   help='before each thread count, wait up to this long for other load '
                        'to drop below 0.3 cores (default 20; 0: do not wait)')
    p.add_argument('--write-results', action='store_true',
                   help='replace the kernels.py section of benchmarks/RESULTS.md')
    return p.parse_args(argv)


def best_time(fn, repeat, min_time):
    """Best seconds per call of fn() over `repeat` repeats of >= min_time each."""
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    number = max(1, int(min_time / once))
    best = float('inf')
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def make_cases(np, batch):
    """[(name, kind, fn, work, unit)] with all arrays preallocated; `work` in the unit."""
    from minikeras.kernels import conv2d, pooling
    rng = np.random.RandomState(0)

    def arr(*shape):
        return np.ascontiguousarray(rng.standard_normal(shape).astype(np.float32))

    cases = []
    for name, xs, ws in CONVS:
        xs = (batch,) + xs[1:]
        N, C, H, W = xs
        F, _, KH, KW = ws
        OH, OW = H - KH + 1, W - KW + 1
        x, w, b = arr(*xs), arr(*ws), arr(F)
        out = np.empty((N, F, OH, OW), np.float32)
        dout = arr(N, F, OH, OW)
        dx = np.empty(xs, np.float32)
        dw = np.empty(ws, np.float32)
        db = np.empty(F, np.float32)
        flops = 2.0 * N * F * C * KH * KW * OH * OW
        shape = 'x%s w%s' % (xs, ws)
        cases.append((name, 'forward', shape,
                      lambda x=x, w=w, b=b, out=out: conv2d.conv2d_forward(x, w, b, out,
                                                                           1, 1, 0, 0),
                      flops, 'GFLOP/s'))
        cases.append((name, 'backward_input', shape,
                      lambda dout=dout, w=w, dx=dx: conv2d.conv2d_backward_input(
                          dout, w, dx, 1, 1, 0, 0), flops, 'GFLOP/s'))
        cases.append((name, 'backward_weights', shape,
                      lambda x=x, dout=dout, dw=dw, db=db: conv2d.conv2d_backward_weights(
                          x, dout, dw, db, 1, 1, 0, 0), flops, 'GFLOP/s'))
    for name, xs in POOLS:
        xs = (batch,) + xs[1:]
        N, C, H, W = xs
        OH, OW = H // 2, W // 2
        x = arr(*xs)
        out = np.empty((N, C, OH, OW), np.float32)
        argmax = np.empty((N, C, OH, OW), np.int32)
        pooling.maxpool2d_forward(x, out, argmax, 2, 2, 2, 2, 0, 0)
        dout = arr(N, C, OH, OW)
        dx = np.empty(xs, np.float32)
        n_in, n_out = N * C * H * W, N * C * OH * OW
        shape = 'x%s 2x2/2' % (xs,)
        # forward: reads x, writes out and argmax; backward: reads dout and
        # argmax, writes dx.
        cases.append((name, 'maxpool_forward', shape,
                      lambda x=x, out=out, am=argmax: pooling.maxpool2d_forward(
                          x, out, am, 2, 2, 2, 2, 0, 0),
                      (n_in, 4.0 * n_in + 8.0 * n_out), 'pool'))
        cases.append((name, 'maxpool_backward', shape,
                      lambda dout=dout, am=argmax, dx=dx: pooling.maxpool2d_backward(
                          dout, am, dx), (n_in, 4.0 * n_in + 8.0 * n_out), 'pool'))
    return cases


# Calls of one training step of the seed model (conv1's input gradient is
# not needed: it is the first layer), and of one forward pass.
TRAIN_STEP = [('conv1', 'forward'), ('conv2', 'forward'), ('pool1', 'maxpool_forward'),
              ('conv3', 'forward'), ('pool2', 'maxpool_forward'),
              ('pool2', 'maxpool_backward'), ('conv3', 'backward_weights'),
              ('conv3', 'backward_input'), ('pool1', 'maxpool_backward'),
              ('conv2', 'backward_weights'), ('conv2', 'backward_input'),
              ('conv1', 'backward_weights')]
FORWARD = [c for c in TRAIN_STEP if c[1] in ('forward', 'maxpool_forward')]


def matmul_rate(np, size, repeat):
    a = np.random.RandomState(1).standard_normal((size, size)).astype(np.float32)
    b = np.random.RandomState(2).standard_normal((size, size)).astype(np.float32)
    c = np.empty((size, size), np.float32)
    t = best_time(lambda: np.matmul(a, b, out=c), max(3, repeat // 2), 0.3)
    return 2.0 * size ** 3 / t / 1e9


def main(argv=None):
    args = parse_args(argv)
    import numpy as np
    import numba
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    t0 = time.perf_counter()
    import minikeras.kernels  # noqa: F401
    import_s = time.perf_counter() - t0
    info = _common.machine_info()
    info['command'] = _common.command_line()
    default_threads = numba.config.NUMBA_NUM_THREADS
    if args.threads:
        thread_counts = [int(t) for t in args.threads.split(',')]
    else:
        thread_counts = sorted({1, default_threads})

    cases = make_cases(np, args.batch)
    first_call = {}
    for name, kind, _, fn, _, _ in cases:
        t0 = time.perf_counter()
        fn()
        first_call[(name, kind)] = time.perf_counter() - t0

    results = {}   # (name, kind, threads) -> seconds per call
    matmul = {}
    load = {}
    load_during = {}
    for threads in thread_counts:
        numba.set_num_threads(min(threads, default_threads))
        limiter = (threadpool_limits(limits=threads, user_api='blas')
                   if threadpool_limits else None)
        load[threads] = (_common.wait_idle(args.wait_idle) if args.wait_idle > 0
                         else _common.other_load(1.0))
        j0, o0, t0 = _common.cpu_jiffies(), _common.own_cpu(), time.perf_counter()
        matmul[threads] = matmul_rate(np, args.matmul_size, args.repeat)
        for name, kind, _, fn, _, _ in cases:
            results[(name, kind, threads)] = best_time(fn, args.repeat, args.min_time)
        j1, o1, t1 = _common.cpu_jiffies(), _common.own_cpu(), time.perf_counter()
        if j0 and j1:
            other = (j1[0] - j0[0]) - (o1[0] - o0[0]) - (o1[1] - o0[1])
            load_during[threads] = max(0.0, other) / (t1 - t0)
        if limiter is not None:
            limiter.restore_original_limits()
        print('kernels.py: %d thread(s) done' % threads, file=sys.stderr, flush=True)

    text = report(info, args, cases, results, matmul, first_call, import_s, thread_counts,
                  load, load_during)
    print(text)
    if args.write_results:
        path = _common.write_section('kernels.py', text)
        print('kernels.py: wrote %s' % path, file=sys.stderr)


def report(info, args, cases, results, matmul, first_call, import_s, thread_counts, load,
           load_during):
    lines = ['## Kernel microbenchmark (kernels.py)', '']
    lines.extend(_common.describe_machine(info))
    lines.append('- command: `%s`' % info['command'])
    lines.append('- batch %d; best of %d repeats of >= %.2f s of calls each; threads = Numba '
                 'threads and BLAS threads (threadpoolctl) together'
                 % (args.batch, args.repeat, args.min_time))
    lines.append('- other load on the machine, before / during each thread count\'s timings '
                 '(cores; 2-thread timings are not meaningful when it is well above 0): %s'
                 % ', '.join('%d thread(s): %s / %s' % (t, _common.fmt(load[t]),
                                                         _common.fmt(load_during.get(t)))
                             for t in thread_counts))
    lines.append('')
    header = ['layer', 'kernel', 'shapes']
    for t in thread_counts:
        header += ['%dT ms' % t, '%dT rate' % t, '%dT %% of matmul' % t]
    header.append('first call s')
    rows = []
    for name, kind, shape, _, work, unit in cases:
        row = [name, kind, shape]
        for t in thread_counts:
            sec = results[(name, kind, t)]
            if unit == 'GFLOP/s':
                rate = work / sec / 1e9
                row += [sec * 1e3, '%.1f GFLOP/s' % rate, '%.0f%%' % (100 * rate / matmul[t])]
            else:
                elems, nbytes = work
                row += [sec * 1e3, '%.2f Gelem/s, %.1f GB/s' % (elems / sec / 1e9,
                                                              nbytes / sec / 1e9), None]
        row.append('%.3f' % first_call[(name, kind)])
        rows.append(row)
    rows.append(['matmul', 'NumPy float32', '%d^3' % args.matmul_size]
                + sum([[None, '%.1f GFLOP/s' % matmul[t], '100%'] for t in thread_counts], [])
                + [None])
    lines.append(_common.md_table(header, rows, 'lll' + 'r' * (len(header) - 3)))
    lines.append('')
    lines.append('Convolution rates are nominal (2*N*F*C*KH*KW*OH*OW FLOP per call for each of '
                 'the three kernels). Pooling: input elements per second, and bytes read + '
                 'written (x, out, int32 argmax; dout, argmax, dx). First call: JIT compile or '
                 'Numba cache load, at %d thread(s); `import minikeras.kernels` took %.2f s.'
                 % (thread_counts[0], import_s))
    lines.append('')
    by_key = {(n, k): i for i, (n, k, *_rest) in enumerate(cases)}
    step_rows = []
    for t in thread_counts:
        step = sum(results[(n, k, t)] for n, k in TRAIN_STEP)
        fwd = sum(results[(n, k, t)] for n, k in FORWARD)
        flops = sum(cases[by_key[(n, k)]][4] for n, k in TRAIN_STEP
                    if cases[by_key[(n, k)]][5] == 'GFLOP/s')
        epoch = 336 * step + 84 * fwd
        step_rows.append([t, step * 1e3, fwd * 1e3, flops / step / 1e9, epoch, 420 * fwd])
    lines.append('Kernel time of the seed model (batch %d; conv FLOP over all kernel time):'
                 % args.batch)
    lines.append('')
    lines.append(_common.md_table(['threads', 'training step ms', 'forward ms',
                                   'step GFLOP/s', 'epoch floor s (336 steps + 84 forwards)',
                                   'predict 42,000 b100 floor s (420 forwards)'], step_rows))
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    main()
