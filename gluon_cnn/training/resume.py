"""What a run folder allows: a new run only in a folder without one, ``--resume`` only from
an intact checkpoint taken with the same settings; and what to tell the user after a stop."""
import logging
import os
import shutil

from ..errors import UserError
from ..paths import RunFolder, make_output_folder
from . import checkpoint

log = logging.getLogger(__name__)

# What a checkpoint must share with the run that resumes it.
RESUME_KEYS = ("net", "classes", "image_size", "in_channels", "resize", "last_batch")


def prepare_output(config):
    """Create --out, refusing to write into a folder that holds a run unless resuming it."""
    folder = RunFolder(config.out)
    existing = folder.run_files() if os.path.isdir(config.out) else []
    if existing and not config.resume and not holds_progress(folder):
        # a run that stopped before its first checkpoint left nothing to protect
        log.info("%s holds a run that ended before its first checkpoint (%s); starting it "
                 "again.", config.out, ", ".join(existing))
        for name in existing:  # checkpoints/ here holds only unfinished temporaries
            path = os.path.join(config.out, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
        existing = []
    if existing and not config.resume:
        raise UserError("%s already holds a training run (%s); pass --resume to continue it "
                        "or choose another --out." % (config.out, ", ".join(existing)))
    if config.resume:  # before anything is written there, train.log included
        path, state = require_checkpoint(folder.checkpoints)
        if state["epoch"] >= config.num_epochs:
            raise UserError("nothing to do: %s has trained %d epochs (%s) and --num-epochs is "
                            "%s; pass a larger --num-epochs to continue it. Nothing was "
                            "written." % (config.out, state["epoch"] + (state["batch"] > 0),
                                          os.path.basename(path), config.num_epochs))
    make_output_folder(config.out)
    return folder


def holds_progress(folder):
    """Whether a run folder holds anything a new run must not write over: a checkpoint
    (intact or not) or a finished epoch's row in metrics.csv."""
    if checkpoint.list_checkpoints(folder.checkpoints):
        return True
    if not os.path.isfile(folder.metrics):
        return False
    with open(folder.metrics) as handle:
        return sum(1 for line in handle if line.strip()) > 1


def require_checkpoint(checkpoints):
    """(path, state) of the checkpoint --resume continues from; a UserError if none."""
    path, state = checkpoint.latest_valid(checkpoints)
    if path is None:
        raise UserError("--resume found no intact checkpoint in %s; if no epoch finished, "
                        "there is nothing to resume: run the same command without --resume."
                        % checkpoints)
    return path, state


def check_same_settings(path, saved, current):
    """Refuse a checkpoint taken with other settings (those of RESUME_KEYS)."""
    differences = "; ".join("%s was %s, now %s" % (key, saved.get(key), current[key])
                            for key in RESUME_KEYS if saved.get(key) != current[key])
    if differences:
        raise UserError("cannot resume from %s: it was trained with different settings (%s)."
                        % (path, differences))


def describe_resume(checkpoints, rank=0):
    """What ``--resume`` will do after a stop, as rank ``rank`` can tell."""
    if rank:
        return "Rank 0 writes the checkpoints and says what --resume continues from."
    path, _ = checkpoint.latest_valid(checkpoints)
    if path is None:
        return ("No epoch has finished, so there is no checkpoint: run the same command "
                "again, without --resume.")
    return "Continue with the same command plus --resume: it starts from %s." % path
