"""Learning curves from runs' CSV logs: smoothed loss per iteration, accuracy per epoch."""
import json
import os

import matplotlib

matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt  # noqa: E402

from .errors import UserError  # noqa: E402
from .training.metrics import read_csv  # noqa: E402

# Seed 002's logged epochs (GoogLeNet, CIFAR-10 at 96 px, batch 64, SGD 0.1, on a GPU).
SEED_002 = {
    "epoch": list(range(10)),
    "smoothed_loss": [2.03005, 1.69580, 1.44750, 1.15227, 1.04971, 0.92597, 0.85547, 0.83491,
                      0.71385, 0.61888],
    "train_acc": [0.28000, 0.41744, 0.50410, 0.59978, 0.64476, 0.69340, 0.74402, 0.78594,
                  0.81424, 0.80940],
    "test_acc": [0.28670, 0.41910, 0.49940, 0.57780, 0.62740, 0.66270, 0.69830, 0.73010,
                 0.74510, 0.73530],
    # the seed's output ends inside epoch 9's line, before its time
    "seconds": [69.89280, 68.78216, 68.90851, 68.84130, 68.90965, 68.88063, 68.98737,
                68.87968, 68.92734, None],
}


def _iterations_per_epoch(run, iterations):
    """From the run's config.json, or estimated from the last logged row."""
    config_file = os.path.join(run, "config.json")
    if os.path.isfile(config_file):
        with open(config_file) as handle:
            value = json.load(handle).get("iterations_per_epoch")
        if value:
            return float(value)
    return max(1.0, float(iterations[-1]["iteration"]) / (float(iterations[-1]["epoch"]) + 1))


def _floats(rows, column):
    return [float(row[column]) for row in rows]


def plot_runs(run_dirs, output, with_seed=False):
    """Draw one figure for one or several run folders (each with metrics.csv) into ``output``."""
    figure, (loss_axis, acc_axis) = plt.subplots(1, 2, figsize=(12, 4.5))
    for run in run_dirs:
        metrics = os.path.join(run, "metrics.csv")
        if not os.path.isfile(metrics):
            raise UserError("%s has no metrics.csv; is it a training run folder?" % run)
        label = os.path.basename(os.path.normpath(run))
        epochs = read_csv(metrics)
        iterations_file = os.path.join(run, "iterations.csv")
        iterations = read_csv(iterations_file) if os.path.isfile(iterations_file) else []
        if iterations:
            per_epoch = _iterations_per_epoch(run, iterations)
            loss_axis.plot([float(r["iteration"]) / per_epoch for r in iterations],
                           _floats(iterations, "smoothed_loss"), label=label)
        elif epochs:
            loss_axis.plot([float(r["epoch"]) + 1 for r in epochs],
                           _floats(epochs, "smoothed_loss"), marker="o", label=label)
        if epochs:
            x = [float(r["epoch"]) + 1 for r in epochs]
            acc_axis.plot(x, _floats(epochs, "train_acc"), marker="o", label=label + " train")
            acc_axis.plot(x, _floats(epochs, "test_acc"), marker="s", linestyle="--",
                          label=label + " test")
    if with_seed:
        x = [epoch + 1 for epoch in SEED_002["epoch"]]
        loss_axis.plot(x, SEED_002["smoothed_loss"], "k:", marker="x", label="seed 002")
        acc_axis.plot(x, SEED_002["train_acc"], "k:", marker="x", label="seed 002 train")
        acc_axis.plot(x, SEED_002["test_acc"], "k-.", marker="+", label="seed 002 test")
    loss_axis.set(xlabel="epoch", ylabel="smoothed training loss", title="Loss")
    acc_axis.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0, 1))
    for axis in (loss_axis, acc_axis):
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(output, dpi=110)
    plt.close(figure)
    return output


def seed_table(run_dir):
    """A Markdown table of the run's epochs beside seed 002's published ones: smoothed loss,
    train and test accuracy, seconds, and the test accuracy's difference in points."""
    metrics = os.path.join(run_dir, "metrics.csv")
    if not os.path.isfile(metrics):
        raise UserError("%s has no metrics.csv; is it a training run folder?" % run_dir)
    ours = {int(row["epoch"]): row for row in read_csv(metrics)}
    lines = ["| epoch | seed 002: loss | train | test | s | ours: loss | train | test | s | "
             "test, ours - seed (points) |", "|" + " ---: |" * 10]
    for epoch in sorted(set(SEED_002["epoch"]) | set(ours)):
        seed = (["%.3f" % SEED_002[key][epoch] for key in ("smoothed_loss", "train_acc",
                                                          "test_acc")]
                + ["%.1f" % SEED_002["seconds"][epoch] if SEED_002["seconds"][epoch] else ""]
                if epoch < len(SEED_002["epoch"]) else ["", "", "", ""])
        row = ours.get(epoch)
        mine = (["%.3f" % float(row[key]) for key in ("smoothed_loss", "train_acc", "test_acc")]
                + ["%.0f" % float(row["seconds"])] if row else ["", "", "", ""])
        gap = ("%+.1f" % (100 * (float(row["test_acc"]) - SEED_002["test_acc"][epoch]))
               if row and epoch < len(SEED_002["epoch"]) else "")
        lines.append("| %d | %s | %s | %s |" % (epoch, " | ".join(seed), " | ".join(mine), gap))
    return "\n".join(lines)

