"""The model zoo: one module per family, all registered with ``get_model``/``list_models``."""
from . import airbench, alexnet, googlenet, lenet, resnet, vgg  # noqa: F401  (registers the builders)
from .base import NORMALIZATIONS, Classifier, InputNormalization
from .blocks import (AuxClassifier, BasicBlock, Bottleneck, Inception, LocalResponseNorm,
                     ZeroPaddedIdentity, conv_block)
from .googlenet import WithAuxOutputs, with_aux_outputs
from .registry import (check_model_name, describe_model, get_model, list_models,
                       register_model)

__all__ = ["NORMALIZATIONS", "AuxClassifier", "BasicBlock", "Bottleneck", "Classifier",
           "Inception", "InputNormalization", "LocalResponseNorm", "WithAuxOutputs",
           "ZeroPaddedIdentity", "check_model_name", "conv_block", "describe_model", "get_model",
           "list_models", "register_model", "with_aux_outputs"]
