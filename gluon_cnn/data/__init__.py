"""Data: CIFAR-10 in its on-disk layouts, image folders, synthetic images, batch transforms."""
import collections

from ..errors import UserError
from .batches import (FLIP_MODES, PAD_MODES, RESIZE_MODES, BatchIterator, alternating_flips,
                      normalization_statistics, random_crop_flip,
                      to_network_input)
from .cifar import CLASSES as CIFAR10_CLASSES
from .cifar import load_cifar10
from .imagefolder import load_image_folder
from .subsets import class_subset, first_per_class
from .synthetic import make_synthetic

DATASETS = ("cifar10", "imagefolder", "synthetic")
Splits = collections.namedtuple("Splits", "train test classes")


def load_dataset(name, data_dir=None, image_size=96, synthetic_samples=1024,
                 synthetic_classes=10, num_workers=2, seed=0):
    """Splits(train=(images, labels), test=(images, labels), classes) as uint8 NHWC arrays.
    The synthetic set has ``synthetic_samples`` training images and a quarter as many test
    images."""
    if name == "cifar10":
        return Splits(*load_cifar10(data_dir, num_workers=num_workers))
    if name == "imagefolder":
        if not data_dir:
            raise UserError("--dataset imagefolder needs --data-dir holding train/<class>/ "
                            "and test/<class>/ folders.")
        return Splits(*load_image_folder(data_dir, size=image_size, num_workers=num_workers))
    if name == "synthetic":
        train = make_synthetic(synthetic_samples, synthetic_classes, 32, seed)
        test = make_synthetic(max(1, synthetic_samples // 4), synthetic_classes, 32, seed + 1)
        return Splits(train, test, ["class%d" % i for i in range(synthetic_classes)])
    raise UserError("unknown dataset '%s'; choose one of: %s." % (name, ", ".join(DATASETS)))


__all__ = ["BatchIterator", "CIFAR10_CLASSES", "DATASETS", "FLIP_MODES", "PAD_MODES",
           "RESIZE_MODES", "Splits", "alternating_flips",
           "class_subset", "first_per_class", "load_cifar10", "load_dataset", "load_image_folder", "make_synthetic",
           "normalization_statistics", "random_crop_flip", "to_network_input"]
