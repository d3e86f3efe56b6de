"""minikeras's ConvLSTM2D against real Keras 3: the golden numbers of
tests/fixtures/fidelity/conv_recurrent.npz, written by
tests/fixtures/fidelity/make_conv_recurrent_fixtures.py (its docstring says
how the two definitions are matched: sigmoid gates, 'tf' ordering). Needs
neither Keras nor TensorFlow.

Tolerances as in test_fidelity.py: forward values rtol 1e-5, gradients rtol
1e-4, with an absolute part a small multiple of the array's largest entry
(1e-6 forward, 1e-5 backward).
"""
import numpy as np
import pytest

from fidelity_fixtures import Fixtures, assert_close
from minikeras.layers import ConvLSTM2D

FIXTURES = Fixtures('conv_recurrent')

# Keras 3's concatenated gates (i, f, c, o) against Keras 1.2.2's weight list
KERAS1_ORDER = ('i', 'c', 'f', 'o')
KERAS3_GATES = ('i', 'f', 'c', 'o')


def split_gates(arrays, n):
    """Keras 3's [kernel, recurrent_kernel, bias] as Keras 1's 12 arrays."""
    out = []
    for gate in KERAS1_ORDER:
        k = KERAS3_GATES.index(gate)
        out += [np.ascontiguousarray(a[..., k * n:(k + 1) * n]) for a in arrays]
    return out


def join_gates(arrays, n):
    """Keras 1's 12 arrays (gradients) as Keras 3's three."""
    by_gate = dict(zip(KERAS1_ORDER, [arrays[3 * k:3 * k + 3] for k in range(4)]))
    return [np.concatenate([by_gate[g][part] for g in KERAS3_GATES], axis=-1)
            for part in range(3)]


@pytest.mark.parametrize('case', FIXTURES.cases, ids=lambda c: c['name'])
def test_conv_lstm_matches_keras_3(case):
    data = FIXTURES.arrays(case)
    kwargs = dict(case['minikeras'])
    if 'batch_input_shape' in kwargs:
        kwargs['batch_input_shape'] = tuple(kwargs['batch_input_shape'])
    layer = ConvLSTM2D(**kwargs)
    x = data['x']
    layer.connect((x.shape[0] if case['stateful'] else None,) + x.shape[1:])
    n = layer.nb_filter
    layer.set_weights(split_gates([data['w_0'], data['w_1'], data['w_2']], n))
    if case['stateful']:
        layer.reset_states()
        assert_close(layer.forward(data['x_first'])[0], data['y_first'], 1e-5, 1e-6,
                     '%s first batch' % case['name'])
    y, backprop = layer.forward(x, mask=data.get('mask'))
    assert_close(y, data['y'], 1e-5, 1e-6, '%s output' % case['name'])
    for g in layer.gradients:
        g.fill(0)
    assert_close(backprop(data['dy']), data['dx'], 1e-4, 1e-5, '%s input gradient' % case['name'])
    for i, grad in enumerate(join_gates(layer.gradients, n)):
        assert_close(grad, data['grad_%d' % i], 1e-4, 1e-5,
                     '%s gradient of weight %d' % (case['name'], i))
