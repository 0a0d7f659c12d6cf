"""gluoncv's learning-rate schedulers, loaded without importing the gluoncv package.

``import gluoncv`` (0.10.5) raises RuntimeError whenever torch >= 2 is installed in the same
environment (its start-up check wants torch < 2), which is exactly the environment of our
PyTorch benchmarks, and it also imports all of gluoncv's model zoo. The scheduler module
itself only needs ``mxnet.lr_scheduler``, so it is loaded from its file on its own.
"""
import importlib.util
import os

from ..errors import UserError


def _load_gluoncv_module(relative_path, name):
    spec = importlib.util.find_spec("gluoncv")  # locates the package without running it
    if spec is None or not spec.submodule_search_locations:
        raise UserError("gluoncv is not installed; run: pip install -e '.[cpu]'")
    path = os.path.join(list(spec.submodule_search_locations)[0], relative_path)
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


_schedulers = _load_gluoncv_module(os.path.join("utils", "lr_scheduler.py"),
                                   "gluon_cnn._gluoncv_lr_scheduler")
LRScheduler = _schedulers.LRScheduler
LRSequential = _schedulers.LRSequential


def make_lr_schedule(config, iterations_per_epoch):
    """gluoncv's schedulers as its training scripts chain them: linear warm-up, then the mode."""
    warmup = config.warmup_epochs
    schedule = LRSequential([
        LRScheduler("linear", base_lr=0, target_lr=config.lr, nepochs=warmup,
                    iters_per_epoch=iterations_per_epoch),
        LRScheduler(config.lr_mode, base_lr=config.lr, nepochs=config.num_epochs - warmup,
                    iters_per_epoch=iterations_per_epoch,
                    step_epoch=[epoch - warmup for epoch in config.decay_epochs()],
                    step_factor=config.lr_decay, power=2),
    ])
    # Optimizers with their own default rate (Adam: 0.001) would overwrite the schedule's.
    schedule.base_lr = config.lr
    return schedule
