"""GRU(reset_after=True), initial_state= and return_state=True against real
Keras 3: the golden numbers of tests/fixtures/fidelity/rstate.npz, written by
tests/fixtures/fidelity/make_rstate_fixtures.py (its docstring lists the
arrays). Needs neither Keras nor TensorFlow.

Tolerances as in test_fidelity_recurrent.py: forward rtol 1e-5, gradients
rtol 1e-4, with an absolute part a small multiple of the array's largest entry.
"""
import numpy as np
import pytest

from fidelity_fixtures import Fixtures, assert_close
from minikeras import layers as mk_layers

FIXTURES = Fixtures('rstate')


def make_layer(spec):
    return getattr(mk_layers, spec['class'])(**spec['kwargs'])


def cases(kind):
    return [c for c in FIXTURES.cases if c['kind'] == kind]


@pytest.mark.parametrize('case', cases('layer'), ids=lambda c: c['name'])
def test_gru_reset_after_matches_keras_3(case):
    data = FIXTURES.arrays(case)
    layer = make_layer(case['minikeras'])
    x = data['x']
    layer.connect((None,) + x.shape[1:])
    assert [w.shape for w in layer.get_weights()] == \
        [data['w_%d' % i].shape for i in range(case['weights'])]
    layer.set_weights([data['w_%d' % i] for i in range(case['weights'])])
    y, backprop = layer.forward(x, mask=data.get('mask'))
    assert_close(y, data['y'], 1e-5, 1e-6, '%s output' % case['name'])
    for g in layer.gradients:
        g.fill(0)
    assert_close(backprop(data['dy']), data['dx'], 1e-4, 1e-5, '%s dx' % case['name'])
    for i, grad in enumerate(layer.gradients):
        assert_close(grad, data['grad_%d' % i], 1e-4, 1e-5,
                     '%s gradient of weight %d' % (case['name'], i))


@pytest.mark.parametrize('case', cases('states'), ids=lambda c: c['name'])
def test_initial_and_returned_states_match_keras_3(case):
    data = FIXTURES.arrays(case)
    layer = make_layer(case['minikeras'])
    x = data['x']
    states = [data['state_%d' % k] for k in range(case['states'])]
    layer.connect([(None,) + x.shape[1:]] + [(None, 5)] * len(states))
    layer.set_weights([data['w_%d' % i] for i in range(case['weights'])])
    outs, backprop = layer.forward([x] + states, mask=data.get('mask'))
    assert len(outs) == case['outputs']
    for j, out in enumerate(outs):
        assert_close(out, data['out_%d' % j], 1e-5, 1e-6, '%s output %d' % (case['name'], j))
    for g in layer.gradients:
        g.fill(0)
    grads = backprop([data['dout_%d' % j] for j in range(case['outputs'])])
    assert_close(grads[0], data['dx'], 1e-4, 1e-5, '%s dx' % case['name'])
    for k in range(case['states']):
        assert_close(grads[1 + k], data['dstate_%d' % k], 1e-4, 1e-5,
                     '%s gradient of initial state %d' % (case['name'], k))
    for i, grad in enumerate(layer.gradients):
        assert_close(grad, data['grad_%d' % i], 1e-4, 1e-5,
                     '%s gradient of weight %d' % (case['name'], i))
