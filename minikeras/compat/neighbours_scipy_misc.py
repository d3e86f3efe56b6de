"""`scipy.misc` as SciPy 1.0-1.1 had it, served inside `minikeras run`.

SciPy removed its Pillow-based image helpers in 1.2-1.3; scripts of the Keras
era call them to read, resize and save pictures. These follow SciPy 1.1's
semantics, including the surprising ones: `toimage`, `imsave` and `imresize`
byte-scale any array that is not uint8 to the full 0-255 range (its minimum
becomes 0 and its maximum 255), and `imresize` returns uint8 unless
`mode='F'`. Pillow does the decoding, encoding and resampling.

`logsumexp`, `comb`, `factorial`, `factorial2` and `factorialk` moved to
`scipy.special`, and are served from there.
"""
import numpy as np

# A package, so that `import scipy.misc.pilutil` (served as this module too) resolves.
__path__ = []

_MOVED_TO_SPECIAL = ('logsumexp', 'comb', 'factorial', 'factorial2', 'factorialk')

_RESAMPLE = {'nearest': 0, 'lanczos': 1, 'bilinear': 2, 'bicubic': 3, 'cubic': 3}

_FILTERS = ('blur', 'contour', 'detail', 'edge_enhance', 'edge_enhance_more', 'emboss',
            'find_edges', 'smooth', 'smooth_more', 'sharpen')

_MODE_ERROR = 'Mode is unknown or incompatible with input array shape.'


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('scipy.misc image functions need Pillow (as they did in SciPy 1.x): '
                          'pip install pillow')
    return Image


def bytescale(data, cmin=None, cmax=None, high=255, low=0):
    """Scales an array linearly to uint8: `cmin` to `low`, `cmax` to `high`.

    A uint8 array is returned unchanged.

    # Arguments
        data: the array.
        cmin, cmax: the values mapped to `low` and `high` (default: the
            array's minimum and maximum).
        high, low: the output range, within 0-255.
    """
    if not isinstance(data, np.ndarray):  # masked arrays stay masked
        data = np.asarray(data)
    if data.dtype == np.uint8:
        return data
    if high > 255:
        raise ValueError('bytescale: `high` should be at most 255, got %r' % (high,))
    if low < 0:
        raise ValueError('bytescale: `low` should be at least 0, got %r' % (low,))
    if high < low:
        raise ValueError('bytescale: `high` (%r) should be >= `low` (%r)' % (high, low))
    cmin = data.min() if cmin is None else cmin
    cmax = data.max() if cmax is None else cmax
    spread = cmax - cmin
    if spread < 0:
        raise ValueError('bytescale: `cmax` (%r) should be >= `cmin` (%r)' % (cmax, cmin))
    if spread == 0:
        spread = 1
    scaled = (data - cmin) * (float(high - low) / spread) + low
    return (scaled.clip(low, high) + 0.5).astype(np.uint8)


def fromimage(im, flatten=False, mode=None):
    """A Pillow image as an array (palette images expanded to RGB or RGBA).

    # Arguments
        im: a `PIL.Image.Image`.
        flatten: convert to grey levels as float32 (Pillow mode 'F').
        mode: a Pillow mode to convert to first ('L', 'RGB', ...).
    """
    Image = _pil()
    if not isinstance(im, Image.Image):
        raise TypeError('fromimage: expected a PIL image, got %s' % type(im).__name__)
    if mode is not None:
        if mode != im.mode:
            im = im.convert(mode)
    elif im.mode == 'P':
        im = im.convert('RGBA' if 'transparency' in im.info else 'RGB')
    if flatten:
        im = im.convert('F')
    elif im.mode == '1':
        im = im.convert('L')
    return np.array(im)


def _channel_axis(shape, channel_axis):
    if channel_axis is not None:
        return channel_axis
    for channels in (3, 4):
        if channels in shape:
            return shape.index(channels)
    raise ValueError('toimage: could not find a channel axis of size 3 or 4 in shape %s'
                     % (tuple(shape),))


def toimage(arr, high=255, low=0, cmin=None, cmax=None, pal=None, mode=None,
            channel_axis=None):
    """A Pillow image made from a 2D (grey) or 3D (RGB/RGBA) array.

    Arrays that are not uint8 are byte-scaled (see `bytescale`), except in
    modes 'F' and 'I'. A 3D array's channel axis is the first of size 3 (else
    4) unless `channel_axis` says otherwise.

    # Arguments
        arr: the array.
        high, low, cmin, cmax: byte-scaling bounds (see `bytescale`).
        pal: an (N, 3) uint8 palette for a 2D array (gives a 'P' image).
        mode: a Pillow mode: 'L', 'P', 'F', 'I', '1' for 2D arrays,
            'RGB', 'RGBA', 'YCbCr', 'CMYK' for 3D ones.
        channel_axis: the axis holding the colour channels of a 3D array.
    """
    Image = _pil()
    data = np.asarray(arr)
    if np.iscomplexobj(data):
        raise ValueError('toimage: cannot convert a complex-valued array')
    shape = list(data.shape)
    if not (len(shape) == 2 or (len(shape) == 3 and (3 in shape or 4 in shape))):
        raise ValueError("toimage: 'arr' should be 2D, or 3D with an axis of size 3 or 4; "
                         "got shape %s" % (tuple(shape),))
    if len(shape) == 2:
        size = (shape[1], shape[0])
        if mode == 'F':
            return Image.frombytes('F', size, data.astype(np.float32).tobytes())
        if mode in (None, 'L', 'P'):
            image = Image.frombytes('L', size, bytescale(data, cmin, cmax, high, low).tobytes())
            if pal is not None:
                image.putpalette(np.asarray(pal, dtype=np.uint8).tobytes())
            elif mode == 'P':
                grey = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
                image.putpalette(grey.tobytes())
            return image
        if mode == '1':  # `high` is the threshold
            return Image.fromarray(np.ascontiguousarray(data > high))
        if mode != 'I':
            raise ValueError('toimage: ' + _MODE_ERROR)
        cmin = data.min() if cmin is None else cmin
        cmax = data.max() if cmax is None else cmax
        scaled = (data * 1.0 - cmin) * (high - low) / (cmax - cmin) + low
        return Image.frombytes('I', size, scaled.astype(np.uint32).tobytes())

    axis = _channel_axis(shape, channel_axis)
    channels = shape[axis]
    if channels not in (3, 4):
        raise ValueError('toimage: the channel axis %d has size %d; expected 3 or 4'
                         % (axis, channels))
    pixels = np.moveaxis(bytescale(data, cmin, cmax, high, low), axis, 2)
    if mode is None:
        mode = 'RGB' if channels == 3 else 'RGBA'
    if mode not in ('RGB', 'RGBA', 'YCbCr', 'CMYK'):
        raise ValueError('toimage: ' + _MODE_ERROR)
    if channels != (3 if mode in ('RGB', 'YCbCr') else 4):
        raise ValueError('toimage: mode %r does not take %d channels' % (mode, channels))
    return Image.frombytes(mode, (pixels.shape[1], pixels.shape[0]),
                           np.ascontiguousarray(pixels).tobytes())


def imread(name, flatten=False, mode=None):
    """Reads an image file into an array (see `fromimage`).

    # Arguments
        name: a file name or file object.
        flatten: read as float32 grey levels.
        mode: a Pillow mode to convert to ('L', 'RGB', ...).
    """
    with _pil().open(name) as im:
        return fromimage(im, flatten=flatten, mode=mode)


def imsave(name, arr, format=None):
    """Saves an array as an image; arrays that are not uint8 are byte-scaled.

    # Arguments
        name: a file name or file object.
        arr: an (H, W), (H, W, 3) or (H, W, 4) array.
        format: an image format ('png', 'jpeg', ...) when the name has none.
    """
    image = toimage(arr, channel_axis=2)
    if format is None:
        image.save(name)
    else:
        image.save(name, format)


def _resample(interp):
    if interp not in _RESAMPLE:
        raise ValueError('interp should be one of %s, got %r'
                         % (', '.join(repr(k) for k in _RESAMPLE), interp))
    return _RESAMPLE[interp]


def imresize(arr, size, interp='bilinear', mode=None):
    """Resizes an image array, as SciPy 1.x did.

    The array first becomes an image with `toimage(arr, mode=mode)`, so
    arrays that are not uint8 are byte-scaled and the result is uint8
    (float32 with `mode='F'`).

    # Arguments
        arr: the image array.
        size: an int (percentage of the current size), a float (fraction of
            the current size) or a tuple `(height, width)`.
        interp: 'nearest', 'lanczos', 'bilinear', 'bicubic' or 'cubic'.
        mode: the Pillow mode of the intermediate image ('L', 'F', ...).
    """
    image = toimage(arr, mode=mode)
    if isinstance(size, (int, np.signedinteger)) and not isinstance(size, bool):
        new_size = tuple((np.array(image.size) * (size / 100.0)).astype(int))
    elif isinstance(size, (float, np.floating)):
        new_size = tuple((np.array(image.size) * size).astype(int))
    else:
        try:
            new_size = (int(size[1]), int(size[0]))
        except (TypeError, IndexError, ValueError):
            raise TypeError('imresize: size should be an int (percent), a float (fraction) '
                            'or a (height, width) tuple, got %r' % (size,))
    return fromimage(image.resize(new_size, resample=_resample(interp)))


def imrotate(arr, angle, interp='bilinear'):
    """Rotates an image array counter-clockwise by `angle` degrees (same size).

    # Arguments
        arr: the image array (byte-scaled unless uint8).
        angle: degrees.
        interp: 'nearest', 'lanczos', 'bilinear', 'bicubic' or 'cubic'.
    """
    return fromimage(toimage(arr).rotate(angle, resample=_resample(interp)))


def imfilter(arr, ftype):
    """Applies one of Pillow's fixed filters to an image array.

    # Arguments
        arr: the image array (byte-scaled unless uint8).
        ftype: 'blur', 'contour', 'detail', 'edge_enhance', 'edge_enhance_more',
            'emboss', 'find_edges', 'smooth', 'smooth_more' or 'sharpen'.
    """
    if ftype not in _FILTERS:
        raise ValueError('imfilter: unknown filter type %r; expected one of %s'
                         % (ftype, ', '.join(_FILTERS)))
    from PIL import ImageFilter
    return fromimage(toimage(arr).filter(getattr(ImageFilter, ftype.upper())))


def __getattr__(name):
    if name in _MOVED_TO_SPECIAL:
        import scipy.special
        return getattr(scipy.special, name)
    raise AttributeError(
        'scipy.misc has no %r here: minikeras run serves bytescale, fromimage, toimage, '
        'imread, imsave, imresize, imrotate, imfilter (through Pillow) and %s (from '
        'scipy.special)' % (name, ', '.join(_MOVED_TO_SPECIAL)))
