#!/usr/bin/env python3
"""Learning curve of the seed model: minikeras against real Keras 3, same data.

The model, data and training of the legacy seed script (cnn.py): conv 4@5x5
tanh, conv 8@3x3 tanh, maxpool, conv 16@3x3 relu, maxpool, dense 128 tanh
(init 'normal'), dense 10 softmax; categorical crossentropy;
SGD(lr=0.05, decay=1e-6, momentum=0.9, nesterov=True); batch 100, 10 epochs,
validation_split 0.2, shuffle=True. Data: the first `--digits` (5,000 by
default; 42,000 is the seed tutorial's size) of MNIST's training digits in
Keras's cache, `~/.keras/datasets/mnist.npz`, scaled as the seed's `data.py`
did (float32 (N, 1, 28, 28), divided by the maximum, centred by the mean),
then shuffled by each run's seed the way cnn.py does (`random.shuffle` of an
index list).

Each run is its own process:

- minikeras: this Python, `minikeras.datasets.mnist.load_data()` and the
  Keras 1 API as the seed script writes it ('th' images (N, 1, 28, 28)).
- Keras 3 (TensorFlow backend): the venv's Python runs this file with
  `--worker keras3`; it reads the same `mnist.npz` itself with NumPy (the
  path is passed in), applies the same scaling, and checks that its arrays
  are bit-identical to the minikeras side's (a SHA-1 of both). Channels_last
  images (N, 28, 28, 1); Keras 1's decay is
  `InverseTimeDecay(0.05, decay_steps=1, decay_rate=1e-6)`, its
  init='normal' `RandomNormal(stddev=0.05)`.

Weight initialisation and the per-epoch shuffles come from each library's
own generator seeded with the run's seed, so single runs differ; the table
compares the mean and spread of val_acc over the seeds. Target (issue 7):
minikeras's mean final val_acc within 0.01 of real Keras's.

    python3 benchmarks/learning_curve.py                   # 5 seeds each, print the table
    python3 benchmarks/learning_curve.py --digits 500 --seeds 1 --epochs 1   # a quick check
    python3 benchmarks/learning_curve.py --write-results   # ... and into RESULTS.md
"""
import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
KERAS_PYTHON = '/work/venvs/keras-tf/bin/python'
DEFAULT_SEEDS = '1024,1025,1026,1027,1028'
SECTION = 'learning_curve.py'
TARGET = 0.01
DEFAULT_DIGITS = 5000


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seeds', default=DEFAULT_SEEDS,
                   help='comma-separated seeds, one run per seed and system '
                        '(default %s)' % DEFAULT_SEEDS)
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--digits', type=int, default=DEFAULT_DIGITS,
                   help='the first N of MNIST\'s 60,000 training digits (default %d; the seed '
                        'tutorial used 42,000)' % DEFAULT_DIGITS)
    p.add_argument('--systems', default='minikeras,keras3-tf',
                   help='comma-separated: minikeras, keras3-tf (default both)')
    p.add_argument('--keras-python', default=KERAS_PYTHON,
                   help='Python of the venv with Keras 3 and TensorFlow (default %s)'
                        % KERAS_PYTHON)
    p.add_argument('--write-results', action='store_true',
                   help='replace the "Learning curve" section of benchmarks/RESULTS.md')
    p.add_argument('--json', help='also write every run as JSON to this path')
    # Internal: one run in this process.
    p.add_argument('--worker', choices=('minikeras', 'keras3'), help=argparse.SUPPRESS)
    p.add_argument('--seed', type=int, help=argparse.SUPPRESS)
    p.add_argument('--npz', help=argparse.SUPPRESS)
    p.add_argument('--expect-sha1', help=argparse.SUPPRESS)
    return p.parse_args(argv)


# -- data ------------------------------------------------------------------------------

def digest(data, label):
    h = hashlib.sha1()
    h.update(str(data.shape).encode() + str(data.dtype).encode())
    h.update(data.tobytes())
    h.update(label.astype('uint8').tobytes())
    return h.hexdigest()


def scaled_like_data_py(x, label, digits):
    """The first `digits` images as the seed's data.py served them: float32
    (N, 1, 28, 28), divided by the maximum, centred by the mean."""
    import numpy as np
    if len(label) < digits:
        sys.exit('learning_curve.py: %d digits asked for, the training set has %d'
                 % (digits, len(label)))
    data = np.asarray(x[:digits], dtype='float32').reshape(digits, 1, 28, 28)
    data /= np.max(data)
    data -= np.mean(data)
    return data, np.asarray(label[:digits], dtype='uint8')


def npz_digits_with_numpy(path, digits):
    """The same digits read from Keras's mnist.npz with NumPy alone."""
    import numpy as np
    with np.load(path) as f:
        return scaled_like_data_py(f['x_train'], f['y_train'], digits)


def minikeras_digits(digits):
    """The digits through minikeras's own loader; returns them and the file they came from."""
    from minikeras.datasets import mnist, mnist_sources
    source = mnist_sources.find_source()
    if source.kind != 'npz':
        sys.exit('learning_curve.py: minikeras found MNIST in %s (%s), not in a Keras '
                 'mnist.npz; run `python3 -m minikeras.datasets.mnist` to put one in the cache'
                 % (source.path, source.kind))
    (x, label), _ = mnist.load_data(path=source.path)
    data, label = scaled_like_data_py(x, label, digits)
    return data, label, source.path


def seed_shuffle(data, label, seed):
    """cnn.py's own shuffle (`random.shuffle` of an index list), with this run's seed."""
    index = list(range(len(data)))
    random.Random(seed).shuffle(index)
    return data[index], label[index]


# -- one run -------------------------------------------------------------------------------

def run_minikeras(seed, epochs, digits):
    import numpy as np
    import _common
    from minikeras.utils import np_utils

    data, label, _ = minikeras_digits(digits)
    sha1 = digest(data, label)
    np.random.seed(seed)
    data, label = seed_shuffle(data, label, seed)
    label = np_utils.to_categorical(label, 10)

    model = _common.minikeras_seed_model()
    start = time.perf_counter()
    history = model.fit(data, label, batch_size=100, nb_epoch=epochs, shuffle=True, verbose=0,
                        validation_split=0.2)
    h = history.history
    return {'system': 'minikeras', 'seed': seed, 'data_sha1': sha1,
            'fit_seconds': time.perf_counter() - start,
            'val_acc': h['val_acc'], 'acc': h['acc'], 'loss': h['loss'],
            'val_loss': h['val_loss']}


def run_keras3(seed, epochs, digits, npz_path, expect_sha1):
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    os.environ.setdefault('KERAS_BACKEND', 'tensorflow')
    import numpy as np
    data, label = npz_digits_with_numpy(npz_path, digits)
    sha1 = digest(data, label)
    if expect_sha1 and sha1 != expect_sha1:
        sys.exit('learning_curve.py: the Keras 3 side read different digits (sha1 %s, '
                 'minikeras %s)' % (sha1, expect_sha1))
    import keras
    from keras import layers as L
    keras.utils.set_random_seed(seed)
    data, label = seed_shuffle(data, label, seed)
    x = np.ascontiguousarray(data.transpose(0, 2, 3, 1))        # channels_last
    y = np.eye(10, dtype='float32')[label]

    normal = keras.initializers.RandomNormal(stddev=0.05)       # Keras 1's init='normal'
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(4, (5, 5), padding='valid'), L.Activation('tanh'),
        L.Conv2D(8, (3, 3), padding='valid'), L.Activation('tanh'),
        L.MaxPooling2D((2, 2)),
        L.Conv2D(16, (3, 3), padding='valid'), L.Activation('relu'),
        L.MaxPooling2D((2, 2)),
        L.Flatten(),
        L.Dense(128, kernel_initializer=normal), L.Activation('tanh'),
        L.Dense(10, kernel_initializer=normal), L.Activation('softmax'),
    ])
    # Keras 1's SGD decay: lr / (1 + decay * iterations).
    lr = keras.optimizers.schedules.InverseTimeDecay(0.05, decay_steps=1, decay_rate=1e-6)
    sgd = keras.optimizers.SGD(learning_rate=lr, momentum=0.9, nesterov=True)
    model.compile(loss='categorical_crossentropy', optimizer=sgd, metrics=['accuracy'])
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=100, epochs=epochs, shuffle=True, verbose=0,
                        validation_split=0.2)
    h = history.history
    return {'system': 'keras3-tf', 'seed': seed, 'data_sha1': sha1,
            'fit_seconds': time.perf_counter() - start,
            'val_acc': [float(v) for v in h['val_accuracy']],
            'acc': [float(v) for v in h['accuracy']],
            'loss': [float(v) for v in h['loss']],
            'val_loss': [float(v) for v in h['val_loss']],
            'versions': {'keras': keras.__version__}}


def worker(args):
    # One JSON line on stdout; library chatter goes to stderr.
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), 'w')
    os.dup2(2, 1)
    if args.worker == 'minikeras':
        result = run_minikeras(args.seed, args.epochs, args.digits)
    else:
        result = run_keras3(args.seed, args.epochs, args.digits, args.npz, args.expect_sha1)
    out.write(json.dumps(result) + '\n')
    out.flush()


def run_worker(python, system, seed, epochs, digits, extra=()):
    cmd = [python, os.path.abspath(__file__), '--worker', system, '--seed', str(seed),
           '--epochs', str(epochs), '--digits', str(digits)] + list(extra)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit('learning_curve.py: the %s run with seed %d failed (exit %d)'
                         % (system, seed, proc.returncode))
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the table -------------------------------------------------------------------------

def summary(values):
    mean = statistics.mean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.
    return mean, std, min(values), max(values)


def cell(values):
    mean, std, low, high = summary(values)
    return '%.4f ± %.4f (%.4f–%.4f)' % (mean, std, low, high)


def report(runs, systems, epochs, seeds, digits, info_lines, command):
    import _common
    by_system = {s: [r for r in runs if r['system'] == s] for s in systems}
    names = {'minikeras': 'minikeras', 'keras3-tf': 'Keras 3 (TensorFlow)'}
    header = ['epoch'] + ['%s val_acc: mean ± std (min–max)' % names[s] for s in systems]
    both = 'minikeras' in systems and 'keras3-tf' in systems
    if both:
        header.append('difference of means')
    rows = []
    for e in range(epochs):
        row = [str(e + 1)]
        for s in systems:
            row.append(cell([r['val_acc'][e] for r in by_system[s]]))
        if both:
            diff = (statistics.mean(r['val_acc'][e] for r in by_system['minikeras']) -
                    statistics.mean(r['val_acc'][e] for r in by_system['keras3-tf']))
            row.append('%+.4f' % diff)
        rows.append(row)
    validation = digits // 5
    intro = ('The seed model (cnn.py) on the first {:,} of MNIST\'s training digits, from '
             'Keras\'s cache `mnist.npz` and scaled as the seed\'s data.py did: {:,} for '
             'training and the last {:,} for validation (validation_split 0.2), '
             .format(digits, digits - validation, validation) +
             'batch 100, %d epochs, SGD(lr=0.05, decay=1e-6, momentum=0.9, nesterov=True); '
             'one run per seed (%s) and system, each in its own process; val_acc after each '
             'epoch over the %d seeds. Keras 3 runs channels_last with '
             '`InverseTimeDecay(0.05, 1, 1e-6)` for the decay; both read the same digits in '
             'the same order (checked by SHA-1). Written by `benchmarks/learning_curve.py '
             '--write-results`.' % (epochs, ', '.join(str(s) for s in seeds), len(seeds)))
    lines = ['## Learning curve', ''] + textwrap.wrap(intro, 78) + ['']
    lines += info_lines
    lines += ['- command: `%s`' % command, '']
    lines.append(_common.md_table(header, rows, align='r' * len(header)))
    lines.append('')
    final = {s: [r['val_acc'][-1] for r in by_system[s]] for s in systems}
    for s in systems:
        lines.append('- %s: final val_acc per seed %s' % (names[s], ', '.join('%.4f' % v
                                                                              for v in final[s])))
    if both:
        gap = statistics.mean(final['minikeras']) - statistics.mean(final['keras3-tf'])
        verdict = 'met' if abs(gap) <= TARGET else 'NOT met'
        lines.append('- target: minikeras\'s mean final val_acc within %.2f of real Keras\'s: '
                     '%+.4f, %s' % (TARGET, gap, verdict))
    lines.append('- fit time per run, for context only (speed is what run.py measures; '
                 'other load on the shared machine counts here): %s'
                 % ', '.join('%s %s s' % (names[s], '/'.join('%.0f' % r['fit_seconds']
                                                            for r in by_system[s]))
                             for s in systems))
    return '\n'.join(lines) + '\n'


def main():
    args = parse_args()
    if args.worker:
        worker(args)
        return
    sys.path.insert(0, HERE)
    import _common
    seeds = [int(s) for s in args.seeds.split(',') if s.strip()]
    systems = [s.strip() for s in args.systems.split(',') if s.strip()]
    unknown = set(systems) - {'minikeras', 'keras3-tf'}
    if unknown:
        raise SystemExit('learning_curve.py: unknown systems %s' % ', '.join(sorted(unknown)))
    if 'keras3-tf' in systems and not os.path.exists(args.keras_python):
        raise SystemExit('learning_curve.py: no Keras 3 Python at %s (--keras-python)'
                         % args.keras_python)

    data, label, npz_path = minikeras_digits(args.digits)
    expect = digest(data, label)
    del data, label

    runs = []
    for seed in seeds:   # alternate the systems, so that machine load hits both alike
        for system in systems:
            t0 = time.perf_counter()
            if system == 'minikeras':
                result = run_worker(sys.executable, 'minikeras', seed, args.epochs, args.digits)
                if result['data_sha1'] != expect:
                    raise SystemExit('learning_curve.py: minikeras read different digits')
            else:
                result = run_worker(args.keras_python, 'keras3', seed, args.epochs, args.digits,
                                    ['--npz', npz_path, '--expect-sha1', expect])
            result['wall_seconds'] = time.perf_counter() - t0
            runs.append(result)
            print('%-10s seed %-5d final val_acc %.4f  (%.0f s)'
                  % (system, seed, result['val_acc'][-1], result['wall_seconds']),
                  file=sys.stderr)

    info = _common.machine_info()
    info_lines = _common.describe_machine(info)
    keras_versions = {r['versions']['keras'] for r in runs if 'versions' in r}
    if keras_versions:
        info_lines.append('- Keras 3: %s (TensorFlow backend, %s)'
                          % (', '.join(sorted(keras_versions)), args.keras_python))
    info_lines.append('- data: %s, the first %d training digits, SHA-1 of the scaled arrays %s'
                      % (npz_path, args.digits, expect[:12]))
    body = report(runs, systems, args.epochs, seeds, args.digits, info_lines,
                  _common.command_line())
    print(body)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'runs': runs, 'machine': info}, f, indent=1)
    if args.write_results:
        path = _common.write_section(SECTION, body)
        print('wrote the "Learning curve" section of %s' % path, file=sys.stderr)


if __name__ == '__main__':
    main()
