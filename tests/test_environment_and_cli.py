"""Clear failures for a wrong environment, and the summary command line."""
import os
import re
import sys

import pytest

from gluon_cnn._env import IncompatibleEnvironment, check_environment
from conftest import ROOT, run_script


def test_new_numpy_is_refused_in_one_sentence():
    with pytest.raises(IncompatibleEnvironment, match=r"numpy<1\.24.*numpy 1\.24\.2 is installed"):
        check_environment(python_version=(3, 11), numpy_version="1.24.2")
    with pytest.raises(IncompatibleEnvironment, match="numpy 2.1.0"):
        check_environment(python_version=(3, 11), numpy_version="2.1.0")


def test_unsupported_python_is_refused():
    with pytest.raises(IncompatibleEnvironment, match="Python 3.8 to 3.11.*3.12"):
        check_environment(python_version=(3, 12), numpy_version="1.23.5")
    check_environment(python_version=(3, 8), numpy_version="1.23.5")


def test_summary_script_ends_with_total_params():
    result = run_script("summary.py", "--net", "googlenet", "--input-shape", "1,3,96,96")
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last == "Total params: 5,983,802"
    assert re.search(r"inception4 \(HybridSequential\)\s+\(1, 832, 2, 2\)", result.stdout)


def test_summary_script_bad_input_is_one_line():
    for args, message in [(["--net", "nope"], "unknown model 'nope'"),
                          (["--net", "vgg16", "--input-shape", "1,3,16,16"],
                           "vgg16 needs inputs of at least 32x32 pixels"),
                          (["--input-shape", "1,3,96"], "--input-shape takes four"),
                          (["--net", "lenet5", "--input-shape", "1,3,32,32"],
                           "1-channel images but got 3 channels")]:
        result = run_script("summary.py", *args)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines() == ["error: " + result.stderr.strip()[7:]]
        assert message in result.stderr


def test_training_imports_beside_torch_2(tmp_path):
    """gluoncv 0.10 refuses to import when torch >= 2 is installed (the benchmark extra)."""
    fake = tmp_path / "torch"
    fake.mkdir()
    (fake / "__init__.py").write_text("__version__ = '2.13.0'\n")
    code = ("import sys; sys.path.insert(0, %r); import torch; assert torch.__version__ == "
            "'2.13.0'; from gluon_cnn.training import train; print('ok')" % str(tmp_path))
    assert python_output(code, dict(os.environ)) == "ok"


def python_output(code, environment, *args):
    """stdout of ``python -c code args`` in a fresh interpreter with ``environment``."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", code] + list(args), capture_output=True,
                          text=True, env=environment,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _threads_after_import(environment):
    return python_output("import os, gluon_cnn; print(os.environ['OMP_NUM_THREADS'])",
                         environment)


def test_openmp_threads_default_to_the_usable_cores_and_the_user_value_wins():
    environment = {key: value for key, value in os.environ.items() if key != "OMP_NUM_THREADS"}
    assert _threads_after_import(environment) == str(len(os.sched_getaffinity(0)))
    assert _threads_after_import(dict(environment, OMP_NUM_THREADS="1")) == "1"


MMAP_PROBE = """
import ctypes, sys, gluon_cnn
if sys.argv[1:] == ["imperative"]:
    gluon_cnn._env.prefer_heap_reuse()
class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
libc.mallinfo2.restype = MallInfo2
size = 8 << 20
libc.free(libc.malloc(size))  # glibc's dynamic rule would raise the threshold past 8 MiB here
block = libc.malloc(size)
print(libc.mallinfo2().hblkhd >= size)  # mapped (given back when freed), not from the heap
"""


@pytest.mark.skipif(os.uname().sysname != "Linux" or
                    __import__("platform").libc_ver()[0] != "glibc", reason="glibc only")
def test_large_blocks_stay_mapped_unless_imperative_or_the_user_sets_the_threshold():
    def probe(extra, *args):
        environment = {key: value for key, value in os.environ.items()
                       if key != "MALLOC_MMAP_THRESHOLD_"}
        return python_output(MMAP_PROBE, dict(environment, **extra), *args)
    assert probe({}) == "True"
    assert probe({}, "imperative") == "False"  # reused from the heap
    assert probe({"MALLOC_MMAP_THRESHOLD_": str(32 << 20)}) == "False"
    assert probe({"MALLOC_MMAP_THRESHOLD_": str(64 << 10)}, "imperative") == "True"


def test_importing_the_package_leaves_matplotlibs_backend_alone():
    import subprocess
    code = ("import matplotlib; matplotlib.use('svg'); import gluon_cnn.training, "
            "gluon_cnn.analysis, gluon_cnn.visualize, gluon_cnn.plot; "
            "print(matplotlib.get_backend())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "svg"
