"""A run folder's own console log, ``train.log``: the command line and the machine at the
top, then every line the run logs, appended across ``--resume``."""
import contextlib
import datetime
import logging
import os
import platform
import shlex
import sys

import mxnet as mx

from .._env import read_cpuinfo
from ..paths import RunFolder

# CPU features that decide which oneDNN kernels run, as /proc/cpuinfo names them.
NOTABLE_CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")


def describe_machine():
    """One line: CPU model, usable cores, notable vector features, Python, MXNet."""
    model, flags, _ = read_cpuinfo()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    features = [flag for flag in NOTABLE_CPU_FLAGS if flag in flags]
    return "%s, %d cores usable%s; Python %s, MXNet %s, OMP_NUM_THREADS=%s" % (
        model, cores, " (%s)" % ", ".join(features) if features else "",
        platform.python_version(), mx.__version__, os.environ.get("OMP_NUM_THREADS", "unset"))


@contextlib.contextmanager
def console_log(folder, argv=None):
    """While active, every log record also goes to ``folder/train.log``; a run that ends in
    an error writes the error there too, as the user saw it."""
    path = RunFolder(folder).log
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    package = logging.getLogger("gluon_cnn")
    argv = sys.argv if argv is None else argv
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("# %s  %s\n# machine: %s\n" % (
            datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            " ".join(shlex.quote(part) for part in argv), describe_machine()))
    package.addHandler(handler)
    level = package.level
    package.setLevel(logging.INFO)  # the file gets the epoch lines whoever set up logging
    try:
        yield path
    except Exception as err:
        handler.emit(logging.makeLogRecord({"msg": "error: %s" % err, "levelno": logging.ERROR,
                                            "levelname": "ERROR"}))
        raise
    finally:
        package.removeHandler(handler)
        package.setLevel(level)
        handler.close()
