"""Keras 1.2.2's graph bookkeeping that its own test suite reads: which
layers and tensors depend on the learning phase, and where a model's inputs
and outputs come from (compute_mask on Keras tensors and repeated inputs:
tests/test_losses_updates.py)."""
import pytest

from minikeras.layers import (BatchNormalization, Dense, Dropout, Embedding, GaussianDropout,
                              GaussianNoise, Input, merge)
from minikeras.models import Model


@pytest.mark.parametrize('layer, uses', [
    (Dropout(0.5), True), (Dropout(0.), False), (GaussianNoise(0.1), True),
    (GaussianDropout(0.3), True), (GaussianDropout(0.), False),
    (BatchNormalization(mode=0), True), (BatchNormalization(mode=2), False),
    (Embedding(10, 3, dropout=0.2), True), (Embedding(10, 3), False), (Dense(2), False)])
def test_layers_that_compute_differently_in_training_say_so(layer, uses):
    assert layer.uses_learning_phase is uses


def test_tensors_and_models_inherit_the_flag_from_upstream():
    a, b = Input((4,)), Input((4,))
    a_2 = Dense(3)(a)
    b_2 = Dropout(0.5)(b)
    assert not a_2._uses_learning_phase and b_2._uses_learning_phase
    assert merge([a_2, b_2], mode='concat')._uses_learning_phase
    assert not Dense(2)(a_2)._uses_learning_phase
    model = Model([a, b], [a_2, b_2])
    assert model.uses_learning_phase
    assert not Model(a, a_2).uses_learning_phase
    # a model called as a layer: every output gets the model's flag, as in Keras 1.2.2
    c_2, d_2 = model([Input((4,)), Input((4,))])
    assert c_2._uses_learning_phase and d_2._uses_learning_phase


def test_where_inputs_and_outputs_come_from():
    a, b = Input((4,), name='a'), Input((4,), name='b')
    shared = Dense(3, name='shared')
    merged = merge([shared(a), shared(b)], mode='concat', name='merged')
    out = Dense(2, name='out')(merged)
    model = Model([a, b], [merged, out])
    assert [layer.name for layer in model.input_layers] == ['a', 'b']
    assert model.input_layers_node_indices == [0, 0]
    assert model.input_layers_tensor_indices == [0, 0]
    assert [layer.name for layer in model.output_layers] == ['merged', 'out']
    assert model.output_layers_node_indices == [0, 0]
    assert model.output_layers_tensor_indices == [0, 0]
    assert model.input_spec == [None, None]
    # outputs of the shared layer's second call have node index 1
    second = Model(b, shared.get_output_at(1))
    assert second.output_layers_node_indices == [1]
