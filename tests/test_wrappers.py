"""TimeDistributed: each step's output against the wrapped layer applied to
that step alone (a Python loop over time), and against NumPy formulas for
Dense; backward against finite differences; the wrapped weights training,
saving, loading, regularized and constrained; config and summary as Keras
1.2.2; a clear error for bad input with the weights left unchanged."""
import json
import os

import numpy as np
import pytest

from minikeras.layers import Activation, Convolution2D, Dense, Input, TimeDistributed
from minikeras.models import Model, Sequential, load_model, model_from_json
from minikeras.utils.layer_utils import layer_from_config

from gradcheck import built, check_layer_gradients


def rand(*shape, seed=0):
    return np.random.RandomState(seed).standard_normal(shape).astype('float32')


# -- forward -------------------------------------------------------------------------------------

def test_dense_at_every_step_matches_numpy():
    layer = built(TimeDistributed(Dense(3, activation='tanh')), (4, 5))
    assert layer.output_shape == (None, 4, 3)
    W, b = layer.get_weights()
    x = rand(2, 4, 5)
    expected = np.empty((2, 4, 3), dtype='float64')
    for sample in range(2):
        for step in range(4):
            expected[sample, step] = np.tanh(x[sample, step].astype('float64') @ W + b)
    np.testing.assert_allclose(layer.call(x), expected, rtol=1e-5, atol=1e-6)


def test_convolution_at_every_step_matches_the_layer_on_each_step():
    conv = Convolution2D(2, 3, 3, border_mode='same', dim_ordering='th')
    layer = built(TimeDistributed(conv), (3, 1, 5, 6))
    assert layer.output_shape == (None, 3, 2, 5, 6)
    x = rand(2, 3, 1, 5, 6)
    y = layer.call(x)
    for step in range(3):
        np.testing.assert_allclose(y[:, step], conv.call(np.ascontiguousarray(x[:, step])),
                                   rtol=1e-6, atol=1e-6)


def test_a_whole_model_at_every_step():
    inner = Sequential([Dense(4, input_dim=3), Activation('relu'), Dense(2)])
    layer = built(TimeDistributed(inner), (5, 3))
    assert layer.output_shape == (None, 5, 2)
    assert layer.count_params() == inner.count_params() == 3 * 4 + 4 + 4 * 2 + 2
    x = rand(2, 5, 3)
    y = layer.call(x)
    for step in range(5):
        np.testing.assert_allclose(y[:, step], inner.predict(x[:, step]), rtol=1e-6)


def test_functional_inner_model_and_shared_weights():
    a = Input(shape=(3,))
    inner = Model(input=a, output=Dense(2)(a))
    seq = Input(shape=(4, 3))
    out = TimeDistributed(inner)(seq)
    model = Model(input=seq, output=out)
    assert model.output_shape == (None, 4, 2)
    x = rand(2, 4, 3)
    np.testing.assert_allclose(model.predict(x)[:, 1], inner.predict(x[:, 1]), rtol=1e-6)


# -- backward ------------------------------------------------------------------------------------

@pytest.mark.parametrize('wrapped, sample_shape', [
    (lambda: Dense(3, activation='tanh'), (4, 5)),
    (lambda: Convolution2D(2, 2, 2, dim_ordering='th'), (3, 2, 4, 4)),
    (lambda: Convolution2D(2, 3, 3, border_mode='same', dim_ordering='tf'), (2, 4, 4, 2)),
    (lambda: Sequential([Dense(4, input_dim=3, activation='tanh'), Dense(2)]), (4, 3)),
])
def test_gradients_match_finite_differences(wrapped, sample_shape):
    layer = built(TimeDistributed(wrapped()), sample_shape)
    assert len(layer.trainable_weights) == len(layer.gradients) > 0
    check_layer_gradients(layer, rand(2, *sample_shape, seed=3))


# -- config ---------------------------------------------------------------------------------------

def test_config_round_trip_as_keras_1():
    layer = built(TimeDistributed(Dense(3, activation='relu'), name='td'), (4, 5))
    config = layer.get_config()
    assert config['name'] == 'td'
    assert config['layer']['class_name'] == 'Dense'
    assert config['layer']['config']['output_dim'] == 3
    copy = built(layer_from_config(json.loads(json.dumps({'class_name': 'TimeDistributed',
                                                          'config': config}))), (4, 5))
    assert isinstance(copy, TimeDistributed) and isinstance(copy.layer, Dense)
    copy.set_weights(layer.get_weights())
    x = rand(2, 4, 5)
    np.testing.assert_array_equal(copy.call(x), layer.call(x))


# -- bad input ------------------------------------------------------------------------------------

def test_2d_input_is_refused_naming_the_layer():
    with pytest.raises(ValueError, match=r'td_2d \(TimeDistributed\) expects input of at least 3 '
                                         r'dimensions.*got shape \(None, 5\)'):
        Sequential([TimeDistributed(Dense(3), input_shape=(5,), name='td_2d')])
    layer = built(TimeDistributed(Dense(3), name='td_2d_call'), (4, 5))
    before = layer.get_weights()
    with pytest.raises(ValueError, match=r'td_2d_call \(TimeDistributed\).*got shape \(2, 5\)'):
        layer.call(rand(2, 5))
    for old, new in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_a_layer_with_several_outputs_is_refused():
    a = Input(shape=(3,))
    two = Model(input=a, output=[Dense(2)(a), Dense(1)(a)])
    with pytest.raises(ValueError, match=r'\(TimeDistributed\).*has 2 outputs'):
        built(TimeDistributed(two), (4, 3))


def test_not_a_layer():
    with pytest.raises(TypeError, match='TimeDistributed expects a layer instance'):
        TimeDistributed('dense')


# -- in a model: training, regularizers, constraints, files, summary -----------------------------

def td_model(**dense_kwargs):
    model = Sequential()
    model.add(TimeDistributed(Dense(3, **dense_kwargs), input_shape=(4, 5)))
    model.add(TimeDistributed(Dense(2, activation='tanh')))
    model.compile(loss='mse', optimizer='sgd')
    return model


def test_wrapped_weights_train_as_their_gradient_says():
    from gradcheck import check_model_gradients
    model = td_model()
    assert len(model.trainable_weights) == 4
    check_model_gradients(model, rand(3, 4, 5), rand(3, 4, 2, seed=1))


def test_wrapped_model_weights_train():
    from gradcheck import check_model_gradients
    inner = Sequential([Dense(3, input_dim=5, activation='tanh'), Dense(2)])
    model = Sequential([TimeDistributed(inner, input_shape=(4, 5))])
    model.compile(loss='mse', optimizer='sgd')
    assert len(model.trainable_weights) == 4
    check_model_gradients(model, rand(3, 4, 5), rand(3, 4, 2, seed=1))


def test_frozen_wrapper_or_wrapped_layer_does_not_train():
    for model in (Sequential([TimeDistributed(Dense(2), input_shape=(4, 5), trainable=False)]),
                  Sequential([TimeDistributed(Dense(2, trainable=False), input_shape=(4, 5))])):
        model.compile(loss='mse', optimizer='sgd')
        assert model.trainable_weights == [] and len(model.non_trainable_weights) == 2
        before = model.get_weights()
        model.train_on_batch(rand(3, 4, 5), rand(3, 4, 2))
        for old, new in zip(before, model.get_weights()):
            np.testing.assert_array_equal(old, new)


def test_wrapped_regularizer_counts_in_the_loss():
    from minikeras.regularizers import l2
    model = td_model(W_regularizer=l2(0.1))
    x, y = rand(3, 4, 5), rand(3, 4, 2, seed=1)
    W = model.layers[0].layer.get_weights()[0]
    mse = np.mean((model.predict(x).astype('float64') - y) ** 2)
    penalty = 0.1 * np.sum(W.astype('float64') ** 2)
    np.testing.assert_allclose(model.test_on_batch(x, y), mse + penalty, rtol=1e-5)


def test_wrapped_activity_regularizer_counts_in_the_loss():
    from minikeras.regularizers import activity_l1
    model = Sequential([TimeDistributed(Dense(3, activity_regularizer=activity_l1(0.01)),
                                        input_shape=(4, 5))])
    model.compile(loss='mse', optimizer='sgd')
    x, y = rand(3, 4, 5), rand(3, 4, 3, seed=1)
    out = model.predict(x).astype('float64')
    np.testing.assert_allclose(model.test_on_batch(x, y),
                               np.mean((out - y) ** 2) + 0.01 * np.sum(np.abs(out)), rtol=1e-5)


def test_wrapped_constraint_applies_after_each_update():
    from minikeras.constraints import maxnorm
    model = td_model(W_constraint=maxnorm(0.05))
    model.optimizer.lr = 1.
    model.train_on_batch(rand(3, 4, 5), rand(3, 4, 2, seed=1) * 10)
    W = model.layers[0].layer.get_weights()[0]
    assert np.all(np.sqrt(np.sum(W ** 2, axis=0)) <= 0.05 + 1e-6)


def test_save_and_load_in_keras_1_layout(tmp_path):
    import h5py
    model = td_model()
    model.train_on_batch(rand(3, 4, 5), rand(3, 4, 2, seed=1))
    path = str(tmp_path / 'td.h5')
    model.save(path)
    first, second = model.layers[0], model.layers[1]
    with h5py.File(path, 'r') as f:
        group = f['model_weights'][first.name]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs['weight_names']]
        assert names == [first.layer.name + '_W', first.layer.name + '_b']
        np.testing.assert_array_equal(group[names[0]][()], first.layer.get_weights()[0])
        config = json.loads(f.attrs['model_config'])
        assert config['config'][1]['class_name'] == 'TimeDistributed'
        assert config['config'][1]['config']['layer']['class_name'] == 'Dense'
    loaded = load_model(path)
    x = rand(2, 4, 5, seed=4)
    saved_prediction = model.predict(x)
    np.testing.assert_array_equal(loaded.predict(x), saved_prediction)
    fresh = td_model()
    fresh.load_weights(path)
    np.testing.assert_array_equal(fresh.predict(x), saved_prediction)
    # training resumes where it stopped: the same step from the same state
    y = rand(2, 4, 2, seed=5)
    model.train_on_batch(x, y)
    loaded.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_json_round_trip():
    model = td_model()
    copy = model_from_json(model.to_json())
    copy.set_weights(model.get_weights())
    x = rand(2, 4, 5)
    np.testing.assert_array_equal(copy.predict(x), model.predict(x))


def test_summary_as_keras_1(capsys):
    model = Sequential()
    model.add(TimeDistributed(Dense(8, name='inner'), input_shape=(10, 16), name='td'))
    model.summary()
    lines = capsys.readouterr().out.splitlines()
    assert lines[3].rstrip() == 'td (TimeDistributed)             (None, 10, 8)         136' \
        '         td_input_1[0][0]'.replace('td_input_1', model.layers[0].inbound_nodes[0]
                                          .inbound_layers[0].name)
    assert 'Total params: 136' in lines and 'Trainable params: 136' in lines


# -- Keras 3 files ---------------------------------------------------------------------------------

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')


@pytest.mark.parametrize('name', ['k3_tensorflow_masking_td', 'k3_tensorflow_td_conv'])
def test_reads_keras3_files_with_time_distributed(name):
    model = load_model(os.path.join(FIXTURES, name + '.h5'), compile=False)
    data = np.load(os.path.join(FIXTURES, name + '.npz'))
    assert isinstance(model.layers[-1], TimeDistributed)
    np.testing.assert_allclose(model.predict(data['x']), data['y'], rtol=1e-5, atol=1e-6)


def test_exports_masking_and_time_distributed_to_keras3(tmp_path):
    import h5py
    from minikeras.engine.saving import export_to_keras3
    from minikeras.layers import Masking
    model = Sequential([Masking(input_shape=(4, 5)),
                        TimeDistributed(Dense(3, activation='tanh', name='inner'), name='td'),
                        TimeDistributed(Dense(2))])
    path = str(tmp_path / 'k3.h5')
    export_to_keras3(model, path)
    with h5py.File(path, 'r') as f:
        config = json.loads(f.attrs['model_config'])
        layers = config['config']['layers']
        assert [l['class_name'] for l in layers] == ['InputLayer', 'Masking', 'TimeDistributed',
                                                   'TimeDistributed']
        wrapped = layers[2]['config']['layer']
        assert wrapped['class_name'] == 'Dense' and wrapped['module'] == 'keras.layers'
        assert wrapped['config']['name'] == 'inner' and wrapped['config']['units'] == 3
        np.testing.assert_array_equal(f['model_weights']['td']['td/inner/kernel'][()],
                                      model.layers[1].layer.get_weights()[0])
    again = load_model(path, compile=False)
    x = rand(2, 4, 5)
    x[1, 2:] = 0.
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-6)


def test_export_refuses_what_keras3_cannot_hold(tmp_path):
    from minikeras.engine.saving import export_to_keras3
    model = Sequential([TimeDistributed(Sequential([Dense(2, input_dim=5)]), input_shape=(4, 5),
                                        name='td_model')])
    with pytest.raises(ValueError, match=r'td_model \(TimeDistributed\) wraps'):
        export_to_keras3(model, str(tmp_path / 'k3.h5'))
    model = Sequential([TimeDistributed(Convolution2D(2, 3, 3, dim_ordering='th'),
                                        input_shape=(3, 1, 5, 5), name='td_th')])
    with pytest.raises(ValueError, match=r'td_th \(TimeDistributed\)'):
        export_to_keras3(model, str(tmp_path / 'k3.h5'))


def test_start_weights_given_to_the_wrapper():
    W, b = rand(5, 2), rand(2, seed=1)
    layer = built(TimeDistributed(Dense(2), weights=[W, b]), (4, 5))
    np.testing.assert_array_equal(layer.layer.get_weights()[0], W)
    np.testing.assert_array_equal(layer.get_weights()[1], b)
    with pytest.raises(ValueError, match=r'expects 2 weight arrays, got 1'):
        layer.set_weights([W])
