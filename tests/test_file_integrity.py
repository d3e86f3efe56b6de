"""Every file minikeras writes or reads survives damage and kills (issue 15):
damaged weights, model, Keras 3 export, JSON and YAML files fail with an
error that names the file and leave the weights alone; a writer killed at a
random moment leaves the previous file loadable; a damaged keras.json is
reported, not silently obeyed or fatal."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from minikeras.engine import saving
from minikeras.layers import Dense
from minikeras.models import Sequential

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def child_env():
    return dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))


def test_damaged_files_fail_cleanly(tmp_path):
    pytest.importorskip('yaml')
    variants = 40
    result = subprocess.run([sys.executable, os.path.join(HERE, 'corrupt_files.py'),
                             str(tmp_path), str(variants), '15'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300,
                            env=child_env())
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    reports = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert sorted(r['kind'] for r in reports) == ['json', 'keras3', 'model', 'weights', 'yaml']
    for report in reports:
        assert report['loaded'] + report['clean_error'] == variants, report
        assert not report['other'] and not report['changed'] and not report['unnamed'], report
        assert report['clean_error'] > 0, report


KILLED_WRITER = textwrap.dedent('''
    import sys
    import numpy as np
    from minikeras.engine import saving
    from minikeras.engine.keras3_export import export_to_keras3
    from minikeras.layers import Dense
    from minikeras.models import Sequential

    kind, path = sys.argv[1], sys.argv[2]
    models = []
    for fill in (1., 2.):
        model = Sequential([Dense(400, input_dim=300, name='wide'), Dense(2, name='out')])
        model.compile(loss='mse', optimizer='adam')
        model.set_weights([np.full(w.shape, fill, 'float32') for w in model.get_weights()])
        models.append(model)
    save = {'weights': saving.save_weights, 'model': saving.save_model,
            'keras3': export_to_keras3}[kind]
    count = 0
    while True:
        save(models[count % 2], path)
        count += 1
        if count == 1:
            print('first save done', flush=True)
''')


def model_like_the_writers():
    return Sequential([Dense(400, input_dim=300, name='wide'), Dense(2, name='out')])


@pytest.mark.parametrize('kind', ['weights', 'model', 'keras3'])
def test_writer_killed_at_random_moments_leaves_a_loadable_file(tmp_path, kind):
    """A child saves two models in turn, as fast as it can; it is SIGKILLed at
    random moments. Each time, the file holds one of the two models whole."""
    rng = np.random.RandomState(7)
    path = str(tmp_path / ('target.h5'))
    for _ in range(3):
        writer = subprocess.Popen([sys.executable, '-c', KILLED_WRITER, kind, path],
                                  stdout=subprocess.PIPE, env=child_env())
        try:
            assert writer.stdout.readline().strip() == b'first save done'
            time.sleep(rng.uniform(0., 0.5))
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait()
            writer.stdout.close()
        check = model_like_the_writers()
        if kind == 'model':
            check = saving.load_model(path)
        else:
            saving.load_weights(check, path)
        values = {float(v) for w in check.get_weights() for v in np.unique(w)}
        assert len(values) == 1 and values <= {1., 2.}, values
        # The killed writer's temporary file stays until the next save removes it.
        leftovers = [n for n in os.listdir(str(tmp_path)) if n != 'target.h5']
        assert len(leftovers) <= 1, leftovers
        assert all(n.startswith('.target.h5.%d.' % writer.pid) and n.endswith('.tmp')
                   for n in leftovers)


def test_damaged_keras_json_is_reported(tmp_path):
    """A keras.json that is not JSON (or says something invalid) is named in a
    warning or an error, never silently replaced by the default."""
    (tmp_path / 'keras.json').write_text('{"image_dim_ordering": "tf",')
    env = dict(child_env(), KERAS_HOME=str(tmp_path))
    env.pop('KERAS_IMAGE_DIM_ORDERING', None)
    code = 'import minikeras.backend as K; print(K.image_dim_ordering())'
    result = subprocess.run([sys.executable, '-c', code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip() == 'th'
    stderr = result.stderr.decode()
    assert 'keras.json' in stderr and 'not valid JSON' in stderr, stderr
    (tmp_path / 'keras.json').write_text('{"image_dim_ordering": "channels_last"}')
    result = subprocess.run([sys.executable, '-c', code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, timeout=120)
    assert result.returncode != 0
    assert "keras.json must be \"th\" or \"tf\", got 'channels_last'" in result.stderr.decode()


def test_json_and_yaml_configs_of_the_wrong_kind():
    text = Sequential([Dense(2, input_dim=3)]).to_json()
    with pytest.raises(ValueError, match='not valid JSON'):
        saving.model_from_json(text[:-3])
    with pytest.raises(ValueError, match=r'<config>.*missing or malformed'):
        saving.model_from_json(json.dumps({'class_name': 'Sequential', 'config': [None]}))
    with pytest.raises(ValueError, match=r'must be a dict with "class_name"'):
        saving.model_from_json('"just a string"')
    pytest.importorskip('yaml')
    with pytest.raises(ValueError, match=r'<config>.*missing or malformed'):
        saving.model_from_yaml('class_name: Sequential\nconfig:\n- 3\n')


def test_a_save_removes_the_temporaries_of_dead_writers_only(tmp_path):
    dead = tmp_path / '.m.h5.999999999.abc.tmp'        # no such process
    alive = tmp_path / ('.m.h5.%d.def.tmp' % os.getpid())
    other = tmp_path / '.other.h5.999999999.abc.tmp'
    for path in (dead, alive, other):
        path.write_bytes(b'partial')
    saving.save_weights(Sequential([Dense(2, input_dim=3)]), str(tmp_path / 'm.h5'))
    assert sorted(os.listdir(str(tmp_path))) == sorted([alive.name, other.name, 'm.h5'])
