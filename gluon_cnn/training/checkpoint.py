"""Checkpoints that survive a crash: each is a folder written under a temporary name,
flushed, then renamed, with SHA-256 sums of its files, so a half-written or damaged one is
recognised and the previous good one is used instead. Parameters and trainer state use
MXNet's own formats, never pickle."""
import hashlib
import json
import logging
import os
import shutil

log = logging.getLogger(__name__)

PARAMS, TRAINER, STATE = "net.params", "trainer.states", "state.json"
PREFIX = "epoch-"


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path):
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def save(folder, epoch, net, trainer, state, keep=3):
    """Write checkpoint ``epoch`` (completed epochs) into ``folder``; keep the last ``keep``."""
    os.makedirs(folder, exist_ok=True)
    final = os.path.join(folder, "%s%04d" % (PREFIX, epoch))
    temporary = os.path.join(folder, ".%s%04d.tmp%d" % (PREFIX, epoch, os.getpid()))
    shutil.rmtree(temporary, ignore_errors=True)
    os.makedirs(temporary)
    net.save_parameters(os.path.join(temporary, PARAMS))
    trainer.save_states(os.path.join(temporary, TRAINER))
    state = dict(state, epoch=epoch,
                 sha256={name: _sha256(os.path.join(temporary, name)) for name in (PARAMS, TRAINER)})
    with open(os.path.join(temporary, STATE), "w") as handle:
        json.dump(state, handle, indent=1)
    for name in (PARAMS, TRAINER, STATE):
        _fsync(os.path.join(temporary, name))
    if os.path.exists(final):
        shutil.rmtree(final)
    os.rename(temporary, final)
    for old in list_checkpoints(folder)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(folder):
    """Completed checkpoint folders, oldest first."""
    if not os.path.isdir(folder):
        return []
    names = sorted(name for name in os.listdir(folder)
                   if name.startswith(PREFIX) and name[len(PREFIX):].isdigit())
    return [os.path.join(folder, name) for name in names]


def verify(path):
    """The checkpoint's state dict if every file is there and matches its checksum, else None."""
    try:
        with open(os.path.join(path, STATE)) as handle:
            state = json.load(handle)
        sums = state["sha256"]
        for name in (PARAMS, TRAINER):
            if _sha256(os.path.join(path, name)) != sums[name]:
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
