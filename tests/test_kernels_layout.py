"""kernels/layout.py: a 'tf' kernel copied channels first, against NumPy's transpose."""
import numpy as np
import pytest

from minikeras.kernels.layout import kernel_to_channels_first


@pytest.mark.parametrize('shape', [(3, 3, 3, 64), (5, 5, 17, 33), (1, 1, 1, 1), (3, 1, 40, 7),
                                   (3, 3, 128, 130)])   # the last in several tasks
def test_kernel_to_channels_first_is_the_transpose(shape):
    w = np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32)
    out = np.full((shape[3], shape[2], shape[0], shape[1]), np.nan, np.float32)
    kernel_to_channels_first(w, out)
    np.testing.assert_array_equal(out, w.transpose(3, 2, 0, 1))


def test_kernel_to_channels_first_checks_its_arrays():
    w = np.zeros((3, 3, 4, 8), np.float32)
    with pytest.raises(ValueError, match=r'out must have shape \(8, 4, 3, 3\), got \(4, 8, 3, 3\)'):
        kernel_to_channels_first(w, np.zeros((4, 8, 3, 3), np.float32))
    with pytest.raises(ValueError, match='w must be a C-contiguous float32 array, got float64'):
        kernel_to_channels_first(w.astype(np.float64), np.zeros((8, 4, 3, 3), np.float32))
    with pytest.raises(ValueError, match=r'out must .* float32 array, got float32 \(not contig'):
        kernel_to_channels_first(w, np.zeros((8, 4, 3, 6), np.float32)[..., ::2])
