"""Batches from in-memory uint8 images, transformed a whole batch at a time.

Per-sample DataLoader transforms run one Python call per image and starve a 2-core CPU; here
a batch is sliced from the decoded array, augmented with vectorized numpy, resized image by
image with OpenCV as the Gluon tutorial's loader did (or as one batch by MXNet,
``resize="aligned"``) and scaled to float in numpy, in a thread that prepares the next batch
while the training step runs (OpenCV and numpy release the interpreter lock).
"""
import math
from concurrent.futures import ThreadPoolExecutor

import cv2
import mxnet as mx
import numpy as np

from ..errors import UserError


# --flip-mode: "random" flips each image with probability 1/2 every epoch; "alternate" is the
# airbench paper's schedule: each image gets one random orientation, used in even epochs and
# mirrored in odd ones, so every image is seen both ways in any two consecutive epochs
FLIP_MODES = ("random", "alternate")
# --pad-mode: what the crop's padding holds
PAD_MODES = ("zero", "reflect")


def alternating_flips(count, seed, epoch):
    """Whether each of ``count`` images is mirrored in ``epoch`` under the alternating flip."""
    first = np.random.RandomState([seed, 2 ** 31 - 1]).rand(count) < 0.5
    return first ^ bool(epoch % 2)


def random_crop_flip(images, rng, padding=4, pad_mode="zero", flip=None):
    """Random crop of the padded image (zeros, or the image reflected at its edges) and a
    horizontal flip: random per image, or as ``flip`` (a boolean per image) says."""
    count, height, width, _ = images.shape
    widths = ((0, 0), (padding, padding), (padding, padding), (0, 0))
    padded = np.pad(images, widths, mode="reflect") if pad_mode == "reflect" else np.pad(
        images, widths)
    rows = rng.randint(0, 2 * padding + 1, size=count)
    cols = rng.randint(0, 2 * padding + 1, size=count)
    row_index = rows[:, None] + np.arange(height)[None, :]
    col_index = cols[:, None] + np.arange(width)[None, :]
    cropped = padded[np.arange(count)[:, None, None], row_index[:, :, None],
                     col_index[:, None, :]]
    flip = rng.rand(count) < 0.5 if flip is None else flip
    cropped[flip] = cropped[flip, :, ::-1]
    return cropped


# How a batch is brought to the network's size. "imresize" is what the Gluon tutorial's loader did:
# each uint8 image resized on its own by mxnet.image.imresize, that is OpenCV's bilinear
# resize with half-pixel centres, then scaled. "aligned" resizes the float batch with
# MXNet's BilinearResize2D, which aligns the corner pixels (the image is stretched by
# 32/31 at 32 -> 96 px).
RESIZE_MODES = ("imresize", "aligned")


def _imresize(images, image_size):
    resized = [cv2.resize(image, (image_size, image_size), interpolation=cv2.INTER_LINEAR)
               for image in images]
    return np.stack(resized).reshape(len(images), image_size, image_size, images.shape[3])


def _check_resize(resize):
    if resize not in RESIZE_MODES:
        raise UserError("the resize mode must be one of %s; got '%s'."
                        % (", ".join(RESIZE_MODES), resize))


def _scaled_nchw(images, image_size, resize):
    """The numpy half of ``to_network_input``: float32 NCHW in [0, 1], resized by OpenCV
    for "imresize". Scaling in numpy gives the same bits as MXNet's ``/ 255.0`` (both are
    one correctly rounded float32 division; a test checks all 256 values) at a fraction of
    the cost of MXNet's transpose on 96-px batches."""
    if resize == "imresize" and images.shape[1:3] != (image_size, image_size):
        images = _imresize(images, image_size)
    scaled = np.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=np.float32)
    scaled /= np.float32(255)
    return scaled


def _to_ndarray(scaled, image_size, resize, ctx):
    # A copy, not mx.nd.from_numpy(zero_copy=True): with the zero-copy array, ps-lite's
    # messages broke in about half of the distributed test jobs (servers aborted on "init 3
    # first" or a truncated message); with the copy, none of 14.
    batch = mx.nd.array(scaled, ctx=ctx or mx.cpu(), dtype=np.float32)
    if resize == "aligned" and scaled.shape[2:] != (image_size, image_size):
        batch = mx.nd.contrib.BilinearResize2D(batch, height=image_size, width=image_size)
    return batch


def to_network_input(images, image_size, ctx=None, resize="imresize"):
    """uint8 NHWC numpy -> float32 NCHW NDArray in [0, 1] at ``image_size`` pixels."""
    _check_resize(resize)
    return _to_ndarray(_scaled_nchw(images, image_size, resize), image_size, resize, ctx)


def normalization_statistics(images, mode, image_size):
    """(mean, std) of uint8 NHWC ``images`` on the [0, 1] scale the network sees, as float32
    NCHW arrays: for "pixel" the mean image at ``image_size`` (std None), for "channel" one
    mean and standard deviation per channel. Sums run in float64 over chunks, so 50,000
    images need no float copy of the whole set."""
    count, channels = len(images), images.shape[3]
    total = np.zeros(images.shape[1:], np.float64)
    squares = np.zeros(channels, np.float64)
    for start in range(0, count, 4096):
        chunk = images[start:start + 4096].astype(np.float64)
        total += chunk.sum(axis=0)
        squares += (chunk ** 2).sum(axis=(0, 1, 2))
    mean_image = (total / count / 255.0).astype(np.float32)
    if mode == "pixel":
        if mean_image.shape[:2] != (image_size, image_size):
            mean_image = cv2.resize(mean_image, (image_size, image_size),
                                    interpolation=cv2.INTER_LINEAR).reshape(
                                        image_size, image_size, channels)
        return mean_image.transpose(2, 0, 1)[None], None
    pixels = count * images.shape[1] * images.shape[2]
    mean = total.sum(axis=(0, 1)) / pixels / 255.0
    std = np.sqrt(np.maximum(squares / pixels / 255.0 ** 2 - mean ** 2, 1e-12))
    return (mean.astype(np.float32).reshape(1, channels, 1, 1),
            std.astype(np.float32).reshape(1, channels, 1, 1))


class BatchIterator:
    """Iterate (data, label) NDArray batches over in-memory images.

    ``last_batch`` is "discard" for training (every step sees a full batch, as the tutorial's
    loader) and "keep" for evaluation (every sample counted once). The order and the
    augmentation of epoch ``e`` depend only on (seed, e), so an interrupted epoch can be
    replayed from any batch with ``batches(epoch, start)``. One thread prepares batch n + 1
    while batch n trains; it changes when a batch is made, never what it holds.
    """

    def __init__(self, images, labels, batch_size, image_size, shuffle=False, augment=False,
                 last_batch="keep", seed=0, resize="imresize", crop_padding=4,
                 flip_mode="random", pad_mode="zero"):
        if batch_size <= 0:
            raise UserError("batch size must be positive; got %d." % batch_size)
        if last_batch == "discard" and batch_size > len(labels):
            raise UserError("batch size %d is larger than the %d training samples; lower "
                            "--batch-size." % (batch_size, len(labels)))
        self.images, self.labels = images, labels
        self.batch_size, self.image_size = batch_size, image_size
        self.augment, self.last_batch, self.crop_padding = augment, last_batch, crop_padding
        _check_resize(resize)
        self.shuffle, self.seed, self.resize = shuffle, seed, resize
        self.flip_mode, self.pad_mode = flip_mode, pad_mode

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
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="batches") as prefetch:
            numbers = range(start, len(self))
            pending = [prefetch.submit(self._prepare, order, epoch, number)
                       for number in numbers[:1]]
            for number in numbers:
                scaled, labels = pending.pop().result()
                if number + 1 < len(self):
                    pending.append(prefetch.submit(self._prepare, order, epoch, number + 1))
                # NDArrays are made on the calling thread: MXNet's front end is not
                # thread-safe
                yield (_to_ndarray(scaled, self.image_size, self.resize, None),
                       mx.nd.array(labels, dtype=np.float32))

    def _prepare(self, order, epoch, number):
        # sorted reads are cache-friendly; the batch's content is the same
        indices = np.sort(order[number * self.batch_size:(number + 1) * self.batch_size])
        images = self.images[indices]
        if self.augment:
            flip = (alternating_flips(len(self.labels), self.seed, epoch)[indices]
                    if self.flip_mode == "alternate" else None)
            images = random_crop_flip(images, np.random.RandomState([self.seed, epoch, number]),
                                      self.crop_padding, self.pad_mode, flip)
        return _scaled_nchw(images, self.image_size, self.resize), self.labels[indices]
