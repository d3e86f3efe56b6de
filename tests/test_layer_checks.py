"""Argument and shape checks written once (`utils.layer_checks`), the
activation formulas defined once (the backend's), and Keras 1 masks refused
rather than ignored."""
import warnings

import numpy as np
import pytest

from minikeras import activations
from minikeras import backend as K
from minikeras.engine.merge import Merge
from minikeras.layers import (ELU, Convolution1D, Convolution2D, Dense, Embedding, Highway, Input,
                              MaxoutDense, MaxPooling1D, MaxPooling2D, TimeDistributedDense,
                              UpSampling2D, merge)
from minikeras.utils import layer_checks

from gradcheck import built, check_layer_gradients, numeric_gradient


@pytest.mark.parametrize('make, arg, message', [
    (lambda: Dense(0, name='d'), 'output_dim', r'Layer d \(Dense\): output_dim must be a positive '
                                               r'integer, got 0'),
    (lambda: Dense(2.5, name='d'), 'output_dim', r'got 2\.5'),
    (lambda: Dense('3', name='d'), 'output_dim', r"got '3'"),
    (lambda: Dense(None, name='d'), 'output_dim', 'got None'),
    (lambda: Convolution2D(True, 3, 3, name='c'), 'nb_filter', r'Layer c \(Convolution2D\)'),
    (lambda: Convolution2D(4, 3, 3, subsample=(1, 0), name='c'), 'subsample',
     r'2 positive integers, got \(1, 0\)'),
    (lambda: Convolution1D(4, 3, subsample_length=-1, name='c'), 'subsample_length', 'got -1'),
    (lambda: MaxPooling2D(pool_size=(2, 0), name='p'), 'pool_size', r'Layer p \(MaxPooling2D\)'),
    (lambda: MaxPooling1D(stride=0, name='p'), 'stride', 'got 0'),
    (lambda: UpSampling2D(size=(3,), name='u'), 'size', r'got \(3,\)'),  # 3: Keras 2's (3, 3)
    (lambda: Embedding(0, 4, name='e'), 'input_dim', r'Layer e \(Embedding\)'),
    (lambda: Embedding(5, -1, name='e'), 'output_dim', 'an integer >= 0, got -1'),
    (lambda: MaxoutDense(3, nb_feature=0, name='m'), 'nb_feature', 'got 0'),
])
def test_bad_arguments_name_the_layer_the_argument_and_the_value(make, arg, message):
    with pytest.raises(ValueError, match=arg + '.*') as error:
        make()
    assert error.match(message)


def test_integral_floats_and_numpy_integers_are_integers():
    assert Dense(3.0).output_dim == 3 and isinstance(Dense(3.0).output_dim, int)
    assert Convolution2D(np.int64(4), 3, 3, subsample=(np.int32(2), 1)).subsample == (2, 1)
    assert MaxPooling2D(pool_size=[2, 3]).strides == (2, 3)
    assert MaxPooling1D(pool_length=3).stride == 3


def test_one_border_mode_message():
    for make in (lambda: Convolution2D(2, 3, 3, border_mode='ful'),
                 lambda: MaxPooling2D(border_mode='full'),
                 lambda: Convolution1D(2, 3, border_mode='x')):
        with pytest.raises(ValueError, match=r'\): border_mode must be one of \('):
            make()


@pytest.mark.parametrize('make, shape', [
    (lambda: Dense(2, input_dim=5), (None, 5)),
    (lambda: MaxoutDense(2, input_dim=5), (None, 5)),
    (lambda: Highway(input_dim=5), (None, 5)),
    (lambda: TimeDistributedDense(2, input_dim=5, input_length=7), (None, 7, 5)),
    (lambda: Convolution1D(2, 3, input_dim=5), (None, None, 5)),
    (lambda: Dense(2, input_dim=5, input_shape=(6,)), (None, 6)),
])
def test_input_dim_becomes_the_input_shape(make, shape):
    assert make().batch_input_shape == shape


def test_rank_errors_have_one_shape():
    # (Dense takes any rank, as in Keras 1.2.2: the last axis holds the features.)
    cases = [(Highway(name='h'), (None, 3, 4), r'Layer h \(Highway\) expects 2D input '
                                              r'\(nb_samples, input_dim\), got shape '
                                              r'\(None, 3, 4\)'),
             (Convolution2D(2, 3, 3, dim_ordering='tf', name='c'), (None, 5, 5),
              r'Layer c \(Convolution2D\) expects 4D input \(samples, rows, cols, channels\)'),
             (MaxPooling2D(dim_ordering='th', name='p'), (None, 5, 5),
              r'Layer p \(MaxPooling2D\) expects 4D input \(samples, channels, rows, cols\)'),
             (Embedding(5, 2, name='e', batch_input_shape=(None, 3, 1)), (None, 3, 1),
              r'Layer e \(Embedding\) expects 2D input \(samples, sequence_length\)')]
    for layer, shape, message in cases:
        with pytest.raises(ValueError, match=message):
            layer.connect(shape)


def test_layer_checks_directly():
    layer = Dense(2, name='x')
    assert layer_checks.positive_int(layer, 'n', 0, minimum=0) == 0
    assert layer_checks.positive_ints(layer, 'k', 3, 1) == (3,)
    assert layer_checks.fraction(layer, 'p', 0.) == 0.
    for bad in (1., -0.1, True, '0.5', None):
        with pytest.raises(ValueError, match=r'Layer x \(Dense\): p must be in \[0, 1\)'):
            layer_checks.fraction(layer, 'p', bad)
    layer_checks.check_features(layer, (None, None), 3)
    with pytest.raises(ValueError, match=r'was built for 3 input features, got input of shape '
                                         r'\(2, 4\)'):
        layer_checks.check_features(layer, (2, 4), 3)


# ---------------------------------------------------------------------------
# One definition of each activation
# ---------------------------------------------------------------------------

def test_sigmoid_is_the_same_function_everywhere_and_does_not_overflow():
    x = np.linspace(-100, 100, 401).astype('float32')
    reference = 1. / (1. + np.exp(-x.astype('float64')))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        from_activation = activations.sigmoid(x)
        from_backend = K.sigmoid(x)
    assert from_activation.dtype == np.float32
    np.testing.assert_array_equal(from_activation, from_backend)
    np.testing.assert_allclose(from_activation, reference, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('alpha', [1.0, 0.3])
def test_elu_is_keras_122s_formula_in_the_layer_the_activation_and_the_backend(alpha):
    x = np.linspace(-4, 4, 33).astype('float32').reshape(3, 11)
    xd = x.astype('float64')
    reference = np.where(xd > 0, xd, alpha * (np.exp(xd) - 1))
    layer_out = ELU(alpha=alpha).forward(x)[0]
    np.testing.assert_allclose(layer_out, reference, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(layer_out, activations.elu(x, alpha))
    np.testing.assert_array_equal(layer_out, K.elu(x, alpha))


@pytest.mark.parametrize('alpha', [1.0, 0.3])
def test_elu_gradient_with_alpha_against_finite_differences(alpha):
    x = np.random.RandomState(0).uniform(-3, 3, (4, 5)).astype('float32')
    x[np.abs(x) < 0.05] = 0.5        # away from the kink
    check_layer_gradients(built(ELU(alpha=alpha), (5,)), x)
    dy = np.random.RandomState(1).standard_normal(x.shape)
    y = activations.elu(x, alpha)
    grad = activations.elu_backward(x, y, dy.astype('float32'), alpha)
    xd = x.astype('float64')
    indices, numeric = numeric_gradient(
        lambda: float(np.sum(np.where(xd > 0, xd, alpha * np.expm1(xd)) * dy)), xd, eps=1e-4)
    np.testing.assert_allclose(grad.reshape(-1)[indices], numeric, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------
# Masks: refused by the layers that cannot take them (tests/test_masking.py has the rest)
# ---------------------------------------------------------------------------

def test_a_mask_is_refused_with_the_layer_named():
    layer = built(Dense(2, name='d'), (3,))
    x = np.ones((2, 3), dtype='float32')
    with pytest.raises(ValueError, match=r'Layer d \(Dense\) does not support masking'):
        layer(x, mask=np.ones((2,), dtype=bool))
    with pytest.raises(ValueError, match=r'Layer d \(Dense\) does not support masking'):
        layer.call(x, mask=np.ones((2,), dtype=bool))
    with pytest.raises(ValueError, match=r'd2 \(Dense\) was called on Keras tensors with mask='):
        Dense(2, name='d2')(Input(shape=(3,)), mask=np.ones((2,)))
    np.testing.assert_array_equal(layer(x), layer.call(x))


def test_keras1_merge_configs_load():
    a, b = Input(shape=(3,)), Input(shape=(3,))
    # As Keras 1.2.2's Merge.get_config wrote it.
    config = {'name': 'm', 'mode': 'concat', 'concat_axis': -1, 'dot_axes': -1,
              'output_shape': None, 'output_shape_type': 'raw', 'output_mask': None,
              'output_mask_type': 'raw', 'arguments': {}, 'mode_type': 'raw'}
    layer = Merge.from_config(config)
    assert layer.mode == 'concat' and layer(([a, b])).shape == (None, 6)


@pytest.mark.parametrize('name, args, kwargs, shape', [
    ('Conv3DTranspose', (2, 3), {'data_format': 'channels_last'}, (None, 4, 4, 4, None)),
    ('Convolution3D', (2, 3, 3, 3), {'dim_ordering': 'tf'}, (None, 4, 4, 4, None)),
    ('SeparableConvolution2D', (2, 3, 3), {'dim_ordering': 'tf'}, (None, 5, 5, None)),
])
def test_weight_layers_refuse_an_unknown_channel_count(name, args, kwargs, shape):
    from minikeras import layers
    layer = getattr(layers, name)(*args, **kwargs)
    with pytest.raises(ValueError, match=r'Layer \S+ \(%s\): the number of input channels '
                                         r'must be known, got input shape' % name):
        layer.build(shape)


def test_an_input_too_small_found_at_run_time_names_the_layer_and_shape():
    # the model takes any size; the kernel finds that this one is too small
    from minikeras.layers import Conv2D, Input
    from minikeras.models import Model
    x = Input((None, None, 3))
    model = Model(x, Conv2D(4, (3, 3), data_format='channels_last', name='small_conv')(x))
    with pytest.raises(ValueError, match=r'Layer small_conv \(Convolution2D\) on an input of '
                                         r'shape \(1, 2, 2, 3\): .*does not fit'):
        model.predict(np.zeros((1, 2, 2, 3), 'float32'))
