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

from .._env import describe_cpu
from ..paths import RunFolder


def describe_machine():
    """One line: CPU model, usable cores, notable vector features, Python, MXNet."""
    return "%s; Python %s, MXNet %s, OMP_NUM_THREADS=%s" % (
        describe_cpu(), platform.python_version(), mx.__version__,
        os.environ.get("OMP_NUM_THREADS", "unset"))


class AppendingFileHandler(logging.Handler):
    """Appends each record to the file, opened anew for every line: a file that git (or the
    user) replaces while the run goes on gets the next lines, where a handler holding the
    file open would write them to the replaced copy, which nobody sees."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def emit(self, record):
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(self.format(record) + "\n")


@contextlib.contextmanager
def console_log(folder, argv=None):
    """While active, every log record also goes to ``folder/train.log``; a run that ends in
    an error writes the error there too, as the user saw it."""
    path = RunFolder(folder).log
    handler = AppendingFileHandler(path)
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
