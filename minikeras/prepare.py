"""Compiles minikeras's kernels into Numba's disk cache: the install step.

    python3 -m minikeras.prepare      # once, right after pip install

Numba compiles a kernel on its first call and keeps it in a disk cache; on a
new machine that compilation would otherwise happen inside a script's first
training batch. This step compiles the convolution and pooling kernels
(`minikeras.kernels.prepare`, which `minikeras run` also starts in the
background when the cache is cold), then trains one batch of a few tiny
models through the public API, so that every kernel those layers and
optimizers reach is compiled with the argument types real models give it.
"""
import time

import numpy as np


def _tiny_models():
    """(model, inputs, targets, optimizer names) for each family of layers."""
    from .layers.convolutional import Convolution2D, MaxPooling2D, AveragePooling2D
    from .layers.core import Activation, Dense, Dropout, Flatten
    from .layers.embeddings import Embedding
    from .layers.recurrent import GRU, LSTM, SimpleRNN
    from .models import Sequential

    rng = np.random.RandomState(0)
    families = []
    for ordering, shape in (('th', (1, 12, 12)), ('tf', (12, 12, 1))):
        model = Sequential([
            Convolution2D(4, 5, 5, input_shape=shape, dim_ordering=ordering),
            Activation('tanh'),
            Convolution2D(4, 3, 3, dim_ordering=ordering, activation='relu'),
            MaxPooling2D((2, 2), dim_ordering=ordering),
            AveragePooling2D((1, 1), dim_ordering=ordering),
            Flatten(), Dense(8, activation='sigmoid'), Dense(3), Activation('softmax')])
        families.append((model, rng.rand(4, *shape).astype('float32'),
                         np.eye(3, dtype='float32')[[0, 1, 2, 0]], 'categorical_crossentropy'))
    dense = Sequential([Dense(8, input_dim=6, activation='relu'), Dropout(0.5), Dense(1)])
    families.append((dense, rng.rand(4, 6).astype('float32'), rng.rand(4, 1).astype('float32'),
                     'mse'))
    for layer in (LSTM, GRU, SimpleRNN):
        model = Sequential([Embedding(20, 4, input_length=5, dropout=0.2, mask_zero=True),
                            layer(6, dropout_W=0.2, dropout_U=0.2), Dense(1, activation='sigmoid')])
        families.append((model, rng.randint(0, 20, (4, 5)), rng.randint(0, 2, (4, 1)),
                         'binary_crossentropy'))
        dense_input = Sequential([layer(6, input_shape=(5, 3), return_sequences=True),
                                  layer(6, go_backwards=True), Dense(1)])
        families.append((dense_input, rng.rand(4, 5, 3).astype('float32'),
                         rng.rand(4, 1).astype('float32'), 'mse'))
        one_hot = Sequential([layer(6, input_shape=(5, 3)), Dense(1)])  # characters, say
        families.append((one_hot, np.eye(3, dtype='float32')[rng.randint(0, 3, (4, 5))],
                         rng.rand(4, 1).astype('float32'), 'mse'))
    return families


_OPTIMIZERS = ('sgd', 'rmsprop', 'adagrad', 'adadelta', 'adam', 'adamax', 'nadam')


def compile_all():
    """Compiles the kernels, then one training batch of each tiny model with
    each optimizer (SGD also with Nesterov momentum and clipping)."""
    from .kernels import prepare as kernels_prepare
    from .optimizers import SGD
    kernels_prepare.compile_all()
    for model, x, y, loss in _tiny_models():
        weights = model.get_weights()
        optimizers = list(_OPTIMIZERS) + [SGD(lr=0.01, momentum=0.9, nesterov=True, clipnorm=1.0),
                                          SGD(lr=0.01, momentum=0.9, clipvalue=0.5)]
        for optimizer in optimizers:
            model.set_weights(weights)
            model.compile(loss=loss, optimizer=optimizer, metrics=['accuracy'])
            model.fit(x, y, batch_size=2, nb_epoch=1, verbose=0, validation_split=0.5)
            model.predict(x, verbose=0)


def main():
    started = time.time()
    compile_all()
    print('minikeras: kernels compiled or found in Numba\'s cache in %.1f s'
          % (time.time() - started))


if __name__ == '__main__':
    main()
