"""Shared start-up of the scripts: import the tool, turn a broken environment into one line."""
import importlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))


def launch(module_name):
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        if type(err).__name__ != "IncompatibleEnvironment":
            raise
        print("error: %s" % err, file=sys.stderr)
        sys.exit(2)
    from gluon_cnn.cli import run_main
    sys.exit(run_main(module.main))
