"""One image file as a model takes it: decoded with the model's channel count, then
resized and scaled the way the model was trained (``predict.py`` and ``visualize.py``)."""
import os

import cv2
import numpy as np

from ..errors import UserError
from .batches import to_network_input
from .imagefolder import decode_image


def read_image(path, channels, convert):
    """HxWxC uint8 (RGB or gray) with the channel count the model takes."""
    if not os.path.isfile(path):
        raise UserError("no such image file: %s." % path)
    image = decode_image(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise UserError("%s is not an image that can be decoded." % path)
    if image.dtype != np.uint8:
        image = (image / (np.iinfo(image.dtype).max / 255.0)).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] in (2, 4):  # drop the alpha channel
        image = image[:, :, :image.shape[2] - 1]
        image = image[:, :, 0] if image.shape[2] == 1 else image
    found = 1 if image.ndim == 2 else image.shape[2]
    if found != channels and not convert:
        raise UserError("%s has %d channel(s) but the model takes %d; pass --convert to convert "
                        "it." % (path, found, channels))
    if channels == 1:
        return image[:, :, None] if found == 1 else cv2.cvtColor(
            image, cv2.COLOR_BGR2GRAY)[:, :, None]
    if found == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def center_cropped(image, size, fraction):
    """torchvision's evaluation transform: the shorter side scaled to ``size / fraction``
    (256 for 224 at 0.875), then the centre ``size`` x ``size``."""
    height, width = image.shape[:2]
    scale = round(size / fraction) / min(height, width)
    shape = (max(size, round(width * scale)), max(size, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    image = cv2.resize(image, shape, interpolation=interpolation).reshape(
        shape[1], shape[0], -1)
    top, left = (shape[1] - size) // 2, (shape[0] - size) // 2
    return image[top:top + size, left:left + size]


def preprocess(image, size, resize="imresize", center_crop=None):
    """As in training: images larger than the input are area-resized, then the batch
    transform resizes bilinearly to ``size`` the way the model was trained (``resize``) and
    scales to [0, 1]. With ``center_crop`` (imported ImageNet weights) the image is first
    scaled and centre-cropped to ``size`` as torchvision evaluates them."""
    if center_crop:
        image = center_cropped(image, size, center_crop)
    if image.shape[0] > size or image.shape[1] > size:
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
        image = image[:, :, None] if image.ndim == 2 else image
    return to_network_input(image[None], size, resize=resize).asnumpy()
