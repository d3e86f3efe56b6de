"""Bidirectional: two recurrent layers, forwards and backwards, merged."""
import json

import numpy as np
import pytest

from minikeras.layers import GRU, LSTM, Bidirectional, Dense, Embedding, SimpleRNN
from minikeras.models import Sequential, load_model, model_from_json
from minikeras.utils.layer_utils import layer_from_config

from gradcheck import built, check_layer_gradients


def data(shape, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, shape).astype('float32')


MERGES = {'concat': lambda a, b: np.concatenate([a, b], axis=-1), 'sum': lambda a, b: a + b,
          'mul': lambda a, b: a * b, 'ave': lambda a, b: (a + b) / 2}


@pytest.mark.parametrize('merge_mode', sorted(MERGES))
@pytest.mark.parametrize('return_sequences', [False, True])
def test_bidirectional_is_a_forward_and_a_reversed_backward_layer(merge_mode, return_sequences):
    np.random.seed(0)
    layer = built(Bidirectional(GRU(4, return_sequences=return_sequences), merge_mode=merge_mode),
                  (6, 3))
    forward = built(GRU(4, return_sequences=return_sequences), (6, 3))
    backward = built(GRU(4, return_sequences=return_sequences, go_backwards=True), (6, 3))
    weights = layer.get_weights()
    forward.set_weights(weights[:9])
    backward.set_weights(weights[9:])
    x = data((2, 6, 3))
    mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], bool)
    y_b = backward.forward(x, mask=mask)[0]
    if return_sequences:
        y_b = y_b[:, ::-1]
    expected = MERGES[merge_mode](forward.forward(x, mask=mask)[0], y_b)
    np.testing.assert_allclose(layer.forward(x, mask=mask)[0], expected, atol=1e-6)
    assert layer.get_output_shape_for((None, 6, 3)) == (None,) + expected.shape[1:]
    assert layer.compute_mask(x, mask) is (mask if return_sequences else None)


@pytest.mark.parametrize('merge_mode', sorted(MERGES))
def test_bidirectional_gradients(merge_mode):
    np.random.seed(1)
    layer = built(Bidirectional(LSTM(3, return_sequences=True), merge_mode=merge_mode), (5, 2))
    check_layer_gradients(layer, data((2, 5, 2), seed=2), eps=1e-3)


def test_bidirectional_weights_names_regularizers_and_config():
    layer = Bidirectional(SimpleRNN(4, W_regularizer='l2', name='rnn'), input_shape=(6, 3))
    model = Sequential([layer, Dense(1)])
    assert layer.weight_names == ['forward_rnn_W', 'forward_rnn_U', 'forward_rnn_b',
                                  'backward_rnn_W', 'backward_rnn_U', 'backward_rnn_b']
    assert model.output_shape == (None, 1) and layer.output_shape == (None, 8)
    assert len(layer.weight_regularizers) == 2
    assert [w.shape for w in layer.trainable_weights] == [(3, 4), (4, 4), (4,)] * 2
    config = json.loads(json.dumps({'class_name': 'Bidirectional', 'config': layer.get_config()}))
    copy = built(layer_from_config(config), (6, 3))
    copy.set_weights(layer.get_weights())
    x = data((2, 6, 3))
    np.testing.assert_array_equal(copy.call(x), layer.call(x))
    with pytest.raises(ValueError, match='merge_mode'):
        Bidirectional(LSTM(3), merge_mode='max')
    with pytest.raises(TypeError, match='recurrent layer'):
        Bidirectional(Dense(3))


def test_bidirectional_model_trains_saves_and_loads(tmp_path):
    np.random.seed(0)
    model = Sequential([Embedding(12, 8, input_length=7),
                        Bidirectional(LSTM(8, return_sequences=True), merge_mode='sum'),
                        Bidirectional(GRU(8)), Dense(1, activation='sigmoid')])
    model.compile('adam', 'binary_crossentropy')
    rng = np.random.RandomState(0)
    x = rng.randint(1, 12, size=(64, 7))
    y = (x[:, 0] > 6).astype('float32')
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, batch_size=16, nb_epoch=1, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    path = str(tmp_path / 'm.h5')
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(x[:5]), model.predict(x[:5]), atol=1e-6)
    copy = model_from_json(model.to_json())
    copy.load_weights(path)
    np.testing.assert_allclose(copy.predict(x[:5]), model.predict(x[:5]), atol=1e-6)
