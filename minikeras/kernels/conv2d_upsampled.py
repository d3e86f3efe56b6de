"""Stride-1 2D convolution of nearest-neighbour upsampled images, computed on
the images before the upsampling.

Let u be the planes of x (N, C, H, W) upsampled by (fh, fw):
u[n, c, i*fh + a, j*fw + b] = x[n, c, i, j]. A stride-1 correlation of u
with a (F, C, KH, KW) kernel padded by (pt, pl) reads, for output row
r = i*fh + p (its row phase p), row r + ki - pt of u, which is row
i + (p + ki - pt) // fh of x, and 0 outside x on both sides in both. So
within one phase the kernel rows that land on the same row of x can be
summed first: their row offsets e = (p + ki - pt) // fh take few values (3
for a 5x5 kernel at factor 2, where the 25 taps of a window become 9). The
same holds for columns. Taking the offsets of all phases together (e_lo to
e_hi, EH and EW of them) turns the layer into one stride-1 correlation of x
itself, with fh*fw*F filters of (EH, EW) taps, padded by (-e_lo, -e_lo'):

    z[n, (p*fw + q)*F + f, i, j] = out[n, f, i*fh + p, j*fw + q]

which conv2d's kernels run. The gradient of x that comes back from it
already holds the upsampling's own gradient (the sum over each block), and
the gradient of a tap of the layer's kernel is the sum of the gradients of
the folded taps it went into, over the phases in order.

Every sum here runs in an order fixed by the shapes, and conv2d's kernels
are deterministic: results do not depend on the thread count. They differ
from upsampling first by float32 rounding (taps summed before, not after,
their products).
"""
import numba
import numpy as np

from . import conv2d, threads

__all__ = ['UpsampledCorrelation']

# Folding must at least halve the multiplications: the phases are one more
# copy of the output each way.
_MAX_TAP_RATIO = 0.5


def _offsets(factor, size, pad):
    """offsets[p, k] = (p + k - pad) // factor, with their lowest value and
    their count of distinct values (lowest to highest)."""
    offsets = (np.arange(factor)[:, None] + np.arange(size)[None, :] - pad) // factor
    lo = int(offsets.min())
    return offsets - lo, lo, int(offsets.max()) - lo + 1


@numba.njit(cache=True, nogil=True)
def _phases_to_planes(z, fh, fw, out, lo, hi):
    """out[n, f, i*fh + p, j*fw + q] = z[n, (p*fw + q)*F + f, i, j] for the
    samples n in [lo, hi), over every position of out."""
    F = out.shape[1]
    OH = out.shape[2]
    OW = out.shape[3]
    for n in range(lo, hi):
        for f in range(F):
            plane = out[n, f]
            for r in range(OH):
                i = r // fh
                p = r - i * fh
                row = plane[r]
                for q in range(fw):
                    src = z[n, (p * fw + q) * F + f, i]
                    for j in range((OW - q + fw - 1) // fw):
                        row[j * fw + q] = src[j]


@numba.njit(cache=True, nogil=True)
def _planes_to_phases(dout, fh, fw, dz, lo, hi):
    """The adjoint of _phases_to_planes: dz[n, (p*fw + q)*F + f, i, j] =
    dout[n, f, i*fh + p, j*fw + q], and 0 where that lies outside dout."""
    F = dout.shape[1]
    OH = dout.shape[2]
    OW = dout.shape[3]
    ZH = dz.shape[2]
    ZW = dz.shape[3]
    for n in range(lo, hi):
        for f in range(F):
            for r in range(OH):
                i = r // fh
                p = r - i * fh
                src = dout[n, f, r]
                for q in range(fw):
                    row = dz[n, (p * fw + q) * F + f, i]
                    inside = (OW - q + fw - 1) // fw
                    for j in range(inside):
                        row[j] = src[j * fw + q]
                    for j in range(inside, ZW):
                        row[j] = 0.0
            for p in range(fh):
                for i in range((OH - p + fh - 1) // fh, ZH):
                    for q in range(fw):
                        dz[n, (p * fw + q) * F + f, i] = 0.0


@numba.njit(cache=True, nogil=True)
def _fold_taps(w, row_taps, col_taps, folded):
    """folded[p, q, f, c, e, e'] = the sum (over ki, then kj) of the taps
    w[f, c, ki, kj] with row_taps[p, ki] = e and col_taps[q, kj] = e'."""
    F, C, KH, KW = w.shape
    fh, fw = row_taps.shape[0], col_taps.shape[0]
    folded[...] = 0.0
    for p in range(fh):
        for q in range(fw):
            for f in range(F):
                for c in range(C):
                    dst = folded[p, q, f, c]
                    src = w[f, c]
                    for ki in range(KH):
                        e = row_taps[p, ki]
                        for kj in range(KW):
                            dst[e, col_taps[q, kj]] += src[ki, kj]


@numba.njit(cache=True, nogil=True)
def _unfold_taps(folded, row_taps, col_taps, w):
    """The adjoint of _fold_taps: w[f, c, ki, kj] = the sum over p, then q,
    of folded[p, q, f, c, row_taps[p, ki], col_taps[q, kj]]."""
    F, C, KH, KW = w.shape
    fh, fw = row_taps.shape[0], col_taps.shape[0]
    for f in range(F):
        for c in range(C):
            dst = w[f, c]
            for ki in range(KH):
                for kj in range(KW):
                    s = folded[0, 0, f, c, row_taps[0, ki], col_taps[0, kj]]
                    for p in range(fh):
                        for q in range(fw):
                            if p > 0 or q > 0:
                                s += folded[p, q, f, c, row_taps[p, ki], col_taps[q, kj]]
                    dst[ki, kj] = s


class UpsampledCorrelation(object):
    """conv2d's forward and gradients for the correlation of x upsampled by
    `factors` with the kernel w, stride 1, computed on x (see the module
    notes). Build it with `fold`, which says None where folding does not
    pay."""

    def __init__(self, w, b, factors, out_hw, rows, cols):
        self.w_shape = w.shape
        self.factors = factors
        F, C = w.shape[:2]
        fh, fw = factors
        row_taps, row_lo, EH = rows
        col_taps, col_lo, EW = cols
        self._row_taps, self._col_taps = row_taps, col_taps
        self._pad_top, self._pad_left = -row_lo, -col_lo
        self._z_hw = (-(-out_hw[0] // fh), -(-out_hw[1] // fw))
        folded = np.empty((fh, fw, F, C, EH, EW), np.float32)
        _fold_taps(np.ascontiguousarray(w, np.float32), row_taps, col_taps, folded)
        self.w_folded = folded.reshape(fh * fw * F, C, EH, EW)
        self.b_folded = np.tile(np.asarray(b, np.float32), fh * fw)

    @classmethod
    def fold(cls, w, b, factors, pads, out_hw):
        """The folded layer, or None where it would not halve the
        multiplications.

        # Arguments
            w: (F, C, KH, KW) float32 kernel; b: (F,) bias.
            factors: (fh, fw), the upsampling factors.
            pads: (pad_top, pad_left) of the correlation on the upsampled planes.
            out_hw: (OH, OW), its output size.
        """
        KH, KW = w.shape[2], w.shape[3]
        rows = _offsets(factors[0], KH, pads[0])
        cols = _offsets(factors[1], KW, pads[1])
        if rows[2] * cols[2] > _MAX_TAP_RATIO * KH * KW:
            return None
        return cls(w, b, tuple(factors), out_hw, rows, cols)

    def _geometry(self):
        return 1, 1, self._pad_top, self._pad_left

    def forward(self, x, out):
        """out (N, F, OH, OW) = the correlation of x (N, C, H, W), upsampled, plus b."""
        N = x.shape[0]
        z = np.empty((N, self.w_folded.shape[0]) + self._z_hw, np.float32)
        conv2d.conv2d_forward(x, self.w_folded, self.b_folded, z, *self._geometry())
        threads.run_ranges(_phases_to_planes, N, out.size, z, self.factors[0],
                           self.factors[1], out)

    def phases(self, dout):
        """dout (N, F, OH, OW) split into the phases the folded kernel sees."""
        N = dout.shape[0]
        dz = np.empty((N, self.w_folded.shape[0]) + self._z_hw, np.float32)
        threads.run_ranges(_planes_to_phases, N, dz.size, dout, self.factors[0],
                           self.factors[1], dz)
        return dz

    def backward_input(self, dz, dx):
        """dx (N, C, H, W): the gradient of x, for dz = self.phases(dout)."""
        conv2d.conv2d_backward_input(dz, self.w_folded, dx, *self._geometry())

    def backward_weights(self, x, dz, dw, db):
        """Fills dw (F, C, KH, KW) and db (F,), for dz = self.phases(dout)."""
        F, C = self.w_shape[:2]
        fh, fw = self.factors
        EH, EW = self.w_folded.shape[2:]
        dw_folded = np.empty_like(self.w_folded)
        db_folded = np.empty(fh * fw * F, np.float32)
        conv2d.conv2d_backward_weights(x, dz, dw_folded, db_folded, *self._geometry())
        _unfold_taps(dw_folded.reshape(fh, fw, F, C, EH, EW), self._row_taps, self._col_taps,
                     dw)
        db_phases = db_folded.reshape(fh * fw, F)
        db[...] = db_phases[0]
        for k in range(1, fh * fw):
            db += db_phases[k]
