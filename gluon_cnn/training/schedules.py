"""The learning-rate schedule of a run: gluoncv's schedulers, chained as its training scripts
chain them (see ``gluon_cnn/_gluoncv_lr.py`` for how they are loaded)."""
from .._gluoncv_lr import LRScheduler, LRSequential


def make_lr_schedule(config, iterations_per_epoch):
    """gluoncv's schedulers as its training scripts chain them: the warm-up (linear from
    --warmup-lr to --lr, or constant at --warmup-lr as the ResNet paper's ResNet-110), then
    the mode."""
    warmup = config.warmup_epochs
    schedule = LRSequential([
        LRScheduler(config.warmup_mode, base_lr=config.warmup_lr, target_lr=config.lr,
                    nepochs=warmup, iters_per_epoch=iterations_per_epoch),
        LRScheduler(config.lr_mode, base_lr=config.lr, nepochs=config.num_epochs - warmup,
                    iters_per_epoch=iterations_per_epoch,
                    step_epoch=[epoch - warmup for epoch in config.decay_epochs()],
                    step_factor=config.lr_decay, power=2),
    ])
    # Optimizers with their own default rate (Adam: 0.001) would overwrite the schedule's.
    schedule.base_lr = config.lr
    return schedule
