"""The rest of the convolution family against real Keras 3's numbers
(tests/fixtures/fidelity/convfamily.npz, written by
make_convfamily_fixtures.py): outputs within 1e-5, gradients within 1e-4, in
the 'tf' ordering the fixtures were made in and in 'th' on the transposed
input, with the weights laid out as Keras 1.2.2's 'th' layers hold them."""
import numpy as np
import pytest

from fidelity_fixtures import Fixtures
from minikeras import layers as layer_module

FIXTURES = Fixtures('convfamily')
CASES = FIXTURES.by_name


def keras1_tf_weight(class_name, array):
    """A Keras 3 weight in the layout of the Keras 1 'tf' layer."""
    if class_name == 'Deconvolution2D' and array.ndim == 4:
        return array.transpose(0, 1, 3, 2)       # Keras 3: (rows, cols, out, in)
    if class_name == 'AtrousConvolution1D' and array.ndim == 3:
        return array[:, None]                    # Keras 1: (length, 1, input_dim, nb_filter)
    return array


def th_weight(array):
    """A Keras 1 'tf' kernel in the layout of the 'th' layer."""
    if array.ndim == 4:
        return array.transpose(3, 2, 0, 1)
    if array.ndim == 5:
        return array.transpose(4, 3, 0, 1, 2)
    return array


def to_th(x):
    """Channels-last images or volumes to channels-first; (samples, channels) as it is."""
    return np.ascontiguousarray(np.moveaxis(x, -1, 1)) if x.ndim >= 4 else x


# Layers with a dim_ordering run in both orderings; the 1D ones have one.
RUNS = [(name, ordering) for name in sorted(CASES)
        for ordering in (('tf', 'th') if 'dim_ordering' in CASES[name]['minikeras'][1]
                         else (None,))]


@pytest.mark.parametrize('name,ordering', RUNS)
def test_layer_matches_keras3(name, ordering):
    case, a = CASES[name], FIXTURES.arrays(name)
    class_name, kwargs = case['minikeras']
    kwargs = dict(kwargs)
    if ordering is not None:
        kwargs['dim_ordering'] = ordering
    x, y, dx, dy = a['x'], a['y'], a['dx'], a['dy']
    weights = [keras1_tf_weight(class_name, a['w_%d' % i]) for i in range(case['weights'])]
    grads = [keras1_tf_weight(class_name, a['grad_%d' % i]) for i in range(case['weights'])]
    if ordering == 'th':
        x, y, dx, dy = to_th(x), to_th(y), to_th(dx), to_th(dy)
        weights = [th_weight(w) for w in weights]
        grads = [th_weight(g) for g in grads]
        if 'output_shape' in kwargs:
            shape = kwargs['output_shape']
            kwargs['output_shape'] = [shape[0], shape[-1]] + list(shape[1:-1])
    layer = getattr(layer_module, class_name)(**kwargs)
    layer.connect((None,) + x.shape[1:])
    layer.set_weights(weights)
    for g in layer.gradients:
        g.fill(0.)
    out, backprop = layer.forward(x, training=True)
    assert layer.output_shape[1:] == y.shape[1:]
    np.testing.assert_allclose(out, y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(backprop(dy), dx, rtol=1e-4, atol=1e-4)
    for i, (g, expected) in enumerate(zip(layer.gradients, grads)):
        np.testing.assert_allclose(g, expected, rtol=1e-4, atol=1e-4, err_msg='weight %d' % i)
