"""Synthetic images for smoke runs and benchmarks: random pixels with a class-dependent
colour shift, so a network can learn it and a falling loss means something."""
import numpy as np


PALETTE_SEED = 1234  # the class colours: the same for every split and every seed


def make_synthetic(num_samples, classes=10, size=32, seed=0):
    """(images uint8 NHWC, labels int32): noise around a per-class mean colour."""
    palette = np.random.RandomState(PALETTE_SEED).randint(40, 216, size=(classes, 3))
    rng = np.random.RandomState(seed)
    labels = rng.randint(0, classes, size=num_samples).astype(np.int32)
    noise = rng.randint(-40, 41, size=(num_samples, size, size, 3))
    images = np.clip(palette[labels][:, None, None, :] + noise, 0, 255).astype(np.uint8)
    return images, labels
