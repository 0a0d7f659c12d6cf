"""The tutorial's train-accuracy pass (a full pass over the training set after every epoch)
at inference speed: what it costs in an epoch of the main job, before and after it ran
through large batches counted on the device.

It times, on one network and in one process, alternating, for ``--rounds`` rounds:
- the training step (the trainer's own, batch 64), from which an epoch's 781 steps follow;
- the evaluation as the trainer runs it (``training.step.evaluate``: batches of
  ``eval_batch_size``, 256 at 96 px, correct counts kept on the device);
- the evaluation as it ran before: batches of 64, ``mx.metric.Accuracy`` updated (and the
  outputs copied to numpy) after every batch.

Both evaluations read the same uint8 images through the same ``BatchIterator`` (resize
included), as an epoch does. It prints images per second and the share of an epoch the
two evaluation passes (50,000 training and 10,000 test images) take::

    python benchmarks/eval_pass.py --rounds 5
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import gluon_cnn  # noqa: E402,F401  (first: it sets the thread defaults before mxnet loads)
import mxnet as mx  # noqa: E402
from gluon_cnn.bench import Workload, read_cpuinfo  # noqa: E402
from gluon_cnn.data import BatchIterator  # noqa: E402
from gluon_cnn.training.step import eval_batch_size, evaluate  # noqa: E402

EPOCH_STEPS, EVAL_IMAGES = 781, 60000  # CIFAR-10 at batch 64; train + test passes


def evaluate_per_batch(net, iterator):
    """The evaluation as it was: the metric reads every batch's outputs back at once."""
    metric = mx.metric.Accuracy()
    for data, label in iterator:
        metric.update([label], [net(data)])
    return metric.get()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--net", default="googlenet")
    parser.add_argument("--images", type=int, default=2560, help="images per evaluation")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10, help="training steps per round")
    args = parser.parse_args()
    work = Workload(args.net, 64, 96, classes=10)
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, (args.images, 32, 32, 3)).astype(np.uint8)
    labels = rng.randint(0, 10, args.images)
    big = eval_batch_size(64, 96)
    samples = {"train step ms": [], "eval img/s (batch %d, counted on device)" % big: [],
               "eval img/s (batch 64, metric per batch)": []}
    keys = list(samples)
    for _ in range(2):  # warm-up: every shape the rounds will use
        work.train_step()
        evaluate(work.net, BatchIterator(images[:2 * big], labels[:2 * big], big, 96),
                 [mx.cpu()])
        evaluate_per_batch(work.net, BatchIterator(images[:128], labels[:128], 64, 96))
    for _ in range(args.rounds):
        start = time.perf_counter()
        for _ in range(args.steps):
            work.train_step()
        mx.nd.waitall()
        samples[keys[0]].append((time.perf_counter() - start) / args.steps * 1000)
        start = time.perf_counter()
        evaluate(work.net, BatchIterator(images, labels, big, 96), [mx.cpu()])
        samples[keys[1]].append(args.images / (time.perf_counter() - start))
        start = time.perf_counter()
        evaluate_per_batch(work.net, BatchIterator(images, labels, 64, 96))
        samples[keys[2]].append(args.images / (time.perf_counter() - start))
    median = {key: statistics.median(values) for key, values in samples.items()}
    print("%s, %s cores, OMP_NUM_THREADS=%s; medians of %d rounds" % (
        read_cpuinfo()[0], os.cpu_count(), os.environ.get("OMP_NUM_THREADS"), args.rounds))
    for key in keys:
        print("  %-42s %8.1f   (rounds: %s)" % (key, median[key], ", ".join(
            "%.1f" % value for value in samples[key])))
    train_s = EPOCH_STEPS * median[keys[0]] / 1000
    for key in keys[1:]:
        eval_s = EVAL_IMAGES / median[key]
        print("  epoch with %s: %.0f s training + %.0f s evaluating = %.1f%% evaluating"
              % (key.split("(")[1].rstrip(")"), train_s, eval_s,
                 100 * eval_s / (train_s + eval_s)))
    print("  new / old evaluation speed: %.2fx" % (median[keys[1]] / median[keys[2]]))


if __name__ == "__main__":
    main()
