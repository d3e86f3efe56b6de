"""Where minikeras' VGG16 input-gradient step goes, against its Winograd floor.

    python3 benchmarks/vgg16_breakdown.py [--steps 10]

Runs the suite's vgg16_input_gradient step (suite_models) and times, inside
it, every convolution kernel call and every Dense product, grouped by
operation (forward pass or input gradient) and shape; whatever the step
spends outside them (activations, pooling, the loss, the graph) is one
line. Beside each group: the Winograd floor of the same operations
(as sgemm_floor.fewest_seconds: their products alone, each at its fastest
way), once with the operands hot, as the suite's "Winograd floor" times
them, and once with the weights cold (sgemm_floor.weights_cold), as the
step finds them. Then the step's time beyond that second floor, which is
what the transforms, the im2col copies and the rest of each group cost.
The step is the median of --steps (after 3 warm-up steps); each group's
time is its mean over those steps.
"""
import argparse
import collections
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sgemm_floor  # noqa: E402
import suite_models  # noqa: E402


def _floor_ms(model, keras, before=None):
    """{(operation, C, F, plane) or ('dense ...', K, N): floor ms} of VGG16's
    forward passes and input gradients, summed over the layers of a shape;
    `before` as in sgemm_floor.floor_seconds."""
    spec = suite_models.MODELS['vgg16_input_gradient']
    ops = sgemm_floor.winograd_ops(spec, keras)
    weighted = [layer for layer, _ in model._leaf_layers() if layer.get_weights()]
    if len(ops) != 2 * len(weighted):
        raise RuntimeError('expected a forward pass and an input gradient per layer, got '
                           '%d operations for %d layers' % (len(ops), len(weighted)))
    fastest = sgemm_floor.fastest_ways(ops, 3, before)
    floors = collections.Counter()
    for k, layer in enumerate(weighted):
        for (calls, ms, _, _), operation in zip(fastest[2 * k:2 * k + 2],
                                                ('forward', 'input gradient')):
            floors[_layer_key(layer, operation)] += calls * ms
    return floors


def _layer_key(layer, operation):
    w = layer.get_weights()[0]
    if w.ndim == 2:
        return ('dense ' + operation,) + w.shape
    plane = (layer.output_shape if operation == 'forward' else layer.input_shape)[2]
    return (operation, w.shape[1], w.shape[0], plane)


def _timed(module, name, key_of, spent):
    function = getattr(module, name)

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[key_of(*args)] += time.perf_counter() - start
    setattr(module, name, timed)


def _dense_key(a, b, out=None):
    if b.flags.c_contiguous:
        return ('dense forward',) + b.shape
    return ('dense input gradient',) + b.shape[::-1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=10)
    args = parser.parse_args(argv)

    import minikeras as keras
    from minikeras.applications import VGG16
    from minikeras.kernels import conv2d, threads

    spent = collections.Counter()
    _timed(conv2d, 'conv2d_forward', lambda x, w, b, out, *rest: (
        'forward', w.shape[1], w.shape[0], out.shape[2]), spent)
    _timed(conv2d, 'conv2d_backward_input', lambda dout, w, dx, *rest: (
        'input gradient', w.shape[1], w.shape[0], dx.shape[2]), spent)
    # the layers call these through their modules' attributes
    _timed(threads, 'matmul', _dense_key, spent)

    step = suite_models.vgg16_gradient_minikeras(keras, (3, 224, 224))
    x = np.random.RandomState(0).rand(1, 3, 224, 224).astype(np.float32)
    for _ in range(3):
        step(x)
    spent.clear()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step(x)
        times.append(time.perf_counter() - start)
    step_ms = np.median(times) * 1e3

    model = VGG16(weights=None, include_top=True,
                  input_tensor=keras.layers.Input(shape=(3, 224, 224)))
    hot = _floor_ms(model, keras)
    cold = _floor_ms(model, keras, before=sgemm_floor.weights_cold())
    print('| operation | in, out | plane | in the step ms | floor ms, hot | floor ms, b cold '
          '| step - that floor ms |')
    print('| --- | --- | ---: | ---: | ---: | ---: | ---: |')
    sums = np.zeros(3)
    for key in sorted(spent, key=lambda k: (k[0].startswith('dense'), k[0], -k[-1], k[1:])):
        ms = spent[key] / args.steps * 1e3
        row = np.array([ms, hot.get(key, np.nan), cold.get(key, np.nan)])
        sums += row
        shape = '%d, %d | %s' % (key[1], key[2], '' if len(key) == 3 else key[3])
        print('| %s | %s | %.2f | %.2f | %.2f | %.2f |' % ((key[0], shape) + tuple(row)
                                                         + (row[0] - row[2],)))
    rest = step_ms - sums[0]
    print('| everything else | | | %.2f | 0 | 0 | %.2f |' % (rest, rest))
    print('| **step** (median of %d) | | | %.1f | %.1f | %.1f | %.1f |' % (
        args.steps, step_ms, sums[1], sums[2], step_ms - sums[2]))

if __name__ == '__main__':
    main()
