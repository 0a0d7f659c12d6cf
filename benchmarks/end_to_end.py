"""End to end against the bare training step, side by side in one process.

Issue 14's floor: the main job's loop, data pipeline included, runs at >= 0.97x the speed
of its bare training step. Both sides run the loop's own step (``TrainingRun.step``: the
trainer's step, the accuracy metric, the smoothed loss, the iteration log) on one network:

- bare: one batch, prepared once, stepped ``--steps`` times;
- end to end: the run's own batches (``BatchIterator`` over the decoded images: order,
  per-image resize, scaling, the prefetching thread), ``--steps`` of them.

Rounds alternate (bare, end to end, bare, ...) so that a change in the machine's speed falls
on both; each figure is a median, and the ratio is of the medians. The first
``--warmup`` steps of each side are not timed. With ``--data-dir`` it reads the real
CIFAR-10 (an image folder or the binary release); without, random images of CIFAR's size::

    python benchmarks/end_to_end.py --data-dir /tmp/cifar10 --rounds 7 --steps 40
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import gluon_cnn  # noqa: E402,F401  (first: it sets the thread defaults before mxnet loads)
import mxnet as mx  # noqa: E402
from gluon_cnn.bench import read_cpuinfo  # noqa: E402
from gluon_cnn.training import TrainConfig  # noqa: E402
from gluon_cnn.training.loop import TrainingRun, load_data, seed_everything  # noqa: E402
from gluon_cnn.training.records import Placement  # noqa: E402


def timed_steps(run, batches, count):
    """Seconds for ``count`` steps of ``run`` over ``batches`` (an iterator)."""
    accuracy = mx.metric.Accuracy()
    start = time.perf_counter()
    for number, (data, label) in zip(range(count), batches):
        run.step(0, number, data, label, accuracy)
    mx.nd.waitall()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--net", default="googlenet")
    parser.add_argument("--data-dir", default=None,
                        help="CIFAR-10 folder (default: random images, --dataset synthetic)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30, help="timed steps per round and side")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps per side")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        samples = (args.rounds + 1) * (args.steps + args.warmup) * 64
        config = TrainConfig(net=args.net, dataset="cifar10" if args.data_dir else "synthetic",
                             data_dir=args.data_dir, synthetic_samples=samples,
                             max_train_samples=samples, max_test_samples=64,
                             out=os.path.join(scratch, "run"), progress=False)
        config.validate()
        os.makedirs(config.out)
        seed_everything(config.seed)
        data = load_data(config)
        if len(data.train_batches) < args.steps + args.warmup:
            parser.error("the data holds %d batches of 64; a round needs --steps + --warmup = "
                         "%d" % (len(data.train_batches), args.steps + args.warmup))
        run = TrainingRun(config, data, Placement([mx.cpu()], "device"))
        fixed = next(data.train_batches.batches(0))
        seconds = {"bare": [], "end to end": []}
        for round_number in range(args.rounds):
            batches = data.train_batches.batches(round_number)
            timed_steps(run, iter([fixed] * args.warmup), args.warmup)
            seconds["bare"].append(timed_steps(run, iter([fixed] * args.steps), args.steps))
            timed_steps(run, batches, args.warmup)
            seconds["end to end"].append(timed_steps(run, batches, args.steps))
            batches.close()
    rate = {side: args.steps * 64 / statistics.median(values) for side, values in seconds.items()}
    print("%s, batch 64, %d px, resize %s, data %s; %s, OMP_NUM_THREADS=%s" % (
        args.net, config.image_size, config.resize, args.data_dir or "synthetic",
        read_cpuinfo()[0], os.environ.get("OMP_NUM_THREADS")))
    print("%d rounds of %d timed steps per side (after %d untimed), alternating" % (
        args.rounds, args.steps, args.warmup))
    for side, values in seconds.items():
        print("  %-10s %6.1f images/s  (median; rounds: %s s)" % (
            side, rate[side], ", ".join("%.1f" % value for value in values)))
    print("  end to end / bare: %.3fx" % (rate["end to end"] / rate["bare"]))


if __name__ == "__main__":
    main()
