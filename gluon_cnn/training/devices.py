"""Devices from ``--gpus``: empty for the CPU, "0,1" for GPUs (data-parallel)."""
import mxnet as mx

from ..errors import UserError


def contexts_from_flag(gpus):
    """[mx.cpu()] for "", else one mx.gpu(i) per listed id, checked against what exists."""
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
