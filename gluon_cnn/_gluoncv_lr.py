"""gluoncv's learning-rate schedulers (``gluoncv/utils/lr_scheduler.py``), run in this module.

Two reasons not to ``from gluoncv.utils import LRScheduler``: the gluoncv package import
(0.10.5) raises whenever torch >= 2 is installed beside it, as it is for our PyTorch
benchmarks; and MXNet's parameter servers unpickle the optimizer, schedule included, by
importing the schedule's module, which must then be importable on its own, early, and
without gluoncv's start-up. The scheduler file needs only ``mxnet.lr_scheduler``, so its
code is executed here and its classes belong to this importable module.
"""
import importlib.util
import os

_package = importlib.util.find_spec("gluoncv")  # locates gluoncv without running it
if _package is None or not _package.submodule_search_locations:
    raise ImportError("gluoncv is not installed; run: pip install -e '.[cpu]'")
_source_path = os.path.join(list(_package.submodule_search_locations)[0], "utils",
                            "lr_scheduler.py")
with open(_source_path) as _source:
    exec(compile(_source.read(), _source_path, "exec"), globals())  # noqa: S102
