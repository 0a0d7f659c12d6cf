"""The learning-rate schedule of a run: gluoncv's schedulers, chained as its training scripts
chain them (see ``gluon_cnn/_gluoncv_lr.py`` for how they are loaded)."""
from .._gluoncv_lr import LRScheduler, LRSequential
from ..errors import UserError


def make_lr_schedule(config, iterations_per_epoch):
    """gluoncv's schedulers as its training scripts chain them: the warm-up (linear from
    --warmup-lr to --lr, or constant at --warmup-lr as the ResNet paper's ResNet-110), then
    the mode (linear, poly and cosine end at --final-lr). Fractional epochs are fine: the
    airbench schedule warms up over 23% of 9.9 epochs."""
    warmup = config.warmup_epochs
    # gluoncv moves a linear, poly or cosine phase of n iterations in n - 1 steps
    for phase, mode, iterations in (("the warm-up", config.warmup_mode,
                                     warmup * iterations_per_epoch),
                                    ("--lr-mode " + config.lr_mode, config.lr_mode,
                                     (config.num_epochs - warmup) * iterations_per_epoch)):
        if mode in ("linear", "poly", "cosine") and 0 < iterations < 2:
            raise UserError("%s needs at least 2 iterations to change the rate, and this run "
                            "has %d (%d an epoch); train more epochs or samples, or use "
                            "--lr-mode step." % (phase, iterations, iterations_per_epoch))
    schedule = LRSequential([
        LRScheduler(config.warmup_mode, base_lr=config.warmup_lr, target_lr=config.lr,
                    nepochs=warmup, iters_per_epoch=iterations_per_epoch),
        LRScheduler(config.lr_mode, base_lr=config.lr, target_lr=config.final_lr,
                    nepochs=config.num_epochs - warmup,
                    iters_per_epoch=iterations_per_epoch,
                    step_epoch=[epoch - warmup for epoch in config.decay_epochs()],
                    step_factor=config.lr_decay, power=2),
    ])
    # Optimizers with their own default rate (Adam: 0.001) would overwrite the schedule's.
    schedule.base_lr = config.lr
    return schedule
