"""Batches from in-memory uint8 images, transformed a whole batch at a time.

Per-sample DataLoader transforms run one Python call per image and starve a 2-core CPU; here
a batch is sliced from the decoded array, augmented with vectorized numpy, and resized and
scaled by MXNet operators (``BilinearResize2D`` on the NCHW batch), which the engine runs
asynchronously while the previous step computes.
"""
import math

import mxnet as mx
import numpy as np

from ..errors import UserError


def random_crop_flip(images, rng, padding=4):
    """Random crop of the zero-padded image and a random horizontal flip, per image."""
    count, height, width, _ = images.shape
    padded = np.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    rows = rng.randint(0, 2 * padding + 1, size=count)
    cols = rng.randint(0, 2 * padding + 1, size=count)
    row_index = rows[:, None] + np.arange(height)[None, :]
    col_index = cols[:, None] + np.arange(width)[None, :]
    cropped = padded[np.arange(count)[:, None, None], row_index[:, :, None],
                     col_index[:, None, :]]
    flip = rng.rand(count) < 0.5
    cropped[flip] = cropped[flip, :, ::-1]
    return cropped


def to_network_input(images, image_size, ctx=None):
    """uint8 NHWC numpy -> float32 NCHW NDArray in [0, 1] at ``image_size`` pixels."""
    batch = mx.nd.array(images, ctx=ctx or mx.cpu(), dtype=np.uint8)
    batch = batch.transpose((0, 3, 1, 2)).astype(np.float32) / 255.0
    if batch.shape[2] != image_size or batch.shape[3] != image_size:
        batch = mx.nd.contrib.BilinearResize2D(batch, height=image_size, width=image_size)
    return batch


class BatchIterator:
    """Iterate (data, label) NDArray batches over in-memory images.

    ``last_batch`` is "discard" for training (every step sees a full batch, as the seed's
    loader) and "keep" for evaluation (every sample counted once). The order and the
    augmentation of epoch ``e`` depend only on (seed, e), so an interrupted epoch can be
    replayed from any batch with ``batches(epoch, start)``.
    """

    def __init__(self, images, labels, batch_size, image_size, shuffle=False, augment=False,
                 last_batch="keep", seed=0):
        if batch_size <= 0:
            raise UserError("batch size must be positive; got %d." % batch_size)
        if last_batch == "discard" and batch_size > len(labels):
            raise UserError("batch size %d is larger than the %d training samples; lower "
                            "--batch-size." % (batch_size, len(labels)))
        self.images, self.labels = images, labels
        self.batch_size, self.image_size = batch_size, image_size
        self.augment, self.last_batch = augment, last_batch
        self.shuffle, self.seed = shuffle, seed

    def __len__(self):
        rounding = math.floor if self.last_batch == "discard" else math.ceil
        return int(rounding(len(self.labels) / self.batch_size))

    def __iter__(self):
        return self.batches(0)

    def batches(self, epoch, start=0):
        """The batches of ``epoch`` from batch number ``start`` on."""
        count = len(self.labels)
        order = (np.random.RandomState([self.seed, epoch]).permutation(count) if self.shuffle
                 else np.arange(count))
        for number in range(start, len(self)):
            # sorted reads are cache-friendly; the batch's content is the same
            indices = np.sort(order[number * self.batch_size:(number + 1) * self.batch_size])
            images = self.images[indices]
            if self.augment:
                images = random_crop_flip(images, np.random.RandomState([self.seed, epoch,
                                                                         number]))
            yield (to_network_input(images, self.image_size),
                   mx.nd.array(self.labels[indices], dtype=np.float32))
