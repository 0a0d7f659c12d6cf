"""airbench94 in the suite: the patch whitening whitens, the convolutions start as
identities, the parameters the method treats specially are set so, the alternating flip
alternates, TTA weights its views as the paper, lookahead averages, fractional epochs stop
where they should, and the recipe holds the paper's hyper-parameters."""
import mxnet as mx
import numpy as np

import gluon_cnn
from gluon_cnn.csvlog import read_csv
from gluon_cnn.data import BatchIterator, random_crop_flip
from gluon_cnn.models.airbench import whitening_filters
from gluon_cnn.recipes import load_recipe
from gluon_cnn.training import TrainConfig, train
from gluon_cnn.training.averaging import Lookahead
from gluon_cnn.training.step import predict_scores
from helpers import quick_config, train_crashing_after


def correlated_images(count=32, size=32, seed=0):
    """Smooth colour images: neighbouring pixels and the three channels strongly correlated,
    as in photographs."""
    rng = np.random.RandomState(seed)
    base = rng.rand(count, 1, size // 4, size // 4)
    smooth = np.kron(base, np.ones((1, 1, 4, 4)))  # blocks of 4x4 equal pixels
    tint = rng.rand(count, 3, 1, 1) * 0.3
    return (smooth * np.array([1.0, 0.8, 0.6]).reshape(1, 3, 1, 1) + tint
            + 0.3 * rng.rand(count, 3, size, size)).astype(np.float32)


def patch_moments(images, weight):
    out = mx.nd.Convolution(mx.nd.array(images), mx.nd.array(weight), kernel=weight.shape[2:],
                            num_filter=weight.shape[0], no_bias=True).asnumpy()
    flat = out.transpose(0, 2, 3, 1).reshape(-1, out.shape[1])
    return flat.T @ flat / len(flat)


def test_the_whitening_filters_whiten_the_patches():
    images = correlated_images()
    raw = np.concatenate([np.eye(12).reshape(12, 3, 2, 2)] * 2)  # the patches as they are
    before = patch_moments(images, raw)[:12, :12]
    assert np.abs(before - np.diag(np.diag(before))).max() > 0.1  # strongly correlated
    filters = whitening_filters(images, 2, epsilon=5e-4)
    assert filters.shape == (24, 3, 2, 2)
    np.testing.assert_array_equal(filters[12:], -filters[:12])
    moments = patch_moments(images, filters[:12])
    off_diagonal = moments - np.diag(np.diag(moments))
    assert np.abs(off_diagonal).max() < 1e-4
    # each direction scaled to unit second moment, less the epsilon's share
    assert 0.9 < np.diag(moments).min() and np.diag(moments).max() < 1.0001
    assert np.all(np.diff(np.diag(moments)) <= 1e-6)  # largest eigenvalue first


def test_the_network_whitens_its_normalized_input_from_data():
    net = gluon_cnn.get_model("airbench94", normalize="channel", image_size=32)
    net.initialize()
    images = correlated_images()
    net(mx.nd.array(images[:2]))
    mean, std = images.mean(axis=(0, 2, 3)), images.std(axis=(0, 2, 3))
    net.input_normalization.set_statistics(mx.nd.array(mean), mx.nd.array(std))
    net.initialize_from_data(images)
    normalized = (images - mean.reshape(1, 3, 1, 1)) / std.reshape(1, 3, 1, 1)
    moments = patch_moments(normalized, net.whitening.weight.data().asnumpy()[:12])
    assert np.abs(moments - np.diag(np.diag(moments))).max() < 1e-4
    assert net.whitening.weight.grad_req == "null"


def test_convolutions_start_as_the_identity_on_their_first_filters():
    net = gluon_cnn.get_model("airbench94")
    net.initialize()
    net(mx.nd.zeros((1, 3, 32, 32)))
    conv = net.features[1].body[0]  # 24 -> 64 channels
    x = mx.nd.random.normal(shape=(2, 24, 8, 8))
    out = conv(x).asnumpy()
    np.testing.assert_allclose(out[:, :24], x.asnumpy(), rtol=1e-6, atol=1e-6)
    rest = conv.weight.data().asnumpy()[24:]
    bound = 1 / np.sqrt(24 * 9)
    assert np.abs(rest).max() <= bound and rest.std() > bound / 3


def test_batch_norm_shifts_learn_faster_with_the_same_decay_and_no_scale():
    net = gluon_cnn.get_model("airbench94")
    params = net.collect_params()
    betas = [param for name, param in params.items() if name.endswith("_beta")]
    gammas = [param for name, param in params.items() if name.endswith("_gamma")]
    assert len(betas) == 6 and all(p.lr_mult == 64 and p.wd_mult == 1 / 64 for p in betas)
    assert all(param.grad_req == "null" for param in gammas)


def orientations(batches, images, epoch):
    """+1 for each image of the epoch's (single) batch shown as it is, -1 mirrored, by label."""
    (data, label), = list(batches.batches(epoch))
    shown = (data.asnumpy() * 255).round().astype(np.uint8)
    originals = images[label.asnumpy().astype(int)].transpose(0, 3, 1, 2)
    found = {}
    for index, image, original in zip(label.asnumpy().astype(int), shown, originals):
        found[index] = 1 if np.array_equal(image, original) else -1 if np.array_equal(
            image, original[:, :, ::-1]) else 0
    return np.array([found[index] for index in range(len(images))])


def test_the_alternating_flip_alternates_every_image_between_epochs():
    rng = np.random.RandomState(0)
    images = rng.randint(1, 255, size=(64, 8, 8, 3)).astype(np.uint8)
    labels = np.arange(64)
    batches = BatchIterator(images, labels, 64, 8, shuffle=True, augment=True, crop_padding=0,
                            flip_mode="alternate", seed=3)
    seen = np.array([orientations(batches, images, epoch) for epoch in range(4)])
    assert (seen != 0).all()
    assert 16 < (seen[0] == -1).sum() < 48  # a random half mirrored at first
    np.testing.assert_array_equal(seen[1], -seen[0])  # each image the other way next epoch
    np.testing.assert_array_equal(seen[2], seen[0])
    np.testing.assert_array_equal(seen[3], seen[1])
    random_flips = BatchIterator(images, labels, 64, 8, shuffle=True, augment=True,
                                 crop_padding=0, seed=3)
    first, second = (orientations(random_flips, images, epoch) for epoch in (0, 1))
    assert not np.array_equal(second, -first)  # independent draws, not an alternation


def test_reflect_padding_shifts_the_image_without_zeros():
    image = np.arange(1, 1 + 6 * 6 * 3).reshape(1, 6, 6, 3).astype(np.uint8)
    rng = np.random.RandomState(0)
    for _ in range(20):
        crop = random_crop_flip(image, rng, padding=2, pad_mode="reflect",
                                flip=np.array([False]))
        assert crop.shape == image.shape and crop.min() > 0
    zero_padded = [random_crop_flip(image, rng, 2, flip=np.array([False])) for _ in range(20)]
    assert min(crop.min() for crop in zero_padded) == 0


class Corners(mx.gluon.HybridBlock):
    """Two "logits": the top-left and the top-right pixel of channel 0."""

    def hybrid_forward(self, F, x):
        return F.concat(F.slice(x, begin=(None, 0, 0, 0), end=(None, 1, 1, 1)).reshape((0, 1)),
                        F.slice(x, begin=(None, 0, 0, -1), end=(None, 1, 1, None)).reshape(
                            (0, 1)), dim=1)


def test_flip_translate_tta_weights_the_six_views_as_the_paper():
    image = mx.nd.array(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    # rows 0..3 hold 0-3, 4-7, 8-11, 12-15. The image and its mirror see the corners 0 and 3
    # both ways: (0 + 3) / 2 each. The one-pixel shifts of the reflected image both have
    # corners 5 and 6 (row 1, columns 1 and 2): (5 + 6) / 2 each, mirrored or not.
    scores = predict_scores(Corners(), image, "flip-translate").asnumpy()
    np.testing.assert_allclose(scores, [[0.5 * 1.5 + 0.5 * 5.5] * 2])
    plain = predict_scores(Corners(), image, "none").asnumpy()
    np.testing.assert_allclose(plain, [[0, 3]])


def test_lookahead_pulls_the_weights_to_a_slow_average_every_k_steps():
    net = mx.gluon.nn.Dense(1, in_units=1, use_bias=False)
    net.initialize(mx.init.Zero())
    lookahead = Lookahead(net, every=2, total_steps=4)
    net.weight.set_data(mx.nd.ones((1, 1)))
    lookahead.after_step(1)  # not a multiple of 2: nothing happens
    assert net.weight.data().asscalar() == 1
    lookahead.after_step(2)  # decay 0.95^2 (2/4)^3 = 0.1128125: slow = 0.8871875, and w = slow
    np.testing.assert_allclose(net.weight.data().asscalar(), 0.8871875, rtol=1e-6)
    net.weight.set_data(mx.nd.full((1, 1), 3.0))
    lookahead.after_step(3)
    lookahead.after_step(4)  # decay 0.9025: 0.9025 * 0.8871875 + 0.0975 * 3
    np.testing.assert_allclose(net.weight.data().asscalar(), 1.0931867, rtol=1e-6)
    net.weight.set_data(mx.nd.full((1, 1), 7.0))
    lookahead = Lookahead(net, every=2, total_steps=3)
    lookahead.after_step(3)  # the last step: the weights become the slow copy (7 from the start)
    net.weight.set_data(mx.nd.full((1, 1), 9.0))
    lookahead.after_step(3)
    assert net.weight.data().asscalar() == 7


def test_a_parameter_with_lr_mult_0_is_frozen_momentum_included():
    net = mx.gluon.nn.Dense(1, in_units=1, use_bias=False)
    net.initialize(mx.init.One())
    trainer = mx.gluon.Trainer(net.collect_params(), "nesterovsgd",
                               {"learning_rate": 0.1, "momentum": 0.9})
    for frozen in (False, True):
        net.weight.lr_mult = 0.0 if frozen else 1.0
        before = net.weight.data().asscalar()
        with mx.autograd.record():
            loss = net(mx.nd.ones((1, 1))).sum()
        loss.backward()
        trainer.step(1)
        assert (net.weight.data().asscalar() == before) == frozen


def test_a_fractional_epoch_count_trains_part_of_the_last_epoch(tmp_path):
    train(quick_config(tmp_path, num_epochs=1.5, synthetic_samples=128, batch_size=16))
    iterations = read_csv(str(tmp_path / "run" / "iterations.csv"))
    assert int(iterations[-1]["iteration"]) == 12  # 8 steps an epoch, 1.5 epochs
    assert [row["epoch"] for row in read_csv(str(tmp_path / "run" / "metrics.csv"))] == ["0", "1"]
    assert (tmp_path / "run" / "lenet5-0001.params").is_file()


def test_lookahead_runs_resume_exactly(tmp_path, monkeypatch):
    settings = dict(num_epochs=2, lookahead=3, optimizer="nag", momentum=0.85, lr=0.05)
    train(quick_config(tmp_path, out=str(tmp_path / "whole"), **settings))
    pieces = quick_config(tmp_path, out=str(tmp_path / "pieces"), **settings)
    train_crashing_after(pieces, 1, monkeypatch)
    train(quick_config(tmp_path, out=str(tmp_path / "pieces"), resume=True, **settings))
    final = ("checkpoints", "epoch-0001", "net.params")
    whole = mx.nd.load(str(tmp_path.joinpath("whole", *final)))
    resumed = mx.nd.load(str(tmp_path.joinpath("pieces", *final)))
    for name, value in whole.items():
        np.testing.assert_array_equal(resumed[name].asnumpy(), value.asnumpy())


def test_the_recipe_is_the_papers_hyper_parameters_on_the_mean_loss():
    settings = load_recipe("airbench94").settings
    config = TrainConfig(**settings).validate()
    momentum, batch = settings["momentum"], settings["batch_size"]
    # the paper: lr 11.5 and weight decay 0.0153 per 1024 examples, decoupled from the
    # momentum's step growth 1 + 1 / (1 - momentum), on the summed loss
    kilostep = 1024 * (1 + 1 / (1 - momentum))
    assert (momentum, batch) == (0.85, 1024)
    np.testing.assert_allclose(settings["lr"], 11.5 / kilostep * batch, rtol=1e-9)
    np.testing.assert_allclose(settings["lr"] * settings["wd"], 0.0153 * batch / kilostep,
                               rtol=1e-4)
    np.testing.assert_allclose([settings["warmup_lr"], settings["final_lr"]],
                               [0.2 * settings["lr"], 0.07 * settings["lr"]])
    assert config.total_steps(50000 // batch) == 476
    np.testing.assert_allclose(settings["warmup_epochs"] / settings["num_epochs"], 0.23)
