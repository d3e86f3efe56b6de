"""Output shapes of graph expressions computed by rule (`operation._SHAPE_RULES`)
instead of by running the operation on zeros: each rule against the probe it
replaces, and against the shapes the values have when the graph runs."""
import numpy as np
import pytest

from minikeras import backend as K
from minikeras.engine import operation
from minikeras.layers import Convolution2D, Input


def _probed(monkeypatch, build):
    """The output tensor of `build()` with the rules switched off."""
    monkeypatch.setattr(operation, '_SHAPE_RULES', {})
    return build()


CASES = [
    ('getitem', (3, 4, 5, 6), lambda x: x[2, :, :, :]),
    ('getitem', (3, 4, 5, 6), lambda x: x[-1]),
    ('getitem', (3, 4, 5, 6), lambda x: x[:, 1:3, ::2, 4]),
    ('getitem', (None, 4, 5), lambda x: x[1:, ..., None]),
    ('getitem', (None, 4, 5), lambda x: x[:, np.array([0, 2, 3])]),
    ('K.dot', (4, 20), lambda x: K.dot(x, K.transpose(x))),
    ('K.dot', (None, 3, 5), lambda x: K.dot(x, K.variable(np.ones((5, 2))))),
    ('K.dot', (2, 3, 5), lambda x: K.dot(x, K.variable(np.ones((4, 5, 2))))),
    ('K.transpose', (None, 3, 5), lambda x: K.transpose(x)),
    ('K.batch_flatten', (None, 3, 4, 5), lambda x: K.batch_flatten(x)),
    ('K.batch_flatten', (64, 10, 10), lambda x: K.batch_flatten(x)),
]


@pytest.mark.parametrize('name, shape, make', CASES)
def test_rule_gives_the_probed_shape_and_the_run_shape(monkeypatch, name, shape, make):
    x = K.placeholder(shape)
    by_rule = make(x)
    assert operation._shape_by_rule(by_rule.node.outbound_layer) is not None
    with monkeypatch.context() as m:
        probed = _probed(m, lambda: make(K.placeholder(shape)))
    assert tuple(by_rule.shape) == tuple(probed.shape)
    assert by_rule.dtype == probed.dtype
    batch = 3 if shape[0] is None else shape[0]
    value = np.random.RandomState(0).uniform(-1, 1, (batch,) + shape[1:]).astype('float32')
    result = K.function([x], [by_rule])([value])[0]
    assert all(d is None or d == n for d, n in zip(by_rule.shape, result.shape))
    assert len(by_rule.shape) == result.ndim and result.dtype.name == by_rule.dtype


def test_a_style_transfer_loss_on_layer_outputs():
    """Keras 0.3's neural_style_transfer: Gram matrices of rows of a
    convolution's output whose batch size is unknown."""
    image = Input(shape=(3, 12, 12))
    features = Convolution2D(8, 3, 3, border_mode='same')(image)
    row = features[1, :, :, :]
    flat = K.batch_flatten(row)
    gram = K.dot(flat, K.transpose(flat))
    assert tuple(features.shape) == (None, 8, 12, 12)
    assert tuple(row.shape) == (8, 12, 12)
    assert tuple(flat.shape) == (8, 144)
    assert tuple(gram.shape) == (8, 8)
    value = np.random.RandomState(1).uniform(size=(2, 3, 12, 12)).astype('float32')
    f = K.function([image], [features, gram])
    out, g = f([value])
    flat_value = out[1].reshape(8, 144)
    np.testing.assert_allclose(g, flat_value.dot(flat_value.T), rtol=1e-5)


def test_an_index_out_of_range_is_still_an_error():
    x = K.placeholder((3, 4))
    with pytest.raises(ValueError, match='getitem'):
        x[5]


def test_mismatched_dot_falls_back_to_the_probe_and_its_error():
    x = K.placeholder((3, 4))
    with pytest.raises(ValueError, match='K.dot'):
        K.dot(x, K.placeholder((5, 2)))
