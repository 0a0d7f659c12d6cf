"""Throughput of a zoo network on this machine: training steps and inference, images per
second, achieved FLOP/s against the CPU's peak, and peak resident memory.

A benchmark prints figures; nothing here is a test. Run it on an otherwise idle machine and
read medians: each figure is the median of ``repeats`` timed runs of ``steps`` steps.
"""
import os
import re
import resource
import statistics
import time

import mxnet as mx
from mxnet import autograd, gluon
from mxnet.contrib import amp

from . import debug
from ._env import physical_cores
from .models import get_model, with_aux_outputs
from .training.devices import amp_dtype
from .training.loop import as_float32, train_step

SP_FLOPS_PER_CYCLE = 32  # AVX2: two 8-wide fused multiply-adds per cycle per core


def cpu_peak_gflops():
    """cores x 32 single-precision FLOP per cycle x nominal clock (from /proc/cpuinfo)."""
    clock_ghz = None
    try:
        with open("/proc/cpuinfo") as handle:
            text = handle.read()
        match = re.search(r"model name.*@ ([\d.]+)GHz", text)
        if match:
            clock_ghz = float(match.group(1))
        else:
            match = re.search(r"cpu MHz\s*:\s*([\d.]+)", text)
            clock_ghz = float(match.group(1)) / 1000 if match else None
    except OSError:
        pass
    if clock_ghz is None:
        return None
    return physical_cores() * SP_FLOPS_PER_CYCLE * clock_ghz


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _median_ms(run_steps, steps, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_steps(steps)
        times.append((time.perf_counter() - start) / steps * 1000)
    return statistics.median(times)


def benchmark(net_name, batch_size=64, image_size=96, mode="both", hybridize=True, steps=10,
              repeats=5, warmup=3, classes=10, ctx=None, use_amp=False):
    """A dict of figures for ``mode`` in ("train", "infer", "both") on one device.

    The training step is the trainer's own (``training.loop.train_step``). ``use_amp``
    switches the process to mixed precision (float16 on a GPU, bfloat16 on the CPU) for
    good: MXNet's AMP cannot be turned off again."""
    ctx = ctx or mx.cpu()
    precision = "float32"
    if use_amp:
        precision = amp_dtype([ctx])
        amp.init(target_dtype=precision)
    net = get_model(net_name, classes=classes)
    shape = (batch_size, net.in_channels, image_size, image_size)
    net.check_input_shape(shape, training=mode != "infer")
    macs = debug.summary(net, (1,) + shape[1:], printer=None)["macs"]
    net.initialize(mx.init.Xavier(), ctx=ctx)
    train_net = with_aux_outputs(net)
    data = mx.nd.random.uniform(shape=shape, ctx=ctx)
    label = mx.nd.array([i % classes for i in range(batch_size)], ctx=ctx)
    with autograd.predict_mode():
        train_net(data[:1])
    if hybridize:
        train_net.hybridize(static_alloc=True, static_shape=True)
        net.hybridize(static_alloc=True, static_shape=True)
    peak = cpu_peak_gflops() if ctx.device_type == "cpu" else None
    result = {"net": net_name, "batch_size": batch_size, "image_size": image_size,
              "device": str(ctx), "precision": precision,
              "hybridize": hybridize, "threads": os.environ.get("OMP_NUM_THREADS"),
              "forward_gmacs_per_image": macs / 1e9, "peak_gflops": peak}

    def report(kind, ms, flop_per_image):
        images = batch_size / (ms / 1000)
        gflops = images * flop_per_image / 1e9
        result[kind] = {"ms_per_step": ms, "images_per_sec": images, "gflops": gflops,
                        "share_of_peak": gflops / peak if peak else None}

    if mode in ("train", "both"):
        trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01},
                                update_on_kvstore=False if use_amp else None)
        if use_amp:
            amp.init_trainer(trainer)
        loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()

        def train_steps(count):
            for _ in range(count):
                train_step(train_net, trainer, loss_fn, data, label, [ctx], aux_weight=0.3,
                           amp_scaling=use_amp)
            mx.nd.waitall()
        train_steps(warmup)
        # forward + backward (gradients of inputs and weights) = 3 forward passes, 2 FLOP/MAC
        report("train", _median_ms(train_steps, steps, repeats), 6 * macs)

    if mode in ("infer", "both"):
        def infer_steps(count):
            for _ in range(count):
                as_float32(net(data)).wait_to_read()
        infer_steps(warmup)
        report("infer", _median_ms(infer_steps, steps, repeats), 2 * macs)
    result["peak_rss_mib"] = peak_rss_mib()
    return result


def format_result(result):
    lines = ["%s, batch %d, %dx%d px, %s, %s, %s, OMP_NUM_THREADS=%s" % (
        result["net"], result["batch_size"], result["image_size"], result["image_size"],
        result["device"], result["precision"],
        "hybridized" if result["hybridize"] else "imperative", result["threads"])]
    for kind in ("train", "infer"):
        if kind in result:
            figures = result[kind]
            share = ("%.1f%% of %.0f GFLOP/s peak" % (100 * figures["share_of_peak"],
                                                       result["peak_gflops"])
                     if figures["share_of_peak"] else "peak unknown")
            lines.append("  %-5s %8.1f images/s  %8.1f ms/step  %7.1f GFLOP/s  (%s)" % (
                kind, figures["images_per_sec"], figures["ms_per_step"], figures["gflops"],
                share))
    lines.append("  peak resident memory %.0f MiB" % result["peak_rss_mib"])
    return "\n".join(lines)
