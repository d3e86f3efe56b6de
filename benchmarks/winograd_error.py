#!/usr/bin/env python3
"""Rounding error of the 3x3 convolution paths on VGG16's layers (docs/winograd-error.md).

    python3 benchmarks/winograd_error.py

For each layer shape, the largest and rms absolute error of im2col + sgemm,
Winograd F(2x2, 3x3) and F(4x4, 3x3) against a float64 direct convolution
of the same float32 arrays, divided by the largest entry of the float64
result: relu activations, He-scaled weights, one image, 'same' padding.
"""
import numpy as np

from minikeras.kernels import conv2d_gemm
from minikeras.kernels.conv2d_winograd import winograd_forward

LAYERS = [(64, 64, 64), (64, 128, 64), (128, 128, 64), (128, 256, 56), (256, 256, 56),
          (256, 512, 28), (512, 512, 28)]


def float64_reference(x, w):
    """One image, 'same' padding: (F, 9 C) @ (9 C, H W) in float64."""
    C, H, W = x.shape[1:]
    padded = np.zeros((C, H + 2, W + 2))
    padded[:, 1:-1, 1:-1] = x[0]
    columns = np.stack([padded[:, i:i + H, j:j + W] for i in range(3) for j in range(3)], 1)
    flat = w.reshape(w.shape[0], -1).astype(np.float64) @ columns.reshape(C * 9, H * W)
    return flat.reshape(1, -1, H, W)


def main():
    rng = np.random.RandomState(0)
    for C, F, side in LAYERS:
        x = np.maximum(rng.standard_normal((1, C, side, side)), 0).astype(np.float32)
        w = (rng.standard_normal((F, C, 3, 3)) * np.sqrt(2 / (9 * C))).astype(np.float32)
        b = np.zeros(F, np.float32)
        want = float64_reference(x, w)
        scale = np.abs(want).max()
        out = np.empty(want.shape, np.float32)
        paths = [('im2col + sgemm', lambda: conv2d_gemm.gemm_forward(x, w, b, out, 1, 1, 1, 1)),
                 ('F(2x2, 3x3)', lambda: winograd_forward(x, w, b, out, 1, 1, 2)),
                 ('F(4x4, 3x3)', lambda: winograd_forward(x, w, b, out, 1, 1, 4))]
        cells = []
        for name, run in paths:
            run()
            error = np.abs(out - want)
            cells.append('%s %.1e (rms %.1e)' % (name, error.max() / scale,
                                                  np.sqrt((error ** 2).mean()) / scale))
        print('%3d -> %3d, %3dx%-3d  ' % (C, F, side, side) + ' | '.join(cells), flush=True)


if __name__ == '__main__':
    main()
