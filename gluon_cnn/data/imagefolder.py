"""Image-folder data sets: ``root/train/<class>/*`` and ``root/test/<class>/*``, decoded once
into memory (uint8 NHWC) so that every epoch after the first costs no decoding.

Samples are stored in a fixed shuffled order (not class by class), so that the first N
are a fair sample. Files that are not images, or that fail to decode, are skipped with a count in the log
(a stray README or a truncated JPEG should not stop a long run); a split with no images
at all, or train and test splits with different classes, is an error.
"""
import logging
import os
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from ..errors import UserError

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")


def decode_image(path, flags=cv2.IMREAD_COLOR):
    """The decoded image (OpenCV's BGR order), or None when the file is not a readable image.

    OpenCV answers most bad files with None but raises cv2.error for some (an empty file,
    absurd dimensions in a header); both mean "not an image" here.
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)
        return cv2.imdecode(data, flags) if data.size else None
    except (cv2.error, OSError):
        return None


def _decode(path):
    """RGB uint8 HxWx3, or None when the file is not a readable image."""
    image = decode_image(path)
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def list_split(split_dir):
    """(class names, [(path, class index)]) for one split folder."""
    if not os.path.isdir(split_dir):
        raise UserError("missing folder %s (expected <root>/train/<class>/ and "
                        "<root>/test/<class>/)." % split_dir)
    classes = sorted(name for name in os.listdir(split_dir)
                     if os.path.isdir(os.path.join(split_dir, name)) and not name.startswith("."))
    if not classes:
        raise UserError("%s has no class folders; put each class's images in "
                        "%s/<class name>/." % (split_dir, split_dir))
    items = []
    for index, name in enumerate(classes):
        folder = os.path.join(split_dir, name)
        for file_name in sorted(os.listdir(folder)):
            if file_name.lower().endswith(IMAGE_EXTENSIONS):
                items.append((os.path.join(folder, file_name), index))
    return classes, items


def decode_all(paths, num_workers=2):
    """``_decode`` of every path, in threads (cv2 releases the GIL). On Ctrl-C the images
    still queued are dropped: the executor's shutdown would otherwise decode them all before
    the interrupt could end the run."""
    futures = []
    with ThreadPoolExecutor(max(1, num_workers)) as pool:
        try:
            for path in paths:
                futures.append(pool.submit(_decode, path))
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def decode_split(split_dir, size=None, num_workers=2):
    """(images uint8 NHWC, labels int32, classes). Images of mixed sizes are resized to
    ``size`` (square) so they stack; same-size images are kept as they are."""
    classes, items = list_split(split_dir)
    decoded = decode_all([path for path, _ in items], num_workers)
    kept = [(image, label) for image, (_, label) in zip(decoded, items) if image is not None]
    skipped = len(items) - len(kept)
    if skipped:
        log.warning("skipped %d unreadable image file(s) in %s", skipped, split_dir)
    if not kept:
        raise UserError("no readable images in %s (looked for %s files in its class folders)."
                        % (split_dir, ", ".join(IMAGE_EXTENSIONS)))
    shapes = {image.shape for image, _ in kept}
    if len(shapes) > 1:
        if not size:
            raise UserError("images in %s have different sizes; give an image size to "
                            "resize them to." % split_dir)
        kept = [(cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA), label)
                for image, label in kept]
    # Folders list one class after another; a fixed shuffle makes "the first N samples"
    # (--max-train-samples) a sample of every class, as in CIFAR's own files.
    order = np.random.RandomState(0).permutation(len(kept))
    images = np.stack([kept[i][0] for i in order])
    labels = np.array([kept[i][1] for i in order], dtype=np.int32)
    return images, labels, classes


def load_image_folder(root, size=None, num_workers=2):
    """((train images, labels), (test images, labels), classes) from root/train and root/test."""
    if not os.path.isdir(root):
        raise UserError("data directory %s does not exist." % root)
    train_images, train_labels, classes = decode_split(os.path.join(root, "train"), size,
                                                       num_workers)
    test_images, test_labels, test_classes = decode_split(os.path.join(root, "test"), size,
                                                          num_workers)
    if test_classes != classes:
        only_train = sorted(set(classes) - set(test_classes))
        only_test = sorted(set(test_classes) - set(classes))
        raise UserError("train and test splits in %s have different classes (only in train: "
                        "%s; only in test: %s)." % (root, only_train or "none",
                                                   only_test or "none"))
    log.info("image folders in %s: %d classes, %d train, %d test images",
             root, len(classes), len(train_labels), len(test_labels))
    return (train_images, train_labels), (test_images, test_labels), classes
