"""What the main job depends on, pinned: a change to any of these fails here first.

The Gluon tutorial's recipe (the defaults), the details of its GoogLeNet that keep its shapes
and counts but not its behaviour, what feeds the smoothed loss, the epoch line's format, the
learning rate each schedule gives at chosen iterations, and a golden run: the first smoothed
losses of the main network on fixed data against values committed here.
"""
import re

import mxnet as mx
import numpy as np
import pytest
from mxnet import gluon

import gluon_cnn
from gluon_cnn.csvlog import read_csv
from gluon_cnn.training import TrainConfig, train
from gluon_cnn.training.schedules import make_lr_schedule
from gluon_cnn.training.step import build_for_training, make_trainer, train_step


def test_the_defaults_are_the_gluon_tutorials_recipe():
    config = TrainConfig()
    assert (config.net, config.dataset, config.image_size, config.resize) == (
        "googlenet", "cifar10", 96, "imresize")
    assert (config.optimizer, config.lr, config.momentum, config.wd) == ("sgd", 0.1, 0.0, 0.0)
    assert (config.batch_size, config.num_epochs, config.init) == (64, 20, "xavier")
    assert (config.lr_mode, config.lr_decay_epoch, config.warmup_epochs) == ("step", "", 0)
    assert config.eval_train and not config.augment and config.normalize == "none"
    assert (config.label_smoothing, config.mixup, config.cutmix, config.ema) == (0, 0, 0, 0)
    assert (config.tta, config.no_bias_decay, config.clip_grad_norm) == ("none", False, 0)
    assert config.last_batch == "discard" and config.hybridize and config.seed == 0


def test_the_tutorial_googlenets_details():
    net = gluon_cnn.get_model("googlenet")
    stem2 = list(net.features._children.values())[1]
    one_by_one, three_by_three = list(stem2._children.values())[:2]
    assert one_by_one._kwargs["kernel"] == (1, 1) and one_by_one.act is None  # no ReLU
    assert three_by_three._kwargs["kernel"] == (3, 3) and three_by_three.act is not None
    last_stage = list(net.features._children.values())[-1]
    pool = list(last_stage._children.values())[-1]
    assert isinstance(pool, gluon.nn.AvgPool2D)
    assert pool._kwargs["kernel"] == (2, 2) and pool._kwargs["stride"] == (1, 1)
    dropout, flatten, dense = net.output._children.values()
    assert isinstance(dropout, gluon.nn.Dropout) and dropout._rate == 0.4
    assert isinstance(flatten, gluon.nn.Flatten) and isinstance(dense, gluon.nn.Dense)


def test_the_smoothed_loss_is_fed_by_the_main_heads_batch_mean_only():
    mx.random.seed(0)
    net, train_net = build_for_training("googlenet_paper", 10, 3, 96, mx.init.Xavier(),
                                        [mx.cpu()])
    trainer = make_trainer(net, "sgd", {"learning_rate": 0.0})  # the weights stay put
    data = mx.nd.random.uniform(shape=(4, 3, 96, 96))
    label = mx.nd.array([0, 1, 2, 3])
    losses = []
    for aux_weight in (0.3, 100.0):
        mx.random.seed(1)  # the same dropout masks both times
        batch_loss, _, outputs = train_step(train_net, trainer,
                                            gluon.loss.SoftmaxCrossEntropyLoss(), data, label,
                                            [mx.cpu()], aux_weight)
        main = gluon.loss.SoftmaxCrossEntropyLoss()(outputs[0], label).mean().asscalar()
        assert batch_loss == pytest.approx(main, rel=1e-6)
        losses.append(batch_loss)
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)  # the auxiliary losses stay out


EPOCH_LINE = re.compile(r"^Epoch (\d+), Moving Train Avg loss (\d+\.\d{5}), Train acc "
                        r"(\d\.\d{5}), Test acc (\d\.\d{5}), Time consume (\d+\.\d{5}) s\.$")


def test_the_epoch_lines_format_and_slots(tmp_path):
    out = tmp_path / "run"
    train(TrainConfig(net="lenet5", dataset="synthetic", image_size=32, synthetic_samples=64,
                      batch_size=16, num_epochs=2, out=str(out), progress=False))
    lines = [line for line in (out / "train.log").read_text().splitlines()
             if line.startswith("Epoch ")]
    rows = read_csv(str(out / "metrics.csv"))
    assert len(lines) == len(rows) == 2
    for line, row in zip(lines, rows):
        match = EPOCH_LINE.match(line)
        assert match, line
        epoch, loss, train_acc, test_acc, seconds = match.groups()
        assert int(epoch) == int(row["epoch"])
        for text, column in ((loss, "smoothed_loss"), (train_acc, "train_acc"),
                             (test_acc, "test_acc"), (seconds, "seconds")):
            assert float(text) == pytest.approx(float(row[column]), abs=1e-5), column
    assert "TTA" not in "\n".join(lines)


# (mode, iteration) -> rate, 11 iterations an epoch, lr 0.1, 1 warm-up epoch (linear from 0),
# 4 epochs, step mode decaying by 0.1 at epochs 2 and 3. Worked out by hand from gluoncv's
# definitions, in which a phase of n iterations moves from its start to its end value in
# n - 1 steps: the warm-up reaches 0.05 at iteration 5 of 0..10; the 33 iterations after it
# (11..43) are half done at iteration 27, where cosine is at half the rate, poly (power 2) at
# a quarter, linear at half.
SCHEDULE_POINTS = {
    ("step", 5): 0.05, ("step", 11): 0.1, ("step", 21): 0.1, ("step", 22): 0.01,
    ("step", 33): 0.001,
    ("cosine", 5): 0.05, ("cosine", 11): 0.1, ("cosine", 27): 0.05, ("cosine", 43): 0.0,
    ("poly", 27): 0.025, ("linear", 27): 0.05, ("linear", 43): 0.0,
}


@pytest.mark.parametrize("mode, iteration", sorted(SCHEDULE_POINTS))
def test_learning_rate_at_chosen_iterations(mode, iteration):
    config = TrainConfig(lr=0.1, lr_mode=mode, warmup_epochs=1, num_epochs=4,
                         lr_decay_epoch="2,3")
    schedule = make_lr_schedule(config, iterations_per_epoch=11)
    assert schedule(iteration) == pytest.approx(SCHEDULE_POINTS[mode, iteration], abs=1e-9)


# The first eight smoothed losses of `googlenet` with the defaults (lr 0.1, plain SGD,
# Xavier, seed 0, batch 4) on the synthetic set's first 32 images, as iterations.csv wrote
# them on 2 AMD EPYC Zen 3 cores (AVX2). Their drift from one step to the next is about 1e-3;
# other CPUs' rounding moves them by about 1e-6; lr 0.05 instead of 0.1 moves the fourth by
# 3e-3, momentum 0.9 by 2e-2.
GOLDEN_LOSSES = [2.30064, 2.29949, 2.30204, 2.30783, 2.30477, 2.29636, 2.30789, 2.31856]


def test_golden_first_losses_of_the_main_network(tmp_path):
    out = tmp_path / "run"
    train(TrainConfig(dataset="synthetic", synthetic_samples=32, batch_size=4, num_epochs=1,
                      log_interval=1, out=str(out), progress=False, max_test_samples=4,
                      eval_train=False))
    losses = [float(row["smoothed_loss"]) for row in read_csv(str(out / "iterations.csv"))]
    np.testing.assert_allclose(losses, GOLDEN_LOSSES, atol=3e-4, rtol=0)
