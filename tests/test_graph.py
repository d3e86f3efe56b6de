"""Keras 0.x's Graph model: dicts in and out, against the same network as a
functional Model and NumPy references; 'join' nodes feeding a Lambda; errors."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from minikeras import backend as K
from minikeras.layers import Dense, Input, Lambda
from minikeras.models import Graph, Model, Sequential, slice_X


def two_output_graph():
    g = Graph()
    g.add_input(name='input1', input_shape=(4,))
    g.add_node(Dense(5), name='dense1', input='input1')
    g.add_node(Dense(3), name='dense2', input='input1')
    g.add_node(Dense(3), name='dense3', input='dense1')
    g.add_node(Dense(2), name='dense4', inputs=['dense2', 'dense3'], merge_mode='concat',
               create_output=True)
    g.add_output(name='output1', input='dense2')
    g.add_output(name='output2', inputs=['dense2', 'dense3'], merge_mode='sum')
    return g


def test_predict_and_losses_match_numpy():
    g = two_output_graph()
    g.compile('sgd', {'output1': 'mse', 'output2': 'mae', 'dense4': 'mse'})
    assert g.output_order == ['dense4', 'output1', 'output2']
    x = np.random.rand(10, 4).astype('float32')
    w = {name: g.nodes[name].get_weights() for name in ('dense1', 'dense2', 'dense3', 'dense4')}
    h1 = x @ w['dense1'][0] + w['dense1'][1]
    h2 = x @ w['dense2'][0] + w['dense2'][1]
    h3 = h1 @ w['dense3'][0] + w['dense3'][1]
    h4 = np.concatenate([h2, h3], axis=1) @ w['dense4'][0] + w['dense4'][1]
    out = g.predict({'input1': x})
    assert list(out) == ['dense4', 'output1', 'output2']
    np.testing.assert_allclose(out['output1'], h2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out['output2'], h2 + h3, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out['dense4'], h4, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g.predict_on_batch({'input1': x})['output2'], h2 + h3, rtol=1e-5,
                               atol=1e-6)
    t1, t2, t4 = np.ones((10, 3)), np.zeros((10, 3)), np.ones((10, 2))
    data = {'input1': x, 'output1': t1, 'output2': t2, 'dense4': t4}
    expected = (np.mean((h2 - t1) ** 2) + np.mean(np.abs(h2 + h3 - t2))
                + np.mean((h4 - t4) ** 2))
    assert g.evaluate(data) == pytest.approx(expected, rel=1e-5)
    assert g.test_on_batch(data) == pytest.approx(expected, rel=1e-5)
    assert g.train_on_batch(data) == pytest.approx(expected, rel=1e-5)
    assert g.evaluate(data) < expected  # one SGD step went downhill


def test_fit_trains_like_the_functional_model():
    x = np.random.rand(40, 4).astype('float32')
    y = x @ np.array([[1.], [-1.], [2.], [0.5]], dtype='float32')
    g = Graph()
    g.add_input(name='in', input_shape=(4,))
    g.add_node(Dense(1), name='lin', input='in')
    g.add_output(name='out', input='lin')
    g.compile('sgd', {'out': 'mse'})
    start = g.get_weights()
    inp = Input(shape=(4,))
    model = Model(input=inp, output=Dense(1)(inp))
    model.compile('sgd', 'mse')
    model.set_weights(start)
    history = g.fit({'in': x, 'out': y}, nb_epoch=3, batch_size=8, shuffle=False, verbose=0,
                    validation_data={'in': x, 'out': y})
    reference = model.fit(x, y, nb_epoch=3, batch_size=8, shuffle=False, verbose=0,
                          validation_data=(x, y))
    np.testing.assert_allclose(history.history['loss'], reference.history['loss'], rtol=1e-6)
    np.testing.assert_allclose(history.history['val_loss'], reference.history['val_loss'],
                               rtol=1e-6)
    for a, b in zip(g.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_shared_nodes_join_and_lambda_on_a_dict():
    base = Sequential()
    base.add(Dense(3, input_shape=(5,)))

    def distance(inputs):
        u, v = inputs.values()
        return K.sqrt(K.sum(K.square(u - v), axis=1, keepdims=True))

    g = Graph()
    g.add_input(name='a', input_shape=(5,))
    g.add_input(name='b', input_shape=(5,))
    g.add_shared_node(base, name='shared', inputs=['a', 'b'], merge_mode='join')
    g.add_node(Lambda(distance), name='d', input='shared')
    g.add_output(name='output', input='d')
    g.add_shared_node(Dense(2), name='heads', inputs=['a', 'b'], outputs=['ha', 'hb'],
                      create_output=True)
    g.compile('rmsprop', {'output': 'mse', 'ha': 'mse', 'hb': 'mse'})
    xa, xb = np.random.rand(6, 5).astype('float32'), np.random.rand(6, 5).astype('float32')
    W, b = base.get_weights()
    out = g.predict({'a': xa, 'b': xb})
    expected = np.sqrt((((xa @ W + b) - (xb @ W + b)) ** 2).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(out['output'], expected, rtol=1e-5)
    Wh, bh = g.nodes['heads'].get_weights()
    np.testing.assert_allclose(out['hb'], xb @ Wh + bh, rtol=1e-5, atol=1e-6)
    data = {'a': xa, 'b': xb, 'output': np.zeros((6, 1)), 'ha': np.zeros((6, 2)),
            'hb': np.zeros((6, 2))}
    before = g.evaluate(data)
    g.fit(data, nb_epoch=5, verbose=0)
    assert g.evaluate(data) < before


def test_errors():
    g = Graph()
    g.add_input(name='x', input_shape=(3,))
    with pytest.raises(ValueError, match="duplicate node identifier 'x'"):
        g.add_input(name='x', input_shape=(3,))
    with pytest.raises(ValueError, match="'nope' is no input or node"):
        g.add_node(Dense(2), name='d', input='nope')
    with pytest.raises(ValueError, match='exactly one of input= and inputs='):
        g.add_node(Dense(2), name='d')
    with pytest.raises(ValueError, match='merge_mode of node .e. must be one of'):
        g.add_node(Dense(2), name='e', inputs=['x', 'x'], merge_mode='avg')
    with pytest.raises(ValueError, match='needs input_shape or batch_input_shape'):
        g.add_input(name='y')
    g.add_node(Dense(2), name='d', input='x')
    with pytest.raises(RuntimeError, match='add_input and add_output first'):
        g.compile('sgd', {})
    g.add_output(name='out', input='d')
    with pytest.raises(ValueError, match="unknown: \\['typo'\\], missing: \\['out'\\]"):
        g.compile('sgd', {'typo': 'mse'})
    g.compile('sgd', {'out': 'mse'})
    with pytest.raises(ValueError, match='data has no out'):
        g.fit({'x': np.zeros((2, 3))}, verbose=0)
    with pytest.raises(TypeError, match='must be a dict'):
        g.predict(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match='before compiling'):
        g.add_node(Dense(2), name='late', input='x')


def test_keras_0_3_imports_and_defaults(tmp_path):
    script = tmp_path / 's.py'
    script.write_text(textwrap.dedent('''
        import numpy as np
        from keras.models import Graph
        from keras.layers import containers
        from keras.layers.core import Dense
        assert containers.Graph is Graph
        g = Graph()
        g.add_input(name='x', input_shape=(2,))
        g.add_node(Dense(1), name='d', input='x', create_output=True)
        g.compile('sgd', {'d': 'mse'})
        h = g.fit({'x': np.zeros((300, 2)), 'd': np.zeros((300, 1))}, nb_epoch=1)
        print(type(g.evaluate({'x': np.zeros((3, 2)), 'd': np.zeros((3, 1))})).__name__)
    '''))
    result = subprocess.run([sys.executable, '-m', 'minikeras', 'run', '--keras-version', '0.3',
                             str(script)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert '128/300' in result.stdout and '300/300' in result.stdout  # batches of 128
    assert result.stdout.strip().splitlines()[-1] in ('float', 'float64', 'float32')


def test_slice_x():
    a, b = np.arange(10), np.arange(10, 20)
    assert slice_X(a, 2, 5).tolist() == [2, 3, 4]
    assert [s.tolist() for s in slice_X([a, b], 8)] == [[8, 9], [18, 19]]
    assert slice_X(a, np.array([3, 1])).tolist() == [3, 1]
    assert [s.tolist() for s in slice_X([a, b], [0, 9])] == [[0, 9], [10, 19]]


def test_fit_show_accuracy_with_one_output_as_keras_0_3():
    """0.3.3's imdb_bidirectional_lstm: Graph.fit(..., show_accuracy=True)."""
    from minikeras.optimizers import SGD

    def graph(outputs):
        np.random.seed(0)
        g = Graph()
        g.add_input(name='in', input_shape=(4,))
        g.add_node(Dense(1, activation='sigmoid'), name='p', input='in')
        for name in outputs:
            g.add_output(name=name, input='p')
        g.compile(SGD(lr=0.), dict((name, 'binary_crossentropy') for name in outputs))
        return g
    g = graph(['out'])
    x = np.random.RandomState(1).uniform(-1, 1, (16, 4)).astype('float32')
    y = (x[:, :1] > 0).astype('float32')
    history = g.fit({'in': x, 'out': y}, nb_epoch=2, batch_size=8, verbose=0,
                    show_accuracy=True)
    # lr=0: the accuracy of every batch is that of the same, fixed predictions
    want = np.mean(np.round(g.predict({'in': x})['out']) == y)
    np.testing.assert_allclose(history.history['acc'], [want, want], rtol=1e-6)
    two = graph(['out', 'again'])
    with pytest.raises(ValueError, match=r'show_accuracy needs a Graph with exactly one output'):
        two.fit({'in': x, 'out': y, 'again': y}, nb_epoch=1, verbose=0, show_accuracy=True)
