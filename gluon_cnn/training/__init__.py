"""Training: configuration, the loop, smoothed metrics, checkpoints, devices."""
from .config import TrainConfig
from .loop import Interrupted, evaluate, train
from .metrics import SmoothedLoss

__all__ = ["Interrupted", "SmoothedLoss", "TrainConfig", "evaluate", "train"]
