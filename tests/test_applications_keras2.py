"""keras.applications under a Keras 2 call: Keras 2.2.4's InceptionV3, its
layer names and weight file, checked against real Keras 3 (whose
InceptionV3 is 2.2.4's network): `tests/fixtures/make_inception_v3_k2_fixture.py`
wrote the layout and the outputs; the test writes the random file itself
(`keras2_weight_files`)."""
import os
import warnings

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


@pytest.fixture(autouse=True)
def _image_settings_unchanged():
    """Each test starts from the defaults ('th' for Keras 1 calls,
    channels_last for Keras 2 calls), and leaves both settings as they were
    (setting one sets both)."""
    saved = K._IMAGE_DIM_ORDERING, K._IMAGE_DATA_FORMAT
    K._IMAGE_DIM_ORDERING, K._IMAGE_DATA_FORMAT = 'th', 'channels_last'
    yield
    K._IMAGE_DIM_ORDERING, K._IMAGE_DATA_FORMAT = saved


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


def test_channels_first_loads_the_same_file(keras_2, models_cache):
    expected = _fixture_outputs()
    write_random_weights(str(models_cache / NOTOP_FILE), LAYOUT, seed=0)
    K.set_image_data_format('channels_first')
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
    K.set_image_dim_ordering('tf')
    with pytest.raises(ValueError, match=r"Keras 1\.2\.2's inception_v3 \(release v0\.2"):
        InceptionV3(weights='imagenet', include_top=False)


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


def _randomize(model, seed):
    rng = np.random.RandomState(seed)
    # positive, so that the moving variances are
    model.set_weights([np.abs(rng.normal(0, .05, w.shape)).astype('float32')
                       for w in model.weights])


def test_keras_2_resnet50_is_keras_224s(keras_2, models_cache):
    from minikeras.applications import ResNet50
    # Keras 2.2.4: 25,636,712 parameters with the top (as 1.2.2), and new layers around the blocks
    full = ResNet50(weights=None)
    assert full.count_params() == 25636712
    names = [layer.name for layer in full.layers]
    assert names[1:7] == ['conv1_pad', 'conv1', 'bn_conv1', 'activation_1', 'pool1_pad',
                          'max_pooling2d_1']
    assert names[-2:] == ['avg_pool', 'fc1000'] and 'add_16' in names
    with pytest.warns(UserWarning, match='has been changed since Keras 2.2.0'):
        features = ResNet50(include_top=False, weights=None)
    assert features.output_shape == (None, None, None, 2048)
    # the 'pool1_pad' padding: 224 -> 112 -> 56 (Keras 1.2.2: 55) before the blocks
    small = ResNet50(include_top=False, weights=None, input_shape=(224, 224, 3), pooling='max')
    assert small.get_layer('max_pooling2d_3').output_shape == (None, 56, 56, 64)
    assert small.output_shape == (None, 2048)
    with pytest.raises(ValueError, match='at least 32x32'):
        ResNet50(include_top=False, weights=None, input_shape=(31, 31, 3))


def test_keras_2_resnet50_loads_the_v02_file_keras_1_wrote(models_cache, monkeypatch):
    from minikeras.applications import ResNet50
    K.set_image_dim_ordering('tf')
    source = ResNet50(include_top=False, weights=None, input_shape=(197, 197, 3))
    _randomize(source, 2)
    source.save_weights(str(models_cache / 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5'))
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '2')
    with pytest.warns(UserWarning, match='has been changed since Keras 2.2.0'):
        model = ResNet50(include_top=False, weights='imagenet', input_shape=(32, 32, 3))
    assert model.output_shape == (None, 1, 1, 2048)
    for saved, loaded in zip(source.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(saved, loaded)


def test_keras_2_vgg_sizes_pooling_and_the_tf_file(models_cache):
    from minikeras.applications import VGG16, VGG19
    K.set_image_dim_ordering('tf')
    source = VGG16(include_top=False, weights=None, input_shape=(64, 64, 3))
    _randomize(source, 3)
    source.save_weights(str(models_cache / 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'))
    # a Keras 1 script's defaults; `pooling` makes the calls Keras 2's
    K._IMAGE_DIM_ORDERING, K._IMAGE_DATA_FORMAT = 'th', 'channels_last'
    # Keras 2's layout (channels_last), the 'tf' file, 32x32 accepted (Keras 1.2.2: 48x48)
    model = VGG16(include_top=False, weights='imagenet', input_shape=(64, 64, 3), pooling='avg')
    assert model.output_shape == (None, 512)
    x = np.random.RandomState(4).uniform(0, 1, (2, 64, 64, 3)).astype('float32')
    np.testing.assert_allclose(model.predict(x), source.predict(x).mean(axis=(1, 2)),
                               rtol=1e-5, atol=1e-6)
    assert VGG19(include_top=False, weights=None, input_shape=(32, 32, 3),
                 pooling='max').output_shape == (None, 512)
    with pytest.raises(ValueError, match='at least 32x32'):
        VGG16(include_top=False, weights=None, input_shape=(31, 31, 3), pooling=None,
              classes=10)
    with pytest.raises(ValueError, match='at least 48x48'):
        VGG16(include_top=False, weights=None, input_shape=(3, 32, 32))


def test_keras_2_xception_and_the_settings_it_restores(keras_2):
    from minikeras.applications import Xception
    # any size with the top in Keras 2.2.4 (1.2.2: 299x299 only); 22,910,480 parameters
    model = Xception(weights=None, input_shape=(71, 71, 3))
    assert model.count_params() == 22910480 and model.output_shape == (None, 1000)
    K.set_image_data_format('channels_first')
    with pytest.warns(UserWarning, match='input data format "channels_last"'):
        pooled = Xception(include_top=False, weights=None, pooling='max')
    assert pooled.input_shape == (None, None, None, 3) and pooled.output_shape == (None, 2048)
    assert K.image_data_format() == 'channels_first'


def test_keras_1_xception_keeps_keras_2s_data_format_setting():
    from minikeras.applications import Xception
    K._IMAGE_DIM_ORDERING, K._IMAGE_DATA_FORMAT = 'th', 'channels_last'
    with pytest.warns(UserWarning, match='dimension ordering "tf"'):
        Xception(include_top=False, weights=None, input_shape=(71, 71, 3))
    assert (K._IMAGE_DIM_ORDERING, K._IMAGE_DATA_FORMAT) == ('th', 'channels_last')


@pytest.mark.parametrize('name, md5', [
    ('resnet50', 'a268eb855778b3df3c7506639542a6af'),
    ('vgg19', '253f8cb515780f3b799900260a226db6'),
    ('xception', 'b0042744bf5b25fce3cb969f33bebb97')])
def test_keras_2_files_are_downloaded_with_keras_224s_hash(keras_2, models_cache, monkeypatch,
                                                           name, md5):
    from minikeras import applications
    from minikeras.utils import data_utils
    calls = []
    monkeypatch.setattr(data_utils, 'get_file', lambda *a, **k: calls.append((a, k)) or
                        (_ for _ in ()).throw(data_utils.DownloadError('offline')))
    build = {'resnet50': applications.ResNet50, 'vgg19': applications.VGG19,
             'xception': applications.Xception}[name]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')   # ResNet50's note on its output shape
        with pytest.raises(data_utils.DownloadError):
            build(include_top=False, input_shape=(75, 75, 3))
    (fname, origin), options = calls[0]
    assert fname == '%s_weights_tf_dim_ordering_tf_kernels_notop.h5' % name
    assert origin.endswith('/v%s/%s' % ({'resnet50': '0.2', 'vgg19': '0.1',
                                         'xception': '0.4'}[name], fname))
    assert options['md5_hash'] == md5


MIRROR = os.environ.get('LEGACY_KERAS_GIT', '/work/.mirror/keras-team+keras/repo')


@pytest.mark.slow
def test_keras_224s_deep_dream_runs_with_the_file_in_the_cache(tmp_path):
    """Keras 2.2.4's examples/deep_dream.py, unchanged, under `minikeras run`,
    with a random InceptionV3 file in Keras 2.2.4's layout in its HOME's cache
    (the example checker's HOME has none) and a 160x160 image (its smallest
    octave, 81x81, is above InceptionV3's 75x75)."""
    import subprocess
    import sys
    pytest.importorskip('PIL')
    from PIL import Image
    if not os.path.isdir(MIRROR):
        pytest.skip('no fetched keras-team/keras at %s (set LEGACY_KERAS_GIT)' % MIRROR)
    source = subprocess.run(['git', '-C', MIRROR, 'show', '2.2.4:examples/deep_dream.py'],
                            capture_output=True, text=True, check=True).stdout
    (tmp_path / 'deep_dream.py').write_text(source)
    models = tmp_path / 'home' / '.keras' / 'models'
    os.makedirs(str(models))
    write_random_weights(str(models / NOTOP_FILE), LAYOUT, seed=0)
    pixels = np.random.RandomState(0).randint(0, 255, (160, 160, 3)).astype('uint8')
    Image.fromarray(pixels).save(str(tmp_path / 'img.png'))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items()
           if k not in ('KERAS_HOME', 'MINIKERAS_KERAS_VERSION')}
    env.update(HOME=str(tmp_path / 'home'), PYTHONPATH=root, MPLBACKEND='Agg')
    result = subprocess.run([sys.executable, '-m', 'minikeras', 'run', 'deep_dream.py',
                             'img.png', str(tmp_path / 'dream')], cwd=str(tmp_path), env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert 'Model loaded.' in result.stdout
    assert '..Loss value at 0 :' in result.stdout
    assert 'Processing image shape (81, 81)' in result.stdout
    assert (tmp_path / 'dream.png').stat().st_size > 0
