"""Export a network as ``<prefix>-symbol.json`` + ``<prefix>-NNNN.params`` and load it back
with no model code (``gluon.SymbolBlock.imports``), MXNet's deployment format.

Beside them, ``<prefix>-preprocess.json`` records what a caller must do to an image before
the network sees it (input size, channels, scaling) and the class names, so that
``scripts/predict.py`` applies the training preprocessing without the training code.
"""
import json
import os
import warnings

import mxnet as mx
from mxnet import gluon

from .errors import UserError


def export(net, prefix, input_shape, epoch=0, ctx=None, class_names=None):
    """Hybridize ``net``, trace it on a zero batch of ``input_shape`` and export it.

    Training-only parts (GoogLeNet's auxiliary heads) are not in ``net(x)``'s graph, so
    they are not in the export. Returns (symbol file, params file).
    """
    ctx = ctx or mx.cpu()
    net.hybridize()
    net(mx.nd.zeros(input_shape, ctx=ctx))
    net.export(prefix, epoch=epoch)
    with open("%s-preprocess.json" % prefix, "w") as handle:
        json.dump({"image_size": input_shape[2], "channels": input_shape[1],
                   "layout": "NCHW", "pixel_scale": 1 / 255.0, "resize": "bilinear",
                   "classes": list(class_names) if class_names else None}, handle, indent=1)
    return "%s-symbol.json" % prefix, "%s-%04d.params" % (prefix, epoch)


def read_preprocessing(prefix):
    """The preprocessing an export was trained with, or None if it has no record of it."""
    path = "%s-preprocess.json" % prefix
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as handle:
            return json.load(handle)
    except ValueError:
        raise UserError("%s is not valid JSON; re-export the model." % path) from None


def export_checkpoint(run_dir, prefix=None, checkpoint_path=None):
    """Export a training run's checkpoint (default: its newest intact one) with no training."""
    from .models import get_model
    from .training import checkpoint
    if checkpoint_path is None:
        checkpoint_path, state = checkpoint.latest_valid(os.path.join(run_dir, "checkpoints"))
        if checkpoint_path is None:
            raise UserError("no intact checkpoint in %s/checkpoints." % run_dir)
    else:
        state = checkpoint.verify(checkpoint_path)
        if state is None:
            raise UserError("%s is not an intact checkpoint." % checkpoint_path)
    config = state["config"]
    net = get_model(config["net"], classes=config["classes"], in_channels=config["in_channels"])
    net.load_parameters(os.path.join(checkpoint_path, checkpoint.PARAMS), ctx=mx.cpu())
    prefix = prefix or os.path.join(run_dir, config["net"])
    size = config["image_size"]
    return export(net, prefix, (1, net.in_channels, size, size), epoch=state["epoch"],
                  class_names=config.get("class_names"))


def params_file(prefix, epoch=None):
    """The params file of an export: the given epoch, or the newest one on disk."""
    if epoch is not None:
        return "%s-%04d.params" % (prefix, epoch)
    folder, stem = os.path.split(prefix)
    found = sorted(name for name in os.listdir(folder or ".")
                   if name.startswith(stem + "-") and name.endswith(".params")
                   and name[len(stem) + 1:-len(".params")].isdigit())
    if not found:
        raise UserError("no %s-NNNN.params file next to %s-symbol.json." % (stem, prefix))
    return os.path.join(folder, found[-1])


def load_exported(prefix, epoch=None, ctx=None):
    """Load ``<prefix>-symbol.json`` and its params as a SymbolBlock (no model code)."""
    symbol_file = "%s-symbol.json" % prefix
    if not os.path.isfile(symbol_file):
        raise UserError("no exported model at %s (expected %s, written by scripts/train.py "
                        "or scripts/export.py)." % (prefix, symbol_file))
    params = params_file(prefix, epoch)
    if not os.path.isfile(params):
        raise UserError("missing parameters file %s for the export %s." % (params, symbol_file))
    with warnings.catch_warnings():
        # SymbolBlock cannot know the dtype of "data" before a batch arrives; harmless.
        warnings.filterwarnings("ignore", message="(?s)Cannot decide type")
        try:
            block = gluon.SymbolBlock.imports(symbol_file, ["data"], params, ctx=ctx or mx.cpu())
        except (mx.base.MXNetError, AssertionError, ValueError) as err:
            raise UserError("cannot load the export %s: %s" % (
                prefix, str(err).strip().splitlines()[0])) from None
    return block


def quantize_export(prefix, calibration_batch, out_prefix=None, epoch=None):
    """An INT8 copy of an FP32 export, calibrated on ``calibration_batch`` (a float NCHW
    NDArray preprocessed as in training), written as ``<out_prefix>-symbol.json`` and
    ``-0000.params``. oneDNN's quantized operators run it on the CPU; the min/max of every
    layer's output on the calibration batch fixes its INT8 scale ("naive" calibration)."""
    from mxnet.contrib.quantization import quantize_net_v2
    net = load_exported(prefix, epoch)
    out_prefix = out_prefix or prefix + "-int8"
    calibration = mx.io.NDArrayIter(data={"data": calibration_batch},
                                    batch_size=min(64, calibration_batch.shape[0]))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="(?s).*(deprecated|Cannot decide type)")
        quantized = quantize_net_v2(net, quantized_dtype="auto", quantize_mode="smart",
                                    calib_data=calibration, calib_mode="naive",
                                    num_calib_examples=calibration_batch.shape[0])
    quantized.hybridize(static_alloc=True, static_shape=True)
    quantized(calibration_batch[:1])
    quantized.export(out_prefix, epoch=0)
    recipe = read_preprocessing(prefix)
    if recipe:
        with open("%s-preprocess.json" % out_prefix, "w") as handle:
            json.dump(recipe, handle, indent=1)
    return "%s-symbol.json" % out_prefix, "%s-0000.params" % out_prefix
