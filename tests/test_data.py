"""CIFAR-10 in every on-disk layout, image folders, batches, and the bad inputs around them."""
import os
import pickle
import threading
import time

import numpy as np
import pytest

from gluon_cnn import UserError
from gluon_cnn.data import BatchIterator, load_cifar10, load_dataset, random_crop_flip
from gluon_cnn.data import cifar
from helpers import tiny_cifar, write_cifar_binary, write_cifar_python, write_image_folder


@pytest.mark.parametrize("writer", [write_cifar_binary, write_cifar_python])
def test_official_layouts_load_identically(tmp_path, writer):
    folder = writer(str(tmp_path / "cifar-10-batches"))
    (train_x, train_y), (test_x, test_y), classes = load_cifar10(str(tmp_path), download=False)
    expected_x, expected_y = tiny_cifar(20, seed=1)
    assert train_x.shape == (100, 32, 32, 3) and train_x.dtype == np.uint8
    np.testing.assert_array_equal(train_x[:20], expected_x)
    np.testing.assert_array_equal(train_y[:20], expected_y)
    assert test_x.shape == (20, 32, 32, 3) and classes[0] == "airplane"
    assert os.path.isdir(folder)


def test_image_folder_layout_of_cifar(tmp_path):
    write_image_folder(str(tmp_path), classes=cifar.CLASSES, per_class=(2, 1))
    (train_x, train_y), (test_x, _), classes = load_cifar10(str(tmp_path), download=False)
    assert train_x.shape == (20, 32, 32, 3) and test_x.shape == (10, 32, 32, 3)
    assert classes == sorted(cifar.CLASSES) and sorted(set(train_y)) == list(range(10))
    assert len(set(train_y[:10])) > 3  # not one class after another


def test_truncated_binary_file_is_refused(tmp_path):
    write_cifar_binary(str(tmp_path))
    path = tmp_path / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(UserError, match="not a whole number of 3073-byte records"):
        load_cifar10(str(tmp_path), download=False)


def test_label_out_of_range_is_refused(tmp_path):
    write_cifar_binary(str(tmp_path))
    raw = bytearray((tmp_path / "test_batch.bin").read_bytes())
    raw[0] = 12
    (tmp_path / "test_batch.bin").write_bytes(bytes(raw))
    with pytest.raises(UserError, match="label 12"):
        load_cifar10(str(tmp_path), download=False)


def test_pickle_without_arrays_is_refused(tmp_path):
    write_cifar_python(str(tmp_path))
    with open(tmp_path / "data_batch_2", "wb") as handle:
        pickle.dump({b"labels": [1, 2]}, handle)
    with pytest.raises(UserError, match="no 'data' array"):
        load_cifar10(str(tmp_path), download=False)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_malicious_pickle_cannot_run_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_cifar_python(str(tmp_path))
    with open(tmp_path / "data_batch_1", "wb") as handle:
        pickle.dump({b"data": _RunsCode(), b"labels": []}, handle)
    with pytest.raises(UserError, match="refusing to load"):
        load_cifar10(str(tmp_path), download=False)
    assert not (tmp_path / "pwned").exists()


def test_missing_data_without_network_explains_layouts(tmp_path):
    with pytest.raises(UserError) as info:
        load_cifar10(str(tmp_path / "nothing"), download=False)
    message = str(info.value)
    assert "data_batch_1.bin" in message and "train/<class>/" in message
    assert str(tmp_path / "nothing") in message


def test_image_folder_skips_unreadable_files_and_checks_classes(tmp_path, caplog):
    root = write_image_folder(str(tmp_path / "data"))
    (tmp_path / "data" / "train" / "cat" / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    splits = load_dataset("imagefolder", str(tmp_path / "data"))
    assert splits.train[0].shape == (36, 32, 32, 3)
    assert "skipped 1 unreadable" in caplog.text
    os.rename(os.path.join(root, "test", "ship"), os.path.join(root, "test", "plane"))
    with pytest.raises(UserError, match="different classes"):
        load_dataset("imagefolder", root)


def test_ctrl_c_while_decoding_drops_the_queued_images(monkeypatch):
    """A long decode must not finish first: Ctrl-C while the images are still being queued
    (a large folder takes seconds to queue) stops it after the image in progress."""
    import signal
    import time
    from gluon_cnn.data import imagefolder
    decoded = []

    def slow_decode(path):
        time.sleep(0.02)
        decoded.append(path)

    def paths():
        for number in range(500):
            if number == 250:  # Ctrl-C with half of the images queued
                os.kill(os.getpid(), signal.SIGINT)
            yield "image%d.jpg" % number
    monkeypatch.setattr(imagefolder, "_decode", slow_decode)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            imagefolder.decode_all(paths(), num_workers=1)
    finally:
        signal.signal(signal.SIGINT, previous)
    # the 250 queued take 5 s; the executor's own shutdown would have decoded every one
    assert len(decoded) < 100


def test_image_folder_without_images_is_refused(tmp_path):
    for split in ("train", "test"):
        os.makedirs(tmp_path / split / "cat")
    (tmp_path / "train" / "cat" / "notes.txt").write_text("hello")
    with pytest.raises(UserError, match="no readable images"):
        load_dataset("imagefolder", str(tmp_path))


def test_unknown_dataset_is_refused():
    with pytest.raises(UserError, match="unknown dataset 'mnist'"):
        load_dataset("mnist")


def test_batches_are_resized_scaled_and_cover_the_data():
    images, labels = tiny_cifar(10)
    batches = list(BatchIterator(images, labels, 4, 96))
    assert [b[0].shape for b in batches] == [(4, 3, 96, 96)] * 2 + [(2, 3, 96, 96)]
    assert 0.0 <= batches[0][0].min().asscalar() and batches[0][0].max().asscalar() <= 1.0
    np.testing.assert_array_equal(np.concatenate([b[1].asnumpy() for b in batches]), labels)
    training = BatchIterator(images, labels, 4, 32, shuffle=True, last_batch="discard")
    assert len(training) == 2 and len(list(training)) == 2


def test_batch_size_errors():
    images, labels = tiny_cifar(10)
    with pytest.raises(UserError, match="batch size must be positive"):
        BatchIterator(images, labels, 0, 32)
    with pytest.raises(UserError, match="larger than the 10 training samples"):
        BatchIterator(images, labels, 64, 32, last_batch="discard")


def test_crop_flip_keeps_shape_and_content():
    images, _ = tiny_cifar(8)
    out = random_crop_flip(images, np.random.RandomState(0))
    assert out.shape == images.shape and out.dtype == np.uint8
    assert not np.array_equal(out, images)


def test_default_resize_is_the_gluon_tutorials_per_image_imresize():
    import mxnet as mx
    from gluon_cnn.data import to_network_input
    images = np.random.RandomState(3).randint(0, 256, (3, 32, 32, 3)).astype(np.uint8)
    expected = np.stack([mx.image.imresize(mx.nd.array(image, dtype=np.uint8), 96, 96).asnumpy()
                         for image in images]).transpose(0, 3, 1, 2) / 255.0
    np.testing.assert_allclose(to_network_input(images, 96).asnumpy(), expected, atol=1e-6)
    aligned = to_network_input(images, 96, resize="aligned").asnumpy()
    assert aligned.shape == expected.shape and np.abs(aligned - expected).mean() > 0.01
    gray = images[:, :, :, :1]
    assert to_network_input(gray, 64).shape == (3, 1, 64, 64)


def test_numpy_scaling_gives_mxnets_bits_for_every_pixel_value():
    # the scaling moved from MXNet's "/ 255.0" to numpy; checkpoints written before the move
    # resume bit for bit only if every one of the 256 values maps to the same float32
    import mxnet as mx
    from gluon_cnn.data import to_network_input
    every_value = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, axis=3)
    by_mxnet = (mx.nd.array(every_value, dtype=np.uint8).transpose((0, 3, 1, 2))
                .astype(np.float32) / 255.0).asnumpy()
    for resize in ("imresize", "aligned"):
        ours = to_network_input(every_value, 16, resize=resize).asnumpy()
        assert ours.dtype == np.float32 and np.array_equal(ours, by_mxnet)


def test_prefetched_batches_do_not_depend_on_how_they_are_consumed():
    images, labels = tiny_cifar(40)
    batches = BatchIterator(images, labels, 8, 24, shuffle=True, augment=True,
                            last_batch="discard", seed=4)
    whole_epoch = [(x.asnumpy(), y.asnumpy()) for x, y in batches.batches(3)]
    # one batch at a time, slowly, with the prefetching thread long done
    resumed = batches.batches(3, 2)
    first = next(resumed)
    time.sleep(0.2)
    rest = [first] + list(resumed)
    assert len(rest) == 3
    for (x, y), (expected_x, expected_y) in zip(rest, whole_epoch[2:]):
        assert np.array_equal(x.asnumpy(), expected_x) and np.array_equal(y.asnumpy(),
                                                                           expected_y)
    # a consumer that stops early leaves no thread behind
    abandoned = batches.batches(0)
    next(abandoned)
    abandoned.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("batches")]
