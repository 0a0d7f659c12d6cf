#!/usr/bin/env python
"""The paper's own airbench94 trained end to end on a CIFAR-10 image folder, on the CPU.

Runs ``legacy/airbench94.py``'s ``main`` from a clone of KellerJordan/cifar10-airbench as it
is: its data loader, augmentation, network, optimizer, schedule, lookahead and six-view TTA.
Only what needs a GPU is replaced: ``.cuda()`` and ``.half()`` are no-ops (float32 on the
CPU), its CUDA timer events read ``time.perf_counter``, and its ``cifar10/train.pt`` and
``test.pt`` are written from ``--data-dir``'s image folders (in gluon_cnn's fixed shuffled
order, so its whitening sees the same first 5000 images ours does). Beside our recipe's
runs on the same data, this separates what the data costs from what our implementation
might: if the paper's code reaches the same accuracy here, the gap to 94% is the data's.

    python benchmarks/airbench_upstream.py --airbench-repo ~/src/cifar10-airbench \\
        --data-dir /tmp/cifar10 --seeds 0 --out results/airbench94-cifar10/upstream

Each seed writes OUT/seed-S.json (accuracy per epoch, with and without TTA, and the
time its own timer counts: training steps, whitening init and the final TTA pass, not the
per-epoch evaluations); a seed whose file exists is read, not rerun.
"""
import argparse
import json
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from airbench_reference import load_reference  # noqa: E402


class PerfCounterEvent:
    """torch.cuda.Event's timing interface, on the host clock."""

    def __init__(self, enable_timing=True):
        self.when = None

    def record(self):
        self.when = time.perf_counter()

    def elapsed_time(self, end):
        return 1e3 * (end.when - self.when)


def for_the_cpu(reference):
    """Patch what the reference module needs a GPU for; everything else runs as written."""
    import torch
    torch.Tensor.half = lambda tensor, *args, **kwargs: tensor.float()
    torch.cuda.Event = PerfCounterEvent
    torch.cuda.synchronize = lambda *args, **kwargs: None
    defaults = list(reference.CifarLoader.__init__.__defaults__)
    defaults[-1] = "cpu"  # gpu=0, the device its loader maps the data to
    reference.CifarLoader.__init__.__defaults__ = tuple(defaults)


def write_torch_data(data_dir, folder):
    """cifar10/train.pt and test.pt in the reference loader's format, from image folders,
    unless ``folder`` already holds them for this ``data_dir``."""
    import torch
    from gluon_cnn.data import load_image_folder
    source_file = os.path.join(folder, "source.txt")
    source = os.path.abspath(data_dir)
    if os.path.isfile(source_file):
        with open(source_file) as handle:
            if handle.read() == source:
                return
    (train, train_labels), (test, test_labels), classes = load_image_folder(data_dir)
    os.makedirs(folder, exist_ok=True)
    for name, images, labels in (("train.pt", train, train_labels),
                                 ("test.pt", test, test_labels)):
        torch.save({"images": torch.tensor(images), "labels": torch.tensor(labels).long(),
                    "classes": list(classes)}, os.path.join(folder, name))
    with open(source_file, "w") as handle:
        handle.write(source)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--airbench-repo", required=True,
                        help="a clone of KellerJordan/cifar10-airbench")
    parser.add_argument("--data-dir", required=True,
                        help="CIFAR-10 as image folders: train/<class>/, test/<class>/")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", required=True, help="folder for seed-S.json")
    parser.add_argument("--work-dir", default="/tmp/airbench_upstream",
                        help="where the reference's cifar10/*.pt files are written")
    parser.add_argument("--epochs", type=float, default=None,
                        help="override the paper's 9.9 (a shortened trial run)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    for path in (args.airbench_repo, args.data_dir):
        if not os.path.isdir(path):
            print("error: %s is not a folder." % path, file=sys.stderr)
            return 2

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    paths = {seed: os.path.join(out, "seed-%d.json" % seed) for seed in args.seeds}
    to_train = [seed for seed in args.seeds if not os.path.isfile(paths[seed])]
    if to_train:  # finished seeds are only read: no torch, no reference to load
        train_seeds(args, to_train, paths)
    summary = []
    for seed in args.seeds:
        with open(paths[seed]) as handle:
            summary.append(json.load(handle))
    for record in summary:
        print("seed %d: test %.4f, TTA %.4f, %.1f min timed (%.1f min wall), %s" % (
            record["seed"], record["test_accuracy"], record["tta_accuracy"],
            record["timed_seconds"] / 60, record["wall_seconds"] / 60, record["cpu"]))
    if len(summary) > 1:
        print("mean of %d: test %.4f, TTA %.4f" % (
            len(summary), sum(r["test_accuracy"] for r in summary) / len(summary),
            sum(r["tta_accuracy"] for r in summary) / len(summary)))
    return 0


def train_seeds(args, seeds, paths):
    """Run the reference's main once per seed, each written to paths[seed]."""
    import torch
    from gluon_cnn._env import describe_cpu
    torch.set_num_threads(args.threads)
    reference = load_reference(args.airbench_repo)
    for_the_cpu(reference)
    if args.epochs is not None:
        reference.hyp["opt"]["train_epochs"] = args.epochs
    write_torch_data(args.data_dir, os.path.join(args.work_dir, "cifar10"))

    # main() reports each epoch through this module-level function: keep what it prints
    epochs = []
    print_details = reference.print_training_details

    def recording(variables, is_final_entry):
        epochs.append({key: variables.get(key) for key in
                       ("epoch", "train_loss", "train_acc", "val_acc", "tta_val_acc",
                        "total_time_seconds")})
        print_details(variables, is_final_entry)
        sys.stdout.flush()
    reference.print_training_details = recording

    command = " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:])
    data_dir = os.path.abspath(args.data_dir)
    os.chdir(args.work_dir)  # the reference reads cifar10/*.pt from where it runs
    reference.print_columns(reference.logging_columns_list, is_head=True)
    for seed in seeds:
        del epochs[:]
        torch.manual_seed(seed)
        started = time.perf_counter()
        tta_accuracy = reference.main(seed)
        record = {
            "seed": seed, "epochs_trained": reference.hyp["opt"]["train_epochs"],
            "test_accuracy": epochs[-2]["val_acc"], "tta_accuracy": tta_accuracy,
            "timed_seconds": epochs[-1]["total_time_seconds"],
            "wall_seconds": time.perf_counter() - started,
            "per_epoch": epochs[:], "data_dir": data_dir,
            "cpu": describe_cpu(), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(),
            "command": command,
        }
        with open(paths[seed], "w") as handle:
            json.dump(record, handle, indent=1)


if __name__ == "__main__":
    sys.exit(main())
