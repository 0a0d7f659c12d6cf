"""ResNet v1 (He et al. 2015): the ImageNet networks of the paper's Table 1 and the CIFAR-10
networks of its section 4.2, built from their stage specs.

ImageNet (``resnet18`` ... ``resnet152``): a 7x7/2 convolution and 3x3/2 max pool, four
stages of residual blocks (the first block of a stage strides by 2 except in stage 1, and
uses a projection shortcut where the shape changes), global average pooling and one FC
layer. Convolutions followed by batch norm have no bias: ResNet-50 has 25,557,032 trainable
parameters at 1000 classes. ``resnet50_v1_5`` ... ``resnet152_v1_5`` move each bottleneck's
stride from its first 1x1 convolution to its 3x3 one, as torchvision and timm build them
(about half a point better on ImageNet, at more computation): the same parameters, so it is
into these, not ``resnet50`` ..., that their ImageNet weights import.

CIFAR (``cifar_resnet20`` ... ``cifar_resnet110``, depth 6n + 2): a 3x3 convolution with 16
filters, three stages of n basic blocks with 16, 32 and 64 filters on 32, 16 and 8 pixel
maps, the zero-padded identity shortcut where the shape changes (option A, so every
shortcut is parameter-free), global average pooling and one FC layer: 0.27M, 0.46M, 0.66M,
0.85M and 1.7M parameters (the paper's Table 6). The ImageNet networks' stride-2 stem and
max pool shrink a 32-px image to 8 px before the first block, which is why they train
poorly on CIFAR-10 (apache/mxnet#9185); these do not.
"""
from mxnet.gluon import nn

from .base import Classifier
from .blocks import BasicBlock, Bottleneck, conv_block
from .registry import register_model

# The stem: (filters, kernel, stride, padding, max pool after it)
IMAGENET_STEM = (64, 7, 2, 3, True)
CIFAR_STEM = (16, 3, 1, 1, False)
IMAGENET_WIDTHS = (64, 128, 256, 512)
CIFAR_WIDTHS = (16, 32, 64)
# depth: (block, blocks per stage), Table 1
RESNET_SPECS = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}
# depth: blocks per stage (n, depth = 6n + 2), section 4.2 and Table 6
CIFAR_RESNET_BLOCKS = {20: 3, 32: 5, 44: 7, 56: 9, 110: 18}


class ResNet(Classifier):
    """A ResNet v1 from a stem spec, stage widths, a block type with its count per stage, and
    the shortcut used where a stage changes the shape ("projection" or "zero-pad");
    ``block_options`` go to every block."""

    def __init__(self, block, counts, widths=IMAGENET_WIDTHS, stem=IMAGENET_STEM,
                 shortcut="projection", classes=1000, in_channels=3, canonical_size=224,
                 block_options=None, **kwargs):
        super().__init__(in_channels=in_channels, canonical_size=canonical_size, **kwargs)
        filters, kernel, stride, padding, max_pool = stem
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            first = nn.HybridSequential(prefix="stem_")
            first.add(conv_block(filters, kernel, stride, padding, batch_norm=True,
                                 in_channels=in_channels))
            if max_pool:
                first.add(nn.MaxPool2D(pool_size=3, strides=2, padding=1))
            self.features.add(first)
            previous = filters
            for index, (width, count) in enumerate(zip(widths, counts)):
                stage = nn.HybridSequential(prefix="stage%d_" % (index + 1))
                for position in range(count):
                    strides = 2 if position == 0 and index > 0 else 1
                    out_channels = width * block.expansion
                    changes_shape = position == 0 and (strides != 1 or previous != out_channels)
                    stage.add(block(width, strides,
                                    shortcut=shortcut if changes_shape else "identity",
                                    in_channels=previous, **(block_options or {})))
                    previous = out_channels
                if index == len(counts) - 1:
                    stage.add(nn.GlobalAvgPool2D())
                self.features.add(stage)
            self.output = nn.Dense(classes, in_units=previous, prefix="classifier_")


def _imagenet(depth, classes, kwargs, stride_on_3x3=False):
    block, counts = RESNET_SPECS[depth]
    options = {"stride_on_3x3": True} if stride_on_3x3 else None
    return ResNet(block, counts, classes=classes, block_options=options, **kwargs)


def _cifar(depth, classes, kwargs):
    return ResNet(BasicBlock, (CIFAR_RESNET_BLOCKS[depth],) * 3, widths=CIFAR_WIDTHS,
                  stem=CIFAR_STEM, shortcut="zero-pad", classes=classes, canonical_size=32,
                  **kwargs)


# The paper: He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition", CVPR
# 2016; Table 1 for the ImageNet networks, section 4.2 and Table 6 for the CIFAR ones.
@register_model
def resnet18(classes=1000, **kwargs):
    """ResNet-18 v1 for ImageNet-sized images, basic blocks (Table 1)."""
    return _imagenet(18, classes, kwargs)


@register_model
def resnet34(classes=1000, **kwargs):
    """ResNet-34 v1 for ImageNet-sized images, basic blocks (Table 1)."""
    return _imagenet(34, classes, kwargs)


@register_model
def resnet50(classes=1000, **kwargs):
    """ResNet-50 v1 for ImageNet-sized images, bottleneck blocks (Table 1)."""
    return _imagenet(50, classes, kwargs)


@register_model
def resnet101(classes=1000, **kwargs):
    """ResNet-101 v1 for ImageNet-sized images, bottleneck blocks (Table 1)."""
    return _imagenet(101, classes, kwargs)


@register_model
def resnet152(classes=1000, **kwargs):
    """ResNet-152 v1 for ImageNet-sized images, bottleneck blocks (Table 1)."""
    return _imagenet(152, classes, kwargs)


@register_model
def resnet50_v1_5(classes=1000, **kwargs):
    """ResNet-50 with each bottleneck's stride on its 3x3 convolution, as torchvision and timm
    build it; their weights import into it."""
    return _imagenet(50, classes, kwargs, stride_on_3x3=True)


@register_model
def resnet101_v1_5(classes=1000, **kwargs):
    """ResNet-101 with each bottleneck's stride on its 3x3 convolution, as torchvision and
    timm build it; their weights import into it."""
    return _imagenet(101, classes, kwargs, stride_on_3x3=True)


@register_model
def resnet152_v1_5(classes=1000, **kwargs):
    """ResNet-152 with each bottleneck's stride on its 3x3 convolution, as torchvision and
    timm build it; their weights import into it."""
    return _imagenet(152, classes, kwargs, stride_on_3x3=True)


@register_model
def cifar_resnet20(classes=10, **kwargs):
    """ResNet-20 for 32-px images such as CIFAR-10 (section 4.2; 0.27M parameters)."""
    return _cifar(20, classes, kwargs)


@register_model
def cifar_resnet32(classes=10, **kwargs):
    """ResNet-32 for 32-px images such as CIFAR-10 (section 4.2; 0.46M parameters)."""
    return _cifar(32, classes, kwargs)


@register_model
def cifar_resnet44(classes=10, **kwargs):
    """ResNet-44 for 32-px images such as CIFAR-10 (section 4.2; 0.66M parameters)."""
    return _cifar(44, classes, kwargs)


@register_model
def cifar_resnet56(classes=10, **kwargs):
    """ResNet-56 for 32-px images such as CIFAR-10 (section 4.2; 0.85M parameters)."""
    return _cifar(56, classes, kwargs)


@register_model
def cifar_resnet110(classes=10, **kwargs):
    """ResNet-110 for 32-px images such as CIFAR-10 (section 4.2; 1.7M parameters)."""
    return _cifar(110, classes, kwargs)
