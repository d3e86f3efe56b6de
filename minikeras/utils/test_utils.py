"""Helpers for testing layers and models, as Keras 1.2.2's
`keras.utils.test_utils` provided them to its own tests and to users' tests.
"""
import functools
import inspect

import numpy as np
from numpy.testing import assert_allclose

from .. import backend as K


def get_test_data(nb_train=1000, nb_test=500, input_shape=(10,), output_shape=(2,),
                  classification=True, nb_class=2):
    """Random data to train a model on: a learnable problem, split in two.

    # Arguments
        nb_train: number of training samples.
        nb_test: number of test samples.
        input_shape: shape of one input sample.
        output_shape: shape of one target (regression only).
        classification: when True, each target is an integer class in
            `[0, nb_class - 1]` (so `output_shape` is ignored) and each
            input is drawn around its class, `N(class, 0.7)`; when False,
            inputs and targets are drawn around the same random value per
            sample, `N(loc, 0.7)`.
        nb_class: number of classes.

    # Returns
        `(X_train, y_train), (X_test, y_test)`, float64 inputs as Keras made them.
    """
    nb_sample = nb_train + nb_test
    input_shape, output_shape = tuple(input_shape), tuple(output_shape)
    if classification:
        y = np.random.randint(0, nb_class, size=(nb_sample,))
        X = np.zeros((nb_sample,) + input_shape)
        for i in range(nb_sample):
            X[i] = np.random.normal(loc=y[i], scale=0.7, size=input_shape)
    else:
        centres = np.random.random((nb_sample,))
        X = np.zeros((nb_sample,) + input_shape)
        y = np.zeros((nb_sample,) + output_shape)
        for i in range(nb_sample):
            X[i] = np.random.normal(loc=centres[i], scale=0.7, size=input_shape)
            y[i] = np.random.normal(loc=centres[i], scale=0.7, size=output_shape)
    return (X[:nb_train], y[:nb_train]), (X[nb_train:], y[nb_train:])


def _check_shape(expected, actual):
    for expected_dim, actual_dim in zip(expected, actual):
        if expected_dim is not None and expected_dim != actual_dim:
            raise AssertionError('expected an output of shape %s, got %s' % (expected, actual))


def layer_test(layer_cls, kwargs=None, input_shape=None, input_dtype=None, input_data=None,
               expected_output=None, expected_output_dtype=None, fixed_batch_size=False):
    """Runs a layer with one input and one output through everything a layer
    must support: get/set_weights, the `weights=` argument, the functional
    API, `get_config`/`from_config` of the model and the layer, the first
    place of a `Sequential` model, and JSON. Raises AssertionError on a
    wrong output shape, dtype or (when given) value.

    # Arguments
        layer_cls: the layer class.
        kwargs: the layer's constructor arguments.
        input_shape: input shape, batch axis first (None axes get a random
            size from 1 to 3); not needed with `input_data`.
        input_dtype: dtype of the random input (floatx by default).
        input_data: the input array, instead of random data.
        expected_output: the output expected for `input_data` (rtol 1e-3).
        expected_output_dtype: dtype of the output (`input_dtype` by default).
        fixed_batch_size: give the input layer a fixed batch size.

    # Returns
        The layer's output for the input, from the Sequential model.
    """
    from ..engine.topology import Input
    from ..models import Model, Sequential, model_from_json
    kwargs = dict(kwargs or {})
    if input_data is None:
        if not input_shape:
            raise ValueError('layer_test needs input_shape or input_data')
        if not input_dtype:
            input_dtype = K.floatx()
        data_shape = [np.random.randint(1, 4) if d is None else d for d in input_shape]
        input_data = (10 * np.random.random(data_shape)).astype(input_dtype)
    elif input_shape is None:
        input_shape = input_data.shape
    if input_dtype is None:
        input_dtype = input_data.dtype.name
    if expected_output_dtype is None:
        expected_output_dtype = input_dtype

    layer = layer_cls(**kwargs)
    weights = layer.get_weights()
    layer.set_weights(weights)
    # (Keras 1.2.2 meant to rebuild the layer from `weights=` here, but its
    # check could never be true; an unbuilt layer has no weights to pass anyway.)
    if weights and 'weights' in inspect.signature(layer_cls.__init__).parameters:
        kwargs['weights'] = weights
        layer = layer_cls(**kwargs)

    if fixed_batch_size:
        x = Input(batch_shape=input_shape, dtype=input_dtype)
    else:
        x = Input(shape=input_shape[1:], dtype=input_dtype)
    model = Model(input=x, output=layer(x))
    model.compile('rmsprop', 'mse')
    expected_output_shape = layer.get_output_shape_for(tuple(input_shape))
    actual_output = model.predict(input_data)
    if actual_output.dtype.name != expected_output_dtype:
        raise AssertionError('expected an output of dtype %s, got %s'
                             % (expected_output_dtype, actual_output.dtype.name))
    _check_shape(expected_output_shape, actual_output.shape)
    if expected_output is not None:
        assert_allclose(actual_output, expected_output, rtol=1e-3)

    model = Model.from_config(model.get_config())
    model.compile('rmsprop', 'mse')

    layer_config = layer.get_config()
    layer_config['batch_input_shape'] = input_shape
    layer = layer.__class__.from_config(layer_config)
    model = Sequential()
    model.add(layer)
    model.compile('rmsprop', 'mse')
    actual_output = model.predict(input_data)
    _check_shape(expected_output_shape, actual_output.shape)
    if expected_output is not None:
        assert_allclose(actual_output, expected_output, rtol=1e-3)

    model_from_json(model.to_json())
    return actual_output


def keras_test(function):
    """Decorates a test function: Keras cleared TensorFlow's session after
    each test. minikeras keeps no session, so the test just runs.

    # Arguments
        function: the test function.

    # Returns
        The wrapped function.
    """
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)
    return wrapper
