"""Keras 0.x spellings, translated once, at the edge, into the Keras 1 form.

Two kinds of translation live here:

- constructor arguments, through `legacy_arguments(translator)` on a class's
  `__init__`: e.g. `Convolution2D(32, 3, 5, 5)` (0.1's nb_filter, stack_size,
  rows, cols) becomes `Convolution2D(32, 5, 5)`;
- model methods, through `Keras0ModelAPI`, a mixin of the public model
  classes: `compile(class_mode=...)`, `fit(show_accuracy=True)`,
  `train_on_batch(accuracy=True)`, `model.train(...)`, `model.test(...)`,
  and, under the Keras 0.3 switch, 0.3's defaults (batch_size=128,
  nb_epoch=100) and its one-pass `ImageDataGenerator.flow`; and through
  `Keras0SequentialAPI`, a Sequential model whose first layer has no input
  shape, which takes it from the first data.

The engine below never sees a 0.x argument.
"""
import functools
import inspect
import numbers
import warnings

import numpy as np

from . import version


def legacy_arguments(translator):
    """Decorates an `__init__` so that `translator(args, kwargs)` rewrites
    0.x-style arguments into the 1.x signature before it runs."""
    def decorate(init):
        @functools.wraps(init)
        def wrapper(self, *args, **kwargs):
            args, kwargs = translator(type(self).__name__, list(args), dict(kwargs))
            return init(self, *args, **kwargs)
        return wrapper
    return decorate


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _warn(message):
    warnings.warn(message, DeprecationWarning, stacklevel=4)


def convolution2d_arguments(name, args, kwargs):
    """0.1/0.2: Convolution2D(nb_filter, stack_size, nb_row, nb_col, ...)."""
    if len(args) >= 4 and all(_is_int(a) for a in args[:4]):
        _warn('%s(nb_filter, stack_size, nb_row, nb_col) is the Keras 0.x signature; '
              'stack_size is inferred from the input in Keras 1' % name)
        args = [args[0]] + args[2:]
    _rename(name, kwargs, {'subsample_length': None})
    return args, kwargs


def convolution1d_arguments(name, args, kwargs):
    """0.1: Convolution1D(nb_filter, stack_size, filter_length, ...)."""
    if len(args) >= 3 and all(_is_int(a) for a in args[:3]):
        _warn('%s(nb_filter, stack_size, filter_length) is the Keras 0.x signature' % name)
        args = [args[0]] + args[2:]
    return args, kwargs


def dense_arguments(name, args, kwargs):
    """0.1: Dense(input_dim, output_dim, ...)."""
    if len(args) >= 2 and _is_int(args[0]) and _is_int(args[1]):
        _warn('%s(input_dim, output_dim) is the Keras 0.x signature; Keras 1 is '
              '%s(output_dim, input_dim=...)' % (name, name))
        if 'input_dim' in kwargs:
            raise TypeError('%s: input_dim given twice (positionally, Keras 0.x style, and as a '
                            'keyword)' % name)
        kwargs['input_dim'] = args[0]
        args = [args[1]] + args[2:]
    return args, kwargs


_RECURRENT_0X_POSITIONAL = {
    'SimpleRNN': ('init', 'inner_init', 'activation', 'weights', 'truncate_gradient',
                  'return_sequences'),
    'GRU': ('init', 'inner_init', 'activation', 'inner_activation', 'weights',
            'truncate_gradient', 'return_sequences'),
    'LSTM': ('init', 'inner_init', 'forget_bias_init', 'activation', 'inner_activation',
             'weights', 'truncate_gradient', 'return_sequences'),
}


def recurrent_arguments(name, args, kwargs):
    """0.1: LSTM(input_dim, output_dim, init, inner_init, ..., truncate_gradient,
    return_sequences); SimpleRNN and GRU then defaulted to activation='sigmoid'."""
    if len(args) >= 2 and _is_int(args[0]) and _is_int(args[1]):
        _warn('%s(input_dim, output_dim, ...) is the Keras 0.1 signature; Keras 1 is '
              '%s(output_dim, input_dim=...)' % (name, name))
        if 'input_dim' in kwargs:
            raise TypeError('%s: input_dim given twice (positionally, Keras 0.x style, and as a '
                            'keyword)' % name)
        kwargs['input_dim'] = args[0]
        positional = _RECURRENT_0X_POSITIONAL.get(name, ())
        if len(args) - 2 > len(positional):
            raise TypeError('%s: too many positional arguments for the Keras 0.1 signature '
                            '(input_dim, output_dim, %s)' % (name, ', '.join(positional)))
        for key, value in zip(positional, args[2:]):
            if key in kwargs:
                raise TypeError('%s: %s given twice (positionally and as a keyword)'
                                % (name, key))
            kwargs[key] = value
        if name in ('SimpleRNN', 'GRU'):
            kwargs.setdefault('activation', 'sigmoid')
        args = [args[1]]
    return args, kwargs


def pooling2d_arguments(name, args, kwargs):
    """0.x: MaxPooling2D(poolsize=(2, 2), stride=None, ignore_border=True)."""
    _rename(name, kwargs, {'poolsize': 'pool_size', 'stride': 'strides'})
    if 'ignore_border' in kwargs:
        kwargs['border_mode'] = 'valid' if kwargs.pop('ignore_border') else 'same'
    return args, kwargs


def pooling1d_arguments(name, args, kwargs):
    """0.x: MaxPooling1D(pool_length=2, stride=None, ignore_border=True)."""
    if 'ignore_border' in kwargs:
        kwargs['border_mode'] = 'valid' if kwargs.pop('ignore_border') else 'same'
    return args, kwargs


def input_shape_first_arguments(name, args, kwargs):
    """0.1/0.2: PReLU(input_shape), ParametricSoftplus(input_shape), ...: a shape
    tuple as the first positional argument."""
    if args and isinstance(args[0], (tuple, list)) and all(_is_int(d) for d in args[0]):
        _warn('%s(input_shape) is the Keras 0.x signature; the shape is inferred in Keras 1'
              % name)
        args = args[1:]
    return args, kwargs


def optimizer_arguments(name, args, kwargs):
    """Keras 0.x optimizers accepted (and ignored) any keyword, e.g. SGD(l2=...)."""
    known = set(inspect.signature(_OPTIMIZER_INITS[name]).parameters) | {'clipnorm', 'clipvalue'}
    ignored = sorted(k for k in kwargs if k not in known and k in _IGNORED_OPTIMIZER_KWARGS)
    if ignored:
        _warn('%s: argument(s) %s had no effect in Keras 0.x and are ignored'
              % (name, ', '.join(ignored)))
        for key in ignored:
            kwargs.pop(key)
    return args, kwargs


_IGNORED_OPTIMIZER_KWARGS = {'l1', 'l2', 'kappa', 'gamma'}
_OPTIMIZER_INITS = {}


def register_optimizer(cls):
    """Records an optimizer's own signature, for `optimizer_arguments`."""
    _OPTIMIZER_INITS[cls.__name__] = cls.__init__
    cls.__init__ = legacy_arguments(optimizer_arguments)(cls.__init__)
    return cls


def flow_arguments(name, args, kwargs):
    """Keras 0.3's `ImageDataGenerator.flow(X, y, batch_size, shuffle, ...)`
    made one pass over the data, in order unless told to shuffle; under the
    Keras 0.3 switch, so does minikeras's."""
    if version.is_keras_0():
        kwargs.setdefault('one_pass', True)
        if len(args) < 4:
            kwargs.setdefault('shuffle', False)
    return args, kwargs


def _rename(name, kwargs, renames):
    for old, new in renames.items():
        if old in kwargs:
            value = kwargs.pop(old)
            if new is None:
                continue
            if new in kwargs:
                raise TypeError('%s: both %s (Keras 0.x) and %s given' % (name, old, new))
            kwargs[new] = value


def _keras_0_default(value, keras_0, keras_1):
    """Resolves a defaulted argument: 0.3's default under the 0.3 switch."""
    if value is not DEFAULT:
        return value
    return keras_0 if version.is_keras_0() else keras_1


DEFAULT = object()


def _restarting(iterator):
    """Batches from a one-pass `iterator`, calling its `reset()` each time it
    runs out; it stops only when a fresh pass has nothing to give."""
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            iterator.reset()
            try:
                yield next(iterator)
            except StopIteration:
                return


class Keras0ModelAPI(object):
    """Keras 0.x's model methods and arguments, on top of the Keras 1 model."""

    def compile(self, optimizer, loss=None, metrics=None, loss_weights=None,
                sample_weight_mode=None, class_mode=None, **kwargs):
        """Configures the model for training (see `Model.compile`).

        # Arguments
            class_mode: Keras 0.x: 'categorical' or 'binary'. Accepted and
                checked; the accuracy that `show_accuracy=True` reports is
                chosen from the output and loss as Keras 1 chooses it (binary
                for one output unit or binary_crossentropy, else categorical).
        """
        if class_mode not in (None, 'categorical', 'binary'):
            raise ValueError('compile: class_mode must be "categorical" or "binary", got %r'
                             % (class_mode,))
        return super(Keras0ModelAPI, self).compile(optimizer, loss, metrics=metrics,
                                                   loss_weights=loss_weights,
                                                   sample_weight_mode=sample_weight_mode, **kwargs)

    def _with_accuracy(self, wanted, x, run):
        """Runs `run()` with accuracy among the metrics when `wanted` (0.x's
        show_accuracy / accuracy flags), then restores the compiled metrics.
        A model whose input shape comes from the data is built from `x` first,
        so that its metric names exist."""
        if not wanted:
            return run()
        if x is not None:   # (None: a generator's batches)
            self._build_from_data(x)
        self._check_compiled()
        if 'acc' in self.metrics_names:
            return run()
        saved = self.metrics
        self._set_metrics(list(saved) + ['accuracy'])
        try:
            return run()
        finally:
            self._set_metrics(saved)

    def fit(self, x, y, batch_size=DEFAULT, nb_epoch=DEFAULT, verbose=1, callbacks=None,
            validation_split=0., validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, show_accuracy=False, validation_freq=1):
        """Trains the model (see `Model.fit`).

        # Arguments
            show_accuracy: Keras 0.x: also report the accuracy (`acc`, `val_acc`).
            batch_size, nb_epoch: 32 and 10 by default; 128 and 100 under the
                Keras 0.3 switch, as Keras 0.3 had them.
        """
        batch_size = _keras_0_default(batch_size, 128, 32)
        nb_epoch = _keras_0_default(nb_epoch, 100, 10)
        return self._with_accuracy(show_accuracy, x, lambda: super(Keras0ModelAPI, self).fit(
            x, y, batch_size=batch_size, nb_epoch=nb_epoch, verbose=verbose, callbacks=callbacks,
            validation_split=validation_split, validation_data=validation_data, shuffle=shuffle,
            class_weight=class_weight, sample_weight=sample_weight, initial_epoch=initial_epoch,
            validation_freq=validation_freq))

    def evaluate(self, x, y, batch_size=DEFAULT, verbose=1, sample_weight=None,
                 show_accuracy=False):
        """Loss (and metrics) on data (see `Model.evaluate`); `show_accuracy`
        adds the accuracy, as Keras 0.x did."""
        batch_size = _keras_0_default(batch_size, 128, 32)
        return self._with_accuracy(show_accuracy, x, lambda: super(Keras0ModelAPI, self).evaluate(
            x, y, batch_size=batch_size, verbose=verbose, sample_weight=sample_weight))

    def fit_generator(self, generator, *args, **kwargs):
        """Trains on batches from a generator (see `Model.fit_generator`);
        Keras 0.x's `show_accuracy=True` also reports the accuracy."""
        show_accuracy = kwargs.pop('show_accuracy', False)
        return self._with_accuracy(show_accuracy, None, lambda: super(
            Keras0ModelAPI, self).fit_generator(generator, *args, **kwargs))

    def evaluate_generator(self, generator, *args, **kwargs):
        """Loss (and metrics) on batches from a generator (see
        `Model.evaluate_generator`); `show_accuracy=True` adds the accuracy."""
        show_accuracy = kwargs.pop('show_accuracy', False)
        return self._with_accuracy(show_accuracy, None, lambda: super(
            Keras0ModelAPI, self).evaluate_generator(generator, *args, **kwargs))

    def predict(self, x, batch_size=DEFAULT, verbose=0):
        """Predictions, batch by batch (see `Model.predict`). Under the Keras
        0.3 switch they are float64 arrays, as Keras 0.3's predict loop
        gathered the batches into `np.zeros` arrays (Keras 1 into float32
        ones); 0.3's lstm_text_generation samples from them with
        `np.random.multinomial`, which float32 rounding can make refuse."""
        outs = super(Keras0ModelAPI, self).predict(
            x, batch_size=_keras_0_default(batch_size, 128, 32), verbose=verbose)
        if not version.is_keras_0():
            return outs
        if isinstance(outs, list):
            return [np.asarray(o, dtype='float64') for o in outs]
        return np.asarray(outs, dtype='float64')

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, accuracy=False):
        """One gradient update (see `Model.train_on_batch`); `accuracy=True`
        (Keras 0.x) returns `[loss, acc]`."""
        return self._with_accuracy(accuracy, x, lambda: super(Keras0ModelAPI, self).train_on_batch(
            x, y, sample_weight=sample_weight, class_weight=class_weight))

    def test_on_batch(self, x, y, sample_weight=None, accuracy=False):
        """Loss on one batch (see `Model.test_on_batch`); `accuracy=True`
        (Keras 0.x) returns `[loss, acc]`."""
        return self._with_accuracy(accuracy, x, lambda: super(Keras0ModelAPI, self).test_on_batch(
            x, y, sample_weight=sample_weight))

    def train(self, x, y, accuracy=False, class_weight=None, sample_weight=None):
        """Keras 0.1/0.2's name for `train_on_batch`: returns the loss, or
        `(loss, accuracy)` with `accuracy=True`."""
        return self._with_accuracy(accuracy, x, lambda: self._loss_and_accuracy(
            super(Keras0ModelAPI, self).train_on_batch(x, y, sample_weight=sample_weight,
                                                       class_weight=class_weight), accuracy))

    def test(self, x, y, accuracy=False, sample_weight=None):
        """Keras 0.1/0.2's name for `test_on_batch`: returns the loss, or
        `(loss, accuracy)` with `accuracy=True`."""
        return self._with_accuracy(accuracy, x, lambda: self._loss_and_accuracy(
            super(Keras0ModelAPI, self).test_on_batch(x, y, sample_weight=sample_weight),
            accuracy))

    def _batch_source(self, generator):
        """Keras 0.3's one-pass iterators (`flow(..., one_pass=True)`, the
        0.3 default) are started again when they run out."""
        source = super(Keras0ModelAPI, self)._batch_source(generator)
        if getattr(source, 'one_pass', False) and hasattr(source, 'reset'):
            return _restarting(source)
        return source

    def _loss_and_accuracy(self, result, accuracy):
        if not accuracy:
            return result[0] if isinstance(result, list) else result
        return result[0], result[self.metrics_names.index('acc')]


class Keras0SequentialAPI(object):
    """Keras 0.x's Sequential: a first layer without an input shape waits,
    with the layers added after it, until the first data gives the shape."""

    def _waiting(self):
        if '_layers_waiting_for_shape' not in vars(self):
            self._layers_waiting_for_shape = []
        return self._layers_waiting_for_shape

    def add(self, layer):
        """Adds a layer on top of the stack (see `Sequential.add`). Without
        any input shape yet, the layer waits for the first data."""
        from ..engine.base_layer import Layer
        assigned = vars(layer).pop('_keras0_input', None) if isinstance(layer, Layer) else None
        if assigned is not None and not self.layers and not layer.inbound_nodes:
            from ..engine.input_layer import Input
            layer(Input(tensor=assigned))
        waiting = self._waiting()
        if isinstance(layer, Layer) and (waiting or (
                not self.layers and layer.batch_input_shape is None and not layer.inbound_nodes)):
            waiting.append(layer)
            return
        return super(Keras0SequentialAPI, self).add(layer)

    def pop(self):
        """Removes the last layer (a waiting one, if any)."""
        if self._waiting():
            self._waiting().pop()
            return
        return super(Keras0SequentialAPI, self).pop()

    def _build_from_data(self, x):
        waiting = self._waiting()
        if not waiting:
            return super(Keras0SequentialAPI, self)._build_from_data(x)
        first = x[0] if isinstance(x, (list, tuple)) else x
        if isinstance(x, dict) or not hasattr(first, 'shape'):
            raise ValueError('Sequential model %s has no input shape yet (its first layer %s got '
                             'no input_shape) and cannot infer it from %r'
                             % (self.name, waiting[0].name, type(x).__name__))
        layers, self._layers_waiting_for_shape = list(waiting), []
        layers[0].batch_input_shape = (None,) + tuple(first.shape[1:])
        for layer in layers:
            self.add(layer)

    def _check_built(self):
        if self._waiting():
            raise RuntimeError('Sequential model %s does not know its input shape yet: give its '
                               'first layer input_shape=..., or call fit/predict first (the '
                               'shape is then taken from the data)' % self.name)
        return super(Keras0SequentialAPI, self)._check_built()

    def predict_proba(self, x, batch_size=DEFAULT, verbose=1):
        """Class probabilities (see `Sequential.predict_proba`); 128 samples
        a batch by default under the Keras 0.3 switch."""
        return super(Keras0SequentialAPI, self).predict_proba(
            x, batch_size=_keras_0_default(batch_size, 128, 32), verbose=verbose)

    def predict_classes(self, x, batch_size=DEFAULT, verbose=1):
        """Class indices (see `Sequential.predict_classes`); 128 samples a
        batch by default under the Keras 0.3 switch."""
        return super(Keras0SequentialAPI, self).predict_classes(
            x, batch_size=_keras_0_default(batch_size, 128, 32), verbose=verbose)


def merge_arguments(name, args, kwargs):
    """Keras 0.3's `Merge(..., mode='dot', dot_axes=[(2,), (2,)])`: the axes of
    each input as a sequence (tensordot's form). One axis each is Keras 1's
    pair of ints; several have no Keras 1 form."""
    axes = kwargs.get('dot_axes')
    if isinstance(axes, (list, tuple)) and len(axes) == 2 and \
            all(isinstance(a, (list, tuple, range)) for a in axes):
        if not all(len(a) == 1 and _is_int(a[0]) for a in axes):
            raise ValueError('%s: dot_axes=%r contracts several axes per input (Keras 0.3); '
                             'Keras 1 and minikeras contract one axis of each: give a pair of '
                             'ints' % (name, axes))
        kwargs['dot_axes'] = [int(axes[0][0]), int(axes[1][0])]
    return args, kwargs


# ---------------------------------------------------------------------------
# Keras 0.x's layer face on graph tensors: `first_layer.input = placeholder`,
# `layer.get_output()`, `layer.get_input()` (the deep-dream, filter
# visualization and style-transfer examples of Keras 0.3).


def _get_output(self, train=False):
    """Keras 0.x: the layer's output tensor (of its only call)."""
    return self.output


def _get_input(self, train=False):
    """Keras 0.x: the layer's input tensor (of its only call); inside a Keras
    0.x custom layer's `get_output`, the value the layer is computing on."""
    computing = self.__dict__.get('_keras0_inputs')
    if computing:
        return computing[-1]
    return self.input


def _set_input(self, tensor):
    """Keras 0.x: `first_layer.input = tensor` makes `tensor` (a placeholder
    or expression) the input of the Sequential model it is then added to."""
    self._keras0_input = tensor


def install_merge_api(merge_class):
    """Makes `merge_class` (the engine's Merge) take Keras 0.3's spellings
    of its arguments (`merge_arguments`)."""
    if not getattr(merge_class.__init__, 'keras0_merge', False):
        merge_class.__init__ = legacy_arguments(merge_arguments)(merge_class.__init__)
        merge_class.__init__.keras0_merge = True


def _keras0_output_shape(shape_property):
    """A Keras 0.x `output_shape` property (computed from `self.input_shape`)
    as Keras 1's `get_output_shape_for` and an `output_shape` the engine can
    also assign."""
    def get_output_shape_for(self, input_shape):
        saved = self.__dict__.get('input_shape')
        self.__dict__['input_shape'] = input_shape
        try:
            return shape_property.fget(self)
        finally:
            self.__dict__['input_shape'] = saved

    def get(self):
        if self.__dict__.get('input_shape') is None:
            return self.__dict__.get('_keras0_output_shape')
        return shape_property.fget(self)

    def set(self, value):
        self.__dict__['_keras0_output_shape'] = value
    return get_output_shape_for, property(get, set, None, shape_property.__doc__)


def translate_keras0_layer_class(cls):
    """Keras 0.3's custom-layer protocol in Keras 1's form: a layer class
    that defines `get_output(train)` (reading `self.get_input(train)`) and no
    `call` computes with `get_output` as its `call`; an `output_shape`
    property becomes its `get_output_shape_for`."""
    defines = vars(cls)
    if 'get_output' not in defines or 'call' in defines or 'forward' in defines:
        return
    get_output = defines['get_output']

    def call(self, x, mask=None):
        from .. import backend_ops
        computing = self.__dict__.setdefault('_keras0_inputs', [])
        # Keras 0.x code may write `x -= ...`: on Theano that made a new
        # tensor, so a plain array is copied first
        computing.append(np.array(x) if isinstance(x, np.ndarray) else x)
        try:
            # the running phase (a call outside a run: the test phase)
            return get_output(self, bool(backend_ops._phase_for()))
        finally:
            computing.pop()
    cls.call = call
    shape_property = defines.get('output_shape')
    if isinstance(shape_property, property) and 'get_output_shape_for' not in defines:
        cls.get_output_shape_for, cls.output_shape = _keras0_output_shape(shape_property)


def install_layer_api(layer_class):
    """Gives `layer_class` (the base Layer) Keras 0.x's `get_output`,
    `get_input` and an assignable `input`, and translates the Keras 0.x
    custom layers subclassing it (`translate_keras0_layer_class`)."""
    layer_class.get_output = _get_output
    layer_class.get_input = _get_input
    layer_class.input = property(layer_class.input.fget, _set_input, None,
                                 layer_class.input.__doc__)

    def init_subclass(cls, **kwargs):
        super(layer_class, cls).__init_subclass__(**kwargs)
        translate_keras0_layer_class(cls)
    layer_class.__init_subclass__ = classmethod(init_subclass)
