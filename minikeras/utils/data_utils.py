"""Downloading files into Keras's cache, as `keras.utils.data_utils` did.

`get_file` is the one door to the network: every dataset loader goes through
it and reads the files Keras itself caches (`~/.keras/datasets/...`, or under
`$KERAS_HOME`). A download is written to a temporary file beside its target
and renamed into place only once complete and verified, so an interrupted or
corrupt download never leaves a file in the cache.

Set `MINIKERAS_OFFLINE=1` to forbid downloads: a file missing from the cache
then raises at once instead of trying the network.
"""
from __future__ import print_function

import bz2
import gzip
import hashlib
import lzma
import os
import shutil
import socket
import sys
import tarfile
import tempfile
import zipfile
import zlib

from .generic_utils import Progbar

OFFLINE_ENV_VAR = 'MINIKERAS_OFFLINE'

# Seconds to wait for a server to answer before giving up on it.
DOWNLOAD_TIMEOUT = 30


class DownloadError(IOError):
    """A file could not be downloaded (offline, server error, wrong hash)."""


def keras_home():
    """Returns Keras's base folder: `$KERAS_HOME`, else `~/.keras`."""
    return os.environ.get('KERAS_HOME') or os.path.join(os.path.expanduser('~'), '.keras')


def downloads_allowed():
    """Returns False when `MINIKERAS_OFFLINE` is set to anything but '' or '0'."""
    return os.environ.get(OFFLINE_ENV_VAR, '') in ('', '0')


def _hash_file(fpath, algorithm='sha256', chunk_size=65535):
    """Returns the hex digest of a file.

    # Arguments
        fpath: path of the file.
        algorithm: 'sha256', 'md5', or 'auto' (meaning sha256 here).
        chunk_size: bytes read at a time.
    """
    hasher = hashlib.md5() if algorithm == 'md5' else hashlib.sha256()
    with open(fpath, 'rb') as f:
        for chunk in iter(lambda: f.read(chunk_size), b''):
            hasher.update(chunk)
    return hasher.hexdigest()


def _resolve_algorithm(file_hash, algorithm):
    if algorithm not in ('auto', 'md5', 'sha256'):
        raise ValueError("hash_algorithm must be 'auto', 'md5' or 'sha256', got %r" % (algorithm,))
    if algorithm == 'auto':
        return 'sha256' if len(file_hash) == 64 else 'md5'
    return algorithm


def validate_file(fpath, file_hash, algorithm='auto', chunk_size=65535):
    """Checks a file against its expected hash.

    # Arguments
        fpath: path of the file.
        file_hash: expected md5 or sha256 hex digest.
        algorithm: 'md5', 'sha256', or 'auto' (sha256 for a 64-character
            hash, md5 otherwise).
        chunk_size: bytes read at a time.

    # Returns
        Whether the file matches.
    """
    algorithm = _resolve_algorithm(file_hash, algorithm)
    return _hash_file(fpath, algorithm, chunk_size) == str(file_hash).lower()


def _extract_archive(file_path, path='.', archive_format='auto'):
    """Extracts a tar (plain, gz, bz2, xz) or zip archive into `path`.

    Members that would land outside `path` (absolute names, `..`) are refused.
    On failure, what was extracted is removed again.

    # Arguments
        file_path: the archive.
        path: folder to extract into.
        archive_format: 'auto' (tar, then zip), 'tar', 'zip', a list of
            those, or None (extract nothing).

    # Returns
        True if the file was an archive of an accepted format and was extracted.
    """
    if archive_format is None:
        return False
    if archive_format == 'auto':
        archive_format = ['tar', 'zip']
    if isinstance(archive_format, str):
        archive_format = [archive_format]
    for kind in archive_format:
        if kind == 'tar':
            is_match, opener = tarfile.is_tarfile, tarfile.open
        elif kind == 'zip':
            is_match, opener = zipfile.is_zipfile, zipfile.ZipFile
        else:
            raise ValueError("archive_format must be 'auto', 'tar', 'zip', a list of those or "
                             "None, got %r" % (kind,))
        if not is_match(file_path):
            continue
        if kind == 'tar':
            _read_compressed_to_the_end(file_path)
        with opener(file_path) as archive:
            names = archive.getnames() if kind == 'tar' else archive.namelist()
            root = os.path.realpath(path)
            for name in names:
                target = os.path.realpath(os.path.join(root, name))
                if target != root and not target.startswith(root + os.sep):
                    raise DownloadError('archive %s holds %r, which would be extracted outside %s; '
                                        'refusing to extract it' % (file_path, name, path))
            if kind == 'zip':
                damaged = archive.testzip()
                if damaged is not None:
                    raise zipfile.BadZipFile('member %r fails its CRC check' % damaged)
            _extract_through_staging(archive, path)
        return True
    return False


_COMPRESSED_OPENERS = ((b'\x1f\x8b', gzip.open), (b'BZh', bz2.open), (b'\xfd7zXZ', lzma.open))


def _read_compressed_to_the_end(file_path):
    """Decompresses a gzip, bz2 or xz file to its end, checking its CRC: tarfile
    reads lazily and would extract a damaged member without a word."""
    with open(file_path, 'rb') as f:
        head = f.read(6)
    for magic, opener in _COMPRESSED_OPENERS:
        if head.startswith(magic):
            with opener(file_path, 'rb') as stream:
                while stream.read(1 << 20):
                    pass
            return


def _extract_through_staging(archive, path):
    """Extracts into a hidden staging folder of `path`, then moves each top-level
    entry into place: a failed or killed extraction leaves no half-written
    entry under its real name (a staging folder of a dead process is removed
    by the next extraction)."""
    from .io_utils import _process_alive
    prefix = '.extracting.'
    for name in os.listdir(path):
        pid = name[len(prefix):].split('.', 1)[0] if name.startswith(prefix) else ''
        if pid.isdigit() and not _process_alive(int(pid)):
            shutil.rmtree(os.path.join(path, name), ignore_errors=True)
    staging = tempfile.mkdtemp(dir=path, prefix='%s%d.' % (prefix, os.getpid()))
    try:
        archive.extractall(staging)
        for entry in os.listdir(staging):
            source, target = os.path.join(staging, entry), os.path.join(path, entry)
            if os.path.isdir(source) and os.path.isdir(target):
                shutil.copytree(source, target, dirs_exist_ok=True)   # re-extracting over it
            else:
                os.replace(source, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _cache_folder(cache_dir, cache_subdir):
    base = os.path.expanduser(cache_dir) if cache_dir is not None else keras_home()
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass  # unwritable: the fallback below
    if not os.access(base, os.W_OK):
        base = os.path.join(tempfile.gettempdir(), '.keras')
    folder = os.path.join(base, cache_subdir)
    os.makedirs(folder, exist_ok=True)
    return folder


def temporary_beside(fpath):
    """`(handle, path)` of a new temporary file `.<name>.<pid>.<random>.tmp` in
    `fpath`'s folder, for a writer that renames it into place when complete.
    The temporaries of writers killed before their rename (dead processes)
    are removed first."""
    from .io_utils import _remove_orphaned_temporaries
    folder = os.path.dirname(os.path.abspath(fpath))
    name = os.path.basename(fpath)
    _remove_orphaned_temporaries(folder, name)
    return tempfile.mkstemp(prefix='.%s.%d.' % (name, os.getpid()), suffix='.tmp', dir=folder)


def publish(partial, fpath):
    """Renames a complete temporary file into place, with the usual permissions.

    `tempfile.mkstemp` creates files readable by their owner only; the cache
    file gets what a plain `open(path, 'w')` would have given it.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(partial, 0o666 & ~umask)
    os.replace(partial, fpath)


def _download(origin, fpath, file_hash, algorithm):
    """Downloads `origin` to `fpath` via a temporary file, then renames it."""
    from urllib.error import HTTPError, URLError
    from urllib.request import urlopen

    handle, partial = temporary_beside(fpath)
    try:
        with os.fdopen(handle, 'wb') as out:
            try:
                response = urlopen(origin, timeout=DOWNLOAD_TIMEOUT)
            except HTTPError as e:
                raise DownloadError('URL fetch failure on %s: %s -- %s' % (origin, e.code, e.msg))
            except (URLError, socket.timeout, OSError) as e:
                reason = getattr(e, 'reason', e)
                raise DownloadError(
                    'URL fetch failure on %s: %s. Are you offline? Download it by other means '
                    'and place it at %s' % (origin, reason, fpath))
            with response:
                length = response.headers.get('Content-Length')
                total = int(length) if length and length.strip().isdigit() else None
                progbar = Progbar(total) if total else None
                done = 0
                while True:
                    try:
                        chunk = response.read(1 << 16)
                    except (socket.timeout, OSError) as e:
                        raise DownloadError('URL fetch failure on %s after %d bytes: %s'
                                            % (origin, done, e))
                    if not chunk:
                        break
                    out.write(chunk)
                    done += len(chunk)
                    if progbar is not None:
                        progbar.update(min(done, total))
                if total is not None and done != total:
                    raise DownloadError('URL fetch failure on %s: got %d of %d bytes'
                                        % (origin, done, total))
        if file_hash is not None and not validate_file(partial, file_hash, algorithm):
            raise DownloadError('the file downloaded from %s has %s hash %s; expected %s. '
                                'Nothing was written to %s'
                                % (origin, algorithm, _hash_file(partial, algorithm),
                                   file_hash, fpath))
        publish(partial, fpath)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def get_file(fname, origin, untar=False, md5_hash=None, file_hash=None,
             cache_subdir='datasets', hash_algorithm='auto', extract=False,
             archive_format='auto', cache_dir=None):
    """Downloads a file from a URL unless it is already in the cache.

    The file lands in `~/.keras/datasets/<fname>` by default (`$KERAS_HOME`
    replaces `~/.keras`; an unwritable cache folder falls back to
    `<tmp>/.keras`). A cached file whose hash does not match is downloaded
    again. Archives can be extracted next to the file.

    # Arguments
        fname: file name; an absolute path is used as is.
        origin: URL of the file.
        untar: Keras 1: the file is a `.tar.gz`; it is saved as
            `<fname>.tar.gz`, extracted, and `<folder>/<fname>` is returned.
        md5_hash: Keras 1: expected md5 of the file.
        file_hash: expected md5 or sha256 of the file.
        cache_subdir: folder under the cache where the file goes; an absolute
            path is used as is.
        hash_algorithm: 'md5', 'sha256' or 'auto' (sha256 for a
            64-character hash).
        extract: whether to extract the file as an archive (tar or zip).
        archive_format: 'auto', 'tar', 'zip', a list of those, or None.
        cache_dir: base folder of the cache instead of `~/.keras`.

    # Returns
        Path of the downloaded (or extracted, with `untar`) file.

    # Raises
        DownloadError: the download failed, was refused (`MINIKERAS_OFFLINE`)
            or did not match its hash; the cache is left as it was.
    """
    if not fname:
        raise ValueError('get_file: fname must name a file, got %r' % (fname,))
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, 'md5'
    if file_hash is not None:
        hash_algorithm = _resolve_algorithm(file_hash, hash_algorithm)
    datadir = _cache_folder(cache_dir, cache_subdir)
    untar_fpath = os.path.join(datadir, fname)
    fpath = untar_fpath + '.tar.gz' if untar else untar_fpath

    download = not os.path.exists(fpath)
    stale = (not download and file_hash is not None
             and not validate_file(fpath, file_hash, hash_algorithm))
    if stale:
        print('A local file was found, but it seems to be incomplete or outdated because the '
              '%s file hash does not match the original value of %s so we will re-download '
              'the data.' % (hash_algorithm, file_hash))
        download = True

    if download:
        if not downloads_allowed() and stale:
            raise DownloadError('%s does not match its %s hash %s (incomplete or outdated) and '
                                'downloads are off (%s is set); download %s by other means and '
                                'put it in its place'
                                % (fpath, hash_algorithm, file_hash, OFFLINE_ENV_VAR, origin))
        if not downloads_allowed():
            raise DownloadError('%s is not in the cache and downloads are off (%s is set); '
                                'download %s by other means and place it there'
                                % (fpath, OFFLINE_ENV_VAR, origin))
        print('Downloading data from', origin)
        sys.stdout.flush()
        os.makedirs(os.path.dirname(fpath), exist_ok=True)
        _download(origin, fpath, file_hash, hash_algorithm)

    if untar:
        if not os.path.exists(untar_fpath):
            _extract_archive_or_explain(fpath, datadir, 'tar', required=True)
        return untar_fpath
    if extract:
        _extract_archive_or_explain(fpath, datadir, archive_format, required=False)
    return fpath


def _extract_archive_or_explain(fpath, datadir, archive_format, required):
    try:
        extracted = _extract_archive(fpath, datadir, archive_format)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, zlib.error,
            lzma.LZMAError, NotImplementedError) as e:
        if isinstance(e, DownloadError):
            raise
        raise DownloadError('cannot extract %s: %s: %s. Delete it so that it is downloaded '
                            'again' % (fpath, type(e).__name__, e))
    if not extracted and required:
        raise DownloadError('%s is not a tar archive (corrupt or truncated?). Delete it so '
                            'that it is downloaded again' % fpath)
    return extracted
