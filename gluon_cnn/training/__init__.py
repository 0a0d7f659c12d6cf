"""Training: configuration, the loop, smoothed metrics, checkpoints, devices."""
from .config import TrainConfig
from .loop import train
from .metrics import SmoothedLoss
from .signals import Interrupted
from .step import evaluate

__all__ = ["Interrupted", "SmoothedLoss", "TrainConfig", "evaluate", "train"]
