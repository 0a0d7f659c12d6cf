"""Every file name of a run folder and of an export, in one place.

A run folder (``train.py --out``) holds the run's settings, its logs, its checkpoints, its
curves and its export; an export is the files one prefix names: the graph, the parameters of
an epoch, the preprocessing record, and the ONNX and INT8 copies made from it. Tools build
these names from the two records below instead of spelling them out.
"""
import dataclasses
import hashlib
import os
import re

from .errors import UserError


def file_digest(path, algorithm="sha256"):
    """The hex digest of a file's bytes, read a megabyte at a time."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def make_output_folder(path, flag="--out"):
    """Create the folder ``path`` and check that files can be written there, before any
    work whose results would go there: one sentence if not."""
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".write-test")
        with open(probe, "w") as handle:
            handle.write("ok")
        os.remove(probe)
    except OSError as err:
        raise UserError("cannot write to %s %s (%s); choose another %s."
                        % (flag, path, err.strerror or err, flag)) from None
    return path


@dataclasses.dataclass(frozen=True)
class ExportFiles:
    """``<prefix>-symbol.json`` + ``<prefix>-NNNN.params`` (MXNet's deployment format),
    ``<prefix>-preprocess.json``, and the copies ``<prefix>.onnx`` and ``<prefix>-int8``."""

    prefix: str

    PARAMS = re.compile(r"-(\d{4,})\.params$")

    @classmethod
    def of_symbol_file(cls, path):
        return cls(path[:-len("-symbol.json")])

    @classmethod
    def of_onnx_file(cls, path):
        return cls(path[:-len(".onnx")])

    @classmethod
    def epoch_of(cls, params_file):
        """The epoch number in a ``-NNNN.params`` file name."""
        return int(cls.PARAMS.search(params_file).group(1))

    @property
    def symbol(self):
        return self.prefix + "-symbol.json"

    @property
    def preprocess(self):
        return self.prefix + "-preprocess.json"

    @property
    def onnx(self):
        return self.prefix + ".onnx"

    @property
    def int8(self):
        return ExportFiles(self.prefix + "-int8")

    def params(self, epoch):
        return "%s-%04d.params" % (self.prefix, epoch)

    def params_on_disk(self):
        """The export's params files beside it, oldest epoch first."""
        folder, stem = os.path.split(self.prefix)
        if not os.path.isdir(folder or "."):
            return []
        pattern = re.compile(re.escape(stem) + self.PARAMS.pattern)
        return [os.path.join(folder, name) for name in sorted(os.listdir(folder or "."))
                if pattern.fullmatch(name)]


@dataclasses.dataclass(frozen=True)
class RunFolder:
    """The files of one training run's folder."""

    root: str

    # train.log alone is not a run: a run that failed before it began (bad data, say)
    # leaves only its log, which the next attempt appends to.
    RUN_FILES = ("config.json", "metrics.csv", "iterations.csv", "checkpoints")

    @property
    def config(self):
        return os.path.join(self.root, "config.json")

    @property
    def metrics(self):
        return os.path.join(self.root, "metrics.csv")

    @property
    def iterations(self):
        return os.path.join(self.root, "iterations.csv")

    @property
    def log(self):
        return os.path.join(self.root, "train.log")

    @property
    def checkpoints(self):
        return os.path.join(self.root, "checkpoints")

    @property
    def curves(self):
        return os.path.join(self.root, "curves.png")

    @property
    def inspection(self):
        """Where scripts/inspect_run.py writes by default."""
        return os.path.join(self.root, "inspect")

    def export(self, net):
        """The run's own export, named after its network."""
        return ExportFiles(os.path.join(self.root, net))

    def run_files(self):
        """The names in RUN_FILES the folder holds (an empty checkpoints/ does not count):
        a folder holding any of them holds a run, which a new run must not write into."""
        found = []
        for name in self.RUN_FILES:
            path = os.path.join(self.root, name)
            if os.path.isfile(path) or (os.path.isdir(path) and os.listdir(path)):
                found.append(name)
        return found
