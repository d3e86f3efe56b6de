"""minikeras.preprocessing.image and the affine kernel, against scipy.ndimage
(what Keras 1.2.2's apply_transform called) and against a step-by-step
re-statement of Keras 1.2.2's random_transform written for these tests."""
import os
import re
import sys
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

ndi = pytest.importorskip('scipy.ndimage')
scipy_linalg = pytest.importorskip('scipy.linalg')

from minikeras.kernels import affine as affine_kernels  # noqa: E402
from minikeras.kernels.affine import affine_transform_batch  # noqa: E402
from minikeras.preprocessing import image  # noqa: E402
from minikeras.preprocessing.image import ImageDataGenerator  # noqa: E402

KERAS_MODES = ['nearest', 'constant', 'reflect', 'wrap']
ALL_MODES = KERAS_MODES + ['mirror', 'grid-wrap', 'grid-mirror', 'grid-constant']
ORDERINGS = ['th', 'tf']

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def _keras_1_semantics(monkeypatch):
    """Keras 1.2.2 behaviour unless a test asks for 0.3."""
    monkeypatch.delenv('MINIKERAS_KERAS_VERSION', raising=False)


# ---------------------------------------------------------------------------
# References

def scipy_transform(x_cf, matrix, mode, cval):
    """scipy.ndimage on each channel of a channels-first image: what Keras
    1.2.2's apply_transform computed."""
    return np.stack([ndi.affine_transform(ch, matrix[:2, :2], offset=matrix[:2, 2], order=0,
                                          mode=mode, cval=cval) for ch in x_cf])


def offset_center(matrix, h, w):
    o_x, o_y = h / 2. + 0.5, w / 2. + 0.5
    to_centre = np.array([[1., 0, o_x], [0, 1, o_y], [0, 0, 1]])
    back = np.array([[1., 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return np.dot(np.dot(to_centre, matrix), back)


def keras_reference_random_transform(gen, x):
    """Keras 1.2.2's ImageDataGenerator.random_transform on one image: the
    same scalar draws from np.random in the same order, the same matrices,
    scipy for the resampling."""
    row, col, chan = gen.row_axis - 1, gen.col_axis - 1, gen.channel_axis - 1
    theta = 0
    if gen.rotation_range:
        theta = np.pi / 180 * np.random.uniform(-gen.rotation_range, gen.rotation_range)
    rot = np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0],
                    [0, 0, 1]])
    tx = ty = 0
    if gen.height_shift_range:
        tx = np.random.uniform(-gen.height_shift_range, gen.height_shift_range) * x.shape[row]
    if gen.width_shift_range:
        ty = np.random.uniform(-gen.width_shift_range, gen.width_shift_range) * x.shape[col]
    trans = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    shear = 0
    if gen.shear_range:
        shear = np.random.uniform(-gen.shear_range, gen.shear_range)
    shear_m = np.array([[1, -np.sin(shear), 0], [0, np.cos(shear), 0], [0, 0, 1]])
    if gen.zoom_range[0] == 1 and gen.zoom_range[1] == 1:
        zx = zy = 1
    else:
        zx, zy = np.random.uniform(gen.zoom_range[0], gen.zoom_range[1], 2)
    zoom = np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
    m = np.dot(np.dot(np.dot(rot, trans), shear_m), zoom)
    m = offset_center(m, x.shape[row], x.shape[col])
    out = scipy_transform(np.moveaxis(x, chan, 0), m, gen.fill_mode, gen.cval)
    if gen.channel_shift_range != 0:
        lo, hi = out.min(), out.max()
        out = np.stack([np.clip(ch + np.random.uniform(-gen.channel_shift_range,
                                                       gen.channel_shift_range), lo, hi)
                        for ch in out])
    out = np.moveaxis(out, 0, chan)
    if gen.horizontal_flip and np.random.random() < 0.5:
        out = np.flip(out, col)
    if gen.vertical_flip and np.random.random() < 0.5:
        out = np.flip(out, row)
    return out


def to_ordering(x_cf, ordering):
    """Channels-first image(s) -> the requested ordering."""
    if ordering == 'th':
        return x_cf
    return np.moveaxis(x_cf, -3, -1).copy()


def axes(ordering):
    """(row_axis, col_axis, channel_axis) of a single image."""
    return (1, 2, 0) if ordering == 'th' else (0, 1, 2)


# ---------------------------------------------------------------------------
# The kernel

matrix_entries = st.floats(-3, 3, allow_nan=False, width=64)
half_steps = st.integers(-6, 6).map(lambda k: k / 2.)
quarter_offsets = st.integers(-60, 60).map(lambda k: k / 4.)


@st.composite
def affine_problems(draw):
    n = draw(st.integers(1, 3))
    c = draw(st.integers(1, 3))
    h = draw(st.integers(1, 13))
    w = draw(st.integers(1, 13))
    matrices = np.zeros((n, 3, 3))
    matrices[:, 2, 2] = 1
    for b in range(n):
        if draw(st.booleans()):
            # coordinates on the .5 grid: every tie of the order-0 rounding
            entries = [draw(half_steps) for _ in range(4)] + [draw(quarter_offsets)
                                                              for _ in range(2)]
        else:
            entries = [draw(matrix_entries) for _ in range(4)] + \
                [draw(st.floats(-40, 40, allow_nan=False)) for _ in range(2)]
        matrices[b, :2, :2] = np.reshape(entries[:4], (2, 2))
        matrices[b, :2, 2] = entries[4:]
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2 ** 31 - 1))
    x = np.random.RandomState(seed).uniform(-5, 5, (n, c, h, w)).astype(dtype)
    mode = draw(st.sampled_from(ALL_MODES))
    cval = draw(st.floats(-10, 10, allow_nan=False))
    return x, matrices, mode, cval


@settings(max_examples=200, **SETTINGS)
@given(affine_problems())
def test_kernel_matches_scipy_bit_for_bit(problem):
    x, matrices, mode, cval = problem
    got = affine_transform_batch(x, matrices, mode, cval)
    assert got.dtype == x.dtype and got.shape == x.shape
    for b in range(x.shape[0]):
        np.testing.assert_array_equal(got[b], scipy_transform(x[b], matrices[b], mode, cval))


@pytest.mark.parametrize('mode', ALL_MODES)
def test_kernel_exact_ties_and_far_outside(mode):
    """Shifts by every multiple of 1/2 (order 0 ties) up to three image
    sizes away, for small images including 1-pixel axes."""
    rng = np.random.RandomState(0)
    for h in (1, 2, 3, 5):
        for w in (1, 4):
            x = rng.uniform(-1, 1, (1, 2, h, w)).astype(np.float32)
            for k in range(-6 * max(h, w), 6 * max(h, w) + 1):
                m = np.eye(3)
                m[0, 2] = k / 2.
                m[1, 2] = -k / 3.
                got = affine_transform_batch(x, m[np.newaxis], mode, 9.)
                np.testing.assert_array_equal(got[0], scipy_transform(x[0], m, mode, 9.))


def test_kernel_parallel_path_equals_serial_and_scipy():
    n = affine_kernels.PARALLEL_MIN_VALUES // (28 * 28) + 3
    rng = np.random.RandomState(1)
    x = rng.rand(n, 1, 28, 28).astype(np.float32)
    theta = rng.uniform(-0.5, 0.5, n)
    m = np.zeros((n, 3, 3))
    m[:, 0, 0] = m[:, 1, 1] = np.cos(theta)
    m[:, 0, 1] = -np.sin(theta)
    m[:, 1, 0] = np.sin(theta)
    m[:, :2, 2] = rng.uniform(-8, 8, (n, 2))
    m[:, 2, 2] = 1
    for mode in KERAS_MODES:
        got = affine_transform_batch(x, m, mode, 0.5)
        serial = np.empty_like(x)
        affine_kernels.affine_nearest_batch_serial(x, m, affine_kernels.FILL_MODES[mode],
                                                   0.5, serial)
        np.testing.assert_array_equal(got, serial)
        for b in (0, n // 2, n - 1):
            np.testing.assert_array_equal(got[b], scipy_transform(x[b], m[b], mode, 0.5))


def test_kernel_rejects_bad_arguments():
    x = np.zeros((2, 1, 4, 4), np.float32)
    with pytest.raises(ValueError, match='fill_mode'):
        affine_transform_batch(x, np.eye(3), 'bogus')
    with pytest.raises(ValueError, match=r'\(2, 3, 3\)'):
        affine_transform_batch(x, np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match='N, C, H, W'):
        affine_transform_batch(x[0], np.eye(3))


# ---------------------------------------------------------------------------
# Module-level random transforms

def _reference_single(kind, x, ordering, arg, mode, cval):
    """The Keras 1.2.2 helper `kind`, re-stated with scipy."""
    row, col, chan = axes(ordering)
    h, w = x.shape[row], x.shape[col]
    if kind == 'rotation':
        t = np.pi / 180 * np.random.uniform(-arg, arg)
        m = offset_center(np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0],
                                    [0, 0, 1]]), h, w)
    elif kind == 'shift':
        tx = np.random.uniform(-arg, arg) * h
        ty = np.random.uniform(-arg, arg) * w
        m = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    elif kind == 'shear':
        s = np.random.uniform(-arg, arg)
        m = offset_center(np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]), h, w)
    else:
        zx, zy = np.random.uniform(1 - arg, 1 + arg, 2)
        m = offset_center(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]]), h, w)
    out = scipy_transform(np.moveaxis(x, chan, 0), m, mode, cval)
    return np.moveaxis(out, 0, chan)


def _ours_single(kind, x, ordering, arg, mode, cval):
    row, col, chan = axes(ordering)
    kw = dict(row_axis=row, col_axis=col, channel_axis=chan, fill_mode=mode, cval=cval)
    if kind == 'rotation':
        return image.random_rotation(x, arg, **kw)
    if kind == 'shift':
        return image.random_shift(x, arg, arg, **kw)
    if kind == 'shear':
        return image.random_shear(x, arg, **kw)
    return image.random_zoom(x, (1 - arg, 1 + arg), **kw)


@settings(max_examples=120, **SETTINGS)
@given(kind=st.sampled_from(['rotation', 'shift', 'shear', 'zoom']),
       mode=st.sampled_from(KERAS_MODES), ordering=st.sampled_from(ORDERINGS),
       h=st.integers(2, 16), w=st.integers(2, 16), c=st.sampled_from([1, 3]),
       seed=st.integers(0, 2 ** 31 - 1), cval=st.floats(-3, 3))
def test_random_transform_helpers_match_scipy(kind, mode, ordering, h, w, c, seed, cval):
    arg = {'rotation': 90., 'shift': 0.4, 'shear': 0.8, 'zoom': 0.4}[kind]
    x = to_ordering(np.random.RandomState(seed).rand(c, h, w).astype(np.float32), ordering)
    np.random.seed(seed)
    expected = _reference_single(kind, x, ordering, arg, mode, cval)
    np.random.seed(seed)
    got = _ours_single(kind, x, ordering, arg, mode, cval)
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=60, **SETTINGS)
@given(mode=st.sampled_from(KERAS_MODES), ordering=st.sampled_from(ORDERINGS),
       h=st.integers(2, 16), w=st.integers(2, 16), seed=st.integers(0, 2 ** 31 - 1))
def test_apply_transform_composed_matrix(mode, ordering, h, w, seed):
    rng = np.random.RandomState(seed)
    t, s = rng.uniform(-np.pi, np.pi), rng.uniform(-0.7, 0.7)
    rot = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    trans = np.array([[1, 0, rng.uniform(-4, 4)], [0, 1, rng.uniform(-4, 4)], [0, 0, 1]])
    shear = np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
    zoom = np.diag([rng.uniform(0.5, 1.5), rng.uniform(0.5, 1.5), 1])
    m = image.transform_matrix_offset_center(rot.dot(trans).dot(shear).dot(zoom), h, w)
    np.testing.assert_array_equal(
        m, offset_center(rot.dot(trans).dot(shear).dot(zoom), h, w))
    x_cf = rng.rand(3, h, w).astype(np.float32)
    x = to_ordering(x_cf, ordering)
    chan = axes(ordering)[2]
    got = image.apply_transform(x, m, chan, mode, 0.25)
    np.testing.assert_array_equal(got, to_ordering(scipy_transform(x_cf, m, mode, 0.25),
                                                   ordering))


def test_apply_transform_keeps_integer_dtype_like_scipy():
    x = (np.arange(3 * 5 * 6) % 250).astype(np.uint8).reshape(3, 5, 6)
    m = image.transform_matrix_offset_center(
        np.array([[0.8, -0.6, 1.3], [0.6, 0.8, -2.1], [0, 0, 1]]), 5, 6)
    for cval in (3.5, -2.0, 300.0):
        got = image.apply_transform(x, m, 0, 'constant', cval)
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, scipy_transform(x, m, 'constant', cval))


def test_flip_axis():
    x = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(image.flip_axis(x, 2), x[:, :, ::-1])
    np.testing.assert_array_equal(image.flip_axis(x, 1), x[:, ::-1, :])
    np.testing.assert_array_equal(image.flip_axis(x, 0), x[::-1])


@pytest.mark.parametrize('ordering', ORDERINGS)
def test_random_channel_shift(ordering):
    x_cf = np.random.rand(3, 5, 4).astype(np.float32) * 10
    x = to_ordering(x_cf, ordering)
    chan = axes(ordering)[2]
    np.random.seed(7)
    got = image.random_channel_shift(x, 4., chan)
    np.random.seed(7)
    lo, hi = x_cf.min(), x_cf.max()
    expected = np.stack([np.clip(ch + np.random.uniform(-4., 4.), lo, hi) for ch in x_cf])
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, to_ordering(expected, ordering))


def test_random_zoom_rejects_bad_range():
    with pytest.raises(ValueError, match='zoom_range'):
        image.random_zoom(np.zeros((1, 4, 4)), (0.5, 1, 2))


# ---------------------------------------------------------------------------
# ImageDataGenerator.random_transform

generator_configs = st.fixed_dictionaries({
    'rotation_range': st.sampled_from([0, 20, 180.]),
    'width_shift_range': st.sampled_from([0, 0.2]),
    'height_shift_range': st.sampled_from([0, 0.3]),
    'shear_range': st.sampled_from([0, 0.5]),
    'zoom_range': st.sampled_from([0, 0.2, (0.5, 1.0)]),
    'channel_shift_range': st.sampled_from([0, 20.]),
    'horizontal_flip': st.booleans(),
    'vertical_flip': st.booleans(),
    'fill_mode': st.sampled_from(KERAS_MODES),
    'cval': st.sampled_from([0., 1.5]),
    'dim_ordering': st.sampled_from(ORDERINGS),
})


@settings(max_examples=80, **SETTINGS)
@given(config=generator_configs, c=st.sampled_from([1, 3]), h=st.integers(2, 14),
       w=st.integers(2, 14), seed=st.integers(0, 2 ** 31 - 1))
def test_generator_random_transform_matches_keras_1_2_2(config, c, h, w, seed):
    gen = ImageDataGenerator(**config)
    batch = to_ordering(np.random.RandomState(seed).rand(4, c, h, w).astype(np.float32) * 255,
                        config['dim_ordering'])
    np.random.seed(seed)
    expected = [keras_reference_random_transform(gen, x) for x in batch]
    after_reference = np.random.random()
    np.random.seed(seed)
    singles = [gen.random_transform(x) for x in batch]
    after_singles = np.random.random()
    np.random.seed(seed)
    batched = gen._transform_batch(batch)
    after_batched = np.random.random()
    # the same stream of draws is consumed ...
    assert after_reference == after_singles == after_batched
    # ... and gives the same images, bit for bit
    for i in range(len(batch)):
        np.testing.assert_array_equal(singles[i], expected[i])
        np.testing.assert_array_equal(batched[i], expected[i])
    assert batched.dtype == np.float32


def test_generator_without_augmentation_is_identity():
    x = np.random.rand(5, 3, 6, 7).astype(np.float32)
    np.testing.assert_array_equal(ImageDataGenerator()._transform_batch(x), x)


def test_flips_always_and_never():
    x = np.random.rand(3, 4, 5).astype(np.float32)
    gen = ImageDataGenerator(horizontal_flip=True, vertical_flip=True, dim_ordering='th')
    seen = set()
    for seed in range(20):
        np.random.seed(seed)
        out = gen.random_transform(x)
        np.random.seed(seed)
        hf, vf = np.random.random() < 0.5, np.random.random() < 0.5
        expected = x
        if hf:
            expected = expected[:, :, ::-1]
        if vf:
            expected = expected[:, ::-1, :]
        np.testing.assert_array_equal(out, expected)
        seen.add((hf, vf))
    assert len(seen) == 4


# ---------------------------------------------------------------------------
# Statistics: fit and standardize

@pytest.mark.parametrize('ordering', ORDERINGS)
def test_fit_featurewise_mean_std(ordering):
    X_cf = (np.random.rand(50, 3, 6, 5) * np.array([1., 10., 100.])[:, None, None]
            ).astype(np.float32)
    X = to_ordering(X_cf, ordering)
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True,
                             dim_ordering=ordering)
    gen.fit(X)
    mean = X_cf.mean(axis=(0, 2, 3))
    std = (X_cf - mean[:, None, None]).std(axis=(0, 2, 3))
    shape = (3, 1, 1) if ordering == 'th' else (1, 1, 3)
    assert gen.mean.shape == shape and gen.std.shape == shape
    np.testing.assert_allclose(gen.mean.ravel(), mean, rtol=1e-5)
    np.testing.assert_allclose(gen.std.ravel(), std, rtol=1e-5)
    x = X[0].copy()
    expected = (x - gen.mean) / (gen.std + 1e-7)
    np.testing.assert_allclose(gen.standardize(x), expected, rtol=1e-6)
    # the whole data set, standardized, has zero mean and unit std per channel
    out = np.stack([gen.standardize(xi.copy()) for xi in X])
    stat_axes = (0, 2, 3) if ordering == 'th' else (0, 1, 2)
    np.testing.assert_allclose(out.mean(axis=stat_axes), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=stat_axes), 1, atol=1e-4)


def test_fit_zca_principal_components():
    rng = np.random.RandomState(3)
    mixing = rng.randn(12, 12)
    X = (rng.randn(400, 12).dot(mixing)).astype(np.float32).reshape(400, 3, 2, 2)
    gen = ImageDataGenerator(featurewise_center=True, zca_whitening=True, dim_ordering='th')
    gen.fit(X)
    centred = (X - X.mean(axis=(0, 2, 3), keepdims=True)).reshape(400, -1).astype(np.float64)
    sigma = centred.T.dot(centred) / 400
    u, s, _ = scipy_linalg.svd(sigma)
    expected = u.dot(np.diag(1. / np.sqrt(s + 10e-7))).dot(u.T)
    np.testing.assert_allclose(gen.principal_components, expected, rtol=2e-3, atol=2e-3)
    # whitened data has (nearly) identity covariance
    white = centred.dot(gen.principal_components)
    np.testing.assert_allclose(white.T.dot(white) / 400, np.eye(12), atol=1e-2)
    x = X[5].copy()
    np.testing.assert_allclose(gen.standardize(x).ravel(),
                               (X[5] - gen.mean).ravel().dot(gen.principal_components),
                               rtol=1e-5, atol=1e-5)


def test_fit_augment_uses_the_transformed_samples():
    X = np.random.rand(20, 1, 8, 8).astype(np.float32)
    gen = ImageDataGenerator(featurewise_center=True, rotation_range=30, dim_ordering='th')
    gen.fit(X, augment=True, rounds=3, seed=11)
    np.random.seed(11)
    augmented = np.stack([gen.random_transform(x) for _ in range(3) for x in X])
    np.testing.assert_allclose(gen.mean.ravel(), [augmented.mean()], rtol=1e-5)


def test_fit_errors_name_the_problem():
    gen = ImageDataGenerator(featurewise_center=True, dim_ordering='th')
    with pytest.raises(ValueError, match=r'rank-4.*\(10, 8, 8\)'):
        gen.fit(np.zeros((10, 8, 8)))
    with pytest.raises(ValueError, match='2 channels'):
        gen.fit(np.zeros((10, 2, 8, 8)))


def test_samplewise_normalization_over_the_channel_axis():
    # Keras 1.2.2 takes the sample mean and std over the channel axis
    x = np.random.rand(3, 4, 5).astype(np.float32)
    gen = ImageDataGenerator(samplewise_center=True, samplewise_std_normalization=True,
                             dim_ordering='th')
    centred = x - x.mean(axis=0, keepdims=True)
    expected = centred / (centred.std(axis=0, keepdims=True) + 1e-7)
    np.testing.assert_allclose(gen.standardize(x.copy()), expected, rtol=1e-5, atol=1e-6)
    gen_tf = ImageDataGenerator(samplewise_center=True, dim_ordering='tf')
    x_tf = np.random.rand(4, 5, 3).astype(np.float32)
    np.testing.assert_allclose(gen_tf.standardize(x_tf.copy()),
                               x_tf - x_tf.mean(axis=2, keepdims=True), atol=1e-6)


def test_standardize_order_rescale_after_preprocessing_function():
    calls = []

    def prep(x):
        calls.append(x.copy())
        return x + 1

    gen = ImageDataGenerator(rescale=0.5, preprocessing_function=prep, dim_ordering='th')
    x = np.full((1, 2, 2), 3., np.float32)
    np.testing.assert_array_equal(gen.standardize(x), np.full((1, 2, 2), 2.))
    np.testing.assert_array_equal(calls[0], np.full((1, 2, 2), 3.))


def test_featurewise_without_fit_warns():
    x = np.random.rand(1, 4, 4).astype(np.float32)
    for flag in ('featurewise_center', 'featurewise_std_normalization', 'zca_whitening'):
        gen = ImageDataGenerator(dim_ordering='th', **{flag: True})
        with pytest.warns(UserWarning, match=flag):
            out = gen.standardize(x.copy())
        np.testing.assert_array_equal(out, x)


def test_constructor_errors_name_the_argument():
    with pytest.raises(ValueError, match='dim_ordering.*xy'):
        ImageDataGenerator(dim_ordering='xy')
    with pytest.raises(ValueError, match='zoom_range'):
        ImageDataGenerator(zoom_range=(0.5, 1.0, 1.5))
    with pytest.raises(ValueError, match='zoom_range'):
        ImageDataGenerator(zoom_range='big')
    with pytest.raises(ValueError, match='fill_mode'):
        ImageDataGenerator(fill_mode='edge')
    gen = ImageDataGenerator(zoom_range=0.25)
    assert gen.zoom_range == [0.75, 1.25]


def test_default_dim_ordering_comes_from_the_backend(monkeypatch):
    from minikeras import backend
    monkeypatch.setattr(backend, '_IMAGE_DIM_ORDERING', 'tf')
    assert ImageDataGenerator().dim_ordering == 'tf'
    monkeypatch.setattr(backend, '_IMAGE_DIM_ORDERING', 'th')
    gen = ImageDataGenerator()
    assert (gen.dim_ordering, gen.channel_axis, gen.row_axis, gen.col_axis) == ('th', 1, 2, 3)


# ---------------------------------------------------------------------------
# Iterators

def _labelled(n, shape=(1, 4, 4)):
    X = np.random.rand(n, *shape).astype(np.float32)
    y = np.arange(n)
    return X, y


def test_flow_epochs_cover_every_sample_once_and_serve_the_last_partial_batch():
    X, y = _labelled(10)
    it = ImageDataGenerator(dim_ordering='th').flow(X, y, batch_size=4, shuffle=True)
    assert (it.N, it.n, it.batch_size, it.shuffle) == (10, 10, 4, True)
    epochs = []
    for _ in range(3):
        sizes, labels = [], []
        for _ in range(3):
            bx, by = next(it)
            sizes.append(len(by))
            labels.extend(by.tolist())
            np.testing.assert_array_equal(bx, X[by])
        assert sizes == [4, 4, 2]
        assert sorted(labels) == list(range(10))
        epochs.append(labels)
    assert it.total_batches_seen == 9 and it.batch_index == 0
    assert epochs[0] != epochs[1] or epochs[1] != epochs[2]  # reshuffled


def test_flow_is_endless_and_unshuffled_order_is_kept():
    X, y = _labelled(5)
    it = ImageDataGenerator(dim_ordering='th').flow(X, y, batch_size=2, shuffle=False)
    got = [next(it)[1].tolist() for _ in range(7)]
    assert got == [[0, 1], [2, 3], [4], [0, 1], [2, 3], [4], [0, 1]]


def test_flow_keeps_keras_1_2_2_order_when_batch_size_divides_n():
    # Keras 1.2.2 only draws a new permutation when batch_index returns to 0,
    # which never happens when n is a multiple of batch_size
    X, y = _labelled(6)
    it = ImageDataGenerator(dim_ordering='th').flow(X, y, batch_size=3, shuffle=True)
    first = [next(it)[1].tolist() for _ in range(2)]
    second = [next(it)[1].tolist() for _ in range(2)]
    assert first == second and sorted(sum(first, [])) == list(range(6))


def test_flow_without_labels_returns_arrays():
    X, _ = _labelled(3)
    batch = next(ImageDataGenerator(dim_ordering='th').flow(X, batch_size=2, shuffle=False))
    np.testing.assert_array_equal(batch, X[:2])


def test_seeded_flows_are_reproducible():
    X, y = _labelled(13, (3, 8, 8))
    gen = ImageDataGenerator(rotation_range=30, width_shift_range=0.2, horizontal_flip=True,
                             channel_shift_range=5., dim_ordering='th')

    def run(seed):
        it = gen.flow(X, y, batch_size=5, shuffle=True, seed=seed)
        return [next(it) for _ in range(6)]

    a, b = run(42), run(42)
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    # without a flow seed, the global seed decides
    np.random.seed(5)
    c = run(None)
    np.random.seed(5)
    d = run(None)
    for (xc, yc), (xd, yd) in zip(c, d):
        np.testing.assert_array_equal(xc, xd)
        np.testing.assert_array_equal(yc, yd)


def test_flow_batch_equals_per_sample_keras_pipeline():
    X, y = _labelled(9, (3, 7, 6))
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True,
                             rotation_range=25, zoom_range=0.2, shear_range=0.3,
                             horizontal_flip=True, rescale=1. / 255, dim_ordering='th')
    gen.fit(X)
    it = gen.flow(X, y, batch_size=4, shuffle=True, seed=3)
    for k in range(5):
        bx, by = next(it)
        # what Keras 1.2.2's NumpyArrayIterator.next did, sample by sample
        np.random.seed(3 + k)
        if k % 3 == 0:  # a new epoch: the permutation is drawn first
            np.random.permutation(9)
        for i, j in enumerate(by):
            expected = gen.standardize(keras_reference_random_transform(gen, X[j].copy()))
            np.testing.assert_allclose(bx[i], expected, rtol=1e-6, atol=1e-6)


def test_flow_is_thread_safe():
    X, y = _labelled(40)
    it = ImageDataGenerator(rotation_range=10, dim_ordering='th').flow(
        X, y, batch_size=3, shuffle=True)
    per_epoch = 14  # 13 full batches and one of 1
    seen = []
    lock = threading.Lock()

    def worker():
        for _ in range(per_epoch // 2):
            _, by = next(it)
            with lock:
                seen.extend(by.tolist())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == sorted(list(range(40)) * 2)
    assert it.total_batches_seen == 2 * per_epoch


def test_flow_under_keras_0_3_makes_one_pass(monkeypatch):
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '0.3')
    X, y = _labelled(10)
    gen = ImageDataGenerator(dim_ordering='th')
    batches = [(bx, by) for bx, by in gen.flow(X, y, batch_size=4)]
    assert [len(by) for _, by in batches] == [4, 4, 2]
    # Keras 0.3's flow did not shuffle by default
    assert np.concatenate([by for _, by in batches]).tolist() == list(range(10))
    it = gen.flow(X, y, batch_size=3, shuffle=True, seed=1)
    labels = np.concatenate([by for _, by in it])
    assert sorted(labels.tolist()) == list(range(10))
    with pytest.raises(StopIteration):
        next(it)
    it.reset()
    assert len(next(it)[1]) == 3


def test_flow_under_keras_1_is_endless(monkeypatch):
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '1.2.2')
    X, y = _labelled(3)
    it = ImageDataGenerator(dim_ordering='th').flow(X, y, batch_size=2)
    assert it.shuffle is True
    for _ in range(10):
        next(it)


def test_flow_errors_name_the_problem():
    gen = ImageDataGenerator(dim_ordering='th')
    with pytest.raises(ValueError, match=r'len\(X\) = 4, len\(y\) = 3'):
        gen.flow(np.zeros((4, 1, 3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r'rank-4.*\(4, 3, 3\)'):
        gen.flow(np.zeros((4, 3, 3)))
    with pytest.raises(ValueError, match='5 channels'):
        gen.flow(np.zeros((4, 5, 3, 3)))
    with pytest.raises(ValueError, match='batch_size'):
        gen.flow(np.zeros((4, 1, 3, 3)), batch_size=0)
    with pytest.raises(ValueError, match='no samples'):
        next(gen.flow(np.zeros((0, 1, 3, 3))))


def test_flow_honours_overridden_random_transform():
    class PlusOne(ImageDataGenerator):
        def random_transform(self, x):
            return x + 1

    X, y = _labelled(4)
    bx, by = next(PlusOne(dim_ordering='th').flow(X, y, batch_size=4, shuffle=False))
    np.testing.assert_array_equal(bx, X + 1)


def test_flow_save_to_dir(tmp_path):
    pytest.importorskip('PIL')
    X, y = _labelled(5, (3, 6, 6))
    it = ImageDataGenerator(dim_ordering='th').flow(
        X, y, batch_size=3, shuffle=False, save_to_dir=str(tmp_path), save_prefix='aug',
        save_format='png')
    next(it)
    next(it)
    names = sorted(os.listdir(str(tmp_path)))
    assert len(names) == 5
    assert all(re.match(r'aug_[0-4]_\d+\.png$', n) for n in names)
    assert sorted(int(n.split('_')[1]) for n in names) == [0, 1, 2, 3, 4]


# ---------------------------------------------------------------------------
# Files: PIL helpers and flow_from_directory

COLOURS = {'b_dogs': (200, 10, 10), 'a_cats': (10, 200, 10), 'c_birds': (10, 10, 200)}


@pytest.fixture
def image_tree(tmp_path):
    Image = pytest.importorskip('PIL.Image')
    root = tmp_path / 'train'
    files = {'a_cats': ['c1.png', 'c0.PNG'], 'b_dogs': ['d0.png', 'sub/d1.png', 'sub/d2.png'],
             'c_birds': ['b0.png']}
    for cls, names in files.items():
        for k, name in enumerate(names):
            path = root / cls / name
            path.parent.mkdir(parents=True, exist_ok=True)
            size = (6 + k, 5 + 2 * k)  # (width, height): all different
            Image.new('RGB', size, COLOURS[cls]).save(str(path), format='PNG')
    (root / 'a_cats' / 'notes.txt').write_text('not an image')
    return root


def test_flow_from_directory_finds_classes_and_labels(image_tree, capsys):
    gen = ImageDataGenerator(dim_ordering='th')
    it = gen.flow_from_directory(str(image_tree), target_size=(4, 5), batch_size=6,
                                 shuffle=False)
    assert 'Found 6 images belonging to 3 classes.' in capsys.readouterr().out
    assert it.class_indices == {'a_cats': 0, 'b_dogs': 1, 'c_birds': 2}
    assert (it.nb_sample, it.nb_class) == (6, 3)
    assert it.filenames == [os.path.join('a_cats', 'c0.PNG'), os.path.join('a_cats', 'c1.png'),
                            os.path.join('b_dogs', 'd0.png'),
                            os.path.join('b_dogs', 'sub', 'd1.png'),
                            os.path.join('b_dogs', 'sub', 'd2.png'),
                            os.path.join('c_birds', 'b0.png')]
    assert it.classes.tolist() == [0, 0, 1, 1, 1, 2] and it.classes.dtype == np.int32
    bx, by = next(it)
    assert bx.shape == (6, 3, 4, 5) and bx.dtype == np.float32
    assert by.shape == (6, 3) and by.dtype == np.float32
    np.testing.assert_array_equal(by, np.eye(3)[[0, 0, 1, 1, 1, 2]])
    for i, cls in enumerate(['a_cats'] * 2 + ['b_dogs'] * 3 + ['c_birds']):
        np.testing.assert_array_equal(bx[i], np.broadcast_to(
            np.array(COLOURS[cls], np.float32)[:, None, None], (3, 4, 5)))


@pytest.mark.parametrize('class_mode', ['binary', 'sparse', None])
def test_flow_from_directory_class_modes(image_tree, class_mode):
    it = ImageDataGenerator(dim_ordering='tf').flow_from_directory(
        str(image_tree), target_size=(3, 3), classes=['a_cats', 'b_dogs'],
        class_mode=class_mode, batch_size=10, shuffle=False)
    out = next(it)
    if class_mode is None:
        assert out.shape == (5, 3, 3, 3)
        return
    bx, by = out
    assert bx.shape == (5, 3, 3, 3)
    assert by.tolist() == [0, 0, 1, 1, 1]
    assert by.dtype == (np.float32 if class_mode == 'binary' else np.int32)


def test_flow_from_directory_grayscale_and_shuffle(image_tree):
    it = ImageDataGenerator(dim_ordering='th').flow_from_directory(
        str(image_tree), target_size=(7, 2), color_mode='grayscale', class_mode='sparse',
        batch_size=4, shuffle=True, seed=0)
    labels = []
    for _ in range(2):
        bx, by = next(it)
        assert bx.shape[1:] == (1, 7, 2)
        labels.extend(by.tolist())
    assert sorted(labels) == [0, 0, 1, 1, 1, 2]


def test_flow_from_directory_errors(image_tree):
    gen = ImageDataGenerator()
    with pytest.raises(ValueError, match='color_mode'):
        gen.flow_from_directory(str(image_tree), color_mode='cmyk')
    with pytest.raises(ValueError, match='class_mode'):
        gen.flow_from_directory(str(image_tree), class_mode='onehot')
    with pytest.raises(ValueError, match='not a directory'):
        gen.flow_from_directory(str(image_tree / 'missing'))


def test_flow_from_directory_save_to_dir(image_tree, tmp_path):
    out_dir = tmp_path / 'augmented'
    out_dir.mkdir()
    it = ImageDataGenerator(rotation_range=10).flow_from_directory(
        str(image_tree), target_size=(8, 8), batch_size=4, save_to_dir=str(out_dir),
        save_prefix='x')
    next(it)
    names = os.listdir(str(out_dir))
    assert len(names) == 4 and all(re.match(r'x_\d+_\d+\.jpeg$', n) for n in names)


def test_pil_conversions_round_trip(tmp_path):
    pytest.importorskip('PIL')
    rgb = np.random.randint(0, 256, (3, 5, 4)).astype(np.float32)
    img = image.array_to_img(rgb, 'th', scale=False)
    assert img.mode == 'RGB' and img.size == (4, 5)
    np.testing.assert_array_equal(image.img_to_array(img, 'th'), rgb)
    np.testing.assert_array_equal(image.img_to_array(img, 'tf'), rgb.transpose(1, 2, 0))
    gray = np.random.randint(0, 256, (5, 4, 1)).astype(np.float32)
    img = image.array_to_img(gray, 'tf', scale=False)
    assert img.mode == 'L'
    np.testing.assert_array_equal(image.img_to_array(img, 'th'), gray.transpose(2, 0, 1))
    scaled = image.img_to_array(image.array_to_img(np.array([[[-1., 0.], [1., 3.]]]), 'th'),
                                'th')
    np.testing.assert_array_equal(scaled, [[[0, 63], [127, 255]]])
    with pytest.raises(ValueError, match='channels'):
        image.array_to_img(np.zeros((2, 4, 4)), 'th')
    with pytest.raises(ValueError, match='rank-3'):
        image.array_to_img(np.zeros((4, 4)), 'th')
    path = str(tmp_path / 'pic.png')
    image.array_to_img(rgb, 'th', scale=False).save(path)
    loaded = image.load_img(path, target_size=(10, 8))
    assert loaded.size == (8, 10) and loaded.mode == 'RGB'
    assert image.load_img(path, grayscale=True).mode == 'L'


def test_list_pictures(tmp_path):
    for name in ('a.jpg', 'b.png', 'c.txt', 'sub/d.bmp', 'bad-name.png'):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b'')
    found = sorted(os.path.relpath(p, str(tmp_path)) for p in image.list_pictures(str(tmp_path)))
    assert found == ['a.jpg', 'b.png', os.path.join('sub', 'd.bmp')]


def test_missing_pillow_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, 'PIL', None)
    monkeypatch.setitem(sys.modules, 'PIL.Image', None)
    with pytest.raises(ImportError, match='pip install pillow'):
        image.array_to_img(np.zeros((3, 2, 2)), 'th')
    with pytest.raises(ImportError, match='pip install pillow'):
        image.load_img('whatever.png')
