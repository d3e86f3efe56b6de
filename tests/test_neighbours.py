"""The removed neighbour APIs that `minikeras run` serves: scipy.misc, numpy aliases, sklearn."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from minikeras.compat import neighbours

Image = pytest.importorskip('PIL.Image')
misc = pytest.importorskip('minikeras.compat.neighbours_scipy_misc')


def write(path, text):
    path.write_text(textwrap.dedent(text).lstrip('\n'))
    return str(path)


def pillow_array(image):
    return np.asarray(image)


# ---- scipy.misc: bytescale against the values of SciPy 1.1's own tests ----

def test_bytescale_matches_scipy_1_1():
    assert misc.bytescale(np.array([0, 1, 2], np.uint8)).tolist() == [0, 1, 2]
    assert misc.bytescale(np.array([0, 1, 2])).tolist() == [0, 128, 255]
    x = np.array([40, 60, 120, 200, 300, 500])
    assert misc.bytescale(x, low=10, high=143).tolist() == [10, 16, 33, 56, 85, 143]
    assert misc.bytescale(x, cmin=60, cmax=300).tolist() == [0, 0, 64, 149, 255, 255]
    assert misc.bytescale(np.array([3, 3, 3]), low=4).tolist() == [4, 4, 4]
    assert misc.bytescale(np.arange(10), cmin=3, cmax=6, low=100, high=200).tolist() == [
        100, 100, 100, 100, 133, 167, 200, 200, 200, 200]
    assert misc.bytescale(np.array([-0.5, 0.5, 1.5, 2.5, 3.5]), cmin=0, cmax=10, low=0,
                          high=10).tolist() == [0, 1, 2, 3, 4]
    assert misc.bytescale(np.arange(3), low=10, high=10).tolist() == [10, 10, 10]
    masked = misc.bytescale(np.ma.MaskedArray(data=[1, 2, 3], mask=[False, False, True]))
    assert isinstance(masked, np.ma.MaskedArray)
    assert masked.mask.tolist() == [False, False, True]
    assert masked.compressed().tolist() == [0, 255]


@pytest.mark.parametrize('kwargs, message', [
    (dict(low=10, high=5), '`high` (5) should be >= `low` (10)'),
    (dict(low=-1), '`low` should be at least 0'),
    (dict(high=256), '`high` should be at most 255'),
])
def test_bytescale_rejects_bad_bounds(kwargs, message):
    with pytest.raises(ValueError, match=message.replace('(', r'\(').replace(')', r'\)')):
        misc.bytescale(np.arange(3), **kwargs)


# ---- imresize: sizes as SciPy 1.x read them, pixels as Pillow makes them ----

def test_imresize_size_as_percent_fraction_and_tuple():
    grey = np.random.RandomState(0).randint(0, 256, size=(10, 20)).astype(np.uint8)
    assert misc.imresize(grey, 50).shape == (5, 10)        # int: percent
    assert misc.imresize(grey, 1.101).shape == (11, 22)    # float: fraction (SciPy's test)
    assert misc.imresize(grey, np.float32(1.5)).shape == (15, 30)
    assert misc.imresize(grey, (30, 40)).shape == (30, 40)  # tuple: (height, width)
    square = np.array([[1, 2], [3, 4]])
    by_size = misc.imresize(square, (4, 4), mode='F')
    np.testing.assert_array_equal(by_size, misc.imresize(square, 2., mode='F'))
    np.testing.assert_array_equal(by_size, misc.imresize(square, 200, mode='F'))


@pytest.mark.parametrize('interp, resample', [
    ('nearest', 0), ('lanczos', 1), ('bilinear', 2), ('bicubic', 3), ('cubic', 3)])
def test_imresize_uint8_equals_pillow_resize(interp, resample):
    rgb = np.random.RandomState(1).randint(0, 256, size=(12, 9, 3)).astype(np.uint8)
    expected = pillow_array(Image.fromarray(rgb).resize((14, 7), resample=resample))
    result = misc.imresize(rgb, (7, 14), interp=interp)
    assert result.dtype == np.uint8 and result.shape == (7, 14, 3)
    np.testing.assert_array_equal(result, expected)


def test_imresize_nearest_doubling_repeats_pixels():
    grey = np.random.RandomState(2).randint(0, 256, size=(5, 6)).astype(np.uint8)
    expected = np.repeat(np.repeat(grey, 2, axis=0), 2, axis=1)
    np.testing.assert_array_equal(misc.imresize(grey, 200, interp='nearest'), expected)


def test_imresize_byte_scales_floats_unless_mode_f():
    data = np.random.RandomState(3).uniform(-2.0, 5.0, size=(8, 8))
    scaled = np.floor((data - data.min()) / (data.max() - data.min()) * 255 + 0.5)
    expected = pillow_array(Image.fromarray(scaled.astype(np.uint8)).resize((4, 4), 2))
    result = misc.imresize(data, 0.5)
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(result, expected)
    floats = misc.imresize(data, 0.5, mode='F')
    assert floats.dtype == np.float32
    np.testing.assert_allclose(
        floats, pillow_array(Image.fromarray(data.astype(np.float32)).resize((4, 4), 2)))


def test_imresize_rejects_unknown_interp_and_size():
    with pytest.raises(ValueError, match="interp should be one of .* got 'linear'"):
        misc.imresize(np.zeros((4, 4), np.uint8), 50, interp='linear')
    with pytest.raises(TypeError, match='size should be an int'):
        misc.imresize(np.zeros((4, 4), np.uint8), 'big')


# ---- toimage, imsave, imread, imrotate ----

def test_toimage_finds_the_channel_axis_and_byte_scales():
    rgb = np.random.RandomState(4).randint(0, 256, size=(6, 5, 3)).astype(np.uint8)
    for array in (rgb, rgb.transpose(2, 0, 1), rgb.transpose(0, 2, 1)):
        image = misc.toimage(array)
        assert image.mode == 'RGB' and image.size == (5, 6)
        np.testing.assert_array_equal(np.asarray(image), rgb)
    rgba = np.random.RandomState(5).randint(0, 256, size=(4, 7, 4)).astype(np.uint8)
    assert misc.toimage(rgba).mode == 'RGBA'
    grey = misc.toimage(np.array([[0.0, 0.5], [0.25, 1.0]]))
    assert grey.mode == 'L'
    np.testing.assert_array_equal(np.asarray(grey), [[0, 128], [64, 255]])
    assert np.asarray(misc.toimage(np.array([[0, 200], [255, 10]]), mode='1')).tolist() == [
        [False, False], [False, False]]
    assert np.asarray(misc.toimage(np.array([[0, 200], [255, 10]]), high=100, mode='1')
                      ).tolist() == [[False, True], [True, False]]
    with pytest.raises(ValueError, match='should be 2D, or 3D'):
        misc.toimage(np.zeros((2, 2, 2)))


def test_imsave_then_imread_round_trip(tmp_path):
    rgb = np.random.RandomState(6).randint(0, 256, size=(9, 11, 3)).astype(np.uint8)
    path = str(tmp_path / 'rgb.png')
    misc.imsave(path, rgb)
    np.testing.assert_array_equal(misc.imread(path), rgb)
    np.testing.assert_array_equal(pillow_array(Image.open(path)), rgb)
    luma = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    flat = misc.imread(path, flatten=True)
    assert flat.dtype == np.float32 and flat.shape == (9, 11)
    np.testing.assert_allclose(flat, luma, atol=0.01)
    np.testing.assert_array_equal(misc.imread(path, mode='L'),
                                  pillow_array(Image.open(path).convert('L')))
    floats = np.linspace(0.0, 1.0, 12).reshape(3, 4)
    float_path = str(tmp_path / 'float.png')
    misc.imsave(float_path, floats)
    np.testing.assert_array_equal(misc.imread(float_path),
                                  np.floor(floats * 255 + 0.5).astype(np.uint8))
    misc.imsave(str(tmp_path / 'noext'), rgb, format='png')
    np.testing.assert_array_equal(misc.imread(str(tmp_path / 'noext')), rgb)


def test_imread_expands_palette_images(tmp_path):
    indices = np.array([[0, 1], [2, 1]], dtype=np.uint8)
    palette = [255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 9)
    image = Image.new('P', (2, 2))
    image.putpalette(palette)
    image.putdata(indices.ravel().tolist())
    path = str(tmp_path / 'palette.png')
    image.save(path)
    expected = np.array(palette[:9], dtype=np.uint8).reshape(3, 3)[indices]
    np.testing.assert_array_equal(misc.imread(path), expected)


def test_imrotate_quarter_turn_is_rot90():
    grey = np.random.RandomState(7).randint(0, 256, size=(6, 6)).astype(np.uint8)
    np.testing.assert_array_equal(misc.imrotate(grey, 90, interp='nearest'), np.rot90(grey))


def test_moved_functions_come_from_scipy_special():
    special = pytest.importorskip('scipy.special')
    assert misc.logsumexp is special.logsumexp and misc.comb is special.comb
    with pytest.raises(AttributeError, match="scipy.misc has no 'derivative' here"):
        misc.derivative


# ---- numpy aliases ----

def test_numpy_aliases_are_the_old_objects():
    assert neighbours.numpy_alias('float') is float
    assert neighbours.numpy_alias('int') is int
    assert neighbours.numpy_alias('object') is object
    assert neighbours.numpy_alias('unicode') is str
    assert neighbours.numpy_alias('float_') is np.float64
    assert np.isnan(neighbours.numpy_alias('NaN'))
    assert neighbours.numpy_alias('NINF') == -np.inf
    np.testing.assert_array_equal(neighbours.numpy_alias('asfarray')([1, 2]), [1.0, 2.0])
    scalar = neighbours.numpy_alias('asscalar')(np.array([2.5], dtype=np.float32))
    assert scalar == 2.5 and type(scalar) is float
    with pytest.raises(KeyError):
        neighbours.numpy_alias('definitely_not_numpy')


# ---- sklearn.cross_validation's old splitters ----

def test_old_kfold_yields_consecutive_folds_like_a_numpy_loop():
    cv = pytest.importorskip('minikeras.compat.neighbours_cross_validation')
    n, folds = 11, 3
    sizes = [n // folds + (1 if i < n % folds else 0) for i in range(folds)]
    starts = np.cumsum([0] + sizes)
    expected = [(np.setdiff1d(np.arange(n), np.arange(a, b)), np.arange(a, b))
                for a, b in zip(starts[:-1], starts[1:])]
    splits = list(cv.KFold(n, n_folds=folds))
    assert len(cv.KFold(n, n_folds=folds)) == folds
    for (train, test), (want_train, want_test) in zip(splits, expected):
        np.testing.assert_array_equal(train, want_train)
        np.testing.assert_array_equal(test, want_test)
    shuffled = list(cv.KFold(n, n_folds=folds, shuffle=True, random_state=0))
    assert sorted(np.concatenate([test for _, test in shuffled]).tolist()) == list(range(n))


def test_old_stratified_kfold_keeps_class_shares():
    cv = pytest.importorskip('minikeras.compat.neighbours_cross_validation')
    y = np.array([0] * 6 + [1] * 3)
    for train, test in cv.StratifiedKFold(y, n_folds=3, shuffle=True, random_state=1):
        assert np.bincount(y[test]).tolist() == [2, 1]
        assert sorted(train.tolist() + test.tolist()) == list(range(9))
    with pytest.raises(ValueError, match='StratifiedKFold: y should be a 1D array'):
        cv.StratifiedKFold(np.zeros((4, 2)))
    assert [len(t) for _, t in cv.ShuffleSplit(20, n_iter=4, test_size=0.25)] == [5] * 4
    assert len(list(cv.LeaveOneOut(4))) == 4


# ---- served inside `minikeras run` only ----

def test_neighbours_are_served_inside_the_run(tmp_path):
    pytest.importorskip('scipy')
    pytest.importorskip('sklearn')
    script = write(tmp_path / 'neighbours.py', '''
        import numpy as np
        from scipy.misc import imread, imsave, imresize, toimage, bytescale
        from scipy import misc
        from scipy.misc.pilutil import imresize as pilutil_imresize
        from sklearn.cross_validation import StratifiedKFold, train_test_split
        from sklearn.grid_search import GridSearchCV
        import sklearn.model_selection
        print np.float is float, np.int is int, np.object is object, np.str is str
        print np.zeros(2, dtype=np.float).dtype, np.ones(1, dtype=np.int).dtype.kind
        print np.unicode is str, np.bool(1), int(np.long(3)), np.float_ is np.float64
        image = (np.arange(48).reshape(4, 4, 3) * 5).astype(np.uint8)
        imsave('picture.png', image)
        print (imread('picture.png') == image).all(), imresize(image, 50).shape
        print misc.imresize is pilutil_imresize is imresize
        print len(list(StratifiedKFold([0, 0, 1, 1], n_folds=2)))
        print issubclass(GridSearchCV, sklearn.model_selection.GridSearchCV)
        print len(train_test_split(range(10), test_size=0.3)[1])
        import scipy.ndimage
        print (scipy.ndimage.imread('picture.png') == image).all(), hasattr(scipy.ndimage, 'zoom')
        print np.asscalar(np.array([7]))
    ''')
    result = subprocess.run([sys.executable, '-m', 'minikeras', 'run', script], cwd=str(tmp_path),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        'True True True True', 'float64 i', 'True True 3 True', 'True (2, 2, 3)', 'True', '2',
        'True', '3', 'True True', '7']


def test_neighbours_are_absent_outside_the_run():
    code = textwrap.dedent('''
        import minikeras, minikeras.compat.runner, minikeras.compat.neighbours
        import numpy
        try:
            numpy.float
            print('np.float present')
        except AttributeError:
            print('np.float absent')
        try:
            import scipy.misc, scipy.ndimage
            print('imread present' if hasattr(scipy.misc, 'imread')
                  or hasattr(scipy.ndimage, 'imread') else 'imread absent')
        except ImportError:
            print('imread absent')
        try:
            import sklearn.cross_validation
            print('cross_validation present')
        except ImportError:
            print('cross_validation absent')
    ''')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ['np.float absent', 'imread absent',
                                          'cross_validation absent']
