"""Optimizer update kernels: one compiled pass over a whole parameter.

Plain arrays in, updated in place: `p` (the parameter), `g` (its gradient)
and the optimizer's slots, all 1-D float32 C-contiguous views of the same
length. Every scalar is a float32 computed by the caller exactly as the
NumPy formula computes it, and every element is computed with the same
float32 operations in the same order as that formula (no fused
multiply-add, no reassociation: `fastmath` is off), so a kernel's result is
bit-identical to the NumPy expression it replaces. The gain is fusion: one
pass reading and writing each array once, instead of one pass and one
temporary per NumPy operation (a 20000x128 embedding under Adam took about
ten passes of 10 MB each).

Gradient clipping is fused too: each element of `g` is first multiplied by
`scale` (clipnorm's factor; 1 leaves it as it is) and then clipped to
[-`bound`, `bound`] (clipvalue; infinity leaves it as it is), as Keras's
`get_gradients` did before the update. `g` itself is not modified.

Each kernel updates the elements [lo, hi) (its last two arguments), so that
`threads.run_ranges` can spread a large parameter over the kernel threads;
an element's result does not depend on its range, hence deterministic.
"""
import numba
import numpy as np

__all__ = ['sum_of_squares', 'sgd_update', 'rmsprop_update', 'adagrad_update',
           'adadelta_update', 'adam_update', 'adamax_update', 'nadam_update']

# error_model='numpy': a division by zero gives inf or nan, as the NumPy
# formula does, instead of a check that raises; with the loops running over
# views from index 0 (no negative-index wraparound to handle), this lets
# them vectorise. Neither changes a result.
_OPTIONS = dict(cache=True, nogil=True, fastmath=False, boundscheck=False, error_model='numpy')


@numba.njit(inline='always', **_OPTIONS)
def _clipped(g, scale, bound):
    # branch-free (min, max), so that the loops vectorise
    return min(max(g * scale, -bound), bound)


@numba.njit(**_OPTIONS)
def sum_of_squares(g):
    """The sum of g * g in float64 (for clipnorm's global norm)."""
    total = 0.
    for k in range(g.shape[0]):
        value = np.float64(g[k])
        total += value * value
    return total


@numba.njit(**_OPTIONS)
def sgd_update(p, g, moment, lr, momentum, nesterov, scale, bound, lo, hi):
    """v = momentum * moment - lr * g; moment = v;
    p += v, or with Nesterov p = p + momentum * v - lr * g."""
    p, g, moment = p[lo:hi], g[lo:hi], moment[lo:hi]
    if nesterov:
        for k in range(p.shape[0]):
            grad = _clipped(g[k], scale, bound)
            velocity = momentum * moment[k] - lr * grad
            moment[k] = velocity
            p[k] = p[k] + momentum * velocity - lr * grad
    else:
        for k in range(p.shape[0]):
            grad = _clipped(g[k], scale, bound)
            velocity = momentum * moment[k] - lr * grad
            moment[k] = velocity
            p[k] = p[k] + velocity


@numba.njit(**_OPTIONS)
def rmsprop_update(p, g, accumulator, lr, rho, one_minus_rho, epsilon, scale, bound, lo, hi):
    """a = rho a + (1 - rho) g^2; p -= lr g / (sqrt(a) + epsilon)."""
    p, g, accumulator = p[lo:hi], g[lo:hi], accumulator[lo:hi]
    for k in range(p.shape[0]):
        grad = _clipped(g[k], scale, bound)
        a = rho * accumulator[k] + one_minus_rho * (grad * grad)
        accumulator[k] = a
        p[k] = p[k] - lr * grad / (np.sqrt(a) + epsilon)


@numba.njit(**_OPTIONS)
def adagrad_update(p, g, accumulator, lr, epsilon, scale, bound, lo, hi):
    """a += g^2; p -= lr g / (sqrt(a) + epsilon)."""
    p, g, accumulator = p[lo:hi], g[lo:hi], accumulator[lo:hi]
    for k in range(p.shape[0]):
        grad = _clipped(g[k], scale, bound)
        a = accumulator[k] + grad * grad
        accumulator[k] = a
        p[k] = p[k] - lr * grad / (np.sqrt(a) + epsilon)


@numba.njit(**_OPTIONS)
def adadelta_update(p, g, accumulator, delta_accumulator, lr, rho, one_minus_rho, epsilon,
                    scale, bound, lo, hi):
    """a = rho a + (1 - rho) g^2; step = g sqrt(d + epsilon) / sqrt(a + epsilon);
    d = rho d + (1 - rho) step^2; p -= lr step."""
    p, g, accumulator = p[lo:hi], g[lo:hi], accumulator[lo:hi]
    delta_accumulator = delta_accumulator[lo:hi]
    for k in range(p.shape[0]):
        grad = _clipped(g[k], scale, bound)
        a = rho * accumulator[k] + one_minus_rho * (grad * grad)
        accumulator[k] = a
        step = grad * np.sqrt(delta_accumulator[k] + epsilon) / np.sqrt(a + epsilon)
        delta_accumulator[k] = rho * delta_accumulator[k] + one_minus_rho * (step * step)
        p[k] = p[k] - lr * step


@numba.njit(**_OPTIONS)
def adam_update(p, g, m, v, v_hat, amsgrad, lr_t, beta_1, one_minus_beta_1, beta_2,
                one_minus_beta_2, epsilon, scale, bound, lo, hi):
    """m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; with AMSGrad
    v_hat = max(v_hat, v) replaces v below; p -= lr_t m / (sqrt(v) + epsilon).
    `v_hat` is not read without AMSGrad."""
    p, g, m, v, v_hat = p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], v_hat[lo:hi]
    if amsgrad:
        for k in range(p.shape[0]):
            grad = _clipped(g[k], scale, bound)
            m_k = beta_1 * m[k] + one_minus_beta_1 * grad
            v_k = beta_2 * v[k] + one_minus_beta_2 * (grad * grad)
            m[k] = m_k
            v[k] = v_k
            if v_hat[k] > v_k or v_hat[k] != v_hat[k]:  # np.maximum keeps a NaN
                v_k = v_hat[k]
            v_hat[k] = v_k
            p[k] = p[k] - lr_t * m_k / (np.sqrt(v_k) + epsilon)
    else:
        for k in range(p.shape[0]):
            grad = _clipped(g[k], scale, bound)
            m_k = beta_1 * m[k] + one_minus_beta_1 * grad
            v_k = beta_2 * v[k] + one_minus_beta_2 * (grad * grad)
            m[k] = m_k
            v[k] = v_k
            p[k] = p[k] - lr_t * m_k / (np.sqrt(v_k) + epsilon)


@numba.njit(**_OPTIONS)
def adamax_update(p, g, m, u, lr_t, beta_1, one_minus_beta_1, beta_2, epsilon, scale, bound, lo,
                  hi):
    """m = b1 m + (1 - b1) g; u = max(b2 u, |g|); p -= lr_t m / (u + epsilon)."""
    p, g, m, u = p[lo:hi], g[lo:hi], m[lo:hi], u[lo:hi]
    for k in range(p.shape[0]):
        grad = _clipped(g[k], scale, bound)
        m_k = beta_1 * m[k] + one_minus_beta_1 * grad
        u_k = beta_2 * u[k]
        magnitude = abs(grad)
        if (magnitude > u_k or magnitude != magnitude) and u_k == u_k:
            u_k = magnitude  # the larger one, or a NaN from either (as np.maximum)
        m[k] = m_k
        u[k] = u_k
        p[k] = p[k] - lr_t * m_k / (u_k + epsilon)


@numba.njit(**_OPTIONS)
def nadam_update(p, g, m, v, lr, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2,
                 g_divisor, m_divisor, v_divisor, cache_weight, next_weight, epsilon, scale,
                 bound, lo, hi):
    """Keras 1's Nadam: g' = g / g_divisor; m = b1 m + (1 - b1) g;
    m' = m / m_divisor; v = b2 v + (1 - b2) g^2; v' = v / v_divisor;
    m_bar = cache_weight g' + next_weight m'; p -= lr m_bar / (sqrt(v') + epsilon)."""
    p, g, m, v = p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi]
    for k in range(p.shape[0]):
        grad = _clipped(g[k], scale, bound)
        g_prime = grad / g_divisor
        m_k = beta_1 * m[k] + one_minus_beta_1 * grad
        m[k] = m_k
        m_prime = m_k / m_divisor
        v_k = beta_2 * v[k] + one_minus_beta_2 * (grad * grad)
        v[k] = v_k
        v_prime = v_k / v_divisor
        m_bar = cache_weight * g_prime + next_weight * m_prime
        p[k] = p[k] - lr * m_bar / (np.sqrt(v_prime) + epsilon)
