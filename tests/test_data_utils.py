"""get_file against a local HTTP server on 127.0.0.1 that the tests start and stop."""
import hashlib
import http.server
import io
import os
import socket
import tarfile
import threading
import zipfile

import pytest

from minikeras.utils import data_utils
from minikeras.utils.data_utils import DownloadError, get_file, validate_file

PAYLOAD = bytes(range(256)) * 300  # 76,800 bytes: several read chunks


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path == '/truncated':
            self.send_response(200)
            self.send_header('Content-Length', str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[:1000])
            self.wfile.flush()
            self.close_connection = True
            return
        return super().do_GET()


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serves tmp_path/www on 127.0.0.1; yields (base_url, www folder, server)."""
    monkeypatch.delenv('MINIKERAS_OFFLINE', raising=False)
    www = tmp_path / 'www'
    www.mkdir()

    def handler(*args, **kwargs):
        return _Handler(*args, directory=str(www), **kwargs)

    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:%d/' % httpd.server_address[1], www, httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def cache_files(folder):
    return sorted(os.listdir(str(folder))) if os.path.isdir(str(folder)) else []


def test_downloads_once_into_the_cache_with_a_progbar(server, tmp_path, capsys):
    url, www, httpd = server
    (www / 'blob.bin').write_bytes(PAYLOAD)
    cache = tmp_path / 'cache'
    path = get_file('blob.bin', url + 'blob.bin', cache_dir=str(cache))
    assert path == str(cache / 'datasets' / 'blob.bin')
    with open(path, 'rb') as f:
        assert f.read() == PAYLOAD
    out = capsys.readouterr().out
    assert 'Downloading data from ' + url + 'blob.bin' in out
    assert '76800/76800 [==============================]' in out
    assert oct(os.stat(path).st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode
    again = get_file('blob.bin', url + 'blob.bin', cache_dir=str(cache))
    assert again == path and httpd.requests == ['/blob.bin']
    assert cache_files(cache / 'datasets') == ['blob.bin']


def test_keras_home_and_cache_subdir(server, tmp_path, monkeypatch):
    url, www, _ = server
    (www / 'a.txt').write_bytes(b'hello')
    monkeypatch.setenv('KERAS_HOME', str(tmp_path / 'home'))
    path = get_file('a.txt', url + 'a.txt', cache_subdir='models')
    assert path == str(tmp_path / 'home' / 'models' / 'a.txt')
    target = tmp_path / 'elsewhere' / 'b.txt'
    assert get_file(str(target), url + 'a.txt') == str(target)
    assert target.read_bytes() == b'hello'


@pytest.mark.parametrize('algorithm', ['md5', 'sha256'])
def test_hashes_are_checked_and_a_stale_file_downloaded_again(server, tmp_path, algorithm, capsys):
    url, www, httpd = server
    (www / 'blob.bin').write_bytes(PAYLOAD)
    digest = getattr(hashlib, algorithm)(PAYLOAD).hexdigest()
    cache = tmp_path / 'cache'
    (cache / 'datasets').mkdir(parents=True)
    (cache / 'datasets' / 'blob.bin').write_bytes(b'stale or truncated')
    kwargs = {'md5_hash': digest} if algorithm == 'md5' else {'file_hash': digest}
    path = get_file('blob.bin', url + 'blob.bin', cache_dir=str(cache), **kwargs)
    assert 'file hash does not match the original value of %s so we will re-download' % digest \
        in capsys.readouterr().out
    assert open(path, 'rb').read() == PAYLOAD and len(httpd.requests) == 1
    assert validate_file(path, digest) and validate_file(path, digest, algorithm)
    assert not validate_file(path, '0' * len(digest))


def test_a_download_with_the_wrong_hash_leaves_the_cache_untouched(server, tmp_path):
    url, www, _ = server
    (www / 'blob.bin').write_bytes(PAYLOAD)
    cache = tmp_path / 'cache'
    (cache / 'datasets').mkdir(parents=True)
    (cache / 'datasets' / 'blob.bin').write_bytes(b'old')
    with pytest.raises(DownloadError, match='has sha256 hash .* expected ' + 'a' * 64):
        get_file('blob.bin', url + 'blob.bin', cache_dir=str(cache), file_hash='a' * 64)
    assert (cache / 'datasets' / 'blob.bin').read_bytes() == b'old'
    assert cache_files(cache / 'datasets') == ['blob.bin']


def test_server_errors_truncation_and_offline_leave_nothing(server, tmp_path, monkeypatch):
    url, _, _ = server
    cache = tmp_path / 'cache'
    with pytest.raises(DownloadError, match=r'URL fetch failure on %smissing: 404' % url):
        get_file('missing', url + 'missing', cache_dir=str(cache))
    with pytest.raises(DownloadError, match='got 1000 of 76800 bytes|after 1000 bytes'):
        get_file('truncated', url + 'truncated', cache_dir=str(cache))
    with socket.socket() as s:  # a port nobody listens on
        s.bind(('127.0.0.1', 0))
        closed = 'http://127.0.0.1:%d/x' % s.getsockname()[1]
    with pytest.raises(DownloadError, match='Are you offline'):
        get_file('x', closed, cache_dir=str(cache))
    monkeypatch.setenv('MINIKERAS_OFFLINE', '1')
    with pytest.raises(DownloadError, match='downloads are off .MINIKERAS_OFFLINE'):
        get_file('y', url + 'y', cache_dir=str(cache))
    assert cache_files(cache / 'datasets') == []


def _tar_gz(members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_untar_and_extract(server, tmp_path):
    url, www, _ = server
    (www / 'batches.tar.gz').write_bytes(_tar_gz({'batches/one': b'1', 'batches/two': b'22'}))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as z:
        z.writestr('inside/file.txt', 'zipped')
    (www / 'pack.zip').write_bytes(buffer.getvalue())
    cache = tmp_path / 'cache'
    # Keras 1: untar=True saves <fname>.tar.gz and returns the extracted folder.
    folder = get_file('batches', url + 'batches.tar.gz', untar=True, cache_dir=str(cache))
    assert folder == str(cache / 'datasets' / 'batches')
    assert (cache / 'datasets' / 'batches.tar.gz').exists()
    assert open(os.path.join(folder, 'two'), 'rb').read() == b'22'
    path = get_file('pack.zip', url + 'pack.zip', extract=True, cache_dir=str(cache))
    assert path.endswith('pack.zip')
    assert (cache / 'datasets' / 'inside' / 'file.txt').read_text() == 'zipped'
    get_file('pack2.zip', url + 'pack.zip', extract=True, archive_format='tar',
             cache_dir=str(cache))
    assert not (cache / 'datasets' / 'pack2').exists()


def test_corrupt_or_unsafe_archives_are_refused(server, tmp_path):
    url, www, _ = server
    (www / 'broken.tar.gz').write_bytes(_tar_gz({'broken/a': b'x' * 5000})[:60])
    (www / 'evil.tar.gz').write_bytes(_tar_gz({'../escaped': b'x'}))
    cache = tmp_path / 'cache'
    with pytest.raises(DownloadError, match='broken.tar.gz.*Delete it'):
        get_file('broken', url + 'broken.tar.gz', untar=True, cache_dir=str(cache))
    with pytest.raises(DownloadError, match='outside'):
        get_file('evil', url + 'evil.tar.gz', untar=True, cache_dir=str(cache))
    assert not (tmp_path / 'escaped').exists() and not (cache / 'escaped').exists()
    assert not (cache / 'datasets' / 'broken').exists()


def test_argument_errors():
    with pytest.raises(ValueError, match='hash_algorithm'):
        validate_file(__file__, 'abc', algorithm='sha1')
    with pytest.raises(ValueError, match='fname'):
        get_file('', 'http://127.0.0.1/')
    with open(__file__, 'rb') as f:
        assert data_utils._hash_file(__file__, 'md5') == hashlib.md5(f.read()).hexdigest()
