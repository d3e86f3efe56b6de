"""Damages files that minikeras writes and counts how loading them ends.

Run by tests/test_file_integrity.py in a child process (a crash or a hang in
the HDF5 library must not take pytest down with it):

    python tests/corrupt_files.py FOLDER VARIANTS SEED

For each kind of file (weights, model, Keras 3 export, JSON and YAML
configs) it writes a good file, then VARIANTS damaged copies (truncated at a
random length, random bits flipped, a random block zeroed), loads each, and
prints one JSON line per kind: how many loaded, how many failed with a clean
error (OSError, ValueError or TypeError whose message names the file or the
config), and the repr of anything else. A load that fails must leave the
target model's weights as they were; a change is reported as `changed`.
"""
import json
import os
import sys
import warnings

import numpy as np

from minikeras.engine import saving
from minikeras.engine.keras3_export import export_to_keras3
from minikeras.layers import Convolution2D, Dense, Flatten, MaxPooling2D
from minikeras.models import Sequential

CLEAN_ERRORS = (OSError, ValueError, TypeError)


def small_cnn():
    model = Sequential([Convolution2D(3, 3, 3, input_shape=(1, 8, 8), activation='relu',
                                      name='conv'),
                        MaxPooling2D((2, 2), name='pool'), Flatten(name='flat'),
                        Dense(4, activation='softmax', name='out')])
    model.compile(loss='categorical_crossentropy', optimizer='adam')
    x = np.random.RandomState(0).standard_normal((8, 1, 8, 8)).astype('float32')
    model.train_on_batch(x, np.eye(4)[np.arange(8) % 4])
    return model


def damage(content, rng):
    """One damaged copy of `content` (bytes) and what was done."""
    kind = rng.randint(3)
    data = bytearray(content)
    if kind == 0:
        keep = rng.randint(0, len(data))
        return bytes(data[:keep]), 'truncated to %d' % keep
    if kind == 1:
        flips = rng.randint(1, 9)
        for _ in range(flips):
            position = rng.randint(len(data))
            data[position] ^= 1 << rng.randint(8)
        return bytes(data), '%d bits flipped' % flips
    start = rng.randint(len(data))
    size = rng.randint(1, 513)
    data[start:start + size] = bytes(len(data[start:start + size]))
    return bytes(data), '%d bytes zeroed at %d' % (size, start)


def snapshot(model):
    return [w.copy() for w in model.get_weights()]


def same(before, model):
    return all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def run(folder, variants, seed):
    rng = np.random.RandomState(seed)
    source = small_cnn()
    paths = {'weights': os.path.join(folder, 'weights.h5'),
             'model': os.path.join(folder, 'model.h5'),
             'keras3': os.path.join(folder, 'keras3.h5'),
             'json': os.path.join(folder, 'model.json'),
             'yaml': os.path.join(folder, 'model.yaml')}
    saving.save_weights(source, paths['weights'])
    saving.save_model(source, paths['model'])
    export_to_keras3(source, paths['keras3'])
    with open(paths['json'], 'w') as f:
        f.write(source.to_json())
    with open(paths['yaml'], 'w') as f:
        f.write(source.to_yaml())

    target = small_cnn()

    def load(kind, path):
        if kind in ('weights', 'keras3'):
            saving.load_weights(target, path)
        elif kind == 'model':
            saving.load_model(path)
        elif kind == 'json':
            with open(path, encoding='utf8', errors='replace') as f:
                saving.model_from_json(f.read())
        else:
            with open(path, encoding='utf8', errors='replace') as f:
                saving.model_from_yaml(f.read())

    damaged_path = os.path.join(folder, 'damaged')
    for kind, path in sorted(paths.items()):
        with open(path, 'rb') as f:
            content = f.read()
        counts = {'kind': kind, 'variants': variants, 'loaded': 0, 'clean_error': 0,
                  'other': [], 'changed': [], 'unnamed': []}
        for index in range(variants):
            data, what = damage(content, rng)
            with open(damaged_path, 'wb') as f:
                f.write(data)
            before = snapshot(target)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')
                    load(kind, damaged_path)
            except CLEAN_ERRORS as error:
                counts['clean_error'] += 1
                if not same(before, target):
                    counts['changed'].append(what)
                if kind in ('weights', 'model', 'keras3') and 'damaged' not in str(error):
                    counts['unnamed'].append('%s: %r' % (what, error))
            except Exception as error:  # noqa: BLE001  (what the test reports)
                counts['other'].append('%s: %r' % (what, error))
            else:
                counts['loaded'] += 1
            target.set_weights(before)
        print(json.dumps(counts), flush=True)


if __name__ == '__main__':
    run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
