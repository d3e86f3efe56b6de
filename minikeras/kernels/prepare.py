"""Compiles the kernels into Numba's disk cache before they are first needed.

    python -m minikeras.kernels.prepare     # the convolution kernels only; `python -m minikeras.prepare` compiles them all

Numba compiles a kernel on its first call and caches it on disk; on a new
machine the kernels of a small CNN take several seconds of compilation,
spent inside the first training batch. `start_in_background()` (called by
`minikeras run` when the cache is cold) runs this module in a child process
on the other core while the script imports, loads its data and runs its
first forward pass: the child compiles the kernels in the reverse order of
a training step (weight and input gradients first), so that by the time the
first batch reaches its backward pass, those are in the cache and load in
milliseconds. The parent compiles what it needs before the child gets
there itself, as it would without the child; nothing else changes (the same
code, compiled the same way, gives the same results).

Kernels are compiled on tiny arrays: a Numba specialisation depends on the
array types (float32, 4 dimensions, C-contiguous), not on the shapes.
"""
import os
import subprocess
import sys
import time

import numpy as np


def _arrays(*shapes):
    rng = np.random.RandomState(0)
    return [rng.standard_normal(shape).astype(np.float32) for shape in shapes]


def _conv(C, F, K, stride, pad, H=6):
    from .conv2d import conv2d_backward_input, conv2d_backward_weights, conv2d_forward
    OH = (H + 2 * pad - K) // stride + 1
    x, w, b, dout = _arrays((2, C, H, H), (F, C, K, K), (F,), (2, F, OH, OH))

    def backward():
        conv2d_backward_weights(x, dout, np.empty_like(w), np.empty_like(b), stride, stride,
                                pad, pad)
        conv2d_backward_input(dout, w, np.empty_like(x), stride, stride, pad, pad)

    def forward():
        conv2d_forward(x, w, b, np.empty_like(dout), stride, stride, pad, pad)
    return backward, forward


def _one_sample_bands():
    """(backward, forward): the direct stride-1 loops on one sample of 64 rows
    (VGG16's first layer on one image), which run as bands of rows."""
    from .conv2d import conv2d_backward_input, conv2d_forward
    x, w, b, dout = _arrays((1, 1, 64, 4), (2, 1, 3, 3), (2,), (1, 2, 64, 4))
    return (lambda: conv2d_backward_input(dout, w, np.empty_like(x), 1, 1, 1, 1),
            lambda: conv2d_forward(x, w, b, np.empty_like(dout), 1, 1, 1, 1))


def _pooling():
    from .avgpool import avgpool2d_backward, avgpool2d_forward
    from .pooling import maxpool2d_backward, maxpool2d_forward
    x, dout = _arrays((2, 3, 6, 6), (2, 3, 3, 3))
    argmax = np.zeros((2, 3, 3, 3), np.int32)
    return [lambda: maxpool2d_backward(dout, argmax, np.empty_like(x)),
            lambda: maxpool2d_forward(x, np.empty_like(dout), argmax, 2, 2, 2, 2, 0, 0),
            lambda: avgpool2d_backward(dout, np.empty_like(x), 2, 2, 2, 2, 0, 0),
            lambda: avgpool2d_forward(x, np.empty_like(dout), 2, 2, 2, 2, 0, 0)]


def _winograd():
    """The Winograd path's kernels (wide 3x3 layers on large planes), both
    tile sizes, and its samples path (64 channels on small planes), called
    directly on tiny arrays: through the public kernels they take 64
    channels. 8 filters, so that F(2x2)'s forward takes the fused blocks and
    its input gradient (2 filters of the transposed U) the unfused ones."""
    from .conv2d_winograd import (winograd_backward_input, winograd_forward,
                                  winograd_samples_backward_input, winograd_samples_forward)
    x, w, b, dout = _arrays((1, 2, 5, 5), (8, 2, 3, 3), (8,), (1, 8, 5, 5))

    def both_paths():
        for tile in (2, 4):
            winograd_backward_input(dout, w, np.empty_like(x), 1, 1, tile)
            winograd_forward(x, w, b, np.empty_like(dout), 1, 1, tile)
        winograd_samples_backward_input(dout, w, np.empty_like(x), 1, 1)
        winograd_samples_forward(x, w, b, np.empty_like(dout), 1, 1)
    return both_paths


def _layout():
    """A 'tf' layer's kernel copied channels first."""
    from .layout import kernel_to_channels_first
    w, out = _arrays((3, 3, 2, 4), (4, 2, 3, 3))
    return lambda: kernel_to_channels_first(w, out)


def _gemm_direct(x_shape, w_shape, stride, pad):
    """(backward, forward) calling conv2d_gemm directly on tiny arrays, for
    its paths that the public kernels take only at 64 channels or more."""
    from .conv2d_gemm import gemm_backward_weights, gemm_forward
    N, _, H, _ = x_shape
    F, _, K, _ = w_shape
    OH = (H + 2 * pad - K) // stride + 1
    x, w, b, dout = _arrays(x_shape, w_shape, (F,), (N, F, OH, OH))

    def backward():
        gemm_backward_weights(x, dout, np.empty_like(w), np.empty_like(b), stride, stride,
                              pad, pad)

    def forward():
        gemm_forward(x, w, b, np.empty_like(dout), stride, stride, pad, pad)
    return backward, forward


def _upsampling():
    from .upsampling import upsample2d_backward, upsample2d_forward
    x, dy = _arrays((2, 3, 3), (2, 6, 6))
    return (lambda: upsample2d_backward(dy, np.empty_like(x), 2, 2),
            lambda: upsample2d_forward(x, np.empty_like(dy), 2, 2))


def _upsampled_phases():
    """conv2d_upsampled's copies between the phases and the planes, and its
    folding of the kernel's taps (a 5x5 layer after an upsampling), called
    directly on tiny arrays."""
    from .conv2d_upsampled import _fold_taps, _phases_to_planes, _planes_to_phases, _unfold_taps
    z, out, w, folded = _arrays((1, 4, 2, 2), (1, 1, 4, 4), (1, 1, 5, 5), (2, 2, 1, 1, 3, 3))
    taps = np.array([[0, 0, 1, 1, 2], [0, 1, 1, 2, 2]])

    def backward():
        _planes_to_phases(out, 2, 2, np.empty_like(z), 0, 1)
        _unfold_taps(folded, taps, taps, np.empty_like(w))

    def forward():
        _fold_taps(w, taps, taps, np.empty_like(folded))
        _phases_to_planes(z, 2, 2, np.empty_like(out), 0, 1)
    return backward, forward


def _elementwise():
    from .elementwise import (LINEAR, RELU, SIGMOID, TANH, activation_backward,
                              activation_forward, bias_activation_forward,
                              leaky_relu_backward, leaky_relu_forward)
    x, b = _arrays((2, 3), (3,))
    codes = (TANH, RELU, SIGMOID)
    backward = [lambda code=code: activation_backward(code, x, x, np.empty_like(x))
                for code in codes]
    backward.append(lambda: leaky_relu_backward(x, 0.3, x, np.empty_like(x)))
    def forward_both_ways(code):
        # an Activation layer writes a new array; Dense and Convolution2D
        # write over their own pre-activation (the in-place kernels)
        activation_forward(code, x, np.empty_like(x))
        own = x.copy()
        activation_forward(code, own, own)
    forward = [lambda code=code: forward_both_ways(code) for code in codes]
    forward.append(lambda: leaky_relu_forward(x, 0.3, np.empty_like(x)))

    def biased():
        for code in (LINEAR,) + codes:
            bias_activation_forward(code, x, b, np.empty_like(x))
            own = x.copy()
            bias_activation_forward(code, own, b, own)
    return backward, forward, biased


def steps():
    """The compilation steps, in the order the child runs them: the
    activations' derivatives, the backward kernels of the direct
    convolutions (and of one sample in bands of rows), pooling, then the
    matrix-product path (wide layers, and the stride-1 input gradient of
    small batches, by col2im or by the flipped kernel), the Winograd path
    (wide 3x3 layers), the shifted products (wide stride-1 layers) and the
    phase planes (wide strided layers), the upsampling gradient and the
    phases of a convolution after an upsampling, the strided direct loops,
    and the forward kernels last (after a 'tf' layer's kernel copy)."""
    direct_back, direct_fwd = _conv(2, 4, 3, 1, 0)
    bands_back, bands_fwd = _one_sample_bands()
    wide_back, wide_fwd = _conv(2, 64, 3, 2, 1)
    small_batch_back, _ = _conv(16, 16, 3, 1, 1)
    flipped_back, _ = _conv(64, 16, 3, 1, 1)
    strided_back, strided_fwd = _conv(1, 2, 3, 2, 1)
    shifted_back, shifted_fwd = _gemm_direct((4, 64, 3, 3), (1, 64, 5, 5), 1, 2)  # stride-1 5x5
    phased_back, phased_fwd = _gemm_direct((4, 64, 3, 3), (64, 64, 3, 3), 2, 1)  # phase planes
    upsample_back, upsample_fwd = _upsampling()
    phases_back, phases_fwd = _upsampled_phases()
    pool = _pooling()
    activation_back, activation_fwd, bias_fwd = _elementwise()
    return (activation_back + [direct_back, bands_back, pool[0], pool[1], wide_back,
                               small_batch_back, flipped_back, wide_fwd, _winograd(),
                               shifted_back, shifted_fwd, phased_back, phased_fwd, upsample_back,
                               phases_back, pool[2], pool[3], strided_back, strided_fwd, bias_fwd]
            + activation_fwd + [_layout(), direct_fwd, bands_fwd, upsample_fwd, phases_fwd])


def compile_all():
    """Runs every step (each compiles what is not in the cache yet, or loads it)."""
    for step in steps():
        step()


def start_in_background():
    """Starts `python -m minikeras.kernels.prepare` in a child process (no
    output; it ends by itself). Returns the process, or None when
    MINIKERAS_PRECOMPILE=0 or the child cannot start."""
    if os.environ.get('MINIKERAS_PRECOMPILE', '1') == '0':
        return None
    try:
        return subprocess.Popen([sys.executable, '-m', 'minikeras.kernels.prepare'],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, close_fds=True)
    except OSError:
        return None


if __name__ == '__main__':
    try:
        os.nice(5)  # on a busy machine, leave the cores to the run it prepares for
    except (AttributeError, OSError):
        pass
    started = time.time()
    compile_all()
    print('minikeras: kernels compiled or found in Numba\'s cache in %.1f s' % (time.time() - started))
