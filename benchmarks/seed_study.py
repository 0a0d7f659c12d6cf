"""Seed study of the main job's first epoch (issue 11): how far the Gluon tutorial's epoch 0
(smoothed loss 2.030, test accuracy 0.287) lies from what our seeds give, and which pipeline
difference moves it.

For every variant and seed it trains the main command for one epoch (``--net googlenet``,
the tutorial's recipe; ``--no-eval-train`` since the study needs no full train pass; the
smoothed loss logged at every iteration) and reads, from the run's own logs:
- the iteration at which the smoothed loss first falls below 2.20 (where the network
  leaves the chance plateau at ln 10 = 2.30);
- the epoch-0 smoothed loss and test accuracy.

A variant is the baseline or one setting changed (a one-flag A/B over the same seeds):
``resize=aligned`` (MXNet's corner-aligned batch resize instead of the tutorial's per-image
imresize), ``last_batch=keep`` (the partial batch stepped as a full one, as the tutorial's
loader and ``trainer.step(64)`` did), ``jpeg=75`` (every image re-encoded once more as JPEG
at quality 75: what one more generation of the shared copy's compression costs).

Runs live under ``--out``; a finished run is read, not trained again, and an interrupted one
continues with ``--resume``, so the study can be carried across sessions. It ends by writing
a Markdown table (``--table``)::

    python benchmarks/seed_study.py --data-dir /tmp/cifar10 --seeds 0 1 2 3 4 \\
        --variant baseline --variant resize=aligned --variant jpeg=75
"""
import argparse
import logging
import os
import shutil
import statistics
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from gluon_cnn.cli import run_main  # noqa: E402
from gluon_cnn.errors import UserError  # noqa: E402
from gluon_cnn.training import TrainConfig, train  # noqa: E402
from gluon_cnn.csvlog import read_csv  # noqa: E402
from gluon_cnn.paths import RunFolder  # noqa: E402
from gluon_cnn.plot import read_reference  # noqa: E402

log = logging.getLogger("gluon_cnn.seed_study")
PLATEAU_LOSS = 2.20
VARIANT_SETTINGS = {"resize": str, "last_batch": str, "jpeg": int}


def parse_variant(text):
    """"baseline" -> {}; "resize=aligned" -> {"resize": "aligned"}."""
    if text == "baseline":
        return {}
    name, _, value = text.partition("=")
    if name not in VARIANT_SETTINGS or not value:
        raise UserError("--variant takes baseline or one of %s as name=value; got '%s'."
                        % (", ".join(VARIANT_SETTINGS), text))
    return {name: VARIANT_SETTINGS[name](value)}


def reencoded_copy(data_dir, quality, folder, shift=0):
    """An image-folder copy of ``data_dir`` with every image re-encoded as JPEG at
    ``quality``; made once, written under a temporary name and renamed when complete.

    Re-encoded as it is, a JPEG at the quality it already has comes back almost unchanged
    (the shared copy at 75: RMSE 0.7 of 255), so it measures little of what a generation
    costs. With ``shift`` pixels (1 to 7) the image is encoded on a grid moved by that much
    (reflect-padded to a multiple of 8 beyond it, then cropped back): the 8x8 blocks no
    longer line up with the first encoding's and a whole new generation's loss results (RMSE
    6.4 at quality 75, shift 4). Those copies are stored as PNG, so that nothing else is lost."""
    if os.path.isdir(folder):
        return folder
    if not 0 <= shift < 8:
        raise UserError("the JPEG grid shift must be 0 to 7 pixels; got %d." % shift)
    temporary = folder + ".partial"
    for root, _, names in os.walk(data_dir):
        target = os.path.join(temporary, os.path.relpath(root, data_dir))
        os.makedirs(target, exist_ok=True)
        for name in names:
            image = cv2.imread(os.path.join(root, name), cv2.IMREAD_UNCHANGED)
            if image is None:
                continue
            stem = os.path.join(target, os.path.splitext(name)[0])
            if not shift:
                cv2.imwrite(stem + ".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
                continue
            height, width = image.shape[:2]
            pad = [(shift, (-(dim + shift)) % 8) for dim in (height, width)]
            padded = np.pad(image, pad + [(0, 0)] * (image.ndim - 2), mode="reflect")
            _, encoded = cv2.imencode(".jpg", padded, [cv2.IMWRITE_JPEG_QUALITY, quality])
            decoded = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
            cv2.imwrite(stem + ".png", decoded[shift:shift + height, shift:shift + width])
    os.rename(temporary, folder)
    return folder


def print_table(text, path=None):
    """A study's Markdown table on the screen, and in ``path`` when one is given."""
    print(text)
    if path:
        with open(path, "w") as handle:
            handle.write(text)


def run_one(args, settings, seed, folder):
    """Train (or continue, or just read) one first epoch; returns its figures."""
    run = RunFolder(folder)
    finished = os.path.isfile(run.metrics) and read_csv(run.metrics)
    if not finished:
        data_dir = args.data_dir
        if "jpeg" in settings:
            data_dir = reencoded_copy(args.data_dir, settings["jpeg"],
                                      os.path.join(args.work_dir, "data-jpeg%d"
                                                   % settings["jpeg"]))
        overrides = {key: value for key, value in settings.items() if key != "jpeg"}
        resume = os.path.isdir(run.checkpoints) and bool(os.listdir(run.checkpoints))
        if not resume and os.path.isdir(folder) and run.run_files():
            # the study's own run, stopped before its first checkpoint (or carried to another
            # machine without it): its partial logs are worth nothing, so it starts over
            log.warning("%s: unfinished and without a checkpoint; training it again", folder)
            shutil.rmtree(folder)
        train(TrainConfig(net="googlenet", data_dir=data_dir, num_epochs=1, seed=seed,
                          eval_train=False, log_interval=1, progress=False, out=folder,
                          resume=resume, max_train_samples=args.max_train_samples,
                          max_test_samples=args.max_test_samples, **overrides))
    epoch = read_csv(run.metrics)[0]
    iterations = read_csv(run.iterations)
    leaves = next((int(row["iteration"]) for row in iterations
                   if float(row["smoothed_loss"]) < PLATEAU_LOSS), None)
    return {"seed": seed, "plateau_exit": leaves, "loss": float(epoch["smoothed_loss"]),
            "test_acc": float(epoch["test_acc"])}


def summarize(name, rows):
    accuracies = [row["test_acc"] for row in rows]
    exits = [row["plateau_exit"] for row in rows if row["plateau_exit"] is not None]
    spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
    return ("| %s | %d | %.3f +- %.3f | %.3f-%.3f | %s | %.3f |" % (
        name, len(rows), statistics.mean(accuracies), spread, min(accuracies),
        max(accuracies), ("%d-%d (median %d)" % (min(exits), max(exits), statistics.median(exits))
                          if exits else "never"),
        statistics.mean(row["loss"] for row in rows)))


def table(results):
    reference = read_reference()
    lines = ["The Gluon tutorial's published epoch 0: smoothed loss %.3f, test accuracy %.3f." % (
        reference["smoothed_loss"][0], reference["test_acc"][0]), "",
        "| variant | seed | leaves the plateau (smoothed loss < %.2f) at iteration | "
        "epoch-0 smoothed loss | epoch-0 test accuracy |" % PLATEAU_LOSS,
        "| --- | ---: | ---: | ---: | ---: |"]
    for name, rows in results.items():
        for row in rows:
            lines.append("| %s | %d | %s | %.3f | %.3f |" % (
                name, row["seed"], row["plateau_exit"] or "not within the epoch",
                row["loss"], row["test_acc"]))
    lines += ["", "| variant | seeds | test accuracy, mean +- sd | range | plateau exit | "
              "mean loss |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    lines += [summarize(name, rows) for name, rows in results.items()]
    return "\n".join(lines) + "\n"


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="CIFAR-10 (any layout train.py reads)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--variant", action="append", default=None,
                        help="baseline, resize=aligned, last_batch=keep or jpeg=QUALITY "
                             "(repeatable; default: baseline)")
    parser.add_argument("--out", default=os.path.join("runs", "seed_study"),
                        help="folder of the study's runs")
    parser.add_argument("--work-dir", default=os.path.join("runs", "seed_study-data"),
                        help="folder for the re-encoded data copies of jpeg=QUALITY")
    parser.add_argument("--table", default=None, help="also write the Markdown table here")
    parser.add_argument("--max-train-samples", type=int, default=0,
                        help="train on the first N images only (a smoke run; 0: all)")
    parser.add_argument("--max-test-samples", type=int, default=0,
                        help="evaluate on the first N test images only (0: all)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    variants = args.variant or ["baseline"]
    settings = {name: parse_variant(name) for name in variants}
    results = {}
    for name in variants:
        results[name] = [run_one(args, settings[name], seed,
                                 os.path.join(args.out, name.replace("=", "-"), "seed%d" % seed))
                         for seed in args.seeds]
    print_table(table(results), args.table)


if __name__ == "__main__":
    sys.exit(run_main(main))
