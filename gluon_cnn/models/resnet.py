"""ResNet v1 (He et al. 2015), built from the paper's Table 1 stage specs.

A 7x7/2 convolution and 3x3/2 max pool, four stages of residual blocks (the first block
of a stage strides by 2 except in stage 1, and uses a projection shortcut where the shape
changes), global average pooling and one FC layer. Convolutions followed by batch norm
have no bias: ResNet-50 has 25,557,032 trainable parameters at 1000 classes.
"""
from mxnet.gluon import nn

from .base import Classifier
from .blocks import BasicBlock, Bottleneck, conv_block
from .registry import register_model

STAGE_WIDTHS = (64, 128, 256, 512)
# depth: (block, blocks per stage)
RESNET_SPECS = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}


class ResNet(Classifier):
    def __init__(self, depth, classes=1000, in_channels=3, **kwargs):
        super().__init__(in_channels=in_channels, canonical_size=224, **kwargs)
        block, counts = RESNET_SPECS[depth]
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            stem = nn.HybridSequential(prefix="stem_")
            stem.add(conv_block(64, 7, 2, 3, batch_norm=True, in_channels=in_channels),
                     nn.MaxPool2D(pool_size=3, strides=2, padding=1))
            self.features.add(stem)
            previous = 64
            for index, (width, count) in enumerate(zip(STAGE_WIDTHS, counts)):
                stage = nn.HybridSequential(prefix="stage%d_" % (index + 1))
                for position in range(count):
                    strides = 2 if position == 0 and index > 0 else 1
                    out_channels = width * block.expansion
                    stage.add(block(width, strides,
                                    projection=position == 0 and (strides != 1 or
                                                                  previous != out_channels),
                                    in_channels=previous))
                    previous = out_channels
                if index == len(counts) - 1:
                    stage.add(nn.GlobalAvgPool2D())
                self.features.add(stage)
            self.output = nn.Dense(classes, in_units=previous, prefix="classifier_")


@register_model
def resnet18(classes=1000, **kwargs):
    """ResNet-18 v1, basic blocks.

    He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition",
    CVPR 2016, Table 1.
    """
    return ResNet(18, classes=classes, **kwargs)


@register_model
def resnet34(classes=1000, **kwargs):
    """ResNet-34 v1, basic blocks.

    He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition",
    CVPR 2016, Table 1.
    """
    return ResNet(34, classes=classes, **kwargs)


@register_model
def resnet50(classes=1000, **kwargs):
    """ResNet-50 v1, bottleneck blocks.

    He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition",
    CVPR 2016, Table 1.
    """
    return ResNet(50, classes=classes, **kwargs)


@register_model
def resnet101(classes=1000, **kwargs):
    """ResNet-101 v1, bottleneck blocks.

    He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition",
    CVPR 2016, Table 1.
    """
    return ResNet(101, classes=classes, **kwargs)


@register_model
def resnet152(classes=1000, **kwargs):
    """ResNet-152 v1, bottleneck blocks.

    He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition",
    CVPR 2016, Table 1.
    """
    return ResNet(152, classes=classes, **kwargs)
