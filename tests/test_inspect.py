"""scripts/inspect_run.py and scripts/visualize.py: what the pictures and tables contain."""
import csv
import os

import numpy as np
import pytest
from PIL import Image

from gluon_cnn import deploy
from gluon_cnn.analysis import confusion_matrix, inspect_run, most_confused, per_class_metrics
from gluon_cnn.cli import inspect_run as inspect_cli
from gluon_cnn.cli import run_main
from gluon_cnn.cli import visualize as visualize_cli
from gluon_cnn.data import BatchIterator, load_dataset
from gluon_cnn.training import train
from helpers import quick_config, write_image_folder


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("inspect")
    data = write_image_folder(str(root / "pets"), classes=("cat", "dog", "ship", "frog"),
                              per_class=(16, 6))
    train(quick_config(root, dataset="imagefolder", data_dir=data, num_epochs=2, batch_size=8))
    return root / "run", data


def test_metrics_from_a_known_confusion():
    counts = confusion_matrix([0, 0, 0, 1, 1, 2], [0, 1, 1, 1, 1, 0], 3)
    assert counts.tolist() == [[1, 2, 0], [0, 2, 0], [1, 0, 0]]
    rows = per_class_metrics(counts, ["a", "b", "c"])
    assert rows[0] == {"class": "a", "support": 3, "precision": 0.5, "recall": 1 / 3,
                       "f1": pytest.approx(0.4)}
    assert rows[2]["precision"] == 0.0 and rows[2]["recall"] == 0.0
    assert most_confused(counts, ["a", "b", "c"], top=1) == [
        {"true": "a", "predicted": "b", "count": 2, "share_of_true_class": 2 / 3}]


def test_inspection_counts_what_the_export_predicts(run, tmp_path):
    run_dir, data = run
    result = inspect_run(str(run_dir), out_dir=str(tmp_path / "out"))
    predict, _ = deploy.load_predictor(str(run_dir / "lenet5"))
    images, labels = load_dataset("imagefolder", data).test
    predicted = np.concatenate([predict(x.asnumpy()).argmax(axis=1)
                                for x, _ in BatchIterator(images, labels, 7, 32)])
    expected = confusion_matrix(labels, predicted, 4)
    np.testing.assert_array_equal(result["counts"], expected)
    assert result["accuracy"] == pytest.approx(np.trace(expected) / 24)
    with open(tmp_path / "out" / "per_class.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["class"] for row in rows] == ["cat", "dog", "frog", "ship"]
    assert [int(row["support"]) for row in rows] == [6, 6, 6, 6]
    wrong = int(expected.sum() - np.trace(expected))
    assert result["mistakes_drawn"] == min(25, wrong)
    width, height = Image.open(tmp_path / "out" / "confusion.png").size
    assert width >= 600 and height >= 500
    assert Image.open(tmp_path / "out" / "mistakes.png").size[0] > 100


def test_inspection_bad_input_is_one_line(run, tmp_path, capsys):
    run_dir, _ = run
    for argv, message in [([str(tmp_path)], "is not a training run folder"),
                          ([str(run_dir), "--model", str(tmp_path / "none")],
                           "no exported model"),
                          ([str(run_dir), "--mistakes", "0"], "--mistakes must be positive")]:
        assert run_main(inspect_cli.main, argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err


def test_visualize_draws_filters_and_each_top_level_block(run, tmp_path):
    run_dir, data = run
    image = os.path.join(data, "test", "dog", "0000.png")
    out = tmp_path / "vis"
    assert run_main(visualize_cli.main, ["--net", "lenet5", "--model", str(run_dir / "lenet5"),
                                         "--image", image, "--out", str(out)]) == 0
    names = sorted(os.listdir(out))
    # LeNet-5's stages as the debug mode prints them: two conv stages, then the classifier
    assert names[0].startswith("blk1-") and names[-1] == "filters.png" and len(names) == 4
    for name in names:
        assert Image.open(out / name).size[0] > 200


def test_visualize_an_untrained_googlenet_counts_panels(tmp_path, capsys):
    image = write_image_folder(str(tmp_path / "img"), per_class=(1, 1))
    out = tmp_path / "vis"
    assert run_main(visualize_cli.main, ["--net", "googlenet", "--image",
                                         os.path.join(image, "test", "cat", "0000.png"),
                                         "--out", str(out), "--channels", "16"]) == 0
    lines = capsys.readouterr().out.splitlines()
    panels = {os.path.basename(line.split()[0]): int(line.split("(")[1].split()[0])
              for line in lines}
    assert panels["filters.png"] == 64  # 64 7x7 filters in the stem
    assert [name for name in panels if name.startswith("blk")] == [
        "blk1-stem1.png", "blk2-stem2.png", "blk3-inception3.png", "blk4-inception4.png",
        "blk5-inception5.png", "blk6-classifier.png"]
    assert panels["blk1-stem1.png"] == 16 and panels["blk6-classifier.png"] == 1


def test_visualize_bad_input_is_one_line(run, tmp_path, capsys):
    run_dir, data = run
    image = os.path.join(data, "test", "dog", "0000.png")
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    for argv, message in [(["--image", str(text)], "is not an image"),
                          (["--net", "resnet18", "--model", str(run_dir / "lenet5"), "--image",
                            image], "does not match network resnet18"),
                          (["--image", image, "--channels", "0"], "--channels must be positive")]:
        assert run_main(visualize_cli.main, argv + ["--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
