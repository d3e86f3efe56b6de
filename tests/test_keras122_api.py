"""Keras 1.2.2 API that its own test suite (scripts/run_keras_tests.py) found
missing or wrong: keras.utils.test_utils, np_utils' geometry helpers,
custom_object_scope, Dropout's noise_shape and seed, Sequential.build,
and the weights of a Sequential model that starts with a Merge of models."""
import numpy as np
import pytest

from minikeras.engine import saving
from minikeras.layers import Activation, Convolution1D, Dense, Dropout, Merge
from minikeras.models import Sequential
from minikeras.utils import generic_utils, np_utils
from minikeras.utils.test_utils import get_test_data, keras_test, layer_test


# -- test_utils ------------------------------------------------------------------------

def test_get_test_data_classification_draws_inputs_around_their_class():
    np.random.seed(0)
    (x_train, y_train), (x_test, y_test) = get_test_data(
        nb_train=300, nb_test=100, input_shape=(4,), nb_class=3)
    assert x_train.shape == (300, 4) and x_test.shape == (100, 4)
    assert y_train.shape == (300,) and set(np.unique(y_train)) == {0, 1, 2}
    for label in range(3):
        rows = x_train[y_train == label]
        assert abs(rows.mean() - label) < 0.15
        assert abs(rows.std() - 0.7) < 0.1


def test_get_test_data_regression_shares_a_centre_per_sample():
    np.random.seed(1)
    (x, y), _ = get_test_data(nb_train=2000, nb_test=1, input_shape=(8,), output_shape=(8,),
                              classification=False)
    assert y.shape == (2000, 8)
    correlation = np.corrcoef(x.mean(axis=1), y.mean(axis=1))[0, 1]
    assert correlation > 0.2   # both are drawn around the same centre in [0, 1)


def test_layer_test_returns_the_output_and_checks_it():
    x = np.arange(12, dtype='float32').reshape(2, 3, 2)
    out = layer_test(Activation, kwargs={'activation': 'relu'}, input_data=x - 5,
                     expected_output=np.maximum(x - 5, 0))
    np.testing.assert_array_equal(out, np.maximum(x - 5, 0))
    with pytest.raises(AssertionError):
        layer_test(Activation, kwargs={'activation': 'relu'}, input_data=x - 5,
                   expected_output=x - 5)
    out = layer_test(Convolution1D, kwargs={'nb_filter': 4, 'filter_length': 3},
                     input_shape=(2, 7, 3))
    assert out.shape == (2, 5, 4)
    with pytest.raises(AssertionError, match='dtype'):
        layer_test(Dense, kwargs={'output_dim': 2}, input_shape=(2, 3),
                   expected_output_dtype='float64')


def test_keras_test_runs_the_function():
    calls = []

    @keras_test
    def test_something(value):
        calls.append(value)
        return value * 2
    assert test_something(3) == 6 and calls == [3]
    assert test_something.__name__ == 'test_something'


# -- np_utils and generic_utils ---------------------------------------------------------

@pytest.mark.parametrize('border_mode', ['valid', 'same', 'full'])
@pytest.mark.parametrize('stride', [1, 2, 3])
def test_conv_lengths_match_a_sliding_window(border_mode, stride):
    for length in range(5, 12):
        for size in (1, 2, 3, 5):
            pad = {'valid': 0, 'same': size // 2, 'full': size - 1}[border_mode]
            padded = length + 2 * pad if border_mode != 'same' else length + size - 1
            starts = range(0, padded - size + 1, stride)
            if border_mode == 'same':
                starts = range(0, length, stride)
            assert np_utils.conv_output_length(length, size, border_mode, stride) == \
                len(starts), (length, size)
            if stride == 1 and border_mode != 'same':
                out = np_utils.conv_output_length(length, size, border_mode, 1)
                assert np_utils.conv_input_length(out, size, border_mode, 1) == length
    assert np_utils.conv_output_length(None, 3, border_mode, stride) is None
    assert np_utils.conv_input_length(None, 3, border_mode, stride) is None


def test_conv_output_length_with_dilation():
    # A 3-tap kernel with dilation 2 spans 5 inputs.
    assert np_utils.conv_output_length(10, 3, 'valid', 1, dilation=2) == 6
    with pytest.raises(ValueError, match='border_mode'):
        np_utils.conv_input_length(4, 3, 'causal', 1)


def test_normalize_gives_unit_rows_and_keeps_zero_rows():
    a = np.array([[3., 4.], [0., 0.], [1., 0.]])
    np.testing.assert_allclose(np_utils.normalize(a), [[0.6, 0.8], [0., 0.], [1., 0.]])
    np.testing.assert_allclose(np.linalg.norm(np_utils.normalize(a, axis=0), axis=0), [1., 1.])


def test_custom_object_scope_is_undone_at_exit():
    def my_loss(y_true, y_pred):
        return (y_true - y_pred) ** 2
    with generic_utils.custom_object_scope({'my_loss': my_loss}):
        assert generic_utils.get_custom_objects()['my_loss'] is my_loss
    assert 'my_loss' not in generic_utils.get_custom_objects()


# -- Dropout's noise_shape and seed -----------------------------------------------------

def test_dropout_noise_shape_shares_the_mask_along_axes_of_size_one():
    layer = Dropout(0.5, noise_shape=(None, 1, 6), seed=3)
    x = np.ones((4, 5, 6), dtype='float32')
    y, backprop = layer.forward(x, training=True)
    assert set(np.unique(y)) <= {0., 2.}
    assert np.all(y == y[:, :1, :])                 # one draw per (sample, feature)
    assert 0 < np.count_nonzero(y[:, 0]) < 24
    np.testing.assert_array_equal(backprop(np.ones_like(x)), y)
    again = Dropout(0.5, noise_shape=(None, 1, 6), seed=3).forward(x, training=True)[0]
    np.testing.assert_array_equal(y, again)         # the seed fixes the masks
    with pytest.raises(ValueError, match=r'noise_shape \(None, 2, 6\).*\(4, 5, 6\)'):
        Dropout(0.5, noise_shape=(None, 2, 6)).forward(x, training=True)
    config = layer.get_config()
    assert config['noise_shape'] == [None, 1, 6] and config['seed'] == 3
    assert 'noise_shape' not in Dropout(0.5).get_config()


# -- Sequential ------------------------------------------------------------------------

def test_sequential_build_checks_the_model():
    model = Sequential([Dense(4, input_dim=3), Dense(2)])
    model.build()
    assert model.count_params() == 3 * 4 + 4 + 4 * 2 + 2
    with pytest.raises(RuntimeError, match='has no layers'):
        Sequential().build()
    with pytest.raises(RuntimeError, match='does not know its input shape'):
        Sequential([Dense(4)]).build()


def merged_model():
    left = Sequential([Dense(5, input_dim=4, name='left_dense'), Activation('relu')])
    right = Sequential([Dense(5, input_dim=4, name='right_dense'), Activation('relu')])
    model = Sequential([Merge([left, right], mode='concat'), Dense(3, name='top')])
    model.compile(loss='mse', optimizer='sgd')
    return model


def test_merge_of_models_saves_the_branch_weights(tmp_path):
    """Keras 1.2.2 saved such a model's `flattened_layers`: the branches'
    layers, then the rest. (The Merge layer itself owns no weights.)"""
    x = np.random.RandomState(0).standard_normal((6, 4)).astype('float32')
    model = merged_model()
    names = [layer.name for layer in model.flattened_layers]
    assert names[0] == 'left_dense' and names[2] == 'right_dense' and names[-1] == 'top'
    path = str(tmp_path / 'merged.h5')
    model.save_weights(path)
    other = merged_model()
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict([x, x]), other.predict([x, x]))
    restored = saving.load_model(_saved(model, tmp_path))
    np.testing.assert_array_equal(model.predict([x, x]), restored.predict([x, x]))


def _saved(model, tmp_path):
    path = str(tmp_path / 'merged_model.h5')
    model.save(path)
    return path


def test_nested_sequential_config_round_trip():
    inner = Sequential([Dense(4, input_dim=3), Activation('relu'), Dense(2)])
    middle = Sequential([inner])
    model = Sequential([middle, Activation('softmax')])
    rebuilt = Sequential.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    x = np.random.RandomState(0).standard_normal((5, 3)).astype('float32')
    np.testing.assert_array_equal(rebuilt.predict(x), model.predict(x))


# -- engine.training -------------------------------------------------------------------

def test_check_loss_and_target_compatibility():
    from minikeras import objectives
    from minikeras.engine.training import check_loss_and_target_compatibility as check
    a = np.zeros((2, 1, 3))
    check([a], [objectives.categorical_crossentropy], [(2, None, 3)])
    check([np.zeros((2, 5))], [objectives.mean_absolute_error], [(None, 4)])  # not compared
    with pytest.raises(ValueError, match=r'target array of shape \(2, 3, 1\).*to_categorical'):
        check([np.zeros((2, 3, 1))], [objectives.categorical_crossentropy], [(2, 3, 1)])
    with pytest.raises(ValueError, match=r'shape \(2, 3, 5\).*output of shape \(2, 3, 3\).*'
                                         r'binary_crossentropy'):
        check([np.zeros((2, 3, 5))], [objectives.binary_crossentropy], [(2, 3, 3)])


def test_a_metric_returning_a_dict_reports_each_value():
    from minikeras import backend as K
    from minikeras.layers import Input
    from minikeras.models import Model

    def mse_powers(y_true, y_pred):
        m = K.mean(K.square(y_true - y_pred))
        return {'mse_squared': m ** 2, 'mse_cubed': m ** 3}

    a, b = Input(shape=(3,), name='a'), Input(shape=(3,), name='b')
    model = Model(input=[a, b], output=[Dense(4, name='da')(a), Dense(2, name='db')(b)])
    model.compile('sgd', 'mse', metrics=['mae', mse_powers])
    assert model.metrics_names == ['loss', 'da_loss', 'db_loss',
                                   'da_mean_absolute_error', 'da_mse_squared', 'da_mse_cubed',
                                   'db_mean_absolute_error', 'db_mse_squared', 'db_mse_cubed']
    rng = np.random.RandomState(0)
    xs = [rng.standard_normal((5, 3)).astype('float32') for _ in range(2)]
    ys = [rng.standard_normal((5, 4)), rng.standard_normal((5, 2))]
    predictions = model.predict(xs)
    results = model.test_on_batch(xs, ys)
    for k, (y, p) in enumerate(zip(ys, predictions)):
        m = np.mean((y - p) ** 2)
        assert results[1 + k] == pytest.approx(m, rel=1e-5)
        assert results[3 + 3 * k] == pytest.approx(np.mean(np.abs(y - p)), rel=1e-5)
        assert results[4 + 3 * k] == pytest.approx(m ** 2, rel=1e-5)
        assert results[5 + 3 * k] == pytest.approx(m ** 3, rel=1e-5)


def test_dropout_noise_shape_goes_to_keras3_and_back(tmp_path):
    import json
    import h5py
    from minikeras.engine.keras3_export import export_to_keras3
    model = Sequential([Dense(4, input_dim=3, name='d'),
                        Dropout(0.3, noise_shape=(None, 4), seed=7, name='drop')])
    path = str(tmp_path / 'k3.h5')
    export_to_keras3(model, path)
    with h5py.File(path, 'r') as f:
        layers = json.loads(f.attrs['model_config'])['config']['layers']
    dropout = [layer['config'] for layer in layers if layer['class_name'] == 'Dropout'][0]
    assert dropout['rate'] == 0.3 and dropout['noise_shape'] == [None, 4] and dropout['seed'] == 7
    back = saving.load_model(path)
    drop = back.get_layer('drop')
    assert drop.p == pytest.approx(0.3) and drop.noise_shape == (None, 4) and drop.seed == 7


def square_fn(x):
    return x * x


def test_a_saved_lambda_finds_its_helpers_among_the_custom_objects(tmp_path):
    from minikeras.layers import Input, Lambda
    from minikeras.models import Model
    source = Input(shape=(3,))
    model = Model(source, Dense(2)(Lambda(lambda x: square_fn(x), output_shape=(3,))(source)))
    model.compile(loss='mse', optimizer='rmsprop')
    path = str(tmp_path / 'lambda.h5')
    model.save(path)
    x = np.random.RandomState(0).standard_normal((4, 3)).astype('float32')
    restored = saving.load_model(path, custom_objects={'square_fn': square_fn})
    np.testing.assert_allclose(restored.predict(x), model.predict(x), rtol=1e-6)
    with pytest.raises(NameError, match='square_fn'):
        saving.load_model(path).predict(x)


def test_lower_case_optimizer_aliases():
    from minikeras import optimizers
    assert isinstance(optimizers.rmsprop(lr=0.01), optimizers.RMSprop)
    assert optimizers.sgd is optimizers.SGD and optimizers.nadam is optimizers.Nadam


def test_model_output_shape_for_given_input_shapes():
    from minikeras.layers import Convolution1D, Input, merge
    from minikeras.models import Model
    a, b = Input(shape=(2,)), Input(shape=(2,))
    model = Model([a, b], merge([a, b], mode='concat'))
    assert model.get_output_shape_for([(3, 2), (3, 2)]) == (3, 4)
    seq = Input(shape=(None, 3))
    conv = Convolution1D(4, 3)(seq)
    two = Model(seq, [conv, Dense(5)(conv)])
    assert two.get_output_shape_for((2, 10, 3)) == [(2, 8, 4), (2, 8, 5)]
    outer = Sequential([Dense(6, input_dim=4), Dense(3)])
    assert outer.get_output_shape_for((7, 4)) == (7, 3)
    with pytest.raises(ValueError, match='has 2 input'):
        model.get_output_shape_for((3, 2))
