"""SeparableConv1D and Conv3DTranspose as Keras 2 scripts spell them, against
real Keras 3's numbers (tests/fixtures/fidelity/keras2c.npz, written by
make_keras2c_fixtures.py): each case's call, run as written, gives outputs
within 1e-5 and gradients within 1e-4, with the weights in the layout Keras
2.2.4 (and Keras 3) keep; and the layers save, load and train as others."""
import json
import os

import numpy as np
import pytest

from minikeras import backend
from minikeras import layers as layer_module
from minikeras.layers import Conv3DTranspose, Input, SeparableConv1D
from minikeras.models import Model, load_model

HERE = os.path.join(os.path.dirname(__file__), 'fixtures', 'fidelity')
with open(os.path.join(HERE, 'keras2c_manifest.json')) as f:
    MANIFEST = json.load(f)
ARRAYS = np.load(os.path.join(HERE, 'keras2c.npz'))
CASES = {case['name']: case for case in MANIFEST['cases']}


@pytest.fixture(autouse=True)
def channels_last(monkeypatch):
    monkeypatch.setattr(backend, '_IMAGE_DATA_FORMAT', 'channels_last')


@pytest.mark.parametrize('name', sorted(CASES))
def test_keras_2_call_matches_keras3(name):
    case = CASES[name]
    a = {key.split('/', 1)[1]: ARRAYS[key] for key in ARRAYS.files
         if key.startswith(name + '/')}
    layer = eval(case['call'], {}, vars(layer_module))
    assert layer.keras_2_call
    layer.connect((None,) + tuple(case['input_shape']))
    # the same layout as Keras 2.2.4 and 3: the arrays go in as they are
    layer.set_weights([a['w_%d' % i] for i in range(case['weights'])])
    for g in layer.gradients:
        g.fill(0.)
    out, backprop = layer.forward(a['x'], training=True)
    assert layer.output_shape[1:] == a['y'].shape[1:]
    np.testing.assert_allclose(out, a['y'], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(backprop(a['dy']), a['dx'], rtol=1e-4, atol=1e-4)
    for i, g in enumerate(layer.gradients):
        np.testing.assert_allclose(g, a['grad_%d' % i], rtol=1e-4, atol=1e-4,
                                   err_msg='weight %d' % i)


def test_defaults_as_keras_2_2_4(monkeypatch):
    monkeypatch.setattr(backend, '_IMAGE_DATA_FORMAT', 'channels_first')
    # SeparableConv1D is channels_last unless told; Conv3DTranspose follows image_data_format
    separable = SeparableConv1D(2, 3)
    assert separable.data_format == 'channels_last' and separable.border_mode == 'valid'
    transposed = Conv3DTranspose(2, 3)
    assert transposed.dim_ordering == 'th' and transposed.output_padding is None
    assert transposed.subsample == (1, 1, 1)
    assert transposed.name.startswith('conv3d_transpose_')
    transposed.connect((None, 4, 2, 3, 5))
    assert transposed.output_shape == (None, 2, 4, 5, 7)
    assert [w.shape for w in transposed.get_weights()] == [(3, 3, 3, 2, 4), (2,)]


def test_bad_arguments_name_the_layer():
    with pytest.raises(ValueError, match='output_padding .* must be below the strides'):
        Conv3DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match='dilation_rate=2 is not supported'):
        SeparableConv1D(2, 3, dilation_rate=2)
    with pytest.raises(ValueError, match="data_format must be 'channels_first' or "
                                         "'channels_last', got 'th'"):
        SeparableConv1D(2, 3, data_format='th')
    layer = SeparableConv1D(2, 3, name='sep')
    with pytest.raises(ValueError, match='sep'):
        layer.connect((None, 4, 5, 6))
    small = Conv3DTranspose(2, 3, name='up')
    with pytest.raises(ValueError, match='up'):
        small.connect((None, 4, 4, 4))


@pytest.mark.parametrize('make, input_shape', [
    (lambda: SeparableConv1D(3, 3, padding='same', depth_multiplier=2, name='sep'), (7, 2)),
    (lambda: SeparableConv1D(3, 2, data_format='channels_first', name='sep'), (2, 7)),
    (lambda: Conv3DTranspose(2, 2, strides=2, output_padding=1, name='up'), (2, 3, 2, 2)),
    (lambda: Conv3DTranspose(2, 3, padding='same', data_format='channels_first', name='up'),
     (2, 2, 3, 2)),
])
def test_save_load_and_train(tmp_path, make, input_shape):
    np.random.seed(0)
    inputs = Input(shape=input_shape)
    model = Model(inputs, make()(inputs))
    model.compile('sgd', 'mse')
    x = np.random.RandomState(1).rand(4, *input_shape).astype('float32')
    y = np.random.RandomState(2).rand(*model.predict(x).shape).astype('float32')
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, nb_epoch=3, batch_size=4, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
    path = str(tmp_path / 'model.h5')
    model.save(path)
    loaded = load_model(path)
    assert type(loaded.layers[-1]) is type(model.layers[-1])
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    for saved, original in zip(loaded.get_weights(), model.get_weights()):
        assert saved.shape == original.shape


@pytest.mark.parametrize('name, layer_class', [('separable_conv1d', SeparableConv1D),
                                               ('conv3d_transpose', Conv3DTranspose)])
def test_keras3_hdf5_file_loads_and_predicts_as_keras3(name, layer_class):
    import warnings
    arrays = np.load(os.path.join(HERE, 'keras2c_models.npz'))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')      # "the model was not compiled"
        model = load_model(os.path.join(HERE, 'keras2c_%s.h5' % name))
    assert type(model.layers[-1]) is layer_class
    np.testing.assert_allclose(model.predict(arrays[name + '/x']), arrays[name + '/y'],
                               rtol=1e-5, atol=1e-5)
