"""VGG (Simonyan & Zisserman 2014), configurations A, B, D and E of the paper's Table 1.

Each configuration is a list of 3x3 convolution widths with "M" for a 2x2/2 max pool; the
five blocks between pools are the stages. The classifier is FC 4096 - FC 4096 - FC classes
with dropout 0.5. VGG-16 (D) has 138,357,544 parameters at 224x224 and 1000 classes.
"""
from mxnet.gluon import nn

from .base import Classifier
from .blocks import conv_block
from .registry import register_model

VGG_CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
          512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}
VGG_DEPTHS = {11: "A", 13: "B", 16: "D", 19: "E"}


def make_stages(config, batch_norm, in_channels):
    """One HybridSequential per block of convolutions, each ending with its max pool."""
    stages = nn.HybridSequential(prefix="")
    stage = nn.HybridSequential(prefix="stage1_")
    previous = in_channels
    for width in config:
        if width == "M":
            stage.add(nn.MaxPool2D(pool_size=2, strides=2))
            stages.add(stage)
            stage = nn.HybridSequential(prefix="stage%d_" % (len(stages) + 1))
            continue
        stage.add(conv_block(width, 3, padding=1, batch_norm=batch_norm, in_channels=previous,
                             bias_before_norm=True))
        previous = width
    return stages


class VGG(Classifier):
    def __init__(self, config, classes=1000, batch_norm=False, in_channels=3, dropout=0.5,
                 **kwargs):
        super().__init__(in_channels=in_channels, canonical_size=224, **kwargs)
        with self.name_scope():
            self.features = make_stages(VGG_CONFIGS[config], batch_norm, in_channels)
            self.output = nn.HybridSequential(prefix="classifier_")
            self.output.add(nn.Flatten(),
                            nn.Dense(4096, activation="relu"), nn.Dropout(dropout),
                            nn.Dense(4096, activation="relu"), nn.Dropout(dropout),
                            nn.Dense(classes))


def _register_vgg(depth, batch_norm):
    def builder(classes=1000, **kwargs):
        return VGG(VGG_DEPTHS[depth], classes=classes, batch_norm=batch_norm, **kwargs)
    builder.__name__ = "vgg%d%s" % (depth, "_bn" if batch_norm else "")
    builder.__doc__ = "VGG-%d (configuration %s)%s." % (
        depth, VGG_DEPTHS[depth], " with batch normalization" if batch_norm else "")
    return register_model(builder)


for _depth in VGG_DEPTHS:
    for _batch_norm in (False, True):
        _register_vgg(_depth, _batch_norm)
