"""Masking end to end, as Keras 1.2.2 had it: `Masking` and
`Embedding(mask_zero=True)` make masks, the engine carries them through
Sequential and functional graphs, nested models, wrappers and merges (checked
with a test-only layer that records the mask it gets), a layer that cannot take
a mask refuses it by name, and the loss leaves masked steps out exactly as
Keras 1.2.2's `weighted_objective` did (a NumPy transcription of it is the
reference)."""
import numpy as np
import pytest

from minikeras.engine.topology import Layer
from minikeras.layers import (Activation, Convolution1D, Dense, Dropout, Embedding, Flatten,
                              Input, Masking, TimeDistributed, merge)
from minikeras.models import Model, Sequential
from minikeras.optimizers import SGD

from gradcheck import built, check_model_gradients


class MaskRecorder(Layer):
    """Test-only: the identity, keeping the mask it was given."""

    supports_masking = True

    def __init__(self, **kwargs):
        super(MaskRecorder, self).__init__(**kwargs)
        self.masks = []

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        self.masks.append(mask)
        return x, lambda dy: dy


def padded(samples=3, steps=5, features=4, lengths=(5, 3, 1), seed=0):
    x = np.random.RandomState(seed).standard_normal((samples, steps, features)).astype('float32')
    for sample, length in enumerate(lengths):
        x[sample, length:] = 0.
    return x


def steps_kept(x, value=0.):
    """The reference mask: a step is kept when any of its features differs from `value`."""
    kept = np.zeros(x.shape[:2], dtype=bool)
    for sample in range(x.shape[0]):
        for step in range(x.shape[1]):
            kept[sample, step] = any(v != value for v in x[sample, step].ravel())
    return kept


# -- the layers that make masks -------------------------------------------------------------------

def test_masking_layer_output_mask_and_gradient():
    layer = built(Masking(mask_value=0.5), (5, 4))
    x = padded()
    x[x == 0.] = 0.5
    x[1, 0, 2] = 0.5               # one padding-valued feature alone does not mask its step
    kept = steps_kept(x, 0.5)
    assert kept[1, 0] and not kept[1, 3]
    np.testing.assert_array_equal(layer.compute_mask(x), kept)
    y, backprop = layer.forward(x)
    np.testing.assert_array_equal(y, np.where(kept[..., None], x, 0.))
    dy = np.random.RandomState(1).standard_normal(x.shape).astype('float32')
    np.testing.assert_array_equal(backprop(dy), np.where(kept[..., None], dy, 0.))
    assert layer.get_config()['mask_value'] == 0.5


def test_embedding_mask_zero():
    layer = built(Embedding(6, 3, mask_zero=True), (4,))
    x = np.array([[1, 2, 0, 0], [5, 0, 3, 0]])
    np.testing.assert_array_equal(layer.compute_mask(x), x != 0)
    np.testing.assert_array_equal(layer.call(x), layer.get_weights()[0][x])
    assert built(Embedding(6, 3), (4,)).compute_mask(x) is None
    assert layer.get_config()['mask_zero'] is True


# -- carried through graphs -----------------------------------------------------------------------

def test_sequential_carries_the_mask_through_masking_layers():
    recorder = MaskRecorder()
    model = Sequential([Masking(input_shape=(5, 4)), Activation('tanh'), Dropout(0.3),
                        TimeDistributed(Dense(3)), recorder])
    x = padded()
    model.predict(x)
    np.testing.assert_array_equal(recorder.masks[-1], steps_kept(x))
    model.compile(loss='mse', optimizer='sgd')
    model.train_on_batch(x, np.zeros((3, 5, 3), dtype='float32'))
    np.testing.assert_array_equal(recorder.masks[-1], steps_kept(x))


def test_no_mask_is_passed_when_there_is_none():
    recorder = MaskRecorder()
    Sequential([TimeDistributed(Dense(4), input_shape=(5, 4)), recorder]).predict(padded())
    assert recorder.masks == [None]


def test_functional_graph_and_nested_model_carry_the_mask():
    indices = np.array([[3, 1, 0, 0], [2, 2, 2, 0], [1, 0, 0, 0]])
    inner_recorder = MaskRecorder()
    inner = Sequential([TimeDistributed(Dense(2), input_shape=(4, 3)), inner_recorder])
    seq = Input(shape=(4,), dtype='int32')
    embedded = Embedding(4, 3, mask_zero=True)(seq)
    outer_recorder = MaskRecorder()
    out = outer_recorder(inner(embedded))
    model = Model(input=seq, output=out)
    model.predict(indices)
    np.testing.assert_array_equal(inner_recorder.masks[-1], indices != 0)
    np.testing.assert_array_equal(outer_recorder.masks[-1], indices != 0)
    np.testing.assert_array_equal(inner.compute_mask(np.zeros((3, 4, 3), 'float32'),
                                                     indices != 0), indices != 0)


def merged_mask(mode, masks, **kwargs):
    """The mask a Merge of two (3, 5, 4) sequences passes on, seen by a recorder."""
    a, b = Input(shape=(5, 4)), Input(shape=(5, 4))
    branches = [Masking()(a) if masks[0] else a, Masking()(b) if masks[1] else b]
    recorder = MaskRecorder()
    out = recorder(merge(branches, mode=mode, **kwargs))
    xa, xb = padded(lengths=(5, 3, 1)), padded(lengths=(2, 4, 5), seed=1)
    Model(input=[a, b], output=out).predict([xa, xb])
    return recorder.masks[-1], steps_kept(xa), steps_kept(xb)


@pytest.mark.parametrize('mode', ['sum', 'mul', 'ave', 'max'])
def test_merge_keeps_steps_every_masked_input_keeps(mode):
    got, ka, kb = merged_mask(mode, (True, True))
    np.testing.assert_array_equal(got, ka & kb)
    got, ka, _ = merged_mask(mode, (True, False))
    np.testing.assert_array_equal(got, ka)


def test_merge_concat_masks():
    got, ka, kb = merged_mask('concat', (True, True))
    np.testing.assert_array_equal(got, ka & kb)
    got, ka, _ = merged_mask('concat', (True, False))
    np.testing.assert_array_equal(got, ka)
    got, ka, kb = merged_mask('concat', (True, True), concat_axis=1)
    np.testing.assert_array_equal(got, np.concatenate([ka, kb], axis=1))
    got, ka, kb = merged_mask('concat', (False, True), concat_axis=1)
    np.testing.assert_array_equal(got, np.concatenate([np.ones_like(ka), kb], axis=1))


def test_merge_function_mode_output_mask():
    got, ka, kb = merged_mask(lambda xs: xs[0] - xs[1], (True, True),
                              output_shape=lambda shapes: shapes[0],
                              output_mask=lambda masks: masks[0] | masks[1])
    np.testing.assert_array_equal(got, ka | kb)
    got, _, _ = merged_mask(lambda xs: xs[0] - xs[1], (True, True),
                            output_shape=lambda shapes: shapes[0])
    assert got is None


def test_merge_dot_gives_no_mask():
    a, b = Input(shape=(5, 4)), Input(shape=(5, 4))
    out = merge([Masking()(a), Masking()(b)], mode='dot', dot_axes=2)
    out = Flatten()(out)             # would refuse a mask
    model = Model(input=[a, b], output=out)
    assert model.predict([padded(), padded(seed=1)]).shape == (3, 25)


def test_keras1_custom_layer_gets_the_mask_in_call():
    class Keras1Layer(Layer):
        def __init__(self, **kwargs):
            self.supports_masking = True
            self.seen = None
            super(Keras1Layer, self).__init__(**kwargs)

        def call(self, x, mask=None):
            self.seen = mask
            return x * 2.

    layer = Keras1Layer()
    Sequential([Masking(input_shape=(5, 4)), layer]).predict(padded())
    np.testing.assert_array_equal(layer.seen, steps_kept(padded()))


# -- refused where it cannot be used --------------------------------------------------------------

def test_a_layer_that_cannot_take_a_mask_refuses_it_when_the_model_is_built():
    message = r'Layer flat \(Flatten\) does not support masking'
    with pytest.raises(ValueError, match=message):
        Sequential([Masking(input_shape=(5, 4)), Activation('relu'), Flatten(name='flat')])
    with pytest.raises(ValueError, match=r'conv_after_embedding \(Convolution1D\) does not '):
        Sequential([Embedding(5, 3, mask_zero=True, input_length=4),
                    Convolution1D(2, 2, name='conv_after_embedding')])
    a = Input(shape=(5, 4))
    with pytest.raises(ValueError, match=message):
        Flatten(name='flat')(TimeDistributed(Dense(2))(Masking()(a)))
    with pytest.raises(ValueError, match=r'does not support masking'):
        Flatten().call(padded(), mask=steps_kept(padded()))


class OwnMaskRule(Layer):
    """Test-only: the identity, with its own compute_mask (so only running
    the model tells whether a mask comes out)."""

    supports_masking = True

    def compute_mask(self, x, mask=None):
        return mask

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        return x, lambda dy: dy


def test_a_mask_known_only_when_running_is_refused_then_with_weights_unchanged():
    model = Sequential([Masking(input_shape=(5, 4)), TimeDistributed(Dense(3)), OwnMaskRule(),
                        Flatten(name='flat'), Dense(2)])
    model.compile(loss='mse', optimizer='sgd')
    before = model.get_weights()
    message = r'Layer flat \(Flatten\) does not support masking'
    with pytest.raises(ValueError, match=message):
        model.predict(padded())
    with pytest.raises(ValueError, match=message):
        model.fit(padded(), np.zeros((3, 2)), nb_epoch=1, verbose=0)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    unmasked = Sequential([TimeDistributed(Dense(3), input_shape=(5, 4)), OwnMaskRule(),
                           Flatten(), Dense(2)])
    assert unmasked.predict(padded()).shape == (3, 2)


# -- the loss -------------------------------------------------------------------------------------

def keras1_weighted_objective(scores, sample_weight, mask):
    """Keras 1.2.2's weighted_objective on NumPy arrays, line by line."""
    scores = scores.astype('float64')
    if mask is not None:
        mask = mask.astype('float64')
        scores = scores * mask
        scores = scores / np.mean(mask)
    weight_ndim = 1 if sample_weight is None else sample_weight.ndim
    scores = np.mean(scores, axis=tuple(range(weight_ndim, scores.ndim))) \
        if scores.ndim > weight_ndim else scores
    if sample_weight is not None:
        scores = scores * sample_weight
        scores = scores / np.mean(sample_weight != 0)
    return np.mean(scores)


def masked_model(temporal=False):
    model = Sequential([Masking(input_shape=(5, 4)), TimeDistributed(Dense(3))])
    model.compile(loss='mse', optimizer=SGD(lr=0.5), metrics=['mae'],
                  sample_weight_mode='temporal' if temporal else None)
    return model


@pytest.mark.parametrize('weights', ['none', 'per_sample', 'temporal', 'temporal_with_zeros'])
def test_masked_loss_is_keras1_weighted_objective(weights):
    x, y = padded(), np.random.RandomState(2).standard_normal((3, 5, 3)).astype('float32')
    rng = np.random.RandomState(3)
    sample_weight = {'none': None, 'per_sample': rng.uniform(0.5, 2., 3),
                     'temporal': rng.uniform(0.5, 2., (3, 5)),
                     'temporal_with_zeros': rng.uniform(0.5, 2., (3, 5)) * (rng.rand(3, 5) > .4)
                     }[weights]
    if sample_weight is not None:
        sample_weight = sample_weight.astype('float32')
    model = masked_model(temporal=weights.startswith('temporal'))
    scores = np.mean((model.predict(x).astype('float64') - y) ** 2, axis=-1)
    expected = keras1_weighted_objective(scores, sample_weight, steps_kept(x))
    loss, mae = model.test_on_batch(x, y, sample_weight=sample_weight)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    # Keras 1.2.2 computed the metrics on every step, masked or not.
    np.testing.assert_allclose(mae, np.mean(np.abs(model.predict(x) - y)), rtol=1e-5)


def test_masked_loss_gradient_matches_finite_differences():
    x, y = padded(), np.random.RandomState(2).standard_normal((3, 5, 3)).astype('float32')
    model = masked_model()
    model.compile(loss='mse', optimizer='sgd')
    check_model_gradients(model, x, y)


def test_masked_steps_do_not_move_the_weights():
    x = padded(lengths=(2, 2, 2))
    y = np.random.RandomState(2).standard_normal((3, 5, 3)).astype('float32')
    model = masked_model()
    other_y = y.copy()
    other_y[:, 2:] = 100.            # targets of masked steps: they must not matter
    start = model.get_weights()
    model.train_on_batch(x, y)
    first = model.get_weights()
    model.set_weights(start)
    model.train_on_batch(x, other_y)
    for a, b in zip(first, model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_batch_with_every_step_masked_has_loss_zero():
    model = masked_model()
    start = model.get_weights()
    loss, _ = model.train_on_batch(np.zeros((2, 5, 4), 'float32'), np.ones((2, 5, 3), 'float32'))
    assert loss == 0.
    for a, b in zip(start, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_fit_and_evaluate_with_embedding_mask_zero():
    rng = np.random.RandomState(0)
    indices = rng.randint(1, 8, (40, 6))
    for sample in range(40):
        indices[sample, rng.randint(1, 6):] = 0
    targets = (indices[..., None] % 2).astype('float32')
    model = Sequential([Embedding(8, 4, mask_zero=True, input_length=6),
                        TimeDistributed(Dense(1, activation='sigmoid'))])
    model.compile(loss='binary_crossentropy', optimizer=SGD(lr=1.))
    first = model.evaluate(indices, targets, verbose=0)
    model.fit(indices, targets, nb_epoch=30, batch_size=8, verbose=0)
    assert model.evaluate(indices, targets, verbose=0) < first / 2


def test_sample_weight_mode_per_output():
    x = padded()
    seq = Input(shape=(5, 4))
    masked = Masking()(seq)
    steps = TimeDistributed(Dense(3), name='steps')(masked)
    summary = Dense(2, name='summary')(Flatten()(TimeDistributed(Dense(1))(seq)))
    model = Model(input=seq, output=[steps, summary])
    rng = np.random.RandomState(4)
    y_steps, y_summary = rng.standard_normal((3, 5, 3)), rng.standard_normal((3, 2))
    w_steps, w_summary = rng.uniform(0.5, 2., (3, 5)), rng.uniform(0.5, 2., 3)
    for mode in ({'steps': 'temporal', 'summary': None}, ['temporal', None]):
        model.compile(loss='mse', optimizer='sgd', sample_weight_mode=mode)
        p_steps, p_summary = model.predict(x)
        expected_steps = keras1_weighted_objective(
            np.mean((p_steps.astype('float64') - y_steps) ** 2, axis=-1), w_steps, steps_kept(x))
        expected_summary = keras1_weighted_objective(
            np.mean((p_summary.astype('float64') - y_summary) ** 2, axis=-1), w_summary, None)
        total, loss_steps, loss_summary = model.test_on_batch(
            x, [y_steps, y_summary], sample_weight=[w_steps, w_summary])
        np.testing.assert_allclose([loss_steps, loss_summary], [expected_steps, expected_summary],
                                   rtol=1e-5)
        np.testing.assert_allclose(total, expected_steps + expected_summary, rtol=1e-5)
    with pytest.raises(ValueError, match='sample_weight_mode gives nothing for output'):
        model.compile(loss='mse', optimizer='sgd', sample_weight_mode={'steps': 'temporal'})
        model.test_on_batch(x, [y_steps, y_summary])
    with pytest.raises(ValueError, match='sample_weight_mode must be None or "temporal"'):
        model.compile(loss='mse', optimizer='sgd', sample_weight_mode=['temporal', 'sample'])


def test_merge_output_mask_function_survives_json():
    from minikeras.models import model_from_json
    a, b = Input(shape=(5, 4)), Input(shape=(5, 4))
    out = merge([Masking()(a), Masking()(b)], mode=lambda xs: xs[0] * xs[1],
                output_shape=lambda shapes: shapes[0],
                output_mask=lambda masks: masks[0] & masks[1])
    recorder = MaskRecorder(name='recorder')
    model = Model(input=[a, b], output=recorder(out))
    copy = model_from_json(model.to_json(), custom_objects={'MaskRecorder': MaskRecorder})
    xa, xb = padded(), padded(lengths=(2, 4, 5), seed=1)
    copy.predict([xa, xb])
    np.testing.assert_array_equal(copy.get_layer('recorder').masks[-1],
                                  steps_kept(xa) & steps_kept(xb))
