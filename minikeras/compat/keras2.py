"""Keras 2.0-2.2 spellings, translated once, at the edge, into the one internal form.

The generation is told per call, as Keras 2.2.4's own legacy interface told
it: a constructor called with a Keras 2 argument (`Conv2D(32, (3, 3),
padding='same')`, `Dense(units=10)`, `Dropout(rate=0.5)`) is a Keras 2 call
and gets Keras 2's behaviour; a call in Keras 1 spelling keeps Keras 1's. A
call that says nothing either way (`MaxPooling2D((2, 2))`, `Flatten()`,
`BatchNormalization()`) follows the script's generation (`version`), which
`minikeras run` guesses from the script's source (`guess_generation`).

What a Keras 2 call changes besides the names:

- image layers default to `K.image_data_format()` ('channels_last' unless
  keras.json or the script says otherwise) instead of Keras 1's 'th';
- initializer names mean Keras 2's initializers (`glorot_normal` truncated,
  `orthogonal` of gain 1: `minikeras.initializers`);
- `BatchNormalization` updates its moving variance with the unbiased batch
  variance, as Keras 2.2 did;
- `Flatten` on 'channels_first' data flattens in channels-last order.

An argument valid in neither generation raises a TypeError naming it and
the nearest spelling of each generation. The layers never see a Keras 2 name.
"""
import ast
import difflib
import functools
import inspect
import numbers
import re
import warnings

from . import version

# The arguments every Keras 2 layer takes (base `Layer`), and how they map.
_BASE_2 = ('input_shape', 'batch_input_shape', 'batch_size', 'dtype', 'name', 'trainable',
           'weights', 'input_dtype')
_BASE_1 = ('input_shape', 'batch_input_shape', 'input_dtype', 'name', 'trainable', 'weights')

# Keras 0.x names that `keras0` translates after this module.
_KERAS_0_NAMES = ('poolsize', 'stride', 'ignore_border', 'subsample_length')

_DATA_FORMATS = {'channels_first': 'th', 'channels_last': 'tf'}


class Spec(object):
    """How one layer family's Keras 2 arguments map onto its Keras 1 form.

    # Arguments
        renames: {Keras 2 name: Keras 1 name}, both generations' names of one
            argument (a value conversion, if any, is in `convert`).
        same: arguments spelled alike in both generations.
        markers: Keras 2 names that only a Keras 2 call uses (by default the
            keys of `renames` that differ from their Keras 1 name).
        convert: {Keras 2 name: function(layer name, value) -> Keras 1 value}.
        positional: function(args, kwargs) -> True when the arguments'
            values can only be Keras 2's (e.g. a tuple kernel_size).
        positional_2: the names of Keras 2's positional arguments, in order.
        positional_same: whether those positions mean the same in a Keras 1
            call (then they are read by their Keras 2 names in both).
        image: whether the layer has an image layout (data_format).
        finish: function(name, kwargs, keras_2) run last, on Keras 1 kwargs.
    """

    def __init__(self, renames=None, same=(), markers=None, convert=None, positional=None,
                 positional_2=(), positional_same=True, image=False, finish=None):
        self.renames = dict(renames or {})
        self.same = tuple(same)
        self.markers = set(markers if markers is not None else
                           (k for k, v in self.renames.items() if k != v))
        self.convert = dict(convert or {})
        self.positional = positional
        self.positional_2 = tuple(positional_2)
        self.positional_same = positional_same
        self.image = image
        self.finish = finish

    def keras_2_names(self):
        return set(self.renames) | set(self.same) | set(_BASE_2)


def keras2_arguments(spec):
    """Decorates a layer's `__init__` so that a Keras 2 call is translated
    into its Keras 1 arguments (and Keras 2's defaults) before it runs."""
    def decorate(init):
        keras_1_names = set(inspect.signature(init).parameters) - {'self', 'kwargs'}
        keras_1_names |= set(_BASE_1)

        @functools.wraps(init)
        def wrapper(self, *args, **kwargs):
            keras_2 = is_keras_2_call(spec, args, kwargs) or version.is_keras_2()
            args, kwargs = translate(type(self).__name__, spec, keras_1_names,
                                     list(args), dict(kwargs))
            if keras_2 and _is_layer(self) and 'name' not in kwargs and \
                    not getattr(self, '_keras_2_named', False):
                kwargs['name'] = _keras_2_default_name(type(self))
                # A subclass's __init__ calling this one's keeps the name chosen first.
                self._keras_2_named = True
            init(self, *args, **kwargs)
            if keras_2:
                self.keras_2_call = True
        wrapper.keras2_spec = spec
        return wrapper
    return decorate


def _is_layer(obj):
    from ..engine.base_layer import Layer
    return isinstance(obj, Layer)


# Keras 2's class names of layers minikeras keeps under their Keras 1 names.
KERAS_2_CLASS_NAMES = {'Convolution1D': 'Conv1D', 'Convolution2D': 'Conv2D',
                       'AtrousConvolution1D': 'Conv1D', 'AtrousConvolution2D': 'Conv2D',
                       'Convolution3D': 'Conv3D', 'SeparableConvolution2D': 'SeparableConv2D'}


def keras_2_class_name(cls):
    """The name Keras 2 gave a layer class (`Conv2D` for `Convolution2D`)."""
    return KERAS_2_CLASS_NAMES.get(cls.__name__, cls.__name__)


def _keras_2_default_name(cls):
    """Keras 2's default layer name: the class name in snake case, numbered."""
    from ..engine.base_layer import get_uid
    camel = keras_2_class_name(cls)
    words = re.sub('(.)([A-Z][a-z0-9]+)', r'\1_\2', camel)
    snake = re.sub('([a-z])([A-Z])', r'\1_\2', words).lower()
    return '%s_%d' % (snake, get_uid(snake))


def keras2_function_arguments(spec):
    """`keras2_arguments` for a plain function (no `self`)."""
    def decorate(function):
        keras_1_names = set(inspect.signature(function).parameters) - {'kwargs'}

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            args, kwargs = translate(function.__name__, spec, keras_1_names, list(args),
                                     dict(kwargs), layer=False)
            return function(*args, **kwargs)
        return wrapper
    return decorate


def is_keras_2_call(spec, args, kwargs):
    """Whether a constructor call is spelled the Keras 2 way."""
    if spec.markers & set(kwargs):
        return True
    return bool(spec.positional and spec.positional(args, kwargs))


def translate(name, spec, keras_1_names, args, kwargs, layer=True):
    """Returns the Keras 1 `(args, kwargs)` of a call in either generation
    (of a layer's constructor, unless `layer` is False)."""
    _check_names(name, spec, keras_1_names, kwargs)
    keras_2 = is_keras_2_call(spec, args, kwargs)
    if keras_2 and len(args) > len(spec.positional_2):
        raise TypeError('%s takes at most %d positional argument(s) in Keras 2 (%s), got %d; '
                        'pass the others by keyword' % (name, len(spec.positional_2),
                                                        ', '.join(spec.positional_2), len(args)))
    if (keras_2 or spec.positional_same) and len(args) <= len(spec.positional_2):
        for key, value in zip(spec.positional_2, args):
            if key in kwargs:
                raise TypeError('%s got multiple values for argument %r' % (name, key))
            kwargs[key] = value
        args = []
    for new, old in spec.renames.items():
        if new not in kwargs:
            continue
        value = kwargs.pop(new)
        if new in spec.convert:
            value = spec.convert[new](name, value)
        if old is None:
            continue
        if old in kwargs:
            raise TypeError('%s: both %s (Keras 2) and %s (Keras 1) given; keep one'
                            % (name, new, old))
        kwargs[old] = value
    if layer:
        _base_arguments(kwargs)
    if spec.image and 'dim_ordering' not in kwargs and (keras_2 or version.is_keras_2()):
        from .. import backend
        kwargs['dim_ordering'] = backend.dim_ordering_of(backend.image_data_format())
    if spec.finish is not None:
        spec.finish(name, kwargs, keras_2 or version.is_keras_2())
    return args, kwargs


def _base_arguments(kwargs):
    """Keras 2's `dtype` and `batch_size` in Keras 1's terms."""
    if 'dtype' in kwargs:
        kwargs.setdefault('input_dtype', kwargs.pop('dtype'))
    batch_size = kwargs.pop('batch_size', None)
    if batch_size is not None and 'input_shape' in kwargs:
        kwargs['batch_input_shape'] = (batch_size,) + tuple(kwargs.pop('input_shape'))


def _check_names(name, spec, keras_1_names, kwargs):
    keras_2_names = spec.keras_2_names()
    for key in kwargs:
        if key in keras_1_names or key in keras_2_names or key in _KERAS_0_NAMES:
            continue
        nearest_2, nearest_1 = _nearest_spellings(key, spec, keras_1_names, keras_2_names)
        raise TypeError('%s: unknown argument %r; nearest Keras 2 spelling: %s; nearest Keras 1 '
                        'spelling: %s' % (name, key, _quoted(nearest_2), _quoted(nearest_1)))


def _nearest_spellings(key, spec, keras_1_names, keras_2_names):
    """The closest name of either generation, and its counterpart in the other."""
    best = _nearest(key, keras_1_names | keras_2_names)
    if best is None:
        return None, None
    to_1 = {new: _KERAS_1_SPELLINGS.get(old, old) for new, old in spec.renames.items()
            if old is not None}
    to_2 = {old: new for new, old in to_1.items()}
    if best in keras_2_names:
        nearest_1 = to_1.get(best, best if best in keras_1_names else None)
        return best, nearest_1 or _nearest(key, keras_1_names)
    nearest_2 = to_2.get(best, best if best in keras_2_names else None)
    return nearest_2 or _nearest(key, keras_2_names), best


# Internal names that a Keras 1 user spelled otherwise.
_KERAS_1_SPELLINGS = {'kernel_size': 'nb_row, nb_col'}


def _nearest(key, names):
    found = difflib.get_close_matches(key, sorted(names), n=1, cutoff=0.5)
    return found[0] if found else None


def _quoted(name):
    return repr(name) if name else 'none'


# -- value conversions -------------------------------------------------------


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _tuple_n(n, what):
    """An int or an n-sequence of ints, as Keras 2's conv_utils.normalize_tuple."""
    def convert(name, value):
        if value is None:
            return None
        if _is_int(value):
            return (int(value),) * n
        try:
            values = tuple(value)
        except TypeError:
            values = ()
        if len(values) != n or not all(_is_int(v) for v in values):
            raise ValueError('%s: %s must be an integer or a tuple of %d integers, got %r'
                             % (name, what, n, value))
        return tuple(int(v) for v in values)
    return convert


def _single(what):
    pair = _tuple_n(1, what)

    def convert(name, value):
        return None if value is None else pair(name, value)[0]
    return convert


def _padding(name, value):
    if value not in ('valid', 'same'):
        raise ValueError("%s: padding must be 'valid' or 'same', got %r%s"
                         % (name, value, " (causal padding is not supported)"
                            if value == 'causal' else ''))
    return value


def _data_format(name, value):
    if value is None:
        from .. import backend
        value = backend.image_data_format()
    if value not in _DATA_FORMATS:
        raise ValueError("%s: data_format must be 'channels_first' or 'channels_last', got %r"
                         % (name, value))
    return _DATA_FORMATS[value]


def _channels_last_only(name, value):
    if value not in (None, 'channels_last'):
        raise ValueError("%s: only data_format='channels_last' is supported for temporal data, "
                         "got %r" % (name, value))
    return None


def _no_dilation(n):
    as_tuple = _tuple_n(n, 'dilation_rate')

    def convert(name, value):
        if any(d != 1 for d in as_tuple(name, value)):
            raise ValueError('%s: dilation_rate=%r is not supported (minikeras has no dilated '
                             'convolution kernel yet); nearest: dilation_rate=1' % (name, value))
        return None
    return convert


def _initializer(name, value):
    """A Keras 2 initializer as the layers take it. A name that means the
    same in Keras 1 stays a Keras 1 name (so configs stay Keras 1 configs)."""
    from .. import initializers
    if isinstance(value, str) and value in _SAME_INITIALIZER_NAMES:
        return _SAME_INITIALIZER_NAMES[value]
    try:
        return initializers.get(value)
    except ValueError as error:
        raise ValueError('%s: %s' % (name, error))


_SAME_INITIALIZER_NAMES = {
    'glorot_uniform': 'glorot_uniform', 'he_uniform': 'he_uniform',
    'lecun_uniform': 'lecun_uniform', 'zeros': 'zero', 'zero': 'zero', 'Zeros': 'zero',
    'ones': 'one', 'one': 'one', 'Ones': 'one', 'uniform': 'uniform',
    'random_uniform': 'uniform', 'RandomUniform': 'uniform', 'normal': 'normal',
    'random_normal': 'normal', 'RandomNormal': 'normal'}


def _activation(name, value):
    return value


_WEIGHTS = {'kernel_initializer': 'init', 'bias_initializer': 'bias_init',
            'kernel_regularizer': 'W_regularizer', 'bias_regularizer': 'b_regularizer',
            'kernel_constraint': 'W_constraint', 'bias_constraint': 'b_constraint',
            'use_bias': 'bias', 'activity_regularizer': 'activity_regularizer',
            'activation': 'activation'}
_WEIGHT_CONVERT = {'kernel_initializer': _initializer, 'bias_initializer': _initializer}


def _kernel_size_2(args, kwargs):
    """Conv2D(filters, kernel_size): two positional arguments, or a tuple second."""
    return len(args) == 2 or (len(args) >= 2 and isinstance(args[1], (tuple, list)))


def _first_or(key, args, kwargs):
    return args[0] if args else kwargs.get(key)


def _unpack_kernel_size_2(name, kwargs, keras_2):
    if 'kernel_size' in kwargs:
        kwargs['nb_row'], kwargs['nb_col'] = kwargs.pop('kernel_size')


def _pair_int(name, kwargs, keras_2):
    """Keras 2 lets a pool size or stride be one int."""
    for key in ('pool_size', 'strides', 'size'):
        if _is_int(kwargs.get(key)):
            kwargs[key] = (kwargs[key], kwargs[key])


def _symmetric_pairs(name, value):
    """ZeroPadding2D/Cropping2D: Keras 2's int or ((top, bottom), (left, right));
    other forms (Keras 1's) are left to the layer to check."""
    if _is_int(value):
        return ((value, value), (value, value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value):
        return ((value[0], value[0]), (value[1], value[1]))
    return value


def _zero_padding_2d(name, value):
    pairs = _symmetric_pairs(name, value)
    if isinstance(pairs, (tuple, list)) and len(pairs) == 2 and \
            all(isinstance(p, (tuple, list)) and len(p) == 2 for p in pairs):
        (top, bottom), (left, right) = pairs
        return (top, bottom, left, right)
    return value


def _is_keras_2_padding(args, kwargs):
    """An int, or ((top, bottom), (left, right)): only Keras 2 pads so."""
    value = _first_or('padding', args, kwargs)
    return _is_int(value) or (isinstance(value, (tuple, list)) and len(value) == 2 and
                              all(isinstance(v, (tuple, list)) for v in value))


def _is_keras_2_cropping(args, kwargs):
    """An int, or (rows, cols): only Keras 2 crops so."""
    value = _first_or('cropping', args, kwargs)
    return _is_int(value) or (isinstance(value, (tuple, list)) and len(value) == 2 and
                              all(_is_int(v) for v in value))


def _flatten_finish(name, kwargs, keras_2):
    if keras_2 and 'dim_ordering' not in kwargs:
        from .. import backend
        kwargs['dim_ordering'] = backend.dim_ordering_of(backend.image_data_format())


def _batchnorm_finish(name, kwargs, keras_2):
    kwargs.setdefault('unbiased_moving_variance', keras_2)


# -- the layers' specs ---------------------------------------------------------

DENSE = Spec(dict(_WEIGHTS, units='output_dim'), same=('input_dim',),
             convert=_WEIGHT_CONVERT, positional_2=('units',))

CONV2D = Spec(dict(_WEIGHTS, filters='nb_filter', kernel_size='kernel_size',
                   strides='subsample', padding='border_mode', data_format='dim_ordering',
                   dilation_rate=None),
              markers=None,
              convert=dict(_WEIGHT_CONVERT, kernel_size=_tuple_n(2, 'kernel_size'),
                           strides=_tuple_n(2, 'strides'), padding=_padding,
                           data_format=_data_format, dilation_rate=_no_dilation(2)),
              positional=_kernel_size_2, positional_2=('filters', 'kernel_size'),
              positional_same=False, image=True, finish=_unpack_kernel_size_2)
CONV2D.markers.add('kernel_size')

CONV1D = Spec(dict(_WEIGHTS, filters='nb_filter', kernel_size='filter_length',
                   strides='subsample_length', padding='border_mode', data_format=None,
                   dilation_rate=None),
              same=('input_dim', 'input_length'),
              convert=dict(_WEIGHT_CONVERT, kernel_size=_single('kernel_size'),
                           strides=_single('strides'), padding=_padding,
                           data_format=_channels_last_only, dilation_rate=_no_dilation(1)),
              positional=lambda args, kwargs: len(args) >= 2 and isinstance(args[1],
                                                                            (tuple, list)),
              positional_2=('filters', 'kernel_size'))

# Conv2D/Conv1D(dilation_rate > 1) are made as Keras 1's atrous layers (see
# `is_dilated`), whose Keras 2 spelling is Conv2D's with dilation_rate kept.
ATROUS_CONV2D = Spec(dict(CONV2D.renames, dilation_rate='atrous_rate'), markers=None,
                     convert=dict(CONV2D.convert, dilation_rate=_tuple_n(2, 'dilation_rate')),
                     positional=_kernel_size_2, positional_2=('filters', 'kernel_size'),
                     positional_same=False, image=True, finish=_unpack_kernel_size_2)
ATROUS_CONV2D.markers.add('kernel_size')
ATROUS_CONV1D = Spec(dict(CONV1D.renames, dilation_rate='atrous_rate'), same=CONV1D.same,
                     convert=dict(CONV1D.convert, dilation_rate=_single('dilation_rate')),
                     positional=CONV1D.positional, positional_2=('filters', 'kernel_size'))


def is_dilated(kwargs):
    """Whether a Conv1D/Conv2D call asks for a dilation above 1."""
    rate = kwargs.get('dilation_rate', 1)
    rates = rate if isinstance(rate, (tuple, list)) else (rate,)
    return any(r != 1 for r in rates)


def _always(args, kwargs):
    return True


def _output_padding(n):
    """Keras 2's output_padding: None, or an int or n ints, none negative."""
    as_tuple = _tuple_n(n, 'output_padding')

    def convert(name, value):
        if value is None:
            return None
        values = as_tuple(name, value)
        if min(values) < 0:
            raise ValueError('%s: output_padding must be >= 0, got %r' % (name, value))
        return values
    return convert


# Layers only Keras 2 has: every call of them is a Keras 2 call.
CONV2D_TRANSPOSE = Spec(
    dict(CONV2D.renames, output_padding='output_padding'), markers=None,
    convert=dict(CONV2D.convert, output_padding=_output_padding(2)),
    positional=_always, positional_2=('filters', 'kernel_size', 'strides', 'padding',
                                      'output_padding', 'data_format'),
    image=True, finish=_unpack_kernel_size_2)
DEPTHWISE_CONV2D = Spec(
    {'kernel_size': 'kernel_size', 'strides': 'strides', 'padding': 'border_mode',
     'depth_multiplier': 'depth_multiplier', 'data_format': 'dim_ordering',
     'activation': 'activation', 'use_bias': 'bias',
     'depthwise_initializer': 'depthwise_initializer', 'bias_initializer': 'bias_initializer',
     'depthwise_regularizer': 'depthwise_regularizer', 'bias_regularizer': 'bias_regularizer',
     'activity_regularizer': 'activity_regularizer',
     'depthwise_constraint': 'depthwise_constraint', 'bias_constraint': 'bias_constraint'},
    convert={'kernel_size': _tuple_n(2, 'kernel_size'), 'strides': _tuple_n(2, 'strides'),
             'padding': _padding, 'data_format': _data_format,
             'depthwise_initializer': _initializer, 'bias_initializer': _initializer},
    positional=_always, positional_2=('kernel_size', 'strides', 'padding', 'depth_multiplier',
                                      'data_format'), image=True)

DROPOUT = Spec({'rate': 'p', 'noise_shape': 'noise_shape', 'seed': 'seed'},
               positional_2=('rate', 'noise_shape', 'seed'))
SPATIAL_DROPOUT_2D = Spec({'rate': 'p', 'data_format': 'dim_ordering'},
                          convert={'data_format': _data_format}, positional_2=('rate',),
                          image=True)
SPATIAL_DROPOUT_1D = Spec({'rate': 'p'}, positional_2=('rate',))
GAUSSIAN_NOISE = Spec({'stddev': 'sigma'}, positional_2=('stddev',))
GAUSSIAN_DROPOUT = Spec({'rate': 'p'}, positional_2=('rate',))
# A layer only Keras 2 has: every call of it is a Keras 2 call.
ALPHA_DROPOUT = Spec({'rate': 'rate', 'noise_shape': 'noise_shape', 'seed': 'seed'},
                     positional=lambda args, kwargs: True,
                     positional_2=('rate', 'noise_shape', 'seed'))

POOLING2D = Spec({'pool_size': 'pool_size', 'strides': 'strides', 'padding': 'border_mode',
                  'data_format': 'dim_ordering'},
                 convert={'padding': _padding, 'data_format': _data_format},
                 positional_2=('pool_size', 'strides', 'padding'), image=True, finish=_pair_int)
POOLING1D = Spec({'pool_size': 'pool_length', 'strides': 'stride', 'padding': 'border_mode',
                  'data_format': None},
                 convert={'pool_size': _single('pool_size'), 'strides': _single('strides'),
                          'padding': _padding, 'data_format': _channels_last_only},
                 positional_2=('pool_size', 'strides', 'padding'))
GLOBAL_POOLING2D = Spec({'data_format': 'dim_ordering'}, convert={'data_format': _data_format},
                        image=True)
GLOBAL_POOLING1D = Spec({'data_format': None}, convert={'data_format': _channels_last_only})

UPSAMPLING2D = Spec({'size': 'size', 'data_format': 'dim_ordering', 'interpolation': None},
                    markers={'data_format', 'interpolation'},
                    convert={'data_format': _data_format,
                             'interpolation': lambda name, value: _nearest_only(name, value)},
                    positional_2=('size',), image=True, finish=_pair_int)
UPSAMPLING1D = Spec({'size': 'length'}, positional_2=('size',))
ZEROPADDING2D = Spec({'padding': 'padding', 'data_format': 'dim_ordering'},
                     markers={'data_format'},
                     convert={'padding': _zero_padding_2d, 'data_format': _data_format},
                     positional=_is_keras_2_padding, positional_2=('padding',), image=True)
CROPPING2D = Spec({'cropping': 'cropping', 'data_format': 'dim_ordering'},
                  markers={'data_format'},
                  convert={'cropping': _symmetric_pairs, 'data_format': _data_format},
                  positional=_is_keras_2_cropping, positional_2=('cropping',), image=True)

FLATTEN = Spec({'data_format': 'dim_ordering'}, convert={'data_format': _data_format},
               finish=_flatten_finish)

BATCH_NORMALIZATION = Spec(
    {'axis': 'axis', 'momentum': 'momentum', 'epsilon': 'epsilon', 'center': 'center',
     'scale': 'scale', 'beta_initializer': 'beta_init', 'gamma_initializer': 'gamma_init',
     'moving_mean_initializer': 'moving_mean_init',
     'moving_variance_initializer': 'moving_variance_init',
     'beta_regularizer': 'beta_regularizer', 'gamma_regularizer': 'gamma_regularizer',
     'beta_constraint': 'beta_constraint', 'gamma_constraint': 'gamma_constraint'},
    markers={'center', 'scale', 'beta_initializer', 'gamma_initializer',
             'moving_mean_initializer', 'moving_variance_initializer', 'beta_constraint',
             'gamma_constraint'},
    convert={key: _initializer for key in ('beta_initializer', 'gamma_initializer',
                                           'moving_mean_initializer',
                                           'moving_variance_initializer')},
    finish=_batchnorm_finish)

EMBEDDING = Spec({'embeddings_initializer': 'init', 'embeddings_regularizer': 'W_regularizer',
                  'embeddings_constraint': 'W_constraint',
                  'activity_regularizer': 'activity_regularizer'},
                 same=('input_dim', 'output_dim', 'mask_zero', 'input_length'),
                 convert={'embeddings_initializer': _initializer},
                 positional_2=('input_dim', 'output_dim'))

def _only(expected, what):
    """A Keras 2 argument minikeras takes at one value only (its Keras 1 behaviour)."""
    def convert(name, value):
        if value not in expected:
            raise ValueError('%s: %s=%r has no Keras 1 equivalent; minikeras takes %s'
                             % (name, what, value, ' or '.join(repr(v) for v in expected[:1])))
        return None
    return convert


CONV_LSTM2D = Spec(
    {'filters': 'nb_filter', 'kernel_size': 'kernel_size', 'strides': 'subsample',
     'padding': 'border_mode', 'data_format': 'dim_ordering', 'dilation_rate': None,
     'kernel_initializer': 'init', 'recurrent_initializer': 'inner_init',
     'recurrent_activation': 'inner_activation', 'unit_forget_bias': 'forget_bias_init',
     'kernel_regularizer': 'W_regularizer', 'recurrent_regularizer': 'U_regularizer',
     'bias_regularizer': 'b_regularizer', 'dropout': 'dropout_W',
     'recurrent_dropout': 'dropout_U', 'use_bias': None, 'bias_initializer': None,
     'activity_regularizer': None, 'kernel_constraint': None, 'recurrent_constraint': None,
     'bias_constraint': None},
    same=('activation', 'return_sequences', 'go_backwards', 'stateful'),
    convert={'kernel_size': _tuple_n(2, 'kernel_size'), 'strides': _tuple_n(2, 'strides'),
             'padding': _padding, 'data_format': _data_format, 'dilation_rate': _no_dilation(2),
             'kernel_initializer': _initializer, 'recurrent_initializer': _initializer,
             'unit_forget_bias': lambda name, value: 'one' if value else 'zero',
             'use_bias': _only((True,), 'use_bias'),
             'bias_initializer': _only(('zeros', 'zero', 'Zeros'), 'bias_initializer'),
             'activity_regularizer': _only((None,), 'activity_regularizer'),
             'kernel_constraint': _only((None,), 'kernel_constraint'),
             'recurrent_constraint': _only((None,), 'recurrent_constraint'),
             'bias_constraint': _only((None,), 'bias_constraint')},
    positional=_kernel_size_2, positional_2=('filters', 'kernel_size'), positional_same=False,
    image=True, finish=_unpack_kernel_size_2)
CONV_LSTM2D.markers.add('kernel_size')

PRELU = Spec({'alpha_initializer': 'init', 'alpha_regularizer': 'alpha_regularizer',
              'alpha_constraint': 'alpha_constraint', 'shared_axes': 'shared_axes'},
             markers={'alpha_initializer', 'alpha_regularizer', 'alpha_constraint'},
             convert={'alpha_initializer': _initializer}, positional_2=('alpha_initializer',),
             positional_same=False)


def _strict_patience(name, kwargs, keras_2):
    kwargs.setdefault('strict_patience', keras_2)


EARLY_STOPPING = Spec({'baseline': 'baseline', 'restore_best_weights': 'restore_best_weights'},
                      markers={'baseline', 'restore_best_weights'}, finish=_strict_patience)
REDUCE_LR_ON_PLATEAU = Spec({'min_delta': 'epsilon'}, finish=_strict_patience)
MODEL_CHECKPOINT = Spec(finish=lambda name, kwargs, keras_2:
                        kwargs.setdefault('count_epochs_from_1', keras_2))


TO_CATEGORICAL = Spec({'num_classes': 'nb_classes', 'dtype': 'dtype'},
                      markers={'num_classes', 'dtype'}, positional_2=('y', 'num_classes'),
                      finish=lambda name, kwargs, keras_2: kwargs.setdefault('keep_shape',
                                                                             keras_2))


IMAGE_DATA_GENERATOR = Spec(
    {'data_format': 'dim_ordering', 'zca_epsilon': 'zca_epsilon',
     'brightness_range': 'brightness_range', 'validation_split': 'validation_split'},
    markers={'data_format', 'brightness_range', 'validation_split', 'zca_epsilon'},
    convert={'data_format': _data_format}, image=True)


# -- the 3D, separable and locally connected layers ----------------------------------


def _kernel_size_positional(args, kwargs):
    """Conv3D/SeparableConv2D/LocallyConnected2D(filters, kernel_size): two
    positional arguments, or a tuple second."""
    return len(args) == 2 or (len(args) >= 2 and isinstance(args[1], (tuple, list)))


def _unpack_kernel_size_3(name, kwargs, keras_2):
    if 'kernel_size' in kwargs:
        (kwargs['kernel_dim1'], kwargs['kernel_dim2'],
         kwargs['kernel_dim3']) = kwargs.pop('kernel_size')


def _triple_int(name, kwargs, keras_2):
    """Keras 2 lets a 3D pool size, stride or upsampling size be one int."""
    for key in ('pool_size', 'strides', 'size'):
        if _is_int(kwargs.get(key)):
            kwargs[key] = (kwargs[key],) * 3


def _zero_padding_3d(name, value):
    """Keras 2's int, 3 ints or 3 (before, after) pairs as Keras 1's 3 ints."""
    if _is_int(value):
        return (value,) * 3
    if isinstance(value, (tuple, list)) and len(value) == 3 and \
            all(isinstance(p, (tuple, list)) for p in value):
        if any(len(p) != 2 or p[0] != p[1] for p in value):
            raise ValueError('%s: padding %r pads unevenly; minikeras pads each axis by the '
                             'same amount on both sides (Keras 1.2.2)' % (name, value))
        return tuple(p[0] for p in value)
    return value


def _is_keras_2_padding_3d(args, kwargs):
    """An int, or 3 (before, after) pairs: only Keras 2 pads a volume so."""
    value = _first_or('padding', args, kwargs)
    return _is_int(value) or (isinstance(value, (tuple, list)) and len(value) == 3 and
                              all(isinstance(v, (tuple, list)) for v in value))


def _is_keras_2_cropping_3d(args, kwargs):
    """An int, or 3 ints: only Keras 2 crops a volume so."""
    value = _first_or('cropping', args, kwargs)
    return _is_int(value) or (isinstance(value, (tuple, list)) and len(value) == 3 and
                              all(_is_int(v) for v in value))


def _cropping_3d(name, value):
    """Keras 2's int or 3 ints as Keras 1's 3 (before, after) pairs."""
    if _is_int(value):
        return ((value, value),) * 3
    if isinstance(value, (tuple, list)) and len(value) == 3 and all(_is_int(v) for v in value):
        return tuple((v, v) for v in value)
    return value


def _separable_finish(name, kwargs, keras_2):
    _unpack_kernel_size_2(name, kwargs, keras_2)
    _same_pointwise_init(name, kwargs, keras_2)


def _same_pointwise_init(name, kwargs, keras_2):
    pointwise = kwargs.pop('pointwise_init', None)
    if pointwise is not None:
        from .. import initializations
        depthwise = kwargs.get('init', 'glorot_uniform')
        if initializations.serialize(_initializer(name, pointwise)) != \
                initializations.serialize(_initializer(name, depthwise)):
            raise ValueError('%s: pointwise_initializer %r differs from depthwise_initializer '
                             '%r; minikeras (as Keras 1.2.2) initializes both kernels alike'
                             % (name, pointwise, depthwise))


def _zeros_bias(name, value):
    if value in ('zeros', 'zero', 'Zeros') or type(value).__name__ == 'Zeros':
        return None
    raise ValueError("%s: only bias_initializer='zeros' is supported; got %r" % (name, value))


CONV3D = Spec(dict(_WEIGHTS, filters='nb_filter', kernel_size='kernel_size',
                   strides='subsample', padding='border_mode', data_format='dim_ordering',
                   dilation_rate=None),
              convert=dict(_WEIGHT_CONVERT, kernel_size=_tuple_n(3, 'kernel_size'),
                           strides=_tuple_n(3, 'strides'), padding=_padding,
                           data_format=_data_format, dilation_rate=_no_dilation(3)),
              positional=_kernel_size_positional, positional_2=('filters', 'kernel_size'),
              positional_same=False, image=True, finish=_unpack_kernel_size_3)
CONV3D.markers.add('kernel_size')

SEPARABLE_CONV2D = Spec(
    {'filters': 'nb_filter', 'kernel_size': 'kernel_size', 'strides': 'subsample',
     'padding': 'border_mode', 'data_format': 'dim_ordering', 'dilation_rate': None,
     'depth_multiplier': 'depth_multiplier', 'activation': 'activation', 'use_bias': 'bias',
     'depthwise_initializer': 'init', 'pointwise_initializer': 'pointwise_init',
     'bias_initializer': None, 'depthwise_regularizer': 'depthwise_regularizer',
     'pointwise_regularizer': 'pointwise_regularizer', 'bias_regularizer': 'b_regularizer',
     'activity_regularizer': 'activity_regularizer',
     'depthwise_constraint': 'depthwise_constraint',
     'pointwise_constraint': 'pointwise_constraint', 'bias_constraint': 'b_constraint'},
    convert={'kernel_size': _tuple_n(2, 'kernel_size'), 'strides': _tuple_n(2, 'strides'),
             'padding': _padding, 'data_format': _data_format,
             'dilation_rate': _no_dilation(2), 'depthwise_initializer': _initializer,
             'bias_initializer': _zeros_bias},
    positional=_kernel_size_positional, positional_2=('filters', 'kernel_size'),
    positional_same=False, image=True, finish=_separable_finish)
SEPARABLE_CONV2D.markers.add('kernel_size')



def _temporal_data_format(name, value):
    """Keras 2.2.4's SeparableConv1D: channels_last unless told, whatever
    `image_data_format()` says."""
    if value not in _DATA_FORMATS:
        raise ValueError("%s: data_format must be 'channels_first' or 'channels_last', got %r"
                         % (name, value))
    return value


# Layers only Keras 2 has: every call of them is a Keras 2 call.
SEPARABLE_CONV1D = Spec(
    dict(SEPARABLE_CONV2D.renames, kernel_size='filter_length', strides='subsample_length',
         data_format='data_format'),
    convert=dict(SEPARABLE_CONV2D.convert, kernel_size=_single('kernel_size'),
                 strides=_single('strides'), data_format=_temporal_data_format,
                 dilation_rate=_no_dilation(1)),
    positional=_always, positional_2=('filters', 'kernel_size', 'strides', 'padding',
                                      'data_format', 'dilation_rate', 'depth_multiplier'),
    finish=_same_pointwise_init)


CONV3D_TRANSPOSE = Spec(
    dict(CONV3D.renames, output_padding='output_padding'), markers=None,
    convert=dict(CONV3D.convert, output_padding=_output_padding(3)),
    positional=_always, positional_2=('filters', 'kernel_size', 'strides', 'padding',
                                      'output_padding', 'data_format'),
    image=True)

LOCALLY_CONNECTED_2D = Spec(
    dict(_WEIGHTS, filters='nb_filter', kernel_size='kernel_size', strides='subsample',
         padding='border_mode', data_format='dim_ordering'),
    convert=dict(_WEIGHT_CONVERT, kernel_size=_tuple_n(2, 'kernel_size'),
                 strides=_tuple_n(2, 'strides'), padding=_padding, data_format=_data_format),
    positional=_kernel_size_positional, positional_2=('filters', 'kernel_size'),
    positional_same=False, image=True, finish=_unpack_kernel_size_2)
LOCALLY_CONNECTED_2D.markers.add('kernel_size')
LOCALLY_CONNECTED_1D = Spec(
    dict(_WEIGHTS, filters='nb_filter', kernel_size='filter_length',
         strides='subsample_length', padding='border_mode', data_format=None),
    same=('input_dim', 'input_length'),
    convert=dict(_WEIGHT_CONVERT, kernel_size=_single('kernel_size'),
                 strides=_single('strides'), padding=_padding,
                 data_format=_channels_last_only),
    positional=CONV1D.positional, positional_2=('filters', 'kernel_size'))

POOLING3D = Spec({'pool_size': 'pool_size', 'strides': 'strides', 'padding': 'border_mode',
                  'data_format': 'dim_ordering'},
                 convert={'padding': _padding, 'data_format': _data_format},
                 positional=lambda args, kwargs: _is_int(_first_or('pool_size', args, kwargs)),
                 positional_2=('pool_size', 'strides', 'padding'), image=True,
                 finish=_triple_int)
GLOBAL_POOLING3D = Spec({'data_format': 'dim_ordering'}, convert={'data_format': _data_format},
                        image=True)
UPSAMPLING3D = Spec({'size': 'size', 'data_format': 'dim_ordering'}, markers={'data_format'},
                    convert={'data_format': _data_format},
                    positional=lambda args, kwargs: _is_int(_first_or('size', args, kwargs)),
                    positional_2=('size',), image=True, finish=_triple_int)
ZEROPADDING3D = Spec({'padding': 'padding', 'data_format': 'dim_ordering'},
                     markers={'data_format'},
                     convert={'padding': _zero_padding_3d, 'data_format': _data_format},
                     positional=_is_keras_2_padding_3d,
                     positional_2=('padding',), image=True)
CROPPING3D = Spec({'cropping': 'cropping', 'data_format': 'dim_ordering'},
                  markers={'data_format'},
                  convert={'cropping': _cropping_3d, 'data_format': _data_format},
                  positional=_is_keras_2_cropping_3d,
                  positional_2=('cropping',), image=True)
SPATIAL_DROPOUT_3D = Spec({'rate': 'p', 'data_format': 'dim_ordering'},
                          convert={'data_format': _data_format}, positional_2=('rate',),
                          image=True)


# -- the recurrent layers ---------------------------------------------------------


def _must_be(expected, advice):
    """A Keras 2 argument minikeras takes at one value only (others name it)."""
    def convert(name, value):
        if value != expected and not (expected is None and value is None):
            raise ValueError('%s: %s; got %r' % (name, advice, value))
        return None
    return convert


def _recurrent_finish(name, kwargs, keras_2):
    if not keras_2:
        return
    from .. import initializers
    # Keras 2 keeps one kernel per weight, the gates side by side ('gpu' in Keras 1),
    # and its orthogonal recurrent kernel has gain 1 (Keras 1's scaled it by 1.1).
    kwargs.setdefault('consume_less', 'gpu')
    kwargs.setdefault('inner_init', initializers.get('orthogonal'))


def _flag(name, value):
    if value not in (True, False, 0, 1):
        raise ValueError('%s: expected True or False, got %r' % (name, value))
    return bool(value)


def _implementation(name, value):
    if value not in (0, 1, 2):
        raise ValueError('%s: implementation must be 0, 1 or 2, got %r' % (name, value))
    return None


def _recurrent_spec(lstm=False, gru=False):
    renames = {'units': 'output_dim', 'kernel_initializer': 'init',
               'recurrent_initializer': 'inner_init', 'kernel_regularizer': 'W_regularizer',
               'recurrent_regularizer': 'U_regularizer', 'bias_regularizer': 'b_regularizer',
               'dropout': 'dropout_W', 'recurrent_dropout': 'dropout_U',
               'use_bias': None, 'bias_initializer': None, 'activity_regularizer': None,
               'kernel_constraint': None, 'recurrent_constraint': None,
               'bias_constraint': None, 'return_state': 'return_state'}
    convert = {'kernel_initializer': _initializer, 'recurrent_initializer': _initializer,
               'use_bias': _must_be(True, 'only use_bias=True is supported'),
               'activity_regularizer': _must_be(None, 'activity_regularizer is not supported '
                                                'on recurrent layers'),
               'return_state': _flag}
    for key in ('kernel_constraint', 'recurrent_constraint', 'bias_constraint'):
        convert[key] = _must_be(None, 'weight constraints are not supported on recurrent '
                                'layers')
    convert['bias_initializer'] = _zeros_bias
    if lstm or gru:
        renames.update(recurrent_activation='inner_activation', implementation=None)
        convert['implementation'] = _implementation
    if lstm:
        renames['unit_forget_bias'] = None
        convert['unit_forget_bias'] = _must_be(True, 'only unit_forget_bias=True (the forget '
                                               "gate's bias starts at 1) is supported")
    if gru:
        renames['reset_after'] = 'reset_after'
        convert['reset_after'] = _flag
    # Keras 1's consume_less and truncate_gradient are accepted beside Keras 2's names.
    markers = set(k for k, v in renames.items() if k != v) | {'return_state'}
    if gru:
        markers.add('reset_after')
    return Spec(renames, markers=markers, same=('activation', 'return_sequences', 'go_backwards', 'stateful',
                               'unroll', 'input_dim', 'input_length', 'consume_less',
                               'truncate_gradient'),
                convert=convert, positional_2=('units',), finish=_recurrent_finish)


SIMPLE_RNN = _recurrent_spec()
GRU = _recurrent_spec(gru=True)
LSTM = _recurrent_spec(lstm=True)


# Layers spelled alike in both generations: only Keras 2's default name differs
# (leaky_re_lu_1 for leakyrelu_1), in a Keras 2 script.
SAME_IN_BOTH = Spec()


def _nearest_only(name, value):
    if value != 'nearest':
        raise ValueError("%s: interpolation=%r is not supported; nearest: 'nearest'"
                         % (name, value))
    return None


def optimizer_arguments(init):
    """Decorates an optimizer's `__init__`: Keras 2 writes `epsilon=None` for
    `K.epsilon()` (1e-7), and its default `epsilon` is that, not Keras 1's
    1e-8; `Adam(amsgrad=...)` is a Keras 2 call."""
    parameters = list(inspect.signature(init).parameters)

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        if 'epsilon' in parameters:
            given = 'epsilon' in kwargs or len(args) > parameters.index('epsilon') - 1
            keras_2 = 'amsgrad' in kwargs or (given and kwargs.get('epsilon', 0) is None) or \
                version.is_keras_2()
            if keras_2 and kwargs.get('epsilon') is None and not (
                    given and 'epsilon' not in kwargs):
                from .. import backend
                kwargs['epsilon'] = backend.epsilon()
        return init(self, *args, **kwargs)
    return wrapper


# -- keras.applications ---------------------------------------------------------


def keras2_application(keras_2_model):
    """Decorates a `keras.applications` constructor of Keras 1.2.2 so that a
    Keras 2 call builds Keras 2.2.4's model with `keras_2_model` instead.

    A call is Keras 2's when it passes `pooling` (an argument only Keras 2.2.4
    has) or the script is Keras 2's (`version`): `InceptionV3(weights='imagenet',
    include_top=False)` says nothing either way. Positional arguments follow
    the generation's own order (Keras 2.2.4 put `pooling` before `classes`).
    """
    def decorate(keras_1_model):
        @functools.wraps(keras_1_model)
        def wrapper(*args, **kwargs):
            if 'pooling' in kwargs or version.is_keras_2():
                return keras_2_model(*args, **kwargs)
            return keras_1_model(*args, **kwargs)
        wrapper.keras_2_model = keras_2_model
        return wrapper
    return decorate


# -- the script's generation -------------------------------------------------

# Keyword arguments only Keras 2 spells so; and Keras 2 names a script imports.
_KERAS_2_KEYWORDS = {
    'units', 'filters', 'kernel_size', 'kernel_initializer', 'bias_initializer',
    'kernel_regularizer', 'bias_regularizer', 'kernel_constraint', 'use_bias',
    'data_format', 'dilation_rate', 'epochs', 'steps_per_epoch', 'validation_steps',
    'use_multiprocessing', 'embeddings_initializer', 'recurrent_activation', 'rate',
    'inputs', 'outputs', 'stddev', 'gamma_initializer', 'beta_initializer',
    'restore_best_weights', 'validation_freq'}
_KERAS_2_NAMES = {
    'to_categorical', 'image_data_format', 'set_image_data_format', 'Add', 'Concatenate',
    'Multiply', 'Average', 'Maximum', 'Subtract', 'Dot', 'add', 'concatenate', 'multiply',
    'average', 'maximum', 'subtract', 'initializers', 'losses', 'Sequence', 'MaxPool2D',
    'AvgPool2D', 'GlobalMaxPool2D', 'GlobalAvgPool2D', 'Conv2DTranspose', 'SeparableConv2D',
    'TerminateOnNaN', 'save_img'}


def _callee(call):
    return getattr(call.func, 'id', getattr(call.func, 'attr', ''))


def _keras_callees():
    """The names whose calls tell a script's generation: the layers, the
    model methods and classes, the callbacks, to_categorical."""
    from .. import callbacks, layers, optimizers
    from ..preprocessing import image
    names = {name for module in (layers, callbacks, optimizers)
             for name in dir(module) if not name.startswith('_')}
    names.update(name for name in dir(image) if not name.startswith('_'))
    names.update(('fit', 'fit_generator', 'evaluate_generator', 'predict_generator', 'Model',
                  'Sequential', 'to_categorical', 'evaluate', 'predict', 'flow',
                  'flow_from_directory'))
    names.update(dir(Keras2ModelAPI))
    return names


def guess_generation(source):
    """Guesses whether a script was written for Keras 2 from its source.

    It is Keras 2 when a call uses a Keras 2 keyword (`epochs=`, `units=`,
    `kernel_size=`, `padding=` on a layer, ...) or passes a tuple kernel
    size (`Conv2D(32, (3, 3))`), or the script imports a name only Keras 2
    has from keras (`to_categorical` from keras.utils, `Concatenate`, ...).

    # Returns
        `(generation, reason)`: '2.2.4' and what gave it away, or
        `(None, None)` when nothing in the source is Keras 2's (or it does
        not parse as Python 3).
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None, None
    keras_callees = _keras_callees()
    for node in ast.walk(tree):
        # Only calls of Keras's names count: `train(model, epochs=3)` may be the script's own.
        if isinstance(node, ast.Call) and _callee(node) in keras_callees:
            for keyword in node.keywords:
                if keyword.arg in _KERAS_2_KEYWORDS or (
                        keyword.arg == 'padding' and isinstance(keyword.value, ast.Constant) and
                        keyword.value.value in ('same', 'valid', 'causal')):
                    return '2.2.4', 'line %d: %s=' % (node.lineno, keyword.arg)
            callee = _callee(node)
            if callee in ('Conv1D', 'Conv2D', 'Convolution2D', 'Conv3D') and \
                    len(node.args) >= 2 and isinstance(node.args[1], (ast.Tuple, ast.List)):
                return '2.2.4', 'line %d: %s with a tuple kernel size' % (node.lineno, callee)
        if isinstance(node, ast.ImportFrom) and (node.module or '').split('.')[0] == 'keras':
            for alias in node.names:
                keras_1_path = alias.name == 'to_categorical' and node.module != 'keras.utils'
                if alias.name in _KERAS_2_NAMES and not keras_1_path:
                    return '2.2.4', 'line %d: from %s import %s' % (
                        node.lineno, node.module, alias.name)
        if isinstance(node, ast.Attribute) and node.attr in ('to_categorical',
                                                             'image_data_format') and \
                getattr(node.value, 'id', getattr(node.value, 'attr', '')) in ('utils', 'K',
                                                                               'backend'):
            return '2.2.4', 'line %d: %s' % (node.lineno, node.attr)
    return None, None


# -- model methods ---------------------------------------------------------------

_GENERATOR_RENAMES = {'max_queue_size': 'max_q_size', 'workers': 'nb_worker',
                      'use_multiprocessing': 'pickle_safe'}
_KERAS_1_GENERATOR_NAMES = ('samples_per_epoch', 'nb_epoch', 'nb_val_samples', 'val_samples',
                            'max_q_size', 'nb_worker', 'pickle_safe')


def _generator_call_is_keras_2(kwargs, keras_2_names):
    if any(name in kwargs for name in keras_2_names):
        return True
    if any(name in kwargs for name in _KERAS_1_GENERATOR_NAMES):
        return False
    return version.is_keras_2()


def _rename_generator_options(kwargs):
    for new, old in _GENERATOR_RENAMES.items():
        if new in kwargs:
            if old in kwargs:
                raise TypeError('both %s (Keras 2) and %s (Keras 1) given; keep one' % (new, old))
            kwargs[old] = kwargs.pop(new)


class Keras2ModelAPI(object):
    """Keras 2's model methods and arguments, on top of the Keras 1 model:
    `fit(epochs=...)`, `fit_generator(steps_per_epoch=..., workers=...)`,
    `evaluate_generator(steps=...)`, `predict_generator(steps=...)`, and
    `summary()` in Keras 2's layout for a Keras 2 model.

    Where the two generations give a positional argument different meanings
    (`fit_generator(gen, 100, 5)`: 100 samples in Keras 1, 100 batches in
    Keras 2), a call with any Keras 2 keyword is read as Keras 2's, one with a
    Keras 1 keyword as Keras 1's, and otherwise as the script's generation.
    """

    def summary(self, line_length=None, positions=None, print_fn=None):
        """Prints the layers, output shapes and parameter counts: in Keras
        2.2.4's layout (Keras 2 class names, 65 columns for a chain of
        layers) for a Keras 2 model, else in Keras 1.2.2's.

        # Arguments
            line_length, positions: the width and the column stops
                (fractions of the width, or absolute).
            print_fn: the function that prints each line (Keras 2).
        """
        if is_keras_2_model(self):
            return print_keras_2_summary(self, line_length, positions, print_fn)
        options = {}
        if line_length is not None:
            options['line_length'] = line_length
        if positions is not None:
            options['positions'] = positions
        return super(Keras2ModelAPI, self).summary(**options)

    def compile(self, optimizer, loss=None, metrics=None, loss_weights=None,
                sample_weight_mode=None, **kwargs):
        """Configures the model for training (see `Model.compile`). In a
        Keras 2 script, an output missing from a `loss` dict has no loss
        (Keras 2.2.4 warned and expected no target for it); Keras 1 refused."""
        if isinstance(loss, dict) and version.is_keras_2() and self.outputs:
            missing = [name for name in self.output_names if name not in loss]
            for name in missing:
                warnings.warn('Output "%s" missing from loss dictionary. We assume this was '
                              'done on purpose, and we will not be expecting any data to be '
                              'passed to "%s" during training.' % (name, name), stacklevel=2)
            loss = dict(loss, **{name: None for name in missing})
        return super(Keras2ModelAPI, self).compile(optimizer, loss, metrics=metrics,
                                                   loss_weights=loss_weights,
                                                   sample_weight_mode=sample_weight_mode,
                                                   **kwargs)

    def fit(self, x=None, y=None, batch_size=None, epochs=None, verbose=1, callbacks=None,
            validation_split=0., validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_freq=1, nb_epoch=None, **kwargs):
        """Trains the model (see `Model.fit`).

        # Arguments
            epochs, nb_epoch: the epoch to stop at (Keras 2's and Keras 1's
                names); without either, 1 epoch in a Keras 2 script (as Keras
                2) and 10 otherwise (as Keras 1).
            batch_size: None means 32.
            validation_freq: validate every that many epochs, or after the
                listed epochs (numbered from 1).
            steps_per_epoch, validation_steps: Keras 2 counted these for
                symbolic tensors (TensorFlow), which minikeras has not; with
                arrays, give batch_size instead.
        """
        from .keras0 import DEFAULT
        if steps_per_epoch is not None or validation_steps is not None:
            raise ValueError('fit: steps_per_epoch and validation_steps count batches of '
                             'symbolic (TensorFlow) input tensors, which minikeras has not; with '
                             'arrays give batch_size, or use fit_generator(steps_per_epoch=...)')
        if x is None:
            raise ValueError('fit: x (arrays) is needed; minikeras has no input tensors to '
                             'train from')
        if epochs is not None and nb_epoch is not None:
            raise TypeError('fit: both epochs (Keras 2) and nb_epoch (Keras 1) given; keep one')
        if epochs is not None:
            kwargs['nb_epoch'] = epochs
        elif nb_epoch is not None:
            kwargs['nb_epoch'] = nb_epoch
        elif version.is_keras_2():
            kwargs['nb_epoch'] = 1
        return super(Keras2ModelAPI, self).fit(
            x, y, batch_size=DEFAULT if batch_size is None else batch_size, verbose=verbose,
            callbacks=callbacks, validation_split=validation_split,
            validation_data=validation_data, shuffle=shuffle, class_weight=class_weight,
            sample_weight=sample_weight, initial_epoch=initial_epoch,
            validation_freq=validation_freq, **kwargs)

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None,
                 steps=None, **kwargs):
        """Loss (and metrics) on data (see `Model.evaluate`); batch_size None means 32."""
        from .keras0 import DEFAULT
        if steps is not None:
            raise ValueError('evaluate: steps counts batches of symbolic (TensorFlow) tensors, '
                             'which minikeras has not; give arrays and batch_size')
        return super(Keras2ModelAPI, self).evaluate(
            x, y, batch_size=DEFAULT if batch_size is None else batch_size, verbose=verbose,
            sample_weight=sample_weight, **kwargs)

    def predict(self, x, batch_size=None, verbose=0, steps=None):
        """Predictions, batch by batch (see `Model.predict`); batch_size None means 32."""
        from .keras0 import DEFAULT
        if steps is not None:
            raise ValueError('predict: steps counts batches of symbolic (TensorFlow) tensors, '
                             'which minikeras has not; give arrays and batch_size')
        return super(Keras2ModelAPI, self).predict(
            x, batch_size=DEFAULT if batch_size is None else batch_size, verbose=verbose)

    def fit_generator(self, generator, *args, **kwargs):
        """Trains on batches from a generator or a `Sequence` (see
        `Model.fit_generator`), with Keras 2's `steps_per_epoch`, `epochs`
        (1 by default), `validation_steps`, `max_queue_size`, `workers`,
        `use_multiprocessing` (batches are drawn in the training thread)."""
        keras_2 = _generator_call_is_keras_2(kwargs, (
            'steps_per_epoch', 'epochs', 'validation_steps', 'max_queue_size', 'workers',
            'use_multiprocessing', 'validation_freq', 'shuffle'))
        if keras_2:
            names = ('steps_per_epoch', 'epochs', 'verbose', 'callbacks', 'validation_data',
                     'validation_steps', 'class_weight', 'max_queue_size', 'workers',
                     'use_multiprocessing', 'shuffle', 'initial_epoch')
            kwargs = _positional(kwargs, names, args, 'fit_generator')
            args = ()
            if 'epochs' in kwargs:
                if 'nb_epoch' in kwargs:
                    raise TypeError('fit_generator: both epochs (Keras 2) and nb_epoch (Keras 1) '
                                    'given; keep one')
                kwargs['nb_epoch'] = kwargs.pop('epochs')
            kwargs.setdefault('nb_epoch', 1)
            if 'samples_per_epoch' in kwargs and 'steps_per_epoch' in kwargs:
                raise TypeError('fit_generator: both steps_per_epoch (Keras 2) and '
                                'samples_per_epoch (Keras 1) given; keep one')
            _rename_generator_options(kwargs)
        return super(Keras2ModelAPI, self).fit_generator(generator, *args, **kwargs)

    def evaluate_generator(self, generator, *args, **kwargs):
        """Loss (and metrics) over batches of a generator or `Sequence`: Keras
        2's `steps` (all of a Sequence by default), or Keras 1's `val_samples`."""
        if _generator_call_is_keras_2(kwargs, ('steps', 'max_queue_size', 'workers',
                                               'use_multiprocessing', 'verbose')):
            kwargs = _positional(kwargs, ('steps', 'max_queue_size', 'workers',
                                          'use_multiprocessing', 'verbose'),
                                 args, 'evaluate_generator')
            args = ()
            kwargs.pop('verbose', None)
            _rename_generator_options(kwargs)
        return super(Keras2ModelAPI, self).evaluate_generator(generator, *args, **kwargs)

    def predict_generator(self, generator, *args, **kwargs):
        """Predictions for batches of a generator or `Sequence`: Keras 2's
        `steps` (all of a Sequence by default), or Keras 1's `val_samples`."""
        if _generator_call_is_keras_2(kwargs, ('steps', 'max_queue_size', 'workers',
                                               'use_multiprocessing', 'verbose')):
            kwargs = _positional(kwargs, ('steps', 'max_queue_size', 'workers',
                                          'use_multiprocessing', 'verbose'),
                                 args, 'predict_generator')
            args = ()
            _rename_generator_options(kwargs)
        return super(Keras2ModelAPI, self).predict_generator(generator, *args, **kwargs)


def is_keras_2_model(model):
    """A model of a Keras 2 script, or with a layer made by a Keras 2 call."""
    return version.is_keras_2() or any(getattr(layer, 'keras_2_call', False)
                                       for layer in model.layers)


def _nodes_by_depth(model):
    """{depth: [node]} over the model's calls and its inputs' nodes, with
    Keras 2.2.4's depths: 0 for the last calls, an inbound node one deeper
    than its deepest consumer, a shared layer's nodes at its deepest."""
    nodes = [t.node for t in model.inputs] + list(model._nodes)
    node_depth, layer_depth = {}, {}
    for node in reversed(nodes):
        layer = node.outbound_layer
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(layer), 0))
        layer_depth[id(layer)] = node_depth[id(node)] = depth
        for tensor in node.input_tensors:
            inbound = tensor.node
            node_depth[id(inbound)] = max(depth + 1, node_depth.get(id(inbound), 0))
    by_depth = {}
    for node in nodes:
        by_depth.setdefault(node_depth[id(node)], [])
        if all(node is not known for known in by_depth[node_depth[id(node)]]):
            by_depth[node_depth[id(node)]].append(node)
    return by_depth


def _sequential_like(model):
    """Keras 2.2.4's test for the short summary: one call per depth, each
    with one inbound layer, and no layer called twice."""
    if type(model).__name__ == 'Sequential':
        return True
    nodes = []
    for same_depth in _nodes_by_depth(model).values():
        if len(same_depth) > 1 or len(same_depth[0].inbound_layers) > 1:
            return False
        nodes += same_depth
    own = {id(node) for node in nodes}
    return all(sum(id(node) in own for node in layer.inbound_nodes) <= 1
               for layer in model.layers)


def _summary_output_shape(layer):
    """Keras 2.2.4's `layer.output_shape` as the summary prints it: the
    shape, a list of shapes for several outputs, or 'multiple' when the
    layer's calls gave different shapes."""
    shapes = [[tuple(t.shape) for t in node.output_tensors] for node in layer.inbound_nodes]
    if not shapes or any(str(s) != str(shapes[0]) for s in shapes[1:]):
        return 'multiple'
    return shapes[0][0] if len(shapes[0]) == 1 else shapes[0]


def _summary_node_index(layer, node_index):
    # a Keras 2.2.4 model's own graph is its node 0: its first call is node 1
    from ..engine.container import Container
    return node_index + 1 if isinstance(layer, Container) else node_index


def print_keras_2_summary(model, line_length=None, positions=None, print_fn=None):
    """Prints `model.summary()` as Keras 2.2.4 laid it out."""
    print_fn = print_fn or print
    sequential_like = _sequential_like(model)
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [.45, .85, 1.]
        headers = ['Layer (type)', 'Output Shape', 'Param #']
    else:
        line_length = line_length or 98
        positions = positions or [.33, .55, .67, 1.]
        headers = ['Layer (type)', 'Output Shape', 'Param #', 'Connected to']
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    def row(fields):
        line = ''
        for index, field in enumerate(fields):
            if index > 0:
                line = line[:-1] + ' '
            line = (line + str(field))[:positions[index]]
            line += ' ' * (positions[index] - len(line))
        print_fn(line)

    own = {id(node) for node in model._nodes}
    print_fn('_' * line_length)
    row(headers)
    print_fn('=' * line_length)
    for index, layer in enumerate(model.layers):
        shape = _summary_output_shape(layer)
        name = '%s (%s)' % (layer.name, keras_2_class_name(type(layer)))
        if sequential_like:
            row([name, shape, layer.count_params()])
        else:
            connections = ['%s[%d][%d]' % (inbound.name, _summary_node_index(inbound, node_index),
                                           tensor_index)
                           for node in layer.inbound_nodes if id(node) in own
                           for inbound, node_index, tensor_index in
                           zip(node.inbound_layers, node.node_indices, node.tensor_indices)]
            row([name, shape, layer.count_params(), connections[0] if connections else ''])
            for extra in connections[1:]:
                row(['', '', '', extra])
        print_fn('=' * line_length if index == len(model.layers) - 1 else '_' * line_length)
    trainable = sum(w.size for w in model.trainable_weights)
    non_trainable = sum(w.size for w in model.non_trainable_weights)
    print_fn('Total params: {:,}'.format(trainable + non_trainable))
    print_fn('Trainable params: {:,}'.format(trainable))
    print_fn('Non-trainable params: {:,}'.format(non_trainable))
    print_fn('_' * line_length)


def _positional(kwargs, names, args, method):
    if len(args) > len(names):
        raise TypeError('%s takes at most %d positional arguments after the generator, got %d'
                        % (method, len(names), len(args)))
    kwargs = dict(kwargs)
    for name, value in zip(names, args):
        if name in kwargs:
            raise TypeError('%s got multiple values for argument %r' % (method, name))
        kwargs[name] = value
    return kwargs
