import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import gluon_cnn  # noqa: E402,F401  (first: it sets the thread defaults before mxnet loads)
import mxnet as mx  # noqa: E402


@pytest.fixture(autouse=True)
def seeded():
    mx.random.seed(0)
    import numpy
    numpy.random.seed(0)


def script_command(name, *args):
    """The command line that runs scripts/<name> with ``args`` in a fresh interpreter."""
    return [sys.executable, os.path.join(ROOT, "scripts", name)] + [str(arg) for arg in args]


def run_script(name, *args, cwd=None, timeout=600):
    """Run scripts/<name> in a fresh interpreter; returns the CompletedProcess."""
    import subprocess
    return subprocess.run(script_command(name, *args), capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)
