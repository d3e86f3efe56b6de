"""TimeDistributed and masked losses against real Keras 3's numbers
(tests/fixtures/fidelity/masking.npz, written by make_masking_fixtures.py):
outputs within 1e-5, gradients within 1e-4."""
import numpy as np
import pytest

from fidelity_fixtures import Fixtures
from minikeras import layers as layer_module
from minikeras.layers import TimeDistributed
from minikeras.models import Sequential

FIXTURES = Fixtures('masking')
CASES = FIXTURES.by_name


def make_layer(spec):
    class_name, kwargs = spec
    kwargs = dict(kwargs)
    if class_name == 'TimeDistributed':
        inner = make_layer(kwargs.pop('layer'))
        return TimeDistributed(inner, **kwargs)
    return getattr(layer_module, class_name)(**kwargs)


@pytest.mark.parametrize('name', [c['name'] for c in FIXTURES.cases if c['kind'] == 'layer'])
def test_time_distributed_layer(name):
    case, a = CASES[name], FIXTURES.arrays(name)
    inner = getattr(layer_module, case['minikeras']['class'])(**case['minikeras']['kwargs'])
    layer = TimeDistributed(inner)
    layer.connect((None,) + a['x'].shape[1:])
    layer.set_weights([a['w_%d' % i] for i in range(case['weights'])])
    for g in layer.gradients:
        g.fill(0.)
    y, backprop = layer.forward(a['x'], training=True)
    np.testing.assert_allclose(y, a['y'], rtol=1e-5, atol=1e-5)
    dx = backprop(a['dy'])
    np.testing.assert_allclose(dx, a['dx'], rtol=1e-4, atol=1e-4)
    for i, g in enumerate(layer.gradients):
        np.testing.assert_allclose(g, a['grad_%d' % i], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('name',
                         [c['name'] for c in FIXTURES.cases if c['kind'] == 'masked_loss'])
def test_masked_loss_and_its_gradient(name):
    from minikeras.optimizers import SGD
    case, a = CASES[name], FIXTURES.arrays(name)
    model = Sequential([make_layer(spec) for spec in case['minikeras']])
    lr = 0.1
    model.compile(loss=case['loss'], optimizer=SGD(lr=lr),
                  sample_weight_mode='temporal' if case['sample_weight'] else None)
    start = [a['w_%d' % i] for i in range(case['weights'])]
    model.set_weights(start)
    sample_weight = a.get('sample_weight')
    np.testing.assert_allclose(model.predict(a['x']), a['y_pred'], rtol=1e-5, atol=1e-5)
    loss = model.test_on_batch(a['x'], a['y_true'], sample_weight=sample_weight)
    np.testing.assert_allclose(loss, a['loss'], rtol=1e-5)
    # One plain SGD step moves each weight by -lr * Keras 3's gradient.
    model.train_on_batch(a['x'], a['y_true'], sample_weight=sample_weight)
    for i, (old, new) in enumerate(zip(start, model.get_weights())):
        np.testing.assert_allclose((old - new) / lr, a['grad_%d' % i], rtol=1e-4, atol=1e-5,
                                   err_msg='weight %d' % i)
