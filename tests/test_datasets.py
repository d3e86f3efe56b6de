"""keras.datasets: the files Keras caches, written small by the tests, read as
Keras returned them (IMDB and Reuters against Keras 1.2.2's own answers in
fixtures/keras122_datasets.json, made by make_dataset_fixture.py)."""
import gzip
import io
import json
import os
import pickle
import struct
import tarfile

import numpy as np
import pytest

from minikeras import backend as K
from minikeras.datasets import boston_housing, cifar10, cifar100, fashion_mnist, imdb, reuters
from minikeras.datasets._common import DatasetError
from minikeras.utils.data_utils import DownloadError

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures',
                       'keras122_datasets.json')
with open(FIXTURE) as f:
    K122 = json.load(f)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty Keras cache; downloads stay off (conftest)."""
    monkeypatch.setenv('KERAS_HOME', str(tmp_path))
    folder = tmp_path / 'datasets'
    folder.mkdir()
    return folder


def write_pickle(path, obj):
    with open(str(path), 'wb') as f:
        pickle.dump(obj, f, protocol=2)


def ragged(lists):
    out = np.empty(len(lists), dtype=object)
    for i, x in enumerate(lists):
        out[i] = list(x)
    return out


def assert_split(got, case):
    (a, b), (c, d) = got
    assert a.dtype == object and c.dtype == object
    assert [list(x) for x in a] == case['x_train'] and [list(x) for x in c] == case['x_test']
    assert b.tolist() == case['y_train'] and d.tolist() == case['y_test']


@pytest.mark.parametrize('index', range(4))
def test_imdb_matches_keras_1_2_2_from_either_file(cache, index):
    case = K122['imdb'][index]
    (xtr, ytr), (xte, yte) = K122['imdb_input']
    write_pickle(cache / 'small_imdb.pkl', ((xtr, ytr), (xte, yte)))
    assert_split(imdb.load_data(path='small_imdb.pkl', **case['kwargs']), case)
    # Keras 1.2.2 left NumPy's global generator seeded by its shuffles.
    assert np.random.random() == case['numpy_after']
    np.savez(str(cache / 'imdb.npz'), x_train=ragged(xtr), y_train=np.array(ytr),
             x_test=ragged(xte), y_test=np.array(yte))
    kwargs = dict(case['kwargs'])
    if 'nb_words' in kwargs:
        kwargs['num_words'] = kwargs.pop('nb_words')  # Keras 2's name
    # Under its default name the file must have the real file's md5, as in Keras 2.
    with pytest.raises(DownloadError, match='imdb.npz does not match its md5 hash 599dadb'):
        imdb.load_data(**kwargs)
    copy = os.path.join(str(cache), 'elsewhere.npz')
    os.rename(str(cache / 'imdb.npz'), copy)
    assert_split(imdb.load_data(path=copy, **kwargs), case)


@pytest.mark.parametrize('index', range(3))
def test_reuters_matches_keras_1_2_2(cache, index):
    case = K122['reuters'][index]
    write_pickle(cache / 'reuters.pkl', tuple(K122['reuters_input']))  # Keras 1: no md5
    assert_split(reuters.load_data(**case['kwargs']), case)
    xs, ys = K122['reuters_input']
    np.savez(str(cache / 'mine.npz'), x=ragged(xs), y=np.array(ys))
    assert_split(reuters.load_data(path='mine.npz', **case['kwargs']), case)


def test_word_sequences_by_hand(cache):
    write_pickle(cache / 'reuters.pkl', ([[1, 2, 3, 9]], [4]))
    (x, y), _ = reuters.load_data(test_split=0)
    # start 1, words shifted by 3; nb_words defaults to the largest index, which itself is cut.
    assert list(x[0]) == [1, 4, 5, 6, 2] and y.tolist() == [4]
    (x, _), _ = reuters.load_data(test_split=0, oov_char=None, nb_words=6)
    assert list(x[0]) == [1, 4, 5]  # out-of-range words dropped (Keras 2's reading of None)
    (x, _), _ = reuters.load_data(test_split=0, skip_top=5, nb_words=100)
    assert list(x[0]) == [2, 2, 5, 6, 12]


def test_word_index_files(cache):
    with open(str(cache / 'words.json'), 'w') as f:
        json.dump({'the': 1, 'movie': 17}, f)
    assert imdb.get_word_index('words.json') == {'the': 1, 'movie': 17}
    write_pickle(cache / 'reuters_word_index.pkl', {'oil': 3})
    assert reuters.get_word_index() == {'oil': 3}


def test_text_dataset_errors(cache):
    write_pickle(cache / 'reuters.pkl', ([[1, 2]], [0]))
    for kwargs, match in (({'nb_words': -1}, 'nb_words must be'),
                          ({'skip_top': 'a'}, 'skip_top must be'),
                          ({'test_split': 1.5}, r'test_split must be in \[0, 1\)'),
                          ({'nb_words': 3, 'num_words': 4}, 'name the same setting'),
                          ({'maxlen': 1}, 'no sequence was kept')):
        with pytest.raises(ValueError, match=match):
            reuters.load_data(**kwargs)
    (cache / 'imdb_full.pkl').write_bytes(pickle.dumps([1, 2, 3])[:5])
    with pytest.raises(DownloadError, match='imdb_full.pkl does not match its md5'):
        imdb.load_data()
    with pytest.raises(DatasetError, match='imdb_full.pkl.*corrupt or truncated'):
        imdb.load_data(path=str(cache / 'imdb_full.pkl'))
    with pytest.raises(DownloadError, match='imdb_word_index.json is not in the cache and '
                                            'downloads are off'):
        imdb.get_word_index()


def test_unsafe_pickles_are_refused(cache):
    write_pickle(cache / 'reuters.pkl', (os.getcwd, [1]))
    with pytest.raises(DatasetError, match='refusing to load'):
        reuters.load_data()


def cifar_archive(folder, name, batches):
    """A Keras-cached CIFAR archive: <name>.tar.gz holding <name>/<batch> pickles."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
        for batch, content in batches.items():
            data = pickle.dumps(content, protocol=2)
            info = tarfile.TarInfo('%s/%s' % (name, batch))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (folder / (name + '.tar.gz')).write_bytes(buffer.getvalue())


def cifar_batch(n, seed, **labels):
    rs = np.random.RandomState(seed)
    batch = {b'data': rs.randint(0, 256, size=(n, 3072)).astype(np.uint8)}
    batch.update({k.encode(): rs.randint(0, 10, size=n).tolist() for k in labels})
    return batch


@pytest.mark.parametrize('ordering', ['th', 'tf'])
def test_cifar10_from_the_cached_archive(cache, ordering, monkeypatch):
    monkeypatch.setattr(K, 'image_dim_ordering', lambda: ordering)
    batches = {'data_batch_%d' % i: cifar_batch(3, i, labels=True) for i in range(1, 6)}
    batches['test_batch'] = cifar_batch(2, 9, labels=True)
    cifar_archive(cache, 'cifar-10-batches-py', batches)
    (x, y), (xt, yt) = cifar10.load_data()
    assert y.shape == (15, 1) and y.dtype == np.uint8 and yt.shape == (2, 1)
    images = np.concatenate([batches['data_batch_%d' % i][b'data'] for i in range(1, 6)])
    images = images.reshape(15, 3, 32, 32)  # rows are the red, green, blue planes
    if ordering == 'tf':
        images = images.transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(x, images)
    assert y[:3, 0].tolist() == batches['data_batch_1'][b'labels']


def test_cifar100_label_modes_and_errors(cache):
    cifar_archive(cache, 'cifar-100-python',
                  {'train': cifar_batch(4, 1, fine_labels=True, coarse_labels=True),
                   'test': cifar_batch(2, 2, fine_labels=True, coarse_labels=True)})
    (_, fine), _ = cifar100.load_data()
    (_, coarse), _ = cifar100.load_data(label_mode='coarse')
    train = cifar_batch(4, 1, fine_labels=True, coarse_labels=True)
    assert fine[:, 0].tolist() == train[b'fine_labels']
    assert coarse[:, 0].tolist() == train[b'coarse_labels']
    with pytest.raises(ValueError, match='label_mode must be "fine" or "coarse", got .medium.'):
        cifar100.load_data(label_mode='medium')
    (cache / 'cifar-100-python' / 'test').write_bytes(b'\x80\x02garbage')
    with pytest.raises(DatasetError, match='test as a CIFAR batch.*corrupt'):
        cifar100.load_data()


def test_a_truncated_cifar_archive_is_named(cache):
    cifar_archive(cache, 'cifar-10-batches-py', {'test_batch': cifar_batch(2, 1, labels=True)})
    raw = (cache / 'cifar-10-batches-py.tar.gz').read_bytes()
    (cache / 'cifar-10-batches-py.tar.gz').write_bytes(raw[:40])
    with pytest.raises(DownloadError, match='cifar-10-batches-py.tar.gz'):
        cifar10.load_data()
    assert not (cache / 'cifar-10-batches-py').exists()


def test_fashion_mnist_idx_files(cache):
    folder = cache / 'fashion-mnist'
    folder.mkdir()
    rs = np.random.RandomState(0)
    arrays = {}
    for prefix, n in (('train', 5), ('t10k', 3)):
        x = rs.randint(0, 256, size=(n, 28, 28)).astype(np.uint8)
        y = rs.randint(0, 10, size=n).astype(np.uint8)
        arrays[prefix] = (x, y)
        with gzip.open(str(folder / ('%s-images-idx3-ubyte.gz' % prefix)), 'wb') as f:
            f.write(struct.pack('>IIII', 0x803, n, 28, 28) + x.tobytes())
        with gzip.open(str(folder / ('%s-labels-idx1-ubyte.gz' % prefix)), 'wb') as f:
            f.write(struct.pack('>II', 0x801, n) + y.tobytes())
    (x, y), (xt, yt) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x, arrays['train'][0])
    np.testing.assert_array_equal(yt, arrays['t10k'][1])
    with gzip.open(str(folder / 't10k-labels-idx1-ubyte.gz'), 'wb') as f:
        f.write(struct.pack('>II', 0x801, 4) + b'\x01')
    with pytest.raises(DatasetError, match='t10k-labels-idx1-ubyte.gz.*downloaded again'):
        fashion_mnist.load_data()


def test_boston_housing(cache):
    x = np.arange(50 * 13, dtype=float).reshape(50, 13)
    y = np.arange(50, dtype=float)
    np.savez(str(cache / 'houses.npz'), x=x, y=y)
    (a, b), (c, d) = boston_housing.load_data(path='houses.npz', test_split=0.2, seed=113)
    order = np.arange(50)
    np.random.RandomState(113).shuffle(order)
    np.testing.assert_array_equal(b, y[order[:40]])
    np.testing.assert_array_equal(c, x[order[40:]])
    with pytest.raises(ValueError, match='test_split'):
        boston_housing.load_data(test_split=-0.1)
