"""Downloading CIFAR-10 from several sources, against an HTTP server on 127.0.0.1 that the
tests start: a failing source hands over to the next, and nothing half-written is left."""
import hashlib
import http.server
import logging
import os
import tarfile
import threading

import pytest

from gluon_cnn import UserError
from gluon_cnn.data import cifar, load_cifar10
from gluon_cnn.data.download import Source
from helpers import write_cifar_binary


class Handler(http.server.BaseHTTPRequestHandler):
    """/good: the archive; /missing: 404; /broken: 500; /drop: half the archive, then the
    connection closes; anything else: the bytes in ``files``."""
    files = {}

    def do_GET(self):
        name = self.path.lstrip("/")
        if name == "broken":
            self.send_error(500, "Internal Server Error")
            return
        if name not in self.files and name != "drop":
            self.send_error(404, "Not Found")
            return
        body = self.files["good" if name == "drop" else name]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:len(body) // 2] if name == "drop" else body)
        if name == "drop":
            self.close_connection = True

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("release")
    batches = write_cifar_binary(str(folder / "cifar-10-batches-bin"))
    archive = folder / "release.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(batches, arcname="cifar-10-batches-bin")
    Handler.files = {"good": archive.read_bytes(), "other": b"not the archive at all"}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    batch_sha1 = {name: hashlib.sha1(open(os.path.join(batches, name), "rb").read()).hexdigest()
                  for name in cifar.BATCH_SHA1}
    yield "http://127.0.0.1:%d/" % httpd.server_address[1], batch_sha1
    httpd.shutdown()


def source(base, name, digest=None):
    return Source("source " + name, base + name, "sha256",
                  digest or hashlib.sha256(Handler.files["good"]).hexdigest())


def leftovers(folder):
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


def test_the_next_source_takes_over_after_a_404(server, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    base, batch_sha1 = server
    home = tmp_path / "cifar"
    cifar.download_cifar10(str(home), [source(base, "missing"), source(base, "good")],
                           batch_sha1)
    assert "source missing failed: HTTP 404" in caplog.text
    assert "100% of" in caplog.text  # progress as log lines when not on a terminal
    (train_x, train_y), (test_x, _), _ = load_cifar10(str(home), download=False)
    assert train_x.shape == (100, 32, 32, 3) and len(test_x) == 20
    assert leftovers(home) == []


def test_a_wrong_checksum_leaves_nothing_and_the_next_source_is_tried(server, tmp_path, caplog):
    base, batch_sha1 = server
    home = tmp_path / "cifar"
    cifar.download_cifar10(str(home), [source(base, "other"), source(base, "good")], batch_sha1)
    assert "source other failed: wrong sha256 checksum" in caplog.text
    assert leftovers(home) == []


def test_a_dropped_connection_leaves_nothing_behind(server, tmp_path):
    base, batch_sha1 = server
    home = tmp_path / "cifar"
    with pytest.raises(UserError, match="the connection closed after"):
        cifar.download_cifar10(str(home), [source(base, "drop")], batch_sha1)
    assert os.listdir(home) == []  # no archive, no partial file, no unpacked folder
    # and the next run starts cleanly
    cifar.download_cifar10(str(home), [source(base, "good")], batch_sha1)
    assert load_cifar10(str(home), download=False)[0][0].shape == (100, 32, 32, 3)


def test_when_every_source_fails_one_error_names_each(server, tmp_path):
    base, batch_sha1 = server
    home = tmp_path / "cifar"
    dead = Source("a closed port", "http://127.0.0.1:9/x", "sha1", "0" * 40)
    with pytest.raises(UserError) as info:
        cifar.download_cifar10(str(home), [source(base, "broken"), dead], batch_sha1)
    message = str(info.value)
    assert message.count("\n") == 0
    assert "source broken (%sbroken): HTTP 500" % base in message
    assert "a closed port (http://127.0.0.1:9/x): " in message
    assert str(home) in message and "data_batch_1.bin" in message and "tar -xzf" in message
    assert os.listdir(home) == []


def test_a_batch_file_that_differs_from_the_release_is_refused(server, tmp_path):
    base, batch_sha1 = server
    home = tmp_path / "cifar"
    wrong = dict(batch_sha1, **{"test_batch.bin": "0" * 40})
    with pytest.raises(UserError, match="test_batch.bin in .* is wrong"):
        cifar.download_cifar10(str(home), [source(base, "good")], wrong)
    assert leftovers(home) == [] and not (home / "cifar-10-batches-bin").exists()


def test_an_archive_already_downloaded_is_reused(server, tmp_path):
    base, batch_sha1 = server
    home = tmp_path / "cifar"
    home.mkdir()
    (home / cifar.ARCHIVE_NAME).write_bytes(Handler.files["good"])
    # the only source is dead: the archive on disk, with a known checksum, is used
    cifar.download_cifar10(str(home), [source(base, "missing")], batch_sha1)
    assert (home / "cifar-10-batches-bin" / "test_batch.bin").exists()


def test_default_sources_follow_mxnet_then_the_authors(monkeypatch):
    monkeypatch.delenv("MXNET_GLUON_REPO", raising=False)
    names = [s.name for s in cifar.cifar10_sources()]
    assert names == ["MXNet's mirror", "the authors' site"]
    monkeypatch.setenv("MXNET_GLUON_REPO", "https://repo.example/")
    first = cifar.cifar10_sources()[0]
    assert first.url == "https://repo.example/gluon/dataset/cifar10/cifar-10-binary.tar.gz"
    assert (first.algorithm, first.digest) == ("sha1", cifar.MXNET_ARCHIVE_SHA1)
    assert cifar.cifar10_sources()[-1].url == "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"


def test_archive_members_outside_the_folder_are_refused(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    (tmp_path / "payload").write_text("x")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(str(tmp_path / "payload"), arcname="../escaped")
    with pytest.raises(UserError, match="points outside"):
        cifar.extract_archive(str(evil), str(tmp_path / "out"))
    assert not (tmp_path / "escaped").exists()
