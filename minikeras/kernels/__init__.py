"""Numba kernels: plain arrays in, preallocated arrays out; no Keras names.

- `conv2d`: convolution forward and gradients, and the Keras 1 output-size
  and padding helpers.
- `pooling`: max pooling forward (with argmax) and backward, and the
  pooling output-size and padding helpers; `avgpool`: average pooling.
- `conv2d_gemm`: the matrix-product path of wide convolutions.
- `elementwise`: relu, tanh and sigmoid and their derivatives in one pass
  each, in place if wanted, on the kernel threads.
- `threads`: the pool of threads every kernel runs on, and BLAS threads
  decided per matrix product.
- `prepare`: compiling the kernels ahead of their first use.
- `recurrent`: SimpleRNN, GRU and LSTM sequences, forward and backprop
  through time (per step: a BLAS matmul and compiled fused passes).
- `dropout`: a dropout mask drawn (counter-based generator) and applied in one pass.
- `optimizers`: each optimizer's update of a weight in one pass;
  `embedding`: an embedding's weight gradient as a scatter of rows.
- `layout`: a 'tf' convolution kernel copied channels first; `bits`:
  whether two arrays hold the same bits (for caches of arrays derived from
  weights).
- `register_tile`: a row of float32s held in vector registers (an LLVM
  vector type and its loads, stores and multiply-adds), for accumulators
  that live across a kernel's loops.

Compiled on first use and cached on disk (`cache=True`), with the CPU's
widest vectors (`vector_width`: set here, before anything compiles).
"""
from .vector_width import use_full_vector_width

use_full_vector_width()

from .conv2d import (conv2d_backward_input, conv2d_backward_weights, conv2d_forward,  # noqa: E402
                     conv_output_length, conv_padding)
from .pooling import maxpool2d_backward, maxpool2d_forward, pool_output_length, pool_padding  # noqa: E402


def cache_is_warm():
    """Whether Numba's disk cache already holds the convolution kernels, so that
    this process loads them instead of compiling them (several seconds)."""
    import glob
    import os

    import numba
    folder = numba.config.CACHE_DIR or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '__pycache__')
    return bool(glob.glob(os.path.join(folder, '**', 'conv2d._corr_s1_groups-*.nbi'),
                          recursive=True))


__all__ = ['cache_is_warm', 'conv_output_length', 'conv_padding', 'conv2d_forward', 'conv2d_backward_input',
           'conv2d_backward_weights', 'pool_output_length', 'pool_padding',
           'maxpool2d_forward', 'maxpool2d_backward']
