"""CIFAR-10 from whatever layout is on disk, or downloaded when nothing is there.

Accepted layouts under ``data_dir`` (or one folder below it, as the archives unpack):
- the official binary release: ``data_batch_1.bin`` ... ``data_batch_5.bin``, ``test_batch.bin``
  (3,073-byte records: a label byte, then 3x32x32 pixels);
- the official Python release: ``data_batch_1`` ... ``data_batch_5``, ``test_batch`` pickles,
  read with an unpickler that only builds plain containers, numpy arrays and bytes, so a
  crafted file cannot run code;
- an image-folder tree: ``train/<class>/*.png|jpg`` and ``test/<class>/...``.

Local files are checked by structure (whole records, labels 0-9, arrays of the expected
shape and type), not by checksum, so converted copies load; a downloaded archive is
verified by its source's checksum and each of its batch files by gluon's SHA-1.
"""
import glob
import logging
import os
import pickle
import shutil
import tarfile

import numpy as np

from ..errors import UserError
from .download import Source, fetch, file_digest
from .imagefolder import load_image_folder

log = logging.getLogger(__name__)

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")
RECORD_BYTES = 1 + 3 * 32 * 32
BINARY_TRAIN = ["data_batch_%d.bin" % i for i in range(1, 6)]
PYTHON_TRAIN = ["data_batch_%d" % i for i in range(1, 6)]
ARCHIVE_NAME = "cifar-10-binary.tar.gz"
# MXNet's mirror repacks the authors' archive (169,570,669 bytes against 170,052,171, with
# macOS "._" entries added), so each source has its own archive checksum: the SHA-1 that
# gluon's CIFAR10 dataset checks for the mirror, the MD5 on the authors' page for theirs.
MXNET_REPO = "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/"
MXNET_ARCHIVE_SHA1 = "fab780a1e191a7eda0f345501ccd62d20f7ed891"
AUTHORS_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
AUTHORS_ARCHIVE_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
# What both archives hold, byte for byte: the SHA-1 of each batch file (gluon's CIFAR10).
BATCH_SHA1 = {"data_batch_1.bin": "aadd24acce27caa71bf4b10992e9e7b2d74c2540",
              "data_batch_2.bin": "c0ba65cce70568cd57b4e03e9ac8d2a5367c1795",
              "data_batch_3.bin": "1dd00a74ab1d17a6e7d73e185b69dbf31242f295",
              "data_batch_4.bin": "aab85764eb3584312d3c7f65fd2fd016e36a258e",
              "data_batch_5.bin": "26e2849e66a845b7f1e4614ae70f4889ae604628",
              "test_batch.bin": "67eb016db431130d61cd03c7ad570b013799c88c"}
DEFAULT_DIR = os.path.join(os.path.expanduser("~"), ".mxnet", "datasets", "cifar10")
AUTHORS_PAGE = "https://www.cs.toronto.edu/~kriz/cifar.html"


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
    candidates = [data_dir] + sorted(  # hidden folders are unfinished downloads
        os.path.join(data_dir, name) for name in os.listdir(data_dir)
        if os.path.isdir(os.path.join(data_dir, name)) and not name.startswith("."))
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
    if os.path.exists(data_dir) and not os.path.isdir(data_dir):
        raise UserError("--data-dir %s is a file, not a folder; give the folder that holds (or "
                        "is to hold) CIFAR-10%s." % (data_dir, (
                            ", for example the one this archive unpacks into"
                            if data_dir.endswith((".tar.gz", ".tgz", ".zip")) else "")))
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
    return ("no CIFAR-10 found in %s; put one of these layouts there: the binary release "
            "(data_batch_1.bin ... test_batch.bin), the Python release (data_batch_1 ... "
            "test_batch) or image folders train/<class>/ and test/<class>/. By hand: download "
            "%s from %s and unpack it with tar -xzf %s -C %s." % (
                data_dir, ARCHIVE_NAME, AUTHORS_PAGE, ARCHIVE_NAME, data_dir))


def cifar10_sources():
    """Where the binary release is tried, in order: the repository in MXNET_GLUON_REPO when
    the user set it (MXNet's convention), MXNet's mirror, then the data set's authors."""
    path = "gluon/dataset/cifar10/" + ARCHIVE_NAME
    sources = []
    user_repo = os.environ.get("MXNET_GLUON_REPO")
    if user_repo:
        sources.append(Source("MXNET_GLUON_REPO", user_repo.rstrip("/") + "/" + path, "sha1",
                              MXNET_ARCHIVE_SHA1))
    sources.append(Source("MXNet's mirror", MXNET_REPO + path, "sha1", MXNET_ARCHIVE_SHA1))
    sources.append(Source("the authors' site", AUTHORS_URL, "md5", AUTHORS_ARCHIVE_MD5))
    return sources


def download_cifar10(data_dir, sources=None, batch_sha1=None):
    """Download the binary release into ``data_dir`` from the first source that delivers it
    intact, check every batch file, and unpack it: all or nothing."""
    sources = cifar10_sources() if sources is None else sources
    batch_sha1 = BATCH_SHA1 if batch_sha1 is None else batch_sha1
    archive = os.path.join(data_dir, ARCHIVE_NAME)
    how_to = _missing_message(data_dir)
    fetch(sources, archive, how_to[0].upper() + how_to[1:])
    # Unpacked into a temporary folder and renamed once checked: a run interrupted here
    # leaves a hidden folder that no later run takes for data.
    for stale in glob.glob(os.path.join(data_dir, ".unpack-*")):
        shutil.rmtree(stale, ignore_errors=True)
    unpacking = os.path.join(data_dir, ".unpack-%d" % os.getpid())
    try:
        extract_archive(archive, unpacking)
        layout, folder = _find_layout(unpacking)
        if layout != "binary":
            raise UserError("%s holds no CIFAR-10 binary release; delete it and try again."
                            % archive)
        for name, sha1 in sorted(batch_sha1.items()):
            path = os.path.join(folder, name)
            if not os.path.isfile(path) or file_digest(path, "sha1") != sha1:
                raise UserError("%s in %s is %s; delete the archive and try again." % (
                    name, archive, "wrong" if os.path.isfile(path) else "missing"))
        os.rename(folder, os.path.join(data_dir, os.path.basename(folder)
                                       if folder != unpacking else "cifar-10-batches-bin"))
    finally:
        shutil.rmtree(unpacking, ignore_errors=True)


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


__all__ = ["CLASSES", "cifar10_sources", "download_cifar10", "extract_archive", "load_cifar10",
           "read_binary_batch", "read_python_batch", "write_binary_batch",
           "write_python_batch"]
