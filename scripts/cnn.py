# -*- coding: utf-8 -*-
"""The wphh MNIST CNN, written the Keras 1 way (Theano ordering, 2016).

Run it through minikeras, which resolves `keras` to minikeras and serves
`data.load_data` from the MNIST digits it finds offline:

    minikeras run scripts/cnn.py

Same model, data handling and optimizer as the seed script
`shared/seeds/cnn.py`; this copy is ours and carries comments in English.
"""
from __future__ import absolute_import, print_function

import random

import numpy as np
from six.moves import range

from data import load_data
from keras.layers.convolutional import Convolution2D, MaxPooling2D
from keras.layers.core import Activation, Dense, Flatten
from keras.models import Sequential
from keras.optimizers import SGD
from keras.utils import np_utils

np.random.seed(1024)

# (N, 1, 28, 28) float32 scaled to [0, 1] and centred; labels 0-9.
images, labels = load_data()
order = list(range(len(images)))
random.shuffle(order)
images, labels = images[order], labels[order]
print(images.shape[0], 'samples')
targets = np_utils.to_categorical(labels, 10)

model = Sequential()
# 4 kernels of 5x5 over the single grey channel: 28x28 -> 24x24.
model.add(Convolution2D(4, 5, 5, border_mode='valid', input_shape=(1, 28, 28)))
model.add(Activation('tanh'))
# 8 kernels of 3x3: 24 -> 22, then 2x2 max pooling: 22 -> 11.
model.add(Convolution2D(8, 3, 3, border_mode='valid'))
model.add(Activation('tanh'))
model.add(MaxPooling2D(pool_size=(2, 2)))
# 16 kernels of 3x3: 11 -> 9, pooled to 4x4 (the last odd row and column dropped).
model.add(Convolution2D(16, 3, 3, border_mode='valid'))
model.add(Activation('relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
# 16 * 4 * 4 = 256 features into a 128-unit hidden layer, then 10 classes.
model.add(Flatten())
model.add(Dense(128, init='normal'))
model.add(Activation('tanh'))
model.add(Dense(10, init='normal'))
model.add(Activation('softmax'))
model.summary()

sgd = SGD(lr=0.05, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(loss='categorical_crossentropy', optimizer=sgd, metrics=['accuracy'])
history = model.fit(images, targets, batch_size=100, nb_epoch=10, shuffle=True, verbose=1,
                    validation_split=0.2)
print('final val_acc: %.4f' % history.history['val_acc'][-1])
