"""keras.applications under a Keras 2 call: Keras 2.2.4's InceptionV3, its
layer names and weight file, checked against real Keras 3 (whose
InceptionV3 is 2.2.4's network): `tests/fixtures/make_inception_v3_k2_fixture.py`
wrote the layout and the outputs; the test writes the random file itself
(`keras2_weight_files`)."""
import os

import h5py
import numpy as np
import pytest

import minikeras.backend as K
from minikeras.applications import InceptionV3
from minikeras.applications import inception_v3, imagenet_utils
from minikeras.engine import base_layer
from minikeras.engine.training import Model
from keras2_weight_files import read_layout, write_random_weights

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
LAYOUT = read_layout(os.path.join(FIXTURES, 'inception_v3_k2_layout.json'))
NOTOP_FILE = 'inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5'
TOP_FILE = 'inception_v3_weights_tf_dim_ordering_tf_kernels.h5'


def _top_layout():
    import json
    with open(os.path.join(FIXTURES, 'inception_v3_k2_layout.json')) as f:
        top = json.load(f)['top']
    return LAYOUT + [(name, [(w, tuple(s)) for w, s in weights]) for name, weights in top]


@pytest.fixture(autouse=True)
def _fresh_layer_numbering():
    """Layers numbered from 1, as in the fresh session Keras 2.2.4's files were
    saved in; the rest of the suite keeps its numbering."""
    saved = dict(base_layer._UIDS)
    base_layer._UIDS.clear()
    yield
    base_layer._UIDS.clear()
    base_layer._UIDS.update(saved)


@pytest.fixture
def keras_2(monkeypatch):
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '2')


@pytest.fixture
def models_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('KERAS_HOME', str(tmp_path))
    os.makedirs(str(tmp_path / 'models'))
    return tmp_path / 'models'


@pytest.fixture
def data_format():
    previous = K.image_data_format()
    yield K.set_image_data_format
    K.set_image_data_format(previous)


def _fixture_outputs():
    return dict(np.load(os.path.join(FIXTURES, 'inception_v3_k2.npz')))


def _layer_outputs(model, names, x):
    probe = Model(model.input, [model.get_layer(n).output for n in names])
    values = probe.predict(x)
    return values if len(names) > 1 else [values]


def test_keras_2_script_builds_keras_224s_network_with_its_names(keras_2):
    model = inception_v3.InceptionV3(weights=None, include_top=False, input_shape=(75, 75, 3))
    # Keras 2.2.4 (and Keras 3): 21,802,784 parameters, 23,851,784 with the top
    assert model.count_params() == 21802784
    assert [(layer.name, [tuple(w.shape) for w in layer.weights]) for layer in model.layers] \
        == [(name, [shape for _, shape in weights]) for name, weights in LAYOUT]
    assert model.output_shape == (None, 1, 1, 2048)
    conv, norm = model.get_layer('conv2d_1'), model.get_layer('batch_normalization_1')
    assert not conv.bias and not norm.scale and norm.center and norm.epsilon == 1e-3
    base_layer._UIDS.clear()
    assert InceptionV3(weights=None).count_params() == 23851784


def test_keras_1_call_keeps_keras_122s_network():
    model = InceptionV3(weights=None, include_top=False, input_shape=(3, 139, 139))
    assert model.get_layer('convolution2d_1').bias
    # a bias and a gamma more per channel of its 94 conv+BN pairs (17,216 channels)
    assert model.count_params() == 21802784 + 2 * 17216
    with pytest.raises(ValueError, match='at least 139x139'):
        InceptionV3(weights=None, include_top=False, input_shape=(3, 75, 75))


def test_keras_2_file_loads_and_predicts_what_keras_3_predicts(keras_2, models_cache):
    expected = _fixture_outputs()
    write_random_weights(str(models_cache / NOTOP_FILE), LAYOUT, seed=0)
    model = inception_v3.InceptionV3(weights='imagenet', include_top=False)
    mixed2, mixed10 = _layer_outputs(model, ['mixed2', 'mixed10'], expected['x'])
    for name, value in (('mixed2', mixed2), ('mixed10', mixed10)):
        reference = expected['notop/' + name]
        scale = np.abs(reference).max()
        assert scale > 1e-2
        np.testing.assert_allclose(value / scale, reference / scale, atol=1e-4, err_msg=name)
    base_layer._UIDS.clear()
    write_random_weights(str(models_cache / TOP_FILE), _top_layout(), seed=0)
    top = InceptionV3(weights='imagenet')
    np.testing.assert_allclose(top.predict(expected['x']), expected['top/predictions'],
                               atol=1e-6, rtol=1e-4)


def test_channels_first_loads_the_same_file(keras_2, models_cache, data_format):
    expected = _fixture_outputs()
    write_random_weights(str(models_cache / NOTOP_FILE), LAYOUT, seed=0)
    data_format('channels_first')
    model = InceptionV3(weights='imagenet', include_top=False, input_shape=(3, 75, 75))
    assert model.output_shape == (None, 2048, 1, 1)
    x = np.transpose(expected['x'], (0, 3, 1, 2))
    mixed2 = _layer_outputs(model, ['mixed2'], x)[0]
    reference = np.transpose(expected['notop/mixed2'], (0, 3, 1, 2))
    scale = np.abs(reference).max()
    np.testing.assert_allclose(mixed2 / scale, reference / scale, atol=1e-4)


def test_pooling_makes_a_keras_2_call_and_weights_may_be_a_path(models_cache, tmp_path):
    expected = _fixture_outputs()
    path = str(tmp_path / 'mine.h5')
    write_random_weights(path, LAYOUT, seed=0)
    # a Keras 1 script: `pooling` alone tells the call (channels_last, Keras 2's default)
    model = InceptionV3(include_top=False, weights=path, pooling='avg')
    assert model.layers[1].name == 'conv2d_1'
    assert model.output_shape == (None, 2048)
    np.testing.assert_allclose(model.predict(expected['x']),
                               expected['notop/mixed10'].reshape(1, 2048), atol=1e-4)
    with pytest.raises(ValueError, match="`pooling` should be None, 'avg' or 'max'"):
        InceptionV3(include_top=False, weights=None, pooling='mean')
    with pytest.raises(ValueError, match='or the path to the weights file'):
        InceptionV3(include_top=False, weights=str(tmp_path / 'missing.h5'), pooling='max')


def test_a_file_of_the_other_generation_is_refused_by_name(keras_2, models_cache, monkeypatch):
    # Keras 1.2.2's file (release v0.2) has the same name: a Keras 2 call refuses it
    write_random_weights(str(models_cache / NOTOP_FILE),
                         [(name, weights + [('bias', weights[0][1][-1:])]
                           if name.startswith('conv2d') else weights)
                          for name, weights in LAYOUT], seed=0)
    with pytest.raises(ValueError, match=r"Keras 2\.2\.4's inception_v3 \(release v0\.5.*"
                                         r"Keras 1\.2\.2 \(release v0\.2\)"):
        InceptionV3(weights='imagenet', include_top=False)
    # and a Keras 1 call refuses 2.2.4's file
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '1')
    write_random_weights(str(models_cache / NOTOP_FILE), LAYOUT, seed=0)
    previous = K.image_dim_ordering()
    K.set_image_dim_ordering('tf')
    try:
        with pytest.raises(ValueError, match=r"Keras 1\.2\.2's inception_v3 \(release v0\.2"):
            InceptionV3(weights='imagenet', include_top=False)
    finally:
        K.set_image_dim_ordering(previous)


def test_missing_file_is_downloaded_from_keras_224s_release(keras_2, models_cache,
                                                            monkeypatch):
    from minikeras.utils import data_utils
    calls = []
    monkeypatch.setattr(data_utils, 'get_file', lambda *a, **k: calls.append((a, k)) or
                        (_ for _ in ()).throw(data_utils.DownloadError('offline')))
    with pytest.raises(data_utils.DownloadError):
        InceptionV3(weights='imagenet', include_top=False)
    (fname, origin), options = calls[0]
    assert fname == NOTOP_FILE
    assert origin == ('https://github.com/fchollet/deep-learning-models/releases/download/'
                      'v0.5/' + NOTOP_FILE)
    assert options == {'cache_subdir': 'models',
                       'md5_hash': 'bcbd6486424b2319ff4ef7d526e38f63'}


def test_keras_2_preprocess_input(keras_2):
    pixels = np.array([[0, 51, 127.5, 255]], dtype='float32')
    expected = pixels / np.float32(127.5) - np.float32(1)
    np.testing.assert_array_equal(inception_v3.preprocess_input(pixels.copy()), expected)
    as_int = inception_v3.preprocess_input(np.array([[0, 255]], dtype='uint8'))
    assert as_int.dtype == np.float32
    np.testing.assert_array_equal(as_int, [[-1, 1]])
    batch = np.arange(2 * 2 * 3, dtype='float64').reshape(1, 2, 2, 3)
    caffe = imagenet_utils.preprocess_input(batch.copy(), mode='caffe')
    np.testing.assert_allclose(caffe[..., 0], batch[..., 2] - 103.939)
    np.testing.assert_allclose(caffe[..., 2], batch[..., 0] - 123.68)
    torch = imagenet_utils.preprocess_input(batch.copy(), data_format='channels_last',
                                            mode='torch')
    np.testing.assert_allclose(torch[..., 1], (batch[..., 1] / 255 - .456) / .224)
    with pytest.raises(ValueError, match="mode must be 'caffe', 'tf' or 'torch'"):
        imagenet_utils.preprocess_input(batch, mode='inception')
