"""Building blocks shared by the model families, public so that users can compose their own.

- ``conv_block``: convolution + (batch norm) + ReLU, the unit every family is made of.
- ``LocalResponseNorm``: the cross-channel normalization of AlexNet and GoogLeNet.
- ``Inception``: the four-branch module of GoogLeNet (Szegedy et al. 2014, Figure 2b).
- ``AuxClassifier``: GoogLeNet's auxiliary head (5x5/3 avg pool, 1x1 conv 128, FC 1024,
  dropout 0.7, FC classes).
- ``BasicBlock`` and ``Bottleneck``: the residual blocks of ResNet (He et al. 2015), with an
  identity shortcut, a 1x1 projection shortcut (option B) or, for the paper's CIFAR
  networks, a zero-padded identity (option A) when the shape changes.
"""
from mxnet.gluon import HybridBlock, nn


def conv_block(channels, kernel_size, strides=1, padding=0, batch_norm=False, relu=True,
               in_channels=0, bias_before_norm=False):
    """Conv2D followed by ReLU, or Conv2D + BatchNorm + ReLU when ``batch_norm``.

    A bias before batch norm is cancelled by its mean; it is left out unless
    ``bias_before_norm`` (VGG-BN keeps it, as the reference implementations do).
    """
    if not batch_norm:
        return nn.Conv2D(channels, kernel_size, strides, padding, in_channels=in_channels,
                         activation="relu" if relu else None)
    block = nn.HybridSequential(prefix="")
    block.add(nn.Conv2D(channels, kernel_size, strides, padding, use_bias=bias_before_norm,
                        in_channels=in_channels),
              nn.BatchNorm())
    if relu:
        block.add(nn.Activation("relu"))
    return block


class LocalResponseNorm(HybridBlock):
    """b = a / (k + alpha * sum over ``size`` neighbouring channels of a^2) ** beta.

    ``alpha`` is the papers' constant; MXNet's LRN operator divides its alpha by ``size``, so
    the operator is given ``alpha * size``.
    """

    def __init__(self, size=5, alpha=1e-4, beta=0.75, k=2.0, **kwargs):
        super().__init__(**kwargs)
        self._size, self._alpha, self._beta, self._k = size, alpha, beta, k

    def hybrid_forward(self, F, x):
        return F.LRN(x, nsize=self._size, alpha=self._alpha * self._size, beta=self._beta,
                     knorm=self._k)

    def __repr__(self):
        return "LocalResponseNorm(size=%d, alpha=%g, beta=%g, k=%g)" % (
            self._size, self._alpha, self._beta, self._k)


class Inception(HybridBlock):
    """Four parallel branches concatenated on channels: 1x1 | 1x1->3x3 | 1x1->5x5 | pool->1x1.

    The six widths are the columns of Table 1 in the GoogLeNet paper: #1x1, #3x3 reduce,
    #3x3, #5x5 reduce, #5x5, pool proj. Output channels: ``c1 + c3 + c5 + pool_proj``.
    """

    def __init__(self, c1, c3_reduce, c3, c5_reduce, c5, pool_proj, batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.out_channels = c1 + c3 + c5 + pool_proj
        with self.name_scope():
            self.branch1 = conv_block(c1, 1, batch_norm=batch_norm)
            self.branch3 = nn.HybridSequential(prefix="b3_")
            self.branch3.add(conv_block(c3_reduce, 1, batch_norm=batch_norm),
                             conv_block(c3, 3, padding=1, batch_norm=batch_norm))
            self.branch5 = nn.HybridSequential(prefix="b5_")
            self.branch5.add(conv_block(c5_reduce, 1, batch_norm=batch_norm),
                             conv_block(c5, 5, padding=2, batch_norm=batch_norm))
            self.branch_pool = nn.HybridSequential(prefix="bpool_")
            self.branch_pool.add(nn.MaxPool2D(pool_size=3, strides=1, padding=1),
                                 conv_block(pool_proj, 1, batch_norm=batch_norm))

    def hybrid_forward(self, F, x):
        return F.concat(self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x),
                        dim=1)


class AuxClassifier(HybridBlock):
    """GoogLeNet's auxiliary classifier, attached after Inception 4a and 4d.

    The FC 1024 layer infers its input width on first use, so the head works at any input
    size where the 5x5/3 pool fits (4x4 at 224 px, 1x1 at 96 px), unlike a hard-coded 2048.
    """

    def __init__(self, classes, batch_norm=False, dropout=0.7, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.pool = nn.AvgPool2D(pool_size=5, strides=3)
            self.conv = conv_block(128, 1, batch_norm=batch_norm)
            self.fc = nn.Dense(1024, activation="relu")
            self.dropout = nn.Dropout(dropout)
            self.classifier = nn.Dense(classes)

    def hybrid_forward(self, F, x):
        return self.classifier(self.dropout(self.fc(self.conv(self.pool(x)))))


class ZeroPaddedIdentity(HybridBlock):
    """The paper's option-A shortcut: the identity, subsampled by ``strides`` and padded with
    zero channels to twice its width (He et al. 2015, section 4.2); no parameters."""

    def __init__(self, strides=2, **kwargs):
        super().__init__(**kwargs)
        self._strides = strides

    def hybrid_forward(self, F, x):
        # a 1x1 average pool with a stride is plain subsampling, and exports to ONNX
        x = F.Pooling(x, kernel=(1, 1), stride=(self._strides,) * 2, pool_type="avg")
        return F.concat(x, F.zeros_like(x), dim=1)


SHORTCUTS = ("identity", "projection", "zero-pad")


def _shortcut(kind, channels, strides, in_channels):
    """None for the identity, else the block that brings x to the body's shape."""
    if kind == "projection":
        return conv_block(channels, 1, strides, batch_norm=True, relu=False,
                          in_channels=in_channels)
    if kind == "zero-pad":
        return ZeroPaddedIdentity(strides)
    return None


class BasicBlock(HybridBlock):
    """Two 3x3 convolutions with a shortcut (ResNet-18/34, the CIFAR ResNets); ``expansion``
    = 1. ``shortcut`` is one of SHORTCUTS."""

    expansion = 1

    def __init__(self, channels, strides=1, shortcut="identity", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.body = nn.HybridSequential(prefix="")
            self.body.add(conv_block(channels, 3, strides, 1, batch_norm=True,
                                     in_channels=in_channels),
                          conv_block(channels, 3, 1, 1, batch_norm=True, relu=False))
            self.shortcut = _shortcut(shortcut, channels, strides, in_channels)

    def hybrid_forward(self, F, x):
        residual = self.shortcut(x) if self.shortcut is not None else x
        # Activation, not F.relu: only Activation runs through oneDNN. F.relu is a plain
        # elementwise loop that also makes oneDNN reorder its input and output layouts, and
        # cost ResNet-20 about a ninth of its training step (docs/performance.md).
        return F.Activation(self.body(x) + residual, act_type="relu")


class Bottleneck(HybridBlock):
    """1x1 reduce, 3x3, 1x1 expand (x4) with a shortcut (ResNet-50/101/152).

    As in the paper (and the Keras CNN chapter's Keras blocks) the stride sits on the first 1x1
    convolution; ``stride_on_3x3`` moves it to the 3x3 convolution, as torchvision and timm
    do ("ResNet v1.5"): the same parameters, a different function. ``shortcut="projection"``
    is the paper's projection shortcut (option B), used where the shape changes; otherwise the
    shortcut is the identity.
    """

    expansion = 4

    def __init__(self, channels, strides=1, shortcut="identity", in_channels=0,
                 stride_on_3x3=False, **kwargs):
        super().__init__(**kwargs)
        reduce_strides, middle_strides = (1, strides) if stride_on_3x3 else (strides, 1)
        with self.name_scope():
            self.body = nn.HybridSequential(prefix="")
            self.body.add(conv_block(channels, 1, reduce_strides, batch_norm=True,
                                     in_channels=in_channels),
                          conv_block(channels, 3, middle_strides, 1, batch_norm=True),
                          conv_block(channels * 4, 1, batch_norm=True, relu=False))
            self.shortcut = _shortcut(shortcut, channels * 4, strides, in_channels)

    def hybrid_forward(self, F, x):
        residual = self.shortcut(x) if self.shortcut is not None else x
        return F.Activation(self.body(x) + residual, act_type="relu")  # see BasicBlock
