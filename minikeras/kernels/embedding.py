"""The gradient of an embedding lookup: rows added into a table.

Plain arrays in, the table updated in place: `table` (V, D) float32, the
looked-up `indices` (N,) int64 (all in [0, V), checked by the caller), the
gradient of each looked-up row `rows` (N, D) float32, and `keep` (V,)
float32, the multiplier of each table row (the layer's dropout over its
vocabulary; not read when `scaled` is False). Row k adds
`rows[k] * keep[indices[k]]` into `table[indices[k]]`, in the order of k,
as `np.add.at` does, so the sums are bit-identical to it; only the touched
rows are visited. Serial, hence deterministic.
"""
import numba

__all__ = ['add_rows']


@numba.njit(cache=True, nogil=True, fastmath=False, boundscheck=False)
def add_rows(table, indices, rows, keep, scaled):
    width = table.shape[1]
    for k in range(indices.shape[0]):
        row = indices[k]
        if scaled:
            factor = keep[row]
            for j in range(width):
                table[row, j] += rows[k, j] * factor
        else:
            for j in range(width):
                table[row, j] += rows[k, j]
