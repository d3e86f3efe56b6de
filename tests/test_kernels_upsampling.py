"""The upsampling kernels against float64 loops written from the definition."""
import numpy as np
import pytest

from minikeras.kernels.upsampling import upsample2d_backward, upsample2d_forward
from test_kernels import _data, _garbage

pytestmark = pytest.mark.filterwarnings('error::numba.core.errors.NumbaWarning')


@pytest.mark.parametrize('shape,factors', [((6, 5, 7), (2, 2)), ((3, 4, 1), (3, 2)),
                                           ((40, 7, 7), (1, 3))])
def test_upsampling_matches_float64_loops(shape, factors):
    P, H, W = shape
    fh, fw = factors
    x, dy = _data(5, (P, H, W), (P, H * fh, W * fw))
    y = _garbage(dy.shape)
    upsample2d_forward(x, y, fh, fw)
    dx = _garbage(x.shape)
    upsample2d_backward(dy, dx, fh, fw)
    ref_y = np.zeros(dy.shape)
    ref_dx = np.zeros(x.shape)
    for p in range(P):
        for r in range(H * fh):
            for c in range(W * fw):
                ref_y[p, r, c] = x[p, r // fh, c // fw]
                ref_dx[p, r // fh, c // fw] += float(dy[p, r, c])
    np.testing.assert_array_equal(y, ref_y)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-6, atol=1e-6)
