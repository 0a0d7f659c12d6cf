"""The CUDA libraries of MXNet's GPU build, loaded before ``import mxnet``.

The ``mxnet-cu112`` wheel's ``libmxnet.so`` links to CUDA 11 libraries it does not ship
(``readelf -d`` lists them; see ``CUDA_LIBRARIES``). NVIDIA publishes each as a pip wheel
(``nvidia-*-cu11``, installed by the ``gpu`` extra) that unpacks to
``site-packages/nvidia/<package>/lib``, a folder the dynamic loader does not search. Loading
them here with global symbols, in dependency order, lets ``libmxnet.so`` find them already
in the process. A library the system loader finds first (``LD_LIBRARY_PATH``, the ld cache:
a system CUDA) is used instead. Only the driver's ``libcuda.so.1`` cannot come from pip.
"""
import ctypes
import importlib.metadata
import importlib.util
import logging
import os

log = logging.getLogger(__name__)

GPU_DISTRIBUTIONS = ("mxnet-cu112",)
# (soname libmxnet.so needs, folder under site-packages/nvidia/), dependencies first:
# cuBLAS needs cuBLASLt, cuSOLVER needs both; cuDNN finds its own sub-libraries ($ORIGIN).
CUDA_LIBRARIES = (
    ("libcudart.so.11.0", "cuda_runtime"),
    ("libnvToolsExt.so.1", "nvtx"),
    ("libnvrtc.so.11.2", "cuda_nvrtc"),
    ("libcublasLt.so.11", "cublas"),
    ("libcublas.so.11", "cublas"),
    ("libcufft.so.10", "cufft"),
    ("libcurand.so.10", "curand"),
    ("libcusolver.so.11", "cusolver"),
    ("libnccl.so.2", "nccl"),
    ("libcudnn.so.8", "cudnn"),
)
DRIVER_LIBRARY = "libcuda.so.1"


def gpu_build_installed():
    """Whether the installed mxnet is a GPU build (asked of pip's metadata: importing
    mxnet is what must not happen yet)."""
    for name in GPU_DISTRIBUTIONS:
        try:
            importlib.metadata.distribution(name)
            return True
        except importlib.metadata.PackageNotFoundError:
            continue
    return False


def nvidia_roots():
    """The folders of the ``nvidia`` namespace package (the NVIDIA wheels' home)."""
    try:
        spec = importlib.util.find_spec("nvidia")
    except (ImportError, ValueError):
        return []
    return list(spec.submodule_search_locations or []) if spec else []


def _load(path_or_name):
    try:
        ctypes.CDLL(path_or_name, mode=ctypes.RTLD_GLOBAL)
        return True
    except OSError:
        return False


def preload(libraries=CUDA_LIBRARIES, roots=None):
    """Load each library, the system's copy first, else the NVIDIA wheel's; returns
    {soname: "system", a path, or None when neither was found}."""
    roots = nvidia_roots() if roots is None else roots
    found = {}
    for soname, package in libraries:
        if _load(soname):
            found[soname] = "system"
            continue
        found[soname] = None
        for root in roots:
            path = os.path.join(root, package, "lib", soname)
            if os.path.isfile(path) and _load(path):
                found[soname] = path
                break
    for soname, where in found.items():
        log.debug("%s: %s", soname, "system loader" if where == "system" else where)
    return found


def problem(found, driver_found):
    """One sentence on what keeps the GPU build from loading, or None."""
    missing = [soname for soname, where in found.items() if where is None]
    if missing:
        return ("the GPU build of MXNet (mxnet-cu112) needs %s, found neither on the system "
                "nor among the NVIDIA pip packages; run pip install -e '.[gpu]', which "
                "installs them%s." % (", ".join(missing), "" if driver_found else
                                      ", and install the NVIDIA driver (libcuda.so.1)"))
    if not driver_found:
        return ("the GPU build of MXNet (mxnet-cu112) needs the NVIDIA driver, and its "
                "libcuda.so.1 was not found: install the driver (450.80.02 or newer, 520.61.05 "
                "or newer recommended), or install the CPU build instead: pip uninstall -y "
                "mxnet-cu112 && pip install -e '.[cpu]' (never both).")
    return None


def prepare_gpu_build():
    """When the GPU build is installed: load its CUDA libraries, and return one sentence
    on what is missing (None when nothing is)."""
    if not gpu_build_installed():
        return None
    return problem(preload(), _load(DRIVER_LIBRARY))
