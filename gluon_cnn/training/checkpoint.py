"""Checkpoints that survive a crash.

Each checkpoint is a folder written under a temporary name, flushed, then renamed, with
SHA-256 sums of its files in ``state.json``, so a half-written or damaged one is
recognised and the previous good one used instead. Epochs are numbered from 0, as in the
Gluon tutorial's epoch line: ``epoch-0003`` holds the state at the end of epoch 3 (four
complete epochs); ``epoch-0003-batch-0120`` the state of a run interrupted in epoch 3 after 120
batches. Parameters and optimizer states are MXNet ``.params``
files (arrays only) and counters are JSON: nothing is ever unpickled.
"""
import errno
import json
import logging
import os
import re
import shutil

from ..errors import UserError
from ..paths import file_digest
from . import optimizer_state
from .averaging import load_average_into

log = logging.getLogger(__name__)

PARAMS, OPTIMIZER, OPTIMIZER_META, STATE = ("net.params", "optimizer.params",
                                            "optimizer.json", "state.json")
AVERAGE = "average.params"  # the weight average of --ema, when the run keeps one
LOOKAHEAD = "lookahead.params"  # the slow weights of --lookahead
DATA_FILES = (PARAMS, OPTIMIZER, OPTIMIZER_META)
NAME = re.compile(r"^epoch-(\d{4,})(?:-batch-(\d{4,}))?$")


def checkpoint_name(epoch, batch=0):
    """The folder name of the run's position ``epoch``, ``batch`` (the next batch to train):
    at ``batch`` 0 the previous epoch is complete, and the folder is named after it."""
    return "epoch-%04d-batch-%04d" % (epoch, batch) if batch else "epoch-%04d" % (epoch - 1)


def last_epoch(state):
    """The number of the last epoch whose training a checkpoint's state includes (the one
    it ends, or the one it interrupts)."""
    return state["epoch"] if state["batch"] else state["epoch"] - 1


def _fsync(path):
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def save(folder, epoch, net, trainer, state, batch=0, keep=3, average=None, lookahead=None):
    """Write the checkpoint for ``epoch`` complete epochs (+ ``batch`` batches of the next),
    named as ``checkpoint_name`` says, into ``folder`` and keep the newest ``keep``; with
    ``average`` (a WeightAverage) its averaged weights too. A failed write leaves no
    trace."""
    final = os.path.join(folder, checkpoint_name(epoch, batch))
    temporary = os.path.join(folder, ".%s.tmp%d" % (os.path.basename(final), os.getpid()))
    try:
        os.makedirs(folder, exist_ok=True)
        shutil.rmtree(temporary, ignore_errors=True)
        os.makedirs(temporary)
        net.save_parameters(os.path.join(temporary, PARAMS))
        optimizer_state.save(trainer, os.path.join(temporary, OPTIMIZER),
                             os.path.join(temporary, OPTIMIZER_META))
        names = DATA_FILES
        if average is not None:
            average.save(os.path.join(temporary, AVERAGE))
            names += (AVERAGE,)
        if lookahead is not None:
            lookahead.save(os.path.join(temporary, LOOKAHEAD))
            names += (LOOKAHEAD,)
        state = dict(state, epoch=epoch, batch=batch,
                     sha256={name: file_digest(os.path.join(temporary, name)) for name in names})
        with open(os.path.join(temporary, STATE), "w") as handle:
            json.dump(state, handle, indent=1)
        for name in names + (STATE,):
            _fsync(os.path.join(temporary, name))
        if os.path.exists(final):
            shutil.rmtree(final)
        os.rename(temporary, final)
    except OSError as err:
        shutil.rmtree(temporary, ignore_errors=True)
        reason = "the disk is full" if err.errno == errno.ENOSPC else (err.strerror or str(err))
        previous, _ = latest_valid(folder)
        raise UserError("could not write checkpoint %s: %s; the last complete checkpoint is "
                        "%s; free space and continue with --resume."
                        % (final, reason, previous or "none")) from None
    for old in list_checkpoints(folder)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(folder):
    """Completed checkpoint folders, oldest first (temporary folders are not listed)."""
    if not os.path.isdir(folder):
        return []
    found = []
    for name in os.listdir(folder):
        match = NAME.match(name)
        if match:
            # the end of an epoch comes after every interruption inside it
            batch = int(match.group(2)) if match.group(2) else float("inf")
            found.append(((int(match.group(1)), batch), os.path.join(folder, name)))
    return [path for _, path in sorted(found)]


def verify(path):
    """The checkpoint's state dict if every file is there and matches its checksum, else None."""
    try:
        with open(os.path.join(path, STATE)) as handle:
            state = json.load(handle)
        sums = state["sha256"]
        for name in set(DATA_FILES) | set(sums):
            if file_digest(os.path.join(path, name)) != sums[name]:
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state


def latest_valid(folder):
    """(path, state) of the newest intact checkpoint, warning about damaged newer ones."""
    for path in reversed(list_checkpoints(folder)):
        state = verify(path)
        if state is not None:
            return path, state
        log.warning("checkpoint %s is damaged or incomplete; using the one before it", path)
    return None, None


def restore(path, net, trainer, ctx, average=None, lookahead=None):
    """Load a verified checkpoint's parameters and optimizer state, and its weight average
    into ``average`` when it has one (else the average starts from the loaded weights), and
    the slow weights of ``lookahead``."""
    net.load_parameters(os.path.join(path, PARAMS), ctx=ctx)
    optimizer_state.load(trainer, os.path.join(path, OPTIMIZER), os.path.join(path, OPTIMIZER_META))
    if average is not None:
        if os.path.isfile(os.path.join(path, AVERAGE)):
            average.load(os.path.join(path, AVERAGE))
        else:
            average.reset()
            log.info("%s holds no weight average; --ema starts one from its weights", path)
    if lookahead is not None:
        if not os.path.isfile(os.path.join(path, LOOKAHEAD)):
            raise UserError("%s holds no lookahead weights: it was not trained with "
                            "--lookahead." % path)
        lookahead.load(os.path.join(path, LOOKAHEAD))


def load_weights(path, net, ctx):
    """The weights evaluation uses: the checkpoint's average when it has one, else its
    trained weights."""
    net.load_parameters(os.path.join(path, PARAMS), ctx=ctx)
    if os.path.isfile(os.path.join(path, AVERAGE)):
        load_average_into(net, os.path.join(path, AVERAGE))
