#!/usr/bin/env python3
"""One model of the suite (suite_models.py) on one system; prints one JSON line.

    python3 benchmarks/suite_bench.py --model mnist_cnn                # minikeras
    KERAS_BACKEND=jax /work/venvs/keras-jax/bin/python benchmarks/suite_bench.py \\
        --model mnist_cnn --system keras3                               # a Keras 3 peer

The same script runs on both sides, so that both do exactly the same calls:
minikeras with Keras 1's 'th' layout, Keras 3 with channels_last (its fast
CPU layout). Kind 'fit': model.fit for --epochs epochs on the model's
synthetic data; `first_s` is the first epoch (compilation included),
`warm_s` the median of the others. Kind 'gan': one training step of
mnist_acgan.py per "epoch", timed the same way.

`--system sgemm-floor` times the model's matrix products alone instead
(sgemm_floor.py): `warm_s` is that floor, `extra.winograd_floor_s` the
same with Winograd's fewer multiplications where the fidelity bound allows,
and for the VGG16 step `extra.winograd_floor_weights_cold_s` the same again
with the weights out of the caches, as one pass on one image finds them.

Keys of the JSON line: system, model, first_s, warm_s, warm (each warm
epoch or step), peak_rss_mb, versions, threads, extra.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import suite_models  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--model', required=True, choices=list(suite_models.MODELS))
    p.add_argument('--system', default='minikeras', choices=['minikeras', 'keras3', 'sgemm-floor'],
                   help="'sgemm-floor': the model's matrix products alone (sgemm_floor.py)")
    p.add_argument('--epochs', type=int, default=None,
                   help="epochs (or steps for 'gan' models); default: the model's")
    p.add_argument('--samples', type=int, default=None, help="default: the model's")
    p.add_argument('--threads', type=int, default=None,
                   help='threads (Numba and BLAS for minikeras; the backend\'s for Keras 3)')
    return p.parse_args(argv)


def _set_threads(system, threads, versions):
    if not threads:
        return 'library defaults'
    if system == 'minikeras':
        import numba
        numba.set_num_threads(threads)
        return 'numba.set_num_threads(%d)' % threads
    backend = os.environ.get('KERAS_BACKEND', 'tensorflow')
    if backend == 'tensorflow':
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        return 'tf intra/inter-op threads'
    if backend == 'torch':
        import torch
        torch.set_num_threads(threads)
        return 'torch.set_num_threads'
    cpus = sorted(os.sched_getaffinity(0))[:threads]
    os.sched_setaffinity(0, cpus)
    return 'sched_setaffinity(%s)' % cpus


def _floor(spec, versions):
    import numpy as np
    import minikeras as keras
    import sgemm_floor
    versions.update(numpy=np.__version__, minikeras=getattr(keras, '__version__', None))
    seconds, gflop, rows = sgemm_floor.floor_seconds(sgemm_floor.products(spec, keras))
    ops = sgemm_floor.winograd_ops(spec, keras)
    fewest, fewest_gflop, ways = sgemm_floor.fewest_seconds(ops)
    # One pass on one batch reads every weight once: they come from memory.
    cold = (sgemm_floor.fewest_seconds(ops, 3, sgemm_floor.weights_cold())[0]
            if spec.kind == 'input_gradient' else None)
    return {'system': 'sgemm-floor', 'model': spec.name, 'kind': spec.kind,
            'samples': spec.samples, 'batch': spec.batch, 'first_s': None,
            'warm_s': round(seconds, 4), 'warm': [round(seconds, 4)],
            'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
            'versions': versions, 'threads': None,
            'extra': {'gflop': round(gflop, 2), 'products': rows,
                      'winograd_floor_s': round(fewest, 4),
                      'winograd_floor_weights_cold_s': cold and round(cold, 4),
                      'winograd_gflop': round(fewest_gflop, 2), 'winograd_ways': ways}}


def main(argv=None):
    args = parse_args(argv)
    sys.stdout.flush()
    json_fd = os.dup(1)
    os.dup2(2, 1)  # anything else printed goes to stderr
    t_launch = time.perf_counter()
    spec = suite_models.MODELS[args.model]
    if args.samples:
        spec = spec._replace(samples=args.samples)
    epochs = args.epochs or spec.epochs
    versions = {'python': platform.python_version()}
    if args.system == 'sgemm-floor':
        os.write(json_fd, (json.dumps(_floor(spec, versions)) + '\n').encode())
        os.close(json_fd)
        return
    thread_note = _set_threads(args.system, args.threads, versions)

    import numpy as np
    versions['numpy'] = np.__version__
    if args.system == 'minikeras':
        import minikeras as keras
        import numba
        versions['minikeras'] = getattr(keras, '__version__', None)
        versions['numba'] = numba.__version__
        layout = 'th'
        name = 'minikeras'
    else:
        import keras
        versions['keras'] = keras.__version__
        backend = keras.backend.backend()
        lib = {'tensorflow': 'tensorflow', 'jax': 'jax', 'torch': 'torch'}[backend]
        versions[lib] = __import__(lib).__version__
        keras.utils.set_random_seed(1234)
        layout = 'tf'
        name = 'keras3-' + backend
    np.random.seed(1234)

    shape = spec.input_shape if layout == 'th' else suite_models.channels_last(spec.input_shape)
    build = spec.minikeras if args.system == 'minikeras' else spec.keras3
    built = build(keras, shape)
    x, labels = suite_models.make_data(np, spec, layout)
    times = []
    if spec.kind == 'fit':
        y = suite_models.one_hot(np, labels, spec.classes)
        for _ in range(epochs):
            t0 = time.perf_counter()
            if args.system == 'minikeras':
                built.fit(x, y, batch_size=spec.batch, nb_epoch=1, verbose=0,
                          validation_split=spec.validation_split, shuffle=True)
            else:
                built.fit(x, y, batch_size=spec.batch, epochs=1, verbose=0,
                          validation_split=spec.validation_split, shuffle=True)
            times.append(time.perf_counter() - t0)
    elif spec.kind == 'input_gradient':
        for _ in range(epochs):
            t0 = time.perf_counter()
            built(x[:spec.batch])
            times.append(time.perf_counter() - t0)
    else:
        rng = np.random.RandomState(1337)
        for _ in range(epochs):
            t0 = time.perf_counter()
            suite_models.gan_step(np, built, x[:spec.batch], labels[:spec.batch], rng,
                                  spec.batch)
            times.append(time.perf_counter() - t0)
    warm = times[1:]
    extra = {'thread_control': thread_note, 'layout': layout,
             'in_process_s': round(time.perf_counter() - t_launch, 3)}
    if args.system == 'minikeras':
        try:
            extra['numba_threading_layer'] = numba.threading_layer()
        except ValueError:
            extra['numba_threading_layer'] = None
        extra['numba_threads'] = numba.get_num_threads()
    result = {
        'system': name, 'model': spec.name, 'kind': spec.kind, 'samples': spec.samples,
        'batch': spec.batch, 'first_s': round(times[0], 4),
        'warm_s': round(statistics.median(warm), 4) if warm else None,
        'warm': [round(t, 4) for t in warm],
        'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        'versions': versions, 'threads': args.threads, 'extra': extra,
    }
    os.write(json_fd, (json.dumps(result) + '\n').encode())
    os.close(json_fd)


if __name__ == '__main__':
    main()
