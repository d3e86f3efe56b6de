"""HDF5 saving and loading: round trips, files written by real Keras 1, 2 and
3 (tests/fixtures), failures that leave the weights and the old file alone,
and the export to Keras 3."""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import warnings

import h5py
import numpy as np
import pytest

from minikeras import optimizers
from minikeras.engine import saving
from minikeras.layers import (Convolution2D, Dense, Dropout, Flatten, Input,
                              MaxPooling2D, merge)
from minikeras.models import Model, Sequential

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cnn(ordering='th', name_prefix=''):
    shape = (1, 12, 12) if ordering == 'th' else (12, 12, 1)
    return Sequential([
        Convolution2D(4, 5, 5, activation='tanh', input_shape=shape, dim_ordering=ordering,
                      name=name_prefix + 'conv_a'),
        Convolution2D(8, 3, 3, dim_ordering=ordering, name=name_prefix + 'conv_b'),
        MaxPooling2D((2, 2), dim_ordering=ordering, name=name_prefix + 'pool'),
        Dropout(0.25, name=name_prefix + 'drop'),
        Flatten(name=name_prefix + 'flat'),
        Dense(10, activation='softmax', name=name_prefix + 'out')])


def mlp(hidden=16):
    return Sequential([Dense(hidden, activation='relu', input_dim=20, name='h1'),
                       Dense(8, activation='tanh', name='h2'),
                       Dense(3, activation='softmax', name='out')])


def image_batch(ordering='th', n=6, seed=0):
    x = np.random.RandomState(seed).uniform(-1, 1, (n, 1, 12, 12)).astype('float32')
    return x if ordering == 'th' else x.transpose(0, 2, 3, 1)


def targets(n, classes, seed=0):
    return np.eye(classes)[np.random.RandomState(seed).randint(0, classes, n)]


def snapshot(model):
    return [w.copy() for w in model.get_weights()]


def assert_same_weights(before, model):
    after = model.get_weights()
    assert len(before) == len(after)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------

def test_save_weights_layout_and_round_trip(tmp_path):
    model = cnn('th')
    path = str(tmp_path / 'w.h5')
    saving.save_weights(model, path)
    with h5py.File(path, 'r') as f:
        assert [n.decode() for n in f.attrs['layer_names']] == \
            ['conv_a', 'conv_b', 'pool', 'drop', 'flat', 'out']
        assert f.attrs['backend'] == b'tensorflow'
        assert f.attrs['keras_version'] == b'1'
        assert [n.decode() for n in f['conv_a'].attrs['weight_names']] == ['conv_a_W', 'conv_a_b']
        assert f['conv_a']['conv_a_W'].shape == (4, 1, 5, 5)
        assert f['conv_a']['conv_a_W'].dtype == np.float32
        assert len(f['pool'].attrs['weight_names']) == 0
    other = cnn('th')
    x = image_batch()
    assert not np.allclose(other.predict(x), model.predict(x))
    saving.load_weights(other, path)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    assert_same_weights(model.get_weights(), other)


def test_load_weights_by_name_skips_unknown_layers(tmp_path):
    model = mlp()
    path = str(tmp_path / 'w.h5')
    saving.save_weights(model, path)
    renamed = Sequential([Dense(16, activation='relu', input_dim=20, name='h1'),
                          Dense(8, activation='tanh', name='other'),
                          Dense(3, activation='softmax', name='out')])
    untouched = renamed.layers[1].get_weights()
    saving.load_weights(renamed, path, by_name=True)
    np.testing.assert_array_equal(renamed.layers[0].get_weights()[0],
                                  model.layers[0].get_weights()[0])
    np.testing.assert_array_equal(renamed.layers[2].get_weights()[1],
                                  model.layers[2].get_weights()[1])
    np.testing.assert_array_equal(renamed.layers[1].get_weights()[0], untouched[0])


def test_load_weights_reads_a_model_file(tmp_path):
    model = mlp()
    path = str(tmp_path / 'm.h5')
    saving.save_model(model, path)
    other = mlp()
    saving.load_weights(other, path)
    assert_same_weights(model.get_weights(), other)


@pytest.mark.parametrize('optimizer', [
    lambda: optimizers.SGD(lr=0.05, momentum=0.9, nesterov=True),
    lambda: optimizers.Adam(lr=0.01),
    lambda: optimizers.RMSprop(lr=0.01, decay=0.1),
    lambda: optimizers.Adadelta(decay=0.05),
], ids=['sgd-nesterov', 'adam', 'rmsprop-decay', 'adadelta-decay'])
def test_save_model_resumes_training_exactly(tmp_path, optimizer):
    model = cnn('th')
    model.compile(optimizer=optimizer(), loss='categorical_crossentropy', metrics=['accuracy'])
    x, y = image_batch(n=8), targets(8, 10)
    for _ in range(3):
        model.train_on_batch(x, y)
    path = str(tmp_path / 'm.h5')
    saving.save_model(model, path)
    loaded = saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations
    for a, b in zip(model.optimizer.get_weights(), loaded.optimizer.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert loaded.loss == model.loss and loaded.metrics == model.metrics
    for step in range(3):
        xb, yb = image_batch(n=8, seed=step + 1), targets(8, 10, seed=step + 1)
        np.random.seed(step)                      # the same dropout masks for both
        expected = model.train_on_batch(xb, yb)
        np.random.seed(step)
        assert loaded.train_on_batch(xb, yb) == expected
    assert_same_weights(model.get_weights(), loaded)


def test_save_model_optimizer_weights_have_names(tmp_path):
    model = mlp()
    model.compile(optimizer=optimizers.SGD(momentum=0.5), loss='mse')
    model.train_on_batch(np.ones((2, 20), 'float32'), np.ones((2, 3), 'float32'))
    path = str(tmp_path / 'm.h5')
    saving.save_model(model, path)
    with h5py.File(path, 'r') as f:
        assert f.attrs['keras_version'] == b'1.2.2'
        config = json.loads(f.attrs['model_config'])
        assert config['class_name'] == 'Sequential'
        assert [l['class_name'] for l in config['config']] == ['Dense', 'Dense', 'Dense']
        training = json.loads(f.attrs['training_config'])
        assert training['optimizer_config']['class_name'] == 'SGD'
        assert training['loss'] == 'mse' and training['sample_weight_mode'] is None
        names = [n.decode() for n in f['optimizer_weights'].attrs['weight_names']]
        assert names == ['iterations', 'moment_h1_W', 'moment_h1_b', 'moment_h2_W',
                         'moment_h2_b', 'moment_out_W', 'moment_out_b']


def test_uncompiled_model_loads_with_a_warning(tmp_path):
    model = mlp()
    path = str(tmp_path / 'm.h5')
    saving.save_model(model, path)
    with pytest.warns(UserWarning, match='not\\* compiled'):
        loaded = saving.load_model(path)
    assert_same_weights(model.get_weights(), loaded)


def functional_model():
    a, b = Input(shape=(6,), name='a'), Input(shape=(4,), name='b')
    left = Dense(5, activation='tanh', name='left')(a)
    right = Dense(5, activation='relu', name='right')(b)
    h = merge([left, right], mode='concat', name='merged')
    out = Dense(2, activation='softmax', name='out')(Dense(5, name='proj')(h))
    return Model(input=[a, b], output=out)


def test_functional_model_round_trip(tmp_path):
    model = functional_model()
    model.compile('adam', 'categorical_crossentropy')
    x = [np.random.rand(4, 6).astype('float32'), np.random.rand(4, 4).astype('float32')]
    model.train_on_batch(x, targets(4, 2))
    path = str(tmp_path / 'f.h5')
    saving.save_model(model, path)
    with h5py.File(path, 'r') as f:
        assert json.loads(f.attrs['model_config'])['class_name'] == 'Model'
        assert 'a' in [n.decode() for n in f['model_weights'].attrs['layer_names']]
    loaded = saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.train_on_batch(x, targets(4, 2)) == model.train_on_batch(x, targets(4, 2))


def same_architecture(a, b):
    """Equal configs, but for the input shape a rebuilt Dense derives from
    its saved input_dim (as in Keras 1)."""
    def normalized(model):
        configs = json.loads(json.dumps(model.get_config()))
        for layer in configs[1:]:
            layer['config'].pop('batch_input_shape', None)
            layer['config'].pop('input_dtype', None)
        return configs
    return normalized(a) == normalized(b)


def test_nested_model_and_no_optimizer(tmp_path):
    inner = Sequential([Dense(5, activation='tanh', input_dim=6, name='inner_dense')],
                       name='inner')
    a = Input(shape=(6,), name='a')
    model = Model(input=a, output=Dense(2, name='top')(inner(a)))
    model.compile('sgd', 'mse')
    path = str(tmp_path / 'nested.h5')
    saving.save_model(model, path, include_optimizer=False)
    with h5py.File(path, 'r') as f:
        assert 'training_config' not in f.attrs and 'optimizer_weights' not in f
        assert [n.decode() for n in f['model_weights']['inner'].attrs['weight_names']] == \
            ['inner_dense_W', 'inner_dense_b']
    with pytest.warns(UserWarning, match='not\\* compiled'):
        loaded = saving.load_model(path)
    x = np.random.rand(3, 6).astype('float32')
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    with pytest.raises(ValueError, match='inner holds nested models'):
        saving.export_to_keras3(model, str(tmp_path / 'k3.h5'))


def test_json_round_trip():
    model = cnn('tf')
    text = saving.model_to_json(model)
    config = json.loads(text)
    assert config['keras_version'] == '1.2.2' and config['class_name'] == 'Sequential'
    rebuilt = saving.model_from_json(text)
    assert same_architecture(rebuilt, model)
    rebuilt.set_weights(model.get_weights())
    x = image_batch('tf')
    np.testing.assert_array_equal(rebuilt.predict(x), model.predict(x))
    functional = functional_model()
    again = saving.model_from_json(saving.model_to_json(functional))
    assert [l.name for l in again.layers] == [l.name for l in functional.layers]


def test_yaml_round_trip():
    pytest.importorskip('yaml')
    model = cnn('th')
    text = saving.model_to_yaml(model)
    assert '!!python' not in text
    rebuilt = saving.model_from_yaml(text)
    assert same_architecture(rebuilt, model)


def test_yaml_missing_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, 'yaml', None)
    with pytest.raises(ImportError, match='PyYAML'):
        saving.model_to_yaml(mlp())
    with pytest.raises(ImportError, match='pip install pyyaml'):
        saving.model_from_yaml('class_name: Sequential')


def test_model_from_config_dispatch(monkeypatch):
    with pytest.raises(TypeError, match='not a list'):
        saving.model_from_config([{'class_name': 'Dense', 'config': {}}])
    with pytest.raises(ValueError, match='unknown model class'):
        saving.model_from_config({'class_name': 'Graph', 'config': {}})
    config = {'class_name': 'Model', 'config': functional_model().get_config()}
    assert isinstance(saving.model_from_config(config), Model)
    from minikeras import models

    class NoConfig(object):
        pass
    monkeypatch.setattr(models, 'Model', NoConfig)
    with pytest.raises(ValueError, match='has no from_config'):
        saving.model_from_config(config)


# ---------------------------------------------------------------------------
# Files written by real Keras
# ---------------------------------------------------------------------------

def fixture_inputs(data):
    if 'x0' in data:
        return [data['x%d' % i] for i in range(len([k for k in data if k.startswith('x')]))]
    return data['x']


REAL_KERAS_FILES = sorted(os.path.basename(p)
                          for p in glob.glob(os.path.join(FIXTURES, 'k[23]_*.h5')))


@pytest.mark.parametrize('name', REAL_KERAS_FILES)
def test_real_keras2_and_keras3_files_load_and_predict(name):
    path = os.path.join(FIXTURES, name)
    data = np.load(path[:-3] + '.npz')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = saving.load_model(path)
    np.testing.assert_allclose(model.predict(fixture_inputs(data)), data['y'], rtol=1e-5,
                               atol=1e-6)
    with h5py.File(path, 'r') as f:
        compiled = 'training_config' in f.attrs
    assert (getattr(model, 'optimizer', None) is not None) == compiled


def test_real_keras_fixtures_exist():
    assert len(REAL_KERAS_FILES) >= 8, REAL_KERAS_FILES
    names = ' '.join(REAL_KERAS_FILES)
    for part in ('k2_', 'k3_', '_cf', '_cl', 'mlp', 'functional', 'extras'):
        assert part in names


def test_keras3_channels_first_file_becomes_a_th_model():
    model = saving.load_model(os.path.join(FIXTURES, 'k3_jax_cnn_cf.h5'))
    assert [getattr(l, 'dim_ordering', None) for l in model.layers[:3]] == ['th'] * 3
    assert model.layers[0].get_weights()[0].shape == (4, 1, 5, 5)
    assert isinstance(model.optimizer, optimizers.SGD)
    assert model.optimizer.momentum == pytest.approx(0.9)
    loss = model.train_on_batch(np.load(os.path.join(FIXTURES, 'k3_jax_cnn_cf.npz'))['x'],
                                targets(4, 10))
    assert np.isfinite(loss[0])


@pytest.mark.parametrize('name, ordering', [('k3_tensorflow_cnn_cl', 'th'),
                                            ('k3_jax_cnn_cf', 'tf'),
                                            ('k2_tensorflow_cnn_cl', 'th')])
def test_keras3_weights_load_into_a_model_of_the_other_ordering(name, ordering):
    data = np.load(os.path.join(FIXTURES, name + '.npz'))
    model = Sequential([
        Convolution2D(4, 5, 5, activation='tanh', dim_ordering=ordering,
                      input_shape=(1, 12, 12) if ordering == 'th' else (12, 12, 1)),
        Convolution2D(8, 3, 3, dim_ordering=ordering), MaxPooling2D((2, 2), dim_ordering=ordering),
        Flatten(), Dense(10, activation='softmax')])
    saving.load_weights(model, os.path.join(FIXTURES, name + '.h5'))
    x = data['x'].transpose(0, 3, 1, 2) if ordering == 'th' else data['x'].transpose(0, 2, 3, 1)
    np.testing.assert_allclose(model.predict(x), data['y'], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('ordering', ['th', 'tf'])
def test_keras1_theano_file_loads_with_flipped_kernels(ordering):
    path = os.path.join(FIXTURES, 'k1_theano_%s_cnn.h5' % ordering)
    data = np.load(path[:-3] + '.npz')
    model = saving.load_model(path, original_backend='theano')
    assert model.layers[0].dim_ordering == ordering
    np.testing.assert_allclose(model.predict(data['x']), data['y'], rtol=1e-5, atol=1e-6)
    state = model.optimizer.get_weights()
    assert float(state[0]) == 3.
    for i, value in enumerate(state):
        np.testing.assert_array_equal(value, data['state_%d' % i])
    # Keras 1 files do not say which backend wrote them; without the hint
    # the kernels are read as cross-correlation kernels, like Keras 2 did.
    unflipped = saving.load_model(path)
    assert not np.allclose(unflipped.predict(data['x']), data['y'], atol=1e-3)


def test_keras1_file_with_a_theano_backend_attribute_is_flipped(tmp_path):
    path = str(tmp_path / 'theano.h5')
    shutil.copy(os.path.join(FIXTURES, 'k1_theano_th_cnn.h5'), path)
    with h5py.File(path, 'a') as f:
        f['model_weights'].attrs['backend'] = b'theano'
    data = np.load(os.path.join(FIXTURES, 'k1_theano_th_cnn.npz'))
    np.testing.assert_allclose(saving.load_model(path).predict(data['x']), data['y'],
                               rtol=1e-5, atol=1e-6)


def test_keras1_th_weights_load_into_a_tf_model():
    data = np.load(os.path.join(FIXTURES, 'k1_theano_th_cnn.npz'))
    model = Sequential([
        Convolution2D(4, 5, 5, activation='tanh', input_shape=(12, 12, 1), dim_ordering='tf'),
        Convolution2D(8, 3, 3, dim_ordering='tf'), MaxPooling2D((2, 2), dim_ordering='tf'),
        Dropout(0.25), Flatten(), Dense(10, activation='softmax')])
    saving.load_weights(model, os.path.join(FIXTURES, 'k1_theano_th_cnn.h5'),
                        original_backend='theano')
    np.testing.assert_allclose(model.predict(data['x'].transpose(0, 2, 3, 1)), data['y'],
                               rtol=1e-5, atol=1e-6)


def test_keras0_weight_file(tmp_path):
    model = mlp()
    path = str(tmp_path / 'old.h5')
    with h5py.File(path, 'w') as f:
        f.attrs['nb_layers'] = len(model.layers)
        for k, layer in enumerate(model.layers):
            g = f.create_group('layer_%d' % k)
            g.attrs['nb_params'] = len(layer.weights)
            for p, w in enumerate(layer.get_weights()):
                g.create_dataset('param_%d' % p, data=w + 1)
    saving.load_weights(model, path)
    with h5py.File(path, 'r') as f:
        np.testing.assert_array_equal(model.layers[2].get_weights()[1], f['layer_2']['param_1'][()])
    with pytest.raises(ValueError, match='by_name=False'):
        saving.load_weights(model, path, by_name=True)


# ---------------------------------------------------------------------------
# Failures: clear errors, weights untouched
# ---------------------------------------------------------------------------

@pytest.fixture
def saved_cnn(tmp_path):
    model = cnn('th')
    path = str(tmp_path / 'cnn.h5')
    saving.save_model(model, path)
    return model, path


def test_missing_file(tmp_path):
    model = mlp()
    before = snapshot(model)
    path = str(tmp_path / 'nope.h5')
    with pytest.raises(FileNotFoundError, match='nope.h5'):
        saving.load_weights(model, path)
    with pytest.raises(FileNotFoundError, match='nope.h5'):
        saving.load_model(path)
    assert_same_weights(before, model)


@pytest.mark.parametrize('keep', [0.5, 0.95])
def test_truncated_file(tmp_path, saved_cnn, keep):
    _, path = saved_cnn
    truncated = str(tmp_path / 'truncated.h5')
    with open(path, 'rb') as f:
        content = f.read()
    with open(truncated, 'wb') as f:
        f.write(content[:int(len(content) * keep)])
    model = cnn('th')
    before = snapshot(model)
    with pytest.raises((OSError, ValueError), match='truncated'):
        saving.load_weights(model, truncated)
    assert_same_weights(before, model)


def test_foreign_files(tmp_path):
    model = mlp()
    before = snapshot(model)
    foreign = str(tmp_path / 'foreign.h5')
    with h5py.File(foreign, 'w') as f:
        f.create_dataset('images', data=np.zeros((2, 2)))
    with pytest.raises(ValueError, match='foreign.h5.*not a Keras weights'):
        saving.load_weights(model, foreign)
    with pytest.raises(ValueError, match='No model found in .*foreign.h5'):
        saving.load_model(foreign)
    text = str(tmp_path / 'notes.h5')
    with open(text, 'w') as f:
        f.write('not hdf5 at all\n' * 100)
    with pytest.raises(OSError, match='notes.h5'):
        saving.load_weights(model, text)
    assert_same_weights(before, model)


def test_layer_count_mismatch(tmp_path):
    path = str(tmp_path / 'mlp.h5')
    saving.save_weights(mlp(), path)
    smaller = Sequential([Dense(16, input_dim=20), Dense(3)])
    before = snapshot(smaller)
    with pytest.raises(ValueError, match=r'containing 3 layers.*model with 2 layers.*mlp\.h5'):
        saving.load_weights(smaller, path)
    assert_same_weights(before, smaller)


def test_shape_mismatch_in_the_last_layer_changes_nothing(tmp_path):
    path = str(tmp_path / 'mlp.h5')
    saving.save_weights(mlp(), path)
    other = Sequential([Dense(16, activation='relu', input_dim=20, name='h1'),
                        Dense(8, activation='tanh', name='h2'),
                        Dense(4, activation='softmax', name='wide')])
    before = snapshot(other)
    with pytest.raises(ValueError) as error:
        saving.load_weights(other, path)
    message = str(error.value)
    for part in ('wide', 'mlp.h5', '(8, 4)', '(8, 3)'):
        assert part in message, message
    assert_same_weights(before, other)
    with pytest.raises(ValueError, match='wide'):
        saving.load_weights(other, path, by_name=False)
    assert_same_weights(before, other)


def test_by_name_weight_count_mismatch(tmp_path):
    path = str(tmp_path / 'mlp.h5')
    saving.save_weights(mlp(), path)
    other = Sequential([Dense(16, input_dim=20, name='h1', bias=False)])
    before = snapshot(other)
    with pytest.raises(ValueError, match=r"h1.*has 2 weight.*expects 1"):
        saving.load_weights(other, path, by_name=True)
    assert_same_weights(before, other)


def test_unknown_layer_class_names_class_and_file(tmp_path, saved_cnn):
    _, path = saved_cnn
    odd = str(tmp_path / 'odd.h5')
    shutil.copy(path, odd)
    with h5py.File(odd, 'a') as f:
        config = json.loads(f.attrs['model_config'])
        config['config'][1]['class_name'] = 'FancyConvolution'
        f.attrs['model_config'] = json.dumps(config).encode('utf8')
    with pytest.raises(ValueError, match=r'odd\.h5.*FancyConvolution'):
        saving.load_model(odd)
    keras3 = str(tmp_path / 'local.h5')
    shutil.copy(os.path.join(FIXTURES, 'k3_tensorflow_mlp.h5'), keras3)
    with h5py.File(keras3, 'a') as f:
        config = json.loads(f.attrs['model_config'])
        config['config']['layers'][2]['class_name'] = 'ConvLSTM3D'
        f.attrs['model_config'] = json.dumps(config).encode('utf8')
    with pytest.raises(ValueError, match=r"local\.h5.*'ConvLSTM3D'"):
        saving.load_model(keras3)


def test_keras3_only_features_are_refused_with_the_file_name(tmp_path):
    path = str(tmp_path / 'hs.h5')
    shutil.copy(os.path.join(FIXTURES, 'k3_tensorflow_mlp.h5'), path)
    with h5py.File(path, 'a') as f:
        config = json.loads(f.attrs['model_config'])
        config['config']['layers'][1]['config']['activation'] = 'hard_sigmoid'
        f.attrs['model_config'] = json.dumps(config).encode('utf8')
    with pytest.raises(ValueError, match=r'hs\.h5.*hard_sigmoid'):
        saving.load_model(path)


def test_weights_only_file_is_not_a_model(tmp_path):
    path = str(tmp_path / 'w.h5')
    saving.save_weights(mlp(), path)
    with pytest.raises(ValueError, match='weights only'):
        saving.load_model(path)


def test_bad_optimizer_state_is_refused(tmp_path):
    model = mlp()
    model.compile(optimizer=optimizers.SGD(momentum=0.9), loss='mse')
    model.train_on_batch(np.ones((2, 20), 'float32'), np.ones((2, 3), 'float32'))
    path = str(tmp_path / 'm.h5')
    saving.save_model(model, path)
    with h5py.File(path, 'a') as f:
        del f['optimizer_weights']['moment_h2_W']
        f['optimizer_weights'].create_dataset('moment_h2_W', data=np.zeros((3, 3), 'float32'))
    with pytest.raises(ValueError, match=r'm\.h5.*moment_h2_W.*\(3, 3\).*\(16, 8\)'):
        saving.load_model(path)


# ---------------------------------------------------------------------------
# Crash safety and overwrite
# ---------------------------------------------------------------------------

def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    old_model, new_model = mlp(), mlp()
    path = str(tmp_path / 'w.h5')
    saving.save_weights(old_model, path)

    def broken_replace(src, dst):
        raise KeyboardInterrupt('interrupted between write and rename')
    monkeypatch.setattr(os, 'replace', broken_replace)
    for save in (saving.save_weights, saving.save_model):
        with pytest.raises(KeyboardInterrupt):
            save(new_model, path)
    monkeypatch.undo()
    assert os.listdir(str(tmp_path)) == ['w.h5']
    check = mlp()
    saving.load_weights(check, path)
    assert_same_weights(old_model.get_weights(), check)


def test_killed_writer_leaves_the_old_file_readable(tmp_path):
    path = str(tmp_path / 'w.h5')
    old_model = mlp()
    saving.save_weights(old_model, path)
    script = textwrap.dedent('''
        import os, sys, time
        from minikeras.engine import saving
        from minikeras.layers import Dense
        from minikeras.models import Sequential
        model = Sequential([Dense(16, input_dim=20, name='h1'), Dense(8, name='h2'),
                            Dense(3, name='out')])
        def stall(src, dst):
            print('written', flush=True)
            time.sleep(60)
        os.replace = stall
        saving.save_weights(model, sys.argv[1])
    ''')
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    writer = subprocess.Popen([sys.executable, '-c', script, path], stdout=subprocess.PIPE,
                              env=env)
    try:
        assert writer.stdout.readline().strip() == b'written'
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
    leftovers = [n for n in os.listdir(str(tmp_path)) if n != 'w.h5']
    assert leftovers and all(n.startswith('.w.h5.') and n.endswith('.tmp') for n in leftovers)
    check = mlp()
    saving.load_weights(check, path)
    assert_same_weights(old_model.get_weights(), check)


def test_overwrite_false(tmp_path, monkeypatch):
    path = str(tmp_path / 'w.h5')
    first = mlp()
    saving.save_weights(first, path)
    second = mlp()
    monkeypatch.setattr(sys, 'stdin', open(os.devnull))
    with pytest.raises(FileExistsError, match='overwrite=False'):
        saving.save_weights(second, path, overwrite=False)

    class Terminal(object):
        def isatty(self):
            return True
    monkeypatch.setattr(sys, 'stdin', Terminal())
    monkeypatch.setattr('builtins.input', lambda prompt='': 'n')
    saving.save_model(second, path, overwrite=False)
    check = mlp()
    saving.load_weights(check, path)
    assert_same_weights(first.get_weights(), check)
    monkeypatch.setattr('builtins.input', lambda prompt='': 'y')
    saving.save_weights(second, path, overwrite=False)
    saving.load_weights(check, path)
    assert_same_weights(second.get_weights(), check)


def test_saved_file_gets_normal_permissions(tmp_path):
    path = str(tmp_path / 'w.h5')
    saving.save_weights(mlp(), path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------------------
# Export to Keras 3
# ---------------------------------------------------------------------------

def test_export_layout_for_a_th_model(tmp_path):
    model = cnn('th')
    path = str(tmp_path / 'k3.h5')
    assert saving.export_to_keras3(model, path) is True
    with h5py.File(path, 'r') as f:
        config = json.loads(f.attrs['model_config'])
        assert f.attrs['keras_version'].decode().startswith('3')
        layers = config['config']['layers']
        assert [l['class_name'] for l in layers] == ['InputLayer', 'Conv2D', 'Conv2D',
                                                     'MaxPooling2D', 'Dropout', 'Flatten', 'Dense']
        assert layers[0]['config']['batch_shape'] == [None, 12, 12, 1]
        assert layers[1]['config']['data_format'] == 'channels_last'
        assert layers[1]['config']['filters'] == 4 and layers[1]['config']['kernel_size'] == [5, 5]
        group = f['model_weights']
        assert 'conv_a' in [n.decode() for n in group.attrs['layer_names']]
        kernel = group['conv_a'][group['conv_a'].attrs['weight_names'][0].decode()][()]
        np.testing.assert_array_equal(kernel,
                                      model.layers[0].get_weights()[0].transpose(2, 3, 1, 0))
        dense = group['out']['out/kernel'][()]
        w = model.layers[-1].get_weights()[0]             # rows in (c, h, w) order, 8x3x3
        np.testing.assert_array_equal(dense[(1 * 3 + 2) * 8 + 5], w[5 * 9 + 1 * 3 + 2])
    again = saving.load_model(path, compile=False)   # minikeras reads Keras 3 files too
    x = image_batch()
    np.testing.assert_allclose(again.predict(x.transpose(0, 2, 3, 1)), model.predict(x),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('alias,full', [('mse', 'mean_squared_error'), ('mae', 'mean_absolute_error'),
                                        ('mape', 'mean_absolute_percentage_error'),
                                        ('msle', 'mean_squared_logarithmic_error')])
def test_export_names_losses_as_keras3_can_load_them(tmp_path, alias, full):
    # Keras 3.15 fails on a legacy .h5 whose training config says 'mse' ("Could not
    # deserialize 'keras.metrics.mse'") and loads the same file saying 'mean_squared_error'.
    model = Sequential([Dense(2, input_dim=3)])
    model.compile('sgd', alias)
    path = str(tmp_path / 'k3.h5')
    saving.export_to_keras3(model, path)
    with h5py.File(path, 'r') as f:
        assert json.loads(f.attrs['training_config'])['loss'] == full


def test_export_refuses_what_keras3_cannot_reproduce(tmp_path):
    model = Sequential([Dense(3, activation='hard_sigmoid', input_dim=4, name='hs')])
    with pytest.raises(ValueError, match='hs.*hard_sigmoid'):
        saving.export_to_keras3(model, str(tmp_path / 'x.h5'))
    model = Sequential([Convolution2D(2, 3, 3, border_mode='full', input_shape=(1, 5, 5),
                                      dim_ordering='th', name='full')])
    with pytest.raises(ValueError, match="full.*border_mode 'full'"):
        saving.export_to_keras3(model, str(tmp_path / 'x.h5'))
    assert not os.path.exists(str(tmp_path / 'x.h5'))


def test_export_command(tmp_path, capsys):
    from minikeras.compat import runner
    model = cnn('th')
    source, out = str(tmp_path / 'm.h5'), str(tmp_path / 'k3.h5')
    saving.save_model(model, source)
    assert runner.main(['export', source, out]) == 0
    assert 'x.transpose(0, 2, 3, 1)' in capsys.readouterr().out
    loaded = saving.load_model(out, compile=False)
    x = image_batch()
    np.testing.assert_allclose(loaded.predict(x.transpose(0, 2, 3, 1)), model.predict(x),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(SystemExit, match='minikeras export: No such file'):
        runner.main(['export', str(tmp_path / 'missing.h5'), out])


def test_export_opens_in_real_keras3(tmp_path):
    keras = pytest.importorskip('keras')
    if int(keras.__version__.split('.')[0]) < 3:
        pytest.skip('needs Keras 3, found %s' % keras.__version__)
    for model, x, converted in ((cnn('th'), image_batch(), True), (mlp(), np.ones((3, 20), 'f'),
                                                                   False)):
        path = str(tmp_path / (model.name + '.h5'))
        saving.export_to_keras3(model, path)
        keras_model = keras.models.load_model(path)
        x3 = x.transpose(0, 2, 3, 1) if converted else x
        np.testing.assert_allclose(keras_model.predict(x3, verbose=0), model.predict(x),
                                   rtol=1e-5, atol=1e-6)
