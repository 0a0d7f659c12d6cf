"""Training: configuration, the loop, smoothed metrics, checkpoints, devices."""
from .config import TrainConfig
from .loop import evaluate, train
from .metrics import SmoothedLoss

__all__ = ["SmoothedLoss", "TrainConfig", "evaluate", "train"]
