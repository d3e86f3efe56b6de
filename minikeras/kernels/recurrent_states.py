"""Recurrent cells whose states are inputs and outputs: SimpleRNN, LSTM, GRU
(reset gate before the recurrent matmul, Keras 1's) and GRU with
`reset_after` (Keras 2.2.4's CuDNN-compatible GRU, Keras 3's default).

Keras 2's `initial_state=` and `return_state=True` make the states part of
the graph: the gradient flows into the initial states and out of the final
ones. These functions carry both; the plain sequences keep the fused kernels
of `minikeras.kernels.recurrent`.

Plain arrays in and out, float32, time-major:

- `xp` (T, B, G*n): the input projection of every timestep, input bias
  included, gates side by side (LSTM i, f, c, o; GRU z, r, h).
- `U` (n, G*n); `recurrent_bias` (G*n,) or None (GRU reset_after only).
- `mu` (G, B, n) or None: recurrent dropout, gate g reads `h * mu[g]`.
- `mask` (T, B) bool or None: a masked step keeps the states, and its output
  is the previous `h` (Keras 2.2.4's backends), the initial state included.
- `initial` a list of (B, n) arrays: [h] or, for LSTM, [h, c].

`forward` returns `(outputs (T, B, n), final states, cache)`; `backward`
takes the gradient of the outputs and of the final states and returns the
gradients of `xp`, `U`, `recurrent_bias` and of the initial states.
"""
import numpy as np

from .recurrent import ACTIVATIONS, activate

__all__ = ['CELLS', 'forward', 'backward', 'derivative_from_output']

CELLS = ('simple', 'lstm', 'gru', 'gru_reset_after')

_GATE_COUNT = {'simple': 1, 'lstm': 4, 'gru': 3, 'gru_reset_after': 3}


def derivative_from_output(y, code):
    """The derivative of activation `code` at the input whose output is `y`."""
    one = np.float32(1.)
    if code == ACTIVATIONS['tanh']:
        return one - y * y
    if code == ACTIVATIONS['sigmoid']:
        return y * (one - y)
    if code == ACTIVATIONS['hard_sigmoid']:
        return np.where((y > 0.) & (y < 1.), np.float32(0.2), np.float32(0.)).astype('float32')
    if code == ACTIVATIONS['relu']:
        return (y > 0.).astype('float32')
    if code == ACTIVATIONS['softplus']:
        return -np.expm1(-y)
    if code == ACTIVATIONS['softsign']:
        s = one - np.abs(y)
        return s * s
    if code == ACTIVATIONS['elu']:
        return np.where(y > 0., one, y + one).astype('float32')
    return np.ones_like(y)


def _act(values, code):
    return activate(np.array(values, dtype='float32'), code)


def _recurrent_product(inputs, U, n, gates):
    """(B, G*n): gate g's columns of U applied to inputs[g] (B, n)."""
    return np.concatenate([inputs[g] @ U[:, g * n:(g + 1) * n] for g in range(gates)], axis=1)


def forward(cell, xp, U, recurrent_bias, mu, mask, initial, act, inner):
    """Runs `cell` over the sequence; see the module notes."""
    if cell not in CELLS:
        raise ValueError('unknown recurrent cell %r; expected one of %s' % (cell, CELLS))
    steps, batch, width = xp.shape
    gates = _GATE_COUNT[cell]
    n = width // gates
    h = np.array(initial[0], dtype='float32')
    c = np.array(initial[1], dtype='float32') if cell == 'lstm' else None
    outputs = np.empty((steps, batch, n), 'float32')
    records = []
    for t in range(steps):
        feeds = [h * mu[g] for g in range(gates)] if mu is not None else [h] * gates
        record = {'h_prev': h, 'c_prev': c}
        if cell == 'simple':
            a = _act(xp[t] + _recurrent_product(feeds, U, n, 1), act)
            h_new, record['a'] = a, a
        elif cell == 'lstm':
            pre = xp[t] + _recurrent_product(feeds, U, n, 4)
            i = _act(pre[:, :n], inner)
            f = _act(pre[:, n:2 * n], inner)
            g = _act(pre[:, 2 * n:3 * n], act)
            o = _act(pre[:, 3 * n:], inner)
            c_new = f * c + i * g
            ac = _act(c_new, act)
            h_new = o * ac
            record.update(i=i, f=f, g=g, o=o, ac=ac)
        elif cell == 'gru':
            zr = xp[t, :, :2 * n] + _recurrent_product(feeds, U, n, 2)
            z = _act(zr[:, :n], inner)
            r = _act(zr[:, n:], inner)
            reset = r * feeds[2]
            hh = _act(xp[t, :, 2 * n:] + reset @ U[:, 2 * n:], act)
            h_new = z * h + (1. - z) * hh
            record.update(z=z, r=r, hh=hh, reset=reset)
        else:
            rec = _recurrent_product(feeds, U, n, 3)
            if recurrent_bias is not None:
                rec += recurrent_bias
            z = _act(xp[t, :, :n] + rec[:, :n], inner)
            r = _act(xp[t, :, n:2 * n] + rec[:, n:2 * n], inner)
            rec_h = rec[:, 2 * n:]
            hh = _act(xp[t, :, 2 * n:] + r * rec_h, act)
            h_new = z * h + (1. - z) * hh
            record.update(z=z, r=r, hh=hh, rec_h=rec_h)
        record['feeds'] = feeds
        if mask is not None:
            keep = mask[t][:, None]
            h_new = np.where(keep, h_new, h)
            if c is not None:
                c_new = np.where(keep, c_new, c)
        h = h_new.astype('float32')
        if cell == 'lstm':
            c = c_new.astype('float32')
        outputs[t] = h
        records.append(record)
    final = [h, c] if cell == 'lstm' else [h]
    cache = {'cell': cell, 'records': records, 'n': n, 'gates': gates, 'mu': mu,
             'mask': mask, 'act': act, 'inner': inner}
    return outputs, final, cache


def backward(cache, U, d_outputs, d_final):
    """Backprop through time.

    # Arguments
        cache: from `forward`.
        U: the recurrent kernel `forward` ran with.
        d_outputs: (T, B, n) gradient of the outputs.
        d_final: gradients of the final states (a list like `initial`;
            None entries for none).

    # Returns
        `(d_xp (T, B, G*n), d_U, d_recurrent_bias (G*n,), d_initial list)`.
    """
    cell, records, n, gates = cache['cell'], cache['records'], cache['n'], cache['gates']
    mu, mask, act, inner = cache['mu'], cache['mask'], cache['act'], cache['inner']
    steps, batch = d_outputs.shape[:2]
    d_xp = np.zeros((steps, batch, gates * n), 'float32')
    d_rec = np.zeros((steps, batch, gates * n), 'float32')
    dh = np.zeros((batch, n), 'float32') if d_final[0] is None else \
        np.array(d_final[0], dtype='float32')
    dc = None
    if cell == 'lstm':
        dc = np.zeros((batch, n), 'float32') if len(d_final) < 2 or d_final[1] is None \
            else np.array(d_final[1], dtype='float32')
    dU = np.zeros_like(U)
    for t in range(steps - 1, -1, -1):
        rec = records[t]
        dh = dh + d_outputs[t]
        if mask is not None:
            keep = mask[t][:, None].astype('float32')
            dh_pass, dh = dh * (1. - keep), dh * keep
            if dc is not None:
                dc_pass, dc = dc * (1. - keep), dc * keep
        h_prev = rec['h_prev']
        if cell == 'simple':
            dpre = dh * derivative_from_output(rec['a'], act)
            d_xp[t] = dpre
            d_rec[t] = dpre
            dh_prev = np.zeros_like(dh)
        elif cell == 'lstm':
            i, f, g, o, ac = rec['i'], rec['f'], rec['g'], rec['o'], rec['ac']
            do = dh * ac
            dc = dc + dh * o * derivative_from_output(ac, act)
            d_xp[t, :, :n] = dc * g * derivative_from_output(i, inner)
            d_xp[t, :, n:2 * n] = dc * rec['c_prev'] * derivative_from_output(f, inner)
            d_xp[t, :, 2 * n:3 * n] = dc * i * derivative_from_output(g, act)
            d_xp[t, :, 3 * n:] = do * derivative_from_output(o, inner)
            d_rec[t] = d_xp[t]
            dc = dc * f
            dh_prev = np.zeros_like(dh)
        else:
            z, r, hh = rec['z'], rec['r'], rec['hh']
            dz = dh * (h_prev - hh) * derivative_from_output(z, inner)
            dph = dh * (1. - z) * derivative_from_output(hh, act)
            dh_prev = dh * z
            d_xp[t, :, :n] = dz
            d_xp[t, :, 2 * n:] = dph
            d_rec[t, :, :n] = dz
            if cell == 'gru':
                d_reset = dph @ U[:, 2 * n:].T
                dr = d_reset * rec['feeds'][2] * derivative_from_output(r, inner)
                d_feed_h = d_reset * r
                d_rec[t, :, 2 * n:] = dph
            else:
                dr = dph * rec['rec_h'] * derivative_from_output(r, inner)
                d_rec[t, :, 2 * n:] = dph * r
            d_xp[t, :, n:2 * n] = dr
            d_rec[t, :, n:2 * n] = dr
        recurrent_gates = 2 if cell == 'gru' else gates
        for k in range(recurrent_gates):
            back = d_rec[t, :, k * n:(k + 1) * n] @ U[:, k * n:(k + 1) * n].T
            dh_prev = dh_prev + (back * mu[k] if mu is not None else back)
        if cell == 'gru':
            dh_prev = dh_prev + (d_feed_h * mu[2] if mu is not None else d_feed_h)
        dh = dh_prev
        if mask is not None:
            dh = dh + dh_pass
            if dc is not None:
                dc = dc + dc_pass
    for k in range(gates):
        cols = slice(k * n, (k + 1) * n)
        feed_k = np.concatenate([rec['reset'] if (cell == 'gru' and k == 2) else
                                 rec['feeds'][k] for rec in records])
        dU[:, cols] = feed_k.T @ d_rec[:, :, cols].reshape(steps * batch, n)
    d_bias = d_rec.reshape(steps * batch, gates * n).sum(axis=0) \
        if cell == 'gru_reset_after' else None
    d_initial = [dh.astype('float32')] + ([dc.astype('float32')] if cell == 'lstm' else [])
    return d_xp, dU.astype('float32'), d_bias, d_initial
