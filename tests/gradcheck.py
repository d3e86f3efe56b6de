"""Central finite differences: the independent reference for every backward pass."""
import numpy as np


def numeric_gradient(function, array, eps=1e-2, max_entries=48, rng=None):
    """d function() / d array at up to `max_entries` random entries.

    `function` reads `array` (modified in place here, and restored) and returns
    a float. Returns (flat indices checked, gradient at those indices).
    """
    rng = rng or np.random.RandomState(0)
    flat = array.reshape(-1)
    count = flat.size
    indices = np.arange(count) if count <= max_entries else \
        rng.choice(count, max_entries, replace=False)
    grads = []
    for i in indices:
        original = flat[i]
        flat[i] = original + eps
        plus = function()
        flat[i] = original - eps
        minus = function()
        flat[i] = original
        grads.append((plus - minus) / (2 * eps))
    return indices, np.array(grads)


def check_layer_gradients(layer, x, rtol=2e-2, atol=2e-3, eps=1e-2, training=False):
    """Compares a layer's backprop (input and weight gradients) with finite
    differences of sum(output * dy) for a fixed random dy."""
    x = np.ascontiguousarray(x, dtype='float32')
    y, _ = layer.forward(x, training=training)
    dy = np.random.RandomState(1).standard_normal(y.shape).astype('float32')

    def objective():
        return float(np.sum(layer.forward(x, training=training)[0].astype('float64') * dy))

    for g in layer.gradients:
        g.fill(0)
    _, backprop = layer.forward(x, training=training)
    dx = backprop(dy)
    idx, numeric = numeric_gradient(objective, x, eps)
    np.testing.assert_allclose(np.asarray(dx).reshape(-1)[idx], numeric, rtol=rtol, atol=atol,
                               err_msg='input gradient of %s' % layer.name)
    for weight, grad in zip(layer.trainable_weights, layer.gradients):
        idx, numeric = numeric_gradient(objective, weight, eps)
        np.testing.assert_allclose(grad.reshape(-1)[idx], numeric, rtol=rtol, atol=atol,
                                   err_msg='weight gradient of %s' % layer.name)


def check_model_gradients(model, x, y, lr=0.5, max_entries=8, rtol=3e-2, atol=2e-4):
    """One plain SGD step must move each weight by -lr * d(loss)/d(weight),
    with the gradient taken by finite differences of the model's own test loss."""
    from minikeras.optimizers import SGD
    model.optimizer = SGD(lr=lr)

    def loss():
        result = model.test_on_batch(x, y)
        return float(result[0] if isinstance(result, list) else result)
    expected = [numeric_gradient(loss, w, eps=1e-2, max_entries=max_entries)
                for w in model.trainable_weights]
    before = [np.array(w) for w in model.trainable_weights]
    model.train_on_batch(x, y)
    for (idx, grad), old, new in zip(expected, before, model.trainable_weights):
        np.testing.assert_allclose((old - new).reshape(-1)[idx], lr * grad, rtol=rtol, atol=atol)


def away_from_zero(shape, margin=0.05, seed=0):
    """Random values at least `margin` from 0, so kinks at 0 stay out of reach."""
    rng = np.random.RandomState(seed)
    values = rng.standard_normal(shape)
    return (np.sign(values) * (margin + np.abs(values))).astype('float32')


def distinct_values(shape, seed=0):
    """Values at least 0.05 apart, so a max never changes under a 1e-2 nudge."""
    rng = np.random.RandomState(seed)
    return (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.05 - 1).astype('float32')


def built(layer, sample_shape):
    """The layer connected to an input of `sample_shape` (batch axis added)."""
    layer.connect((None,) + tuple(sample_shape))
    return layer
