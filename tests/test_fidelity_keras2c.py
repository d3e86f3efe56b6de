"""SeparableConv1D and Conv3DTranspose beyond their numbers (which
test_fidelity_keras2conv.py checks against Keras 3's, keras2c.npz): Keras
2.2.4's defaults and errors, saving, loading and training, and the HDF5
files Keras 3 wrote for them (written by make_keras2c_fixtures.py)."""
import os

import numpy as np
import pytest

from minikeras import backend
from minikeras.layers import Conv3DTranspose, Input, SeparableConv1D
from minikeras.models import Model, load_model

from fidelity_fixtures import FIXTURES


@pytest.fixture(autouse=True)
def channels_last(monkeypatch):
    monkeypatch.setattr(backend, '_IMAGE_DATA_FORMAT', 'channels_last')


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
    arrays = np.load(os.path.join(FIXTURES, 'keras2c_models.npz'))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')      # "the model was not compiled"
        model = load_model(os.path.join(FIXTURES, 'keras2c_%s.h5' % name))
    assert type(model.layers[-1]) is layer_class
    np.testing.assert_allclose(model.predict(arrays[name + '/x']), arrays[name + '/y'],
                               rtol=1e-5, atol=1e-5)
