"""keras.applications: Keras 1.2.2's architectures and weight files (random
numbers written by the test in Keras's layout and file names)."""
import os

import numpy as np
import pytest

import minikeras.backend as K
from minikeras.applications import InceptionV3, ResNet50, VGG16, VGG19
from minikeras.applications.imagenet_utils import decode_predictions, preprocess_input


@pytest.fixture(autouse=True)
def _layer_numbering_unchanged():
    """These networks make hundreds of layers; later tests keep the layer
    names (convolution2d_N) they would have had without them."""
    from minikeras.engine import base_layer
    saved = dict(base_layer._UIDS)
    yield
    base_layer._UIDS.clear()
    base_layer._UIDS.update(saved)


@pytest.fixture(autouse=True)
def _image_settings_unchanged():
    """Both image settings as they were: restoring one with its setter would
    set the other too."""
    saved = K._IMAGE_DIM_ORDERING, K._IMAGE_DATA_FORMAT
    yield
    K._IMAGE_DIM_ORDERING, K._IMAGE_DATA_FORMAT = saved


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv('KERAS_HOME', str(tmp_path))
    os.makedirs(str(tmp_path / 'models'))
    return tmp_path / 'models'


def _randomize(model, seed):
    rng = np.random.RandomState(seed)
    model.set_weights([rng.normal(0, .05, w.shape).astype('float32') for w in model.weights])


@pytest.mark.parametrize('ordering', ['tf', 'th'])
def test_vgg16_loads_the_file_keras_named(keras_home, ordering):
    previous = K.image_dim_ordering()
    K.set_image_dim_ordering(ordering)
    try:
        shape = (3, 48, 48) if ordering == 'th' else (48, 48, 3)
        source = VGG16(include_top=False, weights=None, input_shape=shape)
        _randomize(source, 0)
        source.save_weights(str(keras_home / (
            'vgg16_weights_%s_dim_ordering_%s_kernels_notop.h5' % (ordering, ordering))))
        model = VGG16(include_top=False, weights='imagenet', input_shape=shape)
        assert [layer.name for layer in model.layers[1:4]] == \
            ['block1_conv1', 'block1_conv2', 'block1_pool']
        assert model.output_shape == ((None, 512, 1, 1) if ordering == 'th'
                                      else (None, 1, 1, 512))
        for saved, loaded in zip(source.get_weights(), model.get_weights()):
            if ordering == 'th' and saved.ndim == 4:
                # Theano-era kernels ('th_kernels') are flipped on loading
                saved = saved[:, :, ::-1, ::-1]
            np.testing.assert_array_equal(saved, loaded)
    finally:
        K.set_image_dim_ordering(previous)


def test_missing_weight_file_is_fetched_through_get_file(keras_home, monkeypatch):
    from minikeras.utils.data_utils import DownloadError
    monkeypatch.setenv('MINIKERAS_OFFLINE', '1')
    with pytest.raises(DownloadError, match='vgg19_weights_.*_kernels.h5'):
        VGG19(weights='imagenet')


def test_architectures_have_keras_parameter_counts():
    # Keras 1.2.2: VGG16 138,357,544; VGG19 143,667,240; ResNet50 25,636,712 parameters
    assert VGG16(weights=None).count_params() == 138357544
    assert VGG19(include_top=False, weights=None).count_params() == 20024384
    assert ResNet50(weights=None).count_params() == 25636712
    # Keras 2's InceptionV3 has 23,851,784 (no convolution biases, no BN gamma);
    # Keras 1.2.2's adds both, one per channel of each of its 94 conv+BN pairs
    # (17,216 channels): 23,851,784 + 2 * 17,216
    assert InceptionV3(weights=None).count_params() == 23886216


def test_vgg_on_a_graph_tensor_and_its_input_gradient():
    np.random.seed(0)
    image = K.placeholder((1, 3, 48, 48))
    model = VGG16(include_top=False, weights=None, input_tensor=image * 1.,
                  input_shape=(3, 48, 48))
    loss = K.sum(model.get_layer('block2_conv1').output)
    grad = K.gradients(loss, [image])[0]
    x = np.random.RandomState(0).uniform(0, 1, (1, 3, 48, 48)).astype('float32')
    value, g = K.function([image], [loss, grad])([x])
    truncated = K.function([model.input], [loss])
    np.testing.assert_allclose(value, truncated([x])[0], rtol=1e-6)
    # the derivative along the gradient itself (a large, well-conditioned
    # change of the float32 loss), by central differences
    direction = g / np.abs(g).max()
    eps = 1e-2
    numeric = (float(truncated([x + eps * direction])[0]) -
               float(truncated([x - eps * direction])[0])) / (2 * eps)
    np.testing.assert_allclose(np.sum(g * direction), numeric, rtol=3e-2)


def test_preprocess_and_decode(keras_home):
    x = np.arange(2 * 3 * 2 * 2, dtype='float64').reshape(2, 3, 2, 2)
    out = preprocess_input(x.copy(), dim_ordering='th')
    np.testing.assert_allclose(out[:, 0], x[:, 2] - 103.939)
    np.testing.assert_allclose(out[:, 2], x[:, 0] - 123.68)
    import json
    with open(str(keras_home / 'imagenet_class_index.json'), 'w') as f:
        json.dump({str(i): ['n%08d' % i, 'class%d' % i] for i in range(1000)}, f)
    preds = np.zeros((1, 1000))
    preds[0, [7, 3]] = [.6, .3]
    assert decode_predictions(preds, top=2) == [[('n00000007', 'class7', .6),
                                                 ('n00000003', 'class3', .3)]]


def test_inception_v3_layers_and_preprocessing():
    from minikeras.applications.inception_v3 import preprocess_input as inception_preprocess
    model = InceptionV3(include_top=False, weights=None, input_shape=(3, 139, 139))
    assert model.output_shape == (None, 2048, 3, 3)
    names = [layer.name for layer in model.layers]
    assert all('mixed%d' % i in names for i in range(11))
    assert 'mixed9_0' in names and 'mixed9_1' in names
    np.testing.assert_allclose(inception_preprocess(np.array([0., 127.5, 255.])), [-1, 0, 1])


def test_xception_tf_ordering_and_its_weight_file(keras_home):
    from minikeras.applications import Xception
    from minikeras.applications.xception import preprocess_input as xception_preprocess
    previous = K.image_dim_ordering()
    K.set_image_dim_ordering('th')
    try:
        # Keras 1.2.2: 22,910,480 parameters (Keras 2's Xception has the same)
        with pytest.warns(UserWarning, match='only available for the input dimension '
                                             'ordering "tf"'):
            full = Xception(weights=None)
        assert K.image_dim_ordering() == 'th'
        assert full.count_params() == 22910480
        assert full.input_shape == (None, 299, 299, 3)
        assert full.output_shape == (None, 1000)
        with pytest.raises(ValueError, match='should be 1000'):
            Xception(weights='imagenet', classes=10)
        with pytest.raises(ValueError, match='at least 71x71'):
            Xception(include_top=False, weights=None, input_shape=(70, 70, 3))
        source = Xception(include_top=False, weights=None, input_shape=(71, 71, 3))
        names = [layer.name for layer in source.layers]
        assert names[1:4] == ['block1_conv1', 'block1_conv1_bn', 'block1_conv1_act']
        assert 'block2_sepconv2_act' in names and 'block12_sepconv3_bn' in names
        assert source.output_shape == (None, 3, 3, 2048)
        _randomize(source, 1)
        # positive, so that the moving variances are
        source.set_weights([np.abs(w) for w in source.get_weights()])
        source.save_weights(str(keras_home /
                                'xception_weights_tf_dim_ordering_tf_kernels_notop.h5'))
        model = Xception(include_top=False, weights='imagenet', input_shape=(71, 71, 3))
        for saved, loaded in zip(source.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(saved, loaded)
        x = np.random.RandomState(0).uniform(0, 1, (1, 71, 71, 3)).astype('float32')
        prediction = model.predict(x)
        assert np.isfinite(prediction).all() and np.abs(prediction).max() > 0
        np.testing.assert_allclose(prediction, source.predict(x), rtol=1e-5, atol=1e-6)
    finally:
        K.set_image_dim_ordering(previous)
    np.testing.assert_allclose(xception_preprocess(np.array([0., 127.5, 255.])), [-1, 0, 1])
