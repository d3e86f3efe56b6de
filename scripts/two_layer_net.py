"""The seed page's from-scratch two-layer network, written with minikeras.

The blog builds a network by hand: inputs x (4 samples of 3 features),
targets y = [0, 1, 1, 0], a hidden layer of 4 sigmoid units, a sigmoid
output, no biases, weights drawn uniformly from [0, 1), the sum-of-squares
loss, and full-batch gradient descent with the plain gradient (learning rate
1) for 1500 iterations. The same network in Keras 1 terms:

    python3 scripts/two_layer_net.py

Keras averages the loss over the batch, so SGD's learning rate is the batch
size (4) to take exactly the blog's steps on the summed loss.
"""
from __future__ import print_function

import numpy as np

from minikeras import backend as K
from minikeras.callbacks import Callback
from minikeras.layers import Dense
from minikeras.models import Sequential
from minikeras.optimizers import SGD

x = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype='float32')
y = np.array([[0], [1], [1], [0]], dtype='float32')


def sum_of_squares(y_true, y_pred):
    """The blog's loss, per sample; a plain Python function of backend ops."""
    return K.sum(K.square(y_true - y_pred), axis=-1)


def uniform_0_1(shape, name=None, dim_ordering='th'):
    """np.random.rand, as the blog initialises its weights."""
    return np.random.rand(*shape)


class PrintLoss(Callback):
    """Prints the summed loss over the 4 samples every 100 iterations."""

    def __init__(self, every=100):
        super(PrintLoss, self).__init__()
        self.every = every
        self.losses = []

    def on_epoch_end(self, epoch, logs=None):
        total = logs['loss'] * len(x)
        self.losses.append(total)
        if (epoch + 1) % self.every == 0:
            print('iteration %4d  loss %.6f' % (epoch + 1, total))


def main(iterations=1500, seed=1):
    np.random.seed(seed)
    model = Sequential()
    model.add(Dense(4, input_dim=3, activation='sigmoid', init=uniform_0_1, bias=False))
    model.add(Dense(1, activation='sigmoid', init=uniform_0_1, bias=False))
    model.compile(loss=sum_of_squares, optimizer=SGD(lr=float(len(x))))
    printer = PrintLoss()
    model.fit(x, y, batch_size=len(x), nb_epoch=iterations, shuffle=False, verbose=0,
              callbacks=[printer])
    predictions = model.predict(x)
    print('predictions:', ' '.join('%.4f' % p for p in predictions.ravel()))
    print('targets:    ', ' '.join('%.4f' % t for t in y.ravel()))
    return printer.losses, predictions


if __name__ == '__main__':
    main()
