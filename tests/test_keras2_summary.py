"""`model.summary()` in Keras 2.2.4's layout for layers with several outputs or
several calls: the expected text is written out from the rules of Keras
2.2.4's `keras/utils/layer_utils.print_summary` (Keras 3 prints another table):
each column cut at its stop with its last character replaced by a space;
`layer.output_shape` a list for several outputs and 'multiple' for calls of
different shapes; "Connected to" as `name[node][tensor]`, a model's own graph
being its node 0; the short layout when every depth has one call with one
inbound layer and no layer is called twice."""
import numpy as np  # noqa: F401  (the models below hold NumPy weights)
import pytest

from minikeras.engine.base_layer import reset_uids
from minikeras.layers import LSTM, Add, Dense, Flatten, Input, Lambda
from minikeras.models import Model


@pytest.fixture(autouse=True)
def keras_2_script(monkeypatch):
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '2')
    reset_uids()


def long_row(name, shape, params, connected=''):
    """A row of the 98-column layout: stops at 32, 53, 65 and 98 (.33, .55, .67)."""
    return (name.ljust(32) + shape.ljust(21) + params.ljust(12) + connected).rstrip()


def short_row(name, shape, params):
    """A row of the 65-column layout: stops at 29, 55 and 65 (.45, .85, 1)."""
    return (name.ljust(29) + shape.ljust(26) + params).rstrip()


def printed(model, capsys):
    model.summary()
    return [line.rstrip() for line in capsys.readouterr().out.splitlines()]


def test_nested_model_with_two_outputs_is_connected_from_its_node_1(capsys):
    inner_in = Input(shape=(6,), name='x_in')
    encoder = Model(inner_in, [Dense(2, name='m')(inner_in), Dense(2, name='v')(inner_in)],
                    name='enc')
    outer_in = Input(shape=(6,), name='outer_in')
    m, v = encoder(outer_in)
    model = Model(outer_in, Add(name='sum')([m, v]), name='outer')
    assert printed(model, capsys) == [
        '_' * 98,
        long_row('Layer (type)', 'Output Shape', 'Param #', 'Connected to'),
        '=' * 98,
        long_row('outer_in (InputLayer)', '(None, 6)', '0'),
        '_' * 98,
        # "[(None, 2), (None, 2)]" is cut at the column's 20 characters
        long_row('enc (Model)', '[(None, 2), (None, 2', '28', 'outer_in[0][0]'),
        '_' * 98,
        long_row('sum (Add)', '(None, 2)', '0', 'enc[1][0]'),
        long_row('', '', '', 'enc[1][1]'),
        '=' * 98,
        'Total params: 28',
        'Trainable params: 28',
        'Non-trainable params: 0',
        '_' * 98]


def test_shared_layers_list_each_call_and_different_shapes_are_multiple(capsys):
    a, b = Input(shape=(2, 3), name='a'), Input(shape=(3, 3), name='b')
    flatten = Flatten(name='flat')
    shared = Dense(4, name='shared')
    left = shared(Lambda(lambda t: t[:, :3], output_shape=(3,), name='cut')(flatten(a)))
    right = shared(Lambda(lambda t: t[:, :3], output_shape=(3,), name='cut2')(flatten(b)))
    model = Model([a, b], Add(name='join')([left, right]))
    lines = printed(model, capsys)
    rows = [line for line in lines if line.startswith(('flat', 'shared', 'join', ' '))]
    assert rows == [
        long_row('flat (Flatten)', 'multiple', '0', 'a[0][0]'),
        long_row('', '', '', 'b[0][0]'),
        long_row('shared (Dense)', '(None, 4)', '16', 'cut[0][0]'),
        long_row('', '', '', 'cut2[0][0]'),
        long_row('join (Add)', '(None, 4)', '0', 'shared[0][0]'),
        long_row('', '', '', 'shared[1][0]')]


def test_chain_through_a_multi_output_model_keeps_the_short_layout(capsys):
    # the variational autoencoder's shape: encoder(inputs)[2] into the decoder
    inputs = Input(shape=(6,), name='encoder_input')
    hidden = Dense(5, name='h')(inputs)
    z_mean, z_log_var = Dense(2, name='z_mean')(hidden), Dense(2, name='z_log_var')(hidden)
    z = Lambda(lambda t: t[0] + t[1], output_shape=(2,), name='z')([z_mean, z_log_var])
    encoder = Model(inputs, [z_mean, z_log_var, z], name='encoder')
    latent = Input(shape=(2,), name='z_sampling')
    decoder = Model(latent, Dense(6, name='out')(latent), name='decoder')
    vae = Model(inputs, decoder(encoder(inputs)[2]), name='vae_mlp')
    assert printed(vae, capsys)[:9] == [
        '_' * 65,
        short_row('Layer (type)', 'Output Shape', 'Param #'),
        '=' * 65,
        short_row('encoder_input (InputLayer)', '(None, 6)', '0'),
        '_' * 65,
        short_row('encoder (Model)', '[(None, 2), (None, 2), (N', '59'),
        '_' * 65,
        short_row('decoder (Model)', '(None, 6)', '18'),
        '=' * 65]
    # the encoder itself: two calls at one depth, a call with two inbound layers
    lines = printed(encoder, capsys)
    assert lines[1] == long_row('Layer (type)', 'Output Shape', 'Param #', 'Connected to')
    assert lines[11:13] == [long_row('z (Lambda)', '(None, 2)', '0', 'z_mean[0][0]'),
                            long_row('', '', '', 'z_log_var[0][0]')]


def test_recurrent_layer_with_states_prints_its_shapes(capsys):
    sequence = Input(shape=(5, 3), name='seq')
    output, h, c = LSTM(4, return_state=True, name='lstm')(sequence)
    lines = printed(Model(sequence, [output, h, c]), capsys)
    assert lines[5] == short_row('lstm (LSTM)', '[(None, 4), (None, 4), (N', '128')
    # a call with initial states has several inbound layers: the long layout
    h0, c0 = Input(shape=(4,), name='h0'), Input(shape=(4,), name='c0')
    second = LSTM(4, name='lstm2')(sequence, initial_state=[h0, c0])
    lines = printed(Model([sequence, h0, c0], second), capsys)
    assert [line for line in lines if line.startswith(('lstm2', ' '))] == [
        long_row('lstm2 (LSTM)', '(None, 4)', '128', 'seq[0][0]'),
        long_row('', '', '', 'h0[0][0]'),
        long_row('', '', '', 'c0[0][0]')]
