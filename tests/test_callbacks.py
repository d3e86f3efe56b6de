"""Each callback's observable behaviour."""
import csv
import warnings

import numpy as np
import pytest

from minikeras import backend as K
from minikeras import callbacks
from minikeras.layers import Dense
from minikeras.models import Sequential
from minikeras.optimizers import SGD


def model_and_data(lr=0.1):
    np.random.seed(0)
    model = Sequential([Dense(1, input_dim=3)])
    model.compile(loss='mse', optimizer=SGD(lr=lr), metrics=['mae'])
    rng = np.random.RandomState(0)
    x = rng.standard_normal((40, 3)).astype('float32')
    return model, x, x @ np.array([[1.], [-2.], [0.5]], dtype='float32')


class Scripted(callbacks.Callback):
    """Replaces the epoch logs' monitored value by a scripted sequence."""

    def __init__(self, key, values):
        super(Scripted, self).__init__()
        self.key, self.values = key, list(values)

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


def test_early_stopping_stops_after_patience_epochs_without_improvement(capsys):
    model, x, y = model_and_data()
    stopper = callbacks.EarlyStopping(monitor='val_loss', patience=1, verbose=1)
    history = model.fit(x, y, nb_epoch=10, verbose=0, validation_split=0.25,
                        callbacks=[Scripted('val_loss', [5, 4, 4.5, 4.2, 3, 2, 1, 1, 1, 1]),
                                   stopper])
    assert history.epoch == [0, 1, 2, 3]
    assert stopper.stopped_epoch == 3
    assert capsys.readouterr().out.strip() == 'Epoch 00003: early stopping'


def test_early_stopping_min_delta_and_max_mode():
    model, x, y = model_and_data()
    stopper = callbacks.EarlyStopping(monitor='val_acc', min_delta=0.1, patience=0)
    assert stopper.monitor_op is np.greater
    history = model.fit(x, y, nb_epoch=5, verbose=0,
                        callbacks=[Scripted('val_acc', [0.5, 0.55, 0.9, 0.95, 0.99]), stopper])
    assert history.epoch == [0, 1]


def test_learning_rate_scheduler_sets_the_rate_in_place():
    model, x, y = model_and_data()
    seen = []
    lr_variable = model.optimizer.lr
    log = callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(
        float(model.optimizer.lr)))
    scheduler = callbacks.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))
    model.fit(x, y, nb_epoch=3, verbose=0, callbacks=[scheduler, log])
    assert seen == pytest.approx([0.1, 0.05, 0.1 / 3])
    assert model.optimizer.lr is lr_variable
    with pytest.raises(ValueError, match='must return a float'):
        model.fit(x, y, nb_epoch=1, verbose=0,
                  callbacks=[callbacks.LearningRateScheduler(lambda epoch: 1)])


def test_reduce_lr_on_plateau_with_cooldown_and_min_lr():
    model, x, y = model_and_data(lr=1.0)
    rates = []
    reducer = callbacks.ReduceLROnPlateau(monitor='val_loss', factor=0.5, patience=1,
                                          cooldown=1, min_lr=0.2)
    record = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: rates.append(logs['lr']))
    model.fit(x, y, nb_epoch=8, verbose=0, validation_split=0.25,
              callbacks=[Scripted('val_loss', [1.0] * 8), reducer, record])
    # logs['lr'] is the rate the epoch ran with. Epoch 0 sets the best; epoch 1
    # waits; epoch 2 halves; epoch 3 is cooldown; epoch 4 halves; ...; epoch 6
    # would go to 0.125 but stops at min_lr.
    assert rates == pytest.approx([1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2])
    with pytest.raises(ValueError, match='factor >= 1.0'):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_csv_logger_writes_and_appends(tmp_path):
    model, x, y = model_and_data()
    path = str(tmp_path / 'log.csv')
    model.fit(x, y, nb_epoch=2, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    model.fit(x, y, nb_epoch=1, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)])
    with open(path) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['epoch', 'loss', 'mean_absolute_error']
    assert [r[0] for r in rows[1:]] == ['0', '1', '0']
    history_loss = model.history.history['loss'][0]
    assert float(rows[3][1]) == pytest.approx(history_loss)


def test_lambda_callback_calls_every_hook():
    model, x, y = model_and_data()
    events = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda logs: events.append('train_begin'),
        on_epoch_begin=lambda e, logs: events.append('epoch_begin %d' % e),
        on_batch_end=lambda b, logs: events.append('batch %d' % b),
        on_epoch_end=lambda e, logs: events.append('epoch_end %d' % e),
        on_train_end=lambda logs: events.append('train_end'))
    model.fit(x, y, nb_epoch=1, batch_size=20, verbose=0, callbacks=[cb])
    assert events == ['train_begin', 'epoch_begin 0', 'batch 0', 'batch 1', 'epoch_end 0',
                      'train_end']


def test_history_and_base_logger_are_always_there():
    model, x, y = model_and_data()
    history = model.fit(x, y, nb_epoch=2, batch_size=15, verbose=0)
    assert history is model.history
    assert history.epoch == [0, 1]
    assert set(history.history) == {'loss', 'mean_absolute_error'}


def test_model_checkpoint_writes_loadable_files_and_keeps_the_best(tmp_path, capsys):
    from minikeras.models import load_model
    model, x, y = model_and_data()
    every = str(tmp_path / 'every-{epoch:02d}.h5')
    best = str(tmp_path / 'best.h5')
    model.fit(x, y, nb_epoch=4, verbose=0, validation_split=0.25,
              callbacks=[callbacks.ModelCheckpoint(every),
                         Scripted('val_loss', [3., 1., 2., 0.5]),
                         callbacks.ModelCheckpoint(best, save_best_only=True, verbose=1)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ['best.h5'] + \
        ['every-%02d.h5' % e for e in range(4)]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == 'Epoch 00000: val_loss improved from inf to 3.00000, saving model to ' + best
    assert lines[2] == 'Epoch 00002: val_loss did not improve'
    restored = load_model(best)
    np.testing.assert_array_equal(restored.predict(x), model.predict(x))
    weights_only = str(tmp_path / 'w.h5')
    model.fit(x, y, nb_epoch=1, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(weights_only, save_weights_only=True,
                                                   monitor='loss')])
    twin = Sequential([Dense(1, input_dim=3)])
    twin.load_weights(weights_only)
    np.testing.assert_array_equal(twin.predict(x), model.predict(x))
