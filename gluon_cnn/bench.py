"""Throughput of a zoo network on this machine: training steps and inference, images per
second, achieved FLOP/s against the CPU's peak, and peak resident memory.

A benchmark prints figures; nothing here is a test. Run it on an otherwise idle machine and
read medians: each figure is the median of ``repeats`` timed runs of ``steps`` steps.
"""
import os
import resource
import statistics
import time

import mxnet as mx
from mxnet import gluon

from . import debug
from ._env import physical_cores, read_cpuinfo
from .models import get_model
from .training.step import (as_float32, build_for_training, make_trainer, start_amp,
                            train_step)

GEMM_SIZE = 4096  # the matrix product among the kernels that measure the achievable peak


def flops_per_cycle(flags, model=""):
    """(single-precision FLOP per cycle per core, what it assumes) for the widest vector
    unit the CPU reports: vector width x 2 (a fused multiply-add) x FMA units."""
    if "avx512f" in flags:
        if "AMD" in model:  # Zen 4 runs AVX-512 on 256-bit units
            return 32, "AVX-512 on 256-bit units (AMD): 2 x 8-wide FMA"
        return 64, "AVX-512: 2 x 16-wide FMA units (Xeon Scalable; 1-unit parts reach half)"
    if "avx2" in flags and "fma" in flags:
        return 32, "AVX2: 2 x 8-wide FMA units"
    if "avx" in flags:
        return 16, "AVX: 8-wide multiply + 8-wide add"
    return 8, "SSE: 4-wide multiply + 4-wide add"


def cpu_peak_gflops(cpuinfo_text=None, cores=None, at_least=None):
    """(theoretical single-precision peak in GFLOP/s or None, how it was computed).

    The clock is the nominal one /proc/cpuinfo gives. Cores that boost above it can do
    more: when ``at_least`` (a rate this machine was measured to reach) exceeds the peak at
    the nominal clock, the peak is taken at the clock that rate needs at the least."""
    model, flags, ghz = read_cpuinfo(cpuinfo_text)
    per_cycle, unit = flops_per_cycle(flags, model)
    cores = cores or physical_cores()
    if ghz is None:
        return None, "clock unknown"
    clock = "%.2f GHz" % ghz
    if at_least and at_least > cores * per_cycle * ghz:
        running = at_least / (cores * per_cycle)
        clock = ("%.2f GHz (nominal %.2f GHz; the measured peak needs at least %.2f, so the "
                 "cores run above the nominal clock)" % (running, ghz, running))
        ghz = running
    return cores * per_cycle * ghz, "%d cores x %d FLOP/cycle (%s) x %s" % (
        cores, per_cycle, unit, clock)


_MEASURED_PEAK = {}


# The kernels the measured peak is the best of: oneDNN's matrix product (FullyConnected;
# mx.nd.dot goes to the BLAS, 3x slower here) and its 3x3 convolution, each large enough
# to run near the machine's best: a 2048-wide product alone ran slower than a network's own
# convolutions on Zen 4 cores (results/bench/peak_amd_epyc.txt).
PEAK_KERNELS = {
    "float32 %dx%d matrix product (FullyConnected)" % (GEMM_SIZE, GEMM_SIZE): (
        lambda ctx: (mx.nd.random.uniform(shape=(GEMM_SIZE, GEMM_SIZE), ctx=ctx),
                     mx.nd.random.uniform(shape=(GEMM_SIZE, GEMM_SIZE), ctx=ctx)),
        lambda a, w: mx.nd.FullyConnected(a, w, no_bias=True, num_hidden=GEMM_SIZE),
        2 * GEMM_SIZE ** 3),
    "float32 3x3 convolution, 256 -> 256 channels, 64 x 24 x 24": (
        lambda ctx: (mx.nd.random.uniform(shape=(64, 256, 24, 24), ctx=ctx),
                     mx.nd.random.uniform(shape=(256, 256, 3, 3), ctx=ctx)),
        lambda x, w: mx.nd.Convolution(x, w, kernel=(3, 3), pad=(1, 1), num_filter=256,
                                       no_bias=True),
        2 * 64 * 256 * 256 * 9 * 24 * 24),
}


def measured_peak_gflops(ctx=None, repeats=5):
    """(GFLOP/s, which kernel): the best this process achieves through MXNet (oneDNN on the
    CPU) over PEAK_KERNELS, each the fastest of ``repeats`` runs (a peak is a best, not a
    typical figure); measured once per device."""
    ctx = ctx or mx.cpu()
    key = str(ctx)
    if key not in _MEASURED_PEAK:
        rates = {}
        for name, (make_inputs, kernel, flop) in PEAK_KERNELS.items():
            inputs = make_inputs(ctx)
            kernel(*inputs).wait_to_read()  # warm-up
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                kernel(*inputs).wait_to_read()
                times.append(time.perf_counter() - start)
            rates[name] = flop / min(times) / 1e9
        best = max(rates, key=rates.get)
        _MEASURED_PEAK[key] = rates[best], best
    return _MEASURED_PEAK[key]


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _median_ms(run_steps, steps, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_steps(steps)
        times.append((time.perf_counter() - start) / steps * 1000)
    return statistics.median(times)


class Workload:
    """A zoo network on one device with a fixed random batch, built once and ready to time.

    ``train_step()`` runs the trainer's own step (``training.step.train_step``: forward with
    the auxiliary heads, softmax cross-entropy, backward, SGD update, the loss read back);
    ``infer()`` runs ``net(x)`` and waits for it."""

    def __init__(self, net_name, batch_size=64, image_size=96, hybridize=True, classes=10,
                 ctx=None, training=True, use_amp=False):
        self.ctx = ctx or mx.cpu()
        plain = get_model(net_name, classes=classes)
        shape = (batch_size, plain.in_channels, image_size, image_size)
        plain.check_input_shape(shape, training=training)
        self.forward_macs = debug.summary(plain, (1,) + shape[1:], printer=None)["macs"]
        self.net, self.train_net = build_for_training(net_name, classes, plain.in_channels,
                                                      image_size, mx.init.Xavier(), [self.ctx],
                                                      hybridize)
        self.data = mx.nd.random.uniform(shape=shape, ctx=self.ctx)
        self.label = mx.nd.array([i % classes for i in range(batch_size)], ctx=self.ctx)
        self.use_amp = use_amp
        self.trainer = None
        self.loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()

    def train_step(self):
        if self.trainer is None:
            self.trainer = make_trainer(self.net, "sgd", {"learning_rate": 0.01},
                                        use_amp=self.use_amp)
        return train_step(self.train_net, self.trainer, self.loss_fn, self.data, self.label,
                          [self.ctx], aux_weight=0.3, amp_scaling=self.use_amp)

    def infer(self):
        as_float32(self.net(self.data)).wait_to_read()


def benchmark(net_name, batch_size=64, image_size=96, mode="both", hybridize=True, steps=10,
              repeats=5, warmup=3, classes=10, ctx=None, use_amp=False):
    """A dict of figures for ``mode`` in ("train", "infer", "both") on one device.

    The training step is the trainer's own (``training.step.train_step``). ``use_amp``
    switches the process to mixed precision (float16 on a GPU, bfloat16 on the CPU) for
    good: MXNet's AMP cannot be turned off again."""
    ctx = ctx or mx.cpu()
    precision = "float32"
    if use_amp:  # before the network is built: AMP rewrites MXNet's operator functions
        precision = start_amp([ctx])
    work = Workload(net_name, batch_size, image_size, hybridize, classes, ctx,
                    training=mode != "infer", use_amp=use_amp)
    macs = work.forward_macs
    achievable, achievable_basis = measured_peak_gflops(ctx)
    peak, peak_basis = (cpu_peak_gflops(at_least=achievable) if ctx.device_type == "cpu"
                        else (None, "not known for %s" % ctx))
    result = {"net": net_name, "batch_size": batch_size, "image_size": image_size,
              "device": str(ctx), "cpu": read_cpuinfo()[0] if ctx.device_type == "cpu" else None,
              "precision": precision,
              "hybridize": hybridize, "threads": os.environ.get("OMP_NUM_THREADS"),
              "forward_gmacs_per_image": macs / 1e9, "peak_gflops": peak,
              "peak_basis": peak_basis, "measured_peak_gflops": achievable,
              # the nominal clock's peak was below the measured rate, so it was raised to it
              "peak_raised_to_measured": bool(peak) and peak <= achievable * (1 + 1e-9),
              "measured_peak_basis": "%s through oneDNN, fastest of 5 runs (the faster of: %s)"
                                     % (achievable_basis, "; ".join(PEAK_KERNELS))}

    def report(kind, ms, flop_per_image):
        images = batch_size / (ms / 1000)
        gflops = images * flop_per_image / 1e9
        result[kind] = {"ms_per_step": ms, "images_per_sec": images, "gflops": gflops,
                        "share_of_peak": gflops / peak if peak else None,
                        "share_of_measured_peak": gflops / achievable}

    def repeat(step):
        def run_steps(count):
            for _ in range(count):
                step()
            mx.nd.waitall()
        run_steps(warmup)
        return _median_ms(run_steps, steps, repeats)

    if mode in ("train", "both"):
        # forward + backward (gradients of inputs and weights) = 3 forward passes, 2 FLOP/MAC
        report("train", repeat(work.train_step), 6 * macs)
    if mode in ("infer", "both"):
        report("infer", repeat(work.infer), 2 * macs)
    result["peak_rss_mib"] = peak_rss_mib()
    return result


def format_result(result):
    lines = ["%s, batch %d, %dx%d px, %s%s, %s, %s, OMP_NUM_THREADS=%s" % (
        result["net"], result["batch_size"], result["image_size"], result["image_size"],
        result["device"], " (%s)" % result["cpu"] if result.get("cpu") else "",
        result["precision"], "hybridized" if result["hybridize"] else "imperative",
        result["threads"])]
    for kind in ("train", "infer"):
        if kind in result:
            figures = result[kind]
            shares = ["%.1f%% of the %.0f GFLOP/s measured" % (
                100 * figures["share_of_measured_peak"], result["measured_peak_gflops"])]
            if figures["share_of_peak"]:
                shares.append("%.1f%% of the %.0f GFLOP/s theoretical peak" % (
                    100 * figures["share_of_peak"], result["peak_gflops"]))
            lines.append("  %-5s %8.1f images/s  %8.1f ms/step  %7.1f GFLOP/s  (%s)" % (
                kind, figures["images_per_sec"], figures["ms_per_step"], figures["gflops"],
                "; ".join(shares)))
    lines.append("  theoretical peak: %s%s" % (
        result["peak_basis"], "; raised to the measured peak, so the two shares above are "
        "equal by construction" if result.get("peak_raised_to_measured") else ""))
    lines.append("  measured peak: %.0f GFLOP/s, %s" % (result["measured_peak_gflops"],
                                                       result["measured_peak_basis"]))
    lines.append("  peak resident memory %.0f MiB" % result["peak_rss_mib"])
    return "\n".join(lines)
