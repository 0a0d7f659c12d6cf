"""Checks a GPU install made with pip alone (issue 13), on a machine with or without the
NVIDIA driver. Run it in a fresh environment, not in CI (the wheels are about 2 GB):

    python3.11 -m venv /tmp/gpu-venv && . /tmp/gpu-venv/bin/activate
    pip install -e '.[gpu]'
    python benchmarks/check_gpu_install.py | tee results/gpu_install_check.txt

It prints the GPU code ``libmxnet.so`` carries (its fatbin's compute capabilities) and which
GPU generations can run it, reads the libraries ``libmxnet.so`` links to (``readelf -d``), loads the CUDA ones as
``import gluon_cnn`` does, asks ``ldd`` whether every one resolves, and runs ``import
gluon_cnn`` and ``scripts/train.py --gpus 0`` in fresh interpreters. Without a driver,
everything must resolve but ``libcuda.so.1``, and both commands must end with the one
driver sentence and exit status 2. Exit status 0 when every expectation holds.

``--library PATH`` prints only the GPU code of that library and the generations that run it
(for a wheel's ``libmxnet.so`` unpacked anywhere, no install needed).
"""
import argparse
import datetime
import importlib.metadata
import importlib.util
import os
import platform
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_foundation_module(name):
    """gluon_cnn/<name>.py on its own (_cuda, _gpu_arch): importing the package would import
    mxnet."""
    spec = importlib.util.spec_from_file_location(
        "gluon_cnn" + name, os.path.join(ROOT, "gluon_cnn", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu_model():
    try:
        with open("/proc/cpuinfo") as handle:
            return re.search(r"model name\s*:\s*(.*)", handle.read()).group(1)
    except (OSError, AttributeError):
        return platform.processor()


def print_gpu_code(library):
    """The compute capabilities ``library`` carries code for, and the GPUs that run it."""
    arch = load_foundation_module("_gpu_arch")
    started = time.perf_counter()
    found = arch.read_architectures(library)
    print("GPU code in %s: %s (read in %.0f ms)" % (
        library, arch.format_capabilities(found), 1000 * (time.perf_counter() - started)))
    print("%-10s %-10s %-26s %s" % ("capability", "family", "examples", "runs"))
    for capability, family, examples in arch.GPU_CAPABILITIES:
        print("%-10s %-10s %-26s %s" % ("%d.%d" % capability, family, examples,
                                        "yes" if arch.runs_on(capability, found) else "no"))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--library", help="only print the GPU code of this libmxnet.so")
    args = parser.parse_args(argv)
    if args.library:
        print_gpu_code(args.library)
        return 0
    cuda = load_foundation_module("_cuda")
    checks = []

    def check(name, passed, detail=""):
        checks.append(passed)
        print("%s  %s%s" % ("PASS" if passed else "FAIL", name, (": " + detail) if detail else ""))

    print("date: %s" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    print("machine: %s, %d cores, Python %s, %s" % (cpu_model(), os.cpu_count(),
                                                   platform.python_version(),
                                                   platform.platform()))
    for name in ("mxnet-cu112", "mxnet") + tuple(
            "nvidia-%s-cu11" % package.replace("_", "-")
            for package in sorted({package for _, package in cuda.CUDA_LIBRARIES})):
        try:
            print("installed: %s %s" % (name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            print("installed: %s -" % name)
    check("the GPU build is installed", cuda.gpu_build_installed())
    check("the CPU build is not installed beside it", not _installed("mxnet"))

    mxnet_dir = importlib.util.find_spec("mxnet").submodule_search_locations[0]
    library = os.path.join(mxnet_dir, "libmxnet.so")
    check("libmxnet.so carries GPU machine code", bool(print_gpu_code(library).cubins))
    dynamic = subprocess.run(["readelf", "-d", library], capture_output=True, text=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic)
    print("libmxnet.so needs: %s" % " ".join(needed))
    wanted = {soname for soname, _ in cuda.CUDA_LIBRARIES} | {cuda.DRIVER_LIBRARY}
    cuda_needed = [name for name in needed if name in wanted or "cu" in name or "nv" in name]
    check("gluon_cnn knows every CUDA library libmxnet.so needs",
          set(cuda_needed) <= wanted, " ".join(sorted(set(cuda_needed) - wanted)))

    found = cuda.preload()
    for soname, where in found.items():
        print("  %-20s %s" % (soname, where))
    check("every CUDA library loads", all(found.values()))

    roots = cuda.nvidia_roots()
    search = [os.path.join(root, package, "lib") for root in roots
              for package in sorted({package for _, package in cuda.CUDA_LIBRARIES})]
    env = dict(os.environ, LD_LIBRARY_PATH=":".join(search + [mxnet_dir]))
    ldd = subprocess.run(["ldd", library], capture_output=True, text=True, env=env).stdout
    unresolved = sorted(set(re.findall(r"^\s*(\S+) => not found", ldd, re.M)))
    driver = cuda._load(cuda.DRIVER_LIBRARY)
    print("NVIDIA driver (libcuda.so.1) present: %s" % driver)
    expected = [] if driver else [cuda.DRIVER_LIBRARY]
    check("ldd resolves every library but the driver's" if not driver else
          "ldd resolves every library", unresolved == expected, " ".join(unresolved))

    for argv in ([sys.executable, "-c", "import gluon_cnn"],
                 [sys.executable, os.path.join(ROOT, "scripts", "train.py"), "--net",
                  "googlenet", "--gpus", "0", "--dataset", "synthetic", "--num-epochs", "1",
                  "--out", os.path.join("/tmp", "gpu-check-run-%d" % os.getpid())]):
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=600)
        shown = " ".join(argv[1:3]) if argv[1] == "-c" else "scripts/train.py --gpus 0"
        print("$ %s -> exit %d\n%s" % (shown, done.returncode, done.stderr.strip()))
        lines = done.stderr.strip().splitlines()
        if driver:
            check("%s runs" % shown, done.returncode == 0)
        elif argv[1] == "-c":  # in Python, the import raises the sentence as its exception
            check("import gluon_cnn raises IncompatibleEnvironment with the driver sentence, "
                  "no OSError from inside mxnet",
                  bool(lines) and lines[-1].startswith("gluon_cnn._env.IncompatibleEnvironment: "
                                                       "the GPU build") and
                  "NVIDIA driver" in lines[-1] and "OSError" not in done.stderr)
        else:
            check("%s: exit status 2, one line naming the driver" % shown,
                  done.returncode == 2 and len(lines) == 1 and "NVIDIA driver" in lines[0]
                  and "Traceback" not in done.stderr)
    print("%d of %d checks passed" % (sum(checks), len(checks)))
    return 0 if all(checks) else 1


def _installed(name):
    try:
        importlib.metadata.distribution(name)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


if __name__ == "__main__":
    sys.exit(main())
