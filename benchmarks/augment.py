"""Augmenting an epoch against training on it.

Times `ImageDataGenerator` (the seed script's settings: featurewise centre and
std normalisation, rotation 20, shifts 0.2, horizontal flips) producing every
batch of one epoch of 42,000 1x28x28 images through `flow()`, next to one
training epoch of the seed model on the same data (warm, best of repeats).
Target: augmenting costs less than training.

    python3 benchmarks/augment.py [--samples 42000] [--repeat 3] [--write-results]
"""
import argparse
import time

import numpy as np

import _common
from minikeras.preprocessing.image import ImageDataGenerator


def augment_epoch(generator, x, y, batch_size):
    flow = generator.flow(x, y, batch_size=batch_size, shuffle=True, seed=0)
    seen = 0
    while seen < len(x):
        batch_x, _ = next(flow)
        seen += len(batch_x)
    return seen


def best_of(repeat, function):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--samples', type=int, default=42000)
    parser.add_argument('--batch-size', type=int, default=100)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--write-results', action='store_true')
    options = parser.parse_args(argv)

    rng = np.random.RandomState(0)
    x = rng.uniform(0, 1, (options.samples, 1, 28, 28)).astype('float32')
    y = np.eye(10, dtype='float32')[rng.randint(0, 10, options.samples)]
    generator = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True,
                                   rotation_range=20, width_shift_range=0.2,
                                   height_shift_range=0.2, horizontal_flip=True,
                                   dim_ordering='th')
    start = time.perf_counter()
    generator.fit(x)
    fit_s = time.perf_counter() - start
    augment_epoch(generator, x[:1000], y[:1000], options.batch_size)  # compile / load kernels
    augment_s = best_of(options.repeat,
                        lambda: augment_epoch(generator, x, y, options.batch_size))

    model = _common.minikeras_seed_model()
    model.fit(x[:1000], y[:1000], batch_size=options.batch_size, nb_epoch=1, verbose=0)
    train_s = best_of(options.repeat, lambda: model.fit(
        x, y, batch_size=options.batch_size, nb_epoch=1, verbose=0))

    rows = [['ImageDataGenerator.fit (featurewise statistics)', fit_s],
            ['augment one epoch through flow()', augment_s],
            ['train one epoch (seed model, no validation)', train_s]]
    ratio = augment_s / train_s
    body = '\n'.join(
        ['## Augmentation against training (augment.py)', ''] +
        _common.describe_machine(_common.machine_info()) +
        ['- command: `%s`' % _common.command_line(),
         '- %d images of 1x28x28, batch %d, best of %d; rotation 20, shifts 0.2, horizontal '
         'flip, featurewise centre and std normalisation'
         % (options.samples, options.batch_size, options.repeat), '',
         _common.md_table(['step', 'seconds'], rows), '',
         'Augmenting an epoch costs %.2fx a training epoch (target: below 1): %s.'
         % (ratio, 'met' if ratio < 1 else 'not met')])
    print(body)
    if options.write_results:
        _common.write_section('augment.py', body)


if __name__ == '__main__':
    main()
