"""The two records a training run threads through its phases.

``Progress`` is where the run stands, what a checkpoint saves and ``--resume`` restores:
the epoch and the next batch to train, the seconds already spent in that epoch, the
accuracy counts of its batches, and the smoothed loss. ``Placement`` is where it runs: the
devices, the KVStore, this process's rank among the workers, and the precision.
"""
import dataclasses

from .metrics import SmoothedLoss


@dataclasses.dataclass
class Progress:
    epoch: int = 0
    batch: int = 0  # the next batch to train in ``epoch``; 0 at an epoch's start
    seconds: float = 0.0  # spent in ``epoch`` before ``batch``
    accuracy: tuple = (0.0, 0)  # correct, counted, over the epoch's batches so far
    smoothed: SmoothedLoss = dataclasses.field(default_factory=SmoothedLoss)

    def checkpoint_state(self):
        """The checkpoint's JSON: "position" and "smoothed_loss", as runs have always had."""
        return {"position": {"epoch": self.epoch, "batch": self.batch,
                             "seconds": self.seconds, "accuracy": list(self.accuracy)},
                "smoothed_loss": self.smoothed.state()}

    @classmethod
    def from_checkpoint(cls, state):
        position = state["position"]
        return cls(position["epoch"], position["batch"], position["seconds"],
                   tuple(position["accuracy"]), SmoothedLoss(**state["smoothed_loss"]))


@dataclasses.dataclass(frozen=True)
class Placement:
    contexts: list
    kvstore: object = "device"
    rank: int = 0
    workers: int = 1
    precision: str = None  # AMP's low precision, None in float32

    @property
    def chief(self):
        """Rank 0 writes the logs, the checkpoints and the export."""
        return self.rank == 0
