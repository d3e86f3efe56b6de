"""benchmarks/sgemm_floor.py counts the matrix products of an epoch as a hand count does."""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'benchmarks'))
import sgemm_floor  # noqa: E402
import suite_models  # noqa: E402


def compiled(*layers):
    from minikeras.models import Sequential
    model = Sequential(list(layers))
    model.compile('sgd', 'mse')
    return model


def small_cnn(keras, shape):
    from minikeras.layers import Convolution2D, Dense, Flatten, MaxPooling2D
    return compiled(Convolution2D(4, 3, 3, input_shape=shape), MaxPooling2D((2, 2)), Flatten(),
                    Dense(5))


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


def test_before_is_given_each_timed_products_operands_and_is_not_timed():
    seen = []

    def before(a, b, out):
        seen.append((a.shape, b.shape, out.shape))
        time.sleep(0.05)
    seconds, _, rows = sgemm_floor.floor_seconds({(16, 8, 4): 2}, repeat=2, before=before)
    # three ways (1 thread, the kernel threads, rows in halves), 2 timed calls each
    assert seen == [((16, 8), (8, 4), (16, 4))] * 6
    assert seconds < 0.05


def test_the_breakdown_files_a_dense_layers_products_under_its_own_operations():
    import vgg16_breakdown
    from minikeras.layers import Dense
    from minikeras.models import Sequential
    layer = Dense(3, input_dim=5)
    Sequential([layer])
    x, dz = np.ones((1, 5), np.float32), np.ones((1, 3), np.float32)
    assert vgg16_breakdown._dense_key(x, layer.W) == vgg16_breakdown._layer_key(layer, 'forward')
    assert vgg16_breakdown._dense_key(dz, layer.W.T) == \
        vgg16_breakdown._layer_key(layer, 'input gradient')


def two_convolutions(keras, shape):
    from minikeras.layers import Convolution2D, Flatten
    return compiled(Convolution2D(4, 3, 3, border_mode='same', input_shape=shape),
                    Convolution2D(6, 3, 3, subsample=(2, 2)), Flatten())


def test_winograd_ways_count_the_tiles_of_3x3_stride_1_convolutions_only():
    import minikeras
    spec = suite_models.Model('small', '', 'fit', (2, 9, 9), 5, samples=8, batch=8, epochs=2,
                              validation_split=0.0, minikeras=two_convolutions, keras3=None)
    ops = sgemm_floor.winograd_ops(spec, minikeras)
    ways = [[label for label, _ in alternatives] for _, alternatives in ops]
    # first layer: forward and weight gradient (it reads the data); second
    # (stride 2): forward, weight and input gradient, im2col only
    assert ways == [['im2col', 'F(2x2, 3x3)'], ['im2col', 'F(2x2, 3x3)', 'F(4x4, 3x3)'],
                    ['im2col'], ['im2col'], ['im2col']]
    # 9x9 'same' planes: 5x5 tiles of 2x2 outputs, 3x3 tiles of 4x4, 8 samples
    forward, weights = dict(ops[0][1][1][1]), [dict(c) for _, c in ops[1][1][1:]]
    assert forward == {(8 * 25, 2, 4): 16}
    assert weights == [{(2, 8 * 25, 4): 16}, {(2, 8 * 9, 4): 36}]
    assert dict(ops[0][1][0][1]) == {(8 * 81, 18, 4): 1}
    # the im2col ways are the sgemm floor's products
    counted = {}
    for calls, alternatives in ops:
        for shape, n in alternatives[0][1].items():
            counted[shape] = counted.get(shape, 0) + calls * n
    assert counted == dict(sgemm_floor.products(spec, minikeras))


def test_the_winograd_floor_takes_each_operations_fastest_way(monkeypatch):
    times = {(64, 9, 8): 5.0, (16, 1, 8): 0.2, (4, 1, 8): 0.1, (7, 7, 7): 1.0}

    hooks = []

    def fake_floor(counts, repeat, before=None):
        assert set(counts) == set(times)
        hooks.append(before)
        return None, None, [{'shape': list(s), 'calls': 1, 'best_ms': times[s]} for s in counts]
    monkeypatch.setattr(sgemm_floor, 'floor_seconds', fake_floor)
    ops = [(3, [('im2col', {(64, 9, 8): 1}), ('F(2x2, 3x3)', {(16, 1, 8): 16}),
                ('F(4x4, 3x3)', {(4, 1, 8): 36})]),
           (2, [('im2col', {(7, 7, 7): 1})])]
    seconds, gflop, taken = sgemm_floor.fewest_seconds(ops)
    # 16 x 0.2 = 3.2 ms beats 5.0 ms and 36 x 0.1 = 3.6 ms
    assert np.isclose(seconds, (3 * 3.2 + 2 * 1.0) / 1e3)
    assert taken == {'F(2x2, 3x3)': 3, 'im2col': 2}
    assert np.isclose(gflop, (3 * 16 * 2 * 16 * 8 + 2 * 2 * 343) / 1e9)
    hook = object()
    sgemm_floor.fewest_seconds(ops, 1, hook)
    assert hooks == [None, hook]


def test_weights_cold_floods_twice_the_largest_cache_and_zeroes_the_output(monkeypatch, tmp_path):
    for index, size in enumerate(('48K', '2048K', '480M')):
        (tmp_path / ('index%d' % index)).mkdir()
        (tmp_path / ('index%d' % index) / 'size').write_text(size + '\n')
    monkeypatch.setattr(sgemm_floor.glob, 'glob',
                        lambda pattern: sorted(str(p) for p in tmp_path.glob('index*/size')))
    assert sgemm_floor._last_cache_bytes() == 480 << 20
    monkeypatch.setattr(sgemm_floor, '_last_cache_bytes', lambda: 4096)
    flooded = []
    monkeypatch.setattr(sgemm_floor.np, 'zeros',
                        lambda n, dtype: flooded.append(n) or np.empty(n, dtype))
    before = sgemm_floor.weights_cold()
    assert flooded == [2 * 4096 // 4]
    a, b, out = np.ones((3, 2), np.float32), np.ones((2, 4), np.float32), np.ones((3, 4))
    before(a, b, out)
    assert not out.any()
