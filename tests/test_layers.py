"""The house's layers point one way: a module imports only from its own part of the package
or from the parts below it. Every import is read from the source (lazy imports inside
functions included), so an upward import cannot hide."""
import ast
import pathlib
import sys

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "gluon_cnn"

# Bottom to top (docs/layout.md draws the same map). The package's __init__ is the facade
# over all of them and is not a layer.
LAYERS = ["errors", "_cuda", "_gpu_arch", "_env", "_gluoncv_lr", "paths", "csvlog",  # foundation
          "debug", "data", "models",                                  # networks and images
          "runs", "deploy", "torch_weights", "plot", "recipes",       # a run's files
          "training",                                                 # the loop
          "bench", "distributed", "analysis", "visualize",            # tools on top
          "cli"]                                                      # the commands


def part_of(module):
    """``training`` for gluon_cnn.training.loop, ``plot`` for gluon_cnn.plot."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def imports_of(path):
    """Every gluon_cnn module ``path`` imports, as absolute dotted names."""
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(relative.parts[:-1])  # the package a relative import starts from
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("gluon_cnn."):
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            if not stem.startswith("gluon_cnn"):
                continue
            if node.module is None or stem == "gluon_cnn":  # from . import deploy, debug
                for alias in node.names:
                    yield stem + "." + alias.name
            else:
                yield stem


def upward_imports():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = part_of(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
        if source in (None, "__init__"):
            continue
        assert source in LAYERS, "%s belongs to no layer; add it to LAYERS" % path
        for target in imports_of(path):
            part = part_of(target)
            if part in LAYERS and LAYERS.index(part) > LAYERS.index(source):
                found.append("%s imports %s" % (path.relative_to(PACKAGE.parent), target))
    return found


def test_no_module_imports_a_layer_above_it():
    assert upward_imports() == []


def test_the_check_sees_lazy_and_relative_imports(tmp_path, monkeypatch):
    # a module of a lower layer that lazily imports an upper one is caught
    fake = tmp_path / "gluon_cnn"
    (fake / "training").mkdir(parents=True)
    (fake / "data").mkdir()
    (fake / "data" / "batches.py").write_text(
        "def f():\n    from ..training import loop\n    from .. import plot\n")
    (fake / "training" / "loop.py").write_text("from ..data import batches\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert upward_imports() == ["gluon_cnn/data/batches.py imports gluon_cnn.training",
                                "gluon_cnn/data/batches.py imports gluon_cnn.plot"]
