"""Malformed files thrown at the loaders and at predict.py: every one ends in a clean error or
a documented skip, never a hang or an interpreter crash."""
import json
import os
import signal
import struct
import subprocess
import sys
import zlib

import cv2
import numpy as np
import pytest

from gluon_cnn import UserError
from gluon_cnn.cli import predict, run_main
from gluon_cnn.data import cifar, load_image_folder
from gluon_cnn.training import TrainConfig, train
from conftest import ROOT

pytestmark = pytest.mark.slow  # see pytest.ini

CASES = 120


def malformed_files(rng):
    """(name, bytes) pairs: random bytes, truncated and corrupted images, lying headers."""
    png = cv2.imencode(".png", rng.randint(0, 255, (32, 32, 3)).astype(np.uint8))[1].tobytes()
    jpg = cv2.imencode(".jpg", rng.randint(0, 255, (32, 32, 3)).astype(np.uint8))[1].tobytes()
    bogus_chunk = b"IHDR" + struct.pack(">IIBBBBB", 2 ** 31 - 1, 2 ** 31 - 1, 8, 2, 0, 0, 0)
    huge_png = (png[:8] + struct.pack(">I", 13) + bogus_chunk +
                struct.pack(">I", zlib.crc32(bogus_chunk)) + png[33:])
    files = [("empty.png", b""), ("huge-header.png", huge_png),
             ("text.jpg", b"just some text, not an image\n")]
    for index in range(CASES):
        kind = index % 4
        if kind == 0:
            data = rng.bytes(rng.randint(1, 4000))
        elif kind == 1:
            source = png if index % 8 == 1 else jpg
            data = source[:rng.randint(1, len(source) - 1)]
        elif kind == 2:
            source = bytearray(jpg)
            for position in rng.randint(2, len(source), size=20):
                source[position] = rng.randint(0, 256)
            data = bytes(source)
        else:
            data = (png[:8] if index % 8 == 3 else jpg[:4]) + rng.bytes(rng.randint(0, 500))
        files.append(("case%03d%s" % (index, ".png" if index % 2 else ".jpg"), data))
    return files


@pytest.fixture(autouse=True)
def no_hang():
    """Fail, rather than hang, if anything takes over two minutes."""
    def timeout(*_):
        raise AssertionError("hung")
    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def opencv_decodes(data):
    """Whether OpenCV itself makes an image of these bytes (it raises for some bad ones)."""
    try:
        return len(data) > 0 and cv2.imdecode(np.frombuffer(data, np.uint8),
                                              cv2.IMREAD_COLOR) is not None
    except cv2.error:
        return False


def test_image_folder_skips_every_malformed_file(tmp_path, caplog):
    rng = np.random.RandomState(1)
    files = malformed_files(rng)
    for split in ("train", "test"):
        folder = tmp_path / split / "cat"
        folder.mkdir(parents=True)
        cv2.imwrite(str(folder / "good.png"), np.full((32, 32, 3), 128, np.uint8))
        for name, data in files:
            (folder / name).write_bytes(data)
    (train, _), (test, _), _ = load_image_folder(str(tmp_path))
    # a corrupted JPEG body may still decode into a valid image: OpenCV decides, not the loader
    decodable = sum(opencv_decodes(data) for _, data in files)
    assert train.shape == (1 + decodable, 32, 32, 3) and test.shape == train.shape
    assert "skipped %d unreadable" % (len(files) - decodable) in caplog.text


def test_cifar_readers_refuse_malformed_batches_cleanly(tmp_path):
    rng = np.random.RandomState(2)
    for index, (_, data) in enumerate(malformed_files(rng)):
        for reader in (cifar.read_binary_batch, cifar.read_python_batch):
            path = tmp_path / ("batch%d" % index)
            path.write_bytes(data)
            try:
                images, labels = reader(str(path))
            except UserError:
                continue
            # Bytes that happen to form whole records with labels 0-9 are valid CIFAR data.
            assert images.shape[1:] == (32, 32, 3) and labels.max() <= 9


def test_training_on_a_malformed_cifar_folder_is_one_error(tmp_path):
    for name in cifar.BINARY_TRAIN + ["test_batch.bin"]:
        (tmp_path / name).write_bytes(os.urandom(5000))
    with pytest.raises(UserError, match="not a whole number of 3073-byte records"):
        train(TrainConfig(dataset="cifar10", data_dir=str(tmp_path), out=str(tmp_path / "o")))


def test_predict_refuses_every_malformed_image(tmp_path, capsys):
    from gluon_cnn import deploy, get_model
    import mxnet as mx
    net = get_model("lenet5", in_channels=3)
    net.initialize()
    deploy.export(net, str(tmp_path / "m"), (1, 3, 32, 32), class_names=list("abcdefghij"))
    rng = np.random.RandomState(3)
    refused = decoded = 0
    for name, data in malformed_files(rng):
        path = tmp_path / name
        path.write_bytes(data)
        status = run_main(predict.main, ["--model", str(tmp_path / "m"), str(path)])
        assert status in (0, 2)
        refused += status == 2
        decoded += status == 0
    err = capsys.readouterr().err
    assert refused > 100 and err.count("error: ") == refused
    assert "Traceback" not in err
    assert mx.nd.zeros(1).asscalar() == 0  # the interpreter and MXNet are still alive


def test_predict_script_on_malformed_files_in_a_fresh_interpreter(tmp_path):
    from gluon_cnn import deploy, get_model
    net = get_model("lenet5", in_channels=3)
    net.initialize()
    deploy.export(net, str(tmp_path / "m"), (1, 3, 32, 32))
    files = malformed_files(np.random.RandomState(4))[:12]
    cases = []
    for name, data in files:
        (tmp_path / name).write_bytes(data)
        cases.append(["--model", str(tmp_path / "m"), str(tmp_path / name)])
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    # one fresh interpreter for all of them: a crash inside a decoder would end it
    driver = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "sweep_driver.py"),
                             "predict", str(tmp_path / "cases.json")], capture_output=True,
                            text=True, timeout=300)
    assert driver.returncode == 0, driver.stderr[-2000:]
    for case, (status, stderr) in zip(cases, json.loads(driver.stdout.splitlines()[-1])):
        assert status in (0, 2), (case, stderr)
        assert "Traceback" not in stderr and "Segmentation" not in stderr, (case, stderr)
