"""ConvLSTM2D against a plain NumPy loop (its own convolution, written with
np.einsum over padded frames) and against finite differences."""
import numpy as np
import pytest

from minikeras.layers import ConvLSTM2D, Convolution3D
from minikeras.models import Sequential, model_from_json

from gradcheck import numeric_gradient


def conv_same_or_valid(x, w, b, border_mode, stride):
    """x (N, C, H, W), w (F, C, kh, kw) 'th': cross-correlation as TensorFlow pads it."""
    n, c, rows, cols = x.shape
    kh, kw = w.shape[2:]
    sh, sw = stride
    if border_mode == 'same':
        out_r, out_c = -(-rows // sh), -(-cols // sw)
        pad_r = max((out_r - 1) * sh + kh - rows, 0)
        pad_c = max((out_c - 1) * sw + kw - cols, 0)
        x = np.pad(x, ((0, 0), (0, 0), (pad_r // 2, pad_r - pad_r // 2),
                       (pad_c // 2, pad_c - pad_c // 2)))
    else:
        out_r, out_c = -(-(rows - kh + 1) // sh), -(-(cols - kw + 1) // sw)
    out = np.zeros((n, w.shape[0], out_r, out_c))
    for i in range(out_r):
        for j in range(out_c):
            patch = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, :, i, j] = np.einsum('ncab,fcab->nf', patch, w)
    return out + b[None, :, None, None]


def hard_sigmoid(z):
    return np.clip(0.2 * z + 0.5, 0., 1.)


def sigmoid(z):
    return 1. / (1. + np.exp(-z))


def reference(layer, x, mask=None, states=None, gate=hard_sigmoid, w_masks=None, u_masks=None):
    """The layer's output by a loop over time in float64, Keras 1.2.2's equations;
    `w_masks` (4, N, C, H, W) and `u_masks` (4, N, F, OH, OW) multiply the
    input frames and the state seen by each gate i, f, c, o."""
    weights = dict(zip(layer.weight_names, layer.get_weights()))
    th = layer.dim_ordering == 'th'

    def kernel(kind, gate):
        w = weights['%s_%s_%s' % (layer.name, kind, gate)].astype('float64')
        return w if th else w.transpose(3, 2, 0, 1)
    frames = x.astype('float64') if th else x.astype('float64').transpose(0, 1, 4, 2, 3)
    steps = range(x.shape[1])
    if layer.go_backwards:
        steps = steps[::-1]
    h = c = None
    if states is not None:
        h, c = [s if th else s.transpose(0, 3, 1, 2) for s in states]
    outputs = []
    output = None
    for t in steps:
        z = {}
        for k, name in enumerate('ifco'):
            frame = frames[:, t] if w_masks is None else frames[:, t] * w_masks[k]
            zx = conv_same_or_valid(frame, kernel('W', name),
                                    weights['%s_b_%s' % (layer.name, name)], layer.border_mode,
                                    layer.subsample)
            if h is None:
                h = np.zeros_like(zx)
                c = np.zeros_like(zx)
                output = np.zeros_like(zx)
            if output is None:
                output = np.zeros_like(zx)
            state = h if u_masks is None else h * u_masks[k]
            z[name] = zx + conv_same_or_valid(state, kernel('U', name), np.zeros(zx.shape[1]),
                                              'same', (1, 1))
        i, f, o = gate(z['i']), gate(z['f']), gate(z['o'])
        c_new = f * c + i * np.tanh(z['c'])
        h_new = o * np.tanh(c_new)
        keep = np.ones(x.shape[0], bool) if mask is None else mask[:, t]
        keep = keep[:, None, None, None]
        h, c = np.where(keep, h_new, h), np.where(keep, c_new, c)
        output = np.where(keep, h_new, output)
        outputs.append(output)
    if layer.return_sequences:
        y = np.stack(outputs, axis=1)
        return y if th else y.transpose(0, 1, 3, 4, 2)
    return outputs[-1] if th else outputs[-1].transpose(0, 2, 3, 1)


def frames(dim_ordering, batch=2, steps=3, channels=2, rows=5, cols=6, seed=0):
    rng = np.random.RandomState(seed)
    shape = (batch, steps, channels, rows, cols) if dim_ordering == 'th' else \
        (batch, steps, rows, cols, channels)
    return rng.uniform(-1, 1, shape).astype('float32')


def built(x, **kwargs):
    np.random.seed(1)
    layer = ConvLSTM2D(3, 3, 2, **kwargs)
    layer.connect((None,) + x.shape[1:])
    # moderate weights and non-zero biases, so that no gate saturates
    rng = np.random.RandomState(2)
    layer.set_weights([rng.uniform(-0.4, 0.4, w.shape).astype('float32')
                       for w in layer.get_weights()])
    return layer


GEOMETRIES = [dict(border_mode='valid'), dict(border_mode='same'),
              dict(border_mode='valid', subsample=(2, 2)),
              dict(border_mode='same', subsample=(2, 1))]


@pytest.mark.parametrize('dim_ordering', ['th', 'tf'])
@pytest.mark.parametrize('geometry', GEOMETRIES, ids=lambda g: '-'.join(map(str, g.values())))
@pytest.mark.parametrize('return_sequences', [False, True])
def test_forward_matches_a_numpy_loop(dim_ordering, geometry, return_sequences):
    x = frames(dim_ordering)
    layer = built(x, dim_ordering=dim_ordering, return_sequences=return_sequences, **geometry)
    y = layer.call(x)
    assert y.shape == layer.get_output_shape_for(x.shape)
    np.testing.assert_allclose(y, reference(layer, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('go_backwards', [False, True])
def test_masked_steps_keep_the_state_and_repeat_the_output(go_backwards):
    x = frames('tf', batch=3, steps=4)
    mask = np.array([[1, 1, 1, 1], [0, 1, 0, 1], [1, 1, 0, 0]], bool)
    layer = built(x, dim_ordering='tf', return_sequences=True, go_backwards=go_backwards,
                  border_mode='same')
    y = layer.forward(x, mask=mask)[0]
    np.testing.assert_allclose(y, reference(layer, x, mask), rtol=1e-5, atol=1e-6)
    assert layer.compute_mask(x, mask) is mask


def check_gradients(layer, x, mask=None, training=False, seed=None):
    dy_shape = layer.get_output_shape_for(x.shape)
    dy = np.random.RandomState(5).standard_normal(dy_shape).astype('float32')

    def run():
        if seed is not None:
            np.random.seed(seed)     # the same dropout masks every time
        return layer.forward(x, training=training, mask=mask)

    def objective():
        return float(np.sum(run()[0].astype('float64') * dy))
    for g in layer.gradients:
        g.fill(0)
    dx = run()[1](dy)
    idx, numeric = numeric_gradient(objective, x, eps=1e-2, max_entries=24)
    np.testing.assert_allclose(dx.reshape(-1)[idx], numeric, rtol=2e-2, atol=2e-3,
                               err_msg='input gradient')
    for name, weight, grad in zip(layer.weight_names, layer.trainable_weights, layer.gradients):
        idx, numeric = numeric_gradient(objective, weight, eps=1e-2, max_entries=12)
        np.testing.assert_allclose(grad.reshape(-1)[idx], numeric, rtol=2e-2, atol=2e-3,
                                   err_msg='gradient of %s' % name)


@pytest.mark.parametrize('dim_ordering', ['th', 'tf'])
@pytest.mark.parametrize('geometry', GEOMETRIES[1:3], ids=['same', 'valid-stride2'])
def test_gradients_match_finite_differences(dim_ordering, geometry):
    x = frames(dim_ordering)
    layer = built(x, dim_ordering=dim_ordering, return_sequences=True, inner_activation='sigmoid',
                  **geometry)
    check_gradients(layer, x)


def test_masked_backwards_gradients_match_finite_differences():
    x = frames('tf', batch=3, steps=4)
    mask = np.array([[1, 1, 1, 1], [0, 1, 0, 1], [1, 1, 0, 0]], bool)
    layer = built(x, dim_ordering='tf', go_backwards=True, border_mode='same',
                  inner_activation='sigmoid')
    check_gradients(layer, x, mask)


def test_dropout_gradients_match_finite_differences():
    x = frames('th')
    layer = built(x, dim_ordering='th', border_mode='same', dropout_W=0.3, dropout_U=0.4,
                  inner_activation='sigmoid', return_sequences=True)
    check_gradients(layer, x, training=True, seed=7)
    # outside training the layer ignores dropout
    np.testing.assert_allclose(layer.call(x), reference(layer, x, gate=sigmoid), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize('dim_ordering', ['th', 'tf'])
def test_dropout_masks_one_per_gate_drawn_once_per_sequence(dim_ordering):
    """Keras 1.2.2's get_constants: 4 input masks of one frame's shape, 4 state
    masks of the state's shape, K.dropout on ones (kept w.p. 1 - p, scaled)."""
    x = frames(dim_ordering, batch=2, steps=4)
    layer = built(x, dim_ordering=dim_ordering, border_mode='valid', dropout_W=0.25,
                  dropout_U=0.5, return_sequences=True)
    np.random.seed(11)
    y = layer.forward(x, training=True)[0]
    np.random.seed(11)
    channels, rows, cols = 2, 5, 6
    w_masks = np.random.binomial(1, 0.75, size=(4, 2, channels, rows, cols)) / 0.75
    u_masks = np.random.binomial(1, 0.5, size=(4, 2, 3, rows - 2, cols - 1)) / 0.5
    want = reference(layer, x, w_masks=w_masks, u_masks=u_masks)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
    assert not np.allclose(y, layer.call(x))


def test_stateful_carries_both_states_between_batches():
    x = frames('tf', batch=2, steps=4)
    layer = built(x, dim_ordering='tf', border_mode='same', return_sequences=True)
    stateful = ConvLSTM2D(3, 3, 2, dim_ordering='tf', border_mode='same', return_sequences=True,
                          stateful=True, batch_input_shape=(2, 2) + x.shape[2:])
    stateful.connect((2, 2) + x.shape[2:])
    stateful.set_weights(layer.get_weights())
    whole = layer.call(x)
    first = stateful.call(x[:, :2])
    second = stateful.call(x[:, 2:])
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-5,
                               atol=1e-6)
    assert stateful.states[0].shape == (2, 5, 6, 3)
    stateful.reset_states()
    assert not np.any(stateful.states[0]) and not np.any(stateful.states[1])
    np.testing.assert_allclose(stateful.call(x[:, :2]), first, rtol=1e-6)
    with pytest.raises(ValueError, match=r'conv.*stateful with batch size 2.*\(3, 2, 5, 6, 2\)'):
        stateful.call(np.zeros((3, 2, 5, 6, 2), 'float32'))
    with pytest.raises(ValueError, match='stateful=False'):
        layer.reset_states()


def test_weights_follow_keras_1_2_2():
    th = ConvLSTM2D(4, 3, 2, dim_ordering='th', name='cl')
    th.connect((None, 5, 2, 8, 8))
    names = ['cl_%s_%s' % (k, g) for g in 'icfo' for k in 'WUb']
    assert th.weight_names == names
    shapes = [w.shape for w in th.get_weights()]
    assert shapes[:3] == [(4, 2, 3, 2), (4, 4, 3, 2), (4,)]
    tf = ConvLSTM2D(4, 3, 2, dim_ordering='tf')
    tf.connect((None, 5, 8, 8, 2))
    assert [w.shape for w in tf.get_weights()][:3] == [(3, 2, 2, 4), (3, 2, 4, 4), (4,)]
    biases = dict(zip(th.weight_names, th.get_weights()))
    assert np.all(biases['cl_b_f'] == 1) and not np.any(biases['cl_b_i'])


def test_keras_2_spelling():
    layer = ConvLSTM2D(filters=4, kernel_size=(3, 3), padding='same', data_format='channels_first',
                       recurrent_activation='sigmoid', dropout=0.1, recurrent_dropout=0.2,
                       unit_forget_bias=False, return_sequences=True)
    assert (layer.nb_filter, layer.nb_row, layer.nb_col) == (4, 3, 3)
    assert layer.dim_ordering == 'th' and layer.border_mode == 'same'
    assert layer.inner_activation.__name__ == 'sigmoid'
    assert (layer.dropout_W, layer.dropout_U, layer.forget_bias_init) == (0.1, 0.2, 'zero')
    from minikeras import backend as K
    saved = K._IMAGE_DIM_ORDERING, K._IMAGE_DATA_FORMAT   # a setter would set both
    K.set_image_data_format('channels_last')
    try:
        assert ConvLSTM2D(8, (3, 3)).dim_ordering == 'tf'     # Keras 2's default data_format
    finally:
        K._IMAGE_DIM_ORDERING, K._IMAGE_DATA_FORMAT = saved
    with pytest.raises(ValueError, match='use_bias=False has no Keras 1 equivalent'):
        ConvLSTM2D(4, (3, 3), use_bias=False)
    with pytest.raises(TypeError, match="unknown argument 'filter'"):
        ConvLSTM2D(filter=4, kernel_size=3)


def test_bad_arguments_and_input_name_the_layer():
    with pytest.raises(ValueError, match=r'Layer c1 \(ConvLSTM2D\): border_mode'):
        ConvLSTM2D(2, 3, 3, border_mode='full', name='c1')
    with pytest.raises(ValueError, match=r'Layer c2 \(ConvLSTM2D\): dropout_U must be in'):
        ConvLSTM2D(2, 3, 3, dropout_U=1.5, name='c2')
    layer = ConvLSTM2D(2, 3, 3, dim_ordering='tf', name='c3')
    with pytest.raises(ValueError, match=r'c3 \(ConvLSTM2D\) expects 5D input .*rows, cols, '
                                         r'channels.*got shape \(None, 8, 8, 1\)'):
        layer.connect((None, 8, 8, 1))
    with pytest.raises(ValueError, match=r'c3 .*kernel 3x3 is larger than its input frames'):
        layer.connect((None, 4, 2, 8, 1))
    layer.connect((None, 4, 8, 8, 1))
    before = [w.copy() for w in layer.get_weights()]
    with pytest.raises(ValueError, match=r'c3 .*expects input of shape \(None, 4, 8, 8, 1\).*'
                                         r'\(2, 4, 8, 8, 3\)'):
        layer.call(np.zeros((2, 4, 8, 8, 3), 'float32'))
    assert all(np.array_equal(a, b) for a, b in zip(before, layer.get_weights()))


def test_a_model_learns_saves_and_loads(tmp_path):
    np.random.seed(0)
    model = Sequential()
    model.add(ConvLSTM2D(4, 3, 3, border_mode='same', return_sequences=True,
                         dim_ordering='tf', input_shape=(None, 6, 6, 1)))
    model.add(Convolution3D(1, 3, 3, 3, border_mode='same', activation='sigmoid',
                            dim_ordering='tf'))
    model.compile('adadelta', 'binary_crossentropy')
    rng = np.random.RandomState(0)
    x = (rng.uniform(size=(8, 4, 6, 6, 1)) > 0.7).astype('float32')
    y = np.roll(x, 1, axis=2)
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, nb_epoch=15, batch_size=4, verbose=0)
    assert model.evaluate(x, y, verbose=0) < first
    path = str(tmp_path / 'm.h5')
    model.save(path)
    from minikeras.models import load_model
    again = load_model(path)
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-6)
    rebuilt = model_from_json(model.to_json())
    assert rebuilt.layers[0].get_config() == model.layers[0].get_config()


# -- files of other generations ------------------------------------------------------------

FIXTURES = __import__('os').path.join(__import__('os').path.dirname(__file__), 'fixtures')


def test_reads_a_keras_3_file_with_hard_sigmoid_gates():
    import os
    from minikeras.models import load_model
    model = load_model(os.path.join(FIXTURES, 'k3_tensorflow_conv_lstm.h5'), compile=False)
    data = np.load(os.path.join(FIXTURES, 'k3_tensorflow_conv_lstm.npz'))
    first, second = model.layers[0], model.layers[1]
    assert isinstance(first, ConvLSTM2D) and first.inner_activation.__name__ == 'hard_sigmoid'
    assert second.subsample == (2, 1) and second.activation.__name__ == 'relu'
    np.testing.assert_allclose(model.predict(data['x']), data['y'], rtol=1e-5, atol=1e-6)


def test_exports_to_keras_3_and_reads_the_export_back(tmp_path):
    import h5py
    import json
    from minikeras.engine.saving import export_to_keras3
    from minikeras.layers import Dense, Flatten
    from minikeras.models import load_model
    np.random.seed(4)
    model = Sequential([ConvLSTM2D(3, 3, 3, border_mode='same', dim_ordering='tf',
                                   return_sequences=True, input_shape=(3, 5, 5, 2)),
                        ConvLSTM2D(2, 2, 2, dim_ordering='tf', subsample=(2, 2),
                                   inner_activation='sigmoid'),
                        Flatten(), Dense(1)])
    path = str(tmp_path / 'k3.h5')
    export_to_keras3(model, path)
    with h5py.File(path, 'r') as f:
        layers = json.loads(f.attrs['model_config'])['config']['layers']
        config = layers[1]['config']
        assert layers[1]['class_name'] == 'ConvLSTM2D'
        assert config['recurrent_activation'] == 'hard_sigmoid' and config['padding'] == 'same'
        assert config['data_format'] == 'channels_last'
    x = np.random.uniform(-1, 1, (2, 3, 5, 5, 2)).astype('float32')
    again = load_model(path, compile=False)
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)
    # the hard_sigmoid gates' columns are scaled by 1.2 for Keras 3, the candidate's are not
    W_i, W_c = model.layers[0].W_i, model.layers[0].W_c
    with h5py.File(path, 'r') as f:
        group = f['model_weights'][model.layers[0].name]
        kernels = [group[k][()] for k in _walk(group) if k.endswith('/kernel')]
    np.testing.assert_allclose(kernels[0][..., :3], W_i * 1.2, rtol=1e-6)
    np.testing.assert_allclose(kernels[0][..., 6:9], W_c, rtol=1e-6)


def _walk(group):
    names = []
    group.visit(lambda name: names.append(name) if hasattr(group[name], 'shape') else None)
    return names


def test_th_layers_are_not_exported_and_say_why(tmp_path):
    from minikeras.engine.layer_formats import ExportError
    from minikeras.engine.saving import export_to_keras3
    model = Sequential([ConvLSTM2D(2, 3, 3, dim_ordering='th', name='cth',
                                   input_shape=(3, 1, 5, 5))])
    with pytest.raises(ExportError, match=r"cth \(ConvLSTM2D, dim_ordering 'th'\)"):
        export_to_keras3(model, str(tmp_path / 'x.h5'))
    assert not (tmp_path / 'x.h5').exists()


@pytest.mark.parametrize('saved,loaded', [('th', 'tf'), ('tf', 'th')])
def test_keras_1_weights_load_into_either_ordering(tmp_path, saved, loaded):
    shape = {'th': (None, 3, 2, 5, 5), 'tf': (None, 3, 5, 5, 2)}
    np.random.seed(2)
    source = Sequential([ConvLSTM2D(2, 3, 2, dim_ordering=saved, border_mode='same',
                                    batch_input_shape=shape[saved], name='c')])
    path = str(tmp_path / 'w.h5')
    source.save_weights(path)
    target = Sequential([ConvLSTM2D(2, 3, 2, dim_ordering=loaded, border_mode='same',
                                    batch_input_shape=shape[loaded], name='c')])
    target.load_weights(path)
    x = np.random.uniform(-1, 1, (2, 3, 5, 5, 2)).astype('float32')
    x_th = x.transpose(0, 1, 4, 2, 3)
    y_source = source.predict(x if saved == 'tf' else x_th)
    y_target = target.predict(x if loaded == 'tf' else x_th)
    if saved != loaded:
        y_target = y_target.transpose(0, 2, 3, 1) if loaded == 'th' else \
            y_target.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y_target, y_source, rtol=1e-5, atol=1e-6)
