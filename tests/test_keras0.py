"""Keras 0.x spellings (translated at the edge) and the 0.3 switch."""
import pickle
import re
import warnings

import numpy as np
import pytest

from minikeras.layers import Activation, Convolution2D, Dense, Flatten, MaxPooling2D, PReLU
from minikeras.models import Sequential
from minikeras.optimizers import SGD
from minikeras.utils.np_utils import to_categorical


def cnn(legacy):
    np.random.seed(3)
    model = Sequential()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        if legacy:
            model.add(Convolution2D(4, 1, 3, 3, border_mode='full'))
            model.add(Activation('tanh'))
            model.add(MaxPooling2D(poolsize=(2, 2)))
            model.add(Flatten())
            model.add(Dense(4 * 5 * 5, 3, init='normal'))
        else:
            model.add(Convolution2D(4, 3, 3, border_mode='full', input_shape=(1, 8, 8)))
            model.add(Activation('tanh'))
            model.add(MaxPooling2D(pool_size=(2, 2)))
            model.add(Flatten())
            model.add(Dense(3, init='normal'))
        model.add(Activation('softmax'))
    return model


def data(n=20, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.standard_normal((n, 1, 8, 8)).astype('float32')
    return x, to_categorical(rng.randint(0, 3, n), 3)


def test_keras_0_model_equals_keras_1_model_weight_for_weight():
    x, y = data()
    models = []
    for legacy in (True, False):
        # The 0.x model draws its initial weights at its first data, the 1.x one at
        # add(): nothing else draws in between, so both see the same numbers.
        model = cnn(legacy)
        models.append(model)
        model.compile(loss='categorical_crossentropy', optimizer=SGD(lr=0.1), class_mode='categorical')
        model.fit(x, y, batch_size=5, nb_epoch=2, verbose=0, shuffle=False)
    old, new = models
    assert old.input_shape == new.input_shape == (None, 1, 8, 8)
    for a, b in zip(old.get_weights(), new.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_dense_two_integers_and_prelu_input_shape():
    with pytest.warns(DeprecationWarning, match=r'Dense\(input_dim, output_dim\)'):
        layer = Dense(7, 3)
    assert layer.output_dim == 3 and layer.batch_input_shape == (None, 7)
    with pytest.warns(DeprecationWarning, match='PReLU'):
        prelu = PReLU((3,))
    assert prelu.init == 'zero'


def test_sgd_l2_is_accepted_with_a_warning_and_typos_still_fail():
    with pytest.warns(DeprecationWarning, match='l2 had no effect'):
        sgd = SGD(lr=0.1, l2=0.01)
    assert sgd.get_config()['lr'] == pytest.approx(0.1)  # a float32 variable, as Keras 1
    with pytest.raises(TypeError, match='lrr'):
        SGD(lrr=0.1)


def test_show_accuracy_prints_and_records_accuracy(capsys):
    x, y = data(30)
    model = cnn(legacy=False)
    model.compile(loss='categorical_crossentropy', optimizer='sgd')
    history = model.fit(x, y, batch_size=10, nb_epoch=1, show_accuracy=True,
                        validation_split=0.2, verbose=1)
    assert set(history.history) == {'loss', 'acc', 'val_loss', 'val_acc'}
    last = capsys.readouterr().out.split('\r')[-1]
    assert re.search(r'loss: [\d.]+ - acc: [\d.]+ - val_loss: [\d.]+ - val_acc: [\d.]+', last)
    assert model.metrics_names == ['loss']  # the flag does not stick to the model
    loss, acc = model.evaluate(x, y, show_accuracy=True, verbose=0)
    assert acc == pytest.approx(np.mean(model.predict_classes(x, verbose=0) == y.argmax(1)))


def test_train_and_test_return_loss_and_accuracy_pairs():
    x, y = data(10)
    model = cnn(legacy=False)
    model.compile(loss='categorical_crossentropy', optimizer='sgd')
    expected = model.test_on_batch(x, y)
    loss, acc = model.test(x, y, accuracy=True)
    assert loss == pytest.approx(expected)
    assert acc == pytest.approx(np.mean(model.predict(x).argmax(1) == y.argmax(1)))
    result = model.train(x, y, accuracy=True)
    assert isinstance(result, tuple) and result[0] == pytest.approx(loss)
    assert np.isscalar(model.train(x, y))


def test_keras_0_3_switch_changes_default_batch_size_and_epochs(monkeypatch):
    x, y = data(300)
    sizes = []
    model = cnn(legacy=False)
    model.compile(loss='categorical_crossentropy', optimizer='sgd')
    original = model._train_arrays
    monkeypatch.setattr(model, '_train_arrays',
                        lambda i, t, w: sizes.append(len(i[0])) or original(i, t, w))
    model.fit(x, y, verbose=0, nb_epoch=1)
    assert sizes[0] == 32
    sizes.clear()
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '0.3')
    history = model.fit(x[:10], y[:10], verbose=0)
    assert len(history.epoch) == 100 and sizes[0] == 10
    sizes.clear()
    model.fit(x, y, verbose=0, nb_epoch=1)
    assert sizes == [128, 128, 44]


def test_pickled_model_predicts_and_trains_like_the_original():
    x, y = data(20)
    model = cnn(legacy=False)
    model.compile(loss='categorical_crossentropy', optimizer=SGD(lr=0.1, momentum=0.9),
                  metrics=['accuracy'])
    model.fit(x, y, batch_size=5, nb_epoch=1, verbose=0)
    twin = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(twin.predict(x), model.predict(x))
    np.random.seed(0)
    a = model.fit(x, y, batch_size=5, nb_epoch=2, verbose=0).history
    np.random.seed(0)
    b = twin.fit(x, y, batch_size=5, nb_epoch=2, verbose=0).history
    assert a == b


@pytest.mark.parametrize('call', ['fit', 'evaluate', 'train_on_batch', 'test_on_batch'])
def test_accuracy_flags_on_a_model_whose_shape_comes_from_the_data(call):
    """A Keras 0.1-era script: no input shape on the first layer, compile, then
    fit(..., show_accuracy=True, validation_split=0.2) (issue 15)."""
    model = Sequential()
    model.add(Dense(3))
    model.add(Activation('softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='sgd')
    rng = np.random.RandomState(0)
    x = rng.standard_normal((20, 6)).astype('float32')
    y = to_categorical(rng.randint(0, 3, 20), 3)
    if call == 'fit':
        history = model.fit(x, y, nb_epoch=2, batch_size=5, show_accuracy=True,
                            validation_split=0.2, verbose=0)
        assert sorted(history.history) == ['acc', 'loss', 'val_acc', 'val_loss']
        assert all(len(v) == 2 for v in history.history.values())
    elif call == 'evaluate':
        loss, acc = model.evaluate(x, y, show_accuracy=True, verbose=0)
        predicted = model.predict(x).argmax(axis=1)
        assert acc == pytest.approx(np.mean(predicted == y.argmax(axis=1)))
    else:
        loss, acc = getattr(model, call)(x, y, accuracy=True)
        assert 0. <= acc <= 1.
    assert model.input_shape == (None, 6)
    assert model.metrics_names == ['loss']


def test_theano_compile_options_are_ignored_with_a_warning():
    model = Sequential([Dense(2, input_dim=3)])
    with pytest.warns(UserWarning, match=r'mode passed on to theano.function'):
        model.compile('rmsprop', 'mse', mode='FAST_COMPILE')
    assert model.predict(np.zeros((1, 3))).shape == (1, 2)
    with pytest.raises(TypeError, match='metric'):
        model.compile('rmsprop', 'mse', metric=['accuracy'])


def test_keras_0_3_dot_axes_as_sequences_of_axes():
    """0.3.3's babi_memnn: Merge([a, b], mode='dot', dot_axes=[(2,), (2,)])."""
    from minikeras.layers import Embedding, Merge as MergeLayer
    np.random.seed(0)
    left, right = Sequential(), Sequential()
    left.add(Embedding(10, 4, input_length=5))
    right.add(Embedding(10, 4, input_length=3))
    merged = MergeLayer([left, right], mode='dot', dot_axes=[(2,), (2,)])
    assert merged.dot_axes == [2, 2]
    model = Sequential()
    model.add(merged)
    a = np.random.randint(0, 10, (2, 5))
    b = np.random.randint(0, 10, (2, 3))
    want = np.einsum('nik,njk->nij', left.predict(a), right.predict(b))
    np.testing.assert_allclose(model.predict([a, b]), want, rtol=1e-5)
    with pytest.raises(ValueError, match=r'dot_axes=\[\(1, 2\), \(1, 2\)\] contracts several'):
        MergeLayer([left, right], mode='dot', dot_axes=[(1, 2), (1, 2)])


def test_np_utils_accuracy_of_keras_0():
    from minikeras.utils.np_utils import accuracy
    assert accuracy([1, 0, 1, 1], [1, 1, 1, 0]) == 0.5
    # 0.3.3's imdb_bidirectional_lstm: labels against rounded (n, 1) predictions
    assert accuracy(np.array([1, 0, 0]), np.array([[1.], [1.], [0.]])) == pytest.approx(2 / 3.)


def test_predict_gives_float64_under_keras_0_3_as_its_predict_loop(monkeypatch):
    """Keras 0.3.3 gathered predictions into np.zeros (float64) arrays, Keras 1
    into float32 ones; 0.3.3's lstm_text_generation relies on the former."""
    model = Sequential()
    model.add(Dense(3, input_dim=2))
    model.add(Activation('softmax'))
    model.compile('sgd', 'categorical_crossentropy')
    x = np.ones((4, 2), 'float32')
    assert model.predict(x).dtype == np.float32
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '0.3')
    assert model.predict(x).dtype == np.float64
    assert model.predict_proba(x, verbose=0).dtype == np.float64


def test_keras_0_slice_X_and_graph_input_dtype_as_0_3_scripts_use_them():
    from minikeras.compat.keras0_models import Graph, slice_X as slice_X_0
    X = np.arange(10)
    assert slice_X_0(X, 0, 10 - 10 / 5).tolist() == list(range(8))   # 0.3's addition_rnn
    graph = Graph()
    graph.add_input(name='words', input_shape=(4,), dtype=int)       # 0.3's imdb_bidirectional
    graph.add_input(name='floats', input_shape=(4,), dtype=float)
    with pytest.raises(ValueError, match="add_input dtype must be 'float' or 'int', got 'text'"):
        graph.add_input(name='bad', input_shape=(4,), dtype='text')
