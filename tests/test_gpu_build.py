"""The GPU build's CUDA libraries: found in NVIDIA's pip packages or on the system, and one
sentence for what is missing. Stand-in libraries (copies of a small extension module of
this Python, which any process can load) take the places of the real ones, which are
about 2 GB; benchmarks/check_gpu_install.sh checks the real install."""
import os
import shutil
import subprocess
import sys

from gluon_cnn import _cuda
from conftest import ROOT

LIBRARIES = (("libfakecudart.so.11.0", "cuda_runtime"), ("libfakecudnn.so.8", "cudnn"))


def stand_in():
    """A small shared object that loads anywhere: one of this Python's extension modules."""
    import _bisect
    return _bisect.__file__


def nvidia_tree(root, libraries=LIBRARIES):
    for soname, package in libraries:
        folder = root / "nvidia" / package / "lib"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(stand_in(), folder / soname)
    return [str(root / "nvidia")]


def test_libraries_load_from_the_nvidia_packages(tmp_path):
    roots = nvidia_tree(tmp_path)
    found = _cuda.preload(LIBRARIES, roots)
    assert found == {soname: os.path.join(roots[0], package, "lib", soname)
                     for soname, package in LIBRARIES}
    assert _cuda.problem(found, driver_found=True) is None


def test_a_missing_driver_is_one_sentence_that_blames_nothing_installed(tmp_path):
    found = _cuda.preload(LIBRARIES, nvidia_tree(tmp_path))
    message = _cuda.problem(found, driver_found=False)
    assert message.startswith("the GPU build of MXNet (mxnet-cu112) needs the NVIDIA driver")
    assert "libcuda.so.1" in message and "pip install -e '.[cpu]'" in message
    assert "libfake" not in message and message.count(". ") == 0


def test_a_missing_library_is_named(tmp_path):
    roots = nvidia_tree(tmp_path, LIBRARIES[:1])
    found = _cuda.preload(LIBRARIES, roots)
    assert found["libfakecudnn.so.8"] is None
    message = _cuda.problem(found, driver_found=True)
    assert "needs libfakecudnn.so.8" in message and "libfakecudart" not in message


def test_a_system_copy_on_ld_library_path_wins(tmp_path):
    system = tmp_path / "system-cuda"
    system.mkdir()
    shutil.copy(stand_in(), system / LIBRARIES[0][0])
    roots = nvidia_tree(tmp_path / "site")
    code = ("import logging, sys; logging.basicConfig(level=logging.DEBUG); "
            "from gluon_cnn import _cuda; print(_cuda.preload(%r, %r))" % (LIBRARIES, roots))
    env = dict(os.environ, LD_LIBRARY_PATH=str(system), PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "'libfakecudart.so.11.0': 'system'" in done.stdout
    assert "libfakecudart.so.11.0: system loader" in done.stderr  # said at debug level
    assert "nvidia/cudnn/lib/libfakecudnn.so.8" in done.stdout


def test_the_cpu_build_loads_nothing_and_the_gpu_build_loads_its_libraries(monkeypatch):
    loaded = []
    monkeypatch.setattr(_cuda, "preload", lambda: loaded.append("cuda") or {})
    monkeypatch.setattr(_cuda, "_load", lambda name: loaded.append(name) or "driver")
    monkeypatch.setattr(_cuda, "gpu_build_installed", lambda: False)
    assert _cuda.prepare_gpu_build() is None and loaded == []
    monkeypatch.setattr(_cuda, "gpu_build_installed", lambda: True)
    assert _cuda.prepare_gpu_build() is None  # every library there, the driver too
    assert loaded == ["cuda", _cuda.DRIVER_LIBRARY]


def test_which_build_is_installed_is_read_from_pip_metadata(monkeypatch):
    import importlib.metadata
    present = set()

    def distribution(name):
        if name not in present:
            raise importlib.metadata.PackageNotFoundError(name)
        return name
    monkeypatch.setattr(importlib.metadata, "distribution", distribution)
    assert not _cuda.gpu_build_installed()
    present.add("mxnet")
    assert not _cuda.gpu_build_installed()
    present.add(_cuda.GPU_DISTRIBUTIONS[0])
    assert _cuda.gpu_build_installed()


def test_the_gpu_extra_pins_a_wheel_for_every_library_mxnet_needs():
    text = open(os.path.join(ROOT, "setup.py")).read()
    for soname, package in _cuda.CUDA_LIBRARIES:
        assert soname in text  # each pin names the soname it was checked to provide
        assert "nvidia-%s-cu11==" % package.replace("_", "-") in text
