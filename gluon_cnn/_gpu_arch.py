"""Which GPUs an MXNet CUDA build runs on, read from its ``libmxnet.so``, and what the driver
says a GPU is.

A CUDA library carries its GPU code in the ELF section ``.nv_fatbin``: a run of fatbin
containers (magic 0xBA55ED50), each holding entries that are either machine code (a cubin)
for one compute capability or PTX, which the driver compiles for newer GPUs. A cubin built
for X.y runs on X.z with z >= y; PTX for X.y runs on any GPU of X.y or newer. MXNet 1.9.1's
``mxnet-cu112`` and ``mxnet-cu117`` carry cubins for 5.0, 6.0, 7.0, 8.0 and 8.6 and no PTX,
so Kepler (3.x), Hopper (9.0) and Blackwell (10.x, 12.x) GPUs fail in MXNet's first kernel
with "no kernel image is available for execution on the device".

Only the headers are read, seeking from one container and entry to the next: the section is
about 500 MB and the check takes milliseconds. No mxnet import: this sits below it.
"""
import collections
import ctypes
import ctypes.util
import functools
import struct

FATBIN_MAGIC = 0xBA55ED50
ENTRY_PTX, ENTRY_CUBIN = 1, 2
# fatbin container header: magic, version, header size, size of the entries after it
CONTAINER = struct.Struct("<IHHQ")
# entry header (its first 32 bytes): kind, version, header size, payload size, compressed
# size, unknown, minor and major version of the entry format, architecture (sm_XY -> XY)
ENTRY = struct.Struct("<HHIQIIHHI")

Architectures = collections.namedtuple("Architectures", "cubins ptx")

# Compute capabilities of NVIDIA's GPU generations since Kepler: (capability, family,
# examples), for the docs' table and benchmarks/check_gpu_install.py
GPU_CAPABILITIES = [
    ((3, 5), "Kepler", "K20, K40, GTX 780"),
    ((3, 7), "Kepler", "K80"),
    ((5, 0), "Maxwell", "GTX 750"),
    ((5, 2), "Maxwell", "GTX 980, M40"),
    ((6, 0), "Pascal", "P100"),
    ((6, 1), "Pascal", "GTX 1080, P40, P4"),
    ((7, 0), "Volta", "V100"),
    ((7, 5), "Turing", "T4, RTX 2080"),
    ((8, 0), "Ampere", "A100, A30"),
    ((8, 6), "Ampere", "RTX 3090, A10, A40"),
    ((8, 9), "Ada", "L4, L40, RTX 4090"),
    ((9, 0), "Hopper", "H100, H200, GH200"),
    ((10, 0), "Blackwell", "B200, GB200"),
    ((12, 0), "Blackwell", "RTX 5090, RTX PRO 6000"),
]


class NotALibrary(ValueError):
    """The file is not a 64-bit little-endian ELF file, or its fatbin is malformed."""


def _section(handle, name):
    """(offset, size) of the ELF64 section ``name``, or None when the file has none."""
    handle.seek(0)
    ident = handle.read(64)
    if len(ident) < 64 or ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1:
        raise NotALibrary("not a 64-bit little-endian ELF file")
    section_offset, = struct.unpack_from("<Q", ident, 0x28)
    entry_size, count, names_index = struct.unpack_from("<HHH", ident, 0x3A)
    handle.seek(section_offset)
    headers = handle.read(entry_size * count)
    if len(headers) < entry_size * count or names_index >= count:
        raise NotALibrary("its section headers are cut short")

    def header(index):
        # name, type, flags, address, offset, size
        return struct.unpack_from("<IIQQQQ", headers, index * entry_size)
    names_offset, names_size = header(names_index)[4:6]
    handle.seek(names_offset)
    names = handle.read(names_size)
    wanted = name.encode()
    for index in range(count):
        fields = header(index)
        end = names.find(b"\0", fields[0])
        if names[fields[0]:end] == wanted:
            return fields[4], fields[5]
    return None


def read_architectures(path):
    """Architectures(cubins, ptx): the sorted compute capabilities (as (major, minor)) that
    the fatbin of the ELF library ``path`` holds machine code and PTX for."""
    cubins, ptx = set(), set()
    with open(path, "rb") as handle:
        section = _section(handle, ".nv_fatbin")
        if section is None:
            return Architectures([], [])
        start, size = section
        position, end = start, start + size
        while position + CONTAINER.size <= end:
            handle.seek(position)
            magic, _, header_size, entries_size = CONTAINER.unpack(handle.read(CONTAINER.size))
            if magic != FATBIN_MAGIC:
                # containers are aligned: skip the padding between them
                position += 8
                continue
            entry, entries_end = position + header_size, position + header_size + entries_size
            while entry + ENTRY.size <= entries_end:
                handle.seek(entry)
                kind, _, entry_header, payload, _, _, _, _, arch = ENTRY.unpack(
                    handle.read(ENTRY.size))
                if entry_header < ENTRY.size:
                    raise NotALibrary("a fatbin entry at byte %d is malformed" % entry)
                capability = (arch // 10, arch % 10)
                if kind == ENTRY_CUBIN:
                    cubins.add(capability)
                elif kind == ENTRY_PTX:
                    ptx.add(capability)
                entry += entry_header + payload
            position = entries_end
    return Architectures(sorted(cubins), sorted(ptx))


@functools.lru_cache(maxsize=None)
def cached_architectures(path):
    return read_architectures(path)


def runs_on(capability, architectures):
    """Whether a GPU of compute capability ``capability`` (major, minor) can run the code:
    a cubin of the same major version and a minor version at most its own, or PTX for it
    or an older GPU (the driver compiles it)."""
    major, minor = capability
    return (any(cubin[0] == major and cubin[1] <= minor for cubin in architectures.cubins)
            or any(tuple(ptx) <= (major, minor) for ptx in architectures.ptx))


def format_capabilities(architectures):
    """'5.0, 6.0, 7.0, 8.0, 8.6 (machine code), no PTX' and the like."""
    cubins = ", ".join("%d.%d" % capability for capability in architectures.cubins) or "none"
    ptx = ", ".join("%d.%d" % capability for capability in architectures.ptx)
    return "%s (machine code), %s" % (cubins, "PTX for " + ptx if ptx else "no PTX")


def family_of(capability):
    """The GPU family of a compute capability: the newest family that starts at or below
    it ("Ampere" for 8.6, "Hopper" for 9.0)."""
    name = "unknown"
    for first, family, _ in GPU_CAPABILITIES:
        if tuple(capability) >= first:
            name = family
    return name


# cuDeviceGetAttribute's attributes
COMPUTE_CAPABILITY_MAJOR, COMPUTE_CAPABILITY_MINOR = 75, 76


class DriverQueryError(RuntimeError):
    """The driver could not be asked (no libcuda, or a CUDA error)."""


def query_gpu(index, library=None):
    """(name, (major, minor)) of GPU ``index`` as the NVIDIA driver reports it (libcuda, as
    ``nvidia-smi`` asks it), without touching MXNet."""
    name = library or ctypes.util.find_library("cuda") or "libcuda.so.1"
    try:
        cuda = ctypes.CDLL(name)
    except OSError as err:
        raise DriverQueryError("the NVIDIA driver's libcuda could not be loaded (%s)" % err) \
            from None

    def call(function, *args):
        status = getattr(cuda, function)(*args)
        if status != 0:
            raise DriverQueryError("%s returned CUDA error %d" % (function, status))
    call("cuInit", 0)
    device = ctypes.c_int()
    call("cuDeviceGet", ctypes.byref(device), index)
    text = ctypes.create_string_buffer(256)
    call("cuDeviceGetName", text, len(text), device)
    major, minor = ctypes.c_int(), ctypes.c_int()
    call("cuDeviceGetAttribute", ctypes.byref(major), COMPUTE_CAPABILITY_MAJOR, device)
    call("cuDeviceGetAttribute", ctypes.byref(minor), COMPUTE_CAPABILITY_MINOR, device)
    return text.value.decode(errors="replace"), (major.value, minor.value)
