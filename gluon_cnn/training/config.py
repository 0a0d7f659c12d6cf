"""Everything a training run depends on, validated once, saved with the run."""
import dataclasses
import math
import os

import mxnet as mx

from ..data import DATASETS, FLIP_MODES, PAD_MODES, RESIZE_MODES
from ..errors import UserError
from ..models import NORMALIZATIONS, check_model_name

OPTIMIZERS = ("sgd", "nag", "adam", "rmsprop", "adagrad")
# "kaiming": He et al.'s initialization for ReLU networks (normal, variance 2 / fan-in), what
# the ResNet paper used; "msra" is MXNet's MSRAPrelu default (PReLU slope 0.25, fan average).
INITIALIZERS = {"xavier": mx.init.Xavier, "msra": mx.init.MSRAPrelu,
                "kaiming": lambda: mx.init.MSRAPrelu(factor_type="in", slope=0.0),
                "uniform": mx.init.Uniform, "normal": mx.init.Normal}
LR_MODES = ("step", "cosine", "poly", "linear")
WARMUP_MODES = ("linear", "constant")
# MXNet 1.9.1's wheels index tensors with 32 bits: a 3-channel image of 26,755 pixels a side
# is already over 2^31 elements; no zoo network is trained near this size
MAX_IMAGE_SIZE = 4096
TTA_MODES = ("none", "flip", "flip-translate")
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
    num_epochs: float = 20  # a fraction trains part of the last epoch (airbench's 9.9)
    batch_size: int = 64
    lr: float = 0.1
    momentum: float = 0.0
    wd: float = 0.0
    lr_mode: str = "step"
    lr_decay: float = 0.1
    lr_decay_epoch: str = ""
    warmup_epochs: float = 0
    warmup_mode: str = "linear"  # "constant": --warmup-lr for the warm-up epochs
    warmup_lr: float = 0.0  # the rate the warm-up starts from
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
    crop_padding: int = 4  # --augment's padding before the random crop
    pad_mode: str = "zero"  # what that padding holds: zeros, or the image reflected
    flip_mode: str = "random"  # --augment's flip: random per image, or alternating by epoch
    normalize: str = "none"  # "pixel": the training set's mean image; "channel": mean and std
    label_smoothing: float = 0.0
    mixup: float = 0.0  # Beta(alpha, alpha) of mixup; 0: off
    cutmix: float = 0.0  # Beta(alpha, alpha) of cutmix; 0: off (both on: half the batches each)
    mix_off_epochs: int = 0  # the last epochs train without mixup and cutmix
    ema: float = 0.0  # decay of the weights' exponential moving average; 0: off
    lookahead: int = 0  # the airbench paper's averaging every N steps; 0: off
    final_lr: float = 0.0  # the rate that linear, poly and cosine schedules end at
    tta: str = "none"  # test-time augmentation of the evaluation passes
    tta_every_epoch: bool = True  # False: the TTA pass after the last epoch only
    no_bias_decay: bool = False  # no weight decay on biases and batch-norm parameters
    clip_grad_norm: float = 0.0  # the gradients' global L2 norm is clipped to this; 0: off
    tensorboard: bool = False
    recipe: str = None  # the named recipe the settings came from (recipes/)
    only_classes: str = ""  # comma-separated class names: train and test on these only
    train_per_class: int = 0  # the first N training images of each class; 0: all
    pretrained: str = None  # a run folder or export whose weights the run starts from
    freeze_features: bool = False  # only the head trains
    pretrained_lr_mult: float = 1.0  # learning-rate multiplier of the loaded weights
    eval_train: bool = True  # the Gluon tutorial's Train acc: a full pass over the training set
    log_interval: int = 50
    synthetic_samples: int = 1024
    progress: bool = None  # None: a progress bar when attached to a terminal

    def __post_init__(self):
        if self.out is None:
            # runs/, not results/: the project's reference runs are never a default target
            self.out = os.path.join("runs", "%s-%s-%dpx%s" % (
                self.net, self.dataset, self.image_size,
                "-" + self.recipe if self.recipe else ""))

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
        if not math.isfinite(self.num_epochs):
            raise UserError("--num-epochs must be a finite number; got %s." % self.num_epochs)
        if self.image_size > MAX_IMAGE_SIZE:
            raise UserError("--image-size must be at most %d pixels; got %d."
                            % (MAX_IMAGE_SIZE, self.image_size))
        non_negative = {"--momentum": self.momentum, "--wd": self.wd,
                        "--warmup-epochs": self.warmup_epochs, "--aux-weight": self.aux_weight,
                        "--max-train-samples": self.max_train_samples,
                        "--max-test-samples": self.max_test_samples,
                        "--decode-threads": self.num_workers, "--seed": self.seed,
                        "--warmup-lr": self.warmup_lr, "--crop-padding": self.crop_padding,
                        "--mixup": self.mixup, "--cutmix": self.cutmix,
                        "--mix-off-epochs": self.mix_off_epochs,
                        "--clip-grad-norm": self.clip_grad_norm,
                        "--lookahead": self.lookahead, "--final-lr": self.final_lr,
                        "--train-per-class": self.train_per_class,
                        "--pretrained-lr-mult": self.pretrained_lr_mult}
        for flag, value in non_negative.items():
            if value < 0:
                raise UserError("%s cannot be negative; got %s." % (flag, value))
        for flag, value, choices in (("--optimizer", self.optimizer, OPTIMIZERS),
                                     ("--init", self.init, INITIALIZERS),
                                     ("--lr-mode", self.lr_mode, LR_MODES),
                                     ("--dataset", self.dataset, DATASETS),
                                     ("--resize", self.resize, RESIZE_MODES),
                                     ("--last-batch", self.last_batch, LAST_BATCH),
                                     ("--kvstore", self.kvstore, KVSTORES),
                                     ("--warmup-mode", self.warmup_mode, WARMUP_MODES),
                                     ("--normalize", self.normalize, NORMALIZATIONS),
                                     ("--tta", self.tta, TTA_MODES),
                                     ("--flip-mode", self.flip_mode, FLIP_MODES),
                                     ("--pad-mode", self.pad_mode, PAD_MODES)):
            if value not in choices:
                raise UserError("%s must be one of %s; got '%s'." % (flag, ", ".join(choices),
                                                                    value))
        if self.warmup_epochs >= self.num_epochs:
            raise UserError("--warmup-epochs (%s) must be fewer than --num-epochs (%s): the "
                            "schedule starts after the warm-up." % (self.warmup_epochs,
                                                                    self.num_epochs))
        if not 0 < self.lr_decay <= 1:
            raise UserError("--lr-decay is the factor the rate is multiplied by at each decay "
                            "epoch: above 0 and at most 1; got %s." % self.lr_decay)
        for flag, value in (("--label-smoothing", self.label_smoothing), ("--ema", self.ema),
                            ("--momentum", self.momentum)):
            if not 0 <= value < 1:
                raise UserError("%s must be at least 0 and below 1; got %s." % (flag, value))
        if self.clip_grad_norm and (self.amp or self.kvstore.startswith("dist")):
            raise UserError("--clip-grad-norm cannot be combined with %s: clipping rescales the "
                            "gradients in the worker's own update." % (
                                "--amp" if self.amp else "--kvstore " + self.kvstore))
        if self.amp and self.kvstore.startswith("dist"):
            raise UserError("--amp cannot be combined with --kvstore %s: AMP skips the updates "
                            "whose gradients overflow, which needs the workers to update, while "
                            "distributed jobs update on the servers." % self.kvstore)
        if not self.pretrained and (self.freeze_features or self.pretrained_lr_mult != 1):
            raise UserError("--freeze-features and --pretrained-lr-mult act on the weights of "
                            "--pretrained; pass --pretrained SOURCE.")
        if self.pretrained and not os.path.exists(self.pretrained) and not os.path.isfile(
                self.pretrained + "-symbol.json"):
            raise UserError("--pretrained %s: no such run folder or export." % self.pretrained)
        self.decay_epochs()
        return self

    def class_names(self):
        """The classes of --classes, in order (empty: all)."""
        return [name.strip() for name in self.only_classes.split(",") if name.strip()]

    def decay_epochs(self):
        """The epochs at which step mode decays, checked: ascending, after the warm-up."""
        try:
            epochs = [int(part) for part in self.lr_decay_epoch.split(",") if part.strip()]
        except ValueError:
            raise UserError("--lr-decay-epoch takes comma-separated epochs such as 40,60; got "
                            "'%s'." % self.lr_decay_epoch) from None
        if epochs and (epochs != sorted(epochs) or epochs[0] <= self.warmup_epochs):
            raise UserError("--lr-decay-epoch takes ascending epochs after the warm-up (the "
                            "first above --warmup-epochs %d); got '%s'."
                            % (self.warmup_epochs, self.lr_decay_epoch))
        return epochs

    def epochs_started(self):
        """Epochs the run trains in, the last one perhaps in part."""
        return math.ceil(self.num_epochs)

    def total_steps(self, iterations_per_epoch):
        """Steps of the whole run: a fractional --num-epochs rounds up to a whole step."""
        return math.ceil(self.num_epochs * iterations_per_epoch)

    def to_dict(self):
        return dataclasses.asdict(self)
