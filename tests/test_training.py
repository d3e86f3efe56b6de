"""The training loop: Keras 1.2.2 semantics of fit/evaluate/predict, the
printed lines, reproducibility, errors, and Ctrl-C."""
import os
import re
import signal

import numpy as np
import pytest

from minikeras import callbacks, objectives
from minikeras.layers import Activation, Convolution2D, Dense, Dropout, Flatten, MaxPooling2D
from minikeras.models import Sequential
from minikeras.optimizers import SGD
from minikeras.utils.np_utils import to_categorical

from gradcheck import check_model_gradients


def dense_model(seed=0, dropout=False):
    np.random.seed(seed)
    model = Sequential()
    model.add(Dense(8, input_dim=5, init='normal'))
    model.add(Activation('tanh'))
    if dropout:
        model.add(Dropout(0.3))
    model.add(Dense(3))
    model.add(Activation('softmax'))
    model.compile(loss='categorical_crossentropy', optimizer=SGD(lr=0.1, momentum=0.9),
                  metrics=['accuracy'])
    return model


def toy_data(n=40, seed=1):
    rng = np.random.RandomState(seed)
    x = rng.standard_normal((n, 5)).astype('float32')
    y = to_categorical(np.argmax(x[:, :3], axis=1), 3)
    return x, y


def small_cnn(ordering='th'):
    model = Sequential()
    shape = (1, 10, 10) if ordering == 'th' else (10, 10, 1)
    model.add(Convolution2D(2, 3, 3, input_shape=shape, dim_ordering=ordering))
    model.add(Activation('tanh'))
    model.add(MaxPooling2D((2, 2), dim_ordering=ordering))
    model.add(Flatten())
    model.add(Dense(3, init='normal'))
    model.add(Activation('softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='sgd', metrics=['accuracy'])
    return model


def test_train_on_batch_applies_the_finite_difference_gradient():
    """(No pooling here: its kinks would make finite differences unreliable.)"""
    model = Sequential([Convolution2D(2, 3, 3, input_shape=(1, 10, 10), activation='tanh'),
                        Flatten(), Dense(3, init='normal'), Activation('softmax')])
    model.compile(loss='categorical_crossentropy', optimizer='sgd')
    rng = np.random.RandomState(0)
    x = rng.standard_normal((4, 1, 10, 10)).astype('float32')
    check_model_gradients(model, x, to_categorical([0, 1, 2, 1], 3))


def test_loss_reported_before_the_update_and_metric_named_acc():
    model = dense_model()
    x, y = toy_data()
    expected_loss = float(np.mean(objectives.categorical_crossentropy(y, model.predict(x))))
    loss, acc = model.train_on_batch(x, y)
    assert model.metrics_names == ['loss', 'acc']
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert 0 <= acc <= 1


def test_fit_takes_validation_from_the_end_before_shuffling(monkeypatch):
    model = dense_model()
    x, y = toy_data(50)
    seen = []
    original = model._train_arrays

    def spy(inputs, targets, weights):
        seen.append(inputs[0].copy())
        return original(inputs, targets, weights)
    monkeypatch.setattr(model, '_train_arrays', spy)
    history = model.fit(x, y, batch_size=7, nb_epoch=2, validation_split=0.2, verbose=0)
    assert set(history.history) == {'loss', 'acc', 'val_loss', 'val_acc'}
    assert len(history.history['val_acc']) == 2
    epoch_batches = len(seen) // 2
    assert epoch_batches == 6  # 40 training samples in batches of 7
    for epoch in range(2):
        rows = np.concatenate(seen[epoch * 6:(epoch + 1) * 6])
        assert len(rows) == 40
        # Every training row comes from the first 40 samples; none from the held-out 10.
        assert {tuple(r) for r in rows} == {tuple(r) for r in x[:40]}
    first_epoch = np.concatenate(seen[:6])
    second_epoch = np.concatenate(seen[6:])
    assert not np.array_equal(first_epoch, second_epoch)  # reshuffled each epoch
    val_loss, val_acc = model.evaluate(x[40:], y[40:], verbose=0)
    assert history.history['val_loss'][-1] == pytest.approx(val_loss, rel=1e-6)


def test_shuffle_false_keeps_batch_order(monkeypatch):
    model = dense_model()
    x, y = toy_data(20)
    seen = []
    original = model._train_arrays
    monkeypatch.setattr(model, '_train_arrays',
                        lambda i, t, w: seen.append(i[0].copy()) or original(i, t, w))
    model.fit(x, y, batch_size=6, nb_epoch=1, shuffle=False, verbose=0)
    np.testing.assert_array_equal(np.concatenate(seen), x)
    assert [len(s) for s in seen] == [6, 6, 6, 2]


def test_same_seed_gives_identical_losses():
    def run():
        model = dense_model(seed=5, dropout=True)
        np.random.seed(9)
        x, y = toy_data(60)
        return model.fit(x, y, batch_size=8, nb_epoch=3, verbose=0,
                         validation_split=0.25).history
    assert run() == run()


def test_verbose_1_prints_keras_1_lines(capsys):
    model = dense_model()
    x, y = toy_data(50)
    model.fit(x, y, batch_size=10, nb_epoch=2, validation_split=0.2, verbose=1)
    out = capsys.readouterr().out
    assert out.startswith('Train on 40 samples, validate on 10 samples\nEpoch 1/2\n')
    final_lines = [line.split('\r')[-1].strip('\x08') for line in out.split('\n')
                   if '40/40' in line]
    assert len(final_lines) == 2
    pattern = (r'^40/40 \[={30}\] - \d+s - loss: \d\.\d{4} - acc: \d\.\d{4} - '
               r'val_loss: \d\.\d{4} - val_acc: \d\.\d{4}$')
    for line in final_lines:
        assert re.match(pattern, line), line


def test_verbose_2_prints_one_line_per_epoch(capsys):
    model = dense_model()
    x, y = toy_data(30)
    model.fit(x, y, batch_size=10, nb_epoch=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == 'Epoch 1/2' and lines[2] == 'Epoch 2/2'
    assert re.match(r'^\d+s - loss: \d\.\d{4} - acc: \d\.\d{4}$', lines[1])


def test_history_values_are_batch_size_weighted_means():
    model = dense_model()
    x, y = toy_data(25)
    logged = []

    class Recorder(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            logged.append((logs['size'], logs['loss']))
    history = model.fit(x, y, batch_size=10, nb_epoch=1, verbose=0, callbacks=[Recorder()])
    expected = sum(size * loss for size, loss in logged) / 25
    assert [size for size, _ in logged] == [10, 10, 5]
    assert history.history['loss'][0] == pytest.approx(expected)


def test_evaluate_and_predict_batch_like_keras_1():
    model = dense_model()
    x, y = toy_data(70)
    batched = model.predict(x, batch_size=32)
    assert batched.dtype == np.float32 and batched.shape == (70, 3)
    np.testing.assert_allclose(batched, model.predict(x, batch_size=70), rtol=1e-6, atol=1e-7)
    loss, acc = model.evaluate(x, y, batch_size=32, verbose=0)
    per_batch = [model.test_on_batch(x[s:s + 32], y[s:s + 32]) for s in (0, 32, 64)]
    sizes = [32, 32, 6]
    assert loss == pytest.approx(sum(n * b[0] for n, b in zip(sizes, per_batch)) / 70)
    classes = model.predict_classes(x, verbose=0)
    np.testing.assert_array_equal(classes, batched.argmax(axis=1))
    assert acc == pytest.approx(np.mean(classes == y.argmax(axis=1)))


@pytest.mark.parametrize('ordering', ['th', 'tf'])
def test_cnn_learns_a_separable_problem(ordering):
    np.random.seed(0)
    model = small_cnn(ordering)
    model.compile(loss='categorical_crossentropy', optimizer=SGD(lr=0.1, momentum=0.9),
                  metrics=['accuracy'])
    rng = np.random.RandomState(0)
    labels = rng.randint(0, 3, 300)
    x = rng.standard_normal((300, 1, 10, 10)).astype('float32') * 0.3
    for i, label in enumerate(labels):
        x[i, 0, 3 * label:3 * label + 3, :] += 1.0
    if ordering == 'tf':
        x = x.transpose(0, 2, 3, 1)
    history = model.fit(x, to_categorical(labels, 3), batch_size=20, nb_epoch=5, verbose=0)
    assert history.history['acc'][-1] > 0.95


def test_channels_last_data_for_a_channels_first_model_is_explained():
    model = small_cnn('th')
    x = np.zeros((4, 10, 10, 1), dtype='float32')
    with pytest.raises(ValueError, match=r"expected convolution2d_input_\d+ to have shape "
                                         r"\(None, 1, 10, 10\) but got array with shape "
                                         r"\(4, 10, 10, 1\).*'tf' ordering"):
        model.fit(x, np.zeros((4, 3)), verbose=0)


def test_label_width_mismatch_is_caught_before_any_weight_changes():
    model = dense_model()
    x, _ = toy_data(10)
    before = model.get_weights()
    with pytest.raises(ValueError, match=r'expected activation_\d+ to have shape \(None, 3\) but '
                                         r'got array with shape \(10, 10\)'):
        model.fit(x, np.zeros((10, 10)), verbose=0)
    with pytest.raises(ValueError, match='to_categorical'):
        model.train_on_batch(x, np.zeros((10, 1)))
    with pytest.raises(ValueError, match='10 input samples and 9 target samples'):
        model.fit(x, np.zeros((9, 3)), verbose=0)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_dense_on_images_without_flatten_is_explained_at_fit():
    """Keras 1.2.2's Dense applies to the last axis of any input, so a missing
    Flatten builds; the 2D targets then fail with the advice."""
    model = Sequential()
    model.add(Convolution2D(2, 3, 3, input_shape=(1, 8, 8)))
    model.add(Dense(3))
    assert model.output_shape == (None, 2, 6, 3)
    model.compile(loss='mse', optimizer='sgd')
    with pytest.raises(ValueError, match=r'expected dense_\d+ to have 4 dimensions.*'
                                         r'put a Flatten\(\) layer before it'):
        model.fit(np.zeros((2, 1, 8, 8)), np.zeros((2, 3)), verbose=0)


def test_without_an_input_shape_the_first_data_sets_it():
    model = Sequential([Dense(3), Activation('softmax')])
    with pytest.raises(RuntimeError, match='does not know its input shape yet.*input_shape'):
        model.summary()
    model.compile(loss='categorical_crossentropy', optimizer='sgd', metrics=['accuracy'])
    x, y = np.zeros((4, 7), dtype='float32'), np.eye(3)[[0, 1, 2, 0]]
    assert model.train_on_batch(x, y)[1] == 0.5  # uniform output: argmax 0, right for 2 of 4
    assert model.input_shape == (None, 7) and model.layers[0].W.shape == (7, 3)


def test_unknown_names_in_compile():
    model = Sequential([Dense(2, input_dim=3)])
    with pytest.raises(ValueError, match="Unknown loss: 'mse2'"):
        model.compile(loss='mse2', optimizer='sgd')
    with pytest.raises(ValueError, match="Unknown optimizer: 'sgd2'"):
        model.compile(loss='mse', optimizer='sgd2')
    with pytest.raises(ValueError, match="Unknown init: 'gaussian'"):
        Sequential([Dense(2, input_dim=3, init='gaussian')])
    with pytest.raises(RuntimeError, match='compile'):
        model.fit(np.zeros((2, 3)), np.zeros((2, 2)), verbose=0)


def test_summary_matches_keras_1_layout(capsys):
    model = Sequential()
    model.add(Convolution2D(4, 5, 5, input_shape=(1, 28, 28)))
    model.add(Flatten())
    model.add(Dense(10))
    model.summary()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == '_' * 100
    assert lines[1].startswith('Layer (type)' + ' ' * 21 + 'Output Shape')
    conv = model.layers[0].name
    assert re.match(r'^%s \(Convolution2D\)\s+\(None, 4, 24, 24\)\s+104\s+convolution2d_input_\d+\[0\]\[0\]'
                    % conv, lines[3])
    assert 'Total params: 23,154' in lines
    assert 'Trainable params: 23,154' in lines
    assert 'Non-trainable params: 0' in lines


def test_ctrl_c_stops_at_a_batch_boundary_and_keeps_a_usable_model():
    model = dense_model()
    x, y = toy_data(60)

    class Interrupt(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            if self.params and len(model.history.epoch) == 1 and batch == 2:
                os.kill(os.getpid(), signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=10, nb_epoch=5, verbose=0, callbacks=[Interrupt()])
    assert model.history.epoch == [0]
    assert len(model.history.history['loss']) == 1
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert model.predict(x).shape == (60, 3)
    # Training resumes normally afterwards, and SIGINT is back to normal.
    model.fit(x, y, batch_size=10, nb_epoch=1, verbose=0)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
