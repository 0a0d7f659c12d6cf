"""What a step trains towards, beyond the hard labels: label smoothing, mixup and cutmix.

Mixup (Zhang et al. 2018) blends each image with another of the batch, and its target with
the other's, by lam ~ Beta(alpha, alpha); cutmix (Yun et al. 2019) pastes a box of the other
image, of area 1 - lam, and mixes the targets by the pasted area. With both on, each batch
takes one of them, as timm's Mixup does. The draws come from a generator seeded with the
step's position (seed, epoch, batch), so a resumed run mixes exactly as it would have.
"""
import dataclasses

import mxnet as mx
import numpy as np


@dataclasses.dataclass(frozen=True)
class TargetSettings:
    classes: int
    label_smoothing: float = 0.0
    mixup: float = 0.0
    cutmix: float = 0.0

    @property
    def soft(self):
        """Whether the loss needs probability targets rather than class indices."""
        return bool(self.label_smoothing or self.mixup or self.cutmix)


def smoothed_one_hot(labels, classes, smoothing):
    """(N, classes) targets: 1 - smoothing on the label, smoothing spread over all classes."""
    return mx.nd.one_hot(labels, classes) * (1 - smoothing) + smoothing / classes


def cutmix_box(height, width, lam, rng):
    """(top, bottom, left, right) of a box of area about (1 - lam) of the image, centred at a
    uniform random pixel and clipped to the image, as in the cutmix paper."""
    cut = np.sqrt(1.0 - lam)
    box_h, box_w = int(height * cut), int(width * cut)
    centre_y, centre_x = rng.randint(height), rng.randint(width)
    top, bottom = np.clip([centre_y - box_h // 2, centre_y + box_h // 2], 0, height)
    left, right = np.clip([centre_x - box_w // 2, centre_x + box_w // 2], 0, width)
    return int(top), int(bottom), int(left), int(right)


def training_targets(data, labels, settings, rng, mixing=True):
    """(data, targets) for one step: ``labels`` as they are when no soft target is asked
    for, else (N, classes) probabilities, the images mixed when ``mixing`` and mixup or
    cutmix is on."""
    if not settings.soft:
        return data, labels
    smoothing = settings.label_smoothing
    targets = smoothed_one_hot(labels, settings.classes, smoothing)
    methods = [name for name in ("mixup", "cutmix") if getattr(settings, name)] if mixing else []
    if not methods:
        return data, targets
    method = methods[rng.randint(len(methods))]
    lam = float(rng.beta(getattr(settings, method), getattr(settings, method)))
    partner = mx.nd.array(rng.permutation(data.shape[0]), ctx=data.context, dtype="int32")
    other = data.take(partner)
    if method == "mixup":
        data = lam * data + (1 - lam) * other
    else:
        top, bottom, left, right = cutmix_box(data.shape[2], data.shape[3], lam, rng)
        if bottom > top and right > left:  # a box can round to nothing when lam is near 1
            data = data.copy()
            data[:, :, top:bottom, left:right] = other[:, :, top:bottom, left:right]
        # the targets follow the area actually pasted, after clipping to the image
        lam = 1 - (bottom - top) * (right - left) / float(data.shape[2] * data.shape[3])
    return data, lam * targets + (1 - lam) * targets.take(partner)
