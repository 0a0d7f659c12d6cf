"""Export a network as ``<prefix>-symbol.json`` + ``<prefix>-NNNN.params`` and load it back
with no model code (``gluon.SymbolBlock.imports``), MXNet's deployment format.

``export_onnx`` converts such an export to ``<prefix>.onnx`` (MXNet's own ``mx.onnx`` exporter)
for runtimes beyond MXNet, and ``load_predictor`` runs either kind: MXNet exports through
MXNet, ``.onnx`` files through onnxruntime.

Beside them, ``<prefix>-preprocess.json`` records what a caller must do to an image before
the network sees it (input size, channels, scaling) and the class names, so that
``scripts/predict.py`` applies the training preprocessing without the training code.
"""
import collections
import ctypes
import json
import logging
import math
import os
import warnings

import mxnet as mx
import numpy as np
from mxnet import gluon

from .data import RESIZE_MODES
from .errors import UserError
from .paths import ExportFiles

log = logging.getLogger(__name__)


def _first_line(err):
    """The message of an MXNet or onnxruntime error, without the stack MXNet prints before
    it ("Traceback ...", "  File ...") or after it."""
    lines = [line.strip() for line in str(err).strip().splitlines()]
    for line in lines:
        if line and not line.startswith(("Traceback", "File ", "[bt]", "Stack trace")):
            return line
    return lines[0] if lines else type(err).__name__


def _batch_refused(batch, err):
    return UserError("the model cannot take a batch of shape %s: %s" % (
        "x".join(map(str, batch.shape)), _first_line(err)))


def export(net, prefix, input_shape, epoch=0, ctx=None, class_names=None, resize="imresize",
           preprocessing=None):
    """Hybridize ``net``, trace it on a zero batch of ``input_shape`` and export it;
    ``preprocessing`` adds to the preprocessing record (imported weights' centre crop).

    Training-only parts (GoogLeNet's auxiliary heads) are not in ``net(x)``'s graph, so
    they are not in the export. Returns (symbol file, params file).
    """
    ctx = ctx or mx.cpu()
    files = ExportFiles(prefix)
    net.hybridize()
    net(mx.nd.zeros(input_shape, ctx=ctx))
    net.export(prefix, epoch=epoch)
    with open(files.preprocess, "w") as handle:
        json.dump({"image_size": input_shape[2], "channels": input_shape[1],
                   "layout": "NCHW", "pixel_scale": 1 / 255.0, "resize": resize,
                   "classes": list(class_names) if class_names else None,
                   "net": getattr(net, "model_name", None), **(preprocessing or {})}, handle, indent=1)
    return files.symbol, files.params(epoch)


def read_preprocessing(prefix):
    """The preprocessing an export was trained with, or None if it has no record of it."""
    path = ExportFiles(prefix).preprocess
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as handle:
            return json.load(handle)
    except ValueError:
        raise UserError("%s is not valid JSON; re-export the model." % path) from None


def training_resize(recipe):
    """The resize mode an export was trained with: its record's, the default without one,
    and MXNet's aligned batch resize for exports that predate the choice ("bilinear")."""
    resize = recipe.get("resize", RESIZE_MODES[0])
    return resize if resize in RESIZE_MODES else "aligned"


def params_file(prefix, epoch=None):
    """The params file of an export: the given epoch, or the newest one on disk."""
    files = ExportFiles(prefix)
    if epoch is not None:
        return files.params(epoch)
    found = files.params_on_disk()
    if not found:
        raise UserError("no %s-NNNN.params file next to %s." % (
            os.path.basename(prefix), files.symbol))
    return found[-1]


def read_export_parameters(prefix, epoch=None):
    """An export's parameters by their names below the network's own prefix:
    "arg:googlenet0_stem1_conv0_weight" -> "stem1_conv0_weight"."""
    path = params_file(prefix, epoch)
    if not os.path.isfile(path):
        raise UserError("no parameters file %s for the export %s." % (path, prefix))
    try:
        saved = mx.nd.load(path)
    except mx.base.MXNetError:
        raise UserError("%s is not an MXNet parameter file." % path) from None
    return {key.split(":", 1)[-1].split("_", 1)[-1]: value for key, value in saved.items()}


def normalization_of(parameters):
    """The ``normalize`` mode of the network whose parameters (read_export_parameters) these
    are: "channel" (mean and std, imported ImageNet weights), "pixel" or "none"."""
    if "input_std" in parameters:
        return "channel"
    return "pixel" if "input_mean" in parameters else "none"


def load_exported(prefix, epoch=None, ctx=None):
    """Load ``<prefix>-symbol.json`` and its params as a SymbolBlock (no model code)."""
    symbol_file = ExportFiles(prefix).symbol
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
            if "Invalid NDArray file format" in str(err):
                raise UserError("cannot load the export %s: %s is not an MXNet parameter file "
                                "(damaged, or another format); export it again with "
                                "scripts/export.py." % (prefix, params)) from None
            raise UserError("cannot load the export %s: %s" % (
                prefix, _first_line(err))) from None
    return block


class OutputRangeCollector:
    """Min and max of every layer output over the calibration images (MXNet's "naive"
    calibration), for ``quantize_net_v2(calib_mode="customize")``.

    MXNet 1.9.1 cannot read some outputs that oneDNN keeps in its own layout (in a fused
    network with batch norm, the last layer's from the second batch on). Its own collector
    then raises inside the monitor's ctypes callback, which prints a traceback per batch
    and goes on; this one counts those reads in ``unreadable`` for one clear warning, and
    the layer keeps the range of the batches that could be read."""

    def __init__(self):
        self.min_max_dict = {}
        self.unreadable = collections.Counter()

    def read(self, name, handle):
        """The output ``name`` behind the monitor's ``handle``, as numpy; MXNetError where
        MXNet cannot read oneDNN's layout."""
        return mx.nd.NDArray(ctypes.cast(handle, mx.base.NDArrayHandle),
                             writable=False).asnumpy()

    def collect(self, name, handle):
        name = mx.base.py_str(name)
        try:
            values = self.read(name, handle)
        except mx.base.MXNetError:
            self.unreadable[name] += 1
            return
        low, high = float(values.min()), float(values.max())
        seen_low, seen_high = self.min_max_dict.get(name, (low, high))
        self.min_max_dict[name] = (min(low, seen_low), max(high, seen_high))


def quantize_export(prefix, calibration_batch, out_prefix=None, epoch=None):
    """An INT8 copy of an FP32 export, calibrated on ``calibration_batch`` (a float NCHW
    NDArray preprocessed as in training), written as ``<out_prefix>-symbol.json`` and
    ``-0000.params``. oneDNN's quantized operators run it on the CPU; the min/max of every
    layer's output on the calibration batch fixes its INT8 scale ("naive" calibration)."""
    from mxnet.contrib.quantization import quantize_net_v2
    net = load_exported(prefix, epoch)
    out = ExportFiles(out_prefix) if out_prefix else ExportFiles(prefix).int8
    batch_size = min(64, calibration_batch.shape[0])
    calibration = mx.io.NDArrayIter(data={"data": calibration_batch}, batch_size=batch_size)
    collector = OutputRangeCollector()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="(?s).*(deprecated|Cannot decide type)")
        quantized = quantize_net_v2(net, quantized_dtype="auto", quantize_mode="smart",
                                    calib_data=calibration, calib_mode="customize",
                                    LayerOutputCollector=collector,
                                    num_calib_examples=calibration_batch.shape[0])
    batches = math.ceil(calibration_batch.shape[0] / batch_size)
    for name, count in sorted(collector.unreadable.items()):
        log.warning("INT8 calibration: MXNet could not read %s on %d of %d batches; its range "
                    "comes from the others%s.", name, count, batches,
                    "" if name in collector.min_max_dict else " (none: computed at run time)")
    compile_for_inference(quantized)
    quantized(calibration_batch[:1])
    quantized.export(out.prefix, epoch=0)
    recipe = read_preprocessing(prefix)
    if recipe:
        with open(out.preprocess, "w") as handle:
            json.dump(recipe, handle, indent=1)
    return out.symbol, out.params(0)


ONNX_EXTRA_HINT = "install the ONNX extra: pip install -e '.[onnx]'"


def _import_optional(name):
    try:
        return __import__(name)
    except ImportError:
        raise UserError("%s is not installed; %s." % (name, ONNX_EXTRA_HINT)) from None


def export_onnx(prefix, onnx_file=None, epoch=None):
    """Convert the MXNet export at ``prefix`` to ONNX (``<prefix>.onnx`` by default) with a
    free batch dimension; the input and image size stay those of the export."""
    onnx = _import_optional("onnx")
    recipe = read_preprocessing(prefix)
    if not recipe:
        raise UserError("%s is missing, so the input size of the export is unknown; re-export "
                        "the run with scripts/export.py." % ExportFiles(prefix).preprocess)
    load_exported(prefix, epoch)  # the same clear errors for a missing or broken export
    shape = (recipe["channels"], recipe["image_size"], recipe["image_size"])
    onnx_file = onnx_file or ExportFiles(prefix).onnx
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        try:
            mx.onnx.export_model(ExportFiles(prefix).symbol, params_file(prefix, epoch),
                                 in_shapes=[(1,) + shape], in_types=[np.float32],
                                 onnx_file_path=onnx_file, dynamic=True,
                                 dynamic_input_shapes=[(None,) + shape])
        except (AttributeError, NotImplementedError) as err:  # an operator mx2onnx lacks
            raise UserError("MXNet's ONNX exporter cannot convert %s: %s" % (prefix, err)) from None
    # mx2onnx also lists every weight as a graph input, which would let a caller override
    # it and keeps onnxruntime from folding constants; weights are initializers only.
    model = onnx.load(onnx_file)
    weights = {initializer.name for initializer in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    onnx.checker.check_model(model)
    onnx.save(model, onnx_file)
    return onnx_file


class OnnxPredictor:
    """Runs an ONNX file with onnxruntime's CPU provider: float32 NCHW numpy in, logits out."""

    def __init__(self, path):
        ort = _import_optional("onnxruntime")
        from onnxruntime.capi import onnxruntime_pybind11_state as state
        self.errors = (state.Fail, state.InvalidArgument, state.InvalidProtobuf,
                       state.InvalidGraph, state.NoSuchFile, state.RuntimeException)
        if not os.path.isfile(path):
            raise UserError("no ONNX model at %s (written by scripts/export.py --onnx)." % path)
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only, not per-initializer advice
        try:
            self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        except self.errors as err:
            raise UserError("cannot load the ONNX model %s: %s" % (
                path, _first_line(err))) from None
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, batch):
        try:
            return self.session.run(None, {self.input_name: np.asarray(batch, np.float32)})[0]
        except self.errors as err:
            raise _batch_refused(batch, err) from None


def compile_for_inference(block):
    """Compile ``block`` for repeated inference: one static graph with static memory.

    Not oneDNN graph fusion (``optimize_for("MKLDNN")``): in MXNet 1.9.1 the fused
    convolutions reorder their weights into oneDNN's layout at every call, and fused exports
    ran slower than plain ones on this project's machine (README, Performance). Static
    shapes matter for INT8 exports (about half the time per batch here); a batch of another
    size makes MXNet plan the graph again."""
    block.hybridize(static_alloc=True, static_shape=True)
    return block


class MXNetPredictor:
    """Runs an MXNet export, compiled for inference: float32 NCHW numpy in, logits out."""

    def __init__(self, prefix, epoch=None):
        self.block = compile_for_inference(load_exported(prefix, epoch))

    def __call__(self, batch):
        try:
            return self.block(mx.nd.array(batch, dtype=np.float32)).asnumpy()
        except mx.base.MXNetError as err:
            raise _batch_refused(batch, err) from None


def load_predictor(model, epoch=None):
    """A callable for ``model``: an ``.onnx`` file or an MXNet export prefix.
    Returns (predictor, prefix of its preprocess.json)."""
    if model.endswith(".onnx"):
        return OnnxPredictor(model), ExportFiles.of_onnx_file(model).prefix
    return MXNetPredictor(model, epoch), model
