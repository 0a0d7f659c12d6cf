"""The training run: config -> data + model -> loop -> logs, checkpoints, export, curves.

A run can be stopped at any moment and resumed to the same result: each epoch's order and
augmentation depend only on (seed, epoch), MXNet's generator (dropout) is re-seeded from
(seed, epoch, batch) before every step, and checkpoints hold the parameters, optimizer
state, smoothed loss and the position in the epoch.
"""
import hashlib
import json
import logging
import math
import os
import random
import signal
import sys
import time

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon
from mxnet.contrib import amp
from tqdm import tqdm

from .. import deploy
from .._env import prefer_heap_reuse
from ..data import BatchIterator, load_dataset
from ..errors import UserError
from ..models import get_model, with_aux_outputs
from . import checkpoint, run_log
from .config import INITIALIZERS
from .devices import amp_dtype, contexts_from_flag
from .metrics import EPOCH_COLUMNS, ITERATION_COLUMNS, CsvLog, SmoothedLoss
from .schedules import make_lr_schedule

log = logging.getLogger(__name__)

# What a checkpoint must share with the run that resumes it.
RESUME_KEYS = ("net", "classes", "image_size", "in_channels", "resize", "last_batch")


class Interrupted(UserError):
    """Stopped by Ctrl-C or SIGTERM after writing a checkpoint."""
    exit_code = 130


class StopSignals:
    """While active, SIGINT and SIGTERM ask the loop to stop after the current step."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.received = None
        self._previous = {}

    def __enter__(self):
        for number in self.SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def _handle(self, number, _frame):
        if self.received is not None:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.received = signal.Signals(number).name
        log.warning("%s received: finishing this step and writing a checkpoint", self.received)

    def __exit__(self, *exc):
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        return False


class NullLog:
    """Stands in for a CsvLog on workers other than rank 0, which write nothing."""

    def append(self, **row):
        pass

    def truncate_after(self, column, last):
        pass


def create_kvstore(name):
    """(kvstore, rank, number of workers): MXNet's parameter server for dist_* names."""
    if not name.startswith("dist"):
        return name, 0, 1
    if "DMLC_ROLE" not in os.environ:
        raise UserError("--kvstore %s needs a distributed job; start it with scripts/launch.py "
                        "-n WORKERS -s SERVERS -- python scripts/train.py --kvstore %s ..."
                        % (name, name))
    kvstore = mx.kv.create(name)
    return kvstore, kvstore.rank, kvstore.num_workers


def parameters_digest(net):
    """SHA-256 of every parameter's bytes, in name order: equal digests, equal networks."""
    digest = hashlib.sha256()
    for name, param in sorted(net.collect_params().items()):
        digest.update(name.encode())
        digest.update(param.data().asnumpy().tobytes())
    return digest.hexdigest()


def step_seed(seed, epoch, batch):
    """The seed of MXNet's generator for one step: a function of the position alone."""
    return (seed * 1000003 + epoch * 100003 + batch) % (2 ** 31)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    mx.random.seed(seed)


def prepare_output(config):
    """Create --out, refusing to write into a folder that holds a run unless resuming it."""
    existing = run_log.run_files_in(config.out) if os.path.isdir(config.out) else []
    if existing and not config.resume:
        raise UserError("%s already holds a training run (%s); pass --resume to continue it "
                        "or choose another --out." % (config.out, ", ".join(existing)))
    if config.resume:  # before anything is written there, train.log included
        require_checkpoint(os.path.join(config.out, "checkpoints"))
    try:
        os.makedirs(config.out, exist_ok=True)
        probe = os.path.join(config.out, ".write-test")
        with open(probe, "w") as handle:
            handle.write("ok")
        os.remove(probe)
    except OSError as err:
        raise UserError("cannot write to the output directory %s (%s); choose another --out."
                        % (config.out, err.strerror or err)) from None
    return os.path.join(config.out, "checkpoints")


def require_checkpoint(checkpoints):
    """(path, state) of the checkpoint --resume continues from; a UserError if none."""
    path, state = checkpoint.latest_valid(checkpoints)
    if path is None:
        raise UserError("--resume found no intact checkpoint in %s." % checkpoints)
    return path, state


def describe_resume(checkpoints, rank=0):
    """What ``--resume`` will do after a stop, as rank ``rank`` can tell."""
    if rank:
        return "Rank 0 writes the checkpoints and says what --resume continues from."
    path, _ = checkpoint.latest_valid(checkpoints)
    if path is None:
        return ("No epoch has finished, so there is no checkpoint: run the same command "
                "again, without --resume.")
    return "Continue with the same command plus --resume: it starts from %s." % path


def select(split, limit):
    images, labels = split
    return (images[:limit], labels[:limit]) if limit else (images, labels)


# Evaluation batches hold up to this many input pixels (256 images at 96 px), and up to
# 1024 images: larger batches than training's run inference faster.
EVAL_PIXELS, EVAL_MAX_BATCH = 256 * 96 * 96, 1024


def eval_batch_size(batch_size, image_size):
    return max(batch_size, min(EVAL_MAX_BATCH, EVAL_PIXELS // (image_size * image_size)))


def evaluate(net, iterator, contexts):
    """Top-1 accuracy of ``net`` (inference mode) over ``iterator``. The correct counts stay
    on the devices until the end, so the engine runs the batches without waiting for each."""
    correct = [mx.nd.zeros((1,), ctx=ctx) for ctx in contexts]
    total = 0
    for data, label in iterator:
        datas = gluon.utils.split_and_load(data, contexts, even_split=False)
        labels = gluon.utils.split_and_load(label, contexts, even_split=False)
        for count, x, y in zip(correct, datas, labels):
            count += (as_float32(net(x)).argmax(axis=1) == y).sum()
        total += label.shape[0]
    return sum(count.asscalar() for count in correct) / total


def as_float32(array):
    """Outputs of a mixed-precision network as float32 (metrics read them with numpy,
    which has no bfloat16); free when they already are."""
    return array.astype("float32", copy=False)


def describe_differences(saved, current):
    return "; ".join("%s was %s, now %s" % (key, saved.get(key), current[key])
                     for key in RESUME_KEYS if saved.get(key) != current[key])


def compile_for_training(net, train_net, hybridize):
    """Static graphs with static memory for ``net`` and its training view, or, imperative,
    large blocks kept on the heap for the activations allocated anew at every step."""
    if hybridize:
        train_net.hybridize(static_alloc=True, static_shape=True)
        net.hybridize(static_alloc=True, static_shape=True)
    else:
        prefer_heap_reuse()


def train_step(train_net, trainer, loss_fn, data, label, contexts, aux_weight, workers=1,
               amp_scaling=False, step_batch=None):
    """One optimization step; returns (mean main loss, labels, main outputs) of the batch.

    With several workers the parameter server sums their gradients, so the step is
    normalized by the global batch (batch x workers): the same update as one process
    training on the whole global batch. With ``amp_scaling`` the losses are multiplied by
    AMP's dynamic loss scale before the backward pass, and the trainer undoes it (and skips
    a step whose gradients overflowed)."""
    datas = gluon.utils.split_and_load(data, contexts, even_split=False)
    labels = gluon.utils.split_and_load(label, contexts, even_split=False)
    main_losses, outputs, losses = [], [], []
    with autograd.record():
        for x, y in zip(datas, labels):
            out = train_net(x)
            heads = out if isinstance(out, (list, tuple)) else [out]
            main = loss_fn(heads[0], y)
            total = main
            for aux in heads[1:]:
                total = total + aux_weight * loss_fn(aux, y)
            losses.append(total)
            main_losses.append(as_float32(main))
            outputs.append(as_float32(heads[0]))
        if amp_scaling:  # the scaling is part of the recorded graph
            with amp.scale_loss(losses, trainer) as scaled:
                autograd.backward(scaled)
    if not amp_scaling:
        autograd.backward(losses)
    trainer.step((step_batch or data.shape[0]) * workers)
    batch_loss = sum(m.sum().asscalar() for m in main_losses) / data.shape[0]
    return batch_loss, labels, outputs


def train(config):
    """Run training as ``config`` says; returns a dict of the final figures and paths."""
    config.validate()
    contexts = contexts_from_flag(config.gpus, config.ctx)
    kvstore, rank, workers = create_kvstore(config.kvstore)
    chief = rank == 0  # only rank 0 writes logs, checkpoints and the export
    if not chief:
        return _train(config, contexts, kvstore, rank, workers)
    prepare_output(config)
    with run_log.console_log(config.out):
        return _train(config, contexts, kvstore, rank, workers)


def _train(config, contexts, kvstore, rank, workers):
    chief = rank == 0
    checkpoints = os.path.join(config.out, "checkpoints")
    seed_everything(config.seed)
    if config.amp:  # before the network is built: AMP rewrites MXNet's operator functions
        precision = amp_dtype(contexts)
        amp.init(target_dtype=precision)
        log.info("mixed precision (AMP): %s compute, float32 weights", precision)

    splits = load_dataset(config.dataset, config.data_dir, config.image_size,
                          synthetic_samples=(config.synthetic_samples,
                                             max(1, config.synthetic_samples // 4)),
                          num_workers=config.num_workers, seed=config.seed)
    train_split = select(splits.train, config.max_train_samples)
    # Each worker of a distributed job trains on its own shard of the data.
    train_split = (train_split[0][rank::workers], train_split[1][rank::workers])
    test_split = select(splits.test, config.max_test_samples)
    classes = len(splits.classes)
    train_batches = BatchIterator(*train_split, config.batch_size, config.image_size,
                                  shuffle=True, augment=config.augment,
                                  last_batch=config.last_batch, seed=config.seed,
                                  resize=config.resize)
    eval_batch = eval_batch_size(config.batch_size, config.image_size)
    test_batches = BatchIterator(*test_split, eval_batch, config.image_size,
                                 resize=config.resize)

    net = get_model(config.net, classes=classes, in_channels=train_split[0].shape[3])
    input_shape = (1, net.in_channels, config.image_size, config.image_size)
    net.check_input_shape(input_shape, training=True)
    net.initialize(INITIALIZERS[config.init](), ctx=contexts)
    train_net = with_aux_outputs(net)
    with autograd.predict_mode():  # finish deferred initialization, auxiliary heads included
        train_net(mx.nd.zeros(input_shape, ctx=contexts[0]))
    compile_for_training(net, train_net, config.hybridize)

    iterations_per_epoch = len(train_batches)
    # --last-batch keep steps the partial batch as if it were full, as seed 002's
    # trainer.step(batch_size) did; otherwise each step is normalized by its own batch
    step_batch = config.batch_size if config.last_batch == "keep" else None
    unused = len(train_split[1]) - iterations_per_epoch * config.batch_size
    if unused > 0:
        log.info("%d training images, batch %d: each epoch trains %d full batches, and the "
                 "%d images left over (a different few each epoch, the order being shuffled) "
                 "make no partial step.", len(train_split[1]), config.batch_size,
                 iterations_per_epoch, unused)
    optimizer_params = {"learning_rate": config.lr, "wd": config.wd,
                        "lr_scheduler": make_lr_schedule(config, iterations_per_epoch)}
    if config.optimizer in ("sgd", "nag"):
        optimizer_params["momentum"] = config.momentum
    # In distributed jobs the servers apply the updates and every worker pulls the same
    # weights from them (updating on the workers instead let them drift apart in the last
    # bits now and then).
    # AMP checks the gradients for overflow in the worker's own update, so it keeps the
    # updates off the KVStore (config.validate refuses --amp in distributed jobs).
    trainer = gluon.Trainer(net.collect_params(), config.optimizer, optimizer_params,
                            kvstore=kvstore, update_on_kvstore=False if config.amp else None)
    if config.amp:
        amp.init_trainer(trainer)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    run_facts = dict(config.to_dict(), classes=classes, class_names=splits.classes,
                     in_channels=net.in_channels, iterations_per_epoch=iterations_per_epoch)

    epoch_log = CsvLog(os.path.join(config.out, "metrics.csv"), EPOCH_COLUMNS) if chief \
        else NullLog()
    iteration_log = CsvLog(os.path.join(config.out, "iterations.csv"), ITERATION_COLUMNS) \
        if chief else NullLog()
    smoothed, position = SmoothedLoss(), {"epoch": 0, "batch": 0, "accuracy": [0.0, 0],
                                          "seconds": 0.0}
    if config.resume:
        path, state = require_checkpoint(checkpoints)
        differences = describe_differences(state["config"], run_facts)
        if differences:
            raise UserError("cannot resume from %s: it was trained with different settings (%s)."
                            % (path, differences))
        checkpoint.restore(path, net, trainer, contexts)
        smoothed = SmoothedLoss(**state["smoothed_loss"])
        position = state["position"]
        epoch_log.truncate_after("epoch", position["epoch"] - 1)
        iteration_log.truncate_after("iteration", smoothed.iterations)
        log.info("resumed from %s: epoch %d, batch %d", path, position["epoch"], position["batch"])
    if chief:
        with open(os.path.join(config.out, "config.json"), "w") as handle:
            json.dump(run_facts, handle, indent=1)

    def save_checkpoint(epoch, batch, accuracy, seconds):
        if not chief:
            return None
        return checkpoint.save(
            checkpoints, epoch, net, trainer, batch=batch,
            state={"config": run_facts, "smoothed_loss": smoothed.state(),
                   "position": {"epoch": epoch, "batch": batch, "seconds": seconds,
                                "accuracy": [accuracy.sum_metric, accuracy.num_inst]}})

    progress = sys.stderr.isatty() if config.progress is None else config.progress
    last = {}
    with StopSignals() as stop:
        for epoch in range(position["epoch"], config.num_epochs):
            first_batch = position["batch"] if epoch == position["epoch"] else 0
            accuracy = mx.metric.Accuracy()
            if first_batch:
                accuracy.sum_metric, accuracy.num_inst = position["accuracy"]
            start = time.time() - (position["seconds"] if first_batch else 0.0)
            bar = tqdm(total=iterations_per_epoch, initial=first_batch, desc="epoch %d" % epoch,
                       disable=not progress, leave=False, dynamic_ncols=True)
            for batch, (data, label) in enumerate(train_batches.batches(epoch, first_batch),
                                                  first_batch):
                mx.random.seed(step_seed(config.seed, epoch, batch))
                batch_loss, labels, outputs = train_step(train_net, trainer, loss_fn, data,
                                                         label, contexts, config.aux_weight,
                                                         workers, amp_scaling=config.amp,
                                                         step_batch=step_batch)
                if not math.isfinite(batch_loss):
                    raise UserError(
                        "the loss became %s at iteration %d (epoch %d) with learning rate %g; "
                        "lower it (for example --lr %g). %s"
                        % (batch_loss, smoothed.iterations + 1, epoch, trainer.learning_rate,
                           trainer.learning_rate / 10, describe_resume(checkpoints)))
                smoothed.update(batch_loss)
                accuracy.update(labels, outputs)
                if smoothed.iterations % config.log_interval == 0:
                    iteration_log.append(iteration=smoothed.iterations, epoch=epoch,
                                         smoothed_loss=smoothed.get(), lr=trainer.learning_rate)
                bar.set_postfix(loss="%.4f" % smoothed.get(), acc="%.3f" % accuracy.get()[1])
                bar.update()
                if stop.received and batch + 1 < iterations_per_epoch:
                    bar.close()
                    where = "at epoch %d after batch %d" % (epoch, batch + 1)
                    if workers > 1:
                        # A checkpoint inside an epoch needs every worker at the same step,
                        # and ps-lite offers no barrier to meet at: distributed jobs resume
                        # from the end of an epoch.
                        raise Interrupted("rank %d stopped by %s %s. %s" % (
                            rank, stop.received, where, describe_resume(checkpoints, rank)))
                    path = save_checkpoint(epoch, batch + 1, accuracy, time.time() - start)
                    raise Interrupted(
                        "stopped by %s %s; checkpoint %s written. Continue with the same "
                        "command plus --resume (--out %s)."
                        % (stop.received, where, path, config.out))
            bar.close()
            train_seconds = time.time() - start
            if not chief:
                if stop.received:
                    raise Interrupted("rank %d stopped by %s after epoch %d. %s" % (
                        rank, stop.received, epoch, describe_resume(checkpoints, rank)))
                continue
            running_acc = accuracy.get()[1]
            # seed 002's "Train acc": a full pass over the training set in inference mode
            train_acc = (evaluate(net, BatchIterator(*train_split, eval_batch,
                                                     config.image_size, resize=config.resize),
                                  contexts)
                         if config.eval_train else running_acc)
            test_acc = evaluate(net, test_batches, contexts)
            seconds = time.time() - start
            last = dict(epoch=epoch, smoothed_loss=smoothed.get(), train_acc=train_acc,
                        running_train_acc=running_acc, test_acc=test_acc,
                        lr=trainer.learning_rate, seconds=seconds,
                        samples_per_sec=iterations_per_epoch * config.batch_size / train_seconds)
            epoch_log.append(**last)  # a resume drops rows its checkpoint does not cover
            save_checkpoint(epoch + 1, 0, accuracy, 0.0)
            log.info("Epoch %d, Moving Train Avg loss %.5f, Train acc %.5f, Test acc %.5f, "
                     "Time consume %.5f s.", epoch, smoothed.get(), train_acc, test_acc, seconds)
            if stop.received:
                raise Interrupted("stopped by %s after epoch %d. %s" % (
                    stop.received, epoch, describe_resume(checkpoints, rank)))

    if workers > 1:  # hashing every parameter is only worth it to show the workers agree
        log.info("rank %d of %d: final parameters sha256 %s", rank, workers,
                 parameters_digest(net))
    if not chief:
        return dict(last, out=config.out, net=net, rank=rank)
    prefix = os.path.join(config.out, config.net)
    symbol_file, params_file = deploy.export(net, prefix, input_shape, epoch=config.num_epochs - 1,
                                             ctx=contexts[0], class_names=splits.classes,
                                             resize=config.resize)
    from ..plot import plot_runs
    curves = plot_runs([config.out], os.path.join(config.out, "curves.png"))
    log.info("exported %s and %s; curves in %s", symbol_file, params_file, curves)
    return dict(last, symbol=symbol_file, params=params_file, curves=curves, out=config.out,
                net=net)
