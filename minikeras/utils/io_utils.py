"""HDF5 helpers shared by saving, loading and the Keras 3 export: the
overwrite prompt, crash-safe writing, read errors that name the file, string
and JSON attributes, and the weights layout of every Keras generation."""
import contextlib
import json
import os
import sys
import tempfile

import numpy as np

# The `backend` attribute of every file written. Keras 2's loader flips
# convolution kernels when a file's backend differs from its own and one of
# them is Theano (true convolution); minikeras computes cross-correlation,
# like TensorFlow, so 'tensorflow' makes every Keras 2 backend load our
# kernels correctly.
BACKEND_NAME = 'tensorflow'

_HDF5_ATTR_LIMIT = 64512


def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is a dependency
        raise ImportError('Saving and loading HDF5 files needs h5py: pip install h5py')
    return h5py


# ---------------------------------------------------------------------------
# Writing: overwrite prompt, atomic write
# ---------------------------------------------------------------------------

def ask_to_proceed_with_overwrite(filepath):
    """Asks on the terminal whether to overwrite a file, as Keras 1 did.

    # Arguments
        filepath: the path of the file to be overwritten.

    # Returns
        True to overwrite, False to cancel.
    """
    answer = input('[WARNING] %s already exists - overwrite? [y/n] ' % filepath)
    while answer.strip().lower() not in ('y', 'n'):
        answer = input('Enter "y" (overwrite) or "n" (cancel). ')
    if answer.strip().lower() == 'n':
        return False
    print('[TIP] Next time specify overwrite=True!')
    return True


def _may_write(filepath, overwrite):
    """Whether to write `filepath`. With `overwrite=False` and an existing
    file, Keras 1 asked on the terminal; we ask too when standard input is a
    terminal, and raise FileExistsError otherwise (a script must not hang)."""
    if overwrite or not os.path.exists(filepath):
        return True
    stdin = sys.stdin
    if stdin is not None and hasattr(stdin, 'isatty') and stdin.isatty():
        return ask_to_proceed_with_overwrite(filepath)
    raise FileExistsError('%s already exists and overwrite=False: pass overwrite=True to replace '
                          'it, or choose another file name' % filepath)


def write_hdf5(filepath, write, overwrite=True):
    """Runs `write(h5file)` on a temporary HDF5 file in the target's folder,
    then renames it over `filepath`. On any error the temporary file is
    removed and the old `filepath` is untouched.

    # Arguments
        filepath: path of the file to write.
        write: function that fills an open, writable `h5py.File`.
        overwrite: when False and the file exists, ask on a terminal, and
            raise FileExistsError when standard input is not a terminal.

    # Returns
        True when the file was written, False when the user declined.
    """
    if not _may_write(filepath, overwrite):
        return False
    h5py = _h5py()
    filepath = os.fspath(filepath)
    folder = os.path.dirname(os.path.abspath(filepath))
    if not os.path.isdir(folder):
        raise FileNotFoundError('Cannot save %s: the folder %s does not exist' % (filepath, folder))
    if os.path.isdir(filepath):
        raise IsADirectoryError('Cannot save to %s: it is a folder' % filepath)
    _remove_orphaned_temporaries(folder, os.path.basename(filepath))
    handle, temp_path = tempfile.mkstemp(
        dir=folder, prefix='.%s.%d.' % (os.path.basename(filepath), os.getpid()), suffix='.tmp')
    os.close(handle)
    try:
        with h5py.File(temp_path, 'w') as f:
            write(f)
            f.flush()
        with open(temp_path, 'rb') as f:
            os.fsync(f.fileno())
        os.chmod(temp_path, _file_mode(filepath))
        os.replace(temp_path, filepath)
    except BaseException:
        try:
            os.remove(temp_path)
        except OSError:
            pass
        raise
    return True


def _remove_orphaned_temporaries(folder, basename):
    """Removes the temporary files `.<basename>.<pid>.<random>.tmp` that
    writers killed before their rename left behind (their process is gone)."""
    prefix = '.%s.' % basename
    for name in os.listdir(folder):
        if not (name.startswith(prefix) and name.endswith('.tmp')):
            continue
        pid = name[len(prefix):].split('.', 1)[0]
        if not pid.isdigit() or _process_alive(int(pid)):
            continue
        try:
            os.remove(os.path.join(folder, name))
        except OSError:
            pass


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _file_mode(filepath):
    """The mode the saved file gets: the old file's, or the umask's default."""
    try:
        return os.stat(filepath).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# ---------------------------------------------------------------------------
# Reading: errors that name the file
# ---------------------------------------------------------------------------

@contextlib.contextmanager
def read_hdf5(filepath):
    """Opens an HDF5 file for reading; h5py's errors, on opening and inside
    the `with` block (a damaged dataset, a missing group), are re-raised
    with the file's name.

    # Arguments
        filepath: path of the file to read.

    # Raises
        FileNotFoundError, IsADirectoryError, OSError: no readable HDF5 file.
        ValueError: a missing object inside the file.
    """
    with _open_for_reading(filepath) as f, _read_errors_name(filepath):
        yield f


def _open_for_reading(filepath):
    """Opens an HDF5 file, turning h5py's errors into ones that name the file."""
    h5py = _h5py()
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError('No such file: %s' % filepath)
    if os.path.isdir(filepath):
        raise IsADirectoryError('%s is a folder, not an HDF5 file' % filepath)
    try:
        return h5py.File(filepath, 'r')
    except OSError as error:
        size = os.path.getsize(filepath)
        raise OSError('Cannot read %s (%d bytes) as an HDF5 file: it is truncated, corrupt or '
                      'not HDF5 (%s)' % (filepath, size, error))


@contextlib.contextmanager
def _read_errors_name(filepath):
    """HDF5 read errors inside an open file re-raised with the file's name."""
    try:
        yield
    except KeyError as error:
        raise ValueError('%s: missing object in the HDF5 file (%s); the file is truncated, '
                         'damaged or not written by Keras' % (filepath, error))
    except UnicodeDecodeError as error:
        raise ValueError('%s: a text attribute is not valid UTF-8 (%s); the file is damaged'
                         % (filepath, error))
    except (ValueError, TypeError) as error:
        # Damaged data types or JSON attributes surface as these, without the name.
        if os.fspath(filepath) in str(error):
            raise
        raise type(error)('%s: %s' % (filepath, error)) if type(error) in (ValueError, TypeError) \
            else ValueError('%s: %s (the file is damaged or not written by Keras)'
                            % (filepath, error))
    except (OSError, RuntimeError) as error:
        # h5py raises RuntimeError for damaged internal structures (a bad
        # symbol table or heap), met while looking names up.
        if isinstance(error, OSError) and os.fspath(filepath) in str(error):
            raise
        raise OSError('%s: cannot read the HDF5 data (%s); the file is truncated or damaged'
                      % (filepath, error))


# ---------------------------------------------------------------------------
# Attributes: strings, lists of strings, JSON
# ---------------------------------------------------------------------------

def _text(value):
    if isinstance(value, bytes):
        return value.decode('utf8')
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value.item())
    return str(value)


def text_attr(text):
    """A string attribute value as Keras 1 wrote it with h5py 2: fixed-length
    UTF-8 bytes, which every Keras reads back with `.decode('utf8')`.

    # Arguments
        text: the string.
    """
    return np.bytes_(text.encode('utf8'))


def json_default(obj):
    """Keras 1's `get_json_type`, the `default` of `json.dumps`: objects with
    `get_config`, NumPy scalars and arrays, functions and classes.

    # Arguments
        obj: an object `json` cannot serialise by itself.
    """
    if hasattr(obj, 'get_config'):
        return {'class_name': type(obj).__name__, 'config': obj.get_config()}
    if type(obj).__module__ == np.__name__:
        return obj.item() if np.ndim(obj) == 0 else obj.tolist()
    if callable(obj) and hasattr(obj, '__name__'):
        return obj.__name__
    raise TypeError('Not JSON serializable: %r' % (obj,))


def json_attr(obj):
    """`obj` as JSON in a string attribute value (see `text_attr`).

    # Arguments
        obj: a config: dicts, lists, numbers, strings and what
            `json_default` handles.
    """
    return text_attr(json.dumps(obj, default=json_default))


def read_text_attr(node, name, default=None):
    """A string attribute, whether stored as bytes or str.

    # Arguments
        node: an h5py file, group or dataset.
        name: the attribute's name.
        default: what to return when the attribute is absent.
    """
    if name not in node.attrs:
        return default
    return _text(node.attrs[name])


def read_names(node, name):
    """A list-of-strings attribute, also in Keras 2's chunked form
    (`name0`, `name1`, ...).

    # Arguments
        node: an h5py file or group.
        name: the attribute's name ('layer_names', 'weight_names').
    """
    if name in node.attrs:
        return [_text(n) for n in np.atleast_1d(node.attrs[name])]
    names, chunk = [], 0
    while '%s%d' % (name, chunk) in node.attrs:
        names.extend(_text(n) for n in np.atleast_1d(node.attrs['%s%d' % (name, chunk)]))
        chunk += 1
    return names


def write_names(node, name, names):
    """Writes a list of strings as Keras does (UTF-8 bytes), chunked when
    the attribute would exceed HDF5's header limit.

    # Arguments
        node: an h5py file or group.
        name: the attribute's name.
        names: the strings.
    """
    data = np.array([n.encode('utf8') for n in names]) if names else np.zeros((0,), 'S1')
    chunks = 1
    while data.nbytes / chunks > _HDF5_ATTR_LIMIT and chunks < len(names):
        chunks += 1
    if chunks == 1:
        node.attrs[name] = data
    else:
        for index, part in enumerate(np.array_split(data, chunks)):
            node.attrs['%s%d' % (name, index)] = part


# ---------------------------------------------------------------------------
# The layout of Keras model and weights files
# ---------------------------------------------------------------------------

def check_layer_names(model):
    """Raises ValueError unless the model's layer names are unique: each
    layer's weights are saved in an HDF5 group named after it.

    # Arguments
        model: a minikeras model.
    """
    seen = set()
    for layer in model.layers:
        if layer.name in seen:
            raise ValueError('Model %s has two layers named %r; layer names must be unique to be '
                             'saved' % (model.name, layer.name))
        seen.add(layer.name)


def write_model_header(f, keras_version, model_config):
    """The root attributes of a Keras model file: `keras_version`, `backend`
    and `model_config` (JSON).

    # Arguments
        f: an open, writable `h5py.File`.
        keras_version: the version string to record.
        model_config: `{'class_name', 'config'}` of the model.
    """
    f.attrs['keras_version'] = text_attr(keras_version)
    f.attrs['backend'] = text_attr(BACKEND_NAME)
    f.attrs['model_config'] = json_attr(model_config)


def write_weights_group(group, layers, keras_version):
    """Keras's weights layout: attributes `layer_names`, `backend` and
    `keras_version`; one group per layer with an attribute `weight_names`
    and one dataset per weight.

    # Arguments
        group: the h5py group (or file) to fill.
        layers: `[(layer name, [(weight name, array)])]` in order; a
            weight name with a '/' makes a dataset in a subgroup, as
            Keras 2 and 3 name them ('dense/kernel').
        keras_version: the group's `keras_version` attribute.
    """
    write_names(group, 'layer_names', [name for name, _ in layers])
    group.attrs['backend'] = text_attr(BACKEND_NAME)
    group.attrs['keras_version'] = text_attr(keras_version)
    for name, weights in layers:
        layer_group = group.create_group(name)
        write_names(layer_group, 'weight_names', [weight_name for weight_name, _ in weights])
        for weight_name, value in weights:
            layer_group.create_dataset(weight_name, data=value)
