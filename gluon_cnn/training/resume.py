"""What a run folder allows: a new run only in a folder without one, ``--resume`` only from
an intact checkpoint taken with the same settings; and what to tell the user after a stop."""
import os

from ..errors import UserError
from ..paths import RunFolder
from . import checkpoint

# What a checkpoint must share with the run that resumes it.
RESUME_KEYS = ("net", "classes", "image_size", "in_channels", "resize", "last_batch")


def prepare_output(config):
    """Create --out, refusing to write into a folder that holds a run unless resuming it."""
    folder = RunFolder(config.out)
    existing = folder.run_files() if os.path.isdir(config.out) else []
    if existing and not config.resume:
        raise UserError("%s already holds a training run (%s); pass --resume to continue it "
                        "or choose another --out." % (config.out, ", ".join(existing)))
    if config.resume:  # before anything is written there, train.log included
        require_checkpoint(folder.checkpoints)
    try:
        os.makedirs(config.out, exist_ok=True)
        probe = os.path.join(config.out, ".write-test")
        with open(probe, "w") as handle:
            handle.write("ok")
        os.remove(probe)
    except OSError as err:
        raise UserError("cannot write to the output directory %s (%s); choose another --out."
                        % (config.out, err.strerror or err)) from None
    return folder


def require_checkpoint(checkpoints):
    """(path, state) of the checkpoint --resume continues from; a UserError if none."""
    path, state = checkpoint.latest_valid(checkpoints)
    if path is None:
        raise UserError("--resume found no intact checkpoint in %s." % checkpoints)
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
