"""The training loop shared by `Sequential` and the functional `Model`.

`Model` implements Keras 1.2.2's `compile`, `fit`, `evaluate`, `predict` and
the `*_on_batch` methods on top of the graph of its `Container` base:
`input_names`, `input_shapes`, `output_names`, `output_shapes`, the leaf
layers with their weights, and `_run`, which returns the outputs, a backprop
function that fills the layers' gradient buffers, and the activity penalty.
"""
import contextlib
import os
import signal
import sys
import threading
import warnings

import numpy as np

from .. import callbacks as cbks
from .. import metrics as metrics_module
from .. import objectives, optimizers
from ..kernels import threads as kernel_threads
from ..utils.allocator import keep_freed_memory
from ..utils.generic_utils import Progbar
from .container import Container
from .graph import to_list


def _single_threaded_blas():
    """The BLAS set-up of one batch (and, the first time, malloc tuned: see
    `minikeras.utils.allocator`): one thread, except for the matrix products
    large enough to gain from more (`minikeras.kernels.threads.matmul`)."""
    keep_freed_memory()
    return kernel_threads.kernel_blas()


def make_batches(size, batch_size):
    """(start, stop) index pairs covering `size` samples in order."""
    return [(start, min(size, start + batch_size)) for start in range(0, size, batch_size)]


def slice_X(X, start=None, stop=None):
    """`X[start:stop]`, or the same slice of every array of a list `X`, as
    Keras 1.2.2's `engine.training.slice_X` (Keras 0.x's `models.slice_X`).

    # Arguments
        X: an array-like or a list of them.
        start: an int (the first index; a whole float too, as NumPy < 1.12
            took it), or a list / array of indices to take.
        stop: an int (the end index); None when `start` is a list of indices.
    """
    if hasattr(start, '__len__'):
        if stop is not None:
            raise ValueError('slice_X: give either a list of indices (start) or start and stop, '
                             'got start=%r and stop=%r' % (start, stop))
        indices = start.tolist() if hasattr(start, 'shape') else list(start)
        if isinstance(X, list):
            return [x[indices] for x in X]
        return X[indices]
    # Keras 0.x/1.x scripts pass Python 3's len(X) / 10 here: NumPy < 1.12 took a whole float
    start, stop = [int(v) if isinstance(v, float) and v.is_integer() else v for v in (start, stop)]
    if isinstance(X, list):
        return [x[start:stop] for x in X]
    return X[start:stop]


def _as_float_array(value, what):
    try:
        return np.asarray(value, dtype='float32')
    except (TypeError, ValueError) as error:
        dtype = getattr(value, 'dtype', None)
        raise TypeError('Error when checking %s: data should be a NumPy array of numbers, '
                        'got %s%s (%s)' % (what, type(value).__name__,
                                           '' if dtype is None else ' of dtype %s' % dtype,
                                           error))


def check_finite(array, what):
    """Raises when `array` holds NaN or inf, naming the first sample that does:
    one such value would turn every weight into NaN at the first update."""
    finite = np.isfinite(array)
    if not finite.all():
        sample = int(np.argmin(finite.reshape(len(array), -1).all(axis=1))) \
            if array.ndim else 0
        raise ValueError('Error when checking %s: it contains NaN or inf (first in sample %d); '
                         'clean or impute the data first' % (what, sample))


def check_batch_size(batch_size):
    """`batch_size` as an int, after checking that it is a positive integer."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, float, np.number)) \
            or int(batch_size) != batch_size or batch_size <= 0:
        raise ValueError('batch_size must be a positive integer, got %r' % (batch_size,))
    return int(batch_size)


def _ordering_hint(expected, got):
    """A hint when the array looks like the other image ordering's."""
    if len(expected) == 4 and len(got) == 4 and None not in expected[1:]:
        th_as_tf = (expected[2], expected[3], expected[1])
        tf_as_th = (expected[3], expected[1], expected[2])
        if tuple(got[1:]) == th_as_tf:
            return (" (the array looks channels-last, 'tf' ordering, while the model is "
                    "channels-first, 'th': transpose it with x.transpose(0, 3, 1, 2) or build "
                    "the model with dim_ordering='tf')")
        if tuple(got[1:]) == tf_as_th:
            return (" (the array looks channels-first, 'th' ordering, while the model is "
                    "channels-last, 'tf': transpose it with x.transpose(0, 2, 3, 1) or build "
                    "the model with dim_ordering='th')")
    return ''


def standardize_input_data(data, names, shapes, what):
    """Checks user data against the model's inputs or outputs.

    # Arguments
        data: an array, a list of arrays, or a dict keyed by name.
        names: the model's input (or output) names.
        shapes: their expected shapes, batch axis first (None = any).
        what: 'model input' or 'model target', for the error message.

    # Returns
        A list of float32 arrays, one per name.
    """
    if isinstance(data, dict):
        missing = [name for name in names if name not in data]
        if missing:
            raise ValueError('Error when checking %s: no data provided for %s. Need data for '
                             'each key in: %s' % (what, missing, names))
        arrays = [data[name] for name in names]
    elif isinstance(data, (list, tuple)) and not (len(names) == 1 and _is_flat_numbers(data)):
        if len(data) != len(names):
            raise ValueError('Error when checking %s: the model expects %d array(s) (%s), '
                             'got a list of %d' % (what, len(names), ', '.join(names), len(data)))
        arrays = list(data)
    else:
        if len(names) != 1:
            raise ValueError('Error when checking %s: the model expects %d arrays (%s), but got '
                             'one array' % (what, len(names), ', '.join(names)))
        arrays = [data]
    arrays = [_as_float_array(a, what) for a in arrays]
    for name, array, shape in zip(names, arrays, shapes):
        if shape is None:
            continue
        if array.ndim == 1 and len(shape) == 2:
            array = array.reshape(-1, 1)
        if array.ndim != len(shape):
            hint = ''
            if what == 'model target' and len(shape) > 2 and array.ndim == 2:
                hint = ('; the output %s keeps the axes of its input: if a Dense layer follows '
                        'a convolution or pooling layer, put a Flatten() layer before it'
                        % _shape_str(shape))
            raise ValueError('Error when checking %s: expected %s to have %d dimensions, but got '
                             'array with shape %s%s' % (what, name, len(shape), array.shape, hint))
        for expected_dim, dim in zip(shape[1:], array.shape[1:]):
            if expected_dim is not None and expected_dim != dim:
                raise ValueError('Error when checking %s: expected %s to have shape %s but got '
                                 'array with shape %s%s'
                                 % (what, name, _shape_str(shape), array.shape,
                                    _ordering_hint(shape, array.shape)))
    for name, array in zip(names, arrays):
        check_finite(array, '%s %s' % (what, name))
    return [a.reshape(-1, 1) if a.ndim == 1 and s is not None and len(s) == 2 else a
            for a, s in zip(arrays, shapes)]


def _is_flat_numbers(data):
    return len(data) > 0 and all(np.isscalar(v) for v in data)


def _shape_str(shape):
    return '(' + ', '.join('None' if d is None else str(d) for d in shape) + \
        (',)' if len(shape) == 1 else ')')


def _check_same_length(inputs, targets, weights):
    lengths = {len(a) for a in inputs}
    if len(lengths) > 1:
        raise ValueError('All input arrays should have the same number of samples, got %s'
                         % sorted(lengths))
    target_lengths = {len(a) for a in targets}
    if len(target_lengths) > 1:
        raise ValueError('All target arrays should have the same number of samples, got %s'
                         % sorted(target_lengths))
    if lengths and target_lengths and lengths != target_lengths:
        raise ValueError('Input arrays should have the same number of samples as target arrays. '
                         'Found %d input samples and %d target samples.'
                         % (lengths.pop(), target_lengths.pop()))
    for w, t in zip(weights, targets):
        if w is not None and len(w) != len(t):
            raise ValueError('sample_weight has %d entries for %d samples' % (len(w), len(t)))


def _check_loss_and_targets(y, names, losses, output_shapes):
    if isinstance(y, dict):
        targets = [y.get(name) for name in names]
    elif isinstance(y, (list, tuple)) and len(names) > 1:
        targets = list(y)
    else:
        targets = [y]
    for target, loss, shape in zip(targets, losses, output_shapes):
        target_shape = np.shape(target) if target is not None else ()
        if getattr(loss, '__name__', '') == 'categorical_crossentropy' and \
                len(target_shape) in (1, 2) and (len(target_shape) == 1 or target_shape[-1] == 1) \
                and shape[-1] != 1:
            raise ValueError(
                'You are passing a target array of shape %s while using as loss '
                '`categorical_crossentropy`, which expects binary matrices (1s and 0s) of shape '
                '(samples, classes). Convert integer classes with '
                '`keras.utils.np_utils.to_categorical(y_int)`, or use the loss '
                '`sparse_categorical_crossentropy`, which expects integer targets.'
                % (target_shape,))


def check_loss_and_target_compatibility(targets, losses, output_shapes):
    """Keras 1.2.2's check of target arrays against their losses: class
    indices (a last axis of 1) for `categorical_crossentropy`, and targets
    whose shape differs from the output's for the losses that compare them
    element by element.

    # Arguments
        targets: list of target arrays.
        losses: list of loss functions, one per target.
        output_shapes: list of the outputs' shapes (None for any size).

    # Raises
        ValueError: naming the target's and the output's shapes.
    """
    elementwise = ('mean_squared_error', 'binary_crossentropy', 'categorical_crossentropy')
    for y, loss, shape in zip(targets, losses, output_shapes):
        name = getattr(loss, '__name__', '')
        y_shape = np.shape(y)
        if name == 'categorical_crossentropy' and y_shape[-1:] == (1,):
            raise ValueError(
                'You are passing a target array of shape %s while using as loss '
                '`categorical_crossentropy`, which expects binary matrices (1s and 0s) of shape '
                '(samples, classes). Convert integer classes with '
                '`keras.utils.np_utils.to_categorical(y_int)`, or use the loss '
                '`sparse_categorical_crossentropy`, which expects integer targets.' % (y_shape,))
        if name in elementwise:
            for target_dim, out_dim in zip(y_shape[1:], tuple(shape)[1:]):
                if out_dim is not None and target_dim != out_dim:
                    raise ValueError('A target array with shape %s was passed for an output of '
                                     'shape %s while using as loss `%s`. This loss expects '
                                     'targets to have the same shape as the output.'
                                     % (y_shape, tuple(shape), name))


@contextlib.contextmanager
def _deferred_interrupt(state):
    """Turns a Ctrl-C during training into a request to stop after the current
    batch, so that weights and optimizer state are never left half-updated.
    A second Ctrl-C interrupts at once."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return

    def request_stop(signum, frame):
        if state.get('interrupted'):
            raise KeyboardInterrupt
        state['interrupted'] = True
    signal.signal(signal.SIGINT, request_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


# Keyword arguments Keras 1's compile passed on to `theano.function`.
_THEANO_FUNCTION_OPTIONS = ('mode', 'profile', 'on_unused_input', 'allow_input_downcast')


def _caller_outside_minikeras():
    """The `stacklevel` for `warnings.warn`, called here, that names the
    first caller outside the minikeras package (the user's script)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


class Model(Container):
    """A model: a graph of layers from inputs to outputs, with Keras 1.2.2's
    training API (compile, fit, evaluate, predict).

    # Example
    ```python
        a = Input(shape=(32,))
        b = Dense(32)(a)
        model = Model(input=a, output=b)
    ```

    # Arguments
        input: an `Input` tensor or a list of them.
        output: a tensor, or a list of tensors, computed from the inputs.
        name: the model's name.
    """

    def __init__(self, input=None, output=None, name=None, inputs=None, outputs=None):
        input = input if input is not None else inputs
        output = output if output is not None else outputs
        if input is None or output is None:
            raise TypeError('Model needs input= and output= (Keras tensors)')
        super(Model, self).__init__(input, output, name=name)

    # -- compile ---------------------------------------------------------------

    def compile(self, optimizer, loss=None, metrics=None, loss_weights=None,
                sample_weight_mode=None, **kwargs):
        """Configures the model for training.

        # Arguments
            optimizer: an optimizer name ('sgd', 'adam', ...) or instance.
            loss: an objective name or function; or a list or dict with one
                per output. None (for the model, or for one output) means no
                target for that output: the model then trains on its other
                outputs' losses and on `model.losses` (Keras 2.2.4).
            metrics: list of metrics to report, e.g. `['accuracy']` (reported
                as `acc`); or a dict of lists per output.
            loss_weights: optional list or dict of per-output loss weights.
            sample_weight_mode: None (one weight per sample) or 'temporal'
                (one per timestep, for 3D outputs); or a list or dict with
                one mode per output.
            mode, profile, on_unused_input, allow_input_downcast: options
                Keras 1 passed on to `theano.function`; ignored, with a warning.
        """
        theano_options = sorted(k for k in kwargs if k in _THEANO_FUNCTION_OPTIONS)
        if theano_options:
            warnings.warn('compile: %s passed on to theano.function in Keras 1 (its TensorFlow '
                          'backend ignored them); minikeras ignores them too'
                          % ', '.join(theano_options), stacklevel=2)
            kwargs = {k: v for k, v in kwargs.items() if k not in _THEANO_FUNCTION_OPTIONS}
        if kwargs:
            raise TypeError('compile() got unexpected keyword argument(s): %s'
                            % ', '.join(sorted(kwargs)))
        modes = list(sample_weight_mode.values()) if isinstance(sample_weight_mode, dict) \
            else list(sample_weight_mode) if isinstance(sample_weight_mode, (list, tuple)) \
            else [sample_weight_mode]
        for mode in modes:
            if mode not in (None, 'temporal'):
                raise ValueError('sample_weight_mode must be None or "temporal" (or a list or '
                                 'dict of them, one per output), got %r' % (sample_weight_mode,))
        self.optimizer = optimizers.get(optimizer)
        # Names are resolved now, so that a typo fails here and not at fit time.
        if isinstance(loss, (str, dict, list, tuple)):
            for name in (loss.values() if isinstance(loss, dict) else to_list(loss)):
                _loss_or_none(name)
        self.loss = loss
        self.loss_weights = loss_weights
        self.sample_weight_mode = sample_weight_mode
        self.metrics = metrics or []
        self._compiled = False
        if self._is_built():
            self._finish_compile()

    def _is_built(self):
        return bool(self.outputs)

    def _finish_compile(self):
        """Resolves losses and metrics per output (needs the output shapes)."""
        self.loss_functions = self._per_output(self.loss, 'loss', _loss_or_none)
        # outputs compiled with a loss take targets; the others take none
        self._target_indices = [i for i, f in enumerate(self.loss_functions) if f is not None]
        # as Keras 2.2.4, what add_loss was given by compile time is trained
        self._added_loss_tensors = self._added_losses()
        if not self._target_indices and not self.losses:
            raise ValueError('Model %s cannot be compiled because it has no loss to optimize: '
                             'give compile a loss, or add one with model.add_loss' % self.name)
        weights = 1. if self.loss_weights is None else self.loss_weights
        self.loss_weights = [float(w) for w in self._per_output(weights, 'loss_weights',
                                                                lambda w: w)]
        self._sample_weight_modes = self._per_output(self.sample_weight_mode,
                                                     'sample_weight_mode', lambda m: m)
        self._set_metrics(self.metrics)
        self._graph_losses = self._find_graph_losses()
        self._graph_loss_nodes = None
        self._trainable_at_compile = [(layer, bool(layer.trainable))
                                      for layer in self._layer_tree()]
        self._trainable_checked = False
        self._compiled = True

    def _layer_tree(self):
        """The model and every layer inside it (nested models' and
        wrappers' layers too), once each."""
        found, seen, stack = [], set(), [self]
        while stack:
            layer = stack.pop()
            if id(layer) not in seen:
                seen.add(id(layer))
                found.append(layer)
                stack.extend(reversed(layer.sublayers))
        return found

    @contextlib.contextmanager
    def _trainable_as_compiled(self):
        """Within the block, every layer's `trainable` is the flag `compile`
        saw (a layer the compile did not see keeps its own); afterwards, the
        flag it had. Keras 1.2.2 and 2.x collect the trainable weights when
        the model is compiled: a flag set afterwards changes what is trained
        at the next compile only. A GAN's discriminator, frozen after its own
        compile and before the combined model's, is still trained by its own
        `train_on_batch`, and the combined model leaves it alone."""
        changed = [(layer, bool(layer.trainable))
                   for layer, flag in getattr(self, '_trainable_at_compile', ())
                   if bool(layer.trainable) != flag]
        for layer, now in changed:
            layer.trainable = not now
        try:
            yield changed
        finally:
            for layer, now in changed:
                layer.trainable = now

    def _training_leaves(self):
        """[(layer, trainable)] as the optimizer sees them: the leaf layers
        with the flags compile saw (`_trainable_as_compiled`)."""
        with self._trainable_as_compiled():
            return self._leaf_layers()

    def _find_graph_losses(self):
        """{output index: (target placeholder, loss tensor)} for the losses
        that read graph tensors besides y_true and y_pred (the variational
        autoencoder's loss reads z_mean and z_log_var): those are computed in
        the same walk as the model, as one graph."""
        from .functions import _source_tensors
        from .graph import KerasTensor
        from .input_layer import InputLayer
        found = {}
        for index, loss in enumerate(self.loss_functions):
            if loss is None or getattr(loss, 'backward', None) is not None:
                continue
            shape = self.output_shapes[index]
            y_true, y_pred = [InputLayer(batch_input_shape=shape, name='%s_%s_%d' % (
                self.name, role, index)).inbound_nodes[0].output_tensors[0]
                for role in ('target', 'prediction')]
            try:
                probe = loss(y_true, y_pred)
            except Exception:
                # not expressible on the graph: computed on arrays, as before
                continue
            if not isinstance(probe, KerasTensor) or all(
                    t is y_true or t is y_pred for t in _source_tensors([probe])):
                continue
            scores = loss(y_true, self.outputs[index])
            found[index] = (y_true, scores)
        return found

    def _run_for_loss(self, inputs, targets, training, need_backprop):
        """The model's walk, extended to the losses that are graph expressions:
        the per-output losses that read other graph tensors, and the tensors
        given to `add_loss`.

        # Returns
            `(outputs, backprop, penalty, masks, graph_scores, added)`:
            backprop takes per output the gradient of its output, or of its
            loss values for a graph loss (None for an output without loss),
            then one gradient per added loss; graph_scores
            {output index: loss values}; added, the added losses' values.
        """
        plan = getattr(self, '_graph_losses', None) or {}
        added = getattr(self, '_added_loss_tensors', None) or []
        if not plan and not added:
            outputs, backprop, penalty, masks = self._run_masked(inputs, training,
                                                                 need_backprop)
            return outputs, backprop, penalty, masks, {}, []
        from .execution import order_nodes, run_nodes
        fed = list(self.inputs) + [plan[i][0] for i in sorted(plan)]
        if self._graph_loss_nodes is None:
            self._graph_loss_nodes = order_nodes(
                list(self.outputs) + [plan[i][1] for i in sorted(plan)] + added,
                {id(t) for t in fed}, 'Model %s (loss)' % self.name)
        feeds = {id(t): x for t, x in zip(self.inputs, inputs)}
        for i in plan:
            feeds[id(plan[i][0])] = targets[i]
        values, walk_backprop, penalty, masks = run_nodes(self._graph_loss_nodes, feeds,
                                                          training, need_backprop)
        seeded = [plan[i][1] if i in plan else t for i, t in enumerate(self.outputs)] + added

        def backprop(grads):
            return walk_backprop(list(zip(seeded, grads)))
        return ([values[id(t)] for t in self.outputs], backprop, penalty,
                [masks.get(id(t)) for t in self.outputs],
                {i: values[id(plan[i][1])] for i in plan},
                [values[id(t)] for t in added])

    def _set_metrics(self, metrics):
        """Resolves `metrics` and the names the model reports (`metrics_names`)."""
        self.metrics = metrics or []
        self._metric_functions = self._resolve_metrics(self.metrics)
        names = ['loss']
        if len(self.output_names) > 1:
            names += [self.output_names[i] + '_loss' for i in self._target_indices]
        names += [label for label, _, _, _ in self._metric_functions]
        self.metrics_names = names

    def _per_output(self, value, what, resolve):
        names = self.output_names
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(names))
            if unknown:
                raise ValueError('Unknown output name(s) in %s: %s; the outputs are %s'
                                 % (what, unknown, names))
            missing = [n for n in names if n not in value]
            if missing:
                raise ValueError('%s gives nothing for output(s) %s' % (what, missing))
            return [resolve(value[n]) for n in names]
        if isinstance(value, (list, tuple)):
            if len(value) != len(names):
                raise ValueError('%s has %d entries but the model has %d outputs (%s)'
                                 % (what, len(value), len(names), names))
            return [resolve(v) for v in value]
        return [resolve(value) for _ in names]

    def _resolve_metrics(self, metrics):
        """[(label, output index, function, key)] in Keras 1's reporting order;
        `key` names one value of a metric that returns a dict, else None."""
        if isinstance(metrics, dict):
            per_output = [metrics.get(name, []) for name in self.output_names]
        else:
            per_output = [metrics for _ in self.output_names]
        resolved = []
        for index, output_metrics in enumerate(per_output):
            if self.loss_functions[index] is None:
                # as Keras 2.2.4: no target, no metric
                continue
            if isinstance(output_metrics, str) or callable(output_metrics):
                output_metrics = [output_metrics]
            prefix = self.output_names[index] + '_' if len(self.output_names) > 1 else ''
            for metric in output_metrics:
                if metric in ('accuracy', 'acc'):
                    function = self._accuracy_for(index)
                    label = 'acc'
                else:
                    function = metrics_module.get(metric)
                    label = getattr(function, '__name__', str(metric))
                    keys = self._metric_keys(function, index) if callable(metric) else None
                    if keys is not None:
                        resolved.extend((prefix + key, index, function, key) for key in keys)
                        continue
                resolved.append((prefix + label, index, function, None))
        return resolved

    def _metric_keys(self, function, index):
        """The names of the values a custom metric returns as a dict (Keras
        1.2.2 reports each one), or None for a metric with one value. Found
        by calling it once on a small constant batch of the output's shape."""
        shape = tuple(1 if d is None else d for d in self.output_shapes[index])
        probe = np.full(shape, 0.5, dtype='float32')
        try:
            with np.errstate(all='ignore'):
                value = function(probe, probe)
        except Exception:  # noqa: BLE001  (a metric that fails here fails in training, named)
            return None
        return list(value) if isinstance(value, dict) else None

    def _accuracy_for(self, index):
        loss = self.loss_functions[index]
        if self.output_shapes[index][-1] == 1 or loss is objectives.binary_crossentropy:
            return metrics_module.binary_accuracy
        if loss is objectives.sparse_categorical_crossentropy:
            return metrics_module.sparse_categorical_accuracy
        return metrics_module.categorical_accuracy

    def _check_compiled(self):
        if not hasattr(self, '_compiled'):
            raise RuntimeError('You must compile the model before training or testing it: '
                               'call model.compile(loss=..., optimizer=...)')
        if not self._compiled and self._is_built():
            self._finish_compile()

    def _build_from_data(self, x):
        """Models whose input shape is known only from data build here (no-op)."""

    # -- data checks -------------------------------------------------------------

    def _target_shapes(self):
        shapes = []
        for shape, loss in zip(self.output_shapes, self.loss_functions):
            if loss is objectives.sparse_categorical_crossentropy:
                shapes.append(tuple(shape[:-1]) + (1,))
            else:
                shapes.append(tuple(shape))
        return shapes

    def _standardize(self, x, y=None, sample_weight=None, class_weight=None,
                     with_targets=False):
        """Inputs, targets and sample weights as lists of arrays, checked.

        Targets (and their weights) are given for the outputs compiled with a
        loss only, as in Keras 2.2.4, and returned with one entry per output
        (None for an output without loss). With `y` None: no targets
        (prediction) unless `with_targets`, which checks that no output
        needs one (a model that trains on its `add_loss` losses).
        """
        self._build_from_data(x)
        if y is not None or with_targets:
            self._check_compiled()
        inputs = standardize_input_data(x, self.input_names, self.input_shapes, 'model input')
        if y is None and not with_targets:
            return inputs, None, None
        fed = self._target_indices
        names = [self.output_names[i] for i in fed]
        if isinstance(y, (list, tuple)) and not y and not fed:
            y = None
        if y is None:
            if fed:
                raise ValueError('Model %s: no target data (y is None), but output(s) %s have a '
                                 'loss and need targets; give y, or compile those outputs with '
                                 'loss None' % (self.name, names))
            if sample_weight is not None or class_weight is not None:
                raise ValueError('Model %s: sample_weight and class_weight weigh the outputs\' '
                                 'losses, but no output has a loss' % self.name)
            return inputs, [None] * len(self.outputs), [None] * len(self.outputs)
        if not fed:
            raise ValueError('Model %s: target data given (y of type %s), but no output has a '
                             'loss (compiled with loss None: the model trains on its added '
                             'losses); expected y=None' % (self.name, type(y).__name__))
        losses = [self.loss_functions[i] for i in fed]
        # Checked first: its advice (to_categorical) beats a bare shape mismatch.
        _check_loss_and_targets(y, names, losses, [self.output_shapes[i] for i in fed])
        target_shapes = self._target_shapes()
        fed_targets = standardize_input_data(y, names, [target_shapes[i] for i in fed],
                                             'model target')
        fed_weights = self._sample_weights(fed_targets, sample_weight, class_weight, fed)
        _check_same_length(inputs, fed_targets, fed_weights)
        targets, weights = [None] * len(self.outputs), [None] * len(self.outputs)
        for i, target, weight in zip(fed, fed_targets, fed_weights):
            targets[i], weights[i] = target, weight
        return inputs, targets, weights

    def _sample_weights(self, targets, sample_weight, class_weight, indices):
        """The sample weights of the outputs `indices` (whose targets are
        `targets`), from `sample_weight` and `class_weight` given for them."""
        names = [self.output_names[i] for i in indices]
        per_output_sw = self._per_output_optional(sample_weight, 'sample_weight', names)
        per_output_cw = self._per_output_optional(class_weight, 'class_weight', names)
        modes = [self._sample_weight_modes[i] for i in indices]
        weights = []
        for y, sw, cw, mode, name in zip(targets, per_output_sw, per_output_cw, modes, names):
            if sw is not None:
                sw = _as_float_array(sw, 'sample_weight')
                check_finite(sw, 'sample_weight')
                if mode == 'temporal':
                    if sw.ndim != 2:
                        raise ValueError('sample_weight_mode="temporal" needs 2D sample weights '
                                         '(samples, timesteps) for output %s, got shape %s'
                                         % (name, sw.shape))
                elif sw.ndim != 1:
                    raise ValueError('sample_weight should be 1D (one weight per sample) for '
                                     'output %s, got shape %s; use sample_weight_mode="temporal" '
                                     'for 2D' % (name, sw.shape))
                weights.append(sw)
            elif cw is not None:
                if y.ndim == 2 and y.shape[1] > 1:
                    classes = np.argmax(y, axis=1)
                else:
                    classes = np.round(y.reshape(len(y), -1)[:, 0]).astype('int64')
                weights.append(_class_weights_for(classes, cw))
            else:
                weights.append(None)
        return weights

    def _per_output_optional(self, value, what, names=None):
        names = self.output_names if names is None else names
        if value is None:
            return [None] * len(names)
        if isinstance(value, dict) and set(value) <= set(names) and value and \
                not all(isinstance(k, (int, np.integer)) for k in value):
            return [value.get(name) for name in names]
        if isinstance(value, list) and len(names) > 1:
            if len(value) != len(names):
                raise ValueError('%s has %d entries for %d outputs'
                                 % (what, len(value), len(names)))
            return list(value)
        return [value] + [None] * (len(names) - 1)

    # -- one batch -------------------------------------------------------------

    def _parameters(self):
        """[(weight, gradient buffer, constraint, regularizers)] for the optimizer, in order."""
        parameters = []
        for layer, trainable in self._training_leaves():
            if not trainable:
                continue
            regularizers = {}
            for regularizer, w in layer.weight_regularizers:
                regularizers.setdefault(id(w), []).append(regularizer)
            for w, g in zip(layer._trainable_weights, layer._gradients):
                parameters.append((w, g, layer.constraints.get(id(w)),
                                   regularizers.get(id(w), ())))
        return parameters

    def _weight_penalty(self):
        return sum(regularizer(w) for layer, _ in self._leaf_layers()
                   for regularizer, w in layer.weight_regularizers)

    def _losses(self, outputs, targets, weights, with_grads, masks=None, graph_scores=None,
                added=()):
        """Total loss, per-output losses and (optionally) the gradients: one
        per output (None for an output without loss), then one per added loss.

        Keras 1.2.2's `weighted_objective`: the per-step losses are multiplied
        by the output mask (if any) and divided by its mean, averaged down to
        the sample weights' rank, weighted, divided by the fraction of
        non-zero weights, and averaged. Keras 2.2.4 adds the `add_loss`
        tensors to the total (a tensor that is not a scalar counts by its mean).
        """
        masks = masks if masks is not None else [None] * len(outputs)
        graph_scores = graph_scores or {}
        total, per_output, output_grads = 0., [], []
        for index, (out, y, w, mask, loss, loss_weight) in enumerate(zip(
                outputs, targets, weights, masks, self.loss_functions, self.loss_weights)):
            if loss is None:
                output_grads.append(None)
                continue
            in_graph = index in graph_scores
            scores = np.asarray(graph_scores[index] if in_graph else loss(y, out))
            if scores.ndim == 0:
                # A custom loss may reduce the batch itself: its value is the batch loss.
                value = float(scores)
                coefficients = None
            else:
                coefficients = _loss_coefficients(scores.shape, w, mask, self.output_names[index])
                value = float(np.sum(coefficients * scores, dtype='float64'))
            per_output.append(value)
            total += loss_weight * value
            if with_grads:
                # a graph loss is seeded at its values: d total / d scores
                grad = np.ones_like(scores, dtype='float32') if in_graph else \
                    _loss_gradient(loss, y, out)
                if coefficients is None:
                    factor = np.float32(loss_weight)
                else:
                    factor = coefficients * np.float32(loss_weight)
                    factor = factor.reshape(factor.shape + (1,) * (grad.ndim - factor.ndim))
                output_grads.append((grad * factor).astype('float32', copy=False))
        for value in added:
            value = np.asarray(value, dtype='float32')
            total += float(np.mean(value, dtype='float64')) if value.size else 0.
            if with_grads:
                output_grads.append(np.full(value.shape, 1. / max(value.size, 1), 'float32'))
        return total, per_output, output_grads

    def _batch_results(self, total, per_output, outputs, targets):
        results = [total]
        if len(self.output_names) > 1:
            results += per_output
        dict_values = {}
        for _, index, function, key in self._metric_functions:
            if key is None:
                value = function(targets[index], outputs[index])
            else:
                if (function, index) not in dict_values:
                    dict_values[function, index] = function(targets[index], outputs[index])
                value = dict_values[function, index][key]
            results.append(float(np.mean(value)))
        return results

    def _train_arrays(self, inputs, targets, weights):
        with _single_threaded_blas(), self._trainable_as_compiled() as changed:
            if changed and not self._trainable_checked:
                # Keras 2.x's warning (Keras 1.2.2 trained the same, silently)
                warnings.warn('Model %s: `trainable` of %s changed after compile; the weights '
                              'collected at compile are trained until the model is compiled '
                              'again' % (self.name, ', '.join(layer.name for layer, _ in changed)),
                              UserWarning, stacklevel=_caller_outside_minikeras())
            self._trainable_checked = True
            return self._train_arrays_unlimited(inputs, targets, weights)

    def _train_arrays_unlimited(self, inputs, targets, weights):
        from .execution import weight_gradients_off
        from .losses_updates import apply_updates, collecting_updates
        leaves = self._training_leaves()
        # the layers the optimizer leaves alone (a frozen nested model, as a
        # GAN's discriminator in the combined model) pass gradients on
        # without computing their weights' own
        with weight_gradients_off([layer for layer, trainable in leaves if not trainable]):
            with collecting_updates() as updates:
                outputs, backprop, penalty, masks, scores, added = self._run_for_loss(
                    inputs, targets, training=True, need_backprop=True)
            total, per_output, output_grads = self._losses(outputs, targets, weights, True,
                                                           masks, scores, added)
            total += penalty + self._weight_penalty()
            results = self._batch_results(total, per_output, outputs, targets)
            parameters = self._parameters()
            writers = _start_gradients(leaves)
            backprop(output_grads)
            _finish_gradients(writers)
        for weight, grad, _, regularizers in parameters:
            for regularizer in regularizers:
                grad += regularizer.gradient(weight)
        self.optimizer.update([p[0] for p in parameters], [p[1] for p in parameters],
                              [p[2] for p in parameters])
        apply_updates(updates)
        return results

    def _test_arrays(self, inputs, targets, weights):
        with _single_threaded_blas():
            outputs, _, penalty, masks, scores, added = self._run_for_loss(
                inputs, targets, training=False, need_backprop=False)
        total, per_output, _ = self._losses(outputs, targets, weights, False, masks, scores,
                                            added)
        total += penalty + self._weight_penalty()
        return self._batch_results(total, per_output, outputs, targets)

    def _predict_arrays(self, inputs):
        with _single_threaded_blas():
            return self._run(inputs, training=False, need_backprop=False)[0]

    @staticmethod
    def _unlist(results):
        return results[0] if len(results) == 1 else results

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None):
        """Runs a single gradient update on one batch.

        # Returns
            The loss (a scalar) or, with metrics, the list `[loss, metric, ...]`
            (see `model.metrics_names`), measured before the update.
        """
        self._check_compiled()
        inputs, targets, weights = self._standardize(x, y, sample_weight, class_weight,
                                                     with_targets=True)
        _check_not_empty(len(inputs[0]), 'train_on_batch')
        return self._unlist(self._train_arrays(inputs, targets, weights))

    def test_on_batch(self, x, y, sample_weight=None):
        """Loss (and metrics) on one batch, in test mode."""
        self._check_compiled()
        inputs, targets, weights = self._standardize(x, y, sample_weight, with_targets=True)
        _check_not_empty(len(inputs[0]), 'test_on_batch')
        return self._unlist(self._test_arrays(inputs, targets, weights))

    def predict_on_batch(self, x):
        """Predictions for one batch."""
        inputs, _, _ = self._standardize(x)
        return self._unlist(self._predict_arrays(inputs))

    # -- loops -------------------------------------------------------------------

    def fit(self, x, y, batch_size=32, nb_epoch=10, verbose=1, callbacks=None,
            validation_split=0., validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, validation_freq=1):
        """Trains the model for a fixed number of epochs.

        # Arguments
            x: input array (or list/dict of arrays for several inputs).
            y: target array (or list/dict).
            batch_size: samples per gradient update.
            nb_epoch: the epoch to stop at (training runs epochs
                `initial_epoch` to `nb_epoch - 1`).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch.
            callbacks: list of `keras.callbacks.Callback`.
            validation_split: fraction of the data, taken from the end before
                any shuffling, held out for validation.
            validation_data: `(x_val, y_val)` or `(x_val, y_val, sample_weight)`;
                overrides validation_split.
            shuffle: reshuffle the training samples every epoch (True), only
                batch-wise ('batch'), or keep the order (False).
            class_weight: dict mapping class index to a loss weight.
            sample_weight: array of one loss weight per sample.
            initial_epoch: epoch to start from (to resume a run).
            validation_freq: validate every `validation_freq` epochs (an
                int), or after the epochs listed (numbered from 1).

        # Returns
            A `History` whose `.history` maps 'loss', 'acc', 'val_loss',
            'val_acc', ... to a list of per-epoch values.
        """
        self._check_compiled()
        inputs, targets, weights = self._standardize(x, y, sample_weight, class_weight,
                                                     with_targets=True)
        val_arrays = None
        if validation_data is not None:
            if len(validation_data) == 2:
                val_x, val_y = validation_data
                val_sw = None
            elif len(validation_data) == 3:
                val_x, val_y, val_sw = validation_data
            else:
                raise ValueError('validation_data should be (x_val, y_val) or '
                                 '(x_val, y_val, val_sample_weight), got a tuple of %d'
                                 % len(validation_data))
            val_arrays = self._standardize(val_x, val_y, val_sw, with_targets=True)
        elif validation_split and 0. < validation_split < 1.:
            split_at = int(len(inputs[0]) * (1. - validation_split))
            val_arrays = tuple(_slice_all(arrays, split_at, None)
                               for arrays in (inputs, targets, weights))
            inputs, targets, weights = (_slice_all(arrays, 0, split_at)
                                        for arrays in (inputs, targets, weights))
        elif validation_split:
            raise ValueError('validation_split must be in [0, 1), got %r' % (validation_split,))
        batch_size = check_batch_size(batch_size)
        nb_sample = len(inputs[0])
        _check_not_empty(nb_sample, 'fit')
        do_validation = bool(val_arrays) and len(val_arrays[0][0]) > 0
        if do_validation and verbose:
            print('Train on %d samples, validate on %d samples' % (nb_sample,
                                                                   len(val_arrays[0][0])))
        index_array = np.arange(nb_sample)

        def epoch_batches():
            nonlocal index_array
            if shuffle == 'batch':
                index_array = _batch_shuffle(index_array, batch_size)
            elif shuffle:
                np.random.shuffle(index_array)
            for start, stop in make_batches(nb_sample, batch_size):
                ids = index_array[start:stop]
                yield tuple(_take_all(arrays, ids) for arrays in (inputs, targets, weights))

        def validate():
            return self._test_loop(val_arrays, batch_size, verbose=0)
        self.validation_data = val_arrays
        return self._train_epochs(epoch_batches, nb_sample, nb_epoch, verbose, callbacks,
                                  validate if do_validation else None, initial_epoch,
                                  {'batch_size': batch_size}, validation_freq)

    def _train_epochs(self, epoch_batches, nb_sample, nb_epoch, verbose, callbacks, validate,
                      initial_epoch, extra_params=None, validation_freq=1):
        """The epoch loop shared by `fit` and `fit_generator`.

        # Arguments
            epoch_batches: function returning an iterator over one epoch's
                standardized `(inputs, targets, weights)` batches.
            nb_sample: samples per epoch (the progress bar's target).
            validate: function returning the validation results, or None.
            extra_params: more callback params; `steps` makes the progress
                bar count batches instead of samples.
            validation_freq: an int (validate every that many epochs) or a
                list of the epochs (from 1) after which to validate.
        """
        if isinstance(nb_epoch, bool) or not isinstance(nb_epoch, (int, np.integer)):
            raise TypeError('nb_epoch must be an integer, got %r' % (nb_epoch,))
        validates_after = _validation_epochs(validation_freq)
        out_labels = self.metrics_names
        callback_metrics = list(out_labels)
        if validate is not None:
            callback_metrics += ['val_' + label for label in out_labels]
        self.history = cbks.History()
        callback_list = [cbks.BaseLogger()] + list(callbacks or []) + [self.history]
        if verbose:
            callback_list.append(cbks.ProgbarLogger())
        callback_list = cbks.CallbackList(callback_list)
        callback_list.set_model(self)
        params = {'nb_epoch': nb_epoch, 'nb_sample': nb_sample, 'verbose': verbose,
                  'do_validation': validate is not None, 'metrics': callback_metrics}
        params.update(extra_params or {})
        callback_list.set_params(params)
        self.stop_training = False
        state = {}
        callback_list.on_train_begin()
        with _deferred_interrupt(state):
            for epoch in range(initial_epoch, nb_epoch):
                callback_list.on_epoch_begin(epoch)
                epoch_logs = {}
                for batch_index, (inputs, targets, weights) in enumerate(epoch_batches()):
                    batch_logs = {'batch': batch_index, 'size': len(inputs[0])}
                    callback_list.on_batch_begin(batch_index, batch_logs)
                    outs = self._train_arrays(inputs, targets, weights)
                    batch_logs.update(zip(out_labels, outs))
                    callback_list.on_batch_end(batch_index, batch_logs)
                    if state.get('interrupted') or self.stop_training:
                        break
                if state.get('interrupted'):
                    break
                # A callback that stops training mid-epoch (TerminateOnNaN) skips validation.
                if validate is not None and not self.stop_training and validates_after(epoch):
                    epoch_logs.update(('val_' + label, value)
                                      for label, value in zip(out_labels, validate()))
                callback_list.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
        callback_list.on_train_end()
        if state.get('interrupted'):
            if verbose:
                print('\nTraining interrupted; the model keeps the weights of the last '
                      'completed batch and model.history the completed epochs.')
            raise KeyboardInterrupt
        return self.history

    # -- generators --------------------------------------------------------------

    def fit_generator(self, generator, samples_per_epoch=None, nb_epoch=10, verbose=1,
                      callbacks=None, validation_data=None, nb_val_samples=None,
                      class_weight=None, max_q_size=10, nb_worker=1, pickle_safe=False,
                      initial_epoch=0, steps_per_epoch=None, validation_steps=None,
                      validation_freq=1, shuffle=True):
        """Trains the model on batches from a Python generator or a `Sequence`.

        # Arguments
            generator: yields `(inputs, targets)` or `(inputs, targets,
                sample_weights)` batches, endlessly; or a
                `keras.utils.Sequence`, whose batches are taken by index.
            samples_per_epoch: samples to draw before an epoch ends (Keras 1).
            nb_epoch: the epoch to stop at.
            verbose: 0, 1 or 2, as for `fit`.
            callbacks: list of callbacks.
            validation_data: a generator or `Sequence` (then give
                `nb_val_samples` or `validation_steps`) or a tuple
                `(x_val, y_val)` / `(x_val, y_val, sample_weight)`.
            nb_val_samples: samples to draw from a validation generator.
            class_weight: dict mapping class index to a loss weight.
            max_q_size, nb_worker, pickle_safe: accepted for Keras 1
                compatibility; batches are drawn in the training thread.
            initial_epoch: epoch to start from.
            steps_per_epoch: instead of `samples_per_epoch`, the number of
                batches per epoch (Keras 2); the progress bar then counts
                batches. A `Sequence` defaults to all of its batches.
            validation_steps: batches to draw from a validation generator.
            validation_freq: as for `fit`.
            shuffle: for a `Sequence`, visit its batches in a new random
                order each epoch.

        # Returns
            A `History`.
        """
        self._check_compiled()
        val_is_generator = _is_generator(validation_data) or _is_sequence(validation_data)
        if steps_per_epoch is None and samples_per_epoch is None:
            if not hasattr(generator, '__len__'):
                raise ValueError('fit_generator needs samples_per_epoch (Keras 1) or '
                                 'steps_per_epoch (Keras 2) for a generator')
            steps_per_epoch = len(generator)
        # Counting batches (Keras 2), a validation generator with a length needs no count.
        counts_batches = steps_per_epoch is not None and hasattr(validation_data, '__len__')
        if val_is_generator and not nb_val_samples and not validation_steps and \
                not counts_batches:
            raise ValueError('When using a generator for validation data, you must specify a '
                             'value for "nb_val_samples" (Keras 2: "validation_steps").')
        limit, what = (steps_per_epoch, 'steps_per_epoch') if steps_per_epoch is not None \
            else (samples_per_epoch, 'samples_per_epoch')
        if isinstance(limit, bool) or int(limit) != limit or limit <= 0:
            raise ValueError('%s must be a positive integer, got %r' % (what, limit))
        batches = _BatchSource(self._batch_source(generator), shuffle)

        def epoch_batches():
            seen = steps = 0
            while (steps < steps_per_epoch) if steps_per_epoch is not None else \
                    (seen < samples_per_epoch):
                x, y, sample_weight = _unpack_batch(batches.next(), 'generator')
                arrays = self._standardize(x, y, sample_weight, class_weight,
                                           with_targets=True)
                if not len(arrays[0][0]):
                    raise ValueError('The generator gave a batch of 0 samples')
                seen += len(arrays[0][0])
                steps += 1
                yield arrays
            batches.end_epoch()
            if steps_per_epoch is None and seen > samples_per_epoch:
                warnings.warn('Epoch comprised more than `samples_per_epoch` samples (%d > %d), '
                              'which might affect learning results. Set `samples_per_epoch` '
                              'correctly to avoid this warning.' % (seen, samples_per_epoch))

        validate = None
        if val_is_generator:
            def validate():
                return to_list(self.evaluate_generator(validation_data, val_samples=nb_val_samples,
                                                       steps=validation_steps))
        elif validation_data:
            val_x, val_y, val_sw = _unpack_batch(validation_data, 'validation_data')
            val_arrays = self._standardize(val_x, val_y, val_sw, with_targets=True)
            self.validation_data = val_arrays

            def validate():
                return self._test_loop(val_arrays, 32, verbose=0)
        extra = {'steps': int(steps_per_epoch)} if steps_per_epoch is not None else None
        return self._train_epochs(epoch_batches, int(limit), nb_epoch, verbose, callbacks,
                                  validate, initial_epoch, extra, validation_freq)

    def evaluate_generator(self, generator, val_samples=None, max_q_size=10, nb_worker=1,
                           pickle_safe=False, steps=None):
        """Loss (and metrics) over `val_samples` samples (or `steps` batches,
        Keras 2; all of a `Sequence` by default) drawn from a generator,
        averaged with batch-size weights.

        # Returns
            A scalar loss, or `[loss, metric, ...]`.
        """
        self._check_compiled()
        steps = _generator_steps(generator, val_samples, steps, 'evaluate_generator')
        batches = _BatchSource(self._batch_source(generator), shuffle=False)
        seen = count = 0
        totals = None
        while (count < steps) if steps is not None else (seen < val_samples):
            x, y, sample_weight = _unpack_batch(batches.next(), 'generator')
            outs = self._test_arrays(*self._standardize(x, y, sample_weight, with_targets=True))
            size = len(to_list(x)[0]) if not isinstance(x, dict) else \
                len(next(iter(x.values())))
            totals = [o * size for o in outs] if totals is None else \
                [t + o * size for t, o in zip(totals, outs)]
            seen += size
            count += 1
        return self._unlist([t / seen for t in totals])

    def predict_generator(self, generator, val_samples=None, max_q_size=10, nb_worker=1,
                          pickle_safe=False, steps=None, verbose=0):
        """Predictions for `val_samples` samples (or `steps` batches, Keras 2;
        all of a `Sequence` by default) drawn from a generator of inputs (or
        of `(inputs, targets)` tuples, whose targets are ignored).

        # Returns
            The predictions, concatenated (a list of arrays for several outputs).
        """
        steps = _generator_steps(generator, val_samples, steps, 'predict_generator')
        batches = _BatchSource(self._batch_source(generator), shuffle=False)
        seen = count = 0
        collected = None
        while (count < steps) if steps is not None else (seen < val_samples):
            batch = batches.next()
            if isinstance(batch, tuple) and len(batch) in (2, 3):
                batch = batch[0]
            inputs = self._standardize(batch)[0]
            outs = self._predict_arrays(inputs)
            collected = [[o] for o in outs] if collected is None else \
                [c + [o] for c, o in zip(collected, outs)]
            seen += len(inputs[0])
            count += 1
        return self._unlist([np.concatenate(parts) for parts in collected])

    def _batch_source(self, generator):
        """The iterator that the generator methods draw batches from: the
        generator itself (a hook for subclasses that adapt iterators)."""
        return generator

    def _test_loop(self, arrays, batch_size, verbose=0):
        inputs, targets, weights = arrays
        nb_sample = len(inputs[0])
        progbar = Progbar(target=nb_sample) if verbose == 1 else None
        totals = None
        for start, stop in make_batches(nb_sample, batch_size):
            ids = slice(start, stop)
            outs = self._test_arrays(*(_take_all(a, ids) for a in (inputs, targets, weights)))
            size = stop - start
            totals = [o * size for o in outs] if totals is None else \
                [t + o * size for t, o in zip(totals, outs)]
            if progbar is not None:
                progbar.update(stop)
        return [t / nb_sample for t in totals]

    def evaluate(self, x, y, batch_size=32, verbose=1, sample_weight=None):
        """Returns the loss (and metrics) on the given data, batch by batch.

        # Returns
            A scalar loss, or `[loss, metric, ...]` when the model has metrics.
        """
        self._check_compiled()
        arrays = self._standardize(x, y, sample_weight, with_targets=True)
        batch_size = check_batch_size(batch_size)
        _check_not_empty(len(arrays[0][0]), 'evaluate')
        return self._unlist(self._test_loop(arrays, batch_size, verbose))

    def predict(self, x, batch_size=32, verbose=0):
        """Generates output predictions, batch by batch.

        # Returns
            A float32 array of predictions (a list of arrays for several outputs).
        """
        inputs, _, _ = self._standardize(x)
        batch_size = check_batch_size(batch_size)
        nb_sample = len(inputs[0])
        progbar = Progbar(target=nb_sample) if verbose == 1 else None
        outs = None
        for start, stop in make_batches(nb_sample, batch_size):
            batch_outs = self._predict_arrays([a[start:stop] for a in inputs])
            if outs is None:
                outs = [np.empty((nb_sample,) + o.shape[1:], dtype='float32') for o in batch_outs]
            for out, batch_out in zip(outs, batch_outs):
                out[start:stop] = batch_out
            if progbar is not None:
                progbar.update(stop)
        if outs is None:
            outs = [np.empty((0,) + tuple(s[1:]), dtype='float32') for s in self.output_shapes]
        return self._unlist(outs)


def _is_generator(value):
    return hasattr(value, '__next__') or hasattr(value, 'next')


def _is_sequence(value):
    """A `keras.utils.Sequence` (or anything indexable by batch with a length)."""
    return hasattr(value, '__getitem__') and hasattr(value, '__len__') and \
        not isinstance(value, (tuple, list, dict, np.ndarray))


def _generator_steps(generator, val_samples, steps, what):
    if steps is None and val_samples is None:
        if not hasattr(generator, '__len__'):
            raise ValueError('%s needs val_samples (Keras 1) or steps (Keras 2) for a '
                             'generator' % what)
        steps = len(generator)
    return steps


def _validation_epochs(validation_freq):
    """Whether to validate after an epoch (counted from 0), as Keras 2.2.5 did."""
    if isinstance(validation_freq, (list, tuple, set)):
        wanted = set(int(e) for e in validation_freq)
        return lambda epoch: epoch + 1 in wanted
    if isinstance(validation_freq, bool) or int(validation_freq) != validation_freq or \
            validation_freq < 1:
        raise ValueError('validation_freq must be a positive integer or a list of epochs, '
                         'got %r' % (validation_freq,))
    return lambda epoch: (epoch + 1) % int(validation_freq) == 0


class _BatchSource(object):
    """Batches of a generator (`next`), or of a Sequence taken by index in
    order (shuffled each epoch when asked), calling its `on_epoch_end()`."""

    def __init__(self, generator, shuffle):
        self.generator = generator
        self.sequence = _is_sequence(generator) and not _is_generator(generator)
        self.shuffle = shuffle
        self.order = []

    def next(self):
        if not self.sequence:
            return _next_batch(self.generator)
        if not self.order:
            self.order = list(range(len(self.generator)))
            if self.shuffle:
                np.random.shuffle(self.order)
            if not self.order:
                raise ValueError('The Sequence has no batches (len() is 0)')
        return self.generator[self.order.pop(0)]

    def end_epoch(self):
        if self.sequence:
            self.order = []
            if hasattr(self.generator, 'on_epoch_end'):
                self.generator.on_epoch_end()


def _next_batch(generator):
    """The next batch, or an error saying that the generator ran out."""
    try:
        return next(generator)
    except StopIteration:
        raise ValueError('The generator ran out of batches: fit_generator, evaluate_generator '
                         'and predict_generator need an endless generator')


def _unpack_batch(batch, what):
    if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
        raise ValueError('%s should give (x, y) or (x, y, sample_weight) tuples, got %s'
                         % (what, type(batch).__name__))
    return batch if len(batch) == 3 else (batch[0], batch[1], None)


def _loss_or_none(identifier):
    """The loss function for `identifier`; None for None (an output without
    loss, as Keras 2.2.4 allows)."""
    return None if identifier is None else objectives.get(identifier)


def _loss_gradient(loss, y_true, y_pred):
    """Gradient of sum(loss(y_true, y_pred)) for y_pred: the loss's own
    `backward`, or, for a custom loss function, its traced derivative."""
    backward = getattr(loss, 'backward', None)
    if backward is not None:
        return backward(y_true, y_pred)
    from .. import autodiff
    return autodiff.vjp(lambda prediction: loss(y_true, prediction), y_pred)[1]()[0]


def _class_weights_for(classes, class_weight):
    """One loss weight per sample from `class_weight`, which must name every
    class present (Keras 1.2.2 failed with a bare KeyError)."""
    try:
        table = {int(k): float(v) for k, v in class_weight.items()}
    except (AttributeError, TypeError, ValueError):
        raise TypeError('class_weight should be a dict mapping class indices to weights, got %r'
                        % (class_weight,))
    missing = sorted(set(int(c) for c in np.unique(classes)) - set(table))
    if missing:
        raise ValueError('class_weight gives no weight for class(es) %s, present in the targets; '
                         'it has weights for %s' % (missing, sorted(table)))
    return np.asarray([table[int(c)] for c in classes], dtype='float32')


def _check_not_empty(nb_sample, what):
    if nb_sample == 0:
        raise ValueError('%s got 0 samples: the input arrays are empty%s'
                         % (what, ' (or validation_split left no sample to train on)'
                            if what == 'fit' else ''))


def weighted_objective(fn):
    """Turns an objective `fn(y_true, y_pred)` into Keras 1.2.2's sample-weighted,
    masked objective `weighted(y_true, y_pred, weights, mask=None)`.

    `weighted` returns the batch loss as training computes it: the per-entry
    losses times the mask, divided by the mask's mean, averaged down to the
    rank of `weights`, times the weights, divided by the fraction of non-zero
    weights, and averaged. An all-masked batch, or all-zero weights, give 0
    where Keras 1.2.2 divided by zero.

    # Arguments
        fn: an objective, e.g. `objectives.get('mae')`.
    """
    def weighted(y_true, y_pred, weights, mask=None):
        scores = np.asarray(fn(y_true, y_pred))
        if weights is not None:
            weights = np.asarray(weights, dtype='float32')
        coefficients = _loss_coefficients(scores.shape, weights, mask, getattr(
            fn, '__name__', 'loss'))
        return np.float32(np.sum(coefficients * scores, dtype='float64'))
    return weighted


def _loss_coefficients(score_shape, sample_weight, mask, output_name):
    """The factors `c` with batch loss = sum(c * scores), for scores of one
    value per sample (or per step): Keras 1.2.2's `weighted_objective` on
    arrays, so that its derivative is exact.

    A batch whose steps are all masked has loss 0 (Keras 1.2.2 divided by
    zero there).
    """
    coefficients = np.ones(score_shape, dtype='float32')
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != tuple(score_shape):
            raise ValueError('Output %s: its mask has shape %s but the loss gives one value per '
                             'entry of shape %s; a mask must cover the output without its last '
                             'axis' % (output_name, mask.shape, tuple(score_shape)))
        mask = mask.astype('float32')
        mask_mean = float(np.mean(mask)) if mask.size else 0.
        coefficients = mask / np.float32(mask_mean) if mask_mean > 0 else mask * 0
    weight_ndim = 1 if sample_weight is None else sample_weight.ndim
    if len(score_shape) < weight_ndim:
        raise ValueError('Output %s: sample weights of shape %s need a loss of at least %d '
                         'dimensions per batch, got shape %s'
                         % (output_name, np.shape(sample_weight), weight_ndim,
                            tuple(score_shape)))
    if sample_weight is not None and tuple(sample_weight.shape) != tuple(score_shape[:weight_ndim]):
        raise ValueError('Output %s: sample weights of shape %s do not match the loss values of '
                         'shape %s' % (output_name, sample_weight.shape, tuple(score_shape)))
    averaged = int(np.prod(score_shape[weight_ndim:], dtype='int64'))
    count = int(np.prod(score_shape[:weight_ndim], dtype='int64'))
    if sample_weight is None:
        return coefficients / np.float32(averaged * count)
    nonzero = float(np.mean(sample_weight != 0))
    nonzero = nonzero if nonzero > 0 else 1.
    weight = sample_weight.reshape(sample_weight.shape + (1,) * (len(score_shape) - weight_ndim))
    return (coefficients * weight / np.float32(nonzero * averaged * count)).astype('float32')


def _start_gradients(leaf_layers):
    """Before a training step's backprop: zeroes the gradient buffers of the
    trainable layers, except those of layers that can write their first
    gradient instead of adding it (`writes_first_gradient` in their own
    class, Dense): those are marked `_gradients_unset`, saving a pass over
    the buffer and a temporary the size of the weights. Returns the marked
    layers."""
    writers = []
    for layer, trainable in leaf_layers:
        if not trainable:
            continue
        # declared by the layer's own class: a subclass may add instead
        if type(layer).__dict__.get('writes_first_gradient', False):
            layer._gradients_unset = True
            writers.append(layer)
        else:
            for grad in layer._gradients:
                grad.fill(0.)
    return writers


def _finish_gradients(writers):
    """After backprop: the buffers of marked layers that no gradient reached are zeroed."""
    for layer in writers:
        if layer.__dict__.pop('_gradients_unset', False):
            for grad in layer._gradients:
                grad.fill(0.)


def _slice_all(arrays, start, stop):
    return [None if a is None else a[start:stop] for a in arrays]


def _take_all(arrays, ids):
    return [None if a is None else a[ids] for a in arrays]


def _batch_shuffle(index_array, batch_size):
    """Shuffles whole batches (for data that cannot be indexed at random)."""
    batch_count = len(index_array) // batch_size
    head = index_array[:batch_count * batch_size].reshape(batch_count, batch_size)
    np.random.shuffle(head)
    return np.append(head.ravel(), index_array[batch_count * batch_size:])
