"""The training run: config -> data + model -> loop -> logs, checkpoints, export, curves.

``train`` runs the phases in order: ``load_data``; ``TrainingRun`` builds the network and
the optimizer and opens the logs; ``resume_or_start``; per epoch ``train_one_epoch`` and
``end_epoch`` (the tutorial's evaluation passes, the epoch line, a checkpoint); ``finish``
(the export and the curves).

A run can be stopped at any moment and resumed to the same result: each epoch's order and
augmentation depend only on (seed, epoch), MXNet's generator (dropout) is re-seeded from
(seed, epoch, batch) before every step, and checkpoints hold the parameters, optimizer
state, smoothed loss and the position in the epoch.
"""
import contextlib
import dataclasses
import json
import logging
import math
import random
import sys
import time

import mxnet as mx
import numpy as np
from mxnet import gluon
from tqdm import tqdm

from .._env import describe_cpu
from ..csvlog import CsvLog, NullLog
from ..data import (BatchIterator, class_subset, first_per_class, load_dataset,
                    normalization_statistics, to_network_input)
from ..errors import UserError
from ..paths import RunFolder
from . import checkpoint, run_log
from .averaging import Lookahead, WeightAverage
from .config import INITIALIZERS
from .devices import contexts_from_flag
from .finish import finish_run
from .metrics import EPOCH_COLUMNS, ITERATION_COLUMNS
from .pretrained import freeze_features, load_into, read_pretrained, settings_for
from .records import Placement, Progress
from .regularization import TargetSettings, training_targets
from .resume import check_same_settings, describe_resume, prepare_output, require_checkpoint
from .schedules import make_lr_schedule
from .signals import Interrupted, StopSignals, StuckStepWatch
from .step import (build_for_training, eval_batch_size, evaluate, exclude_from_weight_decay,
                   make_trainer, start_amp, step_seed, train_step)
from .tensorboard import open_tensorboard
from .workers import create_kvstore, parameters_digest

log = logging.getLogger(__name__)


def train(config):
    """Run training as ``config`` says; returns a dict of the final figures and paths."""
    config.validate()
    placement = place(config)
    if not placement.chief:  # only rank 0 writes logs, checkpoints and the export
        return _run_phases(config, placement)
    prepare_output(config)
    with run_log.console_log(config.out):
        return _run_phases(config, placement)


def place(config):
    """Where the run computes: devices, precision and KVStore, checked before any file is
    written (a device without the precision is refused) and before the network exists."""
    contexts = contexts_from_flag(config.gpus, config.ctx)
    precision = start_amp(contexts) if config.amp else None
    kvstore, rank, workers = create_kvstore(config.kvstore)
    return Placement(contexts, kvstore, rank, workers, precision)


def _run_phases(config, placement):
    seed_everything(config.seed)
    if placement.precision:
        log.info("mixed precision (AMP): %s compute, float32 weights", placement.precision)
    weights = read_pretrained(config.pretrained) if config.pretrained else None
    if weights:  # the weights' normalization, before the data's statistics are computed
        config = settings_for(config, weights)
    started = time.time()
    data = load_data(config, placement.rank, placement.workers)
    loaded = time.time()
    log.info("data in memory in %.1f s", loaded - started)
    run = TrainingRun(config, data, placement, weights)
    run.resume_or_start()
    first_step = time.time()
    log.info("network built and initialized in %.1f s", first_step - loaded)
    with StopSignals() as stop, run.stuck_step_watch():
        for epoch in range(run.progress.epoch, config.epochs_started()):
            accuracy, start = run.train_one_epoch(epoch, stop)  # train
            run.end_epoch(epoch, accuracy, start, stop)  # evaluate, log, checkpoint, stop?
    # the speed figure of a whole run (a resumed run: of this process's part of it)
    log.info("%s: %.1f s from the first step to the final evaluation",
             "this process, resumed" if config.resume else "training", time.time() - first_step)
    return run.finish()


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    mx.random.seed(seed)


@dataclasses.dataclass
class RunData:
    """The run's images as batches: its training shard, the test split, the class names."""
    train_split: tuple
    test_split: tuple
    class_names: list
    train_batches: BatchIterator
    test_batches: BatchIterator
    eval_batch: int
    statistics: tuple = (None, None)  # --normalize's (mean, std) of the training images


def _nd_or_none(array):
    return None if array is None else mx.nd.array(array)


def select(split, limit):
    images, labels = split
    return (images[:limit], labels[:limit]) if limit else (images, labels)


def load_data(config, rank=0, workers=1):
    splits = load_dataset(config.dataset, config.data_dir, config.image_size,
                          synthetic_samples=config.synthetic_samples,
                          num_workers=config.num_workers, seed=config.seed)
    if config.class_names():
        splits = class_subset(splits, config.class_names())
    if config.train_per_class:
        splits = splits._replace(train=first_per_class(splits.train, config.train_per_class,
                                                       splits.classes))
    train_split = select(splits.train, config.max_train_samples)
    for flag, limit, split, name in (("--max-train-samples", config.max_train_samples,
                                      splits.train, "training"),
                                     ("--max-test-samples", config.max_test_samples,
                                      splits.test, "test")):
        if limit and limit < len(split[1]):
            log.info("%s %d: using the first %d of the %d %s images.", flag, limit, limit,
                     len(split[1]), name)
    # from the whole training split, so that every worker normalizes alike
    statistics = (normalization_statistics(train_split[0], config.normalize, config.image_size)
                  if config.normalize != "none" else (None, None))
    # Each worker of a distributed job trains on its own shard of the data.
    train_split = (train_split[0][rank::workers], train_split[1][rank::workers])
    test_split = select(splits.test, config.max_test_samples)
    train_batches = BatchIterator(*train_split, config.batch_size, config.image_size,
                                  shuffle=True, augment=config.augment,
                                  last_batch=config.last_batch, seed=config.seed,
                                  resize=config.resize, crop_padding=config.crop_padding,
                                  flip_mode=config.flip_mode, pad_mode=config.pad_mode)
    eval_batch = eval_batch_size(config.batch_size, config.image_size)
    unused = len(train_split[1]) - len(train_batches) * config.batch_size
    if unused > 0:
        log.info("%d training images, batch %d: each epoch trains %d full batches, and the "
                 "%d images left over (a different few each epoch, the order being shuffled) "
                 "make no partial step.", len(train_split[1]), config.batch_size,
                 len(train_batches), unused)
    return RunData(train_split, test_split, splits.classes, train_batches,
                   BatchIterator(*test_split, eval_batch, config.image_size,
                                 resize=config.resize), eval_batch, statistics)


def optimizer_params(config, iterations_per_epoch):
    params = {"learning_rate": config.lr, "wd": config.wd,
              "lr_scheduler": make_lr_schedule(config, iterations_per_epoch)}
    if config.optimizer in ("sgd", "nag"):
        params["momentum"] = config.momentum
    return params


class TrainingRun:
    """One run between its phases: network, optimizer, logs and where it stands."""

    def __init__(self, config, data, placement, pretrained=None):
        self.config, self.data, self.placement = config, data, placement
        contexts, kvstore = placement.contexts, placement.kvstore
        self.folder = RunFolder(config.out)
        self.net, self.train_net = build_for_training(
            config.net, len(data.class_names), data.train_split[0].shape[3], config.image_size,
            INITIALIZERS[config.init](), contexts, config.hybridize, config.normalize)
        if self.net.input_normalization is not None:  # a resume restores the same values
            self.net.input_normalization.set_statistics(*map(_nd_or_none, data.statistics))
        if hasattr(self.net, "initialize_from_data"):  # airbench's whitening
            first = data.train_split[0][:self.net.spec["whitening_images"]]
            self.net.initialize_from_data(to_network_input(first, config.image_size,
                                                           resize=config.resize))
        if pretrained:  # a resume then loads the checkpoint over them
            load_into(self.net, pretrained, config.pretrained_lr_mult)
            if config.freeze_features:
                freeze_features(self.net)
        if config.no_bias_decay:
            exclude_from_weight_decay(self.net)
        self.iterations_per_epoch = len(data.train_batches)
        self.total_steps = config.total_steps(self.iterations_per_epoch)
        # In distributed jobs the servers apply the updates and every worker pulls the same
        # weights from them (updating on the workers instead let them drift apart in the
        # last bits now and then); config.validate refuses --amp in distributed jobs.
        self.trainer = make_trainer(self.net, config.optimizer,
                                    optimizer_params(config, self.iterations_per_epoch),
                                    kvstore, use_amp=config.amp,
                                    update_locally=bool(config.clip_grad_norm))
        self.targets = TargetSettings(len(data.class_names), config.label_smoothing,
                                      config.mixup, config.cutmix)
        self.loss_fn = gluon.loss.SoftmaxCrossEntropyLoss(sparse_label=not self.targets.soft)
        self.average = WeightAverage(self.net, config.ema) if config.ema else None
        self.lookahead = (Lookahead(self.net, config.lookahead, self.total_steps)
                          if config.lookahead else None)
        # --last-batch keep steps the partial batch as if it were full, as the Gluon tutorial's
        # trainer.step(batch_size) did; otherwise each step is normalized by its own batch
        self.step_batch = config.batch_size if config.last_batch == "keep" else None
        self.step_in_progress = None  # (epoch, batch) inside a step, for StuckStepWatch
        self.facts = dict(config.to_dict(), classes=len(data.class_names),
                          class_names=data.class_names, in_channels=self.net.in_channels,
                          iterations_per_epoch=self.iterations_per_epoch,
                          machine={"cpu": describe_cpu()},
                          pretrained_weights=pretrained.record() if pretrained else None)
        logs = ((CsvLog(self.folder.metrics, EPOCH_COLUMNS),
                 CsvLog(self.folder.iterations, ITERATION_COLUMNS)) if self.chief
                else (NullLog(), NullLog()))
        self.epoch_log, self.iteration_log = logs
        self.tensorboard = open_tensorboard(self.folder.root, self.facts) if (
            config.tensorboard and self.chief) else None
        self.progress = Progress()
        self.last = {}

    # where the run computes, read from its Placement
    contexts = property(lambda self: self.placement.contexts)
    rank = property(lambda self: self.placement.rank)
    workers = property(lambda self: self.placement.workers)
    chief = property(lambda self: self.placement.chief)

    def resume_or_start(self):
        """With --resume, continue from the newest intact checkpoint taken with the same
        settings; rows logged after it are dropped. Rank 0 records the run's settings."""
        if self.config.resume:
            path, state = require_checkpoint(self.folder.checkpoints)
            check_same_settings(path, state["config"], self.facts)
            checkpoint.restore(path, self.net, self.trainer, self.contexts, self.average,
                               self.lookahead)
            self.progress = Progress.from_checkpoint(state)
            self.epoch_log.truncate_after("epoch", self.progress.epoch - 1)
            self.iteration_log.truncate_after("iteration", self.progress.smoothed.iterations)
            log.info("resumed from %s: epoch %d, batch %d", path, self.progress.epoch,
                     self.progress.batch)
        if self.chief:
            with open(self.folder.config, "w") as handle:
                json.dump(self.facts, handle, indent=1)

    def save_checkpoint(self, epoch, batch, accuracy, seconds):
        if not self.chief:
            return None
        progress = Progress(epoch, batch, seconds, (accuracy.sum_metric, accuracy.num_inst),
                            self.progress.smoothed)
        return checkpoint.save(
            self.folder.checkpoints, epoch, self.net, self.trainer, batch=batch,
            average=self.average, lookahead=self.lookahead,
            state=dict(progress.checkpoint_state(), config=self.facts))

    def train_one_epoch(self, epoch, stop):
        """Train ``epoch`` from where the run stands (inside it, after a resume); returns
        the accuracy of its batches and the time it started, less the time already spent."""
        first_batch = self.progress.batch if epoch == self.progress.epoch else 0
        steps = self.steps_in_epoch(epoch)
        if hasattr(self.net, "start_epoch"):  # airbench trains its whitening bias at first
            self.net.start_epoch(epoch)
        accuracy = mx.metric.Accuracy()
        if first_batch:
            accuracy.sum_metric, accuracy.num_inst = self.progress.accuracy
        start = time.time() - (self.progress.seconds if first_batch else 0.0)
        terminal = sys.stderr.isatty()
        progress = terminal if self.config.progress is None else self.config.progress
        bar = tqdm(total=steps, initial=first_batch, desc="epoch %d" % epoch,
                   disable=not progress, leave=False, dynamic_ncols=True)
        # off a terminal, unless --no-progress: a plain line every tenth of the epoch
        plain_every = (max(1, steps // 10)
                       if self.config.progress is None and not terminal and self.chief else 0)
        for batch, (data, label) in enumerate(
                self.data.train_batches.batches(epoch, first_batch), first_batch):
            self.step(epoch, batch, data, label, accuracy)
            loss = self.progress.smoothed.get()
            bar.set_postfix(loss="%.4f" % loss, acc="%.3f" % accuracy.get()[1])
            bar.update()
            if plain_every and (batch + 1) % plain_every == 0:
                print("epoch %d: batch %d of %d, smoothed loss %.4f, running accuracy %.3f, "
                      "%.0f s" % (epoch, batch + 1, steps, loss, accuracy.get()[1],
                                  time.time() - start),
                      file=sys.stderr, flush=True)
            if batch + 1 == steps:  # the last epoch of a fractional --num-epochs ends early
                break
            if stop.received:
                bar.close()
                self.stop_inside_epoch(stop.received, epoch, batch + 1, accuracy,
                                       time.time() - start)
        bar.close()
        return accuracy, start

    def steps_in_epoch(self, epoch):
        return min(self.iterations_per_epoch,
                   self.total_steps - epoch * self.iterations_per_epoch)

    def step(self, epoch, batch, data, label, accuracy):
        self.step_in_progress = (epoch, batch)
        seed = step_seed(self.config.seed, epoch, batch)
        mx.random.seed(seed)
        mixing = epoch < self.config.num_epochs - self.config.mix_off_epochs
        data, targets = training_targets(data, label, self.targets,
                                         np.random.RandomState(seed), mixing)
        batch_loss, labels, outputs = train_step(
            self.train_net, self.trainer, self.loss_fn, data, label, self.contexts,
            self.config.aux_weight, self.workers, amp_scaling=self.config.amp,
            step_batch=self.step_batch, targets=targets if self.targets.soft else None,
            clip_grad_norm=self.config.clip_grad_norm)
        if self.average is not None:
            self.average.update()
        if self.lookahead is not None:
            self.lookahead.after_step(epoch * self.iterations_per_epoch + batch + 1)
        smoothed = self.progress.smoothed
        if not math.isfinite(batch_loss):
            rate = self.trainer.learning_rate
            raise UserError("the loss became %s at iteration %d (epoch %d) with learning rate "
                            "%g; lower it (for example --lr %g). %s"
                            % (batch_loss, smoothed.iterations + 1, epoch, rate, rate / 10,
                               describe_resume(self.folder.checkpoints)))
        smoothed.update(batch_loss)
        accuracy.update(labels, outputs)
        if smoothed.iterations % self.config.log_interval == 0:
            row = dict(iteration=smoothed.iterations, epoch=epoch,
                       smoothed_loss=smoothed.get(), lr=self.trainer.learning_rate)
            self.iteration_log.append(**row)
            if self.tensorboard:
                self.tensorboard.iteration(row)
        self.step_in_progress = None

    def stuck_step_watch(self):
        """In a distributed job, the watch that ends a worker stuck in a step after a stop."""
        if self.workers > 1:
            return StuckStepWatch(self.step_progress, self.stuck_step_line)
        return contextlib.nullcontext()

    def step_progress(self):
        """(steps finished, step in progress or None), for StuckStepWatch."""
        return self.progress.smoothed.iterations, self.step_in_progress

    def worker_stop_line(self, signal_name, where):
        """What a worker of a distributed job says when a signal stops it ``where``."""
        return "rank %d stopped by %s %s. %s" % (
            self.rank, signal_name, where, describe_resume(self.folder.checkpoints, self.rank))

    def stuck_step_line(self, signal_name):
        """A distributed worker's last line when its step waited for peers that had stopped."""
        return self.worker_stop_line(
            signal_name, "at epoch %d after batch %d (its next step waited for workers that "
                         "had already stopped)" % self.step_in_progress)

    def stop_inside_epoch(self, signal_name, epoch, batches_done, accuracy, seconds):
        where = "at epoch %d after batch %d" % (epoch, batches_done)
        if self.workers > 1:
            # A checkpoint inside an epoch needs every worker at the same step, and
            # ps-lite offers no barrier to meet at: distributed jobs resume from the end
            # of an epoch.
            raise Interrupted(self.worker_stop_line(signal_name, where))
        path = self.save_checkpoint(epoch, batches_done, accuracy, seconds)
        raise Interrupted("stopped by %s %s; checkpoint %s written. Continue with the same "
                          "command plus --resume (--out %s)."
                          % (signal_name, where, path, self.config.out))

    def end_epoch(self, epoch, accuracy, start, stop):
        """Rank 0: the tutorial's evaluation passes, the epoch's row and line, a checkpoint."""
        train_seconds = time.time() - start
        if self.chief:
            running_acc = accuracy.get()[1]
            # the Gluon tutorial's "Train acc": a full pass over the training set in inference mode
            with self.evaluation_weights():
                train_acc = (self.evaluate(self.data.train_split) if self.config.eval_train
                             else running_acc)
                test_acc = evaluate(self.net, self.data.test_batches, self.contexts)
                last = epoch + 1 == self.config.epochs_started()
                test_acc_tta = (evaluate(self.net, self.data.test_batches, self.contexts,
                                         self.config.tta)
                                if self.config.tta != "none" and (
                                    self.config.tta_every_epoch or last) else "")
            seconds = time.time() - start
            self.last = dict(epoch=epoch, smoothed_loss=self.progress.smoothed.get(),
                             train_acc=train_acc, running_train_acc=running_acc,
                             test_acc=test_acc, test_acc_tta=test_acc_tta,
                             lr=self.trainer.learning_rate, seconds=seconds,
                             samples_per_sec=self.steps_in_epoch(epoch)
                             * self.config.batch_size / train_seconds)
            self.epoch_log.append(**self.last)  # a resume drops rows its checkpoint lacks
            if self.tensorboard:
                self.tensorboard.epoch(self.last)
            self.save_checkpoint(epoch + 1, 0, accuracy, 0.0)
            tta = (" (%s TTA %.5f)" % (self.config.tta, test_acc_tta)
                   if test_acc_tta != "" else "")
            log.info("Epoch %d, Moving Train Avg loss %.5f, Train acc %.5f, Test acc %.5f%s, "
                     "Time consume %.5f s.", epoch, self.progress.smoothed.get(), train_acc,
                     test_acc, tta, seconds)
        if stop.received:
            raise Interrupted("%sstopped by %s after epoch %d. %s" % (
                "rank %d " % self.rank if self.rank else "", stop.received, epoch,
                describe_resume(self.folder.checkpoints, self.rank)))

    def evaluation_weights(self):
        """The weights evaluation and export use: the average, with weight averaging."""
        return (self.average.averaged_weights() if self.average is not None
                else contextlib.nullcontext())

    def evaluate(self, split):
        return evaluate(self.net, BatchIterator(*split, self.data.eval_batch,
                                                self.config.image_size,
                                                resize=self.config.resize), self.contexts)

    def finish(self):
        """The export and the curves (rank 0); the figures of the last epoch."""
        if self.workers > 1:  # hashing every parameter is only worth it to show they agree
            log.info("rank %d of %d: final parameters sha256 %s", self.rank, self.workers,
                     parameters_digest(self.net))
        if not self.chief:
            return dict(self.last, out=self.config.out, net=self.net, rank=self.rank)
        if self.tensorboard:
            self.tensorboard.close()
        with self.evaluation_weights():
            symbol_file, params_file, curves = finish_run(
                self.folder, self.net, self.config, self.data.class_names, self.contexts[0])
        log.info("exported %s and %s; curves in %s", symbol_file, params_file, curves)
        return dict(self.last, symbol=symbol_file, params=params_file, curves=curves,
                    out=self.config.out, net=self.net)
