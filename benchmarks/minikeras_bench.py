#!/usr/bin/env python3
"""minikeras side of the "wphh seed CNN" benchmark: one JSON line, like the peers.

Same measurements, options and output keys as peers/keras3_peer.py and
peers/torch_peer.py, so run.py can put them side by side:

    conv 4 @ 5x5 valid, tanh -> conv 8 @ 3x3 valid, tanh -> maxpool 2x2
    -> conv 16 @ 3x3 valid, relu -> maxpool 2x2 -> flatten
    -> dense 128 tanh (init='normal') -> dense 10 softmax (init='normal')
    categorical crossentropy, SGD(lr=0.05, momentum=0.9, decay=1e-6,
    nesterov=True), batch 100, validation_split 0.2, shuffle, accuracy.

This is the Keras 1.2.2 original (/work/shared/seeds/cnn.py) written
against minikeras' own API, channels-first ('th') with input (N, 1, 28, 28);
unlike the Keras 3 peers it keeps Keras 1's per-update SGD decay, which
costs nothing measurable.

Data are synthetic, from the same seed and in the same order as the peers'
(random float32 inputs, random one-hot labels).

`first_epoch_s` includes the Numba kernels' JIT compilation, or loading
them from Numba's on-disk cache when it is warm (`extra` says how many
cache files existed before the run). `warm_epoch_s` is the median of
epochs 2..E. Every epoch includes its validation pass.

`--threads T` sets `numba.set_num_threads(T)` and limits the BLAS that
NumPy uses (the dense layers' matrix products) to T threads through
threadpoolctl when it is installed; `--blas-threads B` sets the BLAS
limit on its own.

Stdout receives exactly one JSON line; anything else goes to stderr.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

SEED = 1234
HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--samples', type=int, default=42000,
                   help='number of samples (default 42000: 33600 train / 8400 validation)')
    p.add_argument('--epochs', type=int, default=3, help='epochs of model.fit (default 3)')
    p.add_argument('--predict', action=argparse.BooleanOptionalAction, default=True,
                   help='also time model.predict on all samples at batch sizes 32 (Keras 1 '
                        'default) and 100 (default: on)')
    p.add_argument('--threads', type=int, default=None,
                   help='Numba threads (numba.set_num_threads) and BLAS threads '
                        '(threadpoolctl); default: library defaults')
    p.add_argument('--blas-threads', type=int, default=None,
                   help='BLAS threads only (overrides --threads for the BLAS)')
    return p.parse_args()


def _kernel_cache_files():
    """Numba cache files (.nbi/.nbc) beside minikeras' kernels, or in NUMBA_CACHE_DIR."""
    import minikeras.kernels as kernels
    roots = [os.path.join(os.path.dirname(kernels.__file__), '__pycache__')]
    if os.environ.get('NUMBA_CACHE_DIR'):
        roots = [os.environ['NUMBA_CACHE_DIR']]
    count = 0
    for root in roots:
        for _, _, files in os.walk(root):
            count += sum(1 for f in files if f.endswith(('.nbi', '.nbc')))
    return count


def main():
    args = parse_args()
    sys.stdout.flush()
    json_fd = os.dup(1)
    os.dup2(2, 1)  # everything else printed goes to stderr

    t_launch = time.perf_counter()
    import numpy as np
    import numba

    thread_notes = []
    if args.threads:
        numba.set_num_threads(args.threads)
        thread_notes.append('numba.set_num_threads(%d)' % args.threads)
    blas_threads = args.blas_threads or args.threads
    blas_limiter = None
    if blas_threads:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            thread_notes.append('threadpoolctl missing: BLAS threads left at default')
        else:
            # Kept alive for the whole run (the limit lasts until restored).
            blas_limiter = threadpool_limits(limits=blas_threads, user_api='blas')
            thread_notes.append('threadpoolctl blas limit %d' % blas_threads)

    import _common
    import minikeras
    from minikeras.callbacks import Callback

    cache_files_before = _kernel_cache_files()

    # Synthetic data: the same generator calls, in the same order, as the
    # peers (channels-first here, as Keras 1 'th').
    n = args.samples
    rng = np.random.RandomState(SEED)
    x = rng.rand(n, 1, 28, 28).astype('float32')
    y = np.zeros((n, 10), dtype='float32')
    y[np.arange(n), rng.randint(0, 10, size=n)] = 1.0
    np.random.seed(SEED)  # weight initialisation and shuffling

    model = _common.minikeras_seed_model()

    class EpochTimer(Callback):
        def __init__(self):
            super(EpochTimer, self).__init__()
            self.times = []
            self._t0 = None

        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._t0)

    timer = EpochTimer()
    t_fit = time.perf_counter()
    hist = model.fit(x, y, batch_size=100, nb_epoch=args.epochs, verbose=0,
                     validation_split=0.2, shuffle=True, callbacks=[timer])
    fit_s = time.perf_counter() - t_fit

    predict = {}
    if args.predict:
        for bs in (32, 100):
            model.predict(x, batch_size=bs, verbose=0)  # warm-up call
            t0 = time.perf_counter()
            out = model.predict(x, batch_size=bs, verbose=0)
            predict[bs] = time.perf_counter() - t0
            assert out.shape == (n, 10), out.shape

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    try:
        import llvmlite
        llvmlite_version = llvmlite.__version__
    except ImportError:
        llvmlite_version = None
    try:
        from threadpoolctl import threadpool_info
        blas = [{'api': i.get('internal_api'), 'version': i.get('version'),
                 'threads': i.get('num_threads'), 'architecture': i.get('architecture')}
                for i in threadpool_info() if i.get('user_api') == 'blas']
    except ImportError:
        blas = None

    warm = timer.times[1:]
    losses = hist.history.get('loss') or [None]
    val_losses = hist.history.get('val_loss') or [None]
    result = {
        'system': 'minikeras',
        'versions': {'python': platform.python_version(),
                     'minikeras': getattr(minikeras, '__version__', None),
                     'numpy': np.__version__,
                     'numba': numba.__version__,
                     'llvmlite': llvmlite_version},
        'first_epoch_s': round(timer.times[0], 4) if timer.times else None,
        'warm_epoch_s': round(statistics.median(warm), 4) if warm else None,
        'warm_epochs': [round(t, 4) for t in warm],
        'predict_s_b32': round(predict[32], 4) if 32 in predict else None,
        'predict_s_b100': round(predict[100], 4) if 100 in predict else None,
        'peak_rss_mb': round(peak_rss_mb, 1),
        'samples': n,
        'threads': args.threads,
        'extra': {
            'layout': "channels_first 'th' (N, 1, 28, 28)",
            'thread_control': '; '.join(thread_notes) or 'library defaults',
            'numba_threads': numba.get_num_threads(),
            'numba_threading_layer': _threading_layer(numba),
            'blas': blas,
            'numba_cache_files_before': cache_files_before,
            'openblas_coretype': os.environ.get('OPENBLAS_CORETYPE'),
            'fit_s': round(fit_s, 4),
            'in_process_s': round(time.perf_counter() - t_launch, 4),
            'final_loss': None if losses[-1] is None else float(losses[-1]),
            'final_val_loss': None if val_losses[-1] is None else float(val_losses[-1]),
        },
    }
    del blas_limiter
    os.write(json_fd, (json.dumps(result) + '\n').encode())
    os.close(json_fd)


def _threading_layer(numba):
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel region has run yet
        return None


if __name__ == '__main__':
    main()
