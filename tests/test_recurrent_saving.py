"""Recurrent layers and Bidirectional in files: Keras 1.2.2's HDF5 layout,
files of real Keras 3 and of Keras 1.2.2 (see
tests/fixtures/make_recurrent_keras_files.py), the Keras 2 layout, and the
export to Keras 3 (checked in real Keras 3 by
tests/fixtures/check_recurrent_export_in_keras3.py)."""
import json
import os
import warnings

import h5py
import numpy as np
import pytest

from minikeras.engine import saving
from minikeras.engine.keras_formats import _Source
from minikeras.engine.layer_formats import format_of
from minikeras.layers import GRU, LSTM, Bidirectional, Dense, Embedding, SimpleRNN
from minikeras.models import Sequential, load_model

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')


def data(shape, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, shape).astype('float32')


@pytest.mark.parametrize('name', ['k3_tensorflow_recurrent', 'k1_recurrent'])
def test_real_keras_files_load_and_predict(name):
    reference = np.load(os.path.join(FIXTURES, name + '.npz'))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = load_model(os.path.join(FIXTURES, name + '.h5'))
    np.testing.assert_allclose(model.predict(reference['x']), reference['y'], atol=2e-6)


def test_keras1_file_loads_into_other_weight_layouts():
    """The Keras 1 file's 'cpu' LSTM (12 arrays) into a 'gpu' LSTM (3), and
    its 'gpu' GRUs into 'mem' ones (9 each)."""
    reference = np.load(os.path.join(FIXTURES, 'k1_recurrent.npz'))
    model = Sequential([Embedding(10, 3, input_length=6),
                        LSTM(5, consume_less='gpu', return_sequences=True),
                        Bidirectional(GRU(4, consume_less='mem'), merge_mode='sum'), Dense(2)])
    model.load_weights(os.path.join(FIXTURES, 'k1_recurrent.h5'))
    assert len(model.layers[2].get_weights()) == 18
    np.testing.assert_allclose(model.predict(reference['x']), reference['y'], atol=2e-6)


def test_keras3_hard_sigmoid_gates_are_rescaled():
    """Keras 3's hard_sigmoid has slope 1/6: its LSTM's gate columns come in
    divided by 1.2, the candidate's columns unchanged."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = load_model(os.path.join(FIXTURES, 'k3_tensorflow_recurrent.h5'))
    lstm = model.layers[0]
    assert lstm.inner_activation.__name__ == 'hard_sigmoid' and lstm.consume_less == 'gpu'
    with h5py.File(os.path.join(FIXTURES, 'k3_tensorflow_recurrent.h5'), 'r') as f:
        group = f['model_weights'][lstm.name]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs['weight_names']]
        kernel = group[[n for n in names if n.endswith('/kernel')][0]][()]
    n = 5
    np.testing.assert_allclose(lstm.W[:, :2 * n], kernel[:, :2 * n] / 1.2, rtol=1e-6)
    np.testing.assert_array_equal(lstm.W[:, 2 * n:3 * n], kernel[:, 2 * n:3 * n])
    np.testing.assert_allclose(lstm.W[:, 3 * n:], kernel[:, 3 * n:] / 1.2, rtol=1e-6)
    assert model.layers[1].inner_activation.__name__ == 'sigmoid'   # Keras 3's default


def test_keras2_layout_is_read_without_rescaling():
    layer = LSTM(4, name='lstm')
    layer.connect((None, 5, 3))
    kernel, recurrent, bias = data((3, 16)), data((4, 16), 1), data((16,), 2)
    arrays = format_of(layer).weights_in(layer, [kernel, recurrent, bias],
                                          _Source('k2.h5', 2, 'tensorflow'),
                                          {'config': {'recurrent_activation': 'hard_sigmoid'}}, {})
    names = dict(zip(layer.weight_names, arrays))
    np.testing.assert_array_equal(names['lstm_W_f'], kernel[:, 4:8])
    np.testing.assert_array_equal(names['lstm_U_c'], recurrent[:, 8:12])
    np.testing.assert_array_equal(names['lstm_b_o'], bias[12:])


def test_gru_bias_layout_must_match_reset_after():
    layer = GRU(4, consume_less='gpu')
    layer.connect((None, 5, 3))
    with pytest.raises(ValueError, match=r'bias has shape \(2, 12\).*reset_after=True, but the '
                                         r'layer has reset_after=False'):
        format_of(layer).weights_in(layer, [data((3, 12)), data((4, 12)), data((2, 12))],
                                    _Source('k3.h5', 3, 'tensorflow'), {}, {})
    config = {'class_name': 'Sequential', 'keras_version': '3.5.0', 'config': {'layers': [
        {'class_name': 'GRU', 'config': {'name': 'gru', 'units': 4, 'batch_shape': [None, 5, 3],
                                         'reset_after': True}}]}}
    gru = saving.model_from_config(config).layers[0]
    assert gru.reset_after and gru.consume_less == 'gpu'    # Keras 3's default GRU


@pytest.mark.parametrize('make', [
    lambda: [LSTM(6, input_shape=(5, 3), return_sequences=True), GRU(4, consume_less='gpu')],
    lambda: [SimpleRNN(4, input_shape=(5, 3), go_backwards=True, return_sequences=True),
             LSTM(3, consume_less='mem')],
    lambda: [Bidirectional(GRU(4, return_sequences=True), input_shape=(5, 3), merge_mode='mul'),
             Bidirectional(LSTM(3, consume_less='gpu'), merge_mode='concat')]],
    ids=['lstm_gru', 'rnn_lstm', 'bidirectional'])
def test_save_load_and_export_round_trip(tmp_path, make):
    np.random.seed(0)
    model = Sequential(make() + [Dense(2)])
    model.compile('rmsprop', 'mse')
    x, y = data((8, 5, 3)), data((8, 2), 1)
    model.fit(x, y, nb_epoch=1, batch_size=4, verbose=0)
    path = str(tmp_path / 'm.h5')
    model.save(path)
    again = load_model(path)
    np.testing.assert_allclose(again.predict(x), model.predict(x), atol=1e-6)
    # training resumes exactly (optimizer state saved)
    model.train_on_batch(x, y)
    again.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    exported = str(tmp_path / 'k3.h5')
    saving.export_to_keras3(model, exported)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        back = load_model(exported, compile=False)
    np.testing.assert_allclose(back.predict(x), model.predict(x), atol=1e-6)


def test_saved_names_follow_keras_1_2_2(tmp_path):
    model = Sequential([LSTM(3, input_shape=(4, 2), name='lstm_1'),
                        Dense(1, name='dense_1')])
    path = str(tmp_path / 'w.h5')
    model.save_weights(path)
    with h5py.File(path, 'r') as f:
        names = [n.decode() for n in f['lstm_1'].attrs['weight_names']]
    assert names == ['lstm_1_%s_%s' % (part, gate) for gate in 'icfo' for part in 'WUb']


def test_export_says_what_keras3_lacks(tmp_path):
    for layer, message in [(LSTM(3, activation='hard_sigmoid', input_shape=(4, 2)),
                            'cell state'),
                           (SimpleRNN(3, truncate_gradient=2, input_shape=(4, 2)),
                            'truncate_gradient')]:
        model = Sequential([layer])
        with pytest.raises(ValueError, match=message):
            saving.export_to_keras3(model, str(tmp_path / 'x.h5'))
    assert not os.path.exists(str(tmp_path / 'x.h5'))


def test_keras3_config_is_translated():
    config = {'class_name': 'Sequential', 'keras_version': '3.5.0', 'config': {'layers': [
        {'class_name': 'Bidirectional', 'config': {
            'name': 'bi', 'merge_mode': 'sum', 'batch_shape': [None, 5, 3],
            'layer': {'module': 'keras.layers', 'class_name': 'LSTM', 'config': {
                'name': 'lstm', 'units': 4, 'recurrent_activation': 'sigmoid',
                'return_sequences': True, 'dropout': 0.25, 'unit_forget_bias': True}}}}]}}
    model = saving.model_from_config(config)
    layer = model.layers[0]
    assert isinstance(layer, Bidirectional) and layer.merge_mode == 'sum'
    inner = layer.forward_layer
    assert (inner.output_dim, inner.inner_activation.__name__, inner.dropout_W,
            inner.return_sequences, inner.consume_less) == (4, 'sigmoid', 0.25, True, 'gpu')
    assert json.loads(model.to_json())['config'][0]['class_name'] == 'Bidirectional'
    bad = json.loads(json.dumps(config))
    bad['config']['layers'][0]['config']['layer']['config']['use_bias'] = False
    with pytest.raises(ValueError, match='use_bias=False'):
        saving.model_from_config(bad)
