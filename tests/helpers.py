"""Tiny data sets written in every layout the loaders accept."""
import os

import cv2
import numpy as np

from gluon_cnn.data.cifar import write_binary_batch, write_python_batch
from gluon_cnn.data.synthetic import make_synthetic


def tiny_cifar(count=40, seed=0):
    return make_synthetic(count, classes=10, size=32, seed=seed)


def write_cifar_binary(folder, per_batch=20):
    os.makedirs(folder, exist_ok=True)
    for index in range(1, 6):
        write_binary_batch(os.path.join(folder, "data_batch_%d.bin" % index),
                           *tiny_cifar(per_batch, seed=index))
    write_binary_batch(os.path.join(folder, "test_batch.bin"), *tiny_cifar(per_batch, seed=9))
    return folder


def write_cifar_python(folder, per_batch=20):
    os.makedirs(folder, exist_ok=True)
    for index in range(1, 6):
        write_python_batch(os.path.join(folder, "data_batch_%d" % index),
                           *tiny_cifar(per_batch, seed=index))
    write_python_batch(os.path.join(folder, "test_batch"), *tiny_cifar(per_batch, seed=9))
    return folder


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
