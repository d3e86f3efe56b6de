"""Keras's own example scripts, unchanged, under `minikeras run`.

The scripts are not ours to commit: each test takes one from a fetched copy of
keras-team/keras (tags 0.3.3, 1.2.2, 2.2.4) and runs it with
`../shared/tools/keras_examples.py`, the project's checker, which serves small
synthetic copies of the datasets nobody can download here. A script passes
when it exits cleanly, or is still training at its time limit with no
traceback (the checker's "ok" and "trains").

CI runs the few marked `representative`; every script runs with

    python3 -m pytest -q -m "slow or not slow" tests/test_keras_examples.py

Where the fetched repository lives: `LEGACY_KERAS_GIT` (its git directory),
else the search tool's mirror at /work/.mirror/keras-team+keras/repo; without
either, or without `../shared/tools`, the tests are skipped.
"""
import os
import subprocess
import sys

import pytest

from real_mnist import _KERAS_CACHE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECKER = os.path.join(os.path.dirname(ROOT), 'shared', 'tools', 'keras_examples.py')
MIRROR = os.environ.get('LEGACY_KERAS_GIT', '/work/.mirror/keras-team+keras/repo')

# Scripts that CI runs: quick ones, one per generation and family.
REPRESENTATIVE = ['1.2.2/reuters_mlp', '1.2.2/imdb_fasttext', '0.3.3/reuters_mlp',
                  '2.2.4/reuters_mlp', '0.3.3/imdb_lstm']

# Every other script known to run (ok, or still training at the time limit).
SLOW = [
    '1.2.2/imdb_cnn', '1.2.2/cifar10_cnn', '1.2.2/mnist_mlp', '1.2.2/mnist_sklearn_wrapper',
    '1.2.2/variational_autoencoder', '1.2.2/antirectifier', '1.2.2/conv_filter_visualization',
    '0.3.3/imdb_cnn', '0.3.3/cifar10_cnn', '0.3.3/mnist_mlp', '0.3.3/mnist_siamese_graph',
    '0.3.3/conv_filter_visualization', '1.2.2/variational_autoencoder_deconv',
    '0.3.3/antirectifier',
    '1.2.2/imdb_bidirectional_lstm', '1.2.2/imdb_lstm', '1.2.2/lstm_text_generation',
    '1.2.2/addition_rnn', '1.2.2/stateful_lstm', '1.2.2/mnist_irnn', '1.2.2/mnist_hierarchical_rnn',
    '1.2.2/lstm_benchmark', '0.3.3/mnist_irnn',
    '2.2.4/lstm_seq2seq',
    '2.2.4/imdb_cnn', '2.2.4/imdb_fasttext', '2.2.4/antirectifier', '2.2.4/cifar10_cnn',
    '2.2.4/cifar10_resnet', '2.2.4/mnist_cnn', '2.2.4/mnist_mlp', '2.2.4/mnist_net2net',
    '2.2.4/mnist_siamese', '2.2.4/mnist_sklearn_wrapper', '2.2.4/mnist_transfer_cnn',
    '2.2.4/reuters_mlp_relu_vs_selu', '2.2.4/cifar10_cnn_capsule', '2.2.4/imdb_lstm',
    '1.2.2/conv_lstm', '2.2.4/variational_autoencoder', '2.2.4/variational_autoencoder_deconv',
]

# Third-party packages a script imports itself (not Keras's): without them the
# script cannot start, whatever minikeras does.
NEEDS = {'1.2.2/conv_lstm': 'matplotlib', '2.2.4/conv_lstm': 'matplotlib',
         '2.2.4/variational_autoencoder': 'matplotlib',
         '2.2.4/variational_autoencoder_deconv': 'matplotlib'}


def _run_example(key, tmp_path, timeout):
    if key in NEEDS:
        pytest.importorskip(NEEDS[key], reason='%s imports %s' % (key, NEEDS[key]))
    if not os.path.isfile(CHECKER):
        pytest.skip('no checker at %s' % CHECKER)
    if not os.path.isdir(MIRROR):
        pytest.skip('no fetched keras-team/keras at %s (set LEGACY_KERAS_GIT)' % MIRROR)
    launcher = tmp_path / 'minikeras'
    launcher.write_text('#!/bin/sh\nexec "%s" -m minikeras "$@"\n' % sys.executable)
    launcher.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != 'KERAS_HOME'}
    env['PYTHONPATH'] = ROOT
    mnist = os.path.join(_KERAS_CACHE, 'mnist.npz')
    if os.path.isfile(mnist):           # the checker places it in the script's Keras cache
        env['FULL_MNIST_NPZ'] = mnist
    tag = key.split('/')[0]
    result = subprocess.run([sys.executable, CHECKER, str(launcher), MIRROR, str(tmp_path / 'out'),
                             '--tags', tag, '--only', key, '--timeout', str(timeout)],
                            env=env, capture_output=True, text=True, timeout=timeout + 120)
    lines = [l for l in result.stdout.splitlines() if l.startswith(key + ' ')]
    assert lines, result.stdout + result.stderr
    verdict = lines[0].split()[1]
    log = tmp_path / 'out' / tag / key.split('/')[1] / 'log.txt'
    assert verdict in ('ok', 'trains'), lines[0] + '\n' + (log.read_text()[-3000:]
                                                           if log.exists() else '')


@pytest.mark.parametrize('key', REPRESENTATIVE)
def test_representative_example_runs(key, tmp_path):
    _run_example(key, tmp_path, timeout=90)


@pytest.mark.slow
@pytest.mark.parametrize('key', SLOW)
def test_example_runs(key, tmp_path):
    _run_example(key, tmp_path, timeout=90)
