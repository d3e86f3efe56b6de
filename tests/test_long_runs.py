"""Long and disturbed runs (issue 15): 200 epochs keep memory flat; a
generator that raises mid-epoch leaves a model that predicts and trains on,
with the weights of its last finished batch and the History of its finished
epochs; `ImageDataGenerator.flow` stays correct when two threads draw from it."""
import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from minikeras.layers import Dense
from minikeras.models import Sequential
from minikeras.optimizers import SGD
from minikeras.preprocessing.image import ImageDataGenerator

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Resident memory after epochs 20 and 200, in a fresh process: a dense model
# (5 batches an epoch, validation) and a small CNN (one batch an epoch, so
# that the kernels' buffers are exercised without a long run).
LONG_RUN = textwrap.dedent('''
    import json, os
    import numpy as np
    from minikeras.callbacks import Callback
    from minikeras.layers import Convolution2D, Dense, Flatten, MaxPooling2D
    from minikeras.models import Sequential

    PAGE = os.sysconf('SC_PAGE_SIZE')

    def rss():
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * PAGE

    class Probe(Callback):
        def __init__(self):
            super(Probe, self).__init__()
            self.rss = {}

        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 in (20, 200):
                self.rss[epoch + 1] = rss()

    np.random.seed(0)
    report = {}
    dense = Sequential([Dense(32, input_dim=20, activation='relu'),
                        Dense(3, activation='softmax')])
    cnn = Sequential([Convolution2D(4, 3, 3, input_shape=(1, 10, 10), activation='tanh'),
                      MaxPooling2D((2, 2)), Flatten(), Dense(3, activation='softmax')])
    for name, model, x, batch_size, split in (
            ('dense', dense, np.random.standard_normal((100, 20)), 20, 0.2),
            ('cnn', cnn, np.random.standard_normal((8, 1, 10, 10)), 8, 0.)):
        y = np.eye(3)[np.random.randint(0, 3, len(x))]
        model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
        probe = Probe()
        history = model.fit(x, y, batch_size=batch_size, nb_epoch=200, verbose=0,
                            validation_split=split, callbacks=[probe])
        report[name] = {'growth_mb': (probe.rss[200] - probe.rss[20]) / 2. ** 20,
                        'rss_mb': probe.rss[200] / 2. ** 20,
                        'epochs': len(history.history['loss']),
                        'finite': bool(np.all(np.isfinite(history.history['loss'])))}
    print(json.dumps(report))
''')


@pytest.mark.skipif(not os.path.exists('/proc/self/statm'), reason='needs Linux /proc')
def test_200_epochs_keep_memory_flat():
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    result = subprocess.run([sys.executable, '-c', LONG_RUN], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, timeout=600)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    report = json.loads(result.stdout.decode().splitlines()[-1])
    print('RSS growth from epoch 20 to 200:', report)
    for name, run in report.items():
        assert run['epochs'] == 200 and run['finite'], report
        # The History's 200 entries are a few kB; a leak of one array per batch is megabytes.
        assert run['growth_mb'] < 2., report


# -- a generator that raises mid-epoch ----------------------------------------------

class Broken(Exception):
    pass


def batches(x, y, batch_size, fail_at=None):
    """Endless (x, y) batches in order; raises Broken before batch `fail_at`."""
    index = 0
    while True:
        for start in range(0, len(x), batch_size):
            if index == fail_at:
                raise Broken('the data source failed at batch %d' % index)
            index += 1
            yield x[start:start + batch_size], y[start:start + batch_size]


def dense_model():
    np.random.seed(3)
    model = Sequential([Dense(6, input_dim=4, activation='tanh'), Dense(2, activation='softmax')])
    model.compile(loss='categorical_crossentropy', optimizer=SGD(lr=0.1, momentum=0.9),
                  metrics=['accuracy'])
    return model


def test_generator_raising_mid_epoch_leaves_a_usable_model():
    rng = np.random.RandomState(0)
    x = rng.standard_normal((40, 4)).astype('float32')
    y = np.eye(2)[rng.randint(0, 2, 40)]
    model = dense_model()
    # 4 batches an epoch: epochs 0 and 1 finish, epoch 2 fails before its 3rd batch.
    with pytest.raises(Broken, match='batch 10'):
        model.fit_generator(batches(x, y, 10, fail_at=10), samples_per_epoch=40, nb_epoch=5,
                            verbose=0)
    assert len(model.history.history['loss']) == 2
    assert model.history.epoch == [0, 1]

    # The same ten batches through train_on_batch: the weights match, update by update.
    twin = dense_model()
    source = batches(x, y, 10)
    for _ in range(10):
        twin.train_on_batch(*next(source))
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)

    # It predicts, and trains on from where it stopped as the twin does.
    np.testing.assert_allclose(model.predict(x), twin.predict(x), rtol=1e-6, atol=1e-7)
    history = model.fit_generator(batches(x, y, 10), samples_per_epoch=40, nb_epoch=1,
                                  verbose=0)
    fresh = batches(x, y, 10)
    for _ in range(4):
        twin.train_on_batch(*next(fresh))
    assert len(history.history['loss']) == 1 and np.isfinite(history.history['loss'][0])
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_generator_giving_a_bad_batch_mid_epoch_names_it_and_keeps_the_weights():
    rng = np.random.RandomState(1)
    x = rng.standard_normal((20, 4)).astype('float32')
    y = np.eye(2)[rng.randint(0, 2, 20)]

    def generator():
        yield x[:10], y[:10]
        yield x[10:, :3], y[10:]           # one feature short
    model = dense_model()
    with pytest.raises(ValueError, match=r'model input.*shape \(None, 4\).*\(10, 3\)'):
        model.fit_generator(generator(), samples_per_epoch=20, nb_epoch=1, verbose=0)
    twin = dense_model()
    twin.train_on_batch(x[:10], y[:10])
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


# -- ImageDataGenerator.flow from two threads ---------------------------------------

def labelled_images(n):
    """Image i is filled with the value i (and its label is i): any mix-up of
    images and labels, or of samples, shows."""
    x = np.repeat(np.arange(n, dtype='float32'), 3 * 4 * 4).reshape(n, 3, 4, 4)
    return x, np.arange(n)


@pytest.mark.parametrize('shuffle', [False, True])
def test_flow_from_two_threads_serves_every_sample_once_per_epoch(shuffle):
    n, batch_size, epochs = 60, 7, 6
    x, y = labelled_images(n)
    datagen = ImageDataGenerator(horizontal_flip=True, vertical_flip=True, dim_ordering='th')
    flow = datagen.flow(x, y, batch_size=batch_size, shuffle=shuffle)
    batches_per_epoch = -(-n // batch_size)
    drawn = [[], []]
    errors = []
    start = threading.Barrier(2)

    def draw(out):
        try:
            start.wait()
            for _ in range(batches_per_epoch * epochs // 2):
                out.append(next(flow))
        except Exception as error:  # noqa: BLE001  (reported by the test)
            errors.append(error)
    threads = [threading.Thread(target=draw, args=(out,)) for out in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    all_batches = drawn[0] + drawn[1]
    assert len(all_batches) == batches_per_epoch * epochs
    for batch_x, batch_y in all_batches:
        # Flips keep a constant image constant: each image still says its label.
        np.testing.assert_array_equal(batch_x[:, 0, 0, 0], batch_y)
        assert np.all(batch_x == batch_x[:, :1, :1, :1])
    labels = np.concatenate([batch_y for _, batch_y in all_batches])
    assert len(labels) == n * epochs
    # Every sample the same number of times overall (epochs are not interleaved
    # in a fixed way between threads, but the shared index never skips or repeats).
    np.testing.assert_array_equal(np.bincount(labels, minlength=n), np.full(n, epochs))
    sizes = sorted(len(batch_y) for _, batch_y in all_batches)
    assert sizes.count(n % batch_size) == epochs
