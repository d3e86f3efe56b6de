"""Weight files of random numbers in Keras 2.2.4's `save_weights` layout,
written with h5py alone (no Keras), for the applications' tests and their
fixture script.

A layout is a list of `(layer name, [(weight name, shape), ...])` in the
model's layer order (layers without weights included, as Keras 2 wrote
them). The file has Keras 2's attributes (`layer_names`, `keras_version`,
`backend`; each layer group's `weight_names`) and its dataset paths
('conv2d_1/kernel:0' inside group 'conv2d_1').
"""
import json

import h5py
import numpy as np


def read_layout(path):
    with open(path) as f:
        return [(name, [(w, tuple(shape)) for w, shape in weights])
                for name, weights in json.load(f)['layers']]


def random_value(rng, weight, shape):
    """He-normal kernels, small shifts and means, variances in [0.5, 1.5]."""
    if weight == 'kernel':
        fan_in = int(np.prod(shape[:-1]))
        return rng.normal(0, np.sqrt(2. / fan_in), shape)
    if weight == 'moving_variance':
        return rng.uniform(.5, 1.5, shape)
    if weight == 'gamma':
        return rng.uniform(.8, 1.2, shape)
    return rng.normal(0, .1, shape)


def write_random_weights(path, layout, seed=0, keras_version='2.2.4'):
    rng = np.random.RandomState(seed)
    with h5py.File(path, 'w') as f:
        f.attrs['layer_names'] = [name.encode('utf8') for name, _ in layout]
        f.attrs['backend'] = b'tensorflow'
        f.attrs['keras_version'] = keras_version.encode('utf8')
        for name, weights in layout:
            group = f.create_group(name)
            paths = []
            for weight, shape in weights:
                full = '%s/%s:0' % (name, weight)
                group.create_dataset(full, data=random_value(rng, weight, shape)
                                     .astype('float32'))
                paths.append(full.encode('utf8'))
            group.attrs['weight_names'] = paths
