"""Fine-tuning: a run that starts from trained weights (``train.py --pretrained SOURCE``).

SOURCE is a run folder of ours (its newest intact checkpoint; the weight average when the
run kept one) or an export: a prefix, a ``-symbol.json`` file, or a folder holding one
export. Weights imported from torchvision or timm (``scripts/import_weights.py``) are exports.

Every weight whose name and shape fit the run's network is loaded. A classifier for another
class count starts afresh, and one line says so; any other weight that does not fit is
refused in one sentence, as is a source trained as another network. The normalization the
weights were trained with comes with them: a source holding one (ImageNet's mean and std for
imported weights) makes the run normalize the same way, with the source's values.
"""
import dataclasses
import glob
import logging
import os

import mxnet as mx
from mxnet.gluon import nn

from .. import deploy
from ..errors import UserError
from ..paths import ExportFiles, RunFolder, file_digest
from . import checkpoint

log = logging.getLogger(__name__)


@dataclasses.dataclass
class PretrainedWeights:
    source: str  # as the user gave it
    file: str  # the parameters file read
    net: str  # the network the weights belong to, when the source records it
    arrays: dict  # name -> NDArray
    structural: bool  # names as save_parameters writes them ("features.0.0.weight"), not
    # as an export does ("conv0_weight")

    @property
    def normalize(self):
        """The input normalization the weights were trained with."""
        if self.structural:
            return ("channel" if "input_normalization.std" in self.arrays else
                    "pixel" if "input_normalization.mean" in self.arrays else "none")
        return deploy.normalization_of(self.arrays)

    def record(self):
        """What config.json keeps of the source."""
        return {"source": self.source, "file": os.path.abspath(self.file), "net": self.net,
                "sha256": file_digest(self.file)}


def _export_prefix(source):
    if source.endswith("-symbol.json"):
        return ExportFiles.of_symbol_file(source).prefix
    if os.path.isdir(source):
        symbols = sorted(glob.glob(os.path.join(source, "*-symbol.json")))
        symbols = [path for path in symbols if not path.endswith("-int8-symbol.json")]
        if len(symbols) != 1:
            raise UserError("--pretrained %s: the folder holds %s; give the export's prefix."
                            % (source, "no export (*-symbol.json) and no run" if not symbols
                               else "%d exports" % len(symbols)))
        return ExportFiles.of_symbol_file(symbols[0]).prefix
    return source


def read_pretrained(source):
    """The weights of ``source``, a run folder or an export."""
    folder = RunFolder(source)
    if os.path.isdir(source) and os.path.isfile(folder.config):
        path, state = checkpoint.latest_valid(folder.checkpoints)
        if path is None:
            raise UserError("--pretrained %s: the run holds no intact checkpoint to start from."
                            % source)
        params = os.path.join(path, checkpoint.PARAMS)
        arrays = mx.nd.load(params)
        average = os.path.join(path, checkpoint.AVERAGE)
        if os.path.isfile(average):  # the weights the run evaluated and exported
            arrays.update((name, array) for name, array in mx.nd.load(average).items()
                          if name != "__updates__")
        return PretrainedWeights(source, params, state["config"].get("net"), arrays, True)
    prefix = _export_prefix(source)
    if not os.path.isfile(ExportFiles(prefix).symbol):
        raise UserError("--pretrained %s is neither a run folder (with config.json) nor an "
                        "export (PREFIX-symbol.json + PREFIX-NNNN.params)." % source)
    recipe = deploy.read_preprocessing(prefix) or {}
    return PretrainedWeights(source, deploy.params_file(prefix),
                             recipe.get("net"), deploy.read_export_parameters(prefix), False)


def settings_for(config, weights):
    """``config`` with the normalization of ``weights``; refuses a source trained as another
    network or normalized otherwise."""
    if weights.net and weights.net != config.net:
        raise UserError("--pretrained %s holds %s weights, but --net is %s; pass --net %s."
                        % (weights.source, weights.net, config.net, weights.net))
    normalize = weights.normalize
    if normalize == "none" or normalize == config.normalize:
        return config
    if config.normalize != "none":
        raise UserError("--pretrained %s was trained with --normalize %s; drop --normalize %s "
                        "(the weights bring their own)." % (weights.source, normalize,
                                                          config.normalize))
    log.info("--pretrained: the weights were trained with %s normalization; this run uses it, "
             "with their values.", normalize)
    return dataclasses.replace(config, normalize=normalize)


def final_layer(net):
    """The last Dense layer of the network's head: the one a new class count replaces."""
    dense = [block for block in _blocks(net.output) if isinstance(block, nn.Dense)]
    return dense[-1]


def _blocks(block):
    yield block
    for child in block._children.values():
        yield from _blocks(child)


def load_into(net, weights, lr_mult=1.0):
    """Copy every fitting weight into ``net``, the final layer too when its class count
    matches; ``lr_mult`` on every loaded parameter. Returns the names left as initialized."""
    if weights.structural:
        params = net._collect_params_with_prefix()
    else:
        params = {name[len(net.prefix):]: param for name, param in net.collect_params().items()}
    final = final_layer(net)
    final_params = {id(final.weight), id(final.bias) if final.bias is not None else None}
    fresh = []
    for name, param in params.items():
        array = weights.arrays.get(name)
        in_head = id(param) in final_params
        normalization = name.startswith("input_")
        if array is None and ("aux" in name or normalization):
            fresh.append(name)  # training-only heads are not exported; statistics from data
            continue
        if array is None:
            raise UserError("--pretrained %s has no weight %s for %s: it holds another "
                            "network's weights." % (weights.source, name, net.model_name))
        if tuple(array.shape) != tuple(param.shape):
            if in_head or normalization:
                fresh.append(name)
                continue
            raise UserError("--pretrained %s does not fit %s: %s is %s there and %s here; "
                            "train at the image size the weights were trained at." % (
                                weights.source, net.model_name, name,
                                "x".join(map(str, array.shape)),
                                "x".join(map(str, param.shape))))
        param.set_data(array)
        param.lr_mult = lr_mult
    head = [name for name in fresh if id(params[name]) in final_params]
    if head:
        log.info("--pretrained: the weights' classifier has %d classes and this run %d: the "
                 "final layer (%s) starts freshly initialized.",
                 weights.arrays[head[0]].shape[0], final.weight.shape[0], ", ".join(head))
    return fresh


def freeze_features(net):
    """Only the head trains: the feature extractor's parameters get no gradient, and its
    batch norm layers normalize with their stored statistics instead of the batch's."""
    for param in net.features.collect_params().values():
        param.grad_req = "null"
    for block in _blocks(net.features):
        if isinstance(block, nn.BatchNorm):
            block._kwargs["use_global_stats"] = True
