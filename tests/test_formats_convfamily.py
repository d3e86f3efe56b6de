"""File formats of the rest of the convolution family: Keras 1.2.2's HDF5
files in both orderings, Keras 3 export, and Keras 2/3 files read back (the
exported file, read as Keras 3 wrote it: configs through the adapters'
config_in, kernels through their weights_in)."""
import numpy as np
import pytest

from minikeras.engine import saving
from minikeras.engine.layer_formats import ExportError
from minikeras.layers import (AtrousConvolution2D, AveragePooling3D, Convolution3D, Cropping3D,
                              Deconvolution2D, Dense, Flatten, LocallyConnected1D,
                              LocallyConnected2D, MaxPooling3D, SeparableConvolution2D,
                              SpatialDropout3D, UpSampling3D, ZeroPadding3D)
from minikeras.models import Sequential, load_model


def volume_model(ordering):
    shape = (1, 4, 6, 6) if ordering == 'th' else (4, 6, 6, 1)
    model = Sequential()
    model.add(Convolution3D(2, 2, 3, 3, border_mode='same', activation='relu',
                            input_shape=shape, dim_ordering=ordering))
    model.add(MaxPooling3D((1, 2, 2), dim_ordering=ordering))
    model.add(ZeroPadding3D((0, 1, 1), dim_ordering=ordering))
    model.add(AveragePooling3D((2, 2, 2), border_mode='same', dim_ordering=ordering))
    model.add(UpSampling3D((1, 2, 1), dim_ordering=ordering))
    model.add(Cropping3D(((0, 0), (1, 0), (0, 1)), dim_ordering=ordering))
    model.add(SpatialDropout3D(0.2, dim_ordering=ordering))
    model.add(Flatten())
    model.add(Dense(3, activation='softmax'))
    model.compile('sgd', 'categorical_crossentropy')
    return model


def image_model(ordering, deconv=True):
    shape = (2, 9, 9) if ordering == 'th' else (9, 9, 2)
    model = Sequential()
    model.add(AtrousConvolution2D(3, 3, 3, atrous_rate=(2, 2), border_mode='same',
                                  input_shape=shape, dim_ordering=ordering))
    model.add(SeparableConvolution2D(4, 3, 3, depth_multiplier=2, subsample=(2, 2),
                                     dim_ordering=ordering, activation='tanh'))
    if deconv:
        out = (None, 4, 9, 9) if ordering == 'th' else (None, 9, 9, 4)
        model.add(Deconvolution2D(4, 3, 3, output_shape=out, subsample=(2, 2),
                                  dim_ordering=ordering))
    model.add(Flatten())
    model.add(Dense(2))
    model.compile('sgd', 'mse')
    return model


def inputs(model, seed=0):
    return np.random.RandomState(seed).standard_normal(
        (3,) + model.input_shape[1:]).astype('float32')


@pytest.mark.parametrize('ordering', ['th', 'tf'])
@pytest.mark.parametrize('make', [volume_model, image_model])
def test_keras1_file_round_trip(tmp_path, ordering, make):
    model = make(ordering)
    x = inputs(model)
    path = str(tmp_path / 'm.h5')
    model.save(path)
    np.testing.assert_allclose(load_model(path).predict(x), model.predict(x), rtol=1e-5,
                               atol=1e-6)
    other = make(ordering)
    saving.load_weights(other, path)
    np.testing.assert_allclose(other.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


def test_volume_model_exports_and_reads_back_as_keras3(tmp_path):
    model = volume_model('tf')
    x = inputs(model)
    path = str(tmp_path / 'k3.h5')
    saving.export_to_keras3(model, path)
    again = load_model(path)
    # SpatialDropout3D goes to Keras 3 as a Dropout with a spatially shared mask, and back.
    assert [type(layer).__name__ for layer in again.layers] == \
        [type(layer).__name__ for layer in model.layers]
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('ordering', ['th', 'tf'])
def test_image_model_exports_and_reads_back_as_keras3(tmp_path, ordering):
    model = image_model(ordering, deconv=False)
    x = inputs(model)
    path = str(tmp_path / 'k3.h5')
    saving.export_to_keras3(model, path)
    again = load_model(path)
    assert [type(layer).__name__ for layer in again.layers[:2]] == \
        ['AtrousConvolution2D', 'SeparableConvolution2D']
    x_again = x.transpose(0, 2, 3, 1) if ordering == 'th' else x
    np.testing.assert_allclose(again.predict(x_again), model.predict(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('ordering', ['th', 'tf'])
def test_deconvolution_weights_through_a_keras3_file(tmp_path, ordering):
    model = image_model(ordering)
    x = inputs(model)
    path = str(tmp_path / 'k3.h5')
    saving.export_to_keras3(model, path)
    other = image_model(ordering)
    saving.load_weights(other, path)
    np.testing.assert_allclose(other.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


def test_exports_that_keras3_cannot_take_are_refused(tmp_path):
    with pytest.raises(ExportError, match=r"convolution3d_\d+ \(Convolution3D\): only "
                                          r"'tf'-ordered volumes"):
        saving.export_to_keras3(volume_model('th'), str(tmp_path / 'a.h5'))
    for layer in (LocallyConnected1D(2, 3, input_shape=(6, 2)),
                  LocallyConnected2D(2, 3, 3, input_shape=(6, 6, 2), dim_ordering='tf')):
        model = Sequential([layer])
        with pytest.raises(ExportError, match=type(layer).__name__):
            saving.export_to_keras3(model, str(tmp_path / 'b.h5'))
    model = Sequential([AtrousConvolution2D(2, 3, 3, atrous_rate=(2, 2), subsample=(2, 2),
                                            input_shape=(9, 9, 1), dim_ordering='tf')])
    with pytest.raises(ExportError, match='strides above 1 with a dilation'):
        saving.export_to_keras3(model, str(tmp_path / 'c.h5'))
    assert not (tmp_path / 'c.h5').exists()


def test_keras2_configs_translate():
    from minikeras.engine.layer_formats import format_of_saved
    name, config = format_of_saved('Conv2D').read_config(
        'Conv2D', {'filters': 4, 'kernel_size': [3, 3], 'dilation_rate': [2, 2],
                   'padding': 'same', 'data_format': 'channels_first'}, 2)
    assert name == 'AtrousConvolution2D' and config['atrous_rate'] == [2, 2]
    assert config['dim_ordering'] == 'th'
    name, config = format_of_saved('LocallyConnected2D').read_config(
        'LocallyConnected2D', {'filters': 3, 'kernel_size': [2, 2], 'strides': [1, 2],
                               'data_format': 'channels_last', 'implementation': 1}, 2)
    assert name == 'LocallyConnected2D' and config['subsample'] == (1, 2)
    with pytest.raises(ValueError, match='implementation=2'):
        format_of_saved('LocallyConnected1D').read_config(
            'LocallyConnected1D', {'filters': 3, 'kernel_size': [2], 'implementation': 2}, 2)
    name, config = format_of_saved('ZeroPadding3D').read_config(
        'ZeroPadding3D', {'padding': [[1, 1], [2, 2], [0, 0]]}, 3)
    assert config['padding'] == [1, 2, 0]


def test_atrous1d_and_global_pooling3d_round_trips(tmp_path):
    from minikeras.layers import AtrousConvolution1D, GlobalMaxPooling3D
    sequence = Sequential([AtrousConvolution1D(3, 3, atrous_rate=2, border_mode='same',
                                               input_shape=(8, 2)), Flatten(), Dense(1)])
    volume = Sequential([Convolution3D(2, 2, 2, 2, input_shape=(3, 4, 4, 1), dim_ordering='tf'),
                         GlobalMaxPooling3D(dim_ordering='tf'), Dense(1)])
    for model in (sequence, volume):
        model.compile('sgd', 'mse')
        x = inputs(model)
        for name, write in (('k1.h5', model.save),
                            ('k3.h5', lambda p: saving.export_to_keras3(model, p))):
            path = str(tmp_path / name)
            write(path)
            again = load_model(path)
            assert [type(l).__name__ for l in again.layers] == \
                [type(l).__name__ for l in model.layers]
            np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


def keras2_layers_model(data_format):
    """SeparableConv1D (in `data_format`) beside a channels-last
    Conv3DTranspose, as two inputs of one functional model."""
    from minikeras.layers import Conv3DTranspose, Input, SeparableConv1D, concatenate
    from minikeras.models import Model
    sequence = Input((4, 9) if data_format == 'channels_first' else (9, 4))
    volume = Input((3, 4, 4, 2))
    a = SeparableConv1D(3, 3, strides=2, padding='same', depth_multiplier=2,
                        data_format=data_format, activation='tanh')(sequence)
    b = Conv3DTranspose(2, (3, 3, 3), strides=(1, 2, 2), padding='same',
                        output_padding=(0, 1, 1), data_format='channels_last')(volume)
    model = Model([sequence, volume], concatenate([Flatten()(a), Flatten()(b)]))
    model.compile('sgd', 'mse')
    return model


@pytest.mark.parametrize('data_format', ['channels_last', 'channels_first'])
def test_keras2_separable_and_transposed_layers_export_and_read_back(tmp_path, data_format):
    model = keras2_layers_model(data_format)
    rng = np.random.RandomState(3)
    model.set_weights([rng.standard_normal(w.shape).astype('float32') * 0.3
                       for w in model.get_weights()])
    x = [rng.standard_normal((2,) + shape[1:]).astype('float32') for shape in model.input_shape]
    path = str(tmp_path / 'k3.h5')
    saving.export_to_keras3(model, path)
    again = load_model(path)
    names = [type(layer).__name__ for layer in again.layers]
    assert 'SeparableConv1D' in names and 'Conv3DTranspose' in names
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


def test_channels_first_conv3d_transpose_export_is_refused(tmp_path):
    from minikeras.layers import Conv3DTranspose
    model = Sequential([Conv3DTranspose(2, 3, data_format='channels_first',
                                        input_shape=(2, 3, 4, 4))])
    with pytest.raises(ExportError, match=r"\(Conv3DTranspose\): only 'tf'-ordered volumes"):
        saving.export_to_keras3(model, str(tmp_path / 'a.h5'))
