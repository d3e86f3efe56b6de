"""SimpleRNN, GRU, LSTM and the Recurrent base, as Keras 1.2.2 had them.

The fused kernels are checked against NumPy loops written here from Keras
1.2.2's formulas (masks included), every backward against finite
differences, the traced `K.rnn` path against the same loops, and the layers
for their weight lists, statefulness, dropout and errors."""
import json

import numpy as np
import pytest

from minikeras import backend as K
from minikeras.layers import GRU, LSTM, Dense, Embedding, Flatten, Recurrent, SimpleRNN
from minikeras.models import Sequential, model_from_json
from minikeras.optimizers import Adam
from minikeras.utils.layer_utils import layer_from_config

from gradcheck import built, check_layer_gradients


def sigmoid(z):
    return 1. / (1. + np.exp(-z))


def hard_sigmoid(z):
    return np.clip(0.2 * z + 0.5, 0., 1.)


def reference(layer, x, mask=None, h0=None, c0=None):
    """Keras 1.2.2's recurrence for `layer`'s cell, written as a loop over
    time in float64 (no dropout). Returns the output as the layer returns it."""
    n = layer.output_dim
    weights = {name[len(layer.name) + 1:]: w.astype('float64')
               for name, w in zip(layer.weight_names, layer.get_weights())}
    gates = {'SimpleRNN': ('',), 'GRU': ('z', 'r', 'h'), 'LSTM': ('i', 'f', 'c', 'o')}[
        type(layer).__name__]
    if 'W' in weights:   # 'gpu' layout, or SimpleRNN: split into gates
        for k, g in enumerate(gates):
            for part in 'WUb':
                weights['%s_%s' % (part, g)] = weights[part][..., k * n:(k + 1) * n]
    act = {'tanh': np.tanh, 'sigmoid': sigmoid, 'hard_sigmoid': hard_sigmoid,
           'relu': lambda v: np.maximum(v, 0), 'linear': lambda v: v,
           'softplus': lambda v: np.log1p(np.exp(v)), 'softsign': lambda v: v / (1 + np.abs(v)),
           'elu': lambda v: np.where(v > 0, v, np.expm1(np.minimum(v, 0)))}
    a = act[layer.activation.__name__]
    ia = act[getattr(layer, 'inner_activation', layer.activation).__name__]
    x = x.astype('float64')
    batch, steps, _ = x.shape
    mask = np.ones((batch, steps), bool) if mask is None else mask
    order = range(steps - 1, -1, -1) if layer.go_backwards else range(steps)
    h = np.zeros((batch, n)) if h0 is None else h0.astype('float64')
    c = np.zeros((batch, n)) if c0 is None else c0.astype('float64')
    out_prev = np.zeros((batch, n))
    outputs = []

    def lin(g, xt, hm):
        return xt @ weights['W_' + g] + weights['b_' + g] + hm @ weights['U_' + g]
    for t in order:
        xt = x[:, t]
        if gates == ('',):
            h_new = a(lin('', xt, h))
            c_new = c
        elif len(gates) == 3:
            z = ia(lin('z', xt, h))
            r = ia(lin('r', xt, h))
            hh = a(xt @ weights['W_h'] + weights['b_h'] + (r * h) @ weights['U_h'])
            h_new = z * h + (1 - z) * hh
            c_new = c
        else:
            i, f, o = ia(lin('i', xt, h)), ia(lin('f', xt, h)), ia(lin('o', xt, h))
            c_new = f * c + i * a(lin('c', xt, h))
            h_new = o * a(c_new)
        real = mask[:, t][:, None]
        out = np.where(real, h_new, out_prev)
        h = np.where(real, h_new, h)
        c = np.where(real, c_new, c)
        outputs.append(out)
        out_prev = out
    if layer.return_sequences:
        return np.stack(outputs, axis=1)
    return outputs[-1]


CELLS = [SimpleRNN, GRU, LSTM]


def make(cls, n=5, sample_shape=(6, 3), seed=0, **kwargs):
    np.random.seed(seed)
    layer = built(cls(n, **kwargs), sample_shape)
    # biases away from their initial constants, so that every weight matters
    rng = np.random.RandomState(seed + 1)
    layer.set_weights([w + rng.uniform(-.3, .3, w.shape).astype('float32')
                       for w in layer.get_weights()])
    return layer


def data(shape, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, shape).astype('float32')


@pytest.mark.parametrize('cls', CELLS)
@pytest.mark.parametrize('consume_less', ['cpu', 'gpu'])
@pytest.mark.parametrize('go_backwards', [False, True])
@pytest.mark.parametrize('return_sequences', [False, True])
def test_forward_matches_a_numpy_loop(cls, consume_less, go_backwards, return_sequences):
    layer = make(cls, consume_less=consume_less, go_backwards=go_backwards,
                 return_sequences=return_sequences)
    x = data((4, 6, 3))
    np.testing.assert_allclose(layer.call(x), reference(layer, x), atol=2e-6)


@pytest.mark.parametrize('cls', CELLS)
@pytest.mark.parametrize('activation', ['sigmoid', 'relu', 'linear', 'softplus', 'softsign',
                                        'elu'])
def test_other_activations_match_a_numpy_loop(cls, activation):
    kwargs = {'activation': 'tanh' if activation == 'linear' and cls is not SimpleRNN
              else activation}
    if cls is not SimpleRNN:
        kwargs['inner_activation'] = 'sigmoid' if activation != 'sigmoid' else 'hard_sigmoid'
    layer = make(cls, return_sequences=True, **kwargs)
    x = data((3, 6, 3), seed=2)
    np.testing.assert_allclose(layer.call(x), reference(layer, x), atol=2e-6)
    if cls is SimpleRNN:   # the derivative of each activation, from its output
        check_layer_gradients(layer, x, eps=1e-3)


@pytest.mark.parametrize('cls', CELLS)
@pytest.mark.parametrize('go_backwards', [False, True])
def test_masked_steps_keep_state_and_repeat_the_output(cls, go_backwards):
    layer = make(cls, return_sequences=True, go_backwards=go_backwards)
    x = data((4, 6, 3), seed=3)
    mask = np.array([[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0],
                     [0, 1, 0, 1, 0, 1]], bool)
    y = layer.forward(x, mask=mask)[0]
    np.testing.assert_allclose(y, reference(layer, x, mask), atol=2e-6)
    if not go_backwards:
        np.testing.assert_array_equal(y[1, :2], 0)          # no real step yet
        np.testing.assert_array_equal(y[2, 3:], y[2, 2:3].repeat(3, axis=0))
    # the last output of a sequence equals the last real one
    layer.return_sequences = False
    np.testing.assert_allclose(layer.forward(x, mask=mask)[0], y[:, -1], atol=1e-7)
    assert layer.compute_mask(x, mask) is None
    layer.return_sequences = True
    assert layer.compute_mask(x, mask) is mask


@pytest.mark.parametrize('cls', CELLS)
@pytest.mark.parametrize('consume_less', ['cpu', 'gpu'])
@pytest.mark.parametrize('return_sequences', [False, True])
def test_gradients_match_finite_differences(cls, consume_less, return_sequences):
    layer = make(cls, n=4, sample_shape=(5, 3), consume_less=consume_less,
                 return_sequences=return_sequences)
    check_layer_gradients(layer, data((3, 5, 3), seed=4), eps=1e-3)


class _Masked(object):
    """A layer whose forward always takes the same mask (for the gradient check)."""

    def __init__(self, layer, mask):
        self.layer, self.mask = layer, mask
        self.name = layer.name
        self.gradients, self.trainable_weights = layer.gradients, layer.trainable_weights

    def forward(self, x, training=False):
        return self.layer.forward(x, training=training, mask=self.mask)


@pytest.mark.parametrize('cls', CELLS)
def test_masked_gradients_match_finite_differences(cls):
    layer = make(cls, n=4, sample_shape=(5, 3), return_sequences=True, go_backwards=True)
    mask = np.array([[1, 1, 0, 1, 1], [0, 0, 1, 1, 0], [1, 0, 0, 0, 0]], bool)
    check_layer_gradients(_Masked(layer, mask), data((3, 5, 3), seed=5), eps=1e-3)


@pytest.mark.parametrize('cls', CELLS)
@pytest.mark.parametrize('consume_less', ['cpu', 'mem', 'gpu'])
def test_dropout_gradients_match_finite_differences(cls, consume_less):
    """One dropout draw, replayed: the same seed before every forward pass."""
    layer = make(cls, n=4, sample_shape=(5, 3), consume_less=consume_less,
                 return_sequences=True, dropout_W=0.3, dropout_U=0.4)

    class Seeded(object):
        name, gradients, trainable_weights = layer.name, layer.gradients, \
            layer.trainable_weights

        def forward(self, x, training=False):
            np.random.seed(7)
            return layer.forward(x, training=True)
    check_layer_gradients(Seeded(), data((3, 5, 3), seed=6), eps=1e-3)


@pytest.mark.parametrize('cls', CELLS)
@pytest.mark.parametrize('consume_less', ['cpu', 'mem', 'gpu'])
def test_dropout_masks_are_drawn_once_per_sequence(cls, consume_less):
    """The compiled path and the K.rnn path (Keras 1.2.2's step, written
    with K.*) draw the same masks from the same seed and agree; a mask is
    constant over time: an input repeated over time gives, for
    SimpleRNN with U = 0, the same output at every step."""
    layer = make(cls, consume_less=consume_less, return_sequences=True, dropout_W=0.5,
                 dropout_U=0.5)
    x = data((4, 6, 3), seed=8)
    np.random.seed(1)
    fused = layer.forward(x, training=True)[0]
    np.random.seed(1)
    layer._uses_fused_kernel = lambda: False
    traced = layer.forward(x, training=True)[0]
    np.testing.assert_allclose(fused, traced, atol=2e-6)
    assert not np.allclose(fused, layer.forward(x, training=False)[0], atol=1e-3)
    if cls is SimpleRNN and consume_less == 'cpu':
        layer.U[...] = 0
        np.random.seed(2)
        y = layer.forward(np.repeat(x[:, :1], 6, axis=1), training=True)[0]
        np.testing.assert_allclose(y, np.repeat(y[:, :1], 6, axis=1), atol=1e-6)


def test_simple_rnn_ignores_dropout_W_outside_cpu_mode_as_keras_1_2_2():
    x = data((4, 6, 3), seed=9)
    layer = make(SimpleRNN, consume_less='mem', dropout_W=0.5)
    np.testing.assert_array_equal(layer.forward(x, training=True)[0], layer.call(x))


@pytest.mark.parametrize('cls,consume_less,names', [
    (SimpleRNN, 'cpu', ['W', 'U', 'b']),
    (GRU, 'cpu', ['W_z', 'U_z', 'b_z', 'W_r', 'U_r', 'b_r', 'W_h', 'U_h', 'b_h']),
    (GRU, 'mem', ['W_z', 'U_z', 'b_z', 'W_r', 'U_r', 'b_r', 'W_h', 'U_h', 'b_h']),
    (GRU, 'gpu', ['W', 'U', 'b']),
    (LSTM, 'cpu', ['W_i', 'U_i', 'b_i', 'W_c', 'U_c', 'b_c', 'W_f', 'U_f', 'b_f',
                   'W_o', 'U_o', 'b_o']),
    (LSTM, 'gpu', ['W', 'U', 'b'])])
def test_weight_lists_follow_keras_1_2_2(cls, consume_less, names):
    layer = built(cls(7, consume_less=consume_less, name='rnn'), (4, 3))
    assert layer.weight_names == ['rnn_' + name for name in names]
    gates = 1 if len(names) == 3 and cls is SimpleRNN else \
        (1 if len(names) > 3 else {'GRU': 3, 'LSTM': 4}[cls.__name__])
    shapes = {'W': (3, 7 * gates), 'U': (7, 7 * gates), 'b': (7 * gates,)}
    for name, w in zip(names, layer.get_weights()):
        assert w.shape == shapes[name[0]]
    if cls is LSTM:
        biases = dict(zip(names, layer.get_weights()))
        if consume_less == 'gpu':
            np.testing.assert_array_equal(biases['b'], [0] * 7 + [1] * 7 + [0] * 14)
        else:
            np.testing.assert_array_equal(biases['b_f'], 1)
            np.testing.assert_array_equal(biases['b_i'], 0)


def test_lstm_cpu_recurrent_weights_use_init_as_keras_1_2_2():
    """'cpu'/'mem' LSTMs drew U_* from `init`; 'gpu' from `inner_init` (orthogonal)."""
    cpu = built(LSTM(8, init='zero', inner_init='orthogonal'), (4, 3))
    gpu = built(LSTM(8, init='zero', inner_init='orthogonal', consume_less='gpu'), (4, 3))
    assert not np.any(cpu.U_i) and not np.any(cpu.U_f)
    gram = gpu.U @ gpu.U.T     # orthogonal rows (Keras 1's scale 1.1)
    np.testing.assert_allclose(gram, np.eye(8) * 1.21, atol=1e-5)


def test_hard_sigmoid_has_keras_1_slope():
    layer = make(LSTM, return_sequences=True)
    x = data((2, 6, 3), seed=10) * 4
    np.testing.assert_allclose(layer.call(x), reference(layer, x), atol=2e-6)
    assert float(K.hard_sigmoid(np.float32(1.))) == pytest.approx(0.7)


@pytest.mark.parametrize('cls', CELLS)
def test_stateful_carries_states_between_batches(cls):
    layer2 = make(cls, sample_shape=(None, 3))
    stateful = cls(5, stateful=True, batch_input_shape=(4, 6, 3))
    stateful.connect((4, 6, 3))
    stateful.set_weights(layer2.get_weights())
    x = data((4, 12, 3), seed=11)
    stateful.forward(x[:, :6])
    second = stateful.forward(x[:, 6:])[0]
    np.testing.assert_allclose(second, layer2.call(x), atol=2e-6)
    stateful.reset_states()
    assert all(not np.any(s) for s in stateful.states)
    np.testing.assert_allclose(stateful.forward(x[:, :6])[0], layer2.call(x[:, :6]), atol=2e-6)


def test_stateful_needs_a_batch_size_and_checks_it():
    with pytest.raises(ValueError, match='stateful.*batch_input_shape'):
        LSTM(4, stateful=True).connect((None, 6, 3))
    layer = LSTM(4, stateful=True, name='lstm_s')
    layer.connect((8, 6, 3))
    before = layer.get_weights()
    states = [np.array(s) for s in layer.states]
    with pytest.raises(ValueError, match=r'lstm_s \(LSTM\).*batch size 8.*\(5, 6, 3\)'):
        layer.forward(data((5, 6, 3)))
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(states, layer.states):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match='stateful=False'):
        LSTM(4).reset_states()


def test_bad_input_names_the_layer_and_both_shapes():
    layer = built(GRU(4, name='gru_x'), (6, 3))
    with pytest.raises(ValueError, match=r'gru_x \(GRU\) expects 3D input.*\(6, 3\)'):
        layer.forward(data((6, 3)))
    with pytest.raises(ValueError, match=r'gru_x \(GRU\).*\(None, 6, 3\).*\(2, 6, 5\)'):
        layer.forward(data((2, 6, 5)))
    with pytest.raises(ValueError, match=r'input_length is 6.*\(2, 7, 3\)'):
        built(SimpleRNN(4, input_length=6), (6, 3)).forward(data((2, 7, 3)))
    with pytest.raises(ValueError, match=r'mask has shape \(2, 5\).*\(2, 6\)'):
        layer.forward(data((2, 6, 3)), mask=np.ones((2, 5), bool))
    model = Sequential([Embedding(10, 3, input_length=6), LSTM(4, name='lstm_y')])
    assert model.output_shape == (None, 4)
    with pytest.raises(ValueError, match=r'expects 3D input.*\(None, 3\)'):
        Sequential([Dense(3, input_dim=5), LSTM(4)])
    with pytest.raises(ValueError, match='consume_less'):
        LSTM(4, consume_less='fast')
    with pytest.raises(ValueError, match='dropout_U'):
        LSTM(4, dropout_U=1.)


@pytest.mark.parametrize('cls', CELLS)
def test_config_round_trip(cls):
    layer = make(cls, return_sequences=True, go_backwards=True, consume_less='gpu',
                 dropout_W=0.1, W_regularizer='l2')
    config = json.loads(json.dumps({'class_name': cls.__name__, 'config': layer.get_config()}))
    assert config['config']['output_dim'] == 5
    copy = built(layer_from_config(config), (6, 3))
    copied = copy.get_config()
    assert {k: copied[k] for k in layer.get_config()} == layer.get_config()
    copy.set_weights(layer.get_weights())
    x = data((2, 6, 3))
    np.testing.assert_array_equal(copy.call(x), layer.call(x))


class CustomRNN(Recurrent):
    """A Keras 1 style subclass: its own step written with K.*."""

    def __init__(self, output_dim, **kwargs):
        self.output_dim = output_dim
        super(CustomRNN, self).__init__(**kwargs)

    def build(self, input_shape):
        self.states = [None]
        self.W = self.add_weight((input_shape[2], self.output_dim), 'glorot_uniform')
        self.U = self.add_weight((self.output_dim, self.output_dim), 'orthogonal')

    def step(self, x, states):
        h = K.tanh(K.dot(x, self.W) + K.dot(states[0], self.U)) * 0.5 + states[0] * 0.5
        return h, [h]


def test_a_keras_1_subclass_step_runs_through_K_rnn():
    layer = built(CustomRNN(4, return_sequences=True), (5, 3))
    x = data((3, 5, 3), seed=12)
    y = layer.call(x)
    h = np.zeros((3, 4))
    for t in range(5):
        h = np.tanh(x[:, t] @ layer.W + h @ layer.U) * .5 + h * .5
        np.testing.assert_allclose(y[:, t], h, atol=2e-6)
    check_layer_gradients(layer, x, eps=1e-3)
    mask = np.array([[1, 1, 0, 1, 1], [0, 1, 1, 1, 0], [1, 0, 0, 0, 0]], bool)
    check_layer_gradients(_Masked(layer, mask), x, eps=1e-3)


def test_K_rnn_matches_a_loop():
    x = data((2, 4, 3))
    mask = np.array([[1, 0, 1, 1], [0, 1, 1, 0]], bool)

    def step(inputs, states):
        total = states[0] + inputs * states[1]
        return total * 2., [total]
    last, outputs, states = K.rnn(step, x, [np.zeros((2, 3), 'float32')], mask=mask,
                                  constants=[np.float32(3.)], go_backwards=True)
    total, previous, expected = np.zeros((2, 3)), np.zeros((2, 3)), []
    for t in (3, 2, 1, 0):
        new = total + x[:, t] * 3.
        out = np.where(mask[:, t:t + 1], new * 2., previous)
        total = np.where(mask[:, t:t + 1], new, total)
        expected.append(out)
        previous = out
    np.testing.assert_allclose(outputs, np.stack(expected, axis=1), atol=1e-6)
    np.testing.assert_allclose(last, expected[-1], atol=1e-6)
    np.testing.assert_allclose(states[0], total, atol=1e-6)


def test_a_model_learns_and_round_trips_through_json():
    np.random.seed(0)
    model = Sequential([Embedding(12, 8, input_length=7), LSTM(16, dropout_W=0.2, dropout_U=0.2),
                        Dense(1, activation='sigmoid')])
    model.compile(Adam(lr=0.02), 'binary_crossentropy', metrics=['accuracy'])
    rng = np.random.RandomState(0)
    x = rng.randint(1, 12, size=(256, 7))
    y = (x[:, 0] > 6).astype('float32')   # remember the first step, 6 steps back
    history = model.fit(x, y, batch_size=32, nb_epoch=12, verbose=0)
    assert history.history['loss'][-1] < 0.5 * history.history['loss'][0]
    assert history.history['acc'][-1] > 0.9
    copy = model_from_json(model.to_json())
    copy.set_weights(model.get_weights())
    np.testing.assert_allclose(copy.predict(x[:10]), model.predict(x[:10]), atol=1e-6)


def test_keras_0_signatures():
    with pytest.warns(DeprecationWarning, match='0.1 signature'):
        lstm = LSTM(3, 8, return_sequences=True)
    assert (lstm.output_dim, lstm.input_dim, lstm.return_sequences) == (8, 3, True)
    assert lstm.batch_input_shape == (None, None, 3)
    with pytest.warns(DeprecationWarning):
        gru = GRU(3, 8, 'uniform', 'orthogonal')
    assert gru.init == 'uniform' and gru.activation.__name__ == 'sigmoid'   # 0.1's default
    with pytest.warns(DeprecationWarning):
        rnn = SimpleRNN(3, 8, activation='tanh', truncate_gradient=2)
    assert rnn.activation.__name__ == 'tanh' and rnn.truncate_gradient == 2
    model = Sequential([LSTM(16, input_dim=3, truncate_gradient=-1, return_sequences=True)])
    assert model.output_shape == (None, None, 16)
    with pytest.raises(ValueError, match='truncate_gradient'):
        LSTM(4, truncate_gradient=0)


@pytest.mark.parametrize('cls', CELLS)
def test_truncate_gradient_backpropagates_through_the_last_steps_only(cls):
    """Theano's truncate_gradient=k: the gradient of the last k steps of
    the scan; earlier inputs get none, even from their own outputs."""
    layer = make(cls, n=4, sample_shape=(6, 3), return_sequences=True, truncate_gradient=2)
    x = data((3, 6, 3), seed=13)
    y, backprop = layer.forward(x)
    dy = data(y.shape, seed=14)
    dx = backprop(dy)
    assert not np.any(dx[:, :4]) and np.all(np.abs(dx[:, 4:]).sum(axis=-1) > 0)
    # the last two steps get the same gradient as from a layer run on them
    # with the state at step 4 as its fixed start
    full = make(cls, n=4, sample_shape=(6, 3), return_sequences=True)
    full.set_weights(layer.get_weights())
    _, full_backprop = full.forward(x)
    dy_late = dy.copy()
    dy_late[:, :4] = 0
    np.testing.assert_allclose(dx[:, 4:], full_backprop(dy_late)[:, 4:], atol=1e-6)


def test_slice_X_as_keras_1_and_0x():
    from minikeras.engine.training import slice_X
    from minikeras.models import slice_X as slice_X_0x
    a, b = np.arange(10).reshape(5, 2), np.arange(5)
    np.testing.assert_array_equal(slice_X(a, 1, 3), a[1:3])
    np.testing.assert_array_equal(slice_X(a, 3), a[3:])
    for x, y in zip(slice_X_0x([a, b], np.array([4, 0])), [a[[4, 0]], b[[4, 0]]]):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match='slice_X'):
        slice_X(a, [1, 2], 3)


def test_a_keras_1_init_lambda_without_dim_ordering():
    """mnist_irnn's `init=lambda shape, name: normal(shape, scale=0.001, name=name)`."""
    from minikeras.initializations import identity, normal
    layer = built(SimpleRNN(4, init=lambda shape, name: normal(shape, scale=0.001, name=name),
                            inner_init=lambda shape, name: identity(shape, name=name),
                            activation='relu'), (5, 3))
    np.testing.assert_array_equal(layer.U, np.eye(4))
    assert 0 < np.abs(layer.W).max() < 0.01


def test_model_reset_states_as_stateful_lstm_example():
    """Keras 1.2.2's stateful_lstm example: fit one epoch at a time with
    shuffle=False, then model.reset_states()."""
    np.random.seed(0)
    model = Sequential([LSTM(8, batch_input_shape=(5, 1, 1), return_sequences=True,
                             stateful=True), LSTM(8, stateful=True), Dense(1)])
    model.compile('rmsprop', 'mse')
    x, y = data((20, 1, 1)), data((20, 1), 1)
    model.fit(x, y, batch_size=5, nb_epoch=1, verbose=0, shuffle=False)
    assert any(np.any(s) for layer in model.layers[:2] for s in layer.states)
    model.reset_states()
    assert not any(np.any(s) for layer in model.layers[:2] for s in layer.states)
    first = model.predict(x, batch_size=5)
    model.reset_states()
    np.testing.assert_array_equal(model.predict(x, batch_size=5), first)
    with pytest.raises(ValueError, match='batch size 5'):
        model.predict(x[:7], batch_size=7)


def test_masks_through_a_model_as_keras_1_2_2():
    """Embedding(mask_zero=True) -> LSTM: padded steps are skipped (the
    output equals the LSTM's on the unpadded sequence); a masked sequence
    into a layer without masking is refused when the model is built."""
    from minikeras.layers import TimeDistributed
    np.random.seed(0)
    model = Sequential([Embedding(10, 3, input_length=6, mask_zero=True), GRU(4)])
    x = np.array([[0, 0, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]])
    y = model.predict(x)
    alone = Sequential([Embedding(10, 3, input_length=4), GRU(4)])
    alone.set_weights(model.get_weights())
    np.testing.assert_allclose(y[0], alone.predict(x[:1, 2:])[0], atol=1e-6)
    seq = Sequential([Embedding(10, 3, input_length=6, mask_zero=True),
                      LSTM(4, return_sequences=True), TimeDistributed(Dense(2))])
    assert seq.predict(x).shape == (2, 6, 2)
    with pytest.raises(ValueError, match='mask'):
        Sequential([Embedding(10, 3, input_length=6, mask_zero=True),
                    LSTM(4, return_sequences=True), Flatten()])
