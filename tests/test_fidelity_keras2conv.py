"""The convolution layers as Keras 2 scripts spell them, against real Keras
3's numbers (tests/fixtures/fidelity/keras2conv.npz, written by
make_keras2conv_fixtures.py, and keras2c.npz, by make_keras2c_fixtures.py,
for SeparableConv1D and Conv3DTranspose): each case's call, run as written,
gives outputs within 1e-5 and gradients within 1e-4."""
import numpy as np
import pytest

from minikeras import backend
from minikeras import layers as layer_module

from fidelity_fixtures import Fixtures

FIXTURE_SETS = [Fixtures('keras2conv'), Fixtures('keras2c')]
CASES = {case['name']: (fixtures, case) for fixtures in FIXTURE_SETS
         for case in fixtures.cases}


@pytest.fixture(autouse=True)
def channels_last(monkeypatch):
    monkeypatch.setattr(backend, '_IMAGE_DATA_FORMAT', 'channels_last')


def to_minikeras(layer, index, array):
    """A Keras 3 weight (or gradient) in the layout the minikeras layer holds:
    Keras 1.2.2's kernel of a transposed convolution swaps the last two axes,
    and its 1D kernels have an axis of 1 after the length (SeparableConv1D's
    and Conv3DTranspose's are Keras 2.2.4's, Keras 3's too)."""
    if type(layer).__name__ == 'Conv2DTranspose' and array.ndim == 4:
        return array.transpose(0, 1, 3, 2)
    return array.reshape(layer.get_weights()[index].shape)


@pytest.mark.parametrize('name', sorted(CASES))
def test_keras_2_call_matches_keras3(name):
    fixtures, case = CASES[name]
    a = fixtures.arrays(case)
    layer = eval(case['call'], {}, vars(layer_module))
    assert layer.keras_2_call
    layer.connect((None,) + tuple(case['input_shape']))
    weights = [to_minikeras(layer, i, a['w_%d' % i]) for i in range(case['weights'])]
    grads = [to_minikeras(layer, i, a['grad_%d' % i]) for i in range(case['weights'])]
    layer.set_weights(weights)
    for g in layer.gradients:
        g.fill(0.)
    out, backprop = layer.forward(a['x'], training=True)
    assert layer.output_shape[1:] == a['y'].shape[1:]
    np.testing.assert_allclose(out, a['y'], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(backprop(a['dy']), a['dx'], rtol=1e-4, atol=1e-4)
    for i, (g, expected) in enumerate(zip(layer.gradients, grads)):
        np.testing.assert_allclose(g, expected, rtol=1e-4, atol=1e-4, err_msg='weight %d' % i)

