"""Embedding lookups and their gradient: rows of a table, read or added into.

Plain arrays in, preallocated arrays out: `table` (V, D) float32, the
looked-up `indices` (N,) int64 (all in [0, V), checked by the caller), and
`keep` (V,) float32, the multiplier of each table row (the layer's dropout
over its vocabulary; not read when `scaled` is False).

- `gather_rows`: out[k] = table[indices[k]] * keep[indices[k]], the float32
  product NumPy's `table[indices] * keep[indices][:, None]` computes, in
  one pass and without its two temporaries; for the rows [lo, hi), so that
  `threads.run_ranges` spreads it.
- `add_rows`: row k adds `rows[k] * keep[indices[k]]` (`rows` (N, D) the
  gradient of each looked-up row) into `table[indices[k]]`, in the order of
  k, as `np.add.at` does, so the sums are bit-identical to it; only the
  touched rows are visited. For the table rows [lo, hi) only: each call
  scans every k and skips the others' rows, so that `threads.run_ranges`
  can spread it over table rows while each row's sum keeps its order.
- `zero_rows`: table[indices[k]] = 0 for every k whose row is in [lo, hi):
  a gradient table whose only non-zero rows are known is cleared without a
  pass over all of it.
"""
import numba

__all__ = ['gather_rows', 'add_rows', 'zero_rows']

_OPTIONS = dict(cache=True, nogil=True, fastmath=False, boundscheck=False)


@numba.njit(**_OPTIONS)
def gather_rows(table, indices, keep, scaled, out, lo, hi):
    width = table.shape[1]
    for k in range(lo, hi):
        row = indices[k]
        source, target = table[row], out[k]
        if scaled:
            factor = keep[row]
            for j in range(width):
                target[j] = source[j] * factor
        else:
            for j in range(width):
                target[j] = source[j]


@numba.njit(**_OPTIONS)
def add_rows(table, indices, rows, keep, scaled, lo, hi):
    width = table.shape[1]
    for k in range(indices.shape[0]):
        row = indices[k]
        if row < lo or row >= hi:
            continue
        if scaled:
            factor = keep[row]
            for j in range(width):
                table[row, j] += rows[k, j] * factor
        else:
            for j in range(width):
                table[row, j] += rows[k, j]


@numba.njit(**_OPTIONS)
def zero_rows(table, indices, lo, hi):
    zero = table.dtype.type(0)
    for k in range(indices.shape[0]):
        row = indices[k]
        if row < lo or row >= hi:
            continue
        target = table[row]
        for j in range(target.shape[0]):
            target[j] = zero
