"""The network of airbench94 (Keller Jordan, "94% on CIFAR-10 in 3.29 Seconds on a Single
GPU", arXiv 2404.00498), the fastest known CIFAR-10 training: a small VGG-style network.

From the input (normalized per channel): a 2x2 patch-whitening convolution with 24 outputs
(its weights the eigenvectors of the training patches' covariance, scaled by their inverse
square root eigenvalues, and their negatives; frozen, its bias trained), GELU; three conv
groups of widths 64, 256, 256, each a 3x3 convolution, 2x2 max pool, batch norm, GELU, a
second 3x3 convolution, batch norm, GELU; a 3x3/3 max pool (of the 4x4 map, its top-left
3x3); a linear layer without bias and the logits scaled by 1/9. The convolutions have no
bias and start from the identity on their first input-many filters (Dirac), the rest
drawn as PyTorch draws them. Batch norm has momentum 0.6 (of the old running value), epsilon
1e-12 and no trained scale; its shifts learn 64 times faster (with weight decay kept equal).

``initialize_from_data(images)`` sets the whitening from training images; the method's
training (alternating flip, lookahead averaging, TTA, its schedule) is in the recipe
``airbench94`` and the training loop's switches.
"""
import math

import mxnet as mx
import numpy as np
from mxnet.gluon import HybridBlock, nn

from .base import Classifier
from .registry import register_model

# The paper's network, as data
AIRBENCH94 = {"widths": (64, 256, 256), "whitening_kernel": 2, "batch_norm_momentum": 0.6,
              "batch_norm_epsilon": 1e-12, "output_scale": 1 / 9, "bias_lr_scale": 64.0,
              "whitening_epsilon": 5e-4, "whitening_images": 5000, "whitening_bias_epochs": 3}


@mx.init.register
class DiracUniform(mx.init.Initializer):
    """A convolution that starts as the identity on its first ``in_channels`` outputs (a
    Dirac delta at the kernel's centre); every other filter is drawn from U(-b, b) with
    b = 1 / sqrt(fan-in), PyTorch's default for convolutions."""

    def _init_weight(self, name, arr):
        out_channels, in_channels, height, width = arr.shape
        bound = 1 / math.sqrt(in_channels * height * width)
        values = np.random.uniform(-bound, bound, arr.shape).astype(np.float32)
        identity = min(out_channels, in_channels)
        values[:identity] = 0
        values[np.arange(identity), np.arange(identity), height // 2, width // 2] = 1
        arr[:] = values


@mx.init.register
class FanInUniform(mx.init.Initializer):
    """U(-b, b) with b = 1 / sqrt(fan-in): PyTorch's default for a linear layer."""

    def _init_weight(self, name, arr):
        bound = 1 / math.sqrt(int(np.prod(arr.shape[1:])))
        arr[:] = np.random.uniform(-bound, bound, arr.shape)


def whitening_filters(images, kernel, epsilon):
    """(2 C k k, C, k, k) filters that whiten the k x k patches of ``images`` (N, C, H, W):
    the patch covariance's eigenvectors, largest eigenvalue first, each divided by the square
    root of its eigenvalue + ``epsilon``; then the same filters negated."""
    images = np.asarray(images, dtype=np.float64)
    count, channels, height, width = images.shape
    windows = np.lib.stride_tricks.sliding_window_view(images, (kernel, kernel), axis=(2, 3))
    # (N, C, H-k+1, W-k+1, k, k) -> one row per patch, laid out as (C, k, k)
    patches = windows.transpose(0, 2, 3, 1, 4, 5).reshape(-1, channels * kernel * kernel)
    covariance = patches.T @ patches / len(patches)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1]
    filters = (eigenvectors[:, order] / np.sqrt(eigenvalues[order] + epsilon)).T
    filters = filters.reshape(-1, channels, kernel, kernel)
    return np.concatenate([filters, -filters]).astype(np.float32)


class ConvGroup(HybridBlock):
    """conv 3x3 - max pool 2 - BN - GELU - conv 3x3 - BN - GELU."""

    def __init__(self, channels, in_channels, spec=AIRBENCH94, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.body = nn.HybridSequential(prefix="")
            for index in range(2):
                self.body.add(nn.Conv2D(channels, 3, padding=1, use_bias=False,
                                        in_channels=in_channels if index == 0 else channels,
                                        weight_initializer=DiracUniform()))
                if index == 0:
                    self.body.add(nn.MaxPool2D(2))
                self.body.add(nn.BatchNorm(momentum=spec["batch_norm_momentum"],
                                           epsilon=spec["batch_norm_epsilon"], scale=False,
                                           in_channels=channels),
                              nn.GELU())

    def hybrid_forward(self, F, x):
        return self.body(x)


class ScaledOutput(HybridBlock):
    """Logits times a constant (the paper's 1/9)."""

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self._scale = scale

    def hybrid_forward(self, F, x):
        return x * self._scale


class Airbench(Classifier):
    def __init__(self, classes=10, in_channels=3, spec=AIRBENCH94, **kwargs):
        super().__init__(in_channels=in_channels, canonical_size=32, **kwargs)
        self.spec = spec
        kernel = spec["whitening_kernel"]
        whitened = 2 * in_channels * kernel * kernel
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            whitening = nn.HybridSequential(prefix="whitening_")
            self.whitening = nn.Conv2D(whitened, kernel, use_bias=True, in_channels=in_channels,
                                       prefix="whitening_conv_")
            whitening.add(self.whitening, nn.GELU())
            self.features.add(whitening)
            previous = whitened
            for index, width in enumerate(spec["widths"]):
                self.features.add(ConvGroup(width, previous, spec,
                                            prefix="group%d_" % (index + 1)))
                previous = width
            self.features.add(nn.MaxPool2D(3))
            self.output = nn.HybridSequential(prefix="classifier_")
            self.output.add(nn.Flatten(),
                            nn.Dense(classes, use_bias=False, weight_initializer=FanInUniform()),
                            ScaledOutput(spec["output_scale"]))
        # the whitening is set from data, not trained; batch norm's shifts learn faster
        self.whitening.weight.grad_req = "null"
        for name, param in self.collect_params().items():
            if name.endswith("_beta"):
                param.lr_mult = spec["bias_lr_scale"]
                param.wd_mult = 1 / spec["bias_lr_scale"]

    def start_epoch(self, epoch):
        """The whitening's bias trains in the first epochs only (the paper's 3); then it is
        frozen (an optimizer skips a parameter whose lr_mult is 0)."""
        self.whitening.bias.lr_mult = 1.0 if epoch < self.spec["whitening_bias_epochs"] else 0.0

    def initialize_from_data(self, images):
        """Whiten the patches of ``images`` (N, C, H, W scaled to [0, 1], as the network
        takes them; the paper uses the first 5,000 training images)."""
        normalized = self.normalized(mx.nd.array(images)).asnumpy()
        kernel = self.spec["whitening_kernel"]
        filters = whitening_filters(normalized, kernel, self.spec["whitening_epsilon"])
        self.whitening.weight.set_data(mx.nd.array(filters))


@register_model
def airbench94(classes=10, **kwargs):
    """airbench94's network for 32-px images: patch whitening, three conv groups of 64, 256
    and 256 channels with GELU, 1/9-scaled logits (Jordan 2024; 1.97M parameters)."""
    return Airbench(classes=classes, **kwargs)
