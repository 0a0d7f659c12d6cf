"""Everything a training run depends on, validated once, saved with the run."""
import dataclasses
import os

import mxnet as mx

from ..data import DATASETS, RESIZE_MODES
from ..errors import UserError
from ..models import check_model_name

OPTIMIZERS = ("sgd", "nag", "adam", "rmsprop", "adagrad")
INITIALIZERS = {"xavier": mx.init.Xavier, "msra": mx.init.MSRAPrelu,
                "uniform": mx.init.Uniform, "normal": mx.init.Normal}
LR_MODES = ("step", "cosine", "poly", "linear")
# MXNet's gradient aggregation: on one machine, or on the parameter server (dist_*)
LAST_BATCH = ("discard", "keep")
KVSTORES = ("device", "local", "nccl", "dist_sync", "dist_device_sync", "dist_async")


@dataclasses.dataclass
class TrainConfig:
    net: str = "googlenet"
    dataset: str = "cifar10"
    data_dir: str = None
    image_size: int = 96
    resize: str = "imresize"  # the Gluon tutorial's per-image resize; "aligned": MXNet's
    last_batch: str = "discard"  # "keep": train the partial batch too, as a full batch's step
    num_epochs: int = 20
    batch_size: int = 64
    lr: float = 0.1
    momentum: float = 0.0
    wd: float = 0.0
    lr_mode: str = "step"
    lr_decay: float = 0.1
    lr_decay_epoch: str = ""
    warmup_epochs: int = 0
    optimizer: str = "sgd"
    init: str = "xavier"
    aux_weight: float = 0.3
    gpus: str = ""
    ctx: str = ""
    kvstore: str = "device"
    num_workers: int = 2
    hybridize: bool = True
    amp: bool = False
    seed: int = 0
    out: str = None
    resume: bool = False
    max_train_samples: int = 0
    max_test_samples: int = 0
    augment: bool = False
    eval_train: bool = True  # the Gluon tutorial's Train acc: a full pass over the training set
    log_interval: int = 50
    synthetic_samples: int = 1024
    progress: bool = None  # None: a progress bar when attached to a terminal

    def __post_init__(self):
        if self.out is None:
            # runs/, not results/: the project's reference runs are never a default target
            self.out = os.path.join("runs", "%s-%s-%dpx" % (self.net, self.dataset,
                                                             self.image_size))

    def validate(self):
        """Raise UserError for values no run can use (the network and data check the rest).
        Everything that can be checked without loading data is checked here, first."""
        check_model_name(self.net)
        positive = {"--num-epochs": self.num_epochs, "--batch-size": self.batch_size,
                    "--synthetic-samples": self.synthetic_samples,
                    "--lr": self.lr, "--image-size": self.image_size,
                    "--log-interval": self.log_interval}
        for flag, value in positive.items():
            if not value > 0:
                raise UserError("%s must be positive; got %s." % (flag, value))
        non_negative = {"--momentum": self.momentum, "--wd": self.wd,
                        "--warmup-epochs": self.warmup_epochs, "--aux-weight": self.aux_weight,
                        "--max-train-samples": self.max_train_samples,
                        "--max-test-samples": self.max_test_samples,
                        "--num-workers": self.num_workers, "--seed": self.seed}
        for flag, value in non_negative.items():
            if value < 0:
                raise UserError("%s cannot be negative; got %s." % (flag, value))
        for flag, value, choices in (("--optimizer", self.optimizer, OPTIMIZERS),
                                     ("--init", self.init, INITIALIZERS),
                                     ("--lr-mode", self.lr_mode, LR_MODES),
                                     ("--dataset", self.dataset, DATASETS),
                                     ("--resize", self.resize, RESIZE_MODES),
                                     ("--last-batch", self.last_batch, LAST_BATCH),
                                     ("--kvstore", self.kvstore, KVSTORES)):
            if value not in choices:
                raise UserError("%s must be one of %s; got '%s'." % (flag, ", ".join(choices),
                                                                    value))
        if self.amp and self.kvstore.startswith("dist"):
            raise UserError("--amp cannot be combined with --kvstore %s: AMP skips the updates "
                            "whose gradients overflow, which needs the workers to update, while "
                            "distributed jobs update on the servers." % self.kvstore)
        self.decay_epochs()
        return self

    def decay_epochs(self):
        try:
            return [int(part) for part in self.lr_decay_epoch.split(",") if part.strip()]
        except ValueError:
            raise UserError("--lr-decay-epoch takes comma-separated epochs such as 40,60; got "
                            "'%s'." % self.lr_decay_epoch) from None

    def to_dict(self):
        return dataclasses.asdict(self)
