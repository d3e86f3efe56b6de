"""The design's boundaries, checked on the source: the engine knows no
specific layer and no Keras 0.x (which `compat/` adds on top), and the
Keras 0.3 behaviours still work through that edge."""
import ast
import os

import numpy as np
import pytest

import minikeras
from minikeras import layers
from minikeras.engine import sequential as engine_sequential
from minikeras.layers import Dense
from minikeras.models import Sequential
from minikeras.preprocessing.image import ImageDataGenerator
from minikeras.utils.np_utils import to_categorical

ENGINE = os.path.join(os.path.dirname(minikeras.__file__), 'engine')
# The engine's own classes, which it may name.
ENGINE_CLASSES = {'Layer', 'InputLayer', 'Merge', 'Container', 'Sequential', 'Model'}


def _engine_modules():
    for name in sorted(os.listdir(ENGINE)):
        if name.endswith('.py'):
            with open(os.path.join(ENGINE, name)) as f:
                yield name, ast.parse(f.read())


def _imported_modules(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield '.' * node.level + (node.module or '')
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name


def _code_strings_and_names(tree):
    """String constants (docstrings left out) and names used in the code."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body and \
                isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            docstrings.add(id(node.body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                id(node) not in docstrings:
            yield node.value
        elif isinstance(node, ast.Name):
            yield node.id


def test_the_engine_imports_neither_models_nor_compat_nor_layers():
    for name, tree in _engine_modules():
        for module in _imported_modules(tree):
            assert module not in ('..models', '..compat', '..layers') and \
                not module.startswith(('..compat.', '..layers.')), (name, module)


def test_the_engine_never_names_a_layer_class():
    layer_classes = {name for name, value in vars(layers).items()
                     if isinstance(value, type) and issubclass(value, layers.Layer)}
    named = layer_classes - ENGINE_CLASSES
    for name, tree in _engine_modules():
        found = {s for s in _code_strings_and_names(tree) if s in named}
        assert not found, (name, found)


def test_engine_sequential_is_keras_1_and_the_public_one_adds_keras_0():
    with pytest.raises(ValueError, match=r'first layer .* dense_first \(Dense\), must get an '
                                         r'input_shape'):
        engine_sequential.Sequential([Dense(2, name='dense_first')])
    model = Sequential([Dense(2), Dense(1)])            # Keras 0.x: the shape comes with data
    model.compile('sgd', 'mse')
    model.fit(np.ones((4, 3), 'float32'), np.ones((4, 1), 'float32'), nb_epoch=1, verbose=0)
    assert model.input_shape == (None, 3)


def _flow_model():
    model = Sequential([Dense(3, activation='softmax', input_shape=(4,))])
    model.compile('sgd', 'categorical_crossentropy')
    return model


def _images(n):
    rng = np.random.RandomState(0)
    return rng.standard_normal((n, 1, 2, 2)).astype('float32'), \
        to_categorical(rng.randint(0, 3, n), 3)


class _Flat(object):
    """Batches of a flow() as (flattened images, labels), keeping its iterator."""

    def __init__(self, iterator):
        self.iterator = iterator
        self.one_pass, self.reset = iterator.one_pass, iterator.reset

    def __iter__(self):
        return self

    def __next__(self):
        x, y = next(self.iterator)
        return x.reshape(len(x), -1), y


def test_keras_0_3_one_pass_flow_is_restarted_by_fit_generator(monkeypatch):
    x, y = _images(10)
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '0.3')
    flow = ImageDataGenerator(dim_ordering='th').flow(x, y, batch_size=4)
    assert flow.one_pass and not flow.shuffle
    history = _flow_model().fit_generator(_Flat(flow), samples_per_epoch=30, nb_epoch=2,
                                          verbose=0)
    assert len(history.history['loss']) == 2
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '1.2.2')
    flow = ImageDataGenerator(dim_ordering='th').flow(x, y, batch_size=4, one_pass=True)
    assert flow.shuffle and flow.one_pass
    assert _flow_model().evaluate_generator(_Flat(flow), 24) > 0


def test_a_finite_generator_that_runs_out_is_an_error():
    def three_batches():
        for _ in range(3):
            yield np.ones((2, 4), 'float32'), np.eye(3, dtype='float32')[[0, 1]]
    with pytest.raises(ValueError, match='generator ran out of batches'):
        _flow_model().fit_generator(three_batches(), samples_per_epoch=8, nb_epoch=1,
                                    verbose=0)


def test_keras_import_paths_survive_the_split():
    from minikeras import engine, models
    from minikeras.engine import topology, training
    from minikeras.engine.topology import (Container, Input, InputLayer, Layer, Merge, Node,
                                           get_source_inputs, merge)
    assert engine.Layer is Layer is layers.Layer and engine.Merge is Merge is layers.Merge
    assert engine.Input is Input is layers.Input and engine.merge is merge
    # keras.layers.merge is Keras 2's module, callable as Keras 1's merge().
    assert layers.merge.__call__.__doc__.startswith("Keras 1's `merge(")
    assert engine.InputLayer is InputLayer and engine.get_source_inputs is get_source_inputs
    assert engine.Model is training.Model and issubclass(models.Model, training.Model)
    assert issubclass(training.Model, Container) and topology.Node is Node
    assert issubclass(models.Sequential, models.Model) and models.Merge is Merge
    x = Input(shape=(3,))
    y = merge([Dense(2)(x), Dense(2)(x)], mode='concat')
    assert get_source_inputs(y) == [x] and y.node.outbound_layer.mode == 'concat'
