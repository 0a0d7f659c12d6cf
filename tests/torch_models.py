"""torchvision and timm as references, beside a CPU torch they were not built for.

The registry's torchvision 0.28.0 is a CUDA build: beside the CPU torch 2.13.0 its compiled
operators (NMS, RoI pooling) do not load, and ``import torchvision`` fails where it registers
a Python fake for ``torchvision::nms`` and ``torchvision::qnms``, operators that would have
come from that library ("operator torchvision::nms does not exist"). The model definitions
need none of them: declaring the two operators' schemas first lets the import finish, and
calling them would still fail. With a torchvision built for the installed torch (on a machine
with internet: ``pip install torch torchvision --index-url
https://download.pytorch.org/whl/cpu``) the first import simply succeeds.
"""
import sys

import torch

FAKED_OPERATORS = ("nms", "qnms")


def import_torchvision():
    try:
        import torchvision
    except RuntimeError as err:
        if "torchvision::" not in str(err):
            raise
        for name in [module for module in sys.modules if module.startswith("torchvision")]:
            del sys.modules[name]
        for operator in FAKED_OPERATORS:
            torch.library.define("torchvision::" + operator,
                                 "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        import torchvision
    return torchvision


def import_timm():
    import_torchvision()  # timm imports torchvision
    import timm
    return timm


def with_random_statistics(model, seed=0):
    """``model`` in inference mode with its batch norms' scale, shift and running statistics
    drawn at random (torch starts them at 1, 0, 0, 1), so that a mapping that swapped or
    dropped any of them shows in the outputs."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                for tensor, low in ((module.weight, 0.5), (module.bias, -0.5),
                                    (module.running_mean, -0.5), (module.running_var, 0.5)):
                    tensor.copy_(torch.rand(tensor.shape, generator=generator) + low)
    return model.eval()
