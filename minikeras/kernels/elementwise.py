"""Element-wise activations and their derivatives, compiled, on the kernel threads.

Plain float32 arrays in, preallocated arrays out (possibly the input itself:
every function may run in place). Each array is read as a flat, C-contiguous
run of elements, so the layout (channels first or last, any rank) does not
matter. The activation is chosen by an integer code:

- LINEAR: y = x (only with a bias: `bias_activation_forward`);
- RELU: y = x where x > 0, else +0 (NaN gives 0, as `where(x > 0, x, 0)`);
- TANH: y = tanh(x), see below;
- SIGMOID: y = 0.5 * (tanh(0.5 * x) + 1), the backend's overflow-free form,
  each step a float32 operation in that order.

tanh is computed in float32 vector arithmetic (eight lanes on AVX2), two to
four times as fast as NumPy's float32 tanh on AVX2 (on AVX-512, where NumPy
has its own vector tanh, about 0.6 times as fast), from exp(2|x|) = 2**k * (1 + q):
k = round(2|x| / ln 2), the remainder r = 2|x| - k ln 2 (ln 2 in two parts,
so that k * its first part is exact), q = exp(r) - 1 by its Taylor series
to r**8 (|r| <= ln 2 / 2: truncation below 2**-29), then with
E = exp(2|x|) - 1 = 2**k q + (2**k - 1) (no cancellation: E = q for k = 0),
tanh|x| = E / (E + 2), with the sign of x put back. |x| below 2**-12 gives
x itself (tanh x = x within float32 rounding there: x**3/3 < x 2**-25);
|x| above 9.5 gives +-1 (1 - tanh 9.5 < 2**-26); NaN gives NaN; -0 gives -0.
Over every float32 in [2**-13, 9.6] the result is within 3 ulp of the
correctly rounded tanh (np.tanh in float64, rounded): 65% exact, 33% 1 ulp,
2% 2 ulp, 0.01% 3 ulp (tests/test_fused_activations.py checks the bound on
every float32 of several ranges). `minikeras.backend_ops.tanh` and
`sigmoid` use these kernels on float32 arrays, so an Activation layer, an
activation inside a layer and K.tanh give the same bits. Polynomial steps
may be fused multiply-adds where the CPU has them (`fastmath={'contract'}`,
nothing else), so the bits can differ between CPUs, never between runs.

The derivative is written from the output `y` alone (the three have one
expressed in y), so a layer that applies the activation in place on its
pre-activation needs to keep neither array, and every step is the float32
operation of the NumPy formula, in its order (no fused multiply-add there:
bit-identical to `minikeras.activations`):

- RELU: dx = dy * (y > 0) (y > 0 exactly where x > 0);
- TANH: dx = dy * (1 - y * y);
- SIGMOID: dx = dy * (y * (1 - y)) computed as (dy * y) * (1 - y).

Each call is one pass over memory (no temporary arrays), cut into ranges
whose bounds depend on the array's size and the thread count only
(`threads.run_ranges`); an element's result does not depend on its range,
so results do not depend on the thread count.
"""
import math

import numba
import numpy as np
from llvmlite import ir
from numba.extending import intrinsic

from . import threads

__all__ = ['LINEAR', 'RELU', 'TANH', 'SIGMOID', 'activation_forward', 'activation_backward',
           'bias_activation_forward', 'leaky_relu_forward', 'leaky_relu_backward', 'tanh',
           'sigmoid']

LINEAR = 0
RELU = 1
TANH = 2
SIGMOID = 3
_CODES = (RELU, TANH, SIGMOID)
_NAMES = 'RELU (%d), TANH (%d) or SIGMOID (%d)' % (RELU, TANH, SIGMOID)

# The least elements of one range (threads.run_ranges cuts a call into at
# most four ranges per thread, of at least this many units of work): a
# smaller array runs on the calling thread.
_CHUNK = threads.MIN_TASK_WORK

_F32 = np.float32
_ZERO = _F32(0.0)
_HALF = _F32(0.5)
_ONE = _F32(1.0)
_TWO = _F32(2.0)
_LOG2E = _F32(1.0 / math.log(2.0))
_LN2_HI = _F32(0.693359375)  # 355 / 512: k * _LN2_HI is exact for every k used
_LN2_LO = _F32(math.log(2.0) - 0.693359375)
_TINY = _F32(2.0 ** -12)
_SATURATED = _F32(9.5)
_C2, _C3, _C4, _C5, _C6, _C7, _C8 = [_F32(1.0 / math.factorial(n)) for n in range(2, 9)]

# boundscheck off and error_model='numpy', with the loops running over views
# from index 0 (no negative-index wraparound), let the loops vectorise.
_OPTIONS = dict(cache=True, nogil=True, boundscheck=False, error_model='numpy')


@intrinsic
def _pow2(typingctx, k):
    """2**k as a float32, for an integer 0 <= k <= 127, written straight into
    the exponent bits: (k + 127) << 23 read as a float32. In 32-bit lanes it
    vectorises to two integer operations; converting an integer to float
    instead takes 64-bit lanes (Numba widens integer arithmetic to int64),
    a slow conversion on AVX-512 and a scalar one on AVX2."""
    def codegen(context, builder, signature, args):
        int32 = ir.IntType(32)
        value = builder.trunc(args[0], int32) if args[0].type.width > 32 else args[0]
        bits = builder.shl(builder.add(value, ir.Constant(int32, 127)), ir.Constant(int32, 23))
        return builder.bitcast(bits, ir.FloatType())
    return numba.types.float32(k), codegen


@numba.njit(inline='always')
def _tanh(v):
    a = min(abs(v), _SATURATED)
    t = a + a
    k = np.int32(t * _LOG2E + _HALF)
    kf = np.float32(k)
    r = (t - kf * _LN2_HI) - kf * _LN2_LO
    q = r * (_ONE + r * (_C2 + r * (_C3 + r * (_C4 + r * (_C5 + r * (_C6 + r * (_C7 + r * _C8)))))))
    scale = _pow2(k)  # 0 <= k <= 27
    e = scale * q + (scale - _ONE)
    magnitude = e / (e + _TWO)
    magnitude = a if a < _TINY else magnitude
    y = np.float32(math.copysign(magnitude, v))
    return v if v != v else y


@numba.njit(inline='always')
def _relu(v):
    return v if v > _ZERO else _ZERO


@numba.njit(inline='always')
def _sigmoid(v):
    return (_tanh(v * _HALF) + _ONE) * _HALF


# One small kernel per activation (and per pass), so that a model compiles
# only those it uses (a second or two each on a new machine). They are
# written out one by one because Numba 0.68 caches none of the shorter ways:
# kernels made by a factory closing over the scalar function, or taking it
# as an argument, recompile in every process; a literal activation code
# (`numba.literally`) caches but costs ~0.1 s per call.
_FORWARD = dict(fastmath={'contract'}, **_OPTIONS)


@numba.njit(**_FORWARD)
def _relu_forward(x, y, lo, hi):
    x, y = x[lo:hi], y[lo:hi]
    for i in range(x.shape[0]):
        y[i] = _relu(x[i])


@numba.njit(**_FORWARD)
def _tanh_forward(x, y, lo, hi):
    x, y = x[lo:hi], y[lo:hi]
    for i in range(x.shape[0]):
        y[i] = _tanh(x[i])


@numba.njit(**_FORWARD)
def _sigmoid_forward(x, y, lo, hi):
    x, y = x[lo:hi], y[lo:hi]
    for i in range(x.shape[0]):
        y[i] = _sigmoid(x[i])


# The same in place, on one array: with `x` and `y` the same array, the
# loops above fail LLVM's run-time overlap check and run one element at a
# time (tanh and sigmoid about eight times slower than out of place).
@numba.njit(**_FORWARD)
def _relu_in_place(y, lo, hi):
    y = y[lo:hi]
    for i in range(y.shape[0]):
        y[i] = _relu(y[i])


@numba.njit(**_FORWARD)
def tanh_in_place(y, lo, hi):
    """y[lo:hi] = tanh(y[lo:hi]); `tanh_gate_in_place` has the same bits."""
    y = y[lo:hi]
    for i in range(y.shape[0]):
        y[i] = _tanh(y[i])


@numba.njit(**_FORWARD)
def tanh_gate_in_place(y, t, lo, hi, g):
    """y[t, b, g, :] = tanh(y[t, b, g, :]) for b in [lo, hi), y (T, B, G, n):
    `tanh_in_place`'s bits for the LSTM's gates (`recurrent.lstm_step_forward`),
    indexed element by element (no view per row)."""
    for b in range(lo, hi):
        for j in range(y.shape[3]):
            y[t, b, g, j] = _tanh(y[t, b, g, j])


@numba.njit(**_FORWARD)
def _sigmoid_in_place(y, lo, hi):
    y = y[lo:hi]
    for i in range(y.shape[0]):
        y[i] = _sigmoid(y[i])


# z and y are (rows, N), b is (N,): y = activation(z + b) for rows [lo, hi).
@numba.njit(**_FORWARD)
def _bias_linear_rows(z, b, y, lo, hi):
    z, y = z[lo:hi], y[lo:hi]
    for i in range(z.shape[0]):
        row, out = z[i], y[i]
        for j in range(row.shape[0]):
            out[j] = row[j] + b[j]


@numba.njit(**_FORWARD)
def _bias_relu_rows(z, b, y, lo, hi):
    z, y = z[lo:hi], y[lo:hi]
    for i in range(z.shape[0]):
        row, out = z[i], y[i]
        for j in range(row.shape[0]):
            out[j] = _relu(row[j] + b[j])


@numba.njit(**_FORWARD)
def _bias_tanh_rows(z, b, y, lo, hi):
    z, y = z[lo:hi], y[lo:hi]
    for i in range(z.shape[0]):
        row, out = z[i], y[i]
        for j in range(row.shape[0]):
            out[j] = _tanh(row[j] + b[j])


@numba.njit(**_FORWARD)
def _bias_sigmoid_rows(z, b, y, lo, hi):
    z, y = z[lo:hi], y[lo:hi]
    for i in range(z.shape[0]):
        row, out = z[i], y[i]
        for j in range(row.shape[0]):
            out[j] = _sigmoid(row[j] + b[j])


# y is (rows, N), b is (N,): y = activation(y + b) in place, rows [lo, hi).
@numba.njit(**_FORWARD)
def _bias_linear_rows_in_place(y, b, lo, hi):
    y = y[lo:hi]
    for i in range(y.shape[0]):
        row = y[i]
        for j in range(row.shape[0]):
            row[j] = row[j] + b[j]


@numba.njit(**_FORWARD)
def _bias_relu_rows_in_place(y, b, lo, hi):
    y = y[lo:hi]
    for i in range(y.shape[0]):
        row = y[i]
        for j in range(row.shape[0]):
            row[j] = _relu(row[j] + b[j])


@numba.njit(**_FORWARD)
def _bias_tanh_rows_in_place(y, b, lo, hi):
    y = y[lo:hi]
    for i in range(y.shape[0]):
        row = y[i]
        for j in range(row.shape[0]):
            row[j] = _tanh(row[j] + b[j])


@numba.njit(**_FORWARD)
def _bias_sigmoid_rows_in_place(y, b, lo, hi):
    y = y[lo:hi]
    for i in range(y.shape[0]):
        row = y[i]
        for j in range(row.shape[0]):
            row[j] = _sigmoid(row[j] + b[j])


@numba.njit(**_OPTIONS)
def _relu_backward(y, dy, dx, lo, hi):
    y, dy, dx = y[lo:hi], dy[lo:hi], dx[lo:hi]
    for i in range(y.shape[0]):
        dx[i] = dy[i] * np.float32(y[i] > _ZERO)


@numba.njit(**_OPTIONS)
def _tanh_backward(y, dy, dx, lo, hi):
    y, dy, dx = y[lo:hi], dy[lo:hi], dx[lo:hi]
    for i in range(y.shape[0]):
        v = y[i]
        dx[i] = dy[i] * (_ONE - v * v)


@numba.njit(**_OPTIONS)
def _sigmoid_backward(y, dy, dx, lo, hi):
    y, dy, dx = y[lo:hi], dy[lo:hi], dx[lo:hi]
    for i in range(y.shape[0]):
        v = y[i]
        dx[i] = (dy[i] * v) * (_ONE - v)


@numba.njit(**_OPTIONS)
def _leaky_relu_forward(x, alpha, y, lo, hi):
    x, y = x[lo:hi], y[lo:hi]
    for i in range(x.shape[0]):
        v = x[i]
        y[i] = v * (_ONE if v > _ZERO else alpha)


@numba.njit(**_OPTIONS)
def _leaky_relu_backward(x, alpha, dy, dx, lo, hi):
    x, dy, dx = x[lo:hi], dy[lo:hi], dx[lo:hi]
    for i in range(x.shape[0]):
        dx[i] = dy[i] * (_ONE if x[i] > _ZERO else alpha)


_FORWARD_KERNELS = {RELU: _relu_forward, TANH: _tanh_forward, SIGMOID: _sigmoid_forward}
_BIAS_KERNELS = {LINEAR: _bias_linear_rows, RELU: _bias_relu_rows, TANH: _bias_tanh_rows,
                 SIGMOID: _bias_sigmoid_rows}
_BACKWARD_KERNELS = {RELU: _relu_backward, TANH: _tanh_backward, SIGMOID: _sigmoid_backward}
_IN_PLACE_KERNELS = {RELU: _relu_in_place, TANH: tanh_in_place, SIGMOID: _sigmoid_in_place}
_BIAS_IN_PLACE_KERNELS = {LINEAR: _bias_linear_rows_in_place, RELU: _bias_relu_rows_in_place,
                          TANH: _bias_tanh_rows_in_place, SIGMOID: _bias_sigmoid_rows_in_place}


def takes(a):
    """Whether the kernels here take `a` as it is: a C-contiguous float32
    array (callers with any other array keep their NumPy path)."""
    return isinstance(a, np.ndarray) and a.dtype == np.float32 and a.flags.c_contiguous


def _flat(name, a, size=None):
    if not isinstance(a, np.ndarray) or a.dtype != np.float32 or not a.flags.c_contiguous:
        raise ValueError('%s must be a C-contiguous float32 array, got %s'
                         % (name, type(a).__name__ if not isinstance(a, np.ndarray)
                            else '%s %s%s' % (a.dtype, a.shape, '' if a.flags.c_contiguous
                                              else ' (not contiguous)')))
    if size is not None and a.size != size:
        raise ValueError('%s must have %d elements, got shape %s' % (name, size, a.shape))
    return a.reshape(-1)


def _check_code(code, allowed=_CODES, names=_NAMES):
    if code not in allowed:
        raise ValueError('activation code must be %s, got %r' % (names, code))


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
    n = flat_x.size
    if _same_memory(x, y):
        threads.run_ranges(_IN_PLACE_KERNELS[code], n, n, flat_y)
    else:
        threads.run_ranges(_FORWARD_KERNELS[code], n, n, flat_x, flat_y)


def _same_memory(x, y):
    """Whether two C-contiguous arrays of one size are the same memory (an
    in-place call); partly overlapping arrays are refused."""
    if x.ctypes.data == y.ctypes.data:
        return True
    if np.may_share_memory(x, y):
        raise ValueError('the output must be the input itself or not overlap it')
    return False


def bias_activation_forward(code, z, b, y):
    """y = activation(z + b), b added along the last axis, in one pass; `y`
    may be `z` (in place). The sum is the float32 `z + b`, so the result is
    that of adding the bias and then applying the activation.

    # Arguments
        code: LINEAR, RELU, TANH or SIGMOID.
        z: C-contiguous float32 array (..., N).
        b: C-contiguous float32 array (N,).
        y: C-contiguous float32 array of z's shape.
    """
    _check_code(code, (LINEAR,) + _CODES, 'LINEAR (%d), %s' % (LINEAR, _NAMES))
    _flat('z', z)
    _flat('y', y, z.size)
    if z.ndim < 1 or z.shape != y.shape:
        raise ValueError('y must have the shape of z %s, got %s' % (z.shape, y.shape))
    _flat('b', b, z.shape[-1])
    width = max(1, z.shape[-1])
    rows = z.size // width
    z2, y2 = z.reshape(rows, width), y.reshape(rows, width)
    if _same_memory(z, y):
        threads.run_ranges(_BIAS_IN_PLACE_KERNELS[code], rows, z.size, y2, b.reshape(-1))
    else:
        threads.run_ranges(_BIAS_KERNELS[code], rows, z.size, z2, b.reshape(-1), y2)


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
    n = flat_y.size
    threads.run_ranges(_BACKWARD_KERNELS[code], n, n, flat_y, flat_dy, flat_dx)


def leaky_relu_forward(x, alpha, y):
    """y = x * (1 where x > 0, else alpha), element by element (LeakyReLU's
    `x * where(x > 0, 1, alpha)` in float32, bit for bit; NaN stays NaN).

    # Arguments
        x: C-contiguous float32 array.
        alpha: the slope for x <= 0 (taken as float32).
        y: C-contiguous float32 array with as many elements as x, not
            overlapping it.
    """
    flat_x = _flat('x', x)
    flat_y = _flat('y', y, flat_x.size)
    if np.may_share_memory(x, y):
        raise ValueError('leaky_relu_forward: y must not overlap x')
    n = flat_x.size
    threads.run_ranges(_leaky_relu_forward, n, n, flat_x, np.float32(alpha), flat_y)


def leaky_relu_backward(x, alpha, dy, dx):
    """dx = dy * (1 where x > 0, else alpha), from the forward input x; `dx`
    may be `dy` (in place).

    # Arguments
        x: C-contiguous float32 array, the forward input.
        alpha: the slope for x <= 0 (taken as float32).
        dy: C-contiguous float32 array, the gradient of the output.
        dx: C-contiguous float32 array, filled with the gradient of x.
    """
    flat_x = _flat('x', x)
    flat_dy = _flat('dy', dy, flat_x.size)
    flat_dx = _flat('dx', dx, flat_x.size)
    n = flat_x.size
    threads.run_ranges(_leaky_relu_backward, n, n, flat_x, np.float32(alpha), flat_dy, flat_dx)


def _new_result(code, x):
    if not x.flags.c_contiguous:  # (ascontiguousarray would make a 0-d array 1-d)
        x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    activation_forward(code, x, y)
    return y


def tanh(x):
    """tanh of a float32 array (any layout), as a new C-contiguous array."""
    return _new_result(TANH, x)


def sigmoid(x):
    """0.5 * (tanh(0.5 * x) + 1) of a float32 array, as a new C-contiguous array."""
    return _new_result(SIGMOID, x)
