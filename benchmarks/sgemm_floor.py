"""The sgemm floor of a suite model: its multiply-adds as NumPy matrix products alone.

Every Dense and 2D convolution of the model, at the batch sizes one epoch
(or step) runs, as the matrix products an implementation without fewer
multiplications needs: the forward pass (M, K) @ (K, N), the weight
gradient (K, M) @ (M, N) and the input gradient (M, N) @ (N, K), where a
Dense layer has M = batch rows, K inputs, N units, and a convolution M =
batch * output positions, K = channels * kernel taps, N = filters (im2col).
The first layer of a trained model computes no input gradient; an
'input_gradient' model (VGG16's step) computes every layer's forward pass
and input gradient and no weight gradient. Validation batches run the
forward pass only.

Each distinct product is timed with NumPy's float32 matmul three ways, the
fastest kept: BLAS on 1 thread, on every kernel thread, and the rows split
in halves over two Python threads with 1-thread BLAS each. The floor is the
sum over products of count x best time: everything else an epoch does
(activations, pooling, the optimizer, the framework) comes on top, so a
framework can only beat it with fewer multiplications (Winograd's 3x3
convolutions, mnist_acgan's upsampled convolutions folded). A 'gan' model's
step is `suite_models.gan_step`: the generator's predict, the
discriminator's training step on twice the batch, and the combined model's,
in which the discriminator computes no weight gradients.

The Winograd floor (`winograd_ops`, `fewest_seconds`) is the same count
with fewer multiplications wherever they are allowed: each 3x3 stride-1
convolution's forward pass, input gradient and weight gradient may instead
run as Winograd's (m+2)^2 products of a tile's transforms, (T, C) @ (C, F)
for the forward pass over T = batch x ceil(OH/m) x ceil(OW/m) output tiles,
(T, F) @ (F, C) over the input's tiles for the input gradient and
(C, T) @ (T, F) for the weight gradient, with m = 2 (F(2x2, 3x3), 2.25x
fewer) for every one and m = 4 (F(4x4, 3x3), 4x fewer) for gradients only:
within minikeras' fidelity bound, F(4x4)'s rounding fits gradients' tolerance
and not forward values' (docs/winograd-error.md). Each operation counts at
the fastest of its ways. The transforms themselves are left out: this floor
is the products alone, and any Winograd implementation pays them on top."""
import collections
import glob
import threading
import time

import numpy as np

__all__ = ['products', 'floor_seconds', 'winograd_ops', 'fastest_ways', 'fewest_seconds',
           'weights_cold']

_MAX_TIMED = 1 << 15


def _layer_shapes(layer, batch):
    """(M, K, N) of a Dense or 2D convolution layer ('th' ordering, as the
    suite builds them) at `batch` samples, or None for other layers."""
    weights = layer.get_weights()
    kind = type(layer).__name__
    if kind == 'Dense' and weights:
        inputs, units = weights[0].shape
        return batch, inputs, units
    if kind in ('Convolution2D', 'Conv2D') and weights:
        filters, channels, rows, cols = weights[0].shape
        out = layer.output_shape
        return batch * out[2] * out[3], channels * rows * cols, filters
    return None


def _winograd_ways(layer, batch):
    """{'forward', 'input', 'weights'} -> [(label, Counter of products)] of a
    3x3 stride-1 convolution's Winograd ways ('th' ordering), or None."""
    if type(layer).__name__ not in ('Convolution2D', 'Conv2D') or not layer.get_weights():
        return None
    filters, channels, rows, cols = layer.get_weights()[0].shape
    strides = getattr(layer, 'subsample', None) or getattr(layer, 'strides', (1, 1))
    if (rows, cols) != (3, 3) or tuple(strides) != (1, 1):
        return None
    in_rows, in_cols = layer.input_shape[2:]
    out_rows, out_cols = layer.output_shape[2:]

    def tiles(height, width, m):
        return batch * -(-height // m) * -(-width // m)

    ways = {'forward': [], 'input': [], 'weights': []}
    for m, label in ((2, 'F(2x2, 3x3)'), (4, 'F(4x4, 3x3)')):
        elements = (m + 2) ** 2
        t_out, t_in = tiles(out_rows, out_cols, m), tiles(in_rows, in_cols, m)
        if m == 2:  # F(4x4)'s rounding fits gradients' tolerance only
            ways['forward'].append((label, collections.Counter(
                {(t_out, channels, filters): elements})))
        ways['input'].append((label, collections.Counter({(t_in, filters, channels): elements})))
        ways['weights'].append((label, collections.Counter(
            {(channels, t_out, filters): elements})))
    return ways


class _Counts(object):
    def __init__(self):
        self.calls = collections.Counter()
        # (calls, [(label, Counter)]): one operation and its ways
        self.ops = []

    def _op(self, calls, shape, faster):
        self.calls[shape] += calls
        self.ops.append((calls, [('im2col', collections.Counter({shape: 1}))] + faster))

    def add(self, model, batch, calls=1, weights=True, inputs=True, first_input=False):
        """The products of `model`'s layers at `batch` samples: forward,
        weight gradients if `weights`, input gradients if `inputs` (a layer
        with no weighted layer before it only if `first_input`: its input
        is data)."""
        weighted_before = False
        for layer, _ in model._leaf_layers():
            shapes = _layer_shapes(layer, batch)
            if shapes is not None:
                m, k, n = shapes
                faster = _winograd_ways(layer, batch) or {}
                self._op(calls, (m, k, n), faster.get('forward', []))
                if weights:
                    self._op(calls, (k, m, n), faster.get('weights', []))
                if inputs and (weighted_before or first_input):
                    self._op(calls, (m, n, k), faster.get('input', []))
            weighted_before = weighted_before or bool(layer.get_weights())


def products(spec, keras):
    """Counter {(rows, inner, cols): calls} of one epoch (or step) of `spec`."""
    return _count(spec, keras).calls


def winograd_ops(spec, keras):
    """[(calls, [(label, Counter {(rows, inner, cols): products})])]: every
    operation of one epoch (or step) of `spec` with its ways, im2col first
    (see the module docstring)."""
    return _count(spec, keras).ops


def _count(spec, keras):
    counts = _Counts()
    if spec.kind == 'input_gradient':
        if not spec.name.startswith('vgg16'):
            raise ValueError('no sgemm floor for %s' % spec.name)
        from minikeras.applications import VGG16
        model = VGG16(weights=None, include_top=True,
                      input_tensor=keras.layers.Input(shape=spec.input_shape))
        counts.add(model, spec.batch, weights=False, first_input=True)
    elif spec.kind == 'gan':
        # gan_step: the generator's predict, the discriminator's step on
        # real and generated images, the combined step (the discriminator
        # frozen: its input gradients reach the generator)
        models = spec.minikeras(keras, spec.input_shape)
        generator, discriminator = models['generator'], models['discriminator']
        counts.add(generator, spec.batch, weights=False, inputs=False)
        counts.add(discriminator, 2 * spec.batch)
        counts.add(generator, 2 * spec.batch)
        counts.add(discriminator, 2 * spec.batch, weights=False, first_input=True)
    else:
        model = spec.minikeras(keras, spec.input_shape)
        held = int(spec.samples * spec.validation_split)
        train = spec.samples - held
        counts.add(model, spec.batch, calls=train // spec.batch)
        if train % spec.batch:
            counts.add(model, train % spec.batch)
        if held // spec.batch:
            counts.add(model, spec.batch, calls=held // spec.batch, weights=False, inputs=False)
        if held % spec.batch:
            counts.add(model, held % spec.batch, weights=False, inputs=False)
    return counts


def _split_rows(a, b, out):
    half = a.shape[0] // 2
    worker = threading.Thread(target=np.matmul, args=(a[half:], b), kwargs={'out': out[half:]})
    worker.start()
    np.matmul(a[:half], b, out=out[:half])
    worker.join()


def _best(call, repeat, before=None):
    call()
    best = float('inf')
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def floor_seconds(counts, repeat=5, before=None):
    """(seconds, GFLOP, rows): the summed best times of the products in
    `counts`, their nominal GFLOP, and one row per distinct product;
    `before`, if given, is called as before(a, b, out) ahead of each timed
    product a @ b (untimed)."""
    from minikeras.kernels import threads
    rng = np.random.RandomState(0)
    total, flop, rows = 0.0, 0.0, []
    for shape, calls in sorted(counts.items()):
        m, k, n = shape
        # a product longer than _MAX_TIMED rows or deeper than _MAX_TIMED is
        # timed at that size and scaled: BLAS's rate is flat there
        scale = max(1., m / _MAX_TIMED) * max(1., k / _MAX_TIMED)
        flop += calls * 2. * m * k * n
        m, k = min(m, _MAX_TIMED), min(k, _MAX_TIMED)
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        out = np.empty((m, n), np.float32)
        times = {}
        ahead = None if before is None else (lambda: before(a, b, out))
        for name, blas in (('1 thread', 1), ('%d threads' % threads.pool_threads(),
                                              threads.pool_threads())):
            threads.blas_threads(blas)
            times[name] = _best(lambda: np.matmul(a, b, out=out), repeat, ahead)
        if m >= 2:
            threads.blas_threads(1)
            times['rows in halves'] = _best(lambda: _split_rows(a, b, out), repeat, ahead)
        way = min(times, key=times.get)
        total += calls * scale * times[way]
        rows.append({'shape': list(shape), 'calls': calls,
                     'best_ms': round(scale * times[way] * 1e3, 3), 'way': way})
    threads.blas_threads(threads.pool_threads())
    return total, flop / 1e9, rows


def _last_cache_bytes():
    """The largest cache's size in bytes (Linux sysfs), or 64 MiB."""
    sizes = []
    for path in glob.glob('/sys/devices/system/cpu/cpu0/cache/index*/size'):
        with open(path) as f:
            text = f.read().strip()
        scale = {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}.get(text[-1:], 1)
        sizes.append(int(text.rstrip('KMG')) * scale)
    return max(sizes, default=64 << 20)


def weights_cold():
    """A `before` for floor_seconds that times a @ b as a pass of a model
    on one batch finds it: b (a kernel, its Winograd transform, a Dense
    layer's weights) last read a whole pass before, out of the caches; a
    (im2col columns, transformed tiles, a layer's input) just made. Writes
    over twice the largest cache, then reads a and writes out."""
    flood = np.zeros(2 * _last_cache_bytes() // 4, np.float32)

    def before(a, b, out):
        np.add(flood, 1, out=flood)
        a.sum()
        out.fill(0)
    return before


def fastest_ways(ops, repeat=5, before=None):
    """[(calls, ms, label, products)]: each operation of `winograd_ops`'
    list at the fastest of its ways, in order (each distinct product timed
    once, as in floor_seconds, with `before`): the ms of one call."""
    distinct = collections.Counter()
    for _, alternatives in ops:
        for _, counter in alternatives:
            distinct.update(dict.fromkeys(counter, 1))
    _, _, rows = floor_seconds(distinct, repeat, before)
    best_ms = {tuple(row['shape']): row['best_ms'] for row in rows}
    fastest = []
    for calls, alternatives in ops:
        cost = [(sum(n * best_ms[shape] for shape, n in counter.items()), label, counter)
                for label, counter in alternatives]
        ms, label, counter = min(cost, key=lambda c: c[0])
        fastest.append((calls, ms, label, counter))
    return fastest


def fewest_seconds(ops, repeat=5, before=None):
    """(seconds, GFLOP, ways): the Winograd floor of `winograd_ops`' list
    (fastest_ways' operations summed), their GFLOP, and how many operations
    took each way."""
    total, flop, taken = 0.0, 0.0, collections.Counter()
    for calls, ms, label, counter in fastest_ways(ops, repeat, before):
        total += calls * ms / 1e3
        flop += calls * sum(n * 2. * m * k * c for (m, k, c), n in counter.items())
        taken[label] += calls
    return total, flop / 1e9, dict(taken)
