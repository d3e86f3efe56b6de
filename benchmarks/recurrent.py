#!/usr/bin/env python
"""Recurrent training speed: minikeras against real Keras 3 (TensorFlow, JAX,
PyTorch backends), side by side, on two Keras 1.2.2 example models.

- imdb_lstm: Embedding(20000, 128, dropout=0.2), LSTM(128, dropout_W=0.2,
  dropout_U=0.2), Dense(1), sigmoid; adam, binary crossentropy, batch 32,
  sequences of 80 word indices. Keras 3 has no Embedding dropout: its model
  is Embedding(20000, 128), LSTM(128, dropout=0.2, recurrent_dropout=0.2).
- lstm_text_generation: LSTM(128) on 40 one-hot characters (57 of them),
  Dense(57), softmax; RMSprop(lr=0.01), categorical crossentropy, batch 128.

Each framework runs in its own process (its own Python: this one for
minikeras, /work/venvs/keras-{tf,jax,torch} for Keras 3) on the same
synthetic data: one epoch of `--samples` samples that pays for compilation
and tracing, then `--repeat` timed epochs (the text model's epoch is 8
batches, a quarter of a second: one stalled time slice moves a single
epoch's time by half, hence the median of several). Reported: the median
seconds per timed epoch (and every timed epoch in the JSON line), the time
of a full epoch of the real example extrapolated from it (imdb: 25,000
reviews; nietzsche: 200,285 sequences), the ratio to the fastest Keras 3
backend, and the process's peak resident memory.

This machine's speed drifts by up to half within minutes (a KVM guest whose
host is busy elsewhere), which moves a ratio of two processes run one after
the other as much as the code does. `--rounds N` runs every framework's
process N times, round-robin (minikeras, then each peer, N times over), and
keeps each framework's lowest median (as suite.py keeps the lowest of its
--repeat runs); every round's epoch time is printed, and so is the ratio of
each round on its own.

    python benchmarks/recurrent.py [--samples 1024] [--repeat 3] [--rounds 3]
                                   [--only imdb_lstm] [--peers tf,jax,torch]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

FULL_EPOCH = {'imdb_lstm': 25000, 'lstm_text_generation': 200285}
PEERS = {'tf': ('/work/venvs/keras-tf/bin/python', 'tensorflow'),
         'jax': ('/work/venvs/keras-jax/bin/python', 'jax'),
         'torch': ('/work/venvs/keras-torch/bin/python', 'torch')}


def synthetic(task, samples):
    import numpy as np
    rng = np.random.RandomState(0)
    if task == 'imdb_lstm':
        return rng.randint(1, 20000, size=(samples, 80)), rng.randint(0, 2, size=(samples, 1))
    x = np.zeros((samples, 40, 57), dtype='float32')
    x[np.arange(samples)[:, None], np.arange(40)[None, :], rng.randint(0, 57, (samples, 40))] = 1
    y = np.zeros((samples, 57), dtype='float32')
    y[np.arange(samples), rng.randint(0, 57, samples)] = 1
    return x, y


def minikeras_model(task):
    from minikeras.layers import LSTM, Activation, Dense, Embedding
    from minikeras.models import Sequential
    from minikeras.optimizers import RMSprop
    if task == 'imdb_lstm':
        model = Sequential([Embedding(20000, 128, dropout=0.2),
                            LSTM(128, dropout_W=0.2, dropout_U=0.2), Dense(1),
                            Activation('sigmoid')])
        model.compile('adam', 'binary_crossentropy', metrics=['accuracy'])
        return model, 32
    model = Sequential([LSTM(128, input_shape=(40, 57)), Dense(57), Activation('softmax')])
    model.compile(RMSprop(lr=0.01), 'categorical_crossentropy')
    return model, 128


def keras3_model(task):
    import keras
    from keras import layers as L
    if task == 'imdb_lstm':
        model = keras.Sequential([keras.Input((80,), dtype='int32'), L.Embedding(20000, 128),
                                  L.LSTM(128, dropout=0.2, recurrent_dropout=0.2), L.Dense(1),
                                  L.Activation('sigmoid')])
        model.compile('adam', 'binary_crossentropy', metrics=['accuracy'])
        return model, 32
    model = keras.Sequential([keras.Input((40, 57)), L.LSTM(128), L.Dense(57),
                              L.Activation('softmax')])
    model.compile(keras.optimizers.RMSprop(learning_rate=0.01), 'categorical_crossentropy')
    return model, 128


def worker(framework, task, samples, repeat):
    """Trains 1 + `repeat` epochs, times the last `repeat`; prints one JSON line."""
    x, y = synthetic(task, samples)
    if framework == 'minikeras':
        model, batch = minikeras_model(task)
        fit = dict(nb_epoch=1, verbose=0)
    else:
        model, batch = keras3_model(task)
        fit = dict(epochs=1, verbose=0)
    times = []
    for _ in range(1 + repeat):
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, shuffle=True, **fit)
        times.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.
    timed = sorted(times[1:])
    median = (timed[(repeat - 1) // 2] + timed[repeat // 2]) / 2
    print(json.dumps({'framework': framework, 'task': task, 'samples': samples,
                      'first_epoch_s': times[0], 'epoch_s': median,
                      'timed_epochs_s': [round(t, 4) for t in times[1:]], 'peak_mb': peak_mb}))


def run_worker(python, framework, task, samples, repeat, backend=None, timeout=900):
    env = dict(os.environ)
    if backend:
        env['KERAS_BACKEND'] = backend
        env.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    cmd = [python, os.path.abspath(__file__), '--worker', framework, '--task', task,
           '--samples', str(samples), '--repeat', str(repeat)]
    try:
        result = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {'framework': framework, 'task': task,
                'error': 'did not finish %d epochs in %d s' % (1 + repeat, timeout)}
    for line in reversed(result.stdout.splitlines()):
        if line.startswith('{'):
            return json.loads(line)
    return {'framework': framework, 'task': task, 'error': result.stderr.strip()[-400:]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--samples', type=int, default=1024)
    parser.add_argument('--repeat', type=int, default=3,
                        help='timed epochs after the first; their median is reported')
    parser.add_argument('--only', default='imdb_lstm,lstm_text_generation')
    parser.add_argument('--peers', default='tf,jax,torch')
    parser.add_argument('--timeout', type=int, default=900,
                        help='seconds per framework and task before it is reported unfinished')
    parser.add_argument('--rounds', type=int, default=1,
                        help='processes per framework, round-robin; the lowest median is kept')
    parser.add_argument('--worker')
    parser.add_argument('--task')
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error('--repeat must be at least 1')
    if args.rounds < 1:
        parser.error('--rounds must be at least 1')
    if args.worker:
        return worker(args.worker, args.task, args.samples, args.repeat)
    from _common import cpu_info
    print('CPU: %s (%s logical CPUs); %d samples per epoch, median of %d timed epochs, '
          '%d round(s); load average %s' % (cpu_info()['model'], cpu_info()['cpus'], args.samples,
                                            args.repeat, args.rounds,
                                            ' '.join('%.1f' % v for v in os.getloadavg())),
          flush=True)
    peer_names = [p for p in args.peers.split(',') if p]
    for task in args.only.split(','):
        by_framework = {}  # framework -> its rows, one per round
        for _ in range(args.rounds):
            row = run_worker(sys.executable, 'minikeras', task, args.samples, args.repeat,
                             timeout=args.timeout)
            print('  %s' % json.dumps(row), flush=True)
            by_framework.setdefault('minikeras', []).append(row)
            for peer in peer_names:
                python, backend = PEERS[peer]
                row = run_worker(python, 'keras3-' + peer, task, args.samples, args.repeat,
                                 backend, args.timeout)
                print('  %s' % json.dumps(row), flush=True)
                by_framework.setdefault('keras3-' + peer, []).append(row)
        if args.rounds > 1:
            print_rounds(task, by_framework, args.rounds)
        rows = [lowest_run(runs) for runs in by_framework.values()]
        timed = [r for r in rows if 'epoch_s' in r]
        peers = [r['epoch_s'] for r in timed if r['framework'] != 'minikeras']
        fastest = min(peers) if peers else None
        print('\n%s (full epoch: %d samples)' % (task, FULL_EPOCH[task]))
        print('%-14s %10s %14s %10s %10s' % ('framework', 'epoch (s)', 'full epoch (s)',
                                              'vs fastest', 'peak MB'))
        for r in rows:
            if 'error' in r:
                print('%-14s failed: %s' % (r['framework'], r['error']))
                continue
            full = r['epoch_s'] * FULL_EPOCH[task] / r['samples']
            ratio = '%.2fx' % (r['epoch_s'] / fastest) if fastest else '-'
            print('%-14s %10.2f %14.1f %10s %10.0f' % (r['framework'], r['epoch_s'], full, ratio,
                                                        r['peak_mb']), flush=True)


def lowest_run(runs):
    """The run with the lowest median epoch, or the first failed run when none finished."""
    timed = [r for r in runs if 'epoch_s' in r]
    return min(timed, key=lambda r: r['epoch_s']) if timed else runs[0]


def print_rounds(task, by_framework, rounds):
    """Each round's median epoch per framework, and minikeras' ratio to the
    fastest peer of that round."""
    print('\n%s, round by round (median epoch s)' % task)
    heads = ' '.join('%8s' % ('round %d' % (k + 1)) for k in range(rounds))
    print('%-14s %s' % ('framework', heads))
    for framework, runs in by_framework.items():
        print('%-14s %s' % (framework, ' '.join('%8s' % ('%.3f' % r['epoch_s'] if 'epoch_s' in r
                                                            else 'failed') for r in runs)))
    ratios = []
    for k in range(rounds):
        ours = by_framework['minikeras'][k].get('epoch_s')
        theirs = [runs[k]['epoch_s'] for name, runs in by_framework.items()
                  if name != 'minikeras' and 'epoch_s' in runs[k]]
        ratios.append('%8s' % ('%.2fx' % (ours / min(theirs)) if ours and theirs else '-'))
    print('%-14s %s' % ('vs fastest', ' '.join(ratios)), flush=True)


if __name__ == '__main__':
    main()
