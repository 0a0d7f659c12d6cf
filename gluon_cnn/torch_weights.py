"""Import torchvision's and timm's ImageNet weights into the zoo.

A state dict is read from a ``.safetensors`` file (the safetensors package, no torch needed)
or from a torch ``.pth`` file (only when torch is installed, and only with
``weights_only=True``: nothing is unpickled). Each tensor is mapped by its name onto one
parameter of the zoo network, its shape checked, and the network written as our export
(``symbol.json`` + ``params``) with the preprocessing the weights expect: the ImageNet mean
and standard deviation (inside the graph, as ``--normalize channel`` does), the input size
and torchvision's centre crop (shorter side to 256, centre 224), in ``preprocess.json``.

The name maps are built from the same architecture tables as the networks (VGG's
configurations, ResNet's stage specs, AlexNet's convolution list), so they cannot drift apart.
Only networks laid out exactly as torchvision's are importable (``IMPORTABLE``); the others
say why not and name the one to use (``NOT_IMPORTABLE``).
"""
import collections
import os
import pickle

import numpy as np

from . import deploy
from .errors import UserError
from .models import get_model
from .models.alexnet import OWT_CONVS
from .models.blocks import BasicBlock
from .models.resnet import RESNET_SPECS
from .models.vgg import VGG_CONFIGS
from .paths import file_digest

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# torchvision's and timm's evaluation transform: shorter side to 256, then the centre 224
IMAGENET_CENTER_CROP = 0.875
# counters of torch's BatchNorm that no forward pass reads
UNUSED_BUFFERS = ("num_batches_tracked",)
BATCH_NORM_NAMES = {"weight": "gamma", "bias": "beta", "running_mean": "running_mean",
                    "running_var": "running_var"}

NOT_IMPORTABLE = {
    "alexnet": "the paper's AlexNet has 96 first-layer filters and response normalization, "
               "torchvision's 64 and none: import into alexnet_owt, torchvision's layout",
    "resnet50": "its bottlenecks stride on the first 1x1 convolution as in the paper, "
                "torchvision's and timm's on the 3x3: import into resnet50_v1_5",
    "resnet101": "its bottlenecks stride on the first 1x1 convolution as in the paper, "
                 "torchvision's and timm's on the 3x3: import into resnet101_v1_5",
    "resnet152": "its bottlenecks stride on the first 1x1 convolution as in the paper, "
                 "torchvision's and timm's on the 3x3: import into resnet152_v1_5",
    "googlenet": "it is the Gluon tutorial's 96-px GoogLeNet, which no library publishes "
                 "weights for",
    "googlenet_paper": "torchvision's GoogLeNet has batch norm after every convolution and "
                       "3x3 convolutions where the paper's third branch has 5x5; no zoo "
                       "network has its layout",
    "googlenet_bn": "torchvision's GoogLeNet has 3x3 convolutions where the paper's third "
                    "branch has 5x5, and other auxiliary heads; no zoo network has its layout",
}


def _batch_norm(source, ours):
    return {"%s.%s" % (source, name): "%s.%s" % (ours, our_name)
            for name, our_name in BATCH_NORM_NAMES.items()}


def _layer(source, ours, bias=True):
    names = {source + ".weight": ours + ".weight"}
    if bias:
        names[source + ".bias"] = ours + ".bias"
    return names


def _resnet_names(depth):
    """torchvision's (and timm's) ResNet names -> ours, from the stage spec of Table 1."""
    block, counts = RESNET_SPECS[depth]
    convs = 2 if block is BasicBlock else 3
    names = dict(_layer("conv1", "features.0.0.0", bias=False),
                 **_batch_norm("bn1", "features.0.0.1"), **_layer("fc", "output"))
    for stage, count in enumerate(counts, 1):
        for position in range(count):
            source, ours = "layer%d.%d" % (stage, position), "features.%d.%d" % (stage, position)
            for conv in range(convs):
                names.update(_layer("%s.conv%d" % (source, conv + 1),
                                    "%s.body.%d.0" % (ours, conv), bias=False))
                names.update(_batch_norm("%s.bn%d" % (source, conv + 1),
                                         "%s.body.%d.1" % (ours, conv)))
            if position == 0:  # the projection shortcut, where the stage changes the shape
                names.update(_layer(source + ".downsample.0", ours + ".shortcut.0", bias=False))
                names.update(_batch_norm(source + ".downsample.1", ours + ".shortcut.1"))
    return names


def _vgg_names(config, batch_norm):
    """torchvision's and timm's VGG names -> ours, from the configuration of Table 1: their
    ``features`` is one sequence of conv, (batch norm,) ReLU and pool layers."""
    names, index, stage, position = {}, 0, 0, 0
    for width in VGG_CONFIGS[config]:
        if width == "M":
            index, stage, position = index + 1, stage + 1, 0
            continue
        ours = "features.%d.%d" % (stage, position)
        if batch_norm:
            names.update(_layer("features.%d" % index, ours + ".0"))
            names.update(_batch_norm("features.%d" % (index + 1), ours + ".1"))
        else:
            names.update(_layer("features.%d" % index, ours))
        index += 3 if batch_norm else 2
        position += 1
    # torchvision's classifier (Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear) and
    # timm's (fc1 and fc2 as 7x7 and 1x1 convolutions, then the head)
    for torchvision_name, timm_name, ours in (("classifier.0", "pre_logits.fc1", "output.1"),
                                              ("classifier.3", "pre_logits.fc2", "output.3"),
                                              ("classifier.6", "head.fc", "output.5")):
        names.update(_layer(torchvision_name, ours))
        names.update(_layer(timm_name, ours))
    return names


def _alexnet_owt_names():
    """torchvision's AlexNet names -> ours: conv and ReLU, and a pool where the table says."""
    names, index = {}, 0
    for stage, (_, _, _, _, after) in enumerate(OWT_CONVS):
        names.update(_layer("features.%d" % index, "features.%d.0" % stage))
        index += 3 if "pool" in after else 2
    for source, ours in (("classifier.1", "output.1"), ("classifier.4", "output.3"),
                         ("classifier.6", "output.5")):
        names.update(_layer(source, ours))
    return names


IMPORTABLE = collections.OrderedDict(
    [("alexnet_owt", _alexnet_owt_names)]
    + [(name + suffix, (lambda config=config, bn=bool(suffix): _vgg_names(config, bn)))
       for name, config in (("vgg11", "A"), ("vgg13", "B"), ("vgg16", "D"), ("vgg19", "E"))
       for suffix in ("", "_bn")]
    + [("resnet%d" % depth, (lambda depth=depth: _resnet_names(depth))) for depth in (18, 34)]
    + [("resnet%d_v1_5" % depth, (lambda depth=depth: _resnet_names(depth)))
       for depth in (50, 101, 152)])


def check_importable(net_name):
    """Refuse, in one sentence, a zoo network that torchvision's weights do not fit."""
    if net_name in IMPORTABLE:
        return
    reason = NOT_IMPORTABLE.get(net_name, "no library publishes ImageNet weights for it")
    raise UserError("%s cannot take torchvision's or timm's weights: %s (importable: %s)."
                    % (net_name, reason, ", ".join(IMPORTABLE)))


def _read_torch_file(path):
    try:
        import torch
    except ImportError:
        raise UserError("%s is a torch file, which needs torch to read; install torch, or save "
                        "the weights as .safetensors (docs/finetuning.md)." % path) from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, ValueError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError("cannot read %s as a torch state dict with weights_only=True: %s"
                        % (path, first)) from None
    # a training checkpoint (timm's) keeps the weights under "state_dict"
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise UserError("%s holds a %s, not a state dict of named tensors."
                        % (path, type(state).__name__))
    return collections.OrderedDict((name, tensor.detach().float().numpy())
                                   for name, tensor in state.items()
                                   if isinstance(tensor, torch.Tensor))


def read_state_dict(path):
    """name -> float32 numpy array, in the file's order."""
    if not os.path.isfile(path):
        raise UserError("no such weights file: %s." % path)
    if path.endswith((".pth", ".pt", ".bin")):
        state = _read_torch_file(path)
    elif path.endswith(".safetensors"):
        from safetensors import SafetensorError
        from safetensors.numpy import load_file
        try:
            state = load_file(path)
        except (SafetensorError, ValueError, TypeError) as err:
            raise UserError("cannot read %s as safetensors: %s" % (path, err)) from None
        state = collections.OrderedDict((name, array.astype(np.float32, copy=False))
                                        for name, array in state.items())
    else:
        raise UserError("%s: weights files end in .safetensors, or .pth (torch); got %s."
                        % (path, os.path.splitext(path)[1] or "no extension"))
    if not state:
        raise UserError("%s holds no tensors." % path)
    return state


def _fitted(array, shape, source_name, our_name, net_name):
    """``array`` in our parameter's ``shape``: as it is, or a convolution's weight flattened
    for our dense layer (timm's VGG keeps its FC layers as 7x7 and 1x1 convolutions)."""
    if array.shape == shape:
        return array
    if len(shape) == 2 and array.ndim == 4 and array.shape[0] == shape[0] and (
            int(np.prod(array.shape[1:])) == shape[1]):
        return array.reshape(shape)
    raise UserError("%s does not fit %s: %s has shape %s where %s needs %s." % (
        source_name, net_name, source_name, "x".join(map(str, array.shape)), our_name,
        "x".join(map(str, shape))))


def build_imported(net_name, state, image_size=None):
    """(net, classes): the zoo network ``net_name`` holding the weights of ``state``, with
    the ImageNet normalization inside it; its class count is the file's. Refuses (one sentence) the
    first tensor that has no place in it or does not fit, and the first parameter left
    without a tensor."""
    import mxnet as mx
    check_importable(net_name)
    names = IMPORTABLE[net_name]()
    weights = collections.OrderedDict((name, array) for name, array in state.items()
                                      if name.rsplit(".", 1)[-1] not in UNUSED_BUFFERS)
    for name in weights:
        if name not in names:
            raise UserError("%s has no place for the tensor %s of the file; is it a %s "
                            "state dict from torchvision or timm?" % (net_name, name, net_name))
    classifier = [source for source, ours in names.items()
                  if ours == "output.5.weight" or ours == "output.weight"]
    found = [name for name in classifier if name in weights]
    if not found:
        raise UserError("the file has no classifier weight (%s) for %s."
                        % (" or ".join(classifier), net_name))
    classes = weights[found[0]].shape[0]
    net = get_model(net_name, classes=classes, normalize="channel", image_size=image_size)
    size = image_size or net.canonical_size
    net.initialize(mx.init.Zero())  # every value is overwritten: the cheapest initializer
    net(mx.nd.zeros((1, net.in_channels, size, size)))
    params = net._collect_params_with_prefix()
    filled = set()
    for source, array in weights.items():
        ours = names[source]
        if ours in filled:
            raise UserError("the file holds two tensors for %s's %s (torchvision's and "
                            "timm's names mixed?): %s is the second." % (net_name, ours, source))
        param = params[ours]
        fitted = np.ascontiguousarray(_fitted(array, param.shape, source, ours, net_name))
        # a view of the numpy array, copied into the parameter: several times faster than
        # mx.nd.array for VGG's 400 MB layers; waitall below finishes the copies while
        # ``weights`` still holds the arrays
        param.set_data(mx.nd.from_numpy(fitted, zero_copy=True))
        filled.add(ours)
    mx.nd.waitall()
    for ours in params:
        if ours not in filled and not ours.startswith("input_normalization."):
            source = [name for name, target in names.items() if target == ours]
            raise UserError("the file has no tensor for %s's %s (%s)."
                            % (net_name, ours, " or ".join(source)))
    net.input_normalization.set_statistics(mx.nd.array(IMAGENET_MEAN), mx.nd.array(IMAGENET_STD))
    return net, classes


def import_weights(net_name, weights_file, prefix, class_names=None, image_size=None,
                   center_crop=IMAGENET_CENTER_CROP):
    """Read ``weights_file``, build ``net_name`` with its weights and export it to ``prefix``
    (``center_crop``: the share of the shorter side that prediction keeps). Returns (net,
    symbol file, params file)."""
    check_importable(net_name)
    net, classes = build_imported(net_name, read_state_dict(weights_file), image_size)
    if class_names is not None and len(class_names) != classes:
        raise UserError("%d class names for weights with %d classes." % (len(class_names),
                                                                        classes))
    size = image_size or net.canonical_size
    symbol_file, params_file = deploy.export(
        net, prefix, (1, net.in_channels, size, size), class_names=class_names,
        preprocessing={"center_crop": center_crop,
                       "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
                       "normalized_inside": True,
                       "imported_from": {"file": os.path.abspath(weights_file),
                                         "sha256": file_digest(weights_file)}})
    return net, symbol_file, params_file
