"""Shows what ImageDataGenerator does to the bundled MNIST digits.

Writes a PNG grid: the first column holds original digits, the other columns
random augmentations of them (the seed script's settings: rotation 20
degrees, shifts of 20%, horizontal flips).

    python3 scripts/augment_grid.py [OUT.png] [--rows 8] [--columns 8] [--seed 0]

Needs Pillow (`pip install pillow`); reads the digits like `data.load_data`.
"""
import argparse
import sys

import numpy as np

from minikeras.datasets import mnist_sources
from minikeras.preprocessing.image import ImageDataGenerator


def augmented_grid(digits, rows, columns, generator):
    """Returns a (rows * 28, columns * 28) uint8 image: originals on the left."""
    cells = np.zeros((rows, columns, 28, 28), dtype='float32')
    for row in range(rows):
        original = digits[row][None].astype('float32') / 255.
        cells[row, 0] = original[0]
        for column in range(1, columns):
            cells[row, column] = generator.random_transform(original)[0]
    grid = cells.transpose(0, 2, 1, 3).reshape(rows * 28, columns * 28)
    return (np.clip(grid, 0, 1) * 255).astype('uint8')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out', nargs='?', default='augmented_digits.png')
    parser.add_argument('--rows', type=int, default=8)
    parser.add_argument('--columns', type=int, default=8)
    parser.add_argument('--seed', type=int, default=0)
    options = parser.parse_args(argv)
    try:
        from PIL import Image
    except ImportError:
        sys.exit('augment_grid.py needs Pillow: pip install pillow')
    np.random.seed(options.seed)
    digits = mnist_sources.find_source().read()
    # One example per class first, so the grid shows every digit.
    order = [int(np.flatnonzero(digits.y_train == label)[0]) for label in range(10)]
    chosen = digits.x_train[(order * options.rows)[:options.rows]]
    generator = ImageDataGenerator(rotation_range=20, width_shift_range=0.2,
                                   height_shift_range=0.2, horizontal_flip=True,
                                   dim_ordering='th')
    grid = augmented_grid(chosen, options.rows, options.columns, generator)
    Image.fromarray(grid, mode='L').resize((grid.shape[1] * 3, grid.shape[0] * 3),
                                           Image.NEAREST).save(options.out)
    print('wrote %s: %d digits, each followed by %d augmentations'
          % (options.out, options.rows, options.columns - 1))


if __name__ == '__main__':
    main()
