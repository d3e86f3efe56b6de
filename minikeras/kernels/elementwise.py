"""Element-wise activations and their derivatives, spread over the kernel threads.

Plain float32 arrays in, preallocated arrays out (possibly the input itself:
both functions may run in place). Each array is read as a flat, C-contiguous
run of elements, so the layout (channels first or last, any rank) does not
matter. The activation is chosen by an integer code:

- RELU: y = x where x > 0, else +0 (NaN gives 0, as `where(x > 0, x, 0)`),
  computed as fmax(x, 0);
- TANH: y = tanh(x);
- SIGMOID: y = 0.5 * (tanh(0.5 * x) + 1), the backend's overflow-free form.

The derivative is written from the output `y` alone (the three have one
expressed in y), so a layer that applies the activation in place on its
pre-activation needs to keep neither array:

- RELU: dx = dy * (y > 0) (y > 0 exactly where x > 0);
- TANH: dx = dy * (1 - y * y);
- SIGMOID: dx = dy * y * (1 - y).

Every step is a float32 NumPy ufunc writing into its destination, in the
order of the formulas of `minikeras.activations`: results are bit-identical
to them, and nothing is compiled (no first-run cost). The saving is in
memory traffic and threads: no temporary arrays of the whole size, and the
array is cut into chunks whose bounds depend on its size only, run on the
kernel threads (`threads.run_tasks`; ufuncs release the GIL). Results do
not depend on the thread count.
"""
import numpy as np

from . import threads

__all__ = ['RELU', 'TANH', 'SIGMOID', 'activation_forward', 'activation_backward']

RELU = 1
TANH = 2
SIGMOID = 3
_CODES = (RELU, TANH, SIGMOID)

# Elements per task (256 KB of float32, a core's L2 cache): a multiple of 64
# so that every chunk but the last is a whole number of vector lanes.
_CHUNK = 1 << 16

_ZERO = np.float32(0.0)
_HALF = np.float32(0.5)
_ONE = np.float32(1.0)


def _forward_chunk(code, x, y):
    if code == RELU:
        np.fmax(x, _ZERO, out=y)
    elif code == TANH:
        np.tanh(x, out=y)
    else:
        np.multiply(x, _HALF, out=y)
        np.tanh(y, out=y)
        np.add(y, _ONE, out=y)
        np.multiply(y, _HALF, out=y)


def _backward_chunk(code, y, dy, dx):
    if code == RELU:
        np.multiply(dy, np.greater(y, _ZERO), out=dx)
    elif code == TANH:
        factor = np.multiply(y, y)
        np.subtract(_ONE, factor, out=factor)
        np.multiply(dy, factor, out=dx)
    else:
        factor = np.subtract(_ONE, y)
        np.multiply(dy, y, out=dx)
        np.multiply(dx, factor, out=dx)


def _chunked(function, n):
    """Calls function(lo, hi) over [0, n) in chunks of _CHUNK elements, on the pool."""
    count = -(-n // _CHUNK)
    if count <= 1:
        function(0, n)
        return
    threads.run_tasks(lambda t: function(t * _CHUNK, min(n, (t + 1) * _CHUNK)), count)


def _flat(name, a, size=None):
    if not isinstance(a, np.ndarray) or a.dtype != np.float32 or not a.flags.c_contiguous:
        raise ValueError('%s must be a C-contiguous float32 array, got %s'
                         % (name, type(a).__name__ if not isinstance(a, np.ndarray)
                            else '%s %s%s' % (a.dtype, a.shape, '' if a.flags.c_contiguous
                                              else ' (not contiguous)')))
    if size is not None and a.size != size:
        raise ValueError('%s must have %d elements, got shape %s' % (name, size, a.shape))
    return a.reshape(-1)


def _check_code(code):
    if code not in _CODES:
        raise ValueError('activation code must be RELU (%d), TANH (%d) or SIGMOID (%d), got %r'
                         % (RELU, TANH, SIGMOID, code))


def activation_forward(code, x, y):
    """y = activation(x), element by element; `y` may be `x` (in place).

    # Arguments
        code: RELU, TANH or SIGMOID.
        x: C-contiguous float32 array.
        y: C-contiguous float32 array with as many elements as x.
    """
    _check_code(code)
    flat_x = _flat('x', x)
    flat_y = _flat('y', y, flat_x.size)
    _chunked(lambda lo, hi: _forward_chunk(code, flat_x[lo:hi], flat_y[lo:hi]), flat_x.size)


def activation_backward(code, y, dy, dx):
    """dx = dy * activation'(x), written from the output y = activation(x);
    `dx` may be `dy` (in place).

    # Arguments
        code: RELU, TANH or SIGMOID.
        y: C-contiguous float32 array, the forward output.
        dy: C-contiguous float32 array, the gradient of y.
        dx: C-contiguous float32 array, filled with the gradient of x.
    """
    _check_code(code)
    flat_y = _flat('y', y)
    flat_dy = _flat('dy', dy, flat_y.size)
    flat_dx = _flat('dx', dx, flat_y.size)
    _chunked(lambda lo, hi: _backward_chunk(code, flat_y[lo:hi], flat_dy[lo:hi], flat_dx[lo:hi]),
             flat_y.size)
