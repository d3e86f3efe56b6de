"""One evaluation of Keras 1.2.2's neural_style_transfer: loss and gradient.

The script's graph, on VGG16 with random He-scaled weights (Keras's file is
not needed): the base and style images as Keras variables and the
combination image as a placeholder, concatenated into a batch of three;
content loss at block4_conv2, style losses (Gram matrices) at block1-5_conv1,
total variation, and `K.gradients(loss, combination_image)` in one
`K.function`, as `fmin_l_bfgs_b` calls it about 20 times per iteration.

Two ways of evaluating it alternate in one process, so that both see the
same load: `whole batch` (every layer's backward pass on the three rows, and
every forward pass recomputed, as before `engine/batch_rows.py`) and `rows`
(the backward pass on the combination image's row only, the constant rows'
outputs kept between calls). The first call of each is a warm-up. It prints
the median CPU time (`resource.getrusage`, all threads) and wall time per
call, and the largest difference between the two gradients.

    python3 benchmarks/style_transfer_rows.py [--size 400] [--repeat 3]
"""
import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import machine_info  # noqa: E402


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def style_transfer_function(size, seed=0):
    import numpy as np
    from minikeras import backend as K
    from minikeras.applications import vgg16
    rng = np.random.RandomState(seed)
    base = K.variable(rng.uniform(-120, 150, (1, 3, size, size)))
    style = K.variable(rng.uniform(-120, 150, (1, 3, size, size)))
    combination = K.placeholder((1, 3, size, size))
    model = vgg16.VGG16(input_tensor=K.concatenate([base, style, combination], axis=0),
                        weights=None, include_top=False)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            fan_in = np.prod(weights[0].shape[1:])
            layer.set_weights([rng.randn(*weights[0].shape) * np.sqrt(2. / fan_in),
                               np.zeros_like(weights[1])])
    features = dict((layer.name, layer.output) for layer in model.layers)

    def gram(x):
        flat = K.batch_flatten(x)
        return K.dot(flat, K.transpose(flat))

    loss = K.variable(0.)
    block4 = features['block4_conv2']
    loss += 0.025 * K.sum(K.square(block4[2, :, :, :] - block4[0, :, :, :]))
    for name in ('block1_conv1', 'block2_conv1', 'block3_conv1', 'block4_conv1',
                 'block5_conv1'):
        f = features[name]
        loss += 0.2 * K.sum(K.square(gram(f[1, :, :, :]) - gram(f[2, :, :, :]))) / (
            4. * 9 * (size * size) ** 2)
    x = combination
    a = K.square(x[:, :, :size - 1, :size - 1] - x[:, :, 1:, :size - 1])
    b = K.square(x[:, :, :size - 1, :size - 1] - x[:, :, :size - 1, 1:])
    loss += K.sum(K.pow(a + b, 1.25))
    function = K.function([combination], [loss, K.gradients(loss, combination)])
    return function, rng.uniform(-120, 150, (1, 3, size, size)).astype('float32')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', type=int, default=400)
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()
    import numpy as np
    from minikeras.engine import batch_rows
    function, x = style_transfer_function(args.size)
    modes = {'rows': (batch_rows.independent_rows, batch_rows.output_rows),
             'whole batch': (lambda *a: False, lambda *a: None)}
    times = {name: [] for name in modes}
    results = {}
    for i in range(args.repeat + 1):
        for name in (('whole batch', 'rows') if i % 2 == 0 else ('rows', 'whole batch')):
            batch_rows.independent_rows, batch_rows.output_rows = modes[name]
            wall, cpu = time.time(), cpu_seconds()
            results[name] = function([x])
            if i > 0:
                times[name].append((cpu_seconds() - cpu, time.time() - wall))
    batch_rows.independent_rows, batch_rows.output_rows = modes['rows']
    info = machine_info(with_libs=False)
    cpu = info['cpu']
    print('# neural_style_transfer (Keras 1.2.2), a batch of 3x3x%dx%d, %s (%s cores), %s'
          % (args.size, args.size, cpu.get('model'), cpu.get('cores'), info['date']))
    print('| evaluation | CPU s per call (median of %d) | wall s per call |' % args.repeat)
    print('|---|---|---|')
    for name, runs in times.items():
        print('| %s | %.2f | %.2f |' % (name, np.median([c for c, _ in runs]),
                                       np.median([w for _, w in runs])))
    whole, rows = results['whole batch'][1], results['rows'][1]
    print('largest gradient difference, relative to the largest entry: %.1e'
          % (np.abs(whole - rows).max() / np.abs(whole).max()))


if __name__ == '__main__':
    main()
