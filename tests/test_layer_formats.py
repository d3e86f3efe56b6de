"""The per-layer file-format adapters: a layer class brings its Keras 2/3
config, its saved weight layouts and its Keras 3 export in one registration,
and the engine finds them by class."""
import json

import h5py
import numpy as np
import pytest

from minikeras.engine import layer_formats, saving
from minikeras.engine.layer_formats import ExportedTensor, LayerFormat, register_format
from minikeras.layers import Convolution2D, Dense, SpatialDropout2D
from minikeras.layers.core import Dropout
from minikeras.models import Sequential


class Scale(Dense):
    """A custom layer: a Dense whose Keras 3 counterpart is called 'Scaler'
    and stores its kernel transposed."""


def _scale_in(c, major):
    return 'Scale', {'output_dim': int(c['units'])}


def _scale_weights_in(layer, arrays, source, info, target):
    if source.keras_major >= 3:
        arrays[0] = np.ascontiguousarray(arrays[0].T)
    return arrays


def _scale_out(layer, state, converted):
    kernel, bias = layer.get_weights()
    return [('Scaler', {'units': layer.output_dim},
             [('kernel', kernel.T), ('bias', bias)])], ExportedTensor(layer.output_shape)


@pytest.fixture
def scale_format():
    register_format(Scale, LayerFormat(saved_names=('Scaler',), config_in=_scale_in,
                                       weights_in=_scale_weights_in, keras3_out=_scale_out))
    yield
    layer_formats._BY_CLASS.pop(Scale)
    layer_formats._BY_SAVED_NAME.pop('Scale')
    layer_formats._BY_SAVED_NAME.pop('Scaler')
    layer_formats._LATER_NAMES.discard('Scaler')


def test_one_registration_gives_config_weights_and_export(tmp_path, scale_format):
    model = Sequential([Scale(3, input_dim=4, name='scale')])
    path = str(tmp_path / 'k3.h5')
    saving.export_to_keras3(model, path)
    kernel = model.layers[0].get_weights()[0]
    with h5py.File(path, 'r') as f:
        config = json.loads(f.attrs['model_config'])
        assert [l['class_name'] for l in config['config']['layers']] == ['InputLayer', 'Scaler']
        np.testing.assert_array_equal(f['model_weights']['scale']['scale/kernel'][()], kernel.T)
    # The Keras 3 file comes back through the same adapter, kernel transposed back.
    again = saving.load_model(path, custom_objects={'Scale': Scale}, compile=False)
    assert type(again.layers[0]) is Scale
    np.testing.assert_array_equal(again.layers[0].get_weights()[0], kernel)
    x = np.arange(8, dtype='float32').reshape(2, 4)
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-6)


def test_subclass_shares_weight_layouts_but_not_the_export(tmp_path):
    class MyConv(Convolution2D):
        pass
    layer = MyConv(2, 3, 3, dim_ordering='th')
    assert layer_formats.format_of(layer) is layer_formats.format_of(Convolution2D(2, 3, 3))
    assert layer_formats.format_of(layer, inherited=False).keras3_out is None
    model = Sequential([MyConv(2, 3, 3, input_shape=(1, 5, 5), dim_ordering='th', name='mine')])
    with pytest.raises(ValueError, match=r'mine has class MyConv.*known: .*Convolution2D'):
        saving.export_to_keras3(model, str(tmp_path / 'x.h5'))


def test_a_subclass_with_its_own_adapter_keeps_it():
    # SpatialDropout2D is a Dropout, but Keras 3's Dropout is not what it computes.
    assert layer_formats.format_of(SpatialDropout2D(0.5)).keras3_out is None
    assert layer_formats.format_of(Dropout(0.5)).keras3_out is not None
    assert 'SpatialDropout2D' not in layer_formats.exportable_names()


def test_unknown_keras2_class_lists_what_can_be_read():
    config = {'class_name': 'Sequential', 'keras_version': '2.2.4',
              'config': [{'class_name': 'ConvLSTM3D', 'config': {'name': 'bi'}}]}
    with pytest.raises(ValueError, match=r"'bi' has class 'ConvLSTM3D'.*known: .*Conv2D"):
        saving.model_from_config(config)


def test_keras2_only_names_mark_a_config_as_keras2():
    names = layer_formats.later_generation_names()
    assert {'Conv2D', 'Add', 'Concatenate', 'MaxPool2D'} <= names
    assert not names & {'Convolution2D', 'Dense', 'Merge', 'MaxPooling2D'}
