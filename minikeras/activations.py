"""Element-wise activation functions and their derivatives.

Each activation is a plain function on float32 arrays, as in Keras 1, with a
`backward(x, y, dy)` attribute that returns the gradient of the input given
the input `x`, the output `y` and the gradient of the output `dy`. As in
Keras 1.2.2, the formulas are the backend's (`K.sigmoid`, `K.elu`, ...):
one definition serves activations, layers and custom code.
"""
import numpy as np

from . import backend_ops as K
from .kernels import elementwise
from .utils.generic_utils import get_from_module


def _differentiable(backward):
    def attach(function):
        function.backward = backward
        # on a Keras tensor (K.placeholder, a layer output) the activation is a
        # node of the graph, as in Keras 1.2.2
        return K._graph_aware(function, 'activations.' + function.__name__)
    return attach


def _like(y, x):
    """The backend's result in the input's dtype (float32 stays float32)."""
    return y.astype(x.dtype, copy=False)


def _softmax_backward(x, y, dy):
    return y * (dy - np.sum(dy * y, axis=-1, keepdims=True))


@_differentiable(_softmax_backward)
def softmax(x):
    """Softmax over the last axis (2D or 3D input)."""
    if x.ndim < 2:
        raise ValueError('softmax expects an input of 2 or 3 dimensions, got shape %s' % (x.shape,))
    return _like(K.softmax(x), x)


def elu_backward(x, y, dy, alpha=1.0):
    """The gradient of `elu` (with scale `alpha`): 1 above 0, alpha * exp(x) = y + alpha below."""
    return dy * np.where(x > 0, np.float32(1), y + np.float32(alpha)).astype(dy.dtype, copy=False)


@_differentiable(elu_backward)
def elu(x, alpha=1.0):
    """Exponential linear unit: x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return _like(K.elu(x, alpha), x)


@_differentiable(lambda x, y, dy: dy * sigmoid(x))
def softplus(x):
    """log(1 + exp(x)), computed without overflow."""
    return _like(K.softplus(x), x)


@_differentiable(lambda x, y, dy: dy / np.square(1 + np.abs(x)))
def softsign(x):
    """x / (1 + |x|)."""
    return _like(K.softsign(x), x)


@_differentiable(lambda x, y, dy: dy * (x > 0))
def relu(x, alpha=0., max_value=None):
    """Rectified linear unit (the default `alpha` and `max_value` are the plain relu)."""
    return _like(K.relu(x, alpha, max_value), x)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@_differentiable(lambda x, y, dy: dy * np.where(x > 0, np.float32(_SELU_SCALE),
                                                y + np.float32(_SELU_SCALE * _SELU_ALPHA)))
def selu(x):
    """Scaled exponential linear unit (Keras 2): `scale * elu(x, alpha)` with
    Klambauer et al.'s alpha 1.6733 and scale 1.0507."""
    return (np.float32(_SELU_SCALE) * elu(x, _SELU_ALPHA)).astype(x.dtype, copy=False)


@_differentiable(lambda x, y, dy: dy * (1 - y * y))
def tanh(x):
    """Hyperbolic tangent."""
    return _like(K.tanh(x), x)


@_differentiable(lambda x, y, dy: dy * y * (1 - y))
def sigmoid(x):
    """Logistic sigmoid 1 / (1 + exp(-x))."""
    return _like(K.sigmoid(x), x)


@_differentiable(lambda x, y, dy: dy * ((x > -2.5) & (x < 2.5)) * np.float32(0.2))
def hard_sigmoid(x):
    """Piece-wise linear sigmoid: clip(0.2 * x + 0.5, 0, 1)."""
    return _like(K.hard_sigmoid(x), x)


@_differentiable(lambda x, y, dy: dy)
def linear(x):
    """Identity."""
    return x


# The activations that have a compiled pass (kernels/elementwise.py), used by
# `apply` and `gradient`; their derivative is a function of the output alone.
relu.kernel_code = elementwise.RELU
tanh.kernel_code = elementwise.TANH
sigmoid.kernel_code = elementwise.SIGMOID


def apply(function, x, in_place=False):
    """Returns `function(x)`, in one compiled pass over the array when the
    function has one (relu, tanh, sigmoid) and `x` is a C-contiguous float32
    array; the same values as `function(x)`.

    # Arguments
        function: an activation function (see `get`).
        x: the input array.
        in_place: whether the result may overwrite `x` (the caller owns it
            and needs only the output). Layers that pass True must compute
            the derivative with `gradient`, which reads only the output for
            these functions.
    """
    code = getattr(function, 'kernel_code', None)
    if code is None or not elementwise.takes(x) or (in_place and not x.flags.writeable):
        return function(x)
    y = x if in_place else np.empty_like(x)
    elementwise.activation_forward(code, x, y)
    return y


def apply_with_bias(function, z, b):
    """Returns `function(z + b)` (b added along the last axis), overwriting `z`
    (the caller owns it and needs only the output), in one compiled pass
    when the function is linear or has a kernel and the arrays are
    C-contiguous float32; the same values as adding, then applying.

    # Arguments
        function: an activation function (see `get`).
        z: the pre-activation without its bias, an array the caller owns.
        b: the bias, of shape (z.shape[-1],).
    """
    code = elementwise.LINEAR if function is linear else getattr(function, 'kernel_code', None)
    if (code is None or not (elementwise.takes(z) and elementwise.takes(b))
            or not z.flags.writeable or z.ndim < 1 or b.shape != z.shape[-1:]):
        z += b
        return apply(function, z, in_place=True)
    elementwise.bias_activation_forward(code, z, b, z)
    return z


def gradient(function, x, y, dy):
    """Returns the gradient of the input of `y = function(x)` given the
    gradient `dy` of its output, in one compiled pass when the function has
    one and the arrays are C-contiguous float32 (a new array either way; `dy`
    is never modified).

    # Arguments
        function: an activation function (see `get`).
        x: the input, or for relu, tanh and sigmoid anything (the output is
            enough: `apply` may have overwritten the input).
        y: the output.
        dy: the gradient of the output, of y's shape.
    """
    code = getattr(function, 'kernel_code', None)
    if code is None or not (elementwise.takes(y) and elementwise.takes(dy)) or y.shape != dy.shape:
        return function.backward(x, y, dy)
    dx = np.empty_like(y)
    elementwise.activation_backward(code, y, dy, dx)
    return dx


_BY_NAME = {f.__name__: f for f in (softmax, elu, selu, softplus, softsign, relu, tanh,
                                    sigmoid, hard_sigmoid, linear)}


def get(identifier):
    """Returns the activation function for a name, None (linear) or a function.

    # Arguments
        identifier: a name ('tanh', 'relu', ...), None, or a function. A
            function without a `backward(x, y, dy)` attribute is
            differentiated by tracing it (`minikeras.autodiff`).

    # Raises
        ValueError: for an unknown name.
    """
    if identifier is None:
        return linear
    function = get_from_module(identifier, _BY_NAME, 'activation')
    if not callable(function):
        raise ValueError('activation must be a name or a function, got %r' % (identifier,))
    if not hasattr(function, 'backward'):
        function = _traced(function)
    return function


def _traced(function):
    """A custom activation (NumPy or `keras.backend` code) with its derivative
    taken by `minikeras.autodiff`."""
    from . import autodiff

    def activation(x):
        return np.asarray(function(x), dtype=x.dtype)

    def backward(x, y, dy):
        return autodiff.vjp(function, x)[1](dy)[0]
    activation.backward = backward
    activation.__name__ = getattr(function, '__name__', 'custom_activation')
    return activation


def serialize(function):
    """Returns the name under which an activation function can be found again."""
    return function.__name__
