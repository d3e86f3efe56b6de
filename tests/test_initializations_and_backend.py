"""Initializations (Keras 1 fans and scales) and the backend settings."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from minikeras import initializations

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize('shape,ordering,fans', [
    ((300, 200), 'th', (300, 200)),
    ((8, 4, 3, 5), 'th', (4 * 15, 8 * 15)),
    ((3, 5, 4, 8), 'tf', (4 * 15, 8 * 15)),
    ((7,), 'th', (np.sqrt(7), np.sqrt(7))),
])
def test_fans_as_keras_1(shape, ordering, fans):
    assert initializations.get_fans(shape, ordering) == pytest.approx(fans)


@pytest.mark.parametrize('name,kind,scale', [
    ('normal', 'normal', lambda fi, fo: 0.05),
    ('uniform', 'uniform', lambda fi, fo: 0.05),
    ('glorot_normal', 'normal', lambda fi, fo: np.sqrt(2. / (fi + fo))),
    ('glorot_uniform', 'uniform', lambda fi, fo: np.sqrt(6. / (fi + fo))),
    ('he_normal', 'normal', lambda fi, fo: np.sqrt(2. / fi)),
    ('he_uniform', 'uniform', lambda fi, fo: np.sqrt(6. / fi)),
    ('lecun_uniform', 'uniform', lambda fi, fo: np.sqrt(3. / fi)),
])
@pytest.mark.parametrize('shape,ordering', [((400, 300), 'th'), ((64, 32, 3, 3), 'th'),
                                            ((3, 3, 32, 64), 'tf')])
def test_distributions_and_scales(name, kind, scale, shape, ordering):
    fan_in, fan_out = initializations.get_fans(shape, ordering)
    w = initializations.get(name)(shape, dim_ordering=ordering)
    assert w.shape == shape and w.dtype == np.float32
    s = scale(fan_in, fan_out)
    if kind == 'uniform':
        assert np.abs(w).max() <= s * (1 + 1e-6) and np.abs(w).max() > 0.98 * s
        assert w.std() == pytest.approx(s / np.sqrt(3), rel=0.05)
    else:
        assert w.std() == pytest.approx(s, rel=0.05)
    assert abs(w.mean()) < 0.05 * s


def test_zero_one_identity_orthogonal():
    assert not initializations.zero((3, 2)).any()
    assert (initializations.one((3, 2)) == 1).all()
    np.testing.assert_array_equal(initializations.identity((3, 3), scale=2), 2 * np.eye(3))
    q = initializations.orthogonal((5, 5), scale=1.0)
    np.testing.assert_allclose(q @ q.T, np.eye(5), atol=1e-5)


def test_initializers_draw_from_numpys_global_generator():
    np.random.seed(7)
    a = initializations.glorot_uniform((4, 5))
    np.random.seed(7)
    np.testing.assert_array_equal(a, initializations.glorot_uniform((4, 5)))


def ordering_in_fresh_process(env):
    full = dict(os.environ)
    full.pop('KERAS_IMAGE_DIM_ORDERING', None)
    full.update(env)
    return subprocess.run([sys.executable, '-c', 'import minikeras.backend as K; '
                           'print(K.image_dim_ordering())'], env=full, cwd=ROOT,
                          capture_output=True, text=True)


def test_image_dim_ordering_default_config_file_and_environment(tmp_path):
    assert ordering_in_fresh_process({'KERAS_HOME': str(tmp_path)}).stdout.strip() == 'th'
    (tmp_path / 'keras.json').write_text(json.dumps({'image_dim_ordering': 'tf'}))
    assert ordering_in_fresh_process({'KERAS_HOME': str(tmp_path)}).stdout.strip() == 'tf'
    both = ordering_in_fresh_process({'KERAS_HOME': str(tmp_path),
                                      'KERAS_IMAGE_DIM_ORDERING': 'th'})
    assert both.stdout.strip() == 'th'
    bad = ordering_in_fresh_process({'KERAS_IMAGE_DIM_ORDERING': 'nhwc'})
    assert bad.returncode != 0 and 'must be "th" or "tf"' in bad.stderr


def test_readme_test_command_is_what_ci_runs():
    with open(os.path.join(ROOT, '.ci', 'run')) as f:
        ci_command = [line for line in f.read().splitlines()
                      if line and not line.startswith('#') and not line.startswith(('set ', 'cd '))]
    with open(os.path.join(ROOT, 'README.md')) as f:
        readme = f.read()
    assert len(ci_command) == 1
    assert '\n' + ci_command[0] + '\n' in readme
