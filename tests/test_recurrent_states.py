"""Keras 2.2.4's `initial_state=` and `return_state=True` on SimpleRNN, GRU
and LSTM, and GRU(reset_after=True): against a NumPy loop of Keras 2.2.4's
formulas and against finite differences; in the functional API (the
encoder-decoder of examples/lstm_seq2seq.py); the errors."""
import numpy as np
import pytest

from minikeras.layers import GRU, LSTM, Dense, Embedding, Input, SimpleRNN
from minikeras.models import Model
from minikeras.optimizers import RMSprop


def sigmoid(v):
    return 1. / (1. + np.exp(-v))


def reference(kind, x, weights, states, mask=None, go_backwards=False, reset_after=False):
    """Keras 2.2.4's cells, one sample at a time, in float64: (outputs, final states).
    A masked step keeps the states and outputs the previous h."""
    W, U, b = [np.asarray(w, 'float64') for w in weights]
    n = U.shape[0]
    outputs = np.zeros(x.shape[:2] + (n,))
    finals = [np.zeros((x.shape[0], n)) for _ in states]
    for s in range(x.shape[0]):
        h = np.array(states[0][s], 'float64')
        c = np.array(states[1][s], 'float64') if kind == 'LSTM' else None
        order = range(x.shape[1])[::-1] if go_backwards else range(x.shape[1])
        for out_t, t in enumerate(order):
            if mask is None or mask[s, t]:
                xt = x[s, t]
                if kind == 'SimpleRNN':
                    h = np.tanh(xt @ W + b + h @ U)
                elif kind == 'LSTM':
                    pre = xt @ W + b + h @ U
                    i, f = sigmoid(pre[:n]), sigmoid(pre[n:2 * n])
                    g, o = np.tanh(pre[2 * n:3 * n]), sigmoid(pre[3 * n:])
                    c = f * c + i * g
                    h = o * np.tanh(c)
                elif reset_after:
                    xp = xt @ W + b[0]
                    rec = h @ U + b[1]
                    z = sigmoid(xp[:n] + rec[:n])
                    r = sigmoid(xp[n:2 * n] + rec[n:2 * n])
                    hh = np.tanh(xp[2 * n:] + r * rec[2 * n:])
                    h = z * h + (1 - z) * hh
                else:
                    xp = xt @ W + b
                    z = sigmoid(xp[:n] + h @ U[:, :n])
                    r = sigmoid(xp[n:2 * n] + h @ U[:, n:2 * n])
                    hh = np.tanh(xp[2 * n:] + (r * h) @ U[:, 2 * n:])
                    h = z * h + (1 - z) * hh
            outputs[s, out_t] = h
        finals[0][s] = h
        if kind == 'LSTM':
            finals[1][s] = c
    return outputs, finals


def make(kind, reset_after=False, **kwargs):
    if kind == 'GRU':
        return GRU(units=4, recurrent_activation='sigmoid', reset_after=reset_after, **kwargs)
    if kind == 'LSTM':
        return LSTM(units=4, recurrent_activation='sigmoid', **kwargs)
    return SimpleRNN(units=4, **kwargs)


CELLS = [('SimpleRNN', False), ('GRU', False), ('GRU', True), ('LSTM', False)]


def built(kind, reset_after, input_dim=3, states=True, seed=0, **kwargs):
    layer = make(kind, reset_after, return_state=True, **kwargs)
    count = 2 if kind == 'LSTM' else 1
    shape = (None, 5, input_dim)
    layer.connect([shape] + [(None, 4)] * count if states else shape)
    rng = np.random.RandomState(seed)
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype('float32')
                       for w in layer.get_weights()])
    return layer, count


@pytest.mark.parametrize('kind, reset_after', CELLS)
@pytest.mark.parametrize('go_backwards', [False, True])
@pytest.mark.parametrize('masked', [False, True])
def test_outputs_and_states_match_a_numpy_loop(kind, reset_after, go_backwards, masked):
    layer, count = built(kind, reset_after, return_sequences=True, go_backwards=go_backwards)
    rng = np.random.RandomState(1)
    x = rng.uniform(-1, 1, (3, 5, 3)).astype('float32')
    states = [rng.uniform(-1, 1, (3, 4)).astype('float32') for _ in range(count)]
    mask = None
    if masked:
        mask = np.ones((3, 5), bool)
        mask[1, :2] = False      # starts late: the output repeats the initial state
        mask[2, -2:] = False
    outs, _ = layer.forward([x] + states, mask=mask)
    want, finals = reference(kind, x, layer.get_weights(), states, mask, go_backwards,
                             reset_after)
    assert len(outs) == 1 + count
    np.testing.assert_allclose(outs[0], want, rtol=1e-5, atol=1e-5)
    for got, final in zip(outs[1:], finals):
        np.testing.assert_allclose(got, final, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('kind, reset_after', CELLS)
@pytest.mark.parametrize('masked', [False, True])
def test_gradients_match_finite_differences(kind, reset_after, masked):
    layer, count = built(kind, reset_after, return_sequences=not masked, seed=2)
    rng = np.random.RandomState(3)
    x = rng.uniform(-1, 1, (2, 5, 3))
    states = [rng.uniform(-1, 1, (2, 4)) for _ in range(count)]
    mask = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1]], bool) if masked else None
    outs, backprop = layer.forward([x.astype('float32')] + [s.astype('float32') for s in states],
                                   mask=mask)
    weights_out = [rng.uniform(-1, 1, o.shape) for o in outs]
    for g in layer.gradients:
        g.fill(0)
    grads = backprop([w.astype('float32') for w in weights_out])

    def loss():
        values = layer.forward([x.astype('float32')] + [s.astype('float32') for s in states],
                               mask=mask)[0]
        return sum(float((np.float64(v) * w).sum()) for v, w in zip(values, weights_out))

    def numeric(array, index, eps=1e-3):
        old = array[index]
        array[index] = old + eps
        up = loss()
        array[index] = old - eps
        down = loss()
        array[index] = old
        return (up - down) / (2 * eps)

    for index in [(0, 0, 0), (1, 3, 2), (0, 4, 1)]:
        np.testing.assert_allclose(grads[0][index], numeric(x, index), rtol=2e-2, atol=2e-3)
    for k in range(count):
        for index in [(0, 0), (1, 3)]:
            np.testing.assert_allclose(grads[1 + k][index], numeric(states[k], index),
                                       rtol=2e-2, atol=2e-3)
    for weight, grad in zip(layer.trainable_weights, layer.gradients):
        for index in [tuple(0 for _ in weight.shape), tuple(d - 1 for d in weight.shape)]:
            np.testing.assert_allclose(grad[index], numeric(weight, index), rtol=2e-2,
                                       atol=2e-3)


def test_return_state_without_initial_state_starts_from_zeros():
    layer, count = built('LSTM', False, states=False)
    x = np.random.RandomState(4).uniform(-1, 1, (2, 5, 3)).astype('float32')
    outs, backprop = layer.forward(x)
    want, finals = reference('LSTM', x, layer.get_weights(), [np.zeros((2, 4))] * 2)
    np.testing.assert_allclose(outs[0], want[:, -1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs[2], finals[1], rtol=1e-5, atol=1e-6)
    dx = backprop([np.ones((2, 4), 'float32'), np.zeros((2, 4), 'float32'),
                   np.zeros((2, 4), 'float32')])
    assert dx.shape == x.shape     # one input: its gradient alone


def test_reset_after_gru_without_states_matches_the_loop_and_keeps_keras_2_weights():
    layer = GRU(units=4, reset_after=True, recurrent_activation='sigmoid',
                return_sequences=True)
    layer.connect((None, 5, 3))
    assert [w.shape for w in layer.get_weights()] == [(3, 12), (4, 12), (2, 12)]
    rng = np.random.RandomState(5)
    layer.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype('float32')
                       for w in layer.get_weights()])
    x = rng.uniform(-1, 1, (2, 5, 3)).astype('float32')
    want, _ = reference('GRU', x, layer.get_weights(), [np.zeros((2, 4))], reset_after=True)
    np.testing.assert_allclose(layer.call(x), want, rtol=1e-5, atol=1e-6)
    assert layer.get_config()['reset_after'] is True
    copy = GRU.from_config(layer.get_config())
    assert copy.reset_after and copy.consume_less == 'gpu'


def seq2seq(latent=6, tokens=5):
    encoder_inputs = Input(shape=(None, tokens))
    encoder = LSTM(latent, return_state=True)
    _, state_h, state_c = encoder(encoder_inputs)
    decoder_inputs = Input(shape=(None, tokens))
    decoder_lstm = LSTM(latent, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=[state_h, state_c])
    dense = Dense(tokens, activation='softmax')
    model = Model([encoder_inputs, decoder_inputs], dense(decoder_outputs))
    encoder_model = Model(encoder_inputs, [state_h, state_c])
    h_in, c_in = Input(shape=(latent,)), Input(shape=(latent,))
    outs, h, c = decoder_lstm(decoder_inputs, initial_state=[h_in, c_in])
    decoder_model = Model([decoder_inputs, h_in, c_in], [dense(outs), h, c])
    return model, encoder_model, decoder_model


def test_encoder_decoder_trains_and_its_inference_models_agree():
    np.random.seed(6)
    model, encoder_model, decoder_model = seq2seq()
    assert model.output_shape == (None, None, 5)
    assert encoder_model.output_shape == [(None, 6), (None, 6)]
    rng = np.random.RandomState(7)
    enc = np.eye(5, dtype='float32')[rng.randint(0, 5, (16, 4))]
    dec = np.eye(5, dtype='float32')[rng.randint(0, 5, (16, 3))]
    target = dec      # copying the decoder's input: learnable in a few steps
    model.compile(RMSprop(lr=0.02), 'categorical_crossentropy')
    before = model.evaluate([enc, dec], target, verbose=0)
    model.fit([enc, dec], target, batch_size=8, epochs=30, verbose=0)
    after = model.evaluate([enc, dec], target, verbose=0)
    assert after < before * 0.5
    h, c = encoder_model.predict(enc)
    probs, h2, c2 = decoder_model.predict([dec, h, c])
    np.testing.assert_allclose(probs, model.predict([enc, dec]), rtol=1e-5, atol=1e-6)
    assert h2.shape == c2.shape == (16, 6)


def test_gradients_flow_from_the_states_into_the_encoder():
    # the only path from the loss to the encoder's weights is through its returned states
    model, _, _ = seq2seq()
    encoder = model.layers[[type(l).__name__ for l in model.layers].index('LSTM')]
    model.compile('sgd', 'mse')
    before = [w.copy() for w in encoder.get_weights()]
    rng = np.random.RandomState(8)
    model.train_on_batch([rng.uniform(size=(4, 3, 5)), rng.uniform(size=(4, 2, 5))],
                         rng.uniform(size=(4, 2, 5)))
    assert all(not np.array_equal(a, b) for a, b in zip(before, encoder.get_weights()))


def test_masked_sequence_with_states_in_a_model():
    tokens = Input(shape=(5,), dtype='int32')
    embedded = Embedding(10, 3, mask_zero=True)(tokens)
    out, h = GRU(4, return_state=True, return_sequences=True, reset_after=True)(embedded)
    model = Model(tokens, [out, h])
    ids = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]])
    seq, state = model.predict(ids)
    np.testing.assert_allclose(seq[0, 3], seq[0, 2])          # masked: the state stays
    np.testing.assert_allclose(state, seq[:, -1], rtol=1e-6)


@pytest.mark.parametrize('call, message', [
    (lambda l, x: l(x, initial_state=[Input(shape=(4,))]), r'has 2 state\(s\), got 1'),
    (lambda l, x: l(x, initial_state=[Input(shape=(3,)), Input(shape=(4,))]),
     r'initial state must have shape \(samples, 4\), got \(None, 3\)'),
    (lambda l, x: l(x, foo=1), r"unexpected call argument\(s\) \['foo'\]"),
])
def test_bad_initial_states_are_named(call, message):
    layer = LSTM(4, name='dec')
    with pytest.raises((ValueError, TypeError), match='dec.*' + message):
        call(layer, Input(shape=(5, 3)))


def test_bad_states_with_arrays_leave_the_weights_unchanged():
    layer, _ = built('GRU', True)
    before = [w.copy() for w in layer.get_weights()]
    with pytest.raises(ValueError, match=r'one row per sample \(2\), got shape \(3, 4\)'):
        layer.forward([np.zeros((2, 5, 3), 'float32'), np.zeros((3, 4), 'float32')])
    assert all(np.array_equal(a, b) for a, b in zip(before, layer.get_weights()))


def test_reset_after_needs_the_concatenated_layout():
    with pytest.raises(ValueError, match=r"g \(GRU\): reset_after=True .*consume_less='cpu'"):
        GRU(4, reset_after=True, consume_less='cpu', name='g')


def test_real_keras_3_file_with_reset_after_grus_loads_and_predicts():
    import os
    import warnings
    from minikeras.models import load_model
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
    reference = np.load(os.path.join(here, 'k3_gru_reset_after.npz'))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = load_model(os.path.join(here, 'k3_gru_reset_after.h5'))
    assert [l.reset_after for l in model.layers[:2]] == [True, True]
    np.testing.assert_allclose(model.predict(reference['x']), reference['y'], atol=2e-6)


def test_states_model_and_reset_after_gru_save_load_and_export(tmp_path):
    import warnings
    from minikeras.engine import saving
    from minikeras.models import Sequential, load_model
    np.random.seed(9)
    model, encoder_model, _ = seq2seq()
    model.compile('rmsprop', 'categorical_crossentropy')
    rng = np.random.RandomState(10)
    enc, dec = rng.uniform(size=(4, 3, 5)), rng.uniform(size=(4, 2, 5))
    model.fit([enc, dec], rng.uniform(size=(4, 2, 5)), epochs=1, verbose=0)
    model.save(str(tmp_path / 's2s.h5'))
    again = load_model(str(tmp_path / 's2s.h5'))
    np.testing.assert_allclose(again.predict([enc, dec]), model.predict([enc, dec]), atol=1e-6)
    gru = Sequential([GRU(units=4, reset_after=True, input_shape=(3, 5)), Dense(2)])
    gru.compile('sgd', 'mse')
    gru.save(str(tmp_path / 'gru.h5'))
    back = load_model(str(tmp_path / 'gru.h5'))
    assert back.layers[0].reset_after and back.layers[0].get_weights()[2].shape == (2, 12)
    np.testing.assert_allclose(back.predict(enc), gru.predict(enc), atol=1e-6)
    saving.export_to_keras3(gru, str(tmp_path / 'k3.h5'))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        exported = load_model(str(tmp_path / 'k3.h5'), compile=False)
    np.testing.assert_allclose(exported.predict(enc), gru.predict(enc), atol=1e-6)


@pytest.mark.parametrize('merge_mode', ['concat', None])
def test_bidirectional_returns_both_layers_states_and_takes_them(merge_mode):
    from minikeras.layers import Bidirectional
    layer = Bidirectional(LSTM(4, recurrent_activation='sigmoid', return_state=True,
                               return_sequences=True), merge_mode=merge_mode)
    shapes = layer.connect([(None, 5, 3)] + [(None, 4)] * 4)
    outputs = 2 if merge_mode is None else 1
    assert len(shapes) == outputs + 4 and shapes[-1] == (None, 4)
    rng = np.random.RandomState(11)
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype('float32')
                       for w in layer.get_weights()])
    x = rng.uniform(-1, 1, (2, 5, 3))
    states = [rng.uniform(-1, 1, (2, 4)) for _ in range(4)]
    outs, backprop = layer.forward([x.astype('float32')] + [s.astype('float32') for s in states])
    forward_weights = layer.get_weights()[:3]
    backward_weights = layer.get_weights()[3:]
    seq_f, finals_f = reference('LSTM', x, forward_weights, states[:2])
    seq_b, finals_b = reference('LSTM', x, backward_weights, states[2:], go_backwards=True)
    seq_b = seq_b[:, ::-1]
    if merge_mode == 'concat':
        np.testing.assert_allclose(outs[0], np.concatenate([seq_f, seq_b], -1), atol=1e-5)
    else:
        np.testing.assert_allclose(outs[0], seq_f, atol=1e-5)
        np.testing.assert_allclose(outs[1], seq_b, atol=1e-5)
    for got, want in zip(outs[outputs:], finals_f + finals_b):
        np.testing.assert_allclose(got, want, atol=1e-5)
    weights_out = [rng.uniform(-1, 1, o.shape) for o in outs]
    grads = backprop([w.astype('float32') for w in weights_out])
    assert len(grads) == 5

    def loss():
        values = layer.forward([x.astype('float32')] + [s.astype('float32') for s in states])[0]
        return sum(float((np.float64(v) * w).sum()) for v, w in zip(values, weights_out))
    for k in range(4):
        old = states[k][1, 2]
        states[k][1, 2] = old + 1e-3
        up = loss()
        states[k][1, 2] = old - 1e-3
        down = loss()
        states[k][1, 2] = old
        np.testing.assert_allclose(grads[1 + k][1, 2], (up - down) / 2e-3, rtol=2e-2, atol=2e-3)


def test_bidirectional_states_in_a_functional_model():
    from minikeras.layers import Bidirectional
    inputs = Input(shape=(5, 3))
    out, h_f, c_f, h_b, c_b = Bidirectional(LSTM(4, return_state=True))(inputs)
    model = Model(inputs, [out, h_f, c_b])
    assert model.output_shape == [(None, 8), (None, 4), (None, 4)]
    x = np.random.RandomState(12).uniform(-1, 1, (3, 5, 3)).astype('float32')
    out, h_f, c_b = model.predict(x)
    np.testing.assert_allclose(out[:, :4], h_f, rtol=1e-6)    # the last output is h
    model.compile('sgd', 'mse')
    model.train_on_batch(x, [np.zeros((3, 8)), np.zeros((3, 4)), np.zeros((3, 4))])


@pytest.mark.parametrize('kind, reset_after', CELLS)
def test_gradients_with_dropout_match_finite_differences(kind, reset_after):
    # the same masks on every run: the generator is reseeded before each forward pass
    layer, count = built(kind, reset_after, seed=13, dropout=0.3, recurrent_dropout=0.4)
    rng = np.random.RandomState(14)
    x = rng.uniform(-1, 1, (2, 5, 3))
    states = [rng.uniform(-1, 1, (2, 4)) for _ in range(count)]

    def run():
        np.random.seed(15)
        return layer.forward([x.astype('float32')] + [s.astype('float32') for s in states],
                             training=True)
    outs, backprop = run()
    assert not np.allclose(outs[0], layer.forward([x.astype('float32')] + [
        s.astype('float32') for s in states])[0][0])        # dropout applied in training
    weights_out = [rng.uniform(-1, 1, o.shape) for o in outs]
    for g in layer.gradients:
        g.fill(0)
    grads = backprop([w.astype('float32') for w in weights_out])

    def numeric(array, index, eps=1e-3):
        def loss():
            return sum(float((np.float64(v) * w).sum()) for v, w in zip(run()[0], weights_out))
        old = array[index]
        array[index] = old + eps
        up = loss()
        array[index] = old - eps
        down = loss()
        array[index] = old
        return (up - down) / (2 * eps)
    for index in [(0, 1, 0), (1, 4, 2)]:
        np.testing.assert_allclose(grads[0][index], numeric(x, index), rtol=2e-2, atol=2e-3)
    for k in range(count):
        np.testing.assert_allclose(grads[1 + k][1, 1], numeric(states[k], (1, 1)), rtol=2e-2,
                                   atol=2e-3)
    for weight, grad in zip(layer.trainable_weights, layer.gradients):
        index = tuple(d - 1 for d in weight.shape)
        np.testing.assert_allclose(grad[index], numeric(weight, index), rtol=2e-2, atol=2e-3)


def test_a_custom_step_layer_refuses_return_state():
    class MyRNN(SimpleRNN):
        def step(self, x, states):
            return SimpleRNN.step(self, x, states)
    layer = MyRNN(4, return_state=True, name='mine')
    layer.connect((None, 5, 3))
    with pytest.raises(ValueError, match=r'mine \(MyRNN\) computes its own step\(\)'):
        layer.forward(np.zeros((2, 5, 3), 'float32'))
