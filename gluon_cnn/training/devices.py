"""Devices from ``--gpus`` ("0,1": those GPUs, data-parallel; empty: the CPU) or ``--ctx``
("cpu:0,cpu:1": any list of MXNet contexts, which is how the several-device code path runs
on a machine without GPUs)."""
import mxnet as mx

from .._env import read_cpuinfo
from ..errors import UserError

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
    return [mx.gpu(i) for i in ids]


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
