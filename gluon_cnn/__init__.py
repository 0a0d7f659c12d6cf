"""gluon_cnn: classic convolutional networks on MXNet Gluon, to train, debug and deploy."""
from ._env import IncompatibleEnvironment, import_mxnet

import_mxnet()  # one clear sentence when Python, numpy or mxnet cannot work

from . import deploy  # noqa: E402
from .debug import receptive_field, stage_shapes, summary  # noqa: E402
from .errors import InputShapeError, UnknownModelError, UserError  # noqa: E402
from .models import get_model, list_models, with_aux_outputs  # noqa: E402

__version__ = "0.1.0"
__all__ = ["IncompatibleEnvironment", "deploy", "InputShapeError", "UnknownModelError", "UserError",
           "get_model", "list_models", "receptive_field", "stage_shapes", "summary",
           "with_aux_outputs"]
