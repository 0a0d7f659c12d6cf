"""Fine-tuning against training from scratch, on real data and offline (issue 25).

CIFAR-10 split in two: a network is pre-trained on the first five classes (airplane,
automobile, bird, cat, deer; all 25,000 training images), then trained on the other five
(dog, frog, horse, ship, truck) from only 100 training images per class, three ways, each
for the same epochs with the same settings:
- ``finetune``: from the pre-trained weights (``--pretrained``), every layer training;
- ``linear-probe``: from them with ``--freeze-features``, only the new head training;
- ``scratch``: from a random initialization.
Each is tested on the 5,000 test images of those five classes. Runs live under ``--out``; a
finished run is read, not trained again, and an interrupted one continues with ``--resume``.
It ends by writing a Markdown table (``--table``) of the final and best test accuracies::

    python benchmarks/five_and_five.py --data-dir /tmp/cifar10 \\
        --out results/five-and-five --table results/five-and-five/summary.md
"""
import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from gluon_cnn.cli import run_main  # noqa: E402
from gluon_cnn.csvlog import read_csv  # noqa: E402
from gluon_cnn.errors import UserError  # noqa: E402
from gluon_cnn.paths import RunFolder  # noqa: E402
from gluon_cnn.runs import read_run_config  # noqa: E402
from gluon_cnn.training import TrainConfig, checkpoint, train  # noqa: E402

log = logging.getLogger("gluon_cnn.five_and_five")
FIRST_FIVE = "airplane,automobile,bird,cat,deer"
OTHER_FIVE = "dog,frog,horse,ship,truck"
# What every run shares besides the network (by default the CIFAR ResNet-20: 0.27M
# parameters, under two minutes an epoch of 25,000 images on 2 cores at 32 px): the suite's
# modern settings
COMMON = dict(image_size=32, optimizer="nag", momentum=0.9, wd=5e-4,
              lr_mode="cosine", augment=True, normalize="channel", no_bias_decay=True,
              init="kaiming", eval_train=False, progress=False)
ARMS = {"finetune": {"pretrained": True}, "linear-probe": {"pretrained": True,
                                                            "freeze_features": True},
        "scratch": {}}


def run_or_read(folder, **settings):
    """Train ``folder`` (or continue it, or just read it); returns its metrics rows."""
    run = RunFolder(folder)
    rows = read_csv(run.metrics) if os.path.isfile(run.metrics) else []
    if len(rows) < settings["num_epochs"]:
        resume = bool(checkpoint.list_checkpoints(run.checkpoints))
        train(TrainConfig(out=folder, resume=resume, **dict(COMMON, **settings)))
        rows = read_csv(run.metrics)
    return rows


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, help="CIFAR-10 (any layout train.py reads)")
    parser.add_argument("--out", default="results/five-and-five", help="the runs' folder")
    parser.add_argument("--table", default=None, help="also write the Markdown table here")
    parser.add_argument("--net", default="cifar_resnet20", help="the network of every run")
    parser.add_argument("--pretrain-epochs", type=int, default=15)
    parser.add_argument("--pretrain-lr", type=float, default=0.1)
    parser.add_argument("--pretrain-batch-size", type=int, default=128)
    parser.add_argument("--per-class", type=int, default=100,
                        help="training images per class of the other five")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of each arm")
    parser.add_argument("--batch-size", type=int, default=32, help="batch of each arm")
    parser.add_argument("--lr", type=float, default=0.05, help="learning rate of each arm")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    for flag, value in (("--pretrain-epochs", args.pretrain_epochs), ("--epochs", args.epochs),
                        ("--pretrain-batch-size", args.pretrain_batch_size),
                        ("--per-class", args.per_class), ("--batch-size", args.batch_size)):
        if value <= 0:
            raise UserError("%s must be positive; got %d." % (flag, value))
    base = os.path.join(args.out, "pretrain-first-five")
    rows = run_or_read(base, net=args.net, data_dir=args.data_dir, only_classes=FIRST_FIVE,
                       num_epochs=args.pretrain_epochs, batch_size=args.pretrain_batch_size,
                       lr=args.pretrain_lr,
                       warmup_epochs=1 if args.pretrain_epochs > 1 else 0, seed=args.seed)
    lines = ["Pre-training (`%s`): %s on %s, all training images, %d epochs "
             "(%.1f minutes, epochs summed): test accuracy %.4f on their 5,000 test images."
             % (base, args.net, FIRST_FIVE.replace(",", ", "), len(rows),
                sum(float(row["seconds"]) for row in rows) / 60, float(rows[-1]["test_acc"])),
             "", "Then %s from %d training images per class, %d epochs each, batch %d, lr %g "
             "(Nesterov, cosine); tested on their 5,000 test images:"
             % (OTHER_FIVE.replace(",", ", "), args.per_class, args.epochs, args.batch_size,
                args.lr), "",
             "| run | start | trains | final test acc | best test acc (epoch) | minutes "
             "(epochs summed) |",
             "|---|---|---|---|---|---|"]
    for arm, settings in ARMS.items():
        folder = os.path.join(args.out, arm)
        rows = run_or_read(folder, net=args.net, data_dir=args.data_dir, only_classes=OTHER_FIVE,
                           train_per_class=args.per_class, num_epochs=args.epochs,
                           batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                           pretrained=base if settings.get("pretrained") else None,
                           freeze_features=settings.get("freeze_features", False))
        best = max(rows, key=lambda row: float(row["test_acc"]))
        lines.append("| `%s` | %s | %s | %.4f | %.4f (%s) | %.1f |" % (
            folder, "pre-trained" if settings.get("pretrained") else "random",
            "head only" if settings.get("freeze_features") else "all layers",
            float(rows[-1]["test_acc"]), float(best["test_acc"]), best["epoch"],
            sum(float(row["seconds"]) for row in rows) / 60))
    cpus = sorted({read_run_config(os.path.join(args.out, name))["machine"]["cpu"]
                   for name in ["pretrain-first-five"] + list(ARMS)})
    lines += ["", "CPU: %s. Command: `python benchmarks/five_and_five.py --data-dir DIR --out %s`"
              % ("; ".join(cpus), args.out)]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.table:
        with open(args.table, "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    sys.exit(run_main(main))
