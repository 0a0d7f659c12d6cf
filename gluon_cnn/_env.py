"""Checks that the interpreter and numpy can run MXNet 1.9.1, and the runtime defaults
(OpenMP threads, glibc's mmap threshold) that are set before mxnet is imported.

MXNet 1.9.1 is the last release: it uses ``np.bool`` (removed in numpy 1.24) and has no
wheels past Python 3.11, so a wrong environment fails deep inside mxnet. We fail first,
with one sentence that says what to install.
"""
import ctypes
import os
import re
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


def read_cpuinfo(text=None):
    """(model name, set of flags, clock in GHz or None) from /proc/cpuinfo's text. The
    clock is the nominal one in the model name ("@ 2.80GHz") where given, else "cpu MHz"."""
    if text is None:
        try:
            with open("/proc/cpuinfo") as handle:
                text = handle.read()
        except OSError:
            return "unknown", set(), None
    model = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    flags = re.search(r"^flags\s*:\s*(.*)$", text, re.M)
    clock = re.search(r"@ ([\d.]+)GHz", model.group(1)) if model else None
    if clock:
        ghz = float(clock.group(1))
    else:
        mhz = re.search(r"^cpu MHz\s*:\s*([\d.]+)", text, re.M)
        ghz = float(mhz.group(1)) / 1000 if mhz else None
    return (model.group(1).strip() if model else "unknown",
            set(flags.group(1).split()) if flags else set(), ghz)


# CPU features that decide which oneDNN kernels run, as /proc/cpuinfo names them.
NOTABLE_CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")


def usable_cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def describe_cpu():
    """The CPU model, its usable cores and notable vector features, in a few words."""
    model, flags, _ = read_cpuinfo()
    features = [flag for flag in NOTABLE_CPU_FLAGS if flag in flags]
    return "%s, %d cores usable%s" % (model, usable_cores(),
                                       " (%s)" % ", ".join(features) if features else "")


def set_thread_defaults():
    """Give MXNet's OpenMP pool one thread per core unless the user chose otherwise.

    Without OMP_NUM_THREADS, MXNet's CPU operators start more threads than a small machine
    has cores and a training step runs at about half speed (see README, Performance).
    """
    os.environ.setdefault("OMP_NUM_THREADS", str(physical_cores()))


M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h
MMAP_THRESHOLD_INITIAL = 128 << 10  # glibc's initial threshold
MMAP_THRESHOLD_MAX = 32 << 20  # the largest glibc accepts on 64-bit systems


def set_mmap_threshold(size):
    """glibc's mallopt(M_MMAP_THRESHOLD, size), unless the user set MALLOC_MMAP_THRESHOLD_
    (glibc reads it at start-up; the user's value wins) or malloc is not glibc's."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # a Linux without glibc (musl): no such threshold
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, size))


def set_memory_defaults():
    """Keep glibc's mmap threshold at its initial 128 KiB.

    By default glibc raises the threshold each time a large block is freed, up to 32 MiB;
    MXNet's large buffers then come from the heap and stay resident after they are freed.
    Pinned, they are mapped and given back: a hybridized training step of the 96-px
    GoogLeNet peaks 7-8% lower at the same speed (see README, Performance).
    """
    set_mmap_threshold(MMAP_THRESHOLD_INITIAL)


def prefer_heap_reuse():
    """For imperative execution, which allocates every activation anew at each step:
    blocks mapped and unmapped each time make its step about a third slower, so large
    blocks come from the heap, and are reused, from here on."""
    set_mmap_threshold(MMAP_THRESHOLD_MAX)


def import_mxnet():
    check_environment()
    set_thread_defaults()
    # oneDNN's "Subgraph backend MKLDNN is activated" on every fused graph: not the user's news
    os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")
    set_memory_defaults()
    from ._cuda import prepare_gpu_build
    missing = prepare_gpu_build()  # the GPU build's CUDA libraries, before mxnet needs them
    if missing:
        raise IncompatibleEnvironment(missing)
    try:
        import mxnet
    except ImportError as err:
        raise IncompatibleEnvironment(
            "MXNet is not installed (%s); run: pip install -e '.[cpu]' for the CPU build or "
            "pip install -e '.[gpu]' for CUDA 11.2." % err) from None
    except OSError as err:  # a shared library mxnet links to could not be loaded
        raise IncompatibleEnvironment("MXNet could not be loaded: %s." % str(err).strip()) \
            from None
    return mxnet
