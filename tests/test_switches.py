"""The training switches, each by its effect: label smoothing, mixup and cutmix, weight
averaging, test-time augmentation, no bias decay, gradient clipping, the crop padding, input
normalization, the warm-up modes, TensorBoard; and an exact resume with all of them on."""
import glob
import os
import struct

import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, gluon

from gluon_cnn import get_model
from gluon_cnn.data import normalization_statistics, random_crop_flip
from gluon_cnn.training import TrainConfig, checkpoint, train
from gluon_cnn.training.averaging import WeightAverage
from gluon_cnn.training.regularization import TargetSettings, training_targets
from gluon_cnn.training.schedules import make_lr_schedule
from gluon_cnn.training.step import (evaluate, exclude_from_weight_decay, make_trainer,
                                     predict_scores, train_step)
from helpers import quick_config, train_crashing_after

CLASSES = 10


def indexed_batch(count=8, size=8):
    """Images whose every pixel holds the image's own index, labels = index."""
    data = mx.nd.array(np.arange(count, dtype=np.float32)[:, None, None, None]
                       * np.ones((1, 3, size, size), np.float32))
    return data, mx.nd.array(np.arange(count), dtype=np.float32)


def test_label_smoothing_charges_a_confident_correct_prediction():
    data, labels = indexed_batch()
    logits = mx.nd.one_hot(labels, CLASSES) * 30  # sure, and right
    loss = gluon.loss.SoftmaxCrossEntropyLoss(sparse_label=False)
    _, hard = training_targets(data, labels, TargetSettings(CLASSES, 0.0, mixup=1e-9), None,
                               mixing=False)
    _, soft = training_targets(data, labels, TargetSettings(CLASSES, 0.2), None)
    assert loss(logits, hard).mean().asscalar() < 1e-6
    # 0.2 of the target sits on the nine wrong classes, where the prediction is ~e^-30
    assert loss(logits, soft).mean().asscalar() > 0.2 * 9 / 10 * 29
    np.testing.assert_allclose(soft.sum(axis=1).asnumpy(), 1, rtol=1e-6)
    assert soft.argmax(axis=1).asnumpy().tolist() == labels.asnumpy().tolist()


def test_mixup_mixes_each_image_and_its_target_by_the_same_share():
    data, labels = indexed_batch()
    mixed, targets = training_targets(data, labels, TargetSettings(CLASSES, mixup=1.0),
                                      np.random.RandomState(3))
    values, targets = mixed.asnumpy()[:, 0, 0, 0], targets.asnumpy()
    assert not np.allclose(values, np.arange(8))
    for index in range(8):
        sources = np.nonzero(targets[index] > 1e-6)[0]
        # the image's value is the target-weighted mean of its sources' indices
        np.testing.assert_allclose(values[index], (targets[index] * np.arange(CLASSES)).sum(),
                                   rtol=1e-5)
        assert index in sources and len(sources) <= 2
        assert (mixed.asnumpy()[index] == values[index]).all()  # a blend, everywhere alike


def test_cutmix_pastes_a_box_whose_area_is_the_partners_target_share():
    data, labels = indexed_batch(size=16)
    mixed, targets = training_targets(data, labels, TargetSettings(CLASSES, cutmix=1.0),
                                      np.random.RandomState(5))
    for index in range(8):
        pixels = mixed.asnumpy()[index, 0]
        pasted = pixels != index
        if pasted.any():
            partner = int(pixels[pasted][0])
            rows, cols = np.nonzero(pasted)
            assert pasted.sum() == (np.ptp(rows) + 1) * (np.ptp(cols) + 1)  # one box
            np.testing.assert_allclose(targets.asnumpy()[index, partner], pasted.mean(),
                                       rtol=1e-6)
        np.testing.assert_allclose(targets.asnumpy()[index, index], 1 - pasted.mean(), rtol=1e-6)


def test_mixing_stops_for_the_last_epochs(tmp_path, monkeypatch):
    from gluon_cnn.training import loop
    seen = []
    real = loop.training_targets

    def record(data, labels, settings, rng, mixing=True):
        seen.append(mixing)
        return real(data, labels, settings, rng, mixing)
    monkeypatch.setattr(loop, "training_targets", record)
    train(quick_config(tmp_path, num_epochs=3, mixup=1.0, mix_off_epochs=1,
                       synthetic_samples=32))
    per_epoch = len(seen) // 3
    assert seen == [True] * 2 * per_epoch + [False] * per_epoch


def test_flip_tta_makes_the_prediction_mirror_invariant():
    net = gluon.nn.Dense(CLASSES)
    net.initialize(mx.init.Normal(1.0))
    image = mx.nd.random.uniform(shape=(1, 3, 4, 5))
    mirror = image.flip(axis=3)
    plain = predict_scores(net, image), predict_scores(net, mirror)
    assert not np.allclose(plain[0].asnumpy(), plain[1].asnumpy())
    np.testing.assert_allclose(predict_scores(net, image, "flip").asnumpy(),
                               predict_scores(net, mirror, "flip").asnumpy(), rtol=1e-5)


def test_evaluate_with_flip_tta_counts_mirror_averaged_predictions():
    # a network that looks at the left half only: class 0 when it is bright, else class 1
    class LeftHalf(gluon.HybridBlock):
        def hybrid_forward(self, F, x):
            left = x.slice_axis(axis=3, begin=0, end=2).mean(axis=(1, 2, 3)).reshape((-1, 1))
            return F.concat(left * 10, F.ones_like(left) * 4, dim=1)
    images = np.zeros((4, 3, 2, 4), np.float32)
    images[:2, :, :, :2] = 1  # class 0 shown on the left: seen either way
    images[2:, :, :, 2:] = 1  # class 0 shown on the right: only the mirror view sees it
    batches = [(mx.nd.array(images), mx.nd.array([0, 0, 0, 0]))]
    assert evaluate(LeftHalf(), batches, [mx.cpu()]) == 0.5
    assert evaluate(LeftHalf(), batches, [mx.cpu()], tta="flip") == 1.0


def small_net(classes=CLASSES):
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Conv2D(4, 3), gluon.nn.BatchNorm(), gluon.nn.Dense(classes))
    net.initialize(mx.init.Normal(0.5))
    net(mx.nd.ones((2, 3, 6, 6)))
    return net


def test_weight_average_lags_the_weights_and_is_swapped_in_for_evaluation():
    net = small_net()
    weight = net[2].weight
    start = weight.data().copy()
    average = WeightAverage(net, 0.9)
    for _ in range(50):
        weight.set_data(weight.data() + 1)
        average.update()
    trained = weight.data().copy()
    with average.averaged_weights():
        averaged = weight.data().copy()
    lag = (trained - averaged).mean().asscalar()
    assert 1 < lag < 50  # behind the weights, ahead of the start
    assert (averaged - start).mean().asscalar() > 1
    np.testing.assert_array_equal(weight.data().asnumpy(), trained.asnumpy())  # restored


def test_no_bias_decay_leaves_biases_and_batch_norm_alone():
    net = small_net()
    excluded = exclude_from_weight_decay(net)
    assert excluded == 4  # conv bias, BN gamma and beta, dense bias
    trainer = make_trainer(net, "sgd", {"learning_rate": 0.1, "wd": 0.5})
    before = {name: param.data().copy() for name, param in net.collect_params().items()}
    with autograd.record():
        loss = net(mx.nd.ones((2, 3, 6, 6))).sum() * 0  # zero gradient: only decay moves
    loss.backward()
    trainer.step(1)
    for name, param in net.collect_params().items():
        moved = not np.array_equal(param.data().asnumpy(), before[name].asnumpy())
        if name.endswith("weight"):
            assert moved, name
        elif param.grad_req != "null":
            assert not moved, name


@pytest.mark.parametrize("clip, bounded", [(0.0, False), (0.01, True)])
def test_gradient_clipping_bounds_the_update(clip, bounded):
    net = small_net()
    trainer = make_trainer(net, "sgd", {"learning_rate": 1.0}, update_locally=bool(clip))
    trained = [param for param in net.collect_params().values() if param.grad_req != "null"]
    before = [param.data().copy() for param in trained]
    data, labels = mx.nd.ones((4, 3, 6, 6)) * 50, mx.nd.array([0, 1, 2, 3])
    train_step(net, trainer, gluon.loss.SoftmaxCrossEntropyLoss(), data, labels, [mx.cpu()],
               0.0, clip_grad_norm=clip)
    change = np.sqrt(sum(((param.data() - old) ** 2).sum().asscalar()
                         for param, old in zip(trained, before)))
    assert (change <= 0.01 * 1.0001) == bounded, change


def test_crop_padding_bounds_the_shift():
    image = np.zeros((1, 9, 9, 1), np.uint8)
    image[0, 4, 4] = 255
    positions = set()
    for seed in range(60):
        out = random_crop_flip(image, np.random.RandomState(seed), padding=2)
        positions.add(tuple(np.argwhere(out[0, :, :, 0])[0]))
    rows, cols = zip(*positions)
    assert (min(rows), max(rows), min(cols), max(cols)) == (2, 6, 2, 6)


@pytest.mark.parametrize("mode", ["pixel", "channel"])
def test_input_normalization_centres_the_training_images(mode):
    rng = np.random.RandomState(0)
    images = (rng.rand(64, 8, 8, 3) * np.array([50, 120, 250])).astype(np.uint8)
    net = get_model("cifar_resnet20", normalize=mode, image_size=8)
    net.initialize()
    mean, std = normalization_statistics(images, mode, 8)
    net.input_normalization.set_statistics(mx.nd.array(mean),
                                           None if std is None else mx.nd.array(std))
    scaled = mx.nd.array(images.transpose(0, 3, 1, 2).astype(np.float32) / 255)
    normalized = net.normalized(scaled).asnumpy()
    if mode == "pixel":
        np.testing.assert_allclose(normalized.mean(axis=0), 0, atol=1e-5)
    else:
        np.testing.assert_allclose(normalized.mean(axis=(0, 2, 3)), 0, atol=1e-5)
        np.testing.assert_allclose(normalized.std(axis=(0, 2, 3)), 1, rtol=1e-3)


def test_the_export_carries_the_normalization(tmp_path):
    from gluon_cnn.deploy import load_predictor
    result = train(quick_config(tmp_path, net="cifar_resnet20", optimizer="sgd", lr=0.05,
                                normalize="pixel", num_epochs=1, synthetic_samples=32))
    net = result["net"]
    mean = net.input_normalization.mean.data()
    assert mean.abs().sum().asscalar() > 0
    batch = mx.nd.random.uniform(shape=(2, 3, 32, 32))
    predictor, _ = load_predictor(result["symbol"][:-len("-symbol.json")])
    np.testing.assert_allclose(predictor(batch), net(batch).asnumpy(), rtol=1e-4,
                               atol=1e-5)


def test_constant_warm_up_then_the_rate():
    config = TrainConfig(lr=0.1, warmup_epochs=1, warmup_mode="constant", warmup_lr=0.01,
                         num_epochs=3)
    schedule = make_lr_schedule(config, iterations_per_epoch=10)
    assert [round(schedule(i), 6) for i in (0, 5, 9, 10, 25)] == [0.01, 0.01, 0.01, 0.1, 0.1]
    linear = make_lr_schedule(TrainConfig(lr=0.1, warmup_epochs=1, num_epochs=3), 10)
    assert linear(0) == 0 and 0.04 < linear(5) < 0.06 and linear(10) == pytest.approx(0.1)


def read_event_tags(folder):
    """Every scalar tag and the text plugin's tags in a TensorBoard event file (TFRecord
    frames: 8-byte length, 4-byte CRC, payload, 4-byte CRC)."""
    from tensorboardX.proto import event_pb2
    tags = {}
    for path in glob.glob(os.path.join(folder, "events.out.tfevents.*")):
        with open(path, "rb") as handle:
            data = handle.read()
        position = 0
        while position < len(data):
            length = struct.unpack("<Q", data[position:position + 8])[0]
            event = event_pb2.Event()
            event.ParseFromString(data[position + 12:position + 12 + length])
            position += 16 + length
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(value.simple_value)
    return tags


def test_tensorboard_logs_iterations_epochs_and_the_config(tmp_path):
    pytest.importorskip("tensorboardX")
    train(quick_config(tmp_path, tensorboard=True, num_epochs=2, synthetic_samples=32))
    tags = read_event_tags(str(tmp_path / "run" / "tensorboard"))
    assert len(tags["epoch/test_acc"]) == 2
    assert len(tags["train/lr"]) == len(tags["train/smoothed_loss"]) >= 2
    assert any(tag.startswith("config") for tag in tags)


ALL_SWITCHES = dict(net="cifar_resnet20", optimizer="nag", momentum=0.9, lr=0.05, wd=5e-4,
                    no_bias_decay=True, label_smoothing=0.1, mixup=0.4, cutmix=1.0,
                    mix_off_epochs=1, ema=0.9, tta="flip", clip_grad_norm=2.0, augment=True,
                    crop_padding=2, normalize="channel", lr_mode="cosine", warmup_epochs=1,
                    num_epochs=3, synthetic_samples=48, batch_size=16)


def test_every_switch_on_resumes_bit_for_bit(tmp_path, monkeypatch):
    straight = train(quick_config(tmp_path / "a", **ALL_SWITCHES))
    train_crashing_after(quick_config(tmp_path / "b", **ALL_SWITCHES), 2, monkeypatch)
    resumed = train(quick_config(tmp_path / "b", resume=True, **ALL_SWITCHES))
    for name in ("net.params", "average.params", "optimizer.params"):
        a = mx.nd.load(str(tmp_path / "a" / "run" / "checkpoints" / "epoch-0002" / name))
        b = mx.nd.load(str(tmp_path / "b" / "run" / "checkpoints" / "epoch-0002" / name))
        assert sorted(a) == sorted(b)
        for key in a:
            np.testing.assert_array_equal(a[key].asnumpy(), b[key].asnumpy(), err_msg=key)
    assert straight["test_acc_tta"] == resumed["test_acc_tta"]


def test_the_export_and_evaluation_use_the_averaged_weights(tmp_path):
    result = train(quick_config(tmp_path, net="cifar_resnet20", optimizer="sgd", lr=0.05,
                                ema=0.5, num_epochs=1, synthetic_samples=32))
    folder = str(tmp_path / "run")
    last = checkpoint.latest_valid(os.path.join(folder, "checkpoints"))[0]
    trained = mx.nd.load(os.path.join(last, "net.params"))
    exported = mx.nd.load(result["params"])
    average = mx.nd.load(os.path.join(last, "average.params"))
    weight = "features.0.0.0.weight"
    exported_weight = [array for name, array in exported.items()
                       if name.endswith("conv0_weight")][0]
    np.testing.assert_array_equal(exported_weight.asnumpy(), average[weight].asnumpy())
    assert not np.array_equal(exported_weight.asnumpy(), trained[weight].asnumpy())


def test_a_cutmix_box_that_rounds_to_nothing_leaves_the_images():
    data, labels = indexed_batch(size=4)

    class NearOne(np.random.RandomState):
        def beta(self, a, b):
            return 0.999  # a box of sqrt(0.001) * 4 pixels: none
    mixed, targets = training_targets(data, labels, TargetSettings(CLASSES, cutmix=1.0),
                                      NearOne(0))
    np.testing.assert_array_equal(mixed.asnumpy(), data.asnumpy())
    np.testing.assert_array_equal(targets.argmax(axis=1).asnumpy(), labels.asnumpy())
    assert targets.max().asscalar() == 1.0  # no area pasted: the target is the image's own


def nesterov_step(optimizer, weight, grad, state):
    weight, state = weight.copy(), None if state is None else state.copy()
    optimizer.update(0, weight, grad, state)
    return weight, state


def test_nag_is_mxnets_rule_without_weight_decay_and_nesterovs_with_it():
    from gluon_cnn.training.optimizers import NesterovSGD
    rng = np.random.RandomState(0)
    weight, grad, momentum = (mx.nd.array(rng.randn(1000)) for _ in range(3))
    ours = NesterovSGD(learning_rate=0.1, momentum=0.9, wd=0.0)
    theirs = mx.optimizer.NAG(learning_rate=0.1, momentum=0.9, wd=0.0)
    for a, b in zip(nesterov_step(ours, weight, grad, momentum),
                    nesterov_step(theirs, weight, grad, momentum)):
        np.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-5, atol=1e-6)
    # with weight decay the momentum follows plain momentum SGD's (MXNet's fused SGD
    # operator, which reads the weight before updating it), MXNet's NAG does not
    decayed = NesterovSGD(learning_rate=0.1, momentum=0.9, wd=0.05)
    sgd = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=0.05)
    _, our_state = nesterov_step(decayed, weight, grad, momentum)
    _, sgd_state = nesterov_step(sgd, weight, grad, momentum)
    np.testing.assert_allclose(our_state.asnumpy(), sgd_state.asnumpy(), rtol=1e-5, atol=1e-6)
    _, mxnet_nag_state = nesterov_step(mx.optimizer.NAG(learning_rate=0.1, momentum=0.9,
                                                        wd=0.05), weight, grad, momentum)
    assert np.abs(mxnet_nag_state.asnumpy() - sgd_state.asnumpy()).max() > 1e-4


def test_nag_with_weight_decay_trains_the_same_twice(tmp_path):
    settings = dict(net="cifar_resnet20", optimizer="nag", momentum=0.9, lr=0.05, wd=5e-4,
                    num_epochs=2, synthetic_samples=32, batch_size=16)
    train(quick_config(tmp_path / "a", **settings))
    train(quick_config(tmp_path / "b", **settings))
    a, b = (mx.nd.load(str(tmp_path / run / "run" / "checkpoints" / "epoch-0001" / "net.params"))
            for run in "ab")
    for key in a:
        np.testing.assert_array_equal(a[key].asnumpy(), b[key].asnumpy(), err_msg=key)
