"""Training callbacks with Keras 1's hooks and logs."""
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
    one line per epoch (verbose 2), as Keras 1 did."""

    def on_train_begin(self, logs=None):
        self.verbose = self.params['verbose']
        self.nb_epoch = self.params['nb_epoch']

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose:
            print('Epoch %d/%d' % (epoch + 1, self.nb_epoch))
            self.progbar = Progbar(target=self.params['nb_sample'], verbose=self.verbose)
        self.seen = 0
        self.log_values = []

    def on_batch_begin(self, batch, logs=None):
        if self.seen < self.params['nb_sample']:
            self.log_values = []

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        self.seen += logs.get('size', 0)
        self.log_values.extend((k, logs[k]) for k in self.params['metrics'] if k in logs)
        # The last batch is drawn by on_epoch_end, together with the epoch figures.
        if self.verbose and self.seen < self.params['nb_sample']:
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
