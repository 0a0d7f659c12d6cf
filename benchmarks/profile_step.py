#!/usr/bin/env python
"""Where a training step's time goes, MXNet (gluon_cnn) beside PyTorch, operator by operator.

The step and network are compare_pytorch.py's: the Gluon tutorial's 96-px GoogLeNet, batch 64, SGD,
softmax cross-entropy; MXNet hybridized with static allocation (the trainer's own step),
PyTorch channels-last. Each framework runs in a fresh process under its own profiler and
the operators' times are summed into the same categories, in milliseconds per step;
the frameworks alternate over ``--rounds`` rounds and each figure is a median. MXNet
runs with bulk execution off so that each operator is timed on its own (the step is then
a little slower than compare_pytorch.py's). A third process reruns the MXNet step with
oneDNN's verbose log, which times every oneDNN primitive, the layout reorders MXNet
inserts between operators included.

    python benchmarks/profile_step.py [--rounds 3] [--json results/bench/profile_step.json]

``--net`` profiles another zoo network's step the same way, MXNet alone (the PyTorch side is
compare_pytorch.py's GoogLeNet only), e.g. the CPU speedrun's::

    python benchmarks/profile_step.py --net airbench94 --batch-size 1024 --image-size 32
"""
import argparse
import collections
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_pytorch import torch_googlenet  # noqa: E402

CATEGORIES = ["convolution forward", "convolution backward", "ReLU forward", "ReLU backward",
              "GELU forward", "GELU backward", "batch norm forward", "batch norm backward",
              "pooling forward", "pooling backward", "concat forward and backward",
              "gradient sums at branch points", "zero fills", "optimizer update",
              "everything else"]
MXNET_OPERATORS = {
    "Convolution": "convolution forward", "_backward_Convolution": "convolution backward",
    "Activation": "ReLU forward", "_backward_Activation": "ReLU backward",
    "Pooling": "pooling forward", "_backward_Pooling": "pooling backward",
    "Concat": "concat forward and backward", "_backward_Concat": "concat forward and backward",
    "add_n": "gradient sums at branch points", "_zeros_without_dtype": "zero fills",
    "multi_sgd_update": "optimizer update", "sgd_update": "optimizer update",
    # MXNet's GELU is its LeakyReLU operator with act_type "gelu"
    "LeakyReLU": "GELU forward", "_backward_LeakyReLU": "GELU backward",
    "BatchNorm": "batch norm forward", "_backward_BatchNorm": "batch norm backward"}
# Engine bookkeeping, not computation: WaitForVar is the time a reader waited.
MXNET_IGNORED = {"WaitForVar", "DeleteVariable"}
TORCH_OPERATORS = {
    "aten::mkldnn_convolution": "convolution forward",
    "aten::convolution_backward": "convolution backward",
    "aten::relu_": "ReLU forward", "aten::clamp_min_": "ReLU forward",
    "aten::threshold_backward": "ReLU backward",
    "aten::max_pool2d_with_indices": "pooling forward", "aten::avg_pool2d": "pooling forward",
    "aten::max_pool2d_with_indices_backward": "pooling backward",
    "aten::avg_pool2d_backward": "pooling backward", "aten::cat": "concat forward and backward",
    "aten::add_": "gradient sums at branch points", "aten::fill_": "zero fills",
    "aten::zero_": "zero fills"}
OPTIMIZER_RANGE = "optimizer update"
# An MXNet operator outside MXNET_OPERATORS is kept under its own name with this prefix, so
# that "everything else" can be taken apart (a seventh of the CIFAR ResNet-20 step was there).
OTHER_PREFIX = "everything else: "


def run_mxnet_steps(net, batch, size, steps, warmup, start, stop):
    """Builds the MXNet step, warms it up, then runs ``steps`` of it between start() and
    stop()."""
    sys.path.insert(0, ROOT)
    import gluon_cnn  # noqa: F401  (thread defaults before mxnet loads)
    import mxnet as mx
    from gluon_cnn.bench import Workload
    work = Workload(net, batch, size)
    for _ in range(warmup):
        work.train_step()
    mx.nd.waitall()
    start()
    for _ in range(steps):
        work.train_step()
    mx.nd.waitall()
    stop()


def profile_mxnet(net, batch, size, steps, warmup):
    sys.path.insert(0, ROOT)
    import gluon_cnn  # noqa: F401
    from mxnet import profiler
    profiler.set_config(profile_symbolic=True, profile_imperative=True, aggregate_stats=True,
                        filename=os.path.join(os.environ["PROFILE_DIR"], "mxnet.json"))
    run_mxnet_steps(net, batch, size, steps, warmup, lambda: profiler.set_state("run"),
                    lambda: profiler.set_state("stop"))
    operators = json.loads(profiler.dumps(format="json"))["Time"]["operator"]
    totals = collections.Counter()
    for name, stats in operators.items():
        if name not in MXNET_IGNORED:
            totals[MXNET_OPERATORS.get(name, OTHER_PREFIX + name)] += stats["Total"] / steps
    return dict(totals)


def split_other(mxnet):
    """The categories with "everything else" summed from its operators, and those operators."""
    other = {key[len(OTHER_PREFIX):]: ms for key, ms in mxnet.items()
             if key.startswith(OTHER_PREFIX)}
    categories = {key: ms for key, ms in mxnet.items() if not key.startswith(OTHER_PREFIX)}
    categories["everything else"] = sum(other.values())
    return categories, other


def onednn_log_mxnet(net, batch, size, steps, warmup):
    """Runs the step with oneDNN's verbose log on; prints a marker before the timed steps."""
    libc = ctypes.CDLL(None)

    def mark():
        libc.fflush(None)  # oneDNN writes its log through C's buffered stdout
        print("TIMED STEPS", flush=True)
    run_mxnet_steps(net, batch, size, steps, warmup, mark, lambda: libc.fflush(None))


def reorder_kind(memory_descriptors):
    """Weights are the tensors whose outer dimension oneDNN blocks (formats like ABcd16b16a)."""
    formats = [descriptor.split(":")[3] for descriptor in memory_descriptors.split()]
    return ("layout reorders of weights and weight gradients"
            if any(fmt[:1].isupper() for fmt in formats)
            else "layout reorders of activations and gradients")


def summarize_onednn_log(text, steps):
    totals, calls = collections.Counter(), collections.Counter()
    timed = False
    for line in text.splitlines():
        if line.startswith("TIMED STEPS"):
            timed = True
        if not (timed and line.startswith("dnnl_verbose,exec,")):
            continue
        fields = line.split(",")
        primitive, implementation, kind = fields[3], fields[4], fields[5]
        key = (reorder_kind(fields[6]) if primitive == "reorder"
               else "%s %s (%s)" % (primitive, kind, implementation.split(":")[0]))
        totals[key] += float(fields[-1]) / steps
        calls[key] += 1 / steps
    return {key: {"ms": totals[key], "calls": round(calls[key])} for key in totals}


def profile_torch(net, batch, size, steps, warmup):
    import torch
    from torch.profiler import ProfilerActivity, profile, record_function
    model = torch_googlenet().to(memory_format=torch.channels_last).train()
    data = torch.rand(batch, 3, size, size).to(memory_format=torch.channels_last)
    label = torch.arange(batch) % 10
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(data), label).backward()
        with record_function(OPTIMIZER_RANGE):
            optimizer.step()
    for _ in range(warmup):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    totals = collections.Counter()
    for event in prof.events():
        category = TORCH_OPERATORS.get(event.name, "everything else")
        parent = event  # the optimizer's own Python time and every operator inside it
        while parent is not None:
            if parent.name == OPTIMIZER_RANGE:
                category = OPTIMIZER_RANGE
                break
            parent = parent.cpu_parent
        totals[category] += event.self_cpu_time_total / 1000 / steps  # microseconds
    return dict(totals)


def median_by_key(dicts):
    """Each key's median over the rounds (a key missing from a round counts as 0 there)."""
    keys = set().union(*dicts)
    return {key: statistics.median(d.get(key, 0.0) for d in dicts) for key in keys}


def run_child(args, framework, extra_env=None):
    command = [sys.executable, os.path.abspath(__file__), "--child", framework,
               "--net", args.net, "--batch-size", str(args.batch_size), "--image-size", str(args.image_size),
               "--steps", str(args.steps), "--warmup", str(args.warmup)]
    done = subprocess.run(command, capture_output=True, text=True, check=True,
                          env=dict(os.environ, **(extra_env or {})))
    return done.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--net", default="googlenet",
                        help="zoo network (PyTorch beside it for googlenet only)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per framework")
    parser.add_argument("--steps", type=int, default=5, help="profiled steps per round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child", choices=("mxnet", "onednn", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    shape = (args.net, args.batch_size, args.image_size, args.steps, args.warmup)
    with_torch = args.net == "googlenet"
    if args.child == "mxnet":
        print(json.dumps(profile_mxnet(*shape)))
        return
    if args.child == "onednn":
        onednn_log_mxnet(*shape)
        return
    if args.child == "torch":
        print(json.dumps(profile_torch(*shape)))
        return

    rounds = {"mxnet": [], "torch": [], "onednn": []}
    for _ in range(args.rounds):  # alternating, like compare_pytorch.py: the machine is noisy
        with tempfile.TemporaryDirectory() as scratch:
            rounds["mxnet"].append(json.loads(run_child(
                args, "mxnet", {"MXNET_EXEC_BULK_EXEC_TRAIN": "0",
                                "PROFILE_DIR": scratch}).splitlines()[-1]))
        if with_torch:
            rounds["torch"].append(json.loads(run_child(args, "torch").splitlines()[-1]))
        rounds["onednn"].append(summarize_onednn_log(
            run_child(args, "onednn", {"DNNL_VERBOSE": "1"}), args.steps))
    mxnet, mxnet_other = split_other(median_by_key(rounds["mxnet"]))
    torch = median_by_key(rounds["torch"]) if with_torch else {}
    onednn_ms = median_by_key([{key: figures["ms"] for key, figures in log.items()}
                               for log in rounds["onednn"]])
    onednn = {key: {"ms": ms, "calls": rounds["onednn"][0][key]["calls"]}
              for key, ms in onednn_ms.items()}

    sys.path.insert(0, ROOT)
    from gluon_cnn._env import describe_cpu  # here: the children must not load MXNet early
    cpu = describe_cpu()
    print("%s, batch %d, %d px, training step: milliseconds per step, medians of %d rounds "
          "of %d profiled steps; %s, OMP_NUM_THREADS=%s" % (
              args.net + (" (the Gluon tutorial)" if with_torch else ""), args.batch_size,
              args.image_size, args.rounds, args.steps, cpu,
              os.environ.get("OMP_NUM_THREADS", "unset")))
    columns = ("MXNet", "PyTorch") if with_torch else ("MXNet",)
    print("%-40s" % "operators" + "".join(" %9s" % column for column in columns))
    for category in CATEGORIES:
        figures = (mxnet.get(category, 0.0), torch.get(category, 0.0))[:len(columns)]
        if any(figures):
            print("%-40s" % category + "".join(" %9.1f" % figure for figure in figures))
    sums = (sum(mxnet.values()), sum(torch.values()))[:len(columns)]
    print("%-40s" % "sum" + "".join(" %9.1f" % figure for figure in sums))
    print("\nMXNet's \"everything else\", by operator:")
    for name, ms in sorted(mxnet_other.items(), key=lambda item: -item[1])[:10]:
        print("  %-38s %9.1f" % (name, ms))
    print("\nMXNet's oneDNN primitives in the same step (oneDNN verbose log; the MXNet "
          "operators above include them):")
    print("%-58s %9s %7s" % ("primitive", "ms/step", "calls"))
    for key, figures in sorted(onednn.items(), key=lambda item: -item[1]["ms"]):
        print("%-58s %9.1f %7d" % (key, figures["ms"], figures["calls"]))
    print("%-58s %9.1f" % ("sum", sum(figures["ms"] for figures in onednn.values())))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"net": args.net, "cpu": cpu, "mxnet_ms": mxnet,
                       "mxnet_everything_else_ms": mxnet_other, "torch_ms": torch,
                       "mxnet_onednn": onednn, "rounds": rounds,
                       "batch_size": args.batch_size, "image_size": args.image_size,
                       "steps": args.steps}, handle, indent=1)


if __name__ == "__main__":
    main()
