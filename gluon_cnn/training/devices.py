"""Devices from ``--gpus`` ("0,1": those GPUs, data-parallel; empty: the CPU) or ``--ctx``
("cpu:0,cpu:1": any list of MXNet contexts, which is how the several-device code path runs
on a machine without GPUs)."""
import logging

import mxnet as mx

from .._env import read_cpuinfo
from .._gpu_arch import (DriverQueryError, cached_architectures, family_of,
                         format_capabilities, query_gpu, runs_on)
from ..errors import UserError

log = logging.getLogger(__name__)

# oneDNN's bfloat16 kernels need AVX-512's core subset (with AVX512-BF16 or AMX they are
# native, without it emulated); on an AVX2-only CPU it has no bfloat16 convolution at all.
BFLOAT16_CPU_FLAGS = {"avx512f", "avx512bw", "avx512vl", "avx512dq"}


def contexts_from_flag(gpus, ctx=""):
    """[mx.cpu()] for "", else one mx.gpu(i) per listed id, checked against what exists."""
    if ctx.strip():
        if gpus.strip():
            raise UserError("give either --gpus or --ctx, not both.")
        return parse_contexts(ctx)
    if not gpus.strip():
        return [mx.cpu()]
    try:
        ids = [int(part) for part in gpus.split(",") if part.strip()]
    except ValueError:
        raise UserError("--gpus takes comma-separated GPU ids such as 0,1; got '%s'." % gpus) \
            from None
    available = mx.context.num_gpus() if mx.runtime.Features().is_enabled("CUDA") else 0
    if not mx.runtime.Features().is_enabled("CUDA"):
        raise UserError("--gpus %s asks for GPUs but this mxnet is the CPU build; install the "
                        "GPU build with pip install -e '.[gpu]' (after pip uninstall mxnet), "
                        "or leave --gpus empty." % gpus)
    missing = [i for i in ids if i < 0 or i >= available]
    if missing:
        raise UserError("--gpus names GPU %s but this machine has %d GPU(s)."
                        % (",".join(map(str, missing)), available))
    for index in ids:
        check_gpu_runs_this_build(index)
    return [mx.gpu(i) for i in ids]


def check_gpu_runs_this_build(index, query=query_gpu, library=None):
    """Refuse, in one sentence, a GPU that the installed MXNet has no code for (it would
    fail in its first kernel with "no kernel image is available"). The GPU is named by the
    driver; the code MXNet carries is read from its libmxnet.so. When the driver cannot be
    asked, say so and let MXNet try."""
    try:
        name, capability = query(index)
    except DriverQueryError as err:
        log.warning("could not ask the driver which GPU %d is (%s); if MXNet fails with "
                    "'no kernel image is available', this build has no code for it (python "
                    "benchmarks/check_gpu_install.py says which GPUs it runs on).", index, err)
        return
    library = library or mx.libinfo.find_lib_path()[0]
    architectures = cached_architectures(library)
    if not runs_on(capability, architectures):
        raise UserError(
            "GPU %d, %s, has compute capability %d.%d (%s), and the installed MXNet %s has "
            "GPU code for %s only: it cannot run there. Train on the CPU (leave out --gpus) "
            "or on a GPU of those generations; %s."
            % (index, name, capability[0], capability[1], family_of(capability),
               mx.__version__, format_capabilities(architectures),
               "no MXNet release has code for a GPU this new"
               if tuple(capability) > max(architectures.cubins + architectures.ptx, default=(0, 0))
               else "this build has none for a GPU this old"))


def parse_contexts(text):
    """"cpu:0,cpu:1" or "gpu:0,gpu:1" -> contexts (GPUs checked as for --gpus)."""
    contexts = []
    for part in text.split(","):
        kind, _, number = part.strip().partition(":")
        if kind not in ("cpu", "gpu") or not (number or "0").isdigit():
            raise UserError("--ctx takes devices such as cpu:0,cpu:1 or gpu:0,gpu:1; got '%s'."
                            % text)
        if kind == "gpu":
            contexts += contexts_from_flag(number or "0")
        else:
            contexts.append(mx.cpu(int(number or 0)))
    if len(set(contexts)) != len(contexts):
        raise UserError("--ctx lists a device twice: '%s'." % text)
    return contexts


def amp_dtype(contexts, cpuinfo=None):
    """The low precision of ``--amp`` on these devices: float16 on GPUs (tensor cores,
    with dynamic loss scaling), bfloat16 on the CPU, where MXNet has no float16 matrix
    product but oneDNN runs bfloat16 convolutions on AVX-512 CPUs. ``cpuinfo``: the text
    of /proc/cpuinfo, read when None."""
    if all(context.device_type == "gpu" for context in contexts):
        return "float16"
    if any(context.device_type == "gpu" for context in contexts):
        raise UserError("--amp needs all devices of one kind; --ctx mixes CPU and GPU.")
    if not mx.runtime.Features().is_enabled("MKLDNN"):
        raise UserError("--amp on the CPU needs an mxnet built with oneDNN (MKLDNN), which "
                        "runs bfloat16; this build has none.")
    model, flags, _ = read_cpuinfo(cpuinfo)
    if flags and not BFLOAT16_CPU_FLAGS <= flags:  # no flags (not Linux): let oneDNN decide
        raise UserError("--amp on the CPU computes in bfloat16, which oneDNN runs only on "
                        "CPUs with AVX-512, and this one (%s) lacks it: leave out --amp "
                        "(float32)." % model)
    return "bfloat16"
