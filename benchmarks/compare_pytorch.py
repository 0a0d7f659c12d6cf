#!/usr/bin/env python
"""MXNet (gluon_cnn) against PyTorch on the identical network, side by side.

The network is the Gluon tutorial's 96-px GoogLeNet (``googlenet``), which both frameworks
build layer for layer (the script checks that the parameter counts agree). Each
measurement runs in a fresh process, the frameworks alternate, and every figure is the
median over ``--rounds`` rounds; ratios are of those medians, measured in this one run.

    pip install torch==2.13.0     # optional, CPU build; never a dependency of gluon_cnn
    python benchmarks/compare_pytorch.py --rounds 3 [--json results/bench/compare.json]

Measured: training step (batch 64, SGD, softmax cross-entropy; MXNet hybridized with static
allocation, PyTorch channels-last), inference in eval mode (MXNet: the exported
symbol.json + params loaded with no model code, plain, with oneDNN graph fusion
``optimize_for("MKLDNN")``, and as an INT8 export calibrated on random images: its speed,
not its accuracy, is what this measures; with the ``onnx`` extra installed, also the ONNX
export run by onnxruntime), MXNet imperative against hybridized, and each process's peak
resident memory.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the Gluon tutorial / Table 1: name, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
STAGES = [[(64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64)],
          [(192, 96, 208, 16, 48, 64), (160, 112, 224, 24, 64, 64), (128, 128, 256, 24, 64, 64),
           (112, 144, 288, 32, 64, 64), (256, 160, 320, 32, 128, 128)],
          [(256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128)]]


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(step, steps, repeats, warmup):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times)


def torch_googlenet(classes=10):
    import torch
    from torch import nn

    class Inception(nn.Module):
        def __init__(self, cin, c1, c3r, c3, c5r, c5, pool_proj):
            super().__init__()
            relu = lambda: nn.ReLU(inplace=True)  # noqa: E731
            self.b1 = nn.Sequential(nn.Conv2d(cin, c1, 1), relu())
            self.b3 = nn.Sequential(nn.Conv2d(cin, c3r, 1), relu(),
                                    nn.Conv2d(c3r, c3, 3, padding=1), relu())
            self.b5 = nn.Sequential(nn.Conv2d(cin, c5r, 1), relu(),
                                    nn.Conv2d(c5r, c5, 5, padding=2), relu())
            self.bp = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(cin, pool_proj, 1), relu())

        def forward(self, x):
            return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], 1)

    layers = [nn.Conv2d(3, 64, 7, 2, 3), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
              nn.Conv2d(64, 64, 1), nn.Conv2d(64, 192, 3, padding=1), nn.ReLU(inplace=True),
              nn.MaxPool2d(3, 2)]
    channels = 192
    for index, stage in enumerate(STAGES):
        for row in stage:
            layers.append(Inception(channels, *row))
            channels = row[0] + row[2] + row[4] + row[5]
        layers.append(nn.MaxPool2d(3, 2) if index < 2 else nn.AvgPool2d(2, 1))
    layers += [nn.Dropout(0.4), nn.Flatten(), nn.Linear(channels, classes)]
    return nn.Sequential(*layers)


def run_torch(kind, batch, size, steps, repeats, warmup):
    import torch
    model = torch_googlenet().to(memory_format=torch.channels_last)
    params = sum(p.numel() for p in model.parameters())
    data = torch.rand(batch, 3, size, size).to(memory_format=torch.channels_last)
    label = torch.arange(batch) % 10
    if kind == "train":
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        loss_fn = torch.nn.CrossEntropyLoss()

        def step():
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(data), label).backward()
            optimizer.step()
    else:
        model.eval()

        def step():
            with torch.inference_mode():
                model(data)
    seconds = timed(step, steps, repeats, warmup)
    return {"seconds": seconds, "params": params, "threads": torch.get_num_threads(),
            "version": torch.__version__}


def run_mxnet(kind, batch, size, steps, repeats, warmup, export_prefix):
    sys.path.insert(0, ROOT)
    import gluon_cnn  # noqa: F401  (sets the thread defaults before mxnet loads)
    import mxnet as mx
    from gluon_cnn import bench, deploy
    if kind in ("train", "train-imperative"):
        result = bench.benchmark("googlenet", batch, size, "train",
                                 hybridize=kind == "train", steps=steps, repeats=repeats,
                                 warmup=warmup)
        seconds = result["train"]["ms_per_step"] / 1000
    else:
        net = deploy.load_exported(export_prefix + ("-int8" if kind == "infer-int8" else ""))
        data = mx.nd.random.uniform(shape=(batch, 3, size, size))
        if kind == "infer-fused":  # oneDNN graph fusion, which the predictors leave out
            net.optimize_for(data, backend="MKLDNN", static_alloc=True)
        else:  # what predict.py and export.py --evaluate run
            deploy.compile_for_inference(net)
        seconds = timed(lambda: net(data).wait_to_read(), steps, repeats, warmup)
    params = gluon_cnn.summary(gluon_cnn.get_model("googlenet"), (1, 3, size, size),
                               printer=None)["trainable_params"]
    return {"seconds": seconds, "params": params, "threads": os.environ.get("OMP_NUM_THREADS"),
            "version": mx.__version__}


def run_onnxruntime(batch, size, steps, repeats, warmup, export_prefix):
    sys.path.insert(0, ROOT)
    import numpy as np
    import onnx
    import onnxruntime
    from gluon_cnn import deploy
    predict = deploy.OnnxPredictor(export_prefix + ".onnx")
    data = np.random.rand(batch, 3, size, size).astype(np.float32)
    seconds = timed(lambda: predict(data), steps, repeats, warmup)
    weights = onnx.load(export_prefix + ".onnx").graph.initializer
    params = sum(int(np.prod(weight.dims)) for weight in weights
                 if weight.data_type == 1)  # float tensors; shapes for Reshape are int64
    return {"seconds": seconds, "params": params, "threads": os.environ.get("OMP_NUM_THREADS"),
            "version": onnxruntime.__version__}


def child(args):
    if args.framework == "onnxruntime":
        result = run_onnxruntime(args.batch_size, args.image_size, args.steps, args.repeats,
                                 args.warmup, args.export_prefix)
    elif args.framework == "torch":
        result = run_torch(args.kind, args.batch_size, args.image_size, args.steps,
                           args.repeats, args.warmup)
    else:
        result = run_mxnet(args.kind, args.batch_size, args.image_size, args.steps,
                           args.repeats, args.warmup, args.export_prefix)
    result["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(result))


def measure(args, framework, kind, export_prefix):
    command = [sys.executable, os.path.abspath(__file__), "--child", "--framework", framework,
               "--kind", kind, "--batch-size", str(args.batch_size), "--image-size",
               str(args.image_size), "--steps", str(args.steps), "--repeats", str(args.repeats),
               "--warmup", str(args.warmup), "--export-prefix", export_prefix]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def onnxruntime_installed():
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def export_untrained(prefix, size, onnx):
    sys.path.insert(0, ROOT)
    code = ("import sys; sys.path.insert(0, %r); import gluon_cnn, mxnet as mx; "
            "net = gluon_cnn.get_model('googlenet'); net.initialize(mx.init.Xavier()); "
            "gluon_cnn.deploy.export(net, %r, (1, 3, %d, %d)); "
            "gluon_cnn.deploy.quantize_export(%r, mx.nd.random.uniform(shape=(64, 3, %d, %d)))"
            % (ROOT, prefix, size, size, prefix, size, size))
    if onnx:
        code += "; gluon_cnn.deploy.export_onnx(%r)" % prefix
    subprocess.run([sys.executable, "-c", code], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", default=None, help="also write the raw figures here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--framework", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    parser.add_argument("--export-prefix", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("error: PyTorch is not installed; run: pip install torch==2.13.0")
    runs = [("mxnet", "train"), ("torch", "train"), ("mxnet", "train-imperative"),
            ("mxnet", "infer"), ("mxnet", "infer-fused"), ("mxnet", "infer-int8"),
            ("torch", "infer")]
    onnx = onnxruntime_installed()
    if onnx:
        runs.append(("onnxruntime", "infer"))
    samples = {run: [] for run in runs}
    with tempfile.TemporaryDirectory() as folder:
        prefix = os.path.join(folder, "googlenet")
        export_untrained(prefix, args.image_size, onnx)
        for round_index in range(args.rounds):
            for run in runs:
                samples[run].append(measure(args, *run, prefix))
                print("round %d %-6s %-17s %8.1f ms/step" % (
                    round_index, run[0], run[1], samples[run][-1]["seconds"] * 1000),
                    file=sys.stderr)
    median = {run: statistics.median(s["seconds"] for s in samples[run]) for run in runs}
    memory = {run: max(s["peak_rss_mib"] for s in samples[run]) for run in runs}
    params = {samples[run][0]["params"] for run in runs}
    assert len(params) == 1, "the two networks differ: %s parameters" % params
    images = lambda run: args.batch_size / median[run]  # noqa: E731
    sys.path.insert(0, ROOT)
    from gluon_cnn import debug, get_model
    from gluon_cnn.bench import cpu_peak_gflops, read_cpuinfo
    # forward MACs per image of the network at this size, counted layer by layer
    macs = debug.summary(get_model("googlenet"), (1, 3, args.image_size, args.image_size),
                         printer=None)["macs"]
    train_gflop = 6 * macs / 1e9 * args.batch_size  # forward + backward: 3 passes, 2 FLOP/MAC
    peak, peak_basis = cpu_peak_gflops()
    lines = [
        "googlenet (the Gluon tutorial), batch %d, %d px, %d parameters in both; medians of %d "
        "rounds" % (args.batch_size, args.image_size, params.pop(), args.rounds),
        "machine: %s; theoretical peak %.1f GFLOP/s (%s)" % (
            read_cpuinfo()[0], peak or 0, peak_basis),
        "%-34s %10s %10s %12s" % ("", "img/s", "ms/step", "peak RSS MiB")]
    for run in runs:
        lines.append("%-34s %10.1f %10.1f %12.0f" % ("%s %s" % run, images(run),
                                                     median[run] * 1000, memory[run]))
    ratio = lambda a, b: median[b] / median[a]  # noqa: E731
    lines += [
        "training step, MXNet / PyTorch channels-last:      %.2fx" % ratio(("mxnet", "train"),
                                                                           ("torch", "train")),
        "training GFLOP/s MXNet: %.1f (%.1f%% of peak)" % (
            train_gflop / median[("mxnet", "train")],
            100 * train_gflop / median[("mxnet", "train")] / peak if peak else 0),
        "inference (export), MXNet / PyTorch:               %.2fx" % ratio(("mxnet", "infer"),
                                                                           ("torch", "infer")),
        "inference (export + oneDNN fusion), MXNet / PyTorch: %.2fx" % ratio(
            ("mxnet", "infer-fused"), ("torch", "infer")),
        "inference (INT8 export), MXNet / PyTorch FP32:     %.2fx" % ratio(
            ("mxnet", "infer-int8"), ("torch", "infer")),
        "MXNet hybridized / imperative training step:       %.2fx" % ratio(
            ("mxnet", "train"), ("mxnet", "train-imperative")),
    ]
    if onnx:
        lines.append("inference (ONNX export, onnxruntime) / PyTorch:   %.2fx" % ratio(
            ("onnxruntime", "infer"), ("torch", "infer")))
    print("\n".join(lines))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as handle:
            json.dump({"samples": {"%s %s" % run: samples[run] for run in runs},
                       "summary": lines}, handle, indent=1)


if __name__ == "__main__":
    main()
