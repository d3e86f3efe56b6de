"""Recurrent cell kernels: SimpleRNN, GRU and LSTM sequences, forward and
backprop through time.

Plain arrays in, preallocated arrays out, float32, C-contiguous, time-major:

- `xp` (T, B, G*n): the input projection of every timestep, bias included,
  gates side by side (LSTM: i, f, c, o; GRU: z, r, h; SimpleRNN: one). The
  caller computes it as one matmul over all timesteps.
- `mask` (T, B) uint8: 1 where a step is real. A masked step keeps the
  previous state, and its output is the previous output (0 before the first
  real step), as Keras 1.2.2's backends did.
- recurrent dropout: `mu` (G, B, n), one multiplier per gate applied to the
  state before its recurrent matmul. With `gate_masks` False, `mu` is not
  read and the gates share one matmul with the concatenated `U` (n, G*n).
  With it True, gate g uses `Ug[g]` (n, n) on `h * mu[g]`.
- activations are codes (`ACTIVATIONS`): every one of them has a derivative
  that is a function of its output, so the backward pass needs only the
  activated values kept by the forward pass.

Each timestep is one BLAS matmul into a preallocated buffer (NumPy's, so
the training loop's single-threaded BLAS applies; the per-gate products of
recurrent dropout are one batched matmul). SimpleRNN and GRU, forward: the
activations are NumPy's vectorised ufuncs (`activate`: their SIMD tanh and
exp are several times faster than a compiled loop's scalar libm calls), and
one compiled pass per step combines the gates, the cell and the mask
(`*_step_*`). LSTM, forward: the step's matmul and then one compiled pass
that does all the rest, its tanh the element-wise kernels' float32 vector
tanh (`elementwise.tanh_in_place`: within 3 ulp of the correctly rounded
value, the bits of an Activation layer's and K.tanh's). It replaced a
float64 tanh within half an ulp, twice as slow, by the lead's decision
(issue 10): the fused activations hold the same 3-ulp bound, and the
fidelity tests against real Keras (1e-5 forward, 1e-4 gradients) hold
with it (SimpleRNN and GRU keep NumPy's tanh). The LSTM's samples of a
batch run in a few independent groups (`batch_shards`) on the kernel
threads, since the recurrence never mixes samples.
Backward, one compiled pass per step takes the derivatives of every gate
from the saved activations and the mask, with no transcendental function.
The loop over timesteps is a Python loop of those calls (nothing runs in
Python per element), except for LSTM where NumPy's sgemm can be called from
compiled code (`blas`): there each group of samples runs its whole time loop,
products included, in one compiled call without the GIL
(`lstm_forward_group`, `lstm_backward_group`), with the same products.
Backward returns the gradients of the pre-activations `dz` (T, B, G*n);
the caller turns them into weight and input gradients with a few large
matmuls, except that LSTM's groups of at least 64 samples sum U's gradient
(and a one-hot input's W and b gradients) as they walk back
(`lstm_backward` with `states`). The compiled passes are serial (their
work is small next to the matmul), hence deterministic.
"""
import functools

import numba
import numpy as np

from . import blas, threads
from .elementwise import tanh_gate_in_place

__all__ = ['ACTIVATIONS', 'rnn_forward', 'rnn_backward', 'gru_forward', 'gru_backward',
           'lstm_forward', 'lstm_backward', 'folds_weight_gradients', 'mask_inputs',
           'gather_input_gradient',
           'masked_projection_tasks', 'masked_input_gradient_tasks', 'one_hot_columns',
           'one_hot_table', 'project_one_hot', 'project_one_hot_samples', 'one_hot_gradients',
           'one_hot_gradient_tasks', 'tall_product', 'tall_product_tasks']

LINEAR, TANH, SIGMOID, HARD_SIGMOID, RELU, SOFTPLUS, SOFTSIGN, ELU = range(8)

ACTIVATIONS = {'linear': LINEAR, 'tanh': TANH, 'sigmoid': SIGMOID,
               'hard_sigmoid': HARD_SIGMOID, 'relu': RELU, 'softplus': SOFTPLUS,
               'softsign': SOFTSIGN, 'elu': ELU}

_OPTIONS = dict(cache=True, nogil=True, fastmath=False)
# error_model='numpy': a float division by zero gives inf or nan instead of
# raising, which lets the loops vectorise; boundscheck off for the same reason
_VECTOR_OPTIONS = dict(_OPTIONS, error_model='numpy', boundscheck=False)


@numba.njit(inline='always', **_OPTIONS)
def _dact(y, code):
    """The derivative of activation `code` at the input whose output is y."""
    if code == TANH:
        return np.float32(1.) - y * y
    if code == SIGMOID:
        return y * (np.float32(1.) - y)
    if code == HARD_SIGMOID:
        return np.float32(0.2) if np.float32(0.) < y < np.float32(1.) else np.float32(0.)
    if code == RELU:
        return np.float32(1.) if y > 0 else np.float32(0.)
    if code == SOFTPLUS:
        return -np.expm1(-y)
    if code == SOFTSIGN:
        s = np.float32(1.) - abs(y)
        return s * s
    if code == ELU:
        return np.float32(1.) if y > 0 else y + np.float32(1.)
    return np.float32(1.)


def activate(values, code):
    """Applies activation `code` to `values` (an array or a view) in place,
    with NumPy's vectorised ufuncs: their SIMD tanh and exp are several times
    faster than the scalar libm calls a compiled loop makes."""
    if code == TANH:
        np.tanh(values, out=values)
    elif code == SIGMOID:
        np.negative(values, out=values)
        np.exp(values, out=values)
        values += np.float32(1.)
        np.reciprocal(values, out=values)
    elif code == HARD_SIGMOID:
        values *= np.float32(0.2)
        values += np.float32(0.5)
        np.clip(values, np.float32(0.), np.float32(1.), out=values)
    elif code == RELU:
        np.maximum(values, np.float32(0.), out=values)
    elif code == SOFTPLUS:
        tail = np.exp(-np.abs(values))
        np.log1p(tail, out=tail)
        np.maximum(values, np.float32(0.), out=values)
        values += tail
    elif code == SOFTSIGN:
        values /= np.float32(1.) + np.abs(values)
    elif code == ELU:
        np.copyto(values, np.expm1(np.minimum(values, np.float32(0.))), where=values <= 0)
    return values


def _recurrent_input(h, U, Ug, mu, gate_masks, flat, per_gate):
    """h @ U as (B, G, n): into `flat` (B, G*n), or per gate (h * mu[g]) @ Ug[g]
    into `per_gate` (G, B, n)."""
    if not gate_masks:
        np.matmul(h, U, out=flat)
        return flat.reshape(flat.shape[0], Ug.shape[0], -1)
    np.matmul(h[None] * mu, Ug, out=per_gate)
    return per_gate.transpose(1, 0, 2)


def _state_gradient(dz_t, Ut, Ugt, mu, gate_masks, back):
    """back (B, n) = dz_t @ U.T, or the sum over gates of (dz_g @ Ug[g].T) * mu[g]."""
    if not gate_masks:
        np.matmul(dz_t, Ut, out=back)
        return back
    gates = Ugt.shape[0]
    per_gate = np.matmul(dz_t.reshape(dz_t.shape[0], gates, -1).transpose(1, 0, 2), Ugt)
    per_gate *= mu
    return per_gate.sum(axis=0, out=back)


# ---------------------------------------------------------------------------
# SimpleRNN: h = act(xp + h_prev @ U)


@numba.njit(**_OPTIONS)
def masked_step(new, state_prev, out_prev, mask_t, state_t, out_t):
    """state_t and out_t: the new value where the step is real, else the
    previous state and the previous output."""
    B, n = new.shape
    for b in range(B):
        if mask_t[b] != 0:
            for j in range(n):
                state_t[b, j] = new[b, j]
                out_t[b, j] = new[b, j]
        else:
            for j in range(n):
                state_t[b, j] = state_prev[b, j]
                out_t[b, j] = out_prev[b, j]


@numba.njit(**_OPTIONS)
def rnn_step_backward(dout_t, carry, dh, h_t, mask_t, act, dz_t):
    B, n = dh.shape
    for b in range(B):
        real = mask_t[b] != 0
        for j in range(n):
            total = dout_t[b, j] + carry[b, j]
            if real:
                carry[b, j] = 0.
                dz_t[b, j] = (dh[b, j] + total) * _dact(h_t[b, j], act)
            else:
                carry[b, j] = total
                dz_t[b, j] = 0.


def rnn_forward(xp, U, Ug, mu, gate_masks, h0, mask, act, hs, out):
    """Fills hs (T + 1, B, n) (hs[0] = h0) and out (T, B, n)."""
    T, B, n = xp.shape
    flat = np.empty((B, n), np.float32)
    per_gate = np.empty((1, B, n), np.float32)
    zeros = np.zeros((B, n), np.float32)
    new = np.empty((B, n), np.float32)
    hs[0] = h0
    for t in range(T):
        rec = _recurrent_input(hs[t], U, Ug, mu, gate_masks, flat, per_gate)
        np.add(xp[t], rec[:, 0], out=new)
        activate(new, act)
        masked_step(new, hs[t], out[t - 1] if t else zeros, mask[t], hs[t + 1], out[t])


def rnn_backward(dout, hs, mask, Ut, Ugt, mu, gate_masks, act, dz):
    """Fills dz (T, B, n), the gradient of the pre-activations, from the
    gradient of the outputs dout (T, B, n)."""
    T, B, n = dout.shape
    dh = np.zeros((B, n), np.float32)
    carry = np.zeros((B, n), np.float32)
    back = np.empty((B, n), np.float32)
    for t in range(T - 1, -1, -1):
        rnn_step_backward(dout[t], carry, dh, hs[t + 1], mask[t], act, dz[t])
        _state_gradient(dz[t], Ut, Ugt, mu, gate_masks, back)
        np.copyto(dh, back, where=mask[t][:, None] != 0)


# ---------------------------------------------------------------------------
# GRU (Keras 1): z = ia(xz + h Uz), r = ia(xr + h Ur), hh = a(xh + (r h) Uh),
# h = z h_prev + (1 - z) hh


@numba.njit(**_OPTIONS)
def gru_step_output(gates_t, h_prev, out_prev, mask_t, h_t, out_t):
    """h = z h_prev + (1 - z) hh where the step is real, else the previous
    state and output."""
    B, n = h_prev.shape
    for b in range(B):
        real = mask_t[b] != 0
        for j in range(n):
            if real:
                z = gates_t[b, j]
                value = z * h_prev[b, j] + (np.float32(1.) - z) * gates_t[b, 2 * n + j]
                h_t[b, j] = value
                out_t[b, j] = value
            else:
                h_t[b, j] = h_prev[b, j]
                out_t[b, j] = out_prev[b, j]


@numba.njit(**_OPTIONS)
def gru_step_backward_output(dout_t, carry, dh, gates_t, h_prev, mask_t, act, inner_act, dz_t,
                             dhn):
    """dz of z and of the candidate; dhn = the gradient of the new state."""
    B, n = dh.shape
    for b in range(B):
        real = mask_t[b] != 0
        for j in range(n):
            total = dout_t[b, j] + carry[b, j]
            if real:
                carry[b, j] = 0.
                d = dh[b, j] + total
                dhn[b, j] = d
                z = gates_t[b, j]
                hh = gates_t[b, 2 * n + j]
                dz_t[b, j] = d * (h_prev[b, j] - hh) * _dact(z, inner_act)
                dz_t[b, 2 * n + j] = d * (np.float32(1.) - z) * _dact(hh, act)
            else:
                carry[b, j] = total
                dhn[b, j] = 0.
                dz_t[b, j] = 0.
                dz_t[b, 2 * n + j] = 0.


@numba.njit(**_OPTIONS)
def gru_step_backward_reset(drh, dhn, gates_t, h_prev, mu, gate_masks, mask_t, inner_act, dz_t):
    """dz of r from drh, the gradient of rh; dhn becomes the gradient of
    h_prev through z * h_prev and r * h_prev."""
    B, n = dhn.shape
    for b in range(B):
        real = mask_t[b] != 0
        for j in range(n):
            if real:
                m = mu[2, b, j] if gate_masks else np.float32(1.)
                r = gates_t[b, n + j]
                dz_t[b, n + j] = drh[b, j] * h_prev[b, j] * m * _dact(r, inner_act)
                dhn[b, j] = dhn[b, j] * gates_t[b, j] + drh[b, j] * r * m
            else:
                dz_t[b, n + j] = 0.


def gru_forward(xp, Uzr, Uh, Ug, mu, gate_masks, h0, mask, act, inner_act, gates, hs, rh, out):
    """Fills gates (T, B, 3n) with z, r, hh; hs (T + 1, B, n); rh (T, B, n),
    the input of Uh (r * h_prev, times mu[2] with gate masks); out (T, B, n)."""
    T, B, n3 = xp.shape
    n = n3 // 3
    flat = np.empty((B, 2 * n), np.float32)
    per_gate = np.empty((2, B, n), np.float32)
    hh_in = np.empty((B, n), np.float32)
    zeros = np.zeros((B, n), np.float32)
    Uh = Ug[2] if gate_masks else Uh
    hs[0] = h0
    for t in range(T):
        rec = _recurrent_input(hs[t], Uzr, Ug[:2], mu[:2] if gate_masks else mu, gate_masks,
                               flat, per_gate)
        g = gates[t]
        zr = g[:, :2 * n]
        np.add(xp[t][:, :2 * n].reshape(B, 2, n), rec, out=zr.reshape(B, 2, n))
        activate(zr, inner_act)
        np.multiply(g[:, n:2 * n], hs[t], out=rh[t])
        if gate_masks:
            rh[t] *= mu[2]
        np.matmul(rh[t], Uh, out=hh_in)
        hh = g[:, 2 * n:]
        np.add(xp[t][:, 2 * n:], hh_in, out=hh)
        activate(hh, act)
        gru_step_output(g, hs[t], out[t - 1] if t else zeros, mask[t], hs[t + 1], out[t])


def gru_backward(dout, gates, hs, mask, Uzr_t, Uh_t, Ugt, mu, gate_masks, act, inner_act, dz):
    """Fills dz (T, B, 3n), the gradient of the pre-activations of z, r, hh."""
    T, B, n = dout.shape
    dh = np.zeros((B, n), np.float32)
    carry = np.zeros((B, n), np.float32)
    dhn = np.empty((B, n), np.float32)
    drh = np.empty((B, n), np.float32)
    back = np.empty((B, n), np.float32)
    Uh_t = Ugt[2] if gate_masks else Uh_t
    for t in range(T - 1, -1, -1):
        gru_step_backward_output(dout[t], carry, dh, gates[t], hs[t], mask[t], act, inner_act,
                                 dz[t], dhn)
        np.matmul(dz[t][:, 2 * n:], Uh_t, out=drh)
        gru_step_backward_reset(drh, dhn, gates[t], hs[t], mu, gate_masks, mask[t], inner_act,
                                dz[t])
        _state_gradient(dz[t][:, :2 * n], Uzr_t, Ugt[:2], mu[:2] if gate_masks else mu,
                        gate_masks, back)
        back += dhn
        np.copyto(dh, back, where=mask[t][:, None] != 0)


# ---------------------------------------------------------------------------
# LSTM (Keras 1): i, f, o = ia(...), c = f c_prev + i a(xc + h Uc), h = o a(c)
#
# One compiled call per step takes the recurrent product (computed by BLAS
# between the calls) and does everything else of that step: the gate
# pre-activations, their activations (`_activate_gate`), the cell, the
# output, the mask, and, with recurrent dropout, the next step's masked
# states h * mu[g]. Backward, one call per step takes the gradient of the
# state from the previous product and does the whole cell's derivative.


def batch_shards(batch):
    """Bounds of the groups of samples whose sequences run as separate tasks
    (the samples of a batch are independent through time), handed out one
    at a time to whichever kernel thread is free.

    Each step of a group is one small matrix product (samples x n by
    n x 4n), and BLAS packs the n x 4n side anew on every call, a cost of
    about ten samples' rows: per sample, groups of 64 run the product within
    a few per cent of a whole batch of 128, groups of 32 a fifth slower,
    groups of 16 half again. Hence groups of at least 64 samples where the
    batch makes two of them, otherwise two groups of at least 16 so that
    two threads work, and at most 4 groups. (Four groups of 32 for a batch
    of 128, so that a thread the scheduler takes away leaves its remaining
    groups to the other, cost lstm_text_generation's epoch about 5% more
    CPU time on one thread, for no wall-time gain measurable on a loaded
    machine.) The groups depend on the batch size only, so results do not
    depend on the thread count; with OpenBLAS they do not depend on the
    grouping either (its products sum every row in the same order whatever
    the number of rows)."""
    count = max(min(2, batch // 16), min(4, batch // 64), 1)
    return [batch * k // count for k in range(count + 1)]


# The LSTM's compiled steps index their arrays element by element (gates
# as (T, B, 4, n), a gate a constant or loop-invariant index, the unit the
# innermost one) rather than through a view per sample: every view Numba
# makes takes and drops a reference with two atomic instructions, each a
# barrier to the stores in flight, and the views of the rows of a step took
# about a sixth of lstm_text_generation's time. Each loop writes one gate
# of one array, so that LLVM sees no overlap and vectorises it. A step runs
# over its samples in chunks whose gates stay in the second-level cache
# (_CHUNK_FLOATS floats of gates, 128 KB: a group of 64 samples of 128
# units at once), one pass over the chunk per kind of work; chunks of 8
# samples ran the forward step about a tenth slower.

_CHUNK_FLOATS = 32768


@numba.njit(**_VECTOR_OPTIONS)
def _chunk_samples(n):
    """Samples per chunk for a state of n units."""
    return max(1, _CHUNK_FLOATS // (4 * n))


@numba.njit(**_VECTOR_OPTIONS)
def _activate_gate(y, t, lo, hi, g, code):
    """Activation `code` in place on y[t, b, g, :] for the samples b in
    [lo, hi), y (T, B, G, n); one vectorisable loop per code, the float32
    formulas of `activate` except tanh: the element-wise kernels'
    (`elementwise.tanh_gate_in_place`, see the module notes)."""
    one, zero = np.float32(1.), np.float32(0.)
    n = y.shape[3]
    if code == TANH:
        tanh_gate_in_place(y, t, lo, hi, g)
    elif code == HARD_SIGMOID:
        for b in range(lo, hi):
            for j in range(n):
                y[t, b, g, j] = min(max(y[t, b, g, j] * np.float32(0.2) + np.float32(0.5), zero),
                                    one)
    elif code == SIGMOID:
        for b in range(lo, hi):
            for j in range(n):
                y[t, b, g, j] = one / (one + np.exp(-y[t, b, g, j]))
    elif code == RELU:
        for b in range(lo, hi):
            for j in range(n):
                y[t, b, g, j] = max(y[t, b, g, j], zero)
    elif code == SOFTPLUS:
        for b in range(lo, hi):
            for j in range(n):
                value = y[t, b, g, j]
                y[t, b, g, j] = max(value, zero) + np.log1p(np.exp(-abs(value)))
    elif code == SOFTSIGN:
        for b in range(lo, hi):
            for j in range(n):
                y[t, b, g, j] = y[t, b, g, j] / (one + abs(y[t, b, g, j]))
    elif code == ELU:
        for b in range(lo, hi):
            for j in range(n):
                if y[t, b, g, j] <= zero:
                    y[t, b, g, j] = np.expm1(y[t, b, g, j])


@numba.njit(**_VECTOR_OPTIONS)
def lstm_step_forward(xp, one_hot, table, columns, rec, per_gate, gate_masks, cs, hs, out, mask,
                      act, inner_act, mu, gates, act_c, masked_states, t, lo, hi):
    """Step t of the samples [lo, hi). The input projection is xp[t]
    (xp (T, B, 4, n)), or with `one_hot` the rows table[columns[t, b]]
    (table (D + 1, 4, n); -1: its last row; xp is then not read). The
    recurrent product is `rec` (B, 4, n) (h @ U) or, with gate masks,
    `per_gate` (4, B, n) ((h * mu[g]) @ U_g). Fills gates[t] (gates
    (T, B, 4, n), activated), act_c[t] = a(c_new) (act_c (T, B, 1, n)),
    cs[t + 1], hs[t + 1] and out[t] (the previous values where the step is
    masked, out 0 before the first step), and with gate masks
    masked_states[g, t + 1] = h * mu[g]."""
    n = cs.shape[2]
    last = table.shape[0] - 1
    zero = np.float32(0.)
    chunk = _chunk_samples(n)
    for first in range(lo, hi, chunk):
        end = min(first + chunk, hi)
        for b in range(first, end):
            k = columns[t, b] if one_hot else 0
            k = k if k >= 0 else last
            for g in range(4):
                if one_hot and gate_masks:
                    for j in range(n):
                        gates[t, b, g, j] = table[k, g, j] + per_gate[g, b, j]
                elif one_hot:
                    for j in range(n):
                        gates[t, b, g, j] = table[k, g, j] + rec[b, g, j]
                elif gate_masks:
                    for j in range(n):
                        gates[t, b, g, j] = xp[t, b, g, j] + per_gate[g, b, j]
                else:
                    for j in range(n):
                        gates[t, b, g, j] = xp[t, b, g, j] + rec[b, g, j]
        _activate_gate(gates, t, first, end, 0, inner_act)
        _activate_gate(gates, t, first, end, 1, inner_act)
        _activate_gate(gates, t, first, end, 2, act)
        _activate_gate(gates, t, first, end, 3, inner_act)
        for b in range(first, end):  # c = f c_prev + i c~, kept where the step is masked
            real = mask[t, b] != 0
            for j in range(n):
                value = gates[t, b, 1, j] * cs[t, b, j] + gates[t, b, 0, j] * gates[t, b, 2, j]
                act_c[t, b, 0, j] = value
                cs[t + 1, b, j] = value if real else cs[t, b, j]
        _activate_gate(act_c, t, first, end, 0, act)
        for b in range(first, end):  # h = o a(c)
            if mask[t, b] != 0:
                for j in range(n):
                    h = gates[t, b, 3, j] * act_c[t, b, 0, j]
                    hs[t + 1, b, j] = h
                    out[t, b, j] = h
            else:
                for j in range(n):
                    hs[t + 1, b, j] = hs[t, b, j]
                if t > 0:
                    for j in range(n):
                        out[t, b, j] = out[t - 1, b, j]
                else:
                    for j in range(n):
                        out[t, b, j] = zero
            if gate_masks:
                for g in range(4):
                    for j in range(n):
                        masked_states[g, t + 1, b, j] = hs[t + 1, b, j] * mu[g, b, j]


def lstm_forward(xp, U, Ug, mu, gate_masks, h0, c0, mask, act, inner_act,
                 gates, hs, cs, act_c, out, masked_states, one_hot=None):
    """Fills gates (T, B, 4n) with i, f, the candidate a(.), o; hs and cs
    (T + 1, B, n) (hs[0] = h0, cs[0] = c0); act_c (T, B, n) = a(c_new);
    out (T, B, n); with gate masks, masked_states (4, T + 1, B, n) with
    h_t * mu[g] (the input of U_g); without them, masked_states is any
    (4, 1, B, n) array, not read. For one-hot inputs, xp is None and
    `one_hot` is (`one_hot_table(W, b)`, columns (T, B) of `one_hot_columns`):
    each step reads its sample's row of the table, the row xp would hold,
    which saves writing xp and reading it back (10 MB a batch of
    lstm_text_generation, more than the caches hold)."""
    T, B = mask.shape
    n = U.shape[0]
    n4 = 4 * n
    if one_hot is None:
        table, columns = np.empty((0, n4), np.float32), np.empty((T, 0), np.int64)
    else:
        table, columns = one_hot
        xp = np.empty((T, 0, n4), np.float32)  # not read
    flat = np.empty((B, n4), np.float32)
    per_gate = np.empty((4, B, n), np.float32)
    hs[0] = h0
    cs[0] = c0
    if gate_masks:
        np.multiply(h0[None], mu, out=masked_states[:, 0])
    bounds = batch_shards(B)
    zero_start = not h0.any()  # the first product is then zero: not computed
    sgemm = _compiled_products(bounds, n, U, Ug, hs, masked_states)
    # the gates side by side as (4, n): the steps index them without views
    xp4, table4 = xp.reshape(T, -1, 4, n), table.reshape(-1, 4, n)
    gates4, act_c4 = gates.reshape(T, B, 4, n), act_c.reshape(T, B, 1, n)
    arrays = (xp4, one_hot is not None, table4, columns, U, Ug, mu, gate_masks, zero_start, mask,
              act, inner_act, gates4, hs, cs, act_c4, out, masked_states, flat, per_gate)

    def shard(task):
        lo, hi = bounds[task], bounds[task + 1]
        if sgemm is not None:
            return lstm_forward_group(sgemm, *arrays, lo, hi, 0, T)
        for t in range(T):  # NumPy's products, the step compiled
            if t == 0 and zero_start:
                flat[lo:hi] = 0.
                per_gate[:, lo:hi] = 0.
            elif gate_masks:
                np.matmul(masked_states[:, t, lo:hi], Ug, out=per_gate[:, lo:hi])
            else:
                np.matmul(hs[t, lo:hi], U, out=flat[lo:hi])
            lstm_forward_group(None, *arrays, lo, hi, t, t + 1)
    threads.run_tasks(shard, len(bounds) - 1)


def _compiled_products(bounds, n, *operands):
    """NumPy's sgemm for the compiled time loops (`blas.sgemm_function`), or
    None where they cannot give np.matmul's results: without it, where
    np.matmul would not call sgemm (a group of one sample or a state of one
    unit makes it a matrix-vector product), and where an operand's rows are
    not of unit stride (np.matmul copies it first)."""
    if n < 2 or min(hi - lo for lo, hi in zip(bounds[:-1], bounds[1:])) < 2:
        return None
    if any(array.strides[-1] != array.itemsize for array in operands):
        return None
    return blas.sgemm_function()


@numba.njit(**_VECTOR_OPTIONS)
def lstm_forward_group(sgemm, xp, one_hot, table, columns, U, Ug, mu, gate_masks, zero_start,
                       mask, act, inner_act, gates, hs, cs, act_c, out, masked_states, flat,
                       per_gate, lo, hi, start, stop):
    """The steps [start, stop) of `lstm_forward`'s time loop for the samples
    [lo, hi), compiled: each step's recurrent product through NumPy's `sgemm`
    (`blas.product`), then `lstm_step_forward` (xp, table, gates and act_c
    in its shapes); the whole loop without the GIL and without a return to
    Python per step. With `sgemm` None, the products are the caller's, made
    before the call."""
    rec = flat.reshape(flat.shape[0], 4, -1)
    for t in range(start, stop):
        if sgemm is not None:
            if t == 0 and zero_start:
                flat[lo:hi] = 0.
                per_gate[:, lo:hi] = 0.
            elif gate_masks:
                for g in range(4):
                    blas.product(sgemm, masked_states[g, t, lo:hi], Ug[g], per_gate[g, lo:hi])
            else:
                blas.product(sgemm, hs[t, lo:hi], U, flat[lo:hi])
        lstm_step_forward(xp, one_hot, table, columns, rec, per_gate, gate_masks, cs, hs, out,
                          mask, act, inner_act, mu, gates, act_c, masked_states, t, lo, hi)


@numba.njit(**_VECTOR_OPTIONS)
def _times_dact(values, t, lo, hi, g, y, gy, code, mask):
    """values[t, b, g, :] *= the derivative of activation `code` at the input
    whose output is y[t, b, gy, :] (`_dact`), for the samples b in [lo, hi)
    whose step t is real (mask[t, b]); one vectorisable loop per code.
    values (T, B, G, n), y (T, B, G', n)."""
    one, zero = np.float32(1.), np.float32(0.)
    n = values.shape[3]
    for b in range(lo, hi):
        if mask[t, b] == 0:
            continue
        if code == TANH:
            for j in range(n):
                values[t, b, g, j] *= one - y[t, b, gy, j] * y[t, b, gy, j]
        elif code == SIGMOID:
            for j in range(n):
                values[t, b, g, j] *= y[t, b, gy, j] * (one - y[t, b, gy, j])
        elif code == HARD_SIGMOID:
            for j in range(n):
                values[t, b, g, j] *= np.float32(0.2) if zero < y[t, b, gy, j] < one else zero
        elif code == RELU:
            for j in range(n):
                values[t, b, g, j] *= one if y[t, b, gy, j] > zero else zero
        elif code == SOFTPLUS:
            for j in range(n):
                values[t, b, g, j] *= -np.expm1(-y[t, b, gy, j])
        elif code == SOFTSIGN:
            for j in range(n):
                s = one - abs(y[t, b, gy, j])
                values[t, b, g, j] *= s * s
        elif code == ELU:
            for j in range(n):
                values[t, b, g, j] *= one if y[t, b, gy, j] > zero else y[t, b, gy, j] + one


@numba.njit(**_VECTOR_OPTIONS)
def lstm_step_backward(dout, d, carry, dh, dc, back, per_gate_back, gate_masks, mu, gates, cs,
                       act_c, mask, act, inner_act, dz, t, lo, hi):
    """Step t back, for the samples [lo, hi). First the gradient of this
    step's new state from the product of the step after it (`back` (B, n)
    = dz @ U.T, or with gate masks the sum over g of `per_gate_back[g]` *
    mu[g]) where that step was real (none after the last step); then dz[t]
    (dz (T, B, 4, n)) from dout[d] (B, n), the gradient of this step's
    output. gates (T, B, 4, n), act_c (T, B, 1, n), cs (T + 1, B, n)."""
    n = dh.shape[1]
    T = mask.shape[0]
    chunk = _chunk_samples(n)
    for first in range(lo, hi, chunk):
        end = min(first + chunk, hi)
        for b in range(first, end):
            if t + 1 < T and mask[t + 1, b] != 0:
                if gate_masks:
                    for j in range(n):
                        dh[b, j] = per_gate_back[0, b, j] * mu[0, b, j]
                    for g in range(1, 4):
                        for j in range(n):
                            dh[b, j] += per_gate_back[g, b, j] * mu[g, b, j]
                else:
                    for j in range(n):
                        dh[b, j] = back[b, j]
            if mask[t, b] != 0:
                for j in range(n):  # dh[b] holds dhn: the next step back overwrites it
                    dh[b, j] = dh[b, j] + (dout[d, b, j] + carry[b, j])
                    carry[b, j] = 0.
                for j in range(n):
                    dz[t, b, 2, j] = dh[b, j] * gates[t, b, 3, j]
            else:
                for j in range(n):
                    carry[b, j] += dout[d, b, j]
                for g in range(4):
                    for j in range(n):
                        dz[t, b, g, j] = 0.
        # the cell's derivative gate by gate, each product in the order of the
        # formulas: dcn = dc + (dhn * o) * a'(c), dz_i = (dcn * c~) * ia'(i),
        # dz_f = (dcn * c_prev) * ia'(f), dz_c = (dcn * i) * a'(c~),
        # dz_o = (dhn * a(c)) * ia'(o); each loop writes one gate of dz (so
        # that LLVM sees no overlap to vectorise them), dh[b] then holding dcn
        _times_dact(dz, t, first, end, 2, act_c, 0, act, mask)
        for b in range(first, end):
            if mask[t, b] != 0:
                for j in range(n):
                    dz[t, b, 3, j] = dh[b, j] * act_c[t, b, 0, j]
                for j in range(n):
                    dcn = dc[b, j] + dz[t, b, 2, j]
                    dc[b, j] = dcn * gates[t, b, 1, j]
                    dh[b, j] = dcn
                for j in range(n):
                    dz[t, b, 0, j] = dh[b, j] * gates[t, b, 2, j]
                for j in range(n):
                    dz[t, b, 1, j] = dh[b, j] * cs[t, b, j]
                for j in range(n):
                    dz[t, b, 2, j] = dh[b, j] * gates[t, b, 0, j]
        _times_dact(dz, t, first, end, 0, gates, 0, inner_act, mask)
        _times_dact(dz, t, first, end, 1, gates, 1, inner_act, mask)
        _times_dact(dz, t, first, end, 2, gates, 2, act, mask)
        _times_dact(dz, t, first, end, 3, gates, 3, inner_act, mask)


# A group of at least this many samples sums its own part of the weight
# gradients while it walks back through time (`lstm_backward` with `states`):
# each step adds states[t].T @ dz[t] for its samples, a product of rank 64
# at least, which BLAS runs as fast as the tall product over every step
# (a rank of 16 runs at two thirds of that speed), reading dz[t] and the
# states while they are in the cache.
FOLDED_GROUP_SAMPLES = 64


def folds_weight_gradients(batch, n):
    """Whether `lstm_backward` sums the weight gradients itself for a batch
    of `batch` samples and a state of n units (when given `states`): every
    group of `batch_shards` has at least FOLDED_GROUP_SAMPLES samples and
    the time loops call NumPy's sgemm from compiled code."""
    bounds = batch_shards(batch)
    smallest = min(hi - lo for lo, hi in zip(bounds[:-1], bounds[1:]))
    return smallest >= FOLDED_GROUP_SAMPLES and n >= 2 and blas.sgemm_function() is not None


def lstm_backward(dout, gates, cs, act_c, mask, Ut, Ugt, mu, gate_masks, act, inner_act, dz,
                  states=None, one_hot=None):
    """Fills dz (T, B, 4n), the gradient of the pre-activations of i, f, c, o,
    from dout (T, B, n), the gradient of every step's output, or (1, B, n),
    of the last step's alone (the others zero: a layer that returns its last
    output), which saves the caller T - 1 steps of zeros and the kernel
    reading them.

    With `states`, the inputs of the recurrent products (hs (T + 1, B, n),
    or with gate masks masked_states (4, T + 1, B, n)), and where
    `folds_weight_gradients(B, n)`, it also returns the gradient of U
    (n, 4n), the sum over the steps of states[t].T @ dz[t] (per gate with
    gate masks), each group of samples summing its own from its last step
    to its first while its dz is in the cache, the groups' sums then added
    in their order; and with `one_hot` (columns (T, B) int64 of
    `one_hot_columns`, the input's width D), the gradients of W (D, 4n) and
    b (4n,), the sums of dz's rows, summed the same way: (dU, dW, db), dW
    and db None without `one_hot`. Otherwise it returns None. The sums are
    grouped otherwise than one product's (within float32 rounding of it);
    the groups depend on the batch size only, so they do not depend on the
    thread count."""
    T, B, n = gates.shape[0], dout.shape[1], dout.shape[2]
    dh = np.zeros((B, n), np.float32)
    dc = np.zeros((B, n), np.float32)
    carry = np.zeros((B, n), np.float32)
    back = np.zeros((B, n), np.float32)
    per_gate_back = np.zeros((4, B, n), np.float32)
    no_gradient = np.zeros((1, B, n), np.float32)
    bounds = batch_shards(B)
    groups = len(bounds) - 1
    sgemm = _compiled_products(bounds, n, Ut, Ugt, dz)
    fold = states is not None and sgemm is not None and folds_weight_gradients(B, n)
    if fold:
        states = states if gate_masks else states[None]
        dU = np.zeros((groups, n, 4 * n), np.float32)
        # a zero initial state adds nothing to dU: the first step's product is not made
        zero_start = not states[:, 0].any()
    else:
        zero_start = False
        states = np.empty((1, 0, 0, 0), np.float32)
        dU = np.empty((groups, 0, 0), np.float32)
    fold_one_hot = fold and one_hot is not None
    if fold_one_hot:
        columns, inputs = one_hot
        dW = np.zeros((groups, inputs, 4 * n), np.float32)
        db = np.zeros((groups, 4 * n), np.float32)
    else:
        columns = np.empty((0, 0), np.int64)
        dW = np.empty((groups, 0, 0), np.float32)
        db = np.empty((groups, 0), np.float32)
    # the gates side by side as (4, n): the steps index them without views
    arrays = (dout, gates.reshape(T, B, 4, n), cs, act_c.reshape(T, B, 1, n), mask, Ut, Ugt, mu,
              gate_masks, act, inner_act, dz, dz.reshape(T, B, 4, n), dh, dc, carry, back,
              per_gate_back, no_gradient)

    def shard(task):
        lo, hi = bounds[task], bounds[task + 1]
        sums = (states, zero_start, dU[task], fold_one_hot, columns, dW[task], db[task])
        if sgemm is not None:
            return lstm_backward_group(sgemm, *arrays, lo, hi, T, 0, fold, *sums)
        for t in range(T - 1, 0, -1):  # the step compiled, NumPy's products
            lstm_backward_group(None, *arrays, lo, hi, t + 1, t, False, *sums)
            if gate_masks:  # dz_t's gates as (4, samples, n) views, one product per gate
                dz_gates = dz[t, lo:hi].reshape(hi - lo, 4, n).transpose(1, 0, 2)
                np.matmul(dz_gates, Ugt, out=per_gate_back[:, lo:hi])
            else:
                np.matmul(dz[t, lo:hi], Ut, out=back[lo:hi])
        lstm_backward_group(None, *arrays, lo, hi, 1, 0, False, *sums)
    threads.run_tasks(shard, groups)
    if not fold:
        return None
    for task in range(1, groups):
        dU[0] += dU[task]
        dW[0] += dW[task]
        db[0] += db[task]
    if not fold_one_hot:
        return dU[0], None, None
    return dU[0], dW[0], db[0]


@numba.njit(**_VECTOR_OPTIONS)
def lstm_backward_group(sgemm, dout, gates, cs, act_c, mask, Ut, Ugt, mu, gate_masks, act,
                        inner_act, dz, dz4, dh, dc, carry, back, per_gate_back, no_gradient,
                        lo, hi, start, stop, fold, states, zero_start, dU, fold_one_hot, columns,
                        dW, db):
    """The steps start - 1 down to stop of `lstm_backward`'s time loop for the
    samples [lo, hi), compiled as `lstm_forward_group`'s; each step's product
    for the step before it follows it (with `sgemm` None, the caller makes
    it after the call). gates (T, B, 4, n), act_c (T, B, 1, n) and dz4
    (T, B, 4, n), a view of dz (T, B, 4n), in `lstm_step_backward`'s
    shapes. A step without a row of dout reads `no_gradient` (1, B, n),
    zeros. With `fold` (and `sgemm`), each step then adds its samples' part
    of U's gradient into dU (n, 4n) (but the first step with `zero_start`,
    the initial states zero), and with `fold_one_hot` their rows of
    dz into db and into the rows of dW that `columns` names."""
    T, n = gates.shape[0], dout.shape[2]
    every_step = dout.shape[0] == T
    for t in range(start - 1, stop - 1, -1):
        if every_step or t == T - 1:
            lstm_step_backward(dout, t if every_step else 0, carry, dh, dc, back, per_gate_back,
                               gate_masks, mu, gates, cs, act_c, mask, act, inner_act, dz4, t,
                               lo, hi)
        else:
            lstm_step_backward(no_gradient, 0, carry, dh, dc, back, per_gate_back, gate_masks,
                               mu, gates, cs, act_c, mask, act, inner_act, dz4, t, lo, hi)
        if sgemm is None:
            continue
        if t > 0:  # the gradient of the initial state is not asked for
            if gate_masks:  # one product per gate, from dz_t's columns of that gate
                for g in range(4):
                    blas.product(sgemm, dz[t, lo:hi, g * n:(g + 1) * n], Ugt[g],
                                 per_gate_back[g, lo:hi])
            else:
                blas.product(sgemm, dz[t, lo:hi], Ut, back[lo:hi])
        if fold and (t > 0 or not zero_start):
            if gate_masks:
                for g in range(4):
                    blas.add_transposed_product(sgemm, states[g, t, lo:hi],
                                                dz[t, lo:hi, g * n:(g + 1) * n],
                                                dU[:, g * n:(g + 1) * n])
            else:
                blas.add_transposed_product(sgemm, states[0, t, lo:hi], dz[t, lo:hi], dU)
        if fold_one_hot:
            _add_one_hot_rows(columns[t], dz[t], dW, db, lo, hi)


# ---------------------------------------------------------------------------
# Input dropout with one mask per gate (Keras 1's 'cpu' and 'mem' modes):
# the masked copies of the input, time-major, and the gradient of the input
# gathered back from the gates, batch-major; the time reversal of
# go_backwards is done on the way in both directions.


@numba.njit(**_VECTOR_OPTIONS)
def mask_inputs(x, w_mask, reverse, out, lo, hi):
    """out[g, t, b] = x[b, s] * w_mask[g, b] for the steps t in [lo, hi),
    where s = t, or T - 1 - t with `reverse`. x (B, T, D), w_mask (G, B, D),
    out (G, T, B, D)."""
    steps = x.shape[1]
    for g in range(out.shape[0]):
        for t in range(lo, hi):
            s = steps - 1 - t if reverse else t
            for b in range(x.shape[0]):
                source, keep, target = x[b, s], w_mask[g, b], out[g, t, b]
                for j in range(source.shape[0]):
                    target[j] = source[j] * keep[j]


@numba.njit(**_VECTOR_OPTIONS)
def gather_input_gradient(per_gate, w_mask, reverse, dx, lo, hi):
    """dx[b, s] = the sum over the gates g in order, from zero, of
    per_gate[g, t, b] * w_mask[g, b] (the gradient of each gate's masked
    input times its mask), for the steps t in [lo, hi); s = t, or T - 1 - t
    with `reverse`. per_gate (G, T, B, D), w_mask (G, B, D), dx (B, T, D)."""
    steps = dx.shape[1]
    zero = np.float32(0.)
    for t in range(lo, hi):
        s = steps - 1 - t if reverse else t
        for b in range(dx.shape[0]):
            target = dx[b, s]
            for j in range(target.shape[0]):
                target[j] = zero
            for g in range(per_gate.shape[0]):
                source, keep = per_gate[g, t, b], w_mask[g, b]
                for j in range(target.shape[0]):
                    target[j] += source[j] * keep[j]


def _step_ranges(steps, flop):
    """Consecutive ranges of steps covering [0, steps) for the tasks of the
    two functions below: one range for a call smaller than
    threads.BLAS_PARALLEL_FLOP (too small to gain from a second thread),
    else up to four. They depend on the shapes only."""
    return threads.even_ranges(steps, 1 if flop < threads.BLAS_PARALLEL_FLOP else 4)


def masked_projection_tasks(x, w_mask, reverse, W, b, masked, xp):
    """Callables without arguments for `threads.run_all` that fill, for
    ranges of steps, masked (G, T, B, D) as `mask_inputs` and then
    xp (T * B, G * n)'s rows of those steps, gate g's columns the product
    masked[g] @ W[:, g's columns] + b[g's columns]: the masking and the
    products of a range in one task, so one call of the threads does both.
    x (B, T, D), w_mask (G, B, D), W (D, G * n), b (G * n,)."""
    gates, steps, batch, dim = masked.shape
    n = W.shape[1] // gates
    flat = masked.reshape(gates, steps * batch, dim)

    def task(lo, hi):
        mask_inputs(x, w_mask, reverse, masked, lo, hi)
        rows = slice(lo * batch, hi * batch)
        for g in range(gates):
            cols = slice(g * n, (g + 1) * n)
            np.matmul(flat[g, rows], W[:, cols], out=xp[rows, cols])
            xp[rows, cols] += b[cols]

    ranges = _step_ranges(steps, 2.0 * steps * batch * dim * W.shape[1])
    return [functools.partial(task, lo, hi) for lo, hi in ranges]


def masked_input_gradient_tasks(dz, W, w_mask, reverse, per_gate, dx):
    """Callables without arguments for `threads.run_all` that fill, for
    ranges of steps, per_gate (G, T * B, D)'s rows of those steps with
    dz[:, g's columns] @ W[:, g's columns].T and then dx (B, T, D) from them
    as `gather_input_gradient`: the products and the gathering of a range in
    one task. dz (T * B, G * n), w_mask (G, B, D)."""
    gates, rows, dim = per_gate.shape
    batch = w_mask.shape[1]
    steps = rows // batch
    n = W.shape[1] // gates
    per_gate_tm = per_gate.reshape(gates, steps, batch, dim)

    def task(lo, hi):
        rows = slice(lo * batch, hi * batch)
        for g in range(gates):
            cols = slice(g * n, (g + 1) * n)
            np.matmul(dz[rows, cols], W[:, cols].T, out=per_gate[g, rows])
        gather_input_gradient(per_gate_tm, w_mask, reverse, dx, lo, hi)

    ranges = _step_ranges(steps, 2.0 * rows * dim * W.shape[1])
    return [functools.partial(task, lo, hi) for lo, hi in ranges]

# ---------------------------------------------------------------------------
# One-hot inputs (characters, categories): when every input vector is all
# zeros or a single 1, x @ W + b is a lookup of rows of W, and the gradient
# of W, x.T @ dz, a sum of rows of dz. Both are far cheaper than the dense
# products (a one-hot input's width is often an awkward size for BLAS, 57
# characters, say). The lookup gives what the dense product gives (1 * w
# plus exact zeros is w) for finite weights; the gradient sums the same
# terms in another order (within float32 rounding of the dense product).


@numba.njit(**_VECTOR_OPTIONS)
def one_hot_columns(x, reverse, columns):
    """True if every vector x[b, s] (x (B, T, D)) is all zeros or zeros and a
    single 1; then columns (T, B) int64 holds, time-major (s = t, or
    T - 1 - t with `reverse`), the position of the 1, or -1 for a zero
    vector. False as soon as a vector is neither (columns then partly
    filled): a dense input is usually refused at its first vector."""
    steps = x.shape[1]
    zero, one = np.float32(0.), np.float32(1.)
    for b in range(x.shape[0]):
        for s in range(steps):
            vector = x[b, s]
            # counts and the position as sums, without a branch: the loop vectorises
            nonzero, not_one, position = 0, 0, 0
            for j in range(vector.shape[0]):
                value = vector[j]
                is_nonzero = value != zero
                nonzero += is_nonzero
                not_one += is_nonzero and value != one  # NaN too
                position += j if is_nonzero else 0
            if nonzero > 1 or not_one:
                return False
            columns[steps - 1 - s if reverse else s, b] = position if nonzero else -1
    return True


@numba.njit(**_VECTOR_OPTIONS)
def project_one_hot(W, b, columns, out, lo, hi):
    """out[r] = W[columns[r]] + b (b where columns[r] is -1), for the rows r
    in [lo, hi). W (D, G), b (G,), columns (R,), out (R, G)."""
    width = W.shape[1]
    for r in range(lo, hi):
        target = out[r]
        k = columns[r]
        if k < 0:
            for j in range(width):
                target[j] = b[j]
        else:
            source = W[k]
            for j in range(width):
                target[j] = source[j] + b[j]


def one_hot_table(W, b):
    """(D + 1, G): the rows W[k] + b for k < D, then b, the input projection
    x @ W + b of every one-hot x (the last row: x all zeros), as
    `project_one_hot` computes it, for `lstm_forward`. W (D, G), b (G,)."""
    columns = np.append(np.arange(W.shape[0]), -1)
    table = np.empty((W.shape[0] + 1, W.shape[1]), np.float32)
    project_one_hot(W, b, columns, table, 0, columns.shape[0])
    return table


@numba.njit(**_VECTOR_OPTIONS)
def project_one_hot_samples(W, b, columns, out, steps, batch, lo, hi):
    """`project_one_hot` for the samples [lo, hi) of every step, the rows
    t * batch + [lo, hi) of columns (steps * batch,) and out."""
    for t in range(steps):
        project_one_hot(W, b, columns, out, t * batch + lo, t * batch + hi)


@numba.njit(**_VECTOR_OPTIONS)
def _add_one_hot_rows(columns, dz, dW, db, lo, hi):
    """db += dz[r] and dW[columns[r]] += dz[r] (not for -1, a zero input) for
    the rows r in [lo, hi), in their order: the one-hot x's x.T @ dz and the
    sum of dz's rows. columns (R,), dz (R, G)."""
    width = db.shape[0]
    for r in range(lo, hi):  # indexed without a view per row (see the LSTM's steps)
        for j in range(width):
            db[j] += dz[r, j]
        k = columns[r]
        if k >= 0:
            for j in range(width):
                dW[k, j] += dz[r, j]


@numba.njit(**_VECTOR_OPTIONS)
def _one_hot_gradient_rows(columns, dz, dW, db, lo, hi):
    """dW = x[lo:hi].T @ dz[lo:hi] for the one-hot x of `columns` (R,), and
    db = the sum of dz[lo:hi]: zeroed, then the rows added in their order."""
    zero = np.float32(0.)
    for k in range(dW.shape[0]):
        target = dW[k]
        for j in range(target.shape[0]):
            target[j] = zero
    for j in range(db.shape[0]):
        db[j] = zero
    _add_one_hot_rows(columns, dz, dW, db, lo, hi)


def one_hot_gradients(columns, dz, inputs):
    """(dW (inputs, G), db (G,)): x.T @ dz and the sum of dz's rows, for the
    one-hot x (R, inputs) of `columns` (R,) and dz (R, G). One pass over dz,
    row by row, in up to TALL_PARTS ranges of rows (as `tall_product`) on
    the kernel threads, each into its own sums; the ranges' sums are added
    in order, so results do not depend on the thread count."""
    finish, tasks = one_hot_gradient_tasks(columns, dz, inputs)
    threads.run_all(tasks)
    return finish()


def one_hot_gradient_tasks(columns, dz, inputs):
    """(finish, tasks): `one_hot_gradients(columns, dz, inputs)` as callables
    without arguments for `threads.run_all`, so that they share one call of
    the threads with other tasks; once every task has run, `finish()` adds
    the ranges' sums in their order and returns (dW, db)."""
    rows = dz.shape[0]
    parts = max(1, min(TALL_PARTS, rows // TALL_PART_ROWS))
    bounds = [rows * k // parts for k in range(parts + 1)]
    dW = np.empty((parts, inputs, dz.shape[1]), np.float32)
    db = np.empty((parts, dz.shape[1]), np.float32)

    def finish():
        for k in range(1, parts):
            dW[0] += dW[k]
            db[0] += db[k]
        return dW[0], db[0]

    return finish, [functools.partial(_one_hot_gradient_rows, columns, dz, dW[k], db[k],
                                      bounds[k], bounds[k + 1]) for k in range(parts)]


# ---------------------------------------------------------------------------
# Weight gradients over every timestep: left.T @ right with thousands of
# rows (timesteps x samples) and a few hundred columns on each side. Cutting
# the output into blocks of columns for the threads makes BLAS pack `left`
# once per block (a fifth slower with four blocks); cutting the rows instead
# costs nothing measurable, and the partial products are added in order.

TALL_PART_ROWS = 1024  # rows per part at least: BLAS keeps its speed above it
TALL_PARTS = 4


def tall_product(left, right, out=None):
    """left.T @ right for left (R, M) and right (R, N): the R rows cut into up
    to TALL_PARTS consecutive ranges of at least TALL_PART_ROWS, multiplied
    on the kernel threads (single-threaded BLAS each) and added in their
    order. The ranges depend on R only, so results do not depend on the
    thread count; they differ from one product's by float32 rounding (the
    sum is grouped otherwise). Fewer rows: `threads.matmul`.

    # Arguments
        left: float32 array (R, M).
        right: float32 array (R, N).
        out: optional C-contiguous float32 array (M, N).
    """
    finish, tasks = tall_product_tasks(left, right, out)
    threads.run_all(tasks)
    return finish()


def tall_product_tasks(left, right, out=None):
    """(finish, tasks): `tall_product(left, right, out)` as callables without
    arguments for `threads.run_all` (its ranges of rows, or the blocks of
    `threads.matmul_tasks`), so that several products share one call of the
    threads; once every task has run, `finish()` adds the ranges' products
    in their order and returns the result."""
    rows = left.shape[0]
    parts = min(TALL_PARTS, rows // TALL_PART_ROWS)
    if parts < 2:
        result, tasks = threads.matmul_tasks(left.T, right, out)
        return (lambda: result), tasks
    bounds = [rows * k // parts for k in range(parts + 1)]
    partial = np.empty((parts, left.shape[1], right.shape[1]), np.float32)

    def part(k):
        lo, hi = bounds[k], bounds[k + 1]
        return lambda: np.matmul(left[lo:hi].T, right[lo:hi], out=partial[k])

    def finish():
        result = out
        if result is None:
            result = partial[0]
        else:
            result[...] = partial[0]
        for k in range(1, parts):
            result += partial[k]
        return result

    return finish, [part(k) for k in range(parts)]
