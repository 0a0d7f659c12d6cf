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


@register_model
def vgg11(classes=1000, **kwargs):
    """VGG-11, configuration A.

    Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
    ICLR 2015, Table 1.
    """
    return VGG("A", classes=classes, **kwargs)


@register_model
def vgg11_bn(classes=1000, **kwargs):
    """VGG-11, configuration A, with batch normalization after every convolution."""
    return VGG("A", classes=classes, batch_norm=True, **kwargs)


@register_model
def vgg13(classes=1000, **kwargs):
    """VGG-13, configuration B.

    Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
    ICLR 2015, Table 1.
    """
    return VGG("B", classes=classes, **kwargs)


@register_model
def vgg13_bn(classes=1000, **kwargs):
    """VGG-13, configuration B, with batch normalization after every convolution."""
    return VGG("B", classes=classes, batch_norm=True, **kwargs)


@register_model
def vgg16(classes=1000, **kwargs):
    """VGG-16, configuration D.

    Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
    ICLR 2015, Table 1.
    """
    return VGG("D", classes=classes, **kwargs)


@register_model
def vgg16_bn(classes=1000, **kwargs):
    """VGG-16, configuration D, with batch normalization after every convolution."""
    return VGG("D", classes=classes, batch_norm=True, **kwargs)


@register_model
def vgg19(classes=1000, **kwargs):
    """VGG-19, configuration E.

    Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
    ICLR 2015, Table 1.
    """
    return VGG("E", classes=classes, **kwargs)


@register_model
def vgg19_bn(classes=1000, **kwargs):
    """VGG-19, configuration E, with batch normalization after every convolution."""
    return VGG("E", classes=classes, batch_norm=True, **kwargs)
