"""benchmarks/sgemm_floor.py counts the matrix products of an epoch as a hand count does."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'benchmarks'))
import sgemm_floor  # noqa: E402
import suite_models  # noqa: E402


def small_cnn(keras, shape):
    from minikeras.layers import Convolution2D, Dense, Flatten, MaxPooling2D
    from minikeras.models import Sequential
    model = Sequential([Convolution2D(4, 3, 3, input_shape=shape), MaxPooling2D((2, 2)),
                        Flatten(), Dense(5)])
    model.compile('sgd', 'mse')
    return model


def test_an_epoch_of_a_convolution_and_a_dense_layer_with_validation():
    import minikeras
    spec = suite_models.Model('small', '', 'fit', (2, 8, 8), 5, samples=25, batch=8, epochs=2,
                              validation_split=0.2, minikeras=small_cnn, keras3=None)
    counts = sgemm_floor.products(spec, minikeras)
    # 20 training samples: batches of 8, 8, 4; 5 held out: one batch of 5.
    # The convolution: 6x6 outputs, 2*3*3 inputs a position, 4 filters; it
    # reads the data, so no input gradient. Dense: 4*3*3 inputs, 5 units.
    expected = {}
    for batch, calls in ((8, 2), (4, 1)):
        for shape in ((batch * 36, 18, 4), (18, batch * 36, 4),
                      (batch, 36, 5), (36, batch, 5), (batch, 5, 36)):
            expected[shape] = expected.get(shape, 0) + calls
    for shape in ((5 * 36, 18, 4), (5, 36, 5)):
        expected[shape] = expected.get(shape, 0) + 1
    assert dict(counts) == expected


def test_the_floor_sums_the_best_time_of_each_product_times_its_calls():
    counts = {(16, 8, 4): 3, (4, 8, 2): 1}
    seconds, gflop, rows = sgemm_floor.floor_seconds(counts, repeat=2)
    assert np.isclose(gflop, (3 * 2 * 16 * 8 * 4 + 2 * 4 * 8 * 2) / 1e9)
    assert [row['calls'] for row in rows] == [1, 3]
    assert np.isclose(seconds, sum(row['calls'] * row['best_ms'] for row in rows) / 1e3,
                      rtol=1e-2, atol=1e-5)
