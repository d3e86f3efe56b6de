"""minikeras's recurrent layers against real Keras 3: the golden numbers of
tests/fixtures/fidelity/recurrent.npz, written by
tests/fixtures/fidelity/make_recurrent_fixtures.py (its docstring says how
the two definitions are matched: sigmoid gates, GRU with reset_after=False,
'gpu' weight layout). Needs neither Keras nor TensorFlow.

Tolerances as in test_fidelity.py: forward values rtol 1e-5, gradients and
weights after optimizer steps rtol 1e-4, with an absolute part a small
multiple of the array's largest entry (1e-6 forward, 1e-5 backward).
"""
import numpy as np
import pytest

from fidelity_fixtures import Fixtures, assert_close
from minikeras import layers as mk_layers
from minikeras.layers import Dense
from minikeras.models import Sequential
from minikeras.optimizers import SGD

FIXTURES = Fixtures('recurrent')


def make_layer(spec):
    kwargs = dict(spec['kwargs'])
    if 'batch_input_shape' in kwargs:
        kwargs['batch_input_shape'] = tuple(kwargs['batch_input_shape'])
    cls = getattr(mk_layers, spec['class'])
    if 'layer' in spec:
        return cls(make_layer(spec['layer']), **kwargs)
    return cls(**kwargs)


LAYER_CASES = [c for c in FIXTURES.cases if c['kind'] == 'layer']


@pytest.mark.parametrize('case', LAYER_CASES, ids=lambda c: c['name'])
def test_layer_matches_keras_3(case):
    data = FIXTURES.arrays(case)
    layer = make_layer(case['minikeras'])
    x = data['x']
    layer.connect((x.shape[0] if case['stateful'] else None,) + x.shape[1:])
    layer.set_weights([data['w_%d' % i] for i in range(case['weights'])])
    mask = data.get('mask')
    if case['stateful']:
        layer.reset_states()
        assert_close(layer.forward(data['x_first'])[0], data['y_first'], 1e-5, 1e-6,
                     '%s first batch' % case['name'])
    y, backprop = layer.forward(x, mask=mask)
    dy = data['dy']
    if case['adjust'] == 'zero_masked_outputs':
        # Keras 3's Bidirectional zeroes the outputs of masked steps, so nothing flows back
        # from them; Keras 1.2.2 repeats the previous output there (docs/keras1-differences.md).
        y = y * mask[:, :, None]
        dy = dy * mask[:, :, None]
    else:
        assert case['adjust'] is None, 'unknown adjustment %r' % case['adjust']
    assert_close(y, data['y'], 1e-5, 1e-6, '%s output' % case['name'])
    for g in layer.gradients:
        g.fill(0)
    assert_close(backprop(dy), data['dx'], 1e-4, 1e-5, '%s input gradient' % case['name'])
    for i, grad in enumerate(layer.gradients):
        assert_close(grad, data['grad_%d' % i], 1e-4, 1e-5,
                     '%s gradient of weight %d' % (case['name'], i))


def test_lstm_model_sgd_steps_match_keras_3():
    case = [c for c in FIXTURES.cases if c['kind'] == 'model'][0]
    data = FIXTURES.arrays(case)
    model = Sequential([make_layer(dict(case['minikeras'], kwargs=dict(
        case['minikeras']['kwargs'], input_shape=data['x'].shape[1:]))), Dense(1)])
    model.compile(SGD(lr=0.1), 'mse')
    model.set_weights([data['w_%d' % i] for i in range(case['weights'])])
    losses = [model.train_on_batch(data['x'], data['y_true']) for _ in range(3)]
    assert_close(np.array(losses, 'float32'), data['loss'], 1e-5, 1e-6, 'losses')
    for i, weight in enumerate(model.get_weights()):
        assert_close(weight, data['after_%d' % i], 1e-4, 1e-5, 'weight %d after 3 steps' % i)
