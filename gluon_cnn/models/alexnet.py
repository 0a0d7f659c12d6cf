"""AlexNet (Krizhevsky et al. 2012), the single-column network of the paper, and the
variant torchvision builds.

``alexnet``: convolutions 96-256-384-384-256, response normalization after the first two,
overlapping 3x3/2 max pooling, two FC 4096 layers with dropout 0.5. The paper's "224" input
only works out with 227 pixels (55x55 after the 11x11/4 convolution), so 227 is the canonical
size: 62,378,344 parameters for 1000 classes.

``alexnet_owt``: torchvision's AlexNet, after the single-column network of Krizhevsky's "One
weird trick for parallelizing convolutional neural networks" (2014): convolutions
64-192-384-256-256, the first padded by 2, no response normalization; 6x6x256 features at
224 pixels, 61,100,840 parameters. It is the AlexNet whose ImageNet weights can be imported.
"""
from mxnet.gluon import nn

from .base import Classifier
from .blocks import LocalResponseNorm
from .registry import register_model

# (channels, kernel, stride, padding, response norm + max pool after it)
ALEXNET_CONVS = (
    (96, 11, 4, 0, "norm+pool"),
    (256, 5, 1, 2, "norm+pool"),
    (384, 3, 1, 1, ""),
    (384, 3, 1, 1, ""),
    (256, 3, 1, 1, "pool"),
)
OWT_CONVS = (
    (64, 11, 4, 2, "pool"),
    (192, 5, 1, 2, "pool"),
    (384, 3, 1, 1, ""),
    (256, 3, 1, 1, ""),
    (256, 3, 1, 1, "pool"),
)


class AlexNet(Classifier):
    def __init__(self, classes=1000, in_channels=3, dropout=0.5, convs=ALEXNET_CONVS,
                 canonical_size=227, **kwargs):
        super().__init__(in_channels=in_channels, canonical_size=canonical_size, **kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            previous = in_channels
            for index, (channels, kernel, stride, padding, after) in enumerate(convs):
                stage = nn.HybridSequential(prefix="stage%d_" % (index + 1))
                stage.add(nn.Conv2D(channels, kernel, stride, padding, activation="relu",
                                    in_channels=previous))
                if "norm" in after:
                    stage.add(LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0))
                if "pool" in after:
                    stage.add(nn.MaxPool2D(pool_size=3, strides=2))
                self.features.add(stage)
                previous = channels
            self.output = nn.HybridSequential(prefix="classifier_")
            self.output.add(nn.Flatten(),
                            nn.Dense(4096, activation="relu"), nn.Dropout(dropout),
                            nn.Dense(4096, activation="relu"), nn.Dropout(dropout),
                            nn.Dense(classes))


@register_model
def alexnet(classes=1000, **kwargs):
    """AlexNet, single column as in the paper, 227x227 inputs."""
    return AlexNet(classes=classes, **kwargs)


@register_model
def alexnet_owt(classes=1000, **kwargs):
    """AlexNet as torchvision builds it (64-192-384-256-256, no response normalization), 224x224
    inputs; torchvision's weights import into it.

    Krizhevsky, "One weird trick for parallelizing convolutional neural networks", 2014.
    """
    return AlexNet(classes=classes, convs=OWT_CONVS, canonical_size=224, **kwargs)
