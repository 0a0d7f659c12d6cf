import collections
import importlib
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import gluon_cnn  # noqa: E402,F401  (first: it sets the thread defaults before mxnet loads)
import mxnet as mx  # noqa: E402

from gluon_cnn._env import read_cpuinfo  # noqa: E402
from gluon_cnn.distributed import PS_LITE_ABORT  # noqa: E402
from gluon_cnn.training.devices import BFLOAT16_CPU_FLAGS  # noqa: E402

# --amp on the CPU computes in bfloat16, which oneDNN runs only with AVX-512; on other CPUs
# (an AMD EPYC Zen 3 has AVX2 only) it is refused, and the tests check the refusal instead.
CPU_RUNS_BFLOAT16 = BFLOAT16_CPU_FLAGS <= read_cpuinfo()[1]
needs_bfloat16 = pytest.mark.skipif(not CPU_RUNS_BFLOAT16,
                                    reason="this CPU has no AVX-512: --amp is refused here")


@pytest.fixture(autouse=True)
def seeded():
    mx.random.seed(0)
    import numpy
    numpy.random.seed(0)


# The zoo for the tests that run every network end to end (export, ONNX): a network whose
# layer types and code path another one shares is stood for by it there (the deeper CIFAR
# ResNets by cifar_resnet20, the deeper VGGs by vgg11 and vgg11_bn, ResNet-101 and -152 by
# ResNet-50, the torchvision layouts by alexnet and resnet50); the shape and parameter-count
# tests still take every network.
SAME_PATH_AS_ANOTHER = ("cifar_resnet32", "cifar_resnet44", "cifar_resnet56", "cifar_resnet110",
                        "vgg13", "vgg16", "vgg19", "vgg13_bn", "vgg16_bn", "vgg19_bn",
                        "resnet101", "resnet152",
                        "alexnet_owt", "resnet50_v1_5", "resnet101_v1_5", "resnet152_v1_5")
ROUNDTRIP_ZOO = [name for name in gluon_cnn.list_models() if name not in SAME_PATH_AS_ANOTHER]


FinishedRun = collections.namedtuple("FinishedRun", "run image")


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    """One tiny finished LeNet-5 run (checkpoint, export, curves) on an image folder, and one
    of its test images: the run the tool tests read. A test that changes a file of it puts
    the file back."""
    from gluon_cnn.training import train
    from helpers import quick_config, write_image_folder
    root = tmp_path_factory.mktemp("finished")
    data = write_image_folder(str(root / "data"), per_class=(6, 2))
    train(quick_config(root, dataset="imagefolder", data_dir=data, num_epochs=1, batch_size=6))
    return FinishedRun(root / "run", os.path.join(data, "test", "dog", "0000.png"))


def script_command(name, *args):
    """The command line that runs scripts/<name> with ``args`` in a fresh interpreter."""
    return [sys.executable, os.path.join(ROOT, "scripts", name)] + [str(arg) for arg in args]


ToolResult = collections.namedtuple("ToolResult", "returncode stdout stderr")


@pytest.fixture
def run_tool(capsys):
    """Run scripts/<name>'s main in this process as the script would (exit status, stdout,
    stderr); a fresh interpreter per call costs more than most calls themselves."""
    from gluon_cnn.cli import run_main

    def run(name, *args):
        capsys.readouterr()
        module = importlib.import_module("gluon_cnn.cli." + name[:-len(".py")])
        status = run_main(module.main, [str(arg) for arg in args])
        out, err = capsys.readouterr()
        return ToolResult(status, out, err)
    return run


def run_script(name, *args, cwd=None, timeout=600):
    """Run scripts/<name> in a fresh interpreter; returns the CompletedProcess."""
    import subprocess
    return subprocess.run(script_command(name, *args), capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


# MXNet 1.9.1's parameter server now and then aborts a job in its first steps
# (gluon_cnn.distributed.PS_LITE_ABORT, docs/scaling-out.md): a race inside libmxnet that no
# release will fix. The tests of distributed jobs rerun on exactly that abort, twice at
# most, and fail at once on anything else.
distributed_job = pytest.mark.flaky(reruns=2, only_rerun=["PsLiteAbort"])


class PsLiteAbort(AssertionError):
    """A distributed job died of ps-lite's own abort, not of anything the project does."""


def check_ps_lite_abort(output):
    """Raise PsLiteAbort when a job's output shows ps-lite's abort."""
    match = PS_LITE_ABORT.search(output)
    if match:
        raise PsLiteAbort("the job died of MXNet's parameter-server abort (%s):\n%s"
                          % (match.group(0), output))


def assert_job_succeeded(result):
    """A launched job's CompletedProcess ended with status 0 (PsLiteAbort if ps-lite aborted it)."""
    output = result.stdout + result.stderr
    if result.returncode != 0:
        check_ps_lite_abort(output)
    assert result.returncode == 0, output
