"""Tiny data sets written in every layout the loaders accept."""
import os

import cv2
import numpy as np

from gluon_cnn.data.cifar import write_binary_batch, write_python_batch
from gluon_cnn.data.synthetic import make_synthetic
from gluon_cnn.training import TrainConfig


def tiny_cifar(count=40, seed=0):
    return make_synthetic(count, classes=10, size=32, seed=seed)


def _write_release(folder, writer, suffix, per_batch):
    os.makedirs(folder, exist_ok=True)
    names = ["data_batch_%d" % index for index in range(1, 6)] + ["test_batch"]
    for seed, name in zip([1, 2, 3, 4, 5, 9], names):
        writer(os.path.join(folder, name + suffix), *tiny_cifar(per_batch, seed=seed))
    return folder


def write_cifar_binary(folder, per_batch=20):
    return _write_release(folder, write_binary_batch, ".bin", per_batch)


def write_cifar_python(folder, per_batch=20):
    return _write_release(folder, write_python_batch, "", per_batch)


def write_image_folder(root, classes=("cat", "dog", "ship"), per_class=(12, 4), size=32,
                       extension=".png"):
    """root/train/<class>/ and root/test/<class>/ with learnable, class-coloured images."""
    rng = np.random.RandomState(0)
    for split, count in zip(("train", "test"), per_class):
        for label, name in enumerate(classes):
            folder = os.path.join(root, split, name)
            os.makedirs(folder, exist_ok=True)
            for index in range(count):
                colour = np.array([60 + 70 * label, 200 - 60 * label, 120], np.int32)
                image = np.clip(colour + rng.randint(-30, 31, size=(size, size, 3)), 0, 255)
                cv2.imwrite(os.path.join(folder, "%04d%s" % (index, extension)),
                            image.astype(np.uint8)[:, :, ::-1])
    return root


def train_crashing_after(config, epochs, monkeypatch):
    """Train ``config`` with a crash right after the checkpoint of ``epochs`` epochs is
    written, as a machine failure would leave it; returns once the crash happened."""
    import pytest
    from gluon_cnn.training import checkpoint, train
    real_save = checkpoint.save

    def save_then_crash(folder, epoch, *args, **kwargs):
        path = real_save(folder, epoch, *args, **kwargs)
        if epoch == epochs:
            raise RuntimeError("simulated crash")
        return path
    monkeypatch.setattr(checkpoint, "save", save_then_crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(config)
    monkeypatch.setattr(checkpoint, "save", real_save)


def quick_config(tmp_path, **overrides):
    """A seconds-long LeNet-5 run on synthetic 32-px images; ``overrides`` change any setting."""
    settings = dict(net="lenet5", dataset="synthetic", image_size=32, num_epochs=2,
                    batch_size=16, optimizer="adam", lr=0.003, synthetic_samples=128,
                    out=str(tmp_path / "run"),
                    progress=False, log_interval=2)
    settings.update(overrides)
    return TrainConfig(**settings)
