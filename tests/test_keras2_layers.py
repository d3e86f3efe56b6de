"""Keras 2.0-2.2 layer signatures and the per-call generation rule: each Keras 2
call against the Keras 1 call it must equal, or against a NumPy reference;
backward against finite differences; errors naming the argument."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from minikeras import backend, initializers
from minikeras.compat import keras2
from minikeras.layers import (AvgPool2D, BatchNormalization, Conv1D, Conv2D, Convolution1D,
                              Convolution2D, Cropping2D, Dense, Dropout, Embedding, Flatten,
                              GaussianDropout, GaussianNoise, GlobalAvgPool2D, GlobalMaxPool1D,
                              MaxPool2D, MaxPooling1D, MaxPooling2D, PReLU, UpSampling1D,
                              UpSampling2D, ZeroPadding2D)
from minikeras.regularizers import l2

from gradcheck import built, check_layer_gradients, distinct_values

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def keras_2_script(monkeypatch):
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '2')


@pytest.fixture(autouse=True)
def default_orderings(monkeypatch):
    monkeypatch.setattr(backend, '_IMAGE_DIM_ORDERING', 'th')
    monkeypatch.setattr(backend, '_IMAGE_DATA_FORMAT', 'channels_last')
    monkeypatch.delenv('MINIKERAS_KERAS_VERSION', raising=False)


# -- the generation of a call --------------------------------------------------------------------


def test_keras_2_call_defaults_to_image_data_format_and_keras_1_call_to_th():
    assert Conv2D(4, (3, 3)).dim_ordering == 'tf'
    assert Conv2D(4, 3).dim_ordering == 'tf'
    assert Conv2D(filters=4, kernel_size=3).dim_ordering == 'tf'
    assert Convolution2D(4, 3, 3).dim_ordering == 'th'
    assert Conv2D(4, 3, 3).dim_ordering == 'th'
    assert MaxPooling2D((2, 2)).dim_ordering == 'th'
    assert MaxPooling2D((2, 2), padding='same').dim_ordering == 'tf'
    assert Conv2D(4, (3, 3), data_format='channels_first').dim_ordering == 'th'
    backend.set_image_data_format('channels_first')
    assert Conv2D(4, (3, 3)).dim_ordering == 'th'
    assert backend.image_dim_ordering() == 'th'
    backend.set_image_dim_ordering('tf')
    assert backend.image_data_format() == 'channels_last'
    assert Convolution2D(4, 3, 3).dim_ordering == 'tf'


def test_calls_that_say_nothing_follow_the_script_generation(keras_2_script):
    assert MaxPooling2D((2, 2)).dim_ordering == 'tf'
    assert GlobalAvgPool2D().dim_ordering == 'tf'
    assert Convolution2D(4, 3, 3, dim_ordering='th').dim_ordering == 'th'
    assert BatchNormalization().unbiased_moving_variance
    assert Flatten().dim_ordering == 'tf'


def test_keras_json_image_data_format_is_read_apart_from_image_dim_ordering(tmp_path):
    def orderings(config):
        (tmp_path / 'keras.json').write_text(json.dumps(config))
        env = dict(os.environ, KERAS_HOME=str(tmp_path))
        env.pop('KERAS_IMAGE_DIM_ORDERING', None)
        out = subprocess.run([sys.executable, '-c', 'from minikeras import backend as K; '
                              'print(K.image_dim_ordering(), K.image_data_format())'],
                             env=env, cwd=ROOT, capture_output=True, text=True)
        return out.stdout.split() if out.returncode == 0 else out.stderr
    assert orderings({'image_data_format': 'channels_last'}) == ['th', 'channels_last']
    assert orderings({'image_data_format': 'channels_first'}) == ['th', 'channels_first']
    assert orderings({'image_dim_ordering': 'tf'}) == ['tf', 'channels_last']
    assert 'image_data_format' in orderings({'image_data_format': 'nchw'})


# -- signatures ------------------------------------------------------------------------------------


def test_dense_keras_2_arguments_equal_keras_1_ones():
    k2 = Dense(units=5, activation='tanh', use_bias=True, kernel_initializer='zeros',
               bias_initializer='ones', kernel_regularizer=l2(0.1), input_dim=3)
    k1 = Dense(5, activation='tanh', init='zero', W_regularizer=l2(0.1), input_dim=3)
    for layer in (k1, k2):
        built(layer, (3,))
    assert [w.shape for w in k2.get_weights()] == [(3, 5), (5,)]
    np.testing.assert_array_equal(k2.get_weights()[1], np.ones(5))
    x = distinct_values((4, 3))
    np.testing.assert_allclose(k2.call(x), np.tanh(np.ones((4, 5))), rtol=1e-6)
    assert k2.get_config()['bias_init'] == 'one'
    assert k2.get_config()['W_regularizer'] == k1.get_config()['W_regularizer']
    assert Dense(4, use_bias=False).bias is False


def test_conv2d_keras_2_equals_keras_1_tf_convolution():
    np.random.seed(1)
    k2 = built(Conv2D(3, (3, 2), strides=(2, 1), padding='same', activation='relu',
                      kernel_initializer='glorot_uniform'), (7, 6, 2))
    k1 = built(Convolution2D(3, 3, 2, subsample=(2, 1), border_mode='same', activation='relu',
                             dim_ordering='tf'), (7, 6, 2))
    k1.set_weights(k2.get_weights())
    x = distinct_values((2, 7, 6, 2))
    np.testing.assert_array_equal(k2.call(x), k1.call(x))
    assert k2.get_weights()[0].shape == (3, 2, 2, 3)


def test_conv1d_keras_2_equals_keras_1():
    k2 = built(Conv1D(4, (3,), strides=2, padding='same', use_bias=False), (9, 2))
    k1 = built(Convolution1D(4, 3, subsample_length=2, border_mode='same', bias=False), (9, 2))
    k1.set_weights(k2.get_weights())
    x = distinct_values((2, 9, 2))
    np.testing.assert_array_equal(k2.call(x), k1.call(x))


def test_keras_2_initializer_of_conv1d_uses_keras_2_fans():
    np.random.seed(0)
    layer = built(Conv1D(64, 5, kernel_initializer=initializers.VarianceScaling(
        1., 'fan_in', 'uniform')), (20, 40))
    limit = np.sqrt(3. / (5 * 40))
    w = layer.get_weights()[0]
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit


def test_unsupported_keras_2_values_are_named():
    from minikeras.layers import Conv3D
    with pytest.raises(ValueError, match=r'dilation_rate=2 is not supported'):
        Conv3D(4, (3, 3, 3), dilation_rate=2)
    assert Conv2D(4, (3, 3), dilation_rate=(1, 1)).nb_row == 3
    with pytest.raises(ValueError, match=r'causal'):
        Conv1D(4, 3, padding='causal')
    with pytest.raises(ValueError, match=r"data_format must be 'channels_first' or"):
        Conv2D(4, (3, 3), data_format='NHWC')
    with pytest.raises(TypeError, match=r'at most 2 positional argument'):
        Conv2D(4, (3, 3), (1, 1))


def test_argument_valid_in_neither_generation_names_both_spellings():
    with pytest.raises(TypeError, match=r"Convolution2D: unknown argument 'kernal_size'; nearest "
                                        r"Keras 2 spelling: 'kernel_size'; nearest Keras 1 "
                                        r"spelling: 'nb_row, nb_col'"):
        Conv2D(8, kernal_size=3)
    with pytest.raises(TypeError, match=r"'W_regulariser'; nearest Keras 2 spelling: "
                                        r"'kernel_regularizer'; nearest Keras 1 spelling: "
                                        r"'W_regularizer'"):
        Dense(3, W_regulariser=None)
    with pytest.raises(TypeError, match=r"'border'.*'padding'.*'border_mode'"):
        MaxPooling2D(border='same')
    with pytest.raises(TypeError, match=r'both units \(Keras 2\) and output_dim \(Keras 1\)'):
        Dense(units=3, output_dim=3)


def test_dropout_rate_noise_shape_and_seed():
    layer = Dropout(rate=0.5, noise_shape=(None, 1, 6), seed=3)
    x = np.ones((4, 5, 6), dtype='float32')
    y, backprop = layer.forward(x, training=True)
    assert set(np.unique(y)) <= {0., 2.}
    np.testing.assert_array_equal(y, np.broadcast_to(y[:, :1, :], y.shape))
    np.testing.assert_array_equal(backprop(np.ones_like(x)), y)
    again, _ = Dropout(0.5, noise_shape=(None, 1, 6), seed=3).forward(x, training=True)
    np.testing.assert_array_equal(again, y)
    with pytest.raises(ValueError, match=r'noise_shape \(None, 2, 6\) does not broadcast'):
        layer.forward(x, training=True) if False else Dropout(0.5, noise_shape=(None, 2, 6)) \
            .forward(x, training=True)
    assert Dropout(0.3).p == 0.3


def test_pooling_aliases_and_int_sizes():
    assert MaxPool2D is MaxPooling2D
    layer = built(MaxPool2D(2, strides=1, padding='valid'), (5, 5, 3))
    assert layer.pool_size == (2, 2) and layer.strides == (1, 1)
    assert layer.output_shape == (None, 4, 4, 3)
    avg = built(AvgPool2D(pool_size=3, padding='same'), (5, 5, 3))
    assert avg.output_shape == (None, 2, 2, 3)
    pool1 = built(MaxPooling1D(pool_size=3, strides=2, padding='same'), (9, 4))
    assert (pool1.pool_length, pool1.stride, pool1.border_mode) == (3, 2, 'same')
    x = distinct_values((2, 9, 4))
    ref = built(MaxPooling1D(pool_length=3, stride=2, border_mode='same'), (9, 4))
    np.testing.assert_array_equal(pool1.call(x), ref.call(x))
    assert built(GlobalMaxPool1D(), (9, 4)).output_shape == (None, 4)


def test_padding_cropping_upsampling_keras_2_forms():
    pad = built(ZeroPadding2D(padding=((1, 2), (3, 4))), (5, 6, 2))
    assert pad.output_shape == (None, 8, 13, 2)
    x = distinct_values((1, 5, 6, 2))
    np.testing.assert_array_equal(pad.call(x),
                                  np.pad(x, ((0, 0), (1, 2), (3, 4), (0, 0))))
    assert built(ZeroPadding2D(2), (5, 6, 2)).output_shape == (None, 9, 10, 2)
    crop = built(Cropping2D(cropping=1), (5, 6, 2))
    assert crop.output_shape == (None, 3, 4, 2)
    crop = built(Cropping2D(cropping=((1, 0), (2, 1)), data_format='channels_last'), (5, 6, 2))
    np.testing.assert_array_equal(crop.call(x), x[:, 1:, 2:5, :])
    up = built(UpSampling2D(size=3, data_format='channels_last'), (2, 2, 1))
    assert up.output_shape == (None, 6, 6, 1)
    assert built(UpSampling1D(size=3), (4, 2)).output_shape == (None, 12, 2)
    with pytest.raises(ValueError, match=r"interpolation='bilinear' is not supported"):
        UpSampling2D(interpolation='bilinear')


def test_flatten_channels_first_flattens_in_channels_last_order():
    layer = built(Flatten(data_format='channels_first'), (3, 2, 4))
    x = distinct_values((2, 3, 2, 4))
    np.testing.assert_array_equal(layer.call(x), x.transpose(0, 2, 3, 1).reshape(2, -1))
    check_layer_gradients(layer, x)
    np.testing.assert_array_equal(built(Flatten(), (3, 2, 4)).call(x), x.reshape(2, -1))


def test_batch_normalization_keras_2_options():
    layer = built(BatchNormalization(axis=1, momentum=0.5, epsilon=0.01, center=False,
                                     scale=True, gamma_initializer='ones',
                                     moving_variance_initializer='zeros'), (3, 4))
    assert [w.shape for w in layer.get_weights()] == [(3,), (3,), (3,)]
    assert layer.unbiased_moving_variance
    x = distinct_values((5, 3, 4))
    from minikeras import backend as K
    from minikeras.layers import Input
    inp = Input(shape=(3, 4))
    y = K.function([inp, K.learning_phase()], [layer(inp)], updates=layer.updates)([x, 1])[0]
    mean = x.mean(axis=(0, 2), keepdims=True)
    var = x.var(axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 0.01), rtol=1e-4, atol=1e-5)
    n = 5 * 4
    np.testing.assert_allclose(layer.get_weights()[1], 0.5 * mean.ravel(), rtol=1e-5)
    np.testing.assert_allclose(layer.get_weights()[2],
                               0.5 * var.ravel() * n / (n - 1.01), rtol=1e-5)
    check_layer_gradients(layer, x, training=True)
    plain = built(BatchNormalization(axis=-1, scale=False), (4,))
    assert len(plain.trainable_weights) == 1
    check_layer_gradients(plain, distinct_values((6, 4)), training=True)
    keras_1 = built(BatchNormalization(mode=0, axis=1, momentum=0.5), (3, 4))
    inp = Input(shape=(3, 4))
    K.function([inp, K.learning_phase()], [keras_1(inp)], updates=keras_1.updates)([x, 1])
    np.testing.assert_allclose(keras_1.get_weights()[3], 0.5 + 0.5 * var.ravel(), rtol=1e-5)


def test_embedding_prelu_and_noise_keras_2_arguments():
    emb = built(Embedding(10, 3, embeddings_initializer='ones', input_length=4), (4,))
    np.testing.assert_array_equal(emb.get_weights()[0], np.ones((10, 3)))
    prelu = built(PReLU(alpha_initializer=initializers.Constant(0.25),
                        alpha_regularizer=l2(0.1), shared_axes=[1]), (3, 2))
    np.testing.assert_array_equal(prelu.get_weights()[0], np.full((1, 2), 0.25))
    assert prelu.weight_regularizers
    assert prelu.get_config()['init'] == {'class_name': 'Constant', 'config': {'value': 0.25}}
    assert GaussianNoise(stddev=0.3).sigma == 0.3
    assert GaussianDropout(rate=0.2).p == 0.2


# -- initializers --------------------------------------------------------------------------------


def test_variance_scaling_matches_keras_2_2_formulas():
    np.random.seed(0)
    shape = (3, 3, 16, 32)
    fan_in, fan_out = 3 * 3 * 16, 3 * 3 * 32
    w = initializers.get('glorot_normal')(shape)
    stddev = np.sqrt(2. / (fan_in + fan_out)) / .87962566103423978
    assert np.abs(w).max() <= 2 * stddev
    assert abs(w.std() / np.sqrt(2. / (fan_in + fan_out)) - 1) < 0.05
    w = initializers.he_uniform()(shape)
    assert np.abs(w).max() <= np.sqrt(6. / fan_in)
    q = initializers.Orthogonal(gain=2.)((6, 4))
    np.testing.assert_allclose(q.T @ q, 4 * np.eye(4), atol=1e-5)
    np.testing.assert_array_equal(initializers.Identity()((4, 2)),
                                  np.vstack([np.eye(2), np.eye(2)]))
    a = initializers.RandomNormal(seed=5)((3, 3))
    np.testing.assert_array_equal(a, initializers.RandomNormal(seed=5)((3, 3)))
    config = initializers.serialize(initializers.TruncatedNormal(stddev=0.1))
    assert isinstance(initializers.get(config), initializers.TruncatedNormal)
    with pytest.raises(ValueError, match=r'mode must be one of'):
        initializers.VarianceScaling(mode='fan_max')


def test_keras_2_name_means_keras_2_initializer():
    layer = built(Dense(50, kernel_initializer='glorot_normal'), (40,))
    assert isinstance(layer.init, initializers.VarianceScaling)
    assert layer.get_config()['init']['class_name'] == 'VarianceScaling'
    assert built(Dense(5, kernel_initializer='glorot_uniform'), (4,)).init == 'glorot_uniform'
    clone = Dense.from_config(layer.get_config())
    assert isinstance(clone.init, initializers.VarianceScaling)


# -- guessing a script's generation ----------------------------------------------------------


@pytest.mark.parametrize('source, generation', [
    ('model.fit(x, y, epochs=3)', '2.2.4'),
    ('model.add(Conv2D(32, (3, 3)))', '2.2.4'),
    ('model.add(Conv2D(32, 3, 3, border_mode="same"))', None),
    ('model.add(Dense(units=4))', '2.2.4'),
    ('model.add(MaxPooling2D(pool_size=(2, 2), padding="same"))', '2.2.4'),
    ('model.add(ZeroPadding2D(padding=(1, 1)))', None),
    ('from keras.utils import to_categorical', '2.2.4'),
    ('from keras.utils.np_utils import to_categorical', None),
    ('from keras.layers import Concatenate', '2.2.4'),
    ('model.fit(x, y, nb_epoch=3)', None),
    ('print "python 2"', None),
])
def test_guess_generation(source, generation):
    assert keras2.guess_generation(source)[0] == generation


def test_runner_runs_a_keras_2_script_with_keras_2_defaults(tmp_path):
    script = tmp_path / 'k2.py'
    script.write_text(
        'from keras.layers import Dense, MaxPooling2D\n'
        'layer = MaxPooling2D((2, 2))\n'
        'print(layer.dim_ordering, Dense(units=3).output_dim)\n')
    env = dict(os.environ)
    env.pop('MINIKERAS_KERAS_VERSION', None)
    out = subprocess.run([sys.executable, '-m', 'minikeras', 'run', str(script)], env=env,
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['tf', '3']
    assert 'Keras 2 script (line 3: units=)' in out.stderr
    out = subprocess.run([sys.executable, '-m', 'minikeras', 'run', '--keras-version', '1.2.2',
                          str(script)], env=env, cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.split() == ['th', '3']


def test_reshape_of_input_with_unknown_sizes():
    from minikeras.layers import Input, Reshape
    layer = Reshape((-1, 3))
    assert layer.connect((None, None, None, 3)) == (None, None, 3)
    x = distinct_values((2, 4, 5, 3))
    np.testing.assert_array_equal(layer.call(x), x.reshape(2, 20, 3))
    assert Reshape((2, 3)).connect((None, None, 6)) == (None, 2, 3)
    assert Input(shape=(None, 3)).shape == (None, None, 3)


def test_guess_counts_only_calls_of_keras_names():
    source = 'def train(model, epochs):\n    pass\ntrain(None, epochs=3)\n'
    assert keras2.guess_generation(source) == (None, None)
    assert keras2.guess_generation('model.fit(x, y, epochs=3)')[0] == '2.2.4'
    assert keras2.guess_generation('np.pad(x, padding="same")') == (None, None)
