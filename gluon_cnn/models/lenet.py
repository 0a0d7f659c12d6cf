"""LeNet-5 as in the Keras CNN chapter: two 5x5 convolutions with 2x2 max pooling, then FC
120-84-classes.

ReLU and max pooling follow the Keras CNN chapter (the 1998 paper used scaled tanh and
subsampling); 61,706 parameters for 32x32x1 inputs and 10 classes.
"""
from mxnet.gluon import nn

from .base import Classifier
from .registry import register_model


class LeNet5(Classifier):
    def __init__(self, classes=10, in_channels=1, **kwargs):
        super().__init__(in_channels=in_channels, canonical_size=32, **kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            for index, channels in enumerate((6, 16)):
                stage = nn.HybridSequential(prefix="stage%d_" % (index + 1))
                stage.add(nn.Conv2D(channels, 5, activation="relu",
                                    in_channels=in_channels if index == 0 else 6),
                          nn.MaxPool2D(pool_size=2, strides=2))
                self.features.add(stage)
            self.output = nn.HybridSequential(prefix="classifier_")
            self.output.add(nn.Flatten(),
                            nn.Dense(120, activation="relu"),
                            nn.Dense(84, activation="relu"),
                            nn.Dense(classes))


@register_model
def lenet5(classes=10, in_channels=1, **kwargs):
    """LeNet-5 (the Keras CNN chapter), 32x32 grayscale by default."""
    return LeNet5(classes=classes, in_channels=in_channels, **kwargs)
