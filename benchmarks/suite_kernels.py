#!/usr/bin/env python3
"""Convolution kernels at every shape of the model suite, as a percentage of NumPy's sgemm.

    python3 benchmarks/suite_kernels.py                  # 1 thread and the default
    python3 benchmarks/suite_kernels.py --write-results

For each convolution of the models in suite_models.py (below, with the
batch each model runs it at; mnist_acgan's at batch 20 instead of 100/200,
to keep the run short; VGG16's at batch 1, as its input-gradient step), the best time per call of the forward, input
gradient and weight gradient kernels, their nominal rate (2*N*F*C*KH*KW*OH*OW
FLOP per call), and that rate as a percentage of NumPy's float32 matrix
product on the same shapes: (F, C*KH*KW) @ (C*KH*KW, N*OH*OW) (the columns
capped at 16,384), with BLAS on the same number of threads. Which path ran
(direct loops, im2col + sgemm, `conv2d_gemm.use_gemm`, of which stride-1
layers with wide windows and many channels as one sgemm per tap over the
padded planes ('shifted sgemm'), strided layers with many channels as one
sgemm per tap over the input's phase planes ('phase planes', forward and
weight gradient), or for the forward
pass and input gradient Winograd F(2x2, 3x3), `conv2d_winograd.use_winograd`,
the input gradient on 48x48+ planes F(4x4, 3x3); the weight gradient of a
'winograd' row runs as im2col + sgemm; of the direct loops' layers, 3x3
stride-1 ones of 64 channels on small planes run their forward pass and
input gradient (or the input gradient only) on Winograd's samples path,
'winograd samples', `conv2d_winograd.use_winograd_samples`) is listed too.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

# model, layer, batch, (C, H, W), F, K, stride, border mode
CONVS = [
    ('seed', 'conv1', 100, (1, 28, 28), 4, 5, 1, 'valid'),
    ('seed', 'conv2', 100, (4, 24, 24), 8, 3, 1, 'valid'),
    ('seed', 'conv3', 100, (8, 11, 11), 16, 3, 1, 'valid'),
    ('mnist_cnn', 'conv1', 128, (1, 28, 28), 32, 3, 1, 'valid'),
    ('mnist_cnn', 'conv2', 128, (32, 26, 26), 32, 3, 1, 'valid'),
    ('cifar10_cnn', 'conv1', 32, (3, 32, 32), 32, 3, 1, 'same'),
    ('cifar10_cnn', 'conv2', 32, (32, 32, 32), 32, 3, 1, 'valid'),
    ('cifar10_cnn', 'conv3', 32, (32, 15, 15), 64, 3, 1, 'same'),
    ('cifar10_cnn', 'conv4', 32, (64, 15, 15), 64, 3, 1, 'valid'),
    ('mnist_acgan', 'D conv1', 20, (1, 28, 28), 32, 3, 2, 'same'),
    ('mnist_acgan', 'D conv2', 20, (32, 14, 14), 64, 3, 1, 'same'),
    ('mnist_acgan', 'D conv3', 20, (64, 14, 14), 128, 3, 2, 'same'),
    ('mnist_acgan', 'D conv4', 20, (128, 7, 7), 256, 3, 1, 'same'),
    ('mnist_acgan', 'G conv1', 20, (128, 14, 14), 256, 5, 1, 'same'),
    ('mnist_acgan', 'G conv2', 20, (256, 28, 28), 128, 5, 1, 'same'),
    ('mnist_acgan', 'G conv3', 20, (128, 28, 28), 1, 2, 1, 'same'),
    # vgg16_input_gradient: every distinct convolution of VGG16 on one 224x224
    # image (conv3_3, conv4_3 and conv5_2/5_3 repeat conv3_2, conv4_2, conv5_1)
    ('vgg16', 'conv1_1', 1, (3, 224, 224), 64, 3, 1, 'same'),
    ('vgg16', 'conv1_2', 1, (64, 224, 224), 64, 3, 1, 'same'),
    ('vgg16', 'conv2_1', 1, (64, 112, 112), 128, 3, 1, 'same'),
    ('vgg16', 'conv2_2', 1, (128, 112, 112), 128, 3, 1, 'same'),
    ('vgg16', 'conv3_1', 1, (128, 56, 56), 256, 3, 1, 'same'),
    ('vgg16', 'conv3_2', 1, (256, 56, 56), 256, 3, 1, 'same'),
    ('vgg16', 'conv4_1', 1, (256, 28, 28), 512, 3, 1, 'same'),
    ('vgg16', 'conv4_2', 1, (512, 28, 28), 512, 3, 1, 'same'),
    ('vgg16', 'conv5_1', 1, (512, 14, 14), 512, 3, 1, 'same'),
]
KINDS = ('forward', 'backward_input', 'backward_weights')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n', 1)[1])
    p.add_argument('--threads', default=None,
                   help='comma-separated thread counts (default: 1 and the Numba default)')
    p.add_argument('--models', default=None,
                   help='comma-separated models of the table to run (default: all)')
    p.add_argument('--repeat', type=int, default=3, help='timing repeats (default 3)')
    p.add_argument('--min-time', type=float, default=0.05)
    p.add_argument('--wait-idle', type=float, default=10, metavar='SECONDS')
    p.add_argument('--write-results', action='store_true',
                   help='replace the suite_kernels.py section of benchmarks/RESULTS.md')
    return p.parse_args(argv)


def best_time(fn, repeat, min_time):
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


def main(argv=None):
    args = parse_args(argv)
    import numpy as np
    import numba
    from minikeras.kernels import conv2d, conv2d_gemm, conv2d_winograd, threads as kthreads
    info = _common.machine_info()
    info['command'] = _common.command_line()
    default = numba.config.NUMBA_NUM_THREADS
    counts = ([int(t) for t in args.threads.split(',')] if args.threads
              else sorted({1, default}))
    rng = np.random.RandomState(0)
    cases = []
    wanted = set(args.models.split(',')) if args.models else None
    for model, layer, N, (C, H, W), F, K, s, mode in CONVS:
        if wanted is not None and model not in wanted:
            continue
        pt, OH = conv2d.conv_padding(H, K, mode, s)
        pl, OW = conv2d.conv_padding(W, K, mode, s)
        x = rng.standard_normal((N, C, H, W)).astype(np.float32)
        w = rng.standard_normal((F, C, K, K)).astype(np.float32)
        b = np.zeros(F, np.float32)
        out = np.empty((N, F, OH, OW), np.float32)
        dout = rng.standard_normal((N, F, OH, OW)).astype(np.float32)
        dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty_like(b)
        calls = {
            'forward': lambda x=x, w=w, b=b, out=out, s=s, pt=pt, pl=pl:
                conv2d.conv2d_forward(x, w, b, out, s, s, pt, pl),
            'backward_input': lambda dout=dout, w=w, dx=dx, s=s, pt=pt, pl=pl:
                conv2d.conv2d_backward_input(dout, w, dx, s, s, pt, pl),
            'backward_weights': lambda x=x, dout=dout, dw=dw, db=db, s=s, pt=pt, pl=pl:
                conv2d.conv2d_backward_weights(x, dout, dw, db, s, s, pt, pl)}
        cols = min(N * OH * OW, 16384)
        a = rng.standard_normal((F, C * K * K)).astype(np.float32)
        bm = rng.standard_normal((C * K * K, cols)).astype(np.float32)
        gemm = (lambda a=a, bm=bm: np.matmul(a, bm), 2.0 * F * C * K * K * cols)
        path = 'im2col+sgemm' if conv2d_gemm.use_gemm(C, F, K, K, s > 1, N) else 'direct'
        if path != 'direct' and conv2d_gemm._shifted_applies(x.shape, w.shape, out.shape,
                                                              s, s, pt, pl):
            path = 'shifted sgemm'  # forward and weight gradient (conv2d_gemm's notes)
        if path != 'direct' and conv2d_gemm._phased_plan(x.shape, w.shape, out.shape,
                                                          s, s, pt, pl) is not None:
            path = 'phase planes'  # forward and weight gradient; the input gradient by im2col
        if path != 'direct' and conv2d_winograd.use_winograd(C, F, K, K, s > 1, OH, OW, N):
            path = 'winograd'  # forward; the input gradient by the same rule on (F, C, H, W)
            if not conv2d_winograd.use_winograd(F, C, K, K, s > 1, H, W, N):
                path = 'winograd (forward only)'
        if path == 'direct':
            samples = (conv2d_winograd.use_winograd_samples(C, F, K, K, s > 1, N, OH, OW, False),
                       conv2d_winograd.use_winograd_samples(F, C, K, K, s > 1, N, H, W, True))
            path = {(True, True): 'winograd samples', (False, True):
                    'winograd samples (input gradient)'}.get(samples, path)
        cases.append(dict(model=model, layer=layer, shape='x(%d, %d, %d, %d) w(%d, %d, %d, %d)%s%s'
                          % (N, C, H, W, F, C, K, K, ' s%d' % s if s > 1 else '',
                             ' ' + mode if mode != 'valid' else ''),
                          flop=2.0 * N * F * C * K * K * OH * OW, calls=calls, gemm=gemm,
                          path=path))
    times, gemm_rate, load = {}, {}, {}
    for t in counts:
        numba.set_num_threads(min(t, default))
        load[t] = (_common.wait_idle(args.wait_idle) if args.wait_idle > 0
                   else _common.other_load(1.0))
        for i, case in enumerate(cases):
            for kind in KINDS:
                times[i, kind, t] = best_time(case['calls'][kind], args.repeat, args.min_time)
            fn, flop = case['gemm']
            kthreads.blas_threads(t)
            gemm_rate[i, t] = flop / best_time(fn, args.repeat, args.min_time) / 1e9
        print('suite_kernels.py: %d thread(s) done' % t, file=sys.stderr, flush=True)
    text = report(info, args, cases, counts, times, gemm_rate, load)
    print(text)
    if args.write_results:
        path = _common.write_section('suite_kernels.py', text)
        print('suite_kernels.py: wrote %s' % path, file=sys.stderr)


def report(info, args, cases, counts, times, gemm_rate, load):
    lines = ['## Convolution kernels at the suite\'s shapes (suite_kernels.py)', '']
    lines.extend(_common.describe_machine(info))
    lines.append('- CPU flags: %s' % _common.simd_flags())
    lines.append('- command: `%s`' % info['command'])
    lines.append('- best of %d repeats; other load before each thread count: %s'
                 % (args.repeat, ', '.join('%dT %s' % (t, _common.fmt(load[t])) for t in counts)))
    lines.append('')
    header = ['model', 'layer', 'shapes', 'path']
    for t in counts:
        header += ['%dT sgemm GFLOP/s' % t] + ['%dT %s %% of sgemm' % (t, k.replace('backward_', 'b.'))
                                              for k in KINDS]
    rows = []
    below = {t: [] for t in counts}
    for i, case in enumerate(cases):
        row = [case['model'], case['layer'], case['shape'], case['path']]
        for t in counts:
            row.append('%.0f' % gemm_rate[i, t])
            for kind in KINDS:
                rate = case['flop'] / times[i, kind, t] / 1e9
                pct = 100 * rate / gemm_rate[i, t]
                row.append('%.0f%% (%.0f)' % (pct, rate))
                if pct < 50:
                    below[t].append('%s %s %s' % (case['model'], case['layer'], kind))
        rows.append(row)
    lines.append(_common.md_table(header, rows, 'llll' + 'r' * (len(header) - 4)))
    lines.append('')
    lines.append('Cells: the kernel\'s rate as a percentage of sgemm\'s on the same shapes, and '
                 'in parentheses its nominal GFLOP/s.')
    for t in counts:
        lines.append('- target >= 50%% of sgemm at %d thread(s): %s' % (
            t, 'met on every shape' if not below[t] else 'not met for %d of %d: %s' % (
                len(below[t]), 3 * len(cases), '; '.join(below[t]))))
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    main()
