"""The test suite ignores the user's Keras settings (tests/conftest.py)."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def test_environment_is_clean():
    """Run as part of the suite, and by the test below in a polluted environment."""
    from minikeras import backend
    assert backend.image_dim_ordering() == 'th'
    # (conftest's own settings: no test downloads; where real digits may be copied from.)
    assert sorted(n for n in os.environ if n.startswith('MINIKERAS_')) == \
        ['MINIKERAS_OFFLINE', 'MINIKERAS_TESTS_USER_DATASETS']
    assert [n for n in os.environ if n.startswith('KERAS_')] == ['KERAS_HOME']
    assert os.listdir(os.environ['KERAS_HOME']) == []


def test_user_settings_do_not_reach_the_tests(tmp_path):
    home = tmp_path / 'home'
    (home / '.keras').mkdir(parents=True)
    (home / '.keras' / 'keras.json').write_text(json.dumps({'image_dim_ordering': 'tf'}))
    keras_home = tmp_path / 'keras_home'
    keras_home.mkdir()
    (keras_home / 'keras.json').write_text(json.dumps({'image_dim_ordering': 'tf'}))
    env = dict(os.environ, HOME=str(home), KERAS_HOME=str(keras_home),
               KERAS_IMAGE_DIM_ORDERING='tf', KERAS_BACKEND='tensorflow',
               MINIKERAS_KERAS_VERSION='0.3', MINIKERAS_MNIST=str(tmp_path / 'nowhere'),
               PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    result = subprocess.run(
        [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
         os.path.join(HERE, 'test_isolation.py') + '::test_environment_is_clean'],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    assert result.returncode == 0, result.stdout.decode()[-3000:]
    assert os.listdir(str(keras_home)) == ['keras.json']
