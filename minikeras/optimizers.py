"""Keras 1.2.2's optimizers, applied in place to NumPy weights.

Every update is the formula of Keras 1.2.2, evaluated in float32, including
the learning-rate decay per update `lr / (1 + decay * iterations)` (where
`iterations` counts the updates already made; Keras 1 only counts them for
SGD, Adagrad, Adadelta and RMSprop when `decay > 0`). Each parameter is
updated by one compiled pass (`minikeras.kernels.optimizers`) that computes
the same float32 operations, in the same order, as the NumPy formula.
"""
import threading

import numpy as np

from .compat import keras0, keras2
from .kernels import optimizers as kernels
from .kernels import threads


def register_optimizer(cls):
    """Accepts the Keras 0.x and Keras 2 spellings of an optimizer's arguments."""
    cls = keras0.register_optimizer(cls)
    cls.__init__ = keras2.optimizer_arguments(cls.__init__)
    return cls
from .utils.generic_utils import get_from_module

_F = np.float32


_pending = threading.local()


def _run(kernel, p, g, *args):
    """kernel(p, g, *args, lo, hi) over every element, spread over the kernel
    threads; inside `Optimizer.update`, queued so that every weight's update
    runs in one pool call."""
    calls = getattr(_pending, 'calls', None)
    if calls is None:
        threads.run_ranges(kernel, p.shape[0], p.shape[0], p, g, *args)
    else:
        calls.append((kernel, p.shape[0], (p, g) + args))


def _run_pending():
    calls = _pending.calls
    if calls:
        threads.run_range_calls(calls)
        del calls[:]


def _variable(value):
    """A hyper-parameter as Keras 1 kept it: a float32 scalar variable that
    `K.set_value` (and callbacks such as LearningRateScheduler) change in place."""
    return np.array(value, dtype='float32')


class Optimizer(object):
    """Base class: gradient clipping, state bookkeeping, (de)serialisation.

    # Arguments
        clipnorm: float >= 0. Gradients are scaled down when the L2 norm of
            all of them together exceeds this value.
        clipvalue: float >= 0. Gradients are clipped element-wise to
            [-clipvalue, clipvalue].
    """

    def __init__(self, clipnorm=None, clipvalue=None, **kwargs):
        if kwargs:
            raise TypeError('%s got unexpected keyword argument(s): %s'
                            % (type(self).__name__, ', '.join(sorted(kwargs))))
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.iterations = 0.
        self._slots = None

    # Subclasses define `_slot_names` (one state array per weight each),
    # `_counts_iterations_always` and `_apply(p, g, slots, lr, scale, bound)`,
    # which updates the flat float32 views p and slots in place from g
    # clipped by (scale, bound) (see `minikeras.kernels.optimizers`).
    _slot_names = ()
    _counts_iterations_always = False

    def _clip_factors(self, grads):
        """(scale, bound): clipnorm's factor on every gradient (1: none), then
        clipvalue's bound on every element (infinity: none)."""
        scale, bound = _F(1.), _F(np.inf)
        if self.clipnorm is not None and self.clipnorm > 0:
            norm = np.sqrt(sum(kernels.sum_of_squares(g) for g in grads))
            if norm >= self.clipnorm:
                scale = _F(self.clipnorm / norm)
        if self.clipvalue is not None and self.clipvalue > 0:
            bound = _F(self.clipvalue)
        return scale, bound

    def _decayed_lr(self):
        lr = _F(self.lr)
        if self.decay > 0:
            lr = lr * (_F(1.) / (_F(1.) + _F(self.decay) * _F(self.iterations)))
        return _F(lr)

    def update(self, params, grads, constraints=None):
        """Applies one update to `params` in place.

        # Arguments
            params: list of float32 arrays, updated in place.
            grads: list of arrays of the same shapes.
            constraints: optional list (aligned with params) of callables
                applied to each new weight value, or None.
        """
        if self._slots is None:
            self._slots = [[np.zeros_like(p) for _ in self._slot_names] for p in params]
        elif len(self._slots) != len(params):
            raise ValueError('%s was used with %d weights before and %d now: one optimizer '
                             'instance belongs to one model'
                             % (type(self).__name__, len(self._slots), len(params)))
        flat_grads = []
        for p, g in zip(params, grads):
            g = np.ascontiguousarray(g, dtype=np.float32)
            if g.size != p.size:
                raise ValueError('%s: a gradient of shape %s for a weight of shape %s'
                                 % (type(self).__name__, g.shape, p.shape))
            flat_grads.append(g.reshape(-1))
        flat_slots = [self._flat_slots(index, p) for index, p in enumerate(params)]
        scale, bound = self._clip_factors(flat_grads)
        lr = self._decayed_lr()
        _pending.calls = []
        try:
            for index, (p, g) in enumerate(zip(params, flat_grads)):
                constraint = constraints[index] if constraints is not None else None
                in_place = constraint is None and p.dtype == np.float32 and p.flags.c_contiguous
                new_p = p if in_place else np.array(p, dtype=np.float32, order='C')
                self._apply(new_p.reshape(-1), g, flat_slots[index], lr, scale, bound)
                if new_p is not p:
                    _run_pending()  # the new value is needed now
                    if constraint is not None:
                        new_p = constraint(new_p)
                    p[...] = new_p
            _run_pending()
        finally:
            _pending.calls = None
        if self.decay > 0 or self._counts_iterations_always:
            self.iterations += 1.

    def _flat_slots(self, index, p):
        """The slots of weight `index` as flat float32 views the kernels update
        in place (made contiguous once if they were not)."""
        slots = self._slots[index]
        for k, slot in enumerate(slots):
            if slot.size != p.size:
                raise ValueError('%s: its %s state for weight %d has shape %s, the weight %s '
                                 '(set_weights from another model?)'
                                 % (type(self).__name__, self._slot_names[k], index,
                                    slot.shape, p.shape))
            if slot.dtype != np.float32 or not slot.flags.c_contiguous:
                slots[k] = np.ascontiguousarray(slot, dtype=np.float32)
        return [slot.reshape(-1) for slot in slots]

    def get_weights(self):
        """Returns the optimizer's state as a list of arrays (Keras 1 order)."""
        slots = self._slots or []
        state = [np.array(_F(self.iterations))] if self._counts_iterations_always or \
            isinstance(self, SGD) else []
        for slot_index in range(len(self._slot_names)):
            state.extend(weights[slot_index] for weights in slots)
        return state

    def set_weights(self, weights):
        """Restores the state returned by `get_weights` (shapes must match)."""
        weights = list(weights)
        has_counter = self._counts_iterations_always or isinstance(self, SGD)
        if has_counter:
            if not weights:
                raise ValueError('%s.set_weights: expected the iteration counter first, got nothing'
                                 % type(self).__name__)
            counter = float(np.asarray(weights.pop(0)))
        n_slots = len(self._slot_names)
        if n_slots == 0:
            if weights:
                raise ValueError('%s.set_weights: expected no slot arrays, got %d'
                                 % (type(self).__name__, len(weights)))
        elif len(weights) % n_slots:
            raise ValueError('%s.set_weights: %d arrays do not divide into %d slots per weight'
                             % (type(self).__name__, len(weights), n_slots))
        per_slot = len(weights) // n_slots if n_slots else 0
        self._slots = [[np.array(weights[s * per_slot + i], dtype=np.float32)
                        for s in range(n_slots)] for i in range(per_slot)] or self._slots
        if has_counter:
            self.iterations = counter

    def get_config(self):
        """Returns the optimizer's arguments as a dict."""
        config = {}
        if self.clipnorm is not None:
            config['clipnorm'] = self.clipnorm
        if self.clipvalue is not None:
            config['clipvalue'] = self.clipvalue
        return config

    @classmethod
    def from_config(cls, config):
        """Creates an optimizer from `get_config()`'s dict."""
        return cls(**config)


@register_optimizer
class SGD(Optimizer):
    """Stochastic gradient descent, with momentum, Nesterov momentum and decay.

    # Arguments
        lr: float >= 0. Learning rate.
        momentum: float >= 0. Parameter updates momentum.
        decay: float >= 0. Learning rate decay over each update.
        nesterov: boolean. Whether to apply Nesterov momentum.
    """
    _slot_names = ('moment',)

    def __init__(self, lr=0.01, momentum=0., decay=0., nesterov=False, **kwargs):
        super(SGD, self).__init__(**kwargs)
        self.lr, self.momentum, self.decay = _variable(lr), _variable(momentum), _variable(decay)
        self.nesterov = nesterov

    def _apply(self, p, g, slots, lr, scale, bound):
        _run(kernels.sgd_update, p, g, slots[0], lr, _F(self.momentum), bool(self.nesterov),
             scale, bound)

    def get_config(self):
        config = {'lr': float(self.lr), 'momentum': float(self.momentum),
                  'decay': float(self.decay), 'nesterov': self.nesterov}
        config.update(super(SGD, self).get_config())
        return config


@register_optimizer
class RMSprop(Optimizer):
    """RMSProp: divides the gradient by a running average of its magnitude.

    # Arguments
        lr: float >= 0. Learning rate.
        rho: float >= 0. Decay of the running average.
        epsilon: float >= 0. Fuzz factor.
        decay: float >= 0. Learning rate decay over each update.
    """
    _slot_names = ('accumulator',)

    def __init__(self, lr=0.001, rho=0.9, epsilon=1e-8, decay=0., **kwargs):
        super(RMSprop, self).__init__(**kwargs)
        self.lr, self.rho, self.decay = _variable(lr), _variable(rho), _variable(decay)
        self.epsilon = epsilon

    def _apply(self, p, g, slots, lr, scale, bound):
        rho = _F(self.rho)
        _run(kernels.rmsprop_update, p, g, slots[0], lr, rho, _F(1.) - rho, _F(self.epsilon),
             scale, bound)

    def get_config(self):
        config = {'lr': float(self.lr), 'rho': float(self.rho), 'decay': float(self.decay),
                  'epsilon': self.epsilon}
        config.update(super(RMSprop, self).get_config())
        return config


@register_optimizer
class Adagrad(Optimizer):
    """Adagrad: per-weight learning rates from the sum of squared gradients.

    # Arguments
        lr: float >= 0. Learning rate.
        epsilon: float >= 0. Fuzz factor.
        decay: float >= 0. Learning rate decay over each update.
    """
    _slot_names = ('accumulator',)

    def __init__(self, lr=0.01, epsilon=1e-8, decay=0., **kwargs):
        super(Adagrad, self).__init__(**kwargs)
        self.lr, self.decay, self.epsilon = _variable(lr), _variable(decay), epsilon

    def _apply(self, p, g, slots, lr, scale, bound):
        _run(kernels.adagrad_update, p, g, slots[0], lr, _F(self.epsilon), scale, bound)

    def get_config(self):
        config = {'lr': float(self.lr), 'decay': float(self.decay), 'epsilon': self.epsilon}
        config.update(super(Adagrad, self).get_config())
        return config


@register_optimizer
class Adadelta(Optimizer):
    """Adadelta: an adaptive learning rate from running averages of
    squared gradients and squared updates.

    # Arguments
        lr: float >= 0. Learning rate (1.0 as in the paper).
        rho: float >= 0. Decay of the running averages.
        epsilon: float >= 0. Fuzz factor.
        decay: float >= 0. Learning rate decay over each update.
    """
    _slot_names = ('accumulator', 'delta_accumulator')

    def __init__(self, lr=1.0, rho=0.95, epsilon=1e-8, decay=0., **kwargs):
        super(Adadelta, self).__init__(**kwargs)
        self.lr, self.rho, self.decay = _variable(lr), _variable(rho), _variable(decay)
        self.epsilon = epsilon

    def _apply(self, p, g, slots, lr, scale, bound):
        rho = _F(self.rho)
        _run(kernels.adadelta_update, p, g, slots[0], slots[1], lr, rho, _F(1.) - rho,
             _F(self.epsilon), scale, bound)

    def get_config(self):
        config = {'lr': float(self.lr), 'rho': float(self.rho), 'decay': float(self.decay),
                  'epsilon': self.epsilon}
        config.update(super(Adadelta, self).get_config())
        return config


@register_optimizer
class Adam(Optimizer):
    """Adam (Kingma and Ba), with Keras 1's bias-corrected learning rate.

    # Arguments
        lr: float >= 0. Learning rate.
        beta_1, beta_2: floats in (0, 1). Decay of the moment estimates.
        epsilon: float >= 0. Fuzz factor.
        decay: float >= 0. Learning rate decay over each update.
    """
    _slot_names = ('m', 'v')
    _counts_iterations_always = True

    def __init__(self, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, decay=0., amsgrad=False,
                 **kwargs):
        super(Adam, self).__init__(**kwargs)
        self.lr, self.beta_1, self.beta_2 = _variable(lr), _variable(beta_1), _variable(beta_2)
        self.epsilon, self.decay = epsilon, _variable(decay)
        self.amsgrad = bool(amsgrad)
        if self.amsgrad:
            self._slot_names = ('m', 'v', 'v_hat')

    def _bias_corrected(self, lr):
        t = _F(self.iterations + 1)
        return lr * (np.sqrt(_F(1.) - _F(self.beta_2) ** t) / (_F(1.) - _F(self.beta_1) ** t))

    def _apply(self, p, g, slots, lr, scale, bound):
        b1, b2 = _F(self.beta_1), _F(self.beta_2)
        # AMSGrad (Keras 2.1+): the denominator uses the largest v so far.
        v_hat = slots[2] if self.amsgrad else slots[1]
        _run(kernels.adam_update, p, g, slots[0], slots[1], v_hat, self.amsgrad,
             _F(self._bias_corrected(lr)), b1, _F(1.) - b1, b2, _F(1.) - b2, _F(self.epsilon),
             scale, bound)

    def get_config(self):
        config = {'lr': float(self.lr), 'beta_1': float(self.beta_1),
                  'beta_2': float(self.beta_2), 'decay': float(self.decay),
                  'epsilon': self.epsilon}
        if self.amsgrad:
            config['amsgrad'] = True
        config.update(super(Adam, self).get_config())
        return config


@register_optimizer
class Adamax(Adam):
    """Adamax: the infinity-norm variant of Adam.

    # Arguments
        lr: float >= 0. Learning rate.
        beta_1, beta_2: floats in (0, 1).
        epsilon: float >= 0. Fuzz factor.
        decay: float >= 0. Learning rate decay over each update.
    """
    _slot_names = ('m', 'u')

    def __init__(self, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-8, decay=0., **kwargs):
        super(Adamax, self).__init__(lr, beta_1, beta_2, epsilon, decay, **kwargs)

    def _apply(self, p, g, slots, lr, scale, bound):
        b1 = _F(self.beta_1)
        t = _F(self.iterations + 1)
        _run(kernels.adamax_update, p, g, slots[0], slots[1], _F(lr / (_F(1.) - b1 ** t)), b1,
             _F(1.) - b1, _F(self.beta_2), _F(self.epsilon), scale, bound)


@register_optimizer
class Nadam(Optimizer):
    """Nesterov Adam (Dozat), with Keras 1's warming momentum schedule.

    # Arguments
        lr: float >= 0. Learning rate.
        beta_1, beta_2: floats in (0, 1).
        epsilon: float >= 0. Fuzz factor.
        schedule_decay: float, the momentum schedule's decay (0.004).
    """
    _slot_names = ('m', 'v')
    _counts_iterations_always = True

    def __init__(self, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-8, schedule_decay=0.004,
                 **kwargs):
        super(Nadam, self).__init__(**kwargs)
        self.lr, self.beta_1, self.beta_2 = _variable(lr), _variable(beta_1), _variable(beta_2)
        self.epsilon, self.schedule_decay = epsilon, schedule_decay
        self.decay = 0.
        self.m_schedule = _F(1.)

    def _momentum_cache(self, t):
        return _F(self.beta_1) * (_F(1.) - _F(0.5) * _F(0.96) ** (t * _F(self.schedule_decay)))

    def update(self, params, grads, constraints=None):
        t = _F(self.iterations + 1)
        self._cache_t = self._momentum_cache(t)
        self._cache_next = self._momentum_cache(t + _F(1.))
        self._schedule_new = self.m_schedule * self._cache_t
        self._schedule_next = self._schedule_new * self._cache_next
        self._t = t
        super(Nadam, self).update(params, grads, constraints)
        self.m_schedule = self._schedule_new

    def _apply(self, p, g, slots, lr, scale, bound):
        b1, b2 = _F(self.beta_1), _F(self.beta_2)
        _run(kernels.nadam_update, p, g, slots[0], slots[1], _F(lr), b1, _F(1.) - b1, b2,
             _F(1.) - b2, _F(_F(1.) - self._schedule_new), _F(_F(1.) - self._schedule_next),
             _F(_F(1.) - b2 ** self._t), _F(_F(1.) - self._cache_t), _F(self._cache_next),
             _F(self.epsilon), scale, bound)

    def set_weights(self, weights):
        super(Nadam, self).set_weights(weights)
        # Keras 1 saves no m_schedule: it is the product of the caches so far.
        self.m_schedule = _F(1.)
        for step in range(1, int(self.iterations) + 1):
            self.m_schedule = self.m_schedule * self._momentum_cache(_F(step))

    def get_config(self):
        config = {'lr': float(self.lr), 'beta_1': float(self.beta_1),
                  'beta_2': float(self.beta_2), 'epsilon': self.epsilon,
                  'schedule_decay': self.schedule_decay}
        config.update(super(Nadam, self).get_config())
        return config


# Keras 1.2.2's lower-case aliases: `optimizers.rmsprop(lr=0.001)` is an RMSprop.
sgd, rmsprop, adagrad, adadelta = SGD, RMSprop, Adagrad, Adadelta
adam, adamax, nadam = Adam, Adamax, Nadam

_BY_NAME = {'sgd': SGD, 'rmsprop': RMSprop, 'adagrad': Adagrad, 'adadelta': Adadelta,
            'adam': Adam, 'adamax': Adamax, 'nadam': Nadam}

# Keras 2's lower-case aliases of the classes (`keras.optimizers.rmsprop(lr=1e-4)`).
sgd, rmsprop, adagrad, adadelta, adam, adamax, nadam = (SGD, RMSprop, Adagrad, Adadelta, Adam,
                                                       Adamax, Nadam)


def get(identifier, kwargs=None):
    """Returns an optimizer instance for a name, a config dict or an instance.

    # Arguments
        identifier: 'sgd', 'adam', ... (any case), `{'class_name': .., 'config': ..}`,
            or an `Optimizer`.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError('Unknown optimizer: %r. Known: %s.'
                             % (identifier, ', '.join(sorted(_BY_NAME))))
        return cls(**(kwargs or {}))
    if isinstance(identifier, dict):
        by_class = {cls.__name__: cls for cls in _BY_NAME.values()}
        by_class.update(_BY_NAME)
        return get_from_module(identifier, by_class, 'optimizer')
    raise ValueError('optimizer must be a name, a config dict or an Optimizer instance, got %r'
                     % (identifier,))

from .compat.unsupported import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr('optimizers')
