"""gluon_cnn: classic CNNs (LeNet, AlexNet, VGG, GoogLeNet, ResNet) on MXNet Gluon.

Why the pins (the one place they are explained; README "Installation" repeats it):
- MXNet 1.9.1 is the last MXNet release. It uses ``np.bool``, removed in numpy 1.24, so
  numpy stays below 1.24; numpy 1.23 has no wheels for Python 3.12, hence Python 3.8-3.11.
- MXNet itself is an extra: ``mxnet`` (CPU) and ``mxnet-cu112`` (CUDA 11.2) install the same
  ``mxnet`` module and must never both be installed, so ``.[cpu]`` and ``.[gpu]`` each pull
  exactly one of them. ``.[gpu]`` also pulls NVIDIA's pip wheels of the CUDA libraries the
  GPU build links to but does not ship; only the driver must come from the system.
- gluoncv 0.10.5.post0 (LR schedulers) pulls opencv-python, pandas, scipy and
  matplotlib; their newer releases need numpy >= 1.24 or numpy 2 and would replace our
  numpy and break ``import mxnet``. The upper bounds keep the last releases that accept
  numpy 1.23 (tested together: numpy 1.23.5, opencv-python 4.8.1.78, pandas 2.0.3,
  scipy 1.10.1, matplotlib 3.7.5).
- torch 2.13.0 (``.[test]``, ``.[torch]``, ``.[bench]``): the CPU build these machines carry;
  torchvision 0.28.0 is the release made for it, and timm 1.0.31 the newest. Installing torch
  upgrades setuptools past the one that still had ``pkg_resources``; nothing here uses it.
  gluoncv 0.10.5 refuses to import beside torch >= 2, which ``gluon_cnn/_gluoncv_lr.py``
  works around.
- ONNX (optional ``.[onnx]``): onnx 1.17.0 and onnxruntime 1.32.0 both declare no upper
  bound on numpy and run with numpy 1.23.5 (``tests/test_onnx.py`` checks every kind of zoo
  network through them); older onnxruntime releases for Python 3.11 (1.15, 1.16) demand
  numpy >= 1.24.2 and would break ``import mxnet``, so the versions are pinned exactly.
"""
from setuptools import find_packages, setup

MXNET_VERSION = "1.9.1"
# NVIDIA's pip wheels of what mxnet-cu112's libmxnet.so links to (readelf -d), with the
# soname each provides: cuDNN 8 (not 9: libcudnn.so.8), NCCL 2, and CUDA 11 components
# (CUDA 11's sonames, so 11.8 builds serve a CUDA 11.2 program).
CUDA_WHEELS = [
    "nvidia-cudnn-cu11==8.9.6.50",        # libcudnn.so.8
    "nvidia-nccl-cu11==2.21.5",           # libnccl.so.2
    "nvidia-cuda-runtime-cu11==11.8.89",  # libcudart.so.11.0
    "nvidia-cufft-cu11==10.9.0.58",       # libcufft.so.10
    "nvidia-cublas-cu11==11.11.3.6",      # libcublas.so.11, libcublasLt.so.11
    "nvidia-cusolver-cu11==11.4.1.48",    # libcusolver.so.11
    "nvidia-curand-cu11==10.3.0.86",      # libcurand.so.10
    "nvidia-cuda-nvrtc-cu11==11.8.89",    # libnvrtc.so.11.2
    "nvidia-nvtx-cu11==11.8.86",          # libnvToolsExt.so.1
]

setup(
    name="gluon_cnn",
    version="0.1.0",
    description="Train, debug and deploy the classic convolutional networks on MXNet Gluon",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["gluon_cnn", "gluon_cnn.*"]),
    package_data={"gluon_cnn": ["recipes/*.json"]},
    python_requires=">=3.8,<3.12",
    install_requires=[
        "numpy>=1.17,<1.24",
        "gluoncv==0.10.5.post0",
        "opencv-python>=4.2,<4.9",
        "pandas<2.1",
        "scipy<1.11",
        "matplotlib>=3.3,<3.8",
        "Pillow>=8",
        "tqdm>=4.40",
        # scripts/import_weights.py reads .safetensors without torch
        "safetensors>=0.4,<1",
    ],
    extras_require={
        "cpu": ["mxnet==" + MXNET_VERSION],
        # libmxnet.so's CUDA 11 libraries, none shipped in the wheel (gluon_cnn/_cuda.py
        # loads them before mxnet); each release checked to carry the soname it needs
        "gpu": ["mxnet-cu112==" + MXNET_VERSION] + CUDA_WHEELS,
        # rerunfailures: distributed-job tests rerun on MXNet's parameter-server abort only;
        # tensorboardX: the --tensorboard test reads the event files it writes
        # torch, torchvision, timm: the import tests build their networks as references
        # (torchvision's compiled operators do not load beside this CPU torch; its model code
        # does: tests/torch_models.py)
        "test": ["pytest>=7", "pytest-rerunfailures>=14", "tensorboardX==2.6.2.2",
                 "torch==2.13.0", "torchvision==0.28.0", "timm==1.0.31"],
        # scripts/import_weights.py on .pth files
        "torch": ["torch==2.13.0"],
        # train.py --tensorboard (2.6.2.2 runs with numpy 1.23)
        "tensorboard": ["tensorboardX==2.6.2.2"],
        "onnx": ["onnx==1.17.0", "onnxruntime==1.32.0"],
        # benchmarks/compare_pytorch.py only; CPU build from the local wheel on our machines
        "bench": ["torch==2.13.0"],
    },
    classifiers=[
        "Programming Language :: Python :: 3.8",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
    ],
)
