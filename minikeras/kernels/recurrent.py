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

The loop over time runs inside the kernel: each step is a BLAS matmul
(`np.dot` with a preallocated output) and one fused pass over the gates.
Backward returns the gradients of the pre-activations `dz` (T, B, G*n);
the caller turns them into weight and input gradients with a few large
matmuls. Serial (the per-step element work is small next to the matmul),
hence deterministic.
"""
import numba
import numpy as np

__all__ = ['ACTIVATIONS', 'rnn_forward', 'rnn_backward', 'gru_forward', 'gru_backward',
           'lstm_forward', 'lstm_backward']

LINEAR, TANH, SIGMOID, HARD_SIGMOID, RELU, SOFTPLUS, SOFTSIGN, ELU = range(8)

ACTIVATIONS = {'linear': LINEAR, 'tanh': TANH, 'sigmoid': SIGMOID,
               'hard_sigmoid': HARD_SIGMOID, 'relu': RELU, 'softplus': SOFTPLUS,
               'softsign': SOFTSIGN, 'elu': ELU}

_OPTIONS = dict(cache=True, nogil=True, fastmath=False)


@numba.njit(inline='always', **_OPTIONS)
def _act(x, code):
    if code == TANH:
        return np.tanh(x)
    if code == SIGMOID:
        return np.float32(1.) / (np.float32(1.) + np.exp(-x))
    if code == HARD_SIGMOID:
        y = np.float32(0.2) * x + np.float32(0.5)
        return min(max(y, np.float32(0.)), np.float32(1.))
    if code == RELU:
        return max(x, np.float32(0.))
    if code == SOFTPLUS:
        return max(x, np.float32(0.)) + np.log1p(np.exp(-abs(x)))
    if code == SOFTSIGN:
        return x / (np.float32(1.) + abs(x))
    if code == ELU:
        return x if x > 0 else np.expm1(x)
    return x


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


@numba.njit(**_OPTIONS)
def _recurrent_input(h, U, Ug, mu, gate_masks, out, hm, part):
    """out (B, G*n) = h @ U, or per gate (h * mu[g]) @ Ug[g]."""
    if not gate_masks:
        np.dot(h, U, out)
        return
    B, n = h.shape
    for g in range(Ug.shape[0]):
        for b in range(B):
            for j in range(n):
                hm[b, j] = h[b, j] * mu[g, b, j]
        np.dot(hm, Ug[g], part)
        for b in range(B):
            for j in range(n):
                out[b, g * n + j] = part[b, j]


@numba.njit(**_OPTIONS)
def _state_gradient(dz, Ut, Ugt, mu, gate_masks, out, part, dzg):
    """out (B, n) = dz @ U.T, or sum over gates of (dz_g @ Ug[g].T) * mu[g]."""
    if not gate_masks:
        np.dot(dz, Ut, out)
        return
    B, n = out.shape
    out[:, :] = 0
    for g in range(Ugt.shape[0]):
        for b in range(B):
            for j in range(n):
                dzg[b, j] = dz[b, g * n + j]
        np.dot(dzg, Ugt[g], part)
        for b in range(B):
            for j in range(n):
                out[b, j] += part[b, j] * mu[g, b, j]


# ---------------------------------------------------------------------------
# SimpleRNN: h = act(xp + h_prev @ U)


@numba.njit(**_OPTIONS)
def rnn_forward(xp, U, Ug, mu, gate_masks, h0, mask, act, hs, out):
    """Fills hs (T + 1, B, n) (hs[0] = h0) and out (T, B, n)."""
    T, B, n = xp.shape
    z = np.empty((B, n), np.float32)
    hm = np.empty((B, n), np.float32)
    part = np.empty((B, n), np.float32)
    hs[0] = h0
    for t in range(T):
        _recurrent_input(hs[t], U, Ug, mu, gate_masks, z, hm, part)
        for b in range(B):
            real = mask[t, b] != 0
            for j in range(n):
                if real:
                    h = _act(xp[t, b, j] + z[b, j], act)
                    hs[t + 1, b, j] = h
                    out[t, b, j] = h
                else:
                    hs[t + 1, b, j] = hs[t, b, j]
                    out[t, b, j] = out[t - 1, b, j] if t > 0 else np.float32(0.)


@numba.njit(**_OPTIONS)
def rnn_backward(dout, hs, mask, Ut, Ugt, mu, gate_masks, act, dz):
    """Fills dz (T, B, n), the gradient of the pre-activations, from the
    gradient of the outputs dout (T, B, n)."""
    T, B, n = dout.shape
    dh = np.zeros((B, n), np.float32)
    carry = np.zeros((B, n), np.float32)
    back = np.empty((B, n), np.float32)
    part = np.empty((B, n), np.float32)
    dzg = np.empty((B, n), np.float32)
    for t in range(T - 1, -1, -1):
        for b in range(B):
            real = mask[t, b] != 0
            for j in range(n):
                total = dout[t, b, j] + carry[b, j]
                if real:
                    carry[b, j] = 0.
                    dz[t, b, j] = (dh[b, j] + total) * _dact(hs[t + 1, b, j], act)
                else:
                    carry[b, j] = total
                    dz[t, b, j] = 0.
        _state_gradient(dz[t], Ut, Ugt, mu, gate_masks, back, part, dzg)
        for b in range(B):
            if mask[t, b] != 0:
                for j in range(n):
                    dh[b, j] = back[b, j]


# ---------------------------------------------------------------------------
# GRU (Keras 1): z = ia(xz + h Uz), r = ia(xr + h Ur), hh = a(xh + (r h) Uh),
# h = z h_prev + (1 - z) hh


@numba.njit(**_OPTIONS)
def gru_forward(xp, Uzr, Uh, Ug, mu, gate_masks, h0, mask, act, inner_act,
                gates, hs, rh, out):
    """Fills gates (T, B, 3n) with z, r, hh; hs (T + 1, B, n); rh (T, B, n),
    the input of Uh (r * h_prev, times mu[2] with gate masks); out (T, B, n)."""
    T, B, n3 = xp.shape
    n = n3 // 3
    zr = np.empty((B, 2 * n), np.float32)
    hm = np.empty((B, n), np.float32)
    part = np.empty((B, n), np.float32)
    hh_in = np.empty((B, n), np.float32)
    hs[0] = h0
    for t in range(T):
        h = hs[t]
        if gate_masks:
            for g in range(2):
                for b in range(B):
                    for j in range(n):
                        hm[b, j] = h[b, j] * mu[g, b, j]
                np.dot(hm, Ug[g], part)
                for b in range(B):
                    for j in range(n):
                        zr[b, g * n + j] = part[b, j]
        else:
            np.dot(h, Uzr, zr)
        for b in range(B):
            for j in range(n):
                z = _act(xp[t, b, j] + zr[b, j], inner_act)
                r = _act(xp[t, b, n + j] + zr[b, n + j], inner_act)
                gates[t, b, j] = z
                gates[t, b, n + j] = r
                v = r * h[b, j]
                if gate_masks:
                    v *= mu[2, b, j]
                rh[t, b, j] = v
        if gate_masks:
            np.dot(rh[t], Ug[2], hh_in)
        else:
            np.dot(rh[t], Uh, hh_in)
        for b in range(B):
            real = mask[t, b] != 0
            for j in range(n):
                hh = _act(xp[t, b, 2 * n + j] + hh_in[b, j], act)
                gates[t, b, 2 * n + j] = hh
                if real:
                    z = gates[t, b, j]
                    value = z * h[b, j] + (np.float32(1.) - z) * hh
                    hs[t + 1, b, j] = value
                    out[t, b, j] = value
                else:
                    hs[t + 1, b, j] = h[b, j]
                    out[t, b, j] = out[t - 1, b, j] if t > 0 else np.float32(0.)


@numba.njit(**_OPTIONS)
def gru_backward(dout, gates, hs, mask, Uzr_t, Uh_t, Ugt, mu, gate_masks, act, inner_act, dz):
    """Fills dz (T, B, 3n), the gradient of the pre-activations of z, r, hh."""
    T, B, n = dout.shape
    dh = np.zeros((B, n), np.float32)
    carry = np.zeros((B, n), np.float32)
    dhn = np.zeros((B, n), np.float32)
    drh = np.empty((B, n), np.float32)
    back = np.empty((B, n), np.float32)
    part = np.empty((B, n), np.float32)
    dzg = np.empty((B, n), np.float32)
    dzr = np.empty((B, 2 * n), np.float32)
    for t in range(T - 1, -1, -1):
        h = hs[t]
        for b in range(B):
            real = mask[t, b] != 0
            for j in range(n):
                total = dout[t, b, j] + carry[b, j]
                if real:
                    carry[b, j] = 0.
                    dhn[b, j] = dh[b, j] + total
                    z = gates[t, b, j]
                    hh = gates[t, b, 2 * n + j]
                    dz[t, b, j] = dhn[b, j] * (h[b, j] - hh) * _dact(z, inner_act)
                    dz[t, b, 2 * n + j] = dhn[b, j] * (np.float32(1.) - z) * _dact(hh, act)
                else:
                    carry[b, j] = total
                    dhn[b, j] = 0.
                    dz[t, b, j] = 0.
                    dz[t, b, 2 * n + j] = 0.
        for b in range(B):
            for j in range(n):
                dzg[b, j] = dz[t, b, 2 * n + j]
        if gate_masks:
            np.dot(dzg, Ugt[2], drh)
        else:
            np.dot(dzg, Uh_t, drh)
        for b in range(B):
            real = mask[t, b] != 0
            for j in range(n):
                if real:
                    m = mu[2, b, j] if gate_masks else np.float32(1.)
                    r = gates[t, b, n + j]
                    dz[t, b, n + j] = drh[b, j] * h[b, j] * m * _dact(r, inner_act)
                    # the direct paths to h_prev: through z * h_prev and through r * h_prev
                    dhn[b, j] = dhn[b, j] * gates[t, b, j] + drh[b, j] * r * m
                else:
                    dz[t, b, n + j] = 0.
        if gate_masks:
            back[:, :] = 0
            for g in range(2):
                for b in range(B):
                    for j in range(n):
                        dzg[b, j] = dz[t, b, g * n + j]
                np.dot(dzg, Ugt[g], part)
                for b in range(B):
                    for j in range(n):
                        back[b, j] += part[b, j] * mu[g, b, j]
        else:
            for b in range(B):
                for j in range(2 * n):
                    dzr[b, j] = dz[t, b, j]
            np.dot(dzr, Uzr_t, back)
        for b in range(B):
            if mask[t, b] != 0:
                for j in range(n):
                    dh[b, j] = back[b, j] + dhn[b, j]


# ---------------------------------------------------------------------------
# LSTM (Keras 1): i, f, o = ia(...), c = f c_prev + i a(xc + h Uc), h = o a(c)


@numba.njit(**_OPTIONS)
def lstm_forward(xp, U, Ug, mu, gate_masks, h0, c0, mask, act, inner_act,
                 gates, hs, cs, act_c, out):
    """Fills gates (T, B, 4n) with i, f, the candidate a(.), o; hs and cs
    (T + 1, B, n) (hs[0] = h0, cs[0] = c0); act_c (T, B, n) = a(c_new);
    out (T, B, n)."""
    T, B, n4 = xp.shape
    n = n4 // 4
    z = np.empty((B, n4), np.float32)
    hm = np.empty((B, n), np.float32)
    part = np.empty((B, n), np.float32)
    hs[0] = h0
    cs[0] = c0
    for t in range(T):
        _recurrent_input(hs[t], U, Ug, mu, gate_masks, z, hm, part)
        for b in range(B):
            real = mask[t, b] != 0
            for j in range(n):
                i = _act(xp[t, b, j] + z[b, j], inner_act)
                f = _act(xp[t, b, n + j] + z[b, n + j], inner_act)
                cc = _act(xp[t, b, 2 * n + j] + z[b, 2 * n + j], act)
                o = _act(xp[t, b, 3 * n + j] + z[b, 3 * n + j], inner_act)
                gates[t, b, j] = i
                gates[t, b, n + j] = f
                gates[t, b, 2 * n + j] = cc
                gates[t, b, 3 * n + j] = o
                c = f * cs[t, b, j] + i * cc
                ac = _act(c, act)
                act_c[t, b, j] = ac
                if real:
                    cs[t + 1, b, j] = c
                    hs[t + 1, b, j] = o * ac
                    out[t, b, j] = o * ac
                else:
                    cs[t + 1, b, j] = cs[t, b, j]
                    hs[t + 1, b, j] = hs[t, b, j]
                    out[t, b, j] = out[t - 1, b, j] if t > 0 else np.float32(0.)


@numba.njit(**_OPTIONS)
def lstm_backward(dout, gates, cs, act_c, mask, Ut, Ugt, mu, gate_masks, act, inner_act, dz):
    """Fills dz (T, B, 4n), the gradient of the pre-activations of i, f, c, o."""
    T, B, n = dout.shape
    dh = np.zeros((B, n), np.float32)
    dc = np.zeros((B, n), np.float32)
    carry = np.zeros((B, n), np.float32)
    back = np.empty((B, n), np.float32)
    part = np.empty((B, n), np.float32)
    dzg = np.empty((B, n), np.float32)
    for t in range(T - 1, -1, -1):
        for b in range(B):
            real = mask[t, b] != 0
            for j in range(n):
                total = dout[t, b, j] + carry[b, j]
                if real:
                    carry[b, j] = 0.
                    dhn = dh[b, j] + total
                    i = gates[t, b, j]
                    f = gates[t, b, n + j]
                    cc = gates[t, b, 2 * n + j]
                    o = gates[t, b, 3 * n + j]
                    ac = act_c[t, b, j]
                    dcn = dc[b, j] + dhn * o * _dact(ac, act)
                    dz[t, b, j] = dcn * cc * _dact(i, inner_act)
                    dz[t, b, n + j] = dcn * cs[t, b, j] * _dact(f, inner_act)
                    dz[t, b, 2 * n + j] = dcn * i * _dact(cc, act)
                    dz[t, b, 3 * n + j] = dhn * ac * _dact(o, inner_act)
                    dc[b, j] = dcn * f
                else:
                    carry[b, j] = total
                    dz[t, b, j] = 0.
                    dz[t, b, n + j] = 0.
                    dz[t, b, 2 * n + j] = 0.
                    dz[t, b, 3 * n + j] = 0.
        _state_gradient(dz[t], Ut, Ugt, mu, gate_masks, back, part, dzg)
        for b in range(B):
            if mask[t, b] != 0:
                for j in range(n):
                    dh[b, j] = back[b, j]
