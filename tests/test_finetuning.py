"""Fine-tuning (train.py --pretrained): weights from a run or an export, a new head for another
class count, frozen features, the learning-rate multiplier, the weights' normalization, resume;
and the class subsets (--classes, --train-per-class) that fine-tuning experiments take."""
import json
import logging
import os

import mxnet as mx
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from gluon_cnn import get_model, torch_weights
from gluon_cnn.data import Splits, class_subset, first_per_class
from gluon_cnn.errors import UserError
from gluon_cnn.paths import file_digest
from gluon_cnn.training import checkpoint, train
from gluon_cnn.training.pretrained import load_into, read_pretrained
from helpers import quick_config, train_crashing_after
from torch_models import import_torchvision, with_random_statistics


def checkpoint_params(run):
    path, _ = checkpoint.latest_valid(os.path.join(run, "checkpoints"))
    return {name: array.asnumpy()
            for name, array in mx.nd.load(os.path.join(path, checkpoint.PARAMS)).items()}


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    """A CIFAR ResNet-20 trained one epoch on the 10 synthetic classes."""
    folder = tmp_path_factory.mktemp("base")
    train(quick_config(folder, net="cifar_resnet20", num_epochs=1, out=str(folder / "run"),
                       eval_train=False))
    return str(folder / "run")


def test_every_fitting_weight_is_loaded_and_another_class_count_gets_a_fresh_head(
        base_run, caplog):
    saved = checkpoint_params(base_run)
    net = get_model("cifar_resnet20", classes=3)
    net.initialize(mx.init.Xavier())
    net(mx.nd.zeros((1, 3, 32, 32)))
    initial_head = net.output.weight.data().asnumpy().copy()
    with caplog.at_level(logging.INFO, logger="gluon_cnn"):
        fresh = load_into(net, read_pretrained(base_run))
    assert fresh == ["output.weight", "output.bias"]
    assert "classifier has 10 classes and this run 3" in caplog.text
    params = net._collect_params_with_prefix()
    for name, value in saved.items():
        if not name.startswith("output."):
            np.testing.assert_array_equal(params[name].data().asnumpy(), value)
    np.testing.assert_array_equal(net.output.weight.data().asnumpy(), initial_head)


def test_frozen_features_keep_their_weights_and_statistics_while_the_head_learns(
        base_run, tmp_path):
    out = str(tmp_path / "tuned")
    train(quick_config(tmp_path, net="cifar_resnet20", num_epochs=1, out=out,
                       pretrained=base_run, freeze_features=True, only_classes="class2,class5",
                       train_per_class=8))
    before, after = checkpoint_params(base_run), checkpoint_params(out)
    features = [name for name in before if name.startswith("features.")]
    assert any(name.endswith("running_mean") for name in features)
    for name in features:
        np.testing.assert_array_equal(after[name], before[name])
    assert after["output.weight"].shape == (2, 64)
    recorded = json.load(open(os.path.join(out, "config.json")))
    assert recorded["classes"] == 2 and recorded["freeze_features"]
    assert recorded["pretrained_weights"]["sha256"] == file_digest(
        recorded["pretrained_weights"]["file"])
    assert recorded["pretrained_weights"]["net"] == "cifar_resnet20"


def test_the_learning_rate_multiplier_scales_the_loaded_weights_only(base_run, tmp_path):
    out = str(tmp_path / "tuned")
    train(quick_config(tmp_path, net="cifar_resnet20", num_epochs=1, out=out, optimizer="sgd",
                       lr=0.05, pretrained=base_run, pretrained_lr_mult=0.0,
                       only_classes="class1,class3,class4"))
    before, after = checkpoint_params(base_run), checkpoint_params(out)
    convolutions = [name for name in before if name.endswith(".weight")
                    and name.startswith("features.")]
    for name in convolutions:
        np.testing.assert_array_equal(after[name], before[name])
    # not frozen: batch norm still learns the new data's statistics
    assert not np.array_equal(after["features.0.0.1.running_mean"],
                              before["features.0.0.1.running_mean"])
    unmultiplied = str(tmp_path / "plain")
    train(quick_config(tmp_path, net="cifar_resnet20", num_epochs=1, out=unmultiplied,
                       optimizer="sgd", lr=0.05, pretrained=base_run,
                       only_classes="class1,class3,class4"))
    moved = checkpoint_params(unmultiplied)
    assert not np.array_equal(moved["features.0.0.0.weight"], before["features.0.0.0.weight"])


def test_imported_weights_bring_their_normalization(tmp_path):
    torch.manual_seed(0)
    reference = with_random_statistics(import_torchvision().models.resnet18(num_classes=10))
    weights = str(tmp_path / "r18.safetensors")
    save_file({name: tensor.contiguous() for name, tensor in reference.state_dict().items()},
              weights)
    prefix = str(tmp_path / "imported" / "resnet18")
    os.makedirs(os.path.dirname(prefix))
    torch_weights.import_weights("resnet18", weights, prefix, image_size=32)
    out = str(tmp_path / "tuned")
    train(quick_config(tmp_path, net="resnet18", num_epochs=1, out=out, lr=1e-9,
                       pretrained=os.path.dirname(prefix), freeze_features=True))
    recorded = json.load(open(os.path.join(out, "config.json")))
    assert recorded["normalize"] == "channel"
    params = checkpoint_params(out)
    np.testing.assert_allclose(params["input_normalization.mean"].ravel(),
                               torch_weights.IMAGENET_MEAN, rtol=1e-6)
    np.testing.assert_allclose(params["input_normalization.std"].ravel(),
                               torch_weights.IMAGENET_STD, rtol=1e-6)
    # the head's class count matched, so it was loaded too (and Adam at 1e-9 left it)
    np.testing.assert_allclose(params["output.weight"], reference.fc.weight.detach().numpy(),
                               atol=1e-6)


def test_resume_continues_from_the_checkpoint_not_from_the_pretrained_weights(
        base_run, tmp_path, monkeypatch):
    settings = dict(net="cifar_resnet20", num_epochs=2, pretrained=base_run,
                    only_classes="class0,class9")
    whole = str(tmp_path / "whole")
    train(quick_config(tmp_path, out=whole, **settings))
    pieces = str(tmp_path / "pieces")
    train_crashing_after(quick_config(tmp_path, out=pieces, **settings), 1, monkeypatch)
    train(quick_config(tmp_path, out=pieces, resume=True, **settings))
    expected, got = checkpoint_params(whole), checkpoint_params(pieces)
    for name, value in expected.items():
        np.testing.assert_array_equal(got[name], value)


def test_sources_that_do_not_fit_are_one_sentence(base_run, tmp_path):
    with pytest.raises(UserError, match="holds cifar_resnet20 weights, but --net is lenet5; "
                                        "pass --net cifar_resnet20"):
        train(quick_config(tmp_path, pretrained=base_run, out=str(tmp_path / "a")))
    lenet = str(tmp_path / "lenet")
    train(quick_config(tmp_path, num_epochs=1, out=lenet))
    with pytest.raises(UserError, match="does not fit lenet5: .* train at the image size"):
        train(quick_config(tmp_path, pretrained=lenet, image_size=40, out=str(tmp_path / "b")))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="the folder holds no export .* and no run"):
        read_pretrained(str(empty))
    with pytest.raises(UserError, match="neither a run folder .* nor an export"):
        read_pretrained(str(empty / "model"))
    with pytest.raises(UserError, match="act on the weights of --pretrained"):
        train(quick_config(tmp_path, freeze_features=True, out=str(tmp_path / "c")))


def test_class_subsets_relabel_in_the_order_given_and_keep_the_first_per_class():
    labels = np.array([0, 1, 2, 1, 2, 0, 2, 1])
    images = np.arange(len(labels))[:, None]
    splits = Splits((images, labels), (images[:3], labels[:3]), ["cat", "dog", "ship"])
    subset = class_subset(splits, ["ship", "cat"])
    assert subset.classes == ["ship", "cat"]
    assert subset.train[0].ravel().tolist() == [0, 2, 4, 5, 6]
    assert subset.train[1].tolist() == [1, 0, 0, 1, 0]
    assert subset.test[1].tolist() == [1, 0]
    firsts = first_per_class(splits.train, 2, splits.classes)
    assert firsts[0].ravel().tolist() == [0, 1, 2, 3, 4, 5]
    with pytest.raises(UserError, match="has no class bird; its classes are cat, dog, ship"):
        class_subset(splits, ["bird"])
    with pytest.raises(UserError, match="class cat has only 2 training images"):
        first_per_class(splits.train, 3, splits.classes)
