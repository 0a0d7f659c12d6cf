"""Checks that the interpreter and numpy can run MXNet 1.9.1, before mxnet is imported.

MXNet 1.9.1 is the last release: it uses ``np.bool`` (removed in numpy 1.24) and has no
wheels past Python 3.11, so a wrong environment fails deep inside mxnet. We fail first,
with one sentence that says what to install.
"""
import os
import sys

SUPPORTED_PYTHONS = ((3, 8), (3, 11))
NUMPY_BELOW = (1, 24)


class IncompatibleEnvironment(ImportError):
    """The Python, numpy or mxnet installed cannot run gluon_cnn."""


def _version_tuple(text):
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def check_environment(python_version=None, numpy_version=None):
    """Raise IncompatibleEnvironment with one clear sentence when the stack cannot work."""
    python_version = tuple(python_version or sys.version_info[:2])
    low, high = SUPPORTED_PYTHONS
    if not low <= python_version <= high:
        raise IncompatibleEnvironment(
            "gluon_cnn needs Python 3.8 to 3.11 because MXNet 1.9.1 has no build for "
            "Python %d.%d; create the environment with python3.11." % python_version)
    if numpy_version is None:
        import numpy
        numpy_version = numpy.__version__
    if _version_tuple(numpy_version) >= NUMPY_BELOW:
        raise IncompatibleEnvironment(
            "gluon_cnn needs numpy<1.24 because MXNet 1.9.1 uses np.bool, but numpy %s is "
            "installed; run: pip install 'numpy<1.24'." % numpy_version)


def physical_cores():
    """Cores to give OpenMP: the CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def set_thread_defaults():
    """Give MXNet's OpenMP pool one thread per core unless the user chose otherwise.

    Without OMP_NUM_THREADS, MXNet's CPU operators start more threads than a small machine
    has cores and a training step runs at about half speed (see README, Performance).
    """
    os.environ.setdefault("OMP_NUM_THREADS", str(physical_cores()))


def import_mxnet():
    check_environment()
    set_thread_defaults()
    try:
        import mxnet
    except ImportError as err:
        raise IncompatibleEnvironment(
            "MXNet is not installed (%s); run: pip install -e '.[cpu]' for the CPU build or "
            "pip install -e '.[gpu]' for CUDA 11.2." % err) from None
    return mxnet
