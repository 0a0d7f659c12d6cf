"""Train a zoo network. The defaults reproduce the MXNet Gluon GoogLeNet tutorial's run:
GoogLeNet on CIFAR-10 resized to 96 px, batch 64, plain SGD at 0.1, Xavier initialization,
20 epochs, hybridized."""

from ..data import DATASETS, FLIP_MODES, PAD_MODES, RESIZE_MODES
from ..data.cifar import DEFAULT_DIR
from ..models import NORMALIZATIONS
from ..recipes import describe_recipes, list_recipes, load_recipe, recipes_table
from ..training import TrainConfig, train
from ..training.config import (INITIALIZERS, LAST_BATCH, LR_MODES, OPTIMIZERS, TTA_MODES,
                               WARMUP_MODES)
from . import net_help, new_parser


def epoch_count(text):
    """A number of epochs: whole (20) or with a fraction (9.9)."""
    value = float(text)
    return int(value) if value.is_integer() else value


def build_parser():
    defaults = TrainConfig()
    parser = new_parser(__doc__)
    add = parser.add_argument
    add("--recipe", default=None,
        help="start from a named recipe's settings (flags given here override them): %s"
             % ", ".join(list_recipes()))
    add("--list-recipes", nargs="?", const="text", choices=("text", "markdown"),
        help="print each recipe, what it is for, its source and its measured result, and "
             "exit; markdown: the table of measured results")
    add("--net", default=defaults.net, help=net_help() + ". For 32-px images such as "
        "CIFAR-10 use the ResNet paper's cifar_resnet20 ... cifar_resnet110 (with --image-size "
        "32 --recipe resnet-paper-cifar), not resnet18, whose ImageNet stem shrinks 32 px to 8")
    add("--dataset", default=defaults.dataset, help="one of: " + ", ".join(DATASETS))
    add("--data-dir", default=None,
        help="data folder (cifar10 default: %s; imagefolder: a folder with train/ and test/)"
             % DEFAULT_DIR)
    add("--image-size", type=int, default=defaults.image_size, help="input size in pixels")
    add("--resize", default=defaults.resize, choices=RESIZE_MODES,
        help="how images reach --image-size: imresize resizes each image with OpenCV's "
             "bilinear filter as the Gluon tutorial's loader did; aligned resizes the batch "
             "with MXNet's BilinearResize2D, corners aligned")
    add("--last-batch", default=defaults.last_batch, choices=LAST_BATCH,
        help="the partial batch at the end of an epoch: discard it, or keep it and step it "
             "as a full batch (the Gluon tutorial's trainer.step(batch_size))")
    add("--num-epochs", "--epochs", dest="num_epochs", type=epoch_count,
        default=defaults.num_epochs,
        help="training epochs; a fraction trains part of the last one (9.9: 476 steps of 48)")
    add("--batch-size", type=int, default=defaults.batch_size, help="samples per step")
    add("--lr", type=float, default=defaults.lr, help="base learning rate")
    add("--momentum", type=float, default=defaults.momentum, help="SGD momentum")
    add("--wd", type=float, default=defaults.wd, help="weight decay (L2)")
    add("--lr-mode", default=defaults.lr_mode, help="schedule: " + ", ".join(LR_MODES))
    add("--final-lr", type=float, default=defaults.final_lr,
        help="the rate linear, poly and cosine schedules end at")
    add("--lr-decay", type=float, default=defaults.lr_decay, help="step-mode decay factor")
    add("--lr-decay-epoch", default=defaults.lr_decay_epoch,
        help="comma-separated epochs at which step mode decays (empty: constant rate)")
    add("--warmup-epochs", type=epoch_count, default=defaults.warmup_epochs,
        help="epochs of warm-up before the schedule (must be fewer than --num-epochs)")
    add("--warmup-mode", default=defaults.warmup_mode,
        help="%s: linear from --warmup-lr up to --lr, or constant at --warmup-lr"
             % ", ".join(WARMUP_MODES))
    add("--warmup-lr", type=float, default=defaults.warmup_lr,
        help="the learning rate the warm-up starts from")
    add("--optimizer", default=defaults.optimizer, help="one of: " + ", ".join(OPTIMIZERS))
    add("--init", default=defaults.init, help="initializer: " + ", ".join(INITIALIZERS))
    add("--aux-weight", type=float, default=defaults.aux_weight,
        help="weight of each GoogLeNet auxiliary loss")
    add("--gpus", default=defaults.gpus, help="GPU ids such as 0,1 (empty: CPU)")
    add("--ctx", default=defaults.ctx,
        help="devices as MXNet contexts, e.g. cpu:0,cpu:1 (data-parallel on the CPU)")
    add("--kvstore", "--kv-store", dest="kvstore", default=defaults.kvstore,
        help="gradient aggregation across devices (device, local)")
    add("--decode-threads", "--num-workers", dest="num_workers", type=int,
        default=defaults.num_workers,
        help="threads that decode image files when loading (--num-workers is its old name; "
             "launch.py's --num-workers counts worker processes)")
    add("--no-hybridize", dest="hybridize", action="store_false",
        help="run imperatively (for debugging)")
    add("--amp", action="store_true",
        help="automatic mixed precision: float16 on GPUs, bfloat16 on the CPU (oneDNN)")
    add("--seed", type=int, default=defaults.seed, help="random seed")
    add("--out", default=None, help="run folder (default: runs/<net>-<dataset>-<size>px)")
    add("--resume", action="store_true", help="continue from the last checkpoint in --out")
    add("--max-train-samples", type=int, default=0,
        help="use the first N training samples (0: all)")
    add("--max-test-samples", type=int, default=0,
        help="evaluate on the first N test samples (0: all)")
    add("--augment", action="store_true",
        help="random crop of the zero-padded image (--crop-padding) and horizontal flip")
    add("--crop-padding", type=int, default=defaults.crop_padding,
        help="pixels of zero padding on each side before --augment's random crop")
    add("--pad-mode", default=defaults.pad_mode, choices=PAD_MODES,
        help="what --augment's crop padding holds: zeros, or the image reflected at its edges")
    add("--flip-mode", default=defaults.flip_mode, choices=FLIP_MODES,
        help="--augment's horizontal flip: random per image and epoch, or alternate (each "
             "image one random orientation, mirrored every other epoch: the airbench paper's)")
    add("--normalize", default=defaults.normalize,
        help="one of %s: input normalization, computed from the training images and kept "
             "in the network (so exports carry it): pixel subtracts the mean image (the ResNet paper), "
             "channel the per-channel mean and divides by the standard deviation"
             % ", ".join(NORMALIZATIONS))
    add("--classes", dest="only_classes", default=defaults.only_classes, metavar="NAMES",
        help="comma-separated class names: train and test on these classes only, labelled "
             "in the order given")
    add("--train-per-class", type=int, default=defaults.train_per_class,
        help="train on the first N images of each class (0: all)")
    add("--pretrained", default=None, metavar="SOURCE",
        help="start from the weights of SOURCE: a run folder, or an export (one of ours, or "
             "torchvision/timm weights from scripts/import_weights.py); a head for another "
             "class count starts fresh")
    add("--freeze-features", action="store_true",
        help="with --pretrained: train only the head; the features keep their weights and "
             "batch norm statistics")
    add("--pretrained-lr-mult", type=float, default=defaults.pretrained_lr_mult,
        help="with --pretrained: learning-rate multiplier of the loaded weights")
    add("--label-smoothing", type=float, default=defaults.label_smoothing,
        help="share of each target spread over all classes (0: off)")
    add("--mixup", type=float, default=defaults.mixup,
        help="mixup's Beta(alpha, alpha) (0: off; gluon-cv uses 1)")
    add("--cutmix", type=float, default=defaults.cutmix,
        help="cutmix's Beta(alpha, alpha) (0: off; with --mixup too, each batch takes one)")
    add("--mix-off-epochs", type=int, default=defaults.mix_off_epochs,
        help="train the last N epochs without mixup and cutmix")
    add("--ema", type=float, default=defaults.ema,
        help="decay of the weights' moving average, which evaluation, checkpoints and the "
             "export then use (0: off; 0.999 is common)")
    add("--tta", default=defaults.tta,
        help="test-time augmentation, one of %s: flip averages the image's and its mirror's "
             "probabilities; flip-translate adds their one-pixel diagonal shifts, logits "
             "weighted as the airbench paper does; the epoch line and metrics.csv show both "
             "test accuracies"
             % ", ".join(TTA_MODES))
    add("--tta-final-only", dest="tta_every_epoch", action="store_false",
        help="run the --tta evaluation after the last epoch only (it costs a pass per view)")
    add("--lookahead", type=int, default=defaults.lookahead,
        help="the airbench paper's weight averaging: every N steps the weights move to a slow "
             "average of themselves, with a decay rising as (step / steps)^3 (0: off)")
    add("--no-bias-decay", action="store_true",
        help="no weight decay on biases and batch-norm parameters")
    add("--clip-grad-norm", type=float, default=defaults.clip_grad_norm,
        help="clip the gradients' global L2 norm to this (0: off)")
    add("--tensorboard", action="store_true",
        help="also write TensorBoard event files into <out>/tensorboard (pip install -e "
             "'.[tensorboard]')")
    add("--no-eval-train", dest="eval_train", action="store_false",
        help="report the running accuracy of the epoch's batches as Train acc instead of "
             "the Gluon tutorial's full pass over the training set after each epoch (faster)")
    add("--log-interval", type=int, default=defaults.log_interval,
        help="iterations between rows of iterations.csv")
    add("--synthetic-samples", type=int, default=defaults.synthetic_samples,
        help="training samples of --dataset synthetic (a quarter as many test samples)")
    add("--progress", dest="progress", action="store_true", default=None,
        help="always show the progress bar (default: only on a terminal)")
    add("--no-progress", dest="progress", action="store_false", help="never show it")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_recipes:
        print(describe_recipes() if args.list_recipes == "text" else recipes_table())
        return
    if args.recipe:
        # the recipe's values become the defaults, so the flags given still win
        parser.set_defaults(**load_recipe(args.recipe).settings)
        args = parser.parse_args(argv)
    settings = vars(args)
    del settings["list_recipes"]
    train(TrainConfig(**settings))
