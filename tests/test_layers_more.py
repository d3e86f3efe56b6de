"""The layers beyond the core set: each against a NumPy reference written with
loops, backward against finite differences, shapes for both orderings, the
config round trip, and a clear error for bad input."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minikeras.kernels import avgpool as avg_kernels
from minikeras.kernels import pooling as pool_kernels
from minikeras.layers import (ELU, ActivityRegularization, AveragePooling1D, AveragePooling2D,
                              BatchNormalization, Conv1D, Conv2D, Convolution1D, Convolution2D,
                              Cropping2D, Dense, Embedding, GaussianDropout, GaussianNoise,
                              GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D,
                              GlobalMaxPooling2D, LeakyReLU, MaxPooling1D, MaxPooling2D,
                              ParametricSoftplus, ThresholdedReLU, UpSampling2D, ZeroPadding2D)
from minikeras.layers import convolutional
from minikeras.models import Sequential
from minikeras.utils.layer_utils import layer_from_config

from gradcheck import (away_from_zero, built, check_layer_gradients, distinct_values,
                       numeric_gradient)


def to_th(x, ordering):
    return x if ordering == 'th' else x.transpose(0, 3, 1, 2)


def from_th(x, ordering):
    return x if ordering == 'th' else x.transpose(0, 2, 3, 1)


def image_sample(ordering, channels, rows, cols):
    return (channels, rows, cols) if ordering == 'th' else (rows, cols, channels)


def pool_geometry(length, window, stride, border_mode):
    """(output length, padding before) by Keras 1's / TensorFlow's rules."""
    if border_mode == 'valid':
        return (length - window) // stride + 1, 0
    out = -(-length // stride)
    return out, max((out - 1) * stride + window - length, 0) // 2


# -- Convolution1D -----------------------------------------------------------------------------


def reference_conv1d(x, W, b, stride, border_mode):
    """x (n, steps, c), W (k, 1, c, f): explicit loops over outputs and taps."""
    n, steps, _ = x.shape
    k, f = W.shape[0], W.shape[3]
    length = {'valid': steps - k + 1, 'same': steps, 'full': steps + k - 1}[border_mode]
    out_len = -(-length // stride)
    pad = {'valid': 0, 'full': k - 1,
           'same': max((out_len - 1) * stride + k - steps, 0) // 2}[border_mode]
    out = np.zeros((n, out_len, f))
    for t in range(out_len):
        for tap in range(k):
            s = t * stride + tap - pad
            if 0 <= s < steps:
                out[:, t, :] += x[:, s, :].astype('float64') @ W[tap, 0]
    return out + b


@pytest.mark.parametrize('border_mode,stride,steps,k', [
    ('valid', 1, 9, 3), ('same', 1, 8, 4), ('full', 1, 6, 3), ('valid', 2, 10, 3),
    ('same', 3, 11, 2)])
def test_convolution1d_forward_and_gradients(border_mode, stride, steps, k):
    layer = built(Convolution1D(4, k, border_mode=border_mode, subsample_length=stride,
                                activation='tanh'), (steps, 3))
    W, _ = layer.get_weights()
    layer.set_weights([W, np.linspace(-0.3, 0.3, 4).astype('float32')])
    x = away_from_zero((2, steps, 3), seed=2)
    expected = np.tanh(reference_conv1d(x, layer.W, layer.b, stride, border_mode))
    assert layer.output_shape == (None,) + expected.shape[1:]
    np.testing.assert_allclose(layer.call(x), expected, rtol=1e-5, atol=1e-5)
    check_layer_gradients(layer, x)


def test_convolution1d_weights_and_keras_th_fans():
    layer = Convolution1D(8, 5, input_dim=6, input_length=20)
    assert layer.batch_input_shape == (None, 20, 6)
    built(layer, (20, 6))
    assert [w.shape for w in layer.get_weights()] == [(5, 1, 6, 8), (8,)]
    assert layer.weight_names == [layer.name + '_W', layer.name + '_b']
    # Keras 1.2.2 gives the (length, 1, input_dim, nb_filter) kernel 'th' fans.
    limit = np.sqrt(6. / (6 * 8 + 5 * 6 * 8))
    assert limit * 0.9 < np.abs(layer.W).max() <= limit
    assert Conv1D is Convolution1D and Conv2D is Convolution2D


def test_convolution1d_without_bias_and_unknown_length():
    layer = built(Convolution1D(2, 3, bias=False, border_mode='same'), (None, 4))
    assert layer.output_shape == (None, None, 2)
    assert len(layer.get_weights()) == 1
    check_layer_gradients(layer, away_from_zero((2, 7, 4)))


def test_convolution1d_errors_name_the_layer():
    with pytest.raises(ValueError, match=r'convolution1d.*filter_length 5 is larger than its '
                                         r'input \(4 steps\)'):
        built(Convolution1D(2, 5), (4, 3))
    with pytest.raises(ValueError, match=r'Convolution1D\) expects 3D input'):
        built(Convolution1D(2, 3), (4, 3, 3))
    with pytest.raises(ValueError, match='border_mode must be one of'):
        Convolution1D(2, 3, border_mode='half')


def test_convolutional_module_reexports_pooling_layers():
    for name in ('MaxPooling1D', 'MaxPooling2D', 'AveragePooling1D', 'AveragePooling2D'):
        assert getattr(convolutional, name).__name__ == name


# -- Average pooling 2D, max and average pooling 1D ----------------------------------------------


def reference_pool_th(x, pool, strides, border_mode, mode):
    """Pooling by loops over windows; padding is skipped (never a max, not averaged)."""
    n, c, h, w = x.shape
    (oh, pt), (ow, pl) = (pool_geometry(h, pool[0], strides[0], border_mode),
                          pool_geometry(w, pool[1], strides[1], border_mode))
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * strides[0] - pt, j * strides[1] - pl
            window = x[:, :, max(r0, 0):r0 + pool[0], max(c0, 0):c0 + pool[1]].astype('float64')
            out[:, :, i, j] = window.max(axis=(2, 3)) if mode == 'max' else \
                window.mean(axis=(2, 3))
    return out


@pytest.mark.parametrize('ordering', ['th', 'tf'])
@pytest.mark.parametrize('pool,strides,border_mode,rows,cols', [
    ((2, 2), None, 'valid', 8, 9),
    ((3, 3), (2, 2), 'valid', 9, 8),
    ((2, 3), (1, 2), 'same', 7, 8),
    ((3, 3), None, 'same', 7, 5),
])
def test_average_pooling2d_forward_and_gradients(ordering, pool, strides, border_mode, rows,
                                                 cols):
    sample = image_sample(ordering, 3, rows, cols)
    layer = built(AveragePooling2D(pool, strides, border_mode, dim_ordering=ordering), sample)
    x = away_from_zero((2,) + sample, seed=4)
    expected = from_th(reference_pool_th(to_th(x, ordering), pool, strides or pool,
                                         border_mode, 'avg'), ordering)
    assert layer.output_shape == (None,) + expected.shape[1:]
    np.testing.assert_allclose(layer.call(x), expected, rtol=1e-6, atol=1e-6)
    check_layer_gradients(layer, x)


def test_average_pooling2d_same_excludes_padding_as_tensorflow():
    layer = built(AveragePooling2D((2, 2), border_mode='same', dim_ordering='th'), (1, 3, 3))
    x = np.arange(9, dtype='float32').reshape(1, 1, 3, 3)
    # Windows: rows {0,1}x{0,1}, {0,1}x{2}, {2}x{0,1}, {2}x{2}: padding is not counted.
    np.testing.assert_array_equal(layer.call(x)[0, 0], [[2., 3.5], [6.5, 8.]])


def test_average_pooling2d_errors_and_shapes():
    with pytest.raises(ValueError, match=r'averagepooling2d.*pool_size \(3, 3\) is larger'):
        built(AveragePooling2D((3, 3), dim_ordering='tf'), (8, 2, 1))
    assert built(AveragePooling2D(dim_ordering='tf'), (None, 6, 3)).output_shape == \
        (None, None, 3, 3)
    with pytest.raises(ValueError, match=r"border_mode must be one of \('valid', 'same'\)"):
        AveragePooling2D(border_mode='full')


def test_max_pooling2d_keeps_its_behaviour():
    layer = built(MaxPooling2D((2, 2), dim_ordering='tf'), (4, 4, 1))
    x = distinct_values((1, 4, 4, 1))
    np.testing.assert_array_equal(layer.call(x), x.reshape(1, 2, 2, 2, 2, 1).max(axis=(2, 4)))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9),
       ph=st.integers(1, 4), pw=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3),
       same=st.booleans(), seed=st.integers(0, 1000))
def test_avgpool_kernels_match_reference_on_random_shapes(n, c, h, w, ph, pw, sh, sw, same,
                                                          seed):
    border_mode = 'same' if same else 'valid'
    if not same and (ph > h or pw > w):
        return
    x = np.random.RandomState(seed).standard_normal((n, c, h, w)).astype('float32')
    pt, oh = pool_kernels.pool_padding(h, ph, border_mode, sh)
    pl, ow = pool_kernels.pool_padding(w, pw, border_mode, sw)
    out = np.empty((n, c, oh, ow), dtype='float32')
    avg_kernels.avgpool2d_forward(x, out, ph, pw, sh, sw, pt, pl)
    np.testing.assert_allclose(out, reference_pool_th(x, (ph, pw), (sh, sw), border_mode, 'avg'),
                               rtol=1e-5, atol=1e-6)
    # The backward kernel is the adjoint of the forward one: <pool(x), dy> == <x, back(dy)>.
    dy = np.random.RandomState(seed + 1).standard_normal(out.shape).astype('float32')
    dx = np.full_like(x, np.nan)
    avg_kernels.avgpool2d_backward(dy, dx, ph, pw, sh, sw, pt, pl)
    np.testing.assert_allclose(np.sum(out.astype('float64') * dy), np.sum(x.astype('float64') * dx),
                               rtol=1e-4, atol=1e-4)
    again = np.empty_like(out)
    avg_kernels.avgpool2d_forward(x, again, ph, pw, sh, sw, pt, pl)
    assert np.array_equal(out, again)


def reference_pool1d(x, length, stride, border_mode, mode):
    """x (n, steps, features) pooled over steps by loops."""
    as_image = x.transpose(0, 2, 1)[:, :, :, None]
    out = reference_pool_th(as_image, (length, 1), (stride, 1), border_mode, mode)
    return out[:, :, :, 0].transpose(0, 2, 1)


@pytest.mark.parametrize('cls,mode', [(MaxPooling1D, 'max'), (AveragePooling1D, 'avg')])
@pytest.mark.parametrize('length,stride,border_mode,steps', [
    (2, None, 'valid', 9), (3, 2, 'valid', 10), (3, 2, 'same', 9), (4, 1, 'same', 6)])
def test_pooling1d_forward_and_gradients(cls, mode, length, stride, border_mode, steps):
    layer = built(cls(length, stride, border_mode), (steps, 3))
    x = distinct_values((2, steps, 3), seed=5)
    expected = reference_pool1d(x, length, stride or length, border_mode, mode)
    assert layer.output_shape == (None,) + expected.shape[1:]
    np.testing.assert_allclose(layer.call(x), expected, rtol=1e-6, atol=1e-6)
    check_layer_gradients(layer, x)


def test_pooling1d_errors():
    with pytest.raises(ValueError, match=r'maxpooling1d.*pool_length 4 is larger than its input '
                                         r'\(3 steps\)'):
        built(MaxPooling1D(4), (3, 2))
    with pytest.raises(ValueError, match=r'AveragePooling1D\) expects 3D input'):
        built(AveragePooling1D(2), (3,))


# -- Global pooling ------------------------------------------------------------------------------


@pytest.mark.parametrize('ordering', ['th', 'tf'])
@pytest.mark.parametrize('cls,reduce', [(GlobalMaxPooling2D, np.max),
                                        (GlobalAveragePooling2D, np.mean)])
def test_global_pooling2d(ordering, cls, reduce):
    sample = image_sample(ordering, 3, 4, 5)
    layer = built(cls(dim_ordering=ordering), sample)
    assert layer.output_shape == (None, 3)
    x = distinct_values((2,) + sample, seed=6)
    expected = np.array([[reduce(to_th(x, ordering)[n, ch].astype('float64'))
                          for ch in range(3)] for n in range(2)])
    np.testing.assert_allclose(layer.call(x), expected, rtol=1e-6)
    check_layer_gradients(layer, x)
    with pytest.raises(ValueError, match=r'expects 4D input'):
        built(cls(dim_ordering=ordering), (3, 4))


@pytest.mark.parametrize('cls,reduce', [(GlobalMaxPooling1D, np.max),
                                        (GlobalAveragePooling1D, np.mean)])
def test_global_pooling1d(cls, reduce):
    layer = built(cls(), (6, 4))
    assert layer.output_shape == (None, 4)
    x = distinct_values((3, 6, 4), seed=7)
    expected = np.array([[reduce(x[n, :, f].astype('float64')) for f in range(4)]
                         for n in range(3)])
    np.testing.assert_allclose(layer.call(x), expected, rtol=1e-6)
    check_layer_gradients(layer, x)


def test_global_max_pooling_sends_the_gradient_to_the_first_maximum():
    layer = built(GlobalMaxPooling1D(), (3, 1))
    x = np.array([[[1.], [2.], [2.]]], dtype='float32')
    _, backprop = layer.forward(x)
    np.testing.assert_array_equal(backprop(np.ones((1, 1), dtype='float32'))[0, :, 0], [0, 1, 0])


# -- ZeroPadding2D, UpSampling2D, Cropping2D ---------------------------------------------------


@pytest.mark.parametrize('ordering', ['th', 'tf'])
@pytest.mark.parametrize('padding,pads', [
    ((1, 2), (1, 1, 2, 2)),
    ((0, 1, 2, 3), (0, 1, 2, 3)),
    ({'top_pad': 2, 'right_pad': 1}, (2, 0, 0, 1)),
])
def test_zero_padding2d(ordering, padding, pads):
    top, bottom, left, right = pads
    sample = image_sample(ordering, 2, 3, 4)
    layer = built(ZeroPadding2D(padding, dim_ordering=ordering), sample)
    x = away_from_zero((2,) + sample)
    x_th = to_th(x, ordering)
    expected = np.zeros((2, 2, 3 + top + bottom, 4 + left + right), dtype='float32')
    for i in range(3):
        for j in range(4):
            expected[:, :, top + i, left + j] = x_th[:, :, i, j]
    expected = from_th(expected, ordering)
    assert layer.output_shape == (None,) + expected.shape[1:]
    np.testing.assert_array_equal(layer.call(x), expected)
    check_layer_gradients(layer, x)


def test_zero_padding2d_rejects_bad_padding():
    with pytest.raises(ValueError, match=r'padding must be \(rows, cols\)'):
        ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match='unexpected padding keys'):
        ZeroPadding2D({'top': 1})
    with pytest.raises(ValueError, match='integers >= 0'):
        ZeroPadding2D((-1, 1))
    with pytest.raises(ValueError, match=r'ZeroPadding2D\) expects 4D input'):
        built(ZeroPadding2D(), (3, 4))


@pytest.mark.parametrize('ordering', ['th', 'tf'])
@pytest.mark.parametrize('size', [(2, 2), (1, 3), (3, 2)])
def test_upsampling2d(ordering, size):
    sample = image_sample(ordering, 2, 3, 4)
    layer = built(UpSampling2D(size, dim_ordering=ordering), sample)
    x = away_from_zero((2,) + sample)
    x_th = to_th(x, ordering)
    expected = np.empty((2, 2, 3 * size[0], 4 * size[1]), dtype='float32')
    for i in range(3 * size[0]):
        for j in range(4 * size[1]):
            expected[:, :, i, j] = x_th[:, :, i // size[0], j // size[1]]
    expected = from_th(expected, ordering)
    assert layer.output_shape == (None,) + expected.shape[1:]
    np.testing.assert_array_equal(layer.call(x), expected)
    check_layer_gradients(layer, x)
    assert built(UpSampling2D(size, dim_ordering=ordering),
                 image_sample(ordering, 2, None, 4)).output_shape[1:] == \
        image_sample(ordering, 2, None, 4 * size[1])


@pytest.mark.parametrize('ordering', ['th', 'tf'])
@pytest.mark.parametrize('cropping', [((0, 0), (0, 0)), ((1, 2), (0, 1)), ((2, 0), (1, 3))])
def test_cropping2d(ordering, cropping):
    (top, bottom), (left, right) = cropping
    sample = image_sample(ordering, 2, 6, 7)
    layer = built(Cropping2D(cropping, dim_ordering=ordering), sample)
    x = away_from_zero((2,) + sample)
    x_th = to_th(x, ordering)
    rows, cols = 6 - top - bottom, 7 - left - right
    expected = np.empty((2, 2, rows, cols), dtype='float32')
    for i in range(rows):
        for j in range(cols):
            expected[:, :, i, j] = x_th[:, :, top + i, left + j]
    expected = from_th(expected, ordering)
    assert layer.output_shape == (None,) + expected.shape[1:]
    np.testing.assert_array_equal(layer.call(x), expected)
    check_layer_gradients(layer, x)


def test_cropping2d_larger_than_input_is_named():
    with pytest.raises(ValueError, match=r'cropping2d.*cropping 3 \+ 3 cols leaves nothing of an '
                                         r'input of 5 cols'):
        built(Cropping2D(((1, 1), (3, 3)), dim_ordering='th'), (2, 8, 5))
    with pytest.raises(ValueError, match=r'cropping must be \(\(top, bottom\), \(left, right\)\)'):
        Cropping2D((1, 1, 1))
    # (rows, cols) is Keras 2's symmetric spelling.
    assert Cropping2D((1, 2)).cropping == ((1, 1), (2, 2))


# -- BatchNormalization --------------------------------------------------------------------------


def bn_layer(sample, axis, mode=0, momentum=0.9, seed=0):
    layer = built(BatchNormalization(mode=mode, axis=axis, momentum=momentum, epsilon=1e-3),
                  sample)
    rng = np.random.RandomState(seed)
    size = layer.gamma.shape[0]
    layer.set_weights([rng.uniform(0.5, 1.5, size), rng.uniform(-0.5, 0.5, size),
                       rng.uniform(-0.2, 0.2, size), rng.uniform(0.5, 2., size)])
    return layer


def batch_statistics(x, axis):
    """Per-feature mean and biased variance, by a loop over the features."""
    moved = np.moveaxis(x.astype('float64'), axis, 0)
    means = np.array([moved[f].mean() for f in range(moved.shape[0])])
    variances = np.array([((moved[f] - means[f]) ** 2).mean() for f in range(moved.shape[0])])
    return means, variances


def bn_reference(x, axis, mean, var, gamma, beta, eps=1e-3):
    shape = [1] * x.ndim
    shape[axis] = -1
    r = lambda v: np.asarray(v, dtype='float64').reshape(shape)
    return (x - r(mean)) / np.sqrt(r(var) + eps) * r(gamma) + r(beta)


def bn_training_pass(layer, x):
    """The layer's output in the training phase, with its updates applied
    (Keras 1.2.2's way: the layer's `updates`, given to K.function)."""
    from minikeras import backend as K
    from minikeras.layers import Input
    inp = Input(shape=x.shape[1:])
    out = layer(inp)
    assert len(layer.updates) == 2
    run = K.function([inp, K.learning_phase()], [out], updates=layer.updates)
    return run([x, 1])[0]


@pytest.mark.parametrize('sample,axis', [((5,), -1), ((3, 4, 5), 1), ((4, 5, 3), -1),
                                         ((3, 6), 1)])
def test_batchnorm_training_uses_batch_statistics_and_updates_moving_averages(sample, axis):
    layer = bn_layer(sample, axis)
    gamma, beta, moving_mean, moving_var = layer.get_weights()
    x = (away_from_zero((6,) + sample, seed=8) * 2 + 1).astype('float32')
    mean, var = batch_statistics(x, axis)
    y = bn_training_pass(layer, x)
    np.testing.assert_allclose(y, bn_reference(x, axis, mean, var, gamma, beta),
                               rtol=1e-4, atol=1e-5)
    # Keras 1.2.2 (TensorFlow): moving = moving * momentum + batch value * (1 - momentum),
    # where running_std tracks the batch variance.
    np.testing.assert_allclose(layer.running_mean, moving_mean * 0.9 + mean * 0.1, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(layer.running_std, moving_var * 0.9 + var * 0.1, rtol=1e-5,
                               atol=1e-6)
    assert layer.running_mean.dtype == np.float32


def test_batchnorm_inference_uses_moving_statistics_and_leaves_them():
    layer = bn_layer((3, 4, 4), axis=1)
    gamma, beta, moving_mean, moving_var = layer.get_weights()
    x = away_from_zero((2, 3, 4, 4), seed=9)
    np.testing.assert_allclose(layer.call(x), bn_reference(x, 1, moving_mean, moving_var, gamma,
                                                           beta), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(layer.running_mean, moving_mean)
    np.testing.assert_array_equal(layer.running_std, moving_var)


def test_batchnorm_mode2_always_uses_batch_statistics():
    layer = bn_layer((4,), axis=-1, mode=2)
    before = layer.get_weights()
    x = away_from_zero((5, 4), seed=10)
    mean, var = batch_statistics(x, 1)
    expected = bn_reference(x, 1, mean, var, before[0], before[1])
    for training in (False, True):
        np.testing.assert_allclose(layer.forward(x, training=training)[0], expected, rtol=1e-4,
                                   atol=1e-5)
    for old, new in zip(before[2:], layer.get_weights()[2:]):
        np.testing.assert_array_equal(old, new)
    check_layer_gradients(layer, x)


def test_batchnorm_mode1_normalizes_each_sample():
    layer = bn_layer((6,), axis=-1, mode=1)
    gamma, beta = layer.get_weights()[:2]
    x = away_from_zero((4, 6), seed=11) * 3
    expected = np.empty((4, 6))
    for n in range(4):
        row = x[n].astype('float64')
        std = np.sqrt(row.var() + 1e-3)
        expected[n] = (row - row.mean()) / (std + 1e-3) * gamma + beta
    np.testing.assert_allclose(layer.call(x), expected, rtol=1e-5, atol=1e-5)
    check_layer_gradients(layer, x)


@pytest.mark.parametrize('training', [True, False])
@pytest.mark.parametrize('sample,axis', [((4,), -1), ((3, 3, 4), 1), ((3, 4, 2), -1)])
def test_batchnorm_gradients(training, sample, axis):
    layer = bn_layer(sample, axis)
    x = away_from_zero((5,) + sample, seed=12)
    check_layer_gradients(layer, x, training=training)


def test_batchnorm_weights_order_names_and_trainability():
    layer = built(BatchNormalization(axis=1, name='bn'), (3, 5, 5))
    assert layer.weight_names == ['bn_gamma', 'bn_beta', 'bn_running_mean', 'bn_running_std']
    assert [w.shape for w in layer.get_weights()] == [(3,)] * 4
    gamma, beta, mean, std = layer.get_weights()
    assert (gamma == 1).all() and (beta == 0).all() and (mean == 0).all() and (std == 1).all()
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2


def test_batchnorm_errors():
    with pytest.raises(ValueError, match='mode must be 0, 1 or 2'):
        BatchNormalization(mode=3)
    with pytest.raises(ValueError, match=r'batchnormalization.*axis 3 is not a feature axis'):
        built(BatchNormalization(axis=3), (4, 5))
    with pytest.raises(ValueError, match=r'axis 0 is not a feature axis'):
        built(BatchNormalization(axis=0), (4, 5))
    with pytest.raises(ValueError, match='mode 1 normalizes each sample over its last axis'):
        built(BatchNormalization(mode=1, axis=1), (3, 4, 4))
    layer = built(BatchNormalization(axis=1), (3, 4))
    with pytest.raises(ValueError, match='was built for 3 features on axis 1'):
        layer.forward(np.ones((2, 5, 4), dtype='float32'))


def test_batchnorm_in_a_model_trains_with_batch_statistics_and_predicts_with_moving_ones():
    model = Sequential([Dense(4, input_dim=3), BatchNormalization(momentum=0.5)])
    model.compile('sgd', 'mse')
    x = away_from_zero((8, 3), seed=13)
    y = np.zeros((8, 4), dtype='float32')
    bn = model.layers[1]
    hidden = model.layers[0].call(x)
    mean, var = batch_statistics(hidden, 1)
    model.train_on_batch(x, y)
    np.testing.assert_allclose(bn.running_mean, mean * 0.5, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bn.running_std, 0.5 + var * 0.5, rtol=1e-4, atol=1e-6)
    gamma, beta, moving_mean, moving_var = bn.get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               bn_reference(model.layers[0].call(x), 1, moving_mean, moving_var,
                                            gamma, beta), rtol=1e-4, atol=1e-5)


# -- Advanced activations ------------------------------------------------------------------------


@pytest.mark.parametrize('make,reference', [
    (lambda: LeakyReLU(), lambda x: np.where(x > 0, x, 0.3 * x)),
    (lambda: LeakyReLU(alpha=0.05), lambda x: np.where(x > 0, x, 0.05 * x)),
    (lambda: ELU(), lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    (lambda: ELU(alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1))),
    (lambda: ThresholdedReLU(), lambda x: np.where(x > 1, x, 0)),
    (lambda: ThresholdedReLU(theta=0.25), lambda x: np.where(x > 0.25, x, 0)),
])
def test_fixed_activations(make, reference):
    layer = built(make(), (3, 5))
    x = away_from_zero((4, 3, 5), seed=14) * 2
    # Keep inputs away from the kinks (0 and the thresholds) for finite differences.
    x[np.abs(x - 1) < 0.05] += 0.1
    x[np.abs(x - 0.25) < 0.05] += 0.1
    x = x.astype('float32')
    y = layer.call(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y, reference(x.astype('float64')), rtol=1e-6, atol=1e-7)
    check_layer_gradients(layer, x)


@pytest.mark.parametrize('shared_axes,param_shape', [(None, (3, 4)), ([1], (1, 4)),
                                                     (2, (3, 1))])
def test_parametric_softplus(shared_axes, param_shape):
    layer = built(ParametricSoftplus(alpha_init=0.3, beta_init=2., shared_axes=shared_axes),
                  (3, 4))
    assert layer.weight_names == [layer.name + '_alphas', layer.name + '_betas']
    alphas, betas = layer.get_weights()
    assert alphas.shape == betas.shape == param_shape
    assert (alphas == np.float32(0.3)).all() and (betas == 2).all()
    rng = np.random.RandomState(15)
    layer.set_weights([rng.uniform(0.1, 1, param_shape), rng.uniform(0.5, 3, param_shape)])
    x = away_from_zero((2, 3, 4), seed=16)
    a, b = [w.astype('float64') for w in layer.get_weights()]
    np.testing.assert_allclose(layer.call(x), a * np.log1p(np.exp(b * x)), rtol=1e-5)
    check_layer_gradients(layer, x)


# -- Noise -------------------------------------------------------------------------------------


def test_gaussian_noise():
    layer = built(GaussianNoise(0.5), (200, 50))
    x = away_from_zero((4, 200, 50))
    assert layer.call(x) is x
    np.random.seed(3)
    y, backprop = layer.forward(x, training=True)
    noise = y - x
    assert abs(noise.mean()) < 0.02 and abs(noise.std() - 0.5) < 0.01
    dy = np.ones_like(x)
    np.testing.assert_array_equal(backprop(dy), dy)
    np.random.seed(3)
    np.testing.assert_array_equal(layer.forward(x, training=True)[0], y)
    with pytest.raises(ValueError, match='sigma must be >= 0'):
        GaussianNoise(-1)


def test_gaussian_dropout():
    layer = built(GaussianDropout(0.2), (200, 50))
    x = away_from_zero((4, 200, 50))
    assert layer.call(x) is x
    np.random.seed(4)
    y, backprop = layer.forward(x, training=True)
    factor = y / x
    assert abs(factor.mean() - 1) < 0.01 and abs(factor.std() - np.sqrt(0.2 / 0.8)) < 0.01
    dy = away_from_zero(x.shape, seed=1)
    np.testing.assert_allclose(backprop(dy), dy * factor, rtol=1e-5)
    np.random.seed(4)
    np.testing.assert_array_equal(layer.forward(x, training=True)[0], y)
    np.random.seed(5)
    check_layer_gradients(built(GaussianDropout(0.), (3,)), away_from_zero((2, 3)),
                          training=True)
    with pytest.raises(ValueError, match=r'p must be in \[0, 1\)'):
        GaussianDropout(1.)


# -- Embedding --------------------------------------------------------------------------------


def test_embedding_forward_shapes_and_weight():
    layer = Embedding(10, 3, input_length=4)
    assert layer.batch_input_shape == (None, 4) and layer.input_dtype == 'int32'
    built(layer, (4,))
    assert layer.output_shape == (None, 4, 3)
    assert layer.weight_names == [layer.name + '_W'] and layer.W.shape == (10, 3)
    assert np.abs(layer.W).max() <= 0.05  # 'uniform' init: U(-0.05, 0.05)
    x = np.array([[1, 2, 3, 1], [0, 9, 9, 2]], dtype='float32')
    y = layer.call(x)
    for n in range(2):
        for t in range(4):
            np.testing.assert_array_equal(y[n, t], layer.W[int(x[n, t])])
    assert built(Embedding(5, 2), (None,)).output_shape == (None, None, 2)


def test_embedding_weight_gradient_accumulates_repeated_indices():
    layer = built(Embedding(6, 3, input_length=5), (5,))
    x = np.array([[1, 2, 1, 5, 1], [0, 2, 3, 3, 1]], dtype='float32')
    dy = np.random.RandomState(1).standard_normal((2, 5, 3)).astype('float32')
    layer.gradients[0].fill(0)
    layer.forward(x, training=True)[1](dy)

    def objective():
        return float(np.sum(layer.forward(x)[0].astype('float64') * dy))
    idx, numeric = numeric_gradient(objective, layer.W)
    np.testing.assert_allclose(layer.gradients[0].reshape(-1)[idx], numeric, rtol=1e-2,
                               atol=1e-3)


def test_embedding_dropout_drops_whole_words_in_training_only():
    layer = built(Embedding(1000, 2, input_length=2000, dropout=0.4, init='one'), (2000,))
    x = np.tile(np.arange(1000), 2)[None].astype('float32')
    np.testing.assert_array_equal(layer.call(x), np.ones((1, 2000, 2)))
    np.random.seed(6)
    y, backprop = layer.forward(x, training=True)
    np.testing.assert_array_equal(y[0, :1000], y[0, 1000:])  # the same mask for every occurrence
    assert set(np.unique(y)) == {0., np.float32(1 / 0.6)}
    assert abs((y[0, :1000, 0] == 0).mean() - 0.4) < 0.05
    layer.gradients[0].fill(0)
    backprop(np.ones_like(y))
    np.testing.assert_allclose(layer.gradients[0], 2 * y[0, :1000], rtol=1e-6)


def test_embedding_errors():
    layer = built(Embedding(10, 2), (3,))
    with pytest.raises(ValueError, match=r'embedding.*index 10 is outside \[0, input_dim=10\)'):
        layer.call(np.array([[1, 10, 2]]))
    with pytest.raises(ValueError, match='input_length is 4'):
        built(Embedding(10, 2, input_length=4), (5,))


def test_embedding_convolution1d_pooling_model_trains():
    model = Sequential([Embedding(20, 4, input_length=9), Convolution1D(3, 3, activation='relu'),
                        MaxPooling1D(2), Convolution1D(2, 2, border_mode='same'),
                        GlobalMaxPooling1D(), Dense(1, activation='sigmoid')])
    assert model.output_shape == (None, 1)
    model.compile('sgd', 'binary_crossentropy')
    x = np.random.RandomState(0).randint(0, 20, size=(16, 9))
    y = (x[:, 0] > 10).astype('float32')[:, None]
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch(x, y)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


# -- ActivityRegularization --------------------------------------------------------------------


def test_activity_regularization_is_the_identity_and_adds_its_penalty():
    layer = built(ActivityRegularization(l1=0.01, l2=0.02), (3,))
    x = away_from_zero((2, 3))
    y, backprop = layer.forward(x, training=True)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(backprop(x), x)
    expected = 0.01 * np.abs(x).sum() + 0.02 * np.square(x).sum()
    assert abs(layer.activity_regularizer(x) - expected) < 1e-5
    model = Sequential([Dense(3, input_dim=3, init='identity'), ActivityRegularization(l1=0.1)])
    model.compile('sgd', 'mse')
    loss = model.test_on_batch(x, np.zeros((2, 3), dtype='float32'))
    np.testing.assert_allclose(loss, np.mean(np.square(x)) + 0.1 * np.abs(x).sum(), rtol=1e-5)


# -- configs ---------------------------------------------------------------------------------


@pytest.mark.parametrize('make,sample', [
    (lambda: Convolution1D(3, 2, border_mode='same', subsample_length=2, activation='relu',
                           W_regularizer='l2', bias=False), (6, 2)),
    (lambda: Convolution1D(3, 2, input_dim=2, input_length=6), (6, 2)),
    (lambda: AveragePooling2D((2, 2), (1, 1), 'same', dim_ordering='tf'), (4, 4, 2)),
    (lambda: MaxPooling1D(3, 1, 'same'), (5, 2)),
    (lambda: AveragePooling1D(2), (5, 2)),
    (lambda: GlobalMaxPooling1D(), (5, 2)),
    (lambda: GlobalAveragePooling1D(), (5, 2)),
    (lambda: GlobalMaxPooling2D(dim_ordering='tf'), (3, 3, 2)),
    (lambda: GlobalAveragePooling2D(dim_ordering='th'), (2, 3, 3)),
    (lambda: ZeroPadding2D({'left_pad': 2}, dim_ordering='tf'), (3, 3, 1)),
    (lambda: ZeroPadding2D((1, 2, 0, 1), dim_ordering='th'), (1, 3, 3)),
    (lambda: UpSampling2D((2, 3), dim_ordering='tf'), (2, 2, 1)),
    (lambda: Cropping2D(((1, 0), (0, 1)), dim_ordering='th'), (1, 3, 3)),
    (lambda: BatchNormalization(epsilon=1e-4, mode=0, axis=1, momentum=0.9,
                                gamma_regularizer='l2', gamma_init='uniform'), (3, 2, 2)),
    (lambda: BatchNormalization(mode=2), (4,)),
    (lambda: LeakyReLU(0.1), (4,)),
    (lambda: ELU(0.7), (4,)),
    (lambda: ThresholdedReLU(0.5), (4,)),
    (lambda: ParametricSoftplus(0.5, 3., shared_axes=[1]), (2, 4)),
    (lambda: GaussianNoise(0.3), (4,)),
    (lambda: GaussianDropout(0.3), (4,)),
    (lambda: Embedding(7, 3, input_length=4, W_regularizer='l1', dropout=0.2), (4,)),
    (lambda: ActivityRegularization(l1=0.1, l2=0.2), (4,)),
])
def test_config_round_trip(make, sample):
    layer = built(make(), sample)
    config = layer.get_config()
    clone = layer_from_config({'class_name': type(layer).__name__, 'config': config})
    assert type(clone) is type(layer)
    shape_keys = ('batch_input_shape', 'input_dtype')
    assert {k: v for k, v in clone.get_config().items() if k not in shape_keys} == \
        {k: v for k, v in config.items() if k not in shape_keys}
    built(clone, sample)
    clone.set_weights(layer.get_weights())
    if isinstance(layer, Embedding):
        x = np.random.RandomState(0).randint(0, 7, size=(2,) + sample)
    else:
        x = away_from_zero((2,) + sample)
    np.testing.assert_array_equal(clone.call(x), layer.call(x))


def test_keras_config_keys_are_present():
    """The keys Keras 1.2.2's get_config writes (extra ones are noted in the layers)."""
    expected = {
        Convolution1D(2, 3): {'nb_filter', 'filter_length', 'init', 'activation', 'border_mode',
                              'subsample_length', 'W_regularizer', 'b_regularizer',
                              'activity_regularizer', 'W_constraint', 'b_constraint', 'bias',
                              'input_dim', 'input_length'},
        MaxPooling1D(): {'stride', 'pool_length', 'border_mode'},
        AveragePooling2D(): {'pool_size', 'border_mode', 'strides', 'dim_ordering'},
        GlobalMaxPooling2D(): {'dim_ordering'},
        ZeroPadding2D(): {'padding'},
        UpSampling2D(): {'size'},
        Cropping2D(): {'cropping'},
        BatchNormalization(): {'epsilon', 'mode', 'axis', 'gamma_regularizer',
                               'beta_regularizer', 'momentum'},
        LeakyReLU(): {'alpha'}, ELU(): {'alpha'}, ThresholdedReLU(): {'theta'},
        ParametricSoftplus(): {'alpha_init', 'beta_init'},
        GaussianNoise(0.1): {'sigma'}, GaussianDropout(0.1): {'p'},
        Embedding(3, 2): {'input_dim', 'output_dim', 'init', 'input_length', 'mask_zero',
                          'activity_regularizer', 'W_regularizer', 'W_constraint', 'dropout'},
        ActivityRegularization(): {'l1', 'l2'},
    }
    for layer, keys in expected.items():
        missing = keys - set(layer.get_config())
        assert not missing, (type(layer).__name__, missing)
