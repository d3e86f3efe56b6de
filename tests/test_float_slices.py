"""Python 3's `/` as a slice bound in Keras 0.x/1.x scripts: a whole float is
taken as the int it equals (Python 2's value, NumPy < 1.12's reading)."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from minikeras.compat import float_slices
from minikeras.engine.training import slice_X

SCRIPT = '''
from __future__ import print_function
import numpy as np
X = np.arange(20)
split_at = len(X) - len(X) / 10
print(X[:split_at].shape, X[split_at:].shape, list(range(6))[len(X) / 10:])
def tail(n):
    return X[n / 2::4 / 2]
print(tail(30).tolist())
try:
    X[:4.5]
except TypeError:
    print('fraction refused')
'''


def run(script, *options):
    return subprocess.run([sys.executable, '-m', 'minikeras', 'run'] + list(options) +
                          [str(script)], capture_output=True, text=True, timeout=120)


def test_whole_float_bounds_under_minikeras_run(tmp_path):
    script = tmp_path / 'split.py'
    script.write_text(textwrap.dedent(SCRIPT).lstrip())
    result = run(script, '--keras-version', '0.3')
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ['(18,) (2,) [2, 3, 4, 5]', '[15, 17, 19]',
                                          'fraction refused']
    notices = [l for l in result.stderr.splitlines() if 'slice bound' in l]
    assert len(notices) == 2      # once per source line
    assert 'split.py line 5: slice bound 18.0' in notices[0] and 'taken as 18' in notices[0]


def test_keras_2_scripts_keep_numpys_error(tmp_path):
    script = tmp_path / 'split2.py'
    script.write_text('import numpy as np\nX = np.arange(20)\nprint(X[:len(X) / 2])\n')
    result = run(script, '--keras-version', '2.2.4')
    assert result.returncode != 0
    assert 'TypeError: slice indices must be integers' in result.stderr


def test_slice_bound_passes_everything_else_unchanged():
    for value in (None, 3, np.int64(4), -2, 2.5, 'a'):
        assert float_slices.slice_bound(value, 'f.py', 1) is value
    assert float_slices.slice_bound(6.0, 'f.py', 1) == 6
    assert float_slices.compile_script('x = [1, 2][0:1]\n', 'f.py') is None
    assert float_slices.compile_script('x = "ab"[::-1]\n', 'f.py') is None


def test_slice_X_takes_whole_floats_as_keras_0_3_did():
    X = np.arange(10)
    assert slice_X(X, 0, 10 - 10 / 5).tolist() == list(range(8))
    assert [a.tolist() for a in slice_X([X, X], 10 - 10 / 5)] == [[8, 9], [8, 9]]
    with pytest.raises(TypeError):
        slice_X(X, 0, 2.5)
