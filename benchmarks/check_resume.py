"""Checks that a run resumed in pieces is the run it would have been in one piece: trains the
epoch after CHECKPOINT again, uninterrupted, in a scratch folder, and compares the SHA-256
sums of the parameters and optimizer state it ends with against the run's own checkpoint
of that epoch (which ``state.json`` records). Both checkpoints must still be in the run
(a run keeps its newest three), and the thread count must be the run's::

    python benchmarks/check_resume.py results/googlenet-cifar10-96px epoch-0001 \\
        --data-dir /tmp/cifar10 --compare-with /tmp/saved-epoch-0002-state.json

Exit status 0 when they are equal.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from gluon_cnn.paths import RunFolder  # noqa: E402
from gluon_cnn.training.checkpoint import STATE, checkpoint_name  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="the run folder")
    parser.add_argument("checkpoint", help="the end-of-epoch checkpoint to start from, e.g. "
                                           "epoch-0001")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--compare-with", default=None,
                        help="the state.json of the next epoch's checkpoint, when the run no "
                             "longer holds it (default: RUN/checkpoints/epoch-N+1/state.json)")
    args = parser.parse_args()
    epoch = int(args.checkpoint.split("-")[1])
    run, scratch = RunFolder(args.run), RunFolder(tempfile.mkdtemp(prefix="check-resume-"))
    expected_file = args.compare_with or os.path.join(
        run.checkpoints, checkpoint_name(epoch + 1), STATE)
    with open(run.config) as handle:
        config = json.load(handle)
    with open(expected_file) as handle:
        expected = json.load(handle)
    os.makedirs(scratch.checkpoints)
    shutil.copytree(os.path.join(run.checkpoints, args.checkpoint),
                    os.path.join(scratch.checkpoints, args.checkpoint))
    command = [sys.executable, os.path.join(ROOT, "scripts", "train.py"), "--net", config["net"],
               "--data-dir", args.data_dir, "--image-size", str(config["image_size"]),
               "--resize", config["resize"], "--last-batch", config["last_batch"],
               "--batch-size", str(config["batch_size"]), "--seed", str(config["seed"]),
               "--lr", str(config["lr"]), "--momentum", str(config["momentum"]),
               "--wd", str(config["wd"]), "--optimizer", config["optimizer"],
               "--init", config["init"], "--lr-mode", config["lr_mode"],
               "--lr-decay", str(config["lr_decay"]),
               "--lr-decay-epoch", config["lr_decay_epoch"] or "",
               "--num-epochs", str(epoch + 2), "--no-eval-train", "--no-progress",
               "--out", scratch.root, "--resume"]
    print("$ " + " ".join(command), flush=True)
    subprocess.run(command, check=True)
    with open(os.path.join(scratch.checkpoints, checkpoint_name(epoch + 1), STATE)) as handle:
        replayed = json.load(handle)
    same = True
    for name, digest in sorted(expected["sha256"].items()):
        equal = replayed["sha256"][name] == digest
        same &= equal
        print("%-17s %s  run %s  replayed %s" % (name, "equal" if equal else "DIFFERENT",
                                                digest[:16], replayed["sha256"][name][:16]))
    equal = replayed["smoothed_loss"] == expected["smoothed_loss"]
    print("smoothed loss     %s  %r" % ("equal" if equal else "DIFFERENT",
                                         replayed["smoothed_loss"]["value"]))
    shutil.rmtree(scratch.root)
    return 0 if same and equal else 1


if __name__ == "__main__":
    sys.exit(main())
