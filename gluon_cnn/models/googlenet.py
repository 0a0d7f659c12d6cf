"""GoogLeNet / Inception v1 (Szegedy et al. 2014), built from the paper's Table 1.

Three networks share the table:

- ``googlenet``: the 96-px network trained in the Gluon tutorial, with its six blocks:
  un-padded pools, a 1x1 convolution without ReLU before the 3x3, a 2x2 average pool in
  place of the 7x7 one, no auxiliary heads. For a (32,3,96,96) input its blocks output
  (32,64,23,23), (32,192,11,11), (32,480,5,5), (32,832,2,2), (32,1024,1,1), (32,10).
  It is what ``scripts/train.py`` trains by default.
- ``googlenet_paper``: the paper's network (the TensorFlow GoogLeNet notebook and the Keras
  CNN chapter). LRN after the first two convolutions, 3x3/2 max pools (ceil mode, as in the
  reference Caffe model), global average pooling, dropout 0.4, and the two auxiliary
  classifiers after 4a and 4d. The auxiliary heads are trained
  (``with_aux_outputs(net)``) but are not part of ``net(x)``, nor of an export.
  6,998,552 parameters at 1000 classes without the auxiliary heads.
- ``googlenet_bn``: the paper's network with batch normalization after every convolution
  (the PyTorch GoogLeNet post) in place of LRN, with the auxiliary heads.
"""
import warnings

from mxnet.gluon import nn

from .base import Classifier, TopLevelHookBlock, check_input_hook
from .blocks import AuxClassifier, Inception, LocalResponseNorm, conv_block
from .registry import register_model

# Table 1: name, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj; "pool" = 3x3/2 max pool.
INCEPTION_TABLE = {
    "inception3": [("3a", 64, 96, 128, 16, 32, 32), ("3b", 128, 128, 192, 32, 96, 64), "pool"],
    "inception4": [("4a", 192, 96, 208, 16, 48, 64), ("4b", 160, 112, 224, 24, 64, 64),
                   ("4c", 128, 128, 256, 24, 64, 64), ("4d", 112, 144, 288, 32, 64, 64),
                   ("4e", 256, 160, 320, 32, 128, 128), "pool"],
    "inception5": [("5a", 256, 160, 320, 32, 128, 128), ("5b", 384, 192, 384, 48, 128, 128)],
}
AUX_AFTER = ("4a", "4d")


class GoogLeNet(Classifier):
    """GoogLeNet; ``variant`` is "gluon_tutorial", "paper" or "bn" (see the module docstring)."""

    def __init__(self, classes=1000, variant="paper", aux_classifiers=None, in_channels=3,
                 dropout=0.4, **kwargs):
        super().__init__(in_channels=in_channels,
                         canonical_size=96 if variant == "gluon_tutorial" else 224, **kwargs)
        if aux_classifiers is None:
            aux_classifiers = variant != "gluon_tutorial"
        batch_norm = variant == "bn"
        tutorial = variant == "gluon_tutorial"

        def pool():
            # The paper's pools keep 112->56->28->14->7 at 224 px; the Gluon tutorial's
            # do not round up.
            return nn.MaxPool2D(pool_size=3, strides=2, ceil_mode=not tutorial)

        self._aux_taps = {}  # id(Inception module) -> table name ("4a"), where heads attach
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            conv1 = nn.HybridSequential(prefix="stem1_")
            conv1.add(conv_block(64, 7, 2, 3, batch_norm=batch_norm, in_channels=in_channels),
                      pool())
            conv2 = nn.HybridSequential(prefix="stem2_")
            conv2.add(conv_block(64, 1, batch_norm=batch_norm, relu=not tutorial),
                      conv_block(192, 3, padding=1, batch_norm=batch_norm))
            if variant == "paper":
                conv1.add(LocalResponseNorm())
                conv2.add(LocalResponseNorm())
            conv2.add(pool())
            self.features.add(conv1, conv2)
            for stage_name, rows in INCEPTION_TABLE.items():
                stage = nn.HybridSequential(prefix=stage_name + "_")
                for row in rows:
                    if row == "pool":
                        stage.add(pool())
                        continue
                    module = Inception(*row[1:], batch_norm=batch_norm, prefix="inception%s_" % row[0])
                    stage.add(module)
                    if aux_classifiers and row[0] in AUX_AFTER:
                        self._aux_taps[id(module)] = row[0]
                if stage_name == "inception5":
                    stage.add(nn.AvgPool2D(pool_size=2, strides=1) if tutorial
                              else nn.GlobalAvgPool2D())
                self.features.add(stage)
            self.output = nn.HybridSequential(prefix="classifier_")
            self.output.add(nn.Dropout(dropout), nn.Flatten(), nn.Dense(classes))
            self.aux = None
            if aux_classifiers:
                self.aux = nn.HybridSequential(prefix="aux_")
                for name in AUX_AFTER:
                    self.aux.add(AuxClassifier(classes, batch_norm=batch_norm,
                                               prefix="aux%s_" % name))

    def forward_with_aux(self, F, x):
        """Main output followed by one output per auxiliary head (training only)."""
        heads = dict(zip(AUX_AFTER, self.aux._children.values())) if self.aux else {}
        aux_outputs = []
        x = self.normalized(x)
        for stage in self.features._children.values():
            for layer in stage._children.values():
                x = layer(x)
                if id(layer) in self._aux_taps:
                    aux_outputs.append(heads[self._aux_taps[id(layer)]](x))
        return [self.output(x)] + aux_outputs

    def _build_cache(self, *args):
        # net(x) leaves the auxiliary heads out on purpose; MXNet would warn that their
        # parameters are unused each time the graph is built.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"(?s)Parameter .*aux.* is not used")
            super()._build_cache(*args)

    def infer_shape(self, *args):
        """Deferred shapes of every parameter, the auxiliary heads' included: MXNet infers
        them from the graph being built, and ``net(x)``'s graph leaves the heads out. An
        input too small for the heads' pools (inference runs on smaller images than
        training) leaves the heads uninitialized; they are not in that graph."""
        if self.aux is None:
            return super().infer_shape(*args)
        shape = args[0].shape
        shapes = self._infer_param_shapes(shape, training=True) or self._infer_param_shapes(shape)
        if shapes is None:
            return super().infer_shape(*args)
        for param in self.collect_params().values():
            if param.name in shapes:
                param.shape = shapes[param.name]

    def symbolic_outputs(self, data, training=False):
        return WithAuxOutputs(self)(data) if training and self.aux else [self(data)]


class WithAuxOutputs(TopLevelHookBlock):
    """A training view of a network with auxiliary heads: returns [main, aux1, aux2].

    It owns no parameters of its own: the heads belong to the wrapped network, so its
    checkpoints hold them, while ``net(x)`` and ``net.export`` stay free of them.
    """

    def __init__(self, net, **kwargs):
        super().__init__(prefix=net.prefix + "train_", **kwargs)
        self.net = net
        self.register_forward_pre_hook(lambda _, args: check_input_hook(net, args, training=True))

    def hybrid_forward(self, F, x):
        return self.net.forward_with_aux(F, x)


def with_aux_outputs(net):
    """The block to train: ``WithAuxOutputs(net)`` when ``net`` has auxiliary heads, else ``net``."""
    return WithAuxOutputs(net) if getattr(net, "aux", None) is not None else net


@register_model
def googlenet(classes=10, **kwargs):
    """The Gluon tutorial's 96-px GoogLeNet, the main job's network (six blocks, no auxiliary
    heads)."""
    return GoogLeNet(classes=classes, variant="gluon_tutorial", aux_classifiers=False, **kwargs)


@register_model
def googlenet_paper(classes=1000, aux_classifiers=True, **kwargs):
    """GoogLeNet as in the paper (Table 1), with LRN and two auxiliary classifiers."""
    return GoogLeNet(classes=classes, variant="paper", aux_classifiers=aux_classifiers, **kwargs)


@register_model
def googlenet_bn(classes=1000, aux_classifiers=True, **kwargs):
    """The paper's GoogLeNet with batch normalization in place of LRN (the PyTorch GoogLeNet
    post)."""
    return GoogLeNet(classes=classes, variant="bn", aux_classifiers=aux_classifiers, **kwargs)
