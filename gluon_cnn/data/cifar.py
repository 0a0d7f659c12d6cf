"""CIFAR-10 from whatever layout is on disk, or downloaded when nothing is there.

Accepted layouts under ``data_dir`` (or one folder below it, as the archives unpack):
- the official binary release: ``data_batch_1.bin`` ... ``data_batch_5.bin``, ``test_batch.bin``
  (3,073-byte records: a label byte, then 3x32x32 pixels);
- the official Python release: ``data_batch_1`` ... ``data_batch_5``, ``test_batch`` pickles,
  read with an unpickler that only builds plain containers, numpy arrays and bytes, so a
  crafted file cannot run code;
- an image-folder tree: ``train/<class>/*.png|jpg`` and ``test/<class>/...``.

Local files are checked by structure (whole records, labels 0-9, arrays of the expected
shape and type), not by checksum, so converted copies load; the downloaded archive is
verified by its SHA-1.
"""
import logging
import os
import pickle
import tarfile

import numpy as np

from ..errors import UserError
from .imagefolder import load_image_folder

log = logging.getLogger(__name__)

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")
RECORD_BYTES = 1 + 3 * 32 * 32
BINARY_TRAIN = ["data_batch_%d.bin" % i for i in range(1, 6)]
PYTHON_TRAIN = ["data_batch_%d" % i for i in range(1, 6)]
# MXNet's mirror of the official binary release, with the SHA-1 that gluon's CIFAR10 checks.
ARCHIVE = ("cifar-10-binary.tar.gz", "fab780a1e191a7eda0f345501ccd62d20f7ed891")
DEFAULT_DIR = os.path.join(os.path.expanduser("~"), ".mxnet", "datasets", "cifar10")
WHERE_TO_GET = ("https://www.cs.toronto.edu/~kriz/cifar.html (binary or Python version), "
                "or an image-folder copy with train/<class>/ and test/<class>/")


def read_binary_batch(path):
    """(images NHWC uint8, labels int32) from one file of the binary release."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD_BYTES:
        raise UserError("%s is not CIFAR-10 binary data: %d bytes is not a whole number of "
                        "%d-byte records." % (path, raw.size, RECORD_BYTES))
    records = raw.reshape(-1, RECORD_BYTES)
    labels = records[:, 0].astype(np.int32)
    if labels.max() > 9:
        raise UserError("%s has label %d; CIFAR-10 labels are 0-9." % (path, labels.max()))
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


class _PlainUnpickler(pickle.Unpickler):
    """Builds only what the CIFAR Python release holds: dicts, lists, bytes, numpy arrays."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"),
               ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError("refusing to load %s.%s" % (module, name))


def read_python_batch(path):
    """(images NHWC uint8, labels int32) from one pickle of the Python release."""
    try:
        with open(path, "rb") as handle:
            batch = _PlainUnpickler(handle, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError) as err:
        raise UserError("%s is not a CIFAR-10 Python batch (%s)." % (path, err)) from None
    if not isinstance(batch, dict):
        raise UserError("%s is not a CIFAR-10 Python batch: it holds a %s, not a dict."
                        % (path, type(batch).__name__))
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3 * 32 * 32:
        raise UserError("%s has no 'data' array of shape (N, 3072) and type uint8." % path)
    labels = np.asarray(labels if labels is not None else [], dtype=np.int64)
    if labels.shape != (data.shape[0],):
        raise UserError("%s has %d labels for %d images." % (path, labels.size, data.shape[0]))
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise UserError("%s has labels outside 0-9." % path)
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int32)


def _concat(parts):
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _find_layout(data_dir):
    """(layout, folder) for the first layout found in data_dir or one level below."""
    candidates = [data_dir] + sorted(
        os.path.join(data_dir, name) for name in os.listdir(data_dir)
        if os.path.isdir(os.path.join(data_dir, name)))
    for folder in candidates:
        names = set(os.listdir(folder))
        if "test_batch.bin" in names or names & set(BINARY_TRAIN):
            return "binary", folder
        if "test_batch" in names or names & set(PYTHON_TRAIN):
            return "python", folder
        if {"train", "test"} <= names:
            return "imagefolder", folder
    return None, None


def load_cifar10(data_dir=None, download=True, num_workers=2):
    """((train images, labels), (test images, labels), class names) as uint8 NHWC arrays."""
    data_dir = os.path.expanduser(data_dir or DEFAULT_DIR)
    layout, folder = (_find_layout(data_dir) if os.path.isdir(data_dir) else (None, None))
    if layout is None:
        if not download:
            raise UserError(_missing_message(data_dir))
        download_cifar10(data_dir)
        layout, folder = _find_layout(data_dir)
    if layout == "imagefolder":
        train, test, classes = load_image_folder(folder, num_workers=num_workers)
        return train, test, classes
    reader, train_names, test_name = (
        (read_binary_batch, BINARY_TRAIN, "test_batch.bin") if layout == "binary"
        else (read_python_batch, PYTHON_TRAIN, "test_batch"))
    missing = [name for name in train_names + [test_name]
               if not os.path.isfile(os.path.join(folder, name))]
    if missing:
        raise UserError("the CIFAR-10 %s release in %s is incomplete: %s missing."
                        % (layout, folder, ", ".join(missing)))
    train = _concat([reader(os.path.join(folder, name)) for name in train_names])
    test = reader(os.path.join(folder, test_name))
    log.info("CIFAR-10 (%s layout) from %s: %d train, %d test images",
             layout, folder, len(train[1]), len(test[1]))
    return train, test, list(CLASSES)


def _missing_message(data_dir):
    return ("no CIFAR-10 found in %s and it could not be downloaded; put one of these layouts "
            "there: the binary release (data_batch_1.bin ... test_batch.bin), the Python "
            "release (data_batch_1 ... test_batch) or train/<class>/ and test/<class>/ image "
            "folders; get it from %s." % (data_dir, WHERE_TO_GET))


def download_cifar10(data_dir, url=None):
    """Download the binary release into ``data_dir``, verify its SHA-1 and unpack it."""
    from mxnet.gluon.utils import _get_repo_file_url, check_sha1, download
    os.makedirs(data_dir, exist_ok=True)
    name, sha1 = ARCHIVE
    archive = os.path.join(data_dir, name)
    url = url or _get_repo_file_url("gluon/dataset/cifar10", name)
    try:
        download(url, path=archive, sha1_hash=sha1, retries=2)
    except Exception as err:  # mxnet raises bare Exception/OSError subclasses for network faults
        raise UserError(_missing_message(data_dir) + " (download failed: %s)"
                        % str(err).splitlines()[0]) from None
    if not check_sha1(archive, sha1):
        os.remove(archive)
        raise UserError("the downloaded %s has a wrong checksum and was deleted; try again or "
                        "download it by hand from %s." % (name, WHERE_TO_GET))
    extract_archive(archive, data_dir)


def extract_archive(archive, destination):
    """Unpack a .tar.gz, refusing members that would land outside ``destination``."""
    root = os.path.realpath(destination)
    try:
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                target = os.path.realpath(os.path.join(root, member.name))
                if not target.startswith(root + os.sep) or member.issym() or member.islnk():
                    raise UserError("refusing to unpack %s: member %s points outside %s."
                                    % (archive, member.name, destination))
            tar.extractall(root)
    except (tarfile.TarError, EOFError, OSError) as err:
        raise UserError("cannot unpack %s: %s." % (archive, err)) from None


def write_python_batch(path, images, labels):
    """Write images (NHWC uint8) and labels as a batch of the Python release (for tests and
    conversions)."""
    data = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    with open(path, "wb") as handle:
        pickle.dump({b"data": data, b"labels": [int(v) for v in labels]}, handle, protocol=2)


def write_binary_batch(path, images, labels):
    records = np.concatenate([np.asarray(labels, np.uint8)[:, None],
                              images.transpose(0, 3, 1, 2).reshape(len(images), -1)], axis=1)
    records.astype(np.uint8).tofile(path)


__all__ = ["CLASSES", "download_cifar10", "extract_archive", "load_cifar10",
           "read_binary_batch", "read_python_batch", "write_binary_batch",
           "write_python_batch"]
