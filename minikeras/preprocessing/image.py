"""Real-time data augmentation for image data, as `keras.preprocessing.image`
behaved in Keras 1.2.2.

`ImageDataGenerator` draws its random transformation parameters from the
global `np.random` state in Keras 1.2.2's order (one image after the other:
rotation, height shift, width shift, shear, zoom x and y, channel shifts,
horizontal flip, vertical flip, each only when enabled), composes one affine
matrix per image exactly as Keras did and resamples the whole batch with one
Numba kernel (`minikeras.kernels.affine`) whose output is bit-identical to
the `scipy.ndimage.affine_transform(..., order=0)` call Keras made per
channel. A generator made by a Keras 2 call (or in a Keras 2 script) draws
as Keras 2.2.4 did instead (keras_preprocessing 1.0.5: the flips are drawn
whether or not they are on, one channel-shift intensity per image, shifts
of an int range in pixels, angles in degrees; see
`_draw_parameters_keras_2`), and its iterators start a new order after a
full last batch; it still resamples with order 0 where Keras 2.2 used
bilinear interpolation (order 1). The iterators serve batches in Keras 1.2.2's order; under Keras 0.3
semantics (`MINIKERAS_KERAS_VERSION=0.3`) `flow()` makes one pass over the
data, as Keras 0.3's generator did.

Pillow is needed only to read and write image files (`load_img`,
`array_to_img`, `flow_from_directory`, `save_to_dir`); it is imported when
first used.
"""
import numbers
import os
import re
import threading
import warnings

import numpy as np

from .. import backend as K
from ..compat import keras0, keras2
from ..kernels.affine import affine_transform_batch, fill_mode_code

_ZCA_EPSILON = 10e-7        # Keras 1.2.2 adds 10e-7 (= 1e-6) to the singular values
_STANDARDIZE_EPSILON = 1e-7  # and 1e-7 to the stds in `standardize`
_WHITE_LIST_FORMATS = ('png', 'jpg', 'jpeg', 'bmp')


# ---------------------------------------------------------------------------
# Pillow, imported on first use

def _pil_image():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('Reading or writing image files needs Pillow, which is not '
                          'installed. Install it with `pip install pillow`.')
    return Image


def _resolve_dim_ordering(dim_ordering, where):
    if dim_ordering == 'default':
        dim_ordering = K.image_dim_ordering()
    if dim_ordering not in ('th', 'tf'):
        raise ValueError('%s: dim_ordering must be "th" (channels, rows, cols), "tf" '
                         '(rows, cols, channels) or "default", got %r'
                         % (where, dim_ordering))
    return dim_ordering


# ---------------------------------------------------------------------------
# Single-image transforms

def _check_image(x, where):
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError('%s expects a single image, a rank-3 array; got an array '
                         'of shape %s' % (where, x.shape))
    return x


def transform_matrix_offset_center(matrix, x, y):
    """Recentres an affine matrix so that it acts about the image centre.

    # Arguments
        matrix: 3x3 homogeneous matrix acting on (row, col) coordinates.
        x: number of rows of the image.
        y: number of columns of the image.

    # Returns
        `offset @ matrix @ reset`, where `offset` translates by
        (x / 2 + 0.5, y / 2 + 0.5) and `reset` translates back.
    """
    o_x = float(x) / 2 + 0.5
    o_y = float(y) / 2 + 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return np.dot(np.dot(offset, matrix), reset)


def _cast_like_scipy(values, dtype):
    """Stores float64 results into an integer/bool dtype the way
    scipy.ndimage does (round half away from zero, clip to the type's range)."""
    if dtype == np.bool_:
        return values != 0
    info = np.iinfo(dtype)
    if info.min == 0:
        values = np.where(values > 0, values + 0.5, 0.0)
    else:
        values = np.where(values > 0, values + 0.5, values - 0.5)
    values = np.clip(values, info.min, info.max)
    return np.trunc(values).astype(dtype)


def _apply_transforms_cf(batch, matrices, fill_mode, cval):
    """Kernel call on a channels-first batch of any real dtype."""
    dtype = batch.dtype
    if dtype in (np.float32, np.float64):
        return affine_transform_batch(batch, matrices, fill_mode, cval)
    if dtype.kind in 'iub':
        out = affine_transform_batch(batch.astype(np.float64), matrices, fill_mode, cval)
        return _cast_like_scipy(out, dtype)
    if dtype.kind == 'f':
        out = affine_transform_batch(batch.astype(np.float32), matrices, fill_mode, cval)
        return out.astype(dtype)
    raise TypeError('image transforms need a real-valued array, got dtype %s' % dtype)


def apply_transform(x, transform_matrix, channel_axis=0, fill_mode='nearest', cval=0.):
    """Applies an affine transformation to one image, channel by channel.

    Equivalent to `scipy.ndimage.affine_transform(channel,
    transform_matrix[:2, :2], offset=transform_matrix[:2, 2], order=0,
    mode=fill_mode, cval=cval)` on every channel (bit for bit).

    # Arguments
        x: image, a rank-3 array.
        transform_matrix: 3x3 matrix mapping output (row, col) coordinates
            to input coordinates.
        channel_axis: index of the channel axis of `x`.
        fill_mode: points outside the input are filled according to the given
            mode (one of `{'constant', 'nearest', 'reflect', 'wrap'}`, or
            scipy's 'mirror', 'grid-wrap', 'grid-mirror', 'grid-constant').
        cval: value used for points outside the input when
            `fill_mode='constant'`.

    # Returns
        The transformed image, same shape and dtype as `x`.
    """
    x = _check_image(x, 'apply_transform')
    matrix = np.asarray(transform_matrix, dtype=np.float64)
    if matrix.shape != (3, 3):
        raise ValueError('apply_transform expects a 3x3 transform_matrix, got shape %s'
                         % (matrix.shape,))
    channels_first = np.moveaxis(x, channel_axis, 0)
    out = _apply_transforms_cf(channels_first[np.newaxis], matrix[np.newaxis],
                               fill_mode, cval)[0]
    return np.moveaxis(out, 0, channel_axis)


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0,
                    fill_mode='nearest', cval=0.):
    """Performs a random rotation of a Numpy image tensor.

    # Arguments
        x: Input tensor. Must be 3D.
        rg: Rotation range, in degrees.
        row_axis: Index of axis for rows in the input tensor.
        col_axis: Index of axis for columns in the input tensor.
        channel_axis: Index of axis for channels in the input tensor.
        fill_mode: Points outside the boundaries of the input
            are filled according to the given mode
            (one of `{'constant', 'nearest', 'reflect', 'wrap'}`).
        cval: Value used for points outside the boundaries
            of the input if `mode='constant'`.

    # Returns
        Rotated Numpy image tensor.
    """
    x = _check_image(x, 'random_rotation')
    theta = np.pi / 180 * np.random.uniform(-rg, rg)
    rotation = np.array([[np.cos(theta), -np.sin(theta), 0],
                         [np.sin(theta), np.cos(theta), 0],
                         [0, 0, 1]])
    h, w = x.shape[row_axis], x.shape[col_axis]
    matrix = transform_matrix_offset_center(rotation, h, w)
    return apply_transform(x, matrix, channel_axis, fill_mode, cval)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0,
                 fill_mode='nearest', cval=0.):
    """Performs a random spatial shift of a Numpy image tensor.

    # Arguments
        x: Input tensor. Must be 3D.
        wrg: Width shift range, as a float fraction of the width.
        hrg: Height shift range, as a float fraction of the height.
        row_axis: Index of axis for rows in the input tensor.
        col_axis: Index of axis for columns in the input tensor.
        channel_axis: Index of axis for channels in the input tensor.
        fill_mode: Points outside the boundaries of the input
            are filled according to the given mode
            (one of `{'constant', 'nearest', 'reflect', 'wrap'}`).
        cval: Value used for points outside the boundaries
            of the input if `mode='constant'`.

    # Returns
        Shifted Numpy image tensor.
    """
    x = _check_image(x, 'random_shift')
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = np.random.uniform(-hrg, hrg) * h
    ty = np.random.uniform(-wrg, wrg) * w
    translation = np.array([[1, 0, tx],
                            [0, 1, ty],
                            [0, 0, 1]])
    # a translation needs no recentring
    return apply_transform(x, translation, channel_axis, fill_mode, cval)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0,
                 fill_mode='nearest', cval=0.):
    """Performs a random spatial shear of a Numpy image tensor.

    # Arguments
        x: Input tensor. Must be 3D.
        intensity: Transformation intensity (shear angle in radians).
        row_axis: Index of axis for rows in the input tensor.
        col_axis: Index of axis for columns in the input tensor.
        channel_axis: Index of axis for channels in the input tensor.
        fill_mode: Points outside the boundaries of the input
            are filled according to the given mode
            (one of `{'constant', 'nearest', 'reflect', 'wrap'}`).
        cval: Value used for points outside the boundaries
            of the input if `mode='constant'`.

    # Returns
        Sheared Numpy image tensor.
    """
    x = _check_image(x, 'random_shear')
    shear = np.random.uniform(-intensity, intensity)
    shear_matrix = np.array([[1, -np.sin(shear), 0],
                             [0, np.cos(shear), 0],
                             [0, 0, 1]])
    h, w = x.shape[row_axis], x.shape[col_axis]
    matrix = transform_matrix_offset_center(shear_matrix, h, w)
    return apply_transform(x, matrix, channel_axis, fill_mode, cval)


def _check_zoom_range(zoom_range, where):
    try:
        ok = len(zoom_range) == 2 and not isinstance(zoom_range, str) and \
            all(isinstance(z, (numbers.Real, np.number)) for z in zoom_range)
    except TypeError:
        ok = False
    if not ok:
        raise ValueError('%s: zoom_range must be a float z (zoom drawn from '
                         '[1 - z, 1 + z]) or a tuple/list of two floats (lower, upper); '
                         'got %r' % (where, zoom_range))


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0,
                fill_mode='nearest', cval=0.):
    """Performs a random spatial zoom of a Numpy image tensor.

    # Arguments
        x: Input tensor. Must be 3D.
        zoom_range: Tuple of floats; zoom range for width and height.
        row_axis: Index of axis for rows in the input tensor.
        col_axis: Index of axis for columns in the input tensor.
        channel_axis: Index of axis for channels in the input tensor.
        fill_mode: Points outside the boundaries of the input
            are filled according to the given mode
            (one of `{'constant', 'nearest', 'reflect', 'wrap'}`).
        cval: Value used for points outside the boundaries
            of the input if `mode='constant'`.

    # Returns
        Zoomed Numpy image tensor.

    # Raises
        ValueError: if `zoom_range` isn't a tuple of two floats.
    """
    _check_zoom_range(zoom_range, 'random_zoom')
    x = _check_image(x, 'random_zoom')
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = np.random.uniform(zoom_range[0], zoom_range[1], 2)
    zoom = np.array([[zx, 0, 0],
                     [0, zy, 0],
                     [0, 0, 1]])
    h, w = x.shape[row_axis], x.shape[col_axis]
    matrix = transform_matrix_offset_center(zoom, h, w)
    return apply_transform(x, matrix, channel_axis, fill_mode, cval)


def random_channel_shift(x, intensity, channel_axis=0):
    """Adds one random offset per channel, then clips to the image's range.

    # Arguments
        x: Input tensor. Must be 3D.
        intensity: offsets are drawn uniformly from [-intensity, intensity],
            one per channel, in channel order.
        channel_axis: Index of axis for channels in the input tensor.

    # Returns
        The shifted image, clipped to [min(x), max(x)].
    """
    x = _check_image(x, 'random_channel_shift')
    channels_first = np.moveaxis(x, channel_axis, 0)
    shifts = np.random.uniform(-intensity, intensity, channels_first.shape[0])
    out = _shift_channels(channels_first[np.newaxis], shifts[np.newaxis], 1)[0]
    return np.moveaxis(out, 0, channel_axis)


def _shift_channels(batch, shifts, channel_axis):
    """Adds shifts[i, c] to channel c of image i, clipping each image to its
    own [min, max]: Keras's random_channel_shift, for a whole batch."""
    # a Python float added to an array takes the array's float type
    dtype = np.result_type(batch.dtype, 1.0)
    shape = [1] * batch.ndim
    shape[0] = batch.shape[0]
    shape[channel_axis] = batch.shape[channel_axis]
    offsets = shifts.astype(dtype).reshape(shape)
    spatial = tuple(range(1, batch.ndim))
    lo = batch.min(axis=spatial, keepdims=True)
    hi = batch.max(axis=spatial, keepdims=True)
    return np.clip(batch + offsets, lo, hi)


def flip_axis(x, axis):
    """Reverses `x` along `axis` (a view, as in Keras).

    # Arguments
        x: Numpy array.
        axis: the axis to reverse.

    # Returns
        The flipped array.
    """
    return np.flip(np.asarray(x), axis)


# ---------------------------------------------------------------------------
# PIL conversions and files

def array_to_img(x, dim_ordering='default', scale=True):
    """Converts a 3D Numpy array to a PIL Image instance.

    # Arguments
        x: Input Numpy array.
        dim_ordering: Image data format ('th', 'tf' or 'default').
        scale: Whether to rescale image values
            to be within [0, 255].

    # Returns
        A PIL Image instance.

    # Raises
        ImportError: if Pillow is not available.
        ValueError: if invalid `x` or `dim_ordering` is passed.
    """
    pil_image = _pil_image()
    x = np.asarray(x, dtype=K.floatx())
    if x.ndim != 3:
        raise ValueError('array_to_img expects a single image, a rank-3 array; got an '
                         'array of shape %s' % (x.shape,))
    dim_ordering = _resolve_dim_ordering(dim_ordering, 'array_to_img')
    if dim_ordering == 'th':
        x = x.transpose(1, 2, 0)
    if scale:
        x = x + max(-np.min(x), 0)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    if x.shape[2] == 3:
        return pil_image.fromarray(x.astype('uint8'), 'RGB')
    if x.shape[2] == 1:
        return pil_image.fromarray(x[:, :, 0].astype('uint8'), 'L')
    raise ValueError('array_to_img supports 1 (grayscale) or 3 (RGB) channels, got %d '
                     '(array of shape %s, dim_ordering %r)'
                     % (x.shape[2], x.shape, dim_ordering))


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Keras 2: saves a 3D image array to a file (through Pillow).

    # Arguments
        path: the file to write.
        x: the image, rank 3.
        data_format: 'channels_first' or 'channels_last'; None means
            `K.image_data_format()`.
        file_format: Pillow's format name ('png', 'jpeg', ...); None means
            from the file name's extension.
        scale: whether to rescale the values to [0, 255] first (as
            `array_to_img`).
        kwargs: passed to Pillow's `Image.save`.
    """
    if data_format is None:
        data_format = K.image_data_format()
    if data_format not in ('channels_first', 'channels_last'):
        raise ValueError("save_img: data_format must be 'channels_first' or 'channels_last', "
                         "got %r" % (data_format,))
    img = array_to_img(x, K.dim_ordering_of(data_format), scale=scale)
    img.save(path, format=file_format, **kwargs)


def _brightness_shift(image, factor, channel_axis):
    """Keras 2.2's brightness change of one image: the image is scaled to
    0..255 and truncated to integers (its `array_to_img`), multiplied by
    `factor` by Pillow's Brightness enhancer (clipped to 0..255, truncated),
    and comes back as floats in 0..255, whatever its range before."""
    if image.shape[channel_axis - 1] not in (1, 3):
        raise ValueError('brightness_range needs images of 1 or 3 channels, got an image of '
                         'shape %s' % (image.shape,))
    x = image.astype('float32')
    x = x + max(-np.min(x), 0)
    x_max = np.max(x)
    if x_max != 0:
        x /= x_max
    x = np.floor(x * 255).astype('float32')
    return np.floor(np.clip(x * np.float32(factor), 0, 255)).astype(image.dtype)


def img_to_array(img, dim_ordering='default'):
    """Converts a PIL Image instance to a Numpy array.

    # Arguments
        img: PIL Image instance.
        dim_ordering: Image data format ('th', 'tf' or 'default').

    # Returns
        A 3D float32 Numpy array: (channels, rows, cols) for 'th',
        (rows, cols, channels) for 'tf'.

    # Raises
        ValueError: if invalid `img` or `dim_ordering` is passed.
    """
    dim_ordering = _resolve_dim_ordering(dim_ordering, 'img_to_array')
    x = np.asarray(img, dtype=K.floatx())
    if x.ndim == 3:
        if dim_ordering == 'th':
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        if dim_ordering == 'th':
            x = x.reshape((1, x.shape[0], x.shape[1]))
        else:
            x = x.reshape((x.shape[0], x.shape[1], 1))
    else:
        raise ValueError('img_to_array: unsupported image shape %s (expected 2 or 3 '
                         'dimensions)' % (x.shape,))
    return x


def load_img(path, grayscale=False, target_size=None):
    """Loads an image into PIL format.

    # Arguments
        path: Path to image file
        grayscale: Boolean, whether to load the image as grayscale.
        target_size: Either `None` (default to original size)
            or tuple of ints `(img_height, img_width)`. Resizing uses
            nearest-neighbour sampling, Pillow's default in Keras 1.2.2's day.

    # Returns
        A PIL Image instance ('L' mode if grayscale, else 'RGB').

    # Raises
        ImportError: if Pillow is not available.
    """
    pil_image = _pil_image()
    img = pil_image.open(path)
    if grayscale:
        img = img.convert('L')
    else:  # three channels even when the file is grayscale
        img = img.convert('RGB')
    if target_size:
        nearest = getattr(pil_image, 'Resampling', pil_image).NEAREST
        img = img.resize((target_size[1], target_size[0]), nearest)
    return img


def list_pictures(directory, ext='jpg|jpeg|bmp|png'):
    """Lists the picture files under a directory, recursively.

    # Arguments
        directory: root directory.
        ext: alternatives of file extensions, as a regular expression.

    # Returns
        Paths (joined to `directory`) of files whose name is word characters,
        a dot and one of the extensions (case-sensitive, as in Keras).
    """
    pattern = re.compile(r'([\w]+\.(?:' + ext + '))')
    return [os.path.join(root, f)
            for root, _, files in os.walk(directory) for f in files
            if pattern.match(f)]


# ---------------------------------------------------------------------------
# The generator

class ImageDataGenerator(object):
    """Generate minibatches of image data with real-time data augmentation.

    # Arguments
        featurewise_center: set input mean to 0 over the dataset.
        samplewise_center: set each sample mean to 0. As in Keras 1.2.2 the
            mean is taken over the channel axis only (per pixel), so a
            one-channel image becomes all zeros.
        featurewise_std_normalization: divide inputs by std of the dataset.
        samplewise_std_normalization: divide each input by its std (over
            the channel axis, as samplewise_center).
        zca_whitening: apply ZCA whitening.
        rotation_range: degrees (0 to 180).
        width_shift_range: fraction of total width.
        height_shift_range: fraction of total height.
        shear_range: shear intensity (shear angle in radians).
        zoom_range: amount of zoom. if scalar z, zoom will be randomly picked
            in the range [1-z, 1+z]. A sequence of two can be passed instead
            to select this range.
        channel_shift_range: shift range for each channels.
        fill_mode: points outside the boundaries are filled according to the
            given mode ('constant', 'nearest', 'reflect' or 'wrap', with
            scipy.ndimage's meanings). Default is 'nearest'.
        cval: value used for points outside the boundaries when fill_mode is
            'constant'. Default is 0.
        horizontal_flip: whether to randomly flip images horizontally.
        vertical_flip: whether to randomly flip images vertically.
        rescale: rescaling factor. If None or 0, no rescaling is applied,
            otherwise we multiply the data by the value provided. As in
            Keras 1.2.2, this happens in `standardize`, after the random
            transformation.
        preprocessing_function: function applied to each input (a rank-3
            array) at the start of `standardize`; must return an array of
            the same shape.
        dim_ordering: 'th' (channels at index 1) or 'tf' (channels at
            index 3). 'default' means `backend.image_dim_ordering()`.
        zca_epsilon: added to the singular values in ZCA whitening (Keras
            1.2.2's fixed 1e-6 by default).
        brightness_range: Keras 2: (low, high); each image's brightness is
            multiplied by a factor drawn uniformly from it, as Keras 2.2 did
            (the image comes back scaled to 0..255; see `_brightness_shift`).
        validation_split: Keras 2: the fraction of the data `flow(subset=
            'validation')` serves (the first samples); `subset='training'`
            serves the rest.

    Keras 2's `data_format` is accepted for `dim_ordering` (such a call
    defaults to `K.image_data_format()`).
    """

    @keras2.keras2_arguments(keras2.IMAGE_DATA_GENERATOR)
    def __init__(self,
                 featurewise_center=False,
                 samplewise_center=False,
                 featurewise_std_normalization=False,
                 samplewise_std_normalization=False,
                 zca_whitening=False,
                 rotation_range=0.,
                 width_shift_range=0.,
                 height_shift_range=0.,
                 shear_range=0.,
                 zoom_range=0.,
                 channel_shift_range=0.,
                 fill_mode='nearest',
                 cval=0.,
                 horizontal_flip=False,
                 vertical_flip=False,
                 rescale=None,
                 preprocessing_function=None,
                 dim_ordering='default',
                 zca_epsilon=_ZCA_EPSILON,
                 brightness_range=None,
                 validation_split=0.0):
        dim_ordering = _resolve_dim_ordering(dim_ordering, 'ImageDataGenerator')
        if brightness_range is not None:
            try:
                low, high = brightness_range
            except (TypeError, ValueError):
                raise ValueError('ImageDataGenerator: brightness_range must be a (low, high) '
                                 'pair, got %r' % (brightness_range,))
            brightness_range = (float(low), float(high))
        if not 0. <= validation_split < 1.:
            raise ValueError('ImageDataGenerator: validation_split must be in [0, 1), got %r'
                             % (validation_split,))
        self.zca_epsilon = zca_epsilon
        self.brightness_range = brightness_range
        self.validation_split = validation_split
        fill_mode_code(fill_mode)  # an unknown mode fails here, not at the first batch
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = shear_range
        self.channel_shift_range = channel_shift_range
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function

        self.dim_ordering = dim_ordering
        if dim_ordering == 'th':
            self.channel_axis, self.row_axis, self.col_axis = 1, 2, 3
        else:
            self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2

        self.mean = None
        self.std = None
        self.principal_components = None

        if isinstance(zoom_range, (numbers.Real, np.number)) and \
                not isinstance(zoom_range, bool):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        else:
            _check_zoom_range(zoom_range, 'ImageDataGenerator')
            self.zoom_range = [zoom_range[0], zoom_range[1]]

    # -- iterators ---------------------------------------------------------

    @keras0.legacy_arguments(keras0.flow_arguments)
    def flow(self, X, y=None, batch_size=32, shuffle=True, seed=None,
             save_to_dir=None, save_prefix='', save_format='jpeg', one_pass=False, subset=None):
        """Iterates over augmented, standardized batches of a Numpy array.

        # Arguments
            X: images, a rank-4 array in this generator's dim_ordering.
            y: labels (same length as X), or None to get batches of X only.
            batch_size: images per batch; the last batch of an epoch holds
                the remainder.
            shuffle: whether to shuffle the order at each epoch (Keras 0.3's
                default, under `MINIKERAS_KERAS_VERSION=0.3`, is False).
            seed: random seed. As in Keras 1.2.2 the global `np.random`
                state is reseeded with `seed + total_batches_seen` before
                every batch.
            save_to_dir: a directory in which to save the augmented images
                (for inspection), or None.
            save_prefix: file name prefix for saved images.
            save_format: 'jpeg' or 'png'.
            one_pass: serve the data once, then raise StopIteration (until
                `reset()`), as Keras 0.3's generator did for
                `for X_batch, Y_batch in datagen.flow(X, Y)`; the default
                under `MINIKERAS_KERAS_VERSION=0.3`.
            subset: Keras 2: 'validation' (the first `validation_split` of
                the samples) or 'training' (the others); None for all.

        # Returns
            A `NumpyArrayIterator`, yielding `(x_batch, y_batch)` (or
            `x_batch` when y is None), endlessly unless `one_pass`.
        """
        if subset is not None:
            if subset not in ('training', 'validation'):
                raise ValueError("flow: subset must be 'training' or 'validation', got %r"
                                 % (subset,))
            split = int(len(X) * self.validation_split)
            part = slice(None, split) if subset == 'validation' else slice(split, None)
            X = X[part]
            y = y[part] if y is not None else None
        return NumpyArrayIterator(
            X, y, self,
            batch_size=batch_size, shuffle=shuffle, seed=seed,
            dim_ordering=self.dim_ordering,
            save_to_dir=save_to_dir, save_prefix=save_prefix,
            save_format=save_format, one_pass=one_pass)

    def flow_from_directory(self, directory,
                            target_size=(256, 256), color_mode='rgb',
                            classes=None, class_mode='categorical',
                            batch_size=32, shuffle=True, seed=None,
                            save_to_dir=None, save_prefix='', save_format='jpeg',
                            follow_links=False, subset=None):
        """Iterates over augmented batches of the images in a directory tree.

        # Arguments
            directory: path with one subdirectory per class, holding PNG,
                JPG, BMP or JPEG images (searched recursively).
            target_size: (height, width) the images are resized to.
            color_mode: 'rgb' (3 channels) or 'grayscale' (1 channel).
            classes: optional list of subdirectory names, which fixes the
                class indices; by default all subdirectories, sorted.
            class_mode: 'categorical' (one-hot float32), 'binary' (float32
                0/1), 'sparse' (int32 indices) or None (images only).
            batch_size: images per batch.
            shuffle: whether to shuffle the order at each epoch.
            seed: random seed (see `flow`).
            save_to_dir: directory to save the augmented images to, or None.
            save_prefix: file name prefix for saved images.
            save_format: 'jpeg' or 'png'.
            follow_links: whether to follow symbolic links to subdirectories.
            subset: Keras 2: 'validation' (the first `validation_split` of
                each class's files, in name order) or 'training' (the others);
                None for all.

        # Returns
            A `DirectoryIterator` (endless).
        """
        split = None
        if subset is not None:
            if subset not in ('training', 'validation'):
                raise ValueError("flow_from_directory: subset must be 'training' or "
                                 "'validation', got %r" % (subset,))
            split = (0., self.validation_split) if subset == 'validation' else \
                (self.validation_split, 1.)
        return DirectoryIterator(
            directory, self,
            target_size=target_size, color_mode=color_mode,
            classes=classes, class_mode=class_mode,
            dim_ordering=self.dim_ordering,
            batch_size=batch_size, shuffle=shuffle, seed=seed,
            save_to_dir=save_to_dir, save_prefix=save_prefix,
            save_format=save_format, follow_links=follow_links, split=split)

    # -- standardization ---------------------------------------------------

    def standardize(self, x):
        """Applies the normalization configuration to one image.

        As in Keras 1.2.2, a float `x` is modified in place (except for ZCA
        whitening, which makes a new array); use the returned array.

        # Arguments
            x: one image, a rank-3 array.

        # Returns
            The standardized image.
        """
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError('ImageDataGenerator.standardize expects a single image, a '
                             'rank-3 array; got an array of shape %s' % (x.shape,))
        return self._standardize(x, single=True)

    def _standardize_batch(self, batch):
        return self._standardize(batch, single=False)

    def _standardize(self, x, single):
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(K.floatx())
        if self.preprocessing_function:
            if single:
                x = self.preprocessing_function(x)
            else:
                x = np.stack([np.asarray(self.preprocessing_function(xi)) for xi in x])
            x = np.asarray(x)
            if not np.issubdtype(x.dtype, np.floating):
                x = x.astype(K.floatx())
        if self.rescale:
            x *= self.rescale
        channel_axis = self.channel_axis - 1 if single else self.channel_axis
        if self.samplewise_center:
            x -= np.mean(x, axis=channel_axis, keepdims=True)
        if self.samplewise_std_normalization:
            x /= (np.std(x, axis=channel_axis, keepdims=True) + _STANDARDIZE_EPSILON)

        if self.featurewise_center:
            if self.mean is not None:
                x -= self.mean
            else:
                warnings.warn('This ImageDataGenerator specifies `featurewise_center`, '
                              'but it hasn\'t been fit on any training data. Fit it '
                              'first by calling `.fit(numpy_data)`.')
        if self.featurewise_std_normalization:
            if self.std is not None:
                x /= (self.std + _STANDARDIZE_EPSILON)
            else:
                warnings.warn('This ImageDataGenerator specifies '
                              '`featurewise_std_normalization`, but it hasn\'t been fit '
                              'on any training data. Fit it first by calling '
                              '`.fit(numpy_data)`.')
        if self.zca_whitening:
            if self.principal_components is not None:
                if single:
                    flat = np.reshape(x, (x.size,))
                else:
                    flat = np.reshape(x, (x.shape[0], -1))
                x = np.reshape(np.dot(flat, self.principal_components), x.shape)
            else:
                warnings.warn('This ImageDataGenerator specifies `zca_whitening`, but '
                              'it hasn\'t been fit on any training data. Fit it first '
                              'by calling `.fit(numpy_data)`.')
        return x

    # -- random transformation --------------------------------------------

    def random_transform(self, x):
        """Randomly augments one image.

        Draws the parameters from the global `np.random` state, in Keras
        1.2.2's order, and applies them as Keras 1.2.2 did.

        # Arguments
            x: one image, a rank-3 array in this generator's dim_ordering.

        # Returns
            The transformed image (a new array).
        """
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError('ImageDataGenerator.random_transform expects a single image, '
                             'a rank-3 array; got an array of shape %s' % (x.shape,))
        return self._transform_batch(x[np.newaxis])[0]

    def _draw_parameters(self, n, h, w, c):
        """Draws the random parameters of n images, image after image, in
        Keras 1.2.2's order. Each draw Keras made, `np.random.uniform(lo, hi)`
        or `np.random.random()`, consumes one double `u` of the global stream
        and returns `lo + (hi - lo) * u`; drawing all of them with one
        `random_sample` call and applying that formula reproduces them bit
        for bit."""
        columns = {}
        k = 0

        def take(name, width=1):
            nonlocal k
            columns[name] = (k, k + width)
            k += width

        if self.rotation_range:
            take('theta')
        if self.height_shift_range:
            take('tx')
        if self.width_shift_range:
            take('ty')
        if self.shear_range:
            take('shear')
        zoom_lo, zoom_hi = self.zoom_range
        if not (zoom_lo == 1 and zoom_hi == 1):
            take('zoom', 2)
        if self.channel_shift_range != 0:
            take('channel', c)
        if self.horizontal_flip:
            take('hflip')
        if self.vertical_flip:
            take('vflip')
        if self.brightness_range is not None:
            take('brightness')

        draws = np.random.random_sample((n, k)) if k else np.empty((n, 0))

        def uniform(name, lo, hi):
            a, b = columns[name]
            u = draws[:, a:b]
            u = u[:, 0] if b - a == 1 else u
            return lo + (hi - lo) * u

        params = {}
        if 'theta' in columns:
            r = self.rotation_range
            params['theta'] = np.pi / 180 * uniform('theta', -r, r)
        if 'tx' in columns:
            r = self.height_shift_range
            params['tx'] = uniform('tx', -r, r) * h
        if 'ty' in columns:
            r = self.width_shift_range
            params['ty'] = uniform('ty', -r, r) * w
        if 'shear' in columns:
            r = self.shear_range
            params['shear'] = uniform('shear', -r, r)
        if 'zoom' in columns:
            z = uniform('zoom', zoom_lo, zoom_hi)
            params['zx'], params['zy'] = z[:, 0], z[:, 1]
        if 'channel' in columns:
            r = self.channel_shift_range
            a, b = columns['channel']
            params['channel'] = -r + (r - -r) * draws[:, a:b]
        if 'hflip' in columns:
            params['hflip'] = uniform('hflip', 0.0, 1.0) < 0.5
        if 'vflip' in columns:
            params['vflip'] = uniform('vflip', 0.0, 1.0) < 0.5
        if 'brightness' in columns:
            params['brightness'] = uniform('brightness', *self.brightness_range)
        return params

    def _draws_keras_2(self):
        """Whether this generator draws as Keras 2.2.4 did (made by a Keras 2
        call, or in a Keras 2 script)."""
        return bool(getattr(self, 'keras_2_call', False))

    def _draw_parameters_keras_2(self, n, h, w, c):
        """Draws the random parameters of n images, image after image, as
        Keras 2.2.4 (keras_preprocessing 1.0.5's `get_random_transform`) did:
        rotation, height shift, width shift, shear, zoom x and y, then a
        horizontal and a vertical flip draw whether or not flips are on, one
        channel-shift intensity for all channels, brightness. A shift range
        that is an int or a list draws `np.random.choice` of it, then a sign;
        a float draws a uniform; below 1 it is a fraction of the image size,
        otherwise pixels. Angles (rotation, shear) are in degrees."""
        zoom_lo, zoom_hi = self.zoom_range
        drawn = []
        for _ in range(n):
            image = {}
            if self.rotation_range:
                image['theta'] = np.random.uniform(-self.rotation_range, self.rotation_range)
            if self.height_shift_range:
                image['tx'] = _keras_2_shift(self.height_shift_range, h)
            if self.width_shift_range:
                image['ty'] = _keras_2_shift(self.width_shift_range, w)
            if self.shear_range:
                image['shear'] = np.random.uniform(-self.shear_range, self.shear_range)
            if not (zoom_lo == 1 and zoom_hi == 1):
                image['zx'], image['zy'] = np.random.uniform(zoom_lo, zoom_hi, 2)
            image['hflip'] = bool(np.random.random() < 0.5) and bool(self.horizontal_flip)
            image['vflip'] = bool(np.random.random() < 0.5) and bool(self.vertical_flip)
            if self.channel_shift_range != 0:
                image['channel'] = np.random.uniform(-self.channel_shift_range,
                                                     self.channel_shift_range)
            if self.brightness_range is not None:
                image['brightness'] = np.random.uniform(*self.brightness_range)
            drawn.append(image)
        params = {}
        for key in ('theta', 'tx', 'ty', 'shear', 'zx', 'zy', 'hflip', 'vflip', 'brightness'):
            if drawn and key in drawn[0]:
                params[key] = np.array([image[key] for image in drawn])
        for key in ('theta', 'shear'):
            if key in params:
                params[key] = np.deg2rad(params[key])
        if drawn and 'channel' in drawn[0]:
            params['channel'] = np.repeat(np.array([[image['channel']] for image in drawn]),
                                          c, axis=1)
        return params

    def _has_geometry(self):
        return bool(self.rotation_range or self.height_shift_range or
                    self.width_shift_range or self.shear_range or
                    not (self.zoom_range[0] == 1 and self.zoom_range[1] == 1))

    def _transform_matrices(self, params, n, h, w):
        """Keras 1.2.2's composed matrix, rotation @ translation @ shear @
        zoom recentred on the image, for n images at once."""
        def stack(entries):
            m = np.zeros((n, 3, 3))
            for (i, j), value in entries.items():
                m[:, i, j] = value
            return m

        theta = params.get('theta', np.zeros(n))
        shear = params.get('shear', np.zeros(n))
        rotation = stack({(0, 0): np.cos(theta), (0, 1): -np.sin(theta),
                          (1, 0): np.sin(theta), (1, 1): np.cos(theta), (2, 2): 1})
        translation = stack({(0, 0): 1, (0, 2): params.get('tx', 0),
                             (1, 1): 1, (1, 2): params.get('ty', 0), (2, 2): 1})
        shear_m = stack({(0, 0): 1, (0, 1): -np.sin(shear),
                         (1, 1): np.cos(shear), (2, 2): 1})
        zoom = stack({(0, 0): params.get('zx', 1), (1, 1): params.get('zy', 1), (2, 2): 1})
        matrix = np.matmul(np.matmul(np.matmul(rotation, translation), shear_m), zoom)
        o_x = float(h) / 2 + 0.5
        o_y = float(w) / 2 + 0.5
        offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
        reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
        return np.matmul(np.matmul(offset, matrix), reset)

    def _transform_batch(self, batch):
        """Randomly augments a batch (rank 4, this generator's ordering):
        the parameters of all images are drawn first, image after image as
        `random_transform` would, then one kernel call resamples the batch."""
        batch = np.asarray(batch)
        if not np.issubdtype(batch.dtype, np.floating):
            batch = batch.astype(K.floatx())
        n = batch.shape[0]
        h = batch.shape[self.row_axis]
        w = batch.shape[self.col_axis]
        c = batch.shape[self.channel_axis]
        draw = self._draw_parameters_keras_2 if self._draws_keras_2() else \
            self._draw_parameters
        params = draw(n, h, w, c)
        if n == 0:
            return batch.copy()

        if self._has_geometry():
            matrices = self._transform_matrices(params, n, h, w)
            if self.dim_ordering == 'th':
                out = _apply_transforms_cf(np.ascontiguousarray(batch), matrices,
                                           self.fill_mode, self.cval)
            else:
                cf = np.ascontiguousarray(batch.transpose(0, 3, 1, 2))
                out = _apply_transforms_cf(cf, matrices, self.fill_mode, self.cval)
                out = np.ascontiguousarray(out.transpose(0, 2, 3, 1))
        else:
            # Keras still resamples through an identity matrix, which copies
            out = batch.copy()

        if 'channel' in params:
            out = _shift_channels(out, params['channel'], self.channel_axis)
        if 'hflip' in params:
            flipped = np.nonzero(params['hflip'])[0]
            if flipped.size:
                out[flipped] = np.flip(out[flipped], self.col_axis)
        if 'vflip' in params:
            flipped = np.nonzero(params['vflip'])[0]
            if flipped.size:
                out[flipped] = np.flip(out[flipped], self.row_axis)
        if 'brightness' in params:
            for i, factor in enumerate(params['brightness']):
                out[i] = _brightness_shift(out[i], factor, self.channel_axis)
        return out

    # -- statistics ----------------------------------------------------------

    def fit(self, X, augment=False, rounds=1, seed=None):
        """Computes the data statistics that featurewise_center,
        featurewise_std_normalization and zca_whitening need.

        # Arguments
            X: Numpy array, the data to fit on. Should have rank 4.
                In case of grayscale data,
                the channels axis should have value 1, and in case
                of RGB data, it should have value 3.
            augment: Whether to fit on randomly augmented samples
            rounds: If `augment`,
                how many augmentation passes to do over the data
            seed: random seed (seeds the global `np.random` state).

        # Raises
            ValueError: in case of invalid input `X`.
        """
        X = np.asarray(X, dtype=K.floatx())
        if X.ndim != 4:
            raise ValueError('ImageDataGenerator.fit expects a rank-4 array of images '
                             '(samples, %s); got an array of shape %s'
                             % ('channels, rows, cols' if self.dim_ordering == 'th'
                                else 'rows, cols, channels', X.shape))
        if X.shape[self.channel_axis] not in (1, 3, 4):
            raise ValueError(
                'ImageDataGenerator.fit: expected images following the dim_ordering '
                'convention "%s" (channels on axis %d), i.e. 1, 3 or 4 channels on axis '
                '%d; got an array of shape %s (%d channels)'
                % (self.dim_ordering, self.channel_axis, self.channel_axis, X.shape,
                   X.shape[self.channel_axis]))
        if seed is not None:
            np.random.seed(seed)

        X = np.copy(X)
        if augment:
            X = np.concatenate([self._transform_batch(X) for _ in range(rounds)], axis=0)

        stat_axes = (0, self.row_axis, self.col_axis)
        broadcast_shape = [1, 1, 1]
        broadcast_shape[self.channel_axis - 1] = X.shape[self.channel_axis]
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(X, axis=stat_axes), broadcast_shape)
            X -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(X, axis=stat_axes), broadcast_shape)
            X /= (self.std + K.epsilon())
        if self.zca_whitening:
            flat = np.reshape(X, (X.shape[0], -1))
            sigma = np.dot(flat.T, flat) / flat.shape[0]
            u, s, _ = np.linalg.svd(sigma)
            scale = 1. / np.sqrt(s + self.zca_epsilon)
            self.principal_components = np.dot(u * scale, u.T)


# ---------------------------------------------------------------------------
# Iterators

def _keras_2_shift(shift_range, size):
    """One shift as keras_preprocessing 1.0.5 drew it (see
    `_draw_parameters_keras_2`)."""
    try:
        shift = np.random.choice(shift_range)
        shift *= np.random.choice([-1, 1])
    except ValueError:      # a float range: np.random.choice refuses it before drawing
        shift = np.random.uniform(-shift_range, shift_range)
    if np.max(shift_range) < 1:
        shift *= size
    return shift


class Iterator(object):
    """Thread-safe iterator over the batch indices of `n` samples.

    Keras 1.2.2's ordering: batches of `batch_size` consecutive indices of
    the current epoch's order, the last one holding the remainder; a new
    order (a permutation when `shuffle`) is drawn whenever `batch_index`
    comes back to 0. When a `seed` is given, the global `np.random` state is
    reseeded with `seed + total_batches_seen` before every batch, which also
    fixes the augmentation of that batch. As in Keras 1.2.2, when `n` is a
    multiple of `batch_size` the index wraps around without returning to 0,
    so the first epoch's order is kept.

    # Arguments
        n: number of samples.
        batch_size: samples per batch.
        shuffle: whether to shuffle the order.
        seed: random seed, or None.
        one_pass: when True (Keras 0.3's `flow`), serve the samples once,
            in an order shuffled once, then raise StopIteration.
    """

    def __init__(self, n, batch_size, shuffle, seed, one_pass=False):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError('batch_size must be a positive integer, got %r' % (batch_size,))
        self.n = int(n)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = seed
        self.one_pass = one_pass
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_generator = self._new_index_generator()

    @property
    def N(self):
        """Number of samples (Keras 1.0/1.1's name for `n`)."""
        return self.n

    def __len__(self):
        """Batches per epoch, as Keras 2's iterators (Sequences) had it: so
        `fit_generator(datagen.flow(...))` needs no `steps_per_epoch`."""
        return (self.n + self.batch_size - 1) // self.batch_size

    def _new_index_generator(self):
        if self.one_pass:
            return self._one_pass_index(self.n, self.batch_size, self.shuffle, self.seed)
        return self._flow_index(self.n, self.batch_size, self.shuffle, self.seed)

    def reset(self):
        """Starts a new epoch at the next batch (a new pass, for a one-pass
        iterator)."""
        self.batch_index = 0
        if self.one_pass:
            with self.lock:
                self.index_generator = self._new_index_generator()

    def _flow_index(self, n, batch_size=32, shuffle=False, seed=None):
        self.reset()
        order = None
        while True:
            if seed is not None:
                np.random.seed(seed + self.total_batches_seen)
            if self.batch_index == 0:
                order = np.random.permutation(n) if shuffle else np.arange(n)
            start = (self.batch_index * batch_size) % n
            # Keras 2.2.4 starts a new epoch (a new order) after a full last
            # batch too; Keras 1.2.2 wrapped around in the same order.
            if start + batch_size < n or (start + batch_size == n and
                                          not getattr(self, 'keras_2_epochs', False)):
                size = batch_size
                self.batch_index += 1
            else:
                size = n - start
                self.batch_index = 0
            self.total_batches_seen += 1
            yield order[start:start + size], start, size

    def _one_pass_index(self, n, batch_size, shuffle, seed):
        self.batch_index = 0
        if shuffle:
            if seed is not None:
                np.random.seed(seed)
            order = np.random.permutation(n)
        else:
            order = np.arange(n)
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            self.batch_index = 0 if start + size >= n else self.batch_index + 1
            self.total_batches_seen += 1
            yield order[start:start + size], start, size

    def _next_indices(self):
        if self.n == 0:
            raise ValueError('%s has no samples to iterate over (n=0)'
                             % type(self).__name__)
        with self.lock:
            return next(self.index_generator)

    def __iter__(self):
        # needed for `for x, y in datagen.flow(...)`
        return self

    def __next__(self, *args, **kwargs):
        return self.next(*args, **kwargs)

    def next(self):
        raise NotImplementedError


def _process_batch(generator, batch):
    """random_transform then standardize, for every image of the batch.
    The batched path is used unless a subclass overrides either method,
    in which case each image goes through the overrides as in Keras."""
    cls = type(generator)
    if (isinstance(generator, ImageDataGenerator) and
            cls.random_transform is ImageDataGenerator.random_transform and
            cls.standardize is ImageDataGenerator.standardize):
        return generator._standardize_batch(generator._transform_batch(batch))
    out = np.zeros(batch.shape, dtype=K.floatx())
    for i in range(batch.shape[0]):
        x = generator.random_transform(batch[i])
        out[i] = generator.standardize(x)
    return out


def _save_batch(batch_x, current_index, dim_ordering, save_to_dir, save_prefix,
                save_format):
    for i in range(batch_x.shape[0]):
        img = array_to_img(batch_x[i], dim_ordering, scale=True)
        fname = '{prefix}_{index}_{hash}.{format}'.format(
            prefix=save_prefix, index=current_index + i,
            hash=np.random.randint(10000), format=save_format)
        img.save(os.path.join(save_to_dir, fname))


class NumpyArrayIterator(Iterator):
    """Iterator over augmented batches of a Numpy array (see
    `ImageDataGenerator.flow`).

    # Arguments
        x: images, rank 4.
        y: labels, same length as x, or None.
        image_data_generator: the `ImageDataGenerator` that augments and
            standardizes each batch.
        batch_size: images per batch.
        shuffle: whether to shuffle the order at each epoch.
        seed: random seed.
        dim_ordering: 'th', 'tf' or 'default'.
        save_to_dir: directory to save augmented images to, or None.
        save_prefix: file name prefix for saved images.
        save_format: 'jpeg' or 'png'.
        one_pass: serve the data once then stop (Keras 0.3's `flow`).
    """

    def __init__(self, x, y, image_data_generator,
                 batch_size=32, shuffle=False, seed=None,
                 dim_ordering='default',
                 save_to_dir=None, save_prefix='', save_format='jpeg',
                 one_pass=False):
        if y is not None and len(x) != len(y):
            raise ValueError('flow: X (images) and y (labels) must have the same length; '
                             'got len(X) = %d, len(y) = %d (X.shape = %s, y.shape = %s)'
                             % (len(x), len(y), np.shape(x), np.shape(y)))
        dim_ordering = _resolve_dim_ordering(dim_ordering, 'NumpyArrayIterator')
        self.x = np.asarray(x, dtype=K.floatx())
        if self.x.ndim != 4:
            raise ValueError('flow: X must be a rank-4 array of images (samples, %s); got '
                             'an array of shape %s'
                             % ('channels, rows, cols' if dim_ordering == 'th'
                                else 'rows, cols, channels', self.x.shape))
        channels_axis = 3 if dim_ordering == 'tf' else 1
        if self.x.shape[channels_axis] not in (1, 3, 4):
            raise ValueError(
                'flow: expected images following the dim_ordering convention "%s" '
                '(channels on axis %d), i.e. 1, 3 or 4 channels on axis %d; got an array '
                'of shape %s (%d channels)'
                % (dim_ordering, channels_axis, channels_axis, self.x.shape,
                   self.x.shape[channels_axis]))
        self.y = np.asarray(y) if y is not None else None
        self.image_data_generator = image_data_generator
        self.dim_ordering = dim_ordering
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        self.keras_2_epochs = bool(getattr(image_data_generator, "keras_2_call", False))
        super(NumpyArrayIterator, self).__init__(self.x.shape[0], batch_size, shuffle,
                                                 seed, one_pass=one_pass)

    def next(self):
        """Returns the next batch: `(x_batch, y_batch)`, or `x_batch` when
        the iterator has no labels."""
        # only the index bookkeeping runs under the lock; the augmentation
        # of different batches may proceed in parallel threads
        index_array, current_index, current_batch_size = self._next_indices()
        batch_x = _process_batch(self.image_data_generator, self.x[index_array])
        if self.save_to_dir:
            _save_batch(batch_x, current_index, self.dim_ordering, self.save_to_dir,
                        self.save_prefix, self.save_format)
        if self.y is None:
            return batch_x
        return batch_x, self.y[index_array]


class DirectoryIterator(Iterator):
    """Iterator over augmented batches of images read from a directory tree
    with one subdirectory per class (see
    `ImageDataGenerator.flow_from_directory`).

    Attributes: `filenames` (paths relative to `directory`, class by class,
    each class's files sorted), `classes` (int32 class index of each file),
    `class_indices` (name -> index), `nb_sample`, `nb_class`, `image_shape`.

    # Arguments
        directory: root directory.
        image_data_generator: the `ImageDataGenerator` to apply.
        target_size: (height, width) of the loaded images.
        color_mode: 'rgb' or 'grayscale'.
        dim_ordering: 'th', 'tf' or 'default'.
        classes: optional list of class subdirectory names.
        class_mode: 'categorical', 'binary', 'sparse' or None.
        batch_size: images per batch.
        shuffle: whether to shuffle the order at each epoch.
        seed: random seed.
        save_to_dir: directory to save augmented images to, or None.
        save_prefix: file name prefix for saved images.
        save_format: 'jpeg' or 'png'.
        follow_links: whether to follow symbolic links.
    """

    def __init__(self, directory, image_data_generator,
                 target_size=(256, 256), color_mode='rgb',
                 dim_ordering='default',
                 classes=None, class_mode='categorical',
                 batch_size=32, shuffle=True, seed=None,
                 save_to_dir=None, save_prefix='', save_format='jpeg',
                 follow_links=False, split=None):
        dim_ordering = _resolve_dim_ordering(dim_ordering, 'DirectoryIterator')
        if color_mode not in ('rgb', 'grayscale'):
            raise ValueError('flow_from_directory: color_mode must be "rgb" or '
                             '"grayscale", got %r' % (color_mode,))
        if class_mode not in ('categorical', 'binary', 'sparse', None):
            raise ValueError('flow_from_directory: class_mode must be "categorical", '
                             '"binary", "sparse" or None, got %r' % (class_mode,))
        if not os.path.isdir(directory):
            raise ValueError('flow_from_directory: %r is not a directory' % (directory,))
        self.directory = directory
        self.image_data_generator = image_data_generator
        self.target_size = tuple(target_size)
        self.color_mode = color_mode
        self.dim_ordering = dim_ordering
        channels = 3 if color_mode == 'rgb' else 1
        if dim_ordering == 'tf':
            self.image_shape = self.target_size + (channels,)
        else:
            self.image_shape = (channels,) + self.target_size
        self.class_mode = class_mode
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format

        if not classes:
            classes = sorted(d for d in os.listdir(directory)
                             if os.path.isdir(os.path.join(directory, d)))
        classes = list(classes)
        self.nb_class = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))

        filenames = []
        labels = []
        for subdir in classes:
            subpath = os.path.join(directory, subdir)
            walk = sorted(os.walk(subpath, followlinks=follow_links), key=lambda t: t[0])
            found = [os.path.relpath(os.path.join(root, fname), directory)
                     for root, _, files in walk for fname in sorted(files)
                     if fname.lower().endswith(tuple('.' + e for e in _WHITE_LIST_FORMATS))]
            if split is not None:
                # Keras 2's validation_split: a fraction of each class's files.
                found = found[int(split[0] * len(found)):int(split[1] * len(found))]
            filenames.extend(found)
            labels.extend([self.class_indices[subdir]] * len(found))
        self.filenames = filenames
        self.classes = np.array(labels, dtype='int32')
        self.nb_sample = len(filenames)
        print('Found %d images belonging to %d classes.' % (self.nb_sample, self.nb_class))
        self.keras_2_epochs = bool(getattr(image_data_generator, "keras_2_call", False))
        super(DirectoryIterator, self).__init__(self.nb_sample, batch_size, shuffle, seed)

    def next(self):
        """Returns the next batch: `(x_batch, y_batch)`, or `x_batch` when
        class_mode is None."""
        index_array, current_index, current_batch_size = self._next_indices()
        grayscale = self.color_mode == 'grayscale'
        batch = np.zeros((current_batch_size,) + self.image_shape, dtype=K.floatx())
        for i, j in enumerate(index_array):
            img = load_img(os.path.join(self.directory, self.filenames[j]),
                           grayscale=grayscale, target_size=self.target_size)
            batch[i] = img_to_array(img, dim_ordering=self.dim_ordering)
        batch_x = _process_batch(self.image_data_generator, batch)
        if self.save_to_dir:
            _save_batch(batch_x, current_index, self.dim_ordering, self.save_to_dir,
                        self.save_prefix, self.save_format)
        labels = self.classes[index_array]
        if self.class_mode == 'sparse':
            return batch_x, labels
        if self.class_mode == 'binary':
            return batch_x, labels.astype(K.floatx())
        if self.class_mode == 'categorical':
            batch_y = np.zeros((len(batch_x), self.nb_class), dtype=K.floatx())
            batch_y[np.arange(len(batch_x)), labels] = 1.
            return batch_x, batch_y
        return batch_x
