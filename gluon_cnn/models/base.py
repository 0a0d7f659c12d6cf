"""The common shape of every network in the zoo: ``features`` (stages) then ``output`` (head).

Like gluoncv's model zoo, ``net.features`` is the feature extractor and ``net.output`` the
classifier head, so fine-tuning replaces ``output`` alone. ``net.stages()`` lists the
top-level blocks that the debug mode reports on.

A Classifier can also carry its input normalization (``normalize``): the training set's
per-pixel mean (the ResNet paper's CIFAR preprocessing) or per-channel mean and standard
deviation (ImageNet weights), as constant parameters subtracted inside the graph. The
checkpoints and the export then hold it, and every tool that feeds the network images scaled
to [0, 1] gets the normalization the weights were trained with, ONNX and INT8 copies too.

Every Classifier checks the shape of the batch it is given before MXNet sees it, so a wrong
channel count or an image too small for its strides is one clear sentence naming the
network, not an error from inside an operator. The check runs as a forward pre-hook, which
fires even when the network is hybridized, and costs one symbolic shape inference per
distinct input shape.
"""
import warnings

import mxnet as mx
from mxnet.gluon import HybridBlock

from ..debug import infer_shape_quietly
from ..errors import InputShapeError

LARGEST_SIZE_SEARCHED = 1024
# "pixel": subtract a mean image; "channel": subtract a mean and divide by a standard
# deviation per channel
NORMALIZATIONS = ("none", "pixel", "channel")


class InputNormalization(HybridBlock):
    """(x - mean) / std with constant (untrained) parameters, broadcast over the batch:
    ``mean`` of shape (1, C, H, W) for "pixel", (1, C, 1, 1) with ``std`` for "channel".
    They start at 0 and 1; ``set_statistics`` gives them their values."""

    def __init__(self, mode, channels, image_size=None, **kwargs):
        super().__init__(**kwargs)
        self.mode = mode
        shape = (1, channels, image_size, image_size) if mode == "pixel" else (1, channels, 1, 1)
        with self.name_scope():
            self.mean = self.params.get("mean", shape=shape, init="zeros", grad_req="null",
                                        differentiable=False)
            self.std = (self.params.get("std", shape=shape, init="ones", grad_req="null",
                                        differentiable=False) if mode == "channel" else None)

    def hybrid_forward(self, F, x, mean, std=None):
        x = F.broadcast_sub(x, mean)
        return x if std is None else F.broadcast_div(x, std)

    def set_statistics(self, mean, std=None):
        self.mean.set_data(mean.reshape(self.mean.shape))
        if self.std is not None:
            self.std.set_data(std.reshape(self.std.shape))


class TopLevelHookBlock(HybridBlock):
    """A HybridBlock whose forward hooks sit on itself, the block the user calls.

    MXNet warns about any forward hook on a block being hybridized, because hooks on
    blocks *inside* a graph never fire. Hooks on the top-level block run in Python on every
    call, hybridized or not, so the warning would only mislead.
    """

    def hybridize(self, active=True, **kwargs):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="(?s).*while still having forward hook")
            super().hybridize(active, **kwargs)


class Classifier(TopLevelHookBlock):
    """An image classifier: ``output(features(x))``.

    Subclasses build ``self.features`` (a HybridSequential of stages) and ``self.output``.
    ``canonical_size`` is the input size of the paper; ``in_channels`` is fixed at build time
    so that a batch with another channel count is refused instead of silently re-shaping
    the first convolution.
    """

    def __init__(self, in_channels=3, canonical_size=224, normalize="none", image_size=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.in_channels = in_channels
        self.canonical_size = canonical_size
        self.model_name = type(self).__name__.lower()
        self._accepted_shapes = set()
        self.register_forward_pre_hook(check_input_hook)
        if normalize not in NORMALIZATIONS:
            raise ValueError("normalize must be one of %s; got %r" % (NORMALIZATIONS, normalize))
        # Only a normalizing network has the block, so the others' parameter names, and
        # their checkpoints and exports, are what they always were.
        self.input_normalization = None
        if normalize != "none":
            with self.name_scope():
                self.input_normalization = InputNormalization(
                    normalize, in_channels, image_size or canonical_size, prefix="input_")

    def normalized(self, x):
        """``x`` as the first stage takes it: normalized, if the network normalizes."""
        norm = self.input_normalization
        return x if norm is None else norm(x)

    def hybrid_forward(self, F, x):
        return self.output(self.features(self.normalized(x)))

    def stages(self):
        """The top-level blocks in the order data flows through them."""
        return list(self.features._children.values()) + [self.output]

    def symbolic_outputs(self, data, training=False):
        """The outputs of ``net(data)`` for a Symbol; with ``training``, also those only
        computed in training (GoogLeNet's auxiliary heads)."""
        return [self(data)]

    def check_input_shape(self, shape, training=False):
        """Raise InputShapeError unless a batch of ``shape`` can run through this network
        (and through its training-only heads, with ``training``)."""
        shape = tuple(shape)
        if (shape, training) in self._accepted_shapes:
            return
        name = self.model_name
        if len(shape) != 4:
            raise InputShapeError(
                "%s takes a batch of images shaped (batch, channels, height, width); got shape %s."
                % (name, shape))
        if shape[1] != self.in_channels:
            raise InputShapeError(
                "%s was built for %d-channel images but got %d channels (input shape %s); "
                "pass in_channels=%d to get_model or convert the images."
                % (name, self.in_channels, shape[1], shape, shape[1]))
        inferred = self._infer_param_shapes(shape, training)
        if inferred is None:
            smallest = self.smallest_input_size(training)
            if smallest is None:
                raise InputShapeError("%s cannot take inputs of shape %s." % (name, shape))
            raise InputShapeError(
                "%s needs inputs of at least %dx%d pixels; got %dx%d."
                % (name, smallest, smallest, shape[2], shape[3]))
        for param in self.collect_params().values():
            if param._data is None or param.name not in inferred:
                continue
            if tuple(param.shape) != tuple(inferred[param.name]):
                raise InputShapeError(
                    "%s's parameters were initialized for another input size: %s has shape %s "
                    "but a %dx%d input needs %s; use the image size it was trained at."
                    % (name, param.name, param.shape, shape[2], shape[3], inferred[param.name]))
        self._accepted_shapes.add((shape, training))

    def _infer_param_shapes(self, shape, training=False):
        """Parameter shapes for an input of ``shape``, or None when it is too small."""
        data = mx.sym.var("data")
        outputs = mx.sym.Group(self.symbolic_outputs(data, training))
        try:
            arg_shapes, out_shapes, aux_shapes = infer_shape_quietly(outputs, data=shape)
        except mx.base.MXNetError:
            return None
        if out_shapes is None or any(dim <= 0 for out in out_shapes for dim in out):
            return None
        names = outputs.list_arguments() + outputs.list_auxiliary_states()
        return dict(zip(names, arg_shapes + aux_shapes))

    def smallest_input_size(self, training=False):
        """The smallest square input (pixels) this network accepts, by bisection."""
        def fits(size):
            return self._infer_param_shapes((1, self.in_channels, size, size),
                                            training) is not None
        if not fits(LARGEST_SIZE_SEARCHED):
            return None
        low, high = 1, LARGEST_SIZE_SEARCHED
        while low < high:
            middle = (low + high) // 2
            if fits(middle):
                high = middle
            else:
                low = middle + 1
        return low


def check_input_hook(classifier, args, training=False):
    """Forward pre-hook: validate an NDArray batch (symbolic calls pass through)."""
    if args and isinstance(args[0], mx.nd.NDArray):
        classifier.check_input_shape(args[0].shape, training)
