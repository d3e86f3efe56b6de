"""The install step `python -m minikeras.prepare` leaves nothing to compile for
the models it stands for: after it, a fresh process training the seed model
and an Embedding + LSTM model writes no new file into Numba's cache."""
import os
import subprocess
import sys

import pytest

SCRIPT = r'''
import numpy as np
from minikeras.models import Sequential
from minikeras.layers.core import Dense, Activation, Flatten
from minikeras.layers.convolutional import Convolution2D, MaxPooling2D
from minikeras.layers.embeddings import Embedding
from minikeras.layers.recurrent import LSTM
from minikeras.optimizers import SGD
seed = Sequential([Convolution2D(4, 5, 5, input_shape=(1, 28, 28)), Activation('tanh'),
                   Convolution2D(8, 3, 3), Activation('tanh'), MaxPooling2D((2, 2)),
                   Convolution2D(16, 3, 3), Activation('relu'), MaxPooling2D((2, 2)),
                   Flatten(), Dense(128, init='normal'), Activation('tanh'),
                   Dense(10, init='normal'), Activation('softmax')])
seed.compile(loss='categorical_crossentropy',
             optimizer=SGD(lr=0.05, decay=1e-6, momentum=0.9, nesterov=True), metrics=['accuracy'])
seed.fit(np.random.rand(64, 1, 28, 28).astype('float32'), np.eye(10)[np.arange(64) % 10],
         batch_size=32, nb_epoch=1, verbose=0, validation_split=0.25)
imdb = Sequential([Embedding(200, 16, input_length=12, dropout=0.2),
                   LSTM(16, dropout_W=0.2, dropout_U=0.2), Dense(1, activation='sigmoid')])
imdb.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
imdb.fit(np.random.randint(0, 200, (64, 12)), np.random.randint(0, 2, (64, 1)), batch_size=32,
         nb_epoch=1, verbose=0)
'''


def _cache_files(folder):
    return {os.path.join(d, f) for d, _, files in os.walk(folder) for f in files
            if f.endswith('.nbi')}


@pytest.mark.slow
def test_prepare_compiles_what_the_seed_and_an_lstm_need(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / 'cache'), MINIKERAS_PRECOMPILE='0')
    done = subprocess.run([sys.executable, '-m', 'minikeras.prepare'], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert 'kernels compiled' in done.stdout
    prepared = _cache_files(tmp_path / 'cache')
    assert prepared
    trained = subprocess.run([sys.executable, '-c', SCRIPT], env=env, capture_output=True,
                             text=True, timeout=900)
    assert trained.returncode == 0, trained.stderr
    assert _cache_files(tmp_path / 'cache') == prepared
