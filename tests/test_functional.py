"""The functional API: Input, Model, merge/Merge, layer sharing, nested
models, multiple inputs and outputs, configs."""
import numpy as np
import pytest

from minikeras.layers import Activation, Dense, Input, InputLayer, Merge, merge
from minikeras.models import Model, Sequential

from gradcheck import check_model_gradients, numeric_gradient


def arrays(*shapes, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.standard_normal(shape).astype('float32') for shape in shapes]


def two_input_two_output_model():
    a, b = Input(shape=(4,), name='a'), Input(shape=(3,), name='b')
    shared = Dense(5, activation='tanh', name='shared')
    h = merge([shared(Dense(5, name='from_a')(a)), shared(Dense(5, name='from_b')(b))],
              mode='concat')
    out1 = Dense(3, activation='softmax', name='out1')(h)
    out2 = Dense(1, name='out2')(h)
    return Model(input=[a, b], output=[out1, out2])


def test_multi_input_output_training_names_and_gradients():
    model = two_input_two_output_model()
    model.compile(optimizer='sgd', loss={'out1': 'categorical_crossentropy', 'out2': 'mse'},
                  loss_weights=[1., 0.5], metrics=['accuracy'])
    assert model.metrics_names == ['loss', 'out1_loss', 'out2_loss', 'out1_acc', 'out2_acc']
    xa, xb, y2 = arrays((6, 4), (6, 3), (6, 1))
    y1 = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    loss, loss1, loss2 = model.test_on_batch([xa, xb], [y1, y2])[:3]
    assert loss == pytest.approx(loss1 + 0.5 * loss2, rel=1e-6)
    check_model_gradients(model, [xa, xb], [y1, y2])
    history = model.fit({'a': xa, 'b': xb}, {'out1': y1, 'out2': y2}, nb_epoch=2, batch_size=3,
                        verbose=0)
    assert set(history.history) == {'loss', 'out1_loss', 'out2_loss', 'out1_acc', 'out2_acc'}


def test_shared_layer_has_one_set_of_weights_and_summed_gradients():
    x = Input(shape=(3,))
    shared = Dense(3, activation='tanh')
    y = merge([shared(x), shared(shared(x))], mode='sum')
    model = Model(input=x, output=Dense(1)(y))
    assert len(shared.inbound_nodes) == 3
    assert len(model.get_weights()) == 4
    model.compile(optimizer='sgd', loss='mse')
    check_model_gradients(model, arrays((5, 3))[0], arrays((5, 1), seed=1)[0])


@pytest.mark.parametrize('mode,shapes,expected', [
    ('sum', [(4,), (4,)], lambda a, b: a + b),
    ('ave', [(4,), (4,)], lambda a, b: (a + b) / 2),
    ('mul', [(4,), (4,)], lambda a, b: a * b),
    ('max', [(4,), (4,)], np.maximum),
    ('concat', [(2, 3), (2, 5)], lambda a, b: np.concatenate([a, b], axis=-1)),
    ('dot', [(4,), (4,)], lambda a, b: np.sum(a * b, axis=1, keepdims=True)),
    ('dot', [(3, 4), (3, 2)], lambda a, b: np.einsum('bij,bik->bjk', a, b)),
    ('cos', [(4,), (4,)], lambda a, b: np.sum(a * b, 1, keepdims=True) /
     np.sqrt(np.sum(a * a, 1, keepdims=True) * np.sum(b * b, 1, keepdims=True))),
])
def test_merge_modes_forward_and_backward(mode, shapes, expected):
    layer = Merge(mode=mode, dot_axes=1 if mode == 'dot' else -1)
    a, b = arrays((3,) + shapes[0], (3,) + shapes[1])
    if mode == 'max':
        a += 0.1 * np.sign(a - b)  # keep max() away from ties
    y = layer([a, b])
    np.testing.assert_allclose(y, expected(a.astype('float64'), b.astype('float64')), rtol=1e-5,
                               atol=1e-6)
    dy = arrays(y.shape, seed=2)[0]
    _, backprop = layer.forward([a, b])
    grads = backprop(dy)
    for array, grad in zip((a, b), grads):
        idx, numeric = numeric_gradient(
            lambda: float(np.sum(layer.forward([a, b])[0].astype('float64') * dy)), array)
        np.testing.assert_allclose(np.asarray(grad).reshape(-1)[idx], numeric, rtol=2e-2,
                                   atol=2e-3)


def test_merge_rejects_mismatched_shapes_with_names():
    with pytest.raises(ValueError, match=r'mode .sum. needs inputs of the same shape'):
        merge([Input(shape=(3,)), Input(shape=(4,))], mode='sum')
    with pytest.raises(ValueError, match='mode must be one of'):
        Merge(mode='average')


def test_keras_1_merge_of_sequential_branches():
    left, right = Sequential([Dense(3, input_dim=4)]), Sequential([Dense(2, input_dim=5)])
    model = Sequential()
    model.add(Merge([left, right], mode='concat'))
    model.add(Dense(1))
    assert model.input_shape == [(None, 4), (None, 5)] and model.output_shape == (None, 1)
    assert len(model.get_weights()) == 6
    model.compile(optimizer='sgd', loss='mse')
    xl, xr, y = arrays((6, 4), (6, 5), (6, 1))
    check_model_gradients(model, [xl, xr], y)
    clone = Sequential.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict([xl, xr]), model.predict([xl, xr]), rtol=1e-6)


def test_models_nest_as_layers():
    inner = Sequential([Dense(3, input_dim=4, activation='tanh'), Dense(2)])
    outer = Sequential([inner, Activation('softmax')])
    x = Input(shape=(4,))
    functional = Model(input=x, output=Activation('softmax')(inner(x)))
    data = arrays((5, 4))[0]
    np.testing.assert_allclose(outer.predict(data), functional.predict(data), rtol=1e-6)
    outer.compile(optimizer='sgd', loss='categorical_crossentropy')
    check_model_gradients(outer, data, np.eye(2)[[0, 1, 1, 0, 1]])


def test_functional_config_round_trip_and_layers():
    model = two_input_two_output_model()
    assert isinstance(model.layers[0], InputLayer) and model.get_layer('shared').name == 'shared'
    clone = Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    xa, xb = arrays((4, 4), (4, 3))
    for ours, theirs in zip(model.predict([xa, xb]), clone.predict([xa, xb])):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]


def test_graph_disconnected_and_non_input_errors():
    a, b = Input(shape=(2,)), Input(shape=(2,))
    out = Dense(1)(merge([a, b], mode='sum'))
    with pytest.raises(ValueError, match='Graph disconnected'):
        Model(input=a, output=out)
    with pytest.raises(ValueError, match='must be Input tensors'):
        Model(input=Dense(2)(a), output=out)


def test_frozen_layer_is_not_updated():
    x = Input(shape=(3,))
    frozen = Dense(3, trainable=False)
    model = Model(input=x, output=Dense(1)(frozen(x)))
    model.compile(optimizer='sgd', loss='mse')
    before = frozen.get_weights()
    model.fit(*arrays((8, 3), (8, 1)), verbose=0)
    for old, new in zip(before, frozen.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


def gan_parts():
    generator = Sequential([Dense(4, input_dim=3, activation='tanh')])
    discriminator = Sequential([Dense(5, input_dim=4, activation='tanh'),
                                Dense(1, activation='sigmoid')])
    discriminator.compile(optimizer='sgd', loss='binary_crossentropy')
    discriminator.trainable = False
    z = Input(shape=(3,))
    combined = Model(input=z, output=discriminator(generator(z)))
    combined.compile(optimizer='sgd', loss='binary_crossentropy')
    return generator, discriminator, combined


def changed(before, after):
    return [not np.array_equal(old, new) for old, new in zip(before, after)]


def test_trainable_is_read_at_compile_as_keras_1_did():
    """Keras 1.2.2's GAN recipe (examples/mnist_acgan.py): the discriminator
    is compiled, frozen, then compiled into the combined model. Its own
    training still updates it until it is compiled again; the combined
    model's leaves it alone and trains the generator."""
    generator, discriminator, combined = gan_parts()
    noise, images = arrays((8, 3), (8, 4))
    labels = np.ones((8, 1), 'float32')
    before = discriminator.get_weights()
    discriminator.train_on_batch(images, labels)
    assert all(changed(before, discriminator.get_weights()))

    before, generated = discriminator.get_weights(), generator.get_weights()
    combined.train_on_batch(noise, labels)
    assert not any(changed(before, discriminator.get_weights()))
    assert all(changed(generated, generator.get_weights()))

    discriminator.compile(optimizer='sgd', loss='binary_crossentropy')
    discriminator.train_on_batch(images, labels)
    assert not any(changed(before, discriminator.get_weights()))


def test_a_layer_frozen_after_compile_trains_until_the_next_compile():
    """Keras 1.2.2 collected the trainable weights at compile: a layer frozen
    afterwards keeps training (Keras 2.x the same, with a warning at the
    first step), and one
    unfrozen afterwards stays frozen, until the model is compiled again."""
    x = Input(shape=(3,))
    hidden = Dense(4)
    model = Model(input=x, output=Dense(1)(hidden(x)))
    model.compile(optimizer='sgd', loss='mse')
    inputs, targets = arrays((8, 3), (8, 1))
    hidden.trainable = False
    before = model.get_weights()
    # as Keras 2.x, a warning at the first step after compile only
    with pytest.warns(UserWarning, match='trainable.*changed after compile'):
        model.train_on_batch(inputs, targets)
    assert all(changed(before, model.get_weights()))
    before = model.get_weights()
    model.train_on_batch(inputs, targets)
    assert all(changed(before, model.get_weights()))
    assert hidden.trainable is False

    model.compile(optimizer='sgd', loss='mse')
    before = model.get_weights()
    model.train_on_batch(inputs, targets)
    assert changed(before, model.get_weights()) == [False, False, True, True]

    hidden.trainable = True
    before = model.get_weights()
    model.train_on_batch(inputs, targets)
    assert changed(before, model.get_weights()) == [False, False, True, True]


def test_layers_frozen_one_by_one_after_the_discriminator_compiled_still_train_it():
    """The GAN tutorials' `make_trainable(net, False)` sets every layer's
    flag, not the model's, before the combined model is compiled: Keras
    1.2.2 still trained the discriminator with its own `train_on_batch`."""
    generator = Sequential([Dense(4, input_dim=3)])
    discriminator = Sequential([Dense(5, input_dim=4, activation='tanh'),
                                Dense(1, activation='sigmoid')])
    discriminator.compile(optimizer='sgd', loss='binary_crossentropy')
    for layer in discriminator.layers:
        layer.trainable = False
    z = Input(shape=(3,))
    combined = Model(input=z, output=discriminator(generator(z)))
    combined.compile(optimizer='sgd', loss='binary_crossentropy')
    noise, images = arrays((8, 3), (8, 4))
    labels = np.ones((8, 1), 'float32')
    before = discriminator.get_weights()
    with pytest.warns(UserWarning):
        discriminator.train_on_batch(images, labels)
    assert all(changed(before, discriminator.get_weights()))
    assert not any(layer.trainable for layer in discriminator.layers)

    before, generated = discriminator.get_weights(), generator.get_weights()
    combined.train_on_batch(noise, labels)
    assert not any(changed(before, discriminator.get_weights()))
    assert all(changed(generated, generator.get_weights()))


def test_a_frozen_nested_model_passes_gradients_without_its_own():
    """The combined model's step computes no gradient of the frozen
    discriminator's weights (their buffers keep what they held), and the
    generator's step matches finite differences."""
    generator, discriminator, combined = gan_parts()
    noise = arrays((8, 3), seed=1)[0]
    labels = np.ones((8, 1), 'float32')
    for layer in discriminator.layers:
        for grad in layer.gradients:
            grad.fill(7.)
    check_model_gradients(combined, noise, labels)
    for layer in discriminator.layers:
        for grad in layer.gradients:
            assert (grad == 7.).all()


def test_a_model_built_for_any_length_called_on_a_fixed_length_has_its_shape():
    """2.2.4's babi_memnn: Sequential([Embedding(...)]) without input_length, called
    on Input((12,)), gives (None, 12, 8), as Keras computed it for that call."""
    from minikeras import backend as K
    from minikeras.layers import Dropout, Embedding
    encoder = Sequential([Embedding(30, 8), Dropout(0.3)])
    assert encoder.output_shape == (None, None, 8)
    y = encoder(Input((12,)))
    assert K.int_shape(y) == (None, 12, 8)
    assert encoder.output_shape == (None, None, 8)
