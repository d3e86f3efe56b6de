"""Training callbacks with Keras 1's hooks and logs."""
import collections.abc
import csv
import os
import warnings

import numpy as np

from .compat import keras2
from .utils.generic_utils import Progbar


class Callback(object):
    """Base class of callbacks.

    `params` (batch_size, nb_epoch, nb_sample, verbose, do_validation,
    metrics) and `model` are set before training starts. Epoch logs carry
    `loss`, the metrics (`acc`, ...) and their `val_` twins; batch logs carry
    `batch`, `size`, `loss` and the metrics.
    """

    def __init__(self):
        self.params = {}
        self.model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


class CallbackList(object):
    """Calls every hook on a list of callbacks, in order.

    # Arguments
        callbacks: list of `Callback` instances.
    """

    def __init__(self, callbacks=None):
        self.callbacks = list(callbacks or [])

    def append(self, callback):
        self.callbacks.append(callback)

    def set_params(self, params):
        for callback in self.callbacks:
            callback.set_params(params)

    def set_model(self, model):
        for callback in self.callbacks:
            callback.set_model(model)

    def _call(self, hook, *args):
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def on_epoch_begin(self, epoch, logs=None):
        self._call('on_epoch_begin', epoch, {} if logs is None else logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call('on_epoch_end', epoch, {} if logs is None else logs)

    def on_batch_begin(self, batch, logs=None):
        self._call('on_batch_begin', batch, {} if logs is None else logs)

    def on_batch_end(self, batch, logs=None):
        self._call('on_batch_end', batch, {} if logs is None else logs)

    def on_train_begin(self, logs=None):
        self._call('on_train_begin', {} if logs is None else logs)

    def on_train_end(self, logs=None):
        self._call('on_train_end', {} if logs is None else logs)


class BaseLogger(Callback):
    """Averages the batch metrics over an epoch, weighted by batch size, into
    the epoch logs. Every model uses it."""

    def on_epoch_begin(self, epoch, logs=None):
        self.seen = 0
        self.totals = {}

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        size = logs.get('size', 0)
        self.seen += size
        for key, value in logs.items():
            self.totals[key] = self.totals.get(key, 0) + value * size

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.seen:
            for key in self.params['metrics']:
                if key in self.totals:
                    logs[key] = self.totals[key] / self.seen


class ProgbarLogger(Callback):
    """Prints `Epoch i/n` and a progress bar with the metrics (verbose 1), or
    one line per epoch (verbose 2), as Keras 1 did. The bar counts samples,
    or batches when the params hold `steps` (Keras 2's `fit_generator`)."""

    def on_train_begin(self, logs=None):
        self.verbose = self.params['verbose']
        self.nb_epoch = self.params['nb_epoch']
        self.count_steps = bool(self.params.get('steps'))
        self.target = self.params['steps'] if self.count_steps else self.params['nb_sample']

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose:
            print('Epoch %d/%d' % (epoch + 1, self.nb_epoch))
            self.progbar = Progbar(target=self.target, verbose=self.verbose,
                                   keras_2_format=keras2.is_keras_2_model(self.model))
        self.seen = 0
        self.log_values = []

    def on_batch_begin(self, batch, logs=None):
        if self.seen < self.target:
            self.log_values = []

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        self.seen += 1 if self.count_steps else logs.get('size', 0)
        self.log_values.extend((k, logs[k]) for k in self.params['metrics'] if k in logs)
        # The last batch is drawn by on_epoch_end, together with the epoch figures.
        if self.verbose and self.seen < self.target:
            self.progbar.update(self.seen, self.log_values)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.log_values.extend((k, logs[k]) for k in self.params['metrics'] if k in logs)
        if self.verbose:
            self.progbar.update(self.seen, self.log_values, force=True)


class History(Callback):
    """Records the epoch logs: `history.history['val_acc'][i]` is epoch i's.

    Every `fit` returns one (and keeps it as `model.history`).
    """

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


def _monitor_op(mode, monitor, name):
    """np.less or np.greater for `mode` ('auto' picks greater for accuracies)."""
    if mode not in ('auto', 'min', 'max'):
        warnings.warn('%s mode %s is unknown, fallback to auto mode.' % (name, mode),
                      RuntimeWarning)
        mode = 'auto'
    if mode == 'max' or (mode == 'auto' and ('acc' in monitor or monitor.startswith('fmeasure'))):
        return np.greater
    return np.less


def _get_scalar(owner, attribute):
    return float(np.asarray(getattr(owner, attribute)))


def _set_scalar(owner, attribute, value):
    """Sets an optimizer hyper-parameter in place (it may be a 0-d array that
    other code holds, as a Keras 1 backend variable)."""
    current = getattr(owner, attribute)
    if isinstance(current, np.ndarray):
        current[...] = value
    else:
        setattr(owner, attribute, value)


class ModelCheckpoint(Callback):
    """Saves the model after every epoch (or every `period` epochs).

    # Arguments
        filepath: where to save; may hold `{epoch:02d}` and any epoch log
            such as `{val_loss:.2f}`.
        monitor: the quantity compared by `save_best_only`.
        verbose: 1 prints a line per save decision.
        save_best_only: only save when `monitor` improved.
        save_weights_only: `model.save_weights` instead of `model.save`.
        mode: 'auto', 'min' or 'max': what counts as an improvement.
        period: epochs between checkpoints.
        count_epochs_from_1: number epochs from 1 in `{epoch}` and the
            printed lines, as Keras 2 did (Keras 1 counted from 0; a Keras 2
            script gets Keras 2's count).
    """

    @keras2.keras2_arguments(keras2.MODEL_CHECKPOINT)
    def __init__(self, filepath, monitor='val_loss', verbose=0, save_best_only=False,
                 save_weights_only=False, mode='auto', period=1, count_epochs_from_1=False):
        super(ModelCheckpoint, self).__init__()
        self.count_epochs_from_1 = count_epochs_from_1
        self.filepath, self.monitor, self.verbose = filepath, monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.period = period
        self.epochs_since_last_save = 0
        self.monitor_op = _monitor_op(mode, monitor, 'ModelCheckpoint')
        self.best = -np.inf if self.monitor_op is np.greater else np.inf

    def _save(self, filepath):
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epochs_since_last_save += 1
        if self.epochs_since_last_save < self.period:
            return
        self.epochs_since_last_save = 0
        epoch = epoch + 1 if self.count_epochs_from_1 else epoch
        filepath = self.filepath.format(epoch=epoch, **logs)
        if not self.save_best_only:
            if self.verbose > 0:
                print('Epoch %05d: saving model to %s' % (epoch, filepath))
            self._save(filepath)
            return
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn('Can save best model only with %s available, skipping.'
                          % self.monitor, RuntimeWarning)
        elif self.monitor_op(current, self.best):
            if self.verbose > 0:
                print('Epoch %05d: %s improved from %0.5f to %0.5f, saving model to %s'
                      % (epoch, self.monitor, self.best, current, filepath))
            self.best = current
            self._save(filepath)
        elif self.verbose > 0:
            print('Epoch %05d: %s did not improve' % (epoch, self.monitor))


class EarlyStopping(Callback):
    """Stops training when a monitored quantity has stopped improving.

    # Arguments
        monitor: the quantity to watch ('val_loss' by default).
        min_delta: the smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        verbose: 1 prints the epoch training stopped at.
        mode: 'auto', 'min' or 'max'.
        baseline: a value `monitor` must improve on (Keras 2); training stops
            when it has not done so for `patience` epochs.
        restore_best_weights: at the stop, put back the weights of the best
            epoch (Keras 2).
        strict_patience: stop after `patience` epochs without improvement,
            as Keras 2 did; Keras 1 stopped one epoch later.
    """

    @keras2.keras2_arguments(keras2.EARLY_STOPPING)
    def __init__(self, monitor='val_loss', min_delta=0, patience=0, verbose=0, mode='auto',
                 baseline=None, restore_best_weights=False, strict_patience=False):
        super(EarlyStopping, self).__init__()
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.strict_patience = strict_patience
        self.best_weights = None
        self.monitor_op = _monitor_op(mode, monitor, 'EarlyStopping')
        self.min_delta = min_delta if self.monitor_op is np.greater else -min_delta
        self.wait = 0
        self.stopped_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        if self.baseline is not None:
            self.best = self.baseline
        else:
            self.best = -np.inf if self.monitor_op is np.greater else np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn('Early stopping requires %s available!' % self.monitor,
                          RuntimeWarning)
            return
        if self.monitor_op(current - self.min_delta, self.best):
            self.best = current
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        if self.strict_patience:
            self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose > 0:
                    print('Restoring model weights from the end of the best epoch')
                self.model.set_weights(self.best_weights)
        if not self.strict_patience:
            self.wait += 1

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print('Epoch %05d: early stopping'
                  % (self.stopped_epoch + 1 if self.strict_patience else self.stopped_epoch))


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch.

    # Arguments
        schedule: function of the epoch index (from 0) returning the rate.
    """

    def __init__(self, schedule):
        super(LearningRateScheduler, self).__init__()
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, 'lr'):
            raise ValueError('LearningRateScheduler: the optimizer must have an "lr" attribute.')
        lr = self.schedule(epoch)
        if not isinstance(lr, (float, np.floating)):
            raise ValueError('LearningRateScheduler: the schedule must return a float, got %r'
                             % (lr,))
        _set_scalar(self.model.optimizer, 'lr', lr)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by `factor` when `monitor` stops improving.

    # Arguments
        monitor: the quantity to watch.
        factor: the reduction factor (< 1).
        patience: epochs without improvement before a reduction.
        verbose: 1 prints each reduction.
        mode: 'auto', 'min' or 'max'.
        epsilon: the smallest change that counts as an improvement (Keras 2:
            `min_delta`).
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the lower bound of the learning rate.
        strict_patience: reduce after `patience` epochs without improvement,
            as Keras 2 did; Keras 1 reduced one epoch later.
    """

    @keras2.keras2_arguments(keras2.REDUCE_LR_ON_PLATEAU)
    def __init__(self, monitor='val_loss', factor=0.1, patience=10, verbose=0, mode='auto',
                 epsilon=1e-4, cooldown=0, min_lr=0, strict_patience=False):
        super(ReduceLROnPlateau, self).__init__()
        self.strict_patience = strict_patience
        if factor >= 1.0:
            raise ValueError('ReduceLROnPlateau does not support a factor >= 1.0, got %r'
                             % (factor,))
        self.monitor, self.factor, self.min_lr, self.epsilon = monitor, factor, min_lr, epsilon
        self.patience, self.verbose, self.cooldown, self.mode = patience, verbose, cooldown, mode
        self._reset()

    def _reset(self):
        if self.mode not in ('auto', 'min', 'max'):
            warnings.warn('Learning Rate Plateau Reducing mode %s is unknown, fallback to auto '
                          'mode.' % self.mode, RuntimeWarning)
            self.mode = 'auto'
        if self.mode == 'min' or (self.mode == 'auto' and 'acc' not in self.monitor):
            self.monitor_op = lambda a, b: np.less(a, b - self.epsilon)
            self.best = np.inf
        else:
            self.monitor_op = lambda a, b: np.greater(a, b + self.epsilon)
            self.best = -np.inf
        self.cooldown_counter = 0
        self.wait = 0
        self.lr_epsilon = self.min_lr * 1e-4

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs['lr'] = _get_scalar(self.model.optimizer, 'lr')
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn('Learning Rate Plateau Reducing requires %s available!'
                          % self.monitor, RuntimeWarning)
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            if self.strict_patience:
                self.wait += 1
            if self.wait >= self.patience:
                old_lr = _get_scalar(self.model.optimizer, 'lr')
                if old_lr > self.min_lr + self.lr_epsilon:
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    _set_scalar(self.model.optimizer, 'lr', new_lr)
                    if self.verbose > 0:
                        print('\nEpoch %05d: reducing learning rate to %s.' % (epoch, new_lr))
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
            if not self.strict_patience:
                self.wait += 1


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite (Keras 2)."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get('loss')
        if loss is not None and not np.isfinite(loss):
            print('Batch %d: Invalid loss, terminating training' % batch)
            self.model.stop_training = True


class CSVLogger(Callback):
    """Streams the epoch logs to a CSV file, one row per epoch.

    # Arguments
        filename: the CSV file.
        separator: the field separator.
        append: append to an existing file (no second header) instead of
            overwriting it.
    """

    def __init__(self, filename, separator=',', append=False):
        super(CSVLogger, self).__init__()
        self.filename, self.sep, self.append = filename, separator, append
        self.writer = None
        self.keys = None
        self.append_header = True

    def on_train_begin(self, logs=None):
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as f:
                self.append_header = not f.readline()
        self.csv_file = open(self.filename, 'a' if self.append else 'w', newline='')

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}

        def cell(value):
            if isinstance(value, collections.abc.Iterable) and \
                    not (isinstance(value, np.ndarray) and value.ndim == 0) and \
                    not isinstance(value, str):
                return '"[%s]"' % ', '.join(map(str, value))
            return value
        if self.writer is None:
            self.keys = sorted(logs)
            dialect = type('MinikerasCSV', (csv.excel,), {'delimiter': self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=['epoch'] + self.keys,
                                         dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = collections.OrderedDict([('epoch', epoch)])
        row.update((key, cell(logs.get(key))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        self.csv_file.close()
        self.writer = None


class LambdaCallback(Callback):
    """A callback from plain functions.

    # Arguments
        on_epoch_begin, on_epoch_end: functions of (epoch, logs).
        on_batch_begin, on_batch_end: functions of (batch, logs).
        on_train_begin, on_train_end: functions of (logs).
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                 on_batch_end=None, on_train_begin=None, on_train_end=None, **kwargs):
        super(LambdaCallback, self).__init__()
        self.__dict__.update(kwargs)
        for hook, function in (('on_epoch_begin', on_epoch_begin),
                               ('on_epoch_end', on_epoch_end),
                               ('on_batch_begin', on_batch_begin),
                               ('on_batch_end', on_batch_end),
                               ('on_train_begin', on_train_begin),
                               ('on_train_end', on_train_end)):
            if function is not None:
                setattr(self, hook, function)

from .compat.unsupported import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr('callbacks')
