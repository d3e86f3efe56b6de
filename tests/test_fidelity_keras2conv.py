"""The convolution layers as Keras 2 scripts spell them, against real Keras
3's numbers (tests/fixtures/fidelity/keras2conv.npz, written by
make_keras2conv_fixtures.py): each case's call, run as written, gives
outputs within 1e-5 and gradients within 1e-4."""
import json
import os

import numpy as np
import pytest

from minikeras import backend
from minikeras import layers as layer_module

HERE = os.path.join(os.path.dirname(__file__), 'fixtures', 'fidelity')
with open(os.path.join(HERE, 'keras2conv_manifest.json')) as f:
    MANIFEST = json.load(f)
ARRAYS = np.load(os.path.join(HERE, 'keras2conv.npz'))
CASES = {case['name']: case for case in MANIFEST['cases']}


@pytest.fixture(autouse=True)
def channels_last(monkeypatch):
    monkeypatch.setattr(backend, '_IMAGE_DATA_FORMAT', 'channels_last')


def to_minikeras(layer, index, array):
    """A Keras 3 weight (or gradient) in the layout the minikeras layer holds:
    Keras 1.2.2's kernel of a transposed convolution swaps the last two axes,
    and its 1D kernels have an axis of 1 after the length."""
    if type(layer).__name__ == 'Conv2DTranspose' and array.ndim == 4:
        return array.transpose(0, 1, 3, 2)
    return array.reshape(layer.get_weights()[index].shape)


@pytest.mark.parametrize('name', sorted(CASES))
def test_keras_2_call_matches_keras3(name):
    case = CASES[name]
    a = {key.split('/', 1)[1]: ARRAYS[key] for key in ARRAYS.files
         if key.startswith(name + '/')}
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

