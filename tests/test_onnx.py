"""ONNX export (mx.onnx) checked against onnxruntime for every kind of network in the zoo
(``conftest.ROUNDTRIP_ZOO``)."""
import os

import cv2
import mxnet as mx
import numpy as np
import pytest

import gluon_cnn
from gluon_cnn import deploy
from gluon_cnn.training import train
from conftest import ROUNDTRIP_ZOO, run_script
from helpers import quick_config

pytestmark = pytest.mark.slow  # see pytest.ini

pytest.importorskip("onnxruntime", reason="the ONNX extra is not installed: pip install -e '.[onnx]'")


def smallest_sensible_size(net):
    """A small input the network takes, to keep the export of 18 networks quick."""
    return max(net.smallest_input_size(training=True), 32)


@pytest.mark.parametrize("name", ROUNDTRIP_ZOO)
def test_onnxruntime_matches_the_mxnet_export(tmp_path, name):
    mx.random.seed(0)
    net = gluon_cnn.get_model(name, classes=10)
    net.initialize(mx.init.Xavier(magnitude=2.24))
    size = smallest_sensible_size(net)
    prefix = str(tmp_path / name)
    deploy.export(net, prefix, (1, net.in_channels, size, size))
    onnx_file = deploy.export_onnx(prefix)

    # a batch of 4 through a model traced with batch 1: the batch dimension is free
    images = np.random.RandomState(0).rand(4, net.in_channels, size, size).astype(np.float32)
    reference = deploy.MXNetPredictor(prefix)(images)
    logits = deploy.OnnxPredictor(onnx_file)(images)
    assert logits.shape == (4, 10)
    np.testing.assert_array_equal(logits.argmax(axis=1), reference.argmax(axis=1))
    scale = np.abs(reference).max()
    np.testing.assert_allclose(logits, reference, rtol=1e-4, atol=1e-4 * scale)


def test_export_script_writes_onnx_that_predicts_like_mxnet(tmp_path):
    train(quick_config(tmp_path, num_epochs=2, synthetic_samples=256))
    run = str(tmp_path / "run")
    result = run_script("export.py", run, "--onnx", "--evaluate", "--max-test-samples", "64")
    assert result.returncode == 0, result.stderr
    onnx_file = os.path.join(run, "lenet5.onnx")
    assert onnx_file in result.stdout.splitlines()
    accuracy = dict(line.split(" test accuracy: ") for line in result.stdout.splitlines()
                    if " test accuracy: " in line)
    assert accuracy["onnx"] == accuracy["fp32"]

    image = str(tmp_path / "digit.png")
    cv2.imwrite(image, np.random.RandomState(1).randint(0, 255, (40, 40, 3), np.uint8))
    outputs = [run_script("predict.py", "--model", model, image)
               for model in (os.path.join(run, "lenet5"), onnx_file)]
    for output in outputs:
        assert output.returncode == 0, output.stderr
    mxnet_lines, onnx_lines = (output.stdout.splitlines() for output in outputs)
    assert [line.split()[0] for line in onnx_lines] == [line.split()[0] for line in mxnet_lines]
    for ours, theirs in zip(onnx_lines[1:], mxnet_lines[1:]):
        assert float(ours.split()[1]) == pytest.approx(float(theirs.split()[1]), abs=1e-4)


def test_onnx_bad_input_is_one_clear_line(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a protobuf")
    image = tmp_path / "x.png"
    image.write_bytes(b"")
    for model, message in [(str(tmp_path / "missing.onnx"), "no ONNX model at"),
                           (str(broken), "cannot load the ONNX model")]:
        result = run_script("predict.py", "--model", model, str(image))
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    result = run_script("export.py", str(tmp_path), "--onnx")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_int8_export_is_refused_with_the_operator_onnx_lacks(tmp_path):
    net = gluon_cnn.get_model("lenet5", classes=10)
    net.initialize()
    prefix = str(tmp_path / "lenet5")
    deploy.export(net, prefix, (1, 1, 32, 32))
    deploy.quantize_export(prefix, mx.nd.random.uniform(shape=(16, 1, 32, 32)))
    with pytest.raises(gluon_cnn.UserError, match="cannot convert .*_contrib_quantize_v2"):
        deploy.export_onnx(prefix + "-int8")
