"""The seed script's CNN (cnn.py), built once for the tests that need it."""
from minikeras.layers import Activation, Convolution2D, Dense, Flatten, MaxPooling2D
from minikeras.models import Sequential
from minikeras.optimizers import SGD


def seed_model(compile=True):
    """The seed's model in its 'th' ordering; compiled as the seed compiles it
    (categorical crossentropy, SGD(lr=0.05, decay=1e-6, momentum=0.9,
    nesterov=True), accuracy) unless `compile` is False."""
    model = Sequential()
    model.add(Convolution2D(4, 5, 5, border_mode='valid', input_shape=(1, 28, 28),
                            dim_ordering='th'))
    model.add(Activation('tanh'))
    model.add(Convolution2D(8, 3, 3, border_mode='valid', dim_ordering='th'))
    model.add(Activation('tanh'))
    model.add(MaxPooling2D(pool_size=(2, 2), dim_ordering='th'))
    model.add(Convolution2D(16, 3, 3, border_mode='valid', dim_ordering='th'))
    model.add(Activation('relu'))
    model.add(MaxPooling2D(pool_size=(2, 2), dim_ordering='th'))
    model.add(Flatten())
    model.add(Dense(128, init='normal'))
    model.add(Activation('tanh'))
    model.add(Dense(10, init='normal'))
    model.add(Activation('softmax'))
    if compile:
        model.compile(loss='categorical_crossentropy',
                      optimizer=SGD(lr=0.05, decay=1e-6, momentum=0.9, nesterov=True),
                      metrics=['accuracy'])
    return model
