"""AlexNet (Krizhevsky et al. 2012), the single-column network of the paper.

Convolutions 96-256-384-384-256, response normalization after the first two, overlapping
3x3/2 max pooling, two FC 4096 layers with dropout 0.5. The paper's "224" input only works
out with 227 pixels (55x55 after the 11x11/4 convolution), so 227 is the canonical size:
62,378,344 parameters for 1000 classes.
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


class AlexNet(Classifier):
    def __init__(self, classes=1000, in_channels=3, dropout=0.5, **kwargs):
        super().__init__(in_channels=in_channels, canonical_size=227, **kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            previous = in_channels
            for index, (channels, kernel, stride, padding, after) in enumerate(ALEXNET_CONVS):
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
