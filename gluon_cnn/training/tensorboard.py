"""TensorBoard event files beside a run's CSV logs (``--tensorboard``; tensorboardX, the
optional ``.[tensorboard]`` extra): the logged iterations' smoothed loss and learning rate,
each epoch's accuracies, loss and speed, and the run's settings as text."""
import json
import os

from ..errors import UserError

EPOCH_SCALARS = ("smoothed_loss", "train_acc", "running_train_acc", "test_acc", "test_acc_tta",
                 "samples_per_sec")


def require_tensorboardx():
    """The SummaryWriter class, or a UserError saying how to install it."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise UserError("--tensorboard needs tensorboardX; install it with: pip install -e "
                        "'.[tensorboard]'") from None
    return SummaryWriter


class TensorBoardLog:
    def __init__(self, folder, facts):
        self.writer = require_tensorboardx()(logdir=folder)
        self.writer.add_text("config", "```\n%s\n```" % json.dumps(facts, indent=1))

    def iteration(self, row):
        step = row["iteration"]
        self.writer.add_scalar("train/smoothed_loss", row["smoothed_loss"], step)
        self.writer.add_scalar("train/lr", row["lr"], step)

    def epoch(self, row):
        for name in EPOCH_SCALARS:
            if row.get(name) not in (None, ""):
                self.writer.add_scalar("epoch/" + name, row[name], row["epoch"])
        self.writer.flush()

    def close(self):
        self.writer.close()


def open_tensorboard(run_folder, facts):
    """A TensorBoardLog writing into ``<run folder>/tensorboard``."""
    return TensorBoardLog(os.path.join(run_folder, "tensorboard"), facts)
