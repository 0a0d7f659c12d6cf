"""Which GPUs the CUDA build runs on: the fatbin read from an ELF library, the compatibility
rule, and the refusal before MXNet touches an unsupported GPU (driver query stood in)."""
import struct

import mxnet as mx
import pytest

from gluon_cnn import UserError
from gluon_cnn._gpu_arch import (CONTAINER, ENTRY, FATBIN_MAGIC, Architectures,
                                 DriverQueryError, NotALibrary, family_of, query_gpu,
                                 read_architectures, runs_on)
from gluon_cnn.training import devices

MXNET_191 = Architectures([(5, 0), (6, 0), (7, 0), (8, 0), (8, 6)], [])


def fatbin(entries):
    """One fatbin container holding ``entries`` [(kind, sm, payload bytes)]."""
    body = b""
    for kind, sm, payload in entries:
        header_size = 64
        header = ENTRY.pack(kind, 0x101, header_size, len(payload), 0, 0, 7, 1, sm)
        body += header + b"\0" * (header_size - len(header)) + payload
    return CONTAINER.pack(FATBIN_MAGIC, 1, CONTAINER.size, len(body)) + body


def write_elf(path, sections):
    """A minimal ELF64 little-endian file with ``sections`` {name: bytes} and the string
    table that names them."""
    names = b"\0" + b"".join(name.encode() + b"\0" for name in sections) + b".shstrtab\0"
    blobs = list(sections.items()) + [(".shstrtab", names)]
    data, offsets = b"", []
    for _, blob in blobs:
        offsets.append(64 + len(data))
        data += blob + b"\0" * (-len(blob) % 8)
    section_offset = 64 + len(data)
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", header, 0x28, section_offset)
    struct.pack_into("<HHH", header, 0x3A, 64, len(blobs) + 1, len(blobs))
    table = b"\0" * 64  # the null section
    for (name, blob), offset in zip(blobs, offsets):
        table += struct.pack("<IIQQQQIIQQ", names.index(name.encode() + b"\0"), 1, 0, 0,
                             offset, len(blob), 0, 0, 1, 0)
    with open(path, "wb") as handle:
        handle.write(bytes(header) + data + table)
    return str(path)


def test_reads_cubins_and_ptx_from_every_container(tmp_path):
    # two containers, as a library built from two sources has, padding between them
    section = (fatbin([(2, 50, b"x" * 40), (2, 86, b"y" * 8)]) + b"\0" * 8
               + fatbin([(2, 70, b"z" * 16), (1, 80, b"ptx text"), (2, 50, b"w")]))
    library = write_elf(tmp_path / "libfake.so", {".text": b"\x90" * 32, ".nv_fatbin": section})
    assert read_architectures(library) == Architectures([(5, 0), (7, 0), (8, 6)], [(8, 0)])


def test_a_library_without_gpu_code_and_a_file_that_is_no_library(tmp_path):
    assert read_architectures(write_elf(tmp_path / "cpu.so", {".text": b"\x90"})) == \
        Architectures([], [])
    junk = tmp_path / "junk.so"
    junk.write_bytes(b"not an elf file" * 10)
    with pytest.raises(NotALibrary):
        read_architectures(str(junk))


@pytest.mark.parametrize("capability, runs", [
    ((3, 7), False), ((5, 0), True), ((5, 2), True), ((6, 1), True), ((7, 5), True),
    ((8, 6), True), ((8, 9), True), ((9, 0), False), ((10, 0), False), ((12, 0), False)])
def test_cubins_run_on_their_major_version_only(capability, runs):
    assert runs_on(capability, MXNET_191) == runs


def test_ptx_runs_on_every_newer_gpu():
    with_ptx = Architectures([(8, 0)], [(8, 0)])
    assert runs_on((9, 0), with_ptx) and runs_on((12, 0), with_ptx)
    assert not runs_on((7, 5), with_ptx)
    assert family_of((9, 0)) == "Hopper" and family_of((8, 9)) == "Ada"


@pytest.fixture
def mxnet_191_library(tmp_path):
    section = fatbin([(2, sm, b"c" * 16) for sm in (50, 60, 70, 80, 86)])
    return write_elf(tmp_path / "libmxnet.so", {".nv_fatbin": section})


def test_a_hopper_gpu_is_refused_in_one_sentence(mxnet_191_library):
    with pytest.raises(UserError) as refused:
        devices.check_gpu_runs_this_build(
            0, query=lambda index: ("NVIDIA H100 80GB HBM3", (9, 0)), library=mxnet_191_library)
    message = str(refused.value)
    assert message.startswith("GPU 0, NVIDIA H100 80GB HBM3, has compute capability 9.0 "
                              "(Hopper)")
    assert "5.0, 6.0, 7.0, 8.0, 8.6 (machine code), no PTX" in message
    assert "Train on the CPU" in message and "\n" not in message


def test_a_gpu_in_range_proceeds_silently(mxnet_191_library, caplog):
    devices.check_gpu_runs_this_build(
        1, query=lambda index: ("NVIDIA GeForce RTX 4090", (8, 9)), library=mxnet_191_library)
    assert caplog.records == []


def test_a_failed_driver_query_warns_and_lets_mxnet_try(mxnet_191_library, caplog):
    def no_driver(index):
        raise DriverQueryError("the NVIDIA driver's libcuda could not be loaded")
    devices.check_gpu_runs_this_build(0, query=no_driver, library=mxnet_191_library)
    assert "could not ask the driver which GPU 0 is" in caplog.text


def test_the_real_driver_query_fails_cleanly_without_a_driver():
    with pytest.raises(DriverQueryError):
        query_gpu(0, library="libcuda-that-is-not-here.so.1")


def test_the_installed_cpu_build_has_no_gpu_code():
    if mx.runtime.Features().is_enabled("CUDA"):
        pytest.skip("a CUDA build is installed")
    assert read_architectures(mx.libinfo.find_lib_path()[0]) == Architectures([], [])


def test_check_gpu_install_prints_the_code_and_the_generations_that_run_it(mxnet_191_library):
    import subprocess
    import sys
    from conftest import ROOT
    done = subprocess.run([sys.executable, ROOT + "/benchmarks/check_gpu_install.py",
                           "--library", mxnet_191_library], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "5.0, 6.0, 7.0, 8.0, 8.6 (machine code), no PTX" in lines[0]
    rows = {line.split()[0]: line.split()[-1] for line in lines[2:]}
    assert (rows["3.7"], rows["5.2"], rows["8.9"], rows["9.0"], rows["12.0"]) == (
        "no", "yes", "yes", "no", "no")
