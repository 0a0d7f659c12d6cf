"""Learning curves from runs' CSV logs: smoothed loss per iteration, accuracy per epoch."""
import json
import os

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .errors import UserError  # noqa: E402
from .csvlog import read_csv  # noqa: E402
from .paths import RunFolder  # noqa: E402

# The curve the main job reproduces, as published: the MXNet Gluon GoogLeNet tutorial's epoch
# lines (source in results/reference/README.md).
REFERENCE_CURVE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                               "results", "reference", "gluon-googlenet-tutorial.csv")
REFERENCE_LABEL = "Gluon tutorial"


def new_figure(rows=1, columns=1, **kwargs):
    """(figure, axes) drawn off screen: a matplotlib Figure of its own, no pyplot, so that
    importing the package leaves matplotlib's backend (a notebook's, say) as it was."""
    figure = Figure(figsize=kwargs.pop("figsize", None))
    return figure, figure.subplots(rows, columns, **kwargs)


def save_figure(figure, path, dpi=100):
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)


def read_reference(path=REFERENCE_CURVE):
    """{column: [values by epoch]} of a reference curve; empty cells are None."""
    if not os.path.isfile(path):
        raise UserError("the reference curve %s is missing; it ships with the repository "
                        "(results/reference/), so run from a checkout." % path)
    rows = read_csv(path)
    return {column: [float(row[column]) if row[column] else None for row in rows]
            for column in rows[0]}


def _iterations_per_epoch(run, iterations):
    """From the run's config.json, or estimated from the last logged row."""
    config_file = RunFolder(run).config
    if os.path.isfile(config_file):
        with open(config_file) as handle:
            value = json.load(handle).get("iterations_per_epoch")
        if value:
            return float(value)
    return max(1.0, float(iterations[-1]["iteration"]) / (float(iterations[-1]["epoch"]) + 1))


def _floats(rows, column):
    return [float(row[column]) for row in rows]


METRIC_COLUMNS = ("epoch", "smoothed_loss", "train_acc", "test_acc", "seconds")


def _read_metrics(run):
    """The rows of a run's metrics.csv, checked: every row has the epoch columns as numbers."""
    metrics = RunFolder(run).metrics
    if not os.path.isfile(metrics):
        raise UserError("%s has no metrics.csv; is it a training run folder?" % run)
    rows = read_csv(metrics)
    with open(metrics, newline="") as handle:
        header = handle.readline().strip().split(",")
    try:
        if not set(METRIC_COLUMNS) <= set(header):
            raise KeyError(header)
        for row in rows:
            for column in METRIC_COLUMNS:
                float(row[column])
    except (KeyError, TypeError, ValueError):
        raise UserError("%s is not a training run's metrics.csv: each row needs the numbers "
                        "epoch, smoothed_loss, train_acc, test_acc and seconds." % metrics) \
            from None
    return rows


def plot_runs(run_dirs, output, with_reference=False):
    """Draw one figure for one or several run folders (each with metrics.csv) into ``output``.

    The accuracy panel numbers epochs from 0, as the epoch lines and metrics.csv do. The loss
    panel is continuous in epochs trained: epoch n's steps span n to n + 1, so its end-of-epoch
    smoothed loss sits at n + 1."""
    figure, (loss_axis, acc_axis) = new_figure(1, 2, figsize=(12, 4.5))
    for index, run in enumerate(run_dirs):
        colour = "C%d" % (index % 10)  # one colour per run, in both panels
        epochs = _read_metrics(run)
        label = os.path.basename(os.path.normpath(run))
        iterations_file = RunFolder(run).iterations
        iterations = read_csv(iterations_file) if os.path.isfile(iterations_file) else []
        if iterations:
            per_epoch = _iterations_per_epoch(run, iterations)
            loss_axis.plot([float(r["iteration"]) / per_epoch for r in iterations],
                           _floats(iterations, "smoothed_loss"), label=label, color=colour)
        elif epochs:
            loss_axis.plot([float(r["epoch"]) + 1 for r in epochs],
                           _floats(epochs, "smoothed_loss"), marker="o", label=label,
                           color=colour)
        if epochs:
            x = [float(r["epoch"]) for r in epochs]
            acc_axis.plot(x, _floats(epochs, "train_acc"), marker="o", label=label + " train",
                          color=colour)
            acc_axis.plot(x, _floats(epochs, "test_acc"), marker="s", linestyle="--",
                          label=label + " test", color=colour)
    if not loss_axis.lines:
        raise UserError("nothing to draw: %s logged no epoch and no iteration yet."
                        % ", ".join(run_dirs))
    if with_reference:
        reference = read_reference()
        loss_axis.plot([epoch + 1 for epoch in reference["epoch"]], reference["smoothed_loss"],
                       "k:", marker="x", label=REFERENCE_LABEL)
        acc_axis.plot(reference["epoch"], reference["train_acc"], "k:", marker="x",
                      label=REFERENCE_LABEL + " train")
        acc_axis.plot(reference["epoch"], reference["test_acc"], "k-.", marker="+",
                      label=REFERENCE_LABEL + " test")
    loss_axis.set(xlabel="epochs trained (epoch n ends at n + 1)",
                  ylabel="smoothed training loss", title="Loss")
    acc_axis.set(xlabel="epoch (from 0, as the epoch lines)", ylabel="accuracy",
                 title="Accuracy after each epoch", ylim=(0, 1))
    acc_axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    for axis in (loss_axis, acc_axis):
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    save_figure(figure, output, dpi=110)
    return output


def reference_table(run_dir):
    """A Markdown table of the run's epochs beside the Gluon tutorial's published ones:
    smoothed loss, train and test accuracy, seconds, and the test accuracy's difference in
    points."""
    ours = {int(row["epoch"]): row for row in _read_metrics(run_dir)}
    reference = read_reference()
    published = len(reference["epoch"])
    lines = ["| epoch | %s: loss | train | test | s | ours: loss | train | test | s | "
             "test, ours - tutorial (points) |" % REFERENCE_LABEL, "|" + " ---: |" * 10]
    for epoch in sorted(set(range(published)) | set(ours)):
        theirs = (["%.3f" % reference[key][epoch] for key in ("smoothed_loss", "train_acc",
                                                             "test_acc")]
                  + ["%.1f" % reference["seconds"][epoch] if reference["seconds"][epoch]
                     else ""] if epoch < published else ["", "", "", ""])
        row = ours.get(epoch)
        mine = (["%.3f" % float(row[key]) for key in ("smoothed_loss", "train_acc", "test_acc")]
                + ["%.0f" % float(row["seconds"])] if row else ["", "", "", ""])
        gap = ("%+.1f" % (100 * (float(row["test_acc"]) - reference["test_acc"][epoch]))
               if row and epoch < published else "")
        lines.append("| %d | %s | %s | %s |" % (epoch, " | ".join(theirs), " | ".join(mine),
                                                 gap))
    return "\n".join(lines)
